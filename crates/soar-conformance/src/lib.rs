//! The conformance runner: runs the real integration binaries over stdin/stdout against the
//! emulator, for every case under `test-data/<integration>/cases/`, across the integration's
//! declared flows and clouds, and counts `N passed, M failed`.
//!
//! It is test tooling, used in two places: `cargo xtask conformance [...]` (a thin front that
//! calls [`cli`] and prints the totals) and the integrations' `tests/conformance.rs` (through
//! `soar_integration_kit::conformance_test!`, which calls [`run_suite`] for one flow and cloud).
//! Those crates name it only as a dev-dependency (the xtask aside), so no runtime crate links it
//! or, through it, the emulator; `cargo test -p xtask` (tidy) checks both.
//!
//! Layout of a suite (`test-data/<integration>/`):
//! - `conformance.json`: the binary name, and per flow the instance params (with `${NAME}`
//!   placeholders filled from the running emulator, see [`Placeholders`]; an unknown name is an
//!   error) and the sign-in the flow needs first (`device-code`: `<prefix>-auth-start`, approval
//!   through the emulator, `<prefix>-auth-complete`; `auth-code`: a code from the emulator's
//!   authorize endpoint); per cloud the params that select it (`_key` values are placeholders,
//!   `${KEY}`); optionally `demo`, the War Room lines `soar demo` runs (read by the engine, not
//!   here).
//! - `cases/*.json`, run in file-name order: `request` (`command`, `args`, optional `params`
//!   merged over the flow's), `expected` (the normalised response), optional `expected_for`
//!   (keyed `<flow>`, `*/<cloud>` or `<flow>/<cloud>` where a flow or cloud answers
//!   differently, see [`Case::want`]), optional `flows` / `clouds` to restrict where it runs,
//!   optional `fresh_context` (start without the flow's tokens), optional `reference` (the
//!   expectation is written from the reference's facts; `--bless` never rewrites it).
//! - `conformance.json` may set `"reference_every_command": true`: a whole run then fails for
//!   every command of the binary's manifest without a `reference` case; and
//!   `"every_command_everywhere": true`: a whole run fails for every command of the manifest
//!   (with `test-module`) that no case runs under some (flow, cloud) of the suite.
//!
//! One emulator is started per (flow, cloud), so cases that change data see the same state in
//! every run. The integration context is carried from case to case as an engine would.
//! [`plan_runs`] is the one place that decides which case runs where; the [`Summary`] counts
//! them (`planned`, `skipped`) so that a test can require every planned run to pass
//! ([`Summary::verdict`]) instead of a hard-coded number.
//!
//! Everything that varies between runs is normalised in ONE place, [`normalise`] (with
//! [`normalise_response`] and [`mask_context`] for a response); read their docs before writing an
//! expectation. `--bless` writes the normalised actual responses into the case files (only those
//! whose text changes, listed in [`Summary::rewritten`]; review the diff before committing); it
//! is refused with `--flow` / `--cloud` and never rewrites a `reference` case. The keys are
//! chosen once every flow and cloud has answered ([`assign_expectations`]): a shared
//! `*/<cloud>` holds only the answer of every flow it covers, so one flow's odd answer never
//! becomes what the others are compared with.
//!
//! Decisions:
//! - The emulator is used as a server over loopback (the binaries reach it through
//!   `SOAR_HOST_MAP` / `SOAR_EXTRA_CA`, see [`emulator::Emu::env`]); only the sign-in helpers
//!   and fault rules touch its state in process.
//! - The library writes no stdout: [`cli`] returns the [`Summary`] and the caller prints the
//!   result line; failures are listed on stderr as `FAILED <case> [<flow>/<cloud>]: ...`.
//! - One error enum, [`Error`], whose messages name the file, suite, case or binary at fault:
//!   every caller is a person running tests, who reads the message.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub mod emulator;
mod error;

pub use error::{Error, Result};
use error::{io, json};

/// What to run.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Only this integration (folder name under `test-data/`).
    pub integration: Option<String>,
    /// Only this flow (kebab-case `AuthFlow` name, e.g. `client-secret`).
    pub flow: Option<String>,
    /// Only this cloud (a key of the suite's `clouds`, e.g. `worldwide`).
    pub cloud: Option<String>,
    /// Only cases whose file name contains this text.
    pub case: Option<String>,
    /// Write actual responses into the case files instead of comparing.
    pub bless: bool,
    /// Print every case, not only failures.
    pub verbose: bool,
}

impl Options {
    /// Parses `--integration X --flow F --cloud C --case NAME --bless --verbose`.
    pub fn parse(args: &[String]) -> Result<Options> {
        let o = Self::parse_flags(args)?;
        o.check()?;
        Ok(o)
    }

