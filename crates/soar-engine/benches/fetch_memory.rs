//! A fetch of 10,000 incidents over pages keeps memory flat: the fetch service (`soar fetch
//! --every 0s --cycles N`) pulls every page of `soar-test-integration`'s remote side (incidents
//! made on the fly, 200 a page) into the file store (and Redis with `SOAR_REDIS_URL`), and the
//! figures are the peak resident sets of the engine and of the largest integration run, for
//! 1,000 and 10,000 incidents. Flat means the 10,000 row is not ten times the 1,000 row: the
//! engine holds one page at a time (and the keys already stored), each integration run one page.
//!
//! Run: `cargo build --release -p soar-test-integration && cargo bench -p soar-engine --bench fetch_memory`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const PAGE: u64 = 200;

/// Peak RSS in kB from a `... VmHWM:   1234 kB` line.
fn kb(line: &str) -> u64 {
    line.split_whitespace().rev().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn soar(data: &Path, store: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_soar"));
    c.env("SOAR_DATA_DIR", data).env("NO_COLOR", "1").env("SOAR_STORE", store).args(args);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Fetches `total` incidents; returns (seconds, engine peak kB, integration peak kB, stored).
fn fetch(total: u64, store: &str) -> (f64, u64, u64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = dir.path().join("state.json");
    std::fs::write(&state, format!(r#"{{"total": {total}, "page": {PAGE}}}"#)).unwrap();
    let name = format!("bench-{:08x}", rand::random::<u32>());
    let add = soar(
        &data,
        store,
        &[
            "instance",
            "add",
            &name,
            "--integration",
            "soar-test-integration",
            "--param",
            "url=https://t.test",
            "--param",
            &format!("state_file={}", state.display()),
        ],
    )
    .output()
    .unwrap();
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let cycles = (total / PAGE + 1).to_string();
    let started = Instant::now();
    let out = soar(&data, store, &["fetch", "--instance", &name, "--every", "0s", "--cycles", &cycles])
        .env("SOAR_REPORT_PEAK_RSS", "1")
        .env("SOAR_TEST_REPORT_PEAK_RSS", "1")
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let engine = stderr.lines().filter(|l| l.starts_with("soar peak-rss")).map(kb).max().unwrap_or(0);
    let integration = stderr.lines().filter(|l| l.starts_with("peak-rss")).map(kb).max().unwrap_or(0);
    let list = soar(&data, store, &["incidents", "--instance", &name, "--json"]).output().unwrap();
    let stored = String::from_utf8_lossy(&list.stdout).lines().count();
    assert_eq!(stored as u64, total, "every incident stored once");
    if store.starts_with("redis") {
        let mut conn = redis::Client::open(store).unwrap().get_connection().unwrap();
        let keys: Vec<String> =
            ["inc", "lastrun", "fetch"].iter().map(|k| format!("soar:{k}:{name}")).collect();
        let _: () = redis::cmd("DEL").arg(keys).query(&mut conn).unwrap();
    }
    (secs, engine, integration, stored)
}

fn main() {
    let bin = Path::new(env!("CARGO_BIN_EXE_soar")).with_file_name("soar-test-integration");
    if !bin.is_file() {
        println!(
            "fetch_memory: build {} first: cargo build --release -p soar-test-integration",
            bin.display()
        );
        return;
    }
    let mut stores = vec!["file".to_owned()];
    if let Ok(url) = std::env::var("SOAR_REDIS_URL") {
        stores.push(url);
    }
    println!(
        "| store | incidents | pages | wall time | engine peak RSS | integration peak RSS (largest run) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for store in &stores {
        for total in [1_000, 10_000] {
            let (secs, engine, integration, _) = fetch(total, store);
            let shown = if store == "file" { "file" } else { "redis" };
            println!(
                "| {shown} | {total} | {} | {secs:.1} s | {:.1} MiB | {:.1} MiB |",
                total / PAGE,
                engine as f64 / 1024.0,
                integration as f64 / 1024.0
            );
        }
    }
}
