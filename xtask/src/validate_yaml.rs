//! `cargo xtask validate-yaml`: every generated integration YAML (`integrations/*/*.yml`)
//! against the integration schema that demisto-sdk ships
//! (`demisto_sdk/commands/common/schemas/integration.yml`, a pykwalify schema).
//!
//! The schema is not checked in. The stage makes a venv under `target/validate-yaml/venv` with
//! the pinned `pykwalify` (the peers' venv pattern, `peers_ms::python_venv`), downloads the
//! pinned demisto-sdk wheel with `pip download --no-deps`, takes that one file out of the
//! wheel (a zip) with the venv's Python, and runs `pykwalify -d <yaml> -s <schema>` per file,
//! printing one line per file and `N passed, M failed`. Before that it checks that the
//! validator refuses a copy of the first YAML without its required `category`, so that a
//! validator accepting everything cannot make the stage pass.
//!
//! The pinned schema uses no `func:` extension hooks (the stage checks it and stops with a
//! message if a new pin brings one, since pykwalify would then need extension functions).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The demisto-sdk release whose schema the YAML must pass.
pub const DEMISTO_SDK_VERSION: &str = "1.39.13";
/// The pykwalify release that reads it.
pub const PYKWALIFY_VERSION: &str = "1.8.0";
const SCHEMA_IN_WHEEL: &str = "demisto_sdk/commands/common/schemas/integration.yml";

/// Validates every integration YAML; fails when one does not pass.
pub fn run() -> anyhow::Result<()> {
    let root = crate::codegen::workspace_root();
    let files = yaml_files(&root)?;
    validate_files(&root, &files)
}

/// Validates the given YAML files (the integrations' own, or the packs' of `pack-check`).
#[allow(clippy::print_stdout)] // the count is for the person (and CI) reading stdout
pub fn validate_files(root: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    let work = root.join("target/validate-yaml");
    let python = crate::peers_ms::python_venv(
        &work.join("venv"),
        &format!("import pykwalify, sys; sys.exit(pykwalify.__version__ != '{PYKWALIFY_VERSION}')"),
        &[&format!("pykwalify=={PYKWALIFY_VERSION}")],
    )?;
    let schema = schema_file(&python, &work)?;
    let text = std::fs::read_to_string(&schema).context("reading the schema")?;
    if text.contains("func:") {
        bail!(
            "{} uses pykwalify extension functions (`func:`); add them under xtask/ and pass them with -e",
            schema.display()
        );
    }
    let pykwalify = python.with_file_name("pykwalify");
    let validate = |yaml: &Path| {
        Command::new(&pykwalify)
            .arg("-d")
            .arg(yaml)
            .arg("-s")
            .arg(&schema)
            .output()
            .context("running pykwalify")
    };
    // The validator must refuse a YAML without a required key, or a pass means nothing.
    if let Some(first) = files.first() {
        let broken = work.join("broken-check.yml");
        let text = std::fs::read_to_string(first)?;
        let without_category: String =
            text.lines().filter(|l| !l.starts_with("category:")).map(|l| format!("{l}\n")).collect();
        std::fs::write(&broken, without_category)?;
        if validate(&broken)?.status.success() {
            bail!("pykwalify accepted {} without its required `category`", broken.display());
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for yaml in files {
        let shown = yaml.strip_prefix(root).unwrap_or(yaml).display().to_string();
        let out = validate(yaml)?;
        if out.status.success() {
            passed += 1;
            eprintln!("ok      {shown}");
        } else {
            failed += 1;
            eprintln!(
                "FAILED  {shown}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        bail!("the integration YAML does not validate against demisto-sdk {DEMISTO_SDK_VERSION}'s schema");
    }
    Ok(())
}

/// `integrations/*/*.yml`, sorted.
fn yaml_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root.join("integrations")).context("reading integrations/")? {
        let dir = dir?.path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "yml") {
                out.push(file);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The schema file, taken out of the pinned wheel once.
fn schema_file(python: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    let schema = work.join(format!("demisto-sdk-{DEMISTO_SDK_VERSION}-integration.yml"));
    if schema.is_file() {
        return Ok(schema);
    }
    let wheels = work.join("wheels");
    let status = Command::new(python)
        .args(["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--dest"])
        .arg(&wheels)
        .arg(format!("demisto-sdk=={DEMISTO_SDK_VERSION}"))
        .status()
        .context("running pip download")?;
    if !status.success() {
        bail!("pip download demisto-sdk=={DEMISTO_SDK_VERSION} failed");
    }
    let wheel = std::fs::read_dir(&wheels)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(&format!("demisto_sdk-{DEMISTO_SDK_VERSION}-")) && name.ends_with(".whl")
        })
        .with_context(|| format!("no demisto-sdk {DEMISTO_SDK_VERSION} wheel in {}", wheels.display()))?;
    let status = Command::new(python)
        .args([
            "-c",
            "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))",
        ])
        .arg(&wheel)
        .arg(SCHEMA_IN_WHEEL)
        .arg(&schema)
        .status()
        .context("extracting the schema from the wheel")?;
    if !status.success() {
        bail!("{SCHEMA_IN_WHEEL} is not in {}", wheel.display());
    }
    Ok(schema)
}
