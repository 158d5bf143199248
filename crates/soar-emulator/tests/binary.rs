//! The `soar-emulator` binary: banner, device approval through the CLI, Ctrl-C (SIGINT) stops it
//! cleanly, bad flags are refused with a message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_soar-emulator");

/// A plain HTTP/1.1 request over loopback; returns the whole response.
fn http(base: &str, request: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn runs_approves_through_the_cli_and_stops_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "--device-interval",
            "1",
            "--fault",
            "path=/nowhere,kind=status,status=503",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("SOAR_OPROXY_URL");
        banner.push(line);
        if done {
            break;
        }
    }
    let field = |label: &str| {
        banner
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    let http_base = field("HTTP ");
    assert!(field("HTTPS").starts_with("https://127.0.0.1:"));
    assert!(banner.iter().any(|l| l.contains("emulator-secret-value-1")), "test apps are listed");
    assert!(
        banner.iter().any(|l| l.contains(&format!("{}/ca.pem", dir.path().display()))),
        "CA path is printed"
    );
    // What users of Microsoft's SDKs need: the approve endpoint, the certificate app's SHA-256
    // thumbprint (64 hex digits), msal-node's knownAuthorities, @azure/identity's settings.
    let https_base = field("HTTPS");
    let has = |want: &str| banner.iter().any(|l| l.contains(want));
    assert!(has(&format!("POST {http_base}/__emulator/device/approve user_code=CODE")), "{banner:#?}");
    let sha =
        banner.iter().find_map(|l| l.split(" sha256 ").nth(1)).map(str::trim).unwrap_or_default().to_owned();
    assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()), "{banner:#?}");
    let host = https_base.trim_start_matches("https://");
    assert!(has(&format!("knownAuthorities: [\"{host}\"]")), "{banner:#?}");
    assert!(has(&format!("authorityHost: \"{https_base}\", disableInstanceDiscovery: true")), "{banner:#?}");
    // Start a device flow over plain HTTP, approve it with the CLI.
    let body = "client_id=22222222-2222-4222-8222-000000000003&scope=User.Read";
    let resp = http(
        &http_base,
        &format!(
            "POST /organizations/oauth2/v2.0/devicecode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let json: serde_json::Value = serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let code = json["user_code"].as_str().unwrap();
    let ok = Command::new(BIN).args(["approve", code, "--url", &http_base]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let again = Command::new(BIN).args(["deny", code, "--url", &http_base]).output().unwrap();
    assert!(
        !again.status.success() && String::from_utf8_lossy(&again.stderr).contains("no pending device code")
    );
    // The --fault rule is live.
    assert!(
        http(&http_base, "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .starts_with("HTTP/1.1 503")
    );
    // Faults and revocation through the CLI on the running emulator.
    let cli = |args: &[&str]| Command::new(BIN).args(args).args(["--url", &http_base]).output().unwrap();
    assert!(cli(&["clear-faults"]).status.success());
    assert!(
        http(&http_base, "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .starts_with("HTTP/1.1 404")
    );
    assert!(cli(&["fault", "path=/elsewhere,kind=status,status=429,retry_after=3,count=1"]).status.success());
    let r = http(&http_base, "GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 429") && r.to_ascii_lowercase().contains("retry-after: 3"), "{r}");
    let out = cli(&["revoke"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("revoked"));
    let out = cli(&["fault", "kind=bogus"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown fault kind"));
    let out = Command::new(BIN).args(["revoke", "--url", "http://10.1.2.3:1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback only"), "no traffic leaves loopback");
    // SIGINT stops it cleanly.
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    for (args, want) in [
        (vec!["--bind", "10.1.2.3"], "not a loopback address"),
        (vec!["--fault", "kind=nope"], "unknown fault kind"),
        (vec!["--config", "/nonexistent/config.json"], "cannot read config file"),
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(BIN).arg("--print-config").output().unwrap();
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(config["tenants"][0]["id"], "11111111-1111-4111-8111-111111111111");
}

/// SIGTERM stops it as Ctrl-C does, and a temporary data dir it made is removed.
#[test]
fn sigterm_stops_it_and_removes_its_temporary_data_dir() {
    let mut child = Command::new(BIN).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut data_dir = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(d) = line.trim_start().strip_prefix("data dir") {
            data_dir = Some(std::path::PathBuf::from(d.trim()));
        }
        if line.contains("SOAR_OPROXY_URL") {
            break;
        }
    }
    let data_dir = data_dir.expect("the banner names the data dir");
    assert!(data_dir.is_dir(), "{}", data_dir.display());
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success(), "SIGTERM is a clean stop");
    assert!(!data_dir.exists(), "the temporary data dir {} is removed", data_dir.display());
}
