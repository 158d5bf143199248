//! `CommandResults`: outputs, readable text and raw response to one War Room entry, with the
//! reference's key order, context keys and constructor errors (war-room.md §3).

use serde_json::{Map, Value};
use soar_protocol::{Entry, Object};

use super::py;
use super::table::{TableOptions, table_to_markdown};
use crate::{Error, Outcome};

/// The six valid `ContentsFormat` values.
pub const ENTRY_FORMATS: [&str; 6] = ["html", "table", "json", "text", "dbotCommandResponse", "markdown"];

/// A command to run again later (polling), as the reference's `ScheduledCommand`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledCommand {
    /// The command to run.
    pub command: String,
    /// Seconds until the next run; values below 10 become 10.
    pub next_run_in_seconds: i64,
    /// Its arguments.
    pub args: Option<Object>,
    /// Seconds before the polling gives up (omitted when 0).
    pub timeout_in_seconds: Option<i64>,
    /// How many items are left.
    pub items_remaining: i64,
}

impl ScheduledCommand {
    /// A polling command run again after `next_run_in_seconds`.
    pub fn new(command: impl Into<String>, next_run_in_seconds: i64) -> Self {
        ScheduledCommand {
            command: command.into(),
            next_run_in_seconds,
            args: None,
            timeout_in_seconds: None,
            items_remaining: 0,
        }
    }

    /// The polling keys of the entry, dropping empty values (`to_results`).
    pub fn to_results(&self) -> Object {
        let mut m = Map::new();
        if !self.command.is_empty() {
            m.insert("PollingCommand".into(), Value::String(self.command.clone()));
        }
        m.insert("NextRun".into(), Value::String(self.next_run_in_seconds.max(10).to_string()));
        if let Some(args) = self.args.as_ref().filter(|a| !a.is_empty()) {
            m.insert("PollingArgs".into(), Value::Object(args.clone()));
        }
        if let Some(t) = self.timeout_in_seconds.filter(|t| *t != 0) {
            m.insert("Timeout".into(), Value::String(t.to_string()));
        }
        m.insert("PollingItemsRemaining".into(), Value::from(self.items_remaining));
        m
    }
}

/// The reference's `IndicatorsTimeline(indicators, category, message)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorsTimeline {
    /// Indicator values.
    pub indicators: Vec<String>,
    /// Defaults to `Integration Update`.
    pub category: Option<String>,
    /// Shown only when given.
    pub message: Option<String>,
}

impl IndicatorsTimeline {
    /// The timeline list. The reference appends one shared object per indicator, so every
    /// element shows the last indicator; that is reproduced (see ARCHITECTURE.md).
    pub fn to_list(&self) -> Vec<Value> {
        let Some(last) = self.indicators.last() else { return Vec::new() };
        let mut item = Map::new();
        item.insert("Value".into(), Value::String(last.clone()));
        let category =
            self.category.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| "Integration Update".into());
        item.insert("Category".into(), Value::String(category));
        if let Some(m) = self.message.as_ref().filter(|m| !m.is_empty()) {
            item.insert("Message".into(), Value::String(m.clone()));
        }
        vec![Value::Object(item); self.indicators.len()]
    }
}

/// A relationship entry (the reference's `EntityRelationship.to_entry()`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityRelationship {
    /// The relationship name, e.g. `related-to`.
    pub name: String,
    /// The reverse name; empty means the registered reverse of `name`.
    pub reverse_name: String,
    /// Default `IndicatorToIndicator`.
    pub relationship_type: String,
    /// Entity A value.
    pub entity_a: String,
    /// Default `Indicator`.
    pub entity_a_family: String,
    /// Entity A type.
    pub entity_a_type: String,
    /// Entity B value; a relationship without one is dropped.
    pub entity_b: String,
    /// Default `Indicator`.
    pub entity_b_family: String,
    /// Entity B type.
    pub entity_b_type: String,
    /// Extra fields.
    pub fields: Object,
    /// Source reliability (only when set).
    pub source_reliability: String,
    /// Brand (only when set).
    pub brand: String,
}

