//! Test endpoints under `/__emulator/` (never logged, never faulted):
//!
//! | method | path | effect |
//! |---|---|---|
//! | POST | `/__emulator/device/approve` | approve the pending device code `user_code` (form, JSON or query) |
//! | POST | `/__emulator/device/deny` | deny it |
//! | POST | `/__emulator/user/deny`, `/__emulator/user/allow` | the test user declines / accepts at /authorize and device sign-in |
//! | POST | `/__emulator/refresh-tokens/revoke` | revoke refresh tokens (all, or `user` = object id): AADSTS50173 |
//! | POST | `/__emulator/refresh-tokens/expire` | age refresh tokens past the inactivity limit: AADSTS700082 |
//! | GET/POST/DELETE | `/__emulator/faults` | list / add (a `FaultRule` JSON) / clear fault rules |
//! | DELETE | `/__emulator/faults/{id}` | remove one rule |
//! | POST | `/__emulator/faults/token-lifetime` | `{"seconds": N}` (or null) access tokens expire after N s |
//! | GET/DELETE | `/__emulator/requests` | the request log (`?path=` prefix filter) / clear it |
//! | GET | `/__emulator/config` | the registrations in force |
//! | GET | `/__emulator/health` | `ok` |
//! | POST | `/__emulator/sentinel/incidents[?workspace=W]` | add a Sentinel incident (JSON properties), or `{"count": N}` generated ones (bulk, up to 100,000) |
//! | PATCH | `/__emulator/sentinel/incidents/{id}[?workspace=W]` | change an incident's properties (new etag and `lastModifiedTimeUtc`) |
//! | POST | `/__emulator/sentinel/incidents/{id}/close[?workspace=W]` | close it with a classification (see `apis::sentinel`) |
//! | POST | `/__emulator/defender/alerts` | add `{"count": N}` generated Defender alerts (bulk, up to 100,000; other keys set on each, see `apis::defender`) |

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{Method, StatusCode, Uri};
use serde_json::{Value, json};

use crate::apis::json_ok;
use crate::faults::FaultRule;
use crate::identity::Form;
use crate::state::EmulatorState;

/// The test routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
        .route("/__emulator/health", get(|| async { "ok" }))
        .route("/__emulator/device/approve", post(device_approve))
        .route("/__emulator/device/deny", post(device_deny))
        .route(
            "/__emulator/user/deny",
            post(|State(st): State<EmulatorState>| async move {
                st.set_user_denies(true);
                json_ok(&json!({"user_denies": true}))
            }),
        )
        .route(
            "/__emulator/user/allow",
            post(|State(st): State<EmulatorState>| async move {
                st.set_user_denies(false);
                json_ok(&json!({"user_denies": false}))
            }),
        )
        .route("/__emulator/refresh-tokens/revoke", post(revoke))
        .route(
            "/__emulator/refresh-tokens/expire",
            post(|State(st): State<EmulatorState>| async move {
                json_ok(&json!({"expired": st.expire_refresh_tokens()}))
            }),
        )
        .route("/__emulator/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/__emulator/faults/token-lifetime", post(token_lifetime))
        .route("/__emulator/faults/{id}", axum::routing::delete(remove_fault))
        .route("/__emulator/requests", get(requests).delete(clear_requests))
        .route(
            "/__emulator/config",
            get(|State(st): State<EmulatorState>| async move {
                json_ok(&serde_json::to_value(st.config()).unwrap_or(Value::Null))
            }),
        )
}

/// The fallback for unknown routes: a JSON 404 naming the route.
pub async fn not_found(method: Method, uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        json!({"error": {"code": "NotFound", "message": format!("The emulator has no route for {method} {}.", uri.path())}}).to_string(),
    )
        .into_response()
}

/// A parameter from the JSON body, the form body or the query.
fn param(body: &[u8], query: Option<&str>, name: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(s) = v.get(name).and_then(Value::as_str)
    {
        return Some(s.to_string());
    }
    if let Some(s) = Form::parse(body).get(name) {
        return Some(s.to_string());
    }
    query.and_then(|q| Form::parse(q.as_bytes()).get(name).map(str::to_string))
}

fn decide(st: &EmulatorState, body: &[u8], query: Option<&str>, approve: bool) -> Response {
    let Some(code) = param(body, query, "user_code") else {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": "send user_code (form, JSON or query)"}).to_string(),
        )
            .into_response();
    };
    let done = if approve { st.approve_device_code(&code) } else { st.deny_device_code(&code) };
    if done {
        json_ok(&json!({"user_code": code, "approved": approve}))
    } else {
        (
            StatusCode::NOT_FOUND,
            json!({"error": format!("no pending device code has user_code '{code}'")}).to_string(),
        )
            .into_response()
    }
}

async fn device_approve(State(st): State<EmulatorState>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    decide(&st, &body, q.as_deref(), true)
}

async fn device_deny(State(st): State<EmulatorState>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    decide(&st, &body, q.as_deref(), false)
}

async fn revoke(State(st): State<EmulatorState>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let user = param(&body, q.as_deref(), "user");
    json_ok(&json!({"revoked": st.revoke_refresh_tokens(user.as_deref())}))
}

async fn list_faults(State(st): State<EmulatorState>) -> Response {
    json_ok(&json!({"rules": st.faults().rules(), "token_lifetime": st.faults().token_lifetime_override()}))
}

async fn add_fault(State(st): State<EmulatorState>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => json_ok(&json!({"id": st.faults().add(rule)})),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            json!({"error": format!("not a fault rule: {e}. Example: {{\"path\":\"/{{tenant}}/oauth2/v2.0/token\",\"fault\":{{\"kind\":\"status\",\"status\":429,\"retry_after\":2}},\"count\":1}}")}).to_string(),
        )
            .into_response(),
    }
}

async fn clear_faults(State(st): State<EmulatorState>) -> Response {
    st.faults().clear();
    json_ok(&json!({"cleared": true}))
}

async fn remove_fault(State(st): State<EmulatorState>, Path(id): Path<u64>) -> Response {
    if st.faults().remove(id) {
        json_ok(&json!({"removed": id}))
    } else {
        (StatusCode::NOT_FOUND, json!({"error": format!("no fault rule {id}")}).to_string()).into_response()
    }
}

async fn token_lifetime(State(st): State<EmulatorState>, body: Bytes) -> Response {
    let secs =
        serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("seconds").and_then(Value::as_u64));
    st.faults().set_token_lifetime(secs.filter(|s| *s > 0));
    json_ok(&json!({"token_lifetime": st.faults().token_lifetime_override()}))
}

async fn requests(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> Response {
    let log = st.request_log();
    let prefix = q
        .as_deref()
        .and_then(|q| Form::parse(q.as_bytes()).get("path").map(str::to_string))
        .unwrap_or_default();
    let entries: Vec<_> = log.entries().into_iter().filter(|e| e.path.starts_with(&prefix)).collect();
    let tail: Vec<_> = entries.iter().rev().take(1000).rev().cloned().collect();
    json_ok(
        &json!({"total": log.total(), "token_requests": log.token_requests(), "matching": entries.len(), "entries": tail}),
    )
}

async fn clear_requests(State(st): State<EmulatorState>) -> Response {
    st.request_log().clear();
    json_ok(&json!({"cleared": true}))
}
