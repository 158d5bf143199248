//! The resource-API framework: bearer checks per API and host, 401/403 bodies, ARM RBAC, the
//! store and pagination, driven through small routes built here the way integration routes are.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use common::*;
use serde_json::{Value, json};
use soar_emulator::apis::{self, ApiError, Need, answer, arm_authorize, authenticate, graph_list, json_ok};
use soar_emulator::config::*;
use soar_emulator::meta::Call;
use soar_emulator::{ApiKind, EmulatorState};

async fn users(c: Call, Query(q): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &c;
    let need = Need::any(&["User.Read.All"], &["User.Read"]);
    let result = authenticate(st, headers, meta, ApiKind::Graph, &need).and_then(|_| {
        graph_list(meta, "/v1.0/users", &q, st.store().list("graph.users"), 100, 999, false, "users")
    });
    answer(st, meta, result, |b| json_ok(&b))
}

async fn groups(c: Call, Query(q): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, .. } = &c;
    let result = graph_list(meta, "/v1.0/groups", &q, st.store().list("graph.users"), 2, 999, true, "groups");
    answer(st, meta, result, |b| json_ok(&b))
}

async fn rg(c: Call, Query(q): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, headers } = &c;
    let scope = "/subscriptions/55555555-5555-4555-8555-000000000001/resourceGroups/soar-rg";
    let result = authenticate(st, headers, meta, ApiKind::Arm, &Need::NONE).and_then(|p| {
        if !q.iter().any(|(k, _)| k == "api-version") {
            return Err(ApiError::arm_missing_api_version());
        }
        arm_authorize(st, &p, "Microsoft.Resources/subscriptions/resourceGroups/read", scope)?;
        apis::arm_list(meta, "/subscriptions/x/resourcegroups", &q, st.store().list("graph.users"), 2)
    });
    answer(st, meta, result, |b| json_ok(&b))
}

async fn machines(c: Call) -> Response {
    let Call { st, meta, headers } = &c;
    let result = authenticate(st, headers, meta, ApiKind::Defender, &Need::any(&["Machine.Read.All"], &[]));
    answer(st, meta, result, |_| json_ok(&json!({"value": []})))
}

fn with_routes(t: &T) -> Router {
    for i in 0..5 {
        t.st.store()
            .insert("graph.users", json!({"id": format!("u{i}"), "displayName": format!("User {i}")}));
    }
    Router::new()
        .route("/v1.0/users", get(users))
        .route("/v1.0/groups", get(groups))
        .route("/subscriptions/x/resourcegroups", get(rg))
        .route("/api/machines", get(machines))
        .layer(axum::middleware::from_fn_with_state(t.st.clone(), soar_emulator::meta::meta_layer))
        .with_state(t.st.clone())
}

