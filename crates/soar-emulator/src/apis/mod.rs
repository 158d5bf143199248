//! The resource-API framework the integrations' emulated APIs are built on.
//!
//! - [`authenticate`]: validates the bearer token (signature by the emulator's key, `exp`/`nbf`,
//!   `aud` accepted on this host for this API, the required application role or delegated
//!   scope) and answers 401/403 with the service's real error body ([`ApiError`]).
//! - [`arm_authorize`]: ARM's RBAC check (authorization before existence).
//! - [`Store`]: a seeded in-memory JSON store with interior mutability, loaded from
//!   `test-data/emulator/*.json` and `--data DIR/seed/*.json` (each file an object mapping
//!   collection names to arrays of items).
//! - Pagination: [`graph_list`] (`$top`, `$skiptoken`, optional `$skip`, absolute
//!   `@odata.nextLink`), [`arm_list`] (`nextLink` with `$skiptoken`), [`odata_skip_list`]
//!   (Defender's `$top`/`$skip`).
//!
//! - [`answer`]: a route's result as its response, errors in the service's shape.
//!
//! Routes live in `graph.rs`, `arm.rs`, ... (owned by the integration engineers) and are merged
//! by [`routes`]. Beside them, [`seeded`] serves generic collections from data
//! (`test-data/<integration>/emulator-seed.json`, compiled in by `build.rs`) as the router's
//! fallback, so a new integration's emulator needs a seed file rather than code. A handler starts from a [`Call`](crate::meta::Call) (state, request metadata,
//! headers):
//! ```text
//! async fn list_users(call: Call, Query(q): Query<Vec<(String, String)>>) -> Response {
//!     let Call { st, meta, headers } = &call;
//!     let result = authenticate(st, headers, meta, ApiKind::Graph, &Need::any(&["User.Read.All"], &["User.Read.All"]))
//!         .and_then(|_| graph_list(meta, "/v1.0/users", &q, st.store().list("graph.users"), 100, 999, false, "users"));
//!     answer(st, meta, result, |body| json_ok(&body))
//! }
//! ```

pub mod arm;
pub mod defender;
pub mod graph;
pub mod odata;
pub mod seeded;
pub mod sentinel;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::RwLock;

use axum::Router;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::Error;
use crate::clouds::{self, ApiKind};
use crate::keys::Jwt;
use crate::meta::RequestMeta;
use crate::state::EmulatorState;

/// Every resource-API route.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
        .merge(graph::routes())
        .merge(arm::routes())
        .merge(sentinel::routes())
        .merge(defender::routes())
}

/// A route's result as its response: `ok` renders the value, an error gets the service's body.
pub fn answer<T>(
    st: &EmulatorState,
    meta: &RequestMeta,
    result: Result<T, ApiError>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match result {
        Ok(v) => ok(v),
        Err(e) => e.respond(st, meta),
    }
}

/// The caller a valid token describes.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `tid`.
    pub tenant_id: String,
    /// `oid`: the service principal, user or managed identity object id.
    pub object_id: String,
    /// `appid` (or `azp`).
    pub app_id: String,
    /// Application permissions (`roles`).
    pub roles: Vec<String>,
    /// Delegated permissions (`scp`, split on spaces).
    pub scopes: Vec<String>,
    /// True for app-only tokens (no `scp`).
    pub is_app: bool,
    /// `upn` for user tokens.
    pub upn: Option<String>,
    /// All claims.
    pub claims: Value,
}

impl Principal {
    /// True when the token carries application permission `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }
    /// True when the token carries delegated permission `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.eq_ignore_ascii_case(scope))
    }
}

/// What a route requires: any one of `roles` for app-only tokens, any one of `scopes` for
/// delegated tokens. An empty list means "any valid token of that kind".
#[derive(Debug, Clone, Copy, Default)]
pub struct Need {
    /// Accepted application permissions.
    pub roles: &'static [&'static str],
    /// Accepted delegated permissions.
    pub scopes: &'static [&'static str],
}

impl Need {
    /// Any valid token.
    pub const NONE: Need = Need { roles: &[], scopes: &[] };
    /// Any of `roles` (app-only) or any of `scopes` (delegated).
    pub const fn any(roles: &'static [&'static str], scopes: &'static [&'static str]) -> Need {
        Need { roles, scopes }
    }
}

