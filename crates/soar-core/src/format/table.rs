//! `tableToMarkdown`: JSON rows to a War Room markdown table, byte for byte as the reference.
//!
//! The steps follow war-room.md §2.2 in order: link `url_keys`, title, metadata, the empty check,
//! single-key dict unwrapping, scalar rows, derived (sorted) headers, `removeNull`, cell
//! renderers, header row, separator, data rows (with `date_fields`). Cells are rendered by the
//! "flatten" renderer (§2.3) or a [`JsonTransformer`] (§2.5) and escaped minimally (§2.4).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::py;
use super::transforms::HeaderTransform;
use crate::Error;

/// The text of an empty table, after the title and metadata lines.
pub const NO_ENTRIES: &str = "**No entries.**\n";

/// The reference's error for scalar rows without headers.
pub const MISSING_HEADERS: &str =
    "Missing headers param for tableToMarkdown. Example: headers=['Some Header']";

/// A custom cell renderer function.
pub type CellFn = Arc<dyn Fn(&Value) -> String + Send + Sync>;

/// A cell renderer (the reference's `JsonTransformer`).
#[derive(Clone, Default)]
pub struct JsonTransformer {
    /// Only these keys are shown (empty: all keys).
    pub keys: Vec<String>,
    /// Look for `keys` at any depth.
    pub is_nested: bool,
    /// Render like the default "flatten" renderer.
    pub flatten: bool,
    /// A custom renderer; when set it takes over completely.
    pub func: Option<CellFn>,
}

