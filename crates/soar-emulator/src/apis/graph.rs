//! Microsoft Graph `v1.0` users routes (what `msgraph-user` calls), on the framework in
//! `apis/mod.rs`: users (list with `$filter`/`$select`/`$top`/`$count` and next-link paging,
//! get, create, update, delete, delta), manager and direct reports, sign-in session
//! revocation, password methods (reset) and Temporary Access Pass methods; `graph/current.rs`
//! the routes of the current reference's commands (memberOf, ownedDevices, authentication
//! methods, signInPreferences, reset operations, the MFA connector's service principal and
//! endpoint).
//!
//! Password changes (`passwordProfile` in a PATCH, `resetPassword`) are refused to
//! application-only tokens with 403 `Authorization_RequestDenied` "Insufficient privileges to
//! complete the operation.", as Graph does, unless the app holds
//! `User-PasswordProfile.ReadWrite.All`; a `passwordProfile` with only
//! `forceChangePasswordNextSignIn` forces a change without setting a password. `resetPassword`
//! answers 202 with the status URL of a long-running operation (`graph/current.rs`).
//!
//! Data: `test-data/msgraph-user/graph-seed.json` (plain data, compiled in) is loaded into the
//! store the first time a Graph route runs, unless a seed file already filled `graph.users`.
//! Collections: `graph.users` (internal fields start with `_`: `_managerId`), `graph.tap`
//! (`_userId` + the method).
//!
//! Permissions (application role for app-only tokens, delegated scope otherwise):
//! - read users: `User.Read.All`, `User.ReadWrite.All`, `Directory.Read.All`, `Directory.ReadWrite.All`
//!   (+ delegated `User.ReadBasic.All`, `Directory.AccessAsUser.All`);
//! - write users: `User.ReadWrite.All`, `Directory.ReadWrite.All` (+ delegated
//!   `Directory.AccessAsUser.All`); anything less gets 403 `Authorization_RequestDenied`
//!   "Insufficient privileges to complete the operation.";
//! - authentication methods: `UserAuthenticationMethod.Read[Write].All`. Leniency: delegated
//!   `Directory.AccessAsUser.All` is accepted too, because the emulator's delegated `.default`
//!   consent does not include the authentication-method scopes.
//!
//! Decisions where Microsoft's behaviour is not pinned down by the fact sheet:
//! - ids of created objects are derived from their key (UPN, user + start time), so runs are
//!   reproducible; the TAP itself is derived the same way;
//! - `$select=*` returns every stored property; no `$select` returns Graph's default set;
//! - `$count=true` needs `ConsistencyLevel: eventual`, except on a next link (`$skiptoken`);
//! - a user that cannot be found on an authentication-method route answers 404 `itemNotFound`
//!   "The specified user could not be found." (the text the reference integration matches).

mod current;

use std::sync::Mutex;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::{
    ApiError, Need, answer, authenticate, graph_list, graph_page, ok_json, status_json, status_json_bytes,
};
use crate::aad::iso7;
use crate::clouds::ApiKind;
use crate::meta::{Call, RequestMeta};
use crate::state::EmulatorState;

const USERS: &str = "graph.users";
const TAP: &str = "graph.tap";
/// The one password method every user has (Graph's fixed id).
const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";
const SEED: &str = include_str!("../../../../test-data/msgraph-user/graph-seed.json");

const READ: Need = Need::any(
    &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    &[
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    ],
);
const WRITE: Need = Need::any(
    &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    &["User.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"],
);
const AUTH_READ: Need = Need::any(
    &["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"],
    &[
        "UserAuthenticationMethod.Read.All",
        "UserAuthenticationMethod.ReadWrite.All",
        "Directory.AccessAsUser.All",
    ],
);
const AUTH_WRITE: Need = Need::any(
    &["UserAuthenticationMethod.ReadWrite.All"],
    &["UserAuthenticationMethod.ReadWrite.All", "Directory.AccessAsUser.All"],
);

/// Graph's default user properties, in its order.
const DEFAULT_SELECT: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Properties a user object may carry (for `$select` and PATCH checks).
const USER_PROPERTIES: [&str; 24] = [
    "id",
    "accountEnabled",
    "businessPhones",
    "city",
    "companyName",
    "country",
    "createdDateTime",
    "department",
    "displayName",
    "employeeId",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesImmutableId",
    "passwordProfile",
    "postalCode",
    "preferredLanguage",
    "state",
    "surname",
    "usageLocation",
    "userPrincipalName",
];