async fn call(t: &T, router: &Router, host: &str, path: &str, token: Option<&str>) -> Resp {
    use tower::ServiceExt as _;
    let mut b = http::Request::get(path).header("host", host);
    if let Some(tok) = token {
        b = b.header("authorization", format!("Bearer {tok}"));
    }
    let resp = router.clone().oneshot(b.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let _ = t;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    Resp { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

fn graph_error(r: &Resp, status: u16, code: &str, message: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    let b = r.json();
    assert_eq!(b["error"]["code"], code, "{}", r.text);
    assert_eq!(b["error"]["message"], message, "{}", r.text);
    let inner = &b["error"]["innerError"];
    assert!(!inner["date"].as_str().unwrap().ends_with('Z'));
    assert_eq!(inner["request-id"].as_str().unwrap(), r.header("request-id"));
    assert!(inner["client-request-id"].is_string());
}

#[tokio::test]
async fn graph_bearer_checks() {
    let t = T::new();
    let router = with_routes(&t);
    let graph = t.app_token("https://graph.microsoft.com/.default").await;
    let r = call(&t, &router, "graph.microsoft.com", "/v1.0/users", None).await;
    graph_error(&r, 401, "InvalidAuthenticationToken", "Access token is empty.");
    assert!(r.header("www-authenticate").contains("client_id=\"00000003-0000-0000-c000-000000000000\""));
    graph_error(
        &call(&t, &router, "graph.microsoft.com", "/v1.0/users", Some("not-a-jwt")).await,
        401,
        "InvalidAuthenticationToken",
        "CompactToken parsing failed with error code: 80049217",
    );
    // A token signed by another key.
    let forged = {
        let other = soar_emulator::keys::RsaKey::from_pkcs8(
            soar_emulator::keys::cached_rsa_pkcs8("forger").unwrap(),
            "x",
        )
        .unwrap();
        other.sign_jwt(&json!({"alg":"RS256","typ":"JWT"}), &claims(&graph)).unwrap()
    };
    graph_error(
        &call(&t, &router, "graph.microsoft.com", "/v1.0/users", Some(&forged)).await,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure.",
    );
    // Wrong audience, and the right API on the wrong cloud.
    let arm = t.app_token("https://management.azure.com/.default").await;
    graph_error(
        &call(&t, &router, "graph.microsoft.com", "/v1.0/users", Some(&arm)).await,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
    );
    graph_error(
        &call(&t, &router, "graph.microsoft.us", "/v1.0/users", Some(&graph)).await,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
    );
    // No permission.
    let limited =
        t.app_token_for(LIMITED_APP_ID, LIMITED_APP_SECRET, "https://graph.microsoft.com/.default").await;
    graph_error(
        &call(&t, &router, "graph.microsoft.com", "/v1.0/users", Some(&limited)).await,
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    );
    // Valid: named host and loopback.
    assert_eq!(call(&t, &router, "graph.microsoft.com", "/v1.0/users", Some(&graph)).await.status, 200);
    assert_eq!(call(&t, &router, HOST, "/v1.0/users", Some(&graph)).await.status, 200);
    // Expired: a 5-second lifetime, then 6 seconds later.
    t.st.faults().set_token_lifetime(Some(5));
    let short = t.app_token("https://graph.microsoft.com/.default").await;
    assert_eq!(call(&t, &router, HOST, "/v1.0/users", Some(&short)).await.status, 200);
    t.advance(6);
    graph_error(
        &call(&t, &router, HOST, "/v1.0/users", Some(&short)).await,
        401,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
    );
}

#[tokio::test]
async fn graph_pagination_follows_absolute_next_links() {
    let t = T::new();
    let router = with_routes(&t);
    let tok = t.app_token("https://graph.microsoft.com/.default").await;
    let mut url = "/v1.0/users?$top=2&$select=id".to_string();
    let mut seen = Vec::new();
    loop {
        let r = call(&t, &router, "graph.microsoft.com", &url, Some(&tok)).await;
        let b = r.json();
        assert_eq!(b["@odata.context"], "http://graph.microsoft.com/v1.0/$metadata#users");
        seen.extend(b["value"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()));
        match b.get("@odata.nextLink").and_then(Value::as_str) {
            Some(next) => {
                assert!(
                    next.starts_with("http://graph.microsoft.com/v1.0/users?")
                        && next.contains("%24select=id")
                        && next.contains("%24skiptoken="),
                    "{next}"
                );
                url = next.trim_start_matches("http://graph.microsoft.com").to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, ["u0", "u1", "u2", "u3", "u4"]);
    // A skiptoken far past the end is an empty last page, not an overflow.
    let huge = soar_emulator::apis::skiptoken(usize::MAX);
    let r =
        call(&t, &router, "graph.microsoft.com", &format!("/v1.0/users?$skiptoken={huge}"), Some(&tok)).await;
    assert_eq!(r.json()["value"], json!([]));
    assert!(r.json().get("@odata.nextLink").is_none());
    for bad in
        ["/v1.0/users?$top=0", "/v1.0/users?$top=1000", "/v1.0/users?$skip=2", "/v1.0/users?$skiptoken=zzz"]
    {
        let r = call(&t, &router, "graph.microsoft.com", bad, Some(&tok)).await;
        assert_eq!(
            (r.status.as_u16(), r.json()["error"]["code"].as_str()),
            (400, Some("Request_BadRequest")),
            "{bad}"
        );
    }
    // $skip where the service allows it.
    let r = call(&t, &router, HOST, "/v1.0/groups?$skip=3", None).await;
    let body = r.json();
    let ids: Vec<&str> =
        body["value"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u3", "u4"]);
}

#[tokio::test]
async fn arm_bearer_rbac_and_paging() {
    let t = T::new();
    let router = with_routes(&t);
    let path = "/subscriptions/x/resourcegroups?api-version=2021-04-01";
    let r = call(&t, &router, "management.azure.com", path, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error":{"code":"AuthenticationFailed","message":"Authentication failed. The 'Authorization' header is missing."}})
    );
    assert!(
        r.header("www-authenticate").starts_with("Bearer authorization_uri=\"https://login.windows.net/\"")
    );
    let graph = t.app_token("https://graph.microsoft.com/.default").await;
    let r = call(&t, &router, "management.azure.com", path, Some(&graph)).await;
    assert_eq!(r.json()["error"]["code"], "InvalidAuthenticationTokenAudience");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'"), "{}", r.text);
    // A US Government ARM token on the worldwide host.
    let r = t
        .post_form_host(
            "login.microsoftonline.us",
            V2,
            &[
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "client_credentials"),
                ("scope", "https://management.usgovcloudapi.net/.default"),
            ],
            &[],
        )
        .await;
    let gov = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        call(&t, &router, "management.azure.com", path, Some(&gov)).await.json()["error"]["code"],
        "InvalidAuthenticationTokenAudience"
    );
    assert_eq!(call(&t, &router, "management.usgovcloudapi.net", path, Some(&gov)).await.status, 200);
    // Authorization before existence.
    let limited =
        t.app_token_for(LIMITED_APP_ID, LIMITED_APP_SECRET, "https://management.azure.com/.default").await;
    let r = call(&t, &router, "management.azure.com", path, Some(&limited)).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], "AuthorizationFailed");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/read' over scope"));
    let arm = t.app_token("https://management.azure.com/.default").await;
    let r = call(&t, &router, "management.azure.com", "/subscriptions/x/resourcegroups", Some(&arm)).await;
    assert_eq!(r.json()["error"]["code"], "MissingApiVersionParameter");
    let r = call(&t, &router, "management.azure.com", path, Some(&arm)).await;
    let next = r.json()["nextLink"].as_str().unwrap().to_string();
    assert!(
        next.starts_with(
            "http://management.azure.com/subscriptions/x/resourcegroups?api-version=2021-04-01&%24skiptoken="
        ),
        "{next}"
    );
    // Expired ARM token wording.
    t.st.faults().set_token_lifetime(Some(1));
    let short = t.app_token("https://management.azure.com/.default").await;
    t.advance(2);
    let r = call(&t, &router, "management.azure.com", path, Some(&short)).await;
    assert_eq!(r.json()["error"]["code"], "ExpiredAuthenticationToken");
    assert!(r.json()["error"]["message"].as_str().unwrap().starts_with("The access token expiry UTC time '"));
}

#[tokio::test]
async fn defender_shapes() {
    let t = T::new();
    let router = with_routes(&t);
    let r = call(&t, &router, "api.securitycenter.microsoft.com", "/api/machines", None).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["code"].as_str()), (401, Some("Unauthorized")));
    assert!(r.json()["error"]["target"].is_string());
    let ok = t.app_token("https://api.securitycenter.windows.com/.default").await;
    assert_eq!(
        call(&t, &router, "api.securitycenter.microsoft.com", "/api/machines", Some(&ok)).await.status,
        200
    );
    let limited = t
        .app_token_for(
            LIMITED_APP_ID,
            LIMITED_APP_SECRET,
            "https://api.securitycenter.microsoft.com/.default",
        )
        .await;
    let r = call(&t, &router, "api.securitycenter.microsoft.com", "/api/machines", Some(&limited)).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["code"].as_str()), (403, Some("Forbidden")));
    // GCC-High Defender needs its own audience.
    assert_eq!(
        call(&t, &router, "api-gov.securitycenter.microsoft.us", "/api/machines", Some(&ok)).await.status,
        401
    );
}

