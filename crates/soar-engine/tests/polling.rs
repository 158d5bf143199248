//! `soar run` follows a polling command's schedule (XSOAR's scheduled commands) with
//! `soar-test-integration`'s `soar-test-poll`, whose action only advances when the engine carries
//! the integration context from one poll to the next.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::{Duration, Instant};

use common::{add_test_integration, built, run};

/// The one check of a polling run: `line` with `flags` gives `code`, stdout with every text of
/// `out` in order, and stderr containing every text of `err`; returns stderr.
fn check(
    data: &std::path::Path,
    flags: &[&str],
    line: &str,
    code: i32,
    out: &[&str],
    err: &[&str],
) -> String {
    let mut args = vec!["run", "--instance", "p"];
    args.extend_from_slice(flags);
    args.push(line);
    let (got, stdout, stderr) = run(data, &args);
    assert_eq!(got, code, "{line}: {stdout}{stderr}");
    let mut rest = stdout.as_str();
    for want in out {
        let at = rest.find(want).unwrap_or_else(|| panic!("{line}: {want:?} not in order in {stdout:?}"));
        rest = &rest[at + want.len()..];
    }
    for want in err {
        assert!(stderr.contains(want), "{line}: {want:?} not in {stderr:?}");
    }
    stderr
}

#[test]
fn a_polling_command_is_run_until_it_succeeds() {
    built("a_polling_command_is_run_until_it_succeeds", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    add_test_integration(dir.path(), "p", &[]);
    let err = check(
        dir.path(),
        &["--poll-interval", "0.05"],
        "!soar-test-poll polls=3",
        0,
        &[
            "Action A1 is in progress (1 of 3).",
            "Action A1 is in progress (2 of 3).",
            "Action A1 is in progress (3 of 3).",
            "Action A1 succeeded after 3 polls.",
        ],
        &["Polling !soar-test-poll: run 2 in 0.1 s", "items remaining: 3", "Polling !soar-test-poll: run 4"],
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("Polling ")).count(), 3, "one line per wait: {err}");
    // The next action gets the next id: the context was stored after every poll.
    check(dir.path(), &["--poll-interval", "0"], "!soar-test-poll polls=1", 0, &["Action A2 succeeded"], &[]);
}

#[test]
fn a_failing_polling_command_stops_at_its_error() {
    built("a_failing_polling_command_stops_at_its_error", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    add_test_integration(dir.path(), "p", &[]);
    check(
        dir.path(),
        &["--poll-interval", "0"],
        "!soar-test-poll polls=2 outcome=fail",
        1,
        &["(1 of 2)", "(2 of 2)"],
        &["Action A1 failed after 2 polls."],
    );
}

#[test]
fn polling_stops_at_the_timeout_naming_the_command() {
    built("polling_stops_at_the_timeout_naming_the_command", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    add_test_integration(dir.path(), "p", &[]);
    // The integration's own Timeout (1 s) ...
    let started = Instant::now();
    check(
        dir.path(),
        &["--poll-interval", "0.3"],
        "!soar-test-poll polls=1000 timeout=1",
        1,
        &["(1 of 1000)", "(2 of 1000)"],
        &["!soar-test-poll was still running when its polling timeout of 1 s passed", "polling stopped"],
    );
    assert!(started.elapsed() < Duration::from_secs(10), "stopped at the timeout");
    // ... or --poll-timeout.
    check(
        dir.path(),
        &["--poll-interval", "0.2", "--poll-timeout", "0.5"],
        "!soar-test-poll polls=1000",
        1,
        &["(1 of 1000)"],
        &["polling timeout of 0.5 s passed"],
    );
    // Without --poll-interval the NextRun (10 s) is obeyed: a 5 s timeout stops before a second run.
    let started = Instant::now();
    check(
        dir.path(),
        &["--poll-timeout", "5"],
        "!soar-test-poll polls=2",
        1,
        &["(1 of 2)"],
        &["polling timeout of 5 s passed (1 runs)"],
    );
    assert!(started.elapsed() < Duration::from_secs(4), "no wait for a run past the timeout");
}

#[test]
fn a_bad_poll_interval_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(dir.path(), &["run", "--poll-interval", "soon", "!x"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("\"soon\" is not a number of seconds"), "{err}");
}
