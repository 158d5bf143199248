//! Azure Resource Manager routes (what `azure-storage` calls), on the framework in
//! `apis/mod.rs`: subscriptions, resource groups (`$filter` by tag, `$top`), and
//! `Microsoft.Storage` storage accounts, blob services and blob containers.
//!
//! Data: `test-data/azure-storage/arm-seed.json` (the recorded upstream responses re-homed into
//! the emulator's subscription; plain data, compiled in) is loaded the first time an ARM route
//! runs, unless a seed file already filled `arm.subscriptions`. Collections: `arm.subscriptions`,
//! `arm.resourceGroups`, `arm.storageAccounts`, `arm.blobServices`, `arm.containers` (items
//! keyed by their ARM `id`).
//!
//! Every call: a valid ARM token (401 otherwise), `api-version` present and known (400
//! `MissingApiVersionParameter` / `InvalidApiVersionParameter`), RBAC on the scope before any
//! existence check (403 `AuthorizationFailed`), then 404 `SubscriptionNotFound`,
//! `ResourceGroupNotFound` or `ResourceNotFound`.
//!
//! Decisions where ARM's behaviour is not pinned down by the fact sheet:
//! - creating a storage account answers 202 with an empty body and a `Location` header (ARM's
//!   asynchronous create); the account exists at once. Updating one answers 200 with it;
//! - deleting a container answers 200 when it existed and 204 when it did not, as ARM does;
//! - property names in request bodies are matched case-insensitively (`Encryption` is
//!   `encryption`), as ARM does; numeric strings are accepted for numeric fields;
//! - subscriptions the caller has no role assignment on are left out of the list.

use std::sync::Mutex;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use super::{
    ApiError, Need, Principal, answer, arm_authorize, arm_list, authenticate, json_ok, ok_json, status_json,
};
use crate::aad::iso7;
use crate::clouds::ApiKind;
use crate::meta::Call;
use crate::state::EmulatorState;

const SUBS: &str = "arm.subscriptions";
const GROUPS: &str = "arm.resourceGroups";
const ACCOUNTS: &str = "arm.storageAccounts";
const SERVICES: &str = "arm.blobServices";
const CONTAINERS: &str = "arm.containers";
const SEED: &str = include_str!("../../../../test-data/azure-storage/arm-seed.json");

/// API versions accepted on every route (the integration uses 2022-09-01 everywhere).
// 2020-01-01: the subscriptions list of Microsoft Sentinel's reference.
const API_VERSIONS: [&str; 7] =
    ["2020-01-01", "2021-04-01", "2021-09-01", "2022-05-01", "2022-09-01", "2023-01-01", "2023-05-01"];

const SKUS: [&str; 8] = [
    "Premium_LRS",
    "Premium_ZRS",
    "Standard_GRS",
    "Standard_GZRS",
    "Standard_LRS",
    "Standard_RAGRS",
    "Standard_RAGZRS",
    "Standard_ZRS",
];
const KINDS: [&str; 5] = ["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"];

/// The ARM routes (both spellings of `resourceGroups`, and the trailing-slash list forms the
/// reference integration sends when a name is empty).
pub fn routes() -> Router<EmulatorState> {
    let acc = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts";
    Router::new()
        .route("/subscriptions", get(list_subscriptions))
        .route("/subscriptions/{sub}/resourcegroups", get(list_groups))
        .route("/subscriptions/{sub}/resourceGroups", get(list_groups))
        .route(acc, get(list_accounts))
        .route(&format!("{acc}/"), get(list_accounts))
        .route(&format!("{acc}/{{name}}"), get(get_account).put(put_account))
        .route(&format!("{acc}/{{name}}/blobServices/default"), get(get_service).put(put_service))
        .route(&format!("{acc}/{{name}}/blobServices/default/containers"), get(list_containers))
        .route(&format!("{acc}/{{name}}/blobServices/default/containers/"), get(list_containers))
        .route(
            &format!("{acc}/{{name}}/blobServices/default/containers/{{container}}"),
            get(get_container).put(put_container).patch(patch_container).delete(delete_container),
        )
}

// ---- seeding and helpers -----------------------------------------------------------------------

