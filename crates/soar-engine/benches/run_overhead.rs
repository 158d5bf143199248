//! What `soar run` adds over running the integration binary directly, with a warm token.
//!
//! Hyperfine-style: after a warm-up, the same command runs `ROUNDS` times each way, interleaved
//! so both see the same machine load; the figures are medians and 95th percentiles of wall
//! time, and the overhead is the difference of the medians. The integration is the engine's
//! own test counter (`soar-test-counter-token`, whose cached-token path changes nothing, like a
//! real command with a warm token), so the figure is the engine's cost alone: reading the
//! instance, the cached manifest and the context, spawning, and parsing the response.
//! With `SOAR_REDIS_URL` set, the same run is measured against the Redis store too.
//!
//! Run: `cargo bench -p soar-engine --bench run_overhead`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WARMUP: usize = 20;
const ROUNDS: usize = 300;

fn soar(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_soar"));
    c.env("SOAR_DATA_DIR", data).env("NO_COLOR", "1").env_remove("SOAR_STORE").args(args);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn direct(request: &[u8]) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_soar-test-counter"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(request).unwrap();
    let out = child.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Token from the cache."));
    elapsed
}

fn via_soar(data: &Path, store: &str) -> Duration {
    let start = Instant::now();
    let out = ok(soar(data, &["--store", store, "run", "-i", "bench", "!soar-test-counter-token"])
        .output()
        .unwrap());
    let elapsed = start.elapsed();
    assert_eq!(out, "Token from the cache.\n");
    elapsed
}

struct Stats {
    median: Duration,
    p95: Duration,
    mean: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let mean = v.iter().sum::<Duration>() / v.len() as u32;
    Stats { median: v[v.len() / 2], p95: v[v.len() * 95 / 100], mean }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn measure(label: &str, data: &Path, store: &str) {
    // Warm the token and the manifest cache.
    ok(soar(data, &["--store", store, "run", "-i", "bench", "!soar-test-counter-token"]).output().unwrap());
    // The direct runs get the request soar sends: the same (empty) params and stored context.
    let stored = soar_engine::cli::open_store(store, data).unwrap().load("bench").unwrap();
    let request = serde_json::to_vec(&serde_json::json!({
        "command": "soar-test-counter-token", "args": {}, "params": {},
        "integration_context": stored.context, "context_version": stored.version, "instance": "bench"
    }))
    .unwrap();
    for _ in 0..WARMUP {
        direct(&request);
        via_soar(data, store);
    }
    let (mut d, mut s) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        d.push(direct(&request));
        s.push(via_soar(data, store));
    }
    let (d, s) = (stats(d), stats(s));
    let overhead = s.median.saturating_sub(d.median);
    println!("\n{label}: {ROUNDS} runs each, warm token");
    println!("  {:<28} {:>10} {:>10} {:>10}", "", "median", "p95", "mean");
    println!(
        "  {:<28} {:>10} {:>10} {:>10}",
        "integration binary directly",
        ms(d.median),
        ms(d.p95),
        ms(d.mean)
    );
    println!("  {:<28} {:>10} {:>10} {:>10}", "soar run", ms(s.median), ms(s.p95), ms(s.mean));
    println!(
        "  overhead of soar run: {} (median), goal < 5 ms: {}",
        ms(overhead),
        if overhead < Duration::from_millis(5) { "met" } else { "NOT met" }
    );
    println!("  commands/s through soar, one at a time: {:.0}", 1.0 / s.mean.as_secs_f64());
    // Two cores: two runs at a time.
    let start = Instant::now();
    let n = 200;
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| {
                for _ in 0..n / 2 {
                    via_soar(data, store);
                }
            });
        }
    });
    println!("  commands/s through soar, two at a time: {:.0}", n as f64 / start.elapsed().as_secs_f64());
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(soar(data, &["instance", "add", "bench", "--integration", "soar-test-counter"]).output().unwrap());
    measure("file store", data, "file");
    if let Ok(url) = std::env::var("SOAR_REDIS_URL") {
        let rdata = dir.path().join("redis");
        ok(soar(&rdata, &["instance", "add", "bench", "--integration", "soar-test-counter"])
            .output()
            .unwrap());
        soar_engine::cli::open_store(&url, &rdata).unwrap().remove("bench").unwrap();
        measure(&format!("Redis store ({url})"), &rdata, &url);
    } else {
        println!("\n(Redis store not measured: SOAR_REDIS_URL is not set)");
    }
}
