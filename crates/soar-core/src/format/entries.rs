//! Error, warning and file entries and `return_results` ordering (war-room.md §4, §5, §6).
//! Secret masking (§5.2) is the crate's one [`Masker`], re-exported here.
//!
//! File bytes travel inside the file entry: besides the reference's keys (`Contents`,
//! `ContentsFormat`, `Type`, `File`, `FileID`) the wire entry carries `FileData`, the file's bytes
//! in standard padded base64. The engine stores them as `{investigation id}_{FileID}`, which is
//! the name the reference's `fileResult` writes to its working directory.

use serde_json::{Map, Value};
use soar_protocol::{Entry, Object, entry_type};

use super::py;
use super::results::{CommandResults, entry_from_object};
use crate::Error;
// Secret masking lives in one place for the runtime and the formatter; `return_error` is
// given a masker with the reference's rule (`Masker::new`).
pub use crate::redact::{MASK, Masker, SENSITIVE_NAME_PARTS};

/// Error messages longer than this are cut in the middle.
pub const MAX_ERROR_MESSAGE_LENGTH: usize = 50_000;
/// What replaces the middle of a cut error message.
pub const TRUNCATION_MARK: &str = "...This error body was truncated...";
/// Commands whose errors the server handles: `return_error` raises instead of writing an entry.
pub const SERVER_HANDLED_COMMANDS: [&str; 4] =
    ["fetch-incidents", "fetch-credentials", "long-running-execution", "fetch-indicators"];
/// The key of the wire file entry that holds the file's bytes (base64).
pub const FILE_DATA_KEY: &str = "FileData";

/// Cuts a message over [`MAX_ERROR_MESSAGE_LENGTH`] characters to its first and last 25,000.
pub fn truncate_error_message(message: &str) -> String {
    let count = message.chars().count();
    if count <= MAX_ERROR_MESSAGE_LENGTH {
        return message.to_owned();
    }
    let half = MAX_ERROR_MESSAGE_LENGTH / 2;
    let head: String = message.chars().take(half).collect();
    let tail: String = message.chars().skip(count - half).collect();
    format!("{head}{TRUNCATION_MARK}{tail}")
}

/// What `return_error` does: the entry it writes, or (for server-handled commands) the error it
/// raises instead.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorDisposition {
    /// A Type 4 entry `{Type, ContentsFormat, Contents, EntryContext}`; the process exits 0.
    Entry(Object),
    /// The command is server-handled (fetch, long-running): the error is raised with this text.
    Raise(String),
}

/// The result of [`return_error`]: the log line it writes and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReport {
    /// `Full Integration Log:\n` + the masked message (+ the masked `error` text).
    pub log: String,
    /// The entry, or the error raised instead.
    pub disposition: ErrorDisposition,
}

/// The reference's `return_error(message, error, outputs)` while `command` runs: masks secrets,
/// logs, prefixes `skip update. error: ` for `get-modified-remote-data`, raises for
/// server-handled commands, otherwise truncates and builds the Type 4 entry.
pub fn return_error(
    message: &str,
    error: Option<&str>,
    outputs: Option<Value>,
    command: &str,
    masker: &Masker,
) -> ErrorReport {
    let mut message = masker.mask(message);
    let mut lines = vec![message.clone()];
    if let Some(e) = error.filter(|e| !e.is_empty()) {
        lines.push(masker.mask(e));
    }
    let log = format!("Full Integration Log:\n{}", lines.join("\n"));
    if command == "get-modified-remote-data" {
        message = format!("skip update. error: {message}");
    }
    if SERVER_HANDLED_COMMANDS.contains(&command) {
        return ErrorReport { log, disposition: ErrorDisposition::Raise(message) };
    }
    let mut entry = Map::new();
    entry.insert("Type".into(), Value::from(entry_type::ERROR));
    entry.insert("ContentsFormat".into(), Value::String("text".into()));
    entry.insert("Contents".into(), Value::String(truncate_error_message(&message)));
    entry.insert("EntryContext".into(), outputs.unwrap_or(Value::Null));
    ErrorReport { log, disposition: ErrorDisposition::Entry(entry) }
}

