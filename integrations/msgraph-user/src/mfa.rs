//! The MFA push commands of the current reference. Microsoft's MFA connector (the "Azure
//! Multi-Factor Auth Client" application, the same app id in every tenant) is driven with
//! credentials of its own: `create-mfa-client-secret` adds a password to its service principal
//! in Graph, `create-mfa-client-access-token` trades it for a token for the connector's resource
//! at the v1 token endpoint, and `request-mfa` sends the connector a synchronous two-way
//! authentication request (XML) and reads the user's answer.
//!
//! Decisions (where we differ from the reference):
//! - The new client secret and the connector token are secrets, so they are kept in the
//!   integration context (`mfa_client_secret`, `mfa_access_token`), never in the War Room or the
//!   incident context, which get their validity only. The later commands use the stored values
//!   when `client_secret` / `access_token` are not given (they still may be, as secret
//!   arguments), so a playbook runs the three commands without passing secrets along.
//! - The user's mail is XML-escaped in the request (the reference puts it in as it is).
//! - Without `allow_secret_generators` the two generating commands refuse to run, as in the
//!   reference; `request-mfa` needs no such switch.
//! - `create-mfa-client-secret` takes `valid_for_days` (1 to 730, sent as Graph's
//!   `endDateTime`); without it Graph's default of two years applies, as in the reference.

use std::time::Duration;

use serde_json::{Value, json};
use soar_integration_kit::{
    Args, AuthFlow, CommandContext, Error, Handler, Outcome, OutputSpec, Request, Results, Secret,
    async_trait, out,
};

use crate::commands::{Graph, values};

/// The MFA connector's application id (not a secret; the same in every tenant).
pub const MFA_APP_ID: &str = "981f26a1-7f43-403b-a875-f8b09b8cd720";
/// The connector's resource (token audience).
pub const MFA_RESOURCE: &str =
    "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector";
/// The two-way authentication endpoint (the double slash is Microsoft's).
pub const MFA_SERVICE: &str = "https://strongauthenticationservice.auth.microsoft.com/StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication";
/// The longest a push may wait for the user, in seconds.
pub const MAX_TIMEOUT_SECS: u32 = 60;
/// Integration-context keys of the stored secret and token.
pub const SECRET_KEY: &str = "mfa_client_secret";
/// The connector token (its name ends in `access_token`, so the runtime masks it).
pub const TOKEN_KEY: &str = "mfa_access_token";

fn allowed(ctx: &CommandContext) -> Result<(), Error> {
    if ctx.params.bool("allow_secret_generators", false) {
        return Ok(());
    }
    Err(Error::Command(
        "\"Allow secret generators commands execution\" parameter is not marked, Cannot run this command. \
         For more information please refer to the integration configuration (tick \"Allow secret generators \
         commands execution\" and restrict who may run the MFA commands)."
            .to_owned(),
    ))
}

fn stored(ctx: &CommandContext, key: &str) -> Option<Secret> {
    ctx.integration_context
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| Secret::new(s.to_owned()))
}

/// Adds a client secret (valid two years) to the MFA connector's service principal.
/// Needs "Allow secret generators commands execution" and the Application.ReadWrite.All
/// permission. The secret is stored in the integration context for
/// msgraph-user-create-mfa-client-access-token; it may take 30 to 60 seconds to work.
#[derive(Args)]
pub struct CreateMfaClientSecret {
    /// How long the new secret is valid, in days (1 to 730); by default Graph's two years.
    valid_for_days: Option<u32>,
}

