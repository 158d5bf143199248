//! The engine with real integration binaries against the emulator: 50 concurrent `soar run`
//! processes fetch one token, and `soar demo` passes every row.
//!
//! The binaries (those of `test-data/*/conformance.json`) are found next to `soar`, as `cargo test
//! --workspace` (what `cargo xtask test` runs) builds them; the tests build missing ones
//! themselves, and fail (never skip) when that fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use common::{run, soar};
use soar_emulator::config as emu;
use soar_emulator::{Emulator, EmulatorConfig};
use soar_protocol::AuthFlow;

/// The folder of the integration binaries next to `soar`, built first when one is missing.
fn binaries(test: &str) -> PathBuf {
    let names = soar_engine::suites::integrations();
    common::built(test, &names.iter().map(String::as_str).collect::<Vec<_>>())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Adds the instance `graph`: msgraph-user with the emulator's client-secret app, the secret
/// given through the environment as a person would.
fn add_graph_instance(data: &std::path::Path) {
    let mut add = soar(
        data,
        &[
            "instance",
            "add",
            "graph",
            "--integration",
            "msgraph-user",
            "--param",
            "self_deployed=true",
            "--param",
            &format!("creds_auth_id.password={}", emu::SECRET_APP_ID),
            "--param",
            &format!("creds_tenant_id.password={}", emu::DEFAULT_TENANT_ID),
            "--param-env",
            "creds_enc_key.password=GRAPH_SECRET",
        ],
    );
    let out = add.env("GRAPH_SECRET", emu::SECRET_APP_SECRET).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn fifty_concurrent_runs_make_one_token_request() {
    binaries("fifty_concurrent_runs_make_one_token_request");
    let rt = runtime();
    let emulator = rt.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    let env = soar_engine::demo::emulator_env(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_graph_instance(data);

    let line = format!("!msgraph-user-get user={} properties=displayName,mail", emu::TEST_USER_UPN);
    let children: Vec<_> = (0..50)
        .map(|_| {
            let mut cmd = soar(data, &["run", "-i", "graph", &line]);
            cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stdout.contains("Alice Emulator"), "{stdout}");
    }
    assert_eq!(emulator.request_log().token_requests(), 1, "50 engines, one token request");
    assert_eq!(emulator.request_log().count_path("/v1.0/users/"), 50);
    rt.block_on(emulator.shutdown());
}

#[test]
fn the_demo_passes_every_row() {
    binaries("the_demo_passes_every_row");
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(dir.path(), &["demo", "--no-build"]);
    assert_eq!(code, 0, "{out}{err}");
    let summary = out.split("Summary").nth(1).unwrap_or_default();
    // One passed row per (suite, flow) of test-data/*/conformance.json.
    let mut rows = 0;
    for (_, suite) in soar_engine::suites::embedded().unwrap() {
        for key in suite.flows.keys() {
            let flow: AuthFlow = serde_json::from_value(serde_json::json!(key)).unwrap();
            let found = summary.lines().any(|l| {
                let cells: Vec<&str> = l.split('│').map(str::trim).collect();
                cells.len() > 3
                    && cells[1] == flow.display_name()
                    && cells[2] == suite.binary
                    && cells[3].starts_with("✓ pass")
            });
            assert!(found, "no passed row for {} / {key} in\n{summary}", suite.binary);
            rows += 1;
        }
    }
    assert!(rows >= 9, "the two integrations' suites alone have 9 flows; found {rows}");
    // And the fetch-and-mirroring row (Microsoft Sentinel: fetch, changes mirrored both ways).
    let sentinel = soar_engine::suites::embedded().unwrap().iter().any(|(_, s)| s.binary == "azure-sentinel");
    let mirrored =
        summary.lines().filter(|l| l.contains("azure-sentinel (fetch and mirroring)")).collect::<Vec<_>>();
    if sentinel {
        assert!(
            mirrored.len() == 1 && mirrored[0].contains("✓ pass (7 fetched, 2 mirrored in, 1 mirrored out)"),
            "{summary}"
        );
    }
    assert!(summary.contains(&format!("{} passed, 0 failed", rows + mirrored.len())), "{summary}");
    // No secret of the emulator's registrations reaches the transcript.
    for secret in [emu::SECRET_APP_SECRET, emu::PROXY_TOKEN, emu::PROXY_KEY_B64] {
        assert!(!out.contains(secret) && !err.contains(secret), "{secret} shown");
    }
}

#[test]
fn auth_reset_of_a_real_integration_clears_a_context_too_large_to_send() {
    binaries("auth_reset_of_a_real_integration_clears_a_context_too_large_to_send");
    use soar_engine::store::{Cas, ContextStore, FileStore};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_graph_instance(data);
    // A context over the binary's 16 MiB request limit, as the engine stored them before.
    let store = FileStore::open(data).unwrap();
    let mut huge = soar_protocol::Object::new();
    huge.insert("access_token".into(), "t".into());
    huge.insert("pad".into(), "x".repeat(17 * 1024 * 1024).into());
    assert_eq!(store.compare_and_set("graph", 0, &huge, None).unwrap(), Cas::Stored(1));

    let (code, out, err) = run(data, &["run", "-i", "graph", "!msgraph-user-auth-reset"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Authorization was reset successfully"), "{out}");
    let stored = store.load("graph").unwrap();
    assert_eq!((stored.version, stored.context.len()), (2, 0), "the oversized context is cleared");
}
