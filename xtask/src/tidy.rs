//! Repository invariants, checked by `cargo test -p xtask` (rust-analyzer's "tidy" idea).
//!
//! - every Rust file opens with a `//!` doc comment;
//! - no should-panic or ignored tests: a test asserts the behaviour it sees;
//! - nothing reads the steering repository's `shared/` folder (a user's clone has none);
//! - the emulator shares no code with soar-auth, soar-core, soar-protocol or the integrations:
//!   it depends on none of them, and they name it only as a dev-dependency, to run it as a
//!   black-box server in tests (see ARCHITECTURE.md, "The emulator's independence");
//! - the test tooling (`TEST_TOOLING`: the emulator and the conformance runner) stays out of
//!   the runtime: the runner may depend on the emulator, but every crate under `crates/` and
//!   `integrations/` names the runner only as a dev-dependency, and the runner drives the
//!   binaries over stdin/stdout, so it depends on none of the client-side crates but
//!   soar-protocol (the wire types).

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Crates that are test tooling: they may depend on the emulator, and runtime crates may
    /// name them only as dev-dependencies (the xtask, tooling itself, may depend on them).
    const TEST_TOOLING: &[&str] = &["soar-emulator", "soar-conformance"];

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && name != "node_modules" && !name.starts_with('.') {
                    files(&path, ext, out);
                }
            } else if name.ends_with(ext) {
                out.push(path);
            }
        }
    }

    fn project_files(ext: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for top in ["crates", "integrations", "xtask"] {
            files(&root().join(top), ext, &mut out);
        }
        out
    }

    /// The `[section]` a dependency line sits in, for every line naming `dep`.
    fn sections_naming(manifest: &str, dep: &str) -> Vec<String> {
        let mut section = String::new();
        let mut found = Vec::new();
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.trim_matches(|c| c == '[' || c == ']').to_owned();
            } else if line.split(['.', ' ', '=']).next() == Some(dep) {
                found.push(section.clone());
            }
        }
        found
    }

    #[test]
    fn every_rust_file_starts_with_module_docs() {
        let missing: Vec<_> = project_files(".rs")
            .into_iter()
            .filter(|p| !std::fs::read_to_string(p).unwrap().starts_with("//!"))
            .collect();
        assert!(missing.is_empty(), "add a `//!` comment saying what the module is for: {missing:?}");
    }

    #[test]
    fn no_should_panic_or_ignore() {
        let (a, b) = (concat!("#[should", "_panic"), concat!("#[ign", "ore"));
        let bad: Vec<_> = project_files(".rs")
            .into_iter()
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                text.contains(a) || text.contains(b)
            })
            .collect();
        assert!(bad.is_empty(), "assert the behaviour instead of {a}/{b}: {bad:?}");
    }

    #[test]
    fn nothing_reads_the_shared_folder() {
        let needle = concat!("../", "shared");
        let mut all = project_files(".rs");
        for ext in [".py", ".mjs", ".sh", ".toml"] {
            all.extend(project_files(ext));
        }
        all.push(root().join(".ci/run"));
        let bad: Vec<_> =
            all.into_iter().filter(|p| std::fs::read_to_string(p).unwrap().contains(needle)).collect();
        assert!(bad.is_empty(), "copy the data into test-data/ instead of reading {needle}: {bad:?}");
    }

    #[test]
    fn the_emulator_shares_no_code_with_the_client_side() {
        let emulator = std::fs::read_to_string(root().join("crates/soar-emulator/Cargo.toml")).unwrap();
        let mut client_side = vec!["soar-protocol", "soar-core", "soar-auth", "soar-auth-commands"];
        let mut manifests = vec![root().join("crates/soar-auth/Cargo.toml")];
        for entry in std::fs::read_dir(root().join("integrations")).unwrap() {
            let dir = entry.unwrap().path();
            manifests.push(dir.join("Cargo.toml"));
            client_side
                .push(Box::leak(dir.file_name().unwrap().to_string_lossy().into_owned().into_boxed_str()));
        }
        for entry in std::fs::read_dir(root().join("crates")).unwrap() {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            // The engine's demo runs the emulator in process (see its manifest).
            if !TEST_TOOLING.contains(&name.as_str()) && name != "soar-engine" {
                manifests.push(dir.join("Cargo.toml"));
            }
        }
        for dep in &client_side {
            assert!(
                sections_naming(&emulator, dep).is_empty(),
                "soar-emulator must not depend on {dep}: it is an independent implementation of the other side"
            );
        }
        for manifest in manifests {
            let text = std::fs::read_to_string(&manifest).unwrap();
            for section in sections_naming(&text, "soar-emulator") {
                assert_eq!(
                    section,
                    "dev-dependencies",
                    "{} may use soar-emulator only as a dev-dependency (a black-box server in tests)",
                    manifest.display()
                );
            }
        }
    }

    /// Every crate folder under `crates/` and `integrations/`: (name, manifest path).
    fn workspace_crates() -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        for top in ["crates", "integrations"] {
            for entry in std::fs::read_dir(root().join(top)).unwrap() {
                let dir = entry.unwrap().path();
                if dir.join("Cargo.toml").is_file() {
                    out.push((
                        dir.file_name().unwrap().to_string_lossy().into_owned(),
                        dir.join("Cargo.toml"),
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// `unsafe_code = "forbid"` holds everywhere but in `soar-alloc`, the allocator, which
    /// repeats the other workspace lints and allows `unsafe` item by item.
    #[test]
    fn every_crate_but_the_allocator_takes_the_workspace_lints() {
        let mut manifests = workspace_crates();
        manifests.push(("xtask".into(), root().join("xtask/Cargo.toml")));
        for (name, manifest) in manifests {
            let text = std::fs::read_to_string(&manifest).unwrap();
            let inherits = text.contains("[lints]\nworkspace = true");
            if name == "soar-alloc" {
                assert!(
                    !inherits && text.contains("unsafe_code = \"deny\""),
                    "soar-alloc must deny unsafe_code"
                );
            } else {
                assert!(
                    inherits,
                    "{} must take the workspace lints ([lints] workspace = true)",
                    manifest.display()
                );
            }
        }
    }

    #[test]
    fn the_conformance_runner_is_only_a_dev_dependency() {
        let crates = workspace_crates();
        assert!(
            crates.iter().any(|(name, _)| name == "soar-conformance"),
            "crates/soar-conformance is gone: update TEST_TOOLING and this check"
        );
        for (name, manifest) in &crates {
            if name == "soar-conformance" {
                continue;
            }
            let text = std::fs::read_to_string(manifest).unwrap();
            for section in sections_naming(&text, "soar-conformance") {
                assert_eq!(
                    section,
                    "dev-dependencies",
                    "{} may use soar-conformance (test tooling that links the emulator) only as a dev-dependency",
                    manifest.display()
                );
            }
        }
    }

    #[test]
    fn the_conformance_runner_drives_binaries_and_links_no_client_code() {
        let runner = std::fs::read_to_string(root().join("crates/soar-conformance/Cargo.toml")).unwrap();
        for (name, _) in workspace_crates() {
            if TEST_TOOLING.contains(&name.as_str()) || name == "soar-protocol" {
                continue;
            }
            assert!(
                sections_naming(&runner, &name).is_empty(),
                "soar-conformance must not depend on {name}: it runs the integration binaries over stdin/stdout \
                 (only soar-emulator and soar-protocol are allowed)"
            );
        }
    }

    #[test]
    fn sections_naming_finds_the_section_of_a_dependency() {
        let manifest =
            "[dependencies]\nfoo.workspace = true\n\n[dev-dependencies]\nbar = \"1\"\nfoo-x = \"1\"\n";
        assert_eq!(sections_naming(manifest, "foo"), vec!["dependencies"]);
        assert_eq!(sections_naming(manifest, "bar"), vec!["dev-dependencies"]);
        assert!(sections_naming(manifest, "baz").is_empty());
    }
}