/// The reference's `return_warning`: a Type 11 entry. Its text is not masked (as in the
/// reference); callers must not put secrets in warnings.
pub fn warning_entry(message: &str, outputs: Option<Value>, ignore_auto_extract: bool) -> Object {
    let mut entry = Map::new();
    entry.insert("Type".into(), Value::from(entry_type::WARNING));
    entry.insert("ContentsFormat".into(), Value::String("text".into()));
    entry.insert("IgnoreAutoExtract".into(), Value::Bool(ignore_auto_extract));
    entry.insert("Contents".into(), Value::String(message.to_owned()));
    entry.insert("EntryContext".into(), outputs.unwrap_or(Value::Null));
    entry
}

/// A file result: the reference's entry, the bytes and the name the engine stores them under.
#[derive(Debug, Clone, PartialEq)]
pub struct FileResult {
    /// `{Contents: "", ContentsFormat: "text", Type, File, FileID}`, in the reference's order.
    pub entry: Object,
    /// `{investigation id}_{FileID}`.
    pub stored_name: String,
    /// The file's bytes (text is UTF-8).
    pub data: Vec<u8>,
}

impl FileResult {
    /// The wire entry: the reference's keys plus [`FILE_DATA_KEY`] with the bytes in base64.
    pub fn to_entry(&self) -> Entry {
        let mut e = entry_from_object(self.entry.clone());
        e.extra.insert(FILE_DATA_KEY.into(), Value::String(py::b64_bytes(&self.data)));
        e
    }
}

/// A fresh file id (the reference asks the server's `uniqueFile()`; here a random UUID).
pub fn new_file_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The reference's `fileResult(filename, data, file_type)`: every `../` is removed from the
/// name; `file_type` defaults to 3 (FILE).
pub fn file_result(
    filename: &str,
    data: Vec<u8>,
    file_type: Option<i64>,
    file_id: &str,
    investigation_id: &str,
) -> FileResult {
    let mut entry = Map::new();
    entry.insert("Contents".into(), Value::String(String::new()));
    entry.insert("ContentsFormat".into(), Value::String("text".into()));
    entry.insert("Type".into(), Value::from(file_type.unwrap_or(entry_type::FILE)));
    entry.insert("File".into(), Value::String(filename.replace("../", "")));
    entry.insert("FileID".into(), Value::String(file_id.to_owned()));
    FileResult { entry, stored_name: format!("{investigation_id}_{file_id}"), data }
}

/// One thing a command hands to `return_results`.
#[derive(Debug, Clone)]
pub enum ResultItem {
    /// Formatted with [`CommandResults::to_context`].
    Results(Box<CommandResults>),
    /// Handed over as it is (a string, a dict entry, a number, a list of items).
    Raw(Value),
    /// A list of items, walked as the reference walks lists.
    List(Vec<ResultItem>),
}

/// The reference's `return_results`: the payloads handed to the server, in call order. In a
/// non-empty list, strings and dicts are collected and sent last as one list payload; every
/// other item is sent first, one payload each.
pub fn return_results(item: &ResultItem, out: &mut Vec<Value>) -> Result<(), Error> {
    match item {
        ResultItem::Results(r) => out.push(Value::Object(r.to_context()?)),
        ResultItem::List(items) if !items.is_empty() => {
            let mut collected = Vec::new();
            for i in items {
                match i {
                    ResultItem::Raw(v @ (Value::Object(_) | Value::String(_))) => collected.push(v.clone()),
                    other => return_results(other, out)?,
                }
            }
            if !collected.is_empty() {
                out.push(Value::Array(collected));
            }
        }
        ResultItem::List(_) => out.push(Value::Array(Vec::new())),
        ResultItem::Raw(Value::Array(items)) if !items.is_empty() => {
            let list = ResultItem::List(items.iter().cloned().map(ResultItem::Raw).collect());
            return_results(&list, out)?;
        }
        ResultItem::Raw(v) => out.push(v.clone()),
    }
    Ok(())
}

