//! The reference test cases of msapi.md §8 that apply to this crate, with the reference's
//! expected values, plus the flows the reference leaves untested (certificate, auth code,
//! device code, managed-identity retries, 401 refresh). Everything runs against the scripted
//! transport and the fake clock: no network, no sleeping.

// Test helpers outside #[test] fns are test code too (clippy.toml allows unwrap in tests).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use http::Method;
use serde_json::{Value, json};
use soar_auth::flows::{ClientAuth, client_credentials_form, encode_form};
use soar_auth::http::{HttpConfig, HttpResponse};
use soar_auth::testing::{self, FakeTime, MockTransport};
use soar_auth::{ApiKind, AuthFlow, AuthSpec, Cloud, CloudEndpoints, Error, MsClient, ParamNames, Secret};
use soar_protocol::{Credentials, IntegrationContext, Object, ParamValue, Params};

static ALL: AuthSpec = AuthSpec { oproxy_app_name: "ms-graph-mail-listener", ..AuthSpec::DEFAULT };
static SELF_DEPLOYED: AuthSpec = AuthSpec {
    flows: &[
        AuthFlow::ClientSecret,
        AuthFlow::ClientCertificate,
        AuthFlow::AuthorizationCode,
        AuthFlow::DeviceCode,
        AuthFlow::ManagedIdentity,
    ],
    ..AuthSpec::DEFAULT
};

const TOKEN: &str = "dummy_token";
const KEY_B64: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}

fn ctx(v: Value) -> IntegrationContext {
    IntegrationContext::new(v.as_object().cloned().unwrap_or_default())
}

fn obj(c: &IntegrationContext) -> Value {
    Value::Object(c.data().clone())
}

struct Rig {
    http: Arc<MockTransport>,
    time: Arc<FakeTime>,
    client: MsClient,
}

fn rig(spec: &'static AuthSpec, p: Params, now: f64) -> Rig {
    rig_cfg(spec, p, now, HttpConfig::default())
}

fn rig_cfg(spec: &'static AuthSpec, p: Params, now: f64, cfg: HttpConfig) -> Rig {
    let http = MockTransport::new();
    let time = FakeTime::at(now);
    let client = MsClient::from_params(spec, &p, testing::shared(http.clone(), time.clone(), cfg)).unwrap();
    Rig { http, time, client }
}

fn oproxy_params(token: &str) -> Params {
    params(&[("auth_id", "dummy_auth_id@mock://dummy_url"), ("tenant_id", token), ("enc_key", KEY_B64)])
}

fn self_deployed_params() -> Params {
    params(&[
        ("auth_id", "dummy_client"),
        ("tenant_id", "dummy_tenant"),
        ("enc_key", "dummy_secret"),
        ("self_deployed", "true"),
    ])
}

fn token_answer(rt: &str, expires_in: Value) -> Value {
    json!({"access_token": TOKEN, "expires_in": expires_in, "refresh_token": rt})
}

// ---------------------------------------------------------------- 1, 2: error parser

#[test]
fn error_parser_reference_cases() {
    let cases = [
        (json!({"error": {"code": "code", "message": "message"}}), "code: message".to_owned()),
        (
            json!({"error": "invalid_grant",
                   "error_description": "AADSTS700082: The refresh token has expired due to inactivity.\u{a0}The token was issued on 2023-02-06T12:26:14.6448497Z and was inactive for 90.00:00:00.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2023-05-07 10:00:00Z",
                   "error_codes": [700082]}),
            "invalid_grant. \nThe refresh token has expired due to inactivity.\u{a0}The token was issued on 2023-02-06T12:26:14.6448497Z and was inactive for 90.00:00:00.\nYou can run the ***command_prefix-auth-reset*** command to reset the authentication process.".to_owned(),
        ),
        (
            json!({"error": "invalid_resource",
                   "error_description": "AADSTS500011: The resource principal named https://security.microsoft.us was not found in the tenant named x Inc.. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. Trace ID: test Correlation ID: test Timestamp: 2023-07-02 06:40:26Z",
                   "error_codes": [500011]}),
            "invalid_resource. \nThe resource principal named https://security.microsoft.us was not found in the tenant named x Inc.. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.".to_owned(),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(soar_auth::error_parser(body.to_string().as_bytes(), "command_prefix"), want);
    }
}

#[tokio::test]
async fn oproxy_authentication_error_reference_text() {
    let r = rig(&ALL, oproxy_params("dummy_tenant"), 0.0);
    let inner = json!({"error": "invalid_grant", "error_description": "AADSTS700003: Device object was not found in the tenant 'test' directory.\r\nTrace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2023-07-02 06:40:26Z", "error_codes": [700003], "timestamp": "2023-07-02 06:40:26Z"});
    r.http.respond(HttpResponse {
        status: 401,
        headers: vec![],
        body: format!("Error: failed to get access token with err: {inner}").into_bytes(),
    });
    let err = r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap_err().to_string();
    assert!(
        err.starts_with("Error in Microsoft authorization. Status: 401, body: invalid_grant. \nDevice object was not found in the tenant 'test' directory."),
        "{err}"
    );
}

// ---------------------------------------------------------------- 3: 404

#[tokio::test]
async fn page_not_found_is_a_not_found_error() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 100.0);
    let mut c = ctx(json!({"access_token": TOKEN, "valid_until": 5000}));
    r.http.expect(
        Method::GET,
        "https://graph.microsoft.com/v1.0/users/x",
        404,
        json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist"}}),
    );
    let e =
        r.client.request(&mut c, ApiKind::Graph, Method::GET, "v1.0/users/x", &[], None).await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.status(), Some(404));
    // The reference raises `NotFoundError(response.json())` (msapi.md §6 step 9), whose text is
    // Python's `str()` of the body: a dict repr, with the `"` quotes a string holding `'` takes.
    assert_eq!(
        e.to_string(),
        "{'error': {'code': 'Request_ResourceNotFound', 'message': \"Resource 'x' does not exist\"}}"
    );
}