fn seed(st: &EmulatorState) {
    static GUARD: Mutex<()> = Mutex::new(());
    let _g = GUARD.lock().unwrap_or_else(|p| p.into_inner());
    if st.store().collections().iter().any(|c| c == SUBS) {
        return;
    }
    let seed: Value = serde_json::from_str(SEED).unwrap_or(Value::Null);
    let list = |k: &str| seed.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    st.store().replace(SUBS, list("subscriptions"));
    st.store().replace(GROUPS, list("resource_groups"));
    st.store().replace(ACCOUNTS, list("storage_accounts"));
    st.store().replace(SERVICES, list("blob_services"));
    st.store().replace(CONTAINERS, list("containers"));
}

fn err(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(ApiKind::Arm, status, code, message)
}

/// What every ARM handler starts from: the [`Call`] and the query (`api-version`, paging,
/// `$filter`).
struct ArmCall {
    call: Call,
    query: Vec<(String, String)>,
}

impl FromRequestParts<EmulatorState> for ArmCall {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &EmulatorState) -> Result<Self, Self::Rejection> {
        let call = Call::from_request_parts(parts, st).await?;
        let Query(query) = Query::<Vec<(String, String)>>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(ArmCall { call, query })
    }
}

/// The segments of a storage account route: `{sub}`, `{rg}`, `{name}`.
type AccountPath = Path<(String, String, String)>;

/// The segments of a container route: the account's `{sub}`, `{rg}`, `{name}`, and `{container}`.
type ContainerPath = Path<(String, String, String, String)>;

/// What every ARM route does around its own work: token, api-version, RBAC on `scope` for
/// `action` (skipped when `scope` is empty), seed; then the route runs with the caller and is
/// answered (`ok` renders its value; any error, the prologue's included, gets ARM's body).
fn handle<T>(
    arm: &ArmCall,
    action: &str,
    scope: &str,
    ok: impl FnOnce(T) -> Response,
    run: impl FnOnce(&Principal) -> Result<T, ApiError>,
) -> Response {
    let ArmCall { call: Call { st, meta, headers }, query } = arm;
    let result = authenticate(st, headers, meta, ApiKind::Arm, &Need::NONE).and_then(|p| {
        api_version(query)?;
        if !scope.is_empty() {
            arm_authorize(st, &p, action, scope)?;
        }
        seed(st);
        run(&p)
    });
    answer(st, meta, result, ok)
}

/// [`handle`] for a route under one storage account: after the prologue the account
/// `(sub, rg, name)` must exist (ARM checks existence after RBAC) and `run` gets it.
fn on_account<T>(
    arm: &ArmCall,
    action: &str,
    scope: &str,
    (sub, rg, name): (&str, &str, &str),
    ok: impl FnOnce(T) -> Response,
    run: impl FnOnce(Value) -> Result<T, ApiError>,
) -> Response {
    handle(arm, action, scope, ok, |_| run(account(&arm.call.st, sub, rg, name)?))
}

fn api_version(query: &[(String, String)]) -> Result<(), ApiError> {
    let Some(v) = query.iter().find(|(k, _)| k == "api-version").map(|(_, v)| v.as_str()) else {
        return Err(ApiError::arm_missing_api_version());
    };
    if API_VERSIONS.contains(&v) {
        return Ok(());
    }
    Err(err(
        StatusCode::BAD_REQUEST,
        "InvalidApiVersionParameter",
        format!("The api-version '{v}' is invalid. The supported versions are '{}'.", API_VERSIONS.join(",")),
    ))
}

fn q<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn id_of(v: &Value) -> &str {
    v.get("id").and_then(Value::as_str).unwrap_or("")
}

fn sub_scope(sub: &str) -> String {
    format!("/subscriptions/{sub}")
}

fn group_scope(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

fn account_id(sub: &str, rg: &str, name: &str) -> String {
    format!("{}/providers/Microsoft.Storage/storageAccounts/{name}", group_scope(sub, rg))
}

fn service_id(sub: &str, rg: &str, name: &str) -> String {
    format!("{}/blobServices/default", account_id(sub, rg, name))
}

/// The subscription and resource group must exist (after RBAC).
fn check_group(st: &EmulatorState, sub: &str, rg: &str) -> Result<(), ApiError> {
    if st.store().find(SUBS, "subscriptionId", sub).is_none() {
        return Err(err(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ));
    }
    if st.store().find(GROUPS, "id", &group_scope(sub, rg)).is_none() {
        return Err(err(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        ));
    }
    Ok(())
}

fn account(st: &EmulatorState, sub: &str, rg: &str, name: &str) -> Result<Value, ApiError> {
    check_group(st, sub, rg)?;
    st.store().find(ACCOUNTS, "id", &account_id(sub, rg, name)).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    })
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        )),
    }
}

