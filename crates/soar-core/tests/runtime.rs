//! In-process tests of the runtime's edges: registry rules, one-shot and serve mode fed with
//! bytes (no process, no stdin), panics, and the integration context on failure.

// Test helpers outside #[test] fns count as non-test code for clippy; this file is all tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};
use soar_core::{
    ArgSpec, AuthFlow, Command, CommandContext, Dispatcher, Entry, Error, Integration, Outcome, ParamSpec,
    ServeConfig,
};

/// A command defined by a closure-free table: name, args, behaviour.
struct Cmd {
    name: &'static str,
    args: Vec<ArgSpec>,
    behaviour: Behaviour,
    calls: AtomicU64,
}

#[derive(Clone, Copy)]
enum Behaviour {
    Echo,
    Panic,
    RefreshThenFail,
    Count,
}

#[async_trait]
impl Command for Cmd {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        "test"
    }
    fn args(&self) -> Vec<ArgSpec> {
        self.args.clone()
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        match self.behaviour {
            Behaviour::Echo => Ok(Entry::markdown(Value::Object(ctx.args.clone()).to_string()).into()),
            Behaviour::Panic => panic!("boom"),
            Behaviour::RefreshThenFail => {
                ctx.integration_context.set("access_token", json!("fresh"));
                Err(Error::Command("Error in API call [500]".into()))
            }
            Behaviour::Count => {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Entry::markdown(n.to_string()).into())
            }
        }
    }
}

struct Test {
    names: Vec<&'static str>,
}

// Integrations may keep reference names without their prefix by declaring them.
const UNPREFIXED: &[&str] = &["legacy-name"];

impl Integration for Test {
    fn prefix(&self) -> &'static str {
        "t"
    }
    fn display_name(&self) -> &'static str {
        "T"
    }
    fn supported_flows(&self) -> &'static [AuthFlow] {
        &[AuthFlow::ClientSecret]
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec { name: "key", secret: true, ..ParamSpec::default() }]
    }
    fn unprefixed_commands(&self) -> &'static [&'static str] {
        UNPREFIXED
    }
    fn commands(&self) -> Vec<Box<dyn Command>> {
        self.names
            .iter()
            .map(|&name| {
                let behaviour = match name {
                    "t-panic" => Behaviour::Panic,
                    "t-refresh" => Behaviour::RefreshThenFail,
                    "t-count" => Behaviour::Count,
                    _ => Behaviour::Echo,
                };
                let args = vec![ArgSpec { name: "n", default: Some("1"), ..ArgSpec::default() }];
                Box::new(Cmd { name, args, behaviour, calls: AtomicU64::new(0) }) as Box<dyn Command>
            })
            .collect()
    }
}

fn good() -> Test {
    Test { names: vec!["test-module", "t-echo", "t-panic", "t-refresh", "t-count"] }
}

#[test]
fn registry_rules() {
    let cases: Vec<(Vec<&'static str>, Option<&str>)> = vec![
        (vec!["test-module", "fetch-incidents", "t-a", "t-b", "legacy-name"], None),
        (vec!["t-a", "legacy-other"], Some("command \"legacy-other\" does not start with the prefix \"t-\"")),
        (vec!["t-a", "t-a"], Some("command \"t-a\" is declared twice")),
        (vec!["ta"], Some("command \"ta\" does not start with the prefix \"t-\"")),
    ];
    for (names, problem) in cases {
        let result = soar_core::check_integration(&Test { names: names.clone() });
        match problem {
            None => assert!(result.is_ok(), "{names:?}: {result:?}"),
            Some(p) => assert!(result.unwrap_err().to_string().contains(p), "{names:?}"),
        }
    }
}

