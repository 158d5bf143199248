//! Fetching as a service: `soar fetch --instance X --every 1m` (or `--config FILE` for several
//! instances) runs a fetch cycle per instance on its schedule, for as long as it runs.
//!
//! One cycle, under the instance's *fetch lease* (see [`crate::store`]):
//! 1. read the fetch state; go on only when a cycle is due ([`FetchState::due`]: never ran, an
//!    interval has passed since the last one started, or the last one never finished because its
//!    engine died), and record the start;
//! 2. `fetch-incidents` with the stored `last_run`; the page and the new last run are stored
//!    together (one journal line, or one Redis script), incidents keyed by `dbotMirrorId` so a
//!    page fetched twice is stored once;
//! 3. the mirroring cycle ([`crate::mirroring`]): `get-modified-remote-data`, `get-remote-data`
//!    per changed incident, `update-remote-system` per incident changed here;
//! 4. record the end.
//!
//! Many engines may run the same schedule on one Redis store: only the lease holder runs a
//! cycle, and the start time in the shared fetch state makes it one cycle per interval whoever
//! holds the lease. Every write of the cycle is fenced by the lease, so an engine that lost it
//! (paused past its TTL) writes nothing; an engine killed in the middle left either the whole
//! page and its last run or neither, and the next holder (once the lease's TTL passed) sees an
//! unfinished cycle, starts at once, and resumes from the stored last run.

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::runner::{Engine, FETCH_INCIDENTS, RunOutcome};
use crate::store::{Committed, FetchState};

/// Epoch milliseconds as ISO 8601 UTC with milliseconds (`2026-01-01T00:00:00.000Z`): the form
/// XSOAR sends as `lastUpdate`, and one that sorts as text.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Parses an interval: `500ms`, `30s`, `1m`, `2h`, or plain seconds (`0.5`).
pub fn parse_every(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{text:?}: use a number with ms, s, m or h, e.g. 30s or 1m")),
    };
    let n: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: use a number with ms, s, m or h, e.g. 30s or 1m"))?;
    let secs = n * scale;
    if !secs.is_finite() || !(0.0..=366.0 * 86_400.0).contains(&secs) {
        return Err(format!("{text:?}: the interval must be between 0 and a year"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// One instance's schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSchedule {
    /// The instance.
    pub instance: String,
    /// The interval between the starts of two cycles.
    pub every: Duration,
}

/// The config-file form: `{"instances": [{"instance": "a", "every": "1m"}, ...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    instances: Vec<ConfigEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigEntry {
    instance: String,
    every: String,
}

/// Reads the schedules of a config file.
pub fn read_config(path: &std::path::Path) -> Result<Vec<FetchSchedule>> {
    let text = std::fs::read(path).map_err(|e| EngineError::io("Could not read", path, e))?;
    let config: ConfigFile = serde_json::from_slice(&text).map_err(|e| {
        EngineError::Usage(format!(
            "{} is not a fetch config: {e}. Write {{\"instances\": [{{\"instance\": \"NAME\", \"every\": \"1m\"}}]}}.",
            path.display()
        ))
    })?;
    config
        .instances
        .into_iter()
        .map(|e| {
            let every = parse_every(&e.every).map_err(|m| {
                EngineError::Usage(format!("{}: instance {}: {m}", path.display(), e.instance))
            })?;
            Ok(FetchSchedule { instance: e.instance, every })
        })
        .collect()
}

/// What one cycle did.
#[derive(Debug)]
pub struct CycleReport {
    /// The instance.
    pub instance: String,
    /// When it started (epoch ms).
    pub started_ms: i64,
    /// The fetch run.
    pub fetch: RunOutcome,
    /// What the mirroring cycle did.
    pub mirror: crate::mirroring::MirrorReport,
}

/// Why a cycle did not run, or what it did.
#[derive(Debug)]
pub enum Cycle {
    /// Ran.
    Ran(Box<CycleReport>),
    /// Another engine holds the fetch lease.
    Busy,
    /// Not due yet.
    NotDue,
}

/// A cycle as the service reports it: what it did, or the instance and why it failed.
pub type CycleResult<'a> = std::result::Result<&'a CycleReport, (&'a str, &'a EngineError)>;

/// When the service stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceLimits {
    /// After this many cycles run by this engine.
    pub cycles: Option<u64>,
    /// After this long.
    pub duration: Option<Duration>,
}

