//! Shared helpers for the in-process tests: one `T` per test (state on a manual clock + router),
//! request helpers, and one `check_aad` that every AADSTS assertion goes through.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use base64::Engine as _;
use http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use soar_emulator::config::*;
use soar_emulator::{EmulatorConfig, EmulatorState, ManualClock, app};
use tower::ServiceExt as _;

pub const TENANT: &str = DEFAULT_TENANT_ID;
pub const V2: &str = "/11111111-1111-4111-8111-111111111111/oauth2/v2.0/token";
pub const V1: &str = "/11111111-1111-4111-8111-111111111111/oauth2/token";
pub const HOST: &str = "127.0.0.1:8443";
pub const START_MS: i64 = 1_800_000_000_000;

pub struct T {
    pub st: EmulatorState,
    pub app: Router,
    pub clock: Arc<ManualClock>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }
}

impl T {
    pub fn new() -> T {
        T::with(EmulatorConfig::default())
    }

    pub fn with(config: EmulatorConfig) -> T {
        let clock = ManualClock::new(START_MS);
        let st = EmulatorState::with_clock(config, clock.clone()).unwrap();
        T { app: app(st.clone()), st, clock }
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance_ms(secs * 1000);
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        Resp { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn post_form_host(
        &self,
        host: &str,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let mut b = Request::post(path)
            .header("host", host)
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        self.post_form_host(HOST, path, pairs, &[]).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.send(
            Request::post(path)
                .header("host", HOST)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, host: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::get(path).header("host", host);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Request::delete(path).header("host", HOST).body(Body::empty()).unwrap()).await
    }

    /// A client-credentials token for the secret app.
    pub async fn app_token(&self, scope: &str) -> String {
        self.app_token_for(SECRET_APP_ID, SECRET_APP_SECRET, scope).await
    }

    pub async fn app_token_for(&self, id: &str, secret: &str, scope: &str) -> String {
        let r = self
            .post_form(
                V2,
                &[
                    ("client_id", id),
                    ("client_secret", secret),
                    ("grant_type", "client_credentials"),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["access_token"].as_str().unwrap().to_string()
    }
}

/// Decodes a JWT part (0 = header, 1 = claims).
pub fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub fn claims(token: &str) -> Value {
    jwt_part(token, 1)
}

/// Asserts Microsoft's AADSTS body: status, `error`, code, field order, description layout,
/// and `trace_id` = `x-ms-request-id`.
pub fn check_aad(r: &Resp, status: u16, error: &str, code: u64) {
    assert_eq!(r.status.as_u16(), status, "status for {error}/{code}: {}", r.text);
    let body = r.json();
    let obj = body.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..7],
        &[
            "error",
            "error_description",
            "error_codes",
            "timestamp",
            "trace_id",
            "correlation_id",
            "error_uri"
        ],
        "{}",
        r.text
    );
    assert_eq!(body["error"], error, "{}", r.text);
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{}", r.text);
    let desc = body["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    let trace = body["trace_id"].as_str().unwrap();
    assert!(
        desc.contains(&format!(
            "\r\nTrace ID: {trace}\r\nCorrelation ID: {}\r\nTimestamp: ",
            body["correlation_id"].as_str().unwrap()
        )),
        "{desc}"
    );
    assert_eq!(r.header("x-ms-request-id"), trace);
    let ts = body["timestamp"].as_str().unwrap();
    assert!(ts.len() == 20 && ts.ends_with('Z') && &ts[10..11] == " ", "{ts}");
}

/// An API request to `host` with a bearer token and an optional JSON body.
pub async fn send(t: &T, method: &str, host: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    t.send(b.body(body.map_or_else(Body::empty, |v| Body::from(v.to_string()))).unwrap()).await
}
