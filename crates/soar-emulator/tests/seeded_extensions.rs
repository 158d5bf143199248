//! The seeded collections' generic options (`apis/seeded.rs`), on a seed of this file's own:
//! a collection under an item (`{parent}`), OData `$filter`/`$orderby` (`query`), etags (412,
//! a new one per write), server-set fields, POST-to-list with another list key, and an ARM
//! Reader role assignment (`reader:/`) refused on writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use soar_emulator::EmulatorConfig;
use soar_emulator::config::*;

const ARM: &str = "management.azure.com";
const V: &str = "api-version=2024-03-01";
const READER_ID: &str = "22222222-2222-4222-8222-000000000301";
const READER_SECRET: &str = "seed-ext-reader-secret";

fn base() -> String {
    format!("/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Emulator")
}

fn seed() -> String {
    json!({"api": "arm", "collections": [
        {"path": "subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Emulator/cases", "key": "name",
         "read": [], "write": [], "paging": "arm-next-link", "api_version": "2024-03-01", "query": true, "etag": "etag",
         "server_fields": {"created": "properties/created", "modified": "properties/modified", "sequence": "properties/number"},
         "items": [
            {"name": "c1", "etag": "\"seed-1\"", "properties": {"severity": "High", "number": 1, "created": "2024-01-01T00:00:02Z"}},
            {"name": "c2", "etag": "\"seed-2\"", "properties": {"severity": "Low", "number": 2, "created": "2024-01-01T00:00:01Z"}},
            {"name": "c3", "etag": "\"seed-3\"", "properties": {"severity": "High", "number": 3, "created": "2024-01-01T00:00:03Z"}}]},
        {"path": "subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Emulator/cases/{parent}/notes", "key": "name",
         "read": [], "write": [], "paging": "arm-next-link", "api_version": "2024-03-01",
         "server_fields": {"key": "properties/noteId"},
         "items_by_parent": {"c1": [{"name": "n1", "properties": {"text": "first"}}]}},
        {"path": "subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Emulator/cases/{parent}/things", "key": "name",
         "read": [], "paging": "arm-next-link", "api_version": "2024-03-01", "list_method": "POST", "list_key": "things",
         "items_by_parent": {"c1": [{"name": "t1"}, {"name": "t2"}]}}
    ]})
    .to_string()
}

fn config() -> EmulatorConfig {
    let mut cfg =
        EmulatorConfig { extra_seeds: vec![("seed-ext".into(), seed())], ..EmulatorConfig::default() };
    cfg.apps.push(AppConfig {
        client_id: READER_ID.into(),
        object_id: "22222222-2222-4222-8222-0000000003a1".into(),
        secrets: vec![SecretConfig { value: READER_SECRET.into(), expired: false }],
        arm_scopes: vec!["reader:/".into()],
        ..AppConfig::default()
    });
    cfg
}

/// A path with its query's spaces encoded.
fn enc(path: String) -> String {
    path.replace(' ', "%20")
}

fn names(body: &Value, key: &str) -> Vec<String> {
    body[key].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn filters_and_orders_lists_with_paging_kept() {
    let t = T::with(config());
    let tok = t.app_token("https://management.azure.com/.default").await;
    let cases = base() + "/cases";
    // (query, names): $filter, $orderby with a date, both, and a page of one with its next link.
    let want: [(&str, &[&str]); 3] = [
        ("$filter=properties/severity eq 'High'", &["c1", "c3"]),
        ("$orderby=properties/created asc", &["c2", "c1", "c3"]),
        ("$filter=properties/number gt 1&$orderby=properties/number desc", &["c3", "c2"]),
    ];
    for (q, expected) in want {
        let r = send(&t, "GET", ARM, &enc(format!("{cases}?{V}&{q}")), &tok, None).await;
        assert_eq!(r.status.as_u16(), 200, "{q}: {}", r.text);
        assert_eq!(names(&r.json(), "value"), expected, "{q}");
    }
    let r = send(
        &t,
        "GET",
        ARM,
        &enc(format!("{cases}?{V}&$filter=properties/severity eq 'High'&$top=1")),
        &tok,
        None,
    )
    .await;
    let next = r.json()["nextLink"].as_str().unwrap().to_owned();
    assert!(next.contains("filter"), "the next link keeps the filter: {next}");
    let r = send(&t, "GET", ARM, &enc(format!("{cases}?{V}&$filter=properties/severity eqq 1")), &tok, None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["code"].clone()),
        (400, json!("InvalidFilterInQueryString"))
    );
}

