//! A tiny integration for the engine's own tests and benchmark; it speaks the protocol with
//! `soar-protocol` only (no runtime), so the engine is tested against the wire format alone.
//!
//! Commands: `soar-test-counter-increment [sleep_ms=N] [pad=N]` adds 1 to `counter` in the
//! integration context (with `pad`, a string of N copies of the counter's last digit, so a torn
//! write would be visible); `soar-test-counter-token [sleep_ms=N]` behaves like a token cache:
//! with no valid `access_token`/`valid_until` it "fetches" one, appending a line to the file the
//! `token_log` param names; `soar-test-counter-echo` returns its args and context as a table;
//! `soar-test-counter-fail` returns an error entry; `soar-test-counter-auth-reset` clears the
//! context; `fetch-incidents` returns one incident per run and counts runs in the last run.
//! Like the real runtime (`soar_core::MAX_REQUEST_BYTES`), it refuses a request over 16 MiB with
//! an error entry and nothing else.

#![allow(clippy::print_stdout)]

use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use soar_protocol::{
    AuthFlow, CommonFields, Entry, Manifest, ManifestArgument, ManifestCommand, ManifestParam,
    ManifestScript, Object, Request, Response,
};

fn manifest() -> Manifest {
    let command = |name: &str, args: &[&str]| ManifestCommand {
        name: name.to_owned(),
        description: format!("Test command {name}."),
        arguments: args
            .iter()
            .map(|a| ManifestArgument {
                name: (*a).to_owned(),
                description: String::new(),
                required: false,
                default_value: None,
                auto: None,
                predefined: Vec::new(),
                is_array: false,
                secret: false,
            })
            .collect(),
        outputs: Vec::new(),
        examples: Vec::new(),
        polling: false,
    };
    let param = |name: &str, param_type: i64| ManifestParam {
        name: name.to_owned(),
        display: name.to_owned(),
        param_type,
        required: false,
        defaultvalue: None,
        options: Vec::new(),
        hidden: false,
        additionalinfo: None,
    };
    Manifest {
        protocol_version: soar_protocol::PROTOCOL_VERSION.to_owned(),
        commonfields: CommonFields { id: "Test counter".into(), version: -1 },
        name: "Test counter".into(),
        display: "Test counter".into(),
        category: String::new(),
        description: String::new(),
        detaileddescription: String::new(),
        prefix: "soar-test-counter".into(),
        auth_flows: vec![AuthFlow::ClientSecret],
        configuration: vec![
            param("token_log", 0),
            param("api_key", 4),
            param("creds", 9),
            param("last_run_pad", 0),
        ],
        script: ManifestScript {
            script_type: "binary".into(),
            isfetch: true,
            ismappable: false,
            isremotesyncin: false,
            isremotesyncout: false,
            commands: vec![
                command("soar-test-counter-increment", &["sleep_ms", "pad"]),
                command("soar-test-counter-token", &["sleep_ms"]),
                command("soar-test-counter-mark", &["id", "sleep_ms"]),
                command("soar-test-counter-echo", &["text", "json", "must"]),
                command("soar-test-counter-fail", &[]),
                command("soar-test-counter-auth-reset", &[]),
                command("fetch-incidents", &[]),
            ],
        },
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn arg_u64(req: &Request, name: &str) -> u64 {
    req.args.get(name).and_then(|v| v.as_str()?.parse().ok()).unwrap_or(0)
}

fn note(md: String, ctx: Object) -> Entry {
    let mut e = Entry::markdown(md.clone());
    e.human_readable = Value::String(md);
    e.entry_context = ctx;
    e
}

fn handle(req: Request) -> Response {
    let mut ctx = req.integration_context.clone();
    let mut response = Response { context_version: req.context_version, ..Response::default() };
    let sleep = arg_u64(&req, "sleep_ms");
    match req.command.as_str() {
        "soar-test-counter-increment" => {
            let n = ctx.get("counter").and_then(Value::as_i64).unwrap_or(0) + 1;
            std::thread::sleep(Duration::from_millis(sleep));
            ctx.insert("counter".into(), json!(n));
            let pad = arg_u64(&req, "pad") as usize;
            if pad > 0 {
                let digit = char::from(b'0' + (n % 10) as u8);
                ctx.insert("pad".into(), json!(std::iter::repeat_n(digit, pad).collect::<String>()));
            }
            response.entries.push(note(format!("Counter is now **{n}**."), Object::new()));
            response.integration_context = Some(ctx);
        }
        "soar-test-counter-token" => {
            let valid = ctx.get("valid_until").and_then(Value::as_i64).is_some_and(|t| t > now());
            if valid && ctx.contains_key("access_token") {
                response.entries.push(note("Token from the cache.".into(), Object::new()));
            } else {
                std::thread::sleep(Duration::from_millis(sleep));
                if let Some(path) = req.params.str("token_log") {
                    let line = format!("token request by pid {}\n", std::process::id());
                    let appended = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .and_then(|mut f| f.write_all(line.as_bytes()));
                    if let Err(e) = appended {
                        response.entries.push(Entry::error(format!("Could not log the token request: {e}")));
                    }
                }
                ctx.insert("access_token".into(), json!(format!("tok-{}", std::process::id())));
                ctx.insert("valid_until".into(), json!(now() + 3600));
                response.entries.push(note("New token fetched.".into(), Object::new()));
                response.integration_context = Some(ctx);
            }
        }
        "soar-test-counter-mark" => {
            let id = req.args.get("id").and_then(Value::as_str).unwrap_or("none").to_owned();
            std::thread::sleep(Duration::from_millis(sleep));
            ctx.insert(format!("mark-{id}"), json!(true));
            response.entries.push(note(format!("Marked {id}."), Object::new()));
            response.integration_context = Some(ctx);
        }
        "soar-test-counter-echo" => {
            let mut md = String::from("### Echo\n|Name|Value|\n|---|---|\n");
            for (k, v) in &req.args {
                md.push_str(&format!("| {k} | {} |\n", v.as_str().unwrap_or_default().replace('|', "\\|")));
            }
            md.push_str(&format!("\nContext keys: **{}**, version {:?}", ctx.len(), req.context_version));
            let mut out = Object::new();
            out.insert("Echo(val.ID == obj.ID)".into(), json!({"ID": 1, "Args": req.args}));
            response.entries.push(note(md, out));
        }
        "soar-test-counter-auth-reset" => {
            response.entries.push(note("Authorization was reset successfully.".into(), Object::new()));
            response.integration_context = Some(Object::new());
        }
        "soar-test-counter-fail" => {
            response.entries.push(Entry::error("Error in API call [404] - Not Found"))
        }
        "fetch-incidents" => {
            let runs =
                req.last_run.as_ref().and_then(|l| l.get("runs")).and_then(Value::as_i64).unwrap_or(0) + 1;
            response.incidents = Some(vec![json!({
                "name": format!("Test incident {runs}"),
                "occurred": "2026-01-01T00:00:00Z",
                "severity": 2,
                "rawJSON": json!({"run": runs}).to_string()
            })]);
            let mut last = Object::new();
            last.insert("runs".into(), json!(runs));
            // An integration that keeps too much in its last run (the engine must refuse it).
            let pad = req.params.str("last_run_pad").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
            if pad > 0 {
                last.insert("pad".into(), json!("p".repeat(pad)));
            }
            response.last_run = Some(last);
        }
        other => response.entries.push(Entry::error(format!("Unknown command: {other}"))),
    }
    response
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--manifest") {
        println!("{}", serde_json::to_string(&manifest()).unwrap_or_default());
        return;
    }
    const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
    let mut input = Vec::new();
    let response = match std::io::stdin().read_to_end(&mut input) {
        Ok(n) if n > MAX_REQUEST_BYTES => Response {
            entries: vec![Entry::error(format!(
                "The request is larger than {MAX_REQUEST_BYTES} bytes (16 MiB) and was not read."
            ))],
            ..Response::default()
        },
        Ok(_) => match serde_json::from_slice::<Request>(&input) {
            Ok(req) => handle(req),
            Err(e) => {
                Response { entries: vec![Entry::error(format!("Bad request: {e}"))], ..Response::default() }
            }
        },
        Err(e) => Response {
            entries: vec![Entry::error(format!("Could not read stdin: {e}"))],
            ..Response::default()
        },
    };
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, &response);
    let _ = out.write_all(b"\n");
}
