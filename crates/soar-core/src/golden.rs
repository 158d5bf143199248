//! Evaluates golden War Room case files (`war-room-cases.json` format) against this crate.
//!
//! A case file has `cases`, each with `id`, `function` (the reference's Python name), `kwargs`
//! (its keyword arguments), optional `env` (simulated server state), `expected` and optional
//! `compare`. This module maps each function to the Rust implementation, builds the same JSON
//! the reference's harness recorded, and compares. Used by the crate's tests and by
//! `cargo xtask check-cases <file>`, so both run the one implementation.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::Error;
use crate::args::{self, ArgNumber, Clock, FixedClock};
use crate::format::context::{self as ctx, MemoryContextStore};
use crate::format::entries::{self, ErrorDisposition, Masker, ResultItem};
use crate::format::py;
use crate::format::results::{CommandResults, EntityRelationship, IndicatorsTimeline, ScheduledCommand};
use crate::format::table::{JsonTransformer, TableOptions, table_to_markdown};
use crate::format::transforms::{self, HeaderTransform};

/// The faked `uniqueFile()` of the reference's harness.
pub const DEFAULT_FILE_ID: &str = "5f0c6a2e-1b7d-4e8a-9c3f-2a6b8d4e0f11";
/// The faked investigation id of the reference's harness.
pub const DEFAULT_INVESTIGATION_ID: &str = "inv-42";
/// Slack allowed for `compare: relative_to_now`, in seconds.
pub const RELATIVE_SLACK_SECONDS: i64 = 5;

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// The reference function name.
    pub function: String,
    /// `None` when the case passed; otherwise what differs.
    pub failure: Option<String>,
}

/// The outcome of a case file.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per case, in file order.
    pub cases: Vec<CaseResult>,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_none()).count()
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }

    /// One line per failure: `FAIL <id> (<function>): <diff>`.
    pub fn failure_lines(&self) -> Vec<String> {
        self.cases
            .iter()
            .filter_map(|c| c.failure.as_ref().map(|f| format!("FAIL {} ({}): {f}", c.id, c.function)))
            .collect()
    }

    /// `N passed, M failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Reads and evaluates a case file.
pub fn check_file(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "Cannot read the case file {}: {e}. Pass the path of a war-room-cases.json file.",
            path.display()
        )
    })?;
    check_json(&text)
}

/// Evaluates the cases of a case file given as text.
pub fn check_json(text: &str) -> Result<Report, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("The case file is not valid JSON: {e}"))?;
    let cases = doc
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("The case file has no \"cases\" array; expected {\"cases\": [{\"id\", \"function\", \"kwargs\", \"expected\"}, ...]}")?;
    let clock = FixedClock(Utc::now());
    Ok(Report { cases: cases.iter().enumerate().map(|(i, c)| check_case(c, i, &clock)).collect() })
}

/// Evaluates one case object.
pub fn check_case(case: &Value, index: usize, clock: &FixedClock) -> CaseResult {
    let id = case.get("id").and_then(Value::as_str).map_or_else(|| format!("#{index}"), str::to_owned);
    let function = case.get("function").and_then(Value::as_str).unwrap_or("").to_owned();
    let empty = Map::new();
    let kwargs = case.get("kwargs").and_then(Value::as_object).unwrap_or(&empty);
    let env = case.get("env").and_then(Value::as_object).unwrap_or(&empty);
    let failure = match case.get("expected") {
        None => Some("the case has no \"expected\" value".to_owned()),
        Some(expected) => match evaluate(&function, kwargs, env, clock) {
            Err(Unsupported(msg)) => Some(msg),
            Ok(got) => compare(case.get("compare").and_then(Value::as_str), &function, expected, &got, clock),
        },
    };
    CaseResult { id, function, failure }
}

/// A case the evaluator cannot run (an unknown function or argument encoding).
#[derive(Debug)]
pub struct Unsupported(pub String);

fn unsupported(msg: impl Into<String>) -> Unsupported {
    Unsupported(msg.into())
}

/// `{"error": str(exception)}`.
fn error_value(e: &Error) -> Value {
    json!({ "error": e.to_string() })
}

fn kw<'a>(kwargs: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    kwargs.get(name)
}

fn kw_str(kwargs: &Map<String, Value>, name: &str) -> Option<String> {
    match kwargs.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => Some(py::str_of(v)),
    }
}

