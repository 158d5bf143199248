//! `cargo bench -p soar-integration-kit --bench paging`: reading 100,000 objects (1,000 pages of
//! 100, linked by `@odata.nextLink`) through the kit's paging stream, against collecting them.
//!
//! Each way runs in its own child process (this binary with `stream` or `collect`), which
//! prints its peak resident set (`VmHWM`) over its resident set before the run, so the two
//! figures do not share a high-water mark. The pages are made on the fly by an `Api` that keeps
//! nothing, so what is measured is what the consumer holds: one page while streaming.

use std::time::Instant;

use futures::StreamExt;
use serde_json::{Value, json};
use soar_integration_kit::paging::{self, Paging};
use soar_integration_kit::{Api, Error, IntegrationContext, Reply, Request, async_trait};

const TOTAL: usize = 100_000;
const PAGE: usize = 100;
const BASE: &str = "https://graph.microsoft.com/v1.0/";

/// Answers page `n` of the list with `PAGE` user-like objects and a link to page `n + 1`.
struct Pages;

#[async_trait]
impl Api for Pages {
    async fn send(&self, _: &mut IntegrationContext, req: Request) -> Result<Reply, Error> {
        let n: usize = req.path_or_url.rsplit_once("page=").and_then(|(_, n)| n.parse().ok()).unwrap_or(0);
        let items: Vec<Value> = (n * PAGE..((n + 1) * PAGE).min(TOTAL))
            .map(|i| {
                json!({
                    "id": format!("00000000-0000-4000-8000-{i:012}"),
                    "displayName": format!("User {i}"),
                    "userPrincipalName": format!("user{i}@contoso.example"),
                    "jobTitle": "Analyst",
                    "mail": format!("user{i}@contoso.example"),
                    "businessPhones": ["+1 555 0100"],
                    "accountEnabled": true,
                })
            })
            .collect();
        let mut body = json!({"value": items});
        if (n + 1) * PAGE < TOTAL {
            body["@odata.nextLink"] = json!(format!("{BASE}users?page={}", n + 1));
        }
        Ok(Reply::new(200, body))
    }

    fn base_url(&self) -> Result<String, Error> {
        Ok(BASE.to_owned())
    }

    async fn check_token(&self, _: &mut IntegrationContext) -> Result<(), Error> {
        Ok(())
    }
}

/// A `/proc/self/status` figure in KiB (0 where there is no procfs).
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs one way in this process and prints `<objects> <extra peak KiB> <ms>`.
fn child(mode: &str) {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => return eprintln!("runtime: {e}"),
    };
    let before = status_kib("VmRSS:");
    let start = Instant::now();
    let count = rt.block_on(async {
        let mut ctx = IntegrationContext::default();
        let first = Request::get("users?page=0");
        if mode == "stream" {
            let mut n = 0usize;
            let mut s = Box::pin(paging::items(&Pages, &mut ctx, first, Paging::ODataNextLink));
            while let Some(item) = s.next().await {
                if item.is_ok() {
                    n += 1;
                }
            }
            n
        } else {
            paging::collect(&Pages, &mut ctx, first, Paging::ODataNextLink, None).await.map_or(0, |v| v.len())
        }
    });
    let ms = start.elapsed().as_millis();
    let peak = status_kib("VmHWM:").saturating_sub(before);
    // The child's figures are read by the parent from stdout.
    #[allow(clippy::print_stdout)]
    {
        println!("{count} {peak} {ms}");
    }
}

fn run(mode: &str) -> Option<(usize, u64, u64)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).arg(mode).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|w| w.parse::<u64>().ok());
    Some((it.next()?? as usize, it.next()??, it.next()??))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(mode) = args.iter().find(|a| *a == "stream" || *a == "collect") {
        return child(mode);
    }
    let (Some(stream), Some(collect)) = (run("stream"), run("collect")) else {
        return eprintln!("paging bench: a child run failed");
    };
    eprintln!(
        "paging: {} objects in {} pages of {PAGE} through @odata.nextLink\n  \
         stream  (paging::items):   peak +{} KiB resident, {} ms\n  \
         collect (paging::collect): peak +{} KiB resident, {} ms\n  \
         streaming holds {:.1}x less memory",
        stream.0,
        TOTAL / PAGE,
        stream.1,
        stream.2,
        collect.1,
        collect.2,
        collect.1 as f64 / stream.1.max(1) as f64
    );
    if stream.0 != TOTAL || collect.0 != TOTAL {
        eprintln!("paging bench: expected {TOTAL} objects, got {} and {}", stream.0, collect.0);
        std::process::exit(1);
    }
}
