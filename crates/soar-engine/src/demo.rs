//! `soar demo`: the built-in Microsoft emulator in-process on loopback, and every auth flow of
//! every integration walked through as a person would in the War Room.
//!
//! For each (integration, flow) the demo creates an instance in a temporary data directory
//! and runs, through the same engine as `soar run` (spawned binaries, the file context store):
//! the sign-in the flow needs (`auth-start`, approval of the device code in the emulator,
//! `auth-complete`; or `generate-login-url`, a sign-in at the emulator's `/authorize` and the
//! code pasted into the instance), the test command, a few real commands, a token refresh (the
//! demo moves the cached token's expiry into the past, as an hour passing would, and checks the
//! next command made a token request), and `auth-reset`. It ends with a summary table and exits
//! non-zero when a row failed.
//!
//! The integration binaries must exist next to `soar` (or on `PATH` / in `SOAR_BIN_DIR`). When
//! the demo runs through cargo (`cargo run --release -p soar-engine --bin soar -- demo`, which
//! sets `CARGO`), it first runs `cargo build` for them with the same profile, so the README's
//! first command works from a fresh clone; `--no-build` skips that.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use soar_emulator::config as emu_config;
use soar_emulator::{Emulator, EmulatorConfig};
use soar_protocol::{AuthFlow, Credentials, Object, ParamValue, Params, Secret};

use crate::cli::Io;
use crate::error::{EngineError, Result};
use crate::flows::flow_key;
use crate::instance::Instance;
use crate::manifest::Finder;
use crate::render::{entry_text, markdown};
use crate::runner::{Engine, RunOutcome};
use crate::store::{Cas, ContextStore, FileStore};

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

/// The integrations the demo walks through.
pub const DEMO_INTEGRATIONS: &[&str] = &["msgraph-user", "azure-storage"];

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

/// One row of the demo.
#[derive(Debug, Clone)]
struct Plan {
    integration: &'static str,
    flow: AuthFlow,
    params: Params,
    sign_in: SignIn,
    commands: Vec<String>,
}

/// One row of the summary.
#[derive(Debug, Clone)]
struct Row {
    flow: AuthFlow,
    integration: &'static str,
    result: std::result::Result<String, String>,
    time: Duration,
}

fn s(v: &str) -> ParamValue {
    ParamValue::Str(v.to_owned())
}

fn cred(identifier: &str, password: &str) -> ParamValue {
    ParamValue::Credentials(Credentials {
        identifier: identifier.to_owned(),
        password: Secret::new(password),
    })
}

/// The rows: each integration under each flow it supports, configured for the emulator's
/// built-in registrations.
fn plans(emu: &Emulator) -> Result<Vec<Plan>> {
    let cert = emu.cert_files().iter().find(|c| c.client_id == emu_config::CERT_APP_ID).ok_or_else(|| {
        EngineError::Other("The emulator wrote no certificate for its certificate app.".into())
    })?;
    let key_pem =
        std::fs::read_to_string(&cert.key).map_err(|e| EngineError::io("Could not read", &cert.key, e))?;
    let graph_cmds = || {
        vec![
            "!msgraph-user-list filter=\"startswith(displayName,'B')\" properties=id,displayName,userPrincipalName"
                .to_owned(),
            format!("!msgraph-user-get user={} properties=displayName,jobTitle,mail", emu_config::TEST_USER_UPN),
        ]
    };
    let storage_cmds = || {
        vec![
            "!azure-storage-account-list".to_owned(),
            "!azure-storage-blob-containers-list account_name=soarstorage1".to_owned(),
        ]
    };
    let graph = |pairs: Vec<(&str, ParamValue)>| {
        let mut p = Params::from_pairs(pairs);
        p.0.insert("handle_error".into(), ParamValue::Bool(true));
        p
    };
    let storage = |pairs: Vec<(&str, ParamValue)>| {
        let mut p = Params::from_pairs(pairs);
        p.0.insert("subscription_id".into(), s(emu_config::DEFAULT_SUBSCRIPTION_ID));
        p.0.insert("resource_group_name".into(), s("soar-rg"));
        p
    };
    let (tenant, secret_app, secret) =
        (emu_config::DEFAULT_TENANT_ID, emu_config::SECRET_APP_ID, emu_config::SECRET_APP_SECRET);
    let plan =
        |integration, flow, params, sign_in, commands| Plan { integration, flow, params, sign_in, commands };
    Ok(vec![
        plan(
            "msgraph-user",
            AuthFlow::ClientSecret,
            graph(vec![
                ("self_deployed", ParamValue::Bool(true)),
                ("creds_auth_id", cred("", secret_app)),
                ("creds_tenant_id", cred("", tenant)),
                ("creds_enc_key", cred("", secret)),
            ]),
            SignIn::None,
            graph_cmds(),
        ),
        plan(
            "msgraph-user",
            AuthFlow::ClientCertificate,
            graph(vec![
                ("self_deployed", ParamValue::Bool(true)),
                ("creds_auth_id", cred("", emu_config::CERT_APP_ID)),
                ("creds_tenant_id", cred("", tenant)),
                ("creds_certificate", cred(&cert.thumbprint, &key_pem)),
            ]),
            SignIn::None,
            graph_cmds(),
        ),
        plan(
            "msgraph-user",
            AuthFlow::AuthorizationCode,
            graph(vec![
                ("self_deployed", ParamValue::Bool(true)),
                ("creds_auth_id", cred("", secret_app)),
                ("creds_tenant_id", cred("", tenant)),
                ("creds_enc_key", cred("", secret)),
                ("redirect_uri", s("https://localhost/myapp")),
            ]),
            SignIn::AuthCode,
            graph_cmds(),
        ),
        plan(
            "msgraph-user",
            AuthFlow::ManagedIdentity,
            graph(vec![
                ("use_managed_identities", ParamValue::Bool(true)),
                ("managed_identities_client_id", cred("", emu_config::USER_MI_CLIENT_ID)),
            ]),
            SignIn::None,
            graph_cmds(),
        ),
        plan(
            "msgraph-user",
            AuthFlow::CortexApp,
            graph(vec![
                ("creds_auth_id", cred("", emu_config::PROXY_REGISTRATION_ID)),
                ("creds_tenant_id", cred("", emu_config::PROXY_TOKEN)),
                ("creds_enc_key", cred("", emu_config::PROXY_KEY_B64)),
            ]),
            SignIn::None,
            graph_cmds(),
        ),
        plan(
            "azure-storage",
            AuthFlow::ClientSecret,
            storage(vec![
                ("auth_type", s("Client Credentials")),
                ("app_id", s(secret_app)),
                ("tenant_id", s(tenant)),
                ("credentials", cred("", secret)),
            ]),
            SignIn::None,
            storage_cmds(),
        ),
        plan(
            "azure-storage",
            AuthFlow::DeviceCode,
            storage(vec![("auth_type", s("Device Code")), ("app_id", s(emu_config::PUBLIC_APP_ID))]),
            SignIn::DeviceCode,
            storage_cmds(),
        ),
        plan(
            "azure-storage",
            AuthFlow::AuthorizationCode,
            storage(vec![
                ("auth_type", s("Authorization Code")),
                ("app_id", s(secret_app)),
                ("tenant_id", s(tenant)),
                ("credentials", cred("", secret)),
                ("redirect_uri", s("https://localhost/myapp")),
            ]),
            SignIn::AuthCode,
            storage_cmds(),
        ),
        plan(
            "azure-storage",
            AuthFlow::ManagedIdentity,
            storage(vec![
                ("auth_type", s("Azure Managed Identities")),
                ("managed_identities_client_id", cred("", emu_config::USER_MI_CLIENT_ID)),
            ]),
            SignIn::None,
            storage_cmds(),
        ),
    ])
}

