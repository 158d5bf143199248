//! `cargo xtask peers oidc`: soar-auth against a certified third-party OAuth server.
//!
//! Installs `oidc-provider` from npm into `target/peers/oidc`, starts our wrapper
//! (`xtask/peers/oidc/server.mjs`, Microsoft-shaped paths, 127.0.0.1 only) and points soar-auth
//! at it as a custom cloud (`azure_ad_endpoint` = the peer's origin). Checks: client secret,
//! private_key_jwt (certificate flow), a wrong secret, authorization code with refresh, and
//! device-code polling (pending, slow_down, success, denial). Prints `N passed, M failed` and
//! fails when any check fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::Value;
use sha1::Digest;
use soar_auth::http::{HttpConfig, HttpRequest, ReqwestTransport, Transport};
use soar_auth::testing::FakeTime;
use soar_auth::{ApiKind, AuthFlow, AuthSpec, IntegrationContext, MsClient, Shared};
use soar_protocol::{Credentials, ParamValue, Params, Secret};

const TENANT: &str = "peer-tenant";
const SECRET: &str = "peer-secret";

static SPEC: AuthSpec = AuthSpec { prefix: "peer", flows: &AuthFlow::ALL, ..AuthSpec::DEFAULT };

/// Kills the peer when the run ends, however it ends.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the checks.
pub fn run() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?.to_path_buf();
    let dir = root.join("target/peers/oidc");
    install(&dir)?;
    let (key_pem, cert_pem, thumbprint) = certificate()?;
    let cert_path = dir.join("cert-app.pem");
    std::fs::write(&cert_path, &cert_pem).context("writing the peer's certificate")?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new("node")
        .arg(root.join("xtask/peers/oidc/server.mjs"))
        .arg(port.to_string())
        .arg(TENANT)
        .env("PEER_NODE_MODULES", dir.join("node_modules"))
        .env("PEER_CERT_PEM", &cert_path)
        .env("PEER_CLIENT_SECRET", SECRET)
        .env("PEER_SLOW_DOWN", "1")
        .env("PEER_DEVICE_INTERVAL", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting node (is Node.js installed?)")?;
    let _peer = Peer(child);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let results = rt.block_on(checks(port, key_pem, thumbprint));
    let mut failed = 0;
    for (name, r) in &results {
        match r {
            Ok(()) => eprintln!("ok    {name}"),
            Err(e) => {
                failed += 1;
                eprintln!("FAIL  {name}: {e}");
            }
        }
    }
    // The summary line is the command's result: it goes to stdout.
    #[allow(clippy::print_stdout)]
    {
        println!("{} passed, {} failed", results.len() - failed, failed);
    }
    if failed > 0 {
        bail!("{failed} oidc-provider check(s) failed");
    }
    Ok(())
}

fn install(dir: &PathBuf) -> anyhow::Result<()> {
    if dir.join("node_modules/oidc-provider/package.json").is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    if !dir.join("package.json").is_file() {
        std::fs::write(dir.join("package.json"), "{\"name\":\"soar-oidc-peer\",\"private\":true}\n")?;
    }
    let ok = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "oidc-provider@9"])
        .current_dir(dir)
        .status()
        .context("running npm install oidc-provider")?
        .success();
    if !ok {
        bail!("npm install oidc-provider failed");
    }
    Ok(())
}

/// A fresh RSA key and a self-signed certificate for `cert-app`: (key PEM, cert PEM, SHA-1 hex
/// thumbprint with colons, as people paste them).
fn certificate() -> anyhow::Result<(String, String, String)> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
    let key_pem = key.to_pkcs8_pem(LineEnding::LF)?.to_string();
    let kp = rcgen::KeyPair::from_pem_and_sign_algo(&key_pem, &rcgen::PKCS_RSA_SHA256)?;
    let cert = rcgen::CertificateParams::new(vec!["soar-oidc-peer".to_owned()])?.self_signed(&kp)?;
    let thumb = sha1::Sha1::digest(cert.der().as_ref());
    let hexed = thumb.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    Ok((key_pem, cert.pem(), hexed))
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}

fn claims(jwt: &str) -> Result<Value, String> {
    let part = jwt.split('.').nth(1).ok_or("the access token is not a JWT")?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string())?;
    serde_json::from_slice(&raw).map_err(|e| e.to_string())
}

fn expect_graph_token(token: &Secret) -> Result<(), String> {
    let c = claims(token.expose())?;
    if c["aud"] != "https://graph.microsoft.com" {
        return Err(format!("aud is {}, expected https://graph.microsoft.com", c["aud"]));
    }
    Ok(())
}

async fn get(
    t: &ReqwestTransport,
    url: &str,
    cookies: &str,
) -> Result<soar_auth::http::HttpResponse, String> {
    let mut r = HttpRequest::new(http::Method::GET, url);
    if !cookies.is_empty() {
        r.headers.push(("cookie".into(), cookies.to_owned()));
    }
    t.send(r).await
}

