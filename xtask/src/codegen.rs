//! `cargo xtask codegen [--check]`: regenerates checked-in generated files.
//!
//! Today these are the JSON Schemas of the protocol (`crates/soar-protocol/schema/*.json`),
//! produced by `soar_protocol::schema::generated_files`. With `--check` nothing is written and
//! the command fails, naming the stale files, when any of them differs from what the types give.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Writes every generated file, or with `check` only verifies them.
pub fn run(check: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let protocol_dir = root.join("crates/soar-protocol");
    let mut stale = Vec::new();
    for (path, content) in soar_protocol::schema::generated_files() {
        let full = protocol_dir.join(path);
        let current = std::fs::read_to_string(&full).ok();
        if current.as_deref() == Some(content.as_str()) {
            continue;
        }
        if check {
            stale.push(display(&root, &full));
        } else {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&full, content).with_context(|| format!("writing {}", full.display()))?;
            eprintln!("codegen: wrote {}", display(&root, &full));
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

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map(Path::to_path_buf).unwrap_or(manifest_dir)
}

fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}
