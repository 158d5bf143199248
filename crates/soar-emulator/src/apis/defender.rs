//! Microsoft Defender for Endpoint (`/api/...` on every endpoint host): the behaviour that plain
//! seeded collections cannot express. Everything else is data in
//! `test-data/microsoft-atp/emulator-seed.json` (machines, alerts and their related entities,
//! investigations, indicators, software, vulnerabilities, the hunting tables), served by
//! `seeded.rs`; this module reads those collections from the store.
//!
//! Routes here:
//! - `GET /api/machines` and `GET /api/alerts`: `$filter` and `$orderby` through `odata.rs`,
//!   `$top`/`$skip` paging; alerts drop `evidence` unless `$expand=evidence`;
//! - `GET /api/machines/{id}` (and `findbyip(ip='..',timestamp=..)`), `POST` machine actions
//!   (`isolate`, `unisolate`, `runAntiVirusScan`, `offboard`, `restrictCodeExecution`,
//!   `unrestrictCodeExecution`, `collectInvestigationPackage`, `stopAndQuarantineFile`,
//!   `runliveresponse`), `startInvestigation` and `tags`;
//! - machine actions as state machines: created `Pending`, the first `GET` shows
//!   `InProgress`, the second the outcome: `Succeeded`, or `Failed` when the machine's seed says
//!   `"_actionOutcome": "Failed"` (`"Never"` keeps it in progress, for timeouts); `cancel` makes a
//!   running action `Cancelled`; `getPackageUri` and `GetLiveResponseResultDownloadLink(index=N)`
//!   answer links to `GET /emulator/downloads/{token}`, a plain download without a token on the
//!   same host (a finished action only);
//! - `POST /api/alerts/CreateAlertByReference`, `GET /api/alerts/{id}/user`,
//!   `GET /api/{domains|files|ips}/{key}/stats` (from the seeded `api/emulator/stats` items);
//! - `POST /api/advancedqueries/run`: the query's source table (after `let` statements; `union
//!   Device*` as written) names an item of `api/emulator/advancedqueries`, whose `Schema` and
//!   `Results` are answered (at most the query's `limit`/`take`); another table is a 400 in KQL's
//!   words;
//! - `POST /api/indicators/import`: each indicator upserted into `api/indicators` by value;
//! - the deprecated Microsoft Graph TI indicators (`/beta/security/tiIndicators`, a Graph token
//!   with `ThreatIndicators.ReadWrite.OwnedBy` or any delegated token): list (`$top`, next
//!   links), get, create, `PATCH` (`Prefer: return=representation` answers the item) and delete,
//!   seeded from `test-data/microsoft-atp/graph-ti-seed.json`;
//! - the control endpoint `POST /__emulator/defender/alerts` (no token): `{"count": N}` (1 to
//!   100,000, default 1) adds N generated alerts in one call, with any other keys of the body
//!   (`severity`, `status`, `title`, `detectionSource`, `alertCreationTime`, ...) set on each.
//!   Without an `alertCreationTime` they are created one second apart, the last one now, so a
//!   fetch pages through them in order. Answers `{"added": [first 100 ids], "count": N}`. The
//!   IDs are `emu-alert-<number>` (the collection's size plus one, and on), so repeated calls
//!   never collide.
//!
//! Permissions: app tokens need one of the Defender roles of the route (`Machine.Read.All`,
//! `Machine.Isolate`, ...); delegated tokens are accepted (the emulator's `.default` consent).
//! 401/403/404 bodies are Defender's (`apis/mod.rs`); 429 comes from the fault rules.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use super::odata::Query as OData;
use super::{ApiError, Need, answer, authenticate, graph_list, odata_skip_list, ok_json, status_json};
use crate::clouds::ApiKind;
use crate::meta::Call;
use crate::state::EmulatorState;

const MACHINES: &str = "seed:defender:api/machines";
const ALERTS: &str = "seed:defender:api/alerts";
const INDICATORS: &str = "seed:defender:api/indicators";
const QUERIES: &str = "seed:defender:api/emulator/advancedqueries";
const STATS: &str = "seed:defender:api/emulator/stats";
const ACTIONS: &str = "defender.machineactions";
const DOWNLOADS: &str = "defender.downloads";
const TI_ITEMS: &str = "defender.graph-ti";
const TI_SEED: &str = include_str!("../../../../test-data/microsoft-atp/graph-ti-seed.json");
const TI_RW: Need = Need::any(&["ThreatIndicators.ReadWrite.OwnedBy", "SecurityEvents.Read.All"], &[]);

