//! The embedded default store: one JSON file per instance, written with fsync + rename.
//!
//! Layout under `<data dir>/contexts/`: `<instance>.json` holds `{"version": n, "context": {...}}`;
//! `<instance>.lock` is the `flock` that serializes compare-and-set writers; `<instance>.lease`
//! is the `flock` of the token lease; `<instance>.warm` is a hint (the version a run proved warm)
//! written without fsync because losing it only costs one serialized run.
//! Readers take no lock: `rename` replaces the file atomically, so they see a whole old or a
//! whole new context. A writer killed mid-write leaves a `<instance>.json.tmp.*` file that the
//! next writer removes while holding the lock.
//!
//! The fetch service's data lives beside: `<data dir>/incidents/<instance>.journal` is an
//! append-only journal, one JSON line per write: `{"batch": [incidents], "last_run": {...}}` for
//! a fetched page (new incidents only, so a page and its last run are one append: both or
//! neither), `{"put": incident}` for a changed incident (the latest line of a key wins). Each
//! append is fsynced under the `flock` `<instance>.journal.lock`; a line cut short by a crash
//! has no newline, is ignored by readers and cut off by the next writer. The last run is then
//! also written to `lastrun/<instance>.json` (where the one-shot fetch always kept it): should
//! a crash fall between the two, the next fetch asks for the page again and its incidents are
//! already stored, so nothing is lost or stored twice. `fetch/<instance>.json` holds the fetch
//! schedule's state and `<instance>.fetchlease` is the fetch lease (an `flock`). How journals are
//! indexed (so a fetch costs O(N)) and compacted is in `journal`.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use soar_protocol::Object;

use super::journal::{self, Index, JournalLine};
use super::{
    Cas, Committed, ContextStore, FetchState, IncidentCas, Lease, StoredIncident, Versioned, next_version,
};
use crate::error::{EngineError, Result};
use crate::fsutil::{
    check_name, ensure_private_dir, open_lock_file, read_optional, remove_stale_temps, write_private_atomic,
};

/// The file-backed context store.
#[derive(Debug, Clone)]
pub struct FileStore {
    contexts: PathBuf,
    last_runs: PathBuf,
    incidents: PathBuf,
    fetch: PathBuf,
    /// This process's index of each instance's incident journal (see `journal`).
    journals: Arc<Mutex<HashMap<String, Index>>>,
    /// Superseded journal records that start a compaction (lowered by tests).
    compact_min: u64,
}

impl FileStore {
    /// A store under `data_dir` (creates `contexts/` and `lastrun/` with mode 0700).
    pub fn open(data_dir: &Path) -> Result<FileStore> {
        let contexts = data_dir.join("contexts");
        let last_runs = data_dir.join("lastrun");
        let incidents = data_dir.join("incidents");
        let fetch = data_dir.join("fetch");
        for dir in [&contexts, &last_runs, &incidents, &fetch] {
            ensure_private_dir(dir)?;
        }
        Ok(FileStore {
            contexts,
            last_runs,
            incidents,
            fetch,
            journals: Arc::default(),
            compact_min: journal::COMPACT_MIN,
        })
    }

    fn journal(&self, instance: &str) -> Result<PathBuf> {
        check_name("instance", instance)?;
        Ok(self.incidents.join(format!("{instance}.journal")))
    }

    /// Runs `f` with the journal of `instance` open (`None` before its first line) and this
    /// process's index of it brought up to date; the index's mutex is held meanwhile.
    fn with_index<T>(
        &self,
        instance: &str,
        f: impl FnOnce(&Index, Option<&mut File>, &Path) -> Result<T>,
    ) -> Result<T> {
        let path = self.journal(instance)?;
        // A panic while the index was being updated leaves it unknown: start it again.
        let mut journals = self.journals.lock().unwrap_or_else(|poisoned| {
            let mut journals = poisoned.into_inner();
            journals.clear();
            journals
        });
        let index = journals.entry(instance.to_owned()).or_default();
        match File::open(&path) {
            Ok(mut file) => {
                index.refresh(&mut file, &path)?;
                f(index, Some(&mut file), &path)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                *index = Index::default();
                f(index, None, &path)
            }
            Err(e) => Err(EngineError::io("Could not read", &path, e)),
        }
    }

