//! The integrations the xtask documents, linked in-process: their manifests are what their
//! binaries print with `--manifest` (both come from `soar_core::Dispatcher::manifest`).
//!
//! Decision: the xtask depends on each integration crate (the tidy rules allow it; integration
//! crates never depend on the xtask) instead of building and running the binaries, so
//! `cargo xtask codegen --check` needs no extra build step and the round-trip test is a plain
//! `cargo test`. A new integration adds one line to [`manifests`] and one dependency to
//! `xtask/Cargo.toml`; a test fails when a folder under `integrations/` is missing here.

use soar_core::Dispatcher;
use soar_protocol::Manifest;

/// The manifest of every integration, in folder-name order.
pub fn manifests() -> Vec<Manifest> {
    vec![
        Dispatcher::new(&azure_storage::integration()).manifest(),
        Dispatcher::new(&msgraph_user::integration()).manifest(),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::xsoar;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    #[test]
    fn every_integration_folder_is_listed() {
        let mut folders: Vec<String> = std::fs::read_dir(root().join("integrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("Cargo.toml").is_file())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let listed: Vec<String> = manifests().into_iter().map(|m| m.prefix).collect();
        assert_eq!(listed, folders, "add the integration to xtask/src/integrations.rs and xtask/Cargo.toml");
    }

    #[test]
    fn each_checked_in_yaml_reads_back_as_its_manifest() {
        for m in manifests() {
            let path = root().join("integrations").join(&m.prefix).join(xsoar::yaml_file_name(&m));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask codegen`", path.display()));
            let back = xsoar::manifest_from_yaml(&text).unwrap();
            let want = xsoar::shared_fields(&m);
            // Field by field first, so a failure names what differs.
            assert_eq!(back.configuration, want.configuration, "{}: configuration", m.prefix);
            for (got, want) in back.script.commands.iter().zip(&want.script.commands) {
                assert_eq!(got, want, "{}: command {}", m.prefix, want.name);
            }
            assert_eq!(back, want, "{}", path.display());
            assert!(!m.script.commands.is_empty() && !m.configuration.is_empty());
        }
    }

    #[test]
    fn checkboxes_and_texts_reach_the_manifest() {
        for m in manifests() {
            assert!(!m.description.is_empty() && !m.category.is_empty(), "{}", m.prefix);
            assert!(m.detaileddescription.contains(&format!("`!{}-auth-reset`", m.prefix)), "{}", m.prefix);
            for p in m.configuration.iter().filter(|p| {
                ["self_deployed", "use_managed_identities", "insecure", "proxy", "handle_error"]
                    .contains(&p.name.as_str())
            }) {
                assert_eq!(p.param_type, 8, "{}: {} is a checkbox", m.prefix, p.name);
            }
        }
        let graph = manifests().into_iter().find(|m| m.prefix == "msgraph-user").unwrap();
        assert!(graph.detaileddescription.contains("https://oproxy.demisto.ninja/ms-graph-user"));
    }
}