impl fmt::Debug for JsonTransformer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonTransformer")
            .field("keys", &self.keys)
            .field("is_nested", &self.is_nested)
            .field("flatten", &self.flatten)
            .field("func", &self.func.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

impl JsonTransformer {
    /// The default flattening renderer.
    pub fn flat() -> Self {
        JsonTransformer { flatten: true, ..Self::default() }
    }

    /// The structured renderer showing only `keys` (all keys when empty).
    pub fn auto(keys: &[&str], is_nested: bool) -> Self {
        JsonTransformer { keys: keys.iter().map(|k| (*k).to_owned()).collect(), is_nested, ..Self::default() }
    }

    /// Renders one non-null cell value (`json_to_str`).
    pub fn render(&self, value: &Value) -> Result<String, Error> {
        if let Some(func) = &self.func {
            return Ok(func(value));
        }
        if let Value::String(s) = value {
            return Ok(s.clone());
        }
        if self.flatten {
            return Ok(flatten_top(value));
        }
        self.render_auto(value)
    }

    fn taken(&self, key: &str, path: &[PathEl<'_>]) -> bool {
        self.keys.is_empty()
            || self.keys.iter().any(|k| k == key)
            || path
                .iter()
                .any(|p| matches!(p, PathEl::Key(pk) if !pk.is_empty() && self.keys.iter().any(|k| k == pk)))
    }

    fn walk<'v>(
        &self,
        value: &'v Value,
        path: &mut Vec<PathEl<'v>>,
        out: &mut Vec<Leaf<'v>>,
    ) -> Result<(), Error> {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if self.taken(k, path) {
                        if v.is_object() || v.is_array() {
                            path.push(PathEl::Key(k));
                            self.walk(v, path, out)?;
                            path.pop();
                        } else {
                            out.push(Leaf { path: path.clone(), key: k, value: LeafValue::Value(v) });
                        }
                    } else if self.is_nested {
                        path.push(PathEl::Key(k));
                        self.walk(v, path, out)?;
                        path.pop();
                    }
                }
            }
            Value::Array(items) => {
                if items.first().is_none_or(|f| !f.is_object() && !f.is_array()) {
                    // The reference joins the items with ", ", which only works for strings.
                    let mut parts = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) => parts.push(s.as_str()),
                            other => {
                                return Err(Error::Command(format!(
                                    "sequence item {i}: expected str instance, {} found",
                                    py::type_name(other)
                                )));
                            }
                        }
                    }
                    out.push(Leaf {
                        path: path.clone(),
                        key: "values",
                        value: LeafValue::Text(parts.join(", ")),
                    });
                } else {
                    for (i, item) in items.iter().enumerate() {
                        path.push(PathEl::Index(i));
                        self.walk(item, path, out)?;
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn render_auto(&self, value: &Value) -> Result<String, Error> {
        let mut leaves = Vec::new();
        self.walk(value, &mut Vec::new(), &mut leaves)?;
        let mut lines = Vec::with_capacity(leaves.len());
        let mut prev: Vec<PathEl<'_>> = Vec::new();
        for leaf in &leaves {
            let mut line = String::new();
            let mut tabs = leaf.path.len();
            if leaf.path != prev {
                let common = prev.iter().zip(&leaf.path).take_while(|(a, b)| a == b).count();
                let suffix = &leaf.path[common..];
                for (i, p) in suffix.iter().enumerate() {
                    line.extend(std::iter::repeat_n('\t', common + i));
                    match p {
                        PathEl::Key(k) => {
                            line.push_str("**");
                            line.push_str(k);
                            line.push_str("**:\n");
                        }
                        PathEl::Index(_) => line.push_str("**-**"),
                    }
                }
                // The reference checks the last element of the whole path, not of the new part.
                if matches!(leaf.path.last(), Some(PathEl::Index(_))) {
                    tabs = 1;
                }
                prev.clone_from(&leaf.path);
            }
            line.extend(std::iter::repeat_n('\t', tabs));
            line.push_str("***");
            line.push_str(leaf.key);
            line.push_str("***: ");
            match &leaf.value {
                LeafValue::Value(v) => line.push_str(&flatten_inner(v)),
                LeafValue::Text(t) => line.push_str(t),
            }
            lines.push(line);
        }
        Ok(lines.join("\n"))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum PathEl<'v> {
    Key(&'v str),
    Index(usize),
}

enum LeafValue<'v> {
    Value(&'v Value),
    Text(String),
}

struct Leaf<'v> {
    path: Vec<PathEl<'v>>,
    key: &'v str,
    value: LeafValue<'v>,
}

/// The reference's `flattenCell`: strings as they are, lists as Python `str()` items joined by
/// `,\n`, anything else as JSON with Python's separators.
pub fn flatten_inner(v: &Value) -> String {
    let mut out = String::new();
    flatten_inner_into(&mut out, v);
    out
}

/// [`flatten_inner`], appended to `out`.
pub fn flatten_inner_into(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => py::write_joined(out, items, ",\n", py::str_into),
        other => py::write_json(out, other, false),
    }
}

/// The default renderer for a top-level cell: a dict is `key: value` lines, anything else
/// [`flatten_inner`].
pub fn flatten_top(v: &Value) -> String {
    let mut out = String::new();
    flatten_top_into(&mut out, v);
    out
}

/// [`flatten_top`], appended to `out`.
pub fn flatten_top_into(out: &mut String, v: &Value) {
    match v {
        Value::Object(map) => py::write_joined(out, map, "\n", |out, (k, v)| {
            out.push_str(k);
            out.push_str(": ");
            flatten_inner_into(out, v);
        }),
        other => flatten_inner_into(out, other),
    }
}

/// Escapes cell or header text: CR LF, CR and LF become `<br>`; `|` and `` ` `` get a backslash.
pub fn escape_into(out: &mut String, s: &str) {
    // Most cells need no escaping at all.
    if !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | b'|' | b'`')) {
        out.push_str(s);
        return;
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            c => out.push(c),
        }
    }
}