fn kw_bool(kwargs: &Map<String, Value>, name: &str, default: bool) -> bool {
    kwargs.get(name).map_or(default, py::truthy)
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().map(py::str_of).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Runs `function` with `kwargs` and returns the JSON the reference harness records.
pub fn evaluate(
    function: &str,
    kwargs: &Map<String, Value>,
    env: &Map<String, Value>,
    clock: &dyn Clock,
) -> Result<Value, Unsupported> {
    let plain = |r: Result<Value, Error>| r.unwrap_or_else(|e| error_value(&e));
    Ok(match function {
        "tableToMarkdown" | "tblToMd" => plain(table(kwargs)?),
        "pascalToSpace" => match kw(kwargs, "s") {
            Some(Value::String(s)) => Value::String(transforms::pascal_to_space(s)),
            other => other.cloned().unwrap_or(Value::Null),
        },
        "underscoreToCamelCase" => match kw(kwargs, "s") {
            Some(Value::String(s)) => {
                Value::String(transforms::underscore_to_camel_case(s, kw_bool(kwargs, "upper_camel", true)))
            }
            other => other.cloned().unwrap_or(Value::Null),
        },
        "string_to_table_header" | "string_to_context_key" => match kw(kwargs, "string") {
            Some(Value::String(s)) if function == "string_to_table_header" => {
                Value::String(transforms::string_to_table_header(s))
            }
            Some(Value::String(s)) => Value::String(transforms::string_to_context_key(s)),
            other => error_value(&Error::Command(format!(
                "The key is not a string: {}",
                other.map_or_else(|| "None".to_owned(), py::str_of)
            ))),
        },
        "camelize" => {
            let delim = kw_str(kwargs, "delim").unwrap_or_else(|| " ".into());
            plain(transforms::camelize(
                kw(kwargs, "src").unwrap_or(&Value::Null),
                &delim,
                kw_bool(kwargs, "upper_camel", true),
            ))
        }
        "camelize_string" => {
            let src = kw_str(kwargs, "src").or_else(|| kw_str(kwargs, "s")).unwrap_or_default();
            let delim = kw_str(kwargs, "delim").unwrap_or_else(|| "_".into());
            Value::String(transforms::camelize_string(&src, &delim, kw_bool(kwargs, "upper_camel", true)))
        }
        "CommandResults.to_context" => {
            plain(command_results(kwargs).and_then(|r| r.to_context().map(Value::Object)))
        }
        "return_results" => {
            let mut out = Vec::new();
            let item = result_item(kw(kwargs, "results").unwrap_or(&Value::Null));
            match item.and_then(|i| entries::return_results(&i, &mut out)) {
                Ok(()) => json!({ "results": out }),
                Err(e) => json!({ "error": e.to_string(), "results": out }),
            }
        }
        "return_error" => return_error(kwargs, env),
        "fileResult" => file_result(kwargs, env)?,
        "argToList" => plain(arg_to_list(kwargs)),
        "argToBoolean" => {
            plain(args::arg_to_bool(kw(kwargs, "value").unwrap_or(&Value::Null)).map(Value::Bool))
        }
        "arg_to_number" => plain(
            args::arg_to_number_value(
                kw(kwargs, "arg"),
                kw_str(kwargs, "arg_name").as_deref(),
                kw(kwargs, "required") == Some(&Value::Bool(true)),
            )
            .map(|n| match n {
                None => Value::Null,
                Some(ArgNumber::Bool(b)) => Value::Bool(b),
                Some(ArgNumber::Int(i)) => i64::try_from(i).map_or_else(|_| json!(i as f64), Value::from),
            }),
        ),
        "arg_to_datetime" => {
            if kw(kwargs, "settings").is_some_and(py::truthy) {
                return Err(unsupported("arg_to_datetime with custom dateparser settings is not supported"));
            }
            plain(
                args::arg_to_datetime(
                    kw(kwargs, "arg"),
                    kw_str(kwargs, "arg_name").as_deref(),
                    kw_bool(kwargs, "is_utc", true),
                    kw(kwargs, "required") == Some(&Value::Bool(true)),
                    clock,
                )
                .map(|d| match d {
                    None => Value::Null,
                    Some(d) => json!({
                        "isoformat": d.isoformat(),
                        "__utc_seconds": d.to_utc().timestamp(),
                        "__aware": d.is_aware(),
                    }),
                }),
            )
        }
        "assign_params" => {
            let keys = str_list(kw(kwargs, "keys_to_ignore"));
            let values: Option<Vec<Value>> = match kw(kwargs, "values_to_ignore") {
                None | Some(Value::Null) => None,
                Some(Value::Array(v)) => Some(v.clone()),
                Some(other) => Some(vec![other.clone()]),
            };
            let pairs = kwargs
                .iter()
                .filter(|(k, _)| *k != "keys_to_ignore" && *k != "values_to_ignore")
                .map(|(k, v)| (k.clone(), v.clone()));
            Value::Object(args::assign_params(pairs, &keys, values.as_deref()))
        }
        "remove_empty_elements" => args::remove_empty_elements(kw(kwargs, "d").unwrap_or(&Value::Null)),
        "set_to_integration_context_with_retries"
        | "get_integration_context"
        | "get_integration_context_with_version"
        | "set_integration_context" => integration_context(function, kwargs, env)?,
        other => {
            return Err(unsupported(format!("no Rust implementation is mapped to the function \"{other}\"")));
        }
    })
}

fn table(kwargs: &Map<String, Value>) -> Result<Result<Value, Error>, Unsupported> {
    let mut opts = TableOptions::default();
    match kw(kwargs, "headers") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => opts.headers = if s.is_empty() { Vec::new() } else { vec![s.clone()] },
        Some(Value::Array(items)) => {
            for h in items {
                match h {
                    Value::String(s) => opts.headers.push(s.clone()),
                    _ => return Err(unsupported("non-string headers are not supported")),
                }
            }
        }
        Some(_) => return Err(unsupported("headers must be a string or a list")),
    }
    if let Some(name) = kw_str(kwargs, "headerTransform") {
        match HeaderTransform::from_name(&name) {
            Ok(t) => opts.header_transform = Some(t),
            Err(e) => return Err(unsupported(e.to_string())),
        }
    }
    opts.remove_null = kw_bool(kwargs, "removeNull", false);
    opts.metadata = kw(kwargs, "metadata").filter(|m| py::truthy(m)).map(py::str_of);
    opts.url_keys = str_list(kw(kwargs, "url_keys"));
    opts.date_fields = str_list(kw(kwargs, "date_fields"));
    opts.is_auto_json_transform = kw_bool(kwargs, "is_auto_json_transform", false);
    opts.sort_headers = kw_bool(kwargs, "sort_headers", true);
    if let Some(Value::Object(mapping)) = kw(kwargs, "json_transform_mapping") {
        for (header, spec) in mapping {
            let spec = spec
                .as_object()
                .ok_or_else(|| unsupported("json_transform_mapping values must be objects"))?;
            opts.json_transform_mapping.insert(
                header.clone(),
                JsonTransformer {
                    keys: str_list(spec.get("keys")),
                    is_nested: spec.get("is_nested").is_some_and(py::truthy),
                    flatten: spec.get("flatten").is_some_and(py::truthy),
                    func: None,
                },
            );
        }
    }
    // The reference concatenates the title and metadata with `+`, which needs strings.
    let name = kw(kwargs, "name").filter(|n| py::truthy(n));
    if let Some(n) = name.filter(|n| !n.is_string()) {
        let msg = format!("can only concatenate str (not \"{}\") to str", py::type_name(n));
        return Ok(Err(Error::Command(msg)));
    }
    if let Some(m) = kw(kwargs, "metadata").filter(|m| py::truthy(m) && !m.is_string()) {
        let msg = format!("unsupported operand type(s) for +: '{}' and 'str'", py::type_name(m));
        return Ok(Err(Error::Command(msg)));
    }
    let name = name.map(py::str_of).unwrap_or_default();
    Ok(table_to_markdown(&name, kw(kwargs, "t").unwrap_or(&Value::Null), &opts).map(Value::String))
}

