//! XSOAR's scheduled commands (war-room.md §3.5): an entry that asks the engine to run a
//! command again later, carried in the entry's polling keys by the protocol's
//! `Entry::with_schedule`.
//!
//! The machine-action state a later run reads: `Pending` and `InProgress` go on polling,
//! `Succeeded` ends it (a command's `commandStatus` must also be `Completed` for live
//! response), `Failed`, `Cancelled` and `TimeOut` end it with the error `Command <status>.`.

use serde_json::{Map, Value};
pub use soar_integration_kit::Schedule;
use soar_integration_kit::{Entry, Object};

/// `entry` with `schedule`'s keys (the protocol writes them as XSOAR does).
pub fn with_schedule(entry: Entry, schedule: &Schedule) -> Entry {
    entry.with_schedule(schedule)
}

/// The hidden argument that marks the run after a rate limit (the reference's name).
pub const RAN_ONCE_FLAG: &str = "ran_once_flag";

/// The commands whose reference call opts out of the rate-limit retry
/// (`overwrite_rate_limit_retry=True`): the two that run its `test_module`, and
/// `fetch-incidents` (its `list_alerts_by_params`), whose next run is the engine's schedule.
pub const NO_RATE_LIMIT_RETRY: &[&str] = &["test-module", "microsoft-atp-test", "fetch-incidents"];

/// The reference's one-time retry on a rate limit: a command whose API call answered 429 (after
/// soar-auth's own retries of idempotent calls) is scheduled again in 60 s with
/// `ran_once_flag`, timeout 900 s; a second 429 is the error. The connection checks
/// ([`NO_RATE_LIMIT_RETRY`]) answer the 429 error at once.
pub fn rate_limit_retry(
    ctx: &soar_integration_kit::CommandContext,
    e: &soar_integration_kit::Error,
) -> Option<soar_integration_kit::Outcome> {
    let soar_integration_kit::Error::Api(f) = e else { return None };
    if f.status != 429
        || ctx.args.get(RAN_ONCE_FLAG).is_some_and(|v| !v.is_null())
        || NO_RATE_LIMIT_RETRY.contains(&ctx.command.as_str())
    {
        return None;
    }
    let schedule = Schedule {
        command: ctx.command.clone(),
        next_run_seconds: 60,
        args: next_args(&ctx.args, &[(RAN_ONCE_FLAG, Value::Bool(true))]),
        timeout_seconds: Some(900),
        items_remaining: None,
    };
    let entry = soar_integration_kit::Results::readable("Rate limit reached, rerunning the command in 1 min")
        .entry()
        .ok()?;
    Some(entry.with_schedule(&schedule).into())
}

/// The argument [`rate_limit_retry`] adds to every command.
pub fn rate_limit_args() -> Vec<soar_integration_kit::ArgSpec> {
    vec![soar_integration_kit::ArgSpec {
        name: RAN_ONCE_FLAG,
        description: "Set by the scheduled retry after a rate limit (the reference's hidden flag).",
        ..Default::default()
    }]
}

/// The arguments of the next run: the request's own, then `extra` over them.
pub fn next_args(given: &Object, extra: &[(&str, Value)]) -> Object {
    let mut args: Map<String, Value> = given.clone();
    for (k, v) in extra {
        args.insert((*k).to_owned(), v.clone());
    }
    args
}

/// Where a machine action stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Still running.
    Running,
    /// Done.
    Succeeded,
    /// Ended without success; the text is the reference's error.
    Failed(String),
}

/// The state of a machine action answer (`status`, and the first command's `commandStatus`
/// when the action has commands).
pub fn state(action: &Value) -> State {
    let status = action.get("status").and_then(Value::as_str).unwrap_or("");
    let first = action.get("commands").and_then(Value::as_array).and_then(|c| c.first());
    let command_status = match first {
        Some(c) => c.get("commandStatus").and_then(Value::as_str).map(str::to_owned),
        None => (status == "Succeeded").then(|| "Completed".to_owned()),
    };
    if matches!(status, "Failed" | "Cancelled" | "TimeOut") || command_status.as_deref() == Some("Failed") {
        let mut msg = format!("Command {status}.");
        if let Some(c) = first {
            msg.push_str(&c.get("errors").map(py_repr).unwrap_or_else(|| "None".to_owned()));
        }
        return State::Failed(msg);
    }
    if command_status.as_deref() != Some("Completed") || matches!(status, "InProgress" | "Pending") {
        return State::Running;
    }
    State::Succeeded
}

/// A short Python-like repr of a JSON value (the reference appends `commands[0].errors`).
fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::String(s) => format!("'{s}'"),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// (action answer, state).
    #[test]
    fn action_states_follow_the_reference() {
        let cases = [
            (json!({"status": "Pending"}), State::Running),
            (json!({"status": "InProgress"}), State::Running),
            (json!({"status": "Succeeded"}), State::Succeeded),
            (json!({"status": "Failed"}), State::Failed("Command Failed.".into())),
            (json!({"status": "Cancelled"}), State::Failed("Command Cancelled.".into())),
            (json!({"status": "Succeeded", "commands": [{"commandStatus": "Completed"}]}), State::Succeeded),
            (json!({"status": "Succeeded", "commands": [{"commandStatus": "InProgress"}]}), State::Running),
            (
                json!({"status": "InProgress", "commands": [{"commandStatus": "Failed", "errors": ["File not found"]}]}),
                State::Failed("Command InProgress.['File not found']".into()),
            ),
        ];
        for (answer, want) in cases {
            assert_eq!(state(&answer), want, "{answer}");
        }
    }
}
