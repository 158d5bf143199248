//! The `soar` CLI end to end against the test counter integration: instances, runs, output,
//! exit statuses and the one-line errors for bad command lines.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{add_counter, run, soar};
use soar_engine::store::{Cas, ContextStore, FileStore};

#[test]
fn instances_keep_secrets_private_and_masked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&key_file, "file-canary-123\n").unwrap();

    // A secret from an environment variable, one from a file, one from the prompt (stdin).
    let mut cmd = soar(
        &data,
        &[
            "instance",
            "add",
            "c1",
            "--integration",
            "soar-test-counter",
            "--param-env",
            "api_key=CANARY_VAR",
            "--param-file",
            &format!("creds.password={}", key_file.display()),
            "--param",
            "creds.identifier=app-id",
            "--param-prompt",
            "token_log",
        ],
    );
    cmd.env("CANARY_VAR", "env-canary-456")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"prompt-canary-789\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    for canary in ["env-canary-456", "file-canary-123", "prompt-canary-789"] {
        assert!(!all.contains(canary), "secret echoed: {all}");
    }

    let (code, show, err) = run(&data, &["instance", "show", "c1"]);
    assert_eq!(code, 0, "{err}");
    for canary in ["env-canary-456", "file-canary-123", "prompt-canary-789"] {
        assert!(!show.contains(canary), "secret shown: {show}");
    }
    assert!(show.contains("api_key = ********"), "{show}");
    assert!(show.contains("creds = identifier=app-id, password=********"), "{show}");
    assert!(show.contains("token_log = ********"), "{show}");

    // The stored file is private and holds the real values (the engine must send them).
    let file = data.join("instances/c1.json");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(stored.contains("env-canary-456") && stored.contains("file-canary-123"));

    let (code, list, _) = run(&data, &["instance", "list"]);
    assert_eq!(code, 0);
    assert!(list.contains("│ c1       │ soar-test-counter │ 3      │ 0               │"), "{list}");

    let (code, out, _) = run(&data, &["instance", "remove", "c1"]);
    assert_eq!(code, 0);
    assert!(out.contains("Instance c1 removed"));
    assert!(!file.exists());
}

#[test]
fn runs_print_the_war_room_and_store_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);

    let (code, out, err) =
        run(data, &["run", "--instance", "c", r#"!soar-test-counter-echo text="a b" json=`{"k": "v|w"}`"#]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "Echo\n\
         ┌──────┬──────────────┐\n\
         │ Name │ Value        │\n\
         ├──────┼──────────────┤\n\
         │ text │ a b          │\n\
         │ json │ {\"k\": \"v|w\"} │\n\
         └──────┴──────────────┘\n\
         \n\
         Context keys: 0, version Some(0)\n"
    );

    // The only instance of the integration is picked without --instance.
    for expected in 1..=3 {
        let (code, out, _) = run(data, &["run", "!soar-test-counter-increment"]);
        assert_eq!(code, 0);
        assert_eq!(out, format!("Counter is now {expected}.\n"));
    }
    let (_, show, _) = run(data, &["instance", "show", "c"]);
    assert!(show.contains("Context:      version 3 in the file store"), "{show}");

    // --json masks the context values (tokens live there); --context prints EntryContext.
    let (code, json, _) = run(data, &["run", "--json", "!soar-test-counter-increment"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["integration_context"]["counter"], "********");
    assert_eq!(v["context_version"], 3);
    let (_, ctx, _) = run(data, &["run", "--context", "!soar-test-counter-echo text=x"]);
    let v: serde_json::Value = serde_json::from_str(&ctx).unwrap();
    assert_eq!(v["Echo(val.ID == obj.ID)"]["Args"]["text"], "x");

    // An error entry goes to stderr and makes the exit status 1.
    let (code, out, err) = run(data, &["run", "!soar-test-counter-fail"]);
    assert_eq!((code, out.as_str(), err.as_str()), (1, "", "Error in API call [404] - Not Found\n"));
    let (_, _, err) = run(data, &["--color", "always", "run", "!soar-test-counter-fail"]);
    assert_eq!(err, "\x1b[31mError in API call [404] - Not Found\x1b[0m\n");
}

#[test]
fn fetch_stores_the_last_run_and_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);
    for n in 1..=2 {
        let (code, out, err) = run(data, &["fetch", "c"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("│ Test incident {n} │ 2026-01-01T00:00:00Z │ 2        │")), "{out}");
        assert!(out.contains(&format!("Last run: {{\"runs\":{n}}}")), "{out}");
    }
    let (_, incidents, _) = run(data, &["incidents", "--json"]);
    assert_eq!(incidents.lines().count(), 2, "{incidents}");
    assert!(incidents.contains("\"name\":\"Test incident 2\""), "{incidents}");
    let (_, show, _) = run(data, &["instance", "show", "c"]);
    assert!(show.contains("Last run:     {\"runs\":2}"), "{show}");
}