const READ_MACHINE: Need = Need::any(&["Machine.Read.All", "Machine.ReadWrite.All"], &[]);
const WRITE_MACHINE: Need = Need::any(&["Machine.ReadWrite.All"], &[]);
const ISOLATE: Need = Need::any(&["Machine.Isolate"], &[]);
const SCAN: Need = Need::any(&["Machine.Scan", "Machine.ReadWrite.All"], &[]);
const READ_ALERT: Need = Need::any(&["Alert.Read.All", "Alert.ReadWrite.All"], &[]);
const WRITE_ALERT: Need = Need::any(&["Alert.ReadWrite.All"], &[]);
const HUNT: Need = Need::any(&["AdvancedQuery.Read.All"], &[]);
const TI: Need = Need::any(&["Ti.ReadWrite.All"], &[]);

/// The machine-action verbs: (URL segment, action type, permission).
const VERBS: &[(&str, &str, Need)] = &[
    ("isolate", "Isolate", ISOLATE),
    ("unisolate", "Unisolate", ISOLATE),
    ("runAntiVirusScan", "RunAntiVirusScan", SCAN),
    ("offboard", "Offboard", WRITE_MACHINE),
    ("restrictCodeExecution", "RestrictCodeExecution", WRITE_MACHINE),
    ("unrestrictCodeExecution", "UnrestrictCodeExecution", WRITE_MACHINE),
    ("collectInvestigationPackage", "CollectInvestigationPackage", WRITE_MACHINE),
    ("stopAndQuarantineFile", "StopAndQuarantineFile", WRITE_MACHINE),
    ("runliveresponse", "LiveResponse", WRITE_MACHINE),
];

/// Every Defender route of this module.
pub fn routes() -> Router<EmulatorState> {
    let mut r = Router::new()
        .route("/api/machines", get(list_machines))
        .route("/api/machines/{id}", get(get_machine))
        .route("/api/machines/{id}/startInvestigation", post(start_investigation))
        .route("/api/machines/{id}/tags", post(machine_tags))
        .route("/api/alerts", get(list_alerts))
        .route("/api/alerts/CreateAlertByReference", post(create_alert))
        .route("/api/alerts/{id}/user", get(alert_user))
        .route("/api/machineactions", get(list_actions))
        .route("/api/machineactions/{id}", get(get_action))
        .route("/api/machineactions/{id}/{sub}", get(action_link).post(cancel_action))
        .route("/api/advancedqueries/run", post(run_query))
        .route("/api/indicators/import", post(import_indicators))
        .route("/api/indicators", post(upsert_indicator).get(super::seeded::dispatch))
        .route("/api/domains/{key}/stats", get(|c, p| stats(c, p, "domains")))
        .route("/api/files/{key}/stats", get(|c, p| stats(c, p, "files")))
        .route("/api/ips/{key}/stats", get(|c, p| stats(c, p, "ips")))
        .route("/emulator/downloads/{token}", get(download))
        .route("/__emulator/defender/alerts", post(control_add_alerts))
        .route("/beta/security/tiIndicators", get(ti_list).post(ti_create))
        .route("/beta/security/tiIndicators/{id}", get(ti_get).patch(ti_update).delete(ti_delete));
    for (verb, kind, need) in VERBS {
        let path = format!("/api/machines/{{id}}/{verb}");
        r = r.route(
            &path,
            post(move |c: Call, p: Path<String>, b: Bytes| machine_action(c, p, b, kind, *need)),
        );
    }
    r
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        ApiKind::Defender,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("{what} was not found"),
    )
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ApiKind::Defender, StatusCode::BAD_REQUEST, "InvalidRequestBody", message)
}

fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| bad("The request body is not valid JSON."))
}

fn q<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Items without the emulator's private `_` fields.
fn public(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with('_'));
    }
    v
}

fn iso(secs: i64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
    );
    time::OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&fmt).ok()).unwrap_or_default()
}

/// `$filter`/`$orderby` then Defender's `$top`/`$skip` page.
/// A Defender listing of `items` (borrowed from the store: only the page is copied, by
/// `shape`, which also drops the private `_` fields). `$filter` and `$orderby` read the stored
/// items, so a client naming a private field (none knows one) or `evidence` without `$expand`
/// would see it there.
fn filtered_list(
    meta: &crate::meta::RequestMeta,
    path: &str,
    query: &[(String, String)],
    items: &[Value],
    shape: impl Fn(&Value) -> Value,
    context: &str,
) -> Result<Value, ApiError> {
    let odata = OData::parse(q(query, "$filter"), q(query, "$orderby"))
        .map_err(|m| ApiError::new(ApiKind::Defender, StatusCode::BAD_REQUEST, "InvalidODataQuery", m))?;
    let kept = odata.apply(items.iter().collect::<Vec<&Value>>());
    odata_skip_list(meta, path, query, &kept, |item: &&Value| shape(item), 10_000, 10_000, context)
}