    /// Appends one line to the journal of `instance` under its lock, after `check` (called with
    /// the lock held and the index current) agreed; the append is fsynced. The journal is then
    /// compacted when superseded records pile up (see `journal`).
    fn append(
        &self,
        instance: &str,
        check: impl FnOnce(&Index, Option<&mut File>, &Path) -> Result<Option<JournalLine>>,
    ) -> Result<bool> {
        let path = self.journal(instance)?;
        let lock_path = self.incidents.join(format!("{instance}.journal.lock"));
        let lock = open_lock_file(&lock_path)?;
        fs2::FileExt::lock_exclusive(&lock).map_err(|e| EngineError::io("Could not lock", &lock_path, e))?;
        let Some(line) = self.with_index(instance, check)? else { return Ok(false) };
        let mut text = serde_json::to_vec(&line)
            .map_err(|e| EngineError::Other(format!("Could not serialize an incident: {e}")))?;
        text.push(b'\n');
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| EngineError::io("Could not open", &path, e))?;
        // A line a crash cut short is cut off, so the new one starts on a line of its own.
        let len = file.metadata().map_err(|e| EngineError::io("Could not read", &path, e))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            use std::io::Read;
            file.seek(std::io::SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| EngineError::io("Could not read", &path, e))?;
            if last[0] != b'\n' {
                let bytes = std::fs::read(&path).map_err(|e| EngineError::io("Could not read", &path, e))?;
                let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                file.set_len(keep as u64).map_err(|e| EngineError::io("Could not repair", &path, e))?;
            }
        }
        file.write_all(&text)
            .and_then(|()| file.sync_all())
            .map_err(|e| EngineError::io("Could not write", &path, e))?;
        if len == 0 {
            crate::fsutil::sync_dir(&self.incidents)?;
        }
        if self.with_index(instance, |index, _, _| Ok(index.wants_compaction(self.compact_min)))? {
            journal::compact(&path)?;
        }
        drop(lock);
        Ok(true)
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

