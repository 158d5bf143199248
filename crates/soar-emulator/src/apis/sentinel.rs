//! Microsoft Sentinel's quirks on top of its seeded collections
//! (`test-data/azure-sentinel/emulator-seed.json`: incidents with their comments, relations,
//! alerts and entities, watchlists and items, alert rules and templates, threat-intelligence
//! indicators, all under
//! `subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights`).
//!
//! Hand-written here, because a collection cannot express them:
//! - `POST threatIntelligence/main/createIndicator` (a new indicator named by a UUID, its
//!   `parsedPattern` read from the pattern), `POST threatIntelligence/main/queryIndicators`
//!   (the body's filters: confidence, valid-until, sources, keywords, threat and pattern types,
//!   `includeDisabled`; `$top` and `nextLink` paging), and `POST
//!   threatIntelligence/main/indicators/{name}/appendTags` / `replaceTags`;
//! - `PUT watchlists/{alias}` with a `rawContent` CSV and an `itemsSearchKey`: after the seeded
//!   collection's create-or-update, the CSV's rows (after `numberOfLinesToSkip` lines and the
//!   header) become the watchlist's items, as Sentinel builds them in the background; a row
//!   whose search-key value an item already has replaces that item's values;
//! - the control endpoints that move incidents while the emulator runs (below).
//!
//! # Control endpoints
//!
//! | method | path | effect |
//! |---|---|---|
//! | POST | `/__emulator/sentinel/incidents` | add one incident: a JSON object of `properties` (`title`, `severity`, `status`, `createdTimeUtc`, ... ; `name` for its ID, else `emu-<number>`); with `{"count": N}` (and optional `title`, `severity`, `createdTimeUtc`) N generated incidents. Answers `{"added": [ids]}` (at most the first 100 listed) and `count` |
//! | PATCH | `/__emulator/sentinel/incidents/{id}` | merges a JSON object into the incident's `properties` (a new etag and `lastModifiedTimeUtc`) |
//! | POST | `/__emulator/sentinel/incidents/{id}/close` | closes it: `{"classification", "classificationReason", "classificationComment"}` (default `Undetermined`) |
//!
//! They act on the seeded collection whose path ends in `Microsoft.SecurityInsights/incidents`
//! in the workspace the `?workspace=NAME` query names (default: the first, the seed's
//! `soar-ws`), number new incidents
//! after the highest `incidentNumber`, and stamp `createdTimeUtc` / `lastModifiedTimeUtc` with
//! the emulator's clock unless given.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::response::Response;
use axum::routing::{patch, post, put};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::seeded::{Collection, SeedApi, get_path, new_etag, next_serial, set_path};
use super::{ApiError, answer, arm_authorize, arm_list, authenticate_any, json_ok, status_json};
use crate::clouds::ApiKind;
use crate::meta::Call;
use crate::state::EmulatorState;

const WS: &str = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights";
/// The most generated incidents one control call adds.
const MAX_BULK: u64 = 100_000;

/// The Sentinel routes.
pub fn routes() -> Router<EmulatorState> {
    let ti = format!("{WS}/threatIntelligence/main");
    Router::new()
        .route(&format!("{ti}/createIndicator"), post(create_indicator))
        .route(&format!("{ti}/queryIndicators"), post(query_indicators))
        .route(&format!("{ti}/indicators/{{name}}/appendTags"), post(append_tags))
        .route(&format!("{ti}/indicators/{{name}}/replaceTags"), post(replace_tags))
        .route(&format!("{WS}/watchlists/{{alias}}"), put(put_watchlist).fallback(super::seeded::dispatch))
        .route("/__emulator/sentinel/incidents", post(control_add))
        .route("/__emulator/sentinel/incidents/{id}", patch(control_change))
        .route("/__emulator/sentinel/incidents/{id}/close", post(control_close))
}

type WsPath = (String, String, String);

fn ws_path((sub, rg, ws): &WsPath) -> String {
    format!(
        "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights"
    )
}