#[tokio::test]
async fn etags_guard_writes_and_server_fields_are_set() {
    let t = T::with(config());
    let tok = t.app_token("https://management.azure.com/.default").await;
    let c1 = format!("{}/cases/c1?{V}", base());
    let body = |etag: &str| json!({"etag": etag, "properties": {"severity": "Low", "number": 99, "created": "1999-01-01T00:00:00Z"}});
    let stale = send(&t, "PUT", ARM, &c1, &tok, Some(body("\"old\""))).await;
    assert_eq!(
        (stale.status.as_u16(), stale.json()["error"]["code"].clone()),
        (412, json!("PreconditionFailed"))
    );
    let ok = send(&t, "PUT", ARM, &c1, &tok, Some(body("\"seed-1\""))).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text);
    let item = ok.json();
    assert_ne!(item["etag"], "\"seed-1\"", "every write has a new etag");
    assert_eq!(item["properties"]["number"], 1, "the sequence cannot be written");
    assert_eq!(item["properties"]["created"], "2024-01-01T00:00:02Z", "the creation time cannot be written");
    assert!(item["properties"]["modified"].is_string());
    // The old etag is stale now; a new item gets the next number and a creation time.
    let again = send(&t, "PUT", ARM, &c1, &tok, Some(body("\"seed-1\""))).await;
    assert_eq!(again.status.as_u16(), 412);
    let new =
        send(&t, "PUT", ARM, &format!("{}/cases/c9?{V}", base()), &tok, Some(json!({"properties": {}})))
            .await;
    assert_eq!(new.status.as_u16(), 201, "{}", new.text);
    assert_eq!(new.json()["properties"]["number"], 4);
    assert!(new.json()["properties"]["created"].is_string());
}

#[tokio::test]
async fn collections_under_an_item_and_post_lists() {
    let t = T::with(config());
    let tok = t.app_token("https://management.azure.com/.default").await;
    let notes = |case: &str| format!("{}/cases/{case}/notes", base());
    let r = send(&t, "GET", ARM, &format!("{}?{V}", notes("c1")), &tok, None).await;
    assert_eq!(names(&r.json(), "value"), ["n1"]);
    // Another parent has its own (empty) collection; an unknown parent is the parent's 404.
    let r = send(&t, "GET", ARM, &format!("{}?{V}", notes("c2")), &tok, None).await;
    assert_eq!(r.json()["value"], json!([]));
    let r = send(&t, "GET", ARM, &format!("{}?{V}", notes("nope")), &tok, None).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["code"].clone()), (404, json!("ResourceNotFound")));
    let r = send(
        &t,
        "PUT",
        ARM,
        &format!("{}/n2?{V}", notes("c2")),
        &tok,
        Some(json!({"properties": {"text": "x"}})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.json()["properties"]["noteId"], "n2", "the key server field");
    assert!(r.json()["id"].as_str().unwrap().ends_with("/cases/c2/notes/n2"));
    // POST lists, under its own key; GET is not the list method there.
    let things = format!("{}/cases/c1/things?{V}", base());
    let r = send(&t, "POST", ARM, &things, &tok, None).await;
    assert_eq!(names(&r.json(), "things"), ["t1", "t2"]);
    assert_eq!(send(&t, "GET", ARM, &things, &tok, None).await.status.as_u16(), 405);
}

#[tokio::test]
async fn an_arm_reader_reads_and_gets_403_on_writes() {
    let t = T::with(config());
    let tok = t.app_token_for(READER_ID, READER_SECRET, "https://management.azure.com/.default").await;
    let c1 = format!("{}/cases/c1?{V}", base());
    assert_eq!(send(&t, "GET", ARM, &c1, &tok, None).await.status.as_u16(), 200);
    let r = send(&t, "PUT", ARM, &c1, &tok, Some(json!({"properties": {}}))).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["code"].clone()), (403, json!("AuthorizationFailed")));
    assert_eq!(send(&t, "DELETE", ARM, &c1, &tok, None).await.status.as_u16(), 403);
}
