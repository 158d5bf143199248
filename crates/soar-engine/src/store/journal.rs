//! The file store's incident journals: `<data dir>/incidents/<instance>.journal`, append-only,
//! one JSON line per write (see the parent module for the line kinds and the crash rules).
//!
//! Two things keep a long-lived journal cheap:
//! - **An index per process.** Each journal has an in-memory index: for every incident key, the
//!   byte offset of the line that holds its latest record, and how far the file was read. A
//!   fetch's duplicate check, `incident` and `swap_incident` read only the lines appended since
//!   the last look (parsing just the keys) and then the one line they need, so fetching N
//!   incidents in pages costs O(N), not O(N²). The index is keyed to the file's identity
//!   (device, inode): after a compaction (a new file) or anything that shrank the file, it is
//!   rebuilt from the start. Lines are only read up to the last newline, the same rule as for
//!   a line cut short by a crash.
//! - **Compaction.** Mirroring appends a whole incident per change, so superseded records pile
//!   up. When they outnumber both the live incidents and `COMPACT_MIN` (4,096), the writer (holding
//!   the journal lock) rewrites the journal with only the latest record of each incident (in
//!   `batch` lines of [`COMPACT_BATCH`], incidents with a pending local change as `put` lines so
//!   they stay pending), fsyncs it and renames it over the old one. A reader holding the old
//!   file keeps reading a whole, equivalent journal. The journal's own `last_run` copies are not
//!   kept: the last run is read from `lastrun/<instance>.json`, and the copy in a page's line
//!   only made the page and its last run one write.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use soar_protocol::Object;

use super::StoredIncident;
use crate::error::{EngineError, Result};

/// Compaction waits for at least this many superseded records (the store's default).
pub(super) const COMPACT_MIN: u64 = 4096;
/// Incidents per `batch` line of a compacted journal.
const COMPACT_BATCH: usize = 200;

/// One line of an incident journal.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct JournalLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Vec<StoredIncident>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<Object>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub put: Option<StoredIncident>,
}

/// A line of a compacted journal, written from borrowed records.
#[derive(Serialize)]
struct CompactLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a [&'a StoredIncident]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    put: Option<&'a StoredIncident>,
}

/// A journal line read for its keys only (the incidents' other fields are skipped unparsed).
#[derive(Deserialize)]
struct KeysLine {
    #[serde(default)]
    batch: Option<Vec<KeyOnly>>,
    #[serde(default)]
    put: Option<KeyOnly>,
}

#[derive(Deserialize)]
struct KeyOnly {
    id: String,
}

/// What one process knows of one journal file.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// (device, inode) of the file indexed.
    identity: Option<(u64, u64)>,
    /// Bytes indexed: always the end of a complete line.
    end: u64,
    /// Incident key -> offset of the line holding its latest record.
    latest: HashMap<String, u64>,
    /// Records read (batch entries and puts); `records - latest.len()` are superseded.
    records: u64,
}

impl Index {
    pub fn contains(&self, id: &str) -> bool {
        self.latest.contains_key(id)
    }

    /// Whether enough records are superseded to rewrite the journal: at least `min`, and more
    /// than the live incidents (so a rewrite at least halves the journal).
    pub fn wants_compaction(&self, min: u64) -> bool {
        let superseded = self.records.saturating_sub(self.latest.len() as u64);
        superseded >= min && superseded > self.latest.len() as u64
    }

