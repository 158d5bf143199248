//! The network server: HTTPS with the generated CA for every cloud host name, HTTP for IMDS,
//! dropped connections, files in the data dir, loopback-only binding.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::Value;
use soar_emulator::config::*;
use soar_emulator::server::Bind;
use soar_emulator::{Emulator, EmulatorConfig, Fault, FaultRule};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "common/tls.rs"]
mod tls;

/// Sends one HTTP/1.1 request (Connection: close) over TLS with SNI `name`, trusting `ca`.
async fn https_request(port: u16, ca: &std::path::Path, name: &str, request: &str) -> String {
    let connector = tls::connector_trusting(ca);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let server_name = rustls::pki_types::ServerName::try_from(name.to_string()).unwrap();
    let mut tls = connector.connect(server_name, tcp).await.unwrap();
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn body_of(resp: &str) -> Value {
    serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[tokio::test]
async fn https_for_every_cloud_host_with_the_generated_ca() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = EmulatorConfig { data_dir: Some(dir.path().to_path_buf()), ..EmulatorConfig::default() };
    let emu = Emulator::start(cfg).await.unwrap();
    let form = format!(
        "client_id={SECRET_APP_ID}&client_secret={SECRET_APP_SECRET}&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.us%2F.default"
    );
    // The certificate covers the sovereign host names; Host routes to the US Government cloud.
    for name in ["login.microsoftonline.us", "127.0.0.1", "localhost"] {
        let req = format!(
            "POST /{DEFAULT_TENANT_ID}/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.us\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        );
        let resp = https_request(emu.https_port(), emu.ca_pem_path(), name, &req).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{name}: {resp}");
        assert!(body_of(&resp)["access_token"].is_string());
    }
    for name in [
        "graph.microsoft.com",
        "dod-graph.microsoft.us",
        "microsoftgraph.chinacloudapi.cn",
        "management.usgovcloudapi.net",
        "api-gov.securitycenter.microsoft.us",
        "myvault.vault.azure.net",
    ] {
        let req = format!("GET /__emulator/health HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n");
        let resp = https_request(emu.https_port(), emu.ca_pem_path(), name, &req).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{name}: {resp}");
    }
    // Files in the data dir.
    for f in
        ["ca.pem", "server.pem", "cert-app.key.pem", "cert-app.cert.pem", "cert-app.pem", "endpoints.json"]
    {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let endpoints: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("endpoints.json")).unwrap()).unwrap();
    assert_eq!(endpoints["https_base"], emu.https_base());
    assert_eq!(endpoints["cert_apps"][0]["thumbprint"], emu.cert_files()[0].thumbprint);
    let map = emu.host_map();
    for host in [
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.microsoftonline.de",
        "graph.microsoft.us",
        "dod-graph.microsoft.us",
        "management.azure.com",
        "management.chinacloudapi.cn",
        "api.securitycenter.microsoft.com",
        "api-gcc.securitycenter.microsoft.us",
        "api.security.microsoft.com",
    ] {
        assert!(map.contains(&format!("{host}=127.0.0.1:{}", emu.https_port())), "{host} in {map}");
    }
    assert!(map.ends_with(&format!("169.254.169.254=127.0.0.1:{}", emu.http_port())));
    // A restart on the same data dir keeps the certificate app's thumbprint.
    let thumb = emu.cert_files()[0].thumbprint.clone();
    drop(emu);
    let emu = Emulator::start(EmulatorConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(emu.cert_files()[0].thumbprint, thumb);
}

#[tokio::test]
async fn plain_http_imds_and_dropped_connections() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let imds = "GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/ HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n";
    let send = |req: &'static str| {
        let port = emu.http_port();
        async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out).await;
            String::from_utf8_lossy(&out).into_owned()
        }
    };
    let resp = send(imds).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(body_of(&resp)["expires_in"], "86399");
    emu.faults().add(FaultRule::new("/metadata", Fault::Drop).times(1));
    assert_eq!(send(imds).await, "", "the connection closes without an answer");
    assert!(send(imds).await.starts_with("HTTP/1.1 200"));
    assert_eq!(emu.request_log().token_requests(), 2, "the dropped request never completed");
}

