//! The fetch service on the file store with `soar-test-integration`'s remote side: pages with
//! their last run, one engine per interval, `soar incidents`, and the mirroring cycle both ways.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::{add_test_integration, built, check_fetch_log, run, soar, write_state};
use serde_json::{Value, json};

fn incidents(data: &std::path::Path) -> Vec<Value> {
    let (code, out, err) = run(data, &["incidents", "--json"]);
    assert_eq!(code, 0, "{err}");
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_service_fetches_every_page_once_with_its_last_run() {
    built("the_service_fetches_every_page_once_with_its_last_run", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = write_state(dir.path(), &json!({"total": 12, "page": 5}));
    add_test_integration(&data, "t", &["--param", &format!("state_file={}", state.display())]);
    let (code, out, err) = run(&data, &["fetch", "--instance", "t", "--every", "0.2s", "--cycles", "4"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, want) in lines.iter().zip([
        "fetched 5 incidents (5 new, 0 already stored)",
        "fetched 5 incidents (5 new, 0 already stored)",
        "fetched 2 incidents (2 new, 0 already stored)",
        "fetched 0 incidents (0 new, 0 already stored)",
    ]) {
        assert!(line.contains(" t: ") && line.contains(want), "{line:?} should say {want:?}");
    }
    let stored = incidents(&data);
    let ids: Vec<&str> = stored.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let want: Vec<String> = (1..=12).map(|i| format!("INC-{i:05}")).collect();
    assert_eq!(ids, want);
    // Raw JSON and the mirroring fields are kept.
    assert_eq!(stored[0]["incident"]["dbotMirrorDirection"], "Both");
    assert_eq!(stored[0]["incident"]["dbotMirrorInstance"], "t");
    let raw: Value = serde_json::from_str(stored[0]["incident"]["rawJSON"].as_str().unwrap()).unwrap();
    assert_eq!(raw["title"], "Incident 1");
    let (_, show, _) = run(&data, &["instance", "show", "t"]);
    assert!(show.contains("Last run:     {\"offset\":12}"), "{show}");
    check_fetch_log(&state, None, 100);

    // The one-shot fetch asks for the page after the stored last run, and a page stored again
    // (the last run put back, as after a crash between the two writes) is not stored twice.
    std::fs::write(data.join("lastrun/t.json"), r#"{"offset": 10}"#).unwrap();
    let (code, out, err) = run(&data, &["fetch", "t"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Fetched incidents (2)") && out.contains("Last run: {\"offset\":12}"), "{out}");
    assert_eq!(incidents(&data).len(), 12);

    let (code, table, _) = run(&data, &["incidents"]);
    assert_eq!(code, 0);
    assert!(
        table.contains("Incidents (12)") && table.contains("│ t        │ INC-00012 │ Incident 12 │ 2"),
        "{table}"
    );
}

#[test]
fn two_engines_on_one_file_store_fetch_once_per_interval() {
    built("two_engines_on_one_file_store_fetch_once_per_interval", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = write_state(dir.path(), &json!({"total": 40, "page": 4}));
    add_test_integration(&data, "t", &["--param", &format!("state_file={}", state.display())]);
    let engines: Vec<_> = (0..2)
        .map(|_| {
            soar(&data, &["fetch", "--instance", "t", "--every", "0.3s", "--duration", "2.5s"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for e in engines {
        let out = e.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    check_fetch_log(&state, None, 200);
    let stored = incidents(&data);
    let mut ids: Vec<&str> = stored.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "no incident stored twice");
    assert!(n >= 12, "at least three cycles ran in 2.5 s: {n}");
}

#[test]
fn bad_fetch_lines_say_what_to_type() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("fetch.json");
    std::fs::write(&cfg, r#"{"instances": [{"instance": "a", "every": "1 week"}]}"#).unwrap();
    // (arguments, exit status, the error)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["fetch"], 2, "soar fetch needs an instance"),
        (&["fetch", "--every", "1m"], 2, "soar fetch --every needs --instance NAME"),
        (&["fetch", "--instance", "a", "--every", "soon"], 2, "use a number with ms, s, m or h"),
        (
            &["fetch", "--config", cfg.to_str().unwrap()],
            2,
            "instance a: \"1 week\": use a number with ms, s, m or h",
        ),
        (&["incident", "close", "INC-1"], 2, "No stored incident INC-1"),
    ];
    for (args, code, want) in cases {
        let (got, out, err) = run(dir.path(), args);
        assert_eq!(got, *code, "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// Changes the test integration's remote side as a person in the remote system would.
fn remote_change(state: &std::path::Path, change: &dyn Fn(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(state, v.to_string()).unwrap();
}

fn now_iso() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    soar_engine::fetcher::iso(ms as i64)
}

/// One cycle of the service on `t`; returns its line.
fn cycle(data: &std::path::Path) -> String {
    let (code, out, err) = run(data, &["fetch", "--instance", "t", "--every", "0s", "--cycles", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    out
}

fn stored(data: &std::path::Path, id: &str) -> Value {
    let (code, out, err) = run(data, &["incident", "show", id]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn mirroring_brings_remote_changes_in_and_sends_local_ones_out() {
    built("mirroring_brings_remote_changes_in_and_sends_local_ones_out", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = write_state(dir.path(), &json!({"total": 3, "page": 5}));
    add_test_integration(&data, "t", &["--param", &format!("state_file={}", state.display())]);
    let first = cycle(&data);
    assert!(first.contains("fetched 3 incidents (3 new") && first.contains("0 changed remotely"), "{first}");

    // A remote close and a remote rename; a local close and a local update.
    let at = now_iso();
    remote_change(&state, &|v| {
        v["remote"] = json!({
            "INC-00002": {"status": "Closed", "classification": "FalsePositive", "closeNotes": "benign", "modified": at},
            "INC-00003": {"title": "Renamed", "modified": at},
        });
    });
    let (code, out, err) =
        run(&data, &["incident", "close", "INC-00001", "--reason", "Resolved", "--notes", "fixed here"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Incident INC-00001 of t closed; the next fetch cycle sends the change"), "{out}");
    let (code, _, err) = run(&data, &["incident", "update", "INC-00003", "severity=4", "owner=alice"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&data, &["incident", "note", "INC-00003", "seen by **alice**"]);
    assert_eq!(code, 0, "{err}");
    let (_, table, _) = run(&data, &["incidents"]);
    assert!(table.contains("closeReason, closeNotes") && table.contains("severity, owner"), "{table}");

    let second = cycle(&data);
    assert!(second.contains("2 changed remotely, 2 mirrored in, 2 mirrored out"), "{second}");
    let two = stored(&data, "INC-00002");
    assert_eq!((two["status"].as_i64(), &two["fields"]["closeReason"]), (Some(2), &json!("FalsePositive")));
    assert_eq!(two["entries"][0]["Contents"]["dbotIncidentClose"], true);
    assert_eq!(stored(&data, "INC-00003")["fields"]["title"], "Renamed");

    let remote: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let updates = remote["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2, "{updates:?}");
    let (closed, updated) = (&updates[0], &updates[1]);
    assert_eq!(closed["remoteId"], "INC-00001");
    assert_eq!(closed["status"], 2);
    assert_eq!(closed["incidentChanged"], true);
    assert_eq!(closed["delta"], json!({"closeReason": "Resolved", "closeNotes": "fixed here"}));
    // data: the raw JSON's fields (first letter lower-cased), the fetched fields, the local values.
    assert_eq!(closed["data"]["status"], "Active");
    assert_eq!(closed["data"]["title"], "Incident 1");
    assert_eq!(closed["data"]["closeNotes"], "fixed here");
    assert_eq!(closed["data"]["name"], "Incident 1");
    assert!(closed["data"].get("rawJSON").is_none());
    assert_eq!(updated["remoteId"], "INC-00003");
    assert_eq!(
        (updated["status"].as_i64(), &updated["delta"]),
        (Some(1), &json!({"severity": 4, "owner": "alice"}))
    );
    assert_eq!(updated["entries"][0]["contents"], "seen by **alice**");
    assert_eq!(updated["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(closed["entries"], json!([]));
    assert_eq!(stored(&data, "INC-00003")["pending_entries"], json!([]));
    assert_eq!(remote["remote"]["INC-00001"]["status"], "Closed");
    let one = stored(&data, "INC-00001");
    assert_eq!((one["changed"].as_bool(), one["delta"].as_object().map(|d| d.len())), (Some(false), Some(0)));

    // Nothing changed since: nothing to mirror, and lastUpdate moved on.
    let third = cycle(&data);
    assert!(third.contains("0 changed remotely, 0 mirrored in, 0 mirrored out"), "{third}");
    let asked: Vec<Value> = common::state_log(&state, "mirrorlog")
        .into_iter()
        .filter(|l| l["command"] == "get-modified-remote-data")
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(asked[2]["lastUpdate"].as_str().unwrap() > at.as_str(), "{asked:?}");

    // A refused update stays pending and is sent by a later cycle; a remote reopen comes in.
    remote_change(&state, &|v| v["fail_updates"] = json!(true));
    run(&data, &["incident", "update", "INC-00002", "severity=1"]);
    let refused = cycle(&data);
    assert!(
        refused.contains("0 mirrored out; update-remote-system INC-00002 failed: The remote system refused the update of INC-00002."),
        "{refused}"
    );
    assert_eq!(stored(&data, "INC-00002")["changed"], true);
    let at = now_iso();
    remote_change(&state, &|v| {
        v["fail_updates"] = json!(false);
        v["remote"]["INC-00002"] = json!({"status": "Active", "reopened": true, "modified": at});
    });
    let last = cycle(&data);
    assert!(last.contains("1 changed remotely, 1 mirrored in, 1 mirrored out"), "{last}");
    let two = stored(&data, "INC-00002");
    assert_eq!((two["status"].as_i64(), two["changed"].as_bool()), (Some(1), Some(false)));
    assert_eq!(two["entries"][1]["Contents"]["dbotIncidentReopen"], true);
}

#[test]
fn a_config_file_schedules_several_instances() {
    built("a_config_file_schedules_several_instances", &["soar-test-integration"]);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (name, total) in [("a", 3), ("b", 4)] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let state = write_state(&sub, &json!({"total": total, "page": 10, "direction": "In"}));
        add_test_integration(&data, name, &["--param", &format!("state_file={}", state.display())]);
    }
    let cfg = dir.path().join("fetch.json");
    std::fs::write(
        &cfg,
        r#"{"instances": [{"instance": "a", "every": "1h"}, {"instance": "b", "every": "1h"}]}"#,
    )
    .unwrap();
    let (code, out, err) = run(&data, &["fetch", "--config", cfg.to_str().unwrap(), "--duration", "1s"]);
    assert_eq!(code, 0, "{out}{err}");
    // Within the hour each instance has one cycle, whatever the ticks.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains(" a: fetched 3 incidents") && lines[1].contains(" b: fetched 4 incidents"),
        "{out}"
    );
    let (_, table, _) = run(&data, &["incidents", "--instance", "b"]);
    assert!(table.contains("Incidents (4)"), "{table}");
    // Mirrored in only: a local change is not sent, and says so.
    let (code, said, _) = run(&data, &["incident", "update", "INC-00001", "severity=3", "--instance", "a"]);
    assert_eq!(code, 0);
    assert!(said.contains("it is not mirrored out (dbotMirrorDirection is not Out or Both)"), "{said}");
}
