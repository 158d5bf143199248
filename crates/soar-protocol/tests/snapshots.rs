//! Protocol snapshots: the exact wire bytes of representative messages.
//!
//! Each `snapshots/<name>.json` holds one message exactly as it goes over the wire: compact
//! JSON and one newline. A test fails when serializing the Rust value gives other bytes, or
//! when parsing the snapshot and writing it again does not give the same bytes back.
//! To accept a change on purpose: bump `PROTOCOL_VERSION`, then run
//! `SOAR_UPDATE_SNAPSHOTS=1 cargo test -p soar-protocol --test snapshots`.

// Test helpers outside #[test] fns count as non-test code for clippy; this file is all tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use soar_protocol::*;

fn obj(v: Value) -> Object {
    match v {
        Value::Object(m) => m,
        other => panic!("fixture is not an object: {other}"),
    }
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

fn updating() -> bool {
    std::env::var_os("SOAR_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1")
}

fn recorded_version() -> Option<String> {
    std::fs::read_to_string(snapshot_dir().join("PROTOCOL_VERSION")).ok().map(|s| s.trim().to_owned())
}

/// The one check of this boundary: `value` serializes to the bytes in `snapshots/<name>.json`,
/// and those bytes survive a parse and a re-serialization unchanged.
fn check<T: Serialize + DeserializeOwned>(name: &str, value: &T) {
    let path = snapshot_dir().join(format!("{name}.json"));
    let mut wire = serde_json::to_string(value).unwrap();
    wire.push('\n');
    let recorded = std::fs::read_to_string(&path).ok();
    if recorded.as_deref() != Some(wire.as_str()) {
        if !updating() {
            panic!(
                "protocol snapshot {name} drifted.\n  recorded: {}\n  now:      {wire}\
                 If the change is intended, bump PROTOCOL_VERSION and rerun with SOAR_UPDATE_SNAPSHOTS=1.",
                recorded.as_deref().unwrap_or("<missing>\n"),
            );
        }
        if recorded.is_some() && recorded_version().as_deref() == Some(PROTOCOL_VERSION) {
            panic!(
                "protocol snapshot {name} drifted but PROTOCOL_VERSION is still {PROTOCOL_VERSION}: bump it first"
            );
        }
        std::fs::write(&path, &wire).unwrap();
    }
    // A parse/write round trip must not change a byte either.
    let parsed: T = serde_json::from_str(&wire).unwrap();
    let mut again = serde_json::to_string(&parsed).unwrap();
    again.push('\n');
    assert_eq!(again, wire, "{name}: parse + serialize changed the bytes");
}

#[test]
fn snapshots_were_taken_at_the_current_protocol_version() {
    if updating() {
        std::fs::write(snapshot_dir().join("PROTOCOL_VERSION"), format!("{PROTOCOL_VERSION}\n")).unwrap();
        return;
    }
    assert_eq!(
        recorded_version().as_deref(),
        Some(PROTOCOL_VERSION),
        "snapshots/PROTOCOL_VERSION differs from PROTOCOL_VERSION: rerun with SOAR_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn request_minimal() {
    check("request-minimal", &Request { command: "test-module".into(), ..Request::default() });
}

#[test]
fn request_full() {
    let params = Params::from_pairs([
        ("tenant_id", ParamValue::Str("00000000-0000-0000-0000-000000000001".into())),
        ("insecure", ParamValue::Bool(true)),
        ("max_fetch", ParamValue::Number(50.into())),
        (
            "credentials",
            ParamValue::Credentials(Credentials {
                identifier: "app-id".into(),
                password: Secret::new("s3cret"),
            }),
        ),
        ("scopes", ParamValue::Other(json!(["a", "b"]))),
    ]);
    let request = Request {
        id: Some(json!(7)),
        command: "msgraph-user-list".into(),
        args: obj(json!({"limit": "5", "properties": "id,displayName", "all_results": true})),
        params,
        integration_context: obj(json!({"access_token": "tok", "valid_until": 1_700_000_000})),
        context_version: Some(12),
        last_run: Some(obj(json!({"time": "2024-01-01T00:00:00Z"}))),
        instance: Some("graph_instance_1".into()),
    };
    check("request-full", &request);
}

#[test]
fn response_note_with_context() {
    let mut entry = Entry::markdown("### Users\n|ID|\n|---|\n|1|\n");
    entry.contents = json!([{"id": "1"}]);
    entry.contents_format = "json".into();
    entry.human_readable = json!("### Users\n|ID|\n|---|\n|1|\n");
    entry.entry_context = obj(json!({"MSGraphUser(val.ID && val.ID == obj.ID)": [{"ID": "1"}]}));
    entry.extra = obj(json!({"IgnoreAutoExtract": false}));
    check("response-note", &Response { id: Some(json!("a-1")), entries: vec![entry], ..Response::default() });
}

#[test]
fn response_error() {
    check(
        "response-error",
        &Response { entries: vec![Entry::error("Unknown command: x.")], ..Response::default() },
    );
}

#[test]
fn response_file_entry() {
    let file = Entry {
        entry_type: entry_type::FILE,
        contents_format: "text".into(),
        contents: json!(""),
        human_readable: Value::Null,
        entry_context: Object::new(),
        extra: obj(json!({"File": "report.txt", "FileID": "0b6c7d1e-6f6e-4c1e-9d3a-2f1b7c9e8a11"})),
    };
    check("response-file", &Response { entries: vec![file], ..Response::default() });
}

#[test]
fn response_fetch_with_context() {
    let response = Response {
        id: None,
        entries: vec![],
        integration_context: Some(obj(json!({"access_token": "new", "valid_until": 1_700_003_600}))),
        context_version: Some(12),
        last_run: Some(obj(json!({"time": "2024-01-02T00:00:00Z"}))),
        incidents: Some(vec![
            json!({"name": "Alert 1", "occurred": "2024-01-01T10:00:00Z", "rawJSON": "{}", "severity": 2}),
        ]),
        mirror: None,
    };
    check("response-fetch", &response);
}

#[test]
fn manifest() {
    let manifest = Manifest {
        protocol_version: PROTOCOL_VERSION.into(),
        commonfields: CommonFields { id: "Example".into(), version: -1 },
        name: "Example".into(),
        display: "Example".into(),
        category: "IT Services".into(),
        description: "Reads examples.".into(),
        detaileddescription: "### Client credentials\nFill **Tenant ID**.\n".into(),
        prefix: "example".into(),
        auth_flows: vec![AuthFlow::ClientSecret, AuthFlow::DeviceCode],
        configuration: vec![ManifestParam {
            name: "credentials".into(),
            display: "Application ID / secret".into(),
            param_type: 9,
            required: true,
            defaultvalue: None,
            options: vec![],
            hidden: false,
            additionalinfo: Some("The application's id and client secret.".into()),
        }],
        script: ManifestScript {
            script_type: "binary".into(),
            isfetch: false,
            ismappable: false,
            isremotesyncin: false,
            isremotesyncout: false,
            commands: vec![ManifestCommand {
                name: "example-get".into(),
                description: "Gets one.".into(),
                arguments: vec![ManifestArgument {
                    name: "mode".into(),
                    description: "How.".into(),
                    required: false,
                    default_value: Some("fast".into()),
                    auto: Some("PREDEFINED".into()),
                    predefined: vec!["fast".into(), "slow".into()],
                    is_array: false,
                    secret: false,
                }],
                outputs: vec![ManifestOutput {
                    context_path: "Example.ID".into(),
                    output_type: "String".into(),
                    description: "The id.".into(),
                }],
                examples: vec!["!example-get mode=slow".into()],
                polling: false,
            }],
        },
    };
    check("manifest", &manifest);
}

#[test]
fn a_version_1_manifest_still_parses() {
    // Binaries built before version 2 print no category, descriptions, help texts or
    // mirroring flags; an engine reading their manifest gets the defaults.
    let v1 = r#"{"protocol_version":"1","commonfields":{"id":"Example","version":-1},"name":"Example","display":"Example","prefix":"example","auth_flows":["client-secret"],"configuration":[{"name":"proxy","display":"Proxy","type":8,"required":false,"hidden":true}],"script":{"type":"binary","isfetch":false,"commands":[]}}"#;
    let m: Manifest = serde_json::from_str(v1).unwrap();
    assert_eq!((m.category.as_str(), m.description.as_str(), m.detaileddescription.as_str()), ("", "", ""));
    assert_eq!(m.configuration[0].additionalinfo, None);
    assert!(!m.script.ismappable && !m.script.isremotesyncin && !m.script.isremotesyncout);
}

#[test]
fn response_polling() {
    let schedule = Schedule {
        command: "microsoft-atp-isolate-machine".into(),
        next_run_seconds: 30,
        args: obj(json!({"machine_action_id": "a1b2", "polling": "true", "hide_polling_output": true})),
        timeout_seconds: Some(600),
        items_remaining: None,
    };
    let entry = Entry::markdown("Waiting for the machine action a1b2 (Pending).").with_schedule(&schedule);
    check("response-polling", &Response { entries: vec![entry], ..Response::default() });
}

#[test]
fn request_update_remote_system() {
    let request = Request {
        command: "update-remote-system".into(),
        args: obj(json!({
            "remoteId": "8a44b7bb-c8ae-4941-9fa0-3aecc8ef1e35",
            "data": {"title": "Suspicious sign-in", "severity": 3, "tags": ["vip"]},
            "delta": {"severity": 3, "tags": ["vip"]},
            "status": 2,
            "incidentChanged": true,
            "entries": []
        })),
        ..Request::default()
    };
    check("request-update-remote-system", &request);
}

#[test]
fn response_mirroring() {
    check(
        "response-mirror-modified",
        &Response {
            entries: vec![],
            mirror: Some(Mirror::ModifiedIds { ids: vec!["1".into(), "2".into()] }),
            ..Response::default()
        },
    );
    let close = json!({
        "Type": 1, "ContentsFormat": "json",
        "Contents": {"dbotIncidentClose": true, "closeReason": "Resolved", "closeNotes": "done\nClosed on Microsoft Sentinel"}
    });
    check(
        "response-mirror-remote-data",
        &Response {
            entries: vec![],
            mirror: Some(Mirror::RemoteData {
                object: obj(json!({"ID": "1", "Status": "Closed", "Classification": "TruePositive"})),
                entries: vec![close],
            }),
            ..Response::default()
        },
    );
    check(
        "response-mirror-updated",
        &Response {
            entries: vec![],
            mirror: Some(Mirror::Updated { id: "1".into() }),
            ..Response::default()
        },
    );
    check(
        "response-mirror-mapping",
        &Response {
            entries: vec![],
            mirror: Some(Mirror::Mapping {
                schemes: obj(json!({"Microsoft Sentinel Incident": {"title": "The incident's title."}})),
            }),
            ..Response::default()
        },
    );
}