    /// Refuses `--bless` with `--flow` or `--cloud`: a case's expectations are shared by every
    /// flow and cloud, so blessing a part of them would rewrite what the others are compared with.
    pub fn check(&self) -> Result<()> {
        if self.bless && (self.flow.is_some() || self.cloud.is_some()) {
            return Err(Error::Usage(
                "--bless cannot be combined with --flow or --cloud: a case's expectations are shared \
                 by every flow and cloud, so bless the whole suite (--integration X, optionally --case NAME)"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    fn parse_flags(args: &[String]) -> Result<Options> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value =
                |name: &str| it.next().cloned().ok_or_else(|| Error::Usage(format!("{name} needs a value")));
            match a.as_str() {
                "--integration" => o.integration = Some(value("--integration")?),
                "--flow" => o.flow = Some(value("--flow")?),
                "--cloud" => o.cloud = Some(value("--cloud")?),
                "--case" => o.case = Some(value("--case")?),
                "--bless" => o.bless = true,
                "--verbose" | "-v" => o.verbose = true,
                other => {
                    return Err(Error::Usage(format!(
                        "unknown option {other}; usage: cargo xtask conformance [--integration X] [--flow F] \
                         [--cloud C] [--case NAME] [--bless] [--verbose]"
                    )));
                }
            }
        }
        Ok(o)
    }
}

/// `conformance.json`.
#[derive(Debug, Deserialize)]
pub struct Suite {
    /// The binary (= crate = folder) name.
    pub binary: String,
    /// The command prefix.
    pub prefix: String,
    /// Flow name -> how to configure it, in file order (`--bless` records the most common answer
    /// of a case as its `expected` and the others in `expected_for`).
    pub flows: Map<String, Value>,
    /// Cloud name -> params that select it, in file order.
    pub clouds: Map<String, Value>,
    /// The War Room lines `soar demo` runs for each flow (placeholders allowed); the runner
    /// does not use them.
    #[serde(default)]
    pub demo: Option<Vec<String>>,
    /// Optional: `true` requires every command of the binary's manifest (and `test-module`) to
    /// have at least one case marked [`Case::reference`]; a full run fails naming the others.
    #[serde(default)]
    pub reference_every_command: bool,
    /// Optional: `true` requires every command of the binary's manifest (with `test-module`) to
    /// have a case that runs under every flow and cloud of the suite; a full run fails naming
    /// the others and where they do not run ([`uncovered_commands`]).
    #[serde(default)]
    pub every_command_everywhere: bool,
}

/// One flow of a suite.
#[derive(Debug, Deserialize)]
pub struct FlowSetup {
    /// The instance params (placeholders allowed).
    pub params: Map<String, Value>,
    /// The sign-in to do first: `none`, `device-code` or `auth-code`.
    #[serde(default)]
    pub setup: Option<String>,
    /// Only these clouds (default: all of the suite's).
    #[serde(default)]
    pub clouds: Option<Vec<String>>,
    /// `auth-code` setup: the scope the person consents to (placeholders allowed).
    #[serde(default)]
    pub scope: Option<String>,
}

/// One case file.
#[derive(Debug, Deserialize)]
pub struct Case {
    /// What it checks.
    pub description: String,
    /// Only these flows.
    #[serde(default)]
    pub flows: Option<Vec<String>>,
    /// Only these clouds.
    #[serde(default)]
    pub clouds: Option<Vec<String>>,
    /// Start without the flow's tokens.
    #[serde(default)]
    pub fresh_context: bool,
    /// Keys merged into the carried integration context before the run (e.g. `valid_until: 0`
    /// to make the cached access token stale).
    #[serde(default)]
    pub context_patch: Map<String, Value>,
    /// Emulator actions before the run: `revoke-refresh-tokens`.
    #[serde(default)]
    pub before: Vec<String>,
    /// Emulator fault rules (`soar_emulator::FaultRule` JSON) in force for this case only.
    #[serde(default)]
    pub faults: Vec<Value>,
    /// The request.
    pub request: CaseRequest,
    /// The normalised response.
    #[serde(default)]
    pub expected: Value,
    /// Expectations where a flow or cloud answers differently, keyed `<flow>`, `*/<cloud>` or
    /// `<flow>/<cloud>` (see [`Case::want`]).
    #[serde(default)]
    pub expected_for: BTreeMap<String, Value>,
    /// Optional: where the expectation comes from when it was written from the reference's
    /// facts (a fact sheet section, a reference unit test), not recorded from our output. Such a
    /// case is never rewritten by `--bless`: a bless whose answer differs fails instead.
    #[serde(default)]
    pub reference: Option<String>,
    /// While blessing: every (flow, cloud, normalised answer) of this case in run order; the
    /// expectations are derived from all of them at the end ([`assign_expectations`]).
    #[serde(skip)]
    blessed_runs: Vec<(String, String, Value)>,
}

impl Case {
    /// The expectation for `flow` on `cloud`: `expected_for["<flow>/<cloud>"]`, else the flow's
    /// own `expected_for["<flow>"]`, else `expected_for["*/<cloud>"]` (what every flow without
    /// its own key answers there), else `expected`.
    pub fn want(&self, flow: &str, cloud: &str) -> &Value {
        [format!("{flow}/{cloud}"), flow.to_owned(), format!("*/{cloud}")]
            .iter()
            .find_map(|k| self.expected_for.get(k))
            .unwrap_or(&self.expected)
    }
}

/// The request part of a case.
#[derive(Debug, Deserialize)]
pub struct CaseRequest {
    /// Command name.
    pub command: String,
    /// Arguments.
    #[serde(default)]
    pub args: Map<String, Value>,
    /// Params merged over the flow's.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// The previous fetch run's state (`fetch-incidents`), sent as the request's `last_run`.
    #[serde(default)]
    pub last_run: Option<Map<String, Value>>,
}

/// Totals.
#[derive(Debug, Default)]
pub struct Summary {
    /// Case runs that matched.
    pub passed: usize,
    /// Case runs that did not (with a short reason each).
    pub failed: Vec<String>,
    /// Case runs the selection holds ([`plan_runs`]): one per case file and (flow, cloud) it
    /// runs in. A complete, green run has `passed == planned`.
    pub planned: usize,
    /// (case file, flow, cloud) combinations not run because the case's `flows` / `clouds`
    /// exclude them.
    pub skipped: usize,
    /// Case files whose text `bless` changed (empty when not blessing or nothing changed).
    pub rewritten: Vec<PathBuf>,
}

impl Summary {
    /// Adds another suite's totals.
    pub fn add(&mut self, other: Summary) {
        self.passed += other.passed;
        self.failed.extend(other.failed);
        self.planned += other.planned;
        self.skipped += other.skipped;
        self.rewritten.extend(other.rewritten);
    }

    /// Whether a run is a pass, for a test: every planned case run passed, at least one ran,
    /// and no expectation was rewritten (a blessing run fails after writing, so that the diff is
    /// reviewed and the suite run again without blessing; `bless_switch` names how blessing was
    /// asked for). `what` names the suite and selection in the messages.
    pub fn verdict(&self, what: &str, bless_switch: &str) -> std::result::Result<(), String> {
        if !self.failed.is_empty() {
            return Err(format!(
                "{what}: {} of {} case runs failed:\n{}",
                self.failed.len(),
                self.planned,
                self.failed.join("\n")
            ));
        }
        if !self.rewritten.is_empty() {
            let files: Vec<String> = self.rewritten.iter().map(|p| p.display().to_string()).collect();
            return Err(format!(
                "{what}: expectations rewritten; review the diff and run again without {bless_switch} ({})",
                files.join(", ")
            ));
        }
        if self.planned == 0 {
            return Err(format!("{what}: no case runs (no case file applies to this flow and cloud)"));
        }
        if self.passed != self.planned {
            return Err(format!("{what}: {} of {} planned case runs passed", self.passed, self.planned));
        }
        Ok(())
    }
}

/// `cargo`, for a build started from a program that `cargo run` started (the xtask, and what
/// it runs): without the variables cargo sets for the running package (`CARGO_PKG_*`,
/// `CARGO_MANIFEST_DIR`, ...). Build scripts declare `rerun-if-env-changed` on some of them (ring
/// does, for `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR`), and cargo compares its own environment:
/// with them inherited, every switch between a build from the shell and one from the xtask
/// rebuilt ring and everything above it (about 20 s a switch, twice per `cargo xtask` run).
/// The engine's demo keeps its own copy of the list (`drop_package_variables`): it must not
/// depend on this crate.
pub fn cargo_command() -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_package_variable) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// A variable that cargo sets for the package it runs, not for cargo itself.
pub fn is_package_variable(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// The workspace root: the nearest ancestor of this crate's folder that holds `test-data/`.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("test-data").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// `cargo xtask conformance [...]`: parses the options ([`Options::parse`]), builds the
/// integration binaries, runs every selected suite and returns the totals; each failure is also
/// written to stderr. The caller prints the result line and fails when `failed` is not empty.
pub fn cli(args: &[String]) -> Result<Summary> {
    let opts = Options::parse(args)?;
    let root = workspace_root();
    let suites = suite_names(&root, opts.integration.as_deref())?;
    let mut build = cargo_command();
    build.arg("build").current_dir(&root);
    for s in &suites {
        build.args(["-p", s]);
    }
    let status = build.status().map_err(io("running cargo build"))?;
    if !status.success() {
        return Err(Error::Build);
    }
    let bin_dir = target_dir(&root).join("debug");
    let mut total = Summary::default();
    for name in &suites {
        total.add(run_suite(&root, name, &bin_dir, &opts)?);
    }
    for f in &total.failed {
        eprintln!("FAILED {f}");
    }
    Ok(total)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// The suites: folders of `test-data/` with a `conformance.json`.
pub fn suite_names(root: &Path, only: Option<&str>) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("test-data")).map_err(io("reading test-data/"))? {
        let entry = entry.map_err(io("reading test-data/"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("conformance.json").is_file() && only.is_none_or(|o| o == name) {
            names.push(name);
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(Error::Suite(format!(
            "no conformance suite found{}",
            only.map(|o| format!(" named {o}")).unwrap_or_default()
        )));
    }
    Ok(names)
}

fn load_cases(dir: &Path, only: Option<&str>) -> Result<Vec<(PathBuf, Case)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(format!("reading {}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| only.is_none_or(|o| p.file_name().is_some_and(|n| n.to_string_lossy().contains(o))))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(io(format!("reading {}", p.display())))?;
            let case: Case = serde_json::from_str(&text).map_err(json(format!("parsing {}", p.display())))?;
            Ok((p, case))
        })
        .collect()
}

/// One (flow, cloud) of a suite and the case runs it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The flow (a key of the suite's `flows`).
    pub flow: String,
    /// The cloud (a key of the suite's `clouds`).
    pub cloud: String,
    /// Indexes (into the loaded cases, in file-name order) of the cases that run here.
    pub cases: Vec<usize>,
    /// How many case files do not run here because their `flows` / `clouds` exclude it.
    pub skipped: usize,
}

/// THE selection of case runs: for every flow and cloud of `suite` that `opts` selects (and the
/// flow's own `clouds` allow), the cases whose `flows` / `clouds` include them. [`run_suite`]
/// runs exactly these, and its [`Summary::planned`] is their count.
pub fn plan_runs(suite: &Suite, cases: &[&Case], opts: &Options) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    for (flow, setup) in &suite.flows {
        if opts.flow.as_ref().is_some_and(|f| f != flow) {
            continue;
        }
        let setup: FlowSetup = serde_json::from_value(setup.clone())
            .map_err(json(format!("{}: flow {flow} in conformance.json", suite.binary)))?;
        for cloud in suite.clouds.keys() {
            if opts.cloud.as_ref().is_some_and(|c| c != cloud)
                || setup.clouds.as_ref().is_some_and(|c| !c.contains(cloud))
            {
                continue;
            }
            let runs = |c: &Case| {
                c.flows.as_ref().is_none_or(|f| f.contains(flow))
                    && c.clouds.as_ref().is_none_or(|c| c.contains(cloud))
            };
            let chosen: Vec<usize> =
                cases.iter().enumerate().filter(|(_, c)| runs(c)).map(|(i, _)| i).collect();
            out.push(Planned {
                flow: flow.clone(),
                cloud: cloud.clone(),
                skipped: cases.len() - chosen.len(),
                cases: chosen,
            });
        }
    }
    Ok(out)
}

/// Reads `test-data/<name>/conformance.json`.
pub fn load_suite(root: &Path, name: &str) -> Result<Suite> {
    let suite_file = root.join("test-data").join(name).join("conformance.json");
    let text =
        std::fs::read_to_string(&suite_file).map_err(io(format!("reading {}", suite_file.display())))?;
    serde_json::from_str(&text).map_err(json(format!("parsing {}", suite_file.display())))
}

/// `${NAME}` resolution for the runner: an unknown name is a suite error saying where it is.
fn fill(v: &Value, ph: &Placeholders, place: &str) -> Result<Value> {
    soar_emulator::fill_placeholders(v, ph).map_err(|e| Error::Suite(format!("{place}: {e}")))
}

/// Runs one suite, with the binaries found in `bin_dir`, across its flows and clouds.
pub fn run_suite(root: &Path, name: &str, bin_dir: &Path, opts: &Options) -> Result<Summary> {
    let dir = root.join("test-data").join(name);
    let suite = load_suite(root, name)?;
    let binary = &bin_dir.join(&suite.binary);
    // A bless of some cases still runs all of them, so each sees the state (context, emulator
    // data) the cases before it leave, as in a plain run; only the named ones are rewritten.
    let only = if opts.bless { None } else { opts.case.as_deref() };
    let mut cases = load_cases(&dir.join("cases"), only)?;
    let plan = {
        let just_cases: Vec<&Case> = cases.iter().map(|(_, c)| c).collect();
        plan_runs(&suite, &just_cases, opts)?
    };
    opts.check()?;
    // Blessing starts the cases that run from no expectation (every flow and cloud runs: the
    // filters that would leave some out are refused above); cases marked `reference` are
    // compared, never rewritten, and cases that do not run are left alone.
    let mut blessed = vec![false; cases.len()];
    if opts.bless {
        for p in &plan {
            for &i in &p.cases {
                let (path, case) = &mut cases[i];
                let named = opts
                    .case
                    .as_deref()
                    .is_none_or(|o| path.file_name().is_some_and(|n| n.to_string_lossy().contains(o)));
                if !blessed[i] && case.reference.is_none() && named {
                    blessed[i] = true;
                    case.expected = Value::Null;
                    case.expected_for.clear();
                }
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io("starting the tokio runtime"))?;
    let mut summary = Summary {
        planned: plan.iter().map(|p| p.cases.len()).sum(),
        skipped: plan.iter().map(|p| p.skipped).sum(),
        ..Summary::default()
    };
    for Planned { flow, cloud, cases: chosen, .. } in &plan {
        let flow_place = format!("{name}: flow {flow} in conformance.json");
        let setup: FlowSetup = serde_json::from_value(suite.flows.get(flow).cloned().unwrap_or_default())
            .map_err(json(&flow_place))?;
        let Some(Value::Object(cloud_params)) = suite.clouds.get(cloud) else {
            return Err(Error::Suite(format!("{name}: cloud {cloud} must be an object")));
        };
        let emu = rt.block_on(emulator::Emu::start())?;
        let suite_started = epoch_now();
        let mut ph = emu.placeholders()?;
        // Keys starting with `_` in a cloud are placeholders (`_graph` -> `${GRAPH}`), not params.
        let mut cloud_params = cloud_params.clone();
        let meta: Vec<String> = cloud_params.keys().filter(|k| k.starts_with('_')).cloned().collect();
        for k in meta {
            if let Some(Value::String(v)) = cloud_params.shift_remove(&k) {
                ph.insert(k.trim_start_matches('_').to_ascii_uppercase(), v);
            }
        }
        let mut base = fill(&Value::Object(setup.params.clone()), &ph, &flow_place)?;
        merge(&mut base, &Value::Object(cloud_params));
        let mut env = emu.env();
        // A suite's `files/` folder is the engine's file store for its cases (commands that
        // read a War Room file by entry ID, e.g. a watchlist's CSV).
        let files = dir.join("files");
        if files.is_dir() {
            env.push(("SOAR_FILES_DIR".to_owned(), files.display().to_string()));
        }
        let run = Run { binary, env: &env, prefix: &suite.prefix, canaries: canaries(&ph) };
        let mut context = Map::new();
        let mut last_run: Option<Value> = None;
        match setup.setup.as_deref() {
            None | Some("none") => {}
            Some("device-code") => run.device_code(&rt, &emu, &base, &mut context)?,
            Some("auth-code") => {
                let p = |k: &str| -> String {
                    match base.get(k) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Object(o)) => {
                            o.get("password").and_then(Value::as_str).unwrap_or("").to_string()
                        }
                        _ => String::new(),
                    }
                };
                let client_id =
                    [p("creds_auth_id"), p("app_id")].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
                let tenant = [p("creds_tenant_id"), p("tenant_id")]
                    .into_iter()
                    .find(|s| !s.is_empty())
                    .unwrap_or_default();
                let scope = fill(&json!(setup.scope.clone().unwrap_or_default()), &ph, &flow_place)?;
                let login = ph.get("LOGIN").cloned().unwrap_or_else(|| "login.microsoftonline.com".into());
                let code = rt.block_on(emu.auth_code(
                    &login,
                    &tenant,
                    &client_id,
                    &p("redirect_uri"),
                    scope.as_str().unwrap_or_default(),
                ))?;
                if let Some(o) = base.as_object_mut() {
                    o.insert("auth_code".into(), json!({"identifier": "", "password": code}));
                    o.insert("creds_auth_code".into(), json!({"identifier": "", "password": code}));
                }
            }
            Some(other) => {
                return Err(Error::Suite(format!("{name}: unknown setup {other} for flow {flow}")));
            }
        }
        for &i in chosen {
            let (path, case) = &mut cases[i];
            let label = format!(
                "{name}/{} [{flow}/{cloud}]",
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            );
            let mut params = base.clone();
            merge(&mut params, &fill(&Value::Object(case.request.params.clone()), &ph, &label)?);
            let mut ctx = if case.fresh_context { Map::new() } else { context.clone() };
            ctx.extend(case.context_patch.clone());
            emu.prepare(&case.before, &case.faults).map_err(|e| Error::Step {
                context: format!("{label}: preparing the emulator"),
                error: Box::new(e),
            })?;
            let mut request = json!({
                "command": case.request.command,
                "args": fill(&Value::Object(case.request.args.clone()), &ph, &label)?,
                "params": params,
                "integration_context": ctx,
            });
            // A case's own `last_run` wins; otherwise the previous fetch's, as an engine keeps it.
            let last_run_sent = case.request.last_run.clone().map(Value::Object).or_else(|| last_run.clone());
            if let (Some(r), Some(lr)) = (request.as_object_mut(), last_run_sent) {
                r.insert("last_run".into(), lr);
            }
            let ctx_sent = ctx.clone();
            let t0 = epoch_now();
            let response = run.call(&request);
            let window = Window { started: suite_started, sent: t0, answered: epoch_now() };
            emu.clear_faults();
            let response = response?;
            if !case.fresh_context
                && let Some(Value::Object(new_ctx)) = response.get("integration_context")
            {
                ctx = new_ctx.clone();
                context = ctx;
            }
            // The engine keeps `last_run` between fetches, as it keeps the context.
            if let Some(lr) = response.get("last_run").filter(|v| !v.is_null()) {
                last_run = Some(lr.clone());
            }
            let blessing = opts.bless && blessed[i];
            // A blessed run is compared with nothing; an answer already recorded (this flow's
            // last, else the first) only settles an expiry read across a second boundary, so
            // that flows giving the same answer record the same text.
            let compared_with = if blessing { bless_hint(case, flow) } else { Some(case.want(flow, cloud)) };
            let actual = normalise_response(&response, &ph, &ctx_sent, window, compared_with);
            if blessing {
                case.blessed_runs.push((flow.clone(), cloud.clone(), actual));
                summary.passed += 1;
                continue;
            }
            let want = case.want(flow, cloud);
            if same(want, &actual) {
                summary.passed += 1;
                if opts.verbose {
                    eprintln!("ok     {label}");
                }
            } else {
                let marked = match &case.reference {
                    Some(r) if opts.bless => format!(
                        " (its expectation is written from the reference's facts, {r}, so --bless does not \
                         rewrite it: fix the code, or correct the case by hand with the source)"
                    ),
                    Some(r) => format!(" (expectation from the reference: {r})"),
                    None => String::new(),
                };
                summary.failed.push(format!(
                    "{label}: {}{marked}\n{}",
                    case.description,
                    diff(want, &actual)
                ));
            }
        }
        drop(emu);
    }
    if opts.bless {
        for ((path, case), _) in cases.iter_mut().zip(&blessed).filter(|(_, b)| **b) {
            let runs = std::mem::take(&mut case.blessed_runs);
            let (expected, expected_for) = assign_expectations(&runs);
            case.expected = expected;
            case.expected_for = expected_for;
            if bless(path, case)? {
                summary.rewritten.push(path.clone());
            }
        }
    }
    // Only a whole run can say that a command does not run everywhere.
    if suite.every_command_everywhere && opts.case.is_none() && opts.flow.is_none() && opts.cloud.is_none() {
        let commands = manifest_commands(binary)?;
        let cases = &cases;
        let ran: Vec<(&str, &str, &str)> = plan
            .iter()
            .flat_map(|p| {
                p.cases
                    .iter()
                    .map(move |&i| (cases[i].1.request.command.as_str(), p.flow.as_str(), p.cloud.as_str()))
            })
            .collect();
        let combos: Vec<(&str, &str)> = plan.iter().map(|p| (p.flow.as_str(), p.cloud.as_str())).collect();
        for miss in uncovered_commands(&commands, &combos, &ran) {
            summary.failed.push(format!("{name}: {miss}"));
        }
    }
    // Only a whole run can say that a command has no reference case.
    if suite.reference_every_command && opts.case.is_none() && opts.flow.is_none() && opts.cloud.is_none() {
        let mut marked: Vec<String> = cases
            .iter()
            .filter(|(_, c)| c.reference.is_some())
            .map(|(_, c)| c.request.command.clone())
            .collect();
        let device_setup =
            suite.flows.values().any(|f| f.get("setup").and_then(Value::as_str) == Some("device-code"));
        if device_setup {
            marked.extend(REFERENCE_BY_SETUP.iter().map(|c| format!("{}-{c}", suite.prefix)));
        }
        let missing: Vec<String> =
            manifest_commands(binary)?.into_iter().filter(|c| !marked.contains(c)).collect();
        if !missing.is_empty() {
            summary.failed.push(format!(
                "{name}: no case written from the reference's facts (a case with \"reference\") for: {}",
                missing.join(", ")
            ));
        }
    }
    Ok(summary)
}

/// The commands (of `commands`) that do not run under every (flow, cloud) of `combos`, given
/// the case runs `ran` as (command, flow, cloud), each with the places it misses (at most
/// three named), e.g. `x-list runs under no flow and cloud` or `x-get does not run under
/// managed-identity/dod, ... (8 of 40)`.
pub fn uncovered_commands(
    commands: &[String],
    combos: &[(&str, &str)],
    ran: &[(&str, &str, &str)],
) -> Vec<String> {
    let mut out = Vec::new();
    for c in commands {
        let missing: Vec<String> = combos
            .iter()
            .filter(|(f, cl)| !ran.iter().any(|(rc, rf, rcl)| rc == c && rf == f && rcl == cl))
            .map(|(f, cl)| format!("{f}/{cl}"))
            .collect();
        if missing.len() == combos.len() {
            out.push(format!("{c} runs under no flow and cloud (every_command_everywhere)"));
        } else if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(3).map(String::as_str).collect();
            out.push(format!(
                "{c} does not run under {}{} ({} of {}; every_command_everywhere: give it a case without `flows` / `clouds`)",
                shown.join(", "),
                if missing.len() > 3 { ", ..." } else { "" },
                missing.len(),
                combos.len()
            ));
        }
    }
    out
}

