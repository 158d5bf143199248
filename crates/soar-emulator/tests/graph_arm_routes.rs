//! The Graph users and ARM storage routes (`apis/graph.rs`, `apis/arm.rs`) in process: the
//! behaviours the integrations' conformance cases do not reach through the reference commands
//! (`$top`, `$count` without `ConsistencyLevel`, next links, write permissions, api-version,
//! RBAC before existence, the 200/204 of a container delete).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

use serde_json::json;
use soar_emulator::config::{AppConfig, LIMITED_APP_ID, LIMITED_APP_SECRET, SecretConfig};

const GRAPH: &str = "graph.microsoft.com";
const ARM: &str = "management.azure.com";
const SUB: &str = "/subscriptions/55555555-5555-4555-8555-000000000001";

/// One check per boundary: status, then Graph's or ARM's error code when it is an error.
fn check(r: &Resp, status: u16, code: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    if let Some(c) = code {
        assert_eq!(r.json()["error"]["code"], c, "{}", r.text);
    }
}

#[tokio::test]
async fn graph_users_query_options_and_paging() {
    let t = T::new();
    let tok = t.app_token("https://graph.microsoft.com/.default").await;
    let auth = format!("Bearer {tok}");
    // $count needs ConsistencyLevel: eventual.
    let r = t.get(GRAPH, "/v1.0/users?$count=true", &[("authorization", &auth)]).await;
    check(&r, 400, Some("Request_BadRequest"));
    assert_eq!(r.json()["error"]["message"], "$count is not currently supported.");
    let r = t
        .get(
            GRAPH,
            "/v1.0/users?$count=true&$top=5&$select=displayName",
            &[("authorization", &auth), ("ConsistencyLevel", "eventual")],
        )
        .await;
    check(&r, 200, None);
    let page1 = r.json();
    assert_eq!(page1["@odata.count"], 118);
    let users = page1["value"].as_array().unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(users[0], json!({"displayName": "Alice Emulator"}));
    // The next link is absolute and carries the query; following it gives the next five.
    let next = page1["@odata.nextLink"].as_str().unwrap();
    // In process there is no TLS, so the scheme is http; the host is the request's.
    assert!(next.contains("://graph.microsoft.com/v1.0/users?"), "{next}");
    let path = &next[next.find("/v1.0").unwrap()..];
    let page2 = t.get(GRAPH, path, &[("authorization", &auth)]).await.json();
    assert_eq!(page2["value"][0], json!({"displayName": "Frank Nomail"}));
    // $filter, and an unknown property.
    let r = t
        .get(
            GRAPH,
            "/v1.0/users?$filter=startswith(displayName,'Gr')&$select=id,accountEnabled",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(
        r.json()["value"],
        json!([{"id": "33333333-3333-4333-8333-000000000007", "accountEnabled": false}])
    );
    let r = t
        .get(
            GRAPH,
            "/v1.0/users/alice@soaremulator.onmicrosoft.com?$select=shoeSize",
            &[("authorization", &auth)],
        )
        .await;
    check(&r, 400, Some("Request_BadRequest"));
}

#[tokio::test]
async fn graph_writes_need_a_write_permission() {
    let mut cfg = soar_emulator::EmulatorConfig::default();
    cfg.apps.push(AppConfig {
        client_id: "22222222-2222-4222-8222-000000000101".into(),
        object_id: "22222222-2222-4222-8222-0000000001a1".into(),
        secrets: vec![SecretConfig { value: "reader-secret".into(), expired: false }],
        roles: [("graph".to_string(), vec!["User.Read.All".to_string()])].into_iter().collect(),
        ..AppConfig::default()
    });
    let t = T::with(cfg);
    let reader = t
        .app_token_for(
            "22222222-2222-4222-8222-000000000101",
            "reader-secret",
            "https://graph.microsoft.com/.default",
        )
        .await;
    let writer = t.app_token("https://graph.microsoft.com/.default").await;
    let path = "/v1.0/users/carol@soaremulator.onmicrosoft.com";
    check(&send(&t, "GET", GRAPH, path, &reader, None).await, 200, None);
    let r = send(&t, "PATCH", GRAPH, path, &reader, Some(json!({"jobTitle": "x"}))).await;
    check(&r, 403, Some("Authorization_RequestDenied"));
    assert_eq!(r.json()["error"]["message"], "Insufficient privileges to complete the operation.");
    check(&send(&t, "PATCH", GRAPH, path, &writer, Some(json!({"jobTitle": "x"}))).await, 204, None);
    check(
        &send(&t, "PATCH", GRAPH, path, &writer, Some(json!({"accountEnabled": "false"}))).await,
        400,
        Some("Request_BadRequest"),
    );
    assert_eq!(send(&t, "GET", GRAPH, path, &reader, None).await.json()["jobTitle"], "x");
}

#[tokio::test]
async fn arm_checks_api_version_rbac_then_existence() {
    let t = T::new();
    let tok = t.app_token("https://management.azure.com/.default").await;
    let limited =
        t.app_token_for(LIMITED_APP_ID, LIMITED_APP_SECRET, "https://management.azure.com/.default").await;
    let acc = format!("{SUB}/resourceGroups/soar-rg/providers/Microsoft.Storage/storageAccounts");
    check(
        &send(&t, "GET", ARM, &format!("{acc}/soarstorage1"), &tok, None).await,
        400,
        Some("MissingApiVersionParameter"),
    );
    let v = "?api-version=2022-09-01";
    check(&send(&t, "GET", ARM, &format!("{acc}/soarstorage1{v}"), &tok, None).await, 200, None);
    // No role assignment: 403 even for a group that does not exist.
    let missing = format!("{SUB}/resourceGroups/nope/providers/Microsoft.Storage/storageAccounts/x{v}");
    check(&send(&t, "GET", ARM, &missing, &limited, None).await, 403, Some("AuthorizationFailed"));
    check(&send(&t, "GET", ARM, &missing, &tok, None).await, 404, Some("ResourceGroupNotFound"));
    // A container: created (201), deleted (200), deleted again (204).
    let c = format!("{acc}/soarstorage1/blobServices/default/containers/cases{v}");
    check(
        &send(&t, "PUT", ARM, &c, &tok, Some(json!({"properties": {"publicAccess": "None"}}))).await,
        201,
        None,
    );
    check(&send(&t, "DELETE", ARM, &c, &tok, None).await, 200, None);
    check(&send(&t, "DELETE", ARM, &c, &tok, None).await, 204, None);
    // A new account is accepted asynchronously; it exists at once.
    let body = json!({"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"});
    let r = send(&t, "PUT", ARM, &format!("{acc}/soartestacct{v}"), &tok, Some(body)).await;
    check(&r, 202, None);
    assert!(r.text.is_empty() && !r.header("location").is_empty());
    let got = send(&t, "GET", ARM, &format!("{acc}/soartestacct{v}"), &tok, None).await.json();
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got["sku"]["tier"], "Standard");
}
