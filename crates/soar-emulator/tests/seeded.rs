//! Seeded collections (`apis/seeded.rs`): the seeds in `tests/data/` (given as
//! `EmulatorConfig::extra_seeds`, so nothing here depends on `test-data/`) served in process for
//! each paging kind, key lookups, the 401/403/404/405 bodies of each API, the writes, the start-up
//! errors of bad seeds, and one run over real TLS; plus the check that the build-time table holds
//! every `test-data/*/emulator-seed.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "common/tls.rs"]
mod tls;

use axum::body::Body;
use common::*;
use http::Request;
use serde_json::{Value, json};
use soar_emulator::apis::seeded::{BUILTIN_SEEDS, parse_seed};
use soar_emulator::config::*;
use soar_emulator::{Emulator, EmulatorConfig, EmulatorState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GRAPH: &str = "graph.microsoft.com";
const ARM: &str = "management.azure.com";
const MDE: &str = "api.securitycenter.microsoft.com";
const INCIDENTS: &str = "/v1.0/security/incidents";
const ALERTS: &str = "/api/soar-test/alerts";
const READER_ID: &str = "22222222-2222-4222-8222-000000000201";
const READER_SECRET: &str = "seed-reader-secret";

fn widgets() -> String {
    format!(
        "/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/resourceGroups/soar-rg/providers/Microsoft.Emulator/widgets"
    )
}

fn test_seeds() -> Vec<(String, String)> {
    [
        ("tests/data/seed-graph.json", include_str!("data/seed-graph.json")),
        ("tests/data/seed-defender.json", include_str!("data/seed-defender.json")),
        ("tests/data/seed-arm.json", include_str!("data/seed-arm.json")),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s.to_string()))
    .collect()
}

/// The default registrations with the test seeds; the secret app may also write incidents, and a
/// reader app may only read incidents and alerts.
fn config() -> EmulatorConfig {
    let mut cfg = EmulatorConfig { extra_seeds: test_seeds(), ..EmulatorConfig::default() };
    let secret = cfg.apps.iter_mut().find(|a| a.client_id == SECRET_APP_ID).unwrap();
    secret.roles.get_mut("graph").unwrap().push("SecurityIncident.ReadWrite.All".into());
    cfg.apps.push(AppConfig {
        client_id: READER_ID.into(),
        object_id: "22222222-2222-4222-8222-0000000002a1".into(),
        secrets: vec![SecretConfig { value: READER_SECRET.into(), expired: false }],
        roles: [
            ("graph".to_string(), vec!["SecurityIncident.Read.All".to_string()]),
            ("defender".to_string(), vec!["Alert.Read.All".to_string()]),
        ]
        .into_iter()
        .collect(),
        arm_scopes: vec!["/".into()],
        ..AppConfig::default()
    });
    cfg
}

/// Status, then the error code when there is one.
fn check(r: &Resp, status: u16, code: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    if let Some(c) = code {
        assert_eq!(r.json()["error"]["code"], c, "{}", r.text);
    }
}

fn keys(page: &Value, field: &str) -> Vec<String> {
    page["value"].as_array().unwrap().iter().map(|i| i[field].as_str().unwrap().to_string()).collect()
}

/// Follows `link` (an absolute URL on `host`) from `first` and returns each page's keys.
async fn pages(t: &T, host: &str, first: &str, tok: &str, link: &str, key: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut path = first.to_string();
    loop {
        let r = send(t, "GET", host, &path, tok, None).await;
        check(&r, 200, None);
        let body = r.json();
        out.push(keys(&body, key));
        let Some(next) = body.get(link).and_then(Value::as_str) else { return out };
        let prefix = format!("http://{host}/");
        assert!(next.starts_with(&prefix), "{next}");
        path = next[prefix.len() - 1..].to_string();
        assert!(out.len() < 10, "the links do not end");
    }
}

