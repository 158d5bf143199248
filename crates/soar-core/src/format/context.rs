//! Integration-context helpers: the merge of `set_to_integration_context_with_retries` as a pure
//! function, and the retry loop over a versioned store (war-room.md §7.1).
//!
//! Every updated key is stored JSON-encoded as a string (Python's `json.dumps` text, ASCII-only,
//! `", "`/`": "` separators); keys named in `object_keys` are merged as lists by an id field.

use std::time::Duration;

use serde_json::Value;
use soar_protocol::Object;

use super::py;
use crate::Error;

/// The reference's default number of attempts.
pub const CONTEXT_UPDATE_RETRY_TIMES: u32 = 3;

/// The reference's error when every attempt hit a version conflict.
pub const MAX_RETRIES_EXCEEDED: &str = "Failed updating integration context. Max retry attempts exceeded.";

/// Python's `json.loads(text)`; a failure carries Python's `JSONDecodeError` text.
pub fn py_json_loads(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Value>(text).map_err(|e| {
        let chars: Vec<char> = text.chars().collect();
        match python_json_error(&chars) {
            Some((msg, pos)) => {
                let before = &chars[..pos.min(chars.len())];
                let line = before.iter().filter(|c| **c == '\n').count() + 1;
                let col = match before.iter().rposition(|c| *c == '\n') {
                    Some(nl) => pos - nl,
                    None => pos + 1,
                };
                format!("{msg}: line {line} column {col} (char {pos})")
            }
            // Python accepts it (NaN, Infinity) but serde_json cannot hold it.
            None => format!("Cannot read the stored value as JSON: {e}"),
        }
    })
}