fn command_results(kwargs: &Map<String, Value>) -> Result<CommandResults, Error> {
    // The harness builds the relationships (their constructors check) before CommandResults.
    let mut relationships = Vec::new();
    if let Some(Value::Array(rels)) = kw(kwargs, "relationships") {
        for rel in rels {
            let o = rel.as_object().cloned().unwrap_or_default();
            let s = |k: &str| o.get(k).filter(|v| !v.is_null()).map(py::str_of).unwrap_or_default();
            let rel = EntityRelationship {
                name: s("name"),
                reverse_name: s("reverse_name"),
                relationship_type: s("relationship_type"),
                entity_a: s("entity_a"),
                entity_a_family: s("entity_a_family"),
                entity_a_type: s("entity_a_type"),
                entity_b: s("entity_b"),
                entity_b_family: s("entity_b_family"),
                entity_b_type: s("entity_b_type"),
                fields: o.get("fields").and_then(Value::as_object).cloned().unwrap_or_default(),
                source_reliability: s("source_reliability"),
                brand: s("brand"),
            };
            rel.validate()?;
            relationships.push(rel);
        }
    }
    let mut r = CommandResults {
        outputs_prefix: kw(kwargs, "outputs_prefix").filter(|p| !p.is_null()).map(py::str_of),
        outputs: kw(kwargs, "outputs").filter(|o| !o.is_null()).cloned(),
        readable_output: kw(kwargs, "readable_output").cloned(),
        raw_response: kw(kwargs, "raw_response").filter(|o| !o.is_null()).cloned(),
        ignore_auto_extract: kw_bool(kwargs, "ignore_auto_extract", false),
        mark_as_note: kw_bool(kwargs, "mark_as_note", false),
        replace_existing: kw_bool(kwargs, "replace_existing", false),
        entry_type: kw(kwargs, "entry_type").and_then(Value::as_i64),
        content_format: kw(kwargs, "content_format").filter(|c| !c.is_null()).map(py::str_of),
        tags: match kw(kwargs, "tags") {
            Some(v) if py::truthy(v) => str_list(Some(v)),
            _ => Vec::new(),
        },
        execution_metrics: match kw(kwargs, "execution_metrics") {
            Some(Value::Array(m)) => m.clone(),
            _ => Vec::new(),
        },
        relationships,
        ..CommandResults::default()
    };
    r.check_prefix()?;
    let indicators = kw(kwargs, "indicators").is_some_and(py::truthy);
    let indicator = kw(kwargs, "indicator").is_some_and(py::truthy);
    if indicators && indicator {
        return Err(Error::Command("indicators is DEPRECATED, use only indicator".into()));
    }
    if indicators || indicator {
        return Err(Error::Command(
            "the golden evaluator cannot build Common.Indicator objects from JSON".into(),
        ));
    }
    r.outputs_key_field = match kw(kwargs, "outputs_key_field") {
        Some(v) if !py::truthy(v) => Vec::new(),
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().map(py::str_of).collect(),
        Some(_) => return Err(Error::Command("outputs_key_field must be of type str or list".into())),
    };
    r.check_format()?;
    if let Some(Value::Object(tl)) = kw(kwargs, "indicators_timeline") {
        r.indicators_timeline = Some(IndicatorsTimeline {
            indicators: str_list(tl.get("indicators")),
            category: tl.get("category").filter(|c| py::truthy(c)).map(py::str_of),
            message: tl.get("message").filter(|c| py::truthy(c)).map(py::str_of),
        });
    }
    if let Some(Value::Object(sc)) = kw(kwargs, "scheduled_command").filter(|v| py::truthy(v)) {
        let int = |k: &str| sc.get(k).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)));
        r.scheduled_command = Some(ScheduledCommand {
            command: sc.get("command").map(py::str_of).unwrap_or_default(),
            next_run_in_seconds: int("next_run_in_seconds").unwrap_or(0),
            args: sc.get("args").and_then(Value::as_object).cloned(),
            timeout_in_seconds: int("timeout_in_seconds"),
            items_remaining: int("items_remaining").unwrap_or(0),
        });
    }
    Ok(r)
}

