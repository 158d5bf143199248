//! Two users of one app registration through one process (one `Shared`, as in `--serve`), for
//! every delegated flow: authorization code (with and without PKCE), refresh token (in the
//! context, and pasted as `refresh_token:<rt>`), device code. Each context must end up with its
//! own user's tokens, and the token endpoint must see one grant per user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{claims, config, creds, p};

use std::sync::Arc;

use serde_json::{Value, json};
use soar_auth::http::{HttpConfig, HttpRequest, ReqwestTransport, Transport};
use soar_auth::{ApiKind, AuthFlow, AuthSpec, IntegrationContext, MsClient, Shared};
use soar_emulator::config::{self as ec, UserConfig};
use soar_emulator::{Emulator, EmulatorConfig};
use soar_protocol::Params;

static SPEC: AuthSpec = AuthSpec { prefix: "two-users", flows: &AuthFlow::ALL, ..AuthSpec::DEFAULT };

const BOB_UPN: &str = "bob@soaremulator.onmicrosoft.com";
const BOB_OID: &str = "33333333-3333-4333-8333-0000000000b0";

/// The emulator with a second user, Bob, beside Alice.
async fn emulator() -> Emulator {
    let mut cfg = EmulatorConfig::default();
    cfg.users.push(UserConfig {
        upn: BOB_UPN.into(),
        object_id: BOB_OID.into(),
        display_name: "Bob Emulator".into(),
        given_name: "Bob".into(),
        family_name: "Emulator".into(),
        ..UserConfig::default()
    });
    Emulator::start(cfg).await.unwrap()
}

/// The grant types the token endpoint saw since `before`.
fn grants_since(e: &Emulator, before: usize) -> Vec<String> {
    e.request_log().entries()[before..].iter().filter_map(|l| l.grant_type.clone()).collect()
}

/// The object id of the user a context's access token was issued to.
fn user_of(ctx: &IntegrationContext) -> String {
    let token = ctx.get("access_token").and_then(Value::as_str).expect("an access token in the context");
    claims(token)["oid"].as_str().unwrap_or_default().to_owned()
}