async fn list_machines(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_MACHINE).and_then(|_| {
        st.store().with(MACHINES, |items| {
            filtered_list(meta, "/api/machines", &query, items, |m| public(m.clone()), "Machines")
        })
    });
    answer(st, meta, result, ok_json)
}

async fn get_machine(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_MACHINE).and_then(|_| {
        if let Some(args) = id.strip_prefix("findbyip(").and_then(|s| s.strip_suffix(')')) {
            // findbyip(ip='10.0.0.4',timestamp=...): the machines whose last IP is that one.
            let ip = args.split(',').find_map(|p| p.trim().strip_prefix("ip=")).unwrap_or("").trim_matches('\'');
            let items: Vec<Value> = st
                .store()
                .list(MACHINES)
                .into_iter()
                .filter(|m| m.get("lastIpAddress").and_then(Value::as_str) == Some(ip))
                .map(public)
                .collect();
            return Ok(json!({"@odata.context": format!("{}/api/$metadata#Machines", meta.base_url()), "value": items}));
        }
        st.store().find(MACHINES, "id", &id).map(public).ok_or_else(|| not_found(&format!("Machine {id}")))
    });
    answer(st, meta, result, ok_json)
}

/// A new machine action for `machine` in the store (its private fields drive the polls).
fn new_action(st: &EmulatorState, machine: &Value, kind: &str, body: &Value) -> Value {
    let n = st.store().list(ACTIONS).len() + 1;
    // Deterministic, so recorded cases can name the actions a run creates.
    let id = format!("{n:08x}-0000-4000-8000-{n:012x}");
    let now = iso(st.now_secs());
    let outcome = machine.get("_actionOutcome").and_then(Value::as_str).unwrap_or("Succeeded");
    let commands: Value = match body.get("Commands").and_then(Value::as_array) {
        Some(cmds) => Value::Array(
            cmds.iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({"index": i, "startTime": null, "endTime": null, "commandStatus": "Created", "errors": [], "command": c})
                })
                .collect(),
        ),
        None => json!([]),
    };
    let (file_id, file_type) = match body.get("Sha1") {
        Some(s) => (s.clone(), json!("Sha1")),
        None => (Value::Null, Value::Null),
    };
    json!({
        "id": id,
        "type": kind,
        "title": null,
        "requestor": "soar-emulator@soaremulator.onmicrosoft.com",
        "requestorComment": body.get("Comment").cloned().unwrap_or(Value::Null),
        "status": "Pending",
        "machineId": machine.get("id"),
        "computerDnsName": machine.get("computerDnsName"),
        "creationDateTimeUtc": now,
        "lastUpdateDateTimeUtc": now,
        "cancellationRequestor": null,
        "cancellationComment": null,
        "cancellationDateTimeUtc": null,
        "errorHResult": 0,
        "scope": body.get("IsolationType").or_else(|| body.get("ScanType")).cloned().unwrap_or(Value::Null),
        "externalId": null,
        "requestSource": "PublicApi",
        "relatedFileInfo": null,
        "fileIdentifier": file_id,
        "fileIdentifierType": file_type,
        "commands": commands,
        "troubleshootInfo": null,
        "_polls": 0,
        "_outcome": outcome,
    })
}

async fn machine_action(
    call: Call,
    Path(id): Path<String>,
    body: Bytes,
    kind: &'static str,
    need: Need,
) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &need).and_then(|_| {
        let b = body_json(&body)?;
        if b.get("Comment").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(bad("Comment is required."));
        }
        if kind == "LiveResponse" && b.get("Commands").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            return Err(bad("Commands is required."));
        }
        if kind == "StopAndQuarantineFile" && b.get("Sha1").and_then(Value::as_str).is_none_or(str::is_empty)
        {
            return Err(bad("Sha1 is required."));
        }
        let machine =
            st.store().find(MACHINES, "id", &id).ok_or_else(|| not_found(&format!("Machine {id}")))?;
        let action = new_action(st, &machine, kind, &b);
        st.store().insert(ACTIONS, action.clone());
        Ok(public(action))
    });
    answer(st, meta, result, |v| status_json(StatusCode::CREATED, &v))
}

