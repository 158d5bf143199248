//! Integration binaries: where they are found and what their `--manifest` says.
//!
//! A binary is found by its integration name (crate name = binary name = command prefix) in the
//! `SOAR_BIN_DIR` (an explicit choice wins), then the `soar` executable's directory, then `PATH`. Its manifest
//! (`<binary> --manifest`: a [`soar_protocol::Manifest`], the XSOAR YAML shape with flows,
//! params, commands and their arguments) is reduced to the [`Manifest`] view the engine needs
//! and cached under
//! `<data dir>/cache/manifests/` keyed by the binary's path, size and mtime, so validating a
//! command line costs a file read, not a second process.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::cmdline::closest;
use crate::error::{EngineError, Result};
use crate::fsutil::{ensure_private_dir, read_optional, write_private_atomic};

/// The part of an integration's manifest the engine uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The integration name (= prefix).
    #[serde(default)]
    pub name: String,
    /// The name a person sees.
    #[serde(default)]
    pub display_name: String,
    /// Supported auth flows (kebab-case `AuthFlow` names).
    #[serde(default)]
    pub flows: Vec<String>,
    /// Instance parameters.
    #[serde(default)]
    pub params: Vec<ParamInfo>,
    /// Every command the binary answers.
    pub commands: Vec<CommandInfo>,
}

/// XSOAR param type codes (in the manifest's `configuration`).
const PARAM_ENCRYPTED: i64 = 4;
const PARAM_CREDENTIALS: i64 = 9;

