//! Two users of one app registration through one `--serve` process (the real binary against
//! the emulator), in the authorization-code flow: each instance sends its own code and an empty
//! context, as after a first sign-in or `auth-reset`. Each must have its own code redeemed and
//! get back a context holding its own user's tokens, one after the other and at the same time.

// Test helpers outside #[test] fns are test code too (clippy.toml allows unwrap in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::{Value, json};
use soar_auth::http::{HttpConfig, HttpRequest, ReqwestTransport, Transport, parse_host_map};
use soar_emulator::config::{self as ec, UserConfig};
use soar_emulator::{Emulator, EmulatorConfig};

const BIN: &str = env!("CARGO_BIN_EXE_msgraph-user");
const REDIRECT_URI: &str = "https://localhost/myapp";
const BOB_UPN: &str = "bob@soaremulator.onmicrosoft.com";
const BOB_OID: &str = "33333333-3333-4333-8333-0000000000b0";

/// A JWT's claims.
fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `upn` signs in at the emulator's /authorize for the secret app; the code from the redirect.
async fn sign_in(e: &Emulator, upn: &str) -> String {
    let cfg = HttpConfig {
        host_map: parse_host_map(&e.host_map()).unwrap(),
        extra_ca_pem: Some(std::fs::read(e.ca_pem_path()).unwrap()),
        ..HttpConfig::default()
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", ec::SECRET_APP_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "https://graph.microsoft.com/.default offline_access")
        .append_pair("login_hint", upn)
        .finish();
    let url =
        format!("https://login.microsoftonline.com/{}/oauth2/v2.0/authorize?{query}", ec::DEFAULT_TENANT_ID);
    let resp = ReqwestTransport::new(cfg).send(HttpRequest::new(http::Method::GET, url)).await.unwrap();
    let location = url::Url::parse(resp.header("location").expect("/authorize redirects")).unwrap();
    location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap()
}

fn params(code: &str) -> Value {
    json!({
        "self_deployed": true,
        "creds_auth_id": {"identifier": "", "password": ec::SECRET_APP_ID},
        "creds_tenant_id": {"identifier": "", "password": ec::DEFAULT_TENANT_ID},
        "creds_enc_key": {"identifier": "", "password": ec::SECRET_APP_SECRET},
        "redirect_uri": REDIRECT_URI,
        "creds_auth_code": {"identifier": "", "password": code},
    })
}

/// One request line for `code` with an empty context (`id` when given: concurrent).
fn request(code: &str, id: Option<u64>) -> Value {
    let mut r = json!({
        "command": "msgraph-user-get",
        "args": {"user": ec::TEST_USER_UPN, "properties": "displayName"},
        "params": params(code),
        "integration_context": {},
    });
    if let Some(id) = id {
        r["id"] = json!(id);
    }
    r
}

/// The user (object id) of the access token a response's context holds, and its refresh token.
fn user_and_refresh(response: &Value) -> (String, String) {
    let entry = &response["entries"][0];
    assert_eq!(entry["Type"], 1, "an error answer: {}", entry["Contents"]);
    let ctx = &response["integration_context"];
    let token = ctx["access_token"].as_str().expect("the context holds an access token");
    let refresh = ctx["current_refresh_token"].as_str().unwrap_or_default().to_owned();
    (claims(token)["oid"].as_str().unwrap_or_default().to_owned(), refresh)
}

#[test]
fn two_users_in_one_serve_process_keep_their_own_tokens() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut cfg = EmulatorConfig::default();
    cfg.users.push(UserConfig {
        upn: BOB_UPN.into(),
        object_id: BOB_OID.into(),
        display_name: "Bob Emulator".into(),
        ..UserConfig::default()
    });
    let e = rt.block_on(Emulator::start(cfg)).unwrap();
    let codes: Vec<String> = [ec::TEST_USER_UPN, BOB_UPN, ec::TEST_USER_UPN, BOB_UPN]
        .iter()
        .map(|upn| rt.block_on(sign_in(&e, upn)))
        .collect();

    let mut child = Command::new(BIN)
        .arg("--serve")
        .env("SOAR_HOST_MAP", e.host_map())
        .env("SOAR_EXTRA_CA", e.ca_pem_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let before = e.request_log().entries().len();
    let mut stdin = child.stdin.take().unwrap();
    // One after the other (no ids: the second starts after the first is answered), then both
    // at the same time (ids).
    for line in [
        request(&codes[0], None),
        request(&codes[1], None),
        request(&codes[2], Some(1)),
        request(&codes[3], Some(2)),
    ] {
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let responses: Vec<Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(child.wait().unwrap().success());
    assert_eq!(responses.len(), 4);

    let grants: Vec<String> =
        e.request_log().entries()[before..].iter().filter_map(|l| l.grant_type.clone()).collect();
    assert_eq!(grants, vec!["authorization_code"; 4], "every user's own code is redeemed");

    let ordered: Vec<&Value> = responses.iter().filter(|r| r["id"].is_null()).collect();
    let by_id = |id: u64| responses.iter().find(|r| r["id"] == json!(id)).unwrap();
    let pairs = [("one after the other", ordered[0], ordered[1]), ("at the same time", by_id(1), by_id(2))];
    let mut refresh_tokens = Vec::new();
    for (what, alice, bob) in pairs {
        let (a_user, a_rt) = user_and_refresh(alice);
        let (b_user, b_rt) = user_and_refresh(bob);
        assert_eq!(a_user, ec::TEST_USER_OID, "{what}: Alice's context holds Alice's token");
        assert_eq!(b_user, BOB_OID, "{what}: Bob's context holds Bob's token");
        refresh_tokens.extend([a_rt, b_rt]);
    }
    let distinct: std::collections::BTreeSet<&String> = refresh_tokens.iter().collect();
    assert!(refresh_tokens.iter().all(|r| !r.is_empty()), "every context got a refresh token");
    assert_eq!(distinct.len(), 4, "no context received another's refresh token");
}