type ScanResult = Result<usize, (&'static str, usize)>;

fn skip_ws(c: &[char], mut i: usize) -> usize {
    while i < c.len() && matches!(c[i], ' ' | '\t' | '\n' | '\r') {
        i += 1;
    }
    i
}

fn starts_with_at(c: &[char], i: usize, word: &str) -> bool {
    word.chars().enumerate().all(|(k, w)| c.get(i + k) == Some(&w))
}

/// Where and why Python's JSON scanner stops, as `(message, char index)`.
fn python_json_error(c: &[char]) -> Option<(&'static str, usize)> {
    let start = skip_ws(c, 0);
    match scan_value(c, start) {
        Err(e) => Some(e),
        Ok(end) => {
            let end = skip_ws(c, end);
            (end != c.len()).then_some(("Extra data", end))
        }
    }
}

fn scan_value(c: &[char], i: usize) -> ScanResult {
    let Some(&ch) = c.get(i) else { return Err(("Expecting value", i)) };
    match ch {
        '"' => scan_string(c, i),
        '{' => scan_object(c, i + 1),
        '[' => scan_array(c, i + 1),
        'n' if starts_with_at(c, i, "null") => Ok(i + 4),
        't' if starts_with_at(c, i, "true") => Ok(i + 4),
        'f' if starts_with_at(c, i, "false") => Ok(i + 5),
        'N' if starts_with_at(c, i, "NaN") => Ok(i + 3),
        'I' if starts_with_at(c, i, "Infinity") => Ok(i + 8),
        '-' if starts_with_at(c, i, "-Infinity") => Ok(i + 9),
        _ => scan_number(c, i).ok_or(("Expecting value", i)),
    }
}

/// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?` at `i`; the end of the match.
fn scan_number(c: &[char], i: usize) -> Option<usize> {
    let digit = |k: usize| c.get(k).is_some_and(char::is_ascii_digit);
    let mut j = i;
    if c.get(j) == Some(&'-') {
        j += 1;
    }
    match c.get(j) {
        Some('0') => j += 1,
        Some('1'..='9') => {
            while digit(j) {
                j += 1;
            }
        }
        _ => return None,
    }
    if c.get(j) == Some(&'.') && digit(j + 1) {
        j += 1;
        while digit(j) {
            j += 1;
        }
    }
    if matches!(c.get(j), Some('e' | 'E')) {
        let mut k = j + 1;
        if matches!(c.get(k), Some('+' | '-')) {
            k += 1;
        }
        if digit(k) {
            while digit(k) {
                k += 1;
            }
            j = k;
        }
    }
    Some(j)
}

fn scan_string(c: &[char], begin: usize) -> ScanResult {
    let mut j = begin + 1;
    loop {
        let Some(&ch) = c.get(j) else { return Err(("Unterminated string starting at", begin)) };
        match ch {
            '"' => return Ok(j + 1),
            '\\' => {
                let Some(&esc) = c.get(j + 1) else { return Err(("Unterminated string starting at", begin)) };
                if esc == 'u' {
                    if !(2..6).all(|k| c.get(j + k).is_some_and(char::is_ascii_hexdigit)) {
                        return Err(("Invalid \\uXXXX escape", j + 1));
                    }
                    j += 6;
                } else if matches!(esc, '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') {
                    j += 2;
                } else {
                    return Err(("Invalid \\escape", j));
                }
            }
            ch if (ch as u32) < 0x20 => return Err(("Invalid control character at", j)),
            _ => j += 1,
        }
    }
}

fn scan_object(c: &[char], i: usize) -> ScanResult {
    let mut i = skip_ws(c, i);
    if c.get(i) == Some(&'}') {
        return Ok(i + 1);
    }
    loop {
        if c.get(i) != Some(&'"') {
            return Err(("Expecting property name enclosed in double quotes", i));
        }
        i = skip_ws(c, scan_string(c, i)?);
        if c.get(i) != Some(&':') {
            return Err(("Expecting ':' delimiter", i));
        }
        i = skip_ws(c, scan_value(c, skip_ws(c, i + 1))?);
        match c.get(i) {
            Some('}') => return Ok(i + 1),
            Some(',') => i = skip_ws(c, i + 1),
            _ => return Err(("Expecting ',' delimiter", i)),
        }
    }
}

fn scan_array(c: &[char], i: usize) -> ScanResult {
    let mut i = skip_ws(c, i);
    if c.get(i) == Some(&']') {
        return Ok(i + 1);
    }
    loop {
        i = skip_ws(c, scan_value(c, i)?);
        match c.get(i) {
            Some(']') => return Ok(i + 1),
            Some(',') => i = skip_ws(c, i + 1),
            _ => return Err(("Expecting ',' delimiter", i)),
        }
    }
}

/// Iterates a decoded value the way Python's `for x in value` does (dict -> keys, str -> chars).
fn py_iter(v: &Value) -> Result<Vec<Value>, Error> {
    match v {
        Value::Array(items) => Ok(items.clone()),
        Value::Object(m) => Ok(m.keys().map(|k| Value::String(k.clone())).collect()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        other => Err(Error::Command(format!("'{}' object is not iterable", py::type_name(other)))),
    }
}

/// `element[key]` with Python's errors.
fn py_index<'a>(element: &'a Value, key: &str) -> Result<&'a Value, Error> {
    match element {
        Value::Object(m) => m.get(key).ok_or_else(|| Error::Command(py::repr_str(key))),
        Value::Array(_) => Err(Error::Command("list indices must be integers or slices, not str".into())),
        Value::String(_) => Err(Error::Command("string indices must be integers, not 'str'".into())),
        other => Err(Error::Command(format!("'{}' object is not subscriptable", py::type_name(other)))),
    }
}

/// The reference's `merge_lists(original, updated, key)`: items indexed by `key`, replaced whole
/// by updated items with the same id, new ids appended; items whose `remove` is present and not
/// exactly `false` are dropped.
pub fn merge_lists(original: &Value, updated: &Value, key: &str) -> Result<Vec<Value>, Error> {
    // The reference indexes the original list, then the updated one, then merges the indexes.
    let mut merged = index_by(original, key)?;
    for (id, element) in index_by(updated, key)? {
        match merged.iter_mut().find(|(k, _)| py::py_eq(k, &id)) {
            Some(slot) => slot.1 = element,
            None => merged.push((id, element)),
        }
    }
    Ok(merged
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| match v {
            Value::Object(m) => matches!(m.get("remove"), None | Some(Value::Bool(false))),
            _ => true,
        })
        .collect())
}