#[tokio::test]
async fn graph_collection_pages_by_next_link_and_finds_by_key() {
    let t = T::with(config());
    let tok = t.app_token("https://graph.microsoft.com/.default").await;
    let got = pages(&t, GRAPH, INCIDENTS, &tok, "@odata.nextLink", "id").await;
    assert_eq!(got, [vec!["1", "2"], vec!["3", "4"], vec!["5"]]);
    let first = send(&t, "GET", GRAPH, INCIDENTS, &tok, None).await.json();
    assert_eq!(first["@odata.context"], "http://graph.microsoft.com/v1.0/$metadata#security/incidents");
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("%24top=2") && next.contains("%24skiptoken="), "{next}");
    // $top overrides the page size; a trailing slash is the collection too.
    let got = pages(&t, GRAPH, &format!("{INCIDENTS}/?$top=4"), &tok, "@odata.nextLink", "id").await;
    assert_eq!(got, [vec!["1", "2", "3", "4"], vec!["5"]]);
    check(
        &send(&t, "GET", GRAPH, &format!("{INCIDENTS}?$top=0"), &tok, None).await,
        400,
        Some("Request_BadRequest"),
    );
    // By key, and an unknown key in Graph's body.
    let r = send(&t, "GET", GRAPH, &format!("{INCIDENTS}/3"), &tok, None).await;
    check(&r, 200, None);
    assert_eq!(r.json()["displayName"], "Incident 3");
    let r = send(&t, "GET", GRAPH, &format!("{INCIDENTS}/99"), &tok, None).await;
    check(&r, 404, Some("Request_ResourceNotFound"));
    assert_eq!(
        r.json()["error"]["message"],
        "Resource '99' does not exist or one of its queried reference-property objects are not present."
    );
    assert_eq!(r.json()["error"]["innerError"]["request-id"].as_str().unwrap(), r.header("request-id"));
    // A path below an item is no collection: the emulator's own 404.
    let r = send(&t, "GET", GRAPH, &format!("{INCIDENTS}/3/alerts"), &tok, None).await;
    check(&r, 404, Some("NotFound"));
    assert!(r.json()["error"]["message"].as_str().unwrap().starts_with("The emulator has no route"));
}

#[tokio::test]
async fn defender_collection_pages_by_top_and_skip_without_links() {
    let t = T::with(config());
    let tok = t.app_token("https://api.securitycenter.microsoft.com/.default").await;
    let mut got = Vec::new();
    for skip in [0, 2, 4] {
        let r = send(&t, "GET", MDE, &format!("{ALERTS}?$skip={skip}"), &tok, None).await;
        check(&r, 200, None);
        let body = r.json();
        assert!(body.get("@odata.nextLink").is_none(), "{body}");
        assert_eq!(
            body["@odata.context"],
            "http://api.securitycenter.microsoft.com/api/$metadata#soar-test/alerts"
        );
        got.push(keys(&body, "id"));
    }
    assert_eq!(got, [vec!["da1", "da2"], vec!["da3", "da4"], vec!["da5"]]);
    let r = send(&t, "GET", MDE, &format!("{ALERTS}?$top=3&$skip=1"), &tok, None).await;
    assert_eq!(keys(&r.json(), "id"), ["da2", "da3", "da4"]);
    check(&send(&t, "GET", MDE, &format!("{ALERTS}?$skip=x"), &tok, None).await, 400, Some("ODataError"));
    assert_eq!(send(&t, "GET", MDE, &format!("{ALERTS}/da4"), &tok, None).await.json()["title"], "Alert 4");
    let r = send(&t, "GET", MDE, &format!("{ALERTS}/nope"), &tok, None).await;
    check(&r, 404, Some("ResourceNotFound"));
    assert_eq!(r.json()["error"]["target"].as_str().unwrap(), r.header("x-ms-request-id"));
}