/// An API error with the service's body shape for [`ApiError::api`].
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Which service's shape to use.
    pub api: ApiKind,
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `WWW-Authenticate` value (401s).
    pub www_authenticate: Option<String>,
}

impl ApiError {
    /// A new error.
    pub fn new(api: ApiKind, status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { api, status, code: code.to_string(), message: message.into(), www_authenticate: None }
    }

    /// Graph 404 `Request_ResourceNotFound`.
    pub fn graph_not_found(id: &str) -> ApiError {
        ApiError::new(
            ApiKind::Graph,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// ARM 400 `MissingApiVersionParameter`.
    pub fn arm_missing_api_version() -> ApiError {
        ApiError::new(
            ApiKind::Arm,
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    }

    /// The body and headers.
    pub fn respond(&self, st: &EmulatorState, meta: &RequestMeta) -> Response {
        let body = match self.api {
            ApiKind::Graph => json!({"error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": graph_date(st.now_secs()),
                    "request-id": meta.request_id,
                    "client-request-id": meta.correlation_id,
                }
            }}),
            ApiKind::Defender | ApiKind::Security => {
                json!({"error": {"code": self.code, "message": self.message, "target": meta.request_id}})
            }
            _ => json!({"error": {"code": self.code, "message": self.message}}),
        };
        let mut resp = (self.status, body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        if let Some(w) = &self.www_authenticate
            && let Ok(v) = HeaderValue::from_str(w)
        {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        api_headers(h, self.api, meta);
        resp
    }
}

/// Adds each service's id headers.
pub fn api_headers(h: &mut HeaderMap, api: ApiKind, meta: &RequestMeta) {
    let set = |h: &mut HeaderMap, name: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(name, v);
        }
    };
    match api {
        ApiKind::Graph => {
            set(h, "request-id", &meta.request_id);
            set(h, "client-request-id", &meta.correlation_id);
        }
        ApiKind::Arm => {
            set(h, "x-ms-correlation-request-id", &meta.correlation_id);
            set(h, "x-ms-routing-request-id", &format!("EMULATOR:{}", meta.request_id));
        }
        _ => {}
    }
}

/// A JSON response with `status`.
pub fn status_json(status: StatusCode, body: &Value) -> Response {
    // The same bytes as `body.to_string()`, without the `fmt::Write` adapter in between.
    status_json_bytes(status, serde_json::to_vec(body).unwrap_or_default())
}

/// A JSON response from bytes already serialized.
pub fn status_json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

/// A 200 JSON response.
pub fn json_ok(body: &Value) -> Response {
    status_json(StatusCode::OK, body)
}

/// [`json_ok`] taking the value: the `ok` of a route that answers 200 with it.
pub fn ok_json(body: Value) -> Response {
    json_ok(&body)
}

/// Graph's `innerError.date`: ISO 8601, no fraction, no `Z`.
pub fn graph_date(secs: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&fmt).ok()).unwrap_or_default()
}

