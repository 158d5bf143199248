//! The command handlers: one function per command, each a few Graph calls and the reference's
//! War Room shapes.

use serde_json::{Map, Value, json};
use soar_core::{CommandContext, Error, Outcome};
use soar_integration_kit::args::{arg, boolean, or_default, required, secret};
use soar_integration_kit::{Api, ApiError, Call, Method, Results, Table, file_entry};
use soar_protocol::Secret;
use time::OffsetDateTime;

use crate::specs::Kind;
use crate::transform::{
    account, key_values, parse_list, parse_object, quote, readable_key, unsupported_chars,
};
use crate::{dates, tap};

/// What a handler needs besides the request: the Graph seam, the instance's choices and a clock.
pub struct Env<'a> {
    /// The Graph client for this request.
    pub api: &'a dyn Api,
    /// `handle_error`: answer "does not exist" instead of failing on a 404.
    pub handle_error: bool,
    /// `self_deployed` is set.
    pub self_deployed: bool,
    /// The instance uses the authorization code flow.
    pub auth_code_flow: bool,
    /// The clock.
    pub now: OffsetDateTime,
}

/// Runs one command.
pub async fn run(kind: Kind, env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let result = match kind {
        Kind::TestModule | Kind::Test => test(kind, env, ctx).await,
        Kind::TerminateSession | Kind::AccountDisable => {
            suppress_404(env, ctx, |env, ctx| Box::pin(account_disable(env, ctx))).await
        }
        Kind::Unblock => suppress_404(env, ctx, |env, ctx| Box::pin(unblock(env, ctx))).await,
        Kind::Update => suppress_404(env, ctx, |env, ctx| Box::pin(update(env, ctx))).await,
        Kind::Delete => suppress_404(env, ctx, |env, ctx| Box::pin(delete(env, ctx))).await,
        Kind::Create => create(env, ctx).await,
        Kind::GetDelta => get_delta(env, ctx).await,
        Kind::Get => get(env, ctx).await,
        Kind::List => list(env, ctx).await,
        Kind::DirectReports => suppress_404(env, ctx, |env, ctx| Box::pin(direct_reports(env, ctx))).await,
        Kind::GetManager => suppress_404(env, ctx, |env, ctx| Box::pin(get_manager(env, ctx))).await,
        Kind::AssignManager => suppress_404(env, ctx, |env, ctx| Box::pin(assign_manager(env, ctx))).await,
        Kind::ChangePassword => suppress_404(env, ctx, |env, ctx| Box::pin(change_password(env, ctx))).await,
        Kind::ChangePasswordOnPremise => change_password_on_premise(env, ctx).await,
        Kind::SessionRevoke => suppress_404(env, ctx, |env, ctx| Box::pin(session_revoke(env, ctx))).await,
        Kind::TapList => suppress_404(env, ctx, |env, ctx| Box::pin(tap_list(env, ctx))).await,
        Kind::TapCreate => suppress_404(env, ctx, |env, ctx| Box::pin(tap_create(env, ctx))).await,
        Kind::TapDelete => suppress_404(env, ctx, |env, ctx| Box::pin(tap_delete(env, ctx))).await,
    };
    result.map_err(|e| match e {
        Failure::Api(e) => Error::Command(e.text),
        Failure::Other(e) => e,
    })
}

/// Why a handler stopped: an API answer (404 handling looks at it) or anything else.
enum Failure {
    Api(ApiError),
    Other(Error),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Other(e)
    }
}

