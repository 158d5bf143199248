//! The XSOAR integration YAML and README written from an integration's manifest (`cargo xtask
//! codegen` checks both in as `integrations/<prefix>/<Name>.yml` and `README.md`).
//!
//! Decisions:
//! - The YAML is built as an ordered JSON value in a content pack's key order and written with
//!   `serde_norway`; keys whose value is the XSOAR default (`required: false` on arguments,
//!   `isArray: false`, `secret: false`, no default) are left out, as content packs do.
//! - The manifest's `hidden` means "shown only under advanced settings" (see
//!   `soar_core::ParamSpec`), so it is written as the YAML's `advanced: true`; the YAML's own
//!   `hidden` (not shown at all) is never written.
//! - Commands the platform runs on its own (the Test button's `test-module`, and the fetch and
//!   long-running commands that `isfetch`/`longRunning` switch on, [`IMPLICIT_COMMANDS`]) are
//!   not listed under `commands`, as in content packs; the mirroring and mapping commands are.
//! - `script` says `type: python`, `subtype: python3` and `script: '-'` because that is what the
//!   schema accepts; the code that runs is the Rust binary in `dockerimage`
//!   (`soar-rt/<prefix>:<version>`).
//! - The README follows demisto-sdk's generate-docs layout; each command's example is the first
//!   conformance case (`test-data/<prefix>/cases/*.json`, in name order) that runs the command and
//!   expects no error entry and some readable output (its `expected`, else one of its per-flow
//!   `expected_for`), so the example is one the suite checks.
//! - [`manifest_from_yaml`] reads a YAML back into the shared fields of a manifest; the
//!   round-trip test compares it with the integration's `--manifest`.

use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value, json};
use soar_protocol::{
    CommonFields, Manifest, ManifestArgument, ManifestCommand, ManifestOutput, ManifestParam, ManifestScript,
};

/// Engine commands a content pack's YAML does not list (the platform calls them by itself).
pub const IMPLICIT_COMMANDS: &[&str] =
    &["test-module", "fetch-incidents", "fetch-indicators", "fetch-credentials", "long-running-execution"];

fn listed(c: &&ManifestCommand) -> bool {
    !IMPLICIT_COMMANDS.contains(&c.name.as_str())
}

/// The file name of an integration's YAML: its name without spaces or punctuation.
pub fn yaml_file_name(m: &Manifest) -> String {
    let stem: String = m.name.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{stem}.yml")
}

/// The docker image named in the YAML.
pub fn docker_image(m: &Manifest) -> String {
    format!("soar-rt/{}:{}", m.prefix, env!("CARGO_PKG_VERSION"))
}

fn insert_if(map: &mut Map<String, Value>, key: &str, cond: bool, value: Value) {
    if cond {
        map.insert(key.to_owned(), value);
    }
}

fn param(p: &ManifestParam) -> Value {
    let mut m = Map::new();
    m.insert("display".into(), json!(p.display));
    m.insert("name".into(), json!(p.name));
    m.insert("type".into(), json!(p.param_type));
    m.insert("required".into(), json!(p.required));
    if let Some(d) = &p.defaultvalue {
        m.insert("defaultvalue".into(), json!(d));
    }
    insert_if(&mut m, "options", !p.options.is_empty(), json!(p.options));
    if let Some(info) = &p.additionalinfo {
        m.insert("additionalinfo".into(), json!(info));
    }
    insert_if(&mut m, "advanced", p.hidden, json!(true));
    Value::Object(m)
}

fn argument(a: &ManifestArgument) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(a.name));
    m.insert("description".into(), json!(a.description));
    insert_if(&mut m, "required", a.required, json!(true));
    if let Some(d) = &a.default_value {
        m.insert("defaultValue".into(), json!(d));
    }
    if let Some(auto) = &a.auto {
        m.insert("auto".into(), json!(auto));
    }
    insert_if(&mut m, "predefined", !a.predefined.is_empty(), json!(a.predefined));
    insert_if(&mut m, "isArray", a.is_array, json!(true));
    insert_if(&mut m, "secret", a.secret, json!(true));
    Value::Object(m)
}

