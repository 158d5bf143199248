//! Bad input to every command, driven by the integration's own command table (what
//! `microsoft-atp --manifest` prints): for each command, every required argument left out, and
//! every argument given a value no typed decoder accepts (not a number, boolean, date, JSON,
//! choice or time range) and a negative number. The answer must be one response with an error
//! entry (or a normal answer when the argument is free text), never a panic; an argument with
//! fixed options, or a number, date or time range by its name (the manifest has no types), must
//! be refused naming it before any API call; and whenever the command refuses a value before
//! calling the API, with a text other than the one the same command gives without it, the text
//! must name the argument.
//!
//! The API, Graph and downloads are a counting fake (every call answers `{"value": []}`), so
//! "before calling the API" is measured, not guessed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use microsoft_atp::client::{Atp, Downloads};
use serde_json::{Map, Value, json};
use soar_integration_kit::api::{Api, Reply, Request};
use soar_integration_kit::{Error, Integration, IntegrationContext, async_trait};

/// Answers every call with `{"value": []}` and counts them.
struct Counting(Arc<AtomicUsize>);

#[async_trait]
impl Api for Counting {
    async fn send(&self, _: &mut IntegrationContext, _: Request) -> Result<Reply, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Reply::new(200, json!({"value": []})))
    }

    fn base_url(&self) -> Result<String, Error> {
        Ok("https://api.securitycenter.microsoft.com".into())
    }

    async fn check_token(&self, _: &mut IntegrationContext) -> Result<(), Error> {
        Ok(())
    }
}

#[async_trait]
impl Downloads for Counting {
    async fn get(&self, _: &str) -> Result<Vec<u8>, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(b"{}".to_vec())
    }
}

/// A value that no typed decoder accepts.
const BAD: &str = "§not-a-valid-value§";

/// What one run answered: the calls made to the fakes, and the error text if the first entry
/// is an error.
struct Answer {
    calls: usize,
    error: Option<String>,
}

/// `name` as a word of `text` (not inside another identifier).
fn names(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

async fn run(command: &str, args: &Map<String, Value>) -> Answer {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let integration = microsoft_atp::integration_with(move |ms, ctx| {
        let mut atp = Atp::from_client(ms, ctx)?;
        atp.api = Box::new(Counting(counter.clone()));
        atp.graph = Box::new(Counting(counter.clone()));
        atp.downloads = Box::new(Counting(counter.clone()));
        Ok(atp)
    });
    let request = json!({
        "command": command,
        "args": args,
        "params": {
            "auth_type": "Client Credentials",
            "_auth_id": "22222222-2222-4222-8222-000000000001",
            "_tenant_id": "11111111-1111-4111-8111-111111111111",
            "credentials": {"identifier": "", "password": "bad-input-test-secret"},
        },
    });
    let response = soar_core::handle_bytes(&integration, request.to_string().as_bytes()).await;
    let response = serde_json::to_value(&response).unwrap();
    // fetch-incidents answers incidents and no entry.
    let entries = response["entries"].as_array().cloned().unwrap_or_default();
    let error = entries
        .first()
        .filter(|e| e["Type"] == 4)
        .map(|e| e["Contents"].as_str().unwrap_or_default().to_owned());
    if let Some(e) = &error {
        assert!(!e.contains("failed unexpectedly"), "{command} {args:?} panicked: {e}");
    }
    Answer { calls: calls.load(Ordering::SeqCst), error }
}

/// Arguments the manifest shows as free text (it has no types but `options`) that are numbers,
/// dates or time ranges by name: a text no decoder reads must be refused before the API.
fn typed_by_name(name: &str) -> bool {
    const NUMBERS: &[&str] = &[
        "limit",
        "offset",
        "page",
        "page_num",
        "page_size",
        "timeout",
        "interval_in_seconds",
        "timeout_in_seconds",
        "command_index",
        "remote_ip_count",
        "confidence",
    ];
    NUMBERS.contains(&name)
        || name.ends_with("_time")
        || name.ends_with("timestamp")
        || name.ends_with("_date_time")
        || name.ends_with("_on")
        || name == "time_range"
}

/// The value a required argument gets while another one is tested.
fn good(name: &str, options: &[&str], default: Option<&str>) -> String {
    if let Some(o) = options.first() {
        return (*o).to_owned();
    }
    if let Some(d) = default {
        return d.to_owned();
    }
    match name {
        "query" => "DeviceInfo | limit 1".to_owned(),
        "indicator_batch" => "[]".to_owned(),
        "event_time" => "2024-01-01T00:00:00Z".to_owned(),
        "expiration_time" => "1 day".to_owned(),
        _ => "1".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_refuses_bad_input_naming_the_argument() {
    let integration = microsoft_atp::integration();
    let mut problems = Vec::new();
    let mut checked = 0;
    // Runs refused before any API call, naming the argument.
    let mut refused = 0;
    for cmd in integration.commands() {
        let name = cmd.name().to_owned();
        let specs = cmd.args();
        let mut base = Map::new();
        for a in specs.iter().filter(|a| a.required) {
            base.insert(a.name.into(), json!(good(a.name, a.options, a.default)));
        }
        // Optional arguments some commands need one of (a query, a device to hunt on).
        for (arg, value) in [("query", "DeviceInfo | limit 1"), ("device_name", "desktop-1")] {
            if specs.iter().any(|a| a.name == arg) {
                base.insert(arg.into(), json!(value));
            }
        }
        let baseline = run(&name, &base).await;
        // Whether the command runs as far as the API without the tested value.
        let runs = baseline.error.is_none() || baseline.calls > 0;
        // Every required argument left out.
        for a in specs.iter().filter(|a| a.required) {
            let mut args = base.clone();
            args.remove(a.name);
            let got = run(&name, &args).await;
            checked += 1;
            match &got.error {
                Some(e) if names(e, a.name) && got.calls == 0 => refused += 1,
                other => {
                    problems.push(format!("{name}: without {}: {other:?} ({} calls)", a.name, got.calls))
                }
            }
        }
        // Every argument given a value no decoder accepts, and a negative number.
        for a in &specs {
            if a.secret {
                continue;
            }
            for bad in [BAD, "-1"] {
                if bad == "-1" && !a.options.is_empty() {
                    continue;
                }
                let mut args = base.clone();
                args.insert(a.name.into(), json!(bad));
                let got = run(&name, &args).await;
                checked += 1;
                let typed = !a.options.is_empty() || (runs && typed_by_name(a.name));
                let Some(e) = &got.error else {
                    if typed && bad == BAD {
                        problems.push(format!("{name}: {}={bad} was accepted", a.name));
                    }
                    continue;
                };
                if typed && bad == BAD && got.calls > 0 {
                    problems.push(format!("{name}: {}={bad} was sent to the API", a.name));
                }
                let refused_first = got.calls == 0 && baseline.error.as_deref() != Some(e.as_str());
                if (refused_first || typed) && !names(e, a.name) {
                    problems.push(format!("{name}: {}={bad}: the error does not name it: {e}", a.name));
                } else if refused_first {
                    refused += 1;
                }
            }
        }
    }
    eprintln!("{checked} runs, {refused} refused before any API call naming the argument");
    assert!(checked > 300, "only {checked} runs");
    assert!(refused > 300, "only {refused} of {checked} runs were refused naming the argument");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