/// One poll of an action: `Pending` -> `InProgress` -> its outcome.
fn advance(st: &EmulatorState, id: &str) -> Option<Value> {
    let now = iso(st.now_secs());
    st.store().modify(ACTIONS, "id", id, |a| {
        let status = a.get("status").and_then(Value::as_str).unwrap_or("").to_owned();
        if !matches!(status.as_str(), "Pending" | "InProgress") {
            return;
        }
        let polls = a.get("_polls").and_then(Value::as_u64).unwrap_or(0) + 1;
        let outcome = a.get("_outcome").and_then(Value::as_str).unwrap_or("Succeeded").to_owned();
        let next = match (polls, outcome.as_str()) {
            (1, _) | (_, "Never") => "InProgress",
            (_, "Failed") => "Failed",
            _ => "Succeeded",
        };
        if let Some(o) = a.as_object_mut() {
            o.insert("_polls".into(), json!(polls));
            o.insert("status".into(), json!(next));
            o.insert("lastUpdateDateTimeUtc".into(), json!(now));
            let command_status = match next {
                "Succeeded" => "Completed",
                "Failed" => "Failed",
                _ => "InProgress",
            };
            if let Some(Value::Array(cmds)) = o.get_mut("commands") {
                for c in cmds {
                    if let Some(c) = c.as_object_mut() {
                        c.insert("commandStatus".into(), json!(command_status));
                        if next == "Failed" {
                            c.insert("errors".into(), json!(["The file was not found on the machine."]));
                        }
                    }
                }
            }
        }
    })
}

async fn get_action(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_MACHINE)
        .and_then(|_| advance(st, &id).map(public).ok_or_else(|| not_found(&format!("Machine action {id}"))));
    answer(st, meta, result, ok_json)
}

async fn list_actions(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_MACHINE).and_then(|_| {
        st.store().with(ACTIONS, |items| {
            filtered_list(meta, "/api/machineactions", &query, items, |a| public(a.clone()), "MachineActions")
        })
    });
    answer(st, meta, result, ok_json)
}

async fn cancel_action(call: Call, Path((id, sub)): Path<(String, String)>, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &WRITE_MACHINE).and_then(|_| {
        if sub != "cancel" {
            return Err(not_found(&format!("Resource {sub}")));
        }
        let b = body_json(&body)?;
        let comment = b.get("Comment").cloned().filter(|c| c.as_str().is_some_and(|s| !s.is_empty()));
        let comment = comment.ok_or_else(|| bad("Comment is required."))?;
        let now = iso(st.now_secs());
        st.store()
            .modify(ACTIONS, "id", &id, |a| {
                let running =
                    matches!(a.get("status").and_then(Value::as_str), Some("Pending" | "InProgress"));
                if let (true, Some(o)) = (running, a.as_object_mut()) {
                    o.insert("status".into(), json!("Cancelled"));
                    o.insert("cancellationComment".into(), comment.clone());
                    o.insert(
                        "cancellationRequestor".into(),
                        json!("soar-emulator@soaremulator.onmicrosoft.com"),
                    );
                    o.insert("cancellationDateTimeUtc".into(), json!(now));
                }
            })
            .map(public)
            .ok_or_else(|| not_found(&format!("Machine action {id}")))
    });
    answer(st, meta, result, ok_json)
}

/// The download link of a finished action's package or live-response result.
async fn action_link(call: Call, Path((id, sub)): Path<(String, String)>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_MACHINE).and_then(|_| {
        let action = st.store().find(ACTIONS, "id", &id).ok_or_else(|| not_found(&format!("Machine action {id}")))?;
        if action.get("status").and_then(Value::as_str) != Some("Succeeded") {
            return Err(ApiError::new(
                ApiKind::Defender,
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                format!("Machine action {id} has not completed successfully."),
            ));
        }
        let content = if sub.eq_ignore_ascii_case("getPackageUri") {
            if action.get("type").and_then(Value::as_str) != Some("CollectInvestigationPackage") {
                return Err(not_found(&format!("Investigation package of action {id}")));
            }
            format!("emulated investigation package of {}", action.get("machineId").and_then(Value::as_str).unwrap_or(""))
        } else if let Some(index) = sub
            .strip_prefix("GetLiveResponseResultDownloadLink(index=")
            .and_then(|s| s.strip_suffix(')'))
            .and_then(|s| s.parse::<usize>().ok())
        {
            let cmd = action.get("commands").and_then(Value::as_array).and_then(|c| c.get(index)).cloned();
            let cmd = cmd.ok_or_else(|| not_found(&format!("Command {index} of action {id}")))?;
            let kind = cmd.pointer("/command/type").and_then(Value::as_str).unwrap_or("");
            let param = cmd.pointer("/command/params/0/value").and_then(Value::as_str).unwrap_or("");
            match kind {
                "RunScript" => json!({
                    "script_name": param,
                    "exit_code": 0,
                    "script_output": format!("Ran {param} on {}", action.get("computerDnsName").and_then(Value::as_str).unwrap_or("")),
                    "script_errors": "",
                })
                .to_string(),
                _ => format!("emulated content of {param}"),
            }
        } else {
            return Err(not_found(&format!("Resource {sub}")));
        };
        let token = format!("{id}-{}", st.store().list(DOWNLOADS).len() + 1);
        st.store().insert(DOWNLOADS, json!({"token": token, "content": content}));
        Ok(json!({
            "@odata.context": format!("{}/api/$metadata#Edm.String", meta.base_url()),
            "value": format!("{}/emulator/downloads/{token}", meta.base_url()),
        }))
    });
    answer(st, meta, result, ok_json)
}