fn command(c: &ManifestCommand) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name));
    m.insert("description".into(), json!(c.description));
    m.insert("arguments".into(), Value::Array(c.arguments.iter().map(argument).collect()));
    let outputs: Vec<Value> = c
        .outputs
        .iter()
        .map(|o| json!({"contextPath": o.context_path, "description": o.description, "type": o.output_type}))
        .collect();
    m.insert("outputs".into(), Value::Array(outputs));
    insert_if(&mut m, "polling", c.polling, json!(true));
    Value::Object(m)
}

/// The integration YAML as an ordered value.
pub fn yaml_value(m: &Manifest) -> Value {
    json!({
        "commonfields": {"id": m.commonfields.id, "version": m.commonfields.version},
        "name": m.name,
        "display": m.display,
        "category": m.category,
        "description": m.description,
        "detaileddescription": m.detaileddescription,
        "configuration": m.configuration.iter().map(param).collect::<Vec<_>>(),
        "script": {
            "script": "-",
            "type": "python",
            "subtype": "python3",
            "dockerimage": docker_image(m),
            "isfetch": m.script.isfetch,
            "ismappable": m.script.ismappable,
            "isremotesyncin": m.script.isremotesyncin,
            "isremotesyncout": m.script.isremotesyncout,
            "commands": m.script.commands.iter().filter(listed).map(command).collect::<Vec<_>>(),
        },
        "fromversion": "6.0.0",
        "tests": ["No tests"],
    })
}

/// The integration YAML's text.
pub fn yaml_text(m: &Manifest) -> anyhow::Result<String> {
    let body = serde_norway::to_string(&yaml_value(m)).context("writing the YAML")?;
    Ok(format!("# Generated by `cargo xtask codegen` from `{} --manifest`; do not edit.\n{body}", m.prefix))
}