/// ARM matches property names case-insensitively: the known names are put in their canonical
/// spelling (`Encryption` -> `encryption`), recursively.
fn canonical(v: &Value) -> Value {
    const NAMES: [&str; 40] = [
        "sku",
        "name",
        "kind",
        "location",
        "tags",
        "properties",
        "customDomain",
        "useSubDomainName",
        "encryption",
        "keySource",
        "keyvaultproperties",
        "keyname",
        "keyversion",
        "keyvaulturi",
        "requireInfrastructureEncryption",
        "networkAcls",
        "bypass",
        "defaultAction",
        "ipRules",
        "virtualNetworkRules",
        "accessTier",
        "supportsHttpsTrafficOnly",
        "isHnsEnabled",
        "largeFileSharesState",
        "allowBlobPublicAccess",
        "minimumTlsVersion",
        "changeFeed",
        "enabled",
        "retentionInDays",
        "containerDeleteRetentionPolicy",
        "days",
        "deleteRetentionPolicy",
        "isVersioningEnabled",
        "lastAccessTimeTrackingPolicy",
        "enable",
        "blobType",
        "trackingGranularityInDays",
        "restorePolicy",
        "minRestoreTime",
        "publicAccess",
    ];
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let key = NAMES
                        .iter()
                        .find(|n| n.eq_ignore_ascii_case(k))
                        .map_or_else(|| k.clone(), |n| (*n).to_string());
                    (key, canonical(x))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Numeric strings in fields ARM types as integers become numbers.
fn numbers(v: &mut Value) {
    if let Value::Object(o) = v {
        for (k, x) in o.iter_mut() {
            if matches!(k.as_str(), "days" | "retentionInDays" | "trackingGranularityInDays")
                && let Some(n) = x.as_str().and_then(|s| s.trim().parse::<i64>().ok())
            {
                *x = json!(n);
            }
            numbers(x);
        }
    }
}

fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn replace_item(st: &EmulatorState, collection: &str, item: Value) {
    let id = id_of(&item).to_string();
    let mut all = st.store().list(collection);
    match all.iter_mut().find(|x| id_of(x).eq_ignore_ascii_case(&id)) {
        Some(slot) => *slot = item,
        None => all.push(item),
    }
    st.store().replace(collection, all);
}

// ---- subscriptions and resource groups ---------------------------------------------------------

async fn list_subscriptions(arm: ArmCall) -> Response {
    let st = &arm.call.st;
    handle(&arm, "", "", ok_json, |p| {
        let visible: Vec<Value> = st
            .store()
            .list(SUBS)
            .into_iter()
            .filter(|s| arm_authorize(st, p, "Microsoft.Resources/subscriptions/read", id_of(s)).is_ok())
            .map(|mut s| {
                if let Some(o) = s.as_object_mut() {
                    o.entry("count").or_insert(json!({"type": "Total", "value": 1}));
                }
                s
            })
            .collect();
        Ok(json!({"count": {"type": "Total", "value": visible.len()}, "value": visible}))
    })
}

/// `tagName eq 'x' and tagValue eq 'y'` (or just `tagName eq 'x'`).
fn tag_filter(f: &str) -> Result<(String, Option<String>), ApiError> {
    let bad = || {
        err(
            StatusCode::BAD_REQUEST,
            "InvalidFilterInQueryString",
            format!("Invalid $filter '{f}' specified in the query string."),
        )
    };
    let quoted = |s: &str| {
        s.trim().strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).map(|s| s.replace("''", "'"))
    };
    let mut name = None;
    let mut value = None;
    for part in f.split(" and ") {
        let (k, v) = part.split_once(" eq ").ok_or_else(bad)?;
        match k.trim() {
            "tagName" => name = Some(quoted(v).ok_or_else(bad)?),
            "tagValue" => value = Some(quoted(v).ok_or_else(bad)?),
            _ => return Err(bad()),
        }
    }
    Ok((name.ok_or_else(bad)?, value))
}