/// The registered reverse of a relationship name (the reference's table; its quirks, such as
/// `sent` -> `attached-to`, are kept). Unknown names get `related-to`, as in the reference.
pub fn reverse_relationship(name: &str) -> &'static str {
    const NAMES: &[(&str, &str)] = &[
        ("applied", "applied-on"),
        ("attachment-of", "attaches"),
        ("attaches", "attachment-of"),
        ("attribute-of", "owns"),
        ("attributed-by", "attributed-to"),
        ("attributed-to", "attributed-by"),
        ("authored-by", "author-of"),
        ("beacons-to", "communicated-by"),
        ("bundled-in", "bundles"),
        ("bundles", "bundled-in"),
        ("communicated-with", "communicated-by"),
        ("communicated-by", "communicates-with"),
        ("communicates-with", "communicated-by"),
        ("compromises", "compromised-by"),
        ("contains", "part-of"),
        ("controls", "controlled-by"),
        ("created-by", "creates"),
        ("creates", "created-by"),
        ("delivered-by", "delivers"),
        ("delivers", "delivered-by"),
        ("detects", "detected-by"),
        ("detected-by", "detects"),
        ("downloads", "downloaded-by"),
        ("downloads-from", "hosts"),
        ("dropped-by", "drops"),
        ("drops", "dropped-by"),
        ("duplicate-of", "duplicate-of"),
        ("embedded-in", "embeds"),
        ("embeds", "embedded-on"),
        ("executed", "executed-by"),
        ("executed-by", "executes"),
        ("exfiltrates-to", "exfiltrated-from"),
        ("exploits", "exploited-by"),
        ("has", "seen-on"),
        ("hosted-on", "hosts"),
        ("hosts", "hosted-on"),
        ("impersonates", "impersonated-by"),
        ("indicated-by", "indicator-of"),
        ("indicator-of", "indicated-by"),
        ("injected-from", "injects-into"),
        ("injects-into", "injected-from"),
        ("investigates", "investigated-by"),
        ("is-also", "is-also"),
        ("mitigated-by", "mitigates"),
        ("mitigates", "mitigated-by"),
        ("originated-from", "source-of"),
        ("owned-by", "owns"),
        ("owns", "owned-by"),
        ("part-of", "contains"),
        ("related-to", "related-to"),
        ("remediates", "remediated-by"),
        ("resolved-by", "resolves-to"),
        ("resolved-from", "resolves-to"),
        ("resolves-to", "resolved-from"),
        ("seen-on", "has"),
        ("sent", "attached-to"),
        ("sent-by", "sent"),
        ("sent-from", "received-by"),
        ("sent-to", "received-by"),
        ("similar-to", "similar-to"),
        ("sub-domain-of", "supra-domain-of"),
        ("supra-domain-of", "sub-domain-of"),
        ("subtechnique-of", "parent-technique-of"),
        ("parent-technique-of", "subtechnique-of"),
        ("targeted-by", "targets"),
        ("targets", "targeted-by"),
        ("Types", "Reverse"),
        ("uploaded-to", "hosts"),
        ("used-by", "uses"),
        ("used-on", "targeted-by"),
        ("uses", "used-by"),
        ("variant-of", "variant-of"),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map_or("related-to", |(_, r)| r)
}

/// The reliability values a relationship's `source_reliability` may take.
pub const SOURCE_RELIABILITIES: [&str; 7] = [
    "A+ - 3rd party enrichment",
    "A - Completely reliable",
    "B - Usually reliable",
    "C - Fairly reliable",
    "D - Not usually reliable",
    "E - Unreliable",
    "F - Reliability cannot be judged",
];

