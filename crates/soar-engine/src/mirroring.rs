//! The mirroring cycle, XSOAR's way, run by the fetch service after each fetch.
//!
//! - **In**: `get-modified-remote-data` with `lastUpdate` (the start of the previous cycle's
//!   mirroring, or of this cycle the first time) answers the ids of remote incidents changed
//!   since; for each one stored here that mirrors in (`dbotMirrorDirection` `In` or `Both`),
//!   `get-remote-data` with `id` and `lastUpdate` (when it was last mirrored in, else fetched)
//!   answers the remote object and entries. The object's fields are written to the incident's
//!   fields (and the object kept whole as its `remote`; an empty object changes nothing); a
//!   close entry (`dbotIncidentClose`) closes the incident with its `closeReason` and
//!   `closeNotes`, a reopen entry (`dbotIncidentReopen`) makes it active again, and every entry
//!   is kept. `lastUpdate` moves on only when `get-modified-remote-data` succeeded, so a failed
//!   cycle loses no change.
//! - **Out**: each incident changed here (`soar incident update|close`) that mirrors out
//!   (`Out` or `Both`) is sent with `update-remote-system`: `remoteId`, `data` (see
//!   [`outgoing_data`]), `delta` (the fields changed since the last push), `status`
//!   (0 pending, 1 active, 2 closed, 3 archived), `incidentChanged` (the delta is not empty) and
//!   `entries` (local entries not yet sent). When it succeeds, what was sent is taken off the
//!   pending changes (a change made meanwhile stays pending for the next cycle).
//!
//! There are no incoming or outgoing mappers: fields travel under the names the integration
//! uses, and the remote object is kept whole.

use std::path::Path;

use serde_json::{Value, json};
use soar_protocol::{Mirror, Object, Response};

use crate::error::{EngineError, Result};
use crate::fetcher::iso;
use crate::instance::Instance;
use crate::runner::Engine;
use crate::store::incidents::status;
use crate::store::{FetchState, Lease, StoredIncident, modify_incident};

/// The mirroring commands.
pub const GET_MODIFIED: &str = "get-modified-remote-data";
/// Gets one remote incident.
pub const GET_REMOTE: &str = "get-remote-data";
/// Sends local changes.
pub const UPDATE_REMOTE: &str = "update-remote-system";

/// What a mirroring cycle did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MirrorReport {
    /// False when the integration has no mirroring commands.
    pub supported: bool,
    /// Remote ids `get-modified-remote-data` answered.
    pub modified: usize,
    /// Stored incidents updated from the remote side.
    pub mirrored_in: usize,
    /// Local changes the remote side accepted.
    pub mirrored_out: usize,
    /// What failed (the cycle goes on after a failure).
    pub errors: Vec<String>,
}

impl std::fmt::Display for MirrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.supported {
            return write!(f, "no mirroring (the integration has no mirroring commands)");
        }
        write!(
            f,
            "{} changed remotely, {} mirrored in, {} mirrored out",
            self.modified, self.mirrored_in, self.mirrored_out
        )?;
        for e in &self.errors {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}