#[async_trait]
impl Handler<Graph> for CreateMfaClientSecret {
    const NAME: &'static str = "msgraph-user-create-mfa-client-secret";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-create-mfa-client-secret"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MSGraphUser.MFAClientSecret.KeyId", "String", "The ID of the new secret."),
            out("MSGraphUser.MFAClientSecret.ValidFrom", "Date", "When the secret becomes valid."),
            out("MSGraphUser.MFAClientSecret.ValidUntil", "Date", "When the secret expires."),
        ]
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        allowed(ctx)?;
        let mut credential = json!({"displayName": "MFA App Secret"});
        if let Some(days) = self.valid_for_days {
            if !(1..=730).contains(&days) {
                return Err(Error::InvalidArg {
                    name: "valid_for_days".to_owned(),
                    reason: format!("{days} is not a number of days from 1 to 730."),
                });
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            credential["endDateTime"] = json!(iso_utc(now.saturating_add(i64::from(days) * 86_400)));
        }
        let found = graph
            .json(
                ctx,
                Request::get("servicePrincipals")
                    .query("$filter", format!("appId eq '{MFA_APP_ID}'"))
                    .query("$select", "id"),
            )
            .await?;
        let sp = values(&found)
            .first()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Command(format!("Error: Service Principal with appId {MFA_APP_ID} not found."))
            })?;
        let body = json!({"passwordCredential": credential});
        let mut created =
            graph.json(ctx, Request::post(format!("servicePrincipals/{sp}/addPassword")).json(&body)).await?;
        let secret = match created.as_object_mut().and_then(|o| o.shift_remove("secretText")) {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => return Err(Error::Command("Graph added a password but returned no secretText.".to_owned())),
        };
        ctx.integration_context.set(SECRET_KEY, json!(secret));
        let outputs = json!({
            "KeyId": created.get("keyId").cloned().unwrap_or(Value::Null),
            "ValidFrom": created.get("startDateTime").cloned().unwrap_or(Value::Null),
            "ValidUntil": created.get("endDateTime").cloned().unwrap_or(Value::Null),
        });
        Results {
            readable: Some(
                "A new client secret has been added. Note you might need to wait 30-60 seconds before the secret \
                 will be activated. It is kept in the integration context for \
                 !msgraph-user-create-mfa-client-access-token."
                    .to_owned(),
            ),
            prefix: Some("MSGraphUser.MFAClientSecret"),
            outputs: Some(outputs.clone()),
            raw: Some(outputs),
            ..Results::default()
        }
        .outcome()
    }
}

/// Gets an access token for Microsoft's MFA connector with the MFA application's client
/// secret (the one msgraph-user-create-mfa-client-secret stored, unless client_secret is
/// given). Needs "Allow secret generators commands execution". The token is kept in the
/// integration context for msgraph-user-request-mfa.
#[derive(Args)]
pub struct CreateMfaClientAccessToken {
    /// The MFA application's client secret; by default the one the last
    /// msgraph-user-create-mfa-client-secret stored.
    #[arg(secret)]
    client_secret: Option<Secret>,
}

#[async_trait]
impl Handler<Graph> for CreateMfaClientAccessToken {
    const NAME: &'static str = "msgraph-user-create-mfa-client-access-token";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-create-mfa-client-access-token"];