/// Commands whose answer the device-code sign-in itself compares with the reference's (see
/// `Run::device_code`), so a suite with that sign-in needs no case of its own for them.
pub const REFERENCE_BY_SETUP: &[&str] = &["auth-complete"];

/// The commands a binary's manifest declares, with `test-module`.
pub fn manifest_commands(binary: &Path) -> Result<Vec<String>> {
    let out = Command::new(binary)
        .arg("--manifest")
        .output()
        .map_err(io(format!("running {} --manifest", binary.display())))?;
    let manifest: Value = serde_json::from_slice(&out.stdout)
        .map_err(json(format!("reading the manifest of {}", binary.display())))?;
    let commands = manifest
        .pointer("/script/commands")
        .or_else(|| manifest.get("commands"))
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Binary(format!("{} --manifest lists no commands", binary.display())))?;
    let mut names: Vec<String> = vec!["test-module".to_owned()];
    names.extend(commands.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).map(str::to_owned));
    Ok(names)
}

/// Rewrites the expectations of one case file, keeping its other fields and their order.
/// Returns whether the file's text changed (it is written only then).
fn bless(path: &Path, case: &Case) -> Result<bool> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(io(format!("reading {shown}")))?;
    let mut doc: Map<String, Value> =
        serde_json::from_str(&text).map_err(json(format!("parsing {shown}")))?;
    doc.insert("expected".into(), case.expected.clone());
    if case.expected_for.is_empty() {
        doc.shift_remove("expected_for");
    } else {
        let per_flow = serde_json::to_value(&case.expected_for).map_err(json(format!("blessing {shown}")))?;
        doc.insert("expected_for".into(), per_flow);
    }
    let mut out = serde_json::to_string_pretty(&doc).map_err(json(format!("blessing {shown}")))?;
    out.push('\n');
    if out == text {
        return Ok(false);
    }
    std::fs::write(path, out).map_err(io(format!("writing {shown}")))?;
    Ok(true)
}