/// The 404 text per body: a dict repr, the fixed text for an empty or falsy body
/// (`response.json() or 'Not Found - 404 Response'`), raw text kept.
#[test]
fn a_404_reads_as_the_reference_not_found_error() {
    let cases = [
        (
            r#"{"error": {"code": "NotFound", "n": 1, "ok": true, "x": null}}"#,
            "{'error': {'code': 'NotFound', 'n': 1, 'ok': True, 'x': None}}",
        ),
        ("{}", "Not Found - 404 Response"),
        ("", "Not Found - 404 Response"),
        ("no such page", "no such page"),
    ];
    for (body, want) in cases {
        assert_eq!(soar_auth::api_text(404, "Not Found", body), want, "{body}");
    }
    // Other statuses keep `Error in API call`.
    assert_eq!(soar_auth::api_text(400, "Bad Request", "{}"), "Error in API call [400] - Bad Request\n{}");
}

/// The text of an API error for one answer: `Error in API call [<status>] - <reason>\n` and
/// `json.dumps(body)` when the body is JSON, else the raw text (msapi.md §6).
#[test]
fn api_error_text_writes_the_body_as_json_dumps_does() {
    fn check(status: u16, body: &[u8], want: &str) {
        let resp = HttpResponse { status, headers: Vec::new(), body: body.to_vec() };
        assert_eq!(soar_auth::api_error(&resp).to_string(), want, "{}", String::from_utf8_lossy(body));
    }
    check(400, br#"{"a":1,"b":[1,2]}"#, "Error in API call [400] - Bad Request\n{\"a\": 1, \"b\": [1, 2]}");
    // ensure_ascii is on, floats use Python's repr, key order is the body's.
    check(
        409,
        "{\"z\":\"caf\u{e9}\",\"n\":1E16,\"f\":2.50,\"a\":null}".as_bytes(),
        "Error in API call [409] - Conflict\n{\"z\": \"caf\\u00e9\", \"n\": 1e+16, \"f\": 2.5, \"a\": null}",
    );
    // Not JSON: the raw text, untouched (spacing included).
    check(
        502,
        b"<html> Bad  gateway </html>",
        "Error in API call [502] - Bad Gateway\n<html> Bad  gateway </html>",
    );
    check(503, b"{\"a\":1", "Error in API call [503] - Service Unavailable\n{\"a\":1");
    check(500, b"", "Error in API call [500] - Internal Server Error\n");
}

// ---------------------------------------------------------------- 4: epoch

#[test]
fn epoch_seconds_truncates() {
    use soar_auth::http::Clock;
    // 2019-12-24 14:12:00.586636 UTC
    assert_eq!(FakeTime::at(1_577_196_720.586_636).epoch(), 1_577_196_720);
}

// ---------------------------------------------------------------- 5, 6, 7: cache arithmetic

/// The three reference clients: (name, params, refresh token the server returns).
fn three_clients() -> Vec<(&'static str, &'static AuthSpec, Params, &'static str)> {
    vec![
        ("oproxy-refresh", &ALL, oproxy_params("dummy_refresh"), "dummy_refresh"),
        ("oproxy-tenant", &ALL, oproxy_params("dummy_tenant"), ""),
        ("self-deployed", &SELF_DEPLOYED, self_deployed_params(), "dummy_refresh"),
    ]
}

#[tokio::test]
async fn access_token_no_context() {
    for (name, spec, p, rt) in three_clients() {
        let r = rig(spec, p, 10.0);
        r.http.respond(HttpResponse::json(200, &token_answer(rt, json!(3600))));
        let mut c = ctx(json!({}));
        let t = r.client.token(&mut c, ApiKind::Graph).await.unwrap();
        assert_eq!(t.expose(), TOKEN, "{name}");
        // Exactly these keys: the proxy's gate keys are gone after a success (the reference's
        // last write is its own copy of the context with the token, test 5 of msapi.md §8).
        let want = json!({"access_token": TOKEN, "valid_until": 3605, "current_refresh_token": rt});
        assert_eq!(&Value::Object(c.data().clone()), &want, "{name}");
    }
}

#[tokio::test]
async fn access_token_with_valid_context_makes_no_request() {
    for (name, spec, p, _) in three_clients() {
        let r = rig(spec, p, 3600.0);
        let mut c = ctx(
            json!({"access_token": TOKEN, "valid_until": 3605, "current_refresh_token": "dummy_refresh"}),
        );
        assert_eq!(r.client.token(&mut c, ApiKind::Graph).await.unwrap().expose(), TOKEN, "{name}");
        assert!(r.http.requests().is_empty(), "{name}");
        assert!(!c.changed(), "{name}");
    }
}

#[tokio::test]
async fn access_token_with_expired_context_refreshes() {
    for (name, spec, p, rt) in three_clients() {
        let r = rig(spec, p, 5000.0);
        r.http.respond(HttpResponse::json(200, &token_answer(rt, json!(3600))));
        let mut c = ctx(
            json!({"access_token": "old", "valid_until": 3605, "current_refresh_token": "dummy_refresh"}),
        );
        assert_eq!(r.client.token(&mut c, ApiKind::Graph).await.unwrap().expose(), TOKEN, "{name}");
        assert_eq!(c.get("valid_until"), Some(&json!(8595)), "{name}");
        assert_eq!(c.get("current_refresh_token"), Some(&json!(rt)), "{name}");
    }
}

// ---------------------------------------------------------------- 8, 10: oproxy body and resource

fn decrypt(token_b64: &str) -> String {
    let raw = STANDARD.decode(token_b64).unwrap();
    let key = STANDARD.decode(KEY_B64).unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let plain = cipher.decrypt(aes_gcm::Nonce::from_slice(&raw[..12]), &raw[12..]).unwrap();
    String::from_utf8(plain).unwrap()
}

#[tokio::test]
async fn oproxy_request_body() {
    for (content, rt) in [("dummy_tenant", ""), ("dummy_refresh", "dummy_refresh")] {
        let r = rig(&ALL, oproxy_params(content), 1234.0);
        r.http.expect(Method::POST, "mock://dummy_url", 200, token_answer(rt, json!(3600)));
        r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap();
        let req = &r.http.requests()[0];
        let body: Value = serde_json::from_str(&req.body_text()).unwrap();
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["app_name", "registration_id", "encrypted_token", "scope", "resource"]);
        assert_eq!(body["app_name"], "ms-graph-mail-listener");
        assert_eq!(body["registration_id"], "dummy_auth_id");
        assert_eq!(body["scope"], Value::Null);
        assert_eq!(body["resource"], "");
        assert_eq!(decrypt(body["encrypted_token"].as_str().unwrap()), format!("1234:{content}"));
    }
}

