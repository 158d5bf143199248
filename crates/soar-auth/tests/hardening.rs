//! The HTTP edge as an attacker or a broken server drives it: redirect chains against real
//! loopback servers (which hop saw the bearer token), answers larger than the limit, numbers
//! beyond what a `Duration` or an `i64` holds, 429/503 from the token endpoint and dropped
//! connections.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{config, creds, p};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use soar_auth::http::{
    HttpConfig, HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, ReqwestTransport, Transport,
};
use soar_auth::testing::{FakeTime, MockTransport, shared as mock_shared};
use soar_auth::{
    ApiKind, AuthFlow, AuthSpec, Error, IntegrationContext, MAX_RETRY_WAIT, MAX_TIMEOUT, MAX_TOKEN_LIFETIME,
    MsClient, Shared,
};
use soar_emulator::config as ec;
use soar_emulator::{Emulator, EmulatorConfig, Fault, FaultRule};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

static SPEC: AuthSpec = AuthSpec { prefix: "harden", flows: &AuthFlow::ALL, ..AuthSpec::DEFAULT };

const TOKEN: &str = "bearer-canary-5e1f";

// ------------------------------------------------------------------ a tiny loopback server

/// What one server saw: method, path, and the Authorization header if any.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// What a server answers to a path.
enum Reply {
    /// These bytes, then close.
    Raw(String),
    /// A chunked 200 of `total` bytes of JSON-ish filler (stops when the client goes away).
    Chunked(usize),
}

type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

