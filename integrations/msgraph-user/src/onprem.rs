//! `msgraph-user-change-password-on-premise` as the current reference runs it: a polling
//! command. The first run starts Graph's `resetPassword` (202 with the operation's status URL in
//! `Location`) and answers with a schedule whose arguments carry that URL; each later run reads
//! the operation (`longRunningOperation.status`) and schedules itself again until it has
//! `succeeded` (a result under `MSGraphUser.PasswordResetOperation`) or `failed`/`canceled`
//! (an error with Graph's detail). The engine, or Cortex XSOAR, re-runs the command after
//! `NextRun` seconds until an answer carries no schedule or `Timeout` passes.
//!
//! Decisions:
//! - A pending answer's next-run arguments name the user `user` (the reference writes
//!   `user_id` there, so its third run loses the user).
//! - The status URL must be on the instance's Graph origin over https, like every next link, so
//!   a tampered `polling_url` never receives the bearer token.
//! - Graph refuses a reset made with an application-only token: the kit's 403 hint says the
//!   command needs a delegated permission and the authorization code flow (`permissions.rs`).

use serde_json::{Map, Value, json};
use soar_integration_kit::api::check_next_link;
use soar_integration_kit::{CommandContext, Entry, Error, Outcome, Request, Results, Schedule, Secret};

use crate::commands::{Graph, user_path};

/// The command's name (its schedule re-runs it).
pub const NAME: &str = "msgraph-user-change-password-on-premise";
/// Seconds between status reads (the reference's polling interval).
pub const INTERVAL_SECS: u64 = 30;
/// The default `timeout_in_seconds`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// What one run was given.
pub struct OnPremArgs {
    /// The user.
    pub user: String,
    /// The new password, when this run starts the reset.
    pub password: Option<Secret>,
    /// The operation's status URL, on later runs.
    pub polling_url: Option<String>,
    /// How long the whole reset may take.
    pub timeout_secs: u64,
}

/// The schedule of a pending reset: the engine re-runs [`NAME`] with `args` after
/// [`INTERVAL_SECS`] until an answer carries none or `timeout_secs` pass.
fn schedule(entry: Entry, args: Map<String, Value>, timeout_secs: u64) -> Entry {
    entry.with_schedule(&Schedule {
        command: NAME.to_owned(),
        next_run_seconds: INTERVAL_SECS,
        args,
        timeout_seconds: Some(timeout_secs),
        // XSOAR's ScheduledCommand writes 0 when the command counts no items.
        items_remaining: Some(0),
    })
}

fn next_args(user: &str, polling_url: &str, timeout_secs: u64) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("user".into(), json!(user));
    args.insert("polling_url".into(), json!(polling_url));
    args.insert("timeout_in_seconds".into(), json!(timeout_secs.to_string()));
    args
}

/// One run: start the reset, or read its status.
pub async fn run(graph: &Graph, ctx: &mut CommandContext, args: OnPremArgs) -> Result<Outcome, Error> {
    let OnPremArgs { user, password, polling_url, timeout_secs } = args;
    match polling_url {
        None => {
            let password = password.ok_or_else(|| {
                Error::Command(
                    "Password is required. Please provide either 'password' (sensitive) or 'nonsensitive_password' \
                     argument."
                        .to_owned(),
                )
            })?;
            start(graph, ctx, &user, &password, timeout_secs).await
        }
        Some(url) => poll(graph, ctx, &user, &url, timeout_secs).await,
    }
}

async fn start(
    graph: &Graph,
    ctx: &mut CommandContext,
    user: &str,
    password: &Secret,
    timeout_secs: u64,
) -> Result<Outcome, Error> {
    let methods =
        graph.json(ctx, Request::get(format!("{}/authentication/passwordMethods", user_path(user)))).await?;
    let method_id = methods
        .get("value")
        .and_then(|v| v.get(0))
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Command(format!("Failed getting passwordMethod id\n{methods}")))?
        .to_owned();
    let path = format!("{}/authentication/methods/{method_id}/resetPassword", user_path(user));
    let req = Request::post(path).json(&json!({"newPassword": password.expose()}));
    let reply = graph.api.send(&mut ctx.integration_context, req).await.map_err(|e| match e {
        // Kept an API error, so the kit's 403 hint (permissions.rs) still applies.
        Error::Api(mut f) => {
            f.text = format!("Failed to initiate password reset for {user}: {}", f.text);
            Error::Api(f)
        }
        e => Error::Command(format!("Failed to initiate password reset for {user}: {e}")),
    })?;
    let url = reply.header("location").filter(|u| !u.is_empty()).ok_or_else(|| {
        Error::Command(format!(
            "Failed to get polling URL (Location header) from the API response for user {user}."
        ))
    })?;
    let entry = Results::readable(format!("Password reset initiated for **{user}**. Polling for status..."))
        .entry()?;
    Ok(vec![schedule(entry, next_args(user, url, timeout_secs), timeout_secs)].into())
}