async fn list_groups(arm: ArmCall, Path(sub): Path<String>) -> Response {
    let Call { st, meta, .. } = &arm.call;
    handle(&arm, "Microsoft.Resources/subscriptions/resourceGroups/read", &sub_scope(&sub), ok_json, |_| {
        if st.store().find(SUBS, "subscriptionId", &sub).is_none() {
            return Err(err(
                StatusCode::NOT_FOUND,
                "SubscriptionNotFound",
                format!("The subscription '{sub}' could not be found."),
            ));
        }
        let prefix = format!("{}/resourcegroups/", sub_scope(&sub)).to_ascii_lowercase();
        let mut groups: Vec<Value> = st
            .store()
            .list(GROUPS)
            .into_iter()
            .filter(|g| id_of(g).to_ascii_lowercase().starts_with(&prefix))
            .collect();
        if let Some(f) = q(&arm.query, "$filter").filter(|f| !f.trim().is_empty()) {
            let (name, value) = tag_filter(f)?;
            groups.retain(|g| {
                g.get("tags").and_then(Value::as_object).is_some_and(|tags| {
                    tags.iter().any(|(k, v)| {
                        k.eq_ignore_ascii_case(&name)
                            && value.as_ref().is_none_or(|want| v.as_str() == Some(want.as_str()))
                    })
                })
            });
        }
        let size = match q(&arm.query, "$top") {
            Some(t) => t.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                err(
                    StatusCode::BAD_REQUEST,
                    "InvalidTopInQueryString",
                    format!("Invalid $top '{t}' specified in the query string."),
                )
            })?,
            None => 1000,
        };
        arm_list(meta, &format!("/subscriptions/{sub}/resourcegroups"), &arm.query, groups, size)
    })
}

// ---- storage accounts --------------------------------------------------------------------------

async fn list_accounts(arm: ArmCall, Path((sub, rg)): Path<(String, String)>) -> Response {
    let st = &arm.call.st;
    handle(&arm, "Microsoft.Storage/storageAccounts/read", &group_scope(&sub, &rg), ok_json, |_| {
        check_group(st, &sub, &rg)?;
        let prefix = format!("{}/providers/Microsoft.Storage/storageAccounts/", group_scope(&sub, &rg))
            .to_ascii_lowercase();
        let items: Vec<Value> = st
            .store()
            .list(ACCOUNTS)
            .into_iter()
            .filter(|a| id_of(a).to_ascii_lowercase().starts_with(&prefix))
            .collect();
        Ok(json!({"value": items}))
    })
}

async fn get_account(arm: ArmCall, Path((sub, rg, name)): AccountPath) -> Response {
    on_account(
        &arm,
        "Microsoft.Storage/storageAccounts/read",
        &account_id(&sub, &rg, &name),
        (&sub, &rg, &name),
        ok_json,
        Ok,
    )
}

fn tier_of(sku: &str) -> &'static str {
    if sku.starts_with("Premium") { "Premium" } else { "Standard" }
}

/// A new account as ARM describes it after creation.
fn new_account(st: &EmulatorState, id: &str, name: &str, body: &Map<String, Value>) -> Value {
    let sku = body.get("sku").and_then(|s| s.get("name")).and_then(Value::as_str).unwrap_or("Standard_LRS");
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("StorageV2");
    let location = body.get("location").and_then(Value::as_str).unwrap_or("eastus");
    let now = iso7(st.now_ms());
    let endpoint = |svc: &str| format!("https://{name}.{svc}.core.windows.net/");
    let mut props = json!({
        "privateEndpointConnections": [],
        "minimumTlsVersion": "TLS1_0",
        "allowBlobPublicAccess": true,
        "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"},
        "supportsHttpsTrafficOnly": true,
        "encryption": {
            "services": {
                "file": {"keyType": "Account", "enabled": true, "lastEnabledTime": now},
                "blob": {"keyType": "Account", "enabled": true, "lastEnabledTime": now}
            },
            "keySource": "Microsoft.Storage"
        },
        "provisioningState": "Succeeded",
        "creationTime": now,
        "primaryEndpoints": {
            "dfs": endpoint("dfs"), "web": endpoint("web"), "blob": endpoint("blob"),
            "queue": endpoint("queue"), "table": endpoint("table"), "file": endpoint("file")
        },
        "primaryLocation": location,
        "statusOfPrimary": "available"
    });
    if kind == "StorageV2" || kind == "BlobStorage" {
        props["accessTier"] = json!("Hot");
    }
    if sku.contains("GRS") || sku.contains("GZRS") {
        props["secondaryLocation"] = json!(paired_region(location));
        props["statusOfSecondary"] = json!("available");
    }
    json!({
        "sku": {"name": sku, "tier": tier_of(sku)},
        "kind": kind,
        "id": id,
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": location,
        "tags": body.get("tags").cloned().unwrap_or(json!({})),
        "properties": props,
    })
}

