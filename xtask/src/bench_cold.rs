//! `cargo xtask bench cold-start [--runs N]`: the cold start of a soar-rt integration against the
//! Python alternative, for "get a token + one Graph GET", in one run on this machine.
//!
//! Builds `msgraph-user` in release, creates or reuses the venv with `msal` (the helper of
//! `cargo xtask peers ms`, `target/peers/venv`), starts soar-emulator in this process over HTTPS
//! with its generated test CA, then runs N rounds (default 30) of three children, interleaved so
//! all three see the same machine load:
//!
//! - (a) the `msgraph-user` release binary, one-shot, with an empty integration context (so it
//!   must get a token), `msgraph-user-get user=<the emulator's test user>` with client-secret
//!   params, and `SOAR_HOST_MAP`/`SOAR_EXTRA_CA` pointing the real host names at the emulator;
//! - (b) `xtask/peers/cold_start.py`: `msal` `ConfidentialClientApplication` on the emulator's
//!   authority (instance discovery off) + `acquire_token_for_client`, then a `requests` GET of
//!   the same Graph path and `$select`; CA through `REQUESTS_CA_BUNDLE`. msal also fetches the
//!   tenant's OpenID configuration before the token (3 requests against Rust's 2): that is part
//!   of what a Python cold start costs, so it is measured, not avoided;
//! - (c) `python -c pass` with the same interpreter: the floor any Python integration pays.
//!
//! It prints, per row, the median and 90th percentile of wall time, the median and maximum of
//! peak RSS, and the HTTP requests the emulator saw per run, then the Python/Rust ratios.
//!
//! Every run is checked, and one failed run fails the bench: (a) exits 0, its response has no
//! error entry, its first entry holds the user's id, and it returns an integration context with
//! an `access_token`; (b) exits 0 and prints the user's id; and both made exactly one token
//! request to the emulator during the run (so both were truly cold).
//!
//! Decisions where the brief left a choice:
//! - Peak RSS is read by running each child under GNU `/usr/bin/time -f %M -o FILE` (the
//!   kernel's `ru_maxrss` of the child from `wait4`, in KiB). Reading `/proc/PID/status`
//!   `VmHWM` would need to stop the child just before it exits, which only a tracer can do. When
//!   `/usr/bin/time` is missing the bench stops and says to install the Debian package `time`
//!   (`apt-get install time`); it does not run apt-get itself (that needs root).
//! - Each round runs every child twice: once plain, timed from spawn to exit as seen by this
//!   process, and once under `/usr/bin/time` for its peak RSS (both runs are checked). The wrapper
//!   adds about 1.5 ms of its own fork and exec on this machine, which would blur a 10 ms start,
//!   so it stays out of the wall times.
//! - One untimed warm-up round comes first: "cold" here means a new process with no token, not
//!   an empty page cache (the binaries and Python's modules are read from memory, as on a host
//!   that has run the integration before).
//! - The order of (a), (b), (c) rotates from round to round so no side always runs first.
//! - The emulator signs a fresh token for every request (`reuse_app_tokens_within_second` off),
//!   as Entra ID does for a new client; its 2 worker threads share the machine with the children.
//!   It runs inside the xtask, which `cargo xtask` builds in the dev profile (the RSA crates are
//!   optimized there); its share of each run is the same for both sides.
//! - Python talks to `https://127.0.0.1:PORT` (it has no host map); the Rust binary uses the real
//!   host names mapped to the same address. Both verify TLS against the emulator's CA.
//! - The figures are the median and the 90th percentile (nearest rank) of wall time, and the
//!   median and maximum of peak RSS; the ratios are Python/Rust of the medians.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use soar_emulator::Emulator;
use soar_emulator::config::{self as emu_config, EmulatorConfig};

const TIME: &str = "/usr/bin/time";
const DEFAULT_RUNS: usize = 30;

/// Runs the benchmark; `args` are the words after `cold-start`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let runs = parse_runs(args)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?.to_path_buf();
    let work = root.join("target/peers/cold-start");
    std::fs::create_dir_all(&work).context("creating target/peers/cold-start")?;
    check_time(&work)?;
    let binary = build_msgraph_user(&root)?;
    let python = crate::peers_ms::ensure_venv(&root.join("target/peers/venv"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut config = EmulatorConfig::default();
    config.behaviour.reuse_app_tokens_within_second = false;
    let emu = rt.block_on(Emulator::start(config)).context("starting soar-emulator")?;
    let bench = Bench { root: &root, work: &work, binary: &binary, python: &python, emu: &emu };
    let result = bench.measure(runs);
    rt.block_on(emu.shutdown());
    result
}

fn parse_runs(args: &[String]) -> anyhow::Result<usize> {
    match args {
        [] => Ok(DEFAULT_RUNS),
        [flag, n] if flag == "--runs" => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => bail!(
                "--runs takes a whole number of rounds, at least 1 (got '{n}'); the default is {DEFAULT_RUNS}"
            ),
        },
        _ => bail!("usage: cargo xtask bench cold-start [--runs N] (got: {})", args.join(" ")),
    }
}

