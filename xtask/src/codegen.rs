//! `cargo xtask codegen [--check]`: regenerates checked-in generated files.
//!
//! These are:
//! - the JSON Schemas of the protocol (`crates/soar-protocol/schema/*.json`), produced by
//!   `soar_protocol::schema::generated_files`;
//! - per integration, the XSOAR integration YAML `integrations/<prefix>/<Name>.yml` and the
//!   `integrations/<prefix>/README.md`, written by [`crate::xsoar`] from the integration's
//!   manifest (its binary's `--manifest`, [`crate::integrations::manifests`]) and, for the README's examples, its
//!   conformance cases (`test-data/<prefix>/cases/*.json`).
//!
//! With `--check` nothing is written and the command fails, naming the stale files, when any of
//! them differs from what the code gives. `cargo xtask test` runs the check.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::{integrations, xsoar};

/// Every generated file: its path from the workspace root and its content.
pub fn generated_files(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files: Vec<(PathBuf, String)> = soar_protocol::schema::generated_files()
        .into_iter()
        .map(|(path, content)| (Path::new("crates/soar-protocol").join(path), content))
        .collect();
    for m in integrations::manifests(root)? {
        let dir = Path::new("integrations").join(&m.prefix);
        let yaml = xsoar::yaml_text(&m)?;
        // The YAML must say what the manifest says: read it back before writing it.
        if xsoar::manifest_from_yaml(&yaml)? != xsoar::shared_fields(&m) {
            bail!("the YAML written for {} does not read back as its manifest", m.prefix);
        }
        files.push((dir.join(xsoar::yaml_file_name(&m)), yaml));
        let examples = xsoar::examples(&root.join("test-data").join(&m.prefix).join("cases"), &m)?;
        files.push((dir.join("README.md"), xsoar::readme(&m, &examples)));
    }
    Ok(files)
}

/// Writes every generated file, or with `check` only verifies them.
pub fn run(check: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let mut stale = Vec::new();
    for (path, content) in generated_files(&root)? {
        let full = root.join(&path);
        let current = std::fs::read_to_string(&full).ok();
        if current.as_deref() == Some(content.as_str()) {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&full, content).with_context(|| format!("writing {}", full.display()))?;
            eprintln!("codegen: wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated files are stale: {}. Run `cargo xtask codegen` and commit the result.",
            stale.join(", ")
        );
    }
    if check {
        eprintln!("codegen: all generated files are current");
    }
    Ok(())
}

pub(crate) fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map(Path::to_path_buf).unwrap_or(manifest_dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_generated_files_are_current() {
        // The same check as `cargo xtask codegen --check`, so `cargo test` catches a stale file.
        let root = super::workspace_root();
        let stale: Vec<_> = super::generated_files(&root)
            .unwrap()
            .into_iter()
            .filter(|(path, content)| {
                std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(content)
            })
            .map(|(path, _)| path)
            .collect();
        assert!(stale.is_empty(), "stale generated files {stale:?}: run `cargo xtask codegen`");
    }
}