type Handler =
    for<'a, 'b> fn(
        &'a Env<'b>,
        &'a mut CommandContext,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Outcome, Failure>> + Send + 'a>>;

/// The reference's `suppress_errors_with_404_code`: with `handle_error` on, a Graph 404 that
/// names the `user` (or `manager`) argument, or says "The specified user could not be found."
/// (TAP commands, which take `user_id`), becomes a plain-text note instead of an error.
async fn suppress_404(env: &Env<'_>, ctx: &mut CommandContext, handler: Handler) -> Result<Outcome, Failure> {
    match handler(env, ctx).await {
        Err(Failure::Api(e)) if e.is_not_found() && env.handle_error => {
            let said = e.text.as_str();
            let user = arg(ctx, "user").unwrap_or_else(|| "___".to_owned());
            let manager = arg(ctx, "manager").unwrap_or_else(|| "___".to_owned());
            if said.contains(&user) {
                Ok(Results::text(format!("#### User -> {user} does not exist")).outcome()?)
            } else if said.contains(&manager) {
                Ok(Results::text(format!("#### Manager -> {manager} does not exist")).outcome()?)
            } else if said.contains("The specified user could not be found.") {
                let user_id = arg(ctx, "user_id").unwrap_or_else(|| "___".to_owned());
                Ok(Results::text(format!("#### User -> {user_id} does not exist")).outcome()?)
            } else {
                Err(Failure::Api(e))
            }
        }
        other => other,
    }
}

/// A readable-only result.
fn note(text: String) -> Result<Outcome, Error> {
    Results::readable(text).outcome()
}

// ---- commands ----------------------------------------------------------------------------------

async fn test(kind: Kind, env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let mut success = false;
    if env.self_deployed {
        if kind == Kind::TestModule {
            if env.auth_code_flow {
                return Err(Error::Command(
                    "When using a self-deployed configuration with authorization code and redirect uri, \
                     Please enable the integration and run the !msgraph-user-test command in order to test it"
                        .to_owned(),
                )
                .into());
            }
        } else {
            success = true;
        }
    }
    env.api.send_json(&mut ctx.integration_context, Call::new(Method::Get, "users/")).await?;
    if success {
        Ok(Results::text("```✅ Success!```").outcome()?)
    } else {
        Ok(soar_auth_commands::ok_outcome())
    }
}

async fn account_disable(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let call =
        Call::new(Method::Patch, format!("users/{}", quote(&user))).body(json!({"accountEnabled": false}));
    env.api.send_json(&mut ctx.integration_context, call).await?;
    Ok(note(format!("user: \"{user}\" account has been disabled successfully."))?)
}

async fn unblock(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let call =
        Call::new(Method::Patch, format!("users/{}", quote(&user))).body(json!({"accountEnabled": true}));
    env.api.send_json(&mut ctx.integration_context, call).await?;
    Ok(note(format!(
        "\"{user}\" unblocked. It might take several minutes for the changes to take effect across all applications."
    ))?)
}

async fn update(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let fields = required(ctx, "updated_fields")?;
    let delimiter = or_default(ctx, "updated_fields_delimiter", ",");
    let body = key_values(&fields, &delimiter)
        .map_err(|reason| Error::InvalidArg { name: "updated_fields".to_owned(), reason })?;
    let call = Call::new(Method::Patch, format!("users/{}", quote(&user))).body(Value::Object(body));
    env.api.send_json(&mut ctx.integration_context, call).await?;
    get(env, ctx).await
}

async fn delete(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    env.api
        .send_json(&mut ctx.integration_context, Call::new(Method::Delete, format!("users/{}", quote(&user))))
        .await?;
    Ok(note(format!("user: \"{user}\" was deleted successfully."))?)
}

async fn create(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let enabled = boolean(ctx, "account_enabled", true)?;
    let upn = required(ctx, "user_principal_name")?;
    let password = secret(ctx, "password").ok_or_else(|| Error::MissingArg("password".to_owned()))?;
    let mut body = json!({
        "accountEnabled": enabled,
        "displayName": required(ctx, "display_name")?,
        "onPremisesImmutableId": arg(ctx, "on_premises_immutable_id"),
        "mailNickname": required(ctx, "mail_nickname")?,
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": password.expose()},
        "userPrincipalName": upn,
    });
    if let Some(other) = arg(ctx, "other_properties") {
        let extra = key_values(&other, ",")
            .map_err(|reason| Error::InvalidArg { name: "other_properties".to_owned(), reason })?;
        if let Some(obj) = body.as_object_mut() {
            obj.extend(extra);
        }
    }
    env.api.send_json(&mut ctx.integration_context, Call::new(Method::Post, "users").body(body)).await?;
    let mut user = env
        .api
        .send_json(
            &mut ctx.integration_context,
            Call::new(Method::Get, format!("users/{}", quote(&upn))).query("$select", "*"),
        )
        .await?;
    drop_key(&mut user, "@odata.context");
    let (readable, outputs) = parse_object(&as_object(&user));
    let md = Table::new(format!("{upn} was created successfully:"), Value::Object(readable))
        .remove_null()
        .render()?;
    let context = json!({"MSGraphUser": outputs, "Account": account(&outputs)});
    Ok(Results {
        readable: Some(md),
        key_field: Some("ID"),
        outputs: Some(context),
        raw: Some(user),
        ..Results::default()
    }
    .outcome()?)
}

async fn get_delta(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let properties = format!("{},userPrincipalName", or_default(ctx, "properties", ""));
    let reply = env
        .api
        .send_json(
            &mut ctx.integration_context,
            Call::new(Method::Get, "users/delta").query("$select", properties.clone()),
        )
        .await?;
    let users = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    // The reference builds the headers from a Python set (random order); we keep the requested
    // order, then ID and User Principal Name, without duplicates or empties.
    let mut headers: Vec<String> = Vec::new();
    for h in properties
        .split(',')
        .map(|p| readable_key(p.trim()))
        .chain(["ID".to_owned(), "User Principal Name".to_owned()])
    {
        if !h.is_empty() && !headers.contains(&h) {
            headers.push(h);
        }
    }
    let (readable, outputs) = parse_list(&users);
    let md = Table::new("All Graph Users", Value::Array(readable)).headers(headers).remove_null().render()?;
    Ok(Results {
        readable: Some(md),
        prefix: Some("MSGraphUser"),
        key_field: Some("ID"),
        outputs: Some(Value::Array(outputs)),
        raw: Some(Value::Array(users)),
    }
    .outcome()?)
}

async fn get(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let properties = or_default(ctx, "properties", "*");
    let call = Call::new(Method::Get, format!("users/{}", quote(&user))).query("$select", properties);
    let mut data = match env.api.send_json(&mut ctx.integration_context, call).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => {
            // The reference catches the 404 here whatever handle_error says, and shows the
            // Python `str()` of Graph's JSON error (a dict repr).
            let said = e.body.clone().unwrap_or_else(|| e.text.clone());
            let raw = serde_json::from_str::<Value>(&said).unwrap_or(Value::String(said.clone()));
            let shown = match &raw {
                Value::String(s) => s.clone(),
                other => soar_core::format::py::repr(other),
            };
            return Ok(Results {
                readable: Some(format!("### User {user} was not found.\nMicrosoft Graph Response: {shown}")),
                raw: Some(raw),
                ..Results::default()
            }
            .outcome()?);
        }
        Err(e) if e.status == Some(400) => {
            let bad = unsupported_chars(&user);
            if bad.is_empty() {
                return Err(e.into());
            }
            let set = bad.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
            let text =
                format!("Request failed because the user contains unsupported characters: {{{set}}}\n{e}");
            return Ok(Results {
                readable: Some(text.clone()),
                raw: Some(Value::String(text)),
                ..Results::default()
            }
            .outcome()?);
        }
        Err(e) => return Err(e.into()),
    };
    drop_key(&mut data, "@odata.context");
    let (readable, outputs) = parse_object(&as_object(&data));
    let md = Table::new(format!("{user} data"), Value::Object(readable)).remove_null().render()?;
    let context = json!({"MSGraphUser": outputs, "Account": account(&outputs)});
    Ok(Results {
        readable: Some(md),
        key_field: Some("ID"),
        outputs: Some(context),
        raw: Some(data),
        ..Results::default()
    }
    .outcome()?)
}

