//! End-to-end tests: the `soar-test-integration` binary spawned as a real process.
//!
//! They cover the runtime's promises at its real edge (stdin, stdout, stderr, exit status):
//! every bad input gets one valid response with one Type 4 entry and exit 0; `--serve` answers
//! 1,000 requests in order without ids and matched by id with them; `--manifest`; secrets never
//! reach stdout (outside `integration_context`) or stderr, at any log level.

// Test helpers outside #[test] fns count as non-test code for clippy; this file is all tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_soar-test-integration");

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn spawn(args: &[&str], stdin: Vec<u8>, rust_log: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    // Written from a thread so a large input cannot deadlock against a full stdout pipe; a
    // broken pipe is fine (the binary may answer before reading everything).
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn params() -> Value {
    json!({"url": "https://example.test", "credentials": {"identifier": "client-id", "password": "pw-123456"}, "api_key": "key-123456"})
}

fn request(command: &str, args: Value) -> Value {
    json!({"command": command, "args": args, "params": params()})
}

/// The one check of one-shot mode: `input` gives exit 0 and exactly one response line whose
/// only entry is of `entry_type` and whose text contains `expect`.
fn check(input: Vec<u8>, entry_type: i64, expect: &str) -> Value {
    let out = spawn(&[], input, "warn");
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout.ends_with('\n') && out.stdout.matches('\n').count() == 1,
        "one line: {:?}",
        out.stdout
    );
    let response: Value = serde_json::from_str(&out.stdout).unwrap();
    let entries = response["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{response}");
    assert_eq!(entries[0]["Type"], entry_type, "{response}");
    let text = entries[0]["Contents"].as_str().unwrap();
    assert!(text.contains(expect), "{text:?} should contain {expect:?}");
    response
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn a_good_request_gets_one_response_line() {
    let response = check(bytes(&request("test-module", json!({}))), 1, "ok");
    assert_eq!(
        response,
        json!({"entries": [{"Type": 1, "ContentsFormat": "markdown", "Contents": "ok", "HumanReadable": null, "EntryContext": {}}]})
    );
    check(bytes(&request("soar-test-echo", json!({"message": "hi", "mode": "loud"}))), 1, "echo: HI");
}

#[test]
fn every_bad_input_gets_one_error_entry_and_exit_0() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"command\": \"test-module\",".to_vec(), "The request is not valid JSON (EOF while parsing"),
        (b"".to_vec(), "The request is empty"),
        (b"[1, 2]".to_vec(), "must be a JSON object with a \"command\" field, not an array"),
        (
            bytes(&json!({"args": {}})),
            "no \"command\" field. Add one, e.g. \"command\": \"test-module\"; this integration's commands are: test-module, soar-test-echo",
        ),
        (
            bytes(&request("nope", json!({}))),
            "Unknown command: nope. This integration's commands are: test-module, soar-test-echo, soar-test-store",
        ),
        (bytes(&request("soar-test-echo", json!({}))), "Missing required argument: message."),
        (
            bytes(&json!({"command": "test-module", "params": {"api_key": "k"}})),
            "Missing required parameter: url (Server URL).",
        ),
        (
            bytes(&json!({"command": 5})),
            "The request field `command` has the wrong type: invalid type: integer `5`, expected a string",
        ),
        (
            bytes(&json!({"command": "test-module", "args": "limit=5"})),
            "The request field `args` has the wrong type",
        ),
        (
            bytes(&json!({"command": "test-module", "context_version": "v1"})),
            "The request field `context_version` has the wrong type",
        ),
        (
            bytes(&request("soar-test-echo", json!({"message": "m", "mode": "quiet"}))),
            "Invalid value for argument mode: \"quiet\" is not one of plain, loud.",
        ),
        (
            bytes(&request("soar-test-echo", json!({"message": "m", "mesage": "x"}))),
            "Unknown argument for soar-test-echo: mesage. Accepted arguments: message, mode, items, token.",
        ),
        (
            bytes(&request("soar-test-sleep", json!({"ms": "soon"}))),
            "Invalid value for argument ms: expected a whole number",
        ),
        (
            bytes(&request("soar-test-panic", json!({}))),
            "The command soar-test-panic failed unexpectedly: index out of range while using key <XX_REPLACED>.",
        ),
    ];
    for (input, expect) in cases {
        check(input, 4, expect);
    }
}