impl Engine {
    /// One cycle of `schedule`, if due and if this engine gets the fetch lease.
    pub fn fetch_cycle(&self, schedule: &FetchSchedule) -> Result<Cycle> {
        let name = schedule.instance.as_str();
        let inst = self.instances.load(name)?;
        let binary = self.finder.find(&inst.integration)?;
        let Some(lease) = self.store.acquire_fetch_lease(name, self.lease_ttl, Duration::ZERO)? else {
            return Ok(Cycle::Busy);
        };
        let mut state: FetchState = self.store.fetch_state(name)?;
        let started_ms = self.clock_ms()?;
        let every_ms = i64::try_from(schedule.every.as_millis()).unwrap_or(i64::MAX);
        if !state.due(started_ms, every_ms) {
            return Ok(Cycle::NotDue);
        }
        state.started_ms = started_ms;
        if !self.store.set_fetch_state(name, &state, Some(&*lease))? {
            return Err(EngineError::LeaseLost { instance: name.to_owned() });
        }
        let fetch =
            self.run_command_fenced(&inst, &binary, FETCH_INCIDENTS, Default::default(), Some(&*lease));
        // A failed fetch ends the cycle (it is tried again next interval); the cycle is still
        // recorded as finished so that other engines do not take it for a crash.
        let fetch = match fetch {
            Ok(f) => f,
            Err(e) => {
                state.finished_ms = self.clock_ms()?;
                self.store.set_fetch_state(name, &state, Some(&*lease))?;
                return Err(e);
            }
        };
        let mirror = self.mirror_cycle(&inst, &binary, &mut state, started_ms, &*lease);
        state.finished_ms = self.clock_ms()?;
        if !self.store.set_fetch_state(name, &state, Some(&*lease))? {
            return Err(EngineError::LeaseLost { instance: name.to_owned() });
        }
        Ok(Cycle::Ran(Box::new(CycleReport {
            instance: name.to_owned(),
            started_ms,
            fetch,
            mirror: mirror?,
        })))
    }

    /// Runs the schedules until `limits` (forever without any): each tick, a cycle for every
    /// due instance whose fetch lease this engine gets. `report` sees each cycle and each
    /// failure (a failed cycle does not stop the service).
    pub fn serve_fetch(
        &self,
        schedules: &[FetchSchedule],
        limits: ServiceLimits,
        report: &mut dyn FnMut(CycleResult<'_>),
    ) -> Result<u64> {
        let started = Instant::now();
        let shortest = schedules.iter().map(|s| s.every).min().unwrap_or(Duration::from_secs(1));
        // Often enough to start a cycle close to when it is due, rarely enough to cost nothing.
        let tick = (shortest / 10).clamp(Duration::from_millis(20), Duration::from_secs(1));
        let mut ran = 0u64;
        loop {
            for schedule in schedules {
                match self.fetch_cycle(schedule) {
                    Ok(Cycle::Ran(r)) => {
                        ran += 1;
                        report(Ok(&r));
                    }
                    Ok(Cycle::Busy | Cycle::NotDue) => {}
                    Err(e) => {
                        ran += 1;
                        report(Err((&schedule.instance, &e)));
                    }
                }
                if limits.cycles.is_some_and(|n| ran >= n) {
                    return Ok(ran);
                }
            }
            if limits.duration.is_some_and(|d| started.elapsed() >= d) {
                return Ok(ran);
            }
            std::thread::sleep(tick);
        }
    }

    /// A one-shot fetch of `name` (`soar fetch NAME`): one fetch-incidents under the fetch
    /// lease, its page stored with its last run; no schedule, no mirroring.
    pub fn fetch(&self, name: &str) -> Result<RunOutcome> {
        let inst = self.instances.load(name)?;
        let binary = self.finder.find(&inst.integration)?;
        if let Some(manifest) = self.manifests.get(&inst.integration, &binary)?
            && !manifest.commands.iter().any(|c| c.name == FETCH_INCIDENTS)
        {
            return Err(EngineError::Usage(format!(
                "Integration {} does not fetch incidents: run one of its commands with soar run --instance {name} '!...'.",
                inst.integration
            )));
        }
        let lease = self.store.acquire_fetch_lease(name, self.lease_ttl, self.lease_wait)?;
        if lease.is_none() {
            tracing::warn!(
                "instance {name}: another engine kept its fetch lease for {:?}; fetching anyway",
                self.lease_wait
            );
        }
        self.run_command_fenced(&inst, &binary, FETCH_INCIDENTS, Default::default(), lease.as_deref())
    }
}

/// A line for a person about a cycle.
pub fn describe_cycle(r: &CycleReport) -> String {
    let fetched = r.fetch.response.incidents.as_ref().map_or(0, Vec::len);
    let stored = match r.fetch.fetched {
        Some(Committed::Stored { added, duplicates }) => format!("{added} new, {duplicates} already stored"),
        _ => "none stored".to_owned(),
    };
    let error = if r.fetch.has_error() { " (fetch-incidents answered an error, above)" } else { "" };
    format!(
        "{} {}: fetched {fetched} incidents ({stored}){error}; {}",
        iso(r.started_ms),
        r.instance,
        r.mirror
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_units() {
        let cases = [
            ("1m", Ok(Duration::from_secs(60))),
            ("30s", Ok(Duration::from_secs(30))),
            ("500ms", Ok(Duration::from_millis(500))),
            ("2h", Ok(Duration::from_secs(7200))),
            ("0.5", Ok(Duration::from_millis(500))),
            ("1d", Err("use a number with ms, s, m or h")),
            ("m", Err("use a number with ms, s, m or h")),
            ("-1s", Err("between 0 and a year")),
        ];
        for (text, want) in cases {
            match (parse_every(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn timestamps_are_iso_utc_with_milliseconds() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }
}
