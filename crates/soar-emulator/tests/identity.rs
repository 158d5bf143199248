//! The identity platform in-process: every grant, error and discovery document.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use soar_emulator::config::*;
use soar_emulator::keys::{Jwt, RsaKey, cached_rsa_pkcs8};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

fn secret_cc(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", SECRET_APP_ID.into()),
        ("client_secret", SECRET_APP_SECRET.into()),
        ("grant_type", "client_credentials".into()),
        ("scope", scope.into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

#[tokio::test]
async fn client_credentials_with_secret_gives_a_v1_app_token() {
    let t = T::new();
    let r = t.post_form(V2, &pairs(&secret_cc(GRAPH_DEFAULT))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    assert_eq!(r.header("cache-control"), "no-store, no-cache");
    let body = r.json();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["token_type", "expires_in", "ext_expires_in", "access_token"]);
    assert_eq!(body["expires_in"], 3599, "v2 numbers are integers");
    let token = body["access_token"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["appid"], SECRET_APP_ID);
    assert_eq!(c["appidacr"], "1");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["sub"], c["oid"]);
    assert!(c["roles"].as_array().unwrap().contains(&json!("User.Read.All")));
    assert!(c.get("scp").is_none());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 3599);
    assert_eq!(c["iat"].as_i64().unwrap(), START_MS / 1000);
    let header = jwt_part(token, 0);
    assert!(header.get("nonce").is_some(), "Graph tokens carry a nonce header");
    // The signature verifies with the JWKS key.
    let jwks = t.get(HOST, &format!("/{TENANT}/discovery/v2.0/keys"), &[]).await.json();
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert!(Jwt::parse(token).unwrap().verify_rsa(&t.st.signing_key().public_pkcs1()));
    // ARM tokens have no nonce header.
    let arm = t.app_token("https://management.azure.com/.default").await;
    assert!(jwt_part(&arm, 0).get("nonce").is_none());
    assert_eq!(claims(&arm)["aud"], "https://management.azure.com");
}

#[tokio::test]
async fn secret_in_http_basic_works_and_tenant_may_be_a_domain_or_organizations() {
    let t = T::new();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SECRET_APP_ID}:{SECRET_APP_SECRET}"))
    );
    let r = t
        .post_form_host(
            HOST,
            V2,
            &[("grant_type", "client_credentials"), ("scope", GRAPH_DEFAULT)],
            &[("authorization", &basic)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for tenant in [DEFAULT_TENANT_DOMAIN, "organizations"] {
        let r = t.post_form(&format!("/{tenant}/oauth2/v2.0/token"), &pairs(&secret_cc(GRAPH_DEFAULT))).await;
        assert_eq!(r.status, 200, "{tenant}: {}", r.text);
        assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["tid"], TENANT);
    }
}

