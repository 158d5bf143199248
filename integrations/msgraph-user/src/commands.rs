//! The commands, one place each: the arguments struct (its doc comment is the command's
//! description) and the [`Handler`] impl: a few Graph calls and the reference's War Room shapes.

use serde_json::{Map, Value, json};
use soar_integration_kit::format::py;
use soar_integration_kit::{
    Api, ApiKind, ArgDateTime, Args, AuthFlow, BOOL, CommandContext, Error, Handler, MsApi, MsClient,
    Outcome, OutputSpec, PlainHttp, Request, Results, Secret, Table, async_trait, file_entry, value_text,
};

use crate::tables::{ACCOUNT, DIRECT_REPORTS, MANAGER, NEXT_PAGE, TAP_POLICY, USER};
use crate::transform::{
    account, key_values, parse_list, parse_object, quote, readable_key, unsupported_chars,
};
use crate::{dates, tap};

/// The Graph API version in every path.
pub const GRAPH_VERSION: &str = "v1.0";

/// What every handler gets: the Graph client of the request and the instance's choices.
pub struct Graph {
    /// Graph `v1.0`.
    pub api: Box<dyn Api>,
    /// `handle_error`: answer "does not exist" instead of failing on a 404.
    pub handle_error: bool,
    /// `self_deployed` is set.
    pub self_deployed: bool,
    /// The instance uses the authorization code flow.
    pub auth_code_flow: bool,
    /// The instance's flow (messages that name the flow a command needs).
    pub flow: AuthFlow,
    /// Plain requests through the instance's transport (the MFA connector), when there is one.
    pub plain: Option<PlainHttp>,
    /// The instance's login host, e.g. `https://login.microsoftonline.com`.
    pub login: String,
    /// The instance's tenant, when its flow names one.
    pub tenant: Option<String>,
}

impl Graph {
    /// The environment of one request.
    pub fn from_client(ms: MsClient, ctx: &CommandContext) -> Result<Graph, Error> {
        let auth_code_flow = ms.flow() == AuthFlow::AuthorizationCode;
        let flow = ms.flow();
        let (plain, login, tenant) =
            (Some(ms.plain()), ms.endpoints().login.clone(), ms.tenant().map(str::to_owned));
        Ok(Graph {
            api: Box::new(MsApi::new(ms, ApiKind::Graph, Some(GRAPH_VERSION))),
            handle_error: ctx.params.bool("handle_error", true),
            // The reference's test reads the checkbox itself, not the effective self-deployed mode.
            self_deployed: ctx.params.bool("self_deployed", false),
            auth_code_flow,
            flow,
            plain,
            login,
            tenant,
        })
    }

    pub(crate) async fn json(&self, ctx: &mut CommandContext, req: Request) -> Result<Value, Error> {
        self.api.json(&mut ctx.integration_context, req).await
    }

    /// The reference's `suppress_errors_with_404_code`: with `handle_error` on, a Graph 404 that
    /// names the `user` (or `manager`) argument, or says "The specified user could not be
    /// found." (TAP commands, which take `user_id`), becomes a plain-text note instead of an
    /// error. Like the reference it reads the arguments as given.
    fn suppress_404(&self, ctx: &CommandContext, result: Result<Outcome, Error>) -> Result<Outcome, Error> {
        let e = match result {
            Err(e) if e.is_not_found() && self.handle_error => e,
            other => return other,
        };
        let given = |name: &str| {
            ctx.args.get(name).map(value_text).filter(|s| !s.is_empty()).unwrap_or_else(|| "___".to_owned())
        };
        let said = e.to_string();
        let (user, manager) = (given("user"), given("manager"));
        let text = if said.contains(&user) {
            format!("#### User -> {user} does not exist")
        } else if said.contains(&manager) {
            format!("#### Manager -> {manager} does not exist")
        } else if said.contains("The specified user could not be found.") {
            format!("#### User -> {} does not exist", given("user_id"))
        } else {
            return Err(e);
        };
        Results::text(text).outcome()
    }
}

/// A readable-only result.
pub(crate) fn note(text: String) -> Result<Outcome, Error> {
    Results::readable(text).outcome()
}