fn arm_time(secs: i64) -> String {
    let fmt = time::macros::format_description!(
        "[month padding:none]/[day padding:none]/[year] [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    time::OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&fmt).ok()).unwrap_or_default()
}

/// The 401 each service sends for `problem`.
fn unauthorized(api: ApiKind, problem: Problem, host: &str, aud: &str, times: (i64, i64)) -> ApiError {
    use Problem::*;
    let s = StatusCode::UNAUTHORIZED;
    let mut e = match api {
        ApiKind::Graph => {
            let msg = match problem {
                Missing => "Access token is empty.".to_string(),
                Malformed => "CompactToken parsing failed with error code: 80049217".to_string(),
                Signature => "Access token validation failure.".to_string(),
                Expired => "Lifetime validation failed, the token is expired.".to_string(),
                NotYetValid => "Access token has expired or is not yet valid.".to_string(),
                Audience => "Access token validation failure. Invalid audience.".to_string(),
            };
            let mut e = ApiError::new(api, s, "InvalidAuthenticationToken", msg);
            e.www_authenticate = Some(r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#.into());
            e
        }
        ApiKind::Arm => {
            let (code, msg) = match problem {
                Missing => (
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.".to_string(),
                ),
                Malformed => ("AuthenticationFailed", "Authentication failed.".to_string()),
                Signature => ("InvalidAuthenticationToken", "The access token is invalid.".to_string()),
                Expired | NotYetValid => (
                    "ExpiredAuthenticationToken",
                    format!(
                        "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                        arm_time(times.0),
                        arm_time(times.1)
                    ),
                ),
                Audience => {
                    let allowed: Vec<String> = clouds::accepted_audiences(ApiKind::Arm, host)
                        .iter()
                        .filter(|a| a.starts_with("https://"))
                        .flat_map(|a| [format!("'{a}/'"), format!("'{a}'")])
                        .collect();
                    (
                        "InvalidAuthenticationTokenAudience",
                        format!(
                            "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {}.",
                            allowed.join(",")
                        ),
                    )
                }
            };
            let mut e = ApiError::new(api, s, code, msg);
            let desc = match problem {
                Missing => "The authentication failed because of missing 'Authorization' header.",
                _ => "The access token is invalid.",
            };
            e.www_authenticate = Some(format!(
                r#"Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="{desc}""#
            ));
            e
        }
        ApiKind::Defender | ApiKind::Security => {
            let msg = match problem {
                Missing => "Authorization header is missing.",
                Expired | NotYetValid => "The access token has expired.",
                Audience => "The access token audience is not valid for this API.",
                _ => "The access token is invalid.",
            };
            ApiError::new(api, s, "Unauthorized", msg)
        }
        _ => ApiError::new(api, s, "InvalidAuthenticationToken", "The access token is missing or invalid."),
    };
    if api != ApiKind::Graph && api != ApiKind::Arm && e.www_authenticate.is_none() {
        e.www_authenticate = Some(r#"Bearer error="invalid_token""#.into());
    }
    e
}

#[derive(Debug, Clone, Copy)]
enum Problem {
    Missing,
    Malformed,
    Signature,
    Expired,
    NotYetValid,
    Audience,
}

/// Validates the bearer token for a route of `api` and checks `need`.
pub fn authenticate(
    st: &EmulatorState,
    headers: &HeaderMap,
    meta: &RequestMeta,
    api: ApiKind,
    need: &Need,
) -> Result<Principal, ApiError> {
    authenticate_any(st, headers, meta, api, need.roles, need.scopes)
}

/// [`authenticate`] with the permissions as borrowed lists (routes whose permissions come from
/// data, such as the seeded collections): any one of `roles` (app-only tokens) or of `scopes`
/// (delegated) is enough, and an empty list accepts any valid token of that kind.
pub fn authenticate_any(
    st: &EmulatorState,
    headers: &HeaderMap,
    meta: &RequestMeta,
    api: ApiKind,
    roles: &[&str],
    scopes: &[&str],
) -> Result<Principal, ApiError> {
    let now = st.now_secs();
    let fail = |p: Problem, aud: &str, times: (i64, i64)| Err(unauthorized(api, p, &meta.host, aud, times));
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return fail(Problem::Missing, "", (0, 0));
    };
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or("").trim();
    if token.is_empty() {
        return fail(Problem::Missing, "", (0, 0));
    }
    let Some(jwt) = Jwt::parse(token) else { return fail(Problem::Malformed, "", (0, 0)) };
    if jwt.alg() != "RS256" || !st.signed_by_us(token, &jwt) {
        return fail(Problem::Signature, "", (0, 0));
    }
    let exp = jwt.time_claim("exp").unwrap_or(0.0) as i64;
    let nbf = jwt.time_claim("nbf").unwrap_or(0.0) as i64;
    if exp <= now {
        return fail(Problem::Expired, "", (exp, now));
    }
    if nbf > now + st.config().behaviour.clock_skew_secs as i64 {
        return fail(Problem::NotYetValid, "", (exp, now));
    }
    let aud = jwt.str_claim("aud").unwrap_or("").to_string();
    let accepted = clouds::accepted_audiences(api, &meta.host);
    let custom_ok = api == ApiKind::Custom
        && st.config().custom_resources.iter().any(|c| {
            c.app_id.eq_ignore_ascii_case(&aud)
                || c.audiences.iter().any(|a| clouds::norm_aud(a) == clouds::norm_aud(&aud))
        });
    if !custom_ok && !accepted.iter().any(|a| clouds::norm_aud(a) == clouds::norm_aud(&aud)) {
        return fail(Problem::Audience, &aud, (0, 0));
    }
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let token_scopes: Vec<String> =
        jwt.str_claim("scp").map(|s| s.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
    let principal = Principal {
        tenant_id: jwt.str_claim("tid").unwrap_or("").to_string(),
        object_id: jwt.str_claim("oid").unwrap_or("").to_string(),
        app_id: jwt.str_claim("appid").or_else(|| jwt.str_claim("azp")).unwrap_or("").to_string(),
        roles: strings(jwt.claims.get("roles")),
        is_app: jwt.claims.get("scp").is_none(),
        scopes: token_scopes,
        upn: jwt.str_claim("upn").map(str::to_string),
        claims: jwt.claims.clone(),
    };
    let allowed = if principal.is_app {
        roles.is_empty() || roles.iter().any(|r| principal.has_role(r))
    } else {
        scopes.is_empty() || scopes.iter().any(|s| principal.has_scope(s))
    };
    if !allowed {
        return Err(forbidden(api, roles, scopes));
    }
    Ok(principal)
}

fn forbidden(api: ApiKind, roles: &[&str], scopes: &[&str]) -> ApiError {
    let s = StatusCode::FORBIDDEN;
    match api {
        ApiKind::Graph => ApiError::new(
            api,
            s,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        ApiKind::Defender | ApiKind::Security => {
            let mut wanted: Vec<&str> = roles.to_vec();
            wanted.extend(scopes.iter().filter(|s| !roles.contains(s)));
            ApiError::new(
                api,
                s,
                "Forbidden",
                format!("Missing application roles. API required roles: {}.", wanted.join(",")),
            )
        }
        _ => ApiError::new(api, s, "Forbidden", "The caller does not have the required permission."),
    }
}

/// ARM RBAC: the principal needs a role assignment on a prefix of `scope`. Check this before
/// looking the resource up (ARM answers 403, not 404, to callers without access).
pub fn arm_authorize(st: &EmulatorState, p: &Principal, action: &str, scope: &str) -> Result<(), ApiError> {
    let cfg = st.config();
    let scopes: Vec<&String> = if p.is_app {
        cfg.apps
            .iter()
            .filter(|a| a.client_id.eq_ignore_ascii_case(&p.app_id))
            .flat_map(|a| a.arm_scopes.iter())
            .chain(
                cfg.managed_identities
                    .iter()
                    .filter(|m| m.object_id.eq_ignore_ascii_case(&p.object_id))
                    .flat_map(|m| m.arm_scopes.iter()),
            )
            .collect()
    } else {
        cfg.users
            .iter()
            .filter(|u| u.object_id.eq_ignore_ascii_case(&p.object_id))
            .flat_map(|u| u.arm_scopes.iter())
            .collect()
    };
    let scope_l = scope.to_ascii_lowercase();
    let reads = action.to_ascii_lowercase().ends_with("/read");
    let ok = scopes.iter().any(|s| {
        // `reader:<scope>` is a Reader role assignment: read actions only.
        let s = match s.strip_prefix("reader:") {
            Some(_) if !reads => return false,
            Some(rest) => rest,
            None => s.as_str(),
        };
        let s = s.trim_end_matches('/').to_ascii_lowercase();
        s.is_empty() || scope_l == s || scope_l.starts_with(&format!("{s}/"))
    });
    if ok {
        return Ok(());
    }
    let who = p.upn.clone().unwrap_or_else(|| p.object_id.clone());
    Err(ApiError::new(
        ApiKind::Arm,
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{who}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            p.object_id
        ),
    ))
}

/// The seeded in-memory data store: named collections of JSON items.
#[derive(Debug, Default)]
pub struct Store(RwLock<BTreeMap<String, Vec<Value>>>);

impl Store {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Vec<Value>>> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Vec<Value>>> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads every `*.json` in `dir` (sorted by name); a missing dir is not an error.
    pub fn load_dir(&self, dir: &Path) -> Result<(), Error> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|source| Error::Io {
                context: format!("reading seed file {}", f.display()),
                source,
            })?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| Error::Config(format!("seed file {} is not JSON: {e}", f.display())))?;
            self.load_value(&value).map_err(|e| Error::Config(format!("seed file {}: {e}", f.display())))?;
        }
        Ok(())
    }

    /// Merges `{"collection": [items...], ...}` into the store (appending).
    pub fn load_value(&self, value: &Value) -> Result<(), String> {
        let Some(obj) = value.as_object() else {
            return Err("the top level must be an object of collection name -> array".into());
        };
        let mut w = self.write();
        for (name, items) in obj {
            let Some(items) = items.as_array() else {
                return Err(format!("collection '{name}' must be an array"));
            };
            w.entry(name.clone()).or_default().extend(items.iter().cloned());
        }
        Ok(())
    }

    /// Runs `f` on the items of a collection (empty when unknown) under the read lock, without
    /// copying them; `f` must not use the store itself.
    pub fn with<R>(&self, collection: &str, f: impl FnOnce(&[Value]) -> R) -> R {
        f(self.read().get(collection).map_or(&[][..], Vec::as_slice))
    }

    /// All items of a collection (empty when unknown).
    pub fn list(&self, collection: &str) -> Vec<Value> {
        self.read().get(collection).cloned().unwrap_or_default()
    }

    /// The names of the collections.
    pub fn collections(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// The first item whose `field` equals `value` (strings compared case-insensitively).
    pub fn find(&self, collection: &str, field: &str, value: &str) -> Option<Value> {
        self.read().get(collection)?.iter().find(|i| field_eq(i, field, value)).cloned()
    }

    /// Appends an item.
    pub fn insert(&self, collection: &str, item: Value) {
        self.write().entry(collection.to_string()).or_default().push(item);
    }

    /// Merges `patch`'s top-level keys into the matching item; returns the updated item.
    pub fn update(&self, collection: &str, field: &str, value: &str, patch: &Value) -> Option<Value> {
        let mut w = self.write();
        let item = w.get_mut(collection)?.iter_mut().find(|i| field_eq(i, field, value))?;
        if let (Some(obj), Some(p)) = (item.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                obj.insert(k.clone(), v.clone());
            }
        }
        Some(item.clone())
    }

    /// Runs `f` on the matching item under one write lock; returns the item as `f` left it.
    pub fn modify(
        &self,
        collection: &str,
        field: &str,
        value: &str,
        f: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let mut w = self.write();
        let item = w.get_mut(collection)?.iter_mut().find(|i| field_eq(i, field, value))?;
        f(item);
        Some(item.clone())
    }

    /// Appends `item` unless an item's `field` already equals `value` (one lock, so two
    /// concurrent creates of one key cannot both succeed); false when one did.
    pub fn insert_new(&self, collection: &str, field: &str, value: &str, item: Value) -> bool {
        let mut w = self.write();
        let items = w.entry(collection.to_string()).or_default();
        if items.iter().any(|i| field_eq(i, field, value)) {
            return false;
        }
        items.push(item);
        true
    }

    /// Appends `items` (each with its key value) under one lock, unless a key is already used
    /// (by the collection or by another of `items`): then nothing is added and that key is
    /// returned. A set of the keys makes a bulk of N items O(N), not O(N^2).
    pub fn insert_all_new(
        &self,
        collection: &str,
        field: &str,
        items: Vec<(String, Value)>,
    ) -> Result<(), String> {
        let mut w = self.write();
        let list = w.entry(collection.to_string()).or_default();
        let mut keys: std::collections::HashSet<String> = list
            .iter()
            .filter_map(|i| i.get(field))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_lowercase))
            .collect();
        for (k, _) in &items {
            if !keys.insert(k.to_lowercase()) {
                return Err(k.clone());
            }
        }
        list.extend(items.into_iter().map(|(_, v)| v));
        Ok(())
    }

    /// Replaces the item whose `field` equals `value`, or appends `item`; true when appended.
    pub fn upsert(&self, collection: &str, field: &str, value: &str, item: Value) -> bool {
        let mut w = self.write();
        let items = w.entry(collection.to_string()).or_default();
        match items.iter_mut().find(|i| field_eq(i, field, value)) {
            Some(slot) => {
                *slot = item;
                false
            }
            None => {
                items.push(item);
                true
            }
        }
    }

    /// Removes the matching item; returns it.
    pub fn remove(&self, collection: &str, field: &str, value: &str) -> Option<Value> {
        let mut w = self.write();
        let items = w.get_mut(collection)?;
        let idx = items.iter().position(|i| field_eq(i, field, value))?;
        Some(items.remove(idx))
    }

    /// Replaces a whole collection.
    pub fn replace(&self, collection: &str, items: Vec<Value>) {
        self.write().insert(collection.to_string(), items);
    }
}

