//! What the fetch service keeps per instance besides the context: the fetched incidents (with
//! their raw JSON, mirroring fields and local changes) and the fetch schedule's state.
//!
//! An incident's key is its `dbotMirrorId` (the remote id mirroring uses; filled from the raw
//! JSON's `ID` when the integration left it there, see [`with_mirroring_fields`]), else `h-` and a
//! 64-bit FNV-1a hash of the incident's compact JSON, so a page fetched twice (an engine killed
//! after the integration answered, before the store had it) is stored once.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use soar_protocol::Object;

/// XSOAR's incident status numbers, as `update-remote-system` receives them.
pub mod status {
    /// Pending.
    pub const PENDING: i64 = 0;
    /// Active (a fetched incident starts here).
    pub const ACTIVE: i64 = 1;
    /// Done (closed).
    pub const DONE: i64 = 2;
    /// Archived.
    pub const ARCHIVE: i64 = 3;

    /// A word for a person.
    pub fn name(status: i64) -> &'static str {
        match status {
            PENDING => "pending",
            ACTIVE => "active",
            DONE => "closed",
            ARCHIVE => "archived",
            _ => "unknown",
        }
    }
}

/// One stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIncident {
    /// The key: the remote id (`dbotMirrorId`) or a hash of the incident.
    pub id: String,
    /// Orders the listing: the fetch's start (ms) * 100,000 + the incident's place in its page.
    pub seq: i64,
    /// The incident as fetch-incidents returned it (`name`, `occurred`, `rawJSON`,
    /// `dbotMirrorId`, `dbotMirrorDirection`, ...).
    pub incident: Value,
    /// 0 pending, 1 active, 2 closed, 3 archived.
    pub status: i64,
    /// Field values set locally or mirrored in (`closeReason`, `closeNotes`, any field).
    #[serde(default)]
    pub fields: Object,
    /// The remote object the last `get-remote-data` returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<Object>,
    /// Entries mirrored in (close and reopen entries) and notes, oldest first.
    #[serde(default)]
    pub entries: Vec<Value>,
    /// Local changes not yet sent by `update-remote-system`: field -> new value.
    #[serde(default)]
    pub delta: Object,
    /// Local entries not yet sent.
    #[serde(default)]
    pub pending_entries: Vec<Value>,
    /// Whether a local change waits to be sent (the delta may be empty when only the status
    /// changed).
    #[serde(default)]
    pub changed: bool,
    /// When it was fetched, mirrored in and mirrored out (ISO 8601, UTC).
    pub fetched_at: String,
    /// The last time `get-remote-data` changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirrored_in_at: Option<String>,
    /// The last time `update-remote-system` accepted its local changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirrored_out_at: Option<String>,
}

impl StoredIncident {
    /// A freshly fetched incident (its mirroring fields filled from its raw JSON, see
    /// [`with_mirroring_fields`]).
    pub fn fetched(incident: Value, seq: i64, now: &str) -> StoredIncident {
        let incident = with_mirroring_fields(incident);
        StoredIncident {
            id: incident_key(&incident),
            seq,
            incident,
            status: status::ACTIVE,
            fields: Object::new(),
            remote: None,
            entries: Vec::new(),
            delta: Object::new(),
            pending_entries: Vec::new(),
            changed: false,
            fetched_at: now.to_owned(),
            mirrored_in_at: None,
            mirrored_out_at: None,
        }
    }

    /// A string field of the fetched incident.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.incident.get(key).and_then(Value::as_str)
    }

    /// The remote id mirroring uses, when the incident has one.
    pub fn remote_id(&self) -> Option<&str> {
        self.field("dbotMirrorId").filter(|s| !s.is_empty())
    }

    /// The mirroring direction (`In`, `Out`, `Both`; `None` when not mirrored).
    fn direction(&self) -> &str {
        self.remote_id().and(self.field("dbotMirrorDirection")).unwrap_or("None")
    }

    /// Whether remote changes are mirrored in.
    pub fn mirrors_in(&self) -> bool {
        matches!(self.direction(), "In" | "Both")
    }

    /// Whether local changes are mirrored out.
    pub fn mirrors_out(&self) -> bool {
        matches!(self.direction(), "Out" | "Both")
    }
}

/// Fills an incident's mirroring fields from its raw JSON when the integration left them
/// there, as XSOAR's incoming mappers for these integrations do (the engine has no mappers):
/// `dbotMirrorId` from `rawJSON`'s `dbotMirrorId`, `ID` or `id`; `dbotMirrorDirection` from
/// `mirror_direction`; `dbotMirrorInstance` from `mirror_instance`. Fields the incident already
/// has are kept.
pub fn with_mirroring_fields(mut incident: Value) -> Value {
    let raw: Option<Value> =
        incident.get("rawJSON").and_then(Value::as_str).and_then(|t| serde_json::from_str(t).ok());
    let (Some(raw), Some(o)) = (raw, incident.as_object_mut()) else { return incident };
    let text = |keys: &[&str]| {
        keys.iter().find_map(|k| match raw.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(Value::String(s.clone())),
            Some(Value::Number(n)) => Some(Value::String(n.to_string())),
            _ => None,
        })
    };
    for (field, keys) in [
        ("dbotMirrorId", &["dbotMirrorId", "ID", "id"][..]),
        ("dbotMirrorDirection", &["dbotMirrorDirection", "mirror_direction"][..]),
        ("dbotMirrorInstance", &["dbotMirrorInstance", "mirror_instance"][..]),
    ] {
        let missing = o.get(field).is_none_or(|v| v.is_null() || v == "");
        if missing && let Some(v) = text(keys) {
            o.insert(field.to_owned(), v);
        }
    }
    incident
}