pub(crate) fn drop_key(v: &mut Value, key: &str) {
    if let Some(o) = v.as_object_mut() {
        o.shift_remove(key);
    }
}

pub(crate) fn as_object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub(crate) fn values(reply: &Value) -> Vec<Value> {
    reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// [`values`] moved out of the reply (a page of users is not copied).
pub(crate) fn take_values(reply: &mut Value) -> Vec<Value> {
    match reply.get_mut("value") {
        Some(Value::Array(items)) => std::mem::take(items),
        _ => Vec::new(),
    }
}

/// The path of a user.
pub(crate) fn user_path(user: &str) -> String {
    format!("users/{}", quote(user))
}

/// One user's data and `Account` under the reference's keys.
fn user_results(readable: String, user: Value) -> Result<Outcome, Error> {
    let empty = Map::new();
    let (_, outputs) = parse_object(user.as_object().unwrap_or(&empty));
    // Moved in, not through `json!`, which would copy the user through a serializer.
    let mut context = Map::with_capacity(2);
    let account = account(&outputs);
    context.insert("MSGraphUser".to_owned(), Value::Object(outputs));
    context.insert("Account".to_owned(), account);
    Results {
        readable: Some(readable),
        key_field: Some("ID"),
        outputs: Some(Value::Object(context)),
        raw: Some(user),
        ..Results::default()
    }
    .outcome()
}

fn user_and_account() -> Vec<OutputSpec> {
    [USER, ACCOUNT].concat()
}

/// The one argument of the commands on one user.
#[derive(Args)]
pub struct UserArg {
    /// The user's ID or user principal name.
    user: String,
}

// ---- test --------------------------------------------------------------------------------------

/// What `test-module` and `msgraph-user-test` share: a users request, and the answer per mode.
async fn test(graph: &Graph, ctx: &mut CommandContext, module: bool) -> Result<Outcome, Error> {
    let mut success = false;
    if graph.self_deployed {
        if module {
            if graph.auth_code_flow {
                return Err(Error::Command(
                    "When using a self-deployed configuration with authorization code and redirect uri, \
                     Please enable the integration and run the !msgraph-user-test command in order to test it"
                        .to_owned(),
                ));
            }
        } else {
            success = true;
        }
    }
    graph.json(ctx, Request::get("users/")).await?;
    if success {
        Results::text("```✅ Success!```").outcome()
    } else {
        Ok(soar_integration_kit::ok_outcome())
    }
}

/// Checks the configuration: gets a token and lists users.
#[derive(Args)]
pub struct TestModule;

#[async_trait]
impl Handler<Graph> for TestModule {
    const NAME: &'static str = "test-module";

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        test(graph, ctx, true).await
    }
}

/// Tests connectivity to Microsoft Graph (use it for the authorization code flow).
#[derive(Args)]
pub struct Test;

#[async_trait]
impl Handler<Graph> for Test {
    const NAME: &'static str = "msgraph-user-test";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-test"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        test(graph, ctx, false).await
    }
}

// ---- account state -----------------------------------------------------------------------------

async fn disable(graph: &Graph, ctx: &mut CommandContext, user: String) -> Result<Outcome, Error> {
    let result = async {
        graph.json(ctx, Request::patch(user_path(&user)).json(&json!({"accountEnabled": false}))).await?;
        note(format!("user: \"{user}\" account has been disabled successfully."))
    }
    .await;
    graph.suppress_404(ctx, result)
}

/// Deprecated: use msgraph-user-account-disable. Disables a user's account.
#[derive(Args)]
pub struct TerminateSession {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for TerminateSession {
    const NAME: &'static str = "msgraph-user-terminate-session";

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        disable(graph, ctx, self.user.user).await
    }
}

/// Disables a user's account, so the user cannot sign in.
#[derive(Args)]
pub struct AccountDisable {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for AccountDisable {
    const NAME: &'static str = "msgraph-user-account-disable";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-account-disable user=adele@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        disable(graph, ctx, self.user.user).await
    }
}