/// A plain download: no token (a pre-authenticated link).
async fn download(call: Call, Path(token): Path<String>) -> Response {
    let Call { st, .. } = &call;
    match st.store().find(DOWNLOADS, "token", &token) {
        Some(d) => {
            let body = d.get("content").and_then(Value::as_str).unwrap_or("").to_owned();
            let mut resp = (StatusCode::OK, body).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            resp
        }
        None => (StatusCode::NOT_FOUND, "The download link has expired or does not exist.").into_response(),
    }
}

async fn start_investigation(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &WRITE_ALERT).and_then(|_| {
        let b = body_json(&body)?;
        if b.get("Comment").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(bad("Comment is required."));
        }
        let machine =
            st.store().find(MACHINES, "id", &id).ok_or_else(|| not_found(&format!("Machine {id}")))?;
        let n = st.store().list("defender.investigations").len() + 1;
        let inv = json!({
            "id": format!("{}", 1000 + n),
            "startTime": iso(st.now_secs()),
            "endTime": null,
            "state": "Running",
            "cancelledBy": null,
            "statusDetails": null,
            "machineId": id,
            "computerDnsName": machine.get("computerDnsName"),
            "triggeringAlertId": null,
        });
        st.store().insert("defender.investigations", inv.clone());
        Ok(inv)
    });
    answer(st, meta, result, |v| status_json(StatusCode::CREATED, &v))
}

async fn machine_tags(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &WRITE_MACHINE).and_then(|_| {
        let b = body_json(&body)?;
        let tag = b
            .get("Value")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("Value is required."))?;
        let action = b.get("Action").and_then(Value::as_str).unwrap_or("");
        if action != "Add" && action != "Remove" {
            return Err(bad("Action must be Add or Remove."));
        }
        let tag = tag.to_owned();
        let add = action == "Add";
        st.store()
            .modify(MACHINES, "id", &id, |m| {
                if let Some(o) = m.as_object_mut() {
                    let tags = o.entry("machineTags").or_insert_with(|| json!([]));
                    if let Value::Array(list) = tags {
                        list.retain(|t| t.as_str() != Some(tag.as_str()));
                        if add {
                            list.push(json!(tag));
                        }
                    }
                }
            })
            .map(public)
            .ok_or_else(|| not_found(&format!("Machine {id}")))
    });
    answer(st, meta, result, ok_json)
}

async fn list_alerts(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_ALERT).and_then(|_| {
        let expand = q(&query, "$expand")
            .is_some_and(|e| e.split(',').any(|p| p.trim().eq_ignore_ascii_case("evidence")));
        let shape = |a: &Value| {
            let mut a = public(a.clone());
            if !expand && let Some(o) = a.as_object_mut() {
                o.shift_remove("evidence");
            }
            a
        };
        st.store().with(ALERTS, |items| filtered_list(meta, "/api/alerts", &query, items, shape, "Alerts"))
    });
    answer(st, meta, result, ok_json)
}

async fn create_alert(call: Call, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &WRITE_ALERT).and_then(|_| {
        let b = body_json(&body)?;
        for f in
            ["machineId", "severity", "title", "description", "eventTime", "reportId", "recommendedAction"]
        {
            if b.get(f).is_none_or(Value::is_null) {
                return Err(bad(format!("{f} is required.")));
            }
        }
        let machine_id = b.get("machineId").and_then(Value::as_str).unwrap_or("");
        let machine = st
            .store()
            .find(MACHINES, "id", machine_id)
            .ok_or_else(|| not_found(&format!("Machine {machine_id}")))?;
        let n = st.store().list(ALERTS).len() + 1;
        let now = iso(st.now_secs());
        let alert = json!({
            "id": format!("da63720041716901{n:04}_emulator"),
            "incidentId": 100 + n,
            "investigationId": null,
            "assignedTo": null,
            "severity": b.get("severity"),
            "status": "New",
            "classification": null,
            "determination": null,
            "investigationState": "Queued",
            "detectionSource": "CustomDetection",
            "category": b.get("category"),
            "threatFamilyName": null,
            "title": b.get("title"),
            "description": b.get("description"),
            "alertCreationTime": now,
            "firstEventTime": b.get("eventTime"),
            "lastEventTime": b.get("eventTime"),
            "lastUpdateTime": now,
            "resolvedTime": null,
            "machineId": machine_id,
            "computerDnsName": machine.get("computerDnsName"),
            "aadTenantId": null,
            "comments": [],
            "evidence": [],
        });
        st.store().insert(ALERTS, alert.clone());
        Ok(alert)
    });
    answer(st, meta, result, ok_json)
}

