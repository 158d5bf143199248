//! IMDS, the App Service endpoint and the OAuth proxy, in-process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::json;
use soar_emulator::config::*;
use soar_emulator::oproxy::encrypt;

const IMDS: &str =
    "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F";

#[tokio::test]
async fn imds_issues_string_typed_tokens_for_each_identity_selector() {
    let t = T::new();
    let r = t.get("169.254.169.254", IMDS, &[("metadata", "true")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    for k in ["expires_in", "expires_on", "ext_expires_in", "not_before"] {
        assert!(b[k].is_string(), "{k} is a string: {}", r.text);
    }
    assert_eq!(b["expires_in"], "86399");
    assert_eq!(b["resource"], "https://management.azure.com/");
    assert_eq!(b["client_id"], SYSTEM_MI_CLIENT_ID);
    let c = claims(b["access_token"].as_str().unwrap());
    assert_eq!(
        (c["aud"].as_str(), c["appid"].as_str()),
        (Some("https://management.azure.com/"), Some(SYSTEM_MI_CLIENT_ID))
    );
    assert!(c["xms_mirid"].as_str().unwrap().contains("virtualMachines"));
    // msal-node adds a trailing slash to the path.
    let slash = IMDS.replace("token?", "token/?");
    assert_eq!(t.get("169.254.169.254", &slash, &[("metadata", "true")]).await.status, 200);
    // The reference sends `Metadata: True`.
    assert_eq!(t.get("169.254.169.254", IMDS, &[("metadata", "True")]).await.status, 200);
    let res_id = url::form_urlencoded::byte_serialize(USER_MI_RESOURCE_ID.as_bytes()).collect::<String>();
    for selector in [
        format!("client_id={USER_MI_CLIENT_ID}"),
        format!("object_id={USER_MI_OBJECT_ID}"),
        format!("msi_res_id={res_id}"),
        format!("mi_res_id={res_id}"),
    ] {
        let r = t.get("169.254.169.254", &format!("{IMDS}&{selector}"), &[("metadata", "true")]).await;
        assert_eq!(r.json()["client_id"], USER_MI_CLIENT_ID, "{selector}: {}", r.text);
    }
    // Graph roles for the identity, and a sovereign resource gets its cloud's issuer.
    let r = t
        .get(
            "169.254.169.254",
            "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://graph.microsoft.com/",
            &[("metadata", "true")],
        )
        .await;
    assert!(
        claims(r.json()["access_token"].as_str().unwrap())["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("User.Read.All"))
    );
    let r = t.get("169.254.169.254", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.chinacloudapi.cn", &[("metadata", "true")]).await;
    assert!(
        claims(r.json()["access_token"].as_str().unwrap())["iss"]
            .as_str()
            .unwrap()
            .starts_with("https://sts.chinacloudapi.cn/")
    );
}

#[tokio::test]
async fn imds_errors() {
    let t = T::new();
    let cases: Vec<(String, Vec<(&str, &str)>, &str, &str)> = vec![
        (IMDS.into(), vec![], "invalid_request", "Required metadata header not specified"),
        (
            IMDS.into(),
            vec![("metadata", "false")],
            "invalid_request",
            "Required metadata header not specified",
        ),
        (
            "/metadata/identity/oauth2/token?resource=x".into(),
            vec![("metadata", "true")],
            "invalid_request",
            "Required query variable 'api-version' is missing",
        ),
        (
            "/metadata/identity/oauth2/token?api-version=2018-02-01".into(),
            vec![("metadata", "true")],
            "invalid_request",
            "Required query variable 'resource' is missing",
        ),
        (
            format!("{IMDS}&client_id=00000000-0000-0000-0000-00000000dead"),
            vec![("metadata", "true")],
            "invalid_request",
            "Identity not found",
        ),
    ];
    for (path, headers, error, desc) in cases {
        let r = t.get("169.254.169.254", &path, &headers).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json(), json!({"error": error, "error_description": desc}), "{path}");
    }
    // An unknown resource passes Entra's error through.
    let r = t
        .get(
            "169.254.169.254",
            "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://nothing.example",
            &[("metadata", "true")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.json()["error"].as_str()), (400, Some("invalid_resource")));
    assert!(r.json()["error_description"].as_str().unwrap().starts_with("AADSTS500011: "));
}

#[tokio::test]
async fn app_service_endpoint() {
    let t = T::new();
    let path = "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net";
    let r = t.get(HOST, path, &[("x-identity-header", APP_SERVICE_IDENTITY_HEADER)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b.get("expires_in").is_none(), "App Service sends expires_on only");
    assert!(b["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(
        (b["resource"].as_str(), b["token_type"].as_str()),
        (Some("https://vault.azure.net"), Some("Bearer"))
    );
    let r = t
        .get(
            HOST,
            &format!("{path}&client_id={USER_MI_CLIENT_ID}"),
            &[("x-identity-header", APP_SERVICE_IDENTITY_HEADER)],
        )
        .await;
    assert_eq!(r.json()["client_id"], USER_MI_CLIENT_ID);
    for headers in [vec![], vec![("x-identity-header", "wrong")]] {
        let r = t.get(HOST, path, &headers).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["statusCode"], 401);
        assert!(r.json()["message"].is_string() && r.json()["correlationId"].is_string());
    }
}

fn key() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(PROXY_KEY_B64).unwrap()
}

fn proxy_body(token_plain: &str, resource: &str, scope: Option<&str>) -> serde_json::Value {
    json!({
        "app_name": "ms-graph-mail-listener",
        "registration_id": PROXY_REGISTRATION_ID,
        "encrypted_token": encrypt(&key(), token_plain.as_bytes()).unwrap(),
        "scope": scope,
        "resource": resource,
    })
}

#[tokio::test]
async fn oauth_proxy_exchanges_the_registration_token_then_refresh_tokens() {
    let t = T::new();
    let now = START_MS / 1000;
    let r = t.post_json("/obtain-token", &proxy_body(&format!("{now}:{PROXY_TOKEN}"), "", None)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.header("function-execution-id").is_empty());
    let b = r.json();
    assert_eq!(b["expires_in"], 3599);
    assert_eq!(claims(b["access_token"].as_str().unwrap())["aud"], "https://graph.microsoft.com");
    let rt = b["refresh_token"].as_str().unwrap().to_string();
    // The refresh token it handed out works next time; `resource` and `scope` pick the audience.
    let r = t
        .post_json(
            "/obtain-token",
            &proxy_body(&format!("{now}:{rt}"), "https://management.azure.com/", None),
        )
        .await;
    assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["aud"], "https://management.azure.com/");
    let r = t
        .post_json(
            "/obtain-token",
            &proxy_body(&format!("{now}:{rt}"), "", Some("https://api.securitycenter.windows.com/.default")),
        )
        .await;
    assert_eq!(
        claims(r.json()["access_token"].as_str().unwrap())["aud"],
        "https://api.securitycenter.windows.com"
    );
    // AES-128 keys work too.
    let mut cfg = EmulatorConfig::default();
    cfg.proxy_registrations[0].key_b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
    let t2 = T::with(cfg);
    let body = json!({"app_name":"x","registration_id":PROXY_REGISTRATION_ID,"encrypted_token":encrypt(&[7u8;16], format!("{now}:{PROXY_TOKEN}").as_bytes()).unwrap(),"scope":null,"resource":""});
    assert_eq!(t2.post_json("/obtain-token", &body).await.status, 200);
}

#[tokio::test]
async fn oauth_proxy_errors() {
    let t = T::new();
    let now = START_MS / 1000;
    // Stale timestamp, wrong key, unknown registration, malformed body.
    let r =
        t.post_json("/obtain-token", &proxy_body(&format!("{}:{PROXY_TOKEN}", now - 3600), "", None)).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["detail"].as_str().unwrap().contains("stale"));
    let mut body = proxy_body(&format!("{now}:{PROXY_TOKEN}"), "", None);
    body["encrypted_token"] = json!(encrypt(&[1u8; 32], format!("{now}:{PROXY_TOKEN}").as_bytes()).unwrap());
    let r = t.post_json("/obtain-token", &body).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["detail"].as_str().unwrap().contains("Key"));
    body["registration_id"] = json!("nope");
    assert_eq!(t.post_json("/obtain-token", &body).await.status, 403);
    assert_eq!(t.post_json("/obtain-token", &json!({"app_name": "x"})).await.status, 400);
    // A revoked proxy refresh token: the AADSTS body inside the text, as the real proxy reports it.
    let r = t.post_json("/obtain-token", &proxy_body(&format!("{now}:{PROXY_TOKEN}"), "", None)).await;
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    t.st.revoke_refresh_tokens(None);
    let r = t.post_json("/obtain-token", &proxy_body(&format!("{now}:{rt}"), "", None)).await;
    assert_eq!(r.status, 401);
    assert!(
        r.text.starts_with("Error: failed to get access token with err: {\"error\":\"invalid_grant\""),
        "{}",
        r.text
    );
    assert!(r.text.contains("AADSTS50173"));
    // An unknown token.
    let r = t.post_json("/obtain-token", &proxy_body(&format!("{now}:not-a-token"), "", None)).await;
    assert_eq!(r.status, 401);
}