async fn poll(
    graph: &Graph,
    ctx: &mut CommandContext,
    user: &str,
    url: &str,
    timeout_secs: u64,
) -> Result<Outcome, Error> {
    let base = graph.api.base_url()?;
    check_next_link(&base, url).map_err(|_| Error::InvalidArg {
        name: "polling_url".to_owned(),
        reason: format!(
            "the status URL must be an https URL on this instance's Graph ({}); leave it out to start a reset.",
            base.trim_end_matches('/')
        ),
    })?;
    let status = graph.json(ctx, Request::get(url)).await?;
    let state = status.get("status").and_then(Value::as_str).unwrap_or("unknown").to_owned();
    match state.as_str() {
        "succeeded" => Results {
            readable: Some(format!("Password reset **succeeded** for user **{user}**.")),
            prefix: Some("MSGraphUser.PasswordResetOperation"),
            outputs: Some(json!({"user": user, "status": state, "polling_url": url})),
            raw: Some(status),
            ..Results::default()
        }
        .outcome(),
        "failed" | "canceled" => {
            let text =
                |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
            let details = text(status.get("error").and_then(|e| e.get("message")))
                .or_else(|| text(status.get("statusDetail")))
                .unwrap_or_else(|| "No specific error message.".to_owned());
            Err(Error::Command(format!("Password reset **failed** for user **{user}**. Details: {details}")))
        }
        _ => {
            let entry = Results::readable(format!(
                "Password reset status for **{user}** is **{state}**. Still waiting..."
            ))
            .entry()?;
            Ok(vec![schedule(entry, next_args(user, url, timeout_secs), timeout_secs)].into())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use soar_integration_kit::testing::FakeApi;
    use soar_integration_kit::{AuthFlow, Method};

    use super::*;

    const BASE: &str = "https://graph.microsoft.com/v1.0/";
    const STATUS: &str = "https://graph.microsoft.com/v1.0/users/dan%40x/authentication/operations/op1";

    fn graph(api: &Arc<FakeApi>) -> Graph {
        Graph {
            api: Box::new(api.clone()),
            handle_error: true,
            self_deployed: true,
            auth_code_flow: true,
            flow: AuthFlow::AuthorizationCode,
            plain: None,
            login: "https://login.microsoftonline.com".to_owned(),
            tenant: None,
        }
    }

    fn args(polling_url: Option<&str>) -> OnPremArgs {
        OnPremArgs {
            user: "dan@x".to_owned(),
            password: Some(Secret::new("0nPrem-Passw0rd".to_owned())),
            polling_url: polling_url.map(str::to_owned),
            timeout_secs: 600,
        }
    }

    /// The first run starts the reset and schedules a status read of the `Location` URL; a
    /// status read schedules again while Graph says `running` and ends on `succeeded`.
    #[tokio::test]
    async fn a_reset_is_started_then_polled_until_it_succeeds() {
        let api = Arc::new(FakeApi::new(BASE));
        api.on_get(
            "users/dan%40x/authentication/passwordMethods",
            json!({"value": [{"id": "28c10230-6103-485e-b985-444c60001490"}]}),
        );
        api.on_with_headers(
            Method::POST,
            "users/dan%40x/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword",
            202,
            Value::Null,
            &[("Location", STATUS)],
        );
        api.on_get(STATUS, json!({"status": "running"}));
        api.on_get(STATUS, json!({"status": "succeeded"}));
        let mut ctx = CommandContext::new(NAME, Map::new(), Default::default());
        let g = graph(&api);
        let first = run(&g, &mut ctx, args(None)).await.unwrap();
        let schedule = first.entries[0].schedule().expect("the first run schedules a status read");
        assert_eq!(schedule.command, NAME);
        assert_eq!(schedule.args.get("polling_url"), Some(&json!(STATUS)));
        assert_eq!(schedule.args.get("user"), Some(&json!("dan@x")));
        assert_eq!(schedule.timeout_seconds, Some(600));
        let second = run(&g, &mut ctx, args(Some(STATUS))).await.unwrap();
        assert!(second.entries[0].schedule().is_some(), "running: polled again");
        let third = run(&g, &mut ctx, args(Some(STATUS))).await.unwrap();
        assert!(third.entries[0].schedule().is_none(), "succeeded: polling ends");
        assert_eq!(
            third.entries[0].human_readable,
            json!("Password reset **succeeded** for user **dan@x**.")
        );
    }

    /// A status URL off the instance's Graph origin is refused before any call.
    #[tokio::test]
    async fn a_foreign_status_url_gets_no_token() {
        let api = Arc::new(FakeApi::new(BASE));
        let mut ctx = CommandContext::new(NAME, Map::new(), Default::default());
        let err = run(&graph(&api), &mut ctx, args(Some("https://evil.example/op"))).await.unwrap_err();
        assert!(err.to_string().contains("polling_url"), "{err}");
        assert!(api.requests().is_empty());
    }
}