/// The Graph routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
        .route("/v1.0/users", get(list_users).post(create_user))
        .route("/v1.0/users/", get(list_users))
        .route("/v1.0/users/delta", get(delta))
        .route("/v1.0/users/{id}", get(get_user).patch(update_user).delete(delete_user))
        .route("/v1.0/users/{id}/directReports", get(direct_reports))
        .route("/v1.0/users/{id}/manager", get(get_manager))
        .route("/v1.0/users/{id}/manager/$ref", put(set_manager).delete(remove_manager))
        .route("/v1.0/users/{id}/revokeSignInSessions", post(revoke_sessions))
        .route("/v1.0/users/{id}/authentication/passwordMethods", get(password_methods))
        .route("/v1.0/users/{id}/authentication/methods/{method}/resetPassword", post(reset_password))
        .route("/v1.0/users/{id}/authentication/temporaryAccessPassMethods", get(list_tap).post(create_tap))
        .route(
            "/v1.0/users/{id}/authentication/temporaryAccessPassMethods/{tap}",
            get(get_tap).delete(delete_tap),
        )
        // The current reference's commands (`graph/current.rs`).
        .route("/v1.0/users/{id}/memberOf", get(current::member_of))
        .route("/v1.0/users/{id}/ownedDevices", get(current::owned_devices))
        .route("/v1.0/users/{id}/authentication/methods", get(current::all_methods))
        .route("/v1.0/users/{id}/authentication/operations/{op}", get(current::operation))
        .route("/v1.0/users/{id}/authentication/{kind}", get(current::list_kind))
        .route(
            "/v1.0/users/{id}/authentication/{kind}/{method}",
            get(current::get_kind).delete(current::delete_kind),
        )
        .route("/beta/users/{id}/authentication/signInPreferences", get(current::sign_in_preferences))
        .route("/v1.0/servicePrincipals", get(current::service_principals))
        .route("/v1.0/servicePrincipals/{id}/addPassword", post(current::add_password))
        .route(
            "/StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication",
            post(current::begin_two_way_authentication),
        )
}

/// True when `secret` is a password Graph's `addPassword` created for application `app_id`
/// (the token endpoint accepts it as that application's client secret).
pub fn added_password_ok(st: &EmulatorState, app_id: &str, secret: &str) -> bool {
    current::added_password_ok(st, app_id, secret)
}

// ---- seeding -----------------------------------------------------------------------------------

/// Loads the seed into the store once per store (guarded so concurrent first requests seed once).
fn seed(st: &EmulatorState) {
    static GUARD: Mutex<()> = Mutex::new(());
    let _g = GUARD.lock().unwrap_or_else(|p| p.into_inner());
    if st.store().collections().iter().any(|c| c == USERS) {
        return;
    }
    let Ok(seed) = serde_json::from_str::<Value>(SEED) else {
        st.store().replace(USERS, Vec::new());
        return;
    };
    let managers = seed.get("managers").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut users: Vec<Value> = seed.get("users").and_then(Value::as_array).cloned().unwrap_or_default();
    let domain = st.config().tenants.first().map(|t| t.domain.clone()).unwrap_or_default();
    let generated = seed.get("generated_users").and_then(Value::as_u64).unwrap_or(0);
    for n in 1..=generated {
        let nick = format!("testuser{n:03}");
        users.push(json!({
            "id": format!("33333333-3333-4333-8333-{:012}", 100_000_000_000u64 + n),
            "businessPhones": [],
            "displayName": format!("Test User {n:03}"),
            "givenName": "Test",
            "jobTitle": if n % 3 == 0 { json!("Analyst") } else { Value::Null },
            "mail": format!("{nick}@{domain}"),
            "mobilePhone": Value::Null,
            "officeLocation": Value::Null,
            "preferredLanguage": "en-US",
            "surname": format!("User {n:03}"),
            "userPrincipalName": format!("{nick}@{domain}"),
            "accountEnabled": true,
            "mailNickname": nick,
            "onPremisesImmutableId": Value::Null,
            "createdDateTime": "2025-01-06T10:00:00Z",
            "usageLocation": "US",
        }));
    }
    for u in &mut users {
        let id = u.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        if let (Some(m), Some(o)) = (managers.get(&id), u.as_object_mut()) {
            o.insert("_managerId".into(), m.clone());
        }
    }
    let mut taps = Vec::new();
    if let Some(t) = seed.get("tap_methods").and_then(Value::as_object) {
        for (user_id, methods) in t {
            for m in methods.as_array().into_iter().flatten() {
                let mut m = m.clone();
                if let Some(o) = m.as_object_mut() {
                    o.insert("_userId".into(), json!(user_id));
                }
                taps.push(m);
            }
        }
    }
    st.store().replace(USERS, users);
    st.store().replace(TAP, taps);
    current::seed(st, &seed);
}

// ---- helpers -----------------------------------------------------------------------------------

fn err(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(ApiKind::Graph, status, code, message)
}