/// The options of [`table_to_markdown`], named as the reference's parameters.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// The columns, in order (the reference's `headers`). Empty: derived from the first row.
    pub headers: Vec<String>,
    /// Display-only header transform; its output is not escaped.
    pub header_transform: Option<HeaderTransform>,
    /// Drop columns that are empty in every row (`removeNull`).
    pub remove_null: bool,
    /// A line shown after the title, even when there are no entries.
    pub metadata: Option<String>,
    /// Keys whose values become `[v](v)` links, at any depth.
    pub url_keys: Vec<String>,
    /// Keys whose epoch-millisecond values become `YYYY-MM-DD HH:MM:SS` (UTC).
    pub date_fields: Vec<String>,
    /// Header -> renderer; when non-empty, unmapped headers use the flatten renderer.
    pub json_transform_mapping: HashMap<String, JsonTransformer>,
    /// With no mapping, render every column with the structured "auto" renderer.
    pub is_auto_json_transform: bool,
    /// Sort derived headers by code point (default true).
    pub sort_headers: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            headers: Vec::new(),
            header_transform: None,
            remove_null: false,
            metadata: None,
            url_keys: Vec::new(),
            date_fields: Vec::new(),
            json_transform_mapping: HashMap::new(),
            is_auto_json_transform: false,
            sort_headers: true,
        }
    }
}

impl TableOptions {
    /// Sets the columns.
    pub fn headers<S: Into<String>>(mut self, headers: impl IntoIterator<Item = S>) -> Self {
        self.headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the header transform.
    pub fn header_transform(mut self, t: HeaderTransform) -> Self {
        self.header_transform = Some(t);
        self
    }

    /// Drops all-empty columns.
    pub fn remove_null(mut self, yes: bool) -> Self {
        self.remove_null = yes;
        self
    }

    /// Sets the metadata line.
    pub fn metadata(mut self, text: impl Into<String>) -> Self {
        self.metadata = Some(text.into());
        self
    }

    /// Sets the keys rendered as links.
    pub fn url_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.url_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the epoch-millisecond fields.
    pub fn date_fields<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.date_fields = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Keeps derived headers in the first row's key order.
    pub fn sort_headers(mut self, yes: bool) -> Self {
        self.sort_headers = yes;
        self
    }
}

/// `create_clickable_url`: falsy -> None, a list -> a list of links, anything else -> `[v](v)`.
fn clickable(v: &Value) -> Value {
    if !py::truthy(v) {
        return Value::Null;
    }
    match v {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| {
                    let s = py::str_of(i);
                    Value::String(format!("[{s}]({s})"))
                })
                .collect(),
        ),
        other => {
            let s = py::str_of(other);
            Value::String(format!("[{s}]({s})"))
        }
    }
}

/// `url_to_clickable_markdown`: rewrites every dict at every depth.
fn linkify(v: &Value, keys: &[String]) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(|i| linkify(i, keys)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, val)| {
                    let new = if keys.iter().any(|u| u == k) { clickable(val) } else { linkify(val, keys) };
                    (k.clone(), new)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Python's `int(v)` for a `date_fields` value; `None` when Python would raise.
fn py_int(v: &Value) -> Option<i128> {
    match v {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Some(i128::from(i)),
            (_, Some(u), _) => Some(i128::from(u)),
            (_, _, Some(f)) if f.is_finite() => Some(f.trunc() as i128),
            _ => None,
        },
        Value::String(s) => py::parse_int(s).ok(),
        _ => None,
    }
}

/// `datetime.fromtimestamp(int(v) / 1000).strftime('%Y-%m-%d %H:%M:%S')` in UTC.
pub fn format_epoch_millis(v: &Value) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let ms = py_int(v)?;
    let secs = i64::try_from(ms.div_euclid(1000)).ok()?;
    let dt = chrono::DateTime::from_timestamp(secs, 0)?;
    if !(1..=9999).contains(&dt.year()) {
        return None;
    }
    Some(format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    ))
}

fn no_attr(v: &Value, attr: &str) -> Error {
    Error::Command(format!("'{}' object has no attribute '{attr}'", py::type_name(v)))
}