fn paired_region(loc: &str) -> &'static str {
    match loc {
        "eastus" => "westus",
        "eastus2" => "centralus",
        "westus" => "eastus",
        "westeurope" => "northeurope",
        "northeurope" => "westeurope",
        _ => "westus2",
    }
}

async fn put_account(arm: ArmCall, Path((sub, rg, name)): AccountPath, body: Bytes) -> Response {
    let Call { st, meta, .. } = &arm.call;
    let id = account_id(&sub, &rg, &name);
    // A create is answered 202 with where to poll (ARM's asynchronous create); an update, 200.
    let accepted = || {
        let mut resp = StatusCode::ACCEPTED.into_response();
        let loc = format!(
            "{}/subscriptions/{sub}/providers/Microsoft.Storage/locations/eastus/asyncoperations/{}?monitor=true&api-version=2022-09-01",
            meta.base_url(),
            meta.request_id
        );
        if let Ok(v) = HeaderValue::from_str(&loc) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("17"));
        resp
    };
    handle(
        &arm,
        "Microsoft.Storage/storageAccounts/write",
        &id,
        |updated: Option<Value>| updated.map_or_else(accepted, |u| json_ok(&u)),
        |_| {
            check_group(st, &sub, &rg)?;
            let body = match canonical(&Value::Object(parse_body(&body)?)) {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            let valid_name = (3..=24).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !valid_name {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "AccountNameInvalid",
                    format!(
                        "{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
                    ),
                ));
            }
            let sku = body.get("sku").and_then(|s| s.get("name")).and_then(Value::as_str).unwrap_or("");
            if !SKUS.contains(&sku) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "InvalidValuesForRequestParameters",
                    format!("Values for request parameters are invalid: sku.name '{sku}'."),
                ));
            }
            let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
            if !KINDS.contains(&kind) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "InvalidValuesForRequestParameters",
                    format!("Values for request parameters are invalid: kind '{kind}'."),
                ));
            }
            if body.get("location").and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "LocationRequired",
                    "The location property is required for this definition.",
                ));
            }
            let mut patch = Value::Object(body.clone());
            if let Some(o) = patch.as_object_mut() {
                o.shift_remove("name");
                if let Some(Value::Object(s)) = o.get_mut("sku") {
                    s.insert("tier".into(), json!(tier_of(sku)));
                }
            }
            match st.store().find(ACCOUNTS, "id", &id) {
                Some(mut existing) => {
                    merge(&mut existing, &patch);
                    replace_item(st, ACCOUNTS, existing.clone());
                    Ok(Some(existing))
                }
                None => {
                    let taken = st
                        .store()
                        .list(ACCOUNTS)
                        .iter()
                        .any(|a| a.get("name").and_then(Value::as_str) == Some(name.as_str()));
                    if taken {
                        return Err(err(
                            StatusCode::CONFLICT,
                            "StorageAccountAlreadyTaken",
                            format!("The storage account named {name} is already taken."),
                        ));
                    }
                    let mut created = new_account(st, &id, &name, &body);
                    if let Some(p) = patch.get("properties") {
                        merge(&mut created["properties"], p);
                    }
                    st.store().insert(ACCOUNTS, created);
                    Ok(None)
                }
            }
        },
    )
}

// ---- blob service ------------------------------------------------------------------------------

fn service_of(st: &EmulatorState, acc: &Value) -> Value {
    let id = format!("{}/blobServices/default", id_of(acc));
    st.store().find(SERVICES, "id", &id).unwrap_or_else(|| {
        json!({
            "sku": acc.get("sku").cloned().unwrap_or(Value::Null),
            "id": id,
            "name": "default",
            "type": "Microsoft.Storage/storageAccounts/blobServices",
            "properties": {"cors": {"corsRules": []}, "deleteRetentionPolicy": {"allowPermanentDelete": false, "enabled": false}}
        })
    })
}