impl From<&soar_protocol::Manifest> for Manifest {
    fn from(m: &soar_protocol::Manifest) -> Manifest {
        Manifest {
            name: m.prefix.clone(),
            display_name: m.display.clone(),
            flows: m.auth_flows.iter().map(|f| crate::flows::flow_key(*f)).collect(),
            params: m
                .configuration
                .iter()
                .map(|p| ParamInfo {
                    name: p.name.clone(),
                    display: p.display.clone(),
                    required: p.required,
                    secret: p.param_type == PARAM_ENCRYPTED,
                    credentials: p.param_type == PARAM_CREDENTIALS,
                })
                .collect(),
            commands: m
                .script
                .commands
                .iter()
                .map(|c| CommandInfo {
                    name: c.name.clone(),
                    description: c.description.clone(),
                    args: c
                        .arguments
                        .iter()
                        .map(|a| ArgInfo {
                            name: a.name.clone(),
                            required: a.required,
                            default: a.default_value.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// One instance parameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    /// The key.
    pub name: String,
    /// The label.
    #[serde(default)]
    pub display: String,
    /// Must be set.
    #[serde(default)]
    pub required: bool,
    /// A secret string.
    #[serde(default)]
    pub secret: bool,
    /// A `{identifier, password}` object.
    #[serde(default)]
    pub credentials: bool,
}

/// One command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandInfo {
    /// The full name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<ArgInfo>,
}

/// One argument.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArgInfo {
    /// The name.
    pub name: String,
    /// Must be given.
    #[serde(default)]
    pub required: bool,
    /// The default value.
    #[serde(default)]
    pub default: Option<String>,
}

impl Manifest {
    /// The command named `name`, or a one-line error naming the likely one.
    pub fn command(&self, name: &str, integration: &str) -> Result<&CommandInfo> {
        if let Some(c) = self.commands.iter().find(|c| c.name == name) {
            return Ok(c);
        }
        let hint = match closest(name, self.commands.iter().map(|c| c.name.as_str())) {
            Some(c) => format!("did you mean !{c}? "),
            None => String::new(),
        };
        Err(EngineError::Usage(format!(
            "Unknown command !{name} for integration {integration}: {hint}`soar commands {integration}` lists its commands."
        )))
    }

    /// Checks the typed arguments of a command against its manifest entry.
    pub fn check_args(&self, command: &CommandInfo, args: &[(String, String)]) -> Result<()> {
        for (name, _) in args {
            if !command.args.iter().any(|a| a.name == *name) {
                let names: Vec<&str> = command.args.iter().map(|a| a.name.as_str()).collect();
                let hint = match closest(name, names.iter().copied()) {
                    Some(c) => format!("did you mean {c}=...? "),
                    None => String::new(),
                };
                let list = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
                return Err(EngineError::Usage(format!(
                    "Unknown argument {name} for !{}: {hint}its arguments are: {list}.",
                    command.name
                )));
            }
        }
        if let Some(missing) =
            command.args.iter().find(|a| a.required && !args.iter().any(|(n, _)| *n == a.name))
        {
            return Err(EngineError::Usage(format!(
                "Missing required argument {0} for !{1}: add {0}=<value>, e.g. soar run '!{1} {0}=...'.",
                missing.name, command.name
            )));
        }
        Ok(())
    }
}

/// Finds integration binaries.
#[derive(Debug, Clone, Default)]
pub struct Finder {
    /// The directory of the running `soar` executable.
    pub exe_dir: Option<PathBuf>,
    /// The `PATH` value.
    pub path: Option<OsString>,
    /// `SOAR_BIN_DIR`.
    pub bin_dir: Option<PathBuf>,
}

impl Finder {
    /// From the running process.
    pub fn from_env() -> Finder {
        Finder {
            exe_dir: std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_owned)),
            path: std::env::var_os("PATH"),
            bin_dir: std::env::var_os("SOAR_BIN_DIR").filter(|v| !v.is_empty()).map(PathBuf::from),
        }
    }

    /// The directories searched, in order: `SOAR_BIN_DIR`, the `soar` executable's directory, `PATH`.
    pub fn dirs(&self) -> Vec<PathBuf> {
        // An explicit SOAR_BIN_DIR wins: a person who sets it means those binaries.
        let mut dirs: Vec<PathBuf> = self.bin_dir.iter().cloned().collect();
        dirs.extend(self.exe_dir.iter().cloned());
        if let Some(path) = &self.path {
            dirs.extend(std::env::split_paths(path).filter(|p| !p.as_os_str().is_empty()));
        }
        dirs
    }

    /// The binary of `integration`, if one exists.
    pub fn try_find(&self, integration: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        if integration.contains('/') || integration.is_empty() {
            return None;
        }
        self.dirs()
            .into_iter()
            .map(|d| d.join(integration))
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
    }

    /// The binary of `integration`, or an error saying where it was looked for.
    pub fn find(&self, integration: &str) -> Result<PathBuf> {
        self.try_find(integration).ok_or_else(|| {
            let dirs: Vec<String> = self.exe_dir.iter().chain(self.bin_dir.iter()).map(|d| d.display().to_string()).collect();
            EngineError::Usage(format!(
                "No binary named {integration} found next to soar, on PATH or in SOAR_BIN_DIR ({}): build it with \
                 `cargo build --release -p {integration}` or set SOAR_BIN_DIR=<dir with the binary>.",
                dirs.join(", ")
            ))
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    path: PathBuf,
    len: u64,
    mtime_ns: u128,
    manifest: Manifest,
}

/// Reads manifests, through the cache under `cache_dir` when it is given.
#[derive(Debug, Clone)]
pub struct Manifests {
    cache_dir: Option<PathBuf>,
}

impl Manifests {
    /// A reader caching under `<data dir>/cache/manifests`, or not caching at all.
    pub fn new(data_dir: Option<&Path>) -> Manifests {
        Manifests { cache_dir: data_dir.map(|d| d.join("cache/manifests")) }
    }

    /// The manifest of the binary at `path` for `integration`. `Ok(None)` when the binary does
    /// not answer `--manifest` with one (the caller then skips validation).
    pub fn get(&self, integration: &str, path: &Path) -> Result<Option<Manifest>> {
        let meta = std::fs::metadata(path).map_err(|e| EngineError::io("Could not inspect", path, e))?;
        let mtime_ns =
            meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let cache_file = self.cache_dir.as_ref().map(|d| d.join(format!("{integration}.json")));
        if let Some(file) = &cache_file
            && let Some(bytes) = read_optional(file)?
            && let Ok(entry) = serde_json::from_slice::<CacheEntry>(&bytes)
            && entry.path == path
            && entry.len == meta.len()
            && entry.mtime_ns == mtime_ns
        {
            return Ok(Some(entry.manifest));
        }
        let Some(manifest) = read_manifest(path)? else { return Ok(None) };
        if let (Some(dir), Some(file)) = (&self.cache_dir, &cache_file) {
            let entry =
                CacheEntry { path: path.to_owned(), len: meta.len(), mtime_ns, manifest: manifest.clone() };
            // The cache is an optimisation: failing to write it is not an error.
            if ensure_private_dir(dir).is_ok()
                && let Ok(bytes) = serde_json::to_vec(&entry)
            {
                let _ = write_private_atomic(file, &bytes, false);
            }
        }
        Ok(Some(manifest))
    }
}

/// Runs `<binary> --manifest` (stdin closed) and parses what it prints.
pub fn read_manifest(path: &Path) -> Result<Option<Manifest>> {
    let out = Command::new(path)
        .arg("--manifest")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| EngineError::Integration(format!("Could not run {} --manifest: {e}", path.display())))?;
    match serde_json::from_slice::<soar_protocol::Manifest>(&out.stdout) {
        Ok(m) if out.status.success() => Ok(Some(Manifest::from(&m))),
        Ok(_) => {
            tracing::warn!(
                "{} --manifest exited with {}; command lines are not checked",
                path.display(),
                out.status
            );
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(
                "{} does not answer --manifest with a manifest ({e}); command lines are not checked against it",
                path.display()
            );
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        serde_json::from_value(serde_json::json!({
            "name": "msgraph-user",
            "commands": [
                {"name": "msgraph-user-list", "args": [{"name": "limit"}, {"name": "properties"}]},
                {"name": "msgraph-user-get", "args": [{"name": "user", "required": true}]},
                {"name": "msgraph-user-auth-test"}
            ]
        }))
        .unwrap()
    }

    fn check(command: &str, args: &[(&str, &str)], want: Result<(), &str>) {
        let m = manifest();
        let args: Vec<(String, String)> = args.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let got = m.command(command, "msgraph-user").and_then(|c| m.check_args(c, &args));
        match (got, want) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(fragment)) => assert!(e.to_string().contains(fragment), "{command}: {e}"),
            (got, want) => panic!("{command}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn command_lines_are_checked_against_the_manifest() {
        check("msgraph-user-list", &[("limit", "5")], Ok(()));
        check(
            "msgraph-user-lst",
            &[],
            Err(
                "Unknown command !msgraph-user-lst for integration msgraph-user: did you mean !msgraph-user-list?",
            ),
        );
        check(
            "msgraph-user-list",
            &[("limt", "5")],
            Err(
                "Unknown argument limt for !msgraph-user-list: did you mean limit=...? its arguments are: limit, properties.",
            ),
        );
        check("msgraph-user-auth-test", &[("x", "1")], Err("its arguments are: none."));
        check(
            "msgraph-user-get",
            &[],
            Err("Missing required argument user for !msgraph-user-get: add user=<value>"),
        );
    }

    #[test]
    fn finder_searches_bin_dir_then_exe_dir_then_path() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let mk = |dir: &str, exec: bool| {
            let d = tmp.path().join(dir);
            std::fs::create_dir_all(&d).unwrap();
            let f = d.join("tool");
            std::fs::write(&f, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 }))
                .unwrap();
            d
        };
        let (exe, path, bin, noexec) =
            (mk("exe", true), mk("path", true), mk("bin", true), mk("noexec", false));
        let finder = |b: Option<&Path>, e: Option<&Path>, p: Option<&Path>| Finder {
            exe_dir: e.map(Path::to_owned),
            path: p.map(|p| std::env::join_paths([noexec.clone(), p.to_owned()]).unwrap()),
            bin_dir: b.map(Path::to_owned),
        };
        assert_eq!(finder(Some(&bin), Some(&exe), Some(&path)).try_find("tool"), Some(bin.join("tool")));
        assert_eq!(finder(None, Some(&exe), Some(&path)).try_find("tool"), Some(exe.join("tool")));
        assert_eq!(finder(None, None, Some(&path)).try_find("tool"), Some(path.join("tool")));
        assert_eq!(finder(Some(&bin), None, None).try_find("other"), None);
        assert_eq!(finder(None, Some(&exe), None).try_find("../exe/tool"), None);
        let finder = |_: Option<&Path>, _: Option<&Path>| finder(Some(&bin), None, None);
        let err = finder(None, None).find("other").unwrap_err().to_string();
        assert!(err.contains("cargo build --release -p other"), "{err}");
    }
}