#[test]
fn store_operations_and_seed_files() {
    let store = apis::Store::default();
    store.load_value(&json!({"c": [{"id": "A", "n": 1}, {"id": "b", "n": 2}]})).unwrap();
    assert_eq!(store.find("c", "id", "a").unwrap()["n"], 1, "ids compare case-insensitively");
    assert_eq!(
        store.update("c", "id", "b", &json!({"n": 3, "x": true})).unwrap(),
        json!({"id": "b", "n": 3, "x": true})
    );
    assert!(store.find("c", "n", "3").is_some(), "non-string fields compare as JSON");
    assert_eq!(store.remove("c", "id", "A").unwrap()["n"], 1);
    assert_eq!(store.list("c").len(), 1);
    assert!(store.load_value(&json!([1])).is_err());
    assert!(store.load_value(&json!({"c": 1})).unwrap_err().contains("'c'"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), r#"{"graph.users":[{"id":"s1"}]}"#).unwrap();
    std::fs::write(dir.path().join("ignored.txt"), "x").unwrap();
    let cfg = EmulatorConfig { seed_dirs: vec![dir.path().to_path_buf()], ..EmulatorConfig::default() };
    let t = T::with(cfg);
    assert!(t.st.store().find("graph.users", "id", "s1").is_some());
    std::fs::write(dir.path().join("b.json"), "not json").unwrap();
    let cfg = EmulatorConfig { seed_dirs: vec![dir.path().to_path_buf()], ..EmulatorConfig::default() };
    let err = EmulatorState::new(cfg).unwrap_err().to_string();
    assert!(err.contains("b.json"), "{err}");
}

/// Integration routes merge into `app()` beside the identity routes without conflicts, and
/// the identity routes keep working.
#[tokio::test]
async fn api_routes_merge_into_the_app() {
    use tower::ServiceExt as _;
    let t = T::new();
    let extra: Router = Router::new()
        .route("/v1.0/emulatorTestItems/{id}", get(|| async { "user" }))
        .route("/subscriptions/{sub}/providers/Emulator.Test/items/{id}", get(|| async { "rg" }))
        .route("/api/emulatorTestItems/{id}", get(|| async { "machine" }));
    let app = soar_emulator::app(t.st.clone()).merge(extra);
    for (path, want) in [
        ("/v1.0/emulatorTestItems/u1", "user"),
        ("/subscriptions/s/providers/Emulator.Test/items/r", "rg"),
        ("/api/emulatorTestItems/m", "machine"),
    ] {
        let resp = app
            .clone()
            .oneshot(http::Request::get(path).body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body, want.as_bytes());
    }
    let resp = app
        .oneshot(
            http::Request::get(format!("/{TENANT}/v2.0/.well-known/openid-configuration"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn app_tokens_are_reused_within_a_second_unless_switched_off() {
    let t = T::new();
    let a = t.app_token("https://graph.microsoft.com/.default").await;
    assert_eq!(a, t.app_token("https://graph.microsoft.com/.default").await, "same second, same request");
    assert_ne!(a, t.app_token("https://management.azure.com/.default").await);
    t.advance(1);
    assert_ne!(a, t.app_token("https://graph.microsoft.com/.default").await, "a new second signs anew");
    let mut cfg = EmulatorConfig::default();
    cfg.behaviour.reuse_app_tokens_within_second = false;
    let t = T::with(cfg);
    let a = t.app_token("https://graph.microsoft.com/.default").await;
    assert_ne!(a, t.app_token("https://graph.microsoft.com/.default").await);
}

/// `POST /__emulator/defender/alerts {"count": N}`: N alerts in one call, quickly, one second
/// apart and ending now, with the body's other fields; the list route pages them in order.
#[tokio::test]
async fn defender_alerts_are_bulk_added_through_the_control_endpoint() {
    let t = T::new();
    let started = std::time::Instant::now();
    let r = t
        .post_json("/__emulator/defender/alerts", &json!({"count": 10_000, "detectionSource": "Bulk"}))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(r.json()["count"], 10_000);
    assert_eq!(r.json()["added"].as_array().unwrap().len(), 100);
    let first = r.json()["added"][0].as_str().unwrap().to_owned();
    // The numbering goes on: a second call never collides.
    let r = t.post_json("/__emulator/defender/alerts", &json!({})).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_ne!(r.json()["added"][0], json!(first));
    for bad in [json!({"count": 0}), json!({"count": 100_001}), json!({"count": "ten"}), json!([1])] {
        let r = t.post_json("/__emulator/defender/alerts", &bad).await;
        assert_eq!(r.status.as_u16(), 400, "{bad}: {}", r.text);
        assert!(r.text.contains("count") || r.text.contains("JSON object"), "{}", r.text);
    }
    let tok = t.app_token("https://api.securitycenter.microsoft.com/.default").await;
    let auth = format!("Bearer {tok}");
    let page = |skip: usize| {
        format!(
            "/api/alerts?$filter=detectionSource%20eq%20'Bulk'&$orderby=alertCreationTime%20asc&$top=200&$skip={skip}"
        )
    };
    let r = t.get("api.securitycenter.microsoft.com", &page(0), &[("authorization", &auth)]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let items = r.json()["value"].as_array().unwrap().clone();
    assert_eq!(items.len(), 200);
    assert_eq!(items[0]["id"], json!(first));
    let times: Vec<&str> = items.iter().map(|a| a["alertCreationTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(times[0].len(), "2024-01-01T00:00:00.0000000Z".len(), "{}", times[0]);
    let last = t.get("api.securitycenter.microsoft.com", &page(9_999), &[("authorization", &auth)]).await;
    assert_eq!(last.json()["value"].as_array().unwrap().len(), 1);
}