/// Fails with what to install when GNU time is not there or cannot report the peak RSS.
fn check_time(work: &Path) -> anyhow::Result<()> {
    let missing = || {
        anyhow::anyhow!(
            "{TIME} (GNU time) is needed to read each child's peak RSS: install the Debian package `time` \
             (apt-get install time) and run the bench again"
        )
    };
    if !Path::new(TIME).is_file() {
        return Err(missing());
    }
    let out = work.join("time-check.txt");
    let ok = Command::new(TIME)
        .args(["-f", "%M", "-o"])
        .arg(&out)
        .arg("true")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok || read_rss(&out).is_err() {
        return Err(missing());
    }
    Ok(())
}

fn build_msgraph_user(root: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("building msgraph-user (release)");
    let status = soar_conformance::cargo_command()
        .args(["build", "--release", "-p", "msgraph-user"])
        .current_dir(root)
        .status()
        .context("running cargo build --release -p msgraph-user")?;
    if !status.success() {
        bail!("cargo build --release -p msgraph-user failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    let binary = target.join("release/msgraph-user");
    if !binary.is_file() {
        bail!("the build finished but {} is not there", binary.display());
    }
    Ok(binary)
}

/// One side of the comparison.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Rust,
    Python,
    Floor,
}

impl Side {
    const ALL: [Side; 3] = [Side::Rust, Side::Python, Side::Floor];

    fn label(self) -> &'static str {
        match self {
            Side::Rust => "(a) msgraph-user (Rust, release)",
            Side::Python => "(b) Python: msal + requests",
            Side::Floor => "(c) python -c pass (floor)",
        }
    }
}

/// What one run of a child cost.
struct Child {
    wall: Duration,
    rss_kib: Option<u64>,
    requests: u64,
}

/// One round's figures for one side: wall time of the plain run, peak RSS of the wrapped one.
struct Sample {
    wall: Duration,
    rss_kib: u64,
    requests: u64,
}

struct Bench<'a> {
    root: &'a Path,
    work: &'a Path,
    binary: &'a Path,
    python: &'a Path,
    emu: &'a Emulator,
}