#[test]
fn a_request_over_16_mib_is_refused_without_being_read_whole() {
    // Valid JSON, so only the size can be the reason.
    let mut big = br#"{"command":"test-module","args":{},"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 16 * 1024 * 1024));
    big.extend(b"\"}");
    check(big, 4, "The request is larger than 16777216 bytes (16 MiB)");
}

#[test]
fn an_id_and_context_version_are_echoed_even_on_errors() {
    let input = json!({"id": "req-9", "command": "nope", "context_version": 3});
    let response = check(bytes(&input), 4, "Unknown command: nope");
    assert_eq!(response["id"], "req-9");
    assert_eq!(response["context_version"], 3);
    let response = check(bytes(&json!({"id": 4, "command": []})), 4, "`command`");
    assert_eq!(response["id"], 4);
}

#[test]
fn manifest_lists_commands_args_outputs_params_and_flows() {
    let out = spawn(&["--manifest"], Vec::new(), "warn");
    assert_eq!(out.code, 0);
    let m: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(m["prefix"], "soar-test");
    assert_eq!(m["commonfields"], json!({"id": "Soar Test", "version": -1}));
    assert_eq!(m["auth_flows"], json!(["client-secret"]));
    let types: Vec<_> = m["configuration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].clone(), p["type"].clone()))
        .collect();
    assert_eq!(
        types,
        vec![
            (json!("url"), json!(0)),
            (json!("credentials"), json!(9)),
            (json!("api_key"), json!(4)),
            (json!("state_file"), json!(0)),
            (json!("insecure"), json!(8))
        ]
    );
    // fetch-incidents and the four mirroring commands make it a fetching, mirroring integration.
    for flag in ["isfetch", "ismappable", "isremotesyncin", "isremotesyncout"] {
        assert_eq!(m["script"][flag], true, "{flag}");
    }
    let echo = &m["script"]["commands"][1];
    assert_eq!(echo["name"], "soar-test-echo");
    assert_eq!(
        echo["arguments"][1],
        json!({"name": "mode", "description": "How.", "required": false, "defaultValue": "plain", "auto": "PREDEFINED", "predefined": ["plain", "loud"], "isArray": false, "secret": false})
    );
    assert_eq!(
        echo["outputs"],
        json!([{"contextPath": "SoarTest.Echo.message", "type": "String", "description": "The message."}])
    );
    assert_eq!(echo["examples"], json!(["!soar-test-echo message=hi mode=loud"]));
}

#[test]
fn an_unknown_command_line_argument_exits_2_with_usage() {
    let out = spawn(&["--serv"], Vec::new(), "warn");
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("usage:"), "{}", out.stderr);
}