#[tokio::test]
async fn v1_endpoint_answers_with_strings_and_resource() {
    let t = T::new();
    let r = t
        .post_form(
            V1,
            &[
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "client_credentials"),
                ("resource", "https://management.core.windows.net/"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["expires_in"], "3599");
    assert_eq!(b["ext_expires_in"], "3599");
    assert_eq!(b["resource"], "https://management.core.windows.net/");
    assert_eq!(b["not_before"], (START_MS / 1000).to_string());
    assert_eq!(b["expires_on"], (START_MS / 1000 + 3599).to_string());
    assert_eq!(claims(b["access_token"].as_str().unwrap())["aud"], "https://management.core.windows.net/");
    // The reference sends scope and resource together to v2; both are accepted.
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "client_credentials"),
                ("resource", "https://api.securitycenter.microsoft.com/"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// One row per AADSTS error the token endpoint emits.
#[tokio::test]
async fn token_endpoint_errors_have_microsofts_shape() {
    let t = T::new();
    let cc =
        |id: &'static str, secret: &'static str, scope: &'static str| -> Vec<(&'static str, &'static str)> {
            vec![
                ("client_id", id),
                ("client_secret", secret),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ]
        };
    let cases: Vec<(&str, String, Vec<(&str, &str)>, u16, &str, u64)> = vec![
        (
            "unknown client",
            V2.into(),
            cc("99999999-0000-0000-0000-000000000000", "x", GRAPH_DEFAULT),
            400,
            "unauthorized_client",
            700016,
        ),
        ("bad secret", V2.into(), cc(SECRET_APP_ID, "wrong", GRAPH_DEFAULT), 401, "invalid_client", 7000215),
        (
            "expired secret",
            V2.into(),
            cc(EXPIRED_SECRET_APP_ID, EXPIRED_SECRET_APP_SECRET, GRAPH_DEFAULT),
            401,
            "invalid_client",
            7000222,
        ),
        (
            "no credential",
            V2.into(),
            vec![
                ("client_id", SECRET_APP_ID),
                ("grant_type", "client_credentials"),
                ("scope", GRAPH_DEFAULT),
            ],
            401,
            "invalid_client",
            7000218,
        ),
        (
            "public client with a secret",
            V2.into(),
            cc(PUBLIC_APP_ID, "x", GRAPH_DEFAULT),
            401,
            "invalid_client",
            700025,
        ),
        ("missing grant_type", V2.into(), vec![("client_id", SECRET_APP_ID)], 400, "invalid_request", 900144),
        (
            "missing client_id",
            V2.into(),
            vec![("grant_type", "client_credentials")],
            400,
            "invalid_request",
            900144,
        ),
        (
            "missing scope",
            V2.into(),
            vec![
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
            900144,
        ),
        (
            "scope without .default",
            V2.into(),
            cc(SECRET_APP_ID, SECRET_APP_SECRET, "https://graph.microsoft.com/User.Read"),
            400,
            "invalid_scope",
            70011,
        ),
        (
            "two resources",
            V2.into(),
            cc(
                SECRET_APP_ID,
                SECRET_APP_SECRET,
                "https://graph.microsoft.com/.default https://management.azure.com/.default",
            ),
            400,
            "invalid_scope",
            70011,
        ),
        (
            "unknown resource",
            V2.into(),
            cc(SECRET_APP_ID, SECRET_APP_SECRET, "https://nothing.example/.default"),
            400,
            "invalid_resource",
            500011,
        ),
        (
            "unknown tenant",
            "/nope.onmicrosoft.com/oauth2/v2.0/token".into(),
            cc(SECRET_APP_ID, SECRET_APP_SECRET, GRAPH_DEFAULT),
            400,
            "invalid_request",
            90002,
        ),
        (
            "client credentials on common",
            "/common/oauth2/v2.0/token".into(),
            cc(SECRET_APP_ID, SECRET_APP_SECRET, GRAPH_DEFAULT),
            400,
            "invalid_request",
            9001023,
        ),
        (
            "v1 without resource",
            V1.into(),
            vec![
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_resource",
            50001,
        ),
        (
            "unsupported grant",
            V2.into(),
            vec![("client_id", SECRET_APP_ID), ("grant_type", "password")],
            400,
            "unsupported_grant_type",
            70003,
        ),
        (
            "missing code",
            V2.into(),
            vec![
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "authorization_code"),
            ],
            400,
            "invalid_request",
            900144,
        ),
        (
            "unknown code",
            V2.into(),
            vec![
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "authorization_code"),
                ("code", "nope"),
            ],
            400,
            "invalid_grant",
            70008,
        ),
        (
            "garbage refresh token",
            V2.into(),
            vec![
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "refresh_token"),
                ("refresh_token", "nope"),
            ],
            400,
            "invalid_grant",
            9002313,
        ),
        (
            "unknown device code",
            V2.into(),
            vec![("client_id", PUBLIC_APP_ID), ("grant_type", "device_code"), ("device_code", "nope")],
            400,
            "bad_verification_code",
            70000,
        ),
    ];
    for (name, path, form, status, error, code) in cases {
        let r = t.post_form(&path, &form).await;
        check_aad(&r, status, error, code);
        assert!(!r.text.contains(SECRET_APP_SECRET), "{name}: the secret must not be echoed");
    }
}

