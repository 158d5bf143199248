//! The embedded default store: one JSON file per instance, written with fsync + rename.
//!
//! Layout under `<data dir>/contexts/`: `<instance>.json` holds `{"version": n, "context": {...}}`;
//! `<instance>.lock` is the `flock` that serializes compare-and-set writers; `<instance>.lease`
//! is the `flock` of the token lease; `<instance>.warm` is a hint (the version a run proved warm)
//! written without fsync because losing it only costs one serialized run.
//! Readers take no lock: `rename` replaces the file atomically, so they see a whole old or a
//! whole new context. A writer killed mid-write leaves a `<instance>.json.tmp.*` file that the
//! next writer removes while holding the lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use soar_protocol::Object;

use super::{Cas, ContextStore, Lease, Versioned, next_version};
use crate::error::{EngineError, Result};
use crate::fsutil::{
    check_name, ensure_private_dir, open_lock_file, read_optional, remove_stale_temps, write_private_atomic,
};

/// The file-backed context store.
#[derive(Debug, Clone)]
pub struct FileStore {
    contexts: PathBuf,
    last_runs: PathBuf,
}

impl FileStore {
    /// A store under `data_dir` (creates `contexts/` and `lastrun/` with mode 0700).
    pub fn open(data_dir: &Path) -> Result<FileStore> {
        let contexts = data_dir.join("contexts");
        let last_runs = data_dir.join("lastrun");
        ensure_private_dir(&contexts)?;
        ensure_private_dir(&last_runs)?;
        Ok(FileStore { contexts, last_runs })
    }

    fn path(&self, instance: &str, ext: &str) -> Result<PathBuf> {
        check_name("instance", instance)?;
        Ok(self.contexts.join(format!("{instance}.{ext}")))
    }

    fn read_versioned(path: &Path) -> Result<Versioned> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(Versioned::default());
        };
        let corrupt =
            |reason: String| EngineError::Corrupt { path: path.to_owned(), what: "context file", reason };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let version =
            value.get("version").and_then(Value::as_i64).ok_or_else(|| corrupt("no version".into()))?;
        let context = match value.get("context") {
            Some(Value::Object(o)) => o.clone(),
            _ => return Err(corrupt("no context object".into())),
        };
        Ok(Versioned { version, context })
    }
}