/// `value in ('', None, [], {})`, with a missing key counting as None.
fn is_null_like(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

enum Renderer<'a> {
    Flatten,
    Transformer(&'a JsonTransformer),
}

/// Renders `t` as a markdown table exactly as the reference's `tableToMarkdown(name, t, ...)`.
///
/// `name` is the title (none when empty). Errors carry the reference's messages (for example
/// [`MISSING_HEADERS`] for scalar rows without headers).
pub fn table_to_markdown(name: &str, t: &Value, opts: &TableOptions) -> Result<String, Error> {
    let linked;
    let mut t = t;
    if !opts.url_keys.is_empty() {
        linked = linkify(t, &opts.url_keys);
        t = &linked;
    }
    let mut out = String::new();
    if !name.is_empty() {
        out.push_str("### ");
        out.push_str(name);
        out.push('\n');
    }
    if let Some(m) = opts.metadata.as_deref().filter(|m| !m.is_empty()) {
        out.push_str(m);
        out.push('\n');
    }
    if !py::truthy(t) {
        out.push_str(NO_ENTRIES);
        return Ok(out);
    }
    if matches!(t, Value::Number(_) | Value::Bool(_)) {
        return Err(Error::Command(format!("object of type '{}' has no len()", py::type_name(t))));
    }

    let mut headers: Vec<Cow<'_, str>> = opts.headers.iter().map(|h| Cow::Borrowed(h.as_str())).collect();
    if headers.is_empty()
        && let Value::Object(map) = t
        && map.len() == 1
        && let Some((k, v)) = map.iter().next()
    {
        headers.push(Cow::Borrowed(k.as_str()));
        t = v;
    }
    let single;
    let mut rows: &[Value] = match t {
        Value::Array(items) => items,
        other => {
            single = [other.clone()];
            &single
        }
    };
    let first = rows.first().ok_or_else(|| Error::Command("list index out of range".to_owned()))?;
    let wrapped: Vec<Value>;
    if !first.is_object() {
        let Some(h) = headers.first() else {
            return Err(Error::Command(MISSING_HEADERS.to_owned()));
        };
        wrapped = rows.iter().map(|item| py::object1(h.as_ref(), item.clone())).collect();
        rows = &wrapped;
    }
    if headers.is_empty() {
        if let Some(Value::Object(map)) = rows.first() {
            headers = map.keys().map(|k| Cow::Borrowed(k.as_str())).collect();
        }
        if opts.sort_headers {
            headers.sort();
        }
    }
    if opts.remove_null {
        let mut kept = Vec::with_capacity(headers.len());
        for h in headers {
            let mut all_empty = true;
            for row in rows {
                let Value::Object(map) = row else { return Err(no_attr(row, "get")) };
                if !is_null_like(map.get(h.as_ref())) {
                    all_empty = false;
                    break;
                }
            }
            if !all_empty {
                kept.push(h);
            }
        }
        headers = kept;
    }
    let flat = JsonTransformer::flat();
    let auto = JsonTransformer::default();
    let renderers: Vec<Renderer<'_>> = headers
        .iter()
        .map(|h| {
            if opts.json_transform_mapping.is_empty() {
                if opts.is_auto_json_transform {
                    Renderer::Transformer(&auto)
                } else {
                    Renderer::Transformer(&flat)
                }
            } else {
                match opts.json_transform_mapping.get(h.as_ref()) {
                    Some(tr) => Renderer::Transformer(tr),
                    None => Renderer::Flatten,
                }
            }
        })
        .collect();
    if headers.is_empty() {
        out.push_str(NO_ENTRIES);
        return Ok(out);
    }

    out.push('|');
    py::write_joined(&mut out, &headers, "|", |out, h| match opts.header_transform {
        Some(tr) => out.push_str(&tr.apply(h)),
        None => escape_into(out, h),
    });
    out.push_str("|\n|");
    py::write_joined(&mut out, &headers, "|", |out, _| out.push_str("---"));
    out.push_str("|\n");

    let mut dates: Vec<(&str, String)> = Vec::new();
    let mut scratch = String::new();
    out.reserve(rows.len() * headers.len() * 16);
    for row in rows {
        let map: &Map<String, Value> = match row {
            Value::Object(m) => m,
            Value::Array(_) => return Err(no_attr(row, "get")),
            other => return Err(no_attr(other, "copy")),
        };
        dates.clear();
        for field in &opts.date_fields {
            if dates.iter().any(|(f, _)| f == field) {
                continue;
            }
            if let Some(text) = map.get(field).and_then(format_epoch_millis) {
                dates.push((field, text));
            }
        }
        out.push_str("| ");
        for (i, (h, renderer)) in headers.iter().zip(&renderers).enumerate() {
            if i > 0 {
                out.push_str(" | ");
            }
            if let Some((_, text)) = dates.iter().find(|(f, _)| *f == h.as_ref()) {
                escape_into(&mut out, text);
                continue;
            }
            match map.get(h.as_ref()) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => escape_into(&mut out, s),
                Some(v) => {
                    scratch.clear();
                    match renderer {
                        Renderer::Transformer(tr) if !tr.flatten || tr.func.is_some() => {
                            scratch.push_str(&tr.render(v)?);
                        }
                        _ => flatten_top_into(&mut scratch, v),
                    }
                    escape_into(&mut out, &scratch);
                }
            }
        }
        out.push_str(" |\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Renders with `opts` and compares with the reference's text.
    fn check(t: Value, opts: TableOptions, want: &str) {
        assert_eq!(table_to_markdown("T", &t, &opts).unwrap(), format!("### T\n{want}"));
    }

    #[test]
    fn single_key_unwrapping_rules() {
        check(
            json!({"users": [{"id": "a"}, {"id": "b"}]}),
            TableOptions::default(),
            "|users|\n|---|\n|  |\n|  |\n",
        );
        check(json!({"k": {"a": 1}}), TableOptions::default(), "|k|\n|---|\n|  |\n");
        check(json!({"k": null}), TableOptions::default(), "|k|\n|---|\n|  |\n");
        let err = table_to_markdown("", &json!({"k": []}), &TableOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "list index out of range");
    }

    #[test]
    fn auto_renderer_examples() {
        let auto = JsonTransformer::default();
        assert_eq!(
            auto.render(&json!({"a": 1, "b": {"c": "d"}})).unwrap(),
            "***a***: 1\n**b**:\n\t***c***: d"
        );
        assert_eq!(
            auto.render(&json!([{"n": "admin", "scope": {"s": "all"}}, {"n": "reader"}])).unwrap(),
            "**-**\t***n***: admin\n\t**scope**:\n\t\t***s***: all\n**-**\t***n***: reader"
        );
        assert_eq!(auto.render(&json!(5)).unwrap(), "");
        assert_eq!(
            auto.render(&json!([1, 2])).unwrap_err().to_string(),
            "sequence item 0: expected str instance, int found"
        );
    }

    #[test]
    fn flatten_and_links_and_dates() {
        assert_eq!(
            flatten_top(&json!({"name": "Ann", "dept": {"id": 3}, "tags": ["a", "b"], "none": null})),
            "name: Ann\ndept: {\"id\": 3}\ntags: a,\nb\nnone: null"
        );
        let opts = TableOptions::default().url_keys(["u"]).headers(["u", "n"]);
        check(
            json!([{"u": 5, "n": {"u": "x|y"}}, {"u": ""}]),
            opts,
            "|u|n|\n|---|---|\n| [5](5) | u: [x\\|y](x\\|y) |\n|  |  |\n",
        );
        assert_eq!(format_epoch_millis(&json!(-1000)).unwrap(), "1969-12-31 23:59:59");
        assert_eq!(format_epoch_millis(&json!(1600000000)).unwrap(), "1970-01-19 12:26:40");
        assert_eq!(format_epoch_millis(&json!("1700000000000.5")), None);
    }

    #[test]
    fn header_transform_output_is_not_escaped() {
        let opts = TableOptions::default().header_transform(HeaderTransform::StringToTableHeader);
        check(json!([{"x|y_z": 1}]), opts, "|X|y Z|\n|---|\n| 1 |\n");
    }
}
