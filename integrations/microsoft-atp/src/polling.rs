//! XSOAR's scheduled commands (war-room.md §3.5): an entry that asks the engine to run a
//! command again later, carried in the entry's keys `PollingCommand`, `NextRun` (seconds as a
//! string, at least 10), `PollingArgs`, `Timeout` (string seconds, left out when 0) and
//! `PollingItemsRemaining`, exactly as the reference's `ScheduledCommand` writes them.
//!
//! The machine-action state a later run reads: `Pending` and `InProgress` go on polling,
//! `Succeeded` ends it (a command's `commandStatus` must also be `Completed` for live
//! response), `Failed`, `Cancelled` and `TimeOut` end it with the error `Command <status>.`.

use serde_json::{Map, Value};
use soar_integration_kit::{Entry, Object};

/// The shortest interval XSOAR accepts.
pub const MIN_NEXT_RUN: u64 = 10;

/// One schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The command to run again.
    pub command: String,
    /// Seconds until the next run (raised to [`MIN_NEXT_RUN`]).
    pub next_run_seconds: u64,
    /// The arguments of the next run.
    pub args: Object,
    /// Seconds after which the engine stops polling (`None` or 0: no limit sent).
    pub timeout_seconds: Option<u64>,
    /// How many items are still being waited for.
    pub items_remaining: Option<u64>,
}

/// `entry` with `schedule`'s keys.
pub fn with_schedule(mut entry: Entry, schedule: &Schedule) -> Entry {
    let x = &mut entry.extra;
    x.insert("PollingCommand".into(), Value::String(schedule.command.clone()));
    x.insert("NextRun".into(), Value::String(schedule.next_run_seconds.max(MIN_NEXT_RUN).to_string()));
    if !schedule.args.is_empty() {
        x.insert("PollingArgs".into(), Value::Object(schedule.args.clone()));
    }
    if let Some(t) = schedule.timeout_seconds.filter(|t| *t > 0) {
        x.insert("Timeout".into(), Value::String(t.to_string()));
    }
    x.insert("PollingItemsRemaining".into(), Value::from(schedule.items_remaining.unwrap_or(0)));
    entry
}

/// The schedule an entry carries, if any.
pub fn schedule_of(entry: &Entry) -> Option<Schedule> {
    let x = &entry.extra;
    let command = x.get("PollingCommand")?.as_str()?.to_owned();
    let num = |k: &str| match x.get(k) {
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(v) => v.as_u64(),
        None => None,
    };
    Some(Schedule {
        command,
        next_run_seconds: num("NextRun").unwrap_or(MIN_NEXT_RUN),
        args: x.get("PollingArgs").and_then(Value::as_object).cloned().unwrap_or_default(),
        timeout_seconds: num("Timeout"),
        items_remaining: num("PollingItemsRemaining"),
    })
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
    use soar_integration_kit::Results;

    use super::*;

    #[test]
    fn a_schedule_round_trips_through_the_entry_keys() {
        let mut args = Object::new();
        args.insert("machine_action_id".into(), json!("a1"));
        let s = Schedule {
            command: "microsoft-atp-live-response-get-file".into(),
            next_run_seconds: 3,
            args,
            timeout_seconds: Some(600),
            items_remaining: None,
        };
        let entry = with_schedule(Results::readable("x").entry().unwrap(), &s);
        assert_eq!(entry.extra.get("NextRun"), Some(&json!("10")), "raised to the minimum");
        assert_eq!(entry.extra.get("Timeout"), Some(&json!("600")));
        assert_eq!(entry.extra.get("PollingItemsRemaining"), Some(&json!(0)));
        let back = schedule_of(&entry).unwrap();
        assert_eq!(back, Schedule { next_run_seconds: 10, items_remaining: Some(0), ..s });
        let none = with_schedule(
            Results::readable("x").entry().unwrap(),
            &Schedule { timeout_seconds: Some(0), args: Object::new(), ..back },
        );
        assert!(!none.extra.contains_key("Timeout") && !none.extra.contains_key("PollingArgs"));
    }

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