fn field_eq(item: &Value, field: &str, value: &str) -> bool {
    match item.get(field) {
        Some(Value::String(s)) => s.eq_ignore_ascii_case(value),
        Some(other) => *other == value.parse::<Value>().unwrap_or(Value::Null),
        None => false,
    }
}

/// An opaque `$skiptoken` for an offset.
pub fn skiptoken(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("emu-skip:{offset}"))
}

/// The offset a `$skiptoken` encodes.
pub fn parse_skiptoken(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("emu-skip:")?.parse().ok()
}

fn q<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn next_link(
    meta: &RequestMeta,
    path: &str,
    query: &[(String, String)],
    drop: &[&str],
    add: &[(&str, String)],
) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query.iter().filter(|(k, _)| !drop.contains(&k.as_str())) {
        ser.append_pair(k, v);
    }
    for (k, v) in add {
        ser.append_pair(k, v);
    }
    format!("{}{path}?{}", meta.base_url(), ser.finish())
}

/// `$top` between 1 and `max_top` (`default_top` when absent); `Err` carries the text sent.
fn top_param(query: &[(String, String)], default_top: usize, max_top: usize) -> Result<usize, &str> {
    match q(query, "$top") {
        Some(t) => t.parse::<usize>().ok().filter(|n| (1..=max_top).contains(n)).ok_or(t),
        None => Ok(default_top),
    }
}

