//! Per-command HTTP `timeout` arguments, with the real binary against the emulator: the
//! emulator holds the API call for 3 s (a delay fault); a 1 s `timeout` argument gives up
//! (a transport timeout, well before the 3 s), a longer one waits and succeeds. Were the
//! argument ignored, the instance's 60 s timeout would apply and the short runs would succeed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use soar_emulator::config::{DEFAULT_TENANT_ID, SECRET_APP_ID, SECRET_APP_SECRET};
use soar_emulator::{Emulator, EmulatorConfig, Fault, FaultRule};

const MACHINE: &str = "f3bba49af4d3bacedc62ca0fe580a4d5925af8aa";

/// Runs one command; the first entry and how long the run took.
fn run(emu: &Emulator, command: &str, args: Value) -> (Value, Duration) {
    let request = json!({
        "command": command, "args": args,
        "params": {
            "auth_type": "Client Credentials", "_auth_id": SECRET_APP_ID, "_tenant_id": DEFAULT_TENANT_ID,
            "credentials": {"identifier": "", "password": SECRET_APP_SECRET},
        },
    });
    let started = Instant::now();
    let mut child = Command::new(Path::new(env!("CARGO_BIN_EXE_microsoft-atp")))
        .env("SOAR_HOST_MAP", emu.host_map())
        .env("SOAR_EXTRA_CA", emu.ca_pem_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let resp: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (resp["entries"][0].clone(), took)
}

fn is_timeout(entry: &Value) -> bool {
    entry["Type"] == 4 && entry["Contents"].as_str().unwrap_or_default().to_lowercase().contains("timed out")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_argument_is_the_api_call_s_timeout() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emu.faults().add(FaultRule::new("/api/machines/", Fault::Delay { ms: 3000 }));
    emu.faults().add(FaultRule::new("/api/advancedqueries/run", Fault::Delay { ms: 3000 }));

    let investigate =
        |timeout: &str| json!({"machine_id": MACHINE, "comment": "timeout test", "timeout": timeout});
    let (entry, took) = run(&emu, "microsoft-atp-start-investigation", investigate("1"));
    assert!(is_timeout(&entry), "{entry}");
    assert!(took < Duration::from_millis(2800), "gave up after {took:?}");
    let (entry, took) = run(&emu, "microsoft-atp-start-investigation", investigate("20"));
    assert_eq!(entry["Type"], 1, "{entry}");
    assert!(took >= Duration::from_secs(3), "{took:?}");

    let hunt = |timeout: &str| json!({"query": "DeviceInfo | limit 1", "timeout": timeout});
    let (entry, _) = run(&emu, "microsoft-atp-advanced-hunting", hunt("1.5"));
    assert!(is_timeout(&entry), "{entry}");
    let (entry, _) = run(&emu, "microsoft-atp-advanced-hunting", hunt("20"));
    assert_eq!(entry["Type"], 1, "{entry}");
    // A query of a batch gives its own timeout, over the argument's.
    let batch = json!([{"query": "DeviceInfo | limit 1", "name": "q", "timeout": 1}]).to_string();
    let (entry, _) =
        run(&emu, "microsoft-atp-advanced-hunting", json!({"query_batch": batch, "timeout": "20"}));
    assert!(is_timeout(&entry), "{entry}");
    // A template command.
    let (entry, _) = run(
        &emu,
        "microsoft-atp-advanced-hunting-privilege-escalation",
        json!({"device_name": "desktop-s2455r8", "timeout": "1"}),
    );
    assert!(is_timeout(&entry), "{entry}");

    // A bad value is an error naming the argument, before any call.
    let (entry, _) = run(&emu, "microsoft-atp-start-investigation", investigate("0"));
    let text = entry["Contents"].as_str().unwrap_or_default();
    assert!(text.starts_with("Invalid value for argument timeout:"), "{entry}");
    emu.shutdown().await;
}