impl EntityRelationship {
    /// The reference constructor's checks: the type must be `IndicatorToIndicator`, both
    /// families `Indicator`, and the reliability (when set) one of [`SOURCE_RELIABILITIES`].
    pub fn validate(&self) -> Result<(), Error> {
        let or = |v: &str, d: &str| if v.is_empty() { d.to_owned() } else { v.to_owned() };
        let rtype = or(&self.relationship_type, "IndicatorToIndicator");
        if rtype != "IndicatorToIndicator" {
            return Err(Error::Command(format!("Invalid relationship type: {rtype}")));
        }
        let a = or(&self.entity_a_family, "Indicator");
        if a != "Indicator" {
            return Err(Error::Command(format!("Invalid entity A Family type: {a}")));
        }
        let b = or(&self.entity_b_family, "Indicator");
        if b != "Indicator" {
            return Err(Error::Command(format!("Invalid entity B Family type: {b}")));
        }
        if !self.source_reliability.is_empty()
            && !SOURCE_RELIABILITIES.contains(&self.source_reliability.as_str())
        {
            return Err(Error::Command(format!(
                "('Invalid source reliability value', {})",
                py::repr_str(&self.source_reliability)
            )));
        }
        Ok(())
    }

    /// The entry dict, or `None` when entity B is empty.
    pub fn to_entry(&self) -> Option<Value> {
        if self.entity_b.is_empty() {
            return None;
        }
        let or = |v: &str, d: &str| if v.is_empty() { d.to_owned() } else { v.to_owned() };
        let reverse = if self.reverse_name.is_empty() {
            reverse_relationship(&self.name).to_owned()
        } else {
            self.reverse_name.clone()
        };
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert("reverseName".into(), Value::String(reverse));
        m.insert("type".into(), Value::String(or(&self.relationship_type, "IndicatorToIndicator")));
        m.insert("entityA".into(), Value::String(self.entity_a.clone()));
        m.insert("entityAFamily".into(), Value::String(or(&self.entity_a_family, "Indicator")));
        m.insert("entityAType".into(), Value::String(self.entity_a_type.clone()));
        m.insert("entityB".into(), Value::String(self.entity_b.clone()));
        m.insert("entityBFamily".into(), Value::String(or(&self.entity_b_family, "Indicator")));
        m.insert("entityBType".into(), Value::String(self.entity_b_type.clone()));
        m.insert("fields".into(), Value::Object(self.fields.clone()));
        if !self.source_reliability.is_empty() {
            m.insert("reliability".into(), Value::String(self.source_reliability.clone()));
        }
        if !self.brand.is_empty() {
            m.insert("brand".into(), Value::String(self.brand.clone()));
        }
        Some(Value::Object(m))
    }
}

/// What a command returns, turned into one War Room entry by [`CommandResults::to_context`].
///
/// Fields are the reference constructor's arguments; `readable_output`, `raw_response` and
/// `outputs` hold JSON so every case the reference distinguishes (a number as readable text,
/// a float raw response, ...) can be expressed.
#[derive(Debug, Clone, Default)]
pub struct CommandResults {
    /// The context path, e.g. `MSGraphUser` or `MSGraph.User`.
    pub outputs_prefix: Option<String>,
    /// Key field(s) used to merge list items in the context (`val.ID && val.ID == obj.ID`).
    pub outputs_key_field: Vec<String>,
    /// The context outputs.
    pub outputs: Option<Value>,
    /// Indicator context dicts (each indicator's `to_context()`), merged into lists per key.
    pub indicator_contexts: Vec<Object>,
    /// Markdown for the War Room; when empty a `### Results` table of `outputs` is used.
    pub readable_output: Option<Value>,
    /// The raw API response; defaults to `outputs`.
    pub raw_response: Option<Value>,
    /// The indicator timeline.
    pub indicators_timeline: Option<IndicatorsTimeline>,
    /// Ask the engine not to auto-extract indicators.
    pub ignore_auto_extract: bool,
    /// Mark the entry as a note.
    pub mark_as_note: bool,
    /// Run a command again later.
    pub scheduled_command: Option<ScheduledCommand>,
    /// Relationship entries.
    pub relationships: Vec<EntityRelationship>,
    /// The entry type (default 1, NOTE).
    pub entry_type: Option<i64>,
    /// The contents format; default by the raw response's type.
    pub content_format: Option<String>,
    /// API-call metrics `{"Type": kind, "APICallsCount": n}`; turn the entry into Type 19.
    pub execution_metrics: Vec<Value>,
    /// Write `{Last: outputs}` under `Parent(true)` instead of merging.
    pub replace_existing: bool,
    /// Entry tags.
    pub tags: Vec<String>,
}