/// The most alerts one control call adds.
const MAX_BULK: u64 = 100_000;

fn control_error(message: String) -> Response {
    status_json(StatusCode::BAD_REQUEST, &json!({"error": {"code": "BadRequest", "message": message}}))
}

/// `POST /__emulator/defender/alerts`: N generated alerts (see the module docs).
async fn control_add_alerts(
    axum::extract::State(st): axum::extract::State<EmulatorState>,
    body: Bytes,
) -> Response {
    let mut fields = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) => o,
        _ if body.is_empty() => Map::new(),
        _ => return control_error("The body must be a JSON object: {\"count\": N} and alert fields.".into()),
    };
    let count = match fields.shift_remove("count") {
        None => 1,
        Some(v) => match v.as_u64().filter(|n| (1..=MAX_BULK).contains(n)) {
            Some(n) => n,
            None => return control_error(format!("count must be a whole number from 1 to {MAX_BULK}.")),
        },
    };
    let store = st.store();
    let first = store.list(ALERTS).len() as u64 + 1;
    let machine = store.list(MACHINES).into_iter().next().unwrap_or(Value::Null);
    let now_ms = st.now_ms();
    let mut items = Vec::with_capacity(count as usize);
    for i in 0..count {
        let n = first + i;
        let id = format!("emu-alert-{n:07}");
        // One second apart, the last one now.
        let back_ms = (count - 1 - i).saturating_mul(1000);
        let at = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(
            now_ms.saturating_sub(i64::try_from(back_ms).unwrap_or(i64::MAX)),
        )
        .unwrap_or_default();
        // Defender's seven fraction digits (chrono formats 3, 6 or 9).
        let created = format!("{}.{:07}Z", at.format("%Y-%m-%dT%H:%M:%S"), at.timestamp_subsec_nanos() / 100);
        let mut alert = json!({
            "id": id,
            "incidentId": 100_000 + n,
            "investigationId": null,
            "assignedTo": null,
            "severity": "Medium",
            "status": "New",
            "classification": null,
            "determination": null,
            "investigationState": "Queued",
            "detectionSource": "WindowsDefenderAtp",
            "category": "Malware",
            "threatFamilyName": null,
            "title": format!("Emulated alert {n}"),
            "description": "Added through the emulator's control endpoint.",
            "alertCreationTime": created,
            "firstEventTime": created,
            "lastEventTime": created,
            "lastUpdateTime": created,
            "resolvedTime": null,
            "machineId": machine.get("id"),
            "computerDnsName": machine.get("computerDnsName"),
            "aadTenantId": null,
            "comments": [],
            "evidence": [],
        });
        if let Some(o) = alert.as_object_mut() {
            for (k, v) in &fields {
                o.insert(k.clone(), v.clone());
            }
        }
        items.push((id, alert));
    }
    let added: Vec<Value> = items.iter().take(100).map(|(id, _)| json!(id)).collect();
    if let Err(id) = store.insert_all_new(ALERTS, "id", items) {
        return status_json(
            StatusCode::CONFLICT,
            &json!({"error": {"code": "Conflict", "message": format!("An alert '{id}' already exists.")}}),
        );
    }
    status_json(StatusCode::CREATED, &json!({"added": added, "count": count}))
}

/// Seeded single objects (`api/emulator/stats`): an item whose `id` is `<kind>/<key>` or
/// `alerts/<id>/user`.
fn seeded_object(st: &EmulatorState, id: &str, what: &str) -> Result<Value, ApiError> {
    let item = st
        .store()
        .list(STATS)
        .into_iter()
        .find(|i| i.get("id").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(id)));
    item.and_then(|i| i.get("value").cloned()).ok_or_else(|| not_found(what))
}

async fn alert_user(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_ALERT)
        .and_then(|_| seeded_object(st, &format!("alerts/{id}/user"), &format!("User of alert {id}")));
    answer(st, meta, result, ok_json)
}

