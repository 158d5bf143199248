//! Finds every `test-data/<integration>/emulator-seed.json` and writes `$OUT_DIR/seeds.rs`, the
//! table `apis::seeded::BUILTIN_SEEDS` is included from: `(integration, include_str!(file))`
//! pairs sorted by folder name. A new integration folder with a seed is picked up by the next
//! build without an edit to the emulator (cargo re-runs this script when `test-data` changes).
//!
//! Only the folder listing happens here; the seeds are validated when an emulator starts (and by
//! the `builtin_seeds` test), so a bad seed is reported with the emulator's own messages.

// Cargo reads its directives from this script's standard output.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    // A directory makes cargo watch everything under it, so a new folder re-runs the script.
    println!("cargo:rerun-if-changed=../../test-data");
    let seeds = find_seeds(&manifest_dir.join("../../test-data"));
    let mut table = String::from("&[\n");
    for (name, file) in &seeds {
        println!("cargo:rerun-if-changed=../../test-data/{name}/emulator-seed.json");
        table.push_str(&format!("    ({name:?}, include_str!({:?})),\n", file.display().to_string()));
    }
    table.push_str("]\n");
    if let Err(e) = fs::write(out_dir.join("seeds.rs"), table) {
        panic!("cannot write {}: {e}", out_dir.join("seeds.rs").display());
    }
}

/// `(folder name, absolute path)` of each `<dir>/*/emulator-seed.json`, sorted by name.
fn find_seeds(test_data: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(test_data) else { return Vec::new() };
    let mut seeds: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("emulator-seed.json"))
        .filter(|file| file.is_file())
        .filter_map(|file| {
            let name = file.parent()?.file_name()?.to_str()?.to_owned();
            // include_str! needs a path that does not depend on the including file's location.
            Some((name, file.canonicalize().unwrap_or(file)))
        })
        .collect();
    seeds.sort();
    seeds
}
