//! Helpers shared by the engine's integration tests: run `soar` in a temporary data directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `soar` binary under test.
pub fn soar_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_soar"))
}

/// A `soar` command on `data_dir`, without colours, with extra `args`.
pub fn soar(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(soar_bin());
    cmd.env("SOAR_DATA_DIR", data_dir)
        .env("NO_COLOR", "1")
        .env_remove("SOAR_STORE")
        .env_remove("SOAR_LEASE_WAIT_MS")
        .env_remove("SOAR_LEASE_TTL_MS")
        .env_remove("SOAR_BIN_DIR")
        .args(args)
        .stdin(Stdio::null());
    cmd
}

/// Runs `soar` and returns (exit code, stdout, stderr).
pub fn run(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output = soar(data_dir, args).output().expect("soar runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Adds an instance of the test counter integration, with extra `args`.
pub fn add_counter(data_dir: &Path, name: &str, extra: &[&str]) {
    let mut args = vec!["instance", "add", name, "--integration", "soar-test-counter"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(data_dir, &args);
    assert_eq!(code, 0, "instance add failed: {out}{err}");
}

/// A random hex suffix, so tests sharing a Redis server do not collide.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

/// The folder of the binaries next to `soar`, with `packages`' binaries built first when one is
/// missing (`cargo build` with the profile of this test's binaries). A failed build fails the
/// test: it never passes by skipping.
pub fn built(test: &str, packages: &[&str]) -> PathBuf {
    let dir = soar_bin().parent().unwrap().to_owned();
    let missing = || -> Vec<&str> { packages.iter().copied().filter(|b| !dir.join(b).is_file()).collect() };
    let absent = missing();
    if !absent.is_empty() {
        let mut build = Command::new(env!("CARGO"));
        build.arg("build");
        if dir.ends_with("release") {
            build.arg("--release");
        }
        for b in &absent {
            build.args(["-p", b]);
        }
        let status = build.status().unwrap_or_else(|e| panic!("{test}: cannot run cargo build: {e}"));
        assert!(status.success(), "{test}: cargo build -p {} failed", absent.join(" -p "));
    }
    let still = missing();
    assert!(still.is_empty(), "{test}: {} not found in {} after building", still.join(", "), dir.display());
    dir
}

/// Adds an instance of `soar-test-integration`, with extra `args`.
pub fn add_test_integration(data_dir: &Path, name: &str, extra: &[&str]) {
    let mut args = vec![
        "instance",
        "add",
        name,
        "--integration",
        "soar-test-integration",
        "--param",
        "url=https://t.test",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run(data_dir, &args);
    assert_eq!(code, 0, "instance add failed: {out}{err}");
}

/// A state file for `soar-test-integration`'s remote side (fetch and mirroring), in `dir`.
pub fn write_state(dir: &Path, state: &serde_json::Value) -> PathBuf {
    let path = dir.join("state.json");
    std::fs::write(&path, state.to_string()).unwrap();
    path
}

/// The lines of `<state file>.<suffix>` (the test integration's logs) as JSON.
pub fn state_log(state: &Path, suffix: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state.with_extension(suffix))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Checks the test integration's fetch log: no page was fetched twice, except by `killed`
/// (an engine killed in the middle, whose page the next holder fetched again), and two fetches
/// started at least `gap_ms` apart (one engine per interval; the integration notes its own
/// start, so give the interval less the spawn time's jitter). Returns the engines that fetched.
pub fn check_fetch_log(state: &Path, killed: Option<u32>, gap_ms: u128) -> std::collections::BTreeSet<u64> {
    let log = state_log(state, "fetchlog");
    let mut live: Vec<&serde_json::Value> =
        log.iter().filter(|l| killed.is_none_or(|k| l["engine"].as_u64() != Some(u64::from(k)))).collect();
    live.sort_by_key(|l| l["start_ms"].as_str().unwrap().parse::<u128>().unwrap());
    let mut offsets = std::collections::BTreeSet::new();
    for l in &live {
        assert!(
            offsets.insert(l["offset"].as_u64().unwrap()),
            "page at offset {} fetched twice: {log:?}",
            l["offset"]
        );
    }
    for pair in live.windows(2) {
        let a: u128 = pair[0]["start_ms"].as_str().unwrap().parse().unwrap();
        let b: u128 = pair[1]["start_ms"].as_str().unwrap().parse().unwrap();
        assert!(b >= a + gap_ms, "two fetches {} ms apart (interval {gap_ms} ms): {log:?}", b - a);
    }
    live.iter().map(|l| l["engine"].as_u64().unwrap()).collect()
}