/// An OData page: `@odata.context` (`metadata`), `value` (up to `top` items from `offset`) and,
/// while more remain, `@odata.nextLink` (`next_link` of the next offset).
fn odata_page<T>(
    metadata: String,
    items: &[T],
    shape: impl Fn(&T) -> Value,
    offset: usize,
    top: usize,
    next_link: impl FnOnce(usize) -> String,
) -> Value {
    let page: Vec<Value> = items.iter().skip(offset).take(top).map(shape).collect();
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), json!(metadata));
    body.insert("value".into(), Value::Array(page));
    let next = offset.saturating_add(top);
    if next < items.len() {
        body.insert("@odata.nextLink".into(), json!(next_link(next)));
    }
    Value::Object(body)
}

/// A Graph collection page: `$top` (1..=max_top, default `default_top`), `$skiptoken`, and `$skip`
/// only when `allow_skip` (Graph's `/users` refuses it). `context` names the `@odata.context`
/// fragment (e.g. `users`).
#[allow(clippy::too_many_arguments)]
pub fn graph_list(
    meta: &RequestMeta,
    path: &str,
    query: &[(String, String)],
    items: Vec<Value>,
    default_top: usize,
    max_top: usize,
    allow_skip: bool,
    context: &str,
) -> Result<Value, ApiError> {
    let page = graph_page(meta, path, query, items.len(), default_top, max_top, allow_skip, context)?;
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), Value::String(page.metadata));
    let value = items.into_iter().skip(page.offset).take(page.top).collect();
    body.insert("value".into(), Value::Array(value));
    if let Some(next) = page.next_link {
        body.insert("@odata.nextLink".into(), Value::String(next));
    }
    Ok(Value::Object(body))
}

