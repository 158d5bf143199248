//! `fetch-incidents` over runs, with the real binary against the emulator: the state carried
//! from run to run as an engine carries it, every incident created exactly once. The emulator
//! gets its own workspace (`fetch-ws`, an extra seed) so each test controls the incidents.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use soar_emulator::config::{DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, SECRET_APP_ID, SECRET_APP_SECRET};
use soar_emulator::{Emulator, EmulatorConfig};

const WS: &str = "subscriptions/{subscription}/resourceGroups/soar-rg/providers/Microsoft.OperationalInsights/workspaces/fetch-ws/providers/Microsoft.SecurityInsights";

/// An incident as the API stores it.
fn incident(name: &str, number: i64, created: &str) -> Value {
    json!({"name": name, "etag": format!("\"e-{name}\""), "properties": {
        "title": format!("Incident {name}"), "severity": "High", "status": "New",
        "createdTimeUtc": created, "lastModifiedTimeUtc": created, "incidentNumber": number, "labels": []}})
}

fn seed(items: &[Value]) -> String {
    json!({"api": "arm", "collections": [{
        "path": format!("{WS}/incidents"), "key": "name", "read": [], "write": [], "paging": "arm-next-link",
        "api_version": "2024-03-01", "query": true, "etag": "etag", "items": items}]})
    .to_string()
}

async fn emulator(items: &[Value]) -> Emulator {
    let mut cfg = EmulatorConfig::default();
    cfg.extra_seeds.push(("fetch-test".into(), seed(items)));
    match Emulator::start(cfg).await {
        Ok(e) => e,
        Err(e) => panic!("emulator: {e}"),
    }
}

fn run(emu: &Emulator, last_run: &Value, limit: u32) -> Value {
    let request = json!({
    "command": "fetch-incidents", "args": {}, "last_run": last_run, "instance": "sentinel-test",
    "params": {
        "credentials": {"identifier": SECRET_APP_ID, "password": SECRET_APP_SECRET},
        "creds_tenant_id": {"identifier": "", "password": DEFAULT_TENANT_ID},
        "subscriptionID": DEFAULT_SUBSCRIPTION_ID, "resourceGroupName": "soar-rg", "workspaceName": "fetch-ws",
        "fetch_time": "2024-01-01T00:00:00Z", "limit": limit.to_string(), "mirror_direction": "Incoming",
    }});
    let bin = Path::new(env!("CARGO_BIN_EXE_azure-sentinel"));
    let mut child = Command::new(bin)
        .env("SOAR_HOST_MAP", emu.host_map())
        .env("SOAR_EXTRA_CA", emu.ca_pem_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(request.to_string().as_bytes()).unwrap_or_else(|e| panic!("stdin: {e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("wait: {e}"));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Runs fetch until a run brings nothing new; the names created, in order, and the runs made.
fn fetch_all(emu: &Emulator, limit: u32) -> (Vec<String>, usize) {
    let mut last_run = Value::Null;
    let mut names = Vec::new();
    for runs in 1..=50 {
        let resp = run(emu, &last_run, limit);
        let incidents =
            resp["incidents"].as_array().cloned().unwrap_or_else(|| panic!("no incidents in {resp}"));
        for i in &incidents {
            let raw: Value =
                serde_json::from_str(i["rawJSON"].as_str().unwrap_or_default()).unwrap_or_default();
            assert_eq!(raw["mirror_direction"], "In");
            assert_eq!(raw["mirror_instance"], "sentinel-test");
            names.push(raw["ID"].as_str().unwrap_or_default().to_owned());
        }
        last_run = resp["last_run"].clone();
        assert!(last_run.is_object(), "{resp}");
        if incidents.is_empty() {
            return (names, runs);
        }
    }
    panic!("fetch did not settle in 50 runs: {names:?}")
}

/// Two incidents created in the same second straddle the first page's boundary, the higher
/// number first: the reference's switch to `incidentNumber gt 4` would lose #3.
#[tokio::test(flavor = "multi_thread")]
async fn a_creation_time_shared_across_the_page_boundary_loses_nothing() {
    let emu = emulator(&[
        incident("i1", 1, "2024-03-01T00:00:01Z"),
        incident("i2", 2, "2024-03-01T00:00:02Z"),
        incident("i4", 4, "2024-03-01T00:00:03Z"),
        incident("i3", 3, "2024-03-01T00:00:03Z"),
        incident("i5", 5, "2024-03-01T00:00:04Z"),
    ])
    .await;
    let (mut names, _) = fetch_all(&emu, 3);
    names.sort();
    assert_eq!(names, ["i1", "i2", "i3", "i4", "i5"]);
}

/// More incidents in one second than a page holds: every one once, no run stuck on a page of
/// already-fetched incidents.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_holding_more_than_a_page_is_fetched_once() {
    let items: Vec<Value> = (1..=7).map(|n| incident(&format!("s{n}"), n, "2024-03-02T10:00:00Z")).collect();
    let emu = emulator(&items).await;
    let (mut names, runs) = fetch_all(&emu, 2);
    names.sort();
    assert_eq!(names, ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]);
    assert!(runs <= 6, "{runs} runs");
}

/// Incidents added between runs (the number mode) are fetched once, after the seeded ones.
#[tokio::test(flavor = "multi_thread")]
async fn incidents_added_later_come_in_the_number_mode() {
    let emu =
        emulator(&[incident("a1", 1, "2024-03-01T00:00:00Z"), incident("a2", 2, "2024-03-01T00:01:00Z")])
            .await;
    let first = run(&emu, &Value::Null, 20);
    assert_eq!(first["incidents"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["last_run"]["last_incident_number"], 2, "a page that was not full switches to numbers");
    // A later incident with an older creation time still has a higher number.
    let client = reqwest_free_post(
        &emu,
        json!({"name": "late", "createdTimeUtc": "2023-12-31T00:00:00Z", "title": "late"}),
    );
    assert!(client.contains("late"), "{client}");
    let second = run(&emu, &first["last_run"], 20);
    let names: Vec<String> = second["incidents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["[Azure Sentinel] late"]);
    let third = run(&emu, &second["last_run"], 20);
    assert_eq!(third["incidents"], json!([]));
}

/// The control endpoint, through curl-less plain HTTP on the emulator's HTTP port.
fn reqwest_free_post(emu: &Emulator, body: Value) -> String {
    use std::io::Read;
    use std::net::TcpStream;
    let base = emu.http_base();
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let text = body.to_string();
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    let req = format!(
        "POST /__emulator/sentinel/incidents?workspace=fetch-ws HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    s.write_all(req.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap_or_else(|e| panic!("{e}"));
    out
}
