//! Token benchmarks.
//!
//! - `cached_token_lookup`: `MsClient::token` when the integration context holds a valid token
//!   (goal < 2 µs, no I/O: the transport behind it fails any request).
//! - `first_token/<flow>`: the cost of a first token per flow against the emulator over HTTPS
//!   with the host map (fresh process cache and context each time; connection pool warm).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use soar_auth::http::{HttpConfig, ReqwestTransport, Transport, parse_host_map};
use soar_auth::testing::{FakeTime, MockTransport};
use soar_auth::{ApiKind, AuthFlow, AuthSpec, IntegrationContext, MsClient, Shared};
use soar_emulator::config as ec;
use soar_emulator::{Emulator, EmulatorConfig};
use soar_protocol::{Credentials, ParamValue, Params, Secret};

static SPEC: AuthSpec = AuthSpec {
    prefix: "bench",
    oproxy_app_name: "ms-graph-user",
    flows: &AuthFlow::ALL,
    ..AuthSpec::DEFAULT
};

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}

/// Polls a future that must complete without waiting (a cache hit never awaits I/O).
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a cached lookup waited for something"),
    }
}

fn cached(c: &mut Criterion) {
    let http = MockTransport::new();
    let shared = soar_auth::testing::shared(http.clone(), FakeTime::at(1000.0), HttpConfig::default());
    let p = params(&[("auth_id", "c"), ("tenant_id", "t"), ("enc_key", "s"), ("self_deployed", "true")]);
    let client = MsClient::from_params(&SPEC, &p, shared).unwrap();
    let mut ctx = IntegrationContext::new(
        json!({"access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.cached", "valid_until": 4600, "current_refresh_token": ""})
            .as_object()
            .cloned()
            .unwrap(),
    );
    c.bench_function("cached_token_lookup", |b| {
        b.iter(|| {
            let t = now(client.token(&mut ctx, ApiKind::Graph)).unwrap();
            std::hint::black_box(t);
        })
    });
    assert!(http.requests().is_empty(), "a cached lookup made a request");
}

fn first_token(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = rt.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    let cfg = HttpConfig {
        host_map: parse_host_map(&emu.host_map()).unwrap(),
        extra_ca_pem: Some(std::fs::read(emu.ca_pem_path()).unwrap()),
        imds_endpoint: None,
        identity_endpoint: None,
        oproxy_url: Some(format!("{}/obtain-token", emu.https_base())),
    };
    // One transport for all iterations: a process keeps its connection pool.
    let transport = Arc::new(ReqwestTransport::new(cfg.clone()));
    let cert = emu.cert_files().iter().find(|f| f.client_id == ec::CERT_APP_ID).unwrap().clone();
    let key = std::fs::read_to_string(&cert.key).unwrap();
    let tenant = [("tenant_id", ec::DEFAULT_TENANT_ID), ("self_deployed", "true")];
    let with = |extra: &[(&str, &str)]| {
        let mut v = tenant.to_vec();
        v.extend_from_slice(extra);
        params(&v)
    };
    let mut secret = with(&[]);
    secret.0.insert(
        "credentials".into(),
        ParamValue::Credentials(Credentials {
            identifier: ec::SECRET_APP_ID.into(),
            password: Secret::new(ec::SECRET_APP_SECRET),
        }),
    );
    let mut certp = with(&[("auth_id", ec::CERT_APP_ID)]);
    certp.0.insert(
        "creds_certificate".into(),
        ParamValue::Credentials(Credentials {
            identifier: cert.thumbprint.clone(),
            password: Secret::new(key),
        }),
    );
    let cases = [
        ("client-secret", secret),
        ("client-certificate", certp),
        ("managed-identity", params(&[("use_managed_identities", "true")])),
        (
            "cortex-app",
            params(&[
                ("auth_id", ec::PROXY_REGISTRATION_ID),
                ("tenant_id", ec::PROXY_TOKEN),
                ("enc_key", ec::PROXY_KEY_B64),
            ]),
        ),
    ];
    // A cold process each iteration: a new token cache over the same connection pool.
    let fresh_shared = || {
        Shared::with_parts(
            transport.clone(),
            Arc::new(soar_auth::http::SystemClock),
            Arc::new(soar_auth::http::TokioSleeper),
            cfg.clone(),
        )
    };
    let mut g = c.benchmark_group("first_token");
    g.sample_size(30);
    for (name, p) in cases {
        g.bench_function(name, |b| {
            b.iter(|| {
                let shared = fresh_shared();
                let client = MsClient::from_params(&SPEC, &p, shared).unwrap();
                let mut ctx = IntegrationContext::default();
                rt.block_on(client.token(&mut ctx, ApiKind::Graph)).unwrap();
            })
        });
    }
    // User flows: auth code = headless sign-in + code exchange; device code = start + approval
    // + the first (successful) poll.
    let user = with(&[("auth_type", "Authorization Code"), ("redirect_uri", "https://localhost/myapp")]);
    let mut user = user;
    user.0.insert(
        "credentials".into(),
        ParamValue::Credentials(Credentials {
            identifier: ec::SECRET_APP_ID.into(),
            password: Secret::new(ec::SECRET_APP_SECRET),
        }),
    );
    g.bench_function("authorization-code", |b| {
        b.iter(|| {
            let shared = fresh_shared();
            let mut ctx = IntegrationContext::default();
            let url = MsClient::from_params(&SPEC, &user, shared.clone())
                .unwrap()
                .login_url(&mut ctx, false)
                .unwrap();
            let resp = rt
                .block_on(transport.send(soar_auth::http::HttpRequest::new(http::Method::GET, url)))
                .unwrap();
            let loc = url::Url::parse(resp.header("location").unwrap()).unwrap();
            let code = loc.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
            let mut p = user.clone();
            p.0.insert(
                "auth_code".into(),
                ParamValue::Credentials(Credentials {
                    identifier: String::new(),
                    password: Secret::new(code),
                }),
            );
            let client = MsClient::from_params(&SPEC, &p, shared).unwrap();
            rt.block_on(client.token(&mut ctx, ApiKind::Graph)).unwrap();
        })
    });
    let device = params(&[
        ("tenant_id", ec::DEFAULT_TENANT_ID),
        ("auth_id", ec::PUBLIC_APP_ID),
        ("auth_type", "Device Code"),
    ]);
    g.bench_function("device-code", |b| {
        b.iter(|| {
            let shared = fresh_shared();
            let client = MsClient::from_params(&SPEC, &device, shared).unwrap();
            let mut ctx = IntegrationContext::default();
            let s = rt.block_on(client.device_start(&mut ctx)).unwrap();
            assert!(emu.approve_device_code(&s.user_code));
            rt.block_on(client.device_complete(&mut ctx, std::time::Duration::from_secs(30))).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, cached, first_token);
criterion_main!(benches);