async fn get_service(arm: ArmCall, Path((sub, rg, name)): AccountPath) -> Response {
    let st = &arm.call.st;
    on_account(
        &arm,
        "Microsoft.Storage/storageAccounts/blobServices/read",
        &service_id(&sub, &rg, &name),
        (&sub, &rg, &name),
        ok_json,
        |a| Ok(service_of(st, &a)),
    )
}

async fn put_service(arm: ArmCall, Path((sub, rg, name)): AccountPath, body: Bytes) -> Response {
    let st = &arm.call.st;
    on_account(
        &arm,
        "Microsoft.Storage/storageAccounts/blobServices/write",
        &service_id(&sub, &rg, &name),
        (&sub, &rg, &name),
        ok_json,
        |a| {
            let mut body = canonical(&Value::Object(parse_body(&body)?));
            numbers(&mut body);
            let props = body.get("properties").cloned().unwrap_or(json!({}));
            let mut svc = service_of(st, &a);
            merge(&mut svc["properties"], &props);
            replace_item(st, SERVICES, svc.clone());
            // ARM answers a PUT with what was set, not the whole resource.
            Ok(
                json!({"id": id_of(&svc), "name": "default", "type": "Microsoft.Storage/storageAccounts/blobServices", "properties": props}),
            )
        },
    )
}

// ---- containers --------------------------------------------------------------------------------

fn container_id(sub: &str, rg: &str, name: &str, container: &str) -> String {
    format!("{}/containers/{container}", service_id(sub, rg, name))
}

/// [`on_account`] for a route on one container: the container's id is the RBAC scope, and `run`
/// gets it once the account is found.
fn on_container<T>(
    arm: &ArmCall,
    (sub, rg, name, container): (&str, &str, &str, &str),
    action: &str,
    ok: impl FnOnce(T) -> Response,
    run: impl FnOnce(&str) -> Result<T, ApiError>,
) -> Response {
    let id = container_id(sub, rg, name, container);
    on_account(arm, action, &id, (sub, rg, name), ok, |_| run(&id))
}

fn container_not_found() -> ApiError {
    err(StatusCode::NOT_FOUND, "ContainerNotFound", "The specified container does not exist.")
}

async fn list_containers(arm: ArmCall, Path((sub, rg, name)): AccountPath) -> Response {
    let Call { st, meta, .. } = &arm.call;
    on_account(
        &arm,
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
        &service_id(&sub, &rg, &name),
        (&sub, &rg, &name),
        ok_json,
        |a| {
            let prefix = format!("{}/blobservices/default/containers/", id_of(&a)).to_ascii_lowercase();
            let include_deleted =
                q(&arm.query, "$include").is_some_and(|v| v.eq_ignore_ascii_case("deleted"));
            let items: Vec<Value> = st
                .store()
                .list(CONTAINERS)
                .into_iter()
                .filter(|c| id_of(c).to_ascii_lowercase().starts_with(&prefix))
                .filter(|c| include_deleted || !c["properties"]["deleted"].as_bool().unwrap_or(false))
                .collect();
            let size = match q(&arm.query, "$maxpagesize") {
            Some(m) => m.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                err(StatusCode::BAD_REQUEST, "InvalidQueryParameterValue", format!("Value for one of the query parameters specified in the request URI is invalid: $maxpagesize '{m}'."))
            })?,
            None => 5000,
        };
            let path = format!("{}/blobServices/default/containers", id_of(&a));
            arm_list(meta, &path, &arm.query, items, size)
        },
    )
}

async fn get_container(arm: ArmCall, Path((sub, rg, name, container)): ContainerPath) -> Response {
    let st = &arm.call.st;
    on_container(
        &arm,
        (&sub, &rg, &name, &container),
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
        ok_json,
        |id| st.store().find(CONTAINERS, "id", id).ok_or_else(container_not_found),
    )
}

fn container_props(body: &Bytes) -> Result<Value, ApiError> {
    let body = canonical(&Value::Object(parse_body(body)?));
    let props = body.get("properties").cloned().unwrap_or(json!({}));
    if let Some(p) = props.get("publicAccess").and_then(Value::as_str)
        && !["Blob", "Container", "None"].contains(&p)
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidValuesForRequestParameters",
            format!("Values for request parameters are invalid: publicAccess '{p}'."),
        ));
    }
    Ok(props)
}