async fn stats(call: Call, Path(key): Path<String>, kind: &'static str) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &READ_MACHINE)
        .and_then(|_| seeded_object(st, &format!("{kind}/{key}"), &format!("Statistics of {key}")));
    answer(st, meta, result, ok_json)
}

/// The source table of a KQL query: the first word after `let ...;` statements (`union X` as
/// written).
fn source_table(query: &str) -> String {
    let mut rest = query.trim();
    while let Some(after) = rest.strip_prefix("let ") {
        rest = after.split_once(';').map(|(_, r)| r.trim()).unwrap_or("");
    }
    let first: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if first == "union" {
        let table: String = rest["union".len()..]
            .trim_start()
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '|')
            .collect();
        return format!("union {table}");
    }
    first
}

/// The row limit a query asks for (`| limit N` or `| take N`), if any.
fn row_limit(query: &str) -> Option<usize> {
    let words: Vec<&str> =
        query.split(|c: char| c.is_whitespace() || c == '|').filter(|w| !w.is_empty()).collect();
    words
        .windows(2)
        .filter(|w| w[0] == "limit" || w[0] == "take")
        .filter_map(|w| w[1].parse().ok())
        .next_back()
}

async fn run_query(call: Call, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &HUNT).and_then(|_| {
        let b = body_json(&body)?;
        let query = b.get("Query").and_then(Value::as_str).filter(|s| !s.trim().is_empty());
        let query = query.ok_or_else(|| bad("Query is required."))?;
        let table = source_table(query);
        let item = st.store().find(QUERIES, "id", &table).ok_or_else(|| {
            ApiError::new(
                ApiKind::Defender,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Failed to resolve table or column expression named '{table}'"),
            )
        })?;
        let mut rows = item.get("Results").and_then(Value::as_array).cloned().unwrap_or_default();
        if let Some(n) = row_limit(query) {
            rows.truncate(n);
        }
        Ok(json!({
            "Stats": {"ExecutionTime": 0.1, "resource_usage": {"cache": {}, "cpu": {}, "memory": {}}, "dataset_statistics": [{"table_row_count": rows.len(), "table_size": 0}]},
            "Schema": item.get("Schema").cloned().unwrap_or(json!([])),
            "Results": rows,
        }))
    });
    answer(st, meta, result, ok_json)
}

/// Defender's create-or-update: an indicator with the same value is replaced, keeping its id.
fn upsert(st: &EmulatorState, ind: &Value) -> Result<Value, String> {
    let value = ind.get("indicatorValue").and_then(Value::as_str).unwrap_or("");
    if let Some(f) = ["indicatorValue", "indicatorType", "action", "title", "description"]
        .into_iter()
        .find(|f| ind.get(*f).and_then(Value::as_str).is_none_or(str::is_empty))
    {
        return Err(format!("{f} is required"));
    }
    let existing = st.store().find(INDICATORS, "indicatorValue", value);
    let id = existing
        .as_ref()
        .and_then(|e| e.get("id").cloned())
        .unwrap_or_else(|| json!(format!("{}", 9000 + st.store().list(INDICATORS).len() + 1)));
    let mut item: Map<String, Value> = existing.and_then(|e| e.as_object().cloned()).unwrap_or_default();
    for (k, v) in ind.as_object().cloned().unwrap_or_default() {
        item.insert(k, v);
    }
    item.insert("id".into(), id.clone());
    let now = iso(st.now_secs());
    item.entry("creationTimeDateTimeUtc").or_insert_with(|| json!(now));
    item.insert("lastUpdateTime".into(), json!(now));
    item.entry("createdBySource").or_insert_with(|| json!("PublicApi"));
    let id_text = id.as_str().unwrap_or_default().to_owned();
    let item = Value::Object(item);
    st.store().upsert(INDICATORS, "id", &id_text, item.clone());
    Ok(item)
}

async fn upsert_indicator(call: Call, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &TI)
        .and_then(|_| upsert(st, &body_json(&body)?).map_err(bad));
    answer(st, meta, result, ok_json)
}

async fn import_indicators(call: Call, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &TI).and_then(|_| {
        let b = body_json(&body)?;
        let list = b.get("Indicators").and_then(Value::as_array).ok_or_else(|| bad("Indicators is required."))?;
        let mut out = Vec::new();
        for ind in list {
            let value = ind.get("indicatorValue").and_then(Value::as_str).unwrap_or("");
            match upsert(st, ind) {
                Ok(item) => out.push(json!({"id": item.get("id"), "indicator": value, "isFailed": false, "failureReason": null})),
                Err(reason) => out.push(json!({"id": null, "indicator": value, "isFailed": true, "failureReason": reason})),
            }
        }
        Ok(json!({"@odata.context": format!("{}/api/$metadata#Collection(microsoft.windowsDefenderATP.api.ImportIndicatorResult)", meta.base_url()), "value": out}))
    });
    answer(st, meta, result, ok_json)
}