impl CommandResults {
    /// Results with a context prefix.
    pub fn new(outputs_prefix: impl Into<String>) -> Self {
        CommandResults { outputs_prefix: Some(outputs_prefix.into()), ..Self::default() }
    }

    /// Results that only show text.
    pub fn readable(text: impl Into<String>) -> Self {
        CommandResults { readable_output: Some(Value::String(text.into())), ..Self::default() }
    }

    /// Sets one key field.
    pub fn key_field(mut self, field: impl Into<String>) -> Self {
        self.outputs_key_field = vec![field.into()];
        self
    }

    /// Sets the outputs.
    pub fn outputs(mut self, outputs: Value) -> Self {
        self.outputs = Some(outputs);
        self
    }

    /// Sets the readable output.
    pub fn readable_output(mut self, text: impl Into<String>) -> Self {
        self.readable_output = Some(Value::String(text.into()));
        self
    }

    /// Sets the raw response.
    pub fn raw_response(mut self, raw: Value) -> Self {
        self.raw_response = Some(raw);
        self
    }

    /// The constructor checks of the reference, in its order.
    fn check(&self) -> Result<(), Error> {
        self.check_prefix()?;
        self.check_format()
    }

    /// The reference's first constructor checks (outputs without a prefix, a `.` prefix).
    pub(crate) fn check_prefix(&self) -> Result<(), Error> {
        let prefix = self.outputs_prefix.as_deref().unwrap_or("");
        // The reference checks the prefix only when there are outputs.
        if let Some(outputs) = self.outputs.as_ref().filter(|o| !o.is_null()) {
            if !outputs.is_object() && prefix.is_empty() {
                return Err(Error::Command("outputs_prefix is missing".into()));
            }
            if prefix == "." {
                return Err(Error::Command("outputs_prefix cannot be a period.".into()));
            }
        }
        Ok(())
    }

    /// The reference's last constructor check (`content_format`).
    pub(crate) fn check_format(&self) -> Result<(), Error> {
        if let Some(cf) = &self.content_format
            && !ENTRY_FORMATS.contains(&cf.as_str())
        {
            return Err(Error::Command(format!(
                "content_format {cf} is invalid, see CommonServerPython.EntryFormat"
            )));
        }
        Ok(())
    }

    /// The entry as the reference's `to_context()` builds it, keys in the reference's order.
    pub fn to_context(&self) -> Result<Object, Error> {
        self.clone().into_context()
    }

