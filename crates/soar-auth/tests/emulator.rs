//! Every flow x every cloud against the emulator, with the clouds' real host names mapped to it
//! (SOAR_HOST_MAP-style) and its test CA trusted, so a wrong host, audience or form field fails.
//! The emulator is used as a black box over HTTP; only its handle (start, host map, CA, request
//! log, device approval) and its documented built-in registrations are used.

// Test helpers outside #[test] fns are test code too (clippy.toml allows unwrap in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{claims, config, creds, p};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use soar_auth::http::{HttpConfig, HttpRequest, ReqwestTransport, Transport};
use soar_auth::testing::FakeTime;
use soar_auth::{
    ApiKind, AuthFlow, AuthSpec, CloudEndpoints, IntegrationContext, MsClient, ParamNames, Shared,
};
use soar_emulator::config as ec;
use soar_emulator::{Emulator, EmulatorConfig};
use soar_protocol::{ParamValue, Params, Secret};

static SPEC: AuthSpec = AuthSpec {
    prefix: "emu-test",
    oproxy_app_name: "ms-graph-user",
    flows: &AuthFlow::ALL,
    ..AuthSpec::DEFAULT
};

/// (azure_cloud, extra params): the six named clouds and a custom one (worldwide login and
/// Graph, the US Government ARM host as its server URL).
const CLOUDS: [(&str, &[(&str, &str)]); 7] = [
    ("Worldwide", &[]),
    ("US GCC", &[]),
    ("US GCC-High", &[]),
    ("DoD", &[]),
    ("Germany", &[]),
    ("China", &[]),
    ("Custom", &[("server_url", "https://management.usgovcloudapi.net")]),
];

fn trim(s: &str) -> &str {
    s.trim_end_matches('/')
}

/// Gets a Graph and an ARM token and checks audience, tenant and where the request went.
async fn check_tokens(
    e: &Emulator,
    shared: &Arc<Shared>,
    params: &Params,
    ctx: &mut IntegrationContext,
    what: &str,
) -> Result<(), String> {
    let client = MsClient::from_params(&SPEC, params, shared.clone()).map_err(|x| format!("{what}: {x}"))?;
    // What the params select, independently of the client: a named cloud's table row, or the
    // custom URLs.
    let ep = CloudEndpoints::from_params(params, &ParamNames::DEFAULT, false).map_err(|x| x.to_string())?;
    let mut requests = 0;
    for api in [ApiKind::Graph, ApiKind::Arm] {
        let before = e.request_log().entries().len();
        let token = client.token(ctx, api).await.map_err(|x| format!("{what} {api:?}: {x}"))?;
        let c = claims(token.expose());
        let want_aud = if api == ApiKind::Graph { ep.graph.clone() } else { ep.arm.clone() };
        if trim(c["aud"].as_str().unwrap_or("")) != want_aud {
            return Err(format!("{what} {api:?}: aud {} != {want_aud}", c["aud"]));
        }
        if c["tid"] != ec::DEFAULT_TENANT_ID {
            return Err(format!("{what} {api:?}: tid {}", c["tid"]));
        }
        // Any request went to this cloud's login host (or IMDS / the proxy on loopback).
        let hosts: Vec<String> = e.request_log().entries()[before..].iter().map(|l| l.host.clone()).collect();
        let login_host = ep.login.trim_start_matches("https://").to_owned();
        let ok_host = |h: &String| {
            h.starts_with(&login_host) || h.starts_with("169.254.169.254") || h.starts_with("127.0.0.1")
        };
        if !hosts.iter().all(ok_host) {
            return Err(format!("{what} {api:?}: requests went to {hosts:?}, expected {login_host}"));
        }
        requests += hosts.len();
    }
    // The ARM token at least was not cached anywhere: something was asked.
    if requests == 0 {
        return Err(format!("{what}: no request reached the emulator"));
    }
    Ok(())
}

fn base(cloud_name: &str) -> Params {
    p(&[("azure_cloud", cloud_name), ("tenant_id", ec::DEFAULT_TENANT_ID), ("self_deployed", "true")])
}

/// Adds the cloud's extra params (custom URLs) to `params`.
fn plus(mut params: Params, extra: &[(&str, &str)]) -> Params {
    for (k, v) in extra {
        params.0.insert((*k).into(), ParamValue::Str((*v).into()));
    }
    params
}