    fn outputs() -> Vec<OutputSpec> {
        vec![out("MSGraphUser.MFAAccessToken.ValidUntil", "Date", "When the token expires (UTC, ISO 8601).")]
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        allowed(ctx)?;
        let secret = self.client_secret.or_else(|| stored(ctx, SECRET_KEY)).ok_or_else(|| Error::InvalidArg {
            name: "client_secret".to_owned(),
            reason: "no MFA client secret is stored; run !msgraph-user-create-mfa-client-secret first, or give \
                     client_secret."
                .to_owned(),
        })?;
        // The connector's token comes from the instance's own tenant: the Cortex XSOAR
        // application's "token" and a managed identity name none.
        let own_tenant = !matches!(graph.flow, AuthFlow::CortexApp | AuthFlow::ManagedIdentity);
        let (plain, tenant) = match (&graph.plain, &graph.tenant) {
            (Some(p), Some(t)) if own_tenant => (p, t),
            _ => {
                return Err(Error::Command(format!(
                    "{} needs a self-deployed application with its tenant ID (client credentials or the \
                     authorization code flow): the MFA connector's token is issued by the instance's own \
                     tenant, which this instance ({}) does not name.",
                    Self::NAME,
                    graph.flow.display_name()
                )));
            }
        };
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("resource", MFA_RESOURCE)
            .append_pair("client_id", MFA_APP_ID)
            .append_pair("client_secret", secret.expose())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", "openid")
            .finish();
        let url = format!("{}/{tenant}/oauth2/token", graph.login.trim_end_matches('/'));
        let headers = vec![("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
        let resp = plain
            .send(http::Method::POST, &url, headers, Some(form.into_bytes()))
            .await
            .map_err(Error::command)?;
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        if !(200..300).contains(&resp.status) {
            return Err(Error::Command(format!(
                "Error obtaining access token: {}",
                token_error(resp.status, &text)
            )));
        }
        let body: Value = serde_json::from_str(&text).map_err(|_| {
            Error::Command(format!("Error obtaining access token: the answer is not JSON\nResponse: {text}"))
        })?;
        let token =
            body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()).ok_or_else(|| {
                Error::Command("Error obtaining access token: the answer has no access_token.".to_owned())
            })?;
        // v1 token answers give `expires_on` as Unix seconds in a string; shown as a UTC date.
        let valid_until = match body.get("expires_on") {
            Some(Value::String(t)) => t.parse::<i64>().map_or_else(|_| json!(t), |secs| json!(iso_utc(secs))),
            Some(Value::Number(n)) => n.as_i64().map_or(Value::Null, |secs| json!(iso_utc(secs))),
            _ => Value::Null,
        };
        ctx.integration_context.set(TOKEN_KEY, json!(token));
        let outputs = json!({"ValidUntil": valid_until});
        Results {
            readable: Some(
                "A new access token has been created. It is kept in the integration context for !msgraph-user-request-mfa."
                    .to_owned(),
            ),
            prefix: Some("MSGraphUser.MFAAccessToken"),
            outputs: Some(outputs.clone()),
            raw: Some(outputs),
            ..Results::default()
        }
        .outcome()
    }
}

/// Pops a synchronous MFA request (a push to the user's Microsoft Authenticator) and waits
/// for the user's answer or the timeout.
#[derive(Args)]
pub struct RequestMfa {
    /// The user principal name (mail) of the user to send the MFA request to.
    user_mail: String,
    /// How long to wait for the user, in seconds (at most 60).
    #[arg(default = "60")]
    timeout: u32,
    /// The MFA connector's access token; by default the one the last
    /// msgraph-user-create-mfa-client-access-token stored.
    #[arg(secret)]
    access_token: Option<Secret>,
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (the proleptic Gregorian calendar, days to civil).
fn iso_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A token endpoint's refusal as a person reads it: the status, Entra's error code and the
/// first line of its description (the trace and correlation ids and the time are left out).
fn token_error(status: u16, body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = parsed.get("error").and_then(Value::as_str);
    let description = parsed
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| d.split(['\r', '\n']).next().unwrap_or_default().trim().to_owned());
    match (code, description) {
        (Some(code), Some(d)) => format!("{status} {code}: {d}"),
        (Some(code), None) => format!("{status} {code}"),
        _ => format!("{status}\nResponse: {body}"),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The text of the first element named `name` (no nesting of the same name) and whether it
/// is marked `nil`; `None` when absent.
fn element<'a>(xml: &'a str, name: &str) -> Option<(&'a str, bool)> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = xml[from..].find(&open) {
        let start = from + i;
        let after = &xml[start + open.len()..];
        // `<Value>` must not match `<ValueX>`.
        if !after.starts_with(['>', ' ', '/', '\t', '\n', '\r']) {
            from = start + open.len();
            continue;
        }
        let end_tag = after.find('>')?;
        let attrs = &after[..end_tag];
        let nil = attrs.contains("nil=\"true\"");
        if attrs.ends_with('/') {
            return Some(("", nil));
        }
        let body = &after[end_tag + 1..];
        let close = body.find(&format!("</{name}>"))?;
        return Some((&body[..close], nil));
    }
    None
}

/// How the connector answered.
fn mfa_outcome(xml: &str) -> Result<String, String> {
    let (Some((result, _)), Some((auth, _))) = (element(xml, "Result"), element(xml, "AuthenticationResult"))
    else {
        return Err(format!("Error: Could not parse MFA response.\nRaw Response:\n{xml}"));
    };
    let value = element(result, "Value").map(|(v, _)| v.trim()).unwrap_or_default();
    let received = auth.trim().eq_ignore_ascii_case("true");
    let message = match element(result, "Message") {
        Some((m, false)) if !m.trim().is_empty() => m.trim().to_owned(),
        _ => "No specific message".to_owned(),
    };
    match value {
        "Success" if received => Ok("Status: User Approved MFA Request".to_owned()),
        "PhoneAppDenied" => Err("Status: User Denied Request".to_owned()),
        "PhoneAppNoResponse" => Err("Status: MFA Request Timed Out".to_owned()),
        _ => Err(format!("Status: MFA Request Failed - {message}")),
    }
}

#[async_trait]
impl Handler<Graph> for RequestMfa {
    const NAME: &'static str = "msgraph-user-request-mfa";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-request-mfa user_mail=alice@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user_mail;
        let token = self.access_token.or_else(|| stored(ctx, TOKEN_KEY)).ok_or_else(|| Error::InvalidArg {
            name: "access_token".to_owned(),
            reason: "no MFA access token is stored; run !msgraph-user-create-mfa-client-access-token first, or \
                     give access_token."
                .to_owned(),
        })?;
        let timeout = match self.timeout {
            0 => MAX_TIMEOUT_SECS,
            t => t.min(MAX_TIMEOUT_SECS),
        };
        let plain = graph
            .plain
            .as_ref()
            .ok_or_else(|| Error::Command("No HTTP client for the MFA connector.".to_owned()))?;
        let context_id = uuid::Uuid::new_v4();
        let xml = format!(
            "<BeginTwoWayAuthenticationRequest><Version>1.0</Version><UserPrincipalName>{}</UserPrincipalName>\
             <Lcid>en-us</Lcid><AuthenticationMethodProperties xmlns:a=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\">\
             <a:KeyValueOfstringstring><a:Key>OverrideVoiceOtp</a:Key><a:Value>false</a:Value></a:KeyValueOfstringstring>\
             </AuthenticationMethodProperties><ContextId>{context_id}</ContextId><SyncCall>true</SyncCall>\
             <RequireUserMatch>true</RequireUserMatch><CallerName>radius</CallerName><CallerIP>UNKNOWN:</CallerIP>\
             </BeginTwoWayAuthenticationRequest>",
            xml_escape(&user)
        );
        let headers = vec![
            ("authorization".to_owned(), format!("Bearer {}", token.expose())),
            ("content-type".to_owned(), "application/xml".to_owned()),
        ];
        let failed =
            |why: String| Error::Command(format!("Failed to pop MFA request for user {user}: {why}"));
        let resp = plain
            .clone()
            .with_timeout(Duration::from_secs(u64::from(timeout)))
            .send(http::Method::POST, MFA_SERVICE, headers, Some(xml.into_bytes()))
            .await
            .map_err(|e| failed(e.to_string()))?;
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        if !(200..300).contains(&resp.status) {
            return Err(failed(format!("Error sending MFA challenge: {}\nResponse: {text}", resp.status)));
        }
        let status = mfa_outcome(&text).map_err(failed)?;
        Results::readable(status).outcome()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (connector answer, the command's text): the reference's four outcomes and its parse error.
    #[test]
    fn the_connector_answer_is_read_as_the_reference_reads_it() {
        let answer = |value: &str, received: &str, message: &str| {
            format!(
                "<BeginTwoWayAuthenticationResponse><Result><Value>{value}</Value>{message}</Result>\
                 <AuthenticationResult>{received}</AuthenticationResult></BeginTwoWayAuthenticationResponse>"
            )
        };
        let nil = "<Message i:nil=\"true\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"/>";
        let cases = [
            (answer("Success", "true", nil), Ok("Status: User Approved MFA Request")),
            (answer("PhoneAppDenied", "true", nil), Err("Status: User Denied Request")),
            (answer("PhoneAppNoResponse", "false", nil), Err("Status: MFA Request Timed Out")),
            (answer("Success", "false", nil), Err("Status: MFA Request Failed - No specific message")),
            (
                answer("NoDefaultAuthenticationMethodIsConfigured", "false", "<Message>No method</Message>"),
                Err("Status: MFA Request Failed - No method"),
            ),
            ("<Other/>".to_owned(), Err("Error: Could not parse MFA response.\nRaw Response:\n<Other/>")),
        ];
        for (xml, want) in cases {
            assert_eq!(mfa_outcome(&xml).as_deref().map_err(String::as_str), want, "{xml}");
        }
    }

    /// (Unix seconds, UTC date): epoch, a leap day, the end of a century, before 1970.
    #[test]
    fn token_expiry_is_shown_as_a_utc_date() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_709_210_096, "2024-02-29T12:34:56Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
        ] {
            assert_eq!(iso_utc(secs), want);
        }
    }

    #[test]
    fn the_mail_cannot_break_out_of_its_element() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