/// The bounds of a Graph collection page ([`graph_page`]): its `@odata.context`, the items it
/// holds (`top` from `offset`) and the `@odata.nextLink` while more remain.
pub struct GraphPage {
    pub metadata: String,
    pub offset: usize,
    pub top: usize,
    pub next_link: Option<String>,
}

/// [`graph_list`]'s paging of `len` items without the items, for a route that writes its page
/// from borrowed data (the users listing serializes straight from the store).
#[allow(clippy::too_many_arguments)]
pub fn graph_page(
    meta: &RequestMeta,
    path: &str,
    query: &[(String, String)],
    len: usize,
    default_top: usize,
    max_top: usize,
    allow_skip: bool,
    context: &str,
) -> Result<GraphPage, ApiError> {
    let bad = |m: String| ApiError::new(ApiKind::Graph, StatusCode::BAD_REQUEST, "Request_BadRequest", m);
    let top = top_param(query, default_top, max_top).map_err(|t| {
        bad(format!("Invalid page size specified: '{t}'. Must be between 1 and {max_top} inclusive."))
    })?;
    let mut offset = 0;
    if let Some(s) = q(query, "$skip") {
        if !allow_skip {
            return Err(bad("'$skip' is not supported by the service.".into()));
        }
        offset = s.parse().map_err(|_| bad(format!("Invalid value '{s}' for $skip.")))?;
    }
    if let Some(t) = q(query, "$skiptoken") {
        offset = parse_skiptoken(t).ok_or_else(|| bad("Invalid $skiptoken.".into()))?;
    }
    let version = if path.starts_with("/beta") { "beta" } else { "v1.0" };
    let metadata = format!("{}/{version}/$metadata#{context}", meta.base_url());
    let next = offset.saturating_add(top);
    let next_link = (next < len).then(|| {
        next_link(
            meta,
            path,
            query,
            &["$skiptoken", "$skip", "$top"],
            &[("$top", top.to_string()), ("$skiptoken", skiptoken(next))],
        )
    });
    Ok(GraphPage { metadata, offset, top, next_link })
}

