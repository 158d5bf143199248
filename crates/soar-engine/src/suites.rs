//! The project's integrations, known from their conformance suites: every
//! `test-data/<integration>/conformance.json`, embedded at build time by `build.rs`, so that a
//! new integration's suite reaches `soar demo` and `soar flows` with no edit to the engine.
//!
//! The file format belongs to the conformance runner (`crates/soar-conformance`, which the engine
//! does not link); the engine reads the part it needs: `binary`, and per flow (the kebab-case
//! `AuthFlow` name) its `params` (with the emulator's `${NAME}` placeholders) and `setup`
//! (`device-code`, `auth-code` or none), per cloud the params that select it (`_key` values are
//! the placeholder `${KEY}`, not params), and the optional `demo` list of War Room lines.

use serde::Deserialize;
use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/suites.rs"));

/// The part of a `conformance.json` the engine reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Suite {
    /// The binary (= crate = folder = command prefix) name.
    pub binary: String,
    /// Flow name -> its [`FlowSetup`], in file order.
    pub flows: Map<String, Value>,
    /// Cloud name -> the params that select it, in file order.
    #[serde(default)]
    pub clouds: Map<String, Value>,
    /// The War Room lines `soar demo` runs after the test command (placeholders allowed).
    #[serde(default)]
    pub demo: Option<Vec<String>>,
}

/// One flow of a suite.
#[derive(Debug, Clone, Deserialize)]
pub struct FlowSetup {
    /// The instance params (placeholders allowed).
    pub params: Map<String, Value>,
    /// The sign-in before the first command: `device-code`, `auth-code`, or none.
    #[serde(default)]
    pub setup: Option<String>,
}

/// Parses the suite of test-data folder `folder`; the error names the file.
pub fn parse(folder: &str, text: &str) -> Result<Suite, String> {
    serde_json::from_str(text).map_err(|e| format!("test-data/{folder}/conformance.json: {e}"))
}

/// Every embedded suite, in folder-name order, with its folder name.
pub fn embedded() -> Result<Vec<(String, Suite)>, String> {
    SUITES.iter().map(|(folder, text)| Ok(((*folder).to_owned(), parse(folder, text)?))).collect()
}

/// The integrations of this project: the binaries of the embedded suites (those that parse), in
/// folder-name order.
pub fn integrations() -> Vec<String> {
    SUITES.iter().filter_map(|(folder, text)| parse(folder, text).ok()).map(|s| s.binary).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_of_test_data_is_embedded_and_parses() {
        let test_data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-data");
        let mut on_disk: Vec<String> = std::fs::read_dir(&test_data)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().join("conformance.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded = embedded().unwrap();
        assert_eq!(embedded.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(), on_disk);
        assert!(!on_disk.is_empty(), "test-data holds no suite");
        for (folder, suite) in &embedded {
            let text = std::fs::read_to_string(test_data.join(folder).join("conformance.json")).unwrap();
            assert_eq!(SUITES.iter().find(|(f, _)| f == folder).map(|(_, t)| *t), Some(text.as_str()));
            assert!(!suite.flows.is_empty(), "{folder} declares no flow");
        }
        assert_eq!(integrations(), embedded.iter().map(|(_, s)| s.binary.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn a_broken_suite_is_named() {
        let e = parse("x", r#"{"flows": {}}"#).unwrap_err();
        assert!(e.starts_with("test-data/x/conformance.json: missing field `binary`"), "{e}");
    }
}
