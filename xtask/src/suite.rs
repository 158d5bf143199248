//! `cargo xtask test`: every suite CI runs, in one command (the README's test command).
//!
//! Order: `cargo test --workspace` (with a throw-away loopback `redis-server` when one is installed,
//! so the Redis store tests run against a real server), the generated-files staleness check
//! (schemas, integration YAML and README), a bounded fuzzing run (`fuzz`), the YAML against demisto-sdk's schema, the content packs and their shim tests (`pack-check`), the golden
//! War Room cases, the conformance suites against the emulator, the scaffold in a throw-away copy
//! of the workspace (`scaffold-check`), then the real third-party peers.
//! Each stage runs this same xtask binary as a child so that it behaves exactly as when a person
//! types the stage's own command.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Runs every stage; stops at the first failure.
#[allow(clippy::print_stdout)] // the closing count is for the person (and CI) reading stdout
pub(crate) fn run() -> anyhow::Result<()> {
    let redis = start_redis()?;
    let mut cargo_test = soar_conformance::cargo_command();
    cargo_test.args(["test", "--workspace"]);
    if let Some(r) = &redis {
        cargo_test.env("SOAR_REDIS_URL", &r.url);
    } else if std::env::var_os("SOAR_REDIS_URL").is_none() {
        eprintln!("xtask test: redis-server is not installed; the Redis store tests will be skipped");
    }
    stage("cargo test --workspace", cargo_test)?;
    drop(redis);

    let me = std::env::current_exe().context("finding the xtask binary")?;
    let stages: [&[&str]; 8] = [
        &["codegen", "--check"],
        &["fuzz", "--seconds", "40"],
        &["validate-yaml"],
        &["pack-check"],
        &["check-cases", "test-data/war-room/war-room-cases.json"],
        &["conformance"],
        &["scaffold-check"],
        &["peers", "all"],
    ];
    for args in stages {
        let mut c = Command::new(&me);
        c.args(args);
        stage(&format!("cargo xtask {}", args.join(" ")), c)?;
    }
    // One closing line for the whole run, after every stage's own counts.
    println!("stages: {} passed, 0 failed", stages.len() + 1);
    Ok(())
}

fn stage(name: &str, mut cmd: Command) -> anyhow::Result<()> {
    eprintln!("\n==> {name}");
    let started = Instant::now();
    let status = cmd.status().with_context(|| format!("starting {name}"))?;
    eprintln!(
        "<== {name}: {} in {:.1} s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{name} failed");
    }
    Ok(())
}

/// A `redis-server` on a free loopback port, stopped on drop.
struct Redis {
    child: Child,
    url: String,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_redis() -> anyhow::Result<Option<Redis>> {
    if std::env::var_os("SOAR_REDIS_URL").is_some() {
        return Ok(None);
    }
    let Ok(path) = which("redis-server") else { return Ok(None) };
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(path)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting redis-server")?;
    let redis = Redis { child, url: format!("redis://127.0.0.1:{port}/") };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("redis-server did not start listening on 127.0.0.1:{port} within 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Some(redis))
}

fn which(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([std::path::PathBuf::from("/usr/bin"), "/usr/sbin".into()])
    {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("{name} not found")
}