#[tokio::test]
async fn oproxy_uses_resource_for_a_second_api() {
    let r = rig(&ALL, oproxy_params("dummy_tenant"), 0.0);
    r.http.respond(HttpResponse::json(200, &token_answer("", json!(3600))));
    let mut c = ctx(json!({}));
    r.client.token(&mut c, ApiKind::Arm).await.unwrap();
    let body: Value = serde_json::from_str(&r.http.requests()[0].body_text()).unwrap();
    assert_eq!(body["resource"], "https://management.azure.com/");
    assert_eq!(c.get("https://management.azure.com/.default_access_token"), Some(&json!(TOKEN)));
}

// ---------------------------------------------------------------- 9, 11: self-deployed body, multi resource

#[test]
fn self_deployed_form_reference_order() {
    let form = client_credentials_form(
        "dummy_client",
        &ClientAuth::Secret(Secret::new("dummy_secret")),
        "https://login.microsoftonline.com/dummy_tenant/oauth2/v2.0/token",
        Some("https://graph.microsoft.com/.default"),
        Some("https://defender.windows.com/shtak"),
        0.0,
    )
    .unwrap();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        encode_form(&pairs),
        "client_id=dummy_client&client_secret=dummy_secret&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&resource=https%3A%2F%2Fdefender.windows.com%2Fshtak"
    );
}

#[tokio::test]
async fn self_deployed_request_and_string_expires_in() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 10.0);
    r.http.expect(
        Method::POST,
        "https://login.microsoftonline.com/dummy_tenant/oauth2/v2.0/token",
        200,
        token_answer("", json!("3600")),
    );
    let mut c = ctx(json!({}));
    r.client.token(&mut c, ApiKind::Graph).await.unwrap();
    let req = &r.http.requests()[0];
    assert_eq!(
        req.body_text(),
        "client_id=dummy_client&client_secret=dummy_secret&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    );
    assert_eq!(c.get("valid_until"), Some(&json!(3605)));
}

#[tokio::test]
async fn second_resource_uses_scope_keys() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 10.0);
    r.http.respond(HttpResponse::json(200, &token_answer("", json!(3600))));
    r.http.respond(HttpResponse::json(200, &json!({"access_token": "arm", "expires_in": 3600})));
    let mut c = ctx(json!({}));
    r.client.token(&mut c, ApiKind::Graph).await.unwrap();
    assert_eq!(r.client.token(&mut c, ApiKind::Arm).await.unwrap().expose(), "arm");
    assert_eq!(c.get("access_token"), Some(&json!(TOKEN)));
    assert_eq!(c.get("https://management.azure.com/.default_access_token"), Some(&json!("arm")));
    assert_eq!(c.get("https://management.azure.com/.default_valid_until"), Some(&json!(3605)));
    assert!(r.http.requests()[1].body_text().contains("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
}

// ---------------------------------------------------------------- 12: national endpoints

#[tokio::test]
async fn national_endpoints() {
    // (azure_cloud, TOKEN_RETRIEVAL_ENDPOINTS[x], GRAPH_ENDPOINTS[x])
    let cases = [
        ("com", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        ("gcc", "https://login.microsoftonline.com", "https://graph.microsoft.us"),
        ("gcc-high", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        ("de", "https://login.microsoftonline.de", "https://graph.microsoft.de"),
        ("cn", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ];
    for (cloud, login, graph) in cases {
        let mut p = self_deployed_params();
        p.0.insert("azure_cloud".into(), ParamValue::Str(cloud.into()));
        let r = rig(&SELF_DEPLOYED, p, 0.0);
        assert_eq!(r.client.endpoints().login, login, "{cloud}");
        r.http.expect(
            Method::POST,
            &format!("{login}/dummy_tenant/oauth2/v2.0/token"),
            200,
            token_answer("", json!(3600)),
        );
        r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap();
        let form = r.http.requests()[0].form();
        assert!(form.contains(&("scope".into(), format!("{graph}/.default"))), "{cloud}: {form:?}");
    }
}

// ---------------------------------------------------------------- 13-17: retries (our policy; metrics are the engine's)

#[tokio::test]
async fn api_retries_429_with_retry_after_then_succeeds() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 100.0);
    let mut c = ctx(json!({"access_token": TOKEN, "valid_until": 5000}));
    let mut throttled = HttpResponse::json(
        429,
        &json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}}),
    );
    throttled.headers.push(("retry-after".into(), "7".into()));
    r.http.respond(throttled);
    r.http.respond(HttpResponse::json(500, &json!({})));
    r.http.respond(HttpResponse::json(200, &json!({"value": []})));
    let v = r.client.request(&mut c, ApiKind::Graph, Method::GET, "v1.0/test_id", &[], None).await.unwrap();
    assert_eq!(v, json!({"value": []}));
    assert_eq!(r.time.sleeps(), vec![Duration::from_secs(7), Duration::from_secs(2)]);
}

