//! `soar-emulator`: runs the local Microsoft cloud on loopback and prints its endpoints, tenant,
//! test apps and CA path; `approve`/`deny` decide a pending device code on a running emulator.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use soar_emulator::config::EmulatorConfig;
use soar_emulator::faults::FaultRule;
use soar_emulator::server::Bind;
use soar_emulator::{Emulator, EmulatorState};

#[derive(Parser, Debug)]
#[command(
    name = "soar-emulator",
    version,
    about = "A local Microsoft cloud (Entra ID, IMDS, OAuth proxy, APIs) on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// HTTPS port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// HTTP port for IMDS, App Service and plain base URLs (0 = any free port).
    #[arg(long, default_value_t = 0)]
    http_port: u16,
    /// Address to bind; loopback only (127.0.0.0/8 or ::1).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Data dir: reads `config.json` and `seed/*.json` if present, writes the CA, server and
    /// certificate-app PEMs and `endpoints.json`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Registrations file (JSON, the shape `--print-config` prints).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM) instead of the generated one.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The key for --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A fault rule, e.g. `path=/organizations/oauth2/v2.0/token,kind=status,status=429,retry_after=2,count=1`
    /// (repeatable; kinds: status, delay, drop, truncate, non_json).
    #[arg(long)]
    fault: Vec<String>,
    /// Access tokens expire after this many seconds.
    #[arg(long)]
    token_lifetime: Option<u64>,
    /// Device-code polling interval in seconds.
    #[arg(long)]
    device_interval: Option<u64>,
    /// Print the registrations in force as JSON and exit.
    #[arg(long)]
    print_config: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Approve a pending device code on a running emulator.
    Approve {
        /// The user code shown by the device flow.
        user_code: String,
        /// The emulator's HTTP base, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
    },
    /// Revoke refresh tokens on a running emulator (their next use answers AADSTS50173).
    Revoke {
        /// Only this user's (object id); all when absent.
        #[arg(long)]
        user: Option<String>,
        /// The emulator's HTTP base.
        #[arg(long)]
        url: String,
    },
    /// Add a fault rule to a running emulator (same syntax as --fault).
    Fault {
        /// e.g. `path=/organizations/oauth2/v2.0/token,kind=status,status=429,retry_after=2,count=1`.
        rule: String,
        /// The emulator's HTTP base.
        #[arg(long)]
        url: String,
    },
    /// Remove every fault rule from a running emulator.
    ClearFaults {
        /// The emulator's HTTP base.
        #[arg(long)]
        url: String,
    },
    /// Deny a pending device code on a running emulator.
    Deny {
        /// The user code.
        user_code: String,
        /// The emulator's HTTP base.
        #[arg(long)]
        url: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("soar-emulator: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soar-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<EmulatorConfig, String> {
    let from_data = cli.data.as_ref().map(|d| d.join("config.json")).filter(|p| p.is_file());
    let mut config = match cli.config.as_ref().or(from_data.as_ref()) {
        Some(path) => EmulatorConfig::from_file(path).map_err(|e| e.to_string())?,
        None => EmulatorConfig::default(),
    };
    if let Some(d) = &cli.data {
        config.data_dir = Some(d.clone());
        config.seed_dirs.push(d.join("seed"));
    }
    config.tls_cert = cli.tls_cert.clone().or(config.tls_cert);
    config.tls_key = cli.tls_key.clone().or(config.tls_key);
    if let Some(i) = cli.device_interval {
        config.behaviour.device_poll_interval_secs = i;
    }
    Ok(config)
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Some(Cmd::Approve { user_code, url }) => return decide(url, "approve", user_code).await,
        Some(Cmd::Deny { user_code, url }) => return decide(url, "deny", user_code).await,
        Some(Cmd::Revoke { user, url }) => {
            let body = match user {
                Some(u) => {
                    url::form_urlencoded::Serializer::new(String::new()).append_pair("user", u).finish()
                }
                None => String::new(),
            };
            let path = "/__emulator/refresh-tokens/revoke";
            return control(url, "POST", path, "application/x-www-form-urlencoded", &body, "revoke").await;
        }
        Some(Cmd::Fault { rule, url }) => {
            let parsed = FaultRule::parse_cli(rule).map_err(|e| format!("fault {rule}: {e}"))?;
            let json = serde_json::to_string(&parsed).map_err(|e| e.to_string())?;
            return control(url, "POST", "/__emulator/faults", "application/json", &json, "fault").await;
        }
        Some(Cmd::ClearFaults { url }) => {
            return control(url, "DELETE", "/__emulator/faults", "application/json", "", "clear-faults")
                .await;
        }
        None => {}
    }
    let config = load_config(&cli)?;
    if cli.print_config {
        let text = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?;
        write_out(&text);
        return Ok(());
    }
    if !cli.bind.is_loopback() {
        return Err(format!(
            "--bind {} is not a loopback address; the emulator serves 127.0.0.1 or ::1 only",
            cli.bind
        ));
    }
    let mut rules = Vec::new();
    for f in &cli.fault {
        rules.push(FaultRule::parse_cli(f).map_err(|e| format!("--fault {f}: {e}"))?);
    }
    let state = EmulatorState::new(config).map_err(|e| e.to_string())?;
    for r in rules {
        state.faults().add(r);
    }
    if cli.token_lifetime.is_some() {
        state.faults().set_token_lifetime(cli.token_lifetime);
    }
    let emu = Emulator::start_with_state(
        state,
        Bind { ip: cli.bind, https_port: cli.port, http_port: cli.http_port },
    )
    .await
    .map_err(|e| e.to_string())?;
    write_out(&banner(&emu));
    let signal = stop_signal().await?;
    tracing::info!("{signal}: stopping");
    emu.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `kill`, systemd and container runtimes
/// send), so both stop the servers and remove a temporary data dir.
async fn stop_signal() -> Result<&'static str, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| format!("waiting for SIGTERM: {e}"))?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| "Ctrl-C").map_err(|e| format!("waiting for Ctrl-C: {e}")),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C").map_err(|e| format!("waiting for Ctrl-C: {e}"))
    }
}