async fn put_container(
    arm: ArmCall,
    Path((sub, rg, name, container)): ContainerPath,
    body: Bytes,
) -> Response {
    let st = &arm.call.st;
    on_container(
        &arm,
        (&sub, &rg, &name, &container),
        "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        |(status, b): (StatusCode, Value)| status_json(status, &b),
        |id| {
            let valid = (3..=63).contains(&container.len())
                && container.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !container.starts_with('-')
                && !container.contains("--");
            if !valid {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "ContainerOperationFailure",
                    "The specifed resource name contains invalid characters.",
                ));
            }
            let props = container_props(&body)?;
            let existed = st.store().find(CONTAINERS, "id", id);
            let mut stored = existed.clone().unwrap_or_else(|| {
                json!({
                    "id": id,
                    "name": container,
                    "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
                    "properties": {
                        "deleted": false, "remainingRetentionDays": 0, "denyEncryptionScopeOverride": false,
                        "defaultEncryptionScope": "$account-encryption-key", "publicAccess": "None",
                        "leaseStatus": "Unlocked", "leaseState": "Available",
                        "lastModifiedTime": iso7(st.now_ms()), "hasImmutabilityPolicy": false, "hasLegalHold": false
                    }
                })
            });
            merge(&mut stored["properties"], &props);
            replace_item(st, CONTAINERS, stored);
            // As recorded: a create answers the request's properties plus the service's flags.
            let mut answer_props = json!({"deleted": false, "remainingRetentionDays": 0});
            merge(&mut answer_props, &props);
            merge(&mut answer_props, &json!({"hasImmutabilityPolicy": false, "hasLegalHold": false}));
            let answer = json!({
                "id": id,
                "name": container,
                "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
                "properties": answer_props
            });
            Ok((if existed.is_some() { StatusCode::OK } else { StatusCode::CREATED }, answer))
        },
    )
}

async fn patch_container(
    arm: ArmCall,
    Path((sub, rg, name, container)): ContainerPath,
    body: Bytes,
) -> Response {
    let st = &arm.call.st;
    on_container(
        &arm,
        (&sub, &rg, &name, &container),
        "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        ok_json,
        |id| {
            let mut stored = st.store().find(CONTAINERS, "id", id).ok_or_else(container_not_found)?;
            let props = container_props(&body)?;
            merge(&mut stored["properties"], &props);
            merge(&mut stored["properties"], &json!({"lastModifiedTime": iso7(st.now_ms())}));
            replace_item(st, CONTAINERS, stored.clone());
            let p = &stored["properties"];
            Ok(json!({
                "id": id,
                "name": container,
                "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
                "properties": {
                    "metadata": {},
                    "publicAccess": p["publicAccess"],
                    "hasImmutabilityPolicy": p["hasImmutabilityPolicy"],
                    "hasLegalHold": p["hasLegalHold"]
                }
            }))
        },
    )
}

async fn delete_container(arm: ArmCall, Path((sub, rg, name, container)): ContainerPath) -> Response {
    let st = &arm.call.st;
    on_container(
        &arm,
        (&sub, &rg, &name, &container),
        "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
        // ARM answers 200 when the container existed and 204 when it did not.
        |existed| {
            if existed { StatusCode::OK.into_response() } else { StatusCode::NO_CONTENT.into_response() }
        },
        |id| Ok(st.store().remove(CONTAINERS, "id", id).is_some()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_filters_parse_and_reject_other_text() {
        assert_eq!(
            tag_filter("tagName eq 'Owner' and tagValue eq 'it'").unwrap(),
            ("Owner".into(), Some("it".into()))
        );
        assert_eq!(tag_filter("tagName eq 'Owner'").unwrap(), ("Owner".into(), None));
        assert!(tag_filter("name eq 'x'").is_err());
    }

    #[test]
    fn canonical_names_fix_the_case_and_numbers_become_numbers() {
        let mut v = canonical(
            &json!({"properties": {"Encryption": {"KeySource": "Microsoft.Storage"}, "deleteRetentionPolicy": {"days": "7"}}}),
        );
        numbers(&mut v);
        assert_eq!(
            v,
            json!({"properties": {"encryption": {"keySource": "Microsoft.Storage"}, "deleteRetentionPolicy": {"days": 7}}})
        );
    }
}