#[tokio::test]
async fn correlation_id_echoes_client_request_id_and_trailer_separator_is_switchable() {
    let mut cfg = EmulatorConfig::default();
    cfg.behaviour.error_trailer_separator = " ".into();
    let t = T::with(cfg);
    let r = t
        .post_form_host(
            HOST,
            V2,
            &[
                ("client_id", SECRET_APP_ID),
                ("client_secret", "bad"),
                ("grant_type", "client_credentials"),
                ("scope", GRAPH_DEFAULT),
            ],
            &[("client-request-id", "abc-123")],
        )
        .await;
    let b = r.json();
    assert_eq!(b["correlation_id"], "abc-123");
    let desc = b["error_description"].as_str().unwrap();
    assert!(desc.contains(". Trace ID: ") && desc.contains(" Correlation ID: abc-123 Timestamp: "), "{desc}");
}

#[tokio::test]
async fn the_login_host_picks_the_cloud() {
    let t = T::new();
    let form = |scope: &'static str| {
        pairs(&secret_cc(scope)).into_iter().map(|(k, v)| (k, v.to_string())).collect::<Vec<_>>()
    };
    let send = |host: &'static str, scope: &'static str| {
        let f = form(scope);
        let t = &t;
        async move {
            t.post_form_host(host, V2, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(), &[])
                .await
        }
    };
    let r = send("login.microsoftonline.us", "https://graph.microsoft.us/.default").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["aud"], "https://graph.microsoft.us");
    let r = send("login.microsoftonline.us", "https://dod-graph.microsoft.us/.default").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A worldwide resource is unknown to the US Government cloud.
    check_aad(&send("login.microsoftonline.us", GRAPH_DEFAULT).await, 400, "invalid_resource", 500011);
    // US GCC: worldwide login, graph.microsoft.us.
    assert_eq!(send("login.microsoftonline.com", "https://graph.microsoft.us/.default").await.status, 200);
    let r = send("login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default").await;
    assert_eq!(
        claims(r.json()["access_token"].as_str().unwrap())["iss"],
        format!("https://sts.chinacloudapi.cn/{TENANT}/")
    );
    check_aad(
        &send("login.chinacloudapi.cn", "https://management.azure.com/.default").await,
        400,
        "invalid_resource",
        500011,
    );
}

fn cert_key(t: &T) -> RsaKey {
    let g = &t.st.generated_certs()[0];
    RsaKey::from_pems(&g.key_pem, &g.cert_pem).unwrap()
}

fn assertion(key: &RsaKey, header: Value, claims: Value, pss: bool) -> String {
    key.sign_jwt_alg(&header, &claims, pss).unwrap()
}

fn std_claims(aud: &str, now: f64) -> Value {
    json!({"aud": aud, "iss": CERT_APP_ID, "sub": CERT_APP_ID, "jti": "5f7e4c6a-0000-4000-8000-000000000001", "iat": now, "exp": now + 600.0})
}

async fn with_assertion(t: &T, a: &str) -> Resp {
    t.post_form(
        V2,
        &[
            ("client_id", CERT_APP_ID),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", a),
        ],
    )
    .await
}