/// Turns `return_results` payloads into wire entries: a string becomes a text note (what the
/// server does with a bare string), a dict entry is kept, a list is several payloads, and
/// anything else becomes a JSON note.
pub fn payloads_to_entries(payloads: &[Value]) -> Vec<Entry> {
    let mut out = Vec::new();
    for p in payloads {
        match p {
            Value::Null => {}
            Value::String(s) => {
                let mut e = Entry::markdown(s.clone());
                e.contents_format = "text".into();
                out.push(e);
            }
            Value::Object(o) if o.contains_key("Type") && o.contains_key("ContentsFormat") => {
                out.push(entry_from_object(o.clone()));
            }
            Value::Array(items) => out.extend(payloads_to_entries(items)),
            other => {
                let mut e = Entry::markdown(String::new());
                e.contents_format = "json".into();
                e.contents = other.clone();
                out.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Masks `text` with a masker built from `params` and compares.
    fn check(params: Value, text: &str, want: &str) {
        let mut m = Masker::new();
        m.add_params_json(params.as_object().unwrap());
        assert_eq!(m.mask(text), want);
    }

    #[test]
    fn masks_the_documented_forms() {
        let basic = py::b64("svc:Tr0ub4dor&3");
        check(
            json!({"credentials": {"identifier": "svc", "password": "Tr0ub4dor&3"}, "client_secret": "abc/def", "url": "https://h"}),
            &format!(
                "bad secret abc/def (abc%2Fdef) pw Tr0ub4dor&3 / Tr0ub4dor%263 basic {basic} user svc url https://h"
            ),
            "bad secret <XX_REPLACED> (<XX_REPLACED>) pw <XX_REPLACED> / <XX_REPLACED> basic <XX_REPLACED> user svc url https://h",
        );
        check(json!({"api_key": "a\nbc"}), "x a\\nbc y a\nbc", "x <XX_REPLACED> y <XX_REPLACED>");
    }

    #[test]
    fn error_entry_truncates_and_raises_for_fetch() {
        let long = "a".repeat(25_000) + "b" + &"c".repeat(25_000);
        let r = return_error(&long, None, None, "x", &Masker::new());
        let ErrorDisposition::Entry(e) = r.disposition else { panic!("expected an entry") };
        let text = e["Contents"].as_str().unwrap();
        assert_eq!(text.len(), 50_000 + TRUNCATION_MARK.len());
        assert!(text.contains(&format!("a{TRUNCATION_MARK}c")));
        let r = return_error("boom", Some("raw"), None, "fetch-incidents", &Masker::new());
        assert_eq!(r.disposition, ErrorDisposition::Raise("boom".into()));
        assert_eq!(r.log, "Full Integration Log:\nboom\nraw");
    }

    #[test]
    fn file_names_lose_parent_references_and_bytes_travel_in_base64() {
        let f = file_result("../reports/x../y.txt", b"hi".to_vec(), None, "id-1", "inv-42");
        assert_eq!(f.entry["File"], "reports/xy.txt");
        assert_eq!(f.stored_name, "inv-42_id-1");
        let wire = serde_json::to_value(f.to_entry()).unwrap();
        assert_eq!(wire["FileData"], "aGk=");
        assert_eq!(wire["Type"], 3);
    }

    #[test]
    fn return_results_reorders_lists() {
        let items = ResultItem::List(vec![
            ResultItem::Raw(json!("x")),
            ResultItem::Results(Box::new(CommandResults::readable("y"))),
            ResultItem::Raw(json!({"k": 1})),
        ]);
        let mut out = Vec::new();
        return_results(&items, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["HumanReadable"], "y");
        assert_eq!(out[1], json!(["x", {"k": 1}]));
    }
}