#[tokio::test]
async fn only_loopback_addresses_bind() {
    let bind = Bind { ip: "0.0.0.0".parse().unwrap(), ..Bind::default() };
    let err = Emulator::start_on(EmulatorConfig::default(), bind).await.unwrap_err().to_string();
    assert!(err.contains("loopback"), "{err}");
}

#[tokio::test]
async fn a_given_tls_certificate_replaces_the_generated_one() {
    let dir = tempfile::tempdir().unwrap();
    let tls = soar_emulator::keys::TlsMaterial::generate(&["login.microsoftonline.com".to_string()]).unwrap();
    let (chain, key, ca) =
        (dir.path().join("chain.pem"), dir.path().join("key.pem"), dir.path().join("my-ca.pem"));
    std::fs::write(&chain, &tls.chain_pem).unwrap();
    std::fs::write(&key, &tls.key_pem).unwrap();
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let cfg = EmulatorConfig {
        tls_cert: Some(chain.clone()),
        tls_key: Some(key.clone()),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(cfg).await.unwrap();
    assert_eq!(emu.ca_pem_path(), chain.as_path());
    let req =
        "GET /__emulator/health HTTP/1.1\r\nHost: login.microsoftonline.com\r\nConnection: close\r\n\r\n";
    let resp = https_request(emu.https_port(), &ca, "login.microsoftonline.com", req).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // Only one of the pair, or a key that is not PEM, is a clear error.
    let err = Emulator::start(EmulatorConfig { tls_cert: Some(chain.clone()), ..EmulatorConfig::default() })
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("--tls-cert and --tls-key go together"), "{err}");
    std::fs::write(&key, "nope").unwrap();
    let err = Emulator::start(EmulatorConfig {
        tls_cert: Some(chain),
        tls_key: Some(key),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("TLS key PEM"), "{err}");
}

/// HTTPS advertises h2 through ALPN and really serves it (reqwest-based clients negotiate it).
#[tokio::test]
async fn http2_over_tls() {
    use http_body_util::{BodyExt, Empty};
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let mut config = tls::config_trusting(emu.ca_pem_path());
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", emu.https_port())).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("graph.microsoft.com").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("https://graph.microsoft.com/__emulator/health")
        .body(Empty::<axum::body::Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "ok");
}

/// The files under `dir` that hold a private key, with their permission bits.
#[cfg(unix)]
fn private_key_files(dir: &std::path::Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("PRIVATE KEY")) {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), mode));
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
#[tokio::test]
async fn private_keys_are_written_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cfg = EmulatorConfig { data_dir: Some(dir.path().to_path_buf()), ..EmulatorConfig::default() };
    let emu = Emulator::start(cfg.clone()).await.unwrap();
    drop(emu);
    let keys = private_key_files(dir.path());
    let names: Vec<&str> = keys.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"server.key.pem"), "{names:?}");
    assert!(keys.len() >= 3, "the server key, a certificate app's key and its combined PEM: {names:?}");
    assert!(keys.iter().all(|(_, m)| *m == 0o600), "private keys must be 0600: {keys:?}");
    // Keys left world-readable by an older version are narrowed on the next start, including
    // the reused signing keys.
    for (name, _) in &keys {
        std::fs::set_permissions(dir.path().join(name), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let _emu = Emulator::start(cfg).await.unwrap();
    let again = private_key_files(dir.path());
    assert!(again.iter().all(|(_, m)| *m == 0o600), "after a restart: {again:?}");
    // A data dir the emulator creates itself is 0700.
    let own = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let mode = std::fs::metadata(own.data_dir()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(private_key_files(own.data_dir()).iter().all(|(_, m)| *m == 0o600));
}
