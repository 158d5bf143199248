//! The runner on a tiny suite written into a temporary folder, with a shell script as the
//! integration binary: what it counts (planned, skipped, passed), that a suite with an unknown
//! placeholder is refused naming it, and that blessing rewrites only changed files and makes the
//! verdict fail until the suite is run again without blessing.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};
use soar_conformance::{Options, run_suite};

/// The answer of the `tiny` binary to every request.
const ANSWER: &str = r#"{"entries":[{"Type":1,"ContentsFormat":"text","Contents":"ok"}]}"#;

fn write_json(path: &Path, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

/// `root/test-data/tiny/` with two flows, one cloud and three cases (one only for the other
/// flow), and `root/bin/tiny`, which reads its request and always answers [`ANSWER`].
fn tiny(root: &Path, tenant_param: &str) {
    let dir = root.join("test-data/tiny");
    write_json(
        &dir.join("conformance.json"),
        &json!({
            "binary": "tiny",
            "prefix": "tiny",
            "flows": {
                "client-secret": {"params": {"tenant_id": tenant_param}},
                "managed-identity": {"params": {}}
            },
            "clouds": {"worldwide": {"azure_cloud": "Worldwide"}},
            "demo": ["!tiny-echo"]
        }),
    );
    let answer: Value = serde_json::from_str(ANSWER).unwrap();
    let expected = json!({"entries": answer["entries"]});
    write_json(
        &dir.join("cases/001-echo.json"),
        &json!({"description": "echo", "request": {"command": "tiny-echo"}, "expected": expected}),
    );
    write_json(
        &dir.join("cases/002-args.json"),
        &json!({"description": "args", "request": {"command": "tiny-echo", "args": {"t": "${TENANT_ID}"}}, "expected": expected}),
    );
    write_json(
        &dir.join("cases/003-mi-only.json"),
        &json!({"description": "mi", "flows": ["managed-identity"], "request": {"command": "tiny-echo"}, "expected": expected}),
    );
    let bin = root.join("bin/tiny");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(&bin, format!("#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' '{ANSWER}'\n")).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn opts(flow: &str, bless: bool) -> Options {
    Options { flow: Some(flow.into()), cloud: Some("worldwide".into()), bless, ..Options::default() }
}

#[test]
fn every_case_of_the_flow_runs_and_is_counted() {
    let root = tempfile::tempdir().unwrap();
    tiny(root.path(), "${TENANT_ID}");
    let bin = root.path().join("bin");

    let s = run_suite(root.path(), "tiny", &bin, &opts("client-secret", false)).unwrap();
    assert_eq!((s.passed, s.planned, s.skipped, s.failed.len()), (2, 2, 1, 0), "{s:?}");
    assert_eq!(s.verdict("tiny", "BLESS"), Ok(()));

    let s = run_suite(root.path(), "tiny", &bin, &Options::default()).unwrap();
    assert_eq!((s.passed, s.planned, s.skipped), (5, 5, 1), "both flows: {s:?}");

    // A flow the suite does not have plans nothing, which the verdict refuses.
    let s = run_suite(root.path(), "tiny", &bin, &opts("device-code", false)).unwrap();
    assert_eq!((s.passed, s.planned), (0, 0));
    assert_eq!(
        s.verdict("tiny [device-code/worldwide]", "BLESS").unwrap_err(),
        "tiny [device-code/worldwide]: no case runs (no case file applies to this flow and cloud)"
    );
}

#[test]
fn an_unknown_placeholder_is_refused_naming_it() {
    let root = tempfile::tempdir().unwrap();
    tiny(root.path(), "${TENANT}");
    let e =
        run_suite(root.path(), "tiny", &root.path().join("bin"), &opts("client-secret", false)).unwrap_err();
    let e = e.to_string();
    assert!(
        e.starts_with("tiny: flow client-secret in conformance.json: unknown placeholder ${TENANT} (known: "),
        "{e}"
    );
}

fn whole(bless: bool) -> Options {
    Options { bless, ..Options::default() }
}

#[test]
fn blessing_rewrites_changed_files_only_and_fails_the_verdict_until_run_again() {
    let root = tempfile::tempdir().unwrap();
    tiny(root.path(), "${TENANT_ID}");
    let bin = root.path().join("bin");
    let stale = root.path().join("test-data/tiny/cases/002-args.json");
    let mut case: Value = serde_json::from_str(&std::fs::read_to_string(&stale).unwrap()).unwrap();
    case["expected"] = json!({"entries": []});
    write_json(&stale, &case);

    let s = run_suite(root.path(), "tiny", &bin, &opts("client-secret", false)).unwrap();
    assert_eq!((s.passed, s.planned, s.failed.len()), (1, 2, 1), "{s:?}");
    let e = s.verdict("tiny", "BLESS").unwrap_err();
    assert!(
        e.starts_with("tiny: 1 of 2 case runs failed:\ntiny/002-args.json [client-secret/worldwide]: args"),
        "{e}"
    );

    // A bless of one flow or cloud is refused: the expectations are shared.
    let e = run_suite(root.path(), "tiny", &bin, &opts("client-secret", true)).unwrap_err();
    assert!(e.to_string().starts_with("--bless cannot be combined with --flow or --cloud"), "{e}");

    let s = run_suite(root.path(), "tiny", &bin, &whole(true)).unwrap();
    assert_eq!(s.rewritten, vec![stale.clone()], "only the stale file is written");
    assert_eq!(
        s.verdict("tiny", "BLESS").unwrap_err(),
        format!(
            "tiny: expectations rewritten; review the diff and run again without BLESS ({})",
            stale.display()
        )
    );

    let s = run_suite(root.path(), "tiny", &bin, &whole(true)).unwrap();
    assert!(s.rewritten.is_empty(), "nothing changed: {s:?}");
    assert_eq!(s.verdict("tiny", "BLESS"), Ok(()));
    let s = run_suite(root.path(), "tiny", &bin, &opts("client-secret", false)).unwrap();
    assert_eq!(s.verdict("tiny", "BLESS"), Ok(()));
}

/// A case whose expectation is written from the reference's facts (`reference`) is compared,
/// never rewritten, by a bless; one that matches passes.
#[test]
fn blessing_never_rewrites_a_reference_case() {
    let root = tempfile::tempdir().unwrap();
    tiny(root.path(), "${TENANT_ID}");
    let bin = root.path().join("bin");
    let marked = root.path().join("test-data/tiny/cases/001-echo.json");
    let mut case: Value = serde_json::from_str(&std::fs::read_to_string(&marked).unwrap()).unwrap();
    case["reference"] = json!("msapi.md §5");
    case["expected"] =
        json!({"entries": [{"Type": 1, "ContentsFormat": "text", "Contents": "what the reference says"}]});
    write_json(&marked, &case);
    let before = std::fs::read_to_string(&marked).unwrap();

    let s = run_suite(root.path(), "tiny", &bin, &whole(true)).unwrap();
    assert!(s.rewritten.is_empty(), "{s:?}");
    assert_eq!(std::fs::read_to_string(&marked).unwrap(), before, "the file is left as it is");
    assert_eq!(s.failed.len(), 2, "both flows fail: {s:?}");
    assert!(
        s.failed[0]
            .contains("written from the reference's facts, msapi.md §5, so --bless does not rewrite it"),
        "{}",
        s.failed[0]
    );

    // Matching the reference, it passes under a bless too.
    case["expected"] = json!({"entries": serde_json::from_str::<Value>(ANSWER).unwrap()["entries"]});
    write_json(&marked, &case);
    let s = run_suite(root.path(), "tiny", &bin, &whole(true)).unwrap();
    assert_eq!((s.failed.len(), s.rewritten.len()), (0, 0), "{s:?}");
}

/// A bless of the whole suite keeps each flow's own expectation (the other flow's answer is not
/// dropped or overwritten by the first flow's).
#[test]
fn blessing_keeps_every_flows_expectation() {
    let root = tempfile::tempdir().unwrap();
    tiny(root.path(), "${TENANT_ID}");
    let bin = root.path().join("bin");
    // Only the client-secret flow sends a tenant: the two flows now answer differently.
    std::fs::write(
        bin.join("tiny"),
        "#!/bin/sh\nreq=$(cat)\ncase \"$req\" in *tenant_id*) t=cs;; *) t=mi;; esac\n\
         printf '{\"entries\":[{\"Contents\":\"%s\"}]}\\n' \"$t\"\n",
    )
    .unwrap();
    let s = run_suite(root.path(), "tiny", &bin, &whole(true)).unwrap();
    assert!(s.failed.is_empty(), "{s:?}");
    let echo: Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join("test-data/tiny/cases/001-echo.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(echo["expected"], json!({"entries": [{"Contents": "cs"}]}));
    assert_eq!(echo["expected_for"], json!({"managed-identity": {"entries": [{"Contents": "mi"}]}}));
    // Blessing again changes nothing, and each flow passes on its own.
    let s = run_suite(root.path(), "tiny", &bin, &whole(true)).unwrap();
    assert!(s.rewritten.is_empty(), "{s:?}");
    for flow in ["client-secret", "managed-identity"] {
        let s = run_suite(root.path(), "tiny", &bin, &opts(flow, false)).unwrap();
        assert_eq!(s.verdict(flow, "BLESS"), Ok(()), "{flow}");
    }
}