fn now_text(st: &EmulatorState) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(st.now_ms())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ApiKind::Arm, StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// The indicator collection of a workspace, after the token, the api-version and RBAC.
fn indicators(call: &Call, ws: &WsPath, write: bool, query: Option<&str>) -> Result<Collection, ApiError> {
    let p = authenticate_any(&call.st, &call.headers, &call.meta, ApiKind::Arm, &[], &[])?;
    let path = format!("{}/threatIntelligence/main/indicators", ws_path(ws));
    let c = call.st.seeded().collection(SeedApi::Arm, &path).cloned().ok_or_else(|| {
        ApiError::new(
            ApiKind::Arm,
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("The workspace '{}' was not found.", ws.2),
        )
    })?;
    let version = query
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect::<Vec<(String, String)>>())
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "api-version")
        .map(|(_, v)| v);
    match (version, &c.api_version) {
        (None, _) => return Err(ApiError::arm_missing_api_version()),
        (Some(v), Some(want)) if &v != want => {
            return Err(ApiError::new(
                ApiKind::Arm,
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                format!("The api-version '{v}' is invalid. The supported versions are '{want}'."),
            ));
        }
        _ => {}
    }
    let action = if write {
        "Microsoft.SecurityInsights/threatIntelligence/write"
    } else {
        "Microsoft.SecurityInsights/threatIntelligence/read"
    };
    arm_authorize(&call.st, &p, action, &format!("/{path}"))?;
    Ok(c)
}

fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ if body.is_empty() => Ok(Map::new()),
        _ => Err(ApiError::new(
            ApiKind::Arm,
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        )),
    }
}

/// `PUT watchlists/{alias}`: the seeded create-or-update, then the `rawContent` rows as items.
async fn put_watchlist(State(st): State<EmulatorState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(meta) = parts.extensions.get::<crate::meta::RequestMeta>().cloned() else {
        return super::seeded::dispatch(State(st), Request::from_parts(parts, body)).await;
    };
    let Ok(bytes) = axum::body::to_bytes(body, super::seeded::MAX_BODY).await else {
        return super::seeded::bad_body(SeedApi::Arm).respond(&st, &meta);
    };
    let path = parts.uri.path().trim_start_matches('/').to_owned();
    let resp =
        super::seeded::dispatch(State(st.clone()), Request::from_parts(parts, Body::from(bytes.clone())))
            .await;
    if resp.status().is_success() {
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        add_watchlist_items(&st, &path, &meta.host, &body);
    }
    resp
}

/// Turns a written watchlist's `rawContent` into items of `<path>/watchlistItems`.
fn add_watchlist_items(st: &EmulatorState, path: &str, host: &str, body: &Value) {
    let text = |p: &str| get_path(body, p).and_then(Value::as_str);
    let (Some(raw), Some(search_key)) = (text("properties/rawContent"), text("properties/itemsSearchKey"))
    else {
        return;
    };
    let items_path = format!("{path}/watchlistItems");
    let Some(found) = st.seeded().find(&items_path, host) else { return };
    let (c, Some(alias)) = (found.collection, found.parent) else { return };
    let skip = get_path(body, "properties/numberOfLinesToSkip").and_then(Value::as_u64).unwrap_or(0);
    let mut rows = csv_rows(raw).into_iter().skip(usize::try_from(skip).unwrap_or(usize::MAX));
    let Some(header) = rows.next() else { return };
    let store = st.store();
    let name = c.store_name_of(Some(&alias));
    let now = now_text(st);
    for row in rows.filter(|r| r.iter().any(|f| !f.is_empty())) {
        let values: Map<String, Value> =
            header.iter().cloned().zip(row.into_iter().map(Value::String)).collect();
        // Only the matching item is copied, not the watchlist's whole item list per row.
        let existing = values.get(search_key).and_then(|k| {
            store.with(&name, |items| {
                items
                    .iter()
                    .find(|i| {
                        get_path(i, "properties/itemsKeyValue").and_then(|v| v.get(search_key)) == Some(k)
                    })
                    .cloned()
            })
        });
        let etag = new_etag(store);
        let mut item = match existing {
            Some(mut item) => {
                set_path(&mut item, "properties/itemsKeyValue", Value::Object(values));
                set_path(&mut item, "properties/updated", json!(now));
                item
            }
            None => {
                let count = store.with(&name, <[Value]>::len);
                let id = format!("{:08x}-0000-4000-8000-{:012x}", next_serial(store), count + 1);
                json!({
                    "id": format!("/{items_path}/{id}"),
                    "name": id,
                    "type": "Microsoft.SecurityInsights/Watchlists/WatchlistItems",
                    "properties": {
                        "watchlistItemType": "Custom",
                        "watchlistItemId": id,
                        "tenantId": crate::config::DEFAULT_TENANT_ID,
                        "isDeleted": false,
                        "created": now,
                        "updated": now,
                        "itemsKeyValue": values,
                    },
                })
            }
        };
        set_path(&mut item, "etag", json!(etag));
        let key = item.get(&c.key).and_then(Value::as_str).unwrap_or_default().to_owned();
        store.upsert(&name, &c.key, &key, item);
    }
}

