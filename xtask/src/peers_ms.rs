//! `cargo xtask peers ms`: Microsoft's own clients (Python `msal` and `azure-identity`, and Node's
//! `@azure/msal-node`) against soar-emulator.
//!
//! Creates a venv under `target/peers/venv`, installs `msal` and `azure-identity` from PyPI (once),
//! starts the emulator in-process over HTTPS with its generated test CA (data dir
//! `target/peers/ms-emulator`, device polling interval 1 s), and runs `xtask/peers/ms_check.py`
//! with `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE` pointing at the CA (this machine sets both
//! globally, and requests lets them override `verify=`), then `xtask/peers/msal_node_check.mjs`
//! (msal-node from npm in `target/peers/msal-node`, CA through `NODE_EXTRA_CA_CERTS`). Each script
//! prints one line per check and `N passed, M failed`; any failure fails the command.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::json;
use soar_emulator::Emulator;
use soar_emulator::config::{self as emu_config, EmulatorConfig};

/// Runs the checks.
pub fn run() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?.to_path_buf();
    let python = ensure_venv(&root.join("target/peers/venv"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(checks(&root, &python))
}

/// Creates the venv and installs the clients unless they import already.
pub(crate) fn ensure_venv(venv: &Path) -> anyhow::Result<PathBuf> {
    python_venv(venv, "import msal, azure.identity", &["msal", "azure-identity"])
}

/// Creates a venv at `venv` (once) and pip-installs `packages` into it unless the Python
/// statement `probe` already runs there; returns the venv's python.
pub(crate) fn python_venv(venv: &Path, probe: &str, packages: &[&str]) -> anyhow::Result<PathBuf> {
    let python = venv.join("bin/python");
    if !python.is_file() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .context("running python3 -m venv (is Python 3 with the venv module installed?)")?;
        if !status.success() {
            bail!("python3 -m venv {} failed", venv.display());
        }
    }
    let present = Command::new(&python)
        .args(["-c", probe])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        eprintln!("installing {} into {}", packages.join(", "), venv.display());
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .context("running pip")?;
        if !status.success() {
            bail!("pip install {} failed", packages.join(" "));
        }
    }
    Ok(python)
}

async fn checks(root: &Path, python: &Path) -> anyhow::Result<()> {
    let work = root.join("target/peers/ms-emulator");
    std::fs::create_dir_all(&work).context("creating target/peers/ms-emulator")?;
    let mut config = EmulatorConfig { data_dir: Some(work.clone()), ..EmulatorConfig::default() };
    config.behaviour.device_poll_interval_secs = 1;
    let emu = Emulator::start(config).await.context("starting soar-emulator")?;
    let cert = emu.cert_files().first().context("the built-in certificate app has no files")?.clone();
    let description = json!({
        "https_base": emu.https_base(),
        "http_base": emu.http_base(),
        "ca_pem": emu.ca_pem_path(),
        "tenant_id": emu_config::DEFAULT_TENANT_ID,
        "secret_app": emu_config::SECRET_APP_ID,
        "secret": emu_config::SECRET_APP_SECRET,
        "public_app": emu_config::PUBLIC_APP_ID,
        "user": emu_config::TEST_USER_UPN,
        "redirect_uri": "https://localhost/myapp",
        "device_interval": 1,
        "cert_app": {"client_id": cert.client_id, "key": cert.key, "cert": cert.cert, "combined": cert.combined, "thumbprint": cert.thumbprint},
        "system_mi": emu_config::SYSTEM_MI_CLIENT_ID,
        "user_mi": emu_config::USER_MI_CLIENT_ID,
        "user_mi_resource_id": emu_config::USER_MI_RESOURCE_ID,
        "app_service_endpoint": format!("{}/msi/token", emu.http_base()),
        "app_service_header": emu_config::APP_SERVICE_IDENTITY_HEADER,
        "work_dir": work,
    });
    let desc_path = work.join("peer-config.json");
    std::fs::write(&desc_path, serde_json::to_string_pretty(&description)?)
        .context("writing the peer config")?;
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(root.join("xtask/peers/ms_check.py"))
        .arg(&desc_path)
        .env("REQUESTS_CA_BUNDLE", emu.ca_pem_path())
        .env("CURL_CA_BUNDLE", emu.ca_pem_path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for var in [
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "MSAL_MANAGED_IDENTITY_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    let python_ok = cmd.status().await.context("running xtask/peers/ms_check.py")?.success();
    let node_modules = ensure_msal_node(&root.join("target/peers/msal-node"))?;
    let node_ok = tokio::process::Command::new("node")
        .arg(root.join("xtask/peers/msal_node_check.mjs"))
        .arg(&desc_path)
        .env("MSAL_NODE_MODULES", &node_modules)
        .env("NODE_EXTRA_CA_CERTS", emu.ca_pem_path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .status()
        .await
        .context("running node (is Node.js installed?)")?
        .success();
    let token_requests = emu.request_log().token_requests();
    eprintln!("emulator served {token_requests} token requests");
    if !python_ok {
        bail!("the msal/azure-identity (Python) peer checks failed");
    }
    if !node_ok {
        bail!("the @azure/msal-node peer checks failed");
    }
    Ok(())
}

/// Installs `@azure/msal-node` from npm into `dir` unless it is there; returns its node_modules.
fn ensure_msal_node(dir: &Path) -> anyhow::Result<PathBuf> {
    let modules = dir.join("node_modules");
    if modules.join("@azure/msal-node/package.json").is_file() {
        return Ok(modules);
    }
    std::fs::create_dir_all(dir).context("creating target/peers/msal-node")?;
    if !dir.join("package.json").is_file() {
        std::fs::write(dir.join("package.json"), "{\"name\":\"soar-peers-msal-node\",\"private\":true}\n")
            .context("writing package.json")?;
    }
    eprintln!("installing @azure/msal-node into {}", dir.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "@azure/msal-node"])
        .current_dir(dir)
        .status()
        .context("running npm (is Node.js installed?)")?;
    if !status.success() {
        bail!("npm install @azure/msal-node failed");
    }
    Ok(modules)
}