struct Server {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Server {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
    fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// A redirect answer.
fn redirect(status: u16, location: &str) -> Reply {
    Reply::Raw(format!(
        "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ))
}

fn ok_json(body: &str) -> Reply {
    Reply::Raw(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// A TLS acceptor with the emulator's server certificate (it covers 127.0.0.1 and localhost,
/// and the cloud host names).
fn acceptor(e: &Emulator) -> tokio_rustls::TlsAcceptor {
    let chain = std::fs::read(e.data_dir().join("server.pem")).unwrap();
    let key = std::fs::read(e.data_dir().join("server.key.pem")).unwrap();
    let certs = rustls_pemfile::certs(&mut chain.as_slice()).collect::<Result<Vec<_>, _>>().unwrap();
    let key = rustls_pemfile::private_key(&mut key.as_slice()).unwrap().unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

async fn serve(tls: Option<tokio_rustls::TlsAcceptor>, handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (handler, seen, tls) = (handler.clone(), seen.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    Some(a) => {
                        if let Ok(s) = a.accept(tcp).await {
                            exchange(s, handler, seen).await;
                        }
                    }
                    None => exchange(tcp, handler, seen).await,
                }
            });
        }
    });
    Server { addr, hits }
}

/// One request, one answer, close.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, handler: Handler, seen: Arc<Mutex<Vec<Hit>>>) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) =
        (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
    let header = |name: &str| {
        head.split("\r\n").find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        match s.read(&mut tmp).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    seen.lock().unwrap().push(Hit { method, path: path.clone(), authorization: header("authorization") });
    match handler(&path) {
        Reply::Raw(r) => {
            let _ = s.write_all(r.as_bytes()).await;
        }
        Reply::Chunked(total) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 1 << 20];
            let mut sent = 0;
            while sent < total {
                let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if s.write_all(&frame).await.is_err() {
                    return;
                }
                sent += chunk.len();
            }
            let _ = s.write_all(b"0\r\n\r\n").await;
        }
    }
    let _ = s.shutdown().await;
}

// ------------------------------------------------------------------ clients

/// A Shared over reqwest that trusts the emulator's CA (for the loopback TLS servers).
fn shared_trusting(e: &Emulator) -> Arc<Shared> {
    Shared::with_config(HttpConfig {
        extra_ca_pem: Some(std::fs::read(e.ca_pem_path()).unwrap()),
        ..HttpConfig::default()
    })
}

fn cc_params() -> soar_protocol::Params {
    let mut sp = p(&[("tenant_id", ec::DEFAULT_TENANT_ID), ("self_deployed", "true")]);
    creds(&mut sp, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
    sp
}

/// A context holding a valid Graph token, so no token request is made.
fn warm_ctx() -> IntegrationContext {
    let mut ctx = IntegrationContext::default();
    ctx.set("access_token", json!(TOKEN));
    ctx.set("valid_until", json!(i64::MAX / 2));
    ctx
}

fn bearer() -> Option<String> {
    Some(format!("Bearer {TOKEN}"))
}

async fn get(shared: &Arc<Shared>, url: &str) -> Result<Value, Error> {
    let client = MsClient::from_params(&SPEC, &cc_params(), shared.clone()).unwrap();
    client.request(&mut warm_ctx(), ApiKind::Graph, http::Method::GET, url, &[], None).await
}

// ------------------------------------------------------------------ redirects

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_chain_to_another_origin_never_carries_the_token_again() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let tls = acceptor(&e);
    // B (https://localhost:pB): /one -> /two (same origin B) -> 200.
    let b = serve(
        Some(tls.clone()),
        Arc::new(|path: &str| if path == "/one" { redirect(302, "/two") } else { ok_json(r#"{"at":"b"}"#) }),
    )
    .await;
    let b_url = format!("https://localhost:{}/one", b.port());
    // A (https://127.0.0.1:pA): /start -> B.
    let a = serve(Some(tls), Arc::new(move |_: &str| redirect(302, &b_url))).await;
    let shared = shared_trusting(&e);
    let v = get(&shared, &format!("https://127.0.0.1:{}/start", a.port())).await.unwrap();
    assert_eq!(v, json!({"at": "b"}));
    let (ah, bh) = (a.hits(), b.hits());
    assert_eq!(ah.len(), 1);
    assert_eq!(ah[0].authorization, bearer(), "the API origin gets the token");
    assert_eq!(bh.iter().map(|h| h.path.as_str()).collect::<Vec<_>>(), ["/one", "/two"]);
    assert!(bh.iter().all(|h| h.authorization.is_none()), "B saw a token: {bh:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_origin_https_hops_carry_the_token_and_leaving_is_final() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let tls = acceptor(&e);
    // C (another origin) sends the request back to A's /back.
    let a_port = Arc::new(Mutex::new(0u16));
    let ap = a_port.clone();
    let c = serve(
        Some(tls.clone()),
        Arc::new(move |_: &str| redirect(307, &format!("https://127.0.0.1:{}/back", *ap.lock().unwrap()))),
    )
    .await;
    let c_url = format!("https://localhost:{}/c", c.port());
    // A: /1 -> /2 -> /3 on its own origin; /r -> C -> A's /back.
    let a = serve(
        Some(tls),
        Arc::new(move |path: &str| match path {
            "/1" => redirect(301, "/2"),
            "/2" => redirect(308, "/3"),
            "/r" => redirect(302, &c_url),
            "/back" => ok_json(r#"{"back":true}"#),
            _ => ok_json(r#"{"done":true}"#),
        }),
    )
    .await;
    *a_port.lock().unwrap() = a.port();
    let shared = shared_trusting(&e);
    let base = format!("https://127.0.0.1:{}", a.port());

    let v = get(&shared, &format!("{base}/1")).await.unwrap();
    assert_eq!(v, json!({"done": true}));
    let hits = a.hits();
    assert_eq!(hits.iter().map(|h| h.path.as_str()).collect::<Vec<_>>(), ["/1", "/2", "/3"]);
    assert!(hits.iter().all(|h| h.authorization == bearer()), "same-origin https hops carry it: {hits:?}");

    // A -> C -> A: back on the API origin after leaving it, the token is not re-attached.
    let v = get(&shared, &format!("{base}/r")).await.unwrap();
    assert_eq!(v, json!({"back": true}));
    let hits = a.hits();
    let r = hits.iter().find(|h| h.path == "/r").unwrap();
    let back = hits.iter().find(|h| h.path == "/back").unwrap();
    assert_eq!(r.authorization, bearer());
    assert_eq!(back.authorization, None, "a hop after leaving the origin never gets the token");
    let ch = c.hits();
    assert_eq!(ch.len(), 1);
    assert!(ch[0].authorization.is_none(), "C saw the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_http_downgrade_is_refused_and_http_sees_nothing() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let plain = serve(None, Arc::new(|_: &str| ok_json("{}"))).await;
    let back_to = format!("http://127.0.0.1:{}/leak", plain.port());
    let tls = acceptor(&e);
    // Directly, and after a same-origin hop (a chain: A -> A -> http).
    let a = serve(
        Some(tls),
        Arc::new(
            move |path: &str| {
                if path == "/first" { redirect(302, "/second") } else { redirect(302, &back_to) }
            },
        ),
    )
    .await;
    let shared = shared_trusting(&e);
    for start in ["/second", "/first"] {
        let err = get(&shared, &format!("https://127.0.0.1:{}{start}", a.port())).await.unwrap_err();
        assert!(matches!(err, Error::Redirect(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains("not https") && text.contains("http://127.0.0.1"), "{text}");
        assert!(!text.contains(TOKEN) && !text.contains("/leak"), "no token, no path: {text}");
    }
    assert!(plain.hits().is_empty(), "the http server was never asked: {:?}", plain.hits());
    assert!(a.hits().iter().all(|h| h.authorization == bearer()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_is_never_resent_to_another_origin_and_303_becomes_a_get() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let tls = acceptor(&e);
    let b = serve(Some(tls.clone()), Arc::new(|_: &str| ok_json("{}"))).await;
    let b_url = format!("https://localhost:{}/post-here", b.port());
    let a = serve(
        Some(tls),
        Arc::new(move |path: &str| match path {
            "/307" => redirect(307, &b_url),
            "/303" => redirect(303, "/result"),
            _ => ok_json(r#"{"result":1}"#),
        }),
    )
    .await;
    let shared = shared_trusting(&e);
    let client = MsClient::from_params(&SPEC, &cc_params(), shared).unwrap();
    let base = format!("https://127.0.0.1:{}", a.port());
    let body = json!({"secret-data": 1});
    let err = client
        .request(
            &mut warm_ctx(),
            ApiKind::Graph,
            http::Method::POST,
            &format!("{base}/307"),
            &[],
            Some(&body),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Redirect(_)) && err.to_string().contains("POST"), "{err}");
    assert!(b.hits().is_empty(), "B got the body: {:?}", b.hits());
    // 303 after a POST: a GET on the same origin, with the token.
    let v = client
        .request(
            &mut warm_ctx(),
            ApiKind::Graph,
            http::Method::POST,
            &format!("{base}/303"),
            &[],
            Some(&body),
        )
        .await
        .unwrap();
    assert_eq!(v, json!({"result": 1}));
    let result = a.hits().into_iter().find(|h| h.path == "/result").unwrap();
    assert_eq!((result.method.as_str(), result.authorization), ("GET", bearer()));
}

#[tokio::test]
async fn redirect_loops_stop_with_a_clear_error() {
    let http = MockTransport::new();
    for _ in 0..=soar_auth::MAX_REDIRECTS {
        http.respond(HttpResponse {
            status: 302,
            headers: vec![("location".into(), "/again".into())],
            body: vec![],
        });
    }
    let time = FakeTime::at(0.0);
    let shared = mock_shared(http.clone(), time, HttpConfig::default());
    let err = get(&shared, "https://graph.microsoft.com/v1.0/loop").await.unwrap_err();
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    assert_eq!(http.requests().len(), soar_auth::MAX_REDIRECTS + 1);
    assert_eq!(http.remaining(), 0);
}

#[tokio::test]
async fn a_redirect_listed_as_ok_is_returned_not_followed() {
    let http = MockTransport::new();
    http.respond(HttpResponse {
        status: 302,
        headers: vec![("location".into(), "https://files.example/signed?sig=x".into())],
        body: vec![],
    });
    let shared = mock_shared(http.clone(), FakeTime::at(0.0), HttpConfig::default());
    let client = MsClient::from_params(&SPEC, &cc_params(), shared).unwrap();
    let mut req = soar_auth::ApiRequest::get("https://graph.microsoft.com/v1.0/drives/x/content");
    req.ok_statuses = vec![302];
    let resp = client.send(&mut warm_ctx(), ApiKind::Graph, req).await.unwrap();
    assert_eq!((resp.status, resp.header("location")), (302, Some("https://files.example/signed?sig=x")));
    assert_eq!(http.requests().len(), 1, "the Location was not fetched");
}

/// A call's own timeout (a command's `timeout` argument) reaches the transport instead of the
/// instance's, clamped to `MAX_TIMEOUT`; a call without one keeps the instance's.
#[tokio::test]
async fn a_call_s_own_timeout_replaces_the_instance_s() {
    let http = MockTransport::new();
    for _ in 0..3 {
        http.expect(http::Method::GET, "https://graph.microsoft.com/v1.0/x", 200, json!({}));
    }
    let shared = mock_shared(http.clone(), FakeTime::at(0.0), HttpConfig::default());
    let mut params = cc_params();
    params.0.insert("timeout".into(), soar_protocol::ParamValue::Str("20".into()));
    let client = MsClient::from_params(&SPEC, &params, shared).unwrap();
    let url = "https://graph.microsoft.com/v1.0/x";
    let own = soar_auth::ApiRequest::get(url).timeout(Duration::from_secs(3));
    client.send(&mut warm_ctx(), ApiKind::Graph, own).await.unwrap();
    client.send(&mut warm_ctx(), ApiKind::Graph, soar_auth::ApiRequest::get(url)).await.unwrap();
    let huge = soar_auth::ApiRequest::get(url).timeout(Duration::from_secs(1 << 40));
    client.send(&mut warm_ctx(), ApiKind::Graph, huge).await.unwrap();
    let sent: Vec<Duration> = http.requests().iter().map(|r| r.timeout).collect();
    assert_eq!(sent, [Duration::from_secs(3), Duration::from_secs(20), MAX_TIMEOUT]);
}

// ------------------------------------------------------------------ answer size

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_64_mib_are_refused_naming_the_limit() {
    // A declared 600 MB answer: refused before reading the body.
    let big = serve(
        None,
        Arc::new(|_: &str| {
            Reply::Raw(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600000000\r\n\r\n["
                    .into(),
            )
        }),
    )
    .await;
    // A chunked answer that grows past the limit.
    let chunked = serve(None, Arc::new(|_: &str| Reply::Chunked(MAX_RESPONSE_BYTES + (2 << 20)))).await;
    let t = ReqwestTransport::new(HttpConfig::default());
    for (server, what) in
        [(&big, "Content-Length 600000000"), (&chunked, "more than 67108864 bytes received")]
    {
        let url = format!("http://127.0.0.1:{}/x", server.port());
        let err = t.send(HttpRequest::new(http::Method::GET, url)).await.unwrap_err();
        assert!(err.contains("larger than 67108864 bytes (64 MiB)") && err.contains(what), "{err}");
    }
    // Through an API call: the same text, as a connection error.
    let shared = Shared::with_config(HttpConfig::default());
    let err = get(&shared, &format!("http://127.0.0.1:{}/x", big.port())).await.unwrap_err();
    assert!(matches!(&err, Error::Transport(t) if t.contains("64 MiB")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_answers_over_the_limit_are_refused_too() {
    // The login host mapped to a loopback TLS server that declares a 600 MB token answer.
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let login = serve(
        Some(acceptor(&e)),
        Arc::new(|_: &str| Reply::Raw("HTTP/1.1 200 OK\r\nContent-Length: 600000000\r\n\r\n{".into())),
    )
    .await;
    let cfg = HttpConfig {
        host_map: vec![("login.microsoftonline.com".into(), login.addr)],
        extra_ca_pem: Some(std::fs::read(e.ca_pem_path()).unwrap()),
        ..HttpConfig::default()
    };
    let client = MsClient::from_params(&SPEC, &cc_params(), Shared::with_config(cfg)).unwrap();
    let err = client.token(&mut IntegrationContext::default(), ApiKind::Graph).await.unwrap_err();
    assert!(
        err.to_string().starts_with("Error in Microsoft authorization: the answer is larger than 67108864"),
        "{err}"
    );
    assert!(!err.to_string().contains(ec::SECRET_APP_SECRET));
}

// ------------------------------------------------------------------ overflows

fn mock() -> (Arc<MockTransport>, Arc<FakeTime>, Arc<Shared>) {
    let http = MockTransport::new();
    let time = FakeTime::at(1_000_000.0);
    let shared = mock_shared(http.clone(), time.clone(), HttpConfig::default());
    (http, time, shared)
}

fn token_answer(expires_in: Value) -> Value {
    json!({"access_token": "tok", "expires_in": expires_in, "token_type": "Bearer"})
}

#[tokio::test]
async fn a_huge_timeout_param_is_clamped_and_a_meaningless_one_is_an_error() {
    for (value, want) in [
        ("1e300", MAX_TIMEOUT),
        ("inf", MAX_TIMEOUT),
        ("7200", MAX_TIMEOUT),
        ("2.5", Duration::from_millis(2500)),
    ] {
        // A fresh process each time, so each asks the token endpoint.
        let (http, _, shared) = mock();
        let mut params = cc_params();
        params.0.insert("timeout".into(), soar_protocol::ParamValue::Str(value.into()));
        let client = MsClient::from_params(&SPEC, &params, shared.clone()).unwrap();
        http.respond(HttpResponse::json(200, &token_answer(json!(3600))));
        client.token(&mut IntegrationContext::default(), ApiKind::Graph).await.unwrap();
        assert_eq!(http.requests().last().unwrap().timeout, want, "timeout {value}");
    }
    let (_, _, shared) = mock();
    for value in ["NaN", "-1", "0", "soon"] {
        let mut params = cc_params();
        params.0.insert("timeout".into(), soar_protocol::ParamValue::Str(value.into()));
        let err = MsClient::from_params(&SPEC, &params, shared.clone()).unwrap_err().to_string();
        assert!(err.contains(&format!("The timeout param '{value}'")), "{err}");
    }
}

#[tokio::test]
async fn a_huge_retry_after_is_clamped_for_api_calls_and_token_requests() {
    let (http, time, shared) = mock();
    let throttled = |status| HttpResponse {
        status,
        headers: vec![("retry-after".into(), "1e300".into())],
        body: br#"{"error":"throttled"}"#.to_vec(),
    };
    // Token endpoint: 429 then 503 (both retried), then a token; then the API: 429 then 200.
    http.respond(throttled(429));
    http.respond(throttled(503));
    http.respond(HttpResponse::json(200, &token_answer(json!(3600))));
    http.respond(throttled(429));
    http.respond(HttpResponse::json(200, &json!({"ok": true})));
    let client = MsClient::from_params(&SPEC, &cc_params(), shared).unwrap();
    let v = client
        .request(
            &mut IntegrationContext::default(),
            ApiKind::Graph,
            http::Method::GET,
            "v1.0/users",
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(v, json!({"ok": true}));
    assert_eq!(time.sleeps(), vec![MAX_RETRY_WAIT; 3]);
    assert_eq!(http.remaining(), 0);
}

#[tokio::test]
async fn token_requests_are_retried_a_bounded_number_of_times() {
    let (http, time, shared) = mock();
    for _ in 0..3 {
        http.respond(HttpResponse { status: 503, headers: vec![], body: b"busy".to_vec() });
    }
    let client = MsClient::from_params(&SPEC, &cc_params(), shared).unwrap();
    let err = client.token(&mut IntegrationContext::default(), ApiKind::Graph).await.unwrap_err().to_string();
    assert!(err.starts_with("Error in Microsoft authorization. Status: 503"), "{err}");
    assert_eq!(http.requests().len(), 1 + soar_auth::flows::TOKEN_RETRIES as usize);
    assert_eq!(time.sleeps(), vec![Duration::from_secs(1), Duration::from_secs(2)]);
    // A dropped connection on a token request is not retried (a code may be spent).
    http.fail("connection dropped before the whole answer arrived");
    let before = http.requests().len();
    let err = client.token(&mut IntegrationContext::default(), ApiKind::Graph).await.unwrap_err();
    assert!(err.to_string().contains("connection dropped"), "{err}");
    assert_eq!(http.requests().len() - before, 1);
}

#[tokio::test]
async fn a_huge_expires_in_is_clamped_to_a_day() {
    let (http, _, shared) = mock();
    let client = MsClient::from_params(&SPEC, &cc_params(), shared).unwrap();
    for (expires_in, want) in [
        (json!(1e300), 1_000_000 + MAX_TOKEN_LIFETIME - 5),
        (json!("1e300"), 1_000_000 + MAX_TOKEN_LIFETIME - 5),
        (json!(-1e300), 1_000_000),
        (json!(9_223_372_036_854_775_807_i64), 1_000_000 + MAX_TOKEN_LIFETIME - 5),
    ] {
        http.respond(HttpResponse::json(200, &token_answer(expires_in.clone())));
        // Refreshing past the in-memory copy (whose token is "tok") asks the endpoint every time.
        let mut ctx = IntegrationContext::default();
        client.refresh_token(&mut ctx, ApiKind::Graph, &soar_protocol::Secret::new("tok")).await.unwrap();
        assert_eq!(ctx.get("valid_until"), Some(&json!(want)), "expires_in {expires_in}");
    }
    assert!(soar_auth::valid_until(i64::MAX - 1, i64::MAX) == i64::MAX, "the sum saturates");
}

// ------------------------------------------------------------------ faults from the emulator

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_429_on_the_token_endpoint_and_dropped_api_connections_are_retried() {
    let e = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cfg = config(&e);
    let time = FakeTime::at(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64(),
    );
    let shared =
        Shared::with_parts(Arc::new(ReqwestTransport::new(cfg.clone())), time.clone(), time.clone(), cfg);
    let client = MsClient::from_params(&SPEC, &cc_params(), shared).unwrap();
    let token_path = format!("/{}/oauth2/v2.0/token", ec::DEFAULT_TENANT_ID);
    e.faults().add(FaultRule {
        count: Some(2),
        ..FaultRule::new(&token_path, Fault::Status { status: 429, retry_after: Some(7), body: None })
    });
    let mut ctx = IntegrationContext::default();
    client.token(&mut ctx, ApiKind::Graph).await.unwrap();
    assert_eq!(time.sleeps(), vec![Duration::from_secs(7); 2], "Retry-After honoured");

    // A GET whose connection is dropped once: retried, and answered.
    e.faults().add(FaultRule { count: Some(1), ..FaultRule::new("/v1.0/users", Fault::Drop) });
    let v =
        client.request(&mut ctx, ApiKind::Graph, http::Method::GET, "v1.0/users", &[], None).await.unwrap();
    assert!(v.get("value").is_some(), "{v}");
    assert_eq!(time.sleeps().len(), 3, "one back-off for the drop: {:?}", time.sleeps());

    // A POST whose connection is dropped: not retried (it may have been applied).
    e.faults().add(FaultRule { count: Some(1), ..FaultRule::new("/v1.0/users", Fault::Drop) });
    let err = client
        .request(&mut ctx, ApiKind::Graph, http::Method::POST, "v1.0/users", &[], Some(&json!({})))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Transport(t) if t.starts_with("connection dropped")), "{err}");
    assert_eq!(time.sleeps().len(), 3);
}