#[tokio::test]
async fn arm_collection_pages_checks_api_version_and_rbac_before_existence() {
    let t = T::with(config());
    let tok = t.app_token("https://management.azure.com/.default").await;
    let base = widgets();
    let v = "api-version=2024-01-01";
    let got = pages(&t, ARM, &format!("{base}?{v}"), &tok, "nextLink", "name").await;
    assert_eq!(got, [vec!["w1", "w2"], vec!["w3", "w4"], vec!["w5"]]);
    let first = send(&t, "GET", ARM, &format!("{base}?{v}"), &tok, None).await.json();
    assert!(first.get("@odata.context").is_none(), "{first}");
    assert!(first["nextLink"].as_str().unwrap().contains(v), "the link keeps the api-version");
    // ARM's $top sets the page size.
    let got = pages(&t, ARM, &format!("{base}?{v}&$top=3"), &tok, "nextLink", "name").await;
    assert_eq!(got, [vec!["w1", "w2", "w3"], vec!["w4", "w5"]]);
    // {subscription} became the emulator's subscription in the items too.
    let r = send(&t, "GET", ARM, &format!("{base}/W2?{v}"), &tok, None).await;
    check(&r, 200, None);
    assert_eq!(r.json()["id"], format!("{base}/w2"));
    check(&send(&t, "GET", ARM, &base, &tok, None).await, 400, Some("MissingApiVersionParameter"));
    let r = send(&t, "GET", ARM, &format!("{base}?api-version=2020-01-01"), &tok, None).await;
    check(&r, 400, Some("InvalidApiVersionParameter"));
    assert_eq!(
        r.json()["error"]["message"],
        "The api-version '2020-01-01' is invalid. The supported versions are '2024-01-01'."
    );
    let r = send(&t, "GET", ARM, &format!("{base}/w9?{v}"), &tok, None).await;
    check(&r, 404, Some("ResourceNotFound"));
    assert_eq!(
        r.json()["error"]["message"],
        "The Resource 'Microsoft.Emulator/widgets/w9' under resource group 'soar-rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );
    // A resource group, or a resource under a seeded group, that nothing serves: ARM's 404s
    // (after the token), not the emulator's "no route"; other hosts keep the plain 404.
    let sub = format!("/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/resourceGroups");
    let cases = [
        (
            format!("{sub}/other-rg/providers/Microsoft.Emulator/widgets?{v}"),
            ARM,
            tok.as_str(),
            404,
            "ResourceGroupNotFound",
            "Resource group 'other-rg' could not be found.",
        ),
        (
            format!(
                "{sub}/soar-rg/providers/Microsoft.OperationalInsights/workspaces/nope/providers/Microsoft.SecurityInsights/incidents?{v}"
            ),
            ARM,
            tok.as_str(),
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.OperationalInsights/workspaces/nope' under resource group 'soar-rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        ),
        (
            format!("{sub}/other-rg/providers/Microsoft.Emulator/widgets?{v}"),
            ARM,
            "",
            401,
            "AuthenticationFailed",
            "",
        ),
        (
            format!("{sub}/other-rg/providers/Microsoft.Emulator/widgets?{v}"),
            GRAPH,
            tok.as_str(),
            404,
            "NotFound",
            "The emulator has no route",
        ),
    ];
    for (path, host, token, status, code, message) in cases {
        let r = send(&t, "GET", host, &path, token, None).await;
        check(&r, status, Some(code));
        let text = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(text.starts_with(message), "{path} on {host}: {text}");
    }
    // No role assignment: 403 naming the declared action, before existence is looked at.
    let limited =
        t.app_token_for(LIMITED_APP_ID, LIMITED_APP_SECRET, "https://management.azure.com/.default").await;
    for key in ["w1", "w9"] {
        let r = send(&t, "GET", ARM, &format!("{base}/{key}?{v}"), &limited, None).await;
        check(&r, 403, Some("AuthorizationFailed"));
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            msg.contains(&format!(
                "perform action 'Microsoft.Emulator/widgets/read' over scope '{base}/{key}'"
            )),
            "{msg}"
        );
    }
    // A collection without api_version takes any version, but ARM always wants one.
    let locations =
        format!("/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/providers/Microsoft.Emulator/locations");
    let r = send(&t, "GET", ARM, &format!("{locations}?api-version=2099-01-01"), &tok, None).await;
    assert_eq!(keys(&r.json(), "name"), ["eastus"]);
    check(&send(&t, "GET", ARM, &locations, &tok, None).await, 400, Some("MissingApiVersionParameter"));
}

#[tokio::test]
async fn tokens_for_another_api_or_cloud_get_401() {
    let t = T::with(config());
    let graph = t.app_token("https://graph.microsoft.com/.default").await;
    let arm = t.app_token("https://management.azure.com/.default").await;
    let r = send(&t, "GET", GRAPH, INCIDENTS, &arm, None).await;
    check(&r, 401, Some("InvalidAuthenticationToken"));
    assert_eq!(r.json()["error"]["message"], "Access token validation failure. Invalid audience.");
    // The right API in the wrong cloud.
    check(
        &send(&t, "GET", "graph.microsoft.us", INCIDENTS, &graph, None).await,
        401,
        Some("InvalidAuthenticationToken"),
    );
    let r = send(&t, "GET", MDE, ALERTS, &graph, None).await;
    check(&r, 401, Some("Unauthorized"));
    assert_eq!(r.json()["error"]["message"], "The access token audience is not valid for this API.");
    let r = send(&t, "GET", ARM, &format!("{}?api-version=2024-01-01", widgets()), &graph, None).await;
    check(&r, 401, Some("InvalidAuthenticationTokenAudience"));
    // No token at all.
    let r = t.get(GRAPH, INCIDENTS, &[]).await;
    check(&r, 401, Some("InvalidAuthenticationToken"));
    assert_eq!(r.json()["error"]["message"], "Access token is empty.");
}