/// Re-enables a disabled user account.
#[derive(Args)]
pub struct Unblock {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for Unblock {
    const NAME: &'static str = "msgraph-user-unblock";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-unblock user=adele@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            graph.json(ctx, Request::patch(user_path(&user)).json(&json!({"accountEnabled": true}))).await?;
            note(format!(
                "\"{user}\" unblocked. It might take several minutes for the changes to take effect across all applications."
            ))
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

// ---- users -------------------------------------------------------------------------------------

/// Updates the properties of a user.
#[derive(Args)]
pub struct Update {
    #[arg(flatten)]
    user: UserArg,
    /// The fields to update, as key=value pairs, e.g. jobTitle=CISO,city=Oslo.
    updated_fields: String,
    /// The delimiter between the key=value pairs.
    #[arg(default = ",")]
    updated_fields_delimiter: String,
}

#[async_trait]
impl Handler<Graph> for Update {
    const NAME: &'static str = "msgraph-user-update";
    const EXAMPLES: &'static [&'static str] =
        &["!msgraph-user-update user=adele@soar.example updated_fields=jobTitle=CISO"];

    fn outputs() -> Vec<OutputSpec> {
        USER.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            let body = key_values(&self.updated_fields, &self.updated_fields_delimiter)
                .map_err(|reason| Error::InvalidArg { name: "updated_fields".to_owned(), reason })?;
            graph.json(ctx, Request::patch(user_path(&user)).json(&Value::Object(body))).await?;
            get_user(graph, ctx, &user, "*").await
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Deletes a user.
#[derive(Args)]
pub struct Delete {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for Delete {
    const NAME: &'static str = "msgraph-user-delete";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-delete user=adele@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            graph.json(ctx, Request::delete(user_path(&user))).await?;
            note(format!("user: \"{user}\" was deleted successfully."))
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Creates a user.
#[derive(Args)]
pub struct Create {
    /// Whether the account is enabled.
    #[arg(default = "true", options = BOOL)]
    account_enabled: bool,
    /// The name shown for the user.
    display_name: String,
    /// The on-premises immutable ID (federated domains only).
    on_premises_immutable_id: Option<String>,
    /// The mail alias of the user.
    mail_nickname: String,
    /// The initial password; the user must change it at next sign-in.
    #[arg(secret)]
    password: Secret,
    /// The user principal name, e.g. someuser@contoso.com.
    user_principal_name: String,
    /// More properties as key=value pairs separated by commas, e.g. jobTitle=CISO.
    other_properties: Option<String>,
}

#[async_trait]
impl Handler<Graph> for Create {
    const NAME: &'static str = "msgraph-user-create";
    const EXAMPLES: &'static [&'static str] = &[
        "!msgraph-user-create display_name=\"New User\" mail_nickname=newuser user_principal_name=newuser@soar.example password=<password>",
    ];

    fn outputs() -> Vec<OutputSpec> {
        user_and_account()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let upn = self.user_principal_name;
        let mut body = json!({
            "accountEnabled": self.account_enabled,
            "displayName": self.display_name,
            "onPremisesImmutableId": self.on_premises_immutable_id,
            "mailNickname": self.mail_nickname,
            "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": self.password.expose()},
            "userPrincipalName": upn,
        });
        if let Some(other) = &self.other_properties {
            let extra = key_values(other, ",")
                .map_err(|reason| Error::InvalidArg { name: "other_properties".to_owned(), reason })?;
            if let Some(obj) = body.as_object_mut() {
                obj.extend(extra);
            }
        }
        graph.json(ctx, Request::post("users").json(&body)).await?;
        let mut user = graph.json(ctx, Request::get(user_path(&upn)).query("$select", "*")).await?;
        drop_key(&mut user, "@odata.context");
        let (readable, _) = parse_object(&as_object(&user));
        let md = Table::new(format!("{upn} was created successfully:"), Value::Object(readable))
            .remove_null()
            .render()?;
        user_results(md, user)
    }
}

/// Deprecated: use msgraph-user-list. Gets the users changed since the last delta query.
#[derive(Args)]
pub struct GetDelta {
    /// A comma-separated list of properties to return, e.g. displayName,jobTitle.
    properties: Option<String>,
}

#[async_trait]
impl Handler<Graph> for GetDelta {
    const NAME: &'static str = "msgraph-user-get-delta";

    fn outputs() -> Vec<OutputSpec> {
        USER.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let properties = format!("{},userPrincipalName", self.properties.unwrap_or_default());
        let reply = graph.json(ctx, Request::get("users/delta").query("$select", properties.clone())).await?;
        let users = values(&reply);
        // The reference builds the headers from a Python set (random order); we keep the
        // requested order, then ID and User Principal Name, without duplicates or empties.
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
        let md =
            Table::new("All Graph Users", Value::Array(readable)).headers(headers).remove_null().render()?;
        Results {
            readable: Some(md),
            prefix: Some("MSGraphUser"),
            key_field: Some("ID"),
            outputs: Some(Value::Array(outputs)),
            raw: Some(Value::Array(users)),
        }
        .outcome()
    }
}

/// The text of Graph's `Request_BadRequest` answer that the reference's `msgraph-user-get` looks
/// for before naming the unsupported characters of the user argument.
const BAD_REQUEST: &str = "Bad request. Please fix the request before retrying";

/// Gets a user's properties as `msgraph-user-get` shows them (update shows the same).
async fn get_user(
    graph: &Graph,
    ctx: &mut CommandContext,
    user: &str,
    properties: &str,
) -> Result<Outcome, Error> {
    let req = Request::get(user_path(user)).query("$select", properties);
    let mut data = match graph.json(ctx, req).await {
        Ok(v) => v,
        Err(Error::Api(f)) if f.status == 404 => {
            // The reference catches the 404 here whatever handle_error says, and shows the
            // Python `str()` of Graph's JSON error (a dict repr).
            let raw = serde_json::from_str::<Value>(&f.body).unwrap_or(Value::String(f.body.clone()));
            let shown = match &raw {
                Value::String(s) => s.clone(),
                other => py::repr(other),
            };
            return Results {
                readable: Some(format!("### User {user} was not found.\nMicrosoft Graph Response: {shown}")),
                raw: Some(raw),
                ..Results::default()
            }
            .outcome();
        }
        // Only Graph's "Bad request" answer gets the hint, as in the reference; any other 400
        // (an unknown property in `$select`, ...) is the error itself.
        Err(e) if e.api_status() == Some(400) && e.to_string().contains(BAD_REQUEST) => {
            let bad = unsupported_chars(user);
            if bad.is_empty() {
                return Err(e);
            }
            let set = bad.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
            let text =
                format!("Request failed because the user contains unsupported characters: {{{set}}}\n{e}");
            return Results {
                readable: Some(text.clone()),
                raw: Some(Value::String(text)),
                ..Results::default()
            }
            .outcome();
        }
        Err(e) => return Err(e),
    };
    drop_key(&mut data, "@odata.context");
    let (readable, _) = parse_object(&as_object(&data));
    let md = Table::new(format!("{user} data"), Value::Object(readable)).remove_null().render()?;
    user_results(md, data)
}

/// Gets the properties of one user.
#[derive(Args)]
pub struct Get {
    #[arg(flatten)]
    user: UserArg,
    /// A comma-separated list of properties to return; * for all.
    #[arg(default = "*")]
    properties: String,
}

#[async_trait]
impl Handler<Graph> for Get {
    const NAME: &'static str = "msgraph-user-get";
    const EXAMPLES: &'static [&'static str] =
        &["!msgraph-user-get user=adele@soar.example properties=displayName,jobTitle,mail"];

    fn outputs() -> Vec<OutputSpec> {
        user_and_account()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        get_user(graph, ctx, &self.user.user, &self.properties).await
    }
}

/// Lists users, one page at a time.
#[derive(Args)]
pub struct List {
    /// A comma-separated list of properties to return.
    #[arg(default = "id,displayName,jobTitle,mobilePhone,mail")]
    properties: String,
    /// The URL of the next page, as returned by a previous run (MSGraphUser.NextPage).
    next_page: Option<String>,
    /// An OData $filter, e.g. startswith(displayName,'a').
    filter: Option<String>,
}

#[async_trait]
impl Handler<Graph> for List {
    const NAME: &'static str = "msgraph-user-list";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-list properties=id,displayName,mail"];