fn banner(emu: &Emulator) -> String {
    let cfg = emu.state().config();
    let mut out = String::new();
    out.push_str("soar-emulator is running (Ctrl-C or SIGTERM stops it)\n");
    out.push_str(&format!("  HTTPS     {}   (login, Graph, ARM, Defender, OAuth proxy)\n", emu.https_base()));
    out.push_str(&format!("  HTTP      {}   (IMDS, App Service MSI, plain base URLs)\n", emu.http_base()));
    out.push_str(&format!("  CA        {}\n", emu.ca_pem_path().display()));
    out.push_str(&format!("  data dir  {}\n", emu.data_dir().display()));
    for t in &cfg.tenants {
        out.push_str(&format!("  tenant    {} ({})\n", t.id, t.domain));
    }
    out.push_str(&format!(
        "  token URL {}/{}/oauth2/v2.0/token\n",
        emu.https_base(),
        cfg.tenants.first().map(|t| t.id.as_str()).unwrap_or("")
    ));
    for a in &cfg.apps {
        let cred = if a.public_client {
            "public client".to_string()
        } else if let Some(s) = a.secrets.first() {
            format!("secret {}{}", s.value, if s.expired { " (expired)" } else { "" })
        } else {
            emu.cert_files()
                .iter()
                .find(|c| c.client_id == a.client_id)
                .map(|c| {
                    format!(
                        "certificate {} thumbprint {} sha256 {}",
                        c.combined.display(),
                        c.thumbprint,
                        sha256_thumbprint(&c.cert).unwrap_or_else(|| "?".into())
                    )
                })
                .unwrap_or_else(|| "certificate".into())
        };
        out.push_str(&format!("  app       {} {:<24} {cred}\n", a.client_id, a.display_name));
    }
    for u in &cfg.users {
        out.push_str(&format!("  user      {} ({})\n", u.upn, u.object_id));
    }
    for m in &cfg.managed_identities {
        out.push_str(&format!(
            "  identity  {} {}\n",
            m.client_id,
            if m.system_assigned { "system-assigned" } else { "user-assigned" }
        ));
    }
    out.push_str(&format!("  IMDS      AZURE_POD_IDENTITY_AUTHORITY_HOST={}\n", emu.http_base()));
    out.push_str(&format!(
        "  AppSvc    IDENTITY_ENDPOINT={}/msi/token IDENTITY_HEADER={}\n",
        emu.http_base(),
        cfg.app_service_identity_header
    ));
    for p in &cfg.proxy_registrations {
        out.push_str(&format!(
            "  oproxy    ID {}@{}/obtain-token  Token {}  Key {}\n",
            p.registration_id,
            emu.https_base(),
            p.token,
            p.key_b64
        ));
    }
    out.push_str(&format!(
        "  device    approve a code: soar-emulator approve CODE --url {0}  (or POST {0}/__emulator/device/approve user_code=CODE)\n",
        emu.http_base()
    ));
    let tenant = cfg.tenants.first().map(|t| t.id.as_str()).unwrap_or("");
    let authority_host = emu.https_base().trim_start_matches("https://").to_owned();
    out.push_str(
        "  Microsoft SDKs pointed at the emulator (trust the CA: NODE_EXTRA_CA_CERTS / REQUESTS_CA_BUNDLE):
",
    );
    out.push_str(&format!(
        "    msal-node        auth: {{ authority: \"{0}/{tenant}\", knownAuthorities: [\"{authority_host}\"] }}\n",
        emu.https_base()
    ));
    out.push_str(&format!(
        "    @azure/identity  {{ authorityHost: \"{}\", disableInstanceDiscovery: true }}\n",
        emu.https_base()
    ));
    out.push_str("  environment for soar integrations (paste into a shell):\n");
    out.push_str(&format!("    export SOAR_HOST_MAP='{}'\n", emu.host_map()));
    out.push_str(&format!("    export SOAR_EXTRA_CA='{}'\n", emu.ca_pem_path().display()));
    out.push_str(&format!("    export SOAR_IMDS_ENDPOINT='{}'\n", emu.http_base()));
    out.push_str(&format!("    export SOAR_OPROXY_URL='{}/obtain-token'\n", emu.https_base()));
    out
}