/// Builds the integration binaries with cargo when the demo runs through cargo.
fn build_binaries(finder: &Finder, io: &mut Io<'_>) -> Result<()> {
    let (Some(cargo), Some(exe_dir)) = (std::env::var_os("CARGO"), finder.exe_dir.as_ref()) else {
        return Ok(());
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    if !manifest.is_file() {
        return Ok(());
    }
    let mut cmd = Command::new(cargo);
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
    for name in DEMO_INTEGRATIONS {
        cmd.args(["-p", name]);
    }
    let shown = format!(
        "cargo build{} {}",
        if profile == "release" { " --release" } else { "" },
        DEMO_INTEGRATIONS.iter().map(|n| format!("-p {n}")).collect::<Vec<_>>().join(" ")
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
    if !args.no_build {
        build_binaries(&finder, io)?;
    }
    let missing: Vec<&str> =
        DEMO_INTEGRATIONS.iter().copied().filter(|n| finder.try_find(n).is_none()).collect();
    if missing.len() == DEMO_INTEGRATIONS.len() {
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
    let result = demo(&args, &finder, &emu, &data_dir, io);
    if args.keep {
        let _ = writeln!(io.out, "\nThe demo's instances and contexts are kept in {}", data_dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    runtime.block_on(emu.shutdown());
    result
}

fn demo(args: &DemoArgs, finder: &Finder, emu: &Emulator, data_dir: &Path, io: &mut Io<'_>) -> Result<u8> {
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
    for plan in plans(emu)? {
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
            write(io, &format!("{}\n", io.out_style.red(&format!("✗ {e}"))))?;
        }
        rows.push(Row { flow: plan.flow, integration: plan.integration, result, time: started.elapsed() });
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
            DEMO_INTEGRATIONS.join(", ")
        )));
    }
    Ok(u8::from(failed > 0))
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
    let outcome = engine.run_line(Some(instance), line).map_err(|e| format!("{line}: {e}"))?;
    for entry in &outcome.response.entries {
        let text = if entry.is_error() {
            entry_text(entry).lines().map(|l| format!("{}\n", io.out_style.red(l))).collect()
        } else {
            crate::render::render_entry(entry, io.out_style).1
        };
        let _ = write(io, &text);
    }
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
    let p = plan.integration;
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
    let shown: Vec<String> = inst.masked_params(None).into_iter().map(|(k, v)| format!("{k}={v}")).collect();
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
    step(&format!("!{test}"), io)?;
    for line in &plan.commands {
        step(line, io)?;
    }

    // A token refresh: the cached token's expiry moves into the past, as if an hour had passed.
    expire_tokens(&*engine.store, &name)?;
    note(io, "an hour passes: the demo moves the cached token's expiry into the past");
    let before = token_grants(emu).len();
    let line = plan.commands.last().ok_or("the row has no command")?;
    step(line, io)?;
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
            store.compare_and_set(instance, current.version, &ctx).map_err(|e| e.to_string())?
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