async fn list(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let properties = or_default(ctx, "properties", "id,displayName,jobTitle,mobilePhone,mail");
    let call = match arg(ctx, "next_page") {
        Some(url) => Call::new(Method::Get, url),
        None => {
            let mut call = Call::new(Method::Get, "users").header("ConsistencyLevel", "eventual");
            if let Some(filter) = arg(ctx, "filter") {
                call = call.query("$filter", filter);
            }
            call.query("$select", properties).query("$count", "true")
        }
    };
    let reply = env.api.send_json(&mut ctx.integration_context, call).await?;
    let users = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let next = reply.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
    let (readable, mut outputs) = parse_list(&users);
    let accounts: Vec<Value> = outputs.iter().filter_map(Value::as_object).map(account).collect();
    let mut table = Table::new("All Graph Users", Value::Array(readable)).remove_null();
    if let Some(url) = &next {
        table =
            table.metadata(format!("To get further results, enter this to the next_page parameter:\n{url}"));
        outputs.insert(0, json!({"NextPage": url}));
    }
    let context = json!({"MSGraphUser": outputs, "Account": accounts});
    Ok(Results {
        readable: Some(table.render()?),
        key_field: Some("ID"),
        outputs: Some(context),
        raw: Some(Value::Array(users)),
        ..Results::default()
    }
    .outcome()?)
}