// ---- Graph TI indicators ------------------------------------------------------------------------

/// Seeds the TI collection once per store.
fn ti_seed(st: &EmulatorState) {
    static GUARD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = GUARD.lock().unwrap_or_else(|p| p.into_inner());
    if st.store().collections().iter().any(|c| c == TI_ITEMS) {
        return;
    }
    let items: Vec<Value> = serde_json::from_str(TI_SEED).unwrap_or_default();
    st.store().replace(TI_ITEMS, items);
}

fn ti_not_found(id: &str) -> ApiError {
    ApiError::new(
        ApiKind::Graph,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("Indicator {id} was not found."),
    )
}

async fn ti_list(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &call;
    ti_seed(st);
    let result = authenticate(st, headers, meta, ApiKind::Graph, &TI_RW).and_then(|_| {
        graph_list(
            meta,
            "/beta/security/tiIndicators",
            &query,
            st.store().list(TI_ITEMS),
            100,
            200,
            false,
            "security/tiIndicators",
        )
    });
    answer(st, meta, result, ok_json)
}

async fn ti_get(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, headers } = &call;
    ti_seed(st);
    let result = authenticate(st, headers, meta, ApiKind::Graph, &TI_RW)
        .and_then(|_| st.store().find(TI_ITEMS, "id", &id).ok_or_else(|| ti_not_found(&id)));
    answer(st, meta, result, ok_json)
}

async fn ti_create(call: Call, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    ti_seed(st);
    let result = authenticate(st, headers, meta, ApiKind::Graph, &TI_RW).and_then(|_| {
        let b = body_json(&body).map_err(|e| ApiError { api: ApiKind::Graph, ..e })?;
        let mut item: Map<String, Value> = b.as_object().cloned().unwrap_or_default();
        for f in ["action", "description", "expirationDateTime", "targetProduct", "threatType"] {
            if item.get(f).is_none_or(Value::is_null) {
                return Err(ApiError::new(
                    ApiKind::Graph,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("{f} is required."),
                ));
            }
        }
        let n = st.store().list(TI_ITEMS).len() + 1;
        item.insert("id".into(), json!(format!("1722838541281396{n:04}")));
        item.insert("azureTenantId".into(), json!("11111111-1111-4111-8111-111111111111"));
        let item = Value::Object(item);
        st.store().insert(TI_ITEMS, item.clone());
        Ok(item)
    });
    answer(st, meta, result, |v| status_json(StatusCode::CREATED, &v))
}

async fn ti_update(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    ti_seed(st);
    let wants_item = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("return=representation"));
    let result = authenticate(st, headers, meta, ApiKind::Graph, &TI_RW).and_then(|_| {
        let b = body_json(&body).map_err(|e| ApiError { api: ApiKind::Graph, ..e })?;
        st.store().update(TI_ITEMS, "id", &id, &b).ok_or_else(|| ti_not_found(&id))
    });
    answer(st, meta, result, |v| if wants_item { ok_json(v) } else { StatusCode::NO_CONTENT.into_response() })
}

async fn ti_delete(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, headers } = &call;
    ti_seed(st);
    let result = authenticate(st, headers, meta, ApiKind::Graph, &TI_RW)
        .and_then(|_| st.store().remove(TI_ITEMS, "id", &id).map(drop).ok_or_else(|| ti_not_found(&id)));
    answer(st, meta, result, |_| StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (query, table, limit).
    #[test]
    fn queries_name_their_table_and_limit() {
        let cases = [
            ("DeviceInfo | limit 10", "DeviceInfo", Some(10)),
            (
                "let a = dynamic([1]); let b = 2; DeviceProcessEvents| where x\n| limit 5",
                "DeviceProcessEvents",
                Some(5),
            ),
            (
                "union Device* | where ( (AccountName has_any (\"dbot\")) )\n| limit 1",
                "union Device*",
                Some(1),
            ),
            ("DeviceNetworkEvents\n| where y | take 3", "DeviceNetworkEvents", Some(3)),
            ("  Nope", "Nope", None),
        ];
        for (query, table, limit) in cases {
            assert_eq!((source_table(query), row_limit(query)), (table.to_owned(), limit), "{query}");
        }
    }
}
