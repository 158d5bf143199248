//! Client-credential token requests per second over loopback with keep-alive.
//!
//! Starts the emulator in-process (plain HTTP, 127.0.0.1) and drives it with 16 keep-alive
//! HTTP/1.1 connections for a fixed time, on the same 2-worker runtime (so client and server
//! share the machine's cores, as later benchmarks will). Three figures: a fresh RS256 signature
//! for every token, the default `reuse_app_tokens_within_second`, and the default over HTTPS. Every response must be
//! a 200 with an access token; any other answer is counted and reported as an error.
//! Run with `cargo xtask bench emulator` (or `cargo bench -p soar-emulator --bench token_rate`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use soar_emulator::config::{DEFAULT_TENANT_ID, SECRET_APP_ID, SECRET_APP_SECRET};
use soar_emulator::{Emulator, EmulatorConfig};

#[path = "../tests/common/tls.rs"]
mod tls;

const CONNECTIONS: usize = 16;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

struct Counts {
    ok: AtomicU64,
    errors: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
}

async fn client(port: u16, tls: Option<tokio_rustls::TlsConnector>, counts: Arc<Counts>) {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    match tls {
        Some(connector) => {
            let name = rustls::pki_types::ServerName::try_from("login.microsoftonline.com").unwrap();
            let tls = connector.connect(name, stream).await.unwrap();
            drive(TokioIo::new(tls), counts).await
        }
        None => drive(TokioIo::new(stream), counts).await,
    }
}

async fn drive<I>(io: I, counts: Arc<Counts>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", SECRET_APP_ID)
        .append_pair("client_secret", SECRET_APP_SECRET)
        .append_pair("grant_type", "client_credentials")
        .append_pair("scope", "https://graph.microsoft.com/.default")
        .finish();
    let body = Bytes::from(body);
    let path = format!("/{DEFAULT_TENANT_ID}/oauth2/v2.0/token");
    while !counts.stop.load(Ordering::Relaxed) {
        let req = http::Request::post(&path)
            .header("host", "login.microsoftonline.com")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(body.clone()))
            .unwrap();
        let ok = match sender.send_request(req).await {
            Ok(resp) => {
                let status = resp.status();
                let bytes = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                status == 200 && bytes.windows(14).any(|w| w == b"\"access_token\"")
            }
            Err(_) => false,
        };
        if counts.measuring.load(Ordering::Relaxed) {
            if ok { &counts.ok } else { &counts.errors }.fetch_add(1, Ordering::Relaxed);
        }
        if !ok {
            break;
        }
    }
}

async fn measure(reuse: bool, https: bool) -> (f64, u64) {
    let mut config = EmulatorConfig::default();
    config.behaviour.reuse_app_tokens_within_second = reuse;
    let emu = Emulator::start(config).await.unwrap();
    let counts = Arc::new(Counts {
        ok: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let (port, tls) = if https {
        (emu.https_port(), Some(tls::connector_trusting(emu.ca_pem_path())))
    } else {
        (emu.http_port(), None)
    };
    let tasks: Vec<_> =
        (0..CONNECTIONS).map(|_| tokio::spawn(client(port, tls.clone(), counts.clone()))).collect();
    tokio::time::sleep(WARMUP).await;
    counts.measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    counts.measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    counts.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    (counts.ok.load(Ordering::Relaxed) as f64 / elapsed, counts.errors.load(Ordering::Relaxed))
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and wants no long run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("token_rate: skipped (run with cargo bench)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let phases = [
        ("HTTP, fresh RS256 signature per token", false, false),
        ("HTTP, reuse_app_tokens_within_second (default)", true, false),
        ("HTTPS, reuse_app_tokens_within_second (default)", true, true),
    ];
    for (label, reuse, https) in phases {
        let (rate, errors) = rt.block_on(measure(reuse, https));
        println!(
            "emulator client_credentials tokens/s over loopback keep-alive ({CONNECTIONS} connections, 2 workers), {label}: {rate:.0} (errors: {errors})"
        );
    }
}