/// One binary with its environment.
struct Run<'a> {
    binary: &'a Path,
    env: &'a [(String, String)],
    prefix: &'a str,
    /// The secrets of this run (name, value): what must never leave the integration context.
    canaries: Vec<(String, String)>,
}

/// The emulator's secrets among the placeholders, as (name, value) canaries. A PEM key is
/// watched through its longest line (a log would cut or re-wrap the whole text).
fn canaries(ph: &Placeholders) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ["SECRET_APP_SECRET", "LIMITED_APP_SECRET", "PROXY_KEY", "PROXY_TOKEN", "READER_APP_SECRET"] {
        if let Some(v) = ph.get(name).filter(|v| v.len() >= 8) {
            out.push((name.to_owned(), v.clone()));
        }
    }
    if let Some(line) = ph.get("CERT_KEY_PEM").and_then(|pem| pem.lines().max_by_key(|l| l.len())) {
        out.push(("CERT_KEY_PEM".to_owned(), line.to_owned()));
    }
    out
}

/// The token-like values of an integration context (access and refresh tokens, codes), which
/// belong there and nowhere else.
fn context_secrets(context: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(c)) = context else { return Vec::new() };
    c.iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k.contains("token") || k.contains("code") || k.contains("verifier")
        })
        .filter_map(|(k, v)| {
            v.as_str().filter(|s| s.len() >= 16).map(|s| (format!("context {k}"), s.to_owned()))
        })
        .collect()
}

/// Fails when a canary appears in stderr (logged at trace level) or in the response outside
/// its integration context.
fn scan(
    command: &str,
    canaries: &[(String, String)],
    request: &Value,
    response: &Value,
    stderr: &str,
) -> Result<()> {
    let mut watched: Vec<(String, String)> = canaries.to_vec();
    watched.extend(context_secrets(request.get("integration_context")));
    watched.extend(context_secrets(response.get("integration_context")));
    let mut shown = response.clone();
    if let Some(o) = shown.as_object_mut() {
        o.shift_remove("integration_context");
    }
    let shown = shown.to_string();
    for (name, value) in &watched {
        let place = if stderr.contains(value.as_str()) {
            "its log (stderr at RUST_LOG=trace)"
        } else if shown.contains(value.as_str()) {
            "its response outside the integration context"
        } else {
            continue;
        };
        return Err(Error::Binary(format!("secret canary: {command} wrote {name} into {place}")));
    }
    Ok(())
}

/// Runs `binary` once: `request` on stdin, the parsed response and the whole of stderr back.
/// `rust_log` sets the log level (`RUST_LOG`).
pub fn call_binary(
    binary: &Path,
    env: &[(String, String)],
    request: &Value,
    rust_log: &str,
) -> Result<(Value, String)> {
    let mut child = Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io(format!("starting {}", binary.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(request.to_string().as_bytes())
            .map_err(io(format!("writing to {}", binary.display())))?;
    }
    let out = child.wait_with_output().map_err(io(format!("waiting for {}", binary.display())))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let response = serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::Binary(format!(
            "{} exited with {} and wrote no JSON response ({e}); stderr:\n{stderr}",
            binary.display(),
            out.status
        ))
    })?;
    Ok((response, stderr))
}

impl Run<'_> {
    /// One request in, one response out, over the real binary's stdin/stdout.
    /// Every call logs at trace level and is scanned for the run's secrets ([`scan`]).
    fn call(&self, request: &Value) -> Result<Value> {
        let (response, stderr) = call_binary(self.binary, self.env, request, "trace")?;
        let command = request.get("command").and_then(Value::as_str).unwrap_or("?");
        scan(command, &self.canaries, request, &response, &stderr)?;
        Ok(response)
    }

    /// Device code sign-in: auth-start, approval through the emulator, auth-complete.
    fn device_code(
        &self,
        rt: &tokio::runtime::Runtime,
        emu: &emulator::Emu,
        params: &Value,
        context: &mut Map<String, Value>,
    ) -> Result<()> {
        let start =
            self.call(&json!({"command": format!("{}-auth-start", self.prefix), "params": params}))?;
        let text = start.to_string();
        let code = user_code(&text)
            .ok_or_else(|| Error::Binary(format!("no user code in the auth-start answer: {text}")))?;
        if let Some(Value::Object(c)) = start.get("integration_context") {
            *context = c.clone();
        }
        rt.block_on(emu.approve(&code))?;
        let done = self.call(&json!({
            "command": format!("{}-auth-complete", self.prefix),
            "params": params,
            "integration_context": context,
        }))?;
        match done.get("integration_context") {
            Some(Value::Object(c)) => *context = c.clone(),
            _ => return Err(Error::Binary(format!("auth-complete did not store tokens: {done}"))),
        }
        // The reference's answer (msapi.md §5): `return_results` of a bare string, a Type 1
        // `text` entry without HumanReadable. Checked on every device-code sign-in, so it is the
        // reference case of `<prefix>-auth-complete` ([`REFERENCE_BY_SETUP`]).
        let entry = done.pointer("/entries/0").cloned().unwrap_or_default();
        let shape = (
            entry.get("Type").and_then(Value::as_i64),
            entry.get("ContentsFormat").and_then(Value::as_str),
            entry.get("Contents").and_then(Value::as_str),
            entry.get("HumanReadable"),
        );
        if shape
            != (Some(1), Some("text"), Some("✅ Authorization completed successfully."), Some(&Value::Null))
        {
            return Err(Error::Binary(format!("auth-complete answered {done}")));
        }
        Ok(())
    }
}