fn serve(lines: &[Value]) -> Vec<Value> {
    let mut input = Vec::new();
    for line in lines {
        input.extend(bytes(line));
        input.push(b'\n');
    }
    let out = spawn(&["--serve"], input, "warn");
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn contents(r: &Value) -> String {
    r["entries"][0]["Contents"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn serve_answers_1000_requests_without_ids_in_order_on_one_process() {
    let lines: Vec<Value> =
        (0..1000).map(|i| request("soar-test-echo", json!({"message": format!("m{i}")}))).collect();
    let responses = serve(&lines);
    assert_eq!(responses.len(), 1000);
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(contents(r), format!("echo: m{i}"));
        assert!(r.get("id").is_none());
    }
}

#[test]
fn serve_answers_1000_concurrent_requests_matched_by_id() {
    // Sleeps of 0-19 ms: run one by one this would take about 10 s and come back in order.
    let lines: Vec<Value> = (0..1000)
        .map(|i| {
            let mut r = request("soar-test-sleep", json!({"ms": ((i * 7) % 20).to_string()}));
            r["id"] = json!(i);
            r
        })
        .collect();
    let responses = serve(&lines);
    assert_eq!(responses.len(), 1000);
    let mut seen = HashSet::new();
    for r in &responses {
        let id = r["id"].as_u64().unwrap();
        assert_eq!(contents(r), format!("slept {}", (id * 7) % 20), "response {r} matches its id");
        assert!(seen.insert(id), "id {id} answered twice");
    }
    let order: Vec<u64> = responses.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_ne!(order, (0..1000).collect::<Vec<_>>(), "requests with ids should run concurrently");
}

#[test]
fn serve_keeps_ordered_and_id_requests_apart_and_answers_bad_lines() {
    let mut slow = request("soar-test-sleep", json!({"ms": "200"}));
    slow["id"] = json!("slow");
    let lines = vec![
        slow,
        request("soar-test-echo", json!({"message": "first"})),
        json!("not a request"),
        json!({"id": "bad", "command": 1}),
        request("soar-test-echo", json!({"message": "second"})),
        request("soar-test-counter", json!({})),
        request("soar-test-counter", json!({})),
    ];
    let responses = serve(&lines);
    assert_eq!(responses.len(), 7);
    let ordered: Vec<String> = responses.iter().filter(|r| r.get("id").is_none()).map(contents).collect();
    assert_eq!(ordered.len(), 5);
    assert_eq!(ordered[0], "echo: first");
    assert!(ordered[1].contains("must be a JSON object"), "{}", ordered[1]);
    assert_eq!(ordered[2..], ["echo: second", "1", "2"], "the counter is warm across requests");
    let slow = responses.iter().find(|r| r["id"] == "slow").unwrap();
    assert_eq!(contents(slow), "slept 200");
    let bad = responses.iter().find(|r| r["id"] == "bad").unwrap();
    assert!(contents(bad).contains("`command`"));
    // The slow request did not hold up the ordered ones: it is answered last.
    assert_eq!(responses.last().unwrap()["id"], "slow");
}

#[test]
fn serve_skips_a_line_over_16_mib_and_goes_on() {
    let mut input = br#"{"command":"test-module","pad":""#.to_vec();
    input.extend(std::iter::repeat_n(b'a', 16 * 1024 * 1024));
    input.extend(b"\"}\n");
    input.extend(bytes(&request("test-module", json!({}))));
    input.push(b'\n');
    let out = spawn(&["--serve"], input, "warn");
    assert_eq!(out.code, 0);
    let responses: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(responses.len(), 2);
    assert!(contents(&responses[0]).contains("larger than 16777216 bytes"));
    assert_eq!(contents(&responses[1]), "ok");
}

const CANARY: &str = "CANARY-7f3a9c";

#[test]
fn secrets_never_reach_stdout_outside_the_context_nor_stderr_at_any_level() {
    let params = json!({
        "url": "https://example.test",
        "credentials": {"identifier": "client-id", "password": format!("{CANARY}-password")},
        "api_key": format!("{CANARY}-key"),
    });
    let token = format!("{CANARY}-token");
    let commands = [
        ("test-module", json!({})),
        ("soar-test-echo", json!({"message": "hello", "token": token, "items": "a,b"})),
        ("soar-test-echo", json!({"message": "hello", "token": token, "mode": "bogus"})),
        ("soar-test-echo", json!({"token": token})),
        ("soar-test-store", json!({"token": token})),
        ("soar-test-fail", json!({"token": token})),
        ("soar-test-panic", json!({})),
        ("soar-test-echo", json!({"message": "hello", "nope": token})),
    ];
    let mut stored = false;
    let mut traced = 0;
    for (command, args) in commands {
        for mode in [&[][..], &["--serve"][..]] {
            let input = json!({"command": command, "args": args, "params": params, "integration_context": {"refresh_token": format!("{CANARY}-refresh")}});
            let mut line = bytes(&input);
            line.push(b'\n');
            let out = spawn(mode, line, "trace");
            assert_eq!(out.code, 0);
            // The test is only meaningful if the binary really logged: the runtime logs every
            // request at debug, and commands that run log their whole context at trace.
            assert!(out.stderr.contains("DEBUG"), "{command}: {}", out.stderr);
            traced += usize::from(out.stderr.contains("TRACE") && out.stderr.contains("api_key"));
            assert!(!out.stderr.contains(CANARY), "{command} {mode:?} leaked to stderr:\n{}", out.stderr);
            let mut response: Value = serde_json::from_str(out.stdout.trim_end()).unwrap();
            if let Some(ctx) = response.as_object_mut().unwrap().remove("integration_context") {
                stored |= ctx.to_string().contains(CANARY);
            }
            assert!(
                !response.to_string().contains(CANARY),
                "{command} {mode:?} leaked to stdout: {response}"
            );
        }
    }
    assert!(stored, "soar-test-store should have put the canary in the integration context");
    assert!(traced >= 8, "commands that ran should have logged their params at trace ({traced})");
}

/// The one failure that changes the exit status: standard output cannot be written.
#[cfg(target_os = "linux")]
#[test]
fn a_failing_stdout_is_the_only_non_zero_exit() {
    for mode in [&[][..], &["--serve"][..], &["--manifest"][..]] {
        let mut child = Command::new(BIN)
            .args(mode)
            .stdin(Stdio::piped())
            // Every write to /dev/full fails with "No space left on device".
            .stdout(std::fs::File::options().write(true).open("/dev/full").unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"{\"command\":\"test-module\",\"params\":{\"url\":\"u\"}}\n");
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{mode:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        if mode.is_empty() || mode == ["--serve"] {
            assert!(stderr.contains("could not write the response"), "{mode:?}: {stderr}");
        }
    }
}

#[test]
fn help_goes_to_stderr_and_exits_0() {
    let out = spawn(&["--help"], Vec::new(), "warn");
    assert_eq!(out.code, 0);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("--serve") && out.stderr.contains("--manifest"));
}

/// Context tokens are secrets: a server that echoes the access or refresh token it was sent
/// (or one the command just obtained) does not put it in the error entry; other context values
/// and the words around the tokens stay readable.
#[test]
fn context_tokens_are_masked_in_error_entries() {
    let context = json!({
        "access_token": "CTX-CANARY-access",
        "current_refresh_token": "CTX-CANARY-refresh",
        "https://vault.azure.net/.default_access_token": "CTX-CANARY-scoped",
        "device_code": "CTX-CANARY-device",
        "code_verifier": "CTX-CANARY-verifier",
        "auth_code": "CTX-CANARY-code",
        "valid_until": 1_700_000_000,
    });
    for mode in [&[][..], &["--serve"][..]] {
        for args in [json!({}), json!({"refresh": "CTX-CANARY-fresh"})] {
            let input = json!({"command": "soar-test-echo-context", "args": args, "params": params(), "integration_context": context});
            let mut line = bytes(&input);
            line.push(b'\n');
            let out = spawn(mode, line, "warn");
            assert_eq!(out.code, 0, "{}", out.stderr);
            let mut response: Value = serde_json::from_str(out.stdout.trim_end()).unwrap();
            let stored = response.as_object_mut().unwrap().remove("integration_context");
            let text = contents(&response);
            assert!(text.starts_with("Error in API call [401] - Unauthorized"), "{text}");
            assert!(text.contains("1700000000"), "other values stay: {text}");
            assert!(!response.to_string().contains("CTX-CANARY"), "{mode:?} {args}: {response}");
            // The fresh token is returned to the engine, in the context only.
            assert_eq!(stored.is_some(), args.get("refresh").is_some());
        }
    }
}

/// Params the integration did not declare secret but whose name the reference's rule calls
/// secret (`*key*`, `*password*`, `*token*`, ...) never reach the logs, at `trace` either.
#[test]
fn undeclared_secret_named_params_stay_out_of_trace_logs() {
    let params = json!({
        "url": "https://example.test",
        "api_key": "LOG-CANARY-declared",
        "legacy_api_key": "LOG-CANARY-undeclared-key",
        "admin_password": "LOG-CANARY-password",
        "webhook_token": "LOG-CANARY-token",
        "proxy": {"host": "proxy.test", "client_secret": "LOG-CANARY-nested"},
    });
    for mode in [&[][..], &["--serve"][..]] {
        for (command, args) in [
            ("test-module", json!({})),
            ("soar-test-echo", json!({"message": "hi"})),
            ("soar-test-fail", json!({})),
        ] {
            let mut line = bytes(&json!({"command": command, "args": args, "params": params}));
            line.push(b'\n');
            let out = spawn(mode, line, "trace");
            assert_eq!(out.code, 0);
            // Meaningful only if the params were logged: their names are.
            assert!(
                out.stderr.contains("TRACE") && out.stderr.contains("legacy_api_key"),
                "{command}: {}",
                out.stderr
            );
            assert!(
                !out.stderr.contains("LOG-CANARY"),
                "{command} {mode:?} leaked to stderr:\n{}",
                out.stderr
            );
            assert!(
                !out.stdout.contains("LOG-CANARY"),
                "{command} {mode:?} leaked to stdout:\n{}",
                out.stdout
            );
        }
    }
}

/// A secret of one to three characters is not masked (it would garble every word holding the
/// letter); from four characters it is.
#[test]
fn very_short_secrets_leave_error_texts_intact() {
    let short = json!({"url": "https://example.test", "credentials": {"identifier": "id", "password": "pw"}, "api_key": "k"});
    let response = check(
        bytes(&json!({"command": "soar-test-fail", "args": {"token": "t"}, "params": short})),
        4,
        "upstream said: bad password pw, key k, token t",
    );
    assert!(!response.to_string().contains("XX_REPLACED"), "{response}");
    let long = json!({"url": "https://example.test", "credentials": {"identifier": "id", "password": "pw12"}, "api_key": "k123"});
    check(
        bytes(&json!({"command": "soar-test-fail", "args": {"token": "t123"}, "params": long})),
        4,
        "upstream said: bad password <XX_REPLACED>, key <XX_REPLACED>, token <XX_REPLACED>",
    );
}

const MIB: usize = 1024 * 1024;

/// Runs the binary with `input` and returns its peak resident set in bytes (`VmHWM`, which
/// the binary reports when it ends) with its output.
fn peak_rss(args: &[&str], input: Vec<u8>, env: &[(&str, &str)]) -> (usize, Output) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env("SOAR_TEST_REPORT_PEAK_RSS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    let kib: usize = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak-rss line in {}", out.stderr));
    (kib * 1024, out)
}

