//! JSON Schemas of the wire types, generated from the Rust types with `schemars`.
//!
//! The files under `crates/soar-protocol/schema/` are these strings, checked in as
//! documentation for engine authors. `cargo xtask codegen` rewrites them, and
//! `cargo xtask codegen --check` (and this crate's tests) fail when they are stale. Stability
//! of the wire bytes is enforced by the snapshots, not by the schemas.

use crate::{Manifest, Request, Response};

/// Each generated file: its path relative to this crate's directory, and its content.
pub fn generated_files() -> Vec<(&'static str, String)> {
    vec![
        ("schema/request.schema.json", pretty(schemars::schema_for!(Request))),
        ("schema/response.schema.json", pretty(schemars::schema_for!(Response))),
        ("schema/manifest.schema.json", pretty(schemars::schema_for!(Manifest))),
    ]
}

fn pretty(schema: schemars::Schema) -> String {
    // A Schema is a JSON value, so serializing it cannot fail; fall back to compact on the
    // impossible path rather than panic.
    let mut text =
        serde_json::to_string_pretty(schema.as_value()).unwrap_or_else(|_| schema.as_value().to_string());
    text.push('\n');
    text
}