/// `{"$CommandResults": {...}}` becomes a CommandResults item; lists are walked.
fn result_item(v: &Value) -> Result<ResultItem, Error> {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("$CommandResults") => {
            let args = o.get("$CommandResults").and_then(Value::as_object).cloned().unwrap_or_default();
            Ok(ResultItem::Results(Box::new(command_results(&args)?)))
        }
        // The harness builds every CommandResults before calling return_results, so a
        // constructor error comes before any payload.
        Value::Array(items) if !items.is_empty() => {
            Ok(ResultItem::List(items.iter().map(result_item).collect::<Result<_, _>>()?))
        }
        other => Ok(ResultItem::Raw(other.clone())),
    }
}

fn return_error(kwargs: &Map<String, Value>, env: &Map<String, Value>) -> Value {
    let mut masker = Masker::new();
    if let Some(Value::Object(params)) = env.get("params") {
        masker.add_params_json(params);
    }
    let command = env.get("command").and_then(Value::as_str).unwrap_or("");
    let message = kw(kwargs, "message").map(py::str_of).unwrap_or_else(|| "None".into());
    let error = kw(kwargs, "error").filter(|e| py::truthy(e)).map(py::str_of);
    let outputs = kw(kwargs, "outputs").cloned().filter(|o| !o.is_null());
    let report = entries::return_error(&message, error.as_deref(), outputs, command, &masker);
    match report.disposition {
        ErrorDisposition::Entry(e) => json!({ "results": [e], "log": [report.log], "exit_code": 0 }),
        ErrorDisposition::Raise(msg) => json!({ "error": msg, "results": [], "log": [report.log] }),
    }
}