fn bad_request(message: impl Into<String>) -> ApiError {
    err(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
}

/// What every Graph route does around its own work: authenticate for `need`, seed, run the
/// route, and answer (`ok` renders its value; any error, the token's included, gets Graph's body).
fn handle<T>(
    call: &Call,
    need: &Need,
    ok: impl FnOnce(T) -> Response,
    run: impl FnOnce() -> Result<T, ApiError>,
) -> Response {
    let Call { st, meta, headers } = call;
    let result = authenticate(st, headers, meta, ApiKind::Graph, need).and_then(|_| {
        seed(st);
        run()
    });
    answer(st, meta, result, ok)
}

/// [`handle`] for a route on one user: the `{id}` segment is looked up first (`find_user`, or
/// `auth_user` on the authentication-method routes) and `run` gets the user.
fn on_user<T>(
    call: &Call,
    id: &str,
    lookup: fn(&EmulatorState, &str) -> Result<Value, ApiError>,
    need: &Need,
    ok: impl FnOnce(T) -> Response,
    run: impl FnOnce(Value) -> Result<T, ApiError>,
) -> Response {
    handle(call, need, ok, || run(lookup(&call.st, id)?))
}

/// Graph refuses these characters in an object id or UPN segment with its generic
/// `Request_BadRequest` text (the one the reference's `msgraph-user-get` looks for); an empty
/// id is an invalid identifier.
fn check_id(id: &str) -> Result<(), ApiError> {
    if id.chars().any(|c| "%&*+/=?`{|}".contains(c)) {
        return Err(bad_request("Bad request. Please fix the request before retrying.".to_owned()));
    }
    if id.is_empty() {
        return Err(bad_request(format!("Invalid object identifier '{id}'.")));
    }
    Ok(())
}

/// A user by id or UPN.
fn find_user(st: &EmulatorState, id: &str) -> Result<Value, ApiError> {
    check_id(id)?;
    st.store()
        .find(USERS, "id", id)
        .or_else(|| st.store().find(USERS, "userPrincipalName", id))
        .ok_or_else(|| ApiError::graph_not_found(id))
}

fn user_id(u: &Value) -> String {
    u.get("id").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A user as Graph shows it: `$select` applied, internal fields dropped.
fn project(u: &Value, select: Option<&[String]>) -> Result<Value, ApiError> {
    let obj = u.as_object().cloned().unwrap_or_default();
    let mut out = Map::new();
    match select {
        None => {
            for k in DEFAULT_SELECT {
                out.insert(k.to_string(), obj.get(k).cloned().unwrap_or(Value::Null));
            }
        }
        Some(list) if list.iter().any(|s| s == "*") => {
            for (k, v) in &obj {
                if !k.starts_with('_') && k != "passwordProfile" {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Some(list) => {
            for want in list {
                let Some(k) = USER_PROPERTIES.iter().find(|p| p.eq_ignore_ascii_case(want)) else {
                    return Err(bad_request(format!(
                        "Could not find a property named '{want}' on type 'microsoft.graph.user'."
                    )));
                };
                if *k != "passwordProfile" {
                    out.insert((*k).to_string(), obj.get(*k).cloned().unwrap_or(Value::Null));
                }
            }
        }
    }
    Ok(Value::Object(out))
}

fn q<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn select_list(query: &[(String, String)]) -> Option<Vec<String>> {
    q(query, "$select")
        .map(|s| s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
}

fn with_context(meta: &RequestMeta, fragment: &str, body: Value) -> Value {
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(format!("{}/v1.0/$metadata#{fragment}", meta.base_url())));
    if let Value::Object(o) = body {
        out.extend(o);
    }
    Value::Object(out)
}

/// The `ok` of a route that answers 201 with the created object.
fn created(body: Value) -> Response {
    status_json(StatusCode::CREATED, &body)
}

/// The `ok` of a route that answers nothing.
fn no_content((): ()) -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A GUID derived from `key` (reproducible ids for created objects).
fn derived_guid(key: &str) -> String {
    let h = Sha1::digest(key.as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-4{}-8{}-{}", &x[0..8], &x[8..12], &x[13..16], &x[17..20], &x[20..32])
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

/// Entra's default password policy: 8-256 characters, three of four character classes.
fn password_ok(p: &str) -> bool {
    let classes = [
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (8..=256).contains(&p.chars().count()) && classes.iter().filter(|c| **c).count() >= 3
}

fn weak_password() -> ApiError {
    bad_request(
        "The specified password does not comply with password complexity requirements. Please provide a different password.",
    )
}

fn expect_bool(prop: &str, v: &Value) -> Result<(), ApiError> {
    if v.is_boolean() {
        Ok(())
    } else {
        Err(bad_request(format!(
            "Cannot convert the literal '{}' to the expected type 'Edm.Boolean' of property '{prop}'.",
            v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
        )))
    }
}

// ---- $filter -----------------------------------------------------------------------------------

/// One comparison of a `$filter`.
enum Clause {
    StartsWith(String, String),
    EndsWith(String, String),
    Eq(String, Value),
    Ne(String, Value),
}

/// Parses the subset of OData `$filter` the emulator supports: `startswith(p,'v')`,
/// `endswith(p,'v')` (advanced), `p eq 'v'|true|false|null`, `p ne ...` (advanced), joined by
/// `and` or `or` (not both). Returns the clauses, whether they are or-ed, and whether an
/// advanced query (needs `ConsistencyLevel: eventual` and `$count=true`) is used.
fn parse_filter(f: &str) -> Result<(Vec<Clause>, bool, bool), ApiError> {
    let unsupported = || err(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Unsupported Query.");
    let lower = f.to_ascii_lowercase();
    let (parts, or): (Vec<&str>, bool) = if lower.contains(" and ") && lower.contains(" or ") {
        return Err(unsupported());
    } else if lower.contains(" or ") {
        (split_ci(f, " or "), true)
    } else {
        (split_ci(f, " and "), false)
    };
    let mut clauses = Vec::new();
    let mut advanced = false;
    for p in parts {
        let p = p.trim();
        let pl = p.to_ascii_lowercase();
        if let Some(rest) = pl.strip_prefix("startswith(").map(|_| &p["startswith(".len()..]) {
            let (prop, val) = func_args(rest).ok_or_else(unsupported)?;
            clauses.push(Clause::StartsWith(prop, val));
        } else if let Some(rest) = pl.strip_prefix("endswith(").map(|_| &p["endswith(".len()..]) {
            let (prop, val) = func_args(rest).ok_or_else(unsupported)?;
            advanced = true;
            clauses.push(Clause::EndsWith(prop, val));
        } else {
            let tokens: Vec<&str> = p.splitn(3, ' ').collect();
            let [prop, op, lit] = tokens.as_slice() else { return Err(unsupported()) };
            let value = literal(lit).ok_or_else(unsupported)?;
            match op.to_ascii_lowercase().as_str() {
                "eq" => clauses.push(Clause::Eq((*prop).to_string(), value)),
                "ne" => {
                    advanced = true;
                    clauses.push(Clause::Ne((*prop).to_string(), value));
                }
                _ => return Err(unsupported()),
            }
        }
    }
    Ok((clauses, or, advanced))
}

fn split_ci<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let lower = s.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(i) = lower[start..].find(sep) {
        out.push(&s[start..start + i]);
        start += i + sep.len();
    }
    out.push(&s[start..]);
    out
}

/// `prop,'value')` -> (prop, value).
fn func_args(rest: &str) -> Option<(String, String)> {
    let rest = rest.strip_suffix(')')?;
    let (prop, val) = rest.split_once(',')?;
    let val = val.trim();
    let val = val.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((prop.trim().to_string(), val.replace("''", "'")))
}

fn literal(lit: &str) -> Option<Value> {
    let lit = lit.trim();
    if let Some(s) = lit.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Some(json!(s.replace("''", "'")));
    }
    match lit {
        "true" => Some(json!(true)),
        "false" => Some(json!(false)),
        "null" => Some(Value::Null),
        _ => None,
    }
}

fn prop_of<'a>(u: &'a Value, prop: &str) -> Option<&'a Value> {
    u.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(prop)).map(|(_, v)| v)
}

fn text_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (x, y) => x == y,
    }
}

fn matches(u: &Value, c: &Clause) -> bool {
    let s = |p: &str| prop_of(u, p).and_then(Value::as_str).map(str::to_ascii_lowercase);
    match c {
        Clause::StartsWith(p, v) => s(p).is_some_and(|x| x.starts_with(&v.to_ascii_lowercase())),
        Clause::EndsWith(p, v) => s(p).is_some_and(|x| x.ends_with(&v.to_ascii_lowercase())),
        Clause::Eq(p, v) => text_eq(prop_of(u, p).unwrap_or(&Value::Null), v),
        Clause::Ne(p, v) => !text_eq(prop_of(u, p).unwrap_or(&Value::Null), v),
    }
}

fn check_filter_props(clauses: &[Clause]) -> Result<(), ApiError> {
    for c in clauses {
        let p = match c {
            Clause::StartsWith(p, _) | Clause::EndsWith(p, _) | Clause::Eq(p, _) | Clause::Ne(p, _) => p,
        };
        if !USER_PROPERTIES.iter().any(|k| k.eq_ignore_ascii_case(p)) {
            return Err(bad_request(format!(
                "Could not find a property named '{p}' on type 'microsoft.graph.user'."
            )));
        }
    }
    Ok(())
}

// ---- users -------------------------------------------------------------------------------------

async fn list_users(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &call;
    handle(
        &call,
        &READ,
        |body| status_json_bytes(StatusCode::OK, body),
        || list_users_inner(st, meta, headers, &query),
    )
}

/// The users page, serialized straight from the store (no copy of the users, only the page's
/// are written): the bytes [`project`] and [`graph_list`] would give.
fn list_users_inner(
    st: &EmulatorState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Vec<u8>, ApiError> {
    let eventual = headers
        .get("ConsistencyLevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let next_page = q(query, "$skiptoken").is_some();
    let count = q(query, "$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    if count && !eventual && !next_page {
        return Err(bad_request("$count is not currently supported."));
    }
    let filter = match q(query, "$filter").filter(|f| !f.trim().is_empty()) {
        Some(f) => {
            let (clauses, or, advanced) = parse_filter(f)?;
            check_filter_props(&clauses)?;
            if advanced && !(eventual && count) && !next_page {
                return Err(err(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Unsupported Query."));
            }
            Some((clauses, or))
        }
        None => None,
    };
    let selection = Selection::new(select_list(query).as_deref());
    st.store().with(USERS, |all| {
        let users: Vec<&Value> = all
            .iter()
            .filter(|u| match &filter {
                None => true,
                Some((clauses, true)) => clauses.iter().any(|c| matches(u, c)),
                Some((clauses, false)) => clauses.iter().all(|c| matches(u, c)),
            })
            .collect();
        // As `project`: an unknown `$select` property is an error only when a user is shown.
        let selection = match selection {
            Err(e) if !users.is_empty() => return Err(e),
            Err(_) => Selection::Default,
            Ok(s) => s,
        };
        let page = graph_page(meta, "/v1.0/users", query, users.len(), 100, 999, false, "users")?;
        let value = users
            .iter()
            .skip(page.offset)
            .take(page.top)
            .map(|u| Projected { user: u.as_object(), selection: &selection })
            .collect();
        let body = UsersPage {
            context: &page.metadata,
            count: count.then_some(users.len()),
            value,
            next_link: page.next_link.as_deref(),
        };
        serde_json::to_vec(&body).map_err(|e| {
            err(StatusCode::INTERNAL_SERVER_ERROR, "generalException", format!("serializing the page: {e}"))
        })
    })
}

/// A users page in Graph's key order.
#[derive(Serialize)]
struct UsersPage<'a> {
    #[serde(rename = "@odata.context")]
    context: &'a str,
    #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    value: Vec<Projected<'a>>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    next_link: Option<&'a str>,
}

/// Which properties of a user a listing shows ([`project`]'s rule, resolved once per request).
enum Selection {
    /// No `$select`: Graph's default properties.
    Default,
    /// `$select=*`: every property but the internal ones and `passwordProfile`.
    All,
    /// The named properties, spelled as the user object spells them, each once.
    Named(Vec<&'static str>),
}

impl Selection {
    fn new(select: Option<&[String]>) -> Result<Selection, ApiError> {
        let Some(list) = select else { return Ok(Selection::Default) };
        if list.iter().any(|s| s == "*") {
            return Ok(Selection::All);
        }
        let mut named: Vec<&'static str> = Vec::with_capacity(list.len());
        for want in list {
            let Some(k) = USER_PROPERTIES.iter().find(|p| p.eq_ignore_ascii_case(want)) else {
                return Err(bad_request(format!(
                    "Could not find a property named '{want}' on type 'microsoft.graph.user'."
                )));
            };
            if *k != "passwordProfile" && !named.contains(k) {
                named.push(k);
            }
        }
        Ok(Selection::Named(named))
    }
}

/// A user as [`project`] shows it, written from the stored user without copying it.
struct Projected<'a> {
    user: Option<&'a Map<String, Value>>,
    selection: &'a Selection,
}

impl Serialize for Projected<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let get = |k: &str| self.user.and_then(|u| u.get(k)).unwrap_or(&Value::Null);
        let mut map = s.serialize_map(None)?;
        match self.selection {
            Selection::Default => {
                for k in DEFAULT_SELECT {
                    map.serialize_entry(k, get(k))?;
                }
            }
            Selection::All => {
                for (k, v) in self.user.into_iter().flatten() {
                    if !k.starts_with('_') && k != "passwordProfile" {
                        map.serialize_entry(k, v)?;
                    }
                }
            }
            Selection::Named(keys) => {
                for k in keys {
                    map.serialize_entry(k, get(k))?;
                }
            }
        }
        map.end()
    }
}

async fn delta(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, .. } = &call;
    let select = select_list(&query);
    handle(&call, &READ, ok_json, || {
        let users = st.store().list(USERS);
        let projected = users
            .iter()
            .map(|u| {
                // delta always carries the id.
                let mut p = project(u, select.as_deref())?;
                if let Some(o) = p.as_object_mut() {
                    o.entry("id").or_insert_with(|| json!(user_id(u)));
                }
                Ok(p)
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let mut page = graph_list(meta, "/v1.0/users/delta", &query, projected, 100, 999, false, "users")?;
        if let Some(o) = page.as_object_mut()
            && !o.contains_key("@odata.nextLink")
        {
            o.insert(
                "@odata.deltaLink".into(),
                json!(format!("{}/v1.0/users/delta?$deltatoken=emu-delta", meta.base_url())),
            );
        }
        Ok(page)
    })
}

async fn get_user(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Call { meta, .. } = &call;
    let select = select_list(&query);
    on_user(&call, &id, find_user, &READ, ok_json, |u| {
        let fragment = match &select {
            Some(s) if !s.iter().any(|x| x == "*") => format!("users({})/$entity", s.join(",")),
            _ => "users/$entity".to_string(),
        };
        Ok(with_context(meta, &fragment, project(&u, select.as_deref())?))
    })
}

async fn create_user(call: Call, body: Bytes) -> Response {
    let Call { st, meta, .. } = &call;
    handle(&call, &WRITE, created, || {
        let b = parse_body(&body)?;
        let missing =
            |p: &str| bad_request(format!("Invalid value specified for property '{p}' of resource 'User'."));
        for p in ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"] {
            if b.get(p).is_none_or(|v| v.is_null() || v.as_str().is_some_and(str::is_empty)) {
                return Err(missing(p));
            }
        }
        expect_bool("accountEnabled", &b["accountEnabled"])?;
        let upn = b["userPrincipalName"].as_str().ok_or_else(|| missing("userPrincipalName"))?.to_string();
        let domain_ok = upn.split_once('@').is_some_and(|(local, d)| {
            !local.is_empty() && st.config().tenants.iter().any(|t| t.domain.eq_ignore_ascii_case(d))
        });
        if !domain_ok {
            return Err(bad_request(
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
            ));
        }
        if st.store().find(USERS, "userPrincipalName", &upn).is_some() {
            return Err(bad_request(
                "Another object with the same value for property userPrincipalName already exists.",
            ));
        }
        let pw = b["passwordProfile"]
            .get("password")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("passwordProfile"))?;
        if !password_ok(pw) {
            return Err(weak_password());
        }
        let mut user = Map::new();
        user.insert("id".into(), json!(derived_guid(&format!("user:{}", upn.to_ascii_lowercase()))));
        for (k, v) in &b {
            if k == "passwordProfile" {
                continue;
            }
            if !USER_PROPERTIES.contains(&k.as_str()) {
                return Err(bad_request(format!(
                    "Property '{k}' does not exist as a declared property or extension property."
                )));
            }
            user.insert(k.clone(), v.clone());
        }
        user.entry("businessPhones").or_insert(json!([]));
        user.insert("createdDateTime".into(), json!(iso_secs(st.now_secs())));
        for k in DEFAULT_SELECT {
            user.entry(k).or_insert(Value::Null);
        }
        let user = Value::Object(user);
        st.store().insert(USERS, user.clone());
        Ok(with_context(meta, "users/$entity", project(&user, None)?))
    })
}

fn iso_secs(secs: i64) -> String {
    let s = iso7(secs * 1000);
    // `YYYY-MM-DDTHH:MM:SS.0000000Z` -> Graph's `YYYY-MM-DDTHH:MM:SSZ`.
    match s.find('.') {
        Some(i) => format!("{}Z", &s[..i]),
        None => s,
    }
}

/// Graph refuses password changes made with an application-only token unless the
/// application holds `User-PasswordProfile.ReadWrite.All` (403 "Insufficient privileges"): the
/// reference's change-password commands need the authorization code flow.
fn refuse_app_password_change(who: &super::Principal) -> Result<(), ApiError> {
    if who.is_app && !who.has_role("User-PasswordProfile.ReadWrite.All") {
        return Err(err(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    Ok(())
}

/// [`on_user`] for routes that also need the caller (`run` gets the token's principal).
fn on_user_as<T>(
    call: &Call,
    id: &str,
    lookup: fn(&EmulatorState, &str) -> Result<Value, ApiError>,
    need: &Need,
    ok: impl FnOnce(T) -> Response,
    run: impl FnOnce(&super::Principal, Value) -> Result<T, ApiError>,
) -> Response {
    let Call { st, meta, headers } = call;
    let result = authenticate(st, headers, meta, ApiKind::Graph, need).and_then(|who| {
        seed(st);
        run(&who, lookup(st, id)?)
    });
    answer(st, meta, result, ok)
}

async fn update_user(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, .. } = &call;
    on_user_as(&call, &id, find_user, &WRITE, no_content, |who, u| {
        let b = parse_body(&body)?;
        let mut patch = Map::new();
        for (k, v) in &b {
            let Some(prop) = USER_PROPERTIES.iter().find(|p| p.eq_ignore_ascii_case(k)) else {
                return Err(bad_request(format!(
                    "Property '{k}' does not exist as a declared property or extension property."
                )));
            };
            match *prop {
                "id" | "createdDateTime" => {
                    return Err(bad_request(format!("Property '{prop}' is read-only and cannot be set.")));
                }
                "accountEnabled" => expect_bool(prop, v)?,
                "businessPhones" if !v.is_array() => {
                    return Err(bad_request(
                        "Invalid value specified for property 'businessPhones' of resource 'User'.",
                    ));
                }
                "passwordProfile" => {
                    refuse_app_password_change(who)?;
                    // Without a password the profile only forces a change at the next sign-in.
                    match v.get("password").and_then(Value::as_str) {
                        Some(pw) if !password_ok(pw) => return Err(weak_password()),
                        None if v.get("forceChangePasswordNextSignIn").is_none() => {
                            return Err(weak_password());
                        }
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
            patch.insert((*prop).to_string(), v.clone());
        }
        st.store().update(USERS, "id", &user_id(&u), &Value::Object(patch));
        Ok(())
    })
}

async fn delete_user(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, .. } = &call;
    on_user(&call, &id, find_user, &WRITE, no_content, |u| {
        let uid = user_id(&u);
        st.store().remove(USERS, "id", &uid);
        // Reports of the deleted user lose their manager.
        let users: Vec<Value> = st
            .store()
            .list(USERS)
            .into_iter()
            .map(|mut x| {
                if x.get("_managerId").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case(&uid))
                    && let Some(o) = x.as_object_mut()
                {
                    o.shift_remove("_managerId");
                }
                x
            })
            .collect();
        st.store().replace(USERS, users);
        Ok(())
    })
}

// ---- manager and reports -----------------------------------------------------------------------

async fn direct_reports(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, find_user, &READ, ok_json, |u| {
        let uid = user_id(&u);
        let reports: Vec<Value> = st
            .store()
            .list(USERS)
            .iter()
            .filter(|x| {
                x.get("_managerId").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case(&uid))
            })
            .map(|x| {
                let mut p = project(x, None)?;
                if let Some(o) = p.as_object_mut() {
                    let mut typed = Map::new();
                    typed.insert("@odata.type".into(), json!("#microsoft.graph.user"));
                    typed.extend(std::mem::take(o));
                    *o = typed;
                }
                Ok(p)
            })
            .collect::<Result<_, ApiError>>()?;
        graph_list(
            meta,
            &format!("/v1.0/users/{id}/directReports"),
            &query,
            reports,
            100,
            999,
            false,
            "directoryObjects",
        )
    })
}

async fn get_manager(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, find_user, &READ, ok_json, |u| {
        let manager = u
            .get("_managerId")
            .and_then(Value::as_str)
            .and_then(|m| st.store().find(USERS, "id", m))
            .ok_or_else(|| ApiError::graph_not_found("manager"))?;
        let mut out = Map::new();
        out.insert(
            "@odata.context".into(),
            json!(format!("{}/v1.0/$metadata#directoryObjects/$entity", meta.base_url())),
        );
        out.insert("@odata.type".into(), json!("#microsoft.graph.user"));
        if let Value::Object(o) = project(&manager, None)? {
            out.extend(o);
        }
        Ok(Value::Object(out))
    })
}

async fn set_manager(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, .. } = &call;
    on_user(&call, &id, find_user, &WRITE, no_content, |u| {
        let b = parse_body(&body)?;
        let reference = b
            .get("@odata.id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_request("Invalid request body: the reference must carry @odata.id."))?;
        let raw = reference
            .rsplit_once("/users/")
            .map(|(_, m)| m)
            .or_else(|| reference.rsplit_once("/directoryObjects/").map(|(_, m)| m))
            .ok_or_else(|| bad_request(format!("Invalid object identifier '{reference}'.")))?;
        let manager_id = percent_decode(raw);
        let manager = st
            .store()
            .find(USERS, "id", &manager_id)
            .or_else(|| st.store().find(USERS, "userPrincipalName", &manager_id))
            .ok_or_else(|| ApiError::graph_not_found(&manager_id))?;
        let mid = user_id(&manager);
        if mid.eq_ignore_ascii_case(&user_id(&u)) {
            return Err(bad_request("A user cannot be their own manager."));
        }
        st.store().update(USERS, "id", &user_id(&u), &json!({"_managerId": mid}));
        Ok(())
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

async fn remove_manager(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, .. } = &call;
    on_user(&call, &id, find_user, &WRITE, no_content, |u| {
        if u.get("_managerId").and_then(Value::as_str).is_none() {
            return Err(ApiError::graph_not_found("manager"));
        }
        st.store().update(USERS, "id", &user_id(&u), &json!({"_managerId": null}));
        Ok(())
    })
}

async fn revoke_sessions(call: Call, Path(id): Path<String>) -> Response {
    let Call { meta, .. } = &call;
    on_user(&call, &id, find_user, &WRITE, ok_json, |_| {
        Ok(with_context(meta, "Edm.Boolean", json!({"value": true})))
    })
}

// ---- authentication methods --------------------------------------------------------------------

fn auth_user(st: &EmulatorState, id: &str) -> Result<Value, ApiError> {
    check_id(id)?;
    find_user(st, id)
        .map_err(|_| err(StatusCode::NOT_FOUND, "itemNotFound", "The specified user could not be found."))
}

async fn password_methods(call: Call, Path(id): Path<String>) -> Response {
    let Call { meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        let created = u.get("createdDateTime").cloned().unwrap_or(Value::Null);
        let method = json!({"id": PASSWORD_METHOD_ID, "password": null, "createdDateTime": created});
        let fragment = format!("users('{}')/authentication/passwordMethods", user_id(&u));
        Ok(with_context(meta, &fragment, json!({"value": [method]})))
    })
}

async fn reset_password(call: Call, Path((id, method)): Path<(String, String)>, body: Bytes) -> Response {
    let Call { st, meta, .. } = &call;
    on_user_as(
        &call,
        &id,
        auth_user,
        &AUTH_WRITE,
        |operation: String| {
            let mut resp = StatusCode::ACCEPTED.into_response();
            let loc = format!("{}/v1.0/users/{id}/authentication/operations/{operation}", meta.base_url());
            if let Ok(v) = HeaderValue::from_str(&loc) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        },
        |who, u| {
            // resetPassword takes delegated permissions only.
            refuse_app_password_change(who)?;
            if !method.eq_ignore_ascii_case(PASSWORD_METHOD_ID) {
                return Err(err(
                    StatusCode::NOT_FOUND,
                    "itemNotFound",
                    format!("The authentication method '{method}' was not found."),
                ));
            }
            let b = parse_body(&body)?;
            let password = b.get("newPassword").and_then(Value::as_str);
            match password {
                Some(p) if !password_ok(p) => return Err(weak_password()),
                // Without a password Graph generates one; the emulator has nothing to return it in.
                _ => {}
            }
            let nickname = u.get("mailNickname").and_then(Value::as_str).unwrap_or_default();
            Ok(current::start_operation(st, &user_id(&u), nickname, password))
        },
    )
}

/// A TAP as Graph shows it: no pass, usability computed from the emulator's clock.
fn show_tap(st: &EmulatorState, t: &Value, with_pass: bool) -> Value {
    let mut out = Map::new();
    let now = st.now_secs();
    let start = t.get("startDateTime").and_then(Value::as_str).and_then(parse_time).unwrap_or(now);
    let minutes = t.get("lifetimeInMinutes").and_then(Value::as_i64).unwrap_or(60);
    let reason = if now < start {
        "NotYetValid"
    } else if now > start + minutes * 60 {
        "Expired"
    } else {
        "EnabledByPolicy"
    };
    for k in
        ["id", "temporaryAccessPass", "createdDateTime", "startDateTime", "lifetimeInMinutes", "isUsableOnce"]
    {
        let v = t.get(k).cloned().unwrap_or(Value::Null);
        out.insert(k.into(), if k == "temporaryAccessPass" && !with_pass { Value::Null } else { v });
    }
    out.insert("isUsable".into(), json!(reason == "EnabledByPolicy"));
    out.insert("methodUsabilityReason".into(), json!(reason));
    Value::Object(out)
}

fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn taps_of(st: &EmulatorState, uid: &str) -> Vec<Value> {
    st.store()
        .list(TAP)
        .into_iter()
        .filter(|t| t.get("_userId").and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case(uid)))
        .collect()
}

async fn list_tap(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        let uid = user_id(&u);
        let items: Vec<Value> = taps_of(st, &uid).iter().map(|t| show_tap(st, t, false)).collect();
        let fragment = format!("users('{uid}')/authentication/temporaryAccessPassMethods");
        Ok(with_context(meta, &fragment, json!({"value": items})))
    })
}