#[tokio::test]
async fn missing_roles_get_403_in_each_apis_shape() {
    let t = T::with(config());
    let limited =
        t.app_token_for(LIMITED_APP_ID, LIMITED_APP_SECRET, "https://graph.microsoft.com/.default").await;
    let r = send(&t, "GET", GRAPH, INCIDENTS, &limited, None).await;
    check(&r, 403, Some("Authorization_RequestDenied"));
    assert_eq!(r.json()["error"]["message"], "Insufficient privileges to complete the operation.");
    let limited = t
        .app_token_for(
            LIMITED_APP_ID,
            LIMITED_APP_SECRET,
            "https://api.securitycenter.microsoft.com/.default",
        )
        .await;
    let r = send(&t, "GET", MDE, ALERTS, &limited, None).await;
    check(&r, 403, Some("Forbidden"));
    assert_eq!(
        r.json()["error"]["message"],
        "Missing application roles. API required roles: Alert.Read.All,Alert.ReadWrite.All."
    );
    // A reader reads, and needs the write role to write.
    let reader = t.app_token_for(READER_ID, READER_SECRET, "https://graph.microsoft.com/.default").await;
    check(&send(&t, "GET", GRAPH, &format!("{INCIDENTS}/1"), &reader, None).await, 200, None);
    let r = send(&t, "PATCH", GRAPH, &format!("{INCIDENTS}/1"), &reader, Some(json!({"status": "resolved"})))
        .await;
    check(&r, 403, Some("Authorization_RequestDenied"));
    let reader =
        t.app_token_for(READER_ID, READER_SECRET, "https://api.securitycenter.microsoft.com/.default").await;
    let r = send(&t, "POST", MDE, ALERTS, &reader, Some(json!({"title": "x"}))).await;
    check(&r, 403, Some("Forbidden"));
    assert_eq!(
        r.json()["error"]["message"],
        "Missing application roles. API required roles: Alert.ReadWrite.All."
    );
    // The refused write changed nothing.
    let admin = t.app_token("https://graph.microsoft.com/.default").await;
    assert_eq!(
        send(&t, "GET", GRAPH, &format!("{INCIDENTS}/1"), &admin, None).await.json()["status"],
        "active"
    );
}

/// A delegated token for the test user through the device flow, asking for `scope`.
async fn delegated_token(t: &T, scope: &str) -> String {
    let start = t
        .post_form(
            &format!("/{TENANT}/oauth2/v2.0/devicecode"),
            &[("client_id", PUBLIC_APP_ID), ("scope", scope)],
        )
        .await
        .json();
    assert!(t.st.approve_device_code(start["user_code"].as_str().unwrap()));
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", PUBLIC_APP_ID),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", start["device_code"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn delegated_scopes_are_checked_like_roles() {
    let t = T::with(config());
    let reader = delegated_token(&t, "https://graph.microsoft.com/SecurityIncident.Read.All").await;
    assert_eq!(claims(&reader)["scp"], "SecurityIncident.Read.All");
    check(&send(&t, "GET", GRAPH, &format!("{INCIDENTS}/1"), &reader, None).await, 200, None);
    let r = send(&t, "DELETE", GRAPH, &format!("{INCIDENTS}/1"), &reader, None).await;
    check(&r, 403, Some("Authorization_RequestDenied"));
    let writer = delegated_token(&t, "https://graph.microsoft.com/SecurityIncident.ReadWrite.All").await;
    check(&send(&t, "DELETE", GRAPH, &format!("{INCIDENTS}/1"), &writer, None).await, 204, None);
    let other = delegated_token(&t, "https://graph.microsoft.com/User.Read").await;
    check(&send(&t, "GET", GRAPH, INCIDENTS, &other, None).await, 403, Some("Authorization_RequestDenied"));
}

/// A seed's top-level `delegated` list replaces `read` / `write` for delegated tokens: `[]`
/// lets any delegated token of the API through (as the hand-written Defender routes do), while
/// app tokens still need the roles; without it the roles are matched against the token's scopes.
#[tokio::test]
async fn a_seeds_delegated_list_is_what_delegated_tokens_need() {
    let open = r#"{"api": "defender", "delegated": [], "collections": [{"path": "api/soar-test/open",
        "key": "id", "read": ["Alert.Read.All"], "paging": "top-skip", "items": [{"id": "o1"}]}]}"#;
    let mut cfg = config();
    cfg.extra_seeds.push(("open.json".into(), open.into()));
    let t = T::with(cfg);
    let user = delegated_token(&t, "https://api.securitycenter.microsoft.com/.default").await;
    assert!(claims(&user).get("roles").is_none_or(Value::is_null), "{}", claims(&user));
    check(&send(&t, "GET", MDE, "/api/soar-test/open/o1", &user, None).await, 200, None);
    // The seed without the list: the user's scopes are not the alert roles.
    let r = send(&t, "GET", MDE, &format!("{ALERTS}/da1"), &user, None).await;
    check(&r, 403, Some("Forbidden"));
    // App tokens are still checked against `read`.
    let reader =
        t.app_token_for(READER_ID, READER_SECRET, "https://api.securitycenter.microsoft.com/.default").await;
    check(&send(&t, "GET", MDE, "/api/soar-test/open/o1", &reader, None).await, 200, None);
}