/// Takes the `flock` on `path` as a lease, trying for up to `wait`.
fn flock_lease(path: &Path, wait: Duration) -> Result<Option<Box<dyn Lease>>> {
    let file = open_lock_file(path)?;
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
            Err(e) => return Err(EngineError::io("Could not lock", path, e)),
        }
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
        flock_lease(&self.path(instance, "lease")?, wait)
    }

    fn warm_version(&self, instance: &str) -> Result<Option<i64>> {
        let path = self.path(instance, "warm")?;
        Ok(read_optional(&path)?.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok()))
    }

    fn set_warm_version(&self, instance: &str, version: i64) -> Result<()> {
        write_private_atomic(&self.path(instance, "warm")?, version.to_string().as_bytes(), false)
    }

    fn acquire_fetch_lease(
        &self,
        instance: &str,
        _ttl: Duration,
        wait: Duration,
    ) -> Result<Option<Box<dyn Lease>>> {
        // The same flock mechanism as the token lease, on its own file.
        check_name("instance", instance)?;
        flock_lease(&self.fetch.join(format!("{instance}.lease")), wait)
    }

    fn fetch_state(&self, instance: &str) -> Result<FetchState> {
        check_name("instance", instance)?;
        let path = self.fetch.join(format!("{instance}.json"));
        let Some(bytes) = read_optional(&path)? else { return Ok(FetchState::default()) };
        serde_json::from_slice(&bytes).map_err(|e| EngineError::Corrupt {
            path,
            what: "fetch state file",
            reason: e.to_string(),
        })
    }

    /// The flock lease cannot be lost while its holder lives: `_lease` is not checked.
    fn set_fetch_state(
        &self,
        instance: &str,
        state: &FetchState,
        _lease: Option<&dyn Lease>,
    ) -> Result<bool> {
        check_name("instance", instance)?;
        let bytes = serde_json::to_vec(state)
            .map_err(|e| EngineError::Other(format!("Could not serialize the fetch state: {e}")))?;
        write_private_atomic(&self.fetch.join(format!("{instance}.json")), &bytes, true)?;
        Ok(true)
    }

    fn commit_fetch(
        &self,
        instance: &str,
        incidents: &[StoredIncident],
        last_run: Option<&Object>,
        _lease: Option<&dyn Lease>,
    ) -> Result<Committed> {
        let (mut added, mut duplicates) = (0, 0);
        self.append(instance, |index, _, _| {
            let mut fresh = HashSet::new();
            let mut batch = Vec::new();
            for inc in incidents {
                if !index.contains(&inc.id) && fresh.insert(inc.id.as_str()) {
                    batch.push(inc.clone());
                } else {
                    duplicates += 1;
                }
            }
            added = batch.len();
            if batch.is_empty() && last_run.is_none() {
                return Ok(None);
            }
            Ok(Some(JournalLine { batch: Some(batch), last_run: last_run.cloned(), put: None }))
        })?;
        if let Some(last_run) = last_run {
            self.set_last_run(instance, last_run)?;
        }
        Ok(Committed::Stored { added, duplicates })
    }

    fn incident(&self, instance: &str, id: &str) -> Result<Option<StoredIncident>> {
        self.with_index(instance, |index, file, path| match file {
            Some(file) => index.read(file, path, id),
            None => Ok(None),
        })
    }

    fn incidents(&self, instance: &str) -> Result<Vec<StoredIncident>> {
        journal::latest_records(&self.journal(instance)?)
    }

    fn pending_out(&self, instance: &str) -> Result<Vec<StoredIncident>> {
        // A fetched incident starts unchanged; only `put` lines can make one pending.
        let mut pending: HashMap<String, StoredIncident> = HashMap::new();
        journal::scan(&self.journal(instance)?, &mut |line| {
            if let Some(inc) = line.put {
                if inc.changed {
                    pending.insert(inc.id.clone(), inc);
                } else {
                    pending.remove(&inc.id);
                }
            }
        })?;
        let mut list: Vec<StoredIncident> = pending.into_values().collect();
        list.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.id.cmp(&b.id)));
        Ok(list)
    }

    fn swap_incident(
        &self,
        instance: &str,
        expected: &StoredIncident,
        new: &StoredIncident,
        _lease: Option<&dyn Lease>,
    ) -> Result<IncidentCas> {
        let mut outcome = IncidentCas::Stored;
        self.append(instance, |index, file, path| {
            let current = match file {
                Some(file) => index.read(file, path, &expected.id)?,
                None => None,
            };
            if current.as_ref() != Some(expected) {
                outcome = IncidentCas::Conflict(current.map(Box::new));
                return Ok(None);
            }
            Ok(Some(JournalLine { put: Some(new.clone()), ..JournalLine::default() }))
        })?;
        Ok(outcome)
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

    fn inc(id: &str) -> StoredIncident {
        StoredIncident::fetched(json!({"dbotMirrorId": id, "name": id}), 0, "t")
    }

    #[test]
    fn pages_are_stored_with_their_last_run_once_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let page = [inc("a"), inc("b")];
        let lr = obj(json!({"offset": 2}));
        // (page, stored counts)
        let cases = [
            (&page[..], Committed::Stored { added: 2, duplicates: 0 }),
            (&page[..], Committed::Stored { added: 0, duplicates: 2 }),
            (&[inc("b"), inc("c"), inc("c")][..], Committed::Stored { added: 1, duplicates: 2 }),
        ];
        for (batch, want) in cases {
            assert_eq!(store.commit_fetch("i", batch, Some(&lr), None).unwrap(), want);
        }
        let ids: Vec<String> = store.incidents("i").unwrap().into_iter().map(|i| i.id).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(store.last_run("i").unwrap(), Some(lr));
    }

    #[test]
    fn a_journal_line_cut_by_a_crash_is_ignored_and_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        store.commit_fetch("i", &[inc("a")], None, None).unwrap();
        let path = dir.path().join("incidents/i.journal");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"batch": [{"id": "b", "#).unwrap();
        drop(f);
        assert_eq!(store.incidents("i").unwrap().len(), 1, "the cut line is not read");
        store.commit_fetch("i", &[inc("b")], None, None).unwrap();
        let ids: Vec<String> = store.incidents("i").unwrap().into_iter().map(|i| i.id).collect();
        assert_eq!(ids, ["a", "b"]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn another_process_appends_are_seen_by_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (FileStore::open(dir.path()).unwrap(), FileStore::open(dir.path()).unwrap());
        one.commit_fetch("i", &[inc("a")], None, None).unwrap();
        assert!(two.incident("i", "a").unwrap().is_some(), "two indexes a's line");
        one.commit_fetch("i", &[inc("b")], None, None).unwrap();
        // two's index is behind by one line: it reads the tail before deciding.
        assert_eq!(
            two.commit_fetch("i", &[inc("b"), inc("c")], None, None).unwrap(),
            Committed::Stored { added: 1, duplicates: 1 }
        );
        let b = one.incident("i", "b").unwrap().unwrap();
        let mut closed = b.clone();
        closed.status = 2;
        assert_eq!(two.swap_incident("i", &b, &closed, None).unwrap(), IncidentCas::Stored);
        assert_eq!(one.incident("i", "b").unwrap(), Some(closed));
        assert!(one.incident("i", "zz").unwrap().is_none());
    }

    #[test]
    fn superseded_records_are_compacted_away_without_changing_what_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore { compact_min: 8, ..FileStore::open(dir.path()).unwrap() };
        let reader = FileStore::open(dir.path()).unwrap();
        store.commit_fetch("i", &[inc("a"), inc("b"), inc("c")], Some(&obj(json!({"n": 1}))), None).unwrap();
        assert!(reader.incident("i", "c").unwrap().is_some(), "the reader indexes the first file");
        let path = dir.path().join("incidents/i.journal");
        let lines = || std::fs::read_to_string(&path).unwrap().lines().count();
        // Nine changes to a (the last one pending), one settled change to b.
        for n in 0..9 {
            let current = store.incident("i", "a").unwrap().unwrap();
            let mut next = current.clone();
            next.fields.insert("n".into(), json!(n));
            next.changed = n == 8;
            assert_eq!(store.swap_incident("i", &current, &next, None).unwrap(), IncidentCas::Stored);
        }
        let b = store.incident("i", "b").unwrap().unwrap();
        let mut b2 = b.clone();
        b2.status = 2;
        store.swap_incident("i", &b, &b2, None).unwrap();
        // 14 records, 3 live: compacted at the 8th superseded one, then 3 more lines since.
        assert!(lines() < 6, "compacted: {} lines", lines());
        let everything = store.incidents("i").unwrap();
        assert_eq!(everything.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(everything[0].fields.get("n"), Some(&json!(8)));
        assert_eq!(everything[1].status, 2);
        assert_eq!(store.pending_out("i").unwrap(), vec![everything[0].clone()]);
        // The reader's index points into the old file: it notices and reads the new one.
        for inc in &everything {
            assert_eq!(reader.incident("i", &inc.id).unwrap().as_ref(), Some(inc));
        }
        assert_eq!(
            reader.commit_fetch("i", &[inc("a"), inc("d")], None, None).unwrap(),
            Committed::Stored { added: 1, duplicates: 1 }
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn incident_changes_are_compare_and_set() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        store.commit_fetch("i", &[inc("a")], None, None).unwrap();
        let base = store.incident("i", "a").unwrap().unwrap();
        let mut first = base.clone();
        first.status = 2;
        first.changed = true;
        assert_eq!(store.swap_incident("i", &base, &first, None).unwrap(), IncidentCas::Stored);
        let mut late = base.clone();
        late.fields.insert("k".into(), json!(1));
        assert_eq!(
            store.swap_incident("i", &base, &late, None).unwrap(),
            IncidentCas::Conflict(Some(Box::new(first.clone())))
        );
        assert_eq!(store.pending_out("i").unwrap(), vec![first.clone()]);
        // modify_incident re-reads and applies on top.
        let merged = crate::store::modify_incident(&store, "i", "a", None, &mut |i| {
            i.fields.insert("k".into(), json!(1));
            i.changed = false;
            true
        })
        .unwrap()
        .unwrap();
        assert_eq!((merged.status, merged.fields.get("k")), (2, Some(&json!(1))));
        assert_eq!(store.incident("i", "a").unwrap(), Some(merged));
        assert!(store.pending_out("i").unwrap().is_empty());
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
