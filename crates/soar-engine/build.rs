//! Embeds every conformance suite (`test-data/*/conformance.json`) into the engine, so that
//! `soar demo` and `soar flows` know the project's integrations from their data: a new
//! integration's suite is picked up with no edit to the engine.
//!
//! It writes `$OUT_DIR/suites.rs`, a `SUITES: &[(folder, json text)]` table of `include_str!`s
//! in folder-name order, which `src/suites.rs` includes. Cargo re-runs it when the `test-data`
//! folder or one of the suite files changes. Cargo watches a folder recursively, so any change
//! under `test-data/` (a blessed case, a seed) re-runs it and recompiles this crate (seconds);
//! that is the price of noticing a new suite folder without an edit here. Without a `test-data`
//! folder (the crate built outside this repository) the table is empty.

#![allow(clippy::print_stdout)] // build scripts talk to cargo on stdout

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let test_data = manifest_dir.join("../../test-data");
    println!("cargo:rerun-if-changed={}", test_data.display());
    let mut suites: Vec<(String, PathBuf)> = std::fs::read_dir(&test_data)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().join("conformance.json")))
        .filter(|(_, file)| file.is_file())
        .collect();
    suites.sort();
    let mut code = String::from(
        "/// Every `test-data/<folder>/conformance.json`: (folder, file text), in folder-name order.\n\
         pub const SUITES: &[(&str, &str)] = &[\n",
    );
    for (name, file) in &suites {
        let file = file.canonicalize().unwrap_or_else(|_| file.clone());
        println!("cargo:rerun-if-changed={}", file.display());
        code.push_str(&format!("    ({name:?}, include_str!({:?})),\n", file.display().to_string()));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("suites.rs");
    if let Err(e) = write_if_changed(&out, &code) {
        panic!("could not write {}: {e}", out.display());
    }
}

/// Writes `text` to `path` unless it already holds it.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}