#[tokio::test]
async fn collections_without_write_refuse_writes_with_405() {
    let t = T::with(config());
    let graph = t.app_token("https://graph.microsoft.com/.default").await;
    let scores = "/v1.0/security/secureScores";
    assert_eq!(keys(&send(&t, "GET", GRAPH, scores, &graph, None).await.json(), "id"), ["score-1"]);
    for (method, path) in [
        ("POST", scores.to_string()),
        ("PATCH", format!("{scores}/score-1")),
        ("DELETE", format!("{scores}/score-1")),
        ("PUT", format!("{scores}/score-1")),
    ] {
        let r = send(&t, method, GRAPH, &path, &graph, Some(json!({"currentScore": 1}))).await;
        check(&r, 405, Some("Request_BadRequest"));
        assert_eq!(
            r.json()["error"]["message"],
            "Specified HTTP method is not allowed for the request target."
        );
        assert_eq!(r.header("allow"), "GET", "{method}");
    }
    assert_eq!(
        send(&t, "GET", GRAPH, &format!("{scores}/score-1"), &graph, None).await.json()["currentScore"],
        42.5
    );
    // With `write`: ARM creates by PUT, never POST; Graph has no PUT on an item.
    let arm = t.app_token("https://management.azure.com/.default").await;
    let r =
        send(&t, "POST", ARM, &format!("{}?api-version=2024-01-01", widgets()), &arm, Some(json!({}))).await;
    check(&r, 405, Some("MethodNotAllowed"));
    assert_eq!(r.json()["error"]["message"], "The requested resource does not support http method 'POST'.");
    assert_eq!(r.header("allow"), "GET");
    let r = send(&t, "DELETE", ARM, &format!("{}?api-version=2024-01-01", widgets()), &arm, None).await;
    check(&r, 405, Some("MethodNotAllowed"));
    let r = send(&t, "PUT", GRAPH, &format!("{INCIDENTS}/1"), &graph, Some(json!({}))).await;
    check(&r, 405, Some("Request_BadRequest"));
    assert_eq!(r.header("allow"), "GET, PATCH, DELETE");
    // A read-only ARM collection.
    let loc = format!(
        "/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/providers/Microsoft.Emulator/locations/westus?api-version=1"
    );
    check(&send(&t, "PUT", ARM, &loc, &arm, Some(json!({}))).await, 405, Some("MethodNotAllowed"));
}

