//! Polling commands (XSOAR's scheduled commands): `soar run` re-runs a command for as long as
//! its answer carries a schedule.
//!
//! A polling command's first run starts something slow (a machine action, a live-response
//! script) and answers an entry with the schedule keys `PollingCommand`, `NextRun` (seconds, as
//! a string), `PollingArgs`, `Timeout` and `PollingItemsRemaining`. The engine then runs
//! `PollingCommand` with `PollingArgs` after `NextRun` seconds, as a normal request with the
//! instance's stored integration context (so whatever the previous run stored travels on), and
//! repeats until an answer has no schedule (the command's success, or its own error entry) or
//! the polling timeout passes.
//!
//! Decisions:
//! - The timeout counts from the first run, as XSOAR's does; it is the first schedule's
//!   `Timeout`, else [`DEFAULT_TIMEOUT`] (600 s), unless `--poll-timeout` says otherwise. A run
//!   that would start after it is not started: the engine stops with
//!   [`crate::EngineError::PollingTimedOut`], which names the command and the timeout.
//! - `--poll-interval SECONDS` (or `SOAR_POLL_INTERVAL`) replaces every `NextRun`, so tests and
//!   the demo poll fast; fractions are allowed. Without it `NextRun` is obeyed as it is (XSOAR
//!   raises it to 10 s on the integration's side).
//! - The schedule is read from the last entry of the answer that carries one
//!   (`soar_protocol::Entry::schedule`).

use std::time::{Duration, Instant};

use soar_protocol::{Entry, Response, Schedule};

use crate::error::{EngineError, Result};
use crate::runner::{Engine, RunOutcome};

/// The polling timeout when the schedule names none (XSOAR's default for scheduled commands).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The schedule of a response: that of its last entry carrying one.
pub fn response_schedule(response: &Response) -> Option<Schedule> {
    response.entries.iter().rev().find_map(Entry::schedule)
}

/// How `soar run` polls.
#[derive(Debug, Clone, Copy, Default)]
pub struct PollOptions {
    /// Replaces every `NextRun` (`--poll-interval`).
    pub interval: Option<Duration>,
    /// Replaces the schedule's timeout (`--poll-timeout`).
    pub timeout: Option<Duration>,
}

/// What the polling loop reports while it runs.
#[derive(Debug)]
pub enum PollEvent<'a> {
    /// The next run is scheduled: it starts after `wait`.
    Waiting {
        /// The command that will run.
        command: &'a str,
        /// The number of the run that will start (the first run is 1).
        run: u32,
        /// How long until it starts.
        wait: Duration,
        /// Items still to be polled, when the integration says.
        items_remaining: Option<u64>,
        /// The polling timeout in force.
        timeout: Duration,
        /// Time since the first run started.
        elapsed: Duration,
    },
    /// A scheduled run finished (its War Room is to be shown).
    Ran(&'a RunOutcome),
}

/// Parses `--poll-interval` / `SOAR_POLL_INTERVAL`: seconds, fractions allowed.
pub fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    let secs: f64 =
        text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds, e.g. 0.5 or 10"))?;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("{text:?} must be between 0 and 1000000000 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl Engine {
    /// Follows the schedule of `first` (a run of `instance`): runs the scheduled command until
    /// an answer carries no schedule, and returns that last run. `on_event` sees every wait and
    /// every scheduled run. Past the polling timeout it stops with
    /// [`EngineError::PollingTimedOut`]; a run that fails to start ends the polling with its error.
    pub fn follow_schedule(
        &self,
        first: RunOutcome,
        opts: PollOptions,
        started: Instant,
        on_event: &mut dyn FnMut(PollEvent<'_>) -> Result<()>,
    ) -> Result<RunOutcome> {
        let mut current = first;
        let mut timeout: Option<Duration> = opts.timeout;
        let mut run = 1u32;
        let inst = self.instances.load(&current.instance)?;
        let binary = self.finder.find(&inst.integration)?;
        while let Some(schedule) = response_schedule(&current.response) {
            let timeout = *timeout
                .get_or_insert_with(|| schedule.timeout_seconds.map_or(DEFAULT_TIMEOUT, Duration::from_secs));
            let wait = opts.interval.unwrap_or(Duration::from_secs(schedule.next_run_seconds));
            let elapsed = started.elapsed();
            if elapsed + wait > timeout {
                return Err(EngineError::PollingTimedOut {
                    command: schedule.command,
                    timeout_seconds: timeout.as_secs_f64(),
                    runs: run,
                });
            }
            run += 1;
            on_event(PollEvent::Waiting {
                command: &schedule.command,
                run,
                wait,
                items_remaining: schedule.items_remaining,
                timeout,
                elapsed,
            })?;
            std::thread::sleep(wait);
            current = self.run_command(&inst, &binary, &schedule.command, schedule.args)?;
            on_event(PollEvent::Ran(&current))?;
        }
        Ok(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soar_protocol::Object;

    #[test]
    fn the_last_scheduled_entry_of_a_response_wins() {
        let sched = |c: &str| Schedule {
            command: c.into(),
            next_run_seconds: 10,
            args: Object::new(),
            timeout_seconds: None,
            items_remaining: None,
        };
        let response = |entries: Vec<Entry>| Response { entries, ..Response::default() };
        // (entries, the schedule followed)
        let cases = [
            (vec![Entry::markdown("a")], None),
            (vec![Entry::markdown("a").with_schedule(&sched("x")), Entry::markdown("b")], Some("x")),
            (
                vec![
                    Entry::markdown("a").with_schedule(&sched("x")),
                    Entry::markdown("b").with_schedule(&sched("y")),
                ],
                Some("y"),
            ),
        ];
        for (entries, want) in cases {
            let got = response_schedule(&response(entries.clone())).map(|s| s.command);
            assert_eq!(got.as_deref(), want, "{entries:?}");
        }
    }

    #[test]
    fn poll_intervals_parse_as_seconds() {
        let cases = [
            ("0", Ok(Duration::ZERO)),
            ("0.25", Ok(Duration::from_millis(250))),
            ("10", Ok(Duration::from_secs(10))),
            ("-1", Err("must be between")),
            ("soon", Err("is not a number")),
            ("NaN", Err("must be between")),
        ];
        for (text, want) in cases {
            match (parse_seconds(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
    }
}
