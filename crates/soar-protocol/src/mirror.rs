//! Incident mirroring: the four commands an engine runs to keep an incident in step with the
//! remote system, and what they answer.
//!
//! **Arguments** travel in [`Request::args`](crate::Request::args) under XSOAR's own names, so
//! that the XSOAR shim passes `demisto.args()` through untouched:
//!
//! | command | args |
//! |---|---|
//! | `get-modified-remote-data` | `lastUpdate`: when the engine last mirrored (ISO 8601 or epoch) |
//! | `get-remote-data` | `id`: the remote incident id; `lastUpdate` |
//! | `update-remote-system` | `remoteId`; `data` (object: the incident's fields); `delta` (object: the fields changed since the last mirror); `status` (int: 0 pending, 1 active, 2 done, 3 archive); `incidentChanged` (bool); `entries` (list: new entries to mirror out) |
//! | `get-mapping-fields` | none |
//!
//! The readers below decode them; `data` and `delta` may arrive as JSON objects or as JSON text
//! (XSOAR's own arguments are strings), and booleans and numbers as strings.
//!
//! **Answers** go in [`Response::mirror`](crate::Response::mirror) as a [`Mirror`], never as War
//! Room entries: the engine applies them to the incident. The shim turns each into the value
//! XSOAR's `CommonServerPython` classes return (`GetModifiedRemoteDataResponse.to_entry()`,
//! `GetRemoteDataResponse.extract_for_local()`, the remote id, `GetMappingFieldsResponse`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Object;

/// What a mirroring command answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Mirror {
    /// `get-modified-remote-data`: the remote ids changed since `lastUpdate`.
    ModifiedIds {
        /// Remote incident ids, in the order the remote system listed them.
        ids: Vec<String>,
    },
    /// `get-remote-data`: the incident's mirrored fields, and entries to add to it.
    RemoteData {
        /// The fields to write to the local incident (empty when nothing changed).
        object: Object,
        /// Entries for the incident: notes, and close or reopen entries
        /// (`{"Type": 1, "ContentsFormat": "json", "Contents": {"dbotIncidentClose": true,
        /// "closeReason": ..., "closeNotes": ...}}`, `{"Contents": {"dbotIncidentReopen": true}}`).
        entries: Vec<Value>,
    },
    /// `update-remote-system`: the remote id that was updated (or would have been).
    Updated {
        /// The remote incident id.
        id: String,
    },
    /// `get-mapping-fields`: per incident type, the outgoing field names and their descriptions.
    Mapping {
        /// `{type name: {field: description}}`.
        schemes: Object,
    },
}

/// The incident status numbers XSOAR sends in `update-remote-system`'s `status`.
pub mod incident_status {
    /// Not started.
    pub const PENDING: i64 = 0;
    /// Being worked on.
    pub const ACTIVE: i64 = 1;
    /// Closed.
    pub const DONE: i64 = 2;
    /// Archived.
    pub const ARCHIVE: i64 = 3;
}

/// `get-modified-remote-data`'s arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ModifiedRemoteDataArgs {
    /// When the engine last mirrored, as it sent it.
    pub last_update: String,
}

/// `get-remote-data`'s arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDataArgs {
    /// The remote incident id (`id`).
    pub remote_id: String,
    /// When the engine last mirrored this incident (`lastUpdate`).
    pub last_update: String,
}

/// `update-remote-system`'s arguments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateRemoteSystemArgs {
    /// The remote incident id (`remoteId`); empty for an incident that was never mirrored.
    pub remote_id: String,
    /// The local incident's fields.
    pub data: Object,
    /// The fields changed since the last mirror.
    pub delta: Object,
    /// The local status, see [`incident_status`].
    pub status: i64,
    /// Whether the incident itself changed (not only its entries).
    pub incident_changed: bool,
    /// New local entries to mirror out.
    pub entries: Vec<Value>,
}

impl ModifiedRemoteDataArgs {
    /// Reads the arguments; `lastUpdate` is required.
    pub fn from_args(args: &Object) -> Result<Self, String> {
        Ok(ModifiedRemoteDataArgs { last_update: required_text(args, "lastUpdate")? })
    }
}

impl RemoteDataArgs {
    /// Reads the arguments; `id` is required, `lastUpdate` may be empty (mirror everything).
    pub fn from_args(args: &Object) -> Result<Self, String> {
        Ok(RemoteDataArgs {
            remote_id: required_text(args, "id")?,
            last_update: text(args, "lastUpdate").unwrap_or_default(),
        })
    }
}