#[tokio::test]
async fn api_429_on_post_is_not_retried() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 100.0);
    let mut c = ctx(json!({"access_token": TOKEN, "valid_until": 5000}));
    r.http.respond(HttpResponse::json(429, &json!({"content": "Rate limit reached!"})));
    let e = r
        .client
        .request(&mut c, ApiKind::Graph, Method::POST, "v1.0/test_id", &[], Some(&json!({})))
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("Error in API call [429] - Too Many Requests"), "{e}");
    assert_eq!(r.http.requests().len(), 1);
}

#[tokio::test]
async fn api_500_gives_up_after_the_retries() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 100.0);
    let mut c = ctx(json!({"access_token": TOKEN, "valid_until": 5000}));
    for _ in 0..=soar_auth::API_RETRIES {
        r.http.respond(HttpResponse::json(
            500,
            &json!({"error": {"code": "InternalServerError", "message": ""}}),
        ));
    }
    let e = r.client.request(&mut c, ApiKind::Graph, Method::GET, "v1.0/x", &[], None).await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(r.http.requests().len(), 1 + soar_auth::API_RETRIES as usize);
    assert_eq!(r.http.remaining(), 0);
}

#[tokio::test]
async fn api_401_refreshes_once_and_retries_once() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 100.0);
    let mut c = ctx(json!({"access_token": "revoked", "valid_until": 5000}));
    r.http.expect(Method::GET, "https://graph.microsoft.com/v1.0/me", 401, json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}}));
    r.http.expect(
        Method::POST,
        "https://login.microsoftonline.com/",
        200,
        json!({"access_token": "fresh", "expires_in": 3600}),
    );
    r.http.expect(Method::GET, "https://graph.microsoft.com/v1.0/me", 200, json!({"id": "1"}));
    let v = r.client.request(&mut c, ApiKind::Graph, Method::GET, "v1.0/me", &[], None).await.unwrap();
    assert_eq!(v, json!({"id": "1"}));
    let reqs = r.http.requests();
    assert_eq!(reqs[0].header("authorization"), Some("Bearer revoked"));
    assert_eq!(reqs[2].header("authorization"), Some("Bearer fresh"));
    assert_eq!(c.get("access_token"), Some(&json!("fresh")));
    // A second 401 is an error, not a loop.
    r.http.expect(
        Method::GET,
        "https://graph.microsoft.com/",
        401,
        json!({"error": {"code": "InvalidAuthenticationToken", "message": "no"}}),
    );
    r.http.expect(
        Method::POST,
        "https://login.microsoftonline.com/",
        200,
        json!({"access_token": "fresh2", "expires_in": 3600}),
    );
    r.http.expect(
        Method::GET,
        "https://graph.microsoft.com/",
        401,
        json!({"error": {"code": "InvalidAuthenticationToken", "message": "no"}}),
    );
    let e = r.client.request(&mut c, ApiKind::Graph, Method::GET, "v1.0/me", &[], None).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(r.http.remaining(), 0);
}

// ---------------------------------------------------------------- 18, 19: managed identities

#[tokio::test]
async fn managed_identities_query() {
    for id in [Some("test_client_id"), None] {
        let mut p = params(&[("use_managed_identities", "true")]);
        if let Some(id) = id {
            p.0.insert(
                "managed_identities_client_id".into(),
                ParamValue::Credentials(Credentials { identifier: String::new(), password: Secret::new(id) }),
            );
        }
        let r = rig(&SELF_DEPLOYED, p, 0.0);
        r.http.expect(
            Method::GET,
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01",
            200,
            json!({"access_token": "test_token", "expires_in": "86400"}),
        );
        let mut c = ctx(json!({}));
        assert_eq!(r.client.token(&mut c, ApiKind::Graph).await.unwrap().expose(), "test_token");
        let req = &r.http.requests()[0];
        let url = url::Url::parse(&req.url).unwrap();
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(q.contains(&("resource".into(), "https://graph.microsoft.com/".into())));
        assert_eq!(
            q.iter().filter(|(k, _)| k == "client_id").map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
            id.into_iter().collect::<Vec<_>>()
        );
        assert_eq!(req.header("metadata"), Some("true"));
        assert_eq!(c.get("valid_until"), Some(&json!(86395)));
    }
}

/// Off Azure the identity endpoint does not answer: the error says where managed identities
/// work and which endpoint was tried (no retry: nothing listens there).
#[tokio::test]
async fn managed_identities_off_azure_name_the_endpoint_tried() {
    let r = rig(&SELF_DEPLOYED, params(&[("use_managed_identities", "true")]), 0.0);
    r.http.fail("connection refused");
    let e = r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap_err().to_string();
    assert!(e.starts_with("Error in Microsoft authorization with Azure Managed Identities: "), "{e}");
    assert!(
        e.contains("only where Azure gives the machine an identity endpoint: an Azure virtual machine"),
        "{e}"
    );
    assert!(
        e.contains(
            "The endpoint tried, http://169.254.169.254/metadata/identity/oauth2/token, did not answer"
        ),
        "{e}"
    );
    assert_eq!(r.http.requests().len(), 1);
}

#[tokio::test]
async fn managed_identities_error_and_retries() {
    let r = rig(&SELF_DEPLOYED, params(&[("use_managed_identities", "true")]), 0.0);
    r.http.respond(HttpResponse::json(404, &json!({})));
    r.http.respond(HttpResponse::json(410, &json!({})));
    r.http.respond(HttpResponse::json(429, &json!({})));
    r.http.respond(HttpResponse::json(503, &json!({})));
    r.http.respond(HttpResponse::json(400, &json!({"error_description": "test_error_description"})));
    let e = r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap_err().to_string();
    assert_eq!(e, "Error in Microsoft authorization with Azure Managed Identities: test_error_description");
    assert_eq!(r.time.sleeps(), [1, 2, 4, 8].map(Duration::from_secs).to_vec());
}