/// The token from a headless sign-in: follow the login URL to the redirect and take `code`.
async fn sign_in(cfg: &HttpConfig, url: &str) -> String {
    let t = ReqwestTransport::new(cfg.clone());
    let resp = t.send(HttpRequest::new(http::Method::GET, url)).await.unwrap();
    let loc = resp
        .header("location")
        .unwrap_or_else(|| panic!("no redirect: {} {}", resp.status, String::from_utf8_lossy(&resp.body)));
    let u = url::Url::parse(loc).unwrap();
    assert!(
        u.query_pairs().any(|(k, _)| k == "session_state"),
        "the emulator sends session_state like Entra"
    );
    u.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_on_every_cloud() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cfg = config(&e);
    let shared = Shared::with_config(cfg.clone());
    let cert = e.cert_files().iter().find(|c| c.client_id == ec::CERT_APP_ID).unwrap().clone();
    let key_pem = std::fs::read_to_string(&cert.key).unwrap();
    let cert_pem = std::fs::read_to_string(&cert.cert).unwrap();
    let mut failures = Vec::new();
    let mut passed = 0;
    for (name, extra) in CLOUDS {
        let mut cases: Vec<(String, Params, IntegrationContext)> = Vec::new();
        // Client secret.
        let mut sp = base(name);
        creds(&mut sp, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
        cases.push(("client secret".into(), sp, IntegrationContext::default()));
        // Client certificate: thumbprint with colons, PEM key; with and without the certificate.
        let colons = cert
            .thumbprint
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        let mut cp = base(name);
        cp.0.insert("auth_id".into(), ParamValue::Str(ec::CERT_APP_ID.into()));
        creds(&mut cp, "creds_certificate", &colons, &key_pem);
        cases.push(("client certificate (x5t)".into(), cp.clone(), IntegrationContext::default()));
        cp.0.insert("certificate".into(), ParamValue::Str(cert_pem.clone()));
        cases.push(("client certificate (x5t#S256)".into(), cp, IntegrationContext::default()));
        // Managed identities: system- and user-assigned through IMDS (169.254.169.254 is mapped).
        let mp = p(&[("azure_cloud", name), ("use_managed_identities", "true")]);
        cases.push(("managed identity (system)".into(), mp.clone(), IntegrationContext::default()));
        let mut up = mp.clone();
        creds(&mut up, "managed_identities_client_id", "", ec::USER_MI_CLIENT_ID);
        cases.push(("managed identity (user)".into(), up, IntegrationContext::default()));
        // Cortex application through the OAuth proxy.
        let op = p(&[
            ("azure_cloud", name),
            ("auth_id", ec::PROXY_REGISTRATION_ID),
            ("tenant_id", ec::PROXY_TOKEN),
            ("enc_key", ec::PROXY_KEY_B64),
        ]);
        cases.push(("cortex app (oproxy)".into(), op, IntegrationContext::default()));

        // Authorization code: login URL -> headless sign-in -> code exchange -> refresh.
        let mut ap = base(name);
        ap.0.insert("auth_type".into(), ParamValue::Str("Authorization Code".into()));
        ap.0.insert("redirect_uri".into(), ParamValue::Str("https://localhost/myapp".into()));
        creds(&mut ap, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
        let c0 = MsClient::from_params(&SPEC, &plus(ap.clone(), extra), shared.clone()).unwrap();
        let mut actx = IntegrationContext::default();
        let url = c0.login_url(&mut actx, true).unwrap();
        let code = sign_in(&cfg, &url).await;
        creds(&mut ap, "auth_code", "", &code);
        cases.push(("authorization code".into(), ap, actx));

        // Device code: start, approve as the test user, complete (first poll succeeds).
        let dp = p(&[
            ("azure_cloud", name),
            ("tenant_id", ec::DEFAULT_TENANT_ID),
            ("auth_id", ec::PUBLIC_APP_ID),
            ("auth_type", "Device Code"),
        ]);
        let dclient = MsClient::from_params(&SPEC, &plus(dp.clone(), extra), shared.clone()).unwrap();
        let mut dctx = IntegrationContext::default();
        match dclient.device_start(&mut dctx).await {
            Ok(s) => {
                assert!(e.approve_device_code(&s.user_code), "approve {}", s.user_code);
                match dclient.device_complete(&mut dctx, Duration::from_secs(30)).await {
                    Ok(()) => cases.push(("device code".into(), dp, dctx)),
                    Err(x) => failures.push(format!("{name} device code complete: {x}")),
                }
            }
            Err(x) => failures.push(format!("{name} device code start: {x}")),
        }

        for (what, params, mut ctx) in cases {
            let params = plus(params, extra);
            let label = format!("{name} / {what}");
            // A fresh process-wide cache per case, so each case asks the emulator itself.
            let fresh = Shared::with_config(cfg.clone());
            match check_tokens(&e, &fresh, &params, &mut ctx, &label).await {
                Ok(()) => passed += 1,
                Err(x) => failures.push(x),
            }
        }
    }
    eprintln!("every_flow_on_every_cloud: {passed} passed, {} failed", failures.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_are_used_after_expiry() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cfg = config(&e);
    let time = FakeTime::at(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64(),
    );
    let shared = Shared::with_parts(
        Arc::new(ReqwestTransport::new(cfg.clone())),
        time.clone(),
        time.clone(),
        cfg.clone(),
    );
    let mut ap = base("Worldwide");
    ap.0.insert("auth_type".into(), ParamValue::Str("Authorization Code".into()));
    ap.0.insert("redirect_uri".into(), ParamValue::Str("https://localhost/myapp".into()));
    creds(&mut ap, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
    let mut ctx = IntegrationContext::default();
    let url = MsClient::from_params(&SPEC, &ap, shared.clone()).unwrap().login_url(&mut ctx, false).unwrap();
    creds(&mut ap, "auth_code", "", &sign_in(&cfg, &url).await);
    let client = MsClient::from_params(&SPEC, &ap, shared.clone()).unwrap();
    client.token(&mut ctx, ApiKind::Graph).await.unwrap();
    let rt1 = ctx.get("current_refresh_token").cloned().unwrap();
    assert_ne!(rt1, Value::String(String::new()));
    // An hour later the cached token is stale: the refresh token (not the spent code) is used.
    time.set(time_now(&time) + 4000.0);
    let before = e.request_log().entries().len();
    client.token(&mut ctx, ApiKind::Graph).await.unwrap();
    let grants: Vec<Option<String>> =
        e.request_log().entries()[before..].iter().map(|l| l.grant_type.clone()).collect();
    assert_eq!(grants, vec![Some("refresh_token".to_owned())]);
    assert_ne!(ctx.get("current_refresh_token"), Some(&rt1), "the rotated refresh token is kept");
}

fn time_now(t: &FakeTime) -> f64 {
    use soar_auth::http::Clock;
    t.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_pending_slow_down_and_denial() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cfg = config(&e);
    // A fake sleeper: polls go out back to back, so the emulator answers slow_down.
    let time = FakeTime::at(0.0);
    let shared =
        Shared::with_parts(Arc::new(ReqwestTransport::new(cfg.clone())), time.clone(), time.clone(), cfg);
    let dp = p(&[
        ("tenant_id", ec::DEFAULT_TENANT_ID),
        ("auth_id", ec::PUBLIC_APP_ID),
        ("auth_type", "Device Code"),
    ]);
    let client = MsClient::from_params(&SPEC, &dp, shared).unwrap();
    let mut ctx = IntegrationContext::default();
    let s = client.device_start(&mut ctx).await.unwrap();
    let err = client.device_complete(&mut ctx, Duration::from_secs(40)).await.unwrap_err();
    assert!(matches!(err, soar_auth::Error::AuthorizationPending(_)), "{err}");
    let sleeps = time.sleeps();
    assert!(sleeps.len() >= 2, "{sleeps:?}");
    assert!(
        sleeps.windows(2).any(|w| w[1] == w[0] + Duration::from_secs(5)),
        "slow_down adds 5 s: {sleeps:?}"
    );
    // Approve: the next completion succeeds.
    assert!(e.approve_device_code(&s.user_code));
    client.device_complete(&mut ctx, Duration::from_secs(40)).await.unwrap();
    assert!(ctx.get("access_token").is_some());
    // Denied: stops at once with the server's error.
    let mut ctx = IntegrationContext::default();
    let s = client.device_start(&mut ctx).await.unwrap();
    assert!(e.deny_device_code(&s.user_code));
    let polls_before = e.request_log().token_requests();
    let err = client.device_complete(&mut ctx, Duration::from_secs(40)).await.unwrap_err().to_string();
    assert!(err.starts_with("Error in Microsoft authorization. Status: 400"), "{err}");
    assert!(err.contains("authorization_declined") || err.contains("access_denied"), "{err}");
    assert_eq!(e.request_log().token_requests() - polls_before, 1, "no poll after a denial");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_service_managed_identity() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let mut cfg = config(&e);
    cfg.identity_endpoint =
        Some((format!("{}/msi/token", e.http_base()), Secret::new(ec::APP_SERVICE_IDENTITY_HEADER)));
    let shared = Shared::with_config(cfg);
    let mut ctx = IntegrationContext::default();
    check_tokens(&e, &shared, &p(&[("use_managed_identities", "true")]), &mut ctx, "app service MI")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_gets_the_reference_error_without_the_secret() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let shared = Shared::with_config(config(&e));
    let mut sp = base("Worldwide");
    creds(&mut sp, "credentials", ec::SECRET_APP_ID, "canary-wrong-secret");
    let client = MsClient::from_params(&SPEC, &sp, shared).unwrap();
    let err = client.token(&mut IntegrationContext::default(), ApiKind::Graph).await.unwrap_err().to_string();
    assert!(err.starts_with("Error in Microsoft authorization. Status: 401, body: invalid_client. \nInvalid client secret provided."), "{err}");
    assert!(!err.contains("canary-wrong-secret"));
}

/// Captures tracing output so the test can look for secrets in it.
static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_in_log_lines() {
    // A global subscriber: callsite interest is process-wide, and the other tests of this binary
    // run on other threads at the same time (their log lines are checked too).
    let cap = CAPTURE.get_or_init(|| {
        let cap = Capture::default();
        let writer = cap.clone();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(sub).unwrap();
        cap
    });
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let shared = Shared::with_config(config(&e));
    let mut sp = base("Worldwide");
    creds(&mut sp, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
    let client = MsClient::from_params(&SPEC, &sp, shared).unwrap();
    let mut ctx = IntegrationContext::default();
    let token = client.token(&mut ctx, ApiKind::Graph).await.unwrap();
    // A 401 path and a retry path log too.
    let _ =
        client.request(&mut ctx, ApiKind::Graph, http::Method::GET, "v1.0/__nothing_here", &[], None).await;
    let log = String::from_utf8_lossy(&cap.0.lock().unwrap()).into_owned();
    assert!(log.contains("token acquired"), "the capture works: {log}");
    for secret in [ec::SECRET_APP_SECRET, token.expose()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_requests_make_one_token_request() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let shared = Shared::with_config(config(&e));
    let mut sp = base("Worldwide");
    creds(&mut sp, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
    let before = e.request_log().token_requests();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let shared = shared.clone();
        let sp = sp.clone();
        tasks.push(tokio::spawn(async move {
            // Each command has its own (cold) integration context, as in --serve mode.
            let client = MsClient::from_params(&SPEC, &sp, shared).unwrap();
            client
                .token(&mut IntegrationContext::default(), ApiKind::Graph)
                .await
                .unwrap()
                .expose()
                .to_owned()
        }));
    }
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap());
    }
    assert_eq!(tokens.len(), 1);
    assert_eq!(e.request_log().token_requests() - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defender_endpoint_types() {
    // The Defender scope follows the endpoint type (APT-service host .com or .us) and the login
    // host follows it too; the emulator refuses a scope its login host does not issue.
    static DEFENDER: AuthSpec = AuthSpec {
        prefix: "emu-mde",
        resource: ApiKind::Defender,
        flows: &AuthFlow::ALL,
        oproxy_app_name: "x",
        ..AuthSpec::DEFAULT
    };
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let shared = Shared::with_config(config(&e));
    let mut failures = Vec::new();
    for t in [
        "Worldwide",
        "US Geo Proximity",
        "EU Geo Proximity",
        "UK Geo Proximity",
        "US GCC",
        "US GCC-High",
        "DoD",
    ] {
        let mut sp =
            p(&[("endpoint_type", t), ("tenant_id", ec::DEFAULT_TENANT_ID), ("self_deployed", "true")]);
        creds(&mut sp, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
        let client = MsClient::from_params(&DEFENDER, &sp, shared.clone()).unwrap();
        match client.token(&mut IntegrationContext::default(), ApiKind::Defender).await {
            Ok(tok) => {
                let aud = claims(tok.expose())["aud"].as_str().unwrap_or_default().to_owned();
                if !aud.contains("securitycenter") {
                    failures.push(format!("{t}: aud {aud}"));
                }
            }
            Err(x) => failures.push(format!("{t}: {x}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