impl UpdateRemoteSystemArgs {
    /// Reads the arguments; every one is optional, as XSOAR may leave any out.
    pub fn from_args(args: &Object) -> Result<Self, String> {
        Ok(UpdateRemoteSystemArgs {
            remote_id: text(args, "remoteId").unwrap_or_default(),
            data: object(args, "data")?,
            delta: object(args, "delta")?,
            status: match args.get("status") {
                None | Some(Value::Null) => incident_status::PENDING,
                Some(Value::Number(n)) => n.as_i64().ok_or_else(|| bad("status", "an integer 0-3"))?,
                Some(Value::String(s)) if s.trim().is_empty() => incident_status::PENDING,
                Some(Value::String(s)) => s.trim().parse().map_err(|_| bad("status", "an integer 0-3"))?,
                Some(_) => return Err(bad("status", "an integer 0-3")),
            },
            incident_changed: match args.get("incidentChanged") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" | "" => false,
                    _ => return Err(bad("incidentChanged", "true or false")),
                },
                Some(_) => return Err(bad("incidentChanged", "true or false")),
            },
            entries: match args.get("entries") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items.clone(),
                Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
                Some(Value::String(s)) => match serde_json::from_str(s) {
                    Ok(Value::Array(items)) => items,
                    _ => return Err(bad("entries", "a JSON list")),
                },
                Some(_) => return Err(bad("entries", "a JSON list")),
            },
        })
    }

    /// True when the local incident is closed.
    pub fn closed(&self) -> bool {
        self.status == incident_status::DONE
    }
}

fn bad(name: &str, what: &str) -> String {
    format!("The mirroring argument '{name}' must be {what}.")
}

fn text(args: &Object, name: &str) -> Option<String> {
    match args.get(name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required_text(args: &Object, name: &str) -> Result<String, String> {
    text(args, name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("The mirroring argument '{name}' is missing: the engine must send it."))
}

fn object(args: &Object, name: &str) -> Result<Object, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(Object::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Object::new()),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(bad(name, "a JSON object")),
        },
        Some(_) => Err(bad(name, "a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn args(v: Value) -> Object {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn update_args_accept_objects_or_json_text() {
        let a = UpdateRemoteSystemArgs::from_args(&args(json!({
            "remoteId": "inc-1", "data": {"title": "t"}, "delta": "{\"severity\": 3}",
            "status": "2", "incidentChanged": "true", "entries": [{"Contents": "note"}]
        })))
        .unwrap();
        assert_eq!(a.remote_id, "inc-1");
        assert_eq!(a.data["title"], "t");
        assert_eq!(a.delta["severity"], 3);
        assert!(a.closed() && a.incident_changed);
        assert_eq!(a.entries.len(), 1);
        assert_eq!(
            UpdateRemoteSystemArgs::from_args(&Object::new()).unwrap(),
            UpdateRemoteSystemArgs::default()
        );
    }

    #[test]
    fn bad_mirroring_args_name_the_argument() {
        for (v, name) in [
            (json!({"delta": "[1]"}), "delta"),
            (json!({"status": "closed"}), "status"),
            (json!({"incidentChanged": "maybe"}), "incidentChanged"),
            (json!({"entries": {"a": 1}}), "entries"),
        ] {
            let e = UpdateRemoteSystemArgs::from_args(&args(v)).unwrap_err();
            assert!(e.contains(&format!("'{name}'")), "{e}");
        }
        let e = RemoteDataArgs::from_args(&args(json!({"lastUpdate": "x"}))).unwrap_err();
        assert!(e.contains("'id'"), "{e}");
        let e = ModifiedRemoteDataArgs::from_args(&Object::new()).unwrap_err();
        assert!(e.contains("'lastUpdate'"), "{e}");
    }

    #[test]
    fn answers_are_tagged_by_kind() {
        let m = Mirror::ModifiedIds { ids: vec!["a".into()] };
        assert_eq!(serde_json::to_value(&m).unwrap(), json!({"kind": "modified-ids", "ids": ["a"]}));
        let back: Mirror = serde_json::from_value(json!({"kind": "updated", "id": "x"})).unwrap();
        assert_eq!(back, Mirror::Updated { id: "x".into() });
    }
}