#[test]
fn bad_command_lines_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);
    add_counter(data, "d", &[]);
    // (arguments, the error's text)
    let cases: &[(&[&str], &str)] = &[
        (&["run", "-i", "nope", "!soar-test-counter-echo"], "soar: Unknown instance nope: (known: c, d).\n"),
        (
            &["run", "-i", "cc", "!soar-test-counter-echo"],
            "soar: Unknown instance cc: did you mean --instance c? (known: c, d).\n",
        ),
        (
            &["run", "-i", "c", "!soar-test-counter-ehco"],
            "soar: Unknown command !soar-test-counter-ehco for integration soar-test-counter: did you mean \
             !soar-test-counter-echo? `soar commands soar-test-counter` lists its commands.\n",
        ),
        (
            &["run", "-i", "c", r#"!soar-test-counter-echo text="a b"#],
            "soar: Unbalanced \" in argument text (opened at column 30): close it, e.g. text=\"a b\".\n",
        ),
        (
            &["run", "-i", "c", "!soar-test-counter-echo txt=1"],
            "soar: Unknown argument txt for !soar-test-counter-echo: did you mean text=...? its arguments are: \
             text, json, must.\n",
        ),
        (
            &["run", "!soar-test-counter-echo"],
            "soar: Several instances run !soar-test-counter-echo (c, d): add --instance NAME or using=NAME.\n",
        ),
        (
            &["run", "-i", "c", "!soar-test-counter-echo", "using=d"],
            "soar: --instance c and using=d name different instances: keep one.\n",
        ),
        (
            &["instance", "add", "e", "--integration", "no-such-integration"],
            "soar: No binary named no-such-integration found",
        ),
        (
            &["--store", "mongo://x", "instance", "list"],
            "soar: Unknown store \"mongo://x\": use --store file or --store redis://",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = run(data, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.starts_with(want), "{args:?}:\n got: {err}\nwant: {want}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
    // using= picks the instance.
    let (code, out, _) = run(data, &["run", "!soar-test-counter-increment using=d"]);
    assert_eq!((code, out.as_str()), (0, "Counter is now 1.\n"));
}

#[test]
fn a_crashing_integration_is_reported() {
    // An "integration" that writes no response: a shell script on SOAR_BIN_DIR.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = bin.join("broken-int");
    std::fs::write(
        &script,
        "#!/bin/sh\nif [ \"$1\" = --manifest ]; then exit 1; fi\necho oops >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    let mut add = soar(&data, &["instance", "add", "b", "--integration", "broken-int"]);
    add.env("SOAR_BIN_DIR", &bin);
    assert!(add.output().unwrap().status.success());
    let mut cmd = soar(&data, &["run", "-i", "b", "!broken-int-x"]);
    let out = cmd.env("SOAR_BIN_DIR", &bin).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(err.contains("oops\n"), "{err}");
    assert!(err.contains("soar: broken-int exited with exit status: 3 and wrote no response"), "{err}");
}

#[test]
fn flows_prints_the_seeds_37_integrations_and_which_are_built() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // A stand-in binary for a row no crate of this project builds: found by its prefix.
    let stand_in = bin.join("azure-key-vault");
    std::fs::write(&stand_in, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = soar(&data, &["flows"]).env("SOAR_BIN_DIR", &bin).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{text}{err}");
    // Box rows whose first cell is the seed's row number.
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.strip_prefix('│').is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    assert_eq!(rows.len(), 37, "{text}");
    let header = text.lines().find(|l| l.contains("Cortex app")).unwrap();
    for col in [
        "Integration",
        "Prefix",
        "Client credentials",
        "Device code",
        "Auth code",
        "Managed identities",
        "National clouds",
        "Here",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = rows.iter().find(|l| l.contains(" azure-key-vault ")).unwrap();
    assert!(row.contains(" built ") && !row.contains("not built"), "{row}");
    let collector = rows.iter().find(|l| l.contains("Event Collector - XSIAM")).unwrap();
    assert!(collector.contains(" no - saas "), "{collector}");
    assert!(text.contains(&format!("azure-key-vault ({})", stand_in.display())), "{text}");
    // Rows that are not built are said so, never reported as missing packages.
    assert!(rows.iter().any(|l| l.contains(" azure-firewall ") && l.contains("not built")), "{text}");
    assert!(!text.contains("Not found") && !err.contains("Not found"), "{text}{err}");

    // The per-flow view reports only names a person gave.
    let out = soar(&data, &["flows", "--built"])
        .env("SOAR_BIN_DIR", dir.path().join("empty"))
        .env("SOAR_INTEGRATIONS", "no-such-integration")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("Not found: no-such-integration (build with"), "{text}");
    assert!(!text.contains("azure-firewall"), "{text}");
}

/// The context the test counter stores with `pad=17000000`: over the 15 MiB context limit.
const PAD: usize = 17_000_000;

#[test]
fn a_context_too_large_to_send_back_is_refused_and_the_old_one_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);
    assert_eq!(run(data, &["run", "-i", "c", "!soar-test-counter-increment"]).0, 0);
    let (code, out, err) = run(data, &["run", "-i", "c", &format!("!soar-test-counter-increment pad={PAD}")]);
    assert_eq!(code, 3, "{out}{err}");
    // {"counter":2,"pad":"222..."}
    let size = PAD + r#"{"counter":2,"pad":""}"#.len();
    assert!(err.contains(&format!("is {size} bytes, over the 15728640-byte limit")), "{err}");
    assert!(err.contains("the stored context (version 1) is kept"), "{err}");
    let stored = FileStore::open(data).unwrap().load("c").unwrap();
    assert_eq!((stored.version, stored.context.get("pad")), (1, None));
    // The instance still works (and a timeout past what a clock holds means no timeout).
    let (code, out, err) =
        run(data, &["run", "--timeout", &u64::MAX.to_string(), "-i", "c", "!soar-test-counter-increment"]);
    assert_eq!((code, out.as_str()), (0, "Counter is now 2.\n"), "{err}");
}

#[test]
fn auth_reset_clears_a_stored_context_too_large_to_send() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);
    // A context stored before the engine refused them (or by another tool).
    let store = FileStore::open(data).unwrap();
    let mut huge = soar_protocol::Object::new();
    huge.insert("counter".into(), 7.into());
    huge.insert("pad".into(), "x".repeat(PAD).into());
    assert_eq!(store.compare_and_set("c", 0, &huge, None).unwrap(), Cas::Stored(1));

    // Other commands are not sent it: a clear error that names the way out.
    let (code, out, err) = run(data, &["run", "-i", "c", "!soar-test-counter-increment"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("over the 15728640-byte limit"), "{err}");
    assert!(err.contains("run !soar-test-counter-auth-reset"), "{err}");
    // auth-reset is sent an empty context, and what it returns is stored.
    let (code, out, err) = run(data, &["run", "-i", "c", "!soar-test-counter-auth-reset"]);
    assert_eq!((code, out.as_str()), (0, "Authorization was reset successfully.\n"), "{err}");
    let stored = store.load("c").unwrap();
    assert_eq!((stored.version, stored.context.len()), (2, 0));
    let (code, out, err) = run(data, &["run", "-i", "c", "!soar-test-counter-increment"]);
    assert_eq!((code, out.as_str()), (0, "Counter is now 1.\n"), "{err}");
}

#[test]
fn control_sequences_from_an_integration_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);
    // OSC 52 (clipboard), clear screen, window title, C1 CSI, a bidi override.
    let hostile = "\x1b]52;c;ZWNobyBvd25lZA==\x07\x1b[2J\x1b]0;owned\x1b\\\u{9b}31m\u{202e}exe.pdf";
    let line = format!("!soar-test-counter-echo text=\"{hostile}\"");
    let (code, out, err) = run(data, &["run", "-i", "c", &line]);
    assert_eq!(code, 0, "{out}{err}");
    for c in ['\x1b', '\x07', '\u{9b}', '\u{202e}'] {
        assert!(!out.contains(c) && !err.contains(c), "{c:?} reached the terminal: {out:?}");
    }
    assert!(out.contains("␛]52;c;ZWNobyBvd25lZA==␇␛[2J␛]0;owned␛\\\\u{9b}31m\\u{202e}exe.pdf"), "{out}");
    // --json keeps the integration's bytes exact.
    let (code, out, err) = run(data, &["run", "--json", "-i", "c", &line]);
    assert_eq!(code, 0, "{err}");
    let response: serde_json::Value = serde_json::from_str(&out).unwrap();
    let human = response["entries"][0]["HumanReadable"].as_str().unwrap();
    assert!(human.contains(&format!("| text | {} |", hostile.replace('|', "\\|"))), "{human:?}");
    // The engine's own errors quote what was typed: never raw either.
    for line in ["!soar-test-counter-\x1b]0;owned\x07", "!soar-test-counter-echo \x1b]0;owned\x07=1"] {
        let (code, _, err) = run(data, &["run", "-i", "c", line]);
        assert_eq!(code, 2, "{err}");
        assert!(!err.contains('\x1b') && !err.contains('\x07') && err.contains("]0;owned"), "{err:?}");
    }
}