#[tokio::test]
async fn client_assertions_are_checked_like_entra() {
    let t = T::new();
    let key = cert_key(&t);
    let cert = soar_emulator::keys::RegisteredCert::from_pem(&key.cert_pem()).unwrap();
    let now = START_MS as f64 / 1000.0 + 0.25;
    let aud = format!("https://{HOST}{V2}");
    // MSAL Python: RS256 + x5t with padding kept, float times, no nbf.
    let rs = assertion(
        &key,
        json!({"alg":"RS256","typ":"JWT","x5t": format!("{}=", cert.x5t)}),
        std_claims(&aud, now),
        false,
    );
    let r = with_assertion(&t, &rs).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["appidacr"], "2");
    // Reused within its lifetime (same jti): still accepted.
    assert_eq!(with_assertion(&t, &rs).await.status, 200);
    // PS256 + x5t#S256, audience on the login host name and by domain.
    let ps = assertion(
        &key,
        json!({"alg":"PS256","typ":"JWT","x5t#S256": cert.x5t_s256}),
        std_claims(
            &format!("https://login.microsoftonline.com/{DEFAULT_TENANT_DOMAIN}/oauth2/v2.0/token"),
            now,
        ),
        true,
    );
    assert_eq!(with_assertion(&t, &ps).await.status, 200);

    let other = RsaKey::from_pkcs8(cached_rsa_pkcs8("test-other").unwrap(), "other").unwrap();
    let cases: Vec<(&str, String, u64)> = vec![
        (
            "unknown key",
            assertion(&other, json!({"alg":"RS256","x5t": other.x5t}), std_claims(&aud, now), false),
            700027,
        ),
        (
            "signed by another key",
            assertion(&other, json!({"alg":"RS256","x5t": cert.x5t}), std_claims(&aud, now), false),
            700027,
        ),
        (
            "expired",
            assertion(&key, json!({"alg":"RS256","x5t": cert.x5t}), std_claims(&aud, now - 1500.0), false),
            700024,
        ),
        (
            "not yet valid",
            assertion(
                &key,
                json!({"alg":"RS256","x5t": cert.x5t}),
                json!({"aud": aud, "iss": CERT_APP_ID, "sub": CERT_APP_ID, "nbf": now + 3600.0, "exp": now + 4000.0}),
                false,
            ),
            700024,
        ),
        (
            "sub differs from iss",
            assertion(
                &key,
                json!({"alg":"RS256","x5t": cert.x5t}),
                json!({"aud": aud, "iss": CERT_APP_ID, "sub": "someone", "exp": now + 60.0}),
                false,
            ),
            50048,
        ),
        (
            "wrong audience",
            assertion(
                &key,
                json!({"alg":"RS256","x5t": cert.x5t}),
                std_claims("https://example.com/x/oauth2/v2.0/token", now),
                false,
            ),
            700027,
        ),
        (
            "no exp",
            assertion(
                &key,
                json!({"alg":"RS256","x5t": cert.x5t}),
                json!({"aud": aud, "iss": CERT_APP_ID, "sub": CERT_APP_ID}),
                false,
            ),
            700027,
        ),
        ("not a JWT", "abc".into(), 700027),
    ];
    for (name, a, code) in cases {
        let r = with_assertion(&t, &a).await;
        assert_eq!(r.json()["error_codes"][0], code, "{name}: {}", r.text);
        check_aad(&r, 401, "invalid_client", code);
    }
}

/// Runs /authorize and returns the parsed redirect query.
async fn authorize(t: &T, query: &str, headers: &[(&str, &str)]) -> (Resp, Vec<(String, String)>) {
    let r = t.get(HOST, &format!("/{TENANT}/oauth2/v2.0/authorize?{query}"), headers).await;
    let loc = r.header("location");
    let q = loc.split_once(['?', '#']).map(|(_, q)| q.to_string()).unwrap_or_default();
    let parsed =
        url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    (r, parsed)
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

const AUTH_Q: &str = "client_id=22222222-2222-4222-8222-000000000001&response_type=code&redirect_uri=https%3A%2F%2Flocalhost%2Fmyapp&scope=offline_access%20https%3A%2F%2Fgraph.microsoft.com%2F.default%20openid&state=s%C3%A9t%201&nonce=n-1&client_info=1";

async fn redeem(t: &T, code: &str, redirect: &str) -> Resp {
    t.post_form(
        V2,
        &[
            ("client_id", SECRET_APP_ID),
            ("client_secret", SECRET_APP_SECRET),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_info", "1"),
        ],
    )
    .await
}

#[tokio::test]
async fn authorization_code_flow_is_single_use_and_bound() {
    let t = T::new();
    let (r, q) = authorize(&t, AUTH_Q, &[]).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(r.header("location").starts_with("https://localhost/myapp?code="), "{}", r.header("location"));
    assert_eq!(get(&q, "state"), Some("sét 1"), "state is echoed verbatim");
    assert_eq!(get(&q, "session_state").unwrap().len(), 36);
    assert!(get(&q, "client_info").is_some());
    let code = get(&q, "code").unwrap().to_string();
    let r = redeem(&t, &code, "https://localhost/myapp").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(
        b["scope"], "https://graph.microsoft.com/.default openid",
        "requested scopes minus offline_access"
    );
    assert!(b["refresh_token"].as_str().is_some());
    let id = claims(b["id_token"].as_str().unwrap());
    assert_eq!(
        (id["aud"].as_str(), id["nonce"].as_str(), id["ver"].as_str()),
        (Some(SECRET_APP_ID), Some("n-1"), Some("2.0"))
    );
    assert_eq!(id["iss"], format!("http://{HOST}/{TENANT}/v2.0"));
    let info: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b["client_info"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(info, json!({"uid": TEST_USER_OID, "utid": TENANT}));
    let at = claims(b["access_token"].as_str().unwrap());
    assert_eq!((at["upn"].as_str(), at["idtyp"].as_str()), (Some(TEST_USER_UPN), Some("user")));
    assert!(at["scp"].as_str().unwrap().contains("User.Read"));
    // Single use.
    check_aad(&redeem(&t, &code, "https://localhost/myapp").await, 400, "invalid_grant", 54005);
    // Bound to the redirect URI and the client; expires after 10 minutes.
    let (_, q) = authorize(&t, AUTH_Q, &[]).await;
    check_aad(
        &redeem(&t, get(&q, "code").unwrap(), "https://localhost/other").await,
        400,
        "invalid_request",
        50011,
    );
    let (_, q) = authorize(&t, AUTH_Q, &[]).await;
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", LIMITED_APP_ID),
                ("client_secret", LIMITED_APP_SECRET),
                ("grant_type", "authorization_code"),
                ("code", get(&q, "code").unwrap()),
            ],
        )
        .await;
    check_aad(&r, 400, "invalid_grant", 70000);
    let (_, q) = authorize(&t, AUTH_Q, &[]).await;
    t.advance(601);
    check_aad(
        &redeem(&t, get(&q, "code").unwrap(), "https://localhost/myapp").await,
        400,
        "invalid_grant",
        70008,
    );
}