/// An ARM collection page of `page_size` items, with `nextLink` (`$skiptoken`) while more remain.
pub fn arm_list(
    meta: &RequestMeta,
    path: &str,
    query: &[(String, String)],
    items: Vec<Value>,
    page_size: usize,
) -> Result<Value, ApiError> {
    let offset = match q(query, "$skiptoken") {
        Some(t) => parse_skiptoken(t).ok_or_else(|| {
            ApiError::new(
                ApiKind::Arm,
                StatusCode::BAD_REQUEST,
                "InvalidSkipToken",
                "The skip token is not valid.",
            )
        })?,
        None => 0,
    };
    let size = page_size.max(1);
    let page: Vec<Value> = items.iter().skip(offset).take(size).cloned().collect();
    let mut body = json!({"value": page});
    if offset.saturating_add(size) < items.len() {
        body["nextLink"] = json!(next_link(
            meta,
            path,
            query,
            &["$skiptoken"],
            &[("$skiptoken", skiptoken(offset.saturating_add(size)))]
        ));
    }
    Ok(body)
}

/// An OData page with `$top`/`$skip` (Defender): `nextLink` carries `$skip`. `shape` makes the
/// answer's value of each item of the page (only those are copied).
#[allow(clippy::too_many_arguments)]
pub fn odata_skip_list<T>(
    meta: &RequestMeta,
    path: &str,
    query: &[(String, String)],
    items: &[T],
    shape: impl Fn(&T) -> Value,
    default_top: usize,
    max_top: usize,
    context: &str,
) -> Result<Value, ApiError> {
    let bad = |m: String| ApiError::new(ApiKind::Defender, StatusCode::BAD_REQUEST, "ODataError", m);
    let top =
        top_param(query, default_top, max_top).map_err(|t| bad(format!("Invalid $top value '{t}'.")))?;
    let skip = match q(query, "$skip") {
        Some(s) => s.parse::<usize>().map_err(|_| bad(format!("Invalid $skip value '{s}'.")))?,
        None => 0,
    };
    let metadata = format!("{}/api/$metadata#{context}", meta.base_url());
    Ok(odata_page(metadata, items, shape, skip, top, |next| {
        next_link(
            meta,
            path,
            query,
            &["$skip", "$top"],
            &[("$top", top.to_string()), ("$skip", next.to_string())],
        )
    }))
}