    /// [`CommandResults::to_context`] without copying the results: the raw response, the
    /// readable text and the outputs move into the entry (a page of 100 users is not cloned).
    pub fn into_context(mut self) -> Result<Object, Error> {
        self.check()?;
        let readable_output = self.readable_output.take();
        let all_outputs = self.outputs.take();
        let raw = match self.raw_response.take() {
            Some(r) if !r.is_null() => r,
            // The outputs are both the raw response and the context: one copy is needed.
            _ => all_outputs.clone().unwrap_or(Value::Null),
        };
        let outputs = all_outputs.filter(|o| !o.is_null() && *o != Value::Array(Vec::new()));
        let mut context = Map::new();
        for ind in &self.indicator_contexts {
            for (k, v) in ind {
                match context.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new())) {
                    Value::Array(list) => list.push(v.clone()),
                    other => *other = Value::Array(vec![v.clone()]),
                }
            }
        }
        let mut human = match readable_output {
            Some(r) if py::truthy(&r) => r,
            _ => Value::Null,
        };
        if let Some(outputs) = outputs {
            if human.is_null() {
                human = match &outputs {
                    Value::Object(_) | Value::Array(_) => {
                        Value::String(table_to_markdown("Results", &outputs, &TableOptions::default())?)
                    }
                    other => other.clone(),
                };
            }
            let prefix = self.outputs_prefix.as_deref().unwrap_or("");
            if !prefix.is_empty() && self.replace_existing {
                let (parent, last) = prefix.rsplit_once('.').unwrap_or(("", prefix));
                if parent.is_empty() {
                    return Err(Error::Command(
                        "outputs_prefix must be a nested path to replace an existing key.".into(),
                    ));
                }
                context.insert(format!("{parent}(true)"), py::object1(last, outputs));
            } else if !prefix.is_empty() && !self.outputs_key_field.is_empty() {
                let clauses: Vec<String> =
                    self.outputs_key_field.iter().map(|k| format!("val.{k} && val.{k} == obj.{k}")).collect();
                context.insert(format!("{prefix}({})", clauses.join(" && ")), outputs);
            } else if !prefix.is_empty() {
                context.insert(prefix.to_owned(), outputs);
            } else if let Value::Object(map) = outputs {
                for (k, v) in map {
                    context.insert(k, v);
                }
            }
        }
        let relationships: Vec<Value> =
            self.relationships.iter().filter_map(EntityRelationship::to_entry).collect();
        let content_format = match &self.content_format {
            Some(cf) => cf.clone(),
            None if matches!(raw, Value::String(_) | Value::Bool(_)) => "text".into(),
            None if matches!(&raw, Value::Number(n) if !n.is_f64()) => "text".into(),
            None => "json".into(),
        };
        let mut entry = Map::new();
        entry.insert("Type".into(), Value::from(self.entry_type.unwrap_or(1)));
        entry.insert("ContentsFormat".into(), Value::String(content_format));
        entry.insert("Contents".into(), raw);
        entry.insert("HumanReadable".into(), human);
        entry.insert("EntryContext".into(), Value::Object(context));
        entry.insert(
            "IndicatorTimeline".into(),
            Value::Array(
                self.indicators_timeline.as_ref().map(IndicatorsTimeline::to_list).unwrap_or_default(),
            ),
        );
        entry.insert("IgnoreAutoExtract".into(), Value::Bool(self.ignore_auto_extract));
        entry.insert("Note".into(), Value::Bool(self.mark_as_note));
        entry.insert("Relationships".into(), Value::Array(relationships));
        if !self.tags.is_empty() {
            entry.insert("Tags".into(), Value::from(self.tags.clone()));
        }
        if let Some(sc) = &self.scheduled_command {
            entry.extend(sc.to_results());
        }
        if !self.execution_metrics.is_empty() {
            entry.insert("Type".into(), Value::from(soar_protocol::entry_type::EXECUTION_METRICS));
            entry.insert("ContentsFormat".into(), Value::String("text".into()));
            entry.insert("Contents".into(), Value::String("Metrics reported successfully.".into()));
            entry.insert("APIExecutionMetrics".into(), Value::Array(self.execution_metrics.clone()));
        }
        Ok(entry)
    }

    /// The entry on the wire.
    pub fn to_entry(&self) -> Result<Entry, Error> {
        Ok(entry_from_object(self.to_context()?))
    }

    /// [`CommandResults::to_entry`] without copying the results (see [`CommandResults::into_context`]).
    pub fn into_entry(self) -> Result<Entry, Error> {
        Ok(entry_from_object(self.into_context()?))
    }
}