/// A stand-in integration: `body` (sh) after its request is read; no manifest.
fn script_integration(bin: &std::path::Path, name: &str, body: &str) {
    let script = bin.join(name);
    std::fs::write(
        &script,
        format!("#!/bin/sh\nif [ \"$1\" = --manifest ]; then exit 1; fi\ncat >/dev/null\n{body}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Whether process `pid` is gone (or a zombie, which holds nothing open).
fn gone(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let dead = match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
            Err(_) => true,
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        };
        if dead || Instant::now() > deadline {
            return dead;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_timeout_stops_what_holds_stdout_and_keeps_an_answer_that_came_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let answer = serde_json::to_string(&soar_protocol::Response {
        entries: vec![soar_protocol::Entry::markdown("answer kept")],
        ..Default::default()
    })
    .unwrap();
    let pids = dir.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    // (integration, script, --timeout, exit status, output, at most this long)
    let cases = [
        // Answers, leaves a child holding stdout and exits.
        (
            "leaves-child",
            format!("echo '{answer}'\nsleep 100 &\necho $! > \"$PIDS/leaves-child\""),
            "30",
            0,
            "answer kept\n",
            10,
        ),
        // Answers, leaves a child holding stdout and hangs itself.
        (
            "hangs",
            format!("echo '{answer}'\nsleep 100 &\necho $! > \"$PIDS/hangs\"\nsleep 100"),
            "2",
            0,
            "answer kept\n",
            10,
        ),
        // Never answers: the timeout holds although a child keeps stdout open.
        ("silent", "sleep 100 &\necho $! > \"$PIDS/silent\"\nsleep 100".to_owned(), "1", 3, "", 10),
    ];
    for (name, body, timeout, want_code, want_out, within) in cases {
        script_integration(&bin, name, &body);
        let data = dir.path().join(format!("data-{name}"));
        let ok = soar(&data, &["instance", "add", name, "--integration", name])
            .env("SOAR_BIN_DIR", &bin)
            .output()
            .unwrap();
        assert!(ok.status.success(), "{ok:?}");
        let started = Instant::now();
        let out = soar(&data, &["run", "--timeout", timeout, "-i", name, &format!("!{name}-x")])
            .env("SOAR_BIN_DIR", &bin)
            .env("PIDS", &pids)
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!((out.status.code(), stdout.as_ref()), (Some(want_code), want_out), "{name}: {stderr}");
        assert!(elapsed < Duration::from_secs(within), "{name} took {elapsed:?}");
        if want_code == 3 {
            assert!(
                stderr.contains(&format!("{name} did not answer within {timeout}s and was stopped")),
                "{stderr}"
            );
        }
        let child = std::fs::read_to_string(pids.join(name)).unwrap();
        assert!(gone(&child), "{name}: the child {child} still runs");
    }
}

#[test]
fn an_integrations_log_lines_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let answer = serde_json::to_string(&soar_protocol::Response {
        entries: vec![soar_protocol::Entry::markdown("done")],
        ..Default::default()
    })
    .unwrap();
    // A log line carrying a window-title sequence and a clipboard write, then the answer.
    script_integration(
        &bin,
        "logs",
        &format!("printf 'WARN \\033]0;owned\\007 and \\033]52;c;AAAA\\007 end\\n' >&2\necho '{answer}'"),
    );
    let data = dir.path().join("data");
    let ok = soar(&data, &["instance", "add", "logs", "--integration", "logs"])
        .env("SOAR_BIN_DIR", &bin)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let out = soar(&data, &["run", "-i", "logs", "!logs-x"]).env("SOAR_BIN_DIR", &bin).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!((out.status.code(), stdout.as_ref()), (Some(0), "done\n"), "{stderr}");
    assert!(!stderr.contains('\x1b') && !stderr.contains('\x07'), "{stderr:?}");
    assert!(stderr.contains("WARN ␛]0;owned␇ and ␛]52;c;AAAA␇ end"), "{stderr:?}");
}

#[test]
fn redis_passwords_with_at_signs_are_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 refuses the connection, so the error names the store.
    let (code, out, err) =
        run(dir.path(), &["--store", "redis://user:p@ss@word@127.0.0.1:1/0", "instance", "list"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("redis://user:***@127.0.0.1:1/0"), "{err}");
    assert!(!err.contains("p@ss") && !err.contains("ss@word") && !err.contains("word@"), "{err}");
}

#[test]
fn ctrl_c_stops_the_integration_too() {
    // The integration runs in its own process group, which a terminal's Ctrl-C does not reach:
    // soar must stop it (and what it started) itself.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let pids = dir.path().join("pids");
    script_integration(
        &bin,
        "slow",
        "sleep 100 &\necho $! > \"$PIDS.tmp\" && mv \"$PIDS.tmp\" \"$PIDS\"\nsleep 100",
    );
    let data = dir.path().join("data");
    let ok = soar(&data, &["instance", "add", "s", "--integration", "slow"])
        .env("SOAR_BIN_DIR", &bin)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let mut child = soar(&data, &["run", "-i", "s", "!slow-x"])
        .env("SOAR_BIN_DIR", &bin)
        .env("PIDS", &pids)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pids.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let grandchild = std::fs::read_to_string(&pids).unwrap();
    assert!(gone(&grandchild), "the integration's child {grandchild} still runs");
}

/// A fetch's last run travels in the next fetch request, so one too large to send back is not
/// stored (nor its page), and one stored before that rule stops fetches with the way out.
#[test]
fn a_last_run_too_large_to_send_back_is_refused_and_an_old_one_can_be_reset() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_counter(&data, "big", &["--param", "last_run_pad=600000"]);
    add_counter(&data, "old", &[]);

    let (code, out, err) = run(&data, &["fetch", "big"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("returned a last run of 600")
            && err.contains("over the 524288-byte limit")
            && err.contains("neither its incidents nor its last run were stored"),
        "{err}"
    );
    let (code, stored, err) = run(&data, &["incidents", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(stored.trim().is_empty(), "the page was stored: {stored}");
    let (_, show, _) = run(&data, &["instance", "show", "big"]);
    assert!(!show.contains("\"runs\""), "the last run was stored: {show}");

    // As stored by an engine before the limit.
    let huge = serde_json::json!({"runs": 7, "pad": "p".repeat(600_000)});
    std::fs::create_dir_all(data.join("lastrun")).unwrap();
    std::fs::write(data.join("lastrun/old.json"), huge.to_string()).unwrap();
    let (code, out, err) = run(&data, &["fetch", "old"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("run soar instance reset-last-run old"), "{err}");

    let (code, out, err) = run(&data, &["instance", "reset-last-run", "old"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("The last run of instance old is cleared"), "{out}");
    let (code, out, err) = run(&data, &["fetch", "old"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Last run: {\"runs\":1}"), "the fetch did not start over: {out}");

    let (code, _, err) = run(&data, &["instance", "reset-last-run", "nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("Unknown instance nope"), "{err}");
}
