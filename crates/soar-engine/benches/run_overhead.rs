//! What `soar run` adds over running the integration binary directly, with a warm token.
//!
//! Hyperfine-style: after a warm-up, the same command runs `ROUNDS` times each way, interleaved
//! so both see the same machine load; the figures are medians, 95th percentiles and means of
//! wall time, and the overhead is the difference of the medians. The direct run gets exactly the
//! request `soar` would send (same params, same stored context).
//!
//! 1. The engine's test counter (`soar-test-counter-token`: a warm token, no context write), so
//!    the figure is the engine's cost alone: reading the instance, the cached manifest and the
//!    context, spawning, parsing the response. With `SOAR_REDIS_URL` set, also on Redis.
//! 2. When `msgraph-user` is built next to `soar` (`cargo build --release -p msgraph-user`), a
//!    real command (`msgraph-user-get`) against the emulator started in this process.
//!
//! Run: `cargo bench -p soar-engine --bench run_overhead`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use soar_engine::instance::Instances;

const WARMUP: usize = 20;
const ROUNDS: usize = 300;

fn soar(data: &Path, env: &[(String, String)], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_soar"));
    c.env("SOAR_DATA_DIR", data).env("NO_COLOR", "1").env_remove("SOAR_STORE").args(args);
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One case: an instance in `data` on `store`, a War Room line, and the binary it runs.
struct Case<'a> {
    label: String,
    data: &'a Path,
    store: String,
    env: Vec<(String, String)>,
    binary: PathBuf,
    command: &'a str,
    args: serde_json::Value,
    line: String,
    expect: &'a str,
}

impl Case<'_> {
    fn via_soar(&self) -> Duration {
        let start = Instant::now();
        let out = ok(soar(self.data, &self.env, &["--store", &self.store, "run", "-i", "bench", &self.line])
            .output()
            .unwrap());
        let elapsed = start.elapsed();
        assert!(out.contains(self.expect), "{out}");
        elapsed
    }

    /// The request soar sends: the instance's params and the stored context.
    fn request(&self) -> Vec<u8> {
        let inst = Instances::open(self.data).unwrap().load("bench").unwrap();
        let stored = soar_engine::cli::open_store(&self.store, self.data).unwrap().load("bench").unwrap();
        serde_json::to_vec(&serde_json::json!({
            "command": self.command, "args": self.args, "params": inst.params,
            "integration_context": stored.context, "context_version": stored.version, "instance": "bench"
        }))
        .unwrap()
    }

    fn direct(&self, request: &[u8]) -> Duration {
        let start = Instant::now();
        let mut child = Command::new(&self.binary)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(request).unwrap();
        let out = child.wait_with_output().unwrap();
        let elapsed = start.elapsed();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(self.expect), "{text}");
        assert!(!text.contains("\"integration_context\""), "the token was not warm: {text}");
        elapsed
    }

    fn measure(&self) {
        // Warm the token and the manifest cache (the first run fetches the token).
        ok(soar(self.data, &self.env, &["--store", &self.store, "run", "-i", "bench", &self.line])
            .output()
            .unwrap());
        let request = self.request();
        for _ in 0..WARMUP {
            self.direct(&request);
            self.via_soar();
        }
        let (mut d, mut s) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            d.push(self.direct(&request));
            s.push(self.via_soar());
        }
        let (d, s) = (stats(d), stats(s));
        let overhead = s.median.saturating_sub(d.median);
        println!("\n{}: {ROUNDS} runs each way, warm token", self.label);
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
        let n = 200;
        let start = Instant::now();
        std::thread::scope(|sc| {
            for _ in 0..2 {
                sc.spawn(|| {
                    for _ in 0..n / 2 {
                        let _ = self.via_soar();
                    }
                });
            }
        });
        println!(
            "  commands/s through soar, two at a time (2 cores): {:.0}",
            n as f64 / start.elapsed().as_secs_f64()
        );
    }
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

fn counter_case<'a>(label: String, data: &'a Path, store: &str) -> Case<'a> {
    ok(soar(data, &[], &["instance", "add", "bench", "--integration", "soar-test-counter"])
        .output()
        .unwrap());
    soar_engine::cli::open_store(store, data).unwrap().remove("bench").unwrap();
    Case {
        label,
        data,
        store: store.to_owned(),
        env: Vec::new(),
        binary: PathBuf::from(env!("CARGO_BIN_EXE_soar-test-counter")),
        command: "soar-test-counter-token",
        args: serde_json::json!({}),
        line: "!soar-test-counter-token".into(),
        expect: "Token from the cache.",
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    counter_case("test counter, file store".into(), &dir.path().join("file"), "file").measure();
    match std::env::var("SOAR_REDIS_URL") {
        Ok(url) => {
            counter_case(format!("test counter, Redis store ({url})"), &dir.path().join("redis"), &url)
                .measure()
        }
        Err(_) => println!("\n(Redis store not measured: SOAR_REDIS_URL is not set)"),
    }

    let graph = Path::new(env!("CARGO_BIN_EXE_soar")).with_file_name("msgraph-user");
    if !graph.is_file() {
        println!("\n(msgraph-user not measured: build it with cargo build --release -p msgraph-user)");
        return;
    }
    use soar_emulator::config as emu;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let emulator =
        rt.block_on(soar_emulator::Emulator::start(soar_emulator::EmulatorConfig::default())).unwrap();
    let data = dir.path().join("graph");
    let env = soar_engine::demo::emulator_env(&emulator);
    ok(soar(
        &data,
        &[("GRAPH_SECRET".into(), emu::SECRET_APP_SECRET.into())],
        &[
            "instance",
            "add",
            "bench",
            "--integration",
            "msgraph-user",
            "--param",
            "self_deployed=true",
            "--param",
            &format!("creds_auth_id.password={}", emu::SECRET_APP_ID),
            "--param",
            &format!("creds_tenant_id.password={}", emu::DEFAULT_TENANT_ID),
            "--param-env",
            "creds_enc_key.password=GRAPH_SECRET",
        ],
    )
    .output()
    .unwrap());
    Case {
        label: "msgraph-user-get against the emulator, file store".into(),
        data: &data,
        store: "file".into(),
        env,
        binary: graph,
        command: "msgraph-user-get",
        args: serde_json::json!({"user": emu::TEST_USER_UPN, "properties": "displayName,mail"}),
        line: format!("!msgraph-user-get user={} properties=displayName,mail", emu::TEST_USER_UPN),
        expect: "Alice Emulator",
    }
    .measure();
    println!("  token requests the emulator answered in all: {}", emulator.request_log().token_requests());
    rt.block_on(emulator.shutdown());
}