/// Converts a reference-shaped entry dict to the protocol's [`Entry`]: the five standard keys
/// become fields (a null `EntryContext` becomes `{}`), every other key goes to `extra` in order.
pub fn entry_from_object(mut obj: Object) -> Entry {
    let entry_type = obj.shift_remove("Type").and_then(|v| v.as_i64()).unwrap_or(1);
    let contents_format = match obj.shift_remove("ContentsFormat") {
        Some(Value::String(s)) => s,
        _ => "json".to_owned(),
    };
    let contents = obj.shift_remove("Contents").unwrap_or(Value::Null);
    let human_readable = obj.shift_remove("HumanReadable").unwrap_or(Value::Null);
    let entry_context = match obj.shift_remove("EntryContext") {
        Some(Value::Object(m)) => m,
        _ => Object::new(),
    };
    Entry { entry_type, contents_format, contents, human_readable, entry_context, extra: obj }
}

impl From<CommandResults> for Outcome {
    /// One entry. A result the formatter cannot render (for example a list of scalars without
    /// a `readable_output`) becomes a Type 4 entry saying what went wrong.
    fn from(results: CommandResults) -> Self {
        let entry = match results.into_entry() {
            Ok(e) => e,
            Err(e) => Entry::error(format!("Could not format the command results: {e}")),
        };
        Outcome::from(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Builds the entry and compares chosen keys with war-room.md §3.4.
    fn check(r: CommandResults, ctx: Value, human: Value, format: &str) {
        let e = r.to_context().unwrap();
        assert_eq!(e["EntryContext"], ctx);
        assert_eq!(e["HumanReadable"], human);
        assert_eq!(e["ContentsFormat"], format);
    }

    #[test]
    fn quick_reference_table() {
        check(CommandResults::new("P").outputs(json!("s")), json!({"P": "s"}), json!("s"), "text");
        check(CommandResults::new("P").outputs(json!(0)), json!({"P": 0}), json!(0), "text");
        check(CommandResults::new("P").outputs(json!(1.5)), json!({"P": 1.5}), json!(1.5), "json");
        check(CommandResults::new("P").outputs(json!(true)), json!({"P": true}), json!(true), "text");
        check(CommandResults::new("P").outputs(json!([])), json!({}), Value::Null, "json");
        check(CommandResults::readable("t"), json!({}), json!("t"), "json");
        check(CommandResults::readable("t").raw_response(json!("raw")), json!({}), json!("t"), "text");
        check(CommandResults::default(), json!({}), Value::Null, "json");
        check(
            CommandResults::new("P").outputs(json!({})),
            json!({"P": {}}),
            json!("### Results\n**No entries.**\n"),
            "json",
        );
    }

    #[test]
    fn replace_existing_and_polling() {
        let mut r = CommandResults::new("Graph.Page.NextLink").outputs(json!("x"));
        r.replace_existing = true;
        r.scheduled_command =
            Some(ScheduledCommand { timeout_in_seconds: Some(900), ..ScheduledCommand::new("c", 5) });
        let e = r.to_context().unwrap();
        assert_eq!(e["EntryContext"], json!({"Graph.Page(true)": {"NextLink": "x"}}));
        assert_eq!(e["NextRun"], "10");
        assert_eq!(e["Timeout"], "900");
        assert_eq!(e["PollingItemsRemaining"], 0);
        let mut bad = CommandResults::new("Flat").outputs(json!("x"));
        bad.replace_existing = true;
        assert!(bad.to_context().is_err());
    }

    #[test]
    fn outcome_conversion_keeps_order_and_reports_errors() {
        let out: Outcome = CommandResults::new("P").key_field("ID").outputs(json!([{"ID": 1}])).into();
        let wire = serde_json::to_string(&out.entries[0]).unwrap();
        assert!(wire.starts_with(
            r####"{"Type":1,"ContentsFormat":"json","Contents":[{"ID":1}],"HumanReadable":"### Results"####
        ));
        assert!(wire.contains(
            r#""EntryContext":{"P(val.ID && val.ID == obj.ID)":[{"ID":1}]},"IndicatorTimeline":[]"#
        ));
        let out: Outcome = CommandResults::new("P").outputs(json!(["a"])).into();
        assert!(out.entries[0].is_error());
    }
}