fn file_result(kwargs: &Map<String, Value>, env: &Map<String, Value>) -> Result<Value, Unsupported> {
    let data = match (kw(kwargs, "data"), kw(kwargs, "data_b64")) {
        (Some(Value::String(s)), _) => s.as_bytes().to_vec(),
        (_, Some(Value::String(b))) => {
            py::b64_decode(b).ok_or_else(|| unsupported("data_b64 is not valid base64"))?
        }
        _ => return Err(unsupported("fileResult needs kwargs.data (text) or kwargs.data_b64")),
    };
    let file_id = env.get("unique_file").and_then(Value::as_str).unwrap_or(DEFAULT_FILE_ID);
    let inv = env.get("investigation_id").and_then(Value::as_str).unwrap_or(DEFAULT_INVESTIGATION_ID);
    let name = kw(kwargs, "filename").map(py::str_of).unwrap_or_else(|| "None".into());
    let file_type = kw(kwargs, "file_type").and_then(Value::as_i64);
    let mut f = entries::file_result(&name, data, file_type, file_id, inv);
    // A non-string file name is kept as it is (only strings lose their `../`).
    if let Some(other) = kw(kwargs, "filename").filter(|v| !v.is_string()) {
        f.entry.insert("File".into(), other.clone());
    }
    Ok(json!({
        "returned": Value::Object(f.entry),
        "files_written": [{ "name": f.stored_name, "bytes_b64": py::b64_bytes(&f.data) }],
    }))
}

fn py_int_value(v: &Value) -> Result<Value, Error> {
    match v {
        Value::String(s) => py::parse_int(s).map(|i| json!(i as i64)).map_err(Error::Command),
        Value::Bool(b) => Ok(json!(i64::from(*b))),
        Value::Number(n) if n.is_f64() => Ok(json!(n.as_f64().unwrap_or(0.0).trunc() as i64)),
        Value::Number(_) => Ok(v.clone()),
        other => Err(Error::Command(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            py::type_name(other)
        ))),
    }
}

fn arg_to_list(kwargs: &Map<String, Value>) -> Result<Value, Error> {
    let sep = kw_str(kwargs, "separator").unwrap_or_else(|| ",".into());
    let items = args::arg_to_list(kw(kwargs, "arg"), &sep);
    let out: Result<Vec<Value>, Error> = match kw_str(kwargs, "transform").as_deref() {
        None => Ok(items),
        Some("int") => items.iter().map(py_int_value).collect(),
        Some("str") => Ok(items.iter().map(|i| Value::String(py::str_of(i))).collect()),
        Some("str.upper") => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(Value::String(s.to_uppercase())),
                other => Err(Error::Command(format!(
                    "descriptor 'upper' for 'str' objects doesn't apply to a '{}' object",
                    py::type_name(other)
                ))),
            })
            .collect(),
        Some(other) => {
            Err(Error::Command(format!("unknown transform \"{other}\": use int, str or str.upper")))
        }
    };
    out.map(Value::Array)
}