impl Bench<'_> {
    fn measure(&self, runs: usize) -> anyhow::Result<()> {
        let request = rust_request();
        eprintln!("warm-up round (not counted)");
        for side in Side::ALL {
            for wrapped in [false, true] {
                self.once(side, &request, wrapped).with_context(|| format!("warm-up of {}", side.label()))?;
            }
        }
        eprintln!("{runs} interleaved rounds");
        let mut samples: [Vec<Sample>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for round in 0..runs {
            for k in 0..3 {
                let i = (round + k) % 3;
                let side = Side::ALL[i];
                let context = || format!("round {} of {runs}, {}", round + 1, side.label());
                let timed = self.once(side, &request, false).with_context(context)?;
                let sized = self.once(side, &request, true).with_context(context)?;
                samples[i].push(Sample {
                    wall: timed.wall,
                    rss_kib: sized.rss_kib.context("GNU time reported no peak RSS")?,
                    requests: timed.requests,
                });
            }
        }
        report(runs, &samples)
    }

    /// Runs one child (under GNU time when `wrapped`), checks it did the job, and returns its
    /// wall time, its peak RSS (wrapped runs only) and the emulator requests it made.
    fn once(&self, side: Side, request: &[u8], wrapped: bool) -> anyhow::Result<Child> {
        let rss_file = self.work.join("rss.txt");
        let _ = std::fs::remove_file(&rss_file);
        let program = if side == Side::Rust { self.binary } else { self.python };
        let mut cmd = if wrapped {
            let mut c = Command::new(TIME);
            c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(program);
            c
        } else {
            Command::new(program)
        };
        let ca = self.emu.ca_pem_path();
        match side {
            Side::Rust => {
                cmd.env("SOAR_HOST_MAP", self.emu.host_map()).env("SOAR_EXTRA_CA", ca).env_remove("RUST_LOG");
            }
            Side::Python => {
                cmd.arg(self.root.join("xtask/peers/cold_start.py"))
                    .arg(format!("{}/{}", self.emu.https_base(), emu_config::DEFAULT_TENANT_ID))
                    .arg(emu_config::SECRET_APP_ID)
                    .arg(self.emu.https_base())
                    .arg(emu_config::TEST_USER_UPN)
                    .env("COLD_START_SECRET", emu_config::SECRET_APP_SECRET)
                    .env("REQUESTS_CA_BUNDLE", ca)
                    .env("CURL_CA_BUNDLE", ca);
            }
            Side::Floor => {
                cmd.args(["-c", "pass"]);
            }
        }
        cmd.env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .stdin(if side == Side::Rust { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let log = self.emu.request_log();
        let (total_before, tokens_before) = (log.total(), log.token_requests());
        let start = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("spawning {}", program.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            // The request is far below a pipe's buffer, so this cannot block on the child.
            stdin.write_all(request).context("writing the request to msgraph-user")?;
        }
        let out = child.wait_with_output().context("waiting for the child")?;
        let wall = start.elapsed();
        let (requests, tokens) = (log.total() - total_before, log.token_requests() - tokens_before);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!("the child failed ({}): {}", out.status, stderr.trim());
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        match side {
            Side::Rust => check_rust_response(&stdout)?,
            Side::Python => {
                if stdout.trim() != emu_config::TEST_USER_OID {
                    bail!(
                        "cold_start.py printed '{}', not the user's id {}",
                        stdout.trim(),
                        emu_config::TEST_USER_OID
                    );
                }
            }
            Side::Floor => {}
        }
        if side != Side::Floor && tokens != 1 {
            bail!("the run made {tokens} token requests to the emulator; a cold start makes exactly 1");
        }
        let rss_kib = if wrapped { Some(read_rss(&rss_file)?) } else { None };
        Ok(Child { wall, rss_kib, requests })
    }
}

/// The one-shot request: client-secret params, an empty integration context.
fn rust_request() -> Vec<u8> {
    let cred = |v: &str| json!({"identifier": "", "password": v});
    let request = json!({
        "command": "msgraph-user-get",
        "args": {"user": emu_config::TEST_USER_UPN},
        "params": {
            "self_deployed": true,
            "creds_auth_id": cred(emu_config::SECRET_APP_ID),
            "creds_tenant_id": cred(emu_config::DEFAULT_TENANT_ID),
            "creds_enc_key": cred(emu_config::SECRET_APP_SECRET),
        },
        "integration_context": {},
    });
    request.to_string().into_bytes()
}

/// The response has entries, none of them an error, the first holds the user, and a token was
/// stored. Never echoes the response: its integration context holds the token.
fn check_rust_response(stdout: &str) -> anyhow::Result<()> {
    let resp: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| anyhow::anyhow!("msgraph-user did not answer one JSON response: {e}"))?;
    let entries = resp.get("entries").and_then(Value::as_array).context("the response has no entries")?;
    let errors: Vec<&str> = entries
        .iter()
        .filter(|e| e.get("Type").and_then(Value::as_u64) == Some(4))
        .map(|e| e.get("Contents").and_then(Value::as_str).unwrap_or("(no text)"))
        .collect();
    if !errors.is_empty() {
        bail!("msgraph-user answered with an error entry: {}", errors.join(" | "));
    }
    let id = entries.first().and_then(|e| e.pointer("/Contents/id")).and_then(Value::as_str);
    if id != Some(emu_config::TEST_USER_OID) {
        bail!("msgraph-user's first entry does not hold the user {}", emu_config::TEST_USER_OID);
    }
    if resp.pointer("/integration_context/access_token").is_none() {
        bail!("msgraph-user returned no token in its integration context: it did not start cold");
    }
    Ok(())
}

/// GNU time writes the peak RSS (KiB) as the last line (an exit-status line may come first).
fn read_rss(path: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let last = text.lines().last().unwrap_or("").trim();
    last.parse().map_err(|_| anyhow::anyhow!("{TIME} wrote '{last}', not a peak RSS in KiB"))
}

/// Median and 90th percentile (nearest rank) of sorted values.
fn median_p90<T: Copy + Ord>(mut v: Vec<T>) -> Option<(T, T)> {
    v.sort();
    let n = v.len();
    let p90 = (n * 9).div_ceil(10).max(1) - 1;
    Some((*v.get(n / 2)?, *v.get(p90)?))
}

struct Row {
    median: Duration,
    p90: Duration,
    rss_median: u64,
    rss_max: u64,
    requests: String,
}

fn row(samples: &[Sample]) -> anyhow::Result<Row> {
    let (median, p90) = median_p90(samples.iter().map(|s| s.wall).collect()).context("no samples")?;
    let (rss_median, _) = median_p90(samples.iter().map(|s| s.rss_kib).collect()).context("no samples")?;
    let rss_max = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let lo = samples.iter().map(|s| s.requests).min().unwrap_or(0);
    let hi = samples.iter().map(|s| s.requests).max().unwrap_or(0);
    let requests = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
    Ok(Row { median, p90, rss_median, rss_max, requests })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn report(runs: usize, samples: &[Vec<Sample>; 3]) -> anyhow::Result<()> {
    let rows = [row(&samples[0])?, row(&samples[1])?, row(&samples[2])?];
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\ncold start, get a token + one Graph GET (msgraph-user-get) against soar-emulator over HTTPS"
    )?;
    writeln!(out, "{runs} interleaved rounds, {cpus} CPUs, emulator in the same process (2 workers)")?;
    writeln!(
        out,
        "  {:<34} {:>11} {:>11} {:>14} {:>13} {:>9}",
        "", "wall median", "wall p90", "peak RSS med", "peak RSS max", "requests"
    )?;
    for (side, r) in Side::ALL.iter().zip(&rows) {
        writeln!(
            out,
            "  {:<34} {:>11} {:>11} {:>14} {:>13} {:>9}",
            side.label(),
            ms(r.median),
            ms(r.p90),
            mib(r.rss_median),
            mib(r.rss_max),
            r.requests
        )?;
    }
    let ratio = |p: f64, r: f64| if r > 0.0 { format!("{:.1}x", p / r) } else { "n/a".into() };
    let (rust, py, floor) = (&rows[0], &rows[1], &rows[2]);
    writeln!(
        out,
        "  Python/Rust: wall median {}, wall p90 {}, peak RSS median {}",
        ratio(py.median.as_secs_f64(), rust.median.as_secs_f64()),
        ratio(py.p90.as_secs_f64(), rust.p90.as_secs_f64()),
        ratio(py.rss_median as f64, rust.rss_median as f64)
    )?;
    writeln!(
        out,
        "  Python above its interpreter floor (median): {}; Rust wall median below the floor: {}",
        ms(py.median.saturating_sub(floor.median)),
        if rust.median < floor.median { "yes" } else { "no" }
    )?;
    writeln!(
        out,
        "  (requests = HTTP requests the emulator saw per run; wall times are of plain runs, RSS of runs under {TIME})"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest-rank p90: the 9th of 10, the 27th of 30, the only one of 1.
    #[test]
    fn median_and_p90() {
        let check = |n: u64, median: u64, p90: u64| {
            assert_eq!(median_p90((1..=n).rev().collect()), Some((median, p90)), "n = {n}");
        };
        check(1, 1, 1);
        check(10, 6, 9);
        check(30, 16, 27);
        assert_eq!(median_p90(Vec::<u64>::new()), None);
    }

    /// What makes a msgraph-user response count as a successful cold start.
    #[test]
    fn rust_response_checks() {
        let check = |resp: Value, ok: bool| {
            assert_eq!(check_rust_response(&resp.to_string()).is_ok(), ok, "{resp}");
        };
        let user = json!({"Type": 1, "Contents": {"id": emu_config::TEST_USER_OID}});
        let ctx = json!({"access_token": "t", "valid_until": "1"});
        check(json!({"entries": [user], "integration_context": ctx}), true);
        // Cached token: no context came back, so the run was not cold.
        check(json!({"entries": [user]}), false);
        check(json!({"entries": [user, {"Type": 4, "Contents": "boom"}], "integration_context": ctx}), false);
        check(
            json!({"entries": [{"Type": 1, "Contents": {"id": "someone else"}}], "integration_context": ctx}),
            false,
        );
        check(json!({"entries": [], "integration_context": ctx}), false);
        check(json!({"integration_context": ctx}), false);
        assert!(check_rust_response("not json").is_err());
    }

    #[test]
    fn runs_argument() {
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_runs(&args(&[])).unwrap(), 30);
        assert_eq!(parse_runs(&args(&["--runs", "5"])).unwrap(), 5);
        for bad in [&["--runs", "0"][..], &["--runs", "x"], &["--runs"], &["5"]] {
            assert!(parse_runs(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