    fn outputs() -> Vec<OutputSpec> {
        [USER, ACCOUNT, NEXT_PAGE].concat()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        // A next link goes through the API seam, which follows it only on Graph's own origin.
        let req = match self.next_page {
            Some(url) => Request::get(url),
            None => {
                let mut req = Request::get("users").header("ConsistencyLevel", "eventual");
                if let Some(filter) = self.filter {
                    req = req.query("$filter", filter);
                }
                req.query("$select", self.properties).query("$count", "true")
            }
        };
        let mut reply = graph.json(ctx, req).await?;
        let next = reply.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
        let users = take_values(&mut reply);
        let (readable, mut outputs) = parse_list(&users);
        let accounts: Vec<Value> = outputs.iter().filter_map(Value::as_object).map(account).collect();
        let mut table = Table::new("All Graph Users", Value::Array(readable)).remove_null();
        if let Some(url) = &next {
            table = table
                .metadata(format!("To get further results, enter this to the next_page parameter:\n{url}"));
            outputs.insert(0, json!({"NextPage": url}));
        }
        // Moved in, not through `json!`, which would copy the page through a serializer.
        let mut context = Map::with_capacity(2);
        context.insert("MSGraphUser".to_owned(), Value::Array(outputs));
        context.insert("Account".to_owned(), Value::Array(accounts));
        Results {
            readable: Some(table.render()?),
            key_field: Some("ID"),
            outputs: Some(Value::Object(context)),
            raw: Some(Value::Array(users)),
            ..Results::default()
        }
        .outcome()
    }
}

// ---- managers ----------------------------------------------------------------------------------

/// Lists the direct reports of a user.
#[derive(Args)]
pub struct DirectReports {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for DirectReports {
    const NAME: &'static str = "msgraph-direct-reports";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-direct-reports user=adele@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        DIRECT_REPORTS.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            let reply = graph.json(ctx, Request::get(format!("{}/directReports", user_path(&user)))).await?;
            let reports = values(&reply);
            let (readable, outputs) = parse_list(&reports);
            let md = Table::new(format!("{user} - direct reports"), Value::Array(readable))
                .remove_null()
                .render()?;
            Results {
                readable: Some(md),
                prefix: Some("MSGraphUserDirectReports"),
                key_field: Some("ID"),
                outputs: Some(json!({"Manager": user, "Reports": outputs})),
                raw: Some(Value::Array(reports)),
            }
            .outcome()
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Gets the manager of a user.
#[derive(Args)]
pub struct GetManager {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for GetManager {
    const NAME: &'static str = "msgraph-user-get-manager";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-get-manager user=adele@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        MANAGER.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            let mut manager = graph.json(ctx, Request::get(format!("{}/manager", user_path(&user)))).await?;
            drop_key(&mut manager, "@odata.context");
            drop_key(&mut manager, "@odata.type");
            let (readable, outputs) = parse_object(&as_object(&manager));
            let md =
                Table::new(format!("{user} - manager"), Value::Object(readable)).remove_null().render()?;
            Results {
                readable: Some(md),
                prefix: Some("MSGraphUserManager"),
                key_field: Some("ID"),
                outputs: Some(json!({"User": user, "Manager": outputs})),
                raw: Some(manager),
            }
            .outcome()
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Assigns a manager to a user.
#[derive(Args)]
pub struct AssignManager {
    #[arg(flatten)]
    user: UserArg,
    /// The manager's ID or user principal name.
    manager: String,
}

#[async_trait]
impl Handler<Graph> for AssignManager {
    const NAME: &'static str = "msgraph-user-assign-manager";
    const EXAMPLES: &'static [&'static str] =
        &["!msgraph-user-assign-manager user=adele@soar.example manager=alex@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (user, manager) = (self.user.user, self.manager);
        let result = async {
            // The reference puts the manager id in the reference URL as given (not percent-encoded).
            let body = json!({"@odata.id": format!("{}users/{manager}", graph.api.base_url()?)});
            graph.json(ctx, Request::put(format!("{}/manager/$ref", user_path(&user))).json(&body)).await?;
            note(format!(
                "A manager was assigned to user \"{user}\". It might take several minutes for the changes to take affect \
                 across all applications."
            ))
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

// ---- passwords and sessions --------------------------------------------------------------------

/// Changes the password of a cloud-only user.
#[derive(Args)]
pub struct ChangePassword {
    #[arg(flatten)]
    user: UserArg,
    /// The new password.
    #[arg(secret)]
    password: Secret,
    /// Whether the user must change the password at next sign-in.
    #[arg(default = "true", options = BOOL)]
    force_change_password_next_sign_in: bool,
    /// Whether the user must do multi-factor authentication before changing the password.
    #[arg(default = "false", options = BOOL)]
    force_change_password_with_mfa: bool,
}

#[async_trait]
impl Handler<Graph> for ChangePassword {
    const NAME: &'static str = "msgraph-user-change-password";
    const EXAMPLES: &'static [&'static str] =
        &["!msgraph-user-change-password user=adele@soar.example password=<password>"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            let body = json!({"passwordProfile": {
                "forceChangePasswordNextSignIn": self.force_change_password_next_sign_in,
                "forceChangePasswordNextSignInWithMfa": self.force_change_password_with_mfa,
                "password": self.password.expose(),
            }});
            graph.json(ctx, Request::patch(user_path(&user)).json(&body)).await?;
            note(format!("User {user} password was changed successfully."))
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Resets the password of a user synchronised from on-premises, then polls the reset until it
/// has succeeded or failed. Needs the authorization code flow (a self-deployed application with
/// the delegated UserAuthenticationMethod.ReadWrite.All and User.Read.All permissions, signed in
/// as an administrator allowed to reset the user's password).
#[derive(Args)]
pub struct ChangePasswordOnPremise {
    #[arg(flatten)]
    user: UserArg,
    /// The new password (hidden). Give this or nonsensitive_password.
    #[arg(secret)]
    password: Option<Secret>,
    /// The new password, shown in the War Room. Give this or password; if both, they must match.
    nonsensitive_password: Option<String>,
    /// The status URL of a reset already started (the command sets it when it polls).
    polling_url: Option<String>,
    /// How long to poll the reset, in seconds.
    #[arg(default = "600")]
    timeout_in_seconds: u64,
}

#[async_trait]
impl Handler<Graph> for ChangePasswordOnPremise {
    const NAME: &'static str = crate::onprem::NAME;
    const POLLING: bool = true;

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let password = match (self.password, self.nonsensitive_password) {
            (Some(s), Some(p)) if s.expose() != p => {
                return Err(Error::Command(
                    "Conflicting passwords provided. The 'password' and 'nonsensitive_password' arguments must have \
                     the same value, or use only one of them."
                        .to_owned(),
                ));
            }
            (Some(s), _) => Some(s),
            (None, p) => p.map(Secret::new),
        };
        let args = crate::onprem::OnPremArgs {
            user: self.user.user,
            password,
            polling_url: self.polling_url,
            timeout_secs: self.timeout_in_seconds,
        };
        crate::onprem::run(graph, ctx, args).await
    }
}

/// Revokes all the refresh tokens and session cookies of a user.
#[derive(Args)]
pub struct SessionRevoke {
    #[arg(flatten)]
    user: UserArg,
}

#[async_trait]
impl Handler<Graph> for SessionRevoke {
    const NAME: &'static str = "msgraph-user-session-revoke";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-session-revoke user=adele@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            graph.json(ctx, Request::post(format!("{}/revokeSignInSessions", user_path(&user)))).await?;
            note(format!("User: \"{user}\" sessions have been revoked successfully."))
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

// ---- Temporary Access Pass ---------------------------------------------------------------------

fn tap_path(user_id: &str) -> String {
    format!("{}/authentication/temporaryAccessPassMethods", user_path(user_id))
}

/// Gets the Temporary Access Pass policy of a user.
#[derive(Args)]
pub struct TapList {
    /// The user's ID or user principal name.
    user_id: String,
}

#[async_trait]
impl Handler<Graph> for TapList {
    const NAME: &'static str = "msgraph-user-tap-policy-list";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-tap-policy-list user_id=adele@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        TAP_POLICY.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user_id = self.user_id;
        let result = async {
            let items = values(&graph.json(ctx, Request::get(tap_path(&user_id))).await?);
            let Some(first) = items.first().and_then(Value::as_object) else {
                return note(format!("Failed to get TAP policy for the user {user_id}."));
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
            ];
            let md = Table::new(format!("TAP Policy for User ID {user_id}:"), Value::Object(readable))
                .headers(headers)
                .render()?;
            Results {
                readable: Some(md),
                prefix: Some("MSGraphUser.TAPPolicy"),
                key_field: Some("ID"),
                outputs: Some(Value::Object(outputs)),
                raw: None,
            }
            .outcome()
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Creates a Temporary Access Pass for a user; the pass comes in a password-protected zip.
#[derive(Args)]
pub struct TapCreate {
    /// The user's ID or user principal name.
    user_id: String,
    /// The password of the zip that holds the pass.
    #[arg(secret)]
    zip_password: Secret,
    /// How long the pass is valid, in minutes (10 to 43200).
    #[arg(default = "60")]
    lifetime_in_minutes: String,
    /// Whether the pass can be used only once.
    #[arg(default = "false", options = BOOL)]
    is_usable_once: bool,
    /// When the pass becomes valid: now, an ISO 8601 time, or e.g. "in 2 hours".
    #[arg(default = "now")]
    start_time: ArgDateTime,
}

#[async_trait]
impl Handler<Graph> for TapCreate {
    const NAME: &'static str = "msgraph-user-tap-policy-create";
    const EXAMPLES: &'static [&'static str] = &[
        "!msgraph-user-tap-policy-create user_id=adele@soar.example zip_password=<password> lifetime_in_minutes=60",
    ];

    fn outputs() -> Vec<OutputSpec> {
        TAP_POLICY.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        // Checked before any call, so a person gets the reason at once (the YAML's range).
        let lifetime = dates::lifetime(&self.lifetime_in_minutes)?;
        let user_id = self.user_id;
        let result = async {
            let body = json!({
                "lifetimeInMinutes": lifetime,
                "isUsableOnce": self.is_usable_once,
                "startDateTime": dates::graph_format(&self.start_time),
            });
            let mut reply = graph.json(ctx, Request::post(tap_path(&user_id)).json(&body)).await?;
            drop_key(&mut reply, "@odata.context");
            if reply.as_object().is_none_or(Map::is_empty) {
                return note(format!("Failed to create TAP policy for user: {user_id}."));
            }
            let pass = match reply.as_object_mut().and_then(|o| o.shift_remove("temporaryAccessPass")) {
                Some(Value::String(p)) => Secret::new(p),
                _ => {
                    return Err(Error::Command("Graph created the policy but returned no temporaryAccessPass.".to_owned()));
                }
            };
            let zip = tap::encrypted_zip(&pass, &self.zip_password).map_err(Error::Command)?;
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
        .await;
        graph.suppress_404(ctx, result)
    }
}

/// Deletes a Temporary Access Pass policy of a user.
#[derive(Args)]
pub struct TapDelete {
    /// The user's ID or user principal name.
    user_id: String,
    /// The ID of the Temporary Access Pass policy.
    policy_id: String,
}

#[async_trait]
impl Handler<Graph> for TapDelete {
    const NAME: &'static str = "msgraph-user-tap-policy-delete";
    const EXAMPLES: &'static [&'static str] =
        &["!msgraph-user-tap-policy-delete user_id=adele@soar.example policy_id=<policy id>"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let policy_id = self.policy_id;
        let result = async {
            let path = format!("{}/{}", tap_path(&self.user_id), quote(&policy_id));
            graph.json(ctx, Request::delete(path)).await?;
            note(format!(
                "Temporary Access Pass Authentication methods policy {policy_id} was successfully deleted."
            ))
        }
        .await;
        graph.suppress_404(ctx, result)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use soar_integration_kit::__private::{ArgContext, Object};
    use soar_integration_kit::testing::FakeApi;
    use soar_integration_kit::{FixedClock, Method};

    use super::*;

    const BASE: &str = "https://graph.microsoft.com/v1.0/";

    fn graph(api: &Arc<FakeApi>, handle_error: bool) -> Graph {
        Graph {
            api: Box::new(api.clone()),
            handle_error,
            self_deployed: true,
            auth_code_flow: false,
            flow: AuthFlow::ClientSecret,
            plain: None,
            login: "https://login.microsoftonline.com".to_owned(),
            tenant: None,
        }
    }

    /// The arguments decoded at 2026-03-01T12:00:00Z.
    fn decode<A: Args>(args: &Value) -> A {
        let clock = FixedClock::at_epoch(1_772_366_400);
        let args: Object = args.as_object().cloned().unwrap_or_default();
        match A::decode(&args, &ArgContext { clock: &clock }) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    fn ctx(args: &Value) -> CommandContext {
        CommandContext::new("test", args.as_object().cloned().unwrap_or_default(), Default::default())
    }

    fn text(out: &Result<Outcome, Error>) -> String {
        match out {
            Ok(o) => o.entries.iter().map(|e| format!("{} {}", e.contents, e.human_readable)).collect(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// (Graph's 400 message, the answer): the unsupported-characters note only when Graph says
    /// its generic "Bad request" text, as in the reference; any other 400 is the error.
    #[tokio::test]
    async fn get_names_unsupported_characters_only_on_graphs_bad_request() {
        let cases = [
            (
                "Bad request. Please fix the request before retrying.",
                "\"Request failed because the user contains unsupported characters: {'%'}",
            ),
            ("Invalid object identifier 'bad%user'.", "error: Error in API call [400] - Bad Request\n"),
        ];
        for (message, want) in cases {
            let api = Arc::new(FakeApi::new(BASE));
            api.fail(
                "users/bad%25user?$select=*",
                400,
                json!({"error": {"code": "Request_BadRequest", "message": message}}),
            );
            let args = json!({"user": "bad%user"});
            let out = decode::<Get>(&args).run(&graph(&api, true), &mut ctx(&args)).await;
            assert!(text(&out).starts_with(want), "{message}: {}", text(&out));
        }
    }

    /// (handle_error, the 404's message, the answer): the reference's 404 rules, per argument.
    #[tokio::test]
    async fn a_404_becomes_a_note_only_when_it_names_the_argument() {
        let cases = [
            (true, "Resource 'ghost@x' does not exist", "\"#### User -> ghost@x does not exist\""),
            (true, "Something else", "error: {'error': {'message': 'Something else'}}"),
            (false, "Resource 'ghost@x' does not exist", "error: {'error': {'message': \"Resource 'ghost@x'"),
        ];
        for (handle, message, want) in cases {
            let api = Arc::new(FakeApi::new(BASE));
            api.fail_with(Method::DELETE, "users/ghost%40x", 404, json!({"error": {"message": message}}));
            let args = json!({"user": "ghost@x"});
            let out = decode::<Delete>(&args).run(&graph(&api, handle), &mut ctx(&args)).await;
            assert!(text(&out).starts_with(want), "{handle} {message}: {}", text(&out));
        }
    }

    /// The TAP body: the lifetime and the start time as Graph takes them, from the pinned clock;
    /// a lifetime out of range is refused before any call.
    #[tokio::test]
    async fn tap_create_sends_the_lifetime_and_a_graph_start_time() {
        let api = Arc::new(FakeApi::new(BASE));
        let path = "users/adele%40x/authentication/temporaryAccessPassMethods";
        api.on(
            Method::POST,
            path,
            201,
            json!({"id": "p1", "temporaryAccessPass": "TAP-SECRET", "lifetimeInMinutes": 30}),
        );
        let args = json!({"user_id": "adele@x", "zip_password": "z", "lifetime_in_minutes": "30", "start_time": "2 hours"});
        let out = decode::<TapCreate>(&args).run(&graph(&api, true), &mut ctx(&args)).await;
        assert!(text(&out).contains("was successfully created"), "{}", text(&out));
        let sent = api.requests().first().and_then(|r| r.json_body());
        assert_eq!(
            sent,
            Some(
                json!({"lifetimeInMinutes": 30, "isUsableOnce": false, "startDateTime": "2026-03-01T10:00:00.000Z"})
            )
        );
        assert!(!text(&out).contains("TAP-SECRET"), "the pass only travels inside the zip");
        let args = json!({"user_id": "a", "zip_password": "z", "lifetime_in_minutes": "5"});
        let bad = decode::<TapCreate>(&args).run(&graph(&api, true), &mut ctx(&args)).await;
        assert!(
            text(&bad).contains("\"5\" is not a whole number of minutes from 10 to 43200."),
            "{}",
            text(&bad)
        );
        assert_eq!(api.requests().len(), 1);
    }
}
