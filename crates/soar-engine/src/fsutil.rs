//! The data directory and private, atomic file writes.
//!
//! Every file the engine writes is created with mode 0600 inside directories with mode 0700,
//! because instance files hold secrets and context files hold tokens. Writes go to a temporary
//! file in the same directory, are fsynced, renamed over the target and the directory is fsynced,
//! so a crash leaves either the old file or the new one, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};

/// The suffix of temporary files; anything named `<file>.tmp.*` is a leftover of a crash.
pub const TMP_MARKER: &str = ".tmp.";

/// Picks the data directory: the `--data-dir` flag, then `SOAR_DATA_DIR`, then
/// `$XDG_DATA_HOME/soar`, then `$HOME/.local/share/soar`.
pub fn resolve_data_dir(flag: Option<PathBuf>, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("SOAR_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_DATA_HOME") {
        return Ok(PathBuf::from(dir).join("soar"));
    }
    if let Some(home) = non_empty("HOME") {
        return Ok(PathBuf::from(home).join(".local/share/soar"));
    }
    Err(EngineError::Usage(
        "No data directory: HOME is not set. Pass --data-dir DIR or set SOAR_DATA_DIR=DIR.".to_owned(),
    ))
}

/// Creates `dir` (and its parents) with mode 0700 and makes sure `dir` itself is 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| EngineError::io("Could not create directory", dir, e))?;
    let meta = fs::metadata(dir).map_err(|e| EngineError::io("Could not inspect directory", dir, e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| EngineError::io("Could not make directory private", dir, e))?;
    }
    Ok(())
}

/// Reads a file, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::io("Could not read", path, e)),
    }
}

/// Writes `bytes` to `path` atomically with mode 0600: temp file, fsync, rename, fsync of the
/// directory. `durable = false` skips both fsyncs (for hints that may be lost in a crash).
pub fn write_private_atomic(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!("{name}{TMP_MARKER}{}.{:016x}", std::process::id(), rand::random::<u64>()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| EngineError::io("Could not create", &tmp, e))?;
        file.write_all(bytes).map_err(|e| EngineError::io("Could not write", &tmp, e))?;
        if durable {
            file.sync_all().map_err(|e| EngineError::io("Could not flush", &tmp, e))?;
        }
        drop(file);
        fs::rename(&tmp, path).map_err(|e| EngineError::io("Could not replace", path, e))?;
        if durable {
            sync_dir(dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs a directory so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| EngineError::io("Could not flush directory", dir, e))
}

/// Removes leftovers `<file name>.tmp.*` of `path` (call only while holding the file's lock, so
/// no live writer owns them).
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let prefix = format!("{name}{TMP_MARKER}");
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Opens (creating with 0600) a lock file.
pub fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| EngineError::io("Could not open lock file", path, e))
}

/// Checks that a name can be used as a file name and a Redis key part.
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(EngineError::Usage(format!(
            "Invalid {kind} name {name:?}: use 1-100 letters, digits, '-', '_' or '.', not starting with '.' (e.g. graph-prod)."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_precedence() {
        let env = |k: &str| match k {
            "SOAR_DATA_DIR" => Some("/s".to_owned()),
            "XDG_DATA_HOME" => Some("/x".to_owned()),
            "HOME" => Some("/h".to_owned()),
            _ => None,
        };
        assert_eq!(resolve_data_dir(Some("/f".into()), &env).unwrap(), PathBuf::from("/f"));
        assert_eq!(resolve_data_dir(None, &env).unwrap(), PathBuf::from("/s"));
        let no_soar = |k: &str| if k == "SOAR_DATA_DIR" { None } else { env(k) };
        assert_eq!(resolve_data_dir(None, &no_soar).unwrap(), PathBuf::from("/x/soar"));
        let home_only = |k: &str| if k == "HOME" { Some("/h".to_owned()) } else { None };
        assert_eq!(resolve_data_dir(None, &home_only).unwrap(), PathBuf::from("/h/.local/share/soar"));
        assert!(resolve_data_dir(None, &|_| None).is_err());
    }

    #[test]
    fn private_atomic_write_sets_modes_and_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let f = dir.join("x.json");
        write_private_atomic(&f, b"one", true).unwrap();
        write_private_atomic(&f, b"two", true).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert_eq!(fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn names() {
        for ok in ["graph", "graph-prod_2", "a.b"] {
            assert!(check_name("instance", ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "a b", "../x"] {
            assert!(check_name("instance", bad).is_err(), "{bad}");
        }
    }
}