#[tokio::test]
async fn managed_identity_endpoint_overrides() {
    let cfg = HttpConfig { imds_endpoint: Some("http://127.0.0.1:9".into()), ..HttpConfig::default() };
    let r = rig_cfg(&SELF_DEPLOYED, params(&[("use_managed_identities", "true")]), 0.0, cfg);
    r.http.expect(
        Method::GET,
        "http://127.0.0.1:9/metadata/identity/oauth2/token?api-version=2018-02-01&resource=",
        200,
        json!({"access_token": "t", "expires_in": 60}),
    );
    r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap();

    let cfg = HttpConfig {
        identity_endpoint: Some(("http://127.0.0.1:9/msi/token".into(), Secret::new("hdr"))),
        ..HttpConfig::default()
    };
    let r = rig_cfg(&SELF_DEPLOYED, params(&[("use_managed_identities", "true")]), 1000.0, cfg);
    r.http.expect(
        Method::GET,
        "http://127.0.0.1:9/msi/token?api-version=2019-08-01&resource=",
        200,
        json!({"access_token": "t", "expires_on": "4600"}),
    );
    let mut c = ctx(json!({}));
    r.client.token(&mut c, ApiKind::Graph).await.unwrap();
    assert_eq!(r.http.requests()[0].header("x-identity-header"), Some("hdr"));
    assert_eq!(c.get("valid_until"), Some(&json!(4595)));
}

// ---------------------------------------------------------------- 26, 27: login URL, clouds

#[tokio::test]
async fn generate_login_url_reference_shape() {
    let mut p = self_deployed_params();
    p.0.insert("redirect_uri".into(), ParamValue::Str("https://localhost/myapp".into()));
    p.0.insert("auth_type".into(), ParamValue::Str("Authorization Code".into()));
    let r = rig(&SELF_DEPLOYED, p, 0.0);
    let mut c = ctx(json!({}));
    assert_eq!(
        r.client.login_url(&mut c, false).unwrap(),
        "https://login.microsoftonline.com/dummy_tenant/oauth2/v2.0/authorize?response_type=code&scope=offline_access%20https://graph.microsoft.com/.default&client_id=dummy_client&redirect_uri=https://localhost/myapp"
    );
    assert!(!c.changed());
    let with_pkce = r.client.login_url(&mut c, true).unwrap();
    assert!(with_pkce.contains("&code_challenge_method=S256"));
    assert!(c.get("code_verifier").is_some());
}

#[test]
fn login_url_missing_fields() {
    let p = params(&[("auth_type", "Authorization Code"), ("auth_id", "c"), ("redirect_uri", "https://x")]);
    let http = MockTransport::new();
    let e = MsClient::from_params(
        &SELF_DEPLOYED,
        &p,
        testing::shared(http, FakeTime::at(0.0), HttpConfig::default()),
    );
    assert_eq!(e.unwrap_err().to_string(), "Tenant ID must be provided.");
}

#[test]
fn get_azure_cloud_reference_cases() {
    let n = ParamNames::DEFAULT;
    // (params, ARM, AD, Graph) with the reference's slashes normalised away.
    let cases = [
        (
            params(&[("azure_cloud", "Germany")]),
            "https://management.microsoftazure.de",
            "https://login.microsoftonline.de",
            "https://graph.microsoft.de",
        ),
        (
            params(&[("azure_cloud", "Custom"), ("server_url", "mock_url")]),
            "mock_url",
            "https://login.microsoftonline.com",
            "https://graph.microsoft.com",
        ),
        (
            params(&[("azure_ad_endpoint", "mock_endpoint")]),
            "https://management.azure.com",
            "mock_endpoint",
            "https://graph.microsoft.com",
        ),
        (
            params(&[("url", "mock_url")]),
            "https://management.azure.com",
            "https://login.microsoftonline.com",
            "mock_url",
        ),
        (
            params(&[]),
            "https://management.azure.com",
            "https://login.microsoftonline.com",
            "https://graph.microsoft.com",
        ),
    ];
    for (p, arm, ad, graph) in cases {
        let ep = CloudEndpoints::from_params(&p, &n, false).unwrap();
        assert_eq!((ep.arm.as_str(), ep.login.as_str(), ep.graph.as_str()), (arm, ad, graph), "{p:?}");
    }
    let e = CloudEndpoints::from_params(&params(&[("azure_cloud", "Mars")]), &n, false).unwrap_err();
    assert!(
        e.to_string().contains("Use one of: Worldwide, US GCC, US GCC-High, DoD, Germany, China, Custom"),
        "{e}"
    );
    for c in Cloud::NAMED {
        assert_eq!(Cloud::parse(c.abbr()), Some(c));
    }
}

#[test]
fn defender_endpoint_types() {
    let n = ParamNames::DEFAULT;
    let cases = [
        (
            "Worldwide",
            "https://api.securitycenter.microsoft.com",
            "https://login.microsoftonline.com",
            "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
        ),
        (
            "US Geo Proximity",
            "https://api.securitycenter.microsoft.com",
            "https://login.microsoftonline.com",
            "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
        ),
        (
            "EU Geo Proximity",
            "https://api-eu.securitycenter.microsoft.com",
            "https://login.microsoftonline.com",
            "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
        ),
        (
            "UK Geo Proximity",
            "https://api-uk.securitycenter.microsoft.com",
            "https://login.microsoftonline.com",
            "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
        ),
        (
            "US GCC",
            "https://api-gcc.securitycenter.microsoft.us",
            "https://login.microsoftonline.com",
            "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
        ),
        (
            "US GCC-High",
            "https://api-gov.securitycenter.microsoft.us",
            "https://login.microsoftonline.us",
            "https://securitycenter.onmicrosoft.us/windowsatpservice/.default",
        ),
        (
            "DoD",
            "https://api-gov.securitycenter.microsoft.us",
            "https://login.microsoftonline.us",
            "https://securitycenter.onmicrosoft.us/windowsatpservice/.default",
        ),
    ];
    for (t, api, login, scope) in cases {
        let ep = CloudEndpoints::from_params(&params(&[("endpoint_type", t)]), &n, true).unwrap();
        assert_eq!((ep.defender.as_str(), ep.login.as_str()), (api, login), "{t}");
        assert_eq!(ep.default_scope(ApiKind::Defender).unwrap(), scope, "{t}");
    }
    let custom = CloudEndpoints::from_params(
        &params(&[("endpoint_type", "Custom"), ("url", "https://x.example/")]),
        &n,
        true,
    )
    .unwrap();
    assert_eq!(custom.defender, "https://x.example");
    let e = CloudEndpoints::from_params(&params(&[("endpoint_type", "Custom")]), &n, true).unwrap_err();
    assert_eq!(e.to_string(), "Endpoint type is set to 'Custom' but no URL was provided.");
    let gcc =
        CloudEndpoints::from_params(&params(&[("endpoint_type", "Worldwide"), ("is_gcc", "true")]), &n, true)
            .unwrap();
    assert_eq!(gcc.defender, "https://api-gcc.securitycenter.microsoft.us");
}