fn str_at(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn bool_at(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn strings_at(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn list_at<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Reads a YAML back into a manifest: every field the two share (the keys only the manifest
/// has, `protocol_version`, `prefix`, `auth_flows` and `examples`, are left empty).
pub fn manifest_from_yaml(text: &str) -> anyhow::Result<Manifest> {
    let y: Value = serde_norway::from_str(text).context("reading the YAML")?;
    let common = &y["commonfields"];
    let script = &y["script"];
    Ok(Manifest {
        protocol_version: String::new(),
        commonfields: CommonFields {
            id: str_at(common, "id"),
            version: common.get("version").and_then(Value::as_i64).unwrap_or_default(),
        },
        name: str_at(&y, "name"),
        display: str_at(&y, "display"),
        category: str_at(&y, "category"),
        description: str_at(&y, "description"),
        detaileddescription: str_at(&y, "detaileddescription"),
        prefix: String::new(),
        auth_flows: Vec::new(),
        configuration: list_at(&y, "configuration")
            .map(|p| ManifestParam {
                name: str_at(p, "name"),
                display: str_at(p, "display"),
                param_type: p.get("type").and_then(Value::as_i64).unwrap_or(-1),
                required: bool_at(p, "required"),
                defaultvalue: p.get("defaultvalue").and_then(Value::as_str).map(str::to_owned),
                options: strings_at(p, "options"),
                hidden: bool_at(p, "advanced"),
                additionalinfo: p.get("additionalinfo").and_then(Value::as_str).map(str::to_owned),
            })
            .collect(),
        script: ManifestScript {
            script_type: String::new(),
            isfetch: bool_at(script, "isfetch"),
            ismappable: bool_at(script, "ismappable"),
            isremotesyncin: bool_at(script, "isremotesyncin"),
            isremotesyncout: bool_at(script, "isremotesyncout"),
            commands: list_at(script, "commands")
                .map(|c| ManifestCommand {
                    name: str_at(c, "name"),
                    description: str_at(c, "description"),
                    arguments: list_at(c, "arguments")
                        .map(|a| ManifestArgument {
                            name: str_at(a, "name"),
                            description: str_at(a, "description"),
                            required: bool_at(a, "required"),
                            default_value: a.get("defaultValue").and_then(Value::as_str).map(str::to_owned),
                            auto: a.get("auto").and_then(Value::as_str).map(str::to_owned),
                            predefined: strings_at(a, "predefined"),
                            is_array: bool_at(a, "isArray"),
                            secret: bool_at(a, "secret"),
                        })
                        .collect(),
                    outputs: list_at(c, "outputs")
                        .map(|o| ManifestOutput {
                            context_path: str_at(o, "contextPath"),
                            output_type: str_at(o, "type"),
                            description: str_at(o, "description"),
                        })
                        .collect(),
                    examples: Vec::new(),
                    polling: bool_at(c, "polling"),
                })
                .collect(),
        },
    })
}

/// The manifest with the keys a YAML does not carry emptied, for comparing with
/// [`manifest_from_yaml`].
pub fn shared_fields(m: &Manifest) -> Manifest {
    let mut m = m.clone();
    m.protocol_version.clear();
    m.prefix.clear();
    m.auth_flows.clear();
    m.script.script_type.clear();
    m.script.commands.retain(|c| listed(&c));
    for c in &mut m.script.commands {
        c.examples.clear();
    }
    m
}

/// One command's example for the README: the command line and the readable output.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The command name.
    pub command: String,
    /// `!name arg=value ...`.
    pub line: String,
    /// The first entry's readable output (markdown).
    pub readable: String,
}

/// A War Room value as typed after `name=`: bare when it has no space or quote, else quoted.
fn arg_text(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.is_empty() || s.contains([' ', '"', '\n']) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s
    }
}

/// The readable output of an expectation without error entries: the first entry's
/// `HumanReadable`, or its `Contents` when that is the text (a file entry has neither).
fn readable_output(expected: &Value) -> Option<String> {
    let entries = expected["entries"].as_array()?;
    if entries.iter().any(|e| e["Type"].as_i64() == Some(4)) {
        return None;
    }
    entries.iter().find_map(|e| match (&e["HumanReadable"], &e["Contents"]) {
        (Value::String(h), _) if !h.trim().is_empty() => Some(h.clone()),
        (Value::Null, Value::String(c)) if !c.trim().is_empty() => Some(c.clone()),
        _ => None,
    })
}

/// The examples of the conformance cases under `cases_dir`, the first per command. The value
/// of an argument `m` declares secret is shown as `<name>`.
pub fn examples(cases_dir: &Path, m: &Manifest) -> anyhow::Result<Vec<Example>> {
    let secret = |command: &str, arg: &str| {
        m.script
            .commands
            .iter()
            .any(|c| c.name == command && c.arguments.iter().any(|a| a.name == arg && a.secret))
    };
    let mut files: Vec<_> = match std::fs::read_dir(cases_dir) {
        Ok(dir) => dir.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => return Ok(Vec::new()),
    };
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    let mut out: Vec<Example> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let case: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        let command = str_at(&case["request"], "command");
        if command.is_empty() || out.iter().any(|e| e.command == command) {
            continue;
        }
        // The flow-independent expectation first, then the per-flow ones in file order.
        let expectations = case
            .get("expected")
            .into_iter()
            .chain(case.get("expected_for").and_then(Value::as_object).into_iter().flat_map(|m| m.values()));
        let Some(readable) = expectations.filter_map(readable_output).next() else {
            continue;
        };
        let mut line = format!("!{command}");
        for (k, v) in case["request"].get("args").and_then(Value::as_object).into_iter().flatten() {
            let shown = if secret(&command, k) { format!("<{k}>") } else { arg_text(v) };
            line.push_str(&format!(" {k}={shown}"));
        }
        out.push(Example { command, line, readable });
    }
    Ok(out)
}

/// Text for a Markdown table cell: pipes escaped, line breaks as `<br/>`.
fn cell(s: &str) -> String {
    s.trim().replace('|', "\\|").replace("\r\n", "<br/>").replace('\n', "<br/>")
}

fn argument_description(a: &ManifestArgument) -> String {
    let mut d = a.description.trim().to_owned();
    if !a.predefined.is_empty() {
        d.push_str(&format!(" Possible values are: {}.", a.predefined.join(", ")));
    }
    if let Some(v) = &a.default_value {
        d.push_str(&format!(" Default is {v}."));
    }
    d.trim().to_owned()
}

/// The README in the layout of demisto-sdk's generate-docs.
pub fn readme(m: &Manifest, examples: &[Example]) -> String {
    let mut out = format!(
        "<!-- Generated by `cargo xtask codegen` from `{} --manifest` and test-data/{}/cases; do not edit. -->\n\n",
        m.prefix, m.prefix
    );
    out.push_str(m.description.trim());
    out.push_str(&format!(
        "\n\nThis integration runs as the soar-rt binary `{}` (image `{}`).\n\n## Configure {} in Cortex\n\n",
        m.prefix,
        docker_image(m),
        m.display
    ));
    out.push_str("| **Parameter** | **Description** | **Required** |\n| --- | --- | --- |\n");
    for p in &m.configuration {
        let required = if p.required { "True" } else { "False" };
        out.push_str(&format!(
            "| {} | {} | {required} |\n",
            cell(&p.display),
            cell(p.additionalinfo.as_deref().unwrap_or_default())
        ));
    }
    if !m.detaileddescription.trim().is_empty() {
        out.push('\n');
        out.push_str(m.detaileddescription.trim());
        out.push('\n');
    }
    out.push_str(
        "\n## Commands\n\nRun these commands from the War Room (CLI), in an automation, or in a playbook. \
         Each run adds an entry with its result to the War Room.\n",
    );
    for c in m.script.commands.iter().filter(listed) {
        out.push_str(&format!(
            "\n### {}\n\n***\n{}\n\n#### Base Command\n\n`{}`\n\n#### Input\n\n",
            c.name,
            c.description.trim(),
            c.name
        ));
        if c.arguments.is_empty() {
            out.push_str("This command takes no arguments.\n");
        } else {
            out.push_str("| **Argument Name** | **Description** | **Required** |\n| --- | --- | --- |\n");
            for a in &c.arguments {
                let required = if a.required { "Required" } else { "Optional" };
                out.push_str(&format!(
                    "| {} | {} | {required} |\n",
                    cell(&a.name),
                    cell(&argument_description(a))
                ));
            }
        }
        out.push_str("\n#### Context Output\n\n");
        if c.outputs.is_empty() {
            out.push_str("This command writes nothing to the context.\n");
        } else {
            out.push_str("| **Path** | **Type** | **Description** |\n| --- | --- | --- |\n");
            for o in &c.outputs {
                out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    cell(&o.context_path),
                    cell(&o.output_type),
                    cell(&o.description)
                ));
            }
        }
        if let Some(e) = examples.iter().find(|e| e.command == c.name) {
            out.push_str(&format!(
                "\n#### Command example\n\n```{}```\n\n#### Human Readable Output\n\n",
                e.line
            ));
            for line in e.readable.trim_end().lines() {
                if line.is_empty() {
                    out.push_str(">\n");
                } else {
                    out.push_str(&format!(">{line}\n"));
                }
            }
        } else if let Some(line) = c.examples.first() {
            out.push_str(&format!("\n#### Command example\n\n```{line}```\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            protocol_version: "2".into(),
            commonfields: CommonFields { id: "Sample Tool".into(), version: -1 },
            name: "Sample Tool".into(),
            display: "Sample Tool".into(),
            category: "IT Services".into(),
            description: "Samples.".into(),
            detaileddescription: "### Sign in\n1. Fill **Key**.\n".into(),
            prefix: "sample".into(),
            auth_flows: vec![],
            configuration: vec![
                ManifestParam {
                    name: "insecure".into(),
                    display: "Trust any certificate".into(),
                    param_type: 8,
                    required: false,
                    defaultvalue: Some("false".into()),
                    options: vec![],
                    hidden: true,
                    additionalinfo: Some("Not | secure.".into()),
                },
                ManifestParam {
                    name: "mode".into(),
                    display: "Mode".into(),
                    param_type: 15,
                    required: true,
                    defaultvalue: None,
                    options: vec!["a".into(), "b".into()],
                    hidden: false,
                    additionalinfo: None,
                },
            ],
            script: ManifestScript {
                script_type: "binary".into(),
                isfetch: false,
                ismappable: false,
                isremotesyncin: false,
                isremotesyncout: false,
                commands: vec![ManifestCommand {
                    name: "sample-get".into(),
                    description: "Gets one.".into(),
                    arguments: vec![ManifestArgument {
                        name: "kind".into(),
                        description: "Which.".into(),
                        required: false,
                        default_value: Some("true".into()),
                        auto: Some("PREDEFINED".into()),
                        predefined: vec!["true".into(), "false".into()],
                        is_array: true,
                        secret: false,
                    }],
                    outputs: vec![ManifestOutput {
                        context_path: "Sample.ID".into(),
                        output_type: "String".into(),
                        description: "The id.".into(),
                    }],
                    examples: vec!["!sample-get".into()],
                    polling: false,
                }],
            },
        }
    }

    #[test]
    fn yaml_reads_back_to_the_same_shared_fields() {
        let m = sample();
        let text = yaml_text(&m).unwrap();
        // Strings that look like booleans stay strings.
        assert!(text.contains("defaultValue: 'true'") || text.contains("defaultValue: \"true\""), "{text}");
        assert!(text.contains("advanced: true") && !text.contains("hidden:"), "{text}");
        assert_eq!(manifest_from_yaml(&text).unwrap(), shared_fields(&m));
    }

    #[test]
    fn a_polling_command_is_marked_in_the_yaml_and_reads_back() {
        let mut m = sample();
        m.script.commands[0].polling = true;
        let text = yaml_text(&m).unwrap();
        assert!(text.contains("polling: true"), "{text}");
        assert_eq!(manifest_from_yaml(&text).unwrap(), shared_fields(&m));
        assert!(!yaml_text(&sample()).unwrap().contains("polling"), "only polling commands say it");
    }

    #[test]
    fn readme_has_the_generate_docs_sections() {
        let examples = [Example {
            command: "sample-get".into(),
            line: "!sample-get kind=true".into(),
            readable: "### One\n\n|ID|\n|---|\n| 1 |\n".into(),
        }];
        let text = readme(&sample(), &examples);
        for needed in [
            "## Configure Sample Tool in Cortex",
            "| Trust any certificate | Not \\| secure. | False |",
            "| Mode |  | True |",
            "### Sign in\n1. Fill **Key**.",
            "### sample-get\n\n***\nGets one.\n\n#### Base Command\n\n`sample-get`",
            "| kind | Which. Possible values are: true, false. Default is true. | Optional |",
            "| Sample.ID | String | The id. |",
            "#### Command example\n\n```!sample-get kind=true```\n\n#### Human Readable Output\n\n>### One\n>\n>|ID|\n",
        ] {
            assert!(text.contains(needed), "missing {needed:?} in:\n{text}");
        }
    }

    #[test]
    fn examples_come_from_the_first_non_error_case_of_each_command() {
        let dir = tempfile_dir();
        let case = |command: &str, args: Value, entry: Value| json!({"description": "d", "request": {"command": command, "args": args}, "expected": {"entries": [entry]}});
        let files = [
            (
                "001-error.json",
                case("s-get", json!({}), json!({"Type": 4, "Contents": "bad", "HumanReadable": null})),
            ),
            (
                "002-ok.json",
                case(
                    "s-get",
                    json!({"user": "a b", "n": 5, "q": "x \"y\""}),
                    json!({"Type": 1, "HumanReadable": "### A"}),
                ),
            ),
            ("003-later.json", case("s-get", json!({}), json!({"Type": 1, "HumanReadable": "### B"}))),
            (
                "004-text.json",
                case("s-reset", json!({}), json!({"Type": 1, "Contents": "Done.", "HumanReadable": null})),
            ),
            (
                "005-per-flow.json",
                json!({
                    "request": {"command": "s-login"},
                    "expected": {"entries": [{"Type": 4, "Contents": "no"}]},
                    "expected_for": {"authorization-code": {"entries": [
                        {"Type": 3, "File": "a.zip"},
                        {"Type": 1, "HumanReadable": "### Login"}
                    ]}}
                }),
            ),
        ];
        for (name, v) in files {
            std::fs::write(dir.join(name), v.to_string()).unwrap();
        }
        let mut m = sample();
        m.script.commands[0].name = "s-get".into();
        m.script.commands[0].arguments[0].name = "user".into();
        m.script.commands[0].arguments[0].secret = true;
        let got = examples(&dir, &m).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            got,
            [
                Example {
                    command: "s-get".into(),
                    line: r#"!s-get user=<user> n=5 q="x \"y\"""#.into(),
                    readable: "### A".into()
                },
                Example { command: "s-reset".into(), line: "!s-reset".into(), readable: "Done.".into() },
                Example { command: "s-login".into(), line: "!s-login".into(), readable: "### Login".into() },
            ]
        );
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "xtask-xsoar-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