#[tokio::test]
async fn graph_and_defender_writes_post_patch_delete() {
    let t = T::with(config());
    let tok = t.app_token("https://graph.microsoft.com/.default").await;
    // POST without a key: a new UUID.
    let r = send(&t, "POST", GRAPH, INCIDENTS, &tok, Some(json!({"displayName": "New", "status": "active"})))
        .await;
    check(&r, 201, None);
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(send(&t, "GET", GRAPH, &format!("{INCIDENTS}/{id}"), &tok, None).await.json(), created);
    // With a key: kept; twice is refused.
    let r = send(&t, "POST", GRAPH, INCIDENTS, &tok, Some(json!({"id": "77", "displayName": "Seven"}))).await;
    check(&r, 201, None);
    assert_eq!(r.json()["id"], "77");
    let r = send(&t, "POST", GRAPH, INCIDENTS, &tok, Some(json!({"id": "77"}))).await;
    check(&r, 400, Some("Request_MultipleObjectsWithSameKeyValue"));
    let got = pages(&t, GRAPH, &format!("{INCIDENTS}?$top=999"), &tok, "@odata.nextLink", "id").await;
    assert_eq!(got[0].len(), 7);
    // PATCH merges top-level properties and leaves the key alone.
    let r = send(
        &t,
        "PATCH",
        GRAPH,
        &format!("{INCIDENTS}/2"),
        &tok,
        Some(json!({"status": "resolved", "id": "other", "customTags": ["x"]})),
    )
    .await;
    check(&r, 200, None);
    assert_eq!(
        r.json(),
        json!({"id": "2", "displayName": "Incident 2", "severity": "high", "status": "resolved", "customTags": ["x"]})
    );
    check(
        &send(&t, "PATCH", GRAPH, &format!("{INCIDENTS}/99"), &tok, Some(json!({}))).await,
        404,
        Some("Request_ResourceNotFound"),
    );
    let r = t
        .send(
            Request::patch(format!("{INCIDENTS}/2"))
                .header("host", GRAPH)
                .header("authorization", format!("Bearer {tok}"))
                .body(Body::from("not json"))
                .unwrap(),
        )
        .await;
    check(&r, 400, Some("BadRequest"));
    // DELETE: 204, then the item is gone.
    let r = send(&t, "DELETE", GRAPH, &format!("{INCIDENTS}/2"), &tok, None).await;
    check(&r, 204, None);
    assert!(r.text.is_empty() && !r.header("request-id").is_empty());
    check(
        &send(&t, "GET", GRAPH, &format!("{INCIDENTS}/2"), &tok, None).await,
        404,
        Some("Request_ResourceNotFound"),
    );
    check(
        &send(&t, "DELETE", GRAPH, &format!("{INCIDENTS}/2"), &tok, None).await,
        404,
        Some("Request_ResourceNotFound"),
    );
    // Defender: the same operations, Defender's shapes.
    let mde = t.app_token("https://api.securitycenter.microsoft.com/.default").await;
    let r = send(&t, "POST", MDE, ALERTS, &mde, Some(json!({"id": "da1"}))).await;
    check(&r, 409, Some("Conflict"));
    let r = send(&t, "PATCH", MDE, &format!("{ALERTS}/da1"), &mde, Some(json!({"status": "Resolved"}))).await;
    check(&r, 200, None);
    assert_eq!(
        (r.json()["status"].as_str(), r.json()["title"].as_str()),
        (Some("Resolved"), Some("Alert 1"))
    );
    check(&send(&t, "DELETE", MDE, &format!("{ALERTS}/da1"), &mde, None).await, 204, None);
    check(&send(&t, "GET", MDE, &format!("{ALERTS}/da1"), &mde, None).await, 404, Some("ResourceNotFound"));
    // Another instance has its own copy.
    let other = T::with(config());
    let tok = other.app_token("https://graph.microsoft.com/.default").await;
    check(&send(&other, "GET", GRAPH, &format!("{INCIDENTS}/2"), &tok, None).await, 200, None);
    check(&send(&other, "GET", GRAPH, &format!("{INCIDENTS}/77"), &tok, None).await, 404, None);
}