async fn get_tap(call: Call, Path((id, tap)): Path<(String, String)>) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        let uid = user_id(&u);
        let t = taps_of(st, &uid)
            .into_iter()
            .find(|t| t.get("id").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(&tap)))
            .ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    "itemNotFound",
                    format!("The temporaryAccessPassMethod '{tap}' was not found."),
                )
            })?;
        let fragment = format!("users('{uid}')/authentication/temporaryAccessPassMethods/$entity");
        Ok(with_context(meta, &fragment, show_tap(st, &t, false)))
    })
}

async fn create_tap(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_WRITE, created, |u| {
        let uid = user_id(&u);
        let b = parse_body(&body)?;
        let bad = |m: &str| err(StatusCode::BAD_REQUEST, "badRequest", m);
        let minutes = match b.get("lifetimeInMinutes") {
            None | Some(Value::Null) => 60,
            Some(v) => v.as_i64().ok_or_else(|| bad("lifetimeInMinutes must be a number."))?,
        };
        if !(10..=43200).contains(&minutes) {
            return Err(bad("The lifetimeInMinutes is outside of the allowed range."));
        }
        let once = match b.get("isUsableOnce") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(x)) => *x,
            Some(_) => return Err(bad("isUsableOnce must be true or false.")),
        };
        let now = iso_secs(st.now_secs());
        let start = match b.get("startDateTime").and_then(Value::as_str) {
            Some(s) => {
                parse_time(s).ok_or_else(|| bad("startDateTime is not a valid date and time."))?;
                s.to_string()
            }
            None => now.clone(),
        };
        let key = format!("tap:{uid}:{start}:{minutes}:{once}");
        let pass: String = derived_guid(&format!("pass:{key}")).replace('-', "").chars().take(12).collect();
        let tap = json!({
            "id": derived_guid(&key),
            "temporaryAccessPass": format!("Tap!{pass}"),
            "createdDateTime": now,
            "startDateTime": start,
            "lifetimeInMinutes": minutes,
            "isUsableOnce": once,
            "_userId": uid,
        });
        // A user has at most one TAP: a new one replaces the old.
        let others: Vec<Value> = st
            .store()
            .list(TAP)
            .into_iter()
            .filter(|t| {
                !t.get("_userId").and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case(&uid))
            })
            .collect();
        st.store().replace(TAP, others);
        st.store().insert(TAP, tap.clone());
        let fragment = format!("users('{uid}')/authentication/temporaryAccessPassMethods/$entity");
        Ok(with_context(meta, &fragment, show_tap(st, &tap, true)))
    })
}

