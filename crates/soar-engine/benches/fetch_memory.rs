//! A fetch of 10,000 incidents over pages keeps memory flat: the fetch service (`soar fetch
//! --every 0s --cycles N`) pulls every page of `soar-test-integration`'s remote side (incidents
//! made on the fly, 200 a page) into the file store (and Redis with `SOAR_REDIS_URL`), and the
//! figures are the peak resident sets of the engine and of the largest integration run, for
//! 1,000 and 10,000 incidents. Flat means the 10,000 row is not ten times the 1,000 row: the
//! engine holds one page at a time (and the keys already stored), each integration run one page.
//!
//! The microsoft-atp rows do the same with the real Defender for Endpoint binary against the
//! emulator (started in this process): N alerts bulk-added through its control endpoint
//! `POST /__emulator/defender/alerts`, fetched by `soar fetch` in pages of `max_fetch` = 200.
//! Every row checks that the store holds exactly N distinct incidents (none lost, none
//! repeated) and the bench fails otherwise.
//!
//! Run: `cargo build --release -p soar-test-integration -p microsoft-atp && cargo bench -p
//! soar-engine --bench fetch_memory`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use soar_emulator::config::{DEFAULT_TENANT_ID, SECRET_APP_ID, SECRET_APP_SECRET};
use soar_emulator::{Emulator, EmulatorConfig};

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

/// Where the incidents come from.
enum Source<'a> {
    /// `soar-test-integration`'s remote side, made on the fly.
    TestIntegration,
    /// microsoft-atp against the emulator, which holds the alerts.
    Defender(&'a Emulator),
}

/// Fetches `total` incidents; returns (seconds, engine peak kB, integration peak kB, stored).
fn fetch(total: u64, store: &str, source: &Source) -> (f64, u64, u64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let name = format!("bench-{:08x}", rand::random::<u32>());
    let mut args: Vec<String> = vec!["instance".into(), "add".into(), name.clone(), "--integration".into()];
    let mut env: Vec<(String, String)> = Vec::new();
    match source {
        Source::TestIntegration => {
            let state = dir.path().join("state.json");
            std::fs::write(&state, format!(r#"{{"total": {total}, "page": {PAGE}}}"#)).unwrap();
            args.extend(["soar-test-integration".into(), "--param".into(), "url=https://t.test".into()]);
            args.extend(["--param".into(), format!("state_file={}", state.display())]);
        }
        Source::Defender(emu) => {
            args.push("microsoft-atp".into());
            for p in [
                format!("_auth_id={SECRET_APP_ID}"),
                format!("_tenant_id={DEFAULT_TENANT_ID}"),
                format!("max_fetch={PAGE}"),
                "first_fetch_timestamp=2 days".to_owned(),
            ] {
                args.extend(["--param".into(), p]);
            }
            args.extend(["--param-env".into(), "credentials.password=BENCH_SECRET".into()]);
            env.push(("BENCH_SECRET".into(), SECRET_APP_SECRET.into()));
            env.push(("SOAR_HOST_MAP".into(), emu.host_map()));
            env.push(("SOAR_EXTRA_CA".into(), emu.ca_pem_path().display().to_string()));
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let add = soar(&data, store, &args).envs(env.iter().cloned()).output().unwrap();
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let cycles = (total / PAGE + 1).to_string();
    let started = Instant::now();
    let out = soar(&data, store, &["fetch", "--instance", &name, "--every", "0s", "--cycles", &cycles])
        .envs(env.iter().cloned())
        .env("SOAR_REPORT_PEAK_RSS", "1")
        .env("SOAR_TEST_REPORT_PEAK_RSS", "1")
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let engine = stderr.lines().filter(|l| l.starts_with("soar peak-rss")).map(kb).max().unwrap_or(0);
    let integration = stderr.lines().filter(|l| l.starts_with("peak-rss")).map(kb).max().unwrap_or(0);
    assert!(engine > 0 && integration > 0, "no peak RSS reported: {stderr}");
    let list = soar(&data, store, &["incidents", "--instance", &name, "--json"]).output().unwrap();
    let lines: Vec<String> = String::from_utf8_lossy(&list.stdout).lines().map(str::to_owned).collect();
    let stored = lines.len();
    assert_eq!(stored as u64, total, "every incident stored once");
    if let Source::Defender(_) = source {
        // Distinct alerts: each stored incident names its alert, and no alert twice.
        let ids: std::collections::BTreeSet<String> = lines
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let name = v["name"].as_str().or_else(|| v["incident"]["name"].as_str()).unwrap_or_default();
                name.rsplit(' ').next().unwrap_or_default().to_owned()
            })
            .filter(|id| id.starts_with("emu-alert-"))
            .collect();
        assert_eq!(ids.len() as u64, total, "{total} distinct alerts stored, got {}", ids.len());
    }
    if store.starts_with("redis") {
        let mut conn = redis::Client::open(store).unwrap().get_connection().unwrap();
        let keys: Vec<String> =
            ["inc", "lastrun", "fetch"].iter().map(|k| format!("soar:{k}:{name}")).collect();
        let _: () = redis::cmd("DEL").arg(keys).query(&mut conn).unwrap();
    }
    (secs, engine, integration, stored)
}

/// `POST /__emulator/defender/alerts {"count": n}` over plain HTTP.
fn add_alerts(emu: &Emulator, n: u64) {
    use std::io::{Read, Write};
    let base = emu.http_base();
    let addr = base.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let body = format!(r#"{{"count": {n}}}"#);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /__emulator/defender/alerts HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 201"), "{out}");
}

fn main() {
    let dir = Path::new(env!("CARGO_BIN_EXE_soar")).parent().unwrap().to_owned();
    for bin in ["soar-test-integration", "microsoft-atp"] {
        if !dir.join(bin).is_file() {
            println!(
                "fetch_memory: build {} first: cargo build --release -p soar-test-integration -p microsoft-atp",
                dir.join(bin).display()
            );
            return;
        }
    }
    let mut stores = vec!["file".to_owned()];
    if let Ok(url) = std::env::var("SOAR_REDIS_URL") {
        stores.push(url);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| integration | store | incidents | pages | wall time | engine peak RSS | integration peak RSS (largest run) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for integration in ["soar-test-integration", "microsoft-atp"] {
        for store in &stores {
            for total in [1_000, 10_000] {
                let (secs, engine, peak) = if integration == "microsoft-atp" {
                    let emu = rt.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
                    let added = Instant::now();
                    add_alerts(&emu, total);
                    eprintln!("{total} alerts added in {:.2} s", added.elapsed().as_secs_f64());
                    let (secs, engine, peak, _) = fetch(total, store, &Source::Defender(&emu));
                    rt.block_on(emu.shutdown());
                    (secs, engine, peak)
                } else {
                    let (secs, engine, peak, _) = fetch(total, store, &Source::TestIntegration);
                    (secs, engine, peak)
                };
                let shown = if store == "file" { "file" } else { "redis" };
                println!(
                    "| {integration} | {shown} | {total} | {} | {secs:.1} s | {:.1} MiB | {:.1} MiB |",
                    total / PAGE,
                    engine as f64 / 1024.0,
                    peak as f64 / 1024.0
                );
            }
        }
    }
}