    /// Brings the index up to the end of `file` (the journal at `path`, opened by the caller so
    /// that the later reads see the same file), reading only what was appended since.
    pub fn refresh(&mut self, file: &mut File, path: &Path) -> Result<()> {
        let meta = file.metadata().map_err(|e| EngineError::io("Could not read", path, e))?;
        let identity = (meta.dev(), meta.ino());
        if self.identity != Some(identity) || meta.len() < self.end {
            *self = Index { identity: Some(identity), ..Index::default() };
        }
        if meta.len() == self.end {
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.end)).map_err(|e| EngineError::io("Could not read", path, e))?;
        let mut reader = BufReader::new(&mut *file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| EngineError::io("Could not read", path, e))?;
            if n == 0 || line.last() != Some(&b'\n') {
                return Ok(());
            }
            let keys: KeysLine = serde_json::from_slice(&line).map_err(|e| corrupt(path, self.end, &e))?;
            for key in keys.batch.into_iter().flatten().chain(keys.put) {
                self.latest.insert(key.id, self.end);
                self.records += 1;
            }
            self.end += n as u64;
        }
    }

    /// The latest record of `id`, read from its line in `file` (which the index was refreshed
    /// against).
    pub fn read(&self, file: &mut File, path: &Path, id: &str) -> Result<Option<StoredIncident>> {
        let Some(&offset) = self.latest.get(id) else { return Ok(None) };
        file.seek(SeekFrom::Start(offset)).map_err(|e| EngineError::io("Could not read", path, e))?;
        let mut line = Vec::new();
        BufReader::new(&mut *file)
            .read_until(b'\n', &mut line)
            .map_err(|e| EngineError::io("Could not read", path, e))?;
        let parsed: JournalLine = serde_json::from_slice(&line).map_err(|e| corrupt(path, offset, &e))?;
        Ok(parsed.batch.into_iter().flatten().chain(parsed.put).rfind(|inc| inc.id == id))
    }
}

fn corrupt(path: &Path, offset: u64, e: &serde_json::Error) -> EngineError {
    EngineError::Corrupt {
        path: path.to_owned(),
        what: "incident journal",
        reason: format!("the line at byte {offset}: {e}"),
    }
}

/// Reads every complete line of a journal in order (none when it does not exist); a last line
/// without its newline was cut short by a crash and is skipped.
pub(super) fn scan(path: &Path, f: &mut dyn FnMut(JournalLine)) -> Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(EngineError::io("Could not read", path, e)),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n =
            reader.read_until(b'\n', &mut line).map_err(|e| EngineError::io("Could not read", path, e))?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(());
        }
        let parsed: JournalLine = serde_json::from_slice(&line).map_err(|e| corrupt(path, offset, &e))?;
        f(parsed);
        offset += n as u64;
    }
}

/// The latest record of every incident in a journal, in listing order (`seq`, then key).
pub(super) fn latest_records(path: &Path) -> Result<Vec<StoredIncident>> {
    let mut all: HashMap<String, StoredIncident> = HashMap::new();
    scan(path, &mut |line| {
        for inc in line.batch.into_iter().flatten() {
            all.entry(inc.id.clone()).or_insert(inc);
        }
        if let Some(inc) = line.put {
            all.insert(inc.id.clone(), inc);
        }
    })?;
    let mut list: Vec<StoredIncident> = all.into_values().collect();
    list.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.id.cmp(&b.id)));
    Ok(list)
}

/// Rewrites the journal at `path` with the latest record of each incident (the caller holds
/// the journal lock). The new file is written beside, fsynced and renamed over the old one.
pub(super) fn compact(path: &Path) -> Result<()> {
    let records = latest_records(path)?;
    let tmp = path.with_extension("journal.compacting");
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let file =
            std::fs::OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp)?;
        let mut out = BufWriter::new(file);
        let (pending, settled): (Vec<&StoredIncident>, Vec<&StoredIncident>) =
            records.iter().partition(|inc| inc.changed);
        let line = |out: &mut BufWriter<File>, line: CompactLine| -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")
        };
        for chunk in settled.chunks(COMPACT_BATCH) {
            line(&mut out, CompactLine { batch: Some(chunk), put: None })?;
        }
        for inc in pending {
            line(&mut out, CompactLine { batch: None, put: Some(inc) })?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        EngineError::io("Could not compact", path, e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| EngineError::io("Could not compact", path, e))?;
    if let Some(dir) = path.parent() {
        crate::fsutil::sync_dir(dir)?;
    }
    Ok(())
}