/// The key of a fetched incident: its `dbotMirrorId`, else a hash of its JSON.
pub fn incident_key(incident: &Value) -> String {
    if let Some(id) = incident.get("dbotMirrorId").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        return id.to_owned();
    }
    // FNV-1a: stable across builds and machines, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in incident.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("h-{hash:016x}")
}

/// The fetch schedule's state of one instance, shared by every engine running the schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchState {
    /// When the last fetch cycle started (epoch ms; 0 never).
    pub started_ms: i64,
    /// When the last fetch cycle finished (epoch ms; below `started_ms` while one runs or after
    /// its engine died).
    pub finished_ms: i64,
    /// The `lastUpdate` the next `get-modified-remote-data` is sent (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_last_update: Option<String>,
}

impl FetchState {
    /// Whether a cycle is due at `now_ms` for a schedule of `every_ms`: never ran, the last one
    /// did not finish (its engine died), or an interval has passed since it started.
    pub fn due(&self, now_ms: i64, every_ms: i64) -> bool {
        self.started_ms == 0 || self.finished_ms < self.started_ms || now_ms >= self.started_ms + every_ms
    }
}

/// What storing a fetched page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Stored: how many incidents were new and how many were already stored.
    Stored {
        /// Incidents added.
        added: usize,
        /// Incidents already stored (same key), left as they were.
        duplicates: usize,
    },
    /// The fetch lease was lost: nothing was written.
    LeaseLost,
}

/// The outcome of a fenced compare-and-set of one incident.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentCas {
    /// Written.
    Stored,
    /// The incident changed since it was read; the current one (`None`: it is gone).
    Conflict(Option<Box<StoredIncident>>),
    /// The fetch lease was lost: nothing was written.
    LeaseLost,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_the_mirror_id_or_a_stable_hash() {
        // (incident, key)
        let cases = [
            (json!({"dbotMirrorId": "abc", "name": "x"}), "abc".to_owned()),
            (
                json!({"dbotMirrorId": "", "name": "x"}),
                incident_key(&json!({"dbotMirrorId": "", "name": "x"})),
            ),
            (json!({"name": "x"}), "h-".to_owned() + &format!("{:016x}", fnv(br#"{"name":"x"}"#))),
        ];
        for (incident, want) in cases {
            assert_eq!(incident_key(&incident), want, "{incident}");
        }
        assert_ne!(incident_key(&json!({"name": "x"})), incident_key(&json!({"name": "y"})));
    }

    fn fnv(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
    }

    #[test]
    fn mirroring_fields_come_from_the_raw_json_when_absent() {
        let raw = |r: Value| json!({"name": "n", "rawJSON": r.to_string()});
        // (incident, dbotMirrorId, dbotMirrorDirection, dbotMirrorInstance)
        let cases = [
            (
                raw(json!({"ID": "inc-1", "mirror_direction": "Both", "mirror_instance": "s"})),
                json!("inc-1"),
                json!("Both"),
                json!("s"),
            ),
            (raw(json!({"id": 7, "mirror_direction": null})), json!("7"), Value::Null, Value::Null),
            (
                json!({"dbotMirrorId": "kept", "rawJSON": json!({"ID": "other", "mirror_direction": "In"}).to_string()}),
                json!("kept"),
                json!("In"),
                Value::Null,
            ),
            (json!({"name": "no raw"}), Value::Null, Value::Null, Value::Null),
            (json!({"rawJSON": "not json"}), Value::Null, Value::Null, Value::Null),
        ];
        for (incident, id, direction, instance) in cases {
            let got = with_mirroring_fields(incident.clone());
            let field = |k: &str| got.get(k).cloned().unwrap_or(Value::Null);
            assert_eq!(
                (field("dbotMirrorId"), field("dbotMirrorDirection"), field("dbotMirrorInstance")),
                (id, direction, instance),
                "{incident}"
            );
        }
        let inc = StoredIncident::fetched(raw(json!({"ID": "inc-1", "mirror_direction": "Both"})), 0, "t");
        assert_eq!((inc.id.as_str(), inc.mirrors_in(), inc.mirrors_out()), ("inc-1", true, true));
    }

    #[test]
    fn a_cycle_is_due_once_per_interval_or_after_a_crash() {
        let st = |started_ms, finished_ms| FetchState { started_ms, finished_ms, mirror_last_update: None };
        // (state, now, due)
        let cases = [
            (st(0, 0), 5, true),
            (st(1_000, 1_200), 1_500, false),
            (st(1_000, 1_200), 2_000, true),
            (st(1_000, 900), 1_100, true), // the engine that started it died
        ];
        for (state, now, want) in cases {
            assert_eq!(state.due(now, 1_000), want, "{state:?} at {now}");
        }
    }

    #[test]
    fn mirroring_follows_the_direction() {
        let inc = |v: Value| StoredIncident::fetched(v, 0, "t");
        // (incident, in, out)
        let cases = [
            (json!({"dbotMirrorId": "1", "dbotMirrorDirection": "Both"}), true, true),
            (json!({"dbotMirrorId": "1", "dbotMirrorDirection": "In"}), true, false),
            (json!({"dbotMirrorId": "1", "dbotMirrorDirection": "Out"}), false, true),
            (json!({"dbotMirrorId": "1"}), false, false),
            (json!({"dbotMirrorDirection": "Both"}), false, false),
        ];
        for (v, mirrors_in, mirrors_out) in cases {
            let i = inc(v.clone());
            assert_eq!((i.mirrors_in(), i.mirrors_out()), (mirrors_in, mirrors_out), "{v}");
        }
    }
}
