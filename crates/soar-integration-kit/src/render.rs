//! War Room shapes: markdown tables through soar-core's `tableToMarkdown`, results entries
//! (the reference's `CommandResults`) and file entries (the reference's `fileResult`).

use serde_json::Value;
use soar_core::format::entries::{ResultItem, new_file_id, payloads_to_entries, return_results};
use soar_core::format::{CommandResults, HeaderTransform, TableOptions, file_result, table_to_markdown};
use soar_core::{Entry, Error, Outcome};

/// A `tableToMarkdown` call, built step by step.
pub struct Table {
    title: String,
    rows: Value,
    opts: TableOptions,
}

impl Table {
    /// A table titled `title` over a dict (one row) or a list of dicts.
    pub fn new(title: impl Into<String>, rows: Value) -> Self {
        Table { title: title.into(), rows, opts: TableOptions::default() }
    }

    /// Fixed columns, in order.
    pub fn headers<S: AsRef<str>>(mut self, headers: impl IntoIterator<Item = S>) -> Self {
        self.opts = self.opts.headers(headers.into_iter().map(|h| h.as_ref().to_owned()));
        self
    }

    /// Drops all-empty columns (`removeNull=True`).
    pub fn remove_null(mut self) -> Self {
        self.opts = self.opts.remove_null(true);
        self
    }

    /// The line under the title.
    pub fn metadata(mut self, text: impl Into<String>) -> Self {
        self.opts = self.opts.metadata(text);
        self
    }

    /// `headerTransform=string_to_table_header`.
    pub fn header_transform_table_header(mut self) -> Self {
        self.opts = self.opts.header_transform(HeaderTransform::StringToTableHeader);
        self
    }

    /// The markdown.
    pub fn render(self) -> Result<String, Error> {
        table_to_markdown(&self.title, &self.rows, &self.opts)
    }
}

/// The reference's `CommandResults` fields the integrations use.
#[derive(Debug, Default)]
pub struct Results {
    /// `readable_output`.
    pub readable: Option<String>,
    /// `outputs_prefix`.
    pub prefix: Option<&'static str>,
    /// `outputs_key_field`.
    pub key_field: Option<&'static str>,
    /// `outputs`.
    pub outputs: Option<Value>,
    /// `raw_response` (defaults to `outputs`).
    pub raw: Option<Value>,
}

impl Results {
    /// Only a readable message (no context).
    pub fn readable(text: impl Into<String>) -> Self {
        Results { readable: Some(text.into()), ..Results::default() }
    }

    /// A plain string result (the reference returns a `str`): a text note, no context.
    pub fn text(text: impl Into<String>) -> Self {
        Results { raw: Some(Value::String(text.into())), ..Results::default() }
    }

    /// The entry, through soar-core's `CommandResults` (the reference's key order and context
    /// keys); a plain-text result goes through `return_results` like the reference's `str`.
    pub fn entry(self) -> Result<Entry, Error> {
        if self.readable.is_none()
            && self.outputs.is_none()
            && self.prefix.is_none()
            && let Some(Value::String(text)) = &self.raw
        {
            let mut payloads = Vec::new();
            return_results(&ResultItem::Raw(Value::String(text.clone())), &mut payloads)?;
            return payloads_to_entries(&payloads)
                .into_iter()
                .next()
                .ok_or_else(|| Error::Command("no entry for a text result".to_owned()));
        }
        CommandResults {
            readable_output: self.readable.map(Value::String),
            outputs_prefix: self.prefix.map(str::to_owned),
            outputs_key_field: self.key_field.map(|k| vec![k.to_owned()]).unwrap_or_default(),
            outputs: self.outputs,
            raw_response: self.raw,
            ..CommandResults::default()
        }
        .into_entry()
    }

    /// The outcome with this one entry.
    pub fn outcome(self) -> Result<Outcome, Error> {
        Ok(self.entry()?.into())
    }
}

/// A file entry (the reference's `fileResult`): Type 3, the name in `File`, a fresh `FileID`,
/// and the bytes base64-encoded in `FileData` (the protocol carries files inline).
pub fn file_entry(name: &str, data: &[u8]) -> Entry {
    file_result(name, data.to_vec(), None, &new_file_id(), "").to_entry()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A plain string is a text note with no context (the reference's `return_results(str)`);
    /// readable output alone is markdown; outputs land under `prefix(val.key == obj.key)`.
    #[test]
    fn results_take_the_reference_shapes() {
        let text = Results::text("done").entry().unwrap();
        assert_eq!((text.entry_type, text.contents_format.as_str()), (1, "text"));
        assert_eq!(text.contents, json!("done"));
        assert!(text.entry_context.is_empty());

        let md = Results::readable("### hi").entry().unwrap();
        assert_eq!(md.human_readable, json!("### hi"));
        assert!(md.entry_context.is_empty());

        let with_context = Results {
            prefix: Some("Kit.Item"),
            key_field: Some("ID"),
            outputs: Some(json!({"ID": "1"})),
            ..Results::default()
        }
        .entry()
        .unwrap();
        assert_eq!(
            Value::Object(with_context.entry_context),
            json!({"Kit.Item(val.ID && val.ID == obj.ID)": {"ID": "1"}})
        );
        assert_eq!(with_context.contents, json!({"ID": "1"}));
    }

    #[test]
    fn tables_and_files() {
        let md =
            Table::new("T", json!([{"b": 1, "a": null}])).headers(["a", "b"]).metadata("m").render().unwrap();
        assert!(md.starts_with("### T\nm\n|a|b|"), "{md}");
        let no_null = Table::new("T", json!([{"b": 1, "a": null}])).remove_null().render().unwrap();
        assert!(!no_null.contains("|a|"), "{no_null}");
        let file = file_entry("x.zip", b"abc");
        assert_eq!(file.entry_type, 3);
        assert_eq!(file.extra.get("File"), Some(&json!("x.zip")));
        assert_eq!(file.extra.get("FileData"), Some(&json!("YWJj")));
    }
}
