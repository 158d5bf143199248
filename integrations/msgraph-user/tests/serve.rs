//! Warm state in `--serve` mode, checked on the real binary against the emulator: 1,000
//! concurrent commands on a cold cache cost exactly one token request.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_msgraph-user");
const REQUESTS: u64 = 1000;

#[test]
fn a_thousand_concurrent_commands_in_one_serve_process_make_one_token_request() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = rt.block_on(soar_conformance::emulator::Emu::start()).unwrap();
    let ph = emu.placeholders().unwrap();
    let params = json!({
        "self_deployed": true,
        "creds_auth_id": {"identifier": "", "password": ph["SECRET_APP_ID"]},
        "creds_tenant_id": {"identifier": "", "password": ph["TENANT_ID"]},
        "creds_enc_key": {"identifier": "", "password": ph["SECRET_APP_SECRET"]},
    });
    let mut child = Command::new(BIN)
        .arg("--serve")
        .envs(emu.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let before = emu.token_requests();

    // Write from another thread: the responses must be read while requests are still going in.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for id in 0..REQUESTS {
            // Each request carries its own empty (cold) integration context, as an engine would
            // send for a new instance.
            let request = json!({
                "id": id,
                "command": "msgraph-user-get",
                "args": {"user": "alice@soaremulator.onmicrosoft.com", "properties": "displayName"},
                "params": params,
                "integration_context": {},
            });
            writeln!(stdin, "{request}").unwrap();
        }
        // Dropping stdin ends the session once every request is answered.
    });

    let mut ids = BTreeSet::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let response: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let entry = &response["entries"][0];
        assert_eq!(entry["Type"], 1, "an error answer: {}", entry["Contents"]);
        assert_eq!(entry["Contents"]["displayName"], "Alice Emulator");
        assert!(ids.insert(response["id"].as_u64().unwrap()), "a duplicate id");
    }
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(ids, (0..REQUESTS).collect::<BTreeSet<_>>());
    assert_eq!(emu.token_requests() - before, 1, "one token request for 1,000 cold commands");
}