fn integration_context(
    function: &str,
    kwargs: &Map<String, Value>,
    env: &Map<String, Value>,
) -> Result<Value, Unsupported> {
    let store_json = env.get("store").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut store = MemoryContextStore {
        context: store_json.get("context").and_then(Value::as_object).cloned().unwrap_or_default(),
        version: store_json.get("version").and_then(Value::as_i64),
        fail_sets: env.get("fail_sets").and_then(Value::as_u64).unwrap_or(0) as u32,
        set_calls: Vec::new(),
    };
    let sync = kw_bool(kwargs, "sync", true);
    let returned: Result<Value, Error> = match function {
        "get_integration_context" => {
            if kw_bool(kwargs, "with_version", false) {
                Ok(Value::Object(store_json.clone()))
            } else {
                Ok(Value::Object(store.context.clone()))
            }
        }
        "get_integration_context_with_version" => ctx::get_integration_context_with_version(&mut store, sync)
            .map(|(c, v)| json!([Value::Object(c), v])),
        "set_integration_context" => {
            let context = kw(kwargs, "context").and_then(Value::as_object).cloned().unwrap_or_default();
            let version = kw(kwargs, "version").and_then(Value::as_i64).unwrap_or(-1);
            match ctx::VersionedContextStore::set_versioned(&mut store, context, version, sync) {
                Ok(()) => Ok(Value::Null),
                Err(ctx::SetFailure::Conflict) => Err(Error::Command("version conflict".into())),
                Err(ctx::SetFailure::Other(e)) => Err(e),
            }
        }
        _ => {
            let update = match kw(kwargs, "context") {
                Some(Value::Object(m)) => Ok(m.clone()),
                // The reference reads the store, then fails on `context.items()`.
                other => Err(Error::Command(format!(
                    "'{}' object has no attribute 'items'",
                    py::type_name(other.unwrap_or(&Value::Null))
                ))),
            };
            let keys: Vec<(String, String)> = match kw(kwargs, "object_keys") {
                Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), py::str_of(v))).collect(),
                _ => Vec::new(),
            };
            let max = kw(kwargs, "max_retry_times")
                .and_then(Value::as_u64)
                .map_or(ctx::CONTEXT_UPDATE_RETRY_TIMES, |m| m as u32);
            update.and_then(|update| {
                ctx::set_to_integration_context_with_retries(
                    &mut store,
                    &update,
                    &keys,
                    sync,
                    max,
                    &mut |_| {},
                )
                .map(|()| Value::Null)
            })
        }
    };
    let mut store_after = Map::new();
    store_after.insert("context".into(), Value::Object(store.context.clone()));
    if let Some(v) = store.version {
        store_after.insert("version".into(), Value::from(v));
    }
    let set_calls: Vec<Value> =
        store.set_calls.iter().map(|(v, s)| json!({ "version": v, "sync": s })).collect();
    let mut out = Map::new();
    match returned {
        Ok(v) => {
            out.insert("returned".into(), v);
        }
        Err(e) => {
            out.insert("error".into(), Value::String(e.to_string()));
        }
    }
    out.insert("store_after".into(), Value::Object(store_after));
    out.insert("set_calls".into(), Value::Array(set_calls));
    Ok(Value::Object(out))
}

/// Functions whose expected value is an object of side effects (its top-level key order is
/// the harness's, not the reference's, so only those keys are compared without order).
const ENVELOPE_FUNCTIONS: [&str; 7] = [
    "return_error",
    "return_results",
    "fileResult",
    "set_to_integration_context_with_retries",
    "get_integration_context",
    "get_integration_context_with_version",
    "set_integration_context",
];

fn compare(
    mode: Option<&str>,
    function: &str,
    expected: &Value,
    got: &Value,
    clock: &FixedClock,
) -> Option<String> {
    if mode == Some("relative_to_now") {
        return compare_relative(expected, got, clock.0);
    }
    if let Some(m) = mode.filter(|m| *m != "exact") {
        return Some(format!("unknown compare mode \"{m}\""));
    }
    // arg_to_datetime results carry extra fields for the relative comparison; drop them here.
    let got = match got {
        Value::Object(o) if o.contains_key("__utc_seconds") => {
            json!({ "isoformat": o.get("isoformat").cloned().unwrap_or(Value::Null) })
        }
        other => other.clone(),
    };
    if ENVELOPE_FUNCTIONS.contains(&function)
        && let (Value::Object(e), Value::Object(g)) = (expected, &got)
    {
        for key in e.keys().chain(g.keys()) {
            match (e.get(key), g.get(key)) {
                (Some(ev), Some(gv)) => {
                    if let Some(d) = first_difference(ev, gv, &format!("$.{key}")) {
                        return Some(d);
                    }
                }
                (Some(ev), None) => return Some(format!("at $.{key}: expected {}, got nothing", short(ev))),
                (None, Some(gv)) => return Some(format!("at $.{key}: expected nothing, got {}", short(gv))),
                (None, None) => {}
            }
        }
        return None;
    }
    first_difference(expected, &got, "$")
}

