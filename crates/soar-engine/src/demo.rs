//! `soar demo`: the built-in Microsoft emulator in-process on loopback, and every auth flow of
//! every integration walked through as a person would in the War Room.
//!
//! The rows come from the integrations' conformance suites (`test-data/*/conformance.json`,
//! embedded by [`crate::suites`]): one row per (suite, flow), in file order. A row's instance
//! params are the flow's `params` with the emulator's `${NAME}` placeholders filled
//! ([`soar_emulator::Emulator::placeholders`]), merged with the params of the suite's
//! `worldwide` cloud (or its first cloud), as the conformance runner does; its sign-in is the
//! flow's `setup`; its commands are the suite's `demo` lines, or none (the test command alone).
//!
//! For each row the demo creates an instance in a temporary data directory and runs, through
//! the same engine as `soar run` (spawned binaries, the file context store): the sign-in the
//! flow needs (`auth-start`, approval of the device code in the emulator, `auth-complete`; or
//! `generate-login-url`, a sign-in at the emulator's `/authorize` and the code pasted into the
//! instance), the test command, the demo commands, a token refresh (the demo moves the cached
//! token's expiry into the past, as an hour passing would, and checks the next command made a
//! token request), and `auth-reset`. Then, when `azure-sentinel` is built with its mirroring
//! commands, one more row shows fetching as a service: an instance with mirroring both ways, a
//! fetch cycle (the same `Engine::fetch_cycle` as `soar fetch --every`), a change and a close
//! made in the emulator's Sentinel (its control endpoints) and a local close (`soar incident
//! close`), then a second cycle that mirrors both in and the local close out, checked on
//! Sentinel's side with `!azure-sentinel-get-incident-by-id`. It ends with a summary table and
//! exits non-zero when a row failed.
//!
//! The integration binaries must exist next to `soar` (or on `PATH` / in `SOAR_BIN_DIR`). When
//! the demo runs through cargo (`cargo run --release -p soar-engine --bin soar -- demo`, which
//! sets `CARGO`), it first runs `cargo build` for every suite's binary with the same profile, so
//! the README's first command works from a fresh clone; `--no-build` skips that.
//!
//! Decisions:
//! - Only one cloud per row (worldwide): the national clouds are the conformance runner's job;
//!   the demo shows the flows.
//! - A suite without `demo` lines still gets its rows: the test command, then the token refresh
//!   runs the test command again.
//! - A bad suite (unknown flow, unknown placeholder, unknown `setup`) stops the demo before the
//!   first row with a message naming the file and the flow.
//! - A demo line whose command polls (its answer carries a schedule) is followed to its end as
//!   `soar run` follows it, every 0.5 s instead of the `NextRun` it asks for.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Map, Value, json};
use soar_emulator::config as emu_config;
use soar_emulator::{Emulator, EmulatorConfig, Placeholders, fill_placeholders};
use soar_protocol::{AuthFlow, Credentials, Object, ParamValue, Params, Secret};

use crate::cli::Io;
use crate::error::{EngineError, Result};
use crate::flows::flow_key;
use crate::instance::Instance;
use crate::manifest::Finder;
use crate::render::{entry_text, markdown, neutralize};
use crate::runner::{Engine, RunOutcome};
use crate::store::{Cas, ContextStore, FileStore};
use crate::suites::{self, FlowSetup, Suite};

/// `soar demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only the rows whose integration or flow contains this text (e.g. device-code, azure-storage).
    #[arg(long)]
    pub only: Option<String>,
    /// Keep the temporary data directory (instances and contexts) and print where it is.
    #[arg(long)]
    pub keep: bool,
    /// Do not build the integration binaries, even when run through cargo.
    #[arg(long)]
    pub no_build: bool,
}

/// How a flow signs in before its first command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignIn {
    /// Nothing to do: the app or identity gets tokens by itself.
    None,
    /// `auth-start`, the person enters the code, `auth-complete`.
    DeviceCode,
    /// `generate-login-url`, the person signs in, the code goes into the instance.
    AuthCode,
}

/// The demo's interval between the runs of a polling command (instead of its `NextRun`).
const DEMO_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// One row of the demo.
#[derive(Debug, Clone)]
struct Plan {
    integration: String,
    flow: AuthFlow,
    params: Params,
    sign_in: SignIn,
    /// The suite's `demo` lines (empty: the test command is the row's only command).
    commands: Vec<String>,
}

/// One row of the summary.
#[derive(Debug, Clone)]
struct Row {
    flow: AuthFlow,
    integration: String,
    result: std::result::Result<String, String>,
    time: Duration,
}

fn cred(identifier: &str, password: &str) -> ParamValue {
    ParamValue::Credentials(Credentials {
        identifier: identifier.to_owned(),
        password: Secret::new(password),
    })
}

/// The cloud a demo row runs on: the suite's `worldwide` cloud, else its first one (none: no
/// cloud params).
fn demo_cloud(suite: &Suite) -> Option<(&String, &Value)> {
    suite.clouds.get_key_value("worldwide").or_else(|| suite.clouds.iter().next())
}