/// The first error entry's text of a response.
fn error_text(response: &Response) -> Option<String> {
    response.entries.iter().find(|e| e.is_error()).map(|e| match &e.contents {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Applies a `get-remote-data` answer to a stored incident.
pub fn apply_remote(inc: &mut StoredIncident, object: &Object, entries: &[Value], now: &str) {
    // An empty object means nothing changed remotely (the entries may still close or reopen).
    if !object.is_empty() {
        for (k, v) in object {
            inc.fields.insert(k.clone(), v.clone());
        }
        inc.remote = Some(object.clone());
    }
    for entry in entries {
        let contents = entry.get("Contents");
        let flag = |k: &str| contents.and_then(|c| c.get(k)).is_some_and(|v| v == &json!(true));
        let text = |k: &str| contents.and_then(|c| c.get(k)).cloned().unwrap_or(Value::Null);
        if flag("dbotIncidentClose") {
            inc.status = status::DONE;
            inc.fields.insert("closeReason".into(), text("closeReason"));
            inc.fields.insert("closeNotes".into(), text("closeNotes"));
        } else if flag("dbotIncidentReopen") {
            inc.status = status::ACTIVE;
        }
    }
    inc.entries.extend(entries.iter().cloned());
    inc.mirrored_in_at = Some(now.to_owned());
}

/// A key with its first letter lower-cased (`Title` -> `title`).
fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    chars.next().map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

/// The `data` of `update-remote-system`. The engine has no outgoing mapper, so it sends what an
/// identity mapper over the incident would: the raw JSON's fields and the last mirrored-in
/// object's with their first letter lower-cased (`Title` -> `title`, as the integrations' own
/// outgoing mappers name them), the fetched incident's fields (without `rawJSON`), and the
/// values set here, each later one winning. The status travels in the `status` argument.
pub fn outgoing_data(inc: &StoredIncident) -> Object {
    let mut data = Object::new();
    let raw: Option<Object> =
        inc.incident.get("rawJSON").and_then(Value::as_str).and_then(|t| serde_json::from_str(t).ok());
    for (k, v) in raw.iter().flatten() {
        data.insert(lower_first(k), v.clone());
    }
    if let Value::Object(o) = &inc.incident {
        for (k, v) in o.iter().filter(|(k, _)| *k != "rawJSON") {
            data.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in inc.remote.iter().flatten() {
        data.insert(lower_first(k), v.clone());
    }
    for (k, v) in &inc.fields {
        data.insert(k.clone(), v.clone());
    }
    data
}

/// Takes what was sent off an incident's pending changes (what changed meanwhile stays).
pub fn take_sent(inc: &mut StoredIncident, delta: &Object, entries: usize, sent_status: i64, now: &str) {
    for (k, v) in delta {
        if inc.delta.get(k) == Some(v) {
            inc.delta.shift_remove(k);
        }
    }
    inc.pending_entries.drain(..entries.min(inc.pending_entries.len()));
    inc.changed = !(inc.delta.is_empty() && inc.pending_entries.is_empty() && inc.status == sent_status);
    inc.mirrored_out_at = Some(now.to_owned());
}

impl Engine {
    /// The mirroring cycle of `inst` under the fetch lease; `state.mirror_last_update` moves
    /// on when the incoming side succeeded.
    pub fn mirror_cycle(
        &self,
        inst: &Instance,
        binary: &Path,
        state: &mut FetchState,
        cycle_start_ms: i64,
        lease: &dyn Lease,
    ) -> Result<MirrorReport> {
        let Some(manifest) = self.manifests.get(&inst.integration, binary)? else {
            return Ok(MirrorReport::default());
        };
        let has = |c: &str| manifest.commands.iter().any(|m| m.name == c);
        let mut report =
            MirrorReport { supported: has(GET_MODIFIED) || has(UPDATE_REMOTE), ..MirrorReport::default() };
        if has(GET_MODIFIED) && has(GET_REMOTE) {
            self.mirror_in(inst, binary, state, cycle_start_ms, lease, &mut report)?;
        }
        if has(UPDATE_REMOTE) {
            self.mirror_out(inst, binary, lease, &mut report)?;
        }
        Ok(report)
    }

    /// Runs a mirroring command; a run that could not be made (the binary crashed, timed out)
    /// is reported and the cycle goes on, but a lost lease ends it.
    fn mirror_run(
        &self,
        inst: &Instance,
        binary: &Path,
        command: &str,
        args: Object,
        report: &mut MirrorReport,
    ) -> Result<Option<crate::runner::RunOutcome>> {
        match self.run_command_fenced(inst, binary, command, args, None) {
            Ok(run) => Ok(Some(run)),
            Err(e @ (EngineError::LeaseLost { .. } | EngineError::Redis { .. } | EngineError::Io { .. })) => {
                Err(e)
            }
            Err(e) => {
                report.errors.push(format!("{command} could not run: {e}"));
                Ok(None)
            }
        }
    }

    fn mirror_in(
        &self,
        inst: &Instance,
        binary: &Path,
        state: &mut FetchState,
        cycle_start_ms: i64,
        lease: &dyn Lease,
        report: &mut MirrorReport,
    ) -> Result<()> {
        let name = inst.name.as_str();
        let asked_at = self.clock_ms()?;
        let last_update = state.mirror_last_update.clone().unwrap_or_else(|| iso(cycle_start_ms));
        let args = Object::from_iter([("lastUpdate".to_owned(), json!(last_update))]);
        let Some(run) = self.mirror_run(inst, binary, GET_MODIFIED, args, report)? else { return Ok(()) };
        if let Some(e) = error_text(&run.response) {
            report.errors.push(format!("{GET_MODIFIED} failed: {e}"));
            return Ok(());
        }
        let ids = match run.response.mirror {
            Some(Mirror::ModifiedIds { ids }) => ids,
            _ => {
                report.errors.push(format!("{GET_MODIFIED} answered no modified ids"));
                return Ok(());
            }
        };
        report.modified = ids.len();
        for id in ids {
            let Some(stored) = self.store.incident(name, &id)? else { continue };
            if !stored.mirrors_in() {
                continue;
            }
            let since = stored.mirrored_in_at.clone().unwrap_or_else(|| stored.fetched_at.clone());
            let args =
                Object::from_iter([("id".to_owned(), json!(id)), ("lastUpdate".to_owned(), json!(since))]);
            let Some(run) = self.mirror_run(inst, binary, GET_REMOTE, args, report)? else { continue };
            if let Some(e) = error_text(&run.response) {
                report.errors.push(format!("{GET_REMOTE} {id} failed: {e}"));
                continue;
            }
            let Some(Mirror::RemoteData { object, entries }) = run.response.mirror else {
                report.errors.push(format!("{GET_REMOTE} {id} answered no remote data"));
                continue;
            };
            let now = iso(self.clock_ms()?);
            let applied = modify_incident(&*self.store, name, &id, Some(lease), &mut |inc| {
                apply_remote(inc, &object, &entries, &now);
                true
            })?;
            if applied.is_some() {
                report.mirrored_in += 1;
            }
        }
        state.mirror_last_update = Some(iso(asked_at));
        Ok(())
    }

    fn mirror_out(
        &self,
        inst: &Instance,
        binary: &Path,
        lease: &dyn Lease,
        report: &mut MirrorReport,
    ) -> Result<()> {
        let name = inst.name.as_str();
        for inc in self.store.pending_out(name)? {
            if !inc.changed || !inc.mirrors_out() {
                continue;
            }
            let Some(remote_id) = inc.remote_id().map(str::to_owned) else { continue };
            let args = Object::from_iter([
                ("remoteId".to_owned(), json!(remote_id)),
                ("data".to_owned(), Value::Object(outgoing_data(&inc))),
                ("delta".to_owned(), Value::Object(inc.delta.clone())),
                ("status".to_owned(), json!(inc.status)),
                ("incidentChanged".to_owned(), json!(!inc.delta.is_empty())),
                ("entries".to_owned(), Value::Array(inc.pending_entries.clone())),
            ]);
            let Some(run) = self.mirror_run(inst, binary, UPDATE_REMOTE, args, report)? else { continue };
            if let Some(e) = error_text(&run.response) {
                report.errors.push(format!("{UPDATE_REMOTE} {remote_id} failed: {e}"));
                continue;
            }
            let now = iso(self.clock_ms()?);
            let sent = modify_incident(&*self.store, name, &inc.id, Some(lease), &mut |cur| {
                take_sent(cur, &inc.delta, inc.pending_entries.len(), inc.status, &now);
                true
            })?;
            if sent.is_some() {
                report.mirrored_out += 1;
            }
        }
        Ok(())
    }

    /// Finds a stored incident by id: on `instance`, or on the only instance that has it.
    pub fn find_incident(&self, instance: Option<&str>, id: &str) -> Result<(String, StoredIncident)> {
        let names: Vec<String> = match instance {
            Some(i) => vec![self.instances.load(i)?.name],
            None => self.instances.all()?.into_iter().map(|i| i.name).collect(),
        };
        let mut found = Vec::new();
        for name in names {
            if let Some(inc) = self.store.incident(&name, id)? {
                found.push((name, inc));
            }
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(EngineError::Usage(format!(
                "No stored incident {id}{}: soar incidents lists them.",
                instance.map_or_else(String::new, |i| format!(" on instance {i}"))
            ))),
            _ => {
                let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
                Err(EngineError::Usage(format!(
                    "Several instances have an incident {id} ({}): add --instance NAME.",
                    names.join(", ")
                )))
            }
        }
    }

    /// Changes a stored incident here (`soar incident update|close`); the change is sent by
    /// the next mirroring cycle. Returns the incident as stored.
    pub fn change_incident(
        &self,
        instance: Option<&str>,
        id: &str,
        change: &mut dyn FnMut(&mut StoredIncident),
    ) -> Result<(String, StoredIncident)> {
        let (name, _) = self.find_incident(instance, id)?;
        let stored = modify_incident(&*self.store, &name, id, None, &mut |inc| {
            change(inc);
            inc.changed = true;
            true
        })?
        .ok_or_else(|| {
            EngineError::Usage(format!("Incident {id} is no longer stored on instance {name}."))
        })?;
        Ok((name, stored))
    }
}

/// Sets `field=value` pairs on an incident (and in its pending delta).
pub fn set_fields(inc: &mut StoredIncident, pairs: &[(String, Value)]) {
    for (k, v) in pairs {
        inc.fields.insert(k.clone(), v.clone());
        inc.delta.insert(k.clone(), v.clone());
    }
}

/// Adds a note entry, sent with the next `update-remote-system` (`entries`) in the shape XSOAR
/// gives mirrored entries (`type`, `contents`, `contentsFormat`, `note`, `user`, `tags`).
pub fn add_note(inc: &mut StoredIncident, text: &str) {
    let entry = json!({
        "type": 1, "contents": text, "contentsFormat": "markdown", "note": true, "user": "soar", "tags": [],
    });
    inc.entries.push(entry.clone());
    inc.pending_entries.push(entry);
}

/// Closes an incident here with a reason and notes.
pub fn close(inc: &mut StoredIncident, reason: &str, notes: &str) {
    inc.status = status::DONE;
    set_fields(inc, &[("closeReason".into(), json!(reason)), ("closeNotes".into(), json!(notes))]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc() -> StoredIncident {
        StoredIncident::fetched(
            json!({"name": "n", "severity": 2, "rawJSON": r#"{"Title": "T", "Status": "Active", "severity": 1}"#, "dbotMirrorId": "r1", "dbotMirrorDirection": "Both"}),
            1,
            "t0",
        )
    }

    #[test]
    fn remote_entries_close_and_reopen() {
        let close = json!({"Type": 1, "ContentsFormat": "json", "Contents": {"dbotIncidentClose": true, "closeReason": "Resolved", "closeNotes": "done"}});
        let reopen = json!({"Type": 1, "ContentsFormat": "json", "Contents": {"dbotIncidentReopen": true}});
        let object = json!({"status": "Closed"}).as_object().cloned().unwrap_or_default();
        // (entries, status after, closeReason after)
        let cases = [
            (vec![], status::ACTIVE, None),
            (vec![close.clone()], status::DONE, Some(json!("Resolved"))),
            (vec![close, reopen], status::ACTIVE, Some(json!("Resolved"))),
        ];
        for (entries, want_status, reason) in cases {
            let mut i = inc();
            apply_remote(&mut i, &object, &entries, "t1");
            assert_eq!(i.status, want_status, "{entries:?}");
            assert_eq!(i.fields.get("closeReason").cloned(), reason, "{entries:?}");
            assert_eq!(i.entries.len(), entries.len());
            assert_eq!(i.remote.as_ref(), Some(&object));
            assert_eq!(i.mirrored_in_at.as_deref(), Some("t1"));
        }
    }

    #[test]
    fn what_was_sent_leaves_the_pending_changes_and_later_changes_stay() {
        let mut i = inc();
        close(&mut i, "Resolved", "fixed");
        i.changed = true;
        let sent = i.delta.clone();
        i.remote = Some(json!({"Severity": "High"}).as_object().cloned().unwrap_or_default());
        let data = outgoing_data(&i);
        // (key, value): raw JSON lower-cased, fetched fields, the mirrored-in object, local values.
        let cases = [
            ("title", json!("T")),
            ("status", json!("Active")),
            ("name", json!("n")),
            ("severity", json!("High")),
            ("closeNotes", json!("fixed")),
        ];
        for (k, v) in cases {
            assert_eq!(data.get(k), Some(&v), "{k}: {data:?}");
        }
        assert!(!data.contains_key("rawJSON"));
        // A change made while the push ran stays pending.
        set_fields(&mut i, &[("severity".into(), json!(4))]);
        take_sent(&mut i, &sent, 0, status::DONE, "t2");
        assert_eq!(Value::Object(i.delta.clone()), json!({"severity": 4}));
        assert!(i.changed);
        let rest = i.delta.clone();
        take_sent(&mut i, &rest, 0, status::DONE, "t3");
        assert!(!i.changed && i.delta.is_empty());
    }
}