/// `{element[key]: element for element in items}`, keeping the first position of each id.
fn index_by(items: &Value, key: &str) -> Result<Vec<(Value, Value)>, Error> {
    let mut index: Vec<(Value, Value)> = Vec::new();
    for element in py_iter(items)? {
        let id = py_index(&element, key)?.clone();
        if let Value::Object(_) | Value::Array(_) = id {
            return Err(Error::Command(format!("unhashable type: '{}'", py::type_name(&id))));
        }
        match index.iter_mut().find(|(k, _)| py::py_eq(k, &id)) {
            Some(slot) => slot.1 = element,
            None => index.push((id, element)),
        }
    }
    Ok(index)
}

/// The merge step of `set_to_integration_context_with_retries`, as a pure function: `current`
/// is the stored context, `update` the new values, `object_keys` maps a key to its id field.
pub fn merge_context_update(
    current: &Object,
    update: &Object,
    object_keys: &[(String, String)],
) -> Result<Object, Error> {
    let mut ctx = current.clone();
    for (key, value) in update {
        let latest = match ctx.get(key) {
            None => Value::Array(Vec::new()),
            Some(Value::String(s)) => py_json_loads(s).map_err(Error::Command)?,
            Some(other) => {
                return Err(Error::Command(format!(
                    "the JSON object must be str, bytes or bytearray, not {}",
                    py::type_name(other)
                )));
            }
        };
        let stored = match object_keys.iter().find(|(k, _)| k == key) {
            Some((_, id)) => Value::Array(merge_lists(&latest, value, id)?),
            None => value.clone(),
        };
        ctx.insert(key.clone(), Value::String(py::json_dumps(&stored, true)));
    }
    Ok(ctx)
}

/// Why a versioned set failed.
#[derive(Debug)]
pub enum SetFailure {
    /// Someone else wrote first (the reference's ValueError): read again and retry.
    Conflict,
    /// Anything else: given up at once.
    Other(Error),
}

/// A server-side versioned integration-context store.
pub trait VersionedContextStore {
    /// The stored `(context, version)`; `version` is `None` when the store has none.
    fn get_versioned(&mut self, sync: bool) -> Result<(Object, Option<i64>), Error>;
    /// Stores `context` if the stored version is still `version` (`-1`: no check).
    fn set_versioned(&mut self, context: Object, version: i64, sync: bool) -> Result<(), SetFailure>;
}

/// `get_integration_context_with_version(sync)`: the version is the stored one (0 when
/// missing) with `sync`, and -1 without.
pub fn get_integration_context_with_version(
    store: &mut dyn VersionedContextStore,
    sync: bool,
) -> Result<(Object, i64), Error> {
    let (ctx, version) = store.get_versioned(sync)?;
    Ok((ctx, if sync { version.unwrap_or(0) } else { -1 }))
}

/// `set_to_integration_context_with_retries`: read, merge, set with the version read; on a
/// conflict sleep 1-100 ms (through `sleep`) and try again, up to `max_retry_times` attempts.
pub fn set_to_integration_context_with_retries(
    store: &mut dyn VersionedContextStore,
    update: &Object,
    object_keys: &[(String, String)],
    sync: bool,
    max_retry_times: u32,
    sleep: &mut dyn FnMut(Duration),
) -> Result<(), Error> {
    let mut attempt = 0;
    loop {
        if attempt >= max_retry_times {
            return Err(Error::Command(MAX_RETRIES_EXCEEDED.into()));
        }
        let (current, version) = get_integration_context_with_version(store, sync)?;
        let merged = merge_context_update(&current, update, object_keys)?;
        match store.set_versioned(merged, version, sync) {
            Ok(()) => return Ok(()),
            Err(SetFailure::Conflict) => {
                attempt += 1;
                sleep(Duration::from_millis(jitter_ms()));
            }
            Err(SetFailure::Other(e)) => return Err(e),
        }
    }
}

/// A pseudo-random 1..=100 ms back-off (no cryptographic quality needed).
fn jitter_ms() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    nanos % 100 + 1
}