#[tokio::test]
async fn reference_style_code_exchange_with_resource_and_no_scope() {
    // msapi §2.3: client_id, client_secret, resource, redirect_uri, grant_type, code; no scope.
    let t = T::new();
    let (_, q) = authorize(&t, "response_type=code&scope=offline_access%20https://management.azure.com/.default&client_id=22222222-2222-4222-8222-000000000001&redirect_uri=https://localhost/myapp", &[]).await;
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("resource", "https://management.core.windows.net"),
                ("redirect_uri", "https://localhost/myapp"),
                ("grant_type", "authorization_code"),
                ("code", get(&q, "code").unwrap()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        claims(r.json()["access_token"].as_str().unwrap())["aud"],
        "https://management.core.windows.net"
    );
    assert!(r.json()["refresh_token"].is_string());
}

#[tokio::test]
async fn pkce_for_public_clients() {
    let t = T::new();
    let verifier = "a-very-long-code-verifier-string-for-pkce-0123456789";
    let challenge = {
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    };
    let q = format!(
        "client_id={PUBLIC_APP_ID}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A53111%2F&scope=openid%20offline_access%20User.Read&code_challenge={challenge}&code_challenge_method=S256"
    );
    let (r, params) = authorize(&t, &q, &[]).await;
    assert_eq!(r.status, 302, "loopback redirects match on any port: {}", r.text);
    let code = get(&params, "code").unwrap().to_string();
    let bad = t
        .post_form(
            V2,
            &[
                ("client_id", PUBLIC_APP_ID),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", "wrong"),
            ],
        )
        .await;
    check_aad(&bad, 400, "invalid_grant", 501481);
    let (_, params) = authorize(&t, &q, &[]).await;
    let ok = t
        .post_form(
            V2,
            &[
                ("client_id", PUBLIC_APP_ID),
                ("grant_type", "authorization_code"),
                ("code", get(&params, "code").unwrap()),
                ("code_verifier", verifier),
                ("redirect_uri", "http://localhost:53111/"),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(claims(ok.json()["access_token"].as_str().unwrap())["appidacr"], "0");
}

#[tokio::test]
async fn authorize_honours_prompt_denial_and_response_modes() {
    let t = T::new();
    // prompt=none needs an earlier sign-in (the ESTSAUTH cookie).
    let (r, q) = authorize(&t, &format!("{AUTH_Q}&prompt=none"), &[]).await;
    assert_eq!(get(&q, "error"), Some("login_required"), "{}", r.header("location"));
    let (first, _) = authorize(&t, AUTH_Q, &[]).await;
    let cookie = first.header("set-cookie");
    let cookie = cookie.split(';').next().unwrap();
    let (_, q) = authorize(&t, &format!("{AUTH_Q}&prompt=none"), &[("cookie", cookie)]).await;
    assert!(get(&q, "code").is_some());
    let (_, q) = authorize(&t, &format!("{AUTH_Q}&prompt=bogus"), &[]).await;
    assert_eq!(get(&q, "error"), Some("invalid_request"));
    // The user declines: by switch or per request.
    t.st.set_user_denies(true);
    let (_, q) = authorize(&t, AUTH_Q, &[]).await;
    assert_eq!(get(&q, "error"), Some("access_denied"));
    assert!(get(&q, "error_description").unwrap().starts_with("AADSTS65004: "));
    assert_eq!(get(&q, "state"), Some("sét 1"));
    t.st.set_user_denies(false);
    let (_, q) = authorize(&t, &format!("{AUTH_Q}&emulator_decision=deny"), &[]).await;
    assert_eq!(get(&q, "error"), Some("access_denied"));
    // Fragment and form_post.
    let (r, _) = authorize(&t, &format!("{AUTH_Q}&response_mode=fragment"), &[]).await;
    assert!(r.header("location").starts_with("https://localhost/myapp#code="));
    let (r, _) = authorize(&t, &format!("{AUTH_Q}&response_mode=form_post"), &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("name=\"code\"") && r.text.contains("action=\"https://localhost/myapp\""));
    // Errors Entra shows on its own page: no redirect.
    for q in [
        "client_id=22222222-2222-4222-8222-000000000001&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2F",
        "client_id=99999999-0000-0000-0000-000000000000&response_type=code",
    ] {
        let (r, _) = authorize(&t, q, &[]).await;
        assert_eq!(r.status, 400);
        assert!(r.header("location").is_empty() && r.text.contains("AADSTS"), "{}", r.text);
    }
}

async fn code_grant(t: &T) -> Value {
    let (_, q) = authorize(t, AUTH_Q, &[]).await;
    redeem(t, get(&q, "code").unwrap(), "https://localhost/myapp").await.json()
}

async fn refresh(t: &T, rt: &str) -> Resp {
    t.post_form(
        V2,
        &[
            ("client_id", SECRET_APP_ID),
            ("client_secret", SECRET_APP_SECRET),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("scope", "https://graph.microsoft.com/.default offline_access"),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_fail_when_revoked_or_inactive() {
    let t = T::new();
    let rt = code_grant(&t).await["refresh_token"].as_str().unwrap().to_string();
    let r = refresh(&t, &rt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt, rt2, "rotation");
    assert_eq!(refresh(&t, &rt).await.status, 200, "Entra keeps the old one valid");
    // Another resource with the same refresh token (multi-resource refresh tokens).
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", SECRET_APP_ID),
                ("client_secret", SECRET_APP_SECRET),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt2),
                ("scope", "https://management.azure.com/user_impersonation"),
            ],
        )
        .await;
    assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["scp"], "user_impersonation");
    // Revoked.
    assert!(t.st.revoke_refresh_tokens(Some(TEST_USER_OID)) >= 2);
    check_aad(&refresh(&t, &rt2).await, 400, "invalid_grant", 50173);
    // Inactive for more than 90 days.
    let rt3 = code_grant(&t).await["refresh_token"].as_str().unwrap().to_string();
    t.advance(91 * 24 * 3600);
    let r = refresh(&t, &rt3).await;
    check_aad(&r, 400, "invalid_grant", 700082);
    assert_eq!(r.json()["suberror"], "bad_token");
    assert!(r.json()["error_description"].as_str().unwrap().contains("inactive for 90.00:00:00"));
}

#[tokio::test]
async fn single_use_refresh_tokens_are_a_switch() {
    let mut cfg = EmulatorConfig::default();
    cfg.behaviour.refresh_token_single_use = true;
    let t = T::with(cfg);
    let rt = code_grant(&t).await["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refresh(&t, &rt).await.status, 200);
    check_aad(&refresh(&t, &rt).await, 400, "invalid_grant", 9002313);
}

async fn start_device(t: &T, path: &str, form: &[(&str, &str)]) -> Value {
    let r = t.post_form(path, form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn device_flow_pending_slow_down_approval_and_every_spelling() {
    let t = T::new();
    let start = start_device(
        &t,
        &format!("/{TENANT}/oauth2/v2.0/devicecode"),
        &[
            ("client_id", PUBLIC_APP_ID),
            ("scope", "https://graph.microsoft.com/User.Read offline_access openid"),
        ],
    )
    .await;
    assert_eq!((start["expires_in"].clone(), start["interval"].clone()), (json!(900), json!(5)));
    assert_eq!(start["verification_uri"], "https://microsoft.com/devicelogin");
    let code = start["user_code"].as_str().unwrap();
    assert!(start["message"].as_str().unwrap().contains(code));
    assert!(start.get("verification_uri_complete").is_none());
    let dc = start["device_code"].as_str().unwrap();
    let poll = |grant: &'static str, field: &'static str| {
        let t = &t;
        async move {
            t.post_form(
                V2,
                &[("client_id", PUBLIC_APP_ID), ("grant_type", grant), (field, dc), ("client_info", "1")],
            )
            .await
        }
    };
    check_aad(
        &poll("urn:ietf:params:oauth:grant-type:device_code", "device_code").await,
        400,
        "authorization_pending",
        70016,
    );
    // Polled again at once: slow_down.
    let r = poll("device_code", "device_code").await;
    assert_eq!(r.json()["error"], "slow_down", "{}", r.text);
    t.advance(5);
    check_aad(&poll("device_code", "code").await, 400, "authorization_pending", 70016);
    // Approved through the test endpoint (with separators, as a person types it).
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let r = t.post_form("/__emulator/device/approve", &[("user_code", &typed)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    t.advance(5);
    // MSAL Python's URN plus the legacy `code` field.
    let r = poll("urn:ietf:params:oauth:grant-type:device_code", "code").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b["refresh_token"].is_string() && b["id_token"].is_string() && b["client_info"].is_string());
    assert_eq!(claims(b["access_token"].as_str().unwrap())["scp"], "User.Read");
    // Redeemed: polling again fails.
    t.advance(5);
    assert_eq!(poll("device_code", "device_code").await.json()["error"], "invalid_grant");
    // Unknown user code on the test endpoint.
    assert_eq!(t.post_form("/__emulator/device/approve", &[("user_code", "NOPE")]).await.status, 404);
}

#[tokio::test]
async fn device_flow_denial_expiry_and_v1() {
    let t = T::new();
    async fn dev(t: &T) -> Value {
        start_device(
            t,
            "/organizations/oauth2/v2.0/devicecode",
            &[
                ("client_id", SECRET_APP_ID),
                ("scope", "https://management.azure.com/user_impersonation offline_access user.read"),
            ],
        )
        .await
    }
    // The reference: organizations, client_id only, legacy `code` field, no scope on the poll.
    async fn poll(t: &T, s: &Value) -> Resp {
        t.post_form(
            "/organizations/oauth2/v2.0/token",
            &[
                ("client_id", SECRET_APP_ID),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("code", s["device_code"].as_str().unwrap()),
            ],
        )
        .await
    }
    let s = dev(&t).await;
    assert!(t.st.deny_device_code(s["user_code"].as_str().unwrap()));
    let r = poll(&t, &s).await;
    check_aad(&r, 400, "authorization_declined", 70000);
    let s = dev(&t).await;
    t.advance(901);
    let r = poll(&t, &s).await;
    check_aad(&r, 400, "expired_token", 70020);
    // Approved through the state API: the token is for ARM with the requested scope.
    let s = dev(&t).await;
    assert!(t.st.approve_device_code(s["user_code"].as_str().unwrap()));
    let r = poll(&t, &s).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = claims(r.json()["access_token"].as_str().unwrap());
    assert_eq!((c["aud"].as_str(), c["tid"].as_str()), (Some("https://management.azure.com"), Some(TENANT)));
    assert!(r.json()["refresh_token"].is_string(), "offline_access was asked for");
    // v1 devicecode: strings and verification_url.
    let s = start_device(
        &t,
        &format!("/{TENANT}/oauth2/devicecode"),
        &[("client_id", PUBLIC_APP_ID), ("resource", "https://management.core.windows.net/")],
    )
    .await;
    assert_eq!((s["expires_in"].as_str(), s["interval"].as_str()), (Some("900"), Some("5")));
    assert!(s["verification_url"].is_string());
}

#[tokio::test]
async fn device_switches_access_denied_and_70019() {
    let mut cfg = EmulatorConfig::default();
    cfg.behaviour.device_denied_error = "access_denied".into();
    cfg.behaviour.device_expired_code = 70019;
    let t = T::with(cfg);
    let s = start_device(
        &t,
        &format!("/{TENANT}/oauth2/v2.0/devicecode"),
        &[("client_id", PUBLIC_APP_ID), ("scope", "User.Read")],
    )
    .await;
    t.st.deny_device_code(s["user_code"].as_str().unwrap());
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", PUBLIC_APP_ID),
                ("grant_type", "device_code"),
                ("device_code", s["device_code"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(r.json()["error"], "access_denied");
    let s = start_device(
        &t,
        &format!("/{TENANT}/oauth2/v2.0/devicecode"),
        &[("client_id", PUBLIC_APP_ID), ("scope", "User.Read")],
    )
    .await;
    t.advance(1000);
    let r = t
        .post_form(
            V2,
            &[
                ("client_id", PUBLIC_APP_ID),
                ("grant_type", "device_code"),
                ("device_code", s["device_code"].as_str().unwrap()),
            ],
        )
        .await;
    check_aad(&r, 400, "expired_token", 70019);
}

#[tokio::test]
async fn discovery_documents() {
    let t = T::new();
    let d =
        t.get(HOST, &format!("/{DEFAULT_TENANT_DOMAIN}/v2.0/.well-known/openid-configuration"), &[]).await;
    assert_eq!(d.header("cache-control"), "max-age=86400, private");
    let d = d.json();
    assert_eq!(
        d["token_endpoint"],
        format!("http://{HOST}/{TENANT}/oauth2/v2.0/token"),
        "tenant GUID even when asked by domain"
    );
    assert_eq!(d["issuer"], format!("http://{HOST}/{TENANT}/v2.0"));
    for k in ["authorization_endpoint", "jwks_uri", "device_authorization_endpoint"] {
        assert!(d[k].as_str().unwrap().contains(TENANT), "{k}");
    }
    let common = t.get(HOST, "/organizations/v2.0/.well-known/openid-configuration", &[]).await.json();
    assert_eq!(common["issuer"], format!("http://{HOST}/{{tenantid}}/v2.0"));
    assert_eq!(common["token_endpoint"], format!("http://{HOST}/{{tenant}}/oauth2/v2.0/token"));
    let us = t
        .get("login.microsoftonline.us", &format!("/{TENANT}/v2.0/.well-known/openid-configuration"), &[])
        .await
        .json();
    assert_eq!(us["msgraph_host"], "graph.microsoft.us");
    let v1 = t.get(HOST, &format!("/{TENANT}/.well-known/openid-configuration"), &[]).await.json();
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{TENANT}/"));
    let bad = t.get(HOST, "/nope.example/v2.0/.well-known/openid-configuration", &[]).await;
    check_aad(&bad, 400, "invalid_tenant", 90002);
    // Instance discovery, MSAL Python (1.0, which drops the port) and msal-js (1.1): the tenant
    // discovery URL points back at the address the request came to.
    for (v, host) in [("1.0", "127.0.0.1"), ("1.1", HOST)] {
        let r = t
            .get(HOST, &format!("/common/discovery/instance?api-version={v}&authorization_endpoint=https://{host}/{TENANT}/oauth2/v2.0/authorize"), &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let b = r.json();
        assert_eq!(b["api-version"], v);
        assert_eq!(
            b["tenant_discovery_endpoint"],
            format!("http://{HOST}/{TENANT}/v2.0/.well-known/openid-configuration")
        );
        assert!(
            b["metadata"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["aliases"].as_array().unwrap().contains(&json!(HOST)))
        );
    }
    // A sovereign login host keeps its own name.
    let r = t.get(HOST, &format!("/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/authorize"), &[]).await;
    assert_eq!(
        r.json()["tenant_discovery_endpoint"],
        format!("https://login.microsoftonline.us/{TENANT}/v2.0/.well-known/openid-configuration")
    );
    let r = t.get(HOST, "/common/discovery/instance?api-version=1.1&authorization_endpoint=https://evil.example/t/oauth2/v2.0/authorize", &[]).await;
    assert_eq!(r.json()["error"], "invalid_instance");
    let jwks = t.get(HOST, "/common/discovery/keys", &[]).await.json();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0].get("alg").is_none());
}