async fn delete_tap(call: Call, Path((id, tap)): Path<(String, String)>) -> Response {
    let Call { st, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_WRITE, no_content, |u| {
        let uid = user_id(&u);
        let before = st.store().list(TAP);
        let after: Vec<Value> = before
            .iter()
            .filter(|t| {
                !(t.get("_userId").and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case(&uid))
                    && t.get("id").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(&tap)))
            })
            .cloned()
            .collect();
        if after.len() == before.len() {
            return Err(err(
                StatusCode::NOT_FOUND,
                "itemNotFound",
                format!("The temporaryAccessPassMethod '{tap}' was not found."),
            ));
        }
        st.store().replace(TAP, after);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_match_like_graph() {
        let u = json!({"displayName": "Bob Manager", "jobTitle": "SOC Manager", "accountEnabled": true});
        let cases = [
            ("startswith(displayName,'b')", true),
            ("startswith(displayName,'A')", false),
            ("jobTitle eq 'soc manager'", true),
            ("accountEnabled eq false", false),
            ("startswith(displayName,'B') and accountEnabled eq true", true),
            ("jobTitle eq 'x' or startswith(displayName,'Bob')", true),
        ];
        for (f, want) in cases {
            let (clauses, or, _) = parse_filter(f).unwrap();
            let got = if or {
                clauses.iter().any(|c| matches(&u, c))
            } else {
                clauses.iter().all(|c| matches(&u, c))
            };
            assert_eq!(got, want, "{f}");
        }
        assert!(parse_filter("displayName gt 'a'").is_err());
        assert!(parse_filter("a eq 'x' and b eq 'y' or c eq 'z'").is_err());
    }

    #[test]
    fn passwords_follow_the_default_policy() {
        for (p, ok) in
            [("Initial-Passw0rd!", true), ("short1A", false), ("alllowercase", false), ("lower-and-1", true)]
        {
            assert_eq!(password_ok(p), ok, "{p}");
        }
    }

    #[test]
    fn derived_ids_look_like_guids_and_are_stable() {
        let a = derived_guid("user:nina@x");
        assert_eq!(a, derived_guid("user:nina@x"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
