//! Scheduled (polling) commands, carried as XSOAR carries them: keys of an entry.
//!
//! A command whose work takes time (a machine action, a password change on premises) answers
//! its first run with an entry that holds a schedule: run `command` again with `args` after
//! `next_run_seconds`, until `timeout_seconds` have passed. The engine (`soar run`, XSOAR) re-runs
//! it, with the stored integration context, until an answer comes back without a schedule.
//!
//! On the wire the schedule is the entry keys of XSOAR's `ScheduledCommand`, so an XSOAR server
//! reads the entry as it is: `PollingCommand`, `NextRun` (seconds as a string, at least `"10"`),
//! `PollingArgs`, `Timeout` (seconds as a string, left out when 0 or absent) and
//! `PollingItemsRemaining` (kept when 0).

use serde_json::Value;

use crate::{Entry, Object};

/// XSOAR's floor for `NextRun`: a smaller value is raised to it.
pub const MIN_NEXT_RUN_SECONDS: u64 = 10;

/// A request to run a command again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The command to run again (usually the same one).
    pub command: String,
    /// Seconds until the next run; raised to [`MIN_NEXT_RUN_SECONDS`] on the wire.
    pub next_run_seconds: u64,
    /// The arguments of the next run (what it needs to find the work it checks on).
    pub args: Object,
    /// Seconds after which the engine stops polling; `None` lets the engine choose.
    pub timeout_seconds: Option<u64>,
    /// How many items are still being worked on, when the command reports it.
    pub items_remaining: Option<u64>,
}

const COMMAND: &str = "PollingCommand";
const NEXT_RUN: &str = "NextRun";
const ARGS: &str = "PollingArgs";
const TIMEOUT: &str = "Timeout";
const ITEMS_REMAINING: &str = "PollingItemsRemaining";

impl Entry {
    /// This entry with `schedule` written into its polling keys.
    pub fn with_schedule(mut self, schedule: &Schedule) -> Entry {
        self.extra.insert(COMMAND.to_owned(), Value::String(schedule.command.clone()));
        let next = schedule.next_run_seconds.max(MIN_NEXT_RUN_SECONDS);
        self.extra.insert(NEXT_RUN.to_owned(), Value::String(next.to_string()));
        // XSOAR drops an empty args object; so do we, and `schedule()` reads it back as empty.
        if !schedule.args.is_empty() {
            self.extra.insert(ARGS.to_owned(), Value::Object(schedule.args.clone()));
        }
        if let Some(t) = schedule.timeout_seconds.filter(|t| *t > 0) {
            self.extra.insert(TIMEOUT.to_owned(), Value::String(t.to_string()));
        }
        if let Some(n) = schedule.items_remaining {
            self.extra.insert(ITEMS_REMAINING.to_owned(), Value::from(n));
        }
        self
    }

    /// The schedule this entry carries, if any. Numbers are accepted as strings or JSON
    /// numbers; an unreadable `NextRun` falls back to the XSOAR minimum rather than dropping the
    /// schedule, so a command that asked to be polled is polled.
    pub fn schedule(&self) -> Option<Schedule> {
        let command = self.extra.get(COMMAND)?.as_str().filter(|c| !c.is_empty())?.to_owned();
        Some(Schedule {
            command,
            next_run_seconds: self.extra.get(NEXT_RUN).and_then(seconds).unwrap_or(MIN_NEXT_RUN_SECONDS),
            args: match self.extra.get(ARGS) {
                Some(Value::Object(args)) => args.clone(),
                _ => Object::new(),
            },
            timeout_seconds: self.extra.get(TIMEOUT).and_then(seconds).filter(|t| *t > 0),
            items_remaining: self.extra.get(ITEMS_REMAINING).and_then(seconds),
        })
    }
}

fn seconds(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
        }
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schedule(next: u64, timeout: Option<u64>) -> Schedule {
        let mut args = Object::new();
        args.insert("action_id".into(), json!("a1"));
        Schedule {
            command: "x-isolate".into(),
            next_run_seconds: next,
            args,
            timeout_seconds: timeout,
            items_remaining: None,
        }
    }

    #[test]
    fn written_as_xsoar_keys_in_order_and_read_back() {
        let e = Entry::markdown("started").with_schedule(&schedule(30, Some(600)));
        let wire = serde_json::to_value(&e).unwrap();
        assert_eq!(wire["PollingCommand"], "x-isolate");
        assert_eq!(wire["NextRun"], "30");
        assert_eq!(wire["PollingArgs"], json!({"action_id": "a1"}));
        assert_eq!(wire["Timeout"], "600");
        assert!(wire.get("PollingItemsRemaining").is_none());
        let keys: Vec<_> = e.extra.keys().cloned().collect();
        assert_eq!(keys, ["PollingCommand", "NextRun", "PollingArgs", "Timeout"]);
        assert_eq!(e.schedule(), Some(schedule(30, Some(600))));
    }

    #[test]
    fn next_run_is_raised_to_ten_and_zero_timeout_is_left_out() {
        let e = Entry::markdown("x").with_schedule(&schedule(3, Some(0)));
        assert_eq!(e.extra["NextRun"], "10");
        assert!(!e.extra.contains_key("Timeout"));
        let back = e.schedule().unwrap();
        assert_eq!((back.next_run_seconds, back.timeout_seconds), (10, None));
    }

    #[test]
    fn an_entry_without_a_command_has_no_schedule() {
        assert_eq!(Entry::markdown("done").schedule(), None);
        let mut e = Entry::markdown("x");
        e.extra.insert("PollingCommand".into(), json!(""));
        assert_eq!(e.schedule(), None);
    }

    #[test]
    fn numbers_are_read_from_strings_or_numbers_and_bad_ones_fall_back() {
        let mut e = Entry::markdown("x");
        e.extra.insert("PollingCommand".into(), json!("c"));
        e.extra.insert("NextRun".into(), json!(15));
        e.extra.insert("Timeout".into(), json!("1e300"));
        e.extra.insert("PollingItemsRemaining".into(), json!(0));
        let s = e.schedule().unwrap();
        assert_eq!(s.next_run_seconds, 15);
        assert_eq!(s.timeout_seconds, Some(u64::MAX), "saturates instead of wrapping");
        assert_eq!(s.items_remaining, Some(0));
        e.extra.insert("NextRun".into(), json!("soon"));
        assert_eq!(e.schedule().unwrap().next_run_seconds, MIN_NEXT_RUN_SECONDS);
    }
}