/// The rows of a CSV text: commas between fields, `"..."` quoting with `""` for a quote,
/// CRLF or LF line ends.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) if chars.peek() == Some(&'\n') => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (ch, _) => field.push(ch),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// `[type:value = 'v']` or `[file:hashes.'SHA-256' = 'v']` -> the API's `parsedPattern`.
fn parsed_pattern(pattern: &str) -> Value {
    let inner = pattern.trim().trim_start_matches('[').trim_end_matches(']');
    let Some((lhs, rhs)) = inner.split_once('=') else { return json!([]) };
    let value = rhs.trim().trim_matches('\'');
    let (key, value_type) = match lhs.trim().split_once(':') {
        Some((k, t)) => (k.to_owned(), t.to_owned()),
        None => (lhs.trim().to_owned(), String::new()),
    };
    json!([{"patternTypeKey": key, "patternTypeValues": [{"valueType": value_type, "value": value}]}])
}

async fn create_indicator(
    call: Call,
    Path(ws): Path<WsPath>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let st = call.st.clone();
    let result = (|| {
        let c = indicators(&call, &ws, true, q.as_deref())?;
        let mut obj = body_object(&body)?;
        let mut props = match obj.remove("properties") {
            Some(Value::Object(p)) => p,
            _ => return Err(bad("The indicator needs its properties.")),
        };
        let Some(pattern) = props.get("pattern").and_then(Value::as_str).map(str::to_owned) else {
            return Err(bad("The indicator's pattern is required."));
        };
        if props.get("displayName").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(bad("The indicator's displayName is required."));
        }
        let name = format!("{:08x}-0000-4000-8000-000000000000", next_serial(st.store()));
        let now = now_text(&st);
        props.insert("parsedPattern".into(), parsed_pattern(&pattern));
        props.entry("created").or_insert(json!(now));
        props.insert("lastUpdatedTimeUtc".into(), json!(now));
        props.insert("externalId".into(), json!(format!("indicator--{name}")));
        let item = json!({
            "id": format!("/{}/{name}", c.path),
            "name": name,
            "etag": new_etag(st.store()),
            "type": "Microsoft.SecurityInsights/ThreatIntelligence",
            "kind": obj.get("kind").cloned().unwrap_or(json!("indicator")),
            "properties": props,
        });
        st.store().insert(&c.store_name(), item.clone());
        Ok(item)
    })();
    answer(&st, &call.meta, result, |v| status_json(StatusCode::CREATED, &v))
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_lowercase).collect())
        .unwrap_or_default()
}