/// The user code in an auth-start answer (`... enter the code **ABCD1234** ...`).
fn user_code(text: &str) -> Option<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?i)enter the code\W+([A-Z0-9-]{6,})").ok()).as_ref()?;
    re.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().to_owned())
}

/// Values of the running emulator that params may name as `${NAME}`: the emulator's table
/// ([`soar_emulator::Emulator::placeholders`]) plus what the runner adds.
pub use soar_emulator::Placeholders;

/// Shallow merge of `extra`'s keys into `base` (`null` removes a key).
fn merge(base: &mut Value, extra: &Value) {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                b.shift_remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Seconds since the Unix epoch, as the binaries and the emulator read the clock.
fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// When a case ran: the emulator of its (flow, cloud) started at `started`; its request was
/// sent at `sent` and answered at `answered` (epoch seconds).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// The emulator's start (its clock made every timestamp it wrote since).
    pub started: f64,
    /// The request was written.
    pub sent: f64,
    /// The response was read.
    pub answered: f64,
}

impl Window {
    /// True when an ISO-8601 timestamp can have come from the emulator's clock during this
    /// suite run (or is up to 32 days after it: expiries the emulator computes from it). A fixed
    /// seed value or a date the case gives is outside and stays as it is.
    fn made_now(&self, epoch: f64) -> bool {
        epoch >= self.started - 60.0 && epoch <= self.answered + 32.0 * 86_400.0
    }
}

/// What is compared: the entries; the integration context, with its values (tokens masked by
/// [`mask_context`], expiries as offsets from the run); and `last_run` / `incidents` when the
/// response has them. Compared as text, so object key order counts. `want` is the expectation
/// it will be compared with, if any (see [`mask_context`]).
pub fn normalise_response(
    response: &Value,
    ph: &Placeholders,
    sent: &Map<String, Value>,
    w: Window,
    want: Option<&Value>,
) -> Value {
    let mut out = Map::new();
    out.insert("entries".into(), response.get("entries").cloned().unwrap_or(Value::Null));
    if let Some(Value::Object(c)) = response.get("integration_context") {
        let expected = want.and_then(|w| w.get("integration_context")).and_then(Value::as_object);
        out.insert("integration_context".into(), Value::Object(mask_context(c, sent, w, expected)));
    }
    // An empty `incidents` list is kept: "fetched, found none" differs from "not a fetch".
    for key in ["last_run", "incidents", "mirror"] {
        if let Some(v) = response.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    let mut v = Value::Object(out);
    normalise_in(&mut v, ph, Some(w));
    v
}

/// The context as a person checks it: token-like values (keys naming a token, code or
/// verifier) become `<TOKEN>` (an empty one stays `""`, which the reference writes for flows
/// without refresh tokens); `valid_until`, `*_valid_until` and `next_request_time` become
/// `<SENT>` when unchanged from the request, else `<NOW+n>` (seconds after the request; the
/// reference's `now + expires_in - 5` arithmetic shows as `<NOW+3594>` for a 3599 s token).
/// The binary read its clock between `sent` and `answered`; when those straddle a second
/// boundary two offsets are possible, and the one `expected` holds (when it is one of them) is
/// taken, else the one from `sent`. `expected` may also be one second above that range: it was
/// recorded by a run whose binary read its clock just after a second boundary its request was
/// sent before (a bless can record that), and this run's reading came before one.
pub fn mask_context(
    c: &Map<String, Value>,
    sent: &Map<String, Value>,
    w: Window,
    expected: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    c.iter()
        .map(|(k, v)| {
            let key = k.to_ascii_lowercase();
            let timed = key.ends_with("valid_until") || key == "next_request_time";
            let secret = key.contains("token") || key.contains("code") || key.contains("verifier");
            let shown = match v {
                _ if timed && sent.get(k) == Some(v) => json!("<SENT>"),
                Value::Number(n) if timed => match n.as_f64() {
                    Some(t) if t > 0.0 => {
                        let (lo, hi) = offsets(t, w);
                        let wanted = expected
                            .and_then(|e| e.get(k))
                            .and_then(Value::as_str)
                            .and_then(|s| s.strip_prefix("<NOW+")?.strip_suffix('>')?.parse::<i64>().ok())
                            .filter(|m| (lo..=hi + 1).contains(m));
                        json!(format!("<NOW+{}>", wanted.unwrap_or(hi)))
                    }
                    _ => v.clone(),
                },
                Value::String(t) if secret && !t.is_empty() => json!("<TOKEN>"),
                _ => v.clone(),
            };
            (k.clone(), shown)
        })
        .collect()
}

/// The whole seconds from the binary's clock reading to `t`, as the range the reading between
/// `sent` and `answered` allows, and one second less: a token's `expires_in` is counted by the
/// emulator from its own earlier reading, so a second boundary crossed between its reading and
/// the binary's shortens it by one (seen on a loaded machine). Arithmetic mistakes (a missing
/// safety margin, milliseconds for seconds) are still far outside this range.
fn offsets(t: f64, w: Window) -> (i64, i64) {
    ((t.floor() - w.answered.floor()) as i64 - 1, (t.floor() - w.sent.floor()) as i64)
}

/// Two normalised values are the same when their JSON text is (key order included).
fn same(want: &Value, got: &Value) -> bool {
    // `Value`'s `==` ignores the order of object keys; the text does not.
    let text = |v: &Value| serde_json::to_string(v).unwrap_or_default();
    want == got && text(want) == text(got)
}

/// While blessing, the answer an expiry is settled with: this flow's latest recorded answer,
/// else the case's first (see [`mask_context`]).
fn bless_hint<'a>(case: &'a Case, flow: &str) -> Option<&'a Value> {
    case.blessed_runs
        .iter()
        .rev()
        .find(|(f, _, _)| f == flow)
        .or(case.blessed_runs.first())
        .map(|(_, _, v)| v)
}

/// The answer given most often among `answers` (ties: the one given first), if any.
fn most_common<'a>(answers: impl IntoIterator<Item = &'a Value>) -> Option<&'a Value> {
    let mut counts: Vec<(&Value, usize)> = Vec::new();
    for a in answers {
        match counts.iter_mut().find(|(v, _)| same(v, a)) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    // `max_by_key` keeps the last of equal counts; scanning in reverse makes it the first.
    counts.into_iter().rev().max_by_key(|(_, n)| *n).map(|(v, _)| v)
}

/// The expectations of a blessed case from all its runs `(flow, cloud, answer)` (in run order),
/// in the keys [`Case::want`] reads:
/// 1. `expected` is the answer given most often (ties: the first run's);
/// 2. a flow whose most common answer (over its clouds) is another gets its own key `<flow>`;
/// 3. per cloud, among the flows without their own key, a shared `*/<cloud>` is written only
///    when it saves keys: it holds the answer most of them give there, and every flow it would
///    cover that answers otherwise gets `<flow>/<cloud>`, so every flow the shared key covers
///    gives exactly that answer (a flow with its own key that answers otherwise on a cloud gets
///    `<flow>/<cloud>` too).
///
/// Decided only once every flow has run, so no flow's odd answer can become what the others
/// are compared with. Every run finds its own answer through [`Case::want`].
fn assign_expectations(runs: &[(String, String, Value)]) -> (Value, BTreeMap<String, Value>) {
    let mut flows: Vec<&str> = Vec::new();
    let mut clouds: Vec<&str> = Vec::new();
    for (f, c, _) in runs {
        if !flows.contains(&f.as_str()) {
            flows.push(f);
        }
        if !clouds.contains(&c.as_str()) {
            clouds.push(c);
        }
    }
    let answer = |f: &str, c: &str| runs.iter().find(|(rf, rc, _)| rf == f && rc == c).map(|(_, _, v)| v);
    let expected = most_common(runs.iter().map(|(_, _, v)| v)).cloned().unwrap_or(Value::Null);
    let mut keys: BTreeMap<String, Value> = BTreeMap::new();
    // 2. Flows that answer otherwise on most clouds.
    let mut own: BTreeMap<&str, &Value> = BTreeMap::new();
    for &f in &flows {
        let typical = most_common(runs.iter().filter(|(rf, _, _)| rf == f).map(|(_, _, v)| v));
        if let Some(t) = typical.filter(|t| !same(t, &expected)) {
            own.insert(f, t);
            keys.insert(f.to_owned(), t.clone());
        }
    }
    // 3. Per cloud: flows with their own key and the shared key for the others.
    for &c in &clouds {
        for (&f, &t) in &own {
            if let Some(a) = answer(f, c).filter(|a| !same(a, t)) {
                keys.insert(format!("{f}/{c}"), a.clone());
            }
        }
        let covered: Vec<(&str, &Value)> = flows
            .iter()
            .filter(|f| !own.contains_key(**f))
            .filter_map(|&f| answer(f, c).map(|a| (f, a)))
            .collect();
        let misses = |base: &Value| covered.iter().filter(|(_, a)| !same(a, base)).count();
        let shared = most_common(covered.iter().map(|(_, a)| *a).filter(|a| !same(a, &expected)))
            .filter(|s| 1 + misses(s) < misses(&expected));
        let base = shared.unwrap_or(&expected);
        if let Some(s) = shared {
            keys.insert(format!("*/{c}"), s.clone());
        }
        for (f, a) in &covered {
            if !same(a, base) {
                keys.insert(format!("{f}/{c}"), (*a).clone());
            }
        }
    }
    (expected, keys)
}