#[tokio::test]
async fn arm_put_patch_delete() {
    let t = T::with(config());
    let tok = t.app_token("https://management.azure.com/.default").await;
    let v = "?api-version=2024-01-01";
    let new = format!("{}/w9{v}", widgets());
    // PUT creates (201) with the fields ARM computes, then replaces (200).
    let r = send(&t, "PUT", ARM, &new, &tok, Some(json!({"location": "westus", "properties": {"size": 9}})))
        .await;
    check(&r, 201, None);
    assert_eq!(
        r.json(),
        json!({
            "id": format!("{}/w9", widgets()), "name": "w9", "type": "Microsoft.Emulator/widgets",
            "location": "westus", "properties": {"size": 9}
        })
    );
    let r = send(&t, "PUT", ARM, &new, &tok, Some(json!({"location": "westus", "properties": {"size": 10}})))
        .await;
    check(&r, 200, None);
    assert_eq!(r.json()["properties"], json!({"size": 10}));
    // PATCH merges nested objects.
    let w1 = format!("{}/w1{v}", widgets());
    let r =
        send(&t, "PATCH", ARM, &w1, &tok, Some(json!({"properties": {"colour": "red"}, "tags": {"a": "b"}})))
            .await;
    check(&r, 200, None);
    assert_eq!(r.json()["properties"], json!({"size": 1, "colour": "red"}));
    assert_eq!(r.json()["tags"], json!({"a": "b"}));
    check(&send(&t, "PUT", ARM, &new, &tok, Some(json!([1]))).await, 400, Some("InvalidRequestContent"));
    // DELETE: 200 when it existed, 204 when it did not, as ARM answers.
    check(&send(&t, "DELETE", ARM, &new, &tok, None).await, 200, None);
    check(&send(&t, "DELETE", ARM, &new, &tok, None).await, 204, None);
    check(&send(&t, "GET", ARM, &new, &tok, None).await, 404, Some("ResourceNotFound"));
    // Writes are RBAC-checked too, naming the write or delete action.
    let limited =
        t.app_token_for(LIMITED_APP_ID, LIMITED_APP_SECRET, "https://management.azure.com/.default").await;
    for (method, action) in [("PUT", "write"), ("DELETE", "delete")] {
        let r = send(&t, method, ARM, &w1, &limited, Some(json!({}))).await;
        check(&r, 403, Some("AuthorizationFailed"));
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("'Microsoft.Emulator/widgets/{action}'")),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn hand_written_routes_win_and_apis_sharing_a_path_are_told_apart_by_host() {
    let shadow = r#"{"api": "graph", "collections": [
        {"path": "v1.0/users", "key": "id", "read": [], "paging": "odata-next-link", "items": [{"id": "seeded-only"}]},
        {"path": "v1/things", "key": "id", "read": [], "paging": "top-skip", "items": [{"id": "graph-thing"}]}
    ]}"#;
    let la = r#"{"api": "log-analytics", "collections": [
        {"path": "v1/things", "key": "id", "read": ["Data.Read"], "paging": "top-skip", "items": [{"id": "la-thing"}]}
    ]}"#;
    let cfg = EmulatorConfig {
        extra_seeds: vec![("shadow".into(), shadow.into()), ("la".into(), la.into())],
        ..EmulatorConfig::default()
    };
    let t = T::with(cfg);
    let graph = t.app_token("https://graph.microsoft.com/.default").await;
    // /v1.0/users stays the hand-written route with its seeded users.
    let r = send(&t, "GET", GRAPH, "/v1.0/users?$top=1", &graph, None).await;
    assert_eq!(r.json()["value"][0]["displayName"], "Alice Emulator");
    check(
        &send(&t, "GET", GRAPH, "/v1.0/users/seeded-only", &graph, None).await,
        404,
        Some("Request_ResourceNotFound"),
    );
    // One path, two APIs: the host picks; the other API's token is refused there.
    let la_tok = t.app_token("https://api.loganalytics.io/.default").await;
    let r = send(&t, "GET", "api.loganalytics.io", "/v1/things", &la_tok, None).await;
    assert_eq!(keys(&r.json(), "id"), ["la-thing"]);
    assert!(r.json().get("@odata.context").is_none());
    assert_eq!(keys(&send(&t, "GET", GRAPH, "/v1/things", &graph, None).await.json(), "id"), ["graph-thing"]);
    check(
        &send(&t, "GET", "api.loganalytics.io", "/v1/things", &graph, None).await,
        401,
        Some("InvalidAuthenticationToken"),
    );
}