async fn direct_reports(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let call = Call::new(Method::Get, format!("users/{}/directReports", quote(&user)));
    let reply = env.api.send_json(&mut ctx.integration_context, call).await?;
    let reports = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let (readable, outputs) = parse_list(&reports);
    let md = Table::new(format!("{user} - direct reports"), Value::Array(readable)).remove_null().render()?;
    Ok(Results {
        readable: Some(md),
        prefix: Some("MSGraphUserDirectReports"),
        key_field: Some("ID"),
        outputs: Some(json!({"Manager": user, "Reports": outputs})),
        raw: Some(Value::Array(reports)),
    }
    .outcome()?)
}

async fn get_manager(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let call = Call::new(Method::Get, format!("users/{}/manager", quote(&user)));
    let mut manager = env.api.send_json(&mut ctx.integration_context, call).await?;
    drop_key(&mut manager, "@odata.context");
    drop_key(&mut manager, "@odata.type");
    let (readable, outputs) = parse_object(&as_object(&manager));
    let md = Table::new(format!("{user} - manager"), Value::Object(readable)).remove_null().render()?;
    Ok(Results {
        readable: Some(md),
        prefix: Some("MSGraphUserManager"),
        key_field: Some("ID"),
        outputs: Some(json!({"User": user, "Manager": outputs})),
        raw: Some(manager),
    }
    .outcome()?)
}

async fn assign_manager(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let manager = required(ctx, "manager")?;
    // The reference puts the manager id in the reference URL as given (not percent-encoded).
    let body = json!({"@odata.id": format!("{}users/{manager}", env.api.base_url()?)});
    let call = Call::new(Method::Put, format!("users/{}/manager/$ref", quote(&user))).body(body);
    env.api.send_json(&mut ctx.integration_context, call).await?;
    Ok(note(format!(
        "A manager was assigned to user \"{user}\". It might take several minutes for the changes to take affect \
         across all applications."
    ))?)
}

async fn change_password(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let password = secret(ctx, "password").ok_or_else(|| Error::MissingArg("password".to_owned()))?;
    // The reference compares the text with "true" exactly.
    let next_sign_in = or_default(ctx, "force_change_password_next_sign_in", "true") == "true";
    let with_mfa = or_default(ctx, "force_change_password_with_mfa", "false") == "true";
    let body = json!({"passwordProfile": {
        "forceChangePasswordNextSignIn": next_sign_in,
        "forceChangePasswordNextSignInWithMfa": with_mfa,
        "password": password.expose(),
    }});
    env.api
        .send_json(
            &mut ctx.integration_context,
            Call::new(Method::Patch, format!("users/{}", quote(&user))).body(body),
        )
        .await?;
    Ok(note(format!("User {user} password was changed successfully."))?)
}

async fn change_password_on_premise(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let sensitive = secret(ctx, "password");
    let plain = arg(ctx, "nonsensitive_password");
    let password = match (sensitive, plain) {
        (None, None) => {
            return Err(Error::Command(
                "Password is required. Please provide either 'password' (sensitive) or 'nonsensitive_password' \
                 argument."
                    .to_owned(),
            )
            .into());
        }
        (Some(s), Some(p)) if s.expose() != p => {
            return Err(Error::Command(
                "Conflicting passwords provided. The 'password' and 'nonsensitive_password' arguments must have \
                 the same value, or use only one of them."
                    .to_owned(),
            )
            .into());
        }
        (Some(s), _) => s,
        (None, Some(p)) => Secret::new(p),
    };
    let methods = env
        .api
        .send_json(
            &mut ctx.integration_context,
            Call::new(Method::Get, format!("users/{}/authentication/passwordMethods", quote(&user))),
        )
        .await?;
    let method_id = methods
        .get("value")
        .and_then(|v| v.get(0))
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Command(format!("Failed getting passwordMethod id\n{methods}")))?
        .to_owned();
    let call = Call::new(
        Method::Post,
        format!("users/{}/authentication/methods/{method_id}/resetPassword", quote(&user)),
    )
    .body(json!({"newPassword": password.expose()}));
    env.api.send_json(&mut ctx.integration_context, call).await?;
    Ok(note(format!("The password of user {user} has been changed successfully."))?)
}

async fn session_revoke(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user = required(ctx, "user")?;
    let call = Call::new(Method::Post, format!("users/{}/revokeSignInSessions", quote(&user)));
    env.api.send_json(&mut ctx.integration_context, call).await?;
    Ok(note(format!("User: \"{user}\" sessions have been revoked successfully."))?)
}