#[tokio::test]
async fn a_broken_registry_answers_every_request_with_its_problem() {
    let d = Dispatcher::new(&Test { names: vec!["t-a", "t-a"] });
    let r = d.handle_bytes(br#"{"command":"t-a"}"#).await;
    let text = r.entries[0].contents.as_str().unwrap();
    assert!(r.entries[0].is_error() && text.contains("declared twice"), "{text}");
}

/// One-shot mode answers these without the async runtime: the refusal must be exactly what
/// running the request answers (id and context version echoed), and a runnable command has none.
#[tokio::test]
async fn a_refusal_is_the_response_handle_gives_and_only_for_commands_that_cannot_run() {
    let cases: [(Test, &str, bool); 4] = [
        (good(), r#"{"id":7,"command":"t-nope","context_version":3}"#, true),
        (good(), r#"{"command":"nope"}"#, true),
        (Test { names: vec!["t-a", "t-a"] }, r#"{"id":"x","command":"t-a","context_version":1}"#, true),
        (good(), r#"{"id":8,"command":"t-echo","context_version":2}"#, false),
    ];
    for (integration, input, refused) in cases {
        let d = Dispatcher::new(&integration);
        let request = d.parse(input.as_bytes()).unwrap();
        let refusal = d.refusal(&request);
        assert_eq!(refusal.is_some(), refused, "{input}");
        if let Some(refusal) = refusal {
            let handled = d.handle(request).await;
            assert_eq!(
                serde_json::to_value(&refusal).unwrap(),
                serde_json::to_value(&handled).unwrap(),
                "{input}"
            );
            assert!(refusal.entries.len() == 1 && refusal.entries[0].is_error(), "{input}");
        }
    }
}

#[tokio::test]
async fn a_panic_becomes_an_error_entry_and_the_dispatcher_keeps_working() {
    let d = Dispatcher::new(&good());
    let r = d.handle_bytes(br#"{"command":"t-panic","id":1}"#).await;
    assert_eq!(r.id, Some(json!(1)));
    assert_eq!(r.entries.len(), 1);
    assert_eq!(
        r.entries[0].contents,
        json!(
            "The command t-panic failed unexpectedly: boom. This is a bug in the integration; please report it with the command and its arguments."
        )
    );
    let r = d.handle_bytes(br#"{"command":"t-echo"}"#).await;
    assert_eq!(r.entries[0].contents, json!(r#"{"n":"1"}"#));
}

#[tokio::test]
async fn the_context_a_failing_command_changed_is_still_returned() {
    let d = Dispatcher::new(&good());
    let r =
        d.handle_bytes(br#"{"command":"t-refresh","integration_context":{"a":1},"context_version":4}"#).await;
    assert!(r.entries[0].is_error());
    assert_eq!(
        r.integration_context,
        Some(serde_json::from_value(json!({"a": 1, "access_token": "fresh"})).unwrap())
    );
    assert_eq!(r.context_version, Some(4));
}

/// The one check of serve mode in-process: these input lines give these output lines (as
/// JSON values, compared whole, in output order).
async fn check_serve(input: &str, want: Vec<Value>) {
    let d = Arc::new(Dispatcher::new(&good()));
    let mut out = Vec::new();
    soar_core::serve(d, input.as_bytes(), &mut out, ServeConfig::default()).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let got: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got, want, "output:\n{text}");
}

fn note(text: &str) -> Value {
    json!({"Type": 1, "ContentsFormat": "markdown", "Contents": text, "HumanReadable": null, "EntryContext": {}})
}

#[tokio::test]
async fn serve_answers_in_order_skips_blank_lines_and_keeps_state() {
    check_serve(
        "{\"command\":\"t-count\"}\n\n  \r\n{\"command\":\"t-count\"}\r\n{\"command\":\"t-echo\",\"args\":{\"n\":\"7\"}}",
        vec![
            json!({"entries": [note("1")]}),
            json!({"entries": [note("2")]}),
            json!({"entries": [note(r#"{"n":"7"}"#)]}),
        ],
    )
    .await;
}

#[tokio::test]
async fn serve_answers_bad_lines_in_place() {
    check_serve(
        "{\"command\":\"t-count\"}\n{oops\n{\"command\":\"t-count\"}\n",
        vec![
            json!({"entries": [note("1")]}),
            json!({"entries": [{"Type": 4, "ContentsFormat": "text", "Contents": "The request is not valid JSON (key must be a string at line 1 column 2). Send one JSON object such as {\"command\": \"test-module\", \"args\": {}}.", "HumanReadable": null, "EntryContext": {}}]}),
            json!({"entries": [note("2")]}),
        ],
    )
    .await;
}

#[tokio::test]
async fn serve_with_empty_input_writes_nothing() {
    check_serve("", vec![]).await;
}

#[tokio::test]
async fn one_shot_writes_exactly_one_line() {
    let d = Dispatcher::new(&good());
    let cases: [(&[u8], &str); 3] = [
        (b"{\"command\":\"test-module\"}\n", r#"{"n":"1"}"#),
        (b"  {\"command\":\"t-echo\",\"args\":{\"n\":\"a\\nb\"}}  ", r#"{"n":"a\nb"}"#),
        (b"{\"command\":\"t-echo\"} trailing", "trailing characters at line 1 column 22"),
    ];
    for (input, want) in cases {
        let mut out = Vec::new();
        soar_core::one_shot(&d, input, &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        // One compact JSON line: the newline inside the value is escaped.
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        assert!(text.ends_with('\n'));
        let r: Value = serde_json::from_str(&text).unwrap();
        assert!(r["entries"][0]["Contents"].as_str().unwrap().contains(want), "{text}");
    }
}

#[tokio::test]
async fn secret_params_are_masked_in_error_entries() {
    let d = Dispatcher::new(&good());
    let r = d.handle_bytes(br#"{"command":"t-nope","params":{"key":"sekrit-1"}}"#).await;
    assert!(r.entries[0].is_error());
    // Unknown command errors come before params are read; now one that quotes the key.
    let r =
        d.handle_bytes(br#"{"command":"t-echo","args":{"sekrit-1":"x"},"params":{"key":"sekrit-1"}}"#).await;
    assert_eq!(
        r.entries[0].contents,
        json!("Unknown argument for t-echo: <XX_REPLACED>. Accepted arguments: n.")
    );
}

#[tokio::test]
async fn undeclared_params_with_a_secret_name_are_masked_by_the_reference_rule() {
    let d = Dispatcher::new(&good());
    // `api_token` is not declared secret; its name alone makes it one, as in the reference.
    let r = d
        .handle_bytes(br#"{"command":"t-echo","args":{"canary-77":"x"},"params":{"api_token":"canary-77","region":"x"}}"#)
        .await;
    assert_eq!(
        r.entries[0].contents,
        json!("Unknown argument for t-echo: <XX_REPLACED>. Accepted arguments: n.")
    );
    // A param without a secret name is not masked.
    let r = d
        .handle_bytes(br#"{"command":"t-echo","args":{"plain-77":"x"},"params":{"region":"plain-77"}}"#)
        .await;
    assert_eq!(r.entries[0].contents, json!("Unknown argument for t-echo: plain-77. Accepted arguments: n."));
}

/// An integration with the YAML-level texts, checkbox and help params, and the engine's
/// mapping and mirroring commands.
struct Described;

impl Integration for Described {
    fn prefix(&self) -> &'static str {
        "t"
    }
    fn display_name(&self) -> &'static str {
        "T"
    }
    fn description(&self) -> &'static str {
        "Manages t."
    }
    fn category(&self) -> &'static str {
        "IT Services"
    }
    fn detailed_description(&self) -> String {
        "### Sign in\nFill **Key**.".to_owned()
    }
    fn supported_flows(&self) -> &'static [AuthFlow] {
        &[AuthFlow::ClientSecret]
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec { name: "insecure", checkbox: true, ..ParamSpec::default() },
            ParamSpec { name: "key", secret: true, help: "The API key.", ..ParamSpec::default() },
            ParamSpec { name: "mode", options: &["a", "b"], ..ParamSpec::default() },
        ]
    }
    fn commands(&self) -> Vec<Box<dyn Command>> {
        ["get-mapping-fields", "get-remote-data", "update-remote-system"]
            .into_iter()
            .map(|name| {
                Box::new(Cmd { name, args: vec![], behaviour: Behaviour::Echo, calls: AtomicU64::new(0) })
                    as Box<dyn Command>
            })
            .collect()
    }
}

#[test]
fn the_manifest_carries_the_yaml_texts_types_and_flags() {
    let m = Dispatcher::new(&Described).manifest();
    assert_eq!(
        (m.description.as_str(), m.category.as_str(), m.detaileddescription.as_str()),
        ("Manages t.", "IT Services", "### Sign in\nFill **Key**.")
    );
    let types: Vec<_> = m.configuration.iter().map(|p| (p.name.as_str(), p.param_type)).collect();
    assert_eq!(types, [("insecure", 8), ("key", 4), ("mode", 15)]);
    assert_eq!(m.configuration[1].additionalinfo.as_deref(), Some("The API key."));
    assert_eq!(m.configuration[0].additionalinfo, None);
    assert!(!m.script.isfetch);
    assert!(m.script.ismappable && m.script.isremotesyncin && m.script.isremotesyncout);
    // An integration that declares none of it keeps the defaults.
    let plain = Dispatcher::new(&good()).manifest();
    assert_eq!((plain.description.as_str(), plain.category.as_str()), ("", ""));
    assert!(!plain.script.ismappable && !plain.script.isremotesyncin && !plain.script.isremotesyncout);
}

/// A budget smaller than every request does not stall serve mode: each request runs alone, once
/// nothing else is in flight, and every one is answered (ordered ones in order, ids by id).
#[tokio::test]
async fn serve_runs_requests_heavier_than_the_budget_one_at_a_time() {
    let d = Arc::new(Dispatcher::new(&good()));
    let mut input = String::new();
    for i in 0..20 {
        input.push_str(&format!("{{\"command\":\"t-echo\",\"id\":{i},\"args\":{{\"n\":\"{i}\"}}}}\n"));
        input.push_str("{\"command\":\"t-count\"}\n");
    }
    let config = ServeConfig { memory_budget: 1, ..ServeConfig::default() };
    let mut out = Vec::new();
    soar_core::serve(d, input.as_bytes(), &mut out, config).await.unwrap();
    let responses: Vec<Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(responses.len(), 40);
    let counts: Vec<&str> = responses
        .iter()
        .filter(|r| r.get("id").is_none())
        .map(|r| r["entries"][0]["Contents"].as_str().unwrap())
        .collect();
    assert_eq!(
        counts,
        (1..=20).map(|i| i.to_string()).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>()
    );
    for i in 0..20 {
        let r = responses.iter().find(|r| r["id"] == i).unwrap();
        assert_eq!(r["entries"][0]["Contents"], json!(format!("{{\"n\":\"{i}\"}}")));
    }
}

/// The diagnosis of a bad request no longer builds its tree, and says what it said before.
#[tokio::test]
async fn bad_requests_are_diagnosed_with_their_id() {
    let d = Dispatcher::new(&good());
    let cases: [(&[u8], Option<Value>, &str); 7] = [
        (b"   ", None, "The request is empty."),
        (
            b"{\"command\":",
            None,
            "The request is not valid JSON (EOF while parsing a value at line 1 column 11).",
        ),
        (b"[1]", None, "The request must be a JSON object with a \"command\" field, not an array."),
        (b"\"x\"", None, "The request must be a JSON object with a \"command\" field, not a string."),
        (
            b"{\"id\":\"a\",\"id\":\"b\",\"args\":{}}",
            Some(json!("b")),
            "The request has no \"command\" field.",
        ),
        (
            b"{\"id\":null,\"command\":5}",
            None,
            "The request field `command` has the wrong type: invalid type: integer `5`",
        ),
        (
            b"{\"id\":[1],\"command\":\"t-echo\",\"args\":[]}",
            Some(json!([1])),
            "The request field `args` has the wrong type",
        ),
    ];
    for (input, id, want) in cases {
        let r = d.handle_bytes(input).await;
        assert_eq!(r.id, id, "{want}");
        let text = r.entries[0].contents.as_str().unwrap();
        assert!(text.starts_with(want), "{text}");
    }
}

/// A request whose parsed form would be over 32 times its size (and over 1 MiB) is refused
/// before parsing, with its id.
#[tokio::test]
async fn a_too_dense_request_is_refused_with_its_id() {
    let d = Dispatcher::new(&good());
    let input = format!(
        "{{\"id\":\"dense\",\"command\":\"t-echo\",\"args\":{{\"n\":[{}0]}}}}",
        "[0],".repeat(300_000)
    );
    let r = d.handle_bytes(input.as_bytes()).await;
    assert_eq!(r.id, Some(json!("dense")));
    let text = r.entries[0].contents.as_str().unwrap();
    assert!(
        text.starts_with("The request is too dense to parse: its 1200050 bytes would take about"),
        "{text}"
    );
}