type Checks = Vec<(&'static str, Result<(), String>)>;
/// Builds the params of one check (the peer's custom cloud plus `extra`).
type ParamsWith<'a> = &'a dyn Fn(&[(&str, &str)]) -> Params;

async fn checks(port: u16, key_pem: String, thumbprint: String) -> Checks {
    let origin = format!("http://127.0.0.1:{port}");
    let transport = ReqwestTransport::new(HttpConfig::default());
    let mut out: Checks = Vec::new();
    let mut up = false;
    for _ in 0..100 {
        if get(&transport, &format!("{origin}/healthz"), "").await.is_ok_and(|r| r.status == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !up {
        out.push(("peer starts", Err("no answer on /healthz within 10 s".into())));
        return out;
    }
    let shared = Shared::with_config(HttpConfig::default());
    let cloud = [("azure_ad_endpoint", origin.as_str()), ("tenant_id", TENANT), ("self_deployed", "true")];
    let with = |extra: &[(&str, &str)]| {
        let mut v: Vec<(&str, &str)> = cloud.to_vec();
        v.extend_from_slice(extra);
        params(&v)
    };

    // Client credentials with a secret.
    let r = async {
        let c = MsClient::from_params(
            &SPEC,
            &with(&[("auth_id", "secret-app"), ("enc_key", SECRET)]),
            shared.clone(),
        )
        .map_err(|e| e.to_string())?;
        expect_graph_token(
            &c.token(&mut IntegrationContext::default(), ApiKind::Graph).await.map_err(|e| e.to_string())?,
        )
    }
    .await;
    out.push(("client credentials, client_secret_post", r));

    // A wrong secret: the reference's error text, and not the secret.
    let r = async {
        let c = MsClient::from_params(
            &SPEC,
            &with(&[("auth_id", "secret-app"), ("enc_key", "canary-wrong")]),
            shared.clone(),
        )
        .map_err(|e| e.to_string())?;
        match c.token(&mut IntegrationContext::default(), ApiKind::Graph).await {
            Ok(_) => Err("a wrong secret got a token".into()),
            Err(e) => {
                let t = e.to_string();
                if t.starts_with("Error in Microsoft authorization. Status: 401, body: invalid_client")
                    && !t.contains("canary")
                {
                    Ok(())
                } else {
                    Err(t)
                }
            }
        }
    }
    .await;
    out.push(("wrong secret -> reference error text", r));

    // Certificate: private_key_jwt with a fresh assertion per request.
    let r = async {
        let mut p = with(&[("auth_id", "cert-app")]);
        p.0.insert(
            "creds_certificate".into(),
            ParamValue::Credentials(Credentials {
                identifier: thumbprint.clone(),
                password: Secret::new(key_pem.clone()),
            }),
        );
        let c = MsClient::from_params(&SPEC, &p, shared.clone()).map_err(|e| e.to_string())?;
        expect_graph_token(
            &c.token(&mut IntegrationContext::default(), ApiKind::Graph).await.map_err(|e| e.to_string())?,
        )?;
        // oidc-provider accepts a jti once: a second request proves the assertion is new.
        let fresh = Shared::with_config(HttpConfig::default());
        let c = MsClient::from_params(&SPEC, &p, fresh).map_err(|e| e.to_string())?;
        expect_graph_token(
            &c.token(&mut IntegrationContext::default(), ApiKind::Graph).await.map_err(|e| e.to_string())?,
        )
    }
    .await;
    out.push(("client credentials, private_key_jwt (fresh jti per request)", r));

    // Authorization code, then the refresh token.
    let r = auth_code(&origin, &transport, &with).await;
    out.push(("authorization code with refresh", r));

    // Device code.
    let device = with(&[("auth_type", "Device Code"), ("auth_id", "public-app")]);
    let r = device_pending_then_success(&origin, &transport, &device).await;
    out.push(("device code: pending, slow_down, success", r));
    let r = async {
        let c = MsClient::from_params(&SPEC, &device, Shared::with_config(HttpConfig::default()))
            .map_err(|e| e.to_string())?;
        let mut ctx = IntegrationContext::default();
        let s = c.device_start(&mut ctx).await.map_err(|e| e.to_string())?;
        decide(&transport, &origin, &s.user_code, true).await?;
        match c.device_complete(&mut ctx, Duration::from_secs(20)).await {
            Ok(()) => Err("a denied device code got tokens".into()),
            Err(e) if e.to_string().contains("access_denied") => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
    .await;
    out.push(("device code: denial stops polling", r));
    out
}

async fn decide(t: &ReqwestTransport, origin: &str, user_code: &str, deny: bool) -> Result<(), String> {
    let mut r = HttpRequest::new(http::Method::POST, format!("{origin}/__test/device/approve"));
    r.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
    let form = if deny { format!("user_code={user_code}&deny=1") } else { format!("user_code={user_code}") };
    r.body = Some(form.into_bytes());
    let resp = t.send(r).await?;
    if resp.status == 200 {
        Ok(())
    } else {
        Err(format!("device decision: {}", String::from_utf8_lossy(&resp.body)))
    }
}

async fn device_pending_then_success(
    origin: &str,
    t: &ReqwestTransport,
    device: &Params,
) -> Result<(), String> {
    // Polls go out back to back (fake sleep), so the peer answers pending, then slow_down.
    let time = FakeTime::at(0.0);
    let http = Arc::new(ReqwestTransport::new(HttpConfig::default()));
    let shared = Shared::with_parts(http, time.clone(), time.clone(), HttpConfig::default());
    let c = MsClient::from_params(&SPEC, device, shared).map_err(|e| e.to_string())?;
    let mut ctx = IntegrationContext::default();
    let s = c.device_start(&mut ctx).await.map_err(|e| e.to_string())?;
    match c.device_complete(&mut ctx, Duration::from_secs(12)).await {
        Err(soar_auth::Error::AuthorizationPending(_)) => {}
        other => return Err(format!("expected to be still pending, got {other:?}")),
    }
    let sleeps = time.sleeps();
    if sleeps.first() != Some(&Duration::from_secs(1)) {
        return Err(format!("pending should keep the 1 s interval: {sleeps:?}"));
    }
    if !sleeps.windows(2).any(|w| w[1] == w[0] + Duration::from_secs(5)) {
        return Err(format!("slow_down should add 5 s: {sleeps:?}"));
    }
    decide(t, origin, &s.user_code, false).await?;
    // Let the peer's interval pass so the next poll is not "too fast".
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.device_complete(&mut ctx, Duration::from_secs(30)).await.map_err(|e| e.to_string())?;
    let token = ctx.get("access_token").and_then(Value::as_str).unwrap_or_default().to_owned();
    expect_graph_token(&Secret::new(token))?;
    if ctx.get("current_refresh_token").and_then(Value::as_str).unwrap_or_default().is_empty() {
        return Err("no refresh token kept".into());
    }
    Ok(())
}

async fn auth_code(origin: &str, t: &ReqwestTransport, with: ParamsWith<'_>) -> Result<(), String> {
    let redirect = format!("{origin}/cb");
    let base = [
        ("auth_type", "Authorization Code"),
        ("auth_id", "secret-app"),
        ("enc_key", SECRET),
        ("redirect_uri", redirect.as_str()),
    ];
    let shared = Shared::with_config(HttpConfig::default());
    let c = MsClient::from_params(&SPEC, &with(&base), shared.clone()).map_err(|e| e.to_string())?;
    let mut ctx = IntegrationContext::default();
    let mut url = c.login_url(&mut ctx, false).map_err(|e| e.to_string())?;
    // Follow the sign-in redirects (the peer approves login and consent itself), keeping cookies.
    let mut cookies: Vec<String> = Vec::new();
    let mut code = None;
    for _ in 0..20 {
        let resp = get(t, &url, &cookies.join("; ")).await?;
        for (k, v) in &resp.headers {
            if k.eq_ignore_ascii_case("set-cookie")
                && let Some(pair) = v.split(';').next()
            {
                let name = pair.split('=').next().unwrap_or_default().to_owned();
                cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                cookies.push(pair.to_owned());
            }
        }
        let Some(loc) = resp.header("location") else {
            return Err(format!(
                "sign-in stopped with {}: {}",
                resp.status,
                String::from_utf8_lossy(&resp.body)
            ));
        };
        let next = url::Url::parse(&url).and_then(|u| u.join(loc)).map_err(|e| e.to_string())?;
        if next.as_str().starts_with(&redirect) {
            if let Some(err) = next.query_pairs().find(|(k, _)| k == "error") {
                return Err(format!("authorize error: {}", err.1));
            }
            code = next.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
            break;
        }
        url = next.to_string();
    }
    let code = code.ok_or("no code after the sign-in redirects")?;
    let mut p = with(&base);
    p.0.insert(
        "auth_code".into(),
        ParamValue::Credentials(Credentials { identifier: String::new(), password: Secret::new(code) }),
    );
    let c = MsClient::from_params(&SPEC, &p, shared).map_err(|e| e.to_string())?;
    expect_graph_token(&c.token(&mut ctx, ApiKind::Graph).await.map_err(|e| e.to_string())?)?;
    let rt1 = ctx.get("current_refresh_token").and_then(Value::as_str).unwrap_or_default().to_owned();
    if rt1.is_empty() {
        return Err("no refresh token after the code exchange".into());
    }
    // Expire the cached token: the next one must come from the refresh token (the code is spent,
    // and oidc-provider revokes everything when a code is redeemed twice).
    ctx.remove("access_token");
    ctx.remove("valid_until");
    let fresh = Shared::with_config(HttpConfig::default());
    let c = MsClient::from_params(&SPEC, &p, fresh).map_err(|e| e.to_string())?;
    expect_graph_token(&c.token(&mut ctx, ApiKind::Graph).await.map_err(|e| e.to_string())?)?;
    Ok(())
}