// ---------------------------------------------------------------- 28-31: the proxy's retry gate

#[tokio::test]
async fn oproxy_gate_delays() {
    let r = rig(&ALL, oproxy_params("dummy_tenant"), 0.0);
    let e = r.client.token(&mut ctx(json!({"next_request_time": 1.0})), ApiKind::Graph).await.unwrap_err();
    assert_eq!(e.to_string(), "The request will be delayed until 1970-01-01 00:00:01");
    assert!(r.http.requests().is_empty());
    // 0.0 means no delay.
    r.http.respond(HttpResponse::json(200, &token_answer("", json!(3600))));
    r.client.token(&mut ctx(json!({"next_request_time": 0.0})), ApiKind::Graph).await.unwrap();
}

#[tokio::test]
async fn oproxy_retry_mechanism() {
    // (stored counter, expected next_request_time, expected counter) at epoch 0.
    for (counter, next, after) in
        [(1, 2.0, 2), (2, 4.0, 3), (3, 8.0, 4), (5, 32.0, 6), (6, 64.0, 7), (7, 64.0, 7)]
    {
        let r = rig(&ALL, oproxy_params("dummy_tenant"), 0.0);
        r.http.respond(HttpResponse { status: 400, headers: vec![], body: b"Bad Request".to_vec() });
        let mut c = ctx(json!({"next_request_time": 0.0, "delay_request_counter": counter}));
        let e = r.client.token(&mut c, ApiKind::Graph).await.unwrap_err();
        assert_eq!(e.to_string(), "Error in Microsoft authorization. Status: 400, body: Bad Request");
        assert_eq!(c.get("next_request_time"), Some(&json!(next)), "counter {counter}");
        assert_eq!(c.get("delay_request_counter"), Some(&json!(after)), "counter {counter}");
    }
}

// ---------------------------------------------------------------- certificate

fn test_key() -> (String, String) {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let mut rng = rand::thread_rng();
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let thumb = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01".to_owned();
    (pem, thumb)
}

fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut it = jwt.split('.');
    let dec = |s: &str| {
        serde_json::from_slice::<Value>(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap())
            .unwrap()
    };
    (dec(it.next().unwrap()), dec(it.next().unwrap()))
}

#[tokio::test]
async fn certificate_assertion_is_fresh_per_request() {
    let (pem, thumb) = test_key();
    let p = Params::from_pairs([
        ("auth_id", ParamValue::Str("cid".into())),
        ("tenant_id", ParamValue::Str("tid".into())),
        ("self_deployed", ParamValue::Bool(true)),
        // Engines flatten newlines to spaces: the key still parses.
        (
            "creds_certificate",
            ParamValue::Credentials(Credentials {
                identifier: thumb.clone(),
                password: Secret::new(pem.replace('\n', " ")),
            }),
        ),
    ]);
    let r = rig(&SELF_DEPLOYED, p, 1_700_000_000.0);
    assert_eq!(r.client.flow(), AuthFlow::ClientCertificate);
    r.http.respond(HttpResponse::json(200, &token_answer("", json!(3600))));
    r.http.respond(HttpResponse::json(200, &token_answer("", json!(3600))));
    r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap();
    r.time.set(1_700_000_100.0);
    r.client.token(&mut ctx(json!({})), ApiKind::Arm).await.unwrap();
    let reqs = r.http.requests();
    let mut jtis = Vec::new();
    for (i, req) in reqs.iter().enumerate() {
        let form = req.form();
        let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["client_id", "grant_type", "client_assertion_type", "client_assertion", "scope"]);
        let (h, c) = jwt_parts(&form[3].1);
        assert_eq!(h["alg"], "RS256");
        assert_eq!(h["x5t"], URL_SAFE.encode(hex::decode(thumb.replace(':', "")).unwrap()));
        assert!(h["x5t"].as_str().unwrap().ends_with('='), "padding kept");
        assert!(h.get("x5t#S256").is_none());
        assert_eq!(c["aud"], "https://login.microsoftonline.com/tid/oauth2/v2.0/token");
        assert_eq!((c["iss"].as_str(), c["sub"].as_str()), (Some("cid"), Some("cid")));
        let iat = if i == 0 { 1_700_000_000 } else { 1_700_000_100 };
        assert_eq!(c["exp"], json!(iat + 600));
        jtis.push(c["jti"].clone());
    }
    assert_ne!(jtis[0], jtis[1]);
}

#[test]
fn certificate_errors_say_which_and_how() {
    let (pem, thumb) = test_key();
    let http = MockTransport::new();
    let sh = testing::shared(http, FakeTime::at(0.0), HttpConfig::default());
    for (t, k, want) in
        [("zz:11", pem.as_str(), "certificate thumbprint"), (thumb.as_str(), "not a key", "private key")]
    {
        let p = params(&[
            ("auth_id", "c"),
            ("tenant_id", "t"),
            ("certificate_thumbprint", t),
            ("private_key", k),
            ("self_deployed", "true"),
        ]);
        let e = MsClient::from_params(&SELF_DEPLOYED, &p, sh.clone()).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains("openssl req -x509"), "{e}");
        assert!(!e.contains(k), "the key text is never echoed: {e}");
    }
}

