//! Client-credential token requests per second over loopback with keep-alive.
//!
//! Starts the emulator in-process (plain HTTP, 127.0.0.1) and drives it with 16 keep-alive
//! HTTP/1.1 connections for a fixed time, on the same 2-worker runtime (so client and server
//! share the machine's cores, as later benchmarks will). Two figures: the default (a fresh RS256
//! signature for every token) and with `reuse_app_tokens_within_second`. Every response must be
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

const CONNECTIONS: usize = 16;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

struct Counts {
    ok: AtomicU64,
    errors: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
}

async fn client(port: u16, counts: Arc<Counts>) {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
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

async fn measure(reuse: bool) -> (f64, u64) {
    let mut config = EmulatorConfig::default();
    config.behaviour.reuse_app_tokens_within_second = reuse;
    let emu = Emulator::start(config).await.unwrap();
    let counts = Arc::new(Counts {
        ok: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let tasks: Vec<_> =
        (0..CONNECTIONS).map(|_| tokio::spawn(client(emu.http_port(), counts.clone()))).collect();
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
    for (label, reuse) in
        [("fresh RS256 signature per token", false), ("reuse_app_tokens_within_second", true)]
    {
        let (rate, errors) = rt.block_on(measure(reuse));
        println!(
            "emulator client_credentials tokens/s over loopback keep-alive ({CONNECTIONS} connections, 2 workers), {label}: {rate:.0} (errors: {errors})"
        );
    }
}