/// `item` repeated until the request is about `size` bytes: `{"params": ..., "args": {"ms": ms,
/// "data": [item, item, ...]}, "command": "soar-test-hold"}`, with `tail` last (e.g. a bad field
/// that fails the parse at the end). Returns the bytes and the number of items.
fn large_request(item: &str, size: usize, ms: u64, tail: &str) -> (Vec<u8>, usize) {
    let mut out = format!(r#"{{"params":{{"url":"u"}},"args":{{"ms":"{ms}","data":["#).into_bytes();
    let mut items = 1;
    while out.len() + item.len() + 64 < size {
        out.extend_from_slice(item.as_bytes());
        out.push(b',');
        items += 1;
    }
    out.extend_from_slice(item.as_bytes());
    out.extend_from_slice(format!(r#"]}},"command":"soar-test-hold"{tail}}}"#).as_bytes());
    (out, items)
}

/// The per-request bound (soar-core `budget`): the runtime's peak for one request is at most 40
/// times `max(size, 1 MiB)` above the idle process, whatever the request's shape. Shapes whose
/// parsed form would be larger are refused before parsing; a request that fails to parse
/// late is not parsed twice.
#[test]
fn one_request_costs_at_most_40_times_its_size() {
    let (idle, out) = peak_rss(&[], bytes(&request("test-module", json!({}))), &[]);
    assert_eq!(out.code, 0);
    let size = 15 * MIB;
    let cases: [(&str, &str, &str); 6] = [
        // A large string (a file's content): a few times its size.
        (
            r#""aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""#,
            "",
            "held",
        ),
        // Ids and records: the realistic dense shapes.
        (r#""0f8fad5b-d9cb-469f-a165-70867728950e""#, "", "held"),
        (r#"{"id":"abc123","name":"x"}"#, "", "held"),
        // One-letter strings: dense, still admitted (27 times their size).
        (r#""a""#, "", "held"),
        // The same, failing on a field after the data: parsed once, not three times.
        (r#""a""#, r#","context_version":"v1""#, "The request field `context_version` has the wrong type"),
        // One-element lists: 94 times their size once parsed; refused before parsing.
        ("[0]", "", "The request is too dense to parse"),
    ];
    for (item, tail, expect) in cases {
        let (input, _) = large_request(item, size, 0, tail);
        let len = input.len();
        let (peak, out) = peak_rss(&[], input, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let response: Value = serde_json::from_str(out.stdout.trim_end()).unwrap();
        assert!(contents(&response).contains(expect), "{item}: {response}");
        let grown = peak.saturating_sub(idle);
        eprintln!(
            "{item} {tail}: {len} bytes, peak {} MiB above idle ({:.1}x)",
            grown / MIB,
            grown as f64 / len as f64
        );
        assert!(
            grown <= 40 * len.max(MIB),
            "{item} {tail}: {grown} bytes above idle for a {len} byte request"
        );
    }
}

/// The per-process bound in `--serve` (soar-core `budget`): with a memory budget B, the peak is
/// at most 1.5 × max(B, the heaviest request's weight) + 16 MiB above the idle process, however
/// many large requests are in flight. Every request is still answered, matched by its id.
#[test]
fn serve_keeps_large_requests_in_flight_within_the_budget() {
    let budget_mib = 256;
    let env = [("SOAR_SERVE_MEMORY_BUDGET_MIB", "256")];
    let (idle, _) = peak_rss(&["--serve"], bytes(&request("test-module", json!({}))), &env);
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..8 {
        // Four dense lists of 4 MiB (about 110 MiB each once parsed) and four 15 MiB lists of
        // ids (about 60 MiB); each request holds its data for 4 s, longer than reading all eight
        // takes, so without a budget all eight overlap (about 650 MiB).
        let (item, size) = if i % 2 == 0 {
            (r#""a""#, 4 * MIB)
        } else {
            (r#""0f8fad5b-d9cb-469f-a165-70867728950e""#, 15 * MIB)
        };
        let (line, items) = large_request(item, size, 4000, &format!(r#","id":{i}"#));
        expected.push((i, items));
        input.extend(line);
        input.push(b'\n');
    }
    let (peak, out) = peak_rss(&["--serve"], input, &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let responses: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(responses.len(), 8);
    for (id, items) in expected {
        let r = responses.iter().find(|r| r["id"] == id).unwrap();
        assert_eq!(contents(r), format!("held {items}"));
    }
    let grown = peak.saturating_sub(idle);
    let bound = budget_mib * MIB * 3 / 2 + 16 * MIB;
    eprintln!("serve: peak {} MiB above idle, bound {} MiB", grown / MIB, bound / MIB);
    assert!(grown <= bound, "{} MiB above idle, over the {} MiB bound", grown / MIB, bound / MIB);
}
