//! Fault injection in-process: statuses with Retry-After per service, delays, truncated and
//! non-JSON bodies, dropped connections, token lifetime, IMDS "starting", the HTTP control API,
//! and the request log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;
use soar_emulator::config::*;
use soar_emulator::{Fault, FaultRule};

fn cc() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", SECRET_APP_ID),
        ("client_secret", SECRET_APP_SECRET),
        ("grant_type", "client_credentials"),
        ("scope", "https://graph.microsoft.com/.default"),
    ]
}

#[tokio::test]
async fn throttle_then_recover_on_the_token_endpoint() {
    let t = T::new();
    t.st.faults().status(V2, 429, Some(7), 2);
    for _ in 0..2 {
        let r = t.post_form(V2, &cc()).await;
        assert_eq!(r.header("retry-after"), "7");
        check_aad(&r, 429, "temporarily_unavailable", 90033);
    }
    assert_eq!(t.post_form(V2, &cc()).await.status, 200, "the rule is used up");
    // 5xx with the AADSTS shape too, and only for the matching method/host.
    t.st.faults().add(FaultRule {
        host: Some("login.microsoftonline.us".into()),
        ..FaultRule::new("", Fault::Status { status: 503, retry_after: None, body: None })
    });
    assert_eq!(t.post_form(V2, &cc()).await.status, 200);
    assert_eq!(t.post_form_host("login.microsoftonline.us", V2, &cc(), &[]).await.status, 503);
}

#[tokio::test]
async fn each_service_gets_its_own_error_shape() {
    let t = T::new();
    for (path, status) in [
        ("/v1.0/users", 429),
        ("/subscriptions/s/resourcegroups", 500),
        ("/metadata/identity/oauth2/token", 429),
        ("/v1.0/me", 503),
    ] {
        t.st.faults().status(path, status, Some(1), 1);
        let r = t.get(HOST, path, &[]).await;
        assert_eq!(r.status.as_u16(), status);
        let b = r.json();
        match path {
            "/v1.0/users" => {
                assert_eq!(b["error"]["code"], "TooManyRequests");
                assert_eq!(b["error"]["innerError"]["status"], "429");
            }
            "/v1.0/me" => assert_eq!(b["error"]["code"], "serviceNotAvailable"),
            "/subscriptions/s/resourcegroups" => assert_eq!(b["error"]["code"], "InternalServerError"),
            _ => assert_eq!(b["error"], "too_many_requests"),
        }
    }
    t.st.faults().status("/x", 502, None, 1);
    let rule = FaultRule {
        count: Some(1),
        ..FaultRule::new("/y", Fault::Status { status: 500, retry_after: None, body: Some("custom".into()) })
    };
    t.st.faults().add(rule);
    assert_eq!(t.get(HOST, "/y", &[]).await.text, "custom");
}

#[tokio::test]
async fn imds_410_while_starting() {
    let t = T::new();
    t.st.faults().imds_starting(2);
    let path =
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/";
    for _ in 0..2 {
        assert_eq!(t.get("169.254.169.254", path, &[("metadata", "true")]).await.status, 410);
    }
    assert_eq!(t.get("169.254.169.254", path, &[("metadata", "true")]).await.status, 200);
}

#[tokio::test]
async fn truncated_non_json_delayed_and_dropped() {
    let t = T::new();
    t.st.faults().add(FaultRule::new(V2, Fault::Truncate).times(1));
    let r = t.post_form(V2, &cc()).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err(), "half a JSON body: {}", r.text);
    assert_eq!(r.header("content-length"), r.text.len().to_string());
    t.st.faults().add(FaultRule::new(V2, Fault::NonJson { status: 502 }).times(1));
    let r = t.post_form(V2, &cc()).await;
    assert_eq!((r.status.as_u16(), r.header("content-type").as_str()), (502, "text/html"));
    assert!(r.text.starts_with("<html>"));
    t.st.faults().add(FaultRule::new(V2, Fault::Delay { ms: 150 }).times(1));
    let started = std::time::Instant::now();
    assert_eq!(t.post_form(V2, &cc()).await.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    // In-process a dropped connection is a body that fails to read.
    t.st.faults().add(FaultRule::new(V2, Fault::Drop).times(1));
    use tower::ServiceExt as _;
    let req = http::Request::post(V2).header("host", HOST).body(axum::body::Body::from("x")).unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    assert!(axum::body::to_bytes(resp.into_body(), usize::MAX).await.is_err());
}

#[tokio::test]
async fn token_lifetime_switch_and_http_control_api() {
    let t = T::new();
    let r = t.post_json("/__emulator/faults/token-lifetime", &json!({"seconds": 30})).await;
    assert_eq!(r.json()["token_lifetime"], 30);
    assert_eq!(t.post_form(V2, &cc()).await.json()["expires_in"], 30);
    let r = t.post_json("/__emulator/faults/token-lifetime", &json!({"seconds": null})).await;
    assert!(r.json()["token_lifetime"].is_null());
    assert_eq!(t.post_form(V2, &cc()).await.json()["expires_in"], 3599);
    // Add, list, remove, clear over HTTP.
    let r = t
        .post_json(
            "/__emulator/faults",
            &json!({"path": V2, "fault": {"kind": "status", "status": 500}, "count": 5}),
        )
        .await;
    let id = r.json()["id"].as_u64().unwrap();
    assert_eq!(t.get(HOST, "/__emulator/faults", &[]).await.json()["rules"][0]["id"], id);
    assert_eq!(t.post_form(V2, &cc()).await.status, 500);
    let del = t.delete(&format!("/__emulator/faults/{id}")).await;
    assert_eq!(del.status, 200);
    assert_eq!(t.post_form(V2, &cc()).await.status, 200);
    let bad = t.post_json("/__emulator/faults", &json!({"fault": {"kind": "nope"}})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("Example"));
    // Test endpoints themselves are never faulted.
    t.st.faults().status("", 500, None, 10);
    assert_eq!(t.get(HOST, "/__emulator/health", &[]).await.status, 200);
    t.delete("/__emulator/faults").await;
    assert!(t.st.faults().rules().is_empty());
}

#[tokio::test]
async fn request_log_counts_token_requests_without_secrets() {
    let t = T::new();
    t.post_form(V2, &cc()).await;
    t.post_form(V2, &cc()).await;
    t.get(
        "169.254.169.254",
        "/metadata/identity/oauth2/token?api-version=1&resource=https://management.azure.com/",
        &[("metadata", "true")],
    )
    .await;
    t.get(HOST, "/__emulator/health", &[]).await;
    let log = t.st.request_log();
    assert_eq!(log.token_requests(), 3);
    assert_eq!(log.token_requests_by(SECRET_APP_ID), 2);
    assert_eq!(log.total(), 3, "test endpoints are not logged");
    let r = t.get(HOST, "/__emulator/requests?path=/metadata", &[]).await.json();
    assert_eq!(r["matching"], 1);
    assert!(!t.get(HOST, "/__emulator/requests", &[]).await.text.contains(SECRET_APP_SECRET));
    t.delete("/__emulator/requests").await;
    assert_eq!(log.total(), 0);
    // Unknown routes get a JSON 404 naming them.
    let r = t.get(HOST, "/nowhere/at/all", &[]).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("/nowhere/at/all"));
}
