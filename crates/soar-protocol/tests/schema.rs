//! The checked-in JSON Schemas (`schema/*.json`) must match the types; `cargo xtask codegen`
//! rewrites them.

// Test helpers outside #[test] fns count as non-test code for clippy; this file is all tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn checked_in_schemas_are_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (path, content) in soar_protocol::schema::generated_files() {
        if std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(content.as_str()) {
            stale.push(path);
        }
    }
    assert!(stale.is_empty(), "stale schema files {stale:?}: run `cargo xtask codegen`");
}

#[test]
fn request_schema_requires_command() {
    // A sanity check that the schema describes the wire, not an empty shell.
    let files = soar_protocol::schema::generated_files();
    let request: serde_json::Value = serde_json::from_str(&files[0].1).unwrap();
    assert_eq!(request["required"], serde_json::json!(["command"]));
    assert!(request["properties"]["params"].is_object());
}