/// The upper-case hex SHA-256 of a PEM certificate's DER bytes (the `x5t#S256` thumbprint newer
/// SDKs send), or `None` when the file cannot be read.
fn sha256_thumbprint(pem_path: &std::path::Path) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let pem = std::fs::read_to_string(pem_path).ok()?;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
    Some(sha2::Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect())
}

#[allow(clippy::print_stdout)]
fn write_out(text: &str) {
    // The banner and --print-config are the binary's output, so they go to stdout.
    println!("{text}");
}

/// Sends `POST /__emulator/device/{action}` to a running emulator.
async fn decide(url: &str, action: &str, user_code: &str) -> Result<(), String> {
    let body =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("user_code", user_code).finish();
    let path = format!("/__emulator/device/{action}");
    control(url, "POST", &path, "application/x-www-form-urlencoded", &body, action).await
}

/// One request to a running emulator's control endpoints over plain HTTP on loopback.
async fn control(
    url: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
    label: &str,
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let parsed = url::Url::parse(url).map_err(|e| format!("--url {url}: {e}"))?;
    if parsed.scheme() != "http" {
        return Err("--url must be the emulator's http:// base (the HTTP port)".into());
    }
    let host =
        parsed.host_str().unwrap_or("127.0.0.1").trim_start_matches('[').trim_end_matches(']').to_string();
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(format!(
            "--url {url}: the emulator listens on loopback only (127.0.0.1, ::1 or localhost)"
        ));
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.map_err(|e| e.to_string())?;
    let status_line = response.lines().next().unwrap_or("");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    if status_line.contains(" 200 ") {
        write_out(&format!("{label}: {body}"));
        Ok(())
    } else {
        Err(format!("{label} failed: {status_line} {body}"))
    }
}