/// Whether an indicator passes a `queryIndicators` body.
fn matches_query(ind: &Value, q: &Map<String, Value>) -> bool {
    let p = ind.get("properties").cloned().unwrap_or(Value::Null);
    let confidence = num(p.get("confidence"));
    if let Some(min) = num(q.get("minConfidence"))
        && confidence.is_none_or(|c| c < min)
    {
        return false;
    }
    if let Some(max) = num(q.get("maxConfidence"))
        && confidence.is_none_or(|c| c > max)
    {
        return false;
    }
    let until = p.get("validUntil").and_then(Value::as_str).unwrap_or_default();
    if let Some(min) = q.get("minValidUntil").and_then(Value::as_str)
        && until < min
    {
        return false;
    }
    if let Some(max) = q.get("maxValidUntil").and_then(Value::as_str)
        && (until.is_empty() || until > max)
    {
        return false;
    }
    let sources = strings(q.get("sources"));
    let source = p.get("source").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    if !sources.is_empty() && !sources.contains(&source) {
        return false;
    }
    let types = strings(q.get("threatTypes"));
    let have = strings(p.get("threatTypes"));
    if !types.is_empty() && !types.iter().any(|t| have.contains(t)) {
        return false;
    }
    let patterns = strings(q.get("patternTypes"));
    let key = get_path(&p, "parsedPattern")
        .and_then(|a| a.get(0))
        .and_then(|x| x.get("patternTypeKey"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    // The query names `ipv4-address`/`domain-name`; patterns say `ipv4-addr`/`domain-name`.
    if !patterns.is_empty() && !patterns.iter().any(|t| t.replace("-address", "-addr") == key) {
        return false;
    }
    if let Some(words) = q.get("keywords").and_then(Value::as_str).filter(|w| !w.is_empty()) {
        let text = p.to_string().to_lowercase();
        if !words.split_whitespace().all(|w| text.contains(&w.to_lowercase())) {
            return false;
        }
    }
    let include_disabled = q.get("includeDisabled").and_then(Value::as_bool).unwrap_or(false);
    include_disabled || p.get("revoked").and_then(Value::as_bool) != Some(true)
}

async fn query_indicators(
    call: Call,
    Path(ws): Path<WsPath>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let st = call.st.clone();
    let result = (|| {
        let c = indicators(&call, &ws, false, q.as_deref())?;
        let filter = body_object(&body)?;
        let query: Vec<(String, String)> = q
            .as_deref()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let top = match query.iter().find(|(k, _)| k == "$top") {
            Some((_, t)) => t
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(format!("Invalid $top '{t}'.")))?,
            None => 100,
        };
        let items: Vec<Value> =
            st.store().list(&c.store_name()).into_iter().filter(|i| matches_query(i, &filter)).collect();
        let path = format!("/{}queryIndicators", c.path.trim_end_matches("indicators"));
        arm_list(&call.meta, &path, &query, items, top)
    })();
    answer(&st, &call.meta, result, |v| json_ok(&v))
}

async fn tags(
    call: Call,
    ws: WsPath,
    name: String,
    q: Option<String>,
    body: Bytes,
    replace: bool,
) -> Response {
    let st = call.st.clone();
    let result = (|| {
        let c = indicators(&call, &ws, true, q.as_deref())?;
        let obj = body_object(&body)?;
        let given = if replace {
            obj.get("properties").and_then(|p| p.get("threatIntelligenceTags"))
        } else {
            obj.get("threatIntelligenceTags")
        };
        let Some(Value::Array(given)) = given.cloned() else {
            return Err(bad("threatIntelligenceTags must be a list of strings."));
        };
        let now = now_text(&st);
        let etag = new_etag(st.store());
        st.store()
            .modify(&c.store_name(), &c.key, &name, |item| {
                let mut list = if replace {
                    Vec::new()
                } else {
                    get_path(item, "properties/threatIntelligenceTags")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                };
                for t in &given {
                    if !list.contains(t) {
                        list.push(t.clone());
                    }
                }
                set_path(item, "properties/threatIntelligenceTags", Value::Array(list));
                set_path(item, "properties/lastUpdatedTimeUtc", json!(now));
                if let Some(o) = item.as_object_mut() {
                    o.insert("etag".into(), json!(etag));
                }
            })
            .ok_or_else(|| {
                ApiError::new(
                    ApiKind::Arm,
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("Threat intelligence indicator '{name}' was not found."),
                )
            })
    })();
    answer(&st, &call.meta, result, |v| json_ok(&v))
}

async fn append_tags(
    call: Call,
    Path((sub, rg, ws, name)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    tags(call, (sub, rg, ws), name, q, body, false).await
}

async fn replace_tags(
    call: Call,
    Path((sub, rg, ws, name)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    tags(call, (sub, rg, ws), name, q, body, true).await
}

// ---- control endpoints -------------------------------------------------------------------------

/// The incidents collection the control endpoints act on: the `workspace` query's, else the
/// first seeded one.
fn incidents(st: &EmulatorState, query: Option<&str>) -> Option<Collection> {
    let workspace = query
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect::<Vec<(String, String)>>())
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "workspace")
        .map(|(_, v)| format!("/workspaces/{}/", v.to_ascii_lowercase()));
    st.seeded()
        .collections()
        .iter()
        .find(|c| {
            let path = c.path.to_ascii_lowercase();
            c.api == SeedApi::Arm
                && c.parent_at.is_none()
                && path.ends_with("microsoft.securityinsights/incidents")
                && workspace.as_ref().is_none_or(|w| path.contains(w.as_str()))
        })
        .cloned()
}

fn control_error(status: StatusCode, message: String) -> Response {
    status_json(status, &json!({"error": {"code": "BadRequest", "message": message}}))
}

/// A new incident with the given properties over generated defaults.
fn new_incident(
    c: &Collection,
    name: &str,
    number: i64,
    now: &str,
    etag: String,
    props: &Map<String, Value>,
) -> Value {
    let mut p = json!({
        "title": format!("Emulated incident {number}"),
        "description": "Added through the emulator's control endpoint.",
        "severity": "Medium",
        "status": "New",
        "owner": {"objectId": null, "email": null, "assignedTo": null, "userPrincipalName": null},
        "labels": [],
        "firstActivityTimeUtc": now,
        "lastActivityTimeUtc": now,
        "createdTimeUtc": now,
        "additionalData": {"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 0, "alertProductNames": [], "tactics": [], "techniques": []},
        "relatedAnalyticRuleIds": [],
        "incidentUrl": format!("https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/{}/{name}", c.path),
    });
    if let Some(o) = p.as_object_mut() {
        for (k, v) in props {
            o.insert(k.clone(), v.clone());
        }
        o.insert("incidentNumber".into(), json!(number));
        o.insert("lastModifiedTimeUtc".into(), json!(now));
    }
    json!({
        "id": format!("/{}/{name}", c.path),
        "name": name,
        "etag": etag,
        "type": "Microsoft.SecurityInsights/Incidents",
        "properties": p,
    })
}

async fn control_add(State(st): State<EmulatorState>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let Some(c) = incidents(&st, q.as_deref()) else {
        return control_error(StatusCode::NOT_FOUND, "No seeded Sentinel incidents collection.".into());
    };
    let mut obj = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) => o,
        _ if body.is_empty() => Map::new(),
        _ => {
            return control_error(
                StatusCode::BAD_REQUEST,
                "The body must be a JSON object of incident properties, or {\"count\": N}.".into(),
            );
        }
    };
    let count = match obj.remove("count") {
        None => None,
        Some(v) => match v.as_u64().filter(|n| (1..=MAX_BULK).contains(n)) {
            Some(n) => Some(n),
            None => {
                return control_error(
                    StatusCode::BAD_REQUEST,
                    format!("count must be a whole number from 1 to {MAX_BULK}."),
                );
            }
        },
    };
    let name = obj.remove("name").and_then(|v| v.as_str().map(str::to_owned));
    let store = st.store();
    let store_name = c.store_name();
    let now = now_text(&st);
    let mut number = store
        .list(&store_name)
        .iter()
        .filter_map(|i| get_path(i, "properties/incidentNumber").and_then(Value::as_i64))
        .max()
        .unwrap_or(0);
    let n = count.unwrap_or(1);
    let mut items = Vec::new();
    for _ in 0..n {
        number += 1;
        let id = match (&name, count) {
            (Some(n), None) => n.clone(),
            _ => format!("emu-{number:07}"),
        };
        let item = new_incident(&c, &id, number, &now, new_etag(store), &obj);
        items.push((id, item));
    }
    let added: Vec<Value> = items.iter().take(100).map(|(id, _)| json!(id)).collect();
    if let Err(id) = store.insert_all_new(&store_name, &c.key, items) {
        return control_error(StatusCode::CONFLICT, format!("An incident named '{id}' already exists."));
    }
    status_json(StatusCode::CREATED, &json!({"added": added, "count": n}))
}