#[test]
fn bad_seeds_name_the_seed_and_the_field() {
    let start = |json: &str| {
        let cfg = EmulatorConfig {
            extra_seeds: vec![("bad-seed.json".into(), json.into())],
            ..EmulatorConfig::default()
        };
        EmulatorState::new(cfg).map(|_| ()).unwrap_err().to_string()
    };
    let one = |c: &str| format!(r#"{{"api": "graph", "collections": [{c}]}}"#);
    let ok = r#""path": "v1.0/x", "key": "id", "read": [], "paging": "odata-next-link""#;
    for (json, wants) in [
        ("{", vec!["not valid JSON"]),
        (r#"{"api": "graph"}"#, vec!["missing field `collections`"]),
        (r#"{"api": "bing", "collections": []}"#, vec!["api: unknown variant `bing`"]),
        (
            &one(r#"{"path": "v1.0/x", "key": "id", "read": [], "paging": "pages"}"#),
            vec!["collections[0].paging: unknown variant `pages`", "odata-next-link"],
        ),
        (
            &one(r#"{"path": "v1.0/x", "key": "id", "paging": "top-skip"}"#),
            vec!["collections[0]: missing field `read`"],
        ),
        (&one(&format!(r#"{{{ok}, "colour": 1}}"#)), vec!["collections[0].colour: unknown field `colour`"]),
        (&one(&format!(r#"{{{ok}, "read": "x"}}"#)), vec!["duplicate field `read`"]),
        (
            &one(r#"{"path": "/", "key": "id", "read": [], "paging": "top-skip"}"#),
            vec!["collections[0].path: is empty"],
        ),
        (
            &one(r#"{"path": "v1.0/{tenant}/x", "key": "id", "read": [], "paging": "top-skip"}"#),
            vec!["collections[0].path:", "{tenant}"],
        ),
        (
            &one(r#"{"path": "v1.0/x?y=1", "key": "id", "read": [], "paging": "top-skip"}"#),
            vec!["collections[0].path:", "'?'"],
        ),
        (&one(&format!(r#"{{{ok}, "page_size": 0}}"#)), vec!["collections[0].page_size: must be at least 1"]),
        (&one(&format!(r#"{{{ok}, "write": ["a", " "]}}"#)), vec!["collections[0].write[1]: is empty"]),
        (
            &format!(r#"{{"api": "graph", "delegated": ["x", ""], "collections": [{{{ok}}}]}}"#),
            vec!["delegated[1]: is empty"],
        ),
        (
            &one(&format!(r#"{{{ok}, "items": [{{"id": "a"}}, 3]}}"#)),
            vec!["collections[0].items[1]: is not an object"],
        ),
        (
            &one(&format!(r#"{{{ok}, "items": [{{"id": "a"}}, {{"name": "b"}}]}}"#)),
            vec!["collections[0].items[1].id: missing"],
        ),
        (
            &one(&format!(r#"{{{ok}, "items": [{{"id": "a"}}, {{"id": "A"}}]}}"#)),
            vec!["collections[0].items[1].id: the key 'A' is also used by items[0]"],
        ),
        (
            &format!(r#"{{"api": "graph", "collections": [{{{ok}}}, {{{ok}}}]}}"#),
            vec!["collection 'v1.0/x' of api graph is also in bad-seed.json"],
        ),
    ] {
        let err = start(json);
        assert!(err.contains("emulator seed bad-seed.json: "), "{json}: {err}");
        for want in wants {
            assert!(err.contains(want), "{json}: {err} should say {want}");
        }
    }
}

/// The build-time table is the `test-data/*/emulator-seed.json` files of this checkout, each as
/// it is on disk, and each is a valid seed.
#[test]
fn builtin_seeds_are_every_test_data_emulator_seed() {
    let test_data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-data");
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&test_data)
        .unwrap()
        .map(|e| e.unwrap().path().join("emulator-seed.json"))
        .filter(|f| f.is_file())
        .map(|f| {
            let name = f.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&f).unwrap())
        })
        .collect();
    on_disk.sort();
    let table: Vec<(String, String)> =
        BUILTIN_SEEDS.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&table),
        names(&on_disk),
        "the table lists the folders with a seed (none is an empty table)"
    );
    assert_eq!(table, on_disk, "each entry is the file's current text");
    for (name, text) in BUILTIN_SEEDS {
        parse_seed(&format!("test-data/{name}/emulator-seed.json"), text).unwrap();
    }
    // The built-in seeds load in a default emulator, beside the hand-written routes.
    let st = EmulatorState::new(EmulatorConfig::default()).unwrap();
    let served: usize = BUILTIN_SEEDS.iter().map(|(n, s)| parse_seed(n, s).unwrap().len()).sum();
    assert_eq!(st.seeded().collections().len(), served);
}

/// Sends one HTTP/1.1 request over TLS (trusting only the emulator's CA) and returns the status
/// line and the JSON body.
async fn https(emu: &Emulator, host: &str, request: String) -> (String, Value) {
    let connector = tls::connector_trusting(emu.ca_pem_path());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", emu.https_port())).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn served_over_tls_on_the_apis_host() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.data_dir = Some(dir.path().to_path_buf());
    let emu = Emulator::start(cfg).await.unwrap();
    let form = format!(
        "client_id={SECRET_APP_ID}&client_secret={SECRET_APP_SECRET}&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    );
    let (status, body) = https(
        &emu,
        "login.microsoftonline.com",
        format!(
            "POST /{DEFAULT_TENANT_ID}/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let token = body["access_token"].as_str().unwrap();
    let (status, body) = https(
        &emu,
        GRAPH,
        format!("GET {INCIDENTS} HTTP/1.1\r\nHost: {GRAPH}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(keys(&body, "id"), ["1", "2"]);
    let next = body["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with("https://graph.microsoft.com/v1.0/security/incidents?"), "{next}");
}