fn compare_relative(expected: &Value, got: &Value, now: DateTime<Utc>) -> Option<String> {
    let want = expected.get("relative_to_now_seconds").and_then(Value::as_i64)?;
    let Some(secs) = got.get("__utc_seconds").and_then(Value::as_i64) else {
        return Some(format!("expected a date {want} s from now, got {}", short(got)));
    };
    let delta = secs - now.timestamp();
    if (delta - want).abs() > RELATIVE_SLACK_SECONDS {
        return Some(format!("expected {want} s from now, got {delta} s"));
    }
    let want_aware = expected.get("aware").and_then(Value::as_bool);
    let aware = got.get("__aware").and_then(Value::as_bool);
    if want_aware.is_some() && want_aware != aware {
        return Some(format!("expected aware={want_aware:?}, got aware={aware:?}"));
    }
    None
}

/// A JSON text cut to a readable length.
fn short(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.chars().count() > 300 { format!("{}...", s.chars().take(300).collect::<String>()) } else { s }
}

/// The first place two JSON values differ (object key order and number types included).
pub fn first_difference(expected: &Value, got: &Value, path: &str) -> Option<String> {
    match (expected, got) {
        (Value::String(e), Value::String(g)) => {
            if e == g {
                return None;
            }
            let pos = e.chars().zip(g.chars()).take_while(|(a, b)| a == b).count();
            let around = |s: &str| -> String {
                let start = pos.saturating_sub(20);
                s.chars().skip(start).take(60).collect()
            };
            Some(format!(
                "at {path}: strings differ at char {pos}: expected {} got {}",
                serde_json::to_string(&around(e)).unwrap_or_default(),
                serde_json::to_string(&around(g)).unwrap_or_default()
            ))
        }
        (Value::Array(e), Value::Array(g)) => {
            for (i, (a, b)) in e.iter().zip(g).enumerate() {
                if let Some(d) = first_difference(a, b, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (e.len() != g.len()).then(|| format!("at {path}: expected {} items, got {}", e.len(), g.len()))
        }
        (Value::Object(e), Value::Object(g)) => {
            let ek: Vec<&String> = e.keys().collect();
            let gk: Vec<&String> = g.keys().collect();
            if ek != gk {
                return Some(format!("at {path}: expected keys {ek:?}, got {gk:?}"));
            }
            e.iter().find_map(|(k, v)| first_difference(v, &g[k], &format!("{path}.{k}")))
        }
        (Value::Number(e), Value::Number(g)) => {
            let same = e.is_f64() == g.is_f64()
                && e.as_f64() == g.as_f64()
                && e.as_i64() == g.as_i64()
                && e.as_u64() == g.as_u64();
            (!same).then(|| format!("at {path}: expected {e}, got {g}"))
        }
        (e, g) if e == g => None,
        (e, g) => Some(format!("at {path}: expected {}, got {}", short(e), short(g))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_reported_with_their_path() {
        let d = first_difference(&json!({"a": [1, "xy"]}), &json!({"a": [1, "xz"]}), "$").unwrap();
        assert!(d.starts_with("at $.a[1]: strings differ at char 1"), "{d}");
        assert!(first_difference(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1}), "$").is_some());
        assert!(first_difference(&json!(1), &json!(1.0), "$").is_some());
    }

    #[test]
    fn unknown_functions_fail_the_case() {
        let case = json!({"id": "x", "function": "nope", "kwargs": {}, "expected": null});
        let r = check_case(&case, 0, &FixedClock(Utc::now()));
        assert!(r.failure.unwrap().contains("no Rust implementation"));
    }
}
