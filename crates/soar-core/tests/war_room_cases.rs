//! Runs every golden War Room case (produced by the reference Python) against soar-core.
//!
//! The case file is a copy under `test-data/war-room/`; the evaluation is `soar_core::golden`,
//! the same code `cargo xtask check-cases` runs.

use std::path::PathBuf;

use soar_core::golden;

fn case_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-data/war-room").join(name)
}

/// Evaluates one case file; every case must pass, and the file must not be empty (a file
/// without cases would otherwise "pass").
fn check(name: &str, min_cases: usize) {
    let report = golden::check_file(&case_file(name)).unwrap_or_else(|e| panic!("{e}"));
    let failures = report.failure_lines();
    assert!(report.cases.len() >= min_cases, "{name}: only {} cases", report.cases.len());
    assert!(failures.is_empty(), "{}\n{}", failures.join("\n"), report.summary());
}

#[test]
fn reference_cases_pass() {
    check("war-room-cases.json", 30);
}

#[test]
fn documented_reference_outputs_pass() {
    // Hand-written from the outputs war-room.md quotes (examples the reference was run on).
    check("war-room-doc-cases.json", 100);
}

#[test]
fn dateparser_outputs_pass() {
    // Produced by running dateparser (what arg_to_datetime calls) with the reference's settings.
    check("dateparser-cases.json", 90);
}

#[test]
fn a_wrong_expectation_is_reported() {
    // Guards against a harness that cannot fail: flip one expected value and expect a failure.
    let text = std::fs::read_to_string(case_file("war-room-cases.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["cases"][0]["expected"] = serde_json::json!("### Not the table\n");
    let report = golden::check_json(&doc.to_string()).unwrap();
    assert_eq!(report.failed(), 1);
    assert!(report.failure_lines()[0].contains("strings differ at char"));
}