fn change(st: &EmulatorState, q: Option<&str>, id: &str, patch: &Map<String, Value>) -> Response {
    let Some(c) = incidents(st, q) else {
        return control_error(StatusCode::NOT_FOUND, "No seeded Sentinel incidents collection.".into());
    };
    let now = now_text(st);
    let etag = new_etag(st.store());
    let changed = st.store().modify(&c.store_name(), &c.key, id, |item| {
        for (k, v) in patch {
            set_path(item, &format!("properties/{k}"), v.clone());
        }
        set_path(item, "properties/lastModifiedTimeUtc", json!(now));
        if let Some(o) = item.as_object_mut() {
            o.insert("etag".into(), json!(etag));
        }
    });
    match changed {
        Some(item) => json_ok(&item),
        None => control_error(StatusCode::NOT_FOUND, format!("No incident named '{id}'.")),
    }
}

async fn control_change(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) => change(&st, q.as_deref(), &id, &o),
        _ => control_error(
            StatusCode::BAD_REQUEST,
            "The body must be a JSON object of incident properties to change.".into(),
        ),
    }
}

async fn control_close(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let given = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) => o,
        _ if body.is_empty() => Map::new(),
        _ => return control_error(
            StatusCode::BAD_REQUEST,
            "The body must be a JSON object (classification, classificationReason, classificationComment)."
                .into(),
        ),
    };
    let mut patch = Map::new();
    patch.insert("status".into(), json!("Closed"));
    patch.insert(
        "classification".into(),
        given.get("classification").cloned().unwrap_or(json!("Undetermined")),
    );
    for k in ["classificationReason", "classificationComment"] {
        if let Some(v) = given.get(k) {
            patch.insert(k.into(), v.clone());
        }
    }
    change(&st, q.as_deref(), &id, &patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (filter, as the OData module gets it).
    #[test]
    fn search_in_becomes_an_or_of_equalities() {
        use super::super::seeded::search_in;
        let cases = [
            (
                "search.in(properties/relatedResourceKind, 'Account,Ip', ',')",
                "(properties/relatedResourceKind eq 'Account' or properties/relatedResourceKind eq 'Ip')",
            ),
            ("a eq 1 and search.in(k, 'x')", "a eq 1 and (k eq 'x')"),
            ("properties/severity eq 'High'", "properties/severity eq 'High'"),
        ];
        for (given, want) in cases {
            assert_eq!(search_in(given), want, "{given}");
        }
    }

    #[test]
    fn patterns_are_parsed_as_the_api_does() {
        assert_eq!(
            parsed_pattern("[ipv4-addr:value = '1.1.1.1']"),
            json!([{"patternTypeKey": "ipv4-addr", "patternTypeValues": [{"valueType": "value", "value": "1.1.1.1"}]}])
        );
        assert_eq!(
            parsed_pattern("[file:hashes.'SHA-256' = 'ab']")[0]["patternTypeValues"][0]["value"],
            "ab"
        );
        assert_eq!(parsed_pattern("nonsense"), json!([]));
    }

    /// (query body, indicator properties, passes).
    #[test]
    fn query_filters_apply_to_indicators() {
        let ind = json!({"properties": {"confidence": 80, "source": "Microsoft Sentinel", "threatTypes": ["malicious-activity"],
            "validUntil": "2030-01-01T00:00:00Z", "parsedPattern": [{"patternTypeKey": "ipv4-addr"}], "displayName": "bad host"}});
        let cases = [
            (json!({}), true),
            (json!({"minConfidence": 90}), false),
            (json!({"maxConfidence": "80"}), true),
            (json!({"sources": ["Partner"]}), false),
            (json!({"patternTypes": ["ipv4-address"]}), true),
            (json!({"patternTypes": ["domain-name"]}), false),
            (json!({"keywords": "bad"}), true),
            (json!({"maxValidUntil": "2025-01-01T00:00:00Z"}), false),
        ];
        for (q, want) in cases {
            assert_eq!(matches_query(&ind, q.as_object().unwrap_or(&Map::new())), want, "{q}");
        }
    }

    #[test]
    fn csv_rows_read_quotes_and_line_ends() {
        let cases = [
            ("IP,Owner\n10.0.0.1,alice\n", vec![vec!["IP", "Owner"], vec!["10.0.0.1", "alice"]]),
            ("a,b\r\n1,2", vec![vec!["a", "b"], vec!["1", "2"]]),
            ("a,\"b, c\",\"say \"\"hi\"\"\"\n", vec![vec!["a", "b, c", "say \"hi\""]]),
            ("a,,\n", vec![vec!["a", "", ""]]),
            ("\"multi\nline\",x\n", vec![vec!["multi\nline", "x"]]),
            ("", vec![]),
        ];
        for (text, want) in cases {
            assert_eq!(csv_rows(text), want, "{text:?}");
        }
    }
}