fn regexes() -> &'static [(Regex, &'static str)] {
    static RES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RES.get_or_init(|| {
        [
            // JWTs (access tokens, id tokens, assertions).
            (r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", "<JWT>"),
            // Graph / ARM request ids in error bodies (Defender's is `target`).
            // (JSON text, or a Python dict repr with single quotes).
            (
                r#"(["'](?:request-id|client-request-id|target)["']:\s*["'])[0-9a-fA-F-]{36}(["'])"#,
                "${1}<REQUEST-ID>${2}",
            ),
            // The device-code user code.
            (r"(?i)(enter the code\W+)[A-Z0-9-]{6,}", "${1}<USER-CODE>"),
            // Random 128-bit decimal names (Sentinel comment IDs, as the reference makes them).
            (r"\b\d{25,39}\b", "<RANDOM-ID>"),
        ]
        .into_iter()
        .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
        .collect()
    })
}

/// ISO-8601 timestamps (`2026-12-01T14:53:24.123Z`, with an offset or none).
fn timestamp_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?").ok()
    })
    .as_ref()
}

/// Epoch seconds of a timestamp's captures (an offset is applied; none means UTC).
fn timestamp_epoch(c: &regex::Captures<'_>) -> Option<f64> {
    let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<i64>().ok());
    let (y, mo, d, h, mi, sec) = (n(1)?, n(2)?, n(3)?, n(4)?, n(5)?, n(6)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = days * 86_400 + h * 3600 + mi * 60 + sec;
    if let Some(z) = c.get(7).map(|m| m.as_str()).filter(|z| *z != "Z") {
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let oh: i64 = z.get(1..3)?.parse().ok()?;
        let om: i64 = z.get(4..6)?.parse().ok()?;
        t -= sign * (oh * 3600 + om * 60);
    }
    Some(t as f64)
}

/// THE place where run-to-run variation is removed before comparing (and before blessing),
/// for values outside a case run (every timestamp is masked); [`normalise_response`] does the
/// same for a case's response with its [`Window`], where only timestamps the emulator's clock
/// made during the run are masked:
/// - every string: JWTs -> `<JWT>`; Graph/ARM `request-id`s -> `<REQUEST-ID>`; ISO-8601
///   timestamps -> `<TIME>`; the device user code -> `<USER-CODE>`; the emulator's loopback
///   ports -> `<PORT>` (HTTPS) and `<HTTP-PORT>` (IMDS). National-cloud hosts stay as they
///   are (a case whose text names a host has a `*/<cloud>` expectation per cloud);
/// - entry keys `FileID` -> `<FILE-ID>` (a fresh UUID per file) and `FileData` -> `<FILE-DATA>`
///   (an AES zip has a random salt; its content is checked by the integration's unit tests);
///   object keys `request-id` / `client-request-id` (Graph error bodies) -> `<REQUEST-ID>`.
///
/// Ids the emulator creates (users, policies) are deterministic, so they are compared as they are.
pub fn normalise(v: &mut Value, ph: &Placeholders) {
    normalise_in(v, ph, None);
}

fn normalise_in(v: &mut Value, ph: &Placeholders, w: Option<Window>) {
    match v {
        Value::String(s) => {
            let mut t = s.clone();
            for (re, rep) in regexes() {
                t = re.replace_all(&t, *rep).into_owned();
            }
            if let Some(re) = timestamp_regex() {
                t = re
                    .replace_all(&t, |c: &regex::Captures<'_>| {
                        let made_now = match (w, timestamp_epoch(c)) {
                            (None, _) => true,
                            (Some(w), Some(epoch)) => w.made_now(epoch),
                            (Some(_), None) => false,
                        };
                        if made_now { "<TIME>".to_owned() } else { c[0].to_owned() }
                    })
                    .into_owned();
            }
            if let Some(port) = ph.get("EMU_HTTPS_PORT") {
                t = t.replace(&format!(":{port}"), ":<PORT>");
            }
            if let Some(port) = ph.get("EMU_HTTP_PORT") {
                t = t.replace(&format!(":{port}"), ":<HTTP-PORT>");
            }
            *s = t;
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalise_in(x, ph, w)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match k.as_str() {
                    "FileID" => *x = json!("<FILE-ID>"),
                    "request-id" | "client-request-id" if x.is_string() => *x = json!("<REQUEST-ID>"),
                    "FileData" => *x = json!("<FILE-DATA>"),
                    _ => normalise_in(x, ph, w),
                }
            }
        }
        _ => {}
    }
}