// ---------------------------------------------------------------- authorization code

fn auth_code_params(code: &str) -> Params {
    let mut p = self_deployed_params();
    p.0.insert("auth_type".into(), ParamValue::Str("Authorization Code".into()));
    p.0.insert("redirect_uri".into(), ParamValue::Str("https://localhost/myapp".into()));
    p.0.insert(
        "auth_code".into(),
        ParamValue::Credentials(Credentials { identifier: String::new(), password: Secret::new(code) }),
    );
    p
}

#[tokio::test]
async fn auth_code_exchange_then_refresh_token() {
    let r = rig(&SELF_DEPLOYED, auth_code_params("the-code"), 0.0);
    let mut c = ctx(json!({"code_verifier": "v"}));
    r.http.respond(HttpResponse::json(200, &token_answer("rt-1", json!(3600))));
    r.client.token(&mut c, ApiKind::Graph).await.unwrap();
    let f = r.http.requests()[0].form();
    assert_eq!(
        f.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["client_id", "client_secret", "redirect_uri", "grant_type", "code", "code_verifier", "scope"]
    );
    assert_eq!(f[3].1, "authorization_code");
    assert_eq!(c.get("current_refresh_token"), Some(&json!("rt-1")));
    assert!(c.get("code_verifier").is_none(), "the verifier is dropped after the exchange");
    // Expired: the refresh token is used, not the code again.
    r.time.set(4000.0);
    r.http.respond(HttpResponse::json(200, &token_answer("rt-2", json!(3600))));
    r.client.token(&mut c, ApiKind::Graph).await.unwrap();
    let f = r.http.requests()[1].form();
    assert!(
        f.contains(&("grant_type".into(), "refresh_token".into()))
            && f.contains(&("refresh_token".into(), "rt-1".into()))
    );
    assert_eq!(c.get("current_refresh_token"), Some(&json!("rt-2")));
}

#[tokio::test]
async fn auth_code_session_state_and_consent_hint() {
    let r = rig(&SELF_DEPLOYED, auth_code_params("abc&session_state=1"), 0.0);
    let e = r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "Malformed auth_code parameter: Please copy the auth code from the redirected uri without any additional info and without the \"session_state\" query parameter."
    );
    assert!(r.http.requests().is_empty());

    let r = rig(&SELF_DEPLOYED, auth_code_params("abc"), 0.0);
    r.http.respond(HttpResponse::json(400, &json!({"error": "invalid_grant", "error_description": "AADSTS65001: Missing scope permissions on the request.\r\nTrace ID: 1", "error_codes": [65001]})));
    let e = r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap_err().to_string();
    assert!(e.contains("&prompt=consent"), "{e}");
}

// ---------------------------------------------------------------- device code

fn device_rig(now: f64) -> Rig {
    let p = params(&[("auth_id", "dc-client"), ("auth_type", "Device Code")]);
    rig(&SELF_DEPLOYED, p, now)
}

#[tokio::test]
async fn device_code_start_replaces_context() {
    let r = device_rig(0.0);
    r.http.expect(Method::POST, "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode", 200, json!({
        "user_code": "FRWQDE7YL", "device_code": "DC", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 5,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FRWQDE7YL to authenticate."}));
    let mut c = ctx(json!({"access_token": "old", "valid_until": 99999}));
    let s = r.client.device_start(&mut c).await.unwrap();
    assert_eq!(
        (s.verification_uri.as_str(), s.user_code.as_str()),
        ("https://microsoft.com/devicelogin", "FRWQDE7YL")
    );
    assert_eq!(obj(&c), json!({"device_code": "DC", "device_code_interval": 5}));
    let f = r.http.requests()[0].form();
    assert_eq!(f[0], ("client_id".into(), "dc-client".into()));
    assert_eq!(f[1], ("scope".into(), "https://graph.microsoft.com/.default offline_access".into()));
}

fn pending() -> Value {
    json!({"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.", "error_codes": [70016]})
}

#[tokio::test]
async fn device_code_polling_rfc8628() {
    let r = device_rig(0.0);
    let mut c = ctx(json!({"device_code": "DC", "device_code_interval": 5}));
    r.http.respond(HttpResponse::json(400, &pending()));
    r.http.respond(HttpResponse::json(400, &json!({"error": "slow_down"})));
    r.http.respond(HttpResponse::json(400, &pending()));
    r.http.respond(HttpResponse::json(200, &token_answer("rt", json!(3600))));
    r.client.device_complete(&mut c, Duration::from_secs(120)).await.unwrap();
    // pending keeps 5 s, slow_down adds 5 s for every later poll.
    assert_eq!(r.time.sleeps(), [5, 10, 10].map(Duration::from_secs).to_vec());
    assert_eq!(c.get("access_token"), Some(&json!(TOKEN)));
    assert_eq!(c.get("current_refresh_token"), Some(&json!("rt")));
    let f = r.http.requests()[0].form();
    assert!(f.contains(&("grant_type".into(), "urn:ietf:params:oauth:grant-type:device_code".into())));
    assert!(f.contains(&("device_code".into(), "DC".into())) && f.contains(&("code".into(), "DC".into())));
    // Later tokens come from the refresh token.
    r.time.set(10_000.0);
    r.http.respond(HttpResponse::json(200, &token_answer("rt2", json!(3600))));
    r.client.token(&mut c, ApiKind::Graph).await.unwrap();
    assert!(r.http.requests()[4].form().contains(&("refresh_token".into(), "rt".into())));
}

#[tokio::test]
async fn device_code_stops_on_expired_denied_and_bound() {
    for (answer, want) in [
        (
            json!({"error": "expired_token", "error_description": "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired."}),
            "expired_token",
        ),
        (json!({"error": "access_denied", "error_description": "AADSTS70000: denied"}), "access_denied"),
    ] {
        let r = device_rig(0.0);
        r.http.respond(HttpResponse::json(400, &pending()));
        r.http.respond(HttpResponse::json(400, &answer));
        let e = r
            .client
            .device_complete(&mut ctx(json!({"device_code": "DC"})), Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with("Error in Microsoft authorization. Status: 400, body: ")
                && e.to_string().contains(want),
            "{e}"
        );
        assert_eq!(r.http.remaining(), 0);
    }
    // Bounded: 12 s allows the polls at 0, 5 and 10 s only.
    let r = device_rig(0.0);
    for _ in 0..5 {
        r.http.respond(HttpResponse::json(400, &pending()));
    }
    let e = r
        .client
        .device_complete(
            &mut ctx(json!({"device_code": "DC", "device_code_interval": 5})),
            Duration::from_secs(12),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::AuthorizationPending(_)), "{e}");
    assert_eq!(r.http.requests().len(), 3);
}

// ---------------------------------------------------------------- flows declared, secrets, single flight

#[test]
fn undeclared_flow_names_the_supported_ones() {
    static ONLY_CC: AuthSpec =
        AuthSpec { flows: &[AuthFlow::ClientSecret, AuthFlow::ManagedIdentity], ..AuthSpec::DEFAULT };
    let http = MockTransport::new();
    let p = params(&[("auth_type", "Device Code"), ("auth_id", "x")]);
    let e =
        MsClient::from_params(&ONLY_CC, &p, testing::shared(http, FakeTime::at(0.0), HttpConfig::default()))
            .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The authentication flow 'Device code' is not supported by this integration. Supported flows: Client credentials (secret), Azure managed identities."
    );
}

#[tokio::test]
async fn secrets_never_reach_error_texts() {
    let canary = "canary-secret-7f3a";
    let p =
        params(&[("auth_id", "cid"), ("tenant_id", "tid"), ("enc_key", canary), ("self_deployed", "true")]);
    let r = rig(&SELF_DEPLOYED, p, 0.0);
    r.http.respond(HttpResponse::json(401, &json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]})));
    r.http.fail("could not connect");
    for _ in 0..2 {
        let e = r.client.token(&mut ctx(json!({})), ApiKind::Graph).await.unwrap_err();
        assert!(!e.to_string().contains(canary) && !format!("{e:?}").contains(canary), "{e}");
    }
    assert!(!format!("{:?}", r.client).contains(canary));
    assert!(r.http.requests()[0].body_text().contains(canary), "the secret is sent, in the body only");
}

