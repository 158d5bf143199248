//! The integrations the xtask documents: every folder under `integrations/` with a
//! `Cargo.toml` (folder = crate = binary = prefix), and their manifests as their binaries print
//! them with `--manifest`.
//!
//! Decision: the xtask builds the binaries (`cargo build -p <each>`, debug, quick when they are
//! current) and runs them, rather than linking the integration crates, so a new integration is
//! picked up from its folder alone: nothing to list here or in `xtask/Cargo.toml`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use soar_protocol::Manifest;

/// The integration folder names, sorted.
pub fn names(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = root.join("integrations");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.join("Cargo.toml").is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            out.push(name.to_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// Where cargo puts debug binaries.
fn bin_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join("debug")
}

/// The manifest of every integration, in folder-name order, from its freshly built binary.
pub fn manifests(root: &Path) -> anyhow::Result<Vec<Manifest>> {
    let names = names(root)?;
    let mut build = soar_conformance::cargo_command();
    build.current_dir(root).args(["build", "--quiet"]);
    for n in &names {
        build.args(["-p", n]);
    }
    let status = build.status().context("running cargo build for the integration binaries")?;
    if !status.success() {
        bail!("cargo build of the integration binaries failed");
    }
    names
        .iter()
        .map(|n| {
            let bin = bin_dir(root).join(n);
            let out = Command::new(&bin)
                .arg("--manifest")
                .output()
                .with_context(|| format!("running {} --manifest", bin.display()))?;
            if !out.status.success() {
                bail!("{} --manifest failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr));
            }
            serde_json::from_slice(&out.stdout).with_context(|| format!("reading the manifest of {n}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::xsoar;

    fn root() -> std::path::PathBuf {
        crate::codegen::workspace_root()
    }

    fn manifests() -> Vec<Manifest> {
        super::manifests(&root()).unwrap()
    }

    #[test]
    fn every_integration_folder_has_a_manifest_named_by_it() {
        let listed: Vec<String> = manifests().into_iter().map(|m| m.prefix).collect();
        assert_eq!(listed, names(&root()).unwrap(), "folder = crate = binary = prefix");
        assert!(listed.len() >= 2);
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