/// The first differing line of the two pretty-printed values, with some context.
fn diff(want: &Value, got: &Value) -> String {
    let w = serde_json::to_string_pretty(want).unwrap_or_default();
    let g = serde_json::to_string_pretty(got).unwrap_or_default();
    let (wl, gl): (Vec<&str>, Vec<&str>) = (w.lines().collect(), g.lines().collect());
    let i = wl.iter().zip(&gl).position(|(a, b)| a != b).unwrap_or(wl.len().min(gl.len()));
    let from = i.saturating_sub(3);
    let show =
        |ls: &[&str]| ls.iter().skip(from).take(8).map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
    format!("  expected (from line {}):\n{}\n  actual:\n{}", from + 1, show(&wl), show(&gl))
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs this test binary with the package's variables set, as `cargo run` runs
    /// the xtask: the nested cargo must not see them, and must keep cargo's own settings.
    #[test]
    fn a_nested_cargo_gets_no_package_variables() {
        assert!(
            std::env::var_os("CARGO_PKG_NAME").is_some() && std::env::var_os("CARGO_MANIFEST_DIR").is_some()
        );
        let cmd = super::cargo_command();
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for key in ["CARGO_PKG_NAME", "CARGO_PKG_VERSION", "CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH"] {
            assert!(removed.iter().any(|k| k == key), "{key} is passed on: {removed:?}");
        }
        for key in ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_PROFILE_DEV_DEBUG", "CARGO_INCREMENTAL", "CARGO"]
        {
            assert!(!super::is_package_variable(key), "{key} is cargo's own setting");
        }
    }

    use super::*;

    /// (stderr, response, leaks?): a canary or a context token is allowed only inside the
    /// response's integration context.
    #[test]
    fn the_canary_scan_finds_secrets_outside_the_context() {
        let canaries = vec![("SECRET_APP_SECRET".to_owned(), "s3cret-value-123".to_owned())];
        let token = "eyJhbGciOiJSUzI1NiJ9.token-body-long-enough";
        let request = json!({"integration_context": {"access_token": token}});
        let cases = [
            (
                "",
                json!({"entries": [{"Contents": "ok"}], "integration_context": {"access_token": token}}),
                None,
            ),
            ("TRACE sending s3cret-value-123", json!({}), Some("SECRET_APP_SECRET into its log")),
            (
                "",
                json!({"entries": [{"Contents": format!("echo {token}")}]}),
                Some("context access_token into its response"),
            ),
            (token, json!({}), Some("context access_token into its log")),
        ];
        for (stderr, response, leak) in cases {
            let got = scan("x-cmd", &canaries, &request, &response, stderr).map_err(|e| e.to_string());
            match leak {
                None => assert!(got.is_ok(), "{got:?}"),
                Some(want) => assert!(got.as_ref().is_err_and(|e| e.contains(want)), "{want}: {got:?}"),
            }
        }
    }

    /// One boundary, one helper: `normalise` of a string with the given emulator port.
    fn check(input: &str, port: &str, want: &str) {
        let ph: Placeholders = [("EMU_HTTPS_PORT".to_string(), port.to_string())].into_iter().collect();
        let mut v = json!(input);
        normalise(&mut v, &ph);
        assert_eq!(v, json!(want), "normalising {input:?}");
    }

    #[test]
    fn normalise_removes_what_varies_between_runs() {
        check("token eyJhbGciOi.eyJzdWIi.c2ln end", "1", "token <JWT> end");
        check("at 2026-12-01T14:53:24.123Z", "1", "at <TIME>");
        check("enter the code **ABCD1234** to", "1", "enter the code **<USER-CODE>** to");
        // National-cloud hosts stay visible.
        check("https://graph.microsoft.us/v1.0/users", "1", "https://graph.microsoft.us/v1.0/users");
        check("https://login.chinacloudapi.cn/x", "1", "https://login.chinacloudapi.cn/x");
        check("https://127.0.0.1:43210/v1.0", "43210", "https://127.0.0.1:<PORT>/v1.0");
        check(
            r#"{"request-id": "0e5cbb4a-1b2c-4d5e-8f90-123456789abc"}"#,
            "1",
            r#"{"request-id": "<REQUEST-ID>"}"#,
        );
        // Plain text stays as it is.
        check("User alice was updated", "1", "User alice was updated");
    }

    #[test]
    fn normalise_replaces_file_keys_and_request_ids_in_objects() {
        let mut v = json!({"FileID": "abc", "FileData": "UEsD", "error": {"request-id": "x"}, "n": 1});
        normalise(&mut v, &Placeholders::new());
        assert_eq!(
            v,
            json!({"FileID": "<FILE-ID>", "FileData": "<FILE-DATA>", "error": {"request-id": "<REQUEST-ID>"}, "n": 1})
        );
    }

    #[test]
    fn options_parse_reads_every_flag_and_names_bad_ones() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = Options::parse(&args("--integration a --flow f --cloud c --case x -v")).unwrap();
        assert_eq!(
            (
                o.integration.as_deref(),
                o.flow.as_deref(),
                o.cloud.as_deref(),
                o.case.as_deref(),
                o.bless,
                o.verbose
            ),
            (Some("a"), Some("f"), Some("c"), Some("x"), false, true)
        );
        let o = Options::parse(&args("--integration a --case x --bless")).unwrap();
        assert!(o.bless);
        // Blessing a part of the flows or clouds is refused, on the command line and in run_suite.
        for bad in ["--bless --flow f", "--cloud c --bless", "--flow f --cloud c --bless"] {
            let e = Options::parse(&args(bad)).unwrap_err().to_string();
            assert!(e.starts_with("--bless cannot be combined with --flow or --cloud"), "{bad}: {e}");
        }
        let opts = Options { bless: true, flow: Some("client-secret".into()), ..Options::default() };
        let e = run_suite(&workspace_root(), "msgraph-user", Path::new("/nonexistent"), &opts).unwrap_err();
        assert!(e.to_string().starts_with("--bless cannot be combined"), "{e}");
        let e = Options::parse(&args("--flow")).unwrap_err().to_string();
        assert_eq!(e, "--flow needs a value");
        let e = Options::parse(&args("--fast")).unwrap_err().to_string();
        assert!(e.starts_with("unknown option --fast; usage: cargo xtask conformance"), "{e}");
    }

    #[test]
    fn errors_name_what_is_missing() {
        let missing = Path::new("/nonexistent-soar-conformance-root");
        let e = suite_names(missing, None).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        assert!(e.to_string().starts_with("reading test-data/: "), "{e}");
        let e = run_suite(missing, "msgraph-user", missing, &Options::default()).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "reading /nonexistent-soar-conformance-root/test-data/msgraph-user/conformance.json: "
            ),
            "{e}"
        );
        let e = suite_names(&workspace_root(), Some("no-such-integration")).unwrap_err();
        assert_eq!(e.to_string(), "no conformance suite found named no-such-integration");
    }

    #[test]
    fn fill_and_merge_build_the_params() {
        let ph: Placeholders = [("TENANT_ID".to_string(), "t1".to_string())].into_iter().collect();
        let mut base =
            fill(&json!({"tenant": "${TENANT_ID}", "list": ["a-${TENANT_ID}"], "keep": 1}), &ph, "here")
                .unwrap();
        assert_eq!(base, json!({"tenant": "t1", "list": ["a-t1"], "keep": 1}));
        // A misspelt placeholder is an error saying where it is.
        let e = fill(&json!({"tenant": "${TENANT}"}), &ph, "s: flow f in conformance.json").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s: flow f in conformance.json: unknown placeholder ${TENANT} (known: ${TENANT_ID})"
        );
        // `null` removes a key; other values replace or add.
        merge(&mut base, &json!({"keep": null, "tenant": "t2", "new": true}));
        assert_eq!(base, json!({"tenant": "t2", "list": ["a-t1"], "new": true}));
    }

    #[test]
    fn plan_runs_counts_each_case_once_per_flow_and_cloud_it_runs_in() {
        let suite: Suite = serde_json::from_value(json!({
            "binary": "x", "prefix": "x",
            "flows": {"a": {"params": {}}, "b": {"params": {}, "clouds": ["w"]}},
            "clouds": {"w": {}, "g": {}},
            "demo": ["!x-list"]
        }))
        .unwrap();
        let case = |extra: Value| -> Case {
            let mut v = json!({"description": "d", "request": {"command": "x-c"}});
            merge(&mut v, &extra);
            serde_json::from_value(v).unwrap()
        };
        let cases = [case(json!({})), case(json!({"flows": ["b"]})), case(json!({"clouds": ["g"]}))];
        let refs: Vec<&Case> = cases.iter().collect();
        let runs = |o: Options| -> Vec<(String, String, Vec<usize>, usize)> {
            plan_runs(&suite, &refs, &o)
                .unwrap()
                .into_iter()
                .map(|p| (p.flow, p.cloud, p.cases, p.skipped))
                .collect()
        };
        let row = |f: &str, c: &str, cases: &[usize], skipped| {
            (f.to_owned(), c.to_owned(), cases.to_vec(), skipped)
        };
        // Flow b runs on cloud w only; case 1 only under b; case 2 only on g.
        assert_eq!(
            runs(Options::default()),
            vec![row("a", "w", &[0], 2), row("a", "g", &[0, 2], 1), row("b", "w", &[0, 1], 1)]
        );
        let only = Options { flow: Some("b".into()), cloud: Some("g".into()), ..Options::default() };
        assert_eq!(runs(only), vec![]);
        let e = plan_runs(
            &serde_json::from_value(
                json!({"binary": "x", "prefix": "x", "flows": {"a": {}}, "clouds": {"w": {}}}),
            )
            .unwrap(),
            &refs,
            &Options::default(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("x: flow a in conformance.json: missing field `params`"), "{e}");
    }

    #[test]
    fn the_verdict_wants_every_planned_run_passed_and_nothing_rewritten() {
        let s = |passed, planned, failed: &[&str], rewritten: &[&str]| Summary {
            passed,
            planned,
            failed: failed.iter().map(|f| (*f).to_owned()).collect(),
            rewritten: rewritten.iter().map(PathBuf::from).collect(),
            skipped: 0,
        };
        assert_eq!(s(3, 3, &[], &[]).verdict("x", "B"), Ok(()));
        assert_eq!(
            s(2, 3, &["c: no"], &[]).verdict("x", "B").unwrap_err(),
            "x: 1 of 3 case runs failed:\nc: no"
        );
        assert_eq!(
            s(3, 3, &[], &["a.json", "b.json"]).verdict("x", "B").unwrap_err(),
            "x: expectations rewritten; review the diff and run again without B (a.json, b.json)"
        );
        assert_eq!(
            s(0, 0, &[], &[]).verdict("x", "B").unwrap_err(),
            "x: no case runs (no case file applies to this flow and cloud)"
        );
        assert_eq!(s(2, 3, &[], &[]).verdict("x", "B").unwrap_err(), "x: 2 of 3 planned case runs passed");
    }

    #[test]
    fn user_code_is_read_from_the_auth_start_answer() {
        assert_eq!(user_code("To sign in, enter the code **AB12CD34** at").as_deref(), Some("AB12CD34"));
        assert_eq!(user_code("no code here"), None);
    }

    fn window() -> Window {
        // 2026-12-01T00:00:00Z
        Window { started: 1_796_083_200.0, sent: 1_796_083_200.2, answered: 1_796_083_200.4 }
    }

    /// (string, normalised in a case run): only timestamps the emulator's clock can have made
    /// during the run are masked; seed values and far dates stay.
    #[test]
    fn only_timestamps_of_the_run_are_masked() {
        let ph = Placeholders::new();
        let cases = [
            ("created 2026-12-01T00:00:03Z", "created <TIME>"),
            ("expires 2026-12-20T10:00:00.000+02:00", "expires <TIME>"),
            ("seeded 2023-05-01T08:00:00Z", "seeded 2023-05-01T08:00:00Z"),
            ("given 2027-06-01T00:00:00Z", "given 2027-06-01T00:00:00Z"),
        ];
        for (input, want) in cases {
            let mut v = json!({"entries": [input]});
            normalise_in(&mut v, &ph, Some(window()));
            assert_eq!(v, json!({"entries": [want]}), "{input}");
        }
    }

    /// The context is compared with its values: tokens masked (empty ones kept), expiries as
    /// offsets from the request or `<SENT>` when unchanged, other values as they are.
    #[test]
    fn the_context_keeps_its_values_with_tokens_masked() {
        let now = 1_796_083_200_i64;
        let got = json!({"access_token": "opaque-token-value", "valid_until": now + 3594,
            "current_refresh_token": "", "device_code": "dc-123",
            "https://graph.microsoft.com/.default_valid_until": now + 10, "next_request_time": 0.0,
            "other": 7});
        let sent = json!({"https://graph.microsoft.com/.default_valid_until": now + 10});
        let masked = mask_context(got.as_object().unwrap(), sent.as_object().unwrap(), window(), None);
        let want = json!({"access_token": "<TOKEN>", "valid_until": "<NOW+3594>",
            "current_refresh_token": "", "device_code": "<TOKEN>",
            "https://graph.microsoft.com/.default_valid_until": "<SENT>", "next_request_time": 0.0,
            "other": 7});
        assert_eq!(Value::Object(masked), want);
    }

    /// A request sent at .98 and answered at 1.02 allows two offsets: the expected one is taken
    /// when it is one of them, else the one from the request; outside the range it shows.
    #[test]
    fn an_expiry_across_a_second_boundary_matches_either_offset() {
        let w = Window { started: 0.0, sent: 1000.98, answered: 1001.02 };
        let got = json!({"valid_until": 1000 + 3594});
        let ctx = |e: Option<Value>| {
            let e = e.map(|v| v.as_object().cloned().unwrap());
            Value::Object(mask_context(got.as_object().unwrap(), &Map::new(), w, e.as_ref()))
        };
        assert_eq!(ctx(None), json!({"valid_until": "<NOW+3594>"}));
        assert_eq!(ctx(Some(json!({"valid_until": "<NOW+3593>"}))), json!({"valid_until": "<NOW+3593>"}));
        assert_eq!(ctx(Some(json!({"valid_until": "<NOW+3599>"}))), json!({"valid_until": "<NOW+3594>"}));
        // Within one second: an expectation blessed from a run that read its clock a second
        // later than this one still matches; two seconds off does not.
        let quick = Window { started: 0.0, sent: 1000.2, answered: 1000.3 };
        let ctx = |e: Value| {
            let e = e.as_object().cloned().unwrap();
            Value::Object(mask_context(got.as_object().unwrap(), &Map::new(), quick, Some(&e)))
        };
        assert_eq!(ctx(json!({"valid_until": "<NOW+3595>"})), json!({"valid_until": "<NOW+3595>"}));
        assert_eq!(ctx(json!({"valid_until": "<NOW+3596>"})), json!({"valid_until": "<NOW+3594>"}));
    }

    #[test]
    fn key_order_counts() {
        assert!(same(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 2})));
        assert!(!same(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})));
    }

    #[test]
    fn every_command_must_run_under_every_flow_and_cloud() {
        let commands: Vec<String> = ["x-a", "x-b", "x-c"].map(String::from).to_vec();
        let combos = [("f", "w"), ("f", "g"), ("h", "w"), ("h", "g")];
        let mut ran = vec![("x-a", "f", "w"), ("x-a", "f", "g"), ("x-a", "h", "w"), ("x-a", "h", "g")];
        ran.push(("x-b", "f", "w"));
        let got = uncovered_commands(&commands, &combos, &ran);
        assert_eq!(
            got,
            [
                "x-b does not run under f/g, h/w, h/g (3 of 4; every_command_everywhere: give it a case without \
                 `flows` / `clouds`)",
                "x-c runs under no flow and cloud (every_command_everywhere)",
            ]
        );
        ran.extend([("x-b", "f", "g"), ("x-b", "h", "w"), ("x-b", "h", "g")]);
        ran.extend(combos.iter().map(|(f, c)| ("x-c", *f, *c)));
        assert!(uncovered_commands(&commands, &combos, &ran).is_empty());
    }

    fn blank_case() -> Case {
        serde_json::from_value(json!({"description": "d", "request": {"command": "x"}})).unwrap()
    }

    /// Blesses `runs` (flow, cloud, answer) into a fresh case and checks that every run finds
    /// its own answer; returns the case.
    fn blessed(runs: &[(&str, &str, &str)]) -> Case {
        let a = |s: &str| json!({"entries": [s]});
        let mut c = blank_case();
        let recorded: Vec<(String, String, Value)> =
            runs.iter().map(|(f, cl, ans)| ((*f).to_owned(), (*cl).to_owned(), a(ans))).collect();
        (c.expected, c.expected_for) = assign_expectations(&recorded);
        for (flow, cloud, answer) in runs {
            assert_eq!(c.want(flow, cloud), &a(answer), "{flow}/{cloud}");
        }
        c
    }

    fn keys(c: &Case) -> Vec<(&str, String)> {
        c.expected_for
            .iter()
            .map(|(k, v)| {
                (k.as_str(), v.pointer("/entries/0").and_then(Value::as_str).unwrap_or("").to_owned())
            })
            .collect()
    }

    /// Blessing keys answers by flow and cloud: the most common answer is `expected`, a flow
    /// that answers otherwise on most clouds has its own key, a cloud where the flows without
    /// their own key agree on another answer has `*/<cloud>`, and the rest `<flow>/<cloud>`.
    #[test]
    fn bless_keys_answers_by_flow_and_cloud() {
        let c = blessed(&[
            ("f1", "w", "one"),
            ("f1", "g", "one@g"),
            ("f1", "h", "one"),
            ("f2", "w", "two"),
            ("f2", "g", "two@g"),
            ("f2", "h", "two"),
            ("f3", "w", "one"),
            ("f3", "g", "one@g"),
            ("f3", "h", "one"),
            ("f4", "w", "one"),
            ("f4", "g", "one@g"),
            ("f4", "h", "four@h"),
        ]);
        assert_eq!(c.expected, json!({"entries": ["one"]}));
        assert_eq!(
            keys(&c),
            [
                ("*/g", "one@g".into()),
                ("f2", "two".into()),
                ("f2/g", "two@g".into()),
                ("f4/h", "four@h".into())
            ]
        );
    }

    /// The runner bug this guards against: the first flow to answer otherwise on a cloud made
    /// its answer the shared `*/<cloud>`, so every other flow, which answered as `expected`
    /// there, needed a key of its own. A shared key is written only for the answer the flows it
    /// covers give; a lone odd flow gets `<flow>/<cloud>`.
    #[test]
    fn an_odd_flow_never_becomes_the_shared_answer_of_a_cloud() {
        // Only the first flow answers otherwise on `custom`.
        let c = blessed(&[
            ("f1", "w", "ok"),
            ("f1", "custom", "odd"),
            ("f2", "w", "ok"),
            ("f2", "custom", "ok"),
            ("f3", "w", "ok"),
            ("f3", "custom", "ok"),
        ]);
        assert_eq!(keys(&c), [("f1/custom", "odd".into())]);
        // Three flows agree on a host-specific answer and one answers otherwise: the shared key
        // holds the three's answer, and the odd one keeps its own.
        let c = blessed(&[
            ("f1", "w", "ok"),
            ("f1", "gcc", "odd@gcc"),
            ("f2", "w", "ok"),
            ("f2", "gcc", "ok@gcc"),
            ("f3", "w", "ok"),
            ("f3", "gcc", "ok@gcc"),
            ("f4", "w", "ok"),
            ("f4", "gcc", "ok@gcc"),
        ]);
        assert_eq!(keys(&c), [("*/gcc", "ok@gcc".into()), ("f1/gcc", "odd@gcc".into())]);
        // Every flow the shared key covers answers what it holds.
        for f in ["f2", "f3", "f4"] {
            assert!(!c.expected_for.contains_key(&format!("{f}/gcc")), "{f}");
        }
    }

    /// The expected value is the most common answer, not the first run's.
    #[test]
    fn expected_is_the_most_common_answer() {
        let c = blessed(&[("f1", "w", "first"), ("f2", "w", "many"), ("f3", "w", "many")]);
        assert_eq!(c.expected, json!({"entries": ["many"]}));
        assert_eq!(keys(&c), [("f1", "first".into())]);
        // Ties go to the answer given first.
        let c = blessed(&[("f1", "w", "a"), ("f2", "w", "b")]);
        assert_eq!(c.expected, json!({"entries": ["a"]}));
    }
}