/// A held `flock`; the kernel releases it when the file is closed or the process dies.
struct FlockLease(#[allow(dead_code)] File);

impl Lease for FlockLease {}

impl Drop for FlockLease {
    fn drop(&mut self) {
        let _ = fs2::FileExt::unlock(&self.0);
    }
}

impl ContextStore for FileStore {
    fn describe(&self) -> String {
        format!("file store at {}", self.contexts.display())
    }

    fn load(&self, instance: &str) -> Result<Versioned> {
        Self::read_versioned(&self.path(instance, "json")?)
    }

    /// The file lease is an `flock` held while its holder lives, so it cannot be lost and
    /// needs no fencing: `_lease` is not checked.
    fn compare_and_set(
        &self,
        instance: &str,
        expected: i64,
        context: &Object,
        _lease: Option<&dyn Lease>,
    ) -> Result<Cas> {
        let path = self.path(instance, "json")?;
        let lock_path = self.path(instance, "lock")?;
        let lock = open_lock_file(&lock_path)?;
        fs2::FileExt::lock_exclusive(&lock).map_err(|e| EngineError::io("Could not lock", &lock_path, e))?;
        let current = Self::read_versioned(&path)?;
        if current.version != expected {
            return Ok(Cas::Conflict(current.version));
        }
        let version = next_version(instance, expected)?;
        remove_stale_temps(&path);
        let bytes = serde_json::to_vec(&json!({"version": version, "context": context}))
            .map_err(|e| EngineError::Other(format!("Could not serialize the context: {e}")))?;
        write_private_atomic(&path, &bytes, true)?;
        drop(lock);
        Ok(Cas::Stored(version))
    }

    fn remove(&self, instance: &str) -> Result<()> {
        for path in [
            self.path(instance, "json")?,
            self.path(instance, "lock")?,
            self.path(instance, "lease")?,
            self.path(instance, "warm")?,
            self.last_runs.join(format!("{instance}.json")),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EngineError::io("Could not remove", path, e)),
            }
        }
        Ok(())
    }

    fn last_run(&self, instance: &str) -> Result<Option<Object>> {
        check_name("instance", instance)?;
        let path = self.last_runs.join(format!("{instance}.json"));
        let Some(bytes) = read_optional(&path)? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| EngineError::Corrupt {
            path,
            what: "last-run file",
            reason: e.to_string(),
        })
    }

    fn set_last_run(&self, instance: &str, last_run: &Object) -> Result<()> {
        check_name("instance", instance)?;
        let path = self.last_runs.join(format!("{instance}.json"));
        let bytes = serde_json::to_vec(last_run)
            .map_err(|e| EngineError::Other(format!("Could not serialize the last run: {e}")))?;
        write_private_atomic(&path, &bytes, true)
    }

    fn acquire_lease(
        &self,
        instance: &str,
        _ttl: Duration,
        wait: Duration,
    ) -> Result<Option<Box<dyn Lease>>> {
        let path = self.path(instance, "lease")?;
        let file = open_lock_file(&path)?;
        let deadline = Instant::now() + wait;
        loop {
            match fs2::FileExt::try_lock_exclusive(&file) {
                Ok(()) => return Ok(Some(Box::new(FlockLease(file)))),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.raw_os_error() == Some(11) => {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(EngineError::io("Could not lock", &path, e)),
            }
        }
    }

    fn warm_version(&self, instance: &str) -> Result<Option<i64>> {
        let path = self.path(instance, "warm")?;
        Ok(read_optional(&path)?.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok()))
    }

    fn set_warm_version(&self, instance: &str, version: i64) -> Result<()> {
        write_private_atomic(&self.path(instance, "warm")?, version.to_string().as_bytes(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RetryPolicy, update_with_retries};
    use std::sync::Arc;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn versions_start_at_zero_and_cas_refuses_stale_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        assert_eq!(store.load("a").unwrap(), Versioned::default());
        assert_eq!(store.compare_and_set("a", 0, &obj(json!({"k": 1})), None).unwrap(), Cas::Stored(1));
        assert_eq!(store.compare_and_set("a", 0, &obj(json!({"k": 2})), None).unwrap(), Cas::Conflict(1));
        assert_eq!(store.load("a").unwrap(), Versioned { version: 1, context: obj(json!({"k": 1})) });
        store.remove("a").unwrap();
        assert_eq!(store.load("a").unwrap(), Versioned::default());
    }

    #[test]
    fn a_corrupt_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("contexts/a.json"), b"{\"version\": 1, \"cont").unwrap();
        let err = store.load("a").unwrap_err().to_string();
        assert!(err.contains("a.json is not a valid context file"), "{err}");
    }

    #[test]
    fn stale_temp_files_are_cleaned_by_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let stale = dir.path().join("contexts/a.json.tmp.1.abc");
        std::fs::write(&stale, b"{\"half").unwrap();
        store.compare_and_set("a", 0, &obj(json!({})), None).unwrap();
        assert!(!stale.exists());
    }

    #[test]
    fn concurrent_threads_lose_no_update() {
        // 16 threads each add their own key through CAS + merge; every key must survive.
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FileStore::open(dir.path()).unwrap());
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let base = store.load("a").unwrap();
                    let mut new = base.context.clone();
                    new.insert(format!("k{i}"), json!(i));
                    update_with_retries(
                        &*store,
                        "a",
                        &base,
                        &new,
                        RetryPolicy::default(),
                        &std::thread::sleep,
                        None,
                    )
                    .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let stored = store.load("a").unwrap();
        assert_eq!(stored.context.len(), 16);
        assert!(stored.version >= 16);
    }

    #[test]
    fn the_last_version_is_refused_not_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let path = dir.path().join("contexts/a.json");
        std::fs::write(&path, format!("{{\"version\": {}, \"context\": {{\"k\": 1}}}}", i64::MAX)).unwrap();
        let err = store.compare_and_set("a", i64::MAX, &obj(json!({"k": 2})), None).unwrap_err();
        assert!(matches!(err, EngineError::VersionExhausted { .. }), "{err}");
        assert!(err.to_string().contains("largest there is"), "{err}");
        // What was stored is untouched.
        assert_eq!(store.load("a").unwrap(), Versioned { version: i64::MAX, context: obj(json!({"k": 1})) });
    }

    #[test]
    fn lease_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let ttl = Duration::from_secs(5);
        let held = store.acquire_lease("a", ttl, Duration::ZERO).unwrap();
        assert!(held.is_some());
        assert!(store.acquire_lease("a", ttl, Duration::from_millis(20)).unwrap().is_none());
        drop(held);
        assert!(store.acquire_lease("a", ttl, Duration::ZERO).unwrap().is_some());
    }

    #[test]
    fn last_run_and_warm_hint_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        assert_eq!(store.last_run("a").unwrap(), None);
        store.set_last_run("a", &obj(json!({"time": "t"}))).unwrap();
        assert_eq!(store.last_run("a").unwrap(), Some(obj(json!({"time": "t"}))));
        assert_eq!(store.warm_version("a").unwrap(), None);
        store.set_warm_version("a", 4).unwrap();
        assert_eq!(store.warm_version("a").unwrap(), Some(4));
    }
}