fn refresh_of(ctx: &IntegrationContext) -> String {
    ctx.get("current_refresh_token").and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn auth_code_params() -> Params {
    let mut ap = p(&[
        ("tenant_id", ec::DEFAULT_TENANT_ID),
        ("self_deployed", "true"),
        ("auth_type", "Authorization Code"),
        ("redirect_uri", "https://localhost/myapp"),
    ]);
    creds(&mut ap, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
    ap
}

/// A headless sign-in of `upn` at the login URL; the code from the redirect.
async fn sign_in(cfg: &HttpConfig, url: &str, upn: &str) -> String {
    let t = ReqwestTransport::new(cfg.clone());
    let url = format!("{url}&login_hint={upn}");
    let resp = t.send(HttpRequest::new(http::Method::GET, url)).await.unwrap();
    let loc = resp.header("location").expect("/authorize redirects");
    let u = url::Url::parse(loc).unwrap();
    u.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap()
}

/// One user's instance of the authorization-code flow, signed in: its params (with its own
/// code) and its context (with the PKCE verifier when `pkce`).
async fn signed_in(
    shared: &Arc<Shared>,
    cfg: &HttpConfig,
    upn: &str,
    pkce: bool,
) -> (Params, IntegrationContext) {
    let mut params = auth_code_params();
    let mut ctx = IntegrationContext::default();
    let url =
        MsClient::from_params(&SPEC, &params, shared.clone()).unwrap().login_url(&mut ctx, pkce).unwrap();
    let code = sign_in(cfg, &url, upn).await;
    creds(&mut params, "auth_code", "", &code);
    (params, ctx)
}

/// Gets a Graph token for both (params, context) pairs through `shared`, first one after the
/// other, then checks: `want_grants` at the token endpoint, Alice's context holds Alice's
/// tokens and Bob's Bob's, and the two refresh tokens differ.
async fn both(
    e: &Emulator,
    shared: &Arc<Shared>,
    what: &str,
    alice: (&Params, &mut IntegrationContext),
    bob: (&Params, &mut IntegrationContext),
    want_grant: &str,
) {
    let before = e.request_log().entries().len();
    for (params, ctx) in [(alice.0, &mut *alice.1), (bob.0, &mut *bob.1)] {
        let client = MsClient::from_params(&SPEC, params, shared.clone()).unwrap();
        client.token(ctx, ApiKind::Graph).await.unwrap_or_else(|x| panic!("{what}: {x}"));
    }
    assert_eq!(grants_since(e, before), vec![want_grant, want_grant], "{what}: one grant per user");
    assert_eq!(user_of(alice.1), ec::TEST_USER_OID, "{what}: Alice's context holds Alice's token");
    assert_eq!(user_of(bob.1), BOB_OID, "{what}: Bob's context holds Bob's token");
    assert_ne!(alice.1.get("access_token"), bob.1.get("access_token"), "{what}");
    let (ra, rb) = (refresh_of(alice.1), refresh_of(bob.1));
    assert!(!ra.is_empty() && !rb.is_empty(), "{what}: both got a refresh token");
    assert_ne!(ra, rb, "{what}: each context holds its own refresh token");
}

/// A context with only `rt` as the refresh token (the access token is gone).
fn only_refresh(rt: &str) -> IntegrationContext {
    let mut ctx = IntegrationContext::default();
    ctx.set("current_refresh_token", json!(rt));
    ctx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_of_the_authorization_code_flow_in_one_process() {
    let e = emulator().await;
    let cfg = config(&e);
    for pkce in [true, false] {
        let shared = Shared::with_config(cfg.clone());
        let (ap, mut actx) = signed_in(&shared, &cfg, ec::TEST_USER_UPN, pkce).await;
        let (bp, mut bctx) = signed_in(&shared, &cfg, BOB_UPN, pkce).await;
        let what = format!("authorization code (pkce {pkce})");
        both(&e, &shared, &what, (&ap, &mut actx), (&bp, &mut bctx), "authorization_code").await;

        // The refresh tokens each context now holds, redeemed through the same process: each
        // gives its own user's token again.
        let (ra, rb) = (refresh_of(&actx), refresh_of(&bctx));
        let (mut a2, mut b2) = (only_refresh(&ra), only_refresh(&rb));
        let what = format!("refresh token in the context (pkce {pkce})");
        both(&e, &shared, &what, (&ap, &mut a2), (&bp, &mut b2), "refresh_token").await;

        // Pasted as `refresh_token:<rt>` into the code param, with empty contexts.
        let mut ap2 = auth_code_params();
        creds(&mut ap2, "auth_code", "", &format!("refresh_token:{}", refresh_of(&a2)));
        let mut bp2 = auth_code_params();
        creds(&mut bp2, "auth_code", "", &format!("refresh_token:{}", refresh_of(&b2)));
        let (mut a3, mut b3) = (IntegrationContext::default(), IntegrationContext::default());
        let what = format!("refresh_token: code param (pkce {pkce})");
        both(&e, &shared, &what, (&ap2, &mut a3), (&bp2, &mut b3), "refresh_token").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_of_the_authorization_code_flow_at_the_same_time() {
    // Concurrently: both requests are in flight together on one cold table.
    let e = emulator().await;
    let cfg = config(&e);
    let shared = Shared::with_config(cfg.clone());
    let (ap, actx) = signed_in(&shared, &cfg, ec::TEST_USER_UPN, false).await;
    let (bp, bctx) = signed_in(&shared, &cfg, BOB_UPN, false).await;
    let before = e.request_log().entries().len();
    let run = |params: Params, mut ctx: IntegrationContext| {
        let shared = shared.clone();
        tokio::spawn(async move {
            let client = MsClient::from_params(&SPEC, &params, shared).unwrap();
            client.token(&mut ctx, ApiKind::Graph).await.unwrap();
            ctx
        })
    };
    let (a, b) = (run(ap, actx), run(bp, bctx));
    let (actx, bctx) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(grants_since(&e, before), vec!["authorization_code", "authorization_code"]);
    assert_eq!(user_of(&actx), ec::TEST_USER_OID);
    assert_eq!(user_of(&bctx), BOB_OID);
    assert_ne!(refresh_of(&actx), refresh_of(&bctx));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_of_the_device_code_flow_in_one_process() {
    let e = emulator().await;
    let shared = Shared::with_config(config(&e));
    let dp = p(&[
        ("tenant_id", ec::DEFAULT_TENANT_ID),
        ("auth_id", ec::PUBLIC_APP_ID),
        ("auth_type", "Device Code"),
    ]);
    let client = MsClient::from_params(&SPEC, &dp, shared.clone()).unwrap();
    let (mut actx, mut bctx) = (IntegrationContext::default(), IntegrationContext::default());
    let sa = client.device_start(&mut actx).await.unwrap();
    let sb = client.device_start(&mut bctx).await.unwrap();
    assert!(e.approve_device_code_as(&sa.user_code, ec::TEST_USER_UPN));
    assert!(e.approve_device_code_as(&sb.user_code, BOB_UPN));
    // `token()` on a context holding only the device code redeems it (through the table).
    both(
        &e,
        &shared,
        "device code",
        (&dp, &mut actx),
        (&dp, &mut bctx),
        "urn:ietf:params:oauth:grant-type:device_code",
    )
    .await;
    // Then each user's refresh token, with the access tokens gone.
    let (mut a2, mut b2) = (only_refresh(&refresh_of(&actx)), only_refresh(&refresh_of(&bctx)));
    both(&e, &shared, "device code refresh", (&dp, &mut a2), (&dp, &mut b2), "refresh_token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_many_requests_still_share_one_redemption() {
    // The single flight still works for one grant: 20 concurrent cold requests presenting the
    // same code make one token request, and all get that user's token.
    let e = emulator().await;
    let cfg = config(&e);
    let shared = Shared::with_config(cfg.clone());
    let (ap, _) = signed_in(&shared, &cfg, BOB_UPN, false).await;
    let before = e.request_log().entries().len();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (shared, ap) = (shared.clone(), ap.clone());
        tasks.push(tokio::spawn(async move {
            let mut ctx = IntegrationContext::default();
            MsClient::from_params(&SPEC, &ap, shared).unwrap().token(&mut ctx, ApiKind::Graph).await.unwrap();
            ctx
        }));
    }
    for t in tasks {
        assert_eq!(user_of(&t.await.unwrap()), BOB_OID);
    }
    assert_eq!(grants_since(&e, before), vec!["authorization_code"]);
}
