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
//! - Graph refuses a reset made with an application-only token: the error says the command needs
//!   the authorization code flow ([`crate::directory::password_flow_hint`]).

use serde_json::{Map, Value, json};
use soar_integration_kit::api::check_next_link;
use soar_integration_kit::{CommandContext, Entry, Error, Outcome, Request, Results, Secret};

use crate::commands::{Graph, user_path};
use crate::directory::password_flow_hint;

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

/// Writes XSOAR's scheduled-command keys on `entry` (war-room.md §3.5): the engine re-runs
/// `NAME` with `args` after `NextRun` seconds.
fn schedule(mut entry: Entry, args: Map<String, Value>, timeout_secs: u64) -> Entry {
    entry.extra.insert("PollingCommand".into(), json!(NAME));
    entry.extra.insert("NextRun".into(), json!(INTERVAL_SECS.max(10).to_string()));
    entry.extra.insert("PollingArgs".into(), Value::Object(args));
    if timeout_secs > 0 {
        entry.extra.insert("Timeout".into(), json!(timeout_secs.to_string()));
    }
    entry.extra.insert("PollingItemsRemaining".into(), json!(0));
    entry
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
    let methods = graph
        .json(ctx, Request::get(format!("{}/authentication/passwordMethods", user_path(user))))
        .await
        .map_err(|e| password_flow_hint(graph, NAME, e))?;
    let method_id = methods
        .get("value")
        .and_then(|v| v.get(0))
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Command(format!("Failed getting passwordMethod id\n{methods}")))?
        .to_owned();
    let path = format!("{}/authentication/methods/{method_id}/resetPassword", user_path(user));
    let req = Request::post(path).json(&json!({"newPassword": password.expose()}));
    let reply = graph
        .api
        .send(&mut ctx.integration_context, req)
        .await
        .map_err(|e| password_flow_hint(graph, NAME, e))
        .map_err(|e| Error::Command(format!("Failed to initiate password reset for {user}: {e}")))?;
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
