//! Reliability of the file store through the real CLI: many concurrent `soar run` processes on
//! one instance, and `kill -9` in the middle of context writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{add_counter, run, soar};
use serde_json::Value;
use soar_engine::store::{ContextStore, FileStore};

const PROCESSES: usize = 50;

/// Starts `n` `soar` processes at once with the given args and waits for all of them.
fn run_concurrently(
    data: &std::path::Path,
    n: usize,
    args: impl Fn(usize) -> Vec<String>,
) -> Vec<(i32, String, String)> {
    let children: Vec<_> = (0..n)
        .map(|i| {
            let a = args(i);
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            soar(data, &a).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn fifty_concurrent_increments_lose_no_update() {
    // Every run rewrites the same key, so runs on a context that is not proven warm take the
    // lease one after another; the counter must end at exactly 50.
    let dir = tempfile::tempdir().unwrap();
    add_counter(dir.path(), "c", &[]);
    let results = run_concurrently(dir.path(), PROCESSES, |_| {
        strings(&["run", "-i", "c", "!soar-test-counter-increment"])
    });
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
    }
    let stored = FileStore::open(dir.path()).unwrap().load("c").unwrap();
    assert_eq!(stored.context["counter"], 50);
    assert_eq!(stored.version, 50);
    let mut seen: Vec<String> = results.iter().map(|r| r.1.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), PROCESSES, "each run saw a different counter");
}

#[test]
fn fifty_concurrent_writers_without_the_lease_merge_through_cas() {
    // --lease-wait-ms 0: runs do not wait for each other, so writes race and the
    // compare-and-set + re-read + merge path must keep every run's own key.
    let dir = tempfile::tempdir().unwrap();
    add_counter(dir.path(), "c", &[]);
    let results = run_concurrently(dir.path(), PROCESSES, |i| {
        vec![
            "--lease-wait-ms".into(),
            "0".into(),
            "run".into(),
            "-i".into(),
            "c".into(),
            format!("!soar-test-counter-mark id={i} sleep_ms=20"),
        ]
    });
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
    }
    let stored = FileStore::open(dir.path()).unwrap().load("c").unwrap();
    for i in 0..PROCESSES {
        assert_eq!(stored.context.get(&format!("mark-{i}")), Some(&Value::Bool(true)), "mark-{i} lost");
    }
    assert_eq!(stored.version, PROCESSES as i64);
}

#[test]
fn fifty_concurrent_runs_fetch_one_token() {
    // The token command takes 300 ms to "fetch" a token when the cache is empty; with the
    // lease, one run fetches it and the 49 others reuse it.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tokens.log");
    add_counter(dir.path(), "c", &["--param", &format!("token_log={}", log.display())]);
    let results = run_concurrently(dir.path(), PROCESSES, |_| {
        strings(&["run", "-i", "c", "!soar-test-counter-token sleep_ms=300"])
    });
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
    }
    let requests = std::fs::read_to_string(&log).unwrap();
    assert_eq!(requests.lines().count(), 1, "token requests:\n{requests}");
    let fetched = results.iter().filter(|r| r.1 == "New token fetched.\n").count();
    let cached = results.iter().filter(|r| r.1 == "Token from the cache.\n").count();
    assert_eq!((fetched, cached), (1, PROCESSES - 1));
}

/// A context read back after a crash: complete (the padding matches the counter) and at the
/// version the counter says.
fn assert_complete(store: &FileStore, pad: usize) -> i64 {
    let stored = store.load("c").expect("the context always reads back");
    if stored.version == 0 {
        assert!(stored.context.is_empty());
        return 0;
    }
    let counter = stored.context["counter"].as_i64().expect("counter");
    let padding = stored.context["pad"].as_str().expect("pad");
    let digit = char::from(b'0' + (counter % 10) as u8);
    assert_eq!(padding.len(), pad, "padding length");
    assert!(padding.chars().all(|c| c == digit), "padding of another version");
    assert_eq!(stored.version, counter, "version and counter move together");
    stored.version
}

#[test]
fn kill_9_during_context_writes_never_corrupts_the_context() {
    const PAD: usize = 1_000_000; // a 1 MB context makes the write a large part of each run
    const ROUNDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_counter(data, "c", &[]);
    let line = format!("!soar-test-counter-increment pad={PAD}");
    let store = FileStore::open(data).unwrap();

    // Calibrate: how long one uninterrupted run on a full context takes here.
    let mut full = Duration::ZERO;
    for version in 1..=2 {
        let start = Instant::now();
        let (code, _, err) = run(data, &["run", "-i", "c", &line]);
        assert_eq!(code, 0, "{err}");
        full = start.elapsed();
        assert_eq!(assert_complete(&store, PAD), version);
    }

    let mut advanced = 0;
    let mut torn_temp_files = 0;
    let mut last = 2;
    // A staircase on the kill time: later after a kill that came before the write, earlier after
    // one that came after it, so kills keep landing around the write when the machine is busier
    // (slower) or quieter than at calibration.
    let mut scale = 1.0f64;
    for _ in 0..ROUNDS {
        let mut child = soar(data, &["run", "-i", "c", &line])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a random point of the second half of the run, where the context is written
        // (up to 20% past its usual end).
        let delay = full.mul_f64(scale * (0.5 + rand::random::<f64>() * 0.7));
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let temps = std::fs::read_dir(data.join("contexts"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .count();
        torn_temp_files += usize::from(temps > 0);
        let version = assert_complete(&store, PAD);
        assert!(version == last || version == last + 1, "version went from {last} to {version}");
        advanced += usize::from(version > last);
        scale = if version > last { (scale * 0.95).max(0.2) } else { (scale * 1.1).min(5.0) };
        last = version;
    }
    // The next run cleans up and writes normally.
    let (code, _, err) = run(data, &["run", "-i", "c", &line]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(assert_complete(&store, PAD), last + 1);
    eprintln!(
        "kill -9 x{ROUNDS}: a run takes {full:?}; {advanced} runs stored their context before the kill, \
         {torn_temp_files} kills left a half-written temp file behind, the context was always whole"
    );
    // The kills must have hit both sides of a write, or the test did not test anything.
    assert!(advanced > 0 && advanced < ROUNDS, "kills never landed around a write ({advanced}/{ROUNDS})");
}