/// An in-memory versioned store (tests, the golden cases, single-process use). Each successful
/// set stores the context and bumps the version by one; `fail_sets` makes the next sets fail
/// with a conflict.
#[derive(Debug, Clone, Default)]
pub struct MemoryContextStore {
    /// The stored context.
    pub context: Object,
    /// The stored version (`None`: the store has no version).
    pub version: Option<i64>,
    /// How many of the next sets fail with a conflict.
    pub fail_sets: u32,
    /// `(version, sync)` of every set attempt, in order.
    pub set_calls: Vec<(i64, bool)>,
}

impl VersionedContextStore for MemoryContextStore {
    fn get_versioned(&mut self, _sync: bool) -> Result<(Object, Option<i64>), Error> {
        Ok((self.context.clone(), self.version))
    }

    fn set_versioned(&mut self, context: Object, version: i64, sync: bool) -> Result<(), SetFailure> {
        self.set_calls.push((version, sync));
        if self.fail_sets > 0 {
            self.fail_sets -= 1;
            return Err(SetFailure::Conflict);
        }
        self.context = context;
        self.version = Some(self.version.unwrap_or(0) + 1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        v.as_object().cloned().unwrap()
    }

    /// Merges `update` into `current` and compares the stored context (or the error text).
    fn check(current: Value, update: Value, keys: &[(&str, &str)], want: Result<Value, &str>) {
        let keys: Vec<(String, String)> = keys.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect();
        let got = merge_context_update(&obj(current), &obj(update), &keys)
            .map(Value::Object)
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_owned));
    }

    #[test]
    fn merge_rules() {
        check(
            json!({"tokens": "[{\"id\": \"a\", \"v\": 1}]", "other": "x"}),
            json!({"tokens": [{"id": "a", "remove": "yes"}, {"id": "b", "remove": false}], "n": 6}),
            &[("tokens", "id")],
            Ok(json!({"tokens": "[{\"id\": \"b\", \"remove\": false}]", "other": "x", "n": "6"})),
        );
        check(
            json!({"k": {"a": 1}}),
            json!({"k": 1}),
            &[],
            Err("the JSON object must be str, bytes or bytearray, not dict"),
        );
        check(json!({"k": "x"}), json!({"k": 1}), &[], Err("Expecting value: line 1 column 1 (char 0)"));
        check(json!({"k": "é"}), json!({"k": "é"}), &[], Err("Expecting value: line 1 column 1 (char 0)"));
        check(json!({}), json!({"k": "é"}), &[], Ok(json!({"k": "\"\\u00e9\""})));
        check(json!({}), json!({"t": [{"v": 1}]}), &[("t", "id")], Err("'id'"));
        // Python's JSONDecodeError texts, positions in characters.
        check(
            json!({"k": "{bad}"}),
            json!({"k": 1}),
            &[],
            Err("Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        );
        check(
            json!({"k": "[1,\n2 3]"}),
            json!({"k": 1}),
            &[],
            Err("Expecting ',' delimiter: line 2 column 3 (char 6)"),
        );
        check(
            json!({"k": "\"ab"}),
            json!({"k": 1}),
            &[],
            Err("Unterminated string starting at: line 1 column 1 (char 0)"),
        );
        check(json!({"k": "5x"}), json!({"k": 1}), &[], Err("Extra data: line 1 column 2 (char 1)"));
    }

    #[test]
    fn retries_until_the_limit() {
        let mut store = MemoryContextStore { version: Some(3), fail_sets: 2, ..Default::default() };
        let mut slept = Vec::new();
        set_to_integration_context_with_retries(&mut store, &obj(json!({"a": 1})), &[], true, 3, &mut |d| {
            slept.push(d)
        })
        .unwrap();
        assert_eq!(store.set_calls, vec![(3, true), (3, true), (3, true)]);
        assert_eq!(store.version, Some(4));
        assert_eq!(slept.len(), 2);
        assert!(slept.iter().all(|d| (1..=100).contains(&d.as_millis())));
        let mut store = MemoryContextStore { fail_sets: 5, ..Default::default() };
        let err =
            set_to_integration_context_with_retries(&mut store, &Object::new(), &[], true, 3, &mut |_| {});
        assert_eq!(err.unwrap_err().to_string(), MAX_RETRIES_EXCEEDED);
    }
}