#[tokio::test]
async fn single_flight_with_the_fake_transport() {
    let http = MockTransport::new();
    let time = FakeTime::at(0.0);
    let shared = testing::shared(http.clone(), time, HttpConfig::default());
    http.respond(HttpResponse::json(200, &token_answer("", json!(3600))));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let client = MsClient::from_params(&SELF_DEPLOYED, &self_deployed_params(), shared).unwrap();
            let mut c = IntegrationContext::new(Object::new());
            client.token(&mut c, ApiKind::Graph).await.unwrap().expose().to_owned()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), TOKEN);
    }
    assert_eq!(http.requests().len(), 1);
}

#[tokio::test]
async fn in_memory_copy_is_refreshed_before_expiry() {
    // Commands with cold contexts (as in --serve mode) share the in-memory token until 60 s
    // before its valid_until, then one of them refreshes it.
    let http = MockTransport::new();
    let time = FakeTime::at(0.0);
    let shared = testing::shared(http.clone(), time.clone(), HttpConfig::default());
    let client = MsClient::from_params(&SELF_DEPLOYED, &self_deployed_params(), shared).unwrap();
    http.respond(HttpResponse::json(200, &json!({"access_token": "first", "expires_in": 3600})));
    http.respond(HttpResponse::json(200, &json!({"access_token": "second", "expires_in": 3600})));
    let cold = || ctx(json!({}));
    let cases = [(0.0, "first"), (3534.0, "first"), (3535.0, "second"), (3600.0, "second")];
    for (t, want) in cases {
        time.set(t);
        assert_eq!(client.token(&mut cold(), ApiKind::Graph).await.unwrap().expose(), want, "at {t}");
    }
    assert_eq!(http.requests().len(), 2);
    assert!(http.requests().iter().all(|r| !r.body_text().is_empty()));
}

#[tokio::test]
async fn token_answer_without_access_token_is_an_error() {
    let r = rig(&SELF_DEPLOYED, self_deployed_params(), 0.0);
    r.http.respond(HttpResponse::json(200, &json!({"expires_in": 3600})));
    let mut c = ctx(json!({}));
    let e = r.client.token(&mut c, ApiKind::Graph).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "Error in Microsoft authorization: the token endpoint answered 200 without an access_token."
    );
    assert!(!c.changed(), "nothing cached");
}

// ---------------------------------------------------------------- beyond the reference

#[tokio::test]
async fn dead_single_flight_slots_are_pruned_in_a_long_running_process() {
    let http = MockTransport::new();
    let time = FakeTime::at(10.0);
    let shared = testing::shared(http.clone(), time.clone(), HttpConfig::default());
    let client = MsClient::from_params(&ALL, &oproxy_params("t"), shared.clone()).unwrap();
    // Each rotation of the refresh token is a new identity+grant slot.
    for i in 0..300 {
        http.respond(HttpResponse::json(200, &token_answer("rt", json!(3600))));
        let mut c = ctx(json!({"current_refresh_token": format!("rt-{i}")}));
        client.token(&mut c, ApiKind::Graph).await.unwrap();
    }
    // Live tokens are never dropped.
    assert_eq!(shared.slot_count(), 300);
    // Once they have expired, the next new slot clears them.
    time.set(10_000.0);
    http.respond(HttpResponse::json(200, &token_answer("rt", json!(3600))));
    let mut c = ctx(json!({"current_refresh_token": "rt-new"}));
    client.token(&mut c, ApiKind::Graph).await.unwrap();
    assert_eq!(shared.slot_count(), 1);
}