async fn tap_list(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user_id = required(ctx, "user_id")?;
    let call = Call::new(
        Method::Get,
        format!("users/{}/authentication/temporaryAccessPassMethods", quote(&user_id)),
    );
    let reply = env.api.send_json(&mut ctx.integration_context, call).await?;
    let items = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(first) = items.first().and_then(Value::as_object) else {
        return Ok(note(format!("Failed to get TAP policy for the user {user_id}."))?);
    };
    let (mut readable, mut outputs) = parse_object(first);
    // The pass itself never goes to the context (Graph only returns it on creation anyway).
    outputs.shift_remove("TemporaryAccessPass");
    if let Some(id) = readable.shift_remove("ID") {
        readable.insert("Policy ID".to_owned(), id);
    }
    let headers = [
        "Policy ID",
        "Start Date Time",
        "Lifetime In Minutes",
        "Is Usable Once",
        "Is Usable",
        "Method Usability Reason",
    ]
    .map(str::to_owned)
    .to_vec();
    let md = Table::new(format!("TAP Policy for User ID {user_id}:"), Value::Object(readable))
        .headers(headers)
        .render()?;
    Ok(Results {
        readable: Some(md),
        prefix: Some("MSGraphUser.TAPPolicy"),
        key_field: Some("ID"),
        outputs: Some(Value::Object(outputs)),
        raw: None,
    }
    .outcome()?)
}

async fn tap_create(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user_id = required(ctx, "user_id")?;
    let zip_password =
        secret(ctx, "zip_password").ok_or_else(|| Error::MissingArg("zip_password".to_owned()))?;
    let lifetime_text = or_default(ctx, "lifetime_in_minutes", "60");
    let lifetime: i64 =
        lifetime_text.trim().parse().ok().filter(|n| (10..=43200).contains(n)).ok_or_else(|| {
            Error::InvalidArg {
                name: "lifetime_in_minutes".to_owned(),
                reason: format!("\"{lifetime_text}\" is not a whole number of minutes from 10 to 43200."),
            }
        })?;
    let once = boolean(ctx, "is_usable_once", false)?;
    let start = dates::parse(&or_default(ctx, "start_time", "now"), env.now)
        .map_err(|reason| Error::InvalidArg { name: "start_time".to_owned(), reason })?;
    let body = json!({
        "lifetimeInMinutes": lifetime,
        "isUsableOnce": once,
        "startDateTime": dates::graph_format(start),
    });
    let call = Call::new(
        Method::Post,
        format!("users/{}/authentication/temporaryAccessPassMethods", quote(&user_id)),
    )
    .body(body);
    let mut reply = env.api.send_json(&mut ctx.integration_context, call).await?;
    drop_key(&mut reply, "@odata.context");
    if reply.as_object().is_none_or(Map::is_empty) {
        return Ok(note(format!("Failed to create TAP policy for user: {user_id}."))?);
    }
    let pass = match reply.as_object_mut().and_then(|o| o.shift_remove("temporaryAccessPass")) {
        Some(Value::String(p)) => Secret::new(p),
        _ => {
            return Err(Error::Command(
                "Graph created the policy but returned no temporaryAccessPass.".to_owned(),
            )
            .into());
        }
    };
    let zip = tap::encrypted_zip(&pass, &zip_password).map_err(Error::Command)?;
    let (_, outputs) = parse_object(&as_object(&reply));
    let file = file_entry(tap::ZIP_NAME, &zip);
    let results = Results {
        readable: Some(format!(
            "Temporary Access Pass Authentication methods policy for user: {user_id} was successfully created."
        )),
        prefix: Some("MSGraphUser.TAPPolicy"),
        key_field: Some("ID"),
        outputs: Some(Value::Object(outputs)),
        raw: None,
    }
    .entry()?;
    Ok(vec![file, results].into())
}

async fn tap_delete(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Failure> {
    let user_id = required(ctx, "user_id")?;
    let policy_id = required(ctx, "policy_id")?;
    let call = Call::new(
        Method::Delete,
        format!("users/{}/authentication/temporaryAccessPassMethods/{}", quote(&user_id), quote(&policy_id)),
    );
    env.api.send_json(&mut ctx.integration_context, call).await?;
    Ok(note(format!(
        "Temporary Access Pass Authentication methods policy {policy_id} was successfully deleted."
    ))?)
}

// ---- helpers -----------------------------------------------------------------------------------

fn drop_key(v: &mut Value, key: &str) {
    if let Some(o) = v.as_object_mut() {
        o.shift_remove(key);
    }
}

fn as_object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}