/// The rows of the suites, with placeholders filled from `placeholders` (the running
/// emulator's). An error names the suite file and the flow.
fn plans(suites: &[(String, Suite)], placeholders: &Placeholders) -> std::result::Result<Vec<Plan>, String> {
    let mut out = Vec::new();
    for (folder, suite) in suites {
        let file = format!("test-data/{folder}/conformance.json");
        let mut ph = placeholders.clone();
        // A cloud's `_key` values are placeholders (`_graph` -> `${GRAPH}`), the rest params.
        let mut cloud_params = Map::new();
        if let Some((cloud, params)) = demo_cloud(suite) {
            let Value::Object(params) = params else {
                return Err(format!("{file}: cloud {cloud} must be an object"));
            };
            for (k, v) in params {
                match (k.strip_prefix('_'), v) {
                    (Some(meta), Value::String(s)) => {
                        ph.insert(meta.to_ascii_uppercase(), s.clone());
                    }
                    (Some(_), _) => {}
                    (None, _) => {
                        cloud_params.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let commands = suite
            .demo
            .iter()
            .flatten()
            .map(|line| {
                soar_emulator::placeholders::fill_str(line, &ph).map_err(|e| format!("{file}: demo: {e}"))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for (key, setup) in &suite.flows {
            let at = format!("{file}: flow {key}");
            let flow: AuthFlow = serde_json::from_value(json!(key)).map_err(|_| {
                format!(
                    "{at}: unknown flow (known: {})",
                    AuthFlow::ALL.iter().map(|f| flow_key(*f)).collect::<Vec<_>>().join(", ")
                )
            })?;
            let setup: FlowSetup = serde_json::from_value(setup.clone()).map_err(|e| format!("{at}: {e}"))?;
            let mut params =
                fill_placeholders(&Value::Object(setup.params), &ph).map_err(|e| format!("{at}: {e}"))?;
            if let Value::Object(p) = &mut params {
                for (k, v) in &cloud_params {
                    if v.is_null() {
                        p.shift_remove(k);
                    } else {
                        p.insert(k.clone(), v.clone());
                    }
                }
            }
            let params: Params = serde_json::from_value(params).map_err(|e| format!("{at}: params: {e}"))?;
            let sign_in = match setup.setup.as_deref() {
                None | Some("none") => SignIn::None,
                Some("device-code") => SignIn::DeviceCode,
                Some("auth-code") => SignIn::AuthCode,
                Some(other) => {
                    return Err(format!("{at}: unknown setup {other} (known: device-code, auth-code, none)"));
                }
            };
            out.push(Plan {
                integration: suite.binary.clone(),
                flow,
                params,
                sign_in,
                commands: commands.clone(),
            });
        }
    }
    Ok(out)
}

/// The binaries of the suites, each once, in suite order.
fn binaries(suites: &[(String, Suite)]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, s) in suites {
        if !names.contains(&s.binary) {
            names.push(s.binary.clone());
        }
    }
    names
}

/// Removes from `cmd` what `cargo run` set for this package (`OUT_DIR` too: the engine has a
/// build script). ring's build script tracks some of them, so a nested build with them would
/// rebuild ring and everything above it, and the next `cargo run` again. The same list as
/// `soar-conformance`'s `cargo_command`, which the engine must not depend on.
fn drop_package_variables(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_package_variable) {
            cmd.env_remove(key);
        }
    }
}

/// A variable that cargo sets for the package it runs, not for cargo itself.
fn is_package_variable(key: &str) -> bool {
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

/// Builds the integration binaries with cargo when the demo runs through cargo.
fn build_binaries(finder: &Finder, names: &[String], io: &mut Io<'_>) -> Result<()> {
    let (Some(cargo), Some(exe_dir)) = (std::env::var_os("CARGO"), finder.exe_dir.as_ref()) else {
        return Ok(());
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    if !manifest.is_file() || names.is_empty() {
        return Ok(());
    }
    let mut cmd = Command::new(cargo);
    drop_package_variables(&mut cmd);
    cmd.arg("build").arg("--manifest-path").arg(&manifest);
    let profile = exe_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    for name in names {
        cmd.args(["-p", name]);
    }
    let shown = format!(
        "cargo build{} {}",
        if profile == "release" { " --release" } else { "" },
        names.iter().map(|n| format!("-p {n}")).collect::<Vec<_>>().join(" ")
    );
    let _ =
        writeln!(io.err, "{}", io.err_style.dim(&format!("Building the integration binaries ({shown})...")));
    let status = cmd.status().map_err(|e| EngineError::Other(format!("Could not run {shown}: {e}")))?;
    if !status.success() {
        return Err(EngineError::Other(format!(
            "{shown} failed ({status}); fix the build and run the demo again."
        )));
    }
    Ok(())
}

/// The environment that points integration binaries at the emulator.
pub fn emulator_env(emu: &Emulator) -> Vec<(String, String)> {
    vec![
        ("SOAR_HOST_MAP".into(), emu.host_map()),
        ("SOAR_EXTRA_CA".into(), emu.ca_pem_path().display().to_string()),
        ("SOAR_IMDS_ENDPOINT".into(), emu.http_base()),
        ("SOAR_OPROXY_URL".into(), format!("{}/obtain-token", emu.https_base())),
    ]
}

/// The token requests the emulator has answered so far (identity platform, IMDS, OAuth
/// proxy), oldest first, each named by its grant (or endpoint).
fn token_grants(emu: &Emulator) -> Vec<String> {
    emu.request_log()
        .entries()
        .iter()
        .filter_map(|e| match &e.grant_type {
            Some(g) => Some(format!("grant {g}")),
            None if e.path.starts_with("/metadata/identity/oauth2/token") => Some("IMDS".to_owned()),
            None if e.path.starts_with("/msi/token") => Some("App Service identity".to_owned()),
            None if e.path.starts_with("/obtain-token") => Some("OAuth proxy".to_owned()),
            None => None,
        })
        .collect()
}

/// Runs the demo.
pub fn run(args: DemoArgs, io: &mut Io<'_>) -> Result<u8> {
    let finder = Finder::from_env();
    let suites = suites::embedded().map_err(EngineError::Other)?;
    let names = binaries(&suites);
    if names.is_empty() {
        return Err(EngineError::Other(
            "The demo found no conformance suite (test-data/*/conformance.json) when soar was built.".into(),
        ));
    }
    if !args.no_build {
        build_binaries(&finder, &names, io)?;
    }
    let missing: Vec<&str> =
        names.iter().map(String::as_str).filter(|n| finder.try_find(n).is_none()).collect();
    if missing.len() == names.len() {
        return Err(EngineError::Usage(format!(
            "The demo needs the integration binaries ({}) next to soar, on PATH or in SOAR_BIN_DIR: run it as \
             cargo run --release -p soar-engine --bin soar -- demo (which builds them), or build them with \
             cargo build --release -p {}.",
            missing.join(", "),
            missing.join(" -p ")
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| EngineError::Other(format!("Could not start the async runtime: {e}")))?;
    let emu = runtime
        .block_on(Emulator::start(EmulatorConfig::default()))
        .map_err(|e| EngineError::Other(format!("Could not start the emulator: {e}")))?;
    let data_dir =
        std::env::temp_dir().join(format!("soar-demo-{}-{:08x}", std::process::id(), rand::random::<u32>()));
    let result = demo(&args, &suites, &finder, &emu, &data_dir, io);
    if args.keep {
        let _ = writeln!(io.out, "\nThe demo's instances and contexts are kept in {}", data_dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    runtime.block_on(emu.shutdown());
    result
}

fn demo(
    args: &DemoArgs,
    suites: &[(String, Suite)],
    finder: &Finder,
    emu: &Emulator,
    data_dir: &Path,
    io: &mut Io<'_>,
) -> Result<u8> {
    let placeholders = emu
        .placeholders()
        .map_err(|e| EngineError::Other(format!("Could not read the emulator's registrations: {e}")))?;
    let plans = plans(suites, &placeholders).map_err(EngineError::Other)?;
    let mut engine = Engine::new(data_dir, Box::new(FileStore::open(data_dir)?))?;
    engine.finder = finder.clone();
    engine.env = emulator_env(emu);
    engine.timeout = Duration::from_secs(60);
    let style = io.out_style;
    let intro = format!(
        "# soar demo\nA local Microsoft cloud (the emulator) listens on {} and {}; nothing leaves this machine.\n\
         Every integration runs as its own binary, spoken to over the protocol, exactly as `soar run` does.\n",
        emu.https_base(),
        emu.http_base()
    );
    write(io, &markdown(&intro, style))?;
    let mut rows = Vec::new();
    for plan in plans {
        let key = flow_key(plan.flow);
        if let Some(only) = &args.only
            && !plan.integration.contains(only.as_str())
            && !key.contains(only.as_str())
        {
            continue;
        }
        let started = Instant::now();
        let result = walk(&engine, emu, &plan, io);
        if let Err(e) = &result {
            write(io, &format!("{}\n", io.out_style.red(&neutralize(&format!("✗ {e}")))))?;
        }
        rows.push(Row {
            flow: plan.flow,
            integration: plan.integration.clone(),
            result,
            time: started.elapsed(),
        });
    }
    // Fetching and mirroring, with the first integration that fetches and mirrors (Sentinel).
    if let Some(plan) = mirror_plan(&engine, &rows_source(suites, &placeholders)?, args.only.as_deref()) {
        let started = Instant::now();
        let result = fetch_and_mirror(&engine, emu, &plan, io);
        if let Err(e) = &result {
            write(io, &format!("{}\n", io.out_style.red(&neutralize(&format!("✗ {e}")))))?;
        }
        rows.push(Row {
            flow: plan.flow,
            integration: format!("{} (fetch and mirroring)", plan.integration),
            result,
            time: started.elapsed(),
        });
    }
    let mut md = String::from("\n### Summary\n|Flow|Integration|Result|Time|\n|---|---|---|---|\n");
    for r in &rows {
        let result = match &r.result {
            Ok(note) => format!("✓ pass ({note})"),
            Err(e) => format!("✗ FAIL: {}", e.lines().next().unwrap_or_default().replace('|', "\\|")),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {:.2} s |\n",
            r.flow.display_name(),
            r.integration,
            result,
            r.time.as_secs_f64()
        ));
    }
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    md.push_str(&format!(
        "\n**{} passed, {failed} failed** ({} token requests answered by the emulator)\n",
        rows.len() - failed,
        token_grants(emu).len()
    ));
    write(io, &markdown(&md, style))?;
    if rows.is_empty() {
        return Err(EngineError::Usage(format!(
            "No demo row matches --only {}: use an integration ({}) or a flow name (e.g. device-code).",
            args.only.as_deref().unwrap_or_default(),
            binaries(suites).join(", ")
        )));
    }
    Ok(u8::from(failed > 0))
}

fn rows_source(suites: &[(String, Suite)], placeholders: &Placeholders) -> Result<Vec<Plan>> {
    plans(suites, placeholders).map_err(EngineError::Other)
}

/// The integration the fetch-and-mirroring part runs: a built one whose manifest has
/// fetch-incidents and the mirroring commands, with a flow that needs no sign-in (client
/// secret first), and whose emulator has the Sentinel control endpoints.
fn mirror_plan(engine: &Engine, plans: &[Plan], only: Option<&str>) -> Option<Plan> {
    const MIRRORED: &str = "azure-sentinel";
    if only.is_some_and(|o| !MIRRORED.contains(o) && !"fetch".contains(o) && !"mirror".contains(o)) {
        return None;
    }
    let binary = engine.finder.try_find(MIRRORED)?;
    let manifest = engine.manifests.get(MIRRORED, &binary).ok()??;
    let has = |c: &str| manifest.commands.iter().any(|m| m.name == c);
    if !(has(crate::runner::FETCH_INCIDENTS)
        && has(crate::mirroring::GET_MODIFIED)
        && has(crate::mirroring::UPDATE_REMOTE))
    {
        return None;
    }
    let mut candidates: Vec<&Plan> =
        plans.iter().filter(|p| p.integration == MIRRORED && p.sign_in == SignIn::None).collect();
    candidates.sort_by_key(|p| p.flow != AuthFlow::ClientSecret);
    candidates.first().map(|p| (*p).clone())
}

/// Calls one of the emulator's control endpoints (plain HTTP on loopback), as a person changing
/// the remote system would.
fn emulator_control(
    emu: &Emulator,
    method: &str,
    path: &str,
    body: &Value,
) -> std::result::Result<Value, String> {
    let addr = emu.http_base().trim_start_matches("http://").to_owned();
    let mut stream =
        TcpStream::connect(&addr).map_err(|e| format!("could not reach the emulator at {addr}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let body = body.to_string();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("{method} {path}: {e}"))?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.lines().next().unwrap_or_default().to_owned();
    if !status.contains(" 200") && !status.contains(" 201") {
        return Err(format!("{method} {path}: {status}"));
    }
    let json = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    Ok(serde_json::from_str(json).unwrap_or(Value::Null))
}

/// The stored incidents as a table.
fn incidents_table(
    engine: &Engine,
    instance: &str,
    style: crate::render::Style,
) -> std::result::Result<String, String> {
    let mut md = String::from("|ID|Name|Status|Close reason|Pending out|\n|---|---|---|---|---|\n");
    for inc in engine.store.incidents(instance).map_err(|e| e.to_string())? {
        let reason = inc.fields.get("closeReason").and_then(Value::as_str).unwrap_or_default().to_owned();
        let pending: Vec<&str> =
            if inc.changed { inc.delta.keys().map(String::as_str).collect() } else { Vec::new() };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            inc.id,
            inc.fields
                .get("Title")
                .or(inc.incident.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .replace('|', "\\|"),
            crate::store::incidents::status::name(inc.status),
            reason,
            pending.join(", ")
        ));
    }
    Ok(markdown(&md, style))
}

/// Fetch, a change made in the emulator mirrored in, a local close mirrored out.
fn fetch_and_mirror(
    engine: &Engine,
    emu: &Emulator,
    plan: &Plan,
    io: &mut Io<'_>,
) -> std::result::Result<String, String> {
    use crate::fetcher::{Cycle, FetchSchedule, describe_cycle};
    let p = plan.integration.as_str();
    let name = format!("{p}-fetch");
    let title = format!("{p} · fetch and mirroring");
    let _ = write(
        io,
        &format!(
            "\n{}\n",
            io.out_style
                .bold(&format!("━━━ {title} {}", "━".repeat(60usize.saturating_sub(title.chars().count()))))
        ),
    );
    let mut params = plan.params.clone();
    for (k, v) in [
        ("isFetch", ParamValue::Bool(true)),
        ("fetch_time", ParamValue::Str("5 years".into())),
        ("mirror_direction", ParamValue::Str("Incoming And Outgoing".into())),
        ("close_incident", ParamValue::Bool(true)),
        ("close_ticket", ParamValue::Bool(true)),
    ] {
        params.0.insert(k.to_owned(), v);
    }
    let inst = Instance { name: name.clone(), integration: p.to_owned(), params, secret_params: Vec::new() };
    engine.instances.save(&inst, true).map_err(|e| e.to_string())?;
    engine.store.remove(&name).map_err(|e| e.to_string())?;
    note(
        io,
        &format!(
            "instance {name}: mirroring Incoming And Outgoing, closing both ways; soar fetch --instance {name} --every 1m runs these cycles"
        ),
    );
    let schedule = FetchSchedule { instance: name.clone(), every: Duration::ZERO };
    let cycle = |io: &mut Io<'_>| -> std::result::Result<crate::fetcher::CycleReport, String> {
        let _ = write(
            io,
            &format!("\n{}\n", io.out_style.bold(&format!("» soar fetch --instance {name} (one cycle)"))),
        );
        match engine.fetch_cycle(&schedule).map_err(|e| e.to_string())? {
            Cycle::Ran(report) => {
                let _ = write(io, &format!("{}\n", neutralize(&describe_cycle(&report))));
                if let Some(e) = report.fetch.response.entries.iter().find(|e| e.is_error()) {
                    return Err(format!("fetch-incidents failed: {}", entry_text(e)));
                }
                if let Some(e) = report.mirror.errors.first() {
                    return Err(format!("mirroring failed: {e}"));
                }
                Ok(*report)
            }
            other => Err(format!("the cycle did not run: {other:?}")),
        }
    };
    let first = cycle(io)?;
    let fetched = first.fetch.response.incidents.as_ref().map_or(0, Vec::len);
    if fetched == 0 {
        return Err("the first fetch brought no incident".into());
    }
    let _ = write(io, &incidents_table(engine, &name, io.out_style)?);
    let stored = engine.store.incidents(&name).map_err(|e| e.to_string())?;
    // Incidents still open on Sentinel's side (a fetched incident is active here whatever its
    // remote status).
    let remote_status = |i: &crate::store::StoredIncident| {
        i.incident
            .get("rawJSON")
            .and_then(Value::as_str)
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|r| r.get("Status").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()
    };
    let open: Vec<&str> = stored
        .iter()
        .filter(|i| i.status == 1 && i.mirrors_out() && remote_status(i) != "Closed")
        .map(|i| i.id.as_str())
        .collect();
    let [changed_remotely, closed_remotely, closed_here, ..] = open[..] else {
        return Err(format!("the demo needs three open incidents, the fetch stored {}", open.len()));
    };
    let (changed_remotely, closed_remotely, closed_here) =
        (changed_remotely.to_owned(), closed_remotely.to_owned(), closed_here.to_owned());

    note(
        io,
        &format!(
            "in Microsoft Sentinel, an analyst raises {changed_remotely} to High and closes {closed_remotely} as a false positive"
        ),
    );
    emulator_control(
        emu,
        "PATCH",
        &format!("/__emulator/sentinel/incidents/{changed_remotely}"),
        &json!({"severity": "High", "title": "Suspicious sign-in (raised in Sentinel)"}),
    )?;
    emulator_control(
        emu,
        "POST",
        &format!("/__emulator/sentinel/incidents/{closed_remotely}/close"),
        &json!({"classification": "FalsePositive", "classificationReason": "InaccurateData", "classificationComment": "benign scanner"}),
    )?;
    let close_line = format!(
        "soar incident close {closed_here} --reason Resolved --notes \"handled in soar\" classification=TruePositive classificationComment=\"handled in soar\""
    );
    let _ = write(io, &format!("\n{}\n", io.out_style.bold(&format!("» {close_line}"))));
    engine
        .change_incident(Some(&name), &closed_here, &mut |inc| {
            crate::mirroring::close(inc, "Resolved", "handled in soar");
            crate::mirroring::set_fields(
                inc,
                &[
                    ("classification".into(), json!("TruePositive")),
                    ("classificationComment".into(), json!("handled in soar")),
                ],
            );
        })
        .map_err(|e| e.to_string())?;
    let _ = write(io, &format!("Incident {closed_here} closed here; the next cycle sends it.\n"));

    let second = cycle(io)?;
    let _ = write(io, &incidents_table(engine, &name, io.out_style)?);
    let get = |id: &str| engine.store.incident(&name, id).ok().flatten();
    let remote_closed = get(&closed_remotely).is_some_and(|i| i.status == 2);
    let raised = get(&changed_remotely).is_some_and(|i| i.fields.get("Severity") == Some(&json!("High")));
    if !remote_closed || !raised || second.mirror.mirrored_out == 0 {
        return Err(format!(
            "mirroring did not show the changes (remote close mirrored in: {remote_closed}, severity mirrored in: \
             {raised}, mirrored out: {})",
            second.mirror.mirrored_out
        ));
    }
    // The local close, seen from Sentinel's side.
    let check = step(engine, &name, &format!("!{p}-get-incident-by-id incident_id={closed_here}"), io)?;
    let text = serde_json::to_string(&check.response.entries).unwrap_or_default();
    if !text.contains("Closed") {
        return Err(format!("{closed_here} is not closed in Microsoft Sentinel after the cycle"));
    }
    Ok(format!(
        "{fetched} fetched, {} mirrored in, {} mirrored out",
        second.mirror.mirrored_in, second.mirror.mirrored_out
    ))
}

fn write(io: &mut Io<'_>, text: &str) -> Result<()> {
    io.out.write_all(text.as_bytes()).map_err(|e| EngineError::io("Could not write", "standard output", e))
}

/// Prints a note in the transcript (what the person does outside the War Room).
fn note(io: &mut Io<'_>, text: &str) {
    let _ = write(io, &format!("{}\n", io.out_style.dim(&format!("  ({text})"))));
}

/// Runs one War Room line and prints it with its entries; an error entry fails the step.
fn step(
    engine: &Engine,
    instance: &str,
    line: &str,
    io: &mut Io<'_>,
) -> std::result::Result<RunOutcome, String> {
    let _ = write(io, &format!("\n{}\n", io.out_style.bold(&format!("» {line}"))));
    let started = Instant::now();
    let first = engine.run_line(Some(instance), line).map_err(|e| format!("{line}: {e}"))?;
    let show = |outcome: &RunOutcome, io: &mut Io<'_>| {
        for entry in &outcome.response.entries {
            let text = if entry.is_error() {
                neutralize(&entry_text(entry)).lines().map(|l| format!("{}\n", io.out_style.red(l))).collect()
            } else {
                crate::render::render_entry(entry, io.out_style).1
            };
            let _ = write(io, &text);
        }
    };
    show(&first, io);
    // A polling command is followed as `soar run` follows it, with a short interval so the demo
    // does not wait the NextRun a real action needs.
    let outcome = if crate::polling::response_schedule(&first.response).is_some() {
        let opts = crate::polling::PollOptions { interval: Some(DEMO_POLL_INTERVAL), timeout: None };
        engine
            .follow_schedule(first, opts, started, &mut |event| {
                match event {
                    crate::polling::PollEvent::Waiting { command, run, .. } => {
                        note(io, &format!("polling !{command}: run {run}"));
                    }
                    crate::polling::PollEvent::Ran(outcome) => show(outcome, io),
                }
                Ok(())
            })
            .map_err(|e| format!("{line}: {e}"))?
    } else {
        first
    };
    if let Some(e) = outcome.response.entries.iter().find(|e| e.is_error()) {
        return Err(format!("{line}: {}", entry_text(e).lines().next().unwrap_or_default()));
    }
    Ok(outcome)
}

/// The first command of `candidates` the integration has.
fn pick_command(
    engine: &Engine,
    integration: &str,
    candidates: &[String],
) -> std::result::Result<String, String> {
    let binary = engine.finder.find(integration).map_err(|e| e.to_string())?;
    let manifest = engine
        .manifests
        .get(integration, &binary)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{integration} does not answer --manifest"))?;
    candidates
        .iter()
        .find(|c| manifest.commands.iter().any(|m| m.name == **c))
        .cloned()
        .ok_or_else(|| format!("{integration} has none of {}", candidates.join(", ")))
}

fn walk(
    engine: &Engine,
    emu: &Emulator,
    plan: &Plan,
    io: &mut Io<'_>,
) -> std::result::Result<String, String> {
    let p = plan.integration.as_str();
    let name = name_of(plan);
    let mut runs = 0;
    let mut step = |line: &str, io: &mut Io<'_>| {
        runs += 1;
        step(engine, &name, line, io)
    };
    let title = format!("{p} · {}", plan.flow.display_name());
    let _ = write(
        io,
        &format!(
            "\n{}\n",
            io.out_style
                .bold(&format!("━━━ {title} {}", "━".repeat(60usize.saturating_sub(title.chars().count()))))
        ),
    );
    let mut inst = Instance {
        name: name.clone(),
        integration: p.to_owned(),
        params: plan.params.clone(),
        secret_params: Vec::new(),
    };
    engine.instances.save(&inst, true).map_err(|e| e.to_string())?;
    engine.store.remove(&name).map_err(|e| e.to_string())?;
    // The integration's own manifest says which params are secret (a Cortex app's token may sit
    // in a param whose name says nothing of it, e.g. Defender's `_tenant_id`).
    let manifest = engine.finder.try_find(p).and_then(|b| engine.manifests.get(p, &b).ok().flatten());
    let shown: Vec<String> =
        inst.masked_params(manifest.as_ref()).into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    note(io, &format!("instance {name} of {p}: {}", shown.join(", ")));

    match plan.sign_in {
        SignIn::None => {}
        SignIn::DeviceCode => {
            let start = step(&format!("!{p}-auth-start"), io)?;
            let text: String = start.response.entries.iter().map(entry_text).collect();
            let code = between(&text, "enter the code **", "**").ok_or("auth-start showed no user code")?;
            note(
                io,
                &format!("the person opens the page and enters {code}; the demo approves it in the emulator"),
            );
            if !emu.approve_device_code(&code) {
                return Err(format!("the emulator has no pending device code {code}"));
            }
            step(&format!("!{p}-auth-complete"), io)?;
        }
        SignIn::AuthCode => {
            let out = step(&format!("!{p}-generate-login-url"), io)?;
            let text: String = out.response.entries.iter().map(entry_text).collect();
            let url =
                between(&text, "](", ")").filter(|u| u.contains("/authorize")).ok_or("no login URL shown")?;
            let code = sign_in(emu, &url)?;
            note(
                io,
                &format!(
                    "the person signs in as {} and is redirected to https://localhost/myapp?code=…; \
                     the code goes into the instance's Authorization code parameter",
                    emu_config::TEST_USER_UPN
                ),
            );
            for key in ["auth_code", "creds_auth_code"] {
                inst.params.0.insert(key.into(), cred("", &code));
            }
            engine.instances.save(&inst, true).map_err(|e| e.to_string())?;
        }
    }
    let test =
        pick_command(engine, p, &[format!("{p}-auth-test"), format!("{p}-test"), "test-module".into()])?;
    let test = format!("!{test}");
    step(&test, io)?;
    for line in &plan.commands {
        step(line, io)?;
    }

    // A token refresh: the cached token's expiry moves into the past, as if an hour had passed.
    expire_tokens(&*engine.store, &name)?;
    note(io, "an hour passes: the demo moves the cached token's expiry into the past");
    let before = token_grants(emu).len();
    step(plan.commands.last().unwrap_or(&test), io)?;
    let grants = token_grants(emu).split_off(before);
    if grants.is_empty() {
        return Err("the expired token was not refreshed (no token request reached the emulator)".into());
    }
    note(
        io,
        &format!(
            "token refreshed: {} token request(s) to the emulator ({})",
            grants.len(),
            grants.join(", ")
        ),
    );

    let reset = pick_command(engine, p, &[format!("{p}-auth-reset")])?;
    step(&format!("!{reset}"), io)?;
    let left = engine.store.load(&name).map_err(|e| e.to_string())?;
    if left.context.keys().any(|k| k.contains("access_token")) {
        return Err(format!("{reset} left a token in the integration context"));
    }
    Ok(format!("{runs} commands"))
}

/// The instance name of a row.
fn name_of(plan: &Plan) -> String {
    format!("{}-{}", plan.integration, flow_key(plan.flow))
}

/// Sets every token expiry of the stored context to the past.
fn expire_tokens(store: &dyn ContextStore, instance: &str) -> std::result::Result<(), String> {
    for _ in 0..5 {
        let current = store.load(instance).map_err(|e| e.to_string())?;
        let mut ctx: Object = current.context.clone();
        let mut found = false;
        for (k, v) in ctx.iter_mut() {
            if k == "valid_until" || k.ends_with("_valid_until") {
                *v = json!(1);
                found = true;
            }
        }
        if !found {
            return Err("no cached token (valid_until) in the integration context to expire".into());
        }
        if let Cas::Stored(_) =
            store.compare_and_set(instance, current.version, &ctx, None).map_err(|e| e.to_string())?
        {
            return Ok(());
        }
    }
    Err("the context kept changing while the demo expired its token".into())
}

/// The text between `start` and the next `end`.
fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(text[from..from + len].to_owned())
}

/// Signs in at the emulator's `/authorize` (plain HTTP on loopback, the login host in the `Host`
/// header) as the browser would, and returns the code from the redirect.
fn sign_in(emu: &Emulator, url: &str) -> std::result::Result<String, String> {
    let rest = url.strip_prefix("https://").ok_or_else(|| format!("login URL is not https: {url}"))?;
    let (host, path) = rest.split_once('/').ok_or_else(|| format!("login URL has no path: {url}"))?;
    let addr = emu.http_base().trim_start_matches("http://").to_owned();
    let mut stream =
        TcpStream::connect(&addr).map_err(|e| format!("could not reach the emulator at {addr}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("sign-in request failed: {e}"))?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let location = response
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .ok_or_else(|| {
            format!("the sign-in did not redirect: {}", response.lines().next().unwrap_or_default())
        })?;
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query.split('&').find_map(|kv| kv.strip_prefix("code=")).map(percent_decode).ok_or_else(|| {
        format!("no code in the redirect to {}", location.split('?').next().unwrap_or_default())
    })
}

/// Decodes `%XX` escapes and `+` (a query string value).
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` runs this binary with the package's variables set, as `cargo run` runs the
    /// demo: the nested build must not pass them on, and keeps cargo's own settings.
    #[test]
    fn the_nested_build_gets_no_package_variables() {
        assert!(
            std::env::var_os("CARGO_PKG_NAME").is_some() && std::env::var_os("CARGO_MANIFEST_DIR").is_some()
        );
        let mut cmd = Command::new("cargo");
        drop_package_variables(&mut cmd);
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for key in ["CARGO_PKG_NAME", "CARGO_PKG_VERSION", "CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH"] {
            assert!(removed.iter().any(|k| k == key), "{key} is passed on: {removed:?}");
        }
        assert!(is_package_variable("OUT_DIR"), "ring tracks OUT_DIR, which cargo run sets for soar");
        for key in ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_PROFILE_RELEASE_LTO", "CARGO", "PATH"] {
            assert!(!is_package_variable(key), "{key} is cargo's own setting");
        }
    }

    fn ph() -> Placeholders {
        [("TENANT_ID", "t-1"), ("PUBLIC_APP_ID", "app-1"), ("TEST_USER_UPN", "alice@x")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn suite(text: &str) -> Vec<(String, Suite)> {
        vec![("tiny".to_owned(), suites::parse("tiny", text).unwrap())]
    }

    #[test]
    fn a_suite_flow_is_a_row_with_its_sign_in_params_and_demo_lines() {
        let suites = suite(
            r#"{"binary": "tiny-bin", "prefix": "tiny",
                "demo": ["!tiny-get user=${TEST_USER_UPN}", "!tiny-list"],
                "flows": {"device-code": {"setup": "device-code",
                    "params": {"app_id": "${PUBLIC_APP_ID}", "tenant": {"identifier": "", "password": "${TENANT_ID}"}, "drop": 1}}},
                "clouds": {"us-gcc": {"azure_cloud": "US GCC"},
                           "worldwide": {"azure_cloud": "Worldwide", "_graph": "https://g", "drop": null}}}"#,
        );
        let rows = plans(&suites, &ph()).unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            (row.integration.as_str(), row.flow, row.sign_in),
            ("tiny-bin", AuthFlow::DeviceCode, SignIn::DeviceCode)
        );
        assert_eq!(row.commands, ["!tiny-get user=alice@x", "!tiny-list"]);
        // The flow's params, filled, with the worldwide cloud's params merged in (`null` removes,
        // `_graph` is a placeholder, not a param).
        let want = Params::from_pairs([
            ("app_id", ParamValue::Str("app-1".into())),
            ("tenant", cred("", "t-1")),
            ("azure_cloud", ParamValue::Str("Worldwide".into())),
        ]);
        assert_eq!(row.params, want);
        assert_eq!(name_of(row), "tiny-bin-device-code");
    }

    #[test]
    fn sign_in_comes_from_setup_and_without_demo_lines_the_row_has_no_commands() {
        let suites = suite(
            r#"{"binary": "b", "prefix": "b", "flows": {
                "authorization-code": {"setup": "auth-code", "params": {}},
                "client-secret": {"params": {}},
                "managed-identity": {"setup": "none", "params": {}}}}"#,
        );
        let rows = plans(&suites, &ph()).unwrap();
        let got: Vec<(AuthFlow, SignIn, usize)> =
            rows.iter().map(|r| (r.flow, r.sign_in, r.commands.len())).collect();
        assert_eq!(
            got,
            [
                (AuthFlow::AuthorizationCode, SignIn::AuthCode, 0),
                (AuthFlow::ClientSecret, SignIn::None, 0),
                (AuthFlow::ManagedIdentity, SignIn::None, 0)
            ]
        );
    }

    #[test]
    fn a_bad_suite_is_a_clear_error() {
        let err = |text: &str| plans(&suite(text), &ph()).unwrap_err();
        assert_eq!(
            err(r#"{"binary": "b", "flows": {"client-secret": {"params": {"t": "${TENANT}"}}}}"#),
            "test-data/tiny/conformance.json: flow client-secret: unknown placeholder ${TENANT} \
             (known: ${PUBLIC_APP_ID}, ${TENANT_ID}, ${TEST_USER_UPN})"
        );
        assert_eq!(
            err(r#"{"binary": "b", "demo": ["!b-x a=${NOPE}"], "flows": {}}"#),
            "test-data/tiny/conformance.json: demo: unknown placeholder ${NOPE} \
             (known: ${PUBLIC_APP_ID}, ${TENANT_ID}, ${TEST_USER_UPN})"
        );
        assert!(
            err(r#"{"binary": "b", "flows": {"magic": {"params": {}}}}"#).starts_with(
                "test-data/tiny/conformance.json: flow magic: unknown flow (known: cortex-app, "
            )
        );
        assert_eq!(
            err(r#"{"binary": "b", "flows": {"device-code": {"setup": "sms", "params": {}}}}"#),
            "test-data/tiny/conformance.json: flow device-code: unknown setup sms (known: device-code, auth-code, none)"
        );
    }

    #[test]
    fn the_embedded_suites_make_the_rows() {
        // Every name the embedded suites use, so that the test needs no running emulator.
        let mut all = Placeholders::new();
        for (_, text) in suites::SUITES {
            let mut rest = *text;
            while let Some(at) = rest.find("${") {
                let name: String = rest[at + 2..].chars().take_while(|c| *c != '}').collect();
                all.insert(name, "x".into());
                rest = &rest[at + 2..];
            }
        }
        let suites = suites::embedded().unwrap();
        let rows = plans(&suites, &all).unwrap();
        let flows: usize = suites.iter().map(|(_, s)| s.flows.len()).sum();
        assert_eq!(rows.len(), flows, "one row per (suite, flow)");
        assert_eq!(binaries(&suites), suites::integrations());
    }

    #[test]
    fn helpers() {
        assert_eq!(
            between("enter the code **AB-12** to", "enter the code **", "**").as_deref(),
            Some("AB-12")
        );
        assert_eq!(
            between("[login URL](https://x/authorize?a=b) to", "](", ")").as_deref(),
            Some("https://x/authorize?a=b")
        );
        assert_eq!(percent_decode("a%2Fb+c%3d"), "a/b c=");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
