//! `--serve`: newline-delimited requests in one long-lived process.
//!
//! Semantics:
//! - Each non-blank input line is one request; each response is one line (compact JSON and
//!   `\n`). Blank lines are skipped. End of input ends the session once every request read so
//!   far has been answered.
//! - Requests **with** an `id` (any JSON value but `null`) start at once and run concurrently,
//!   up to [`ServeConfig::max_in_flight`] at a time (reading pauses when that many are
//!   running); each response echoes the `id` and is written when it is ready, in any order.
//! - Requests **without** an `id` run one at a time, in the order they were read, and their
//!   responses are written in that order. They do not wait for requests with an id, nor those
//!   for them: the two kinds interleave freely in the output. So an engine that sends no ids gets
//!   a strict request/response pipe, and an engine that mixes both matches responses with an
//!   `id` by id and responses without one by order.
//! - A line that is not a valid request still gets one response: with its `id` when the line
//!   was JSON with an `id`, else as an id-less response in the ordered stream. A line over 16 MiB
//!   is skipped without being held in memory and answered with an id-less error.
//! - Memory: each line is weighed before it is parsed (its bytes plus the estimated size of its
//!   parsed form, see [`crate::budget`]) and admitted only while the weights in flight stay
//!   within [`ServeConfig::memory_budget`] (default 512 MiB, `SOAR_SERVE_MEMORY_BUDGET_MIB`); a
//!   request stays in flight until its response is written. A request heavier than the whole
//!   budget runs alone. Reading pauses while a request waits, for both kinds of request.
//! - The registry is built once, so what commands hold (HTTP pools, token caches, counters) stays
//!   warm across requests.
//! - The only fatal error is failing to write the output; reading errors end the session like
//!   end of input.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use soar_protocol::Response;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tracing::{debug, warn};

use crate::Error;
use crate::budget::{self, DEFAULT_BUDGET};
use crate::dispatch::{Dispatcher, MAX_REQUEST_BYTES, error_response};

/// Serve-mode limits.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The most requests with an `id` running at once.
    pub max_in_flight: usize,
    /// The longest request line read, in bytes.
    pub max_request_bytes: usize,
    /// The request weight (bytes plus estimated parsed form, see [`crate::budget`]) allowed in
    /// flight at once, in bytes.
    pub memory_budget: usize,
}

/// The environment variable that sets [`ServeConfig::memory_budget`], in MiB.
pub const MEMORY_BUDGET_ENV: &str = "SOAR_SERVE_MEMORY_BUDGET_MIB";

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            max_in_flight: 256,
            max_request_bytes: MAX_REQUEST_BYTES,
            memory_budget: DEFAULT_BUDGET,
        }
    }
}

impl ServeConfig {
    /// The defaults, with the memory budget from [`MEMORY_BUDGET_ENV`] when it is set.
    pub fn from_env() -> Result<Self, String> {
        let mut config = ServeConfig::default();
        if let Ok(text) = std::env::var(MEMORY_BUDGET_ENV) {
            config.memory_budget = parse_budget_mib(&text)?;
        }
        Ok(config)
    }
}

/// A budget in MiB: a whole number from 1; a larger one than the machine can address is
/// saturated (it then admits everything, as a budget that large would).
pub(crate) fn parse_budget_mib(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let invalid = || {
        format!(
            "{MEMORY_BUDGET_ENV}={text:?} is not a whole number of MiB from 1 (e.g. 512); using the default"
        )
    };
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    // Digits only: a parse failure is an overflow, which saturates.
    let mib = trimmed.parse::<u64>().unwrap_or(u64::MAX);
    if mib == 0 {
        return Err(invalid());
    }
    Ok(usize::try_from(mib).unwrap_or(usize::MAX).saturating_mul(1024 * 1024))
}

/// A request's share of the memory budget, released when its response is written.
type Share = Option<OwnedSemaphorePermit>;

/// A response as its output line (compact JSON and `\n`), with its share. The task that
/// produced the response serializes it, so that requests in flight serialize (and free) their
/// answers in parallel and the one writer only writes: serializing 100-user listings on the
/// writer capped `--serve` near 3,000 a second.
type Answer = (std::io::Result<Vec<u8>>, Share);

/// The length of the last response line serialized (a capacity hint for the next).
static LAST_LINE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// [`Answer`] of a response; serializing fails only on a value JSON cannot hold (then the
/// writer fails with it, as when it serialized).
fn answer(response: Response, share: Share) -> Answer {
    // Sized like the last line (within 4 KiB..1 MiB): answers of one kind come in runs, and a
    // line grown from 4 KiB to 67 KB is five copies and as many large allocations.
    let hint = LAST_LINE_BYTES.load(Ordering::Relaxed).clamp(4096, 1024 * 1024);
    let mut line = Vec::with_capacity(hint);
    let result = match serde_json::to_writer(&mut line, &response) {
        Ok(()) => {
            line.push(b'\n');
            LAST_LINE_BYTES.store(line.len(), Ordering::Relaxed);
            Ok(line)
        }
        Err(e) => Err(e.into()),
    };
    (result, share)
}

enum Ordered {
    Run(soar_protocol::Request, Share),
    Answer(Response, Share),
}

/// Answers every request line of `input` on `output` until end of input. Must run inside a
/// tokio runtime (it spawns a task per request with an id). Fails only when writing fails.
pub async fn serve<R, W>(
    dispatcher: Arc<Dispatcher>,
    input: R,
    output: W,
    config: ServeConfig,
) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (out_tx, out_rx) = mpsc::channel::<Answer>(1024);
    let (ordered_tx, ordered_rx) = mpsc::channel::<Ordered>(1024);
    tokio::spawn(run_ordered(dispatcher.clone(), ordered_rx, out_tx.clone()));

    let reader = read_requests(dispatcher, input, config, out_tx, ordered_tx);
    let writer = write_responses(out_rx, output);
    tokio::pin!(reader, writer);
    tokio::select! {
        // The writer ends early only on an error (the channel stays open while reading).
        result = &mut writer => return result,
        () = &mut reader => {}
    }
    writer.await
}

async fn read_requests<R: AsyncBufRead + Unpin>(
    dispatcher: Arc<Dispatcher>,
    mut input: R,
    config: ServeConfig,
    out_tx: mpsc::Sender<Answer>,
    ordered_tx: mpsc::Sender<Ordered>,
) {
    let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let budget_units =
        budget::units(config.memory_budget).min(u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
    let memory = Arc::new(Semaphore::new(budget_units as usize));
    let mut line = Vec::new();
    loop {
        let job = match read_line(&mut input, &mut line, config.max_request_bytes).await {
            Ok(Line::Eof) => break,
            Err(e) => {
                warn!("reading requests failed, ending the session: {e}");
                break;
            }
            Ok(Line::TooLong) => Ordered::Answer(
                error_response(Error::RequestTooLarge { limit: config.max_request_bytes }),
                None,
            ),
            Ok(Line::Complete) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(Line::Complete) => {
                let weight = budget::estimate(&line);
                // Admitted only while the weights in flight fit the budget; heavier than the
                // whole budget: alone.
                let share = if weight.too_dense() {
                    None
                } else {
                    let units = budget::units(weight.total()).min(budget_units);
                    let Ok(share) = memory.clone().acquire_many_owned(units).await else { break };
                    Some(share)
                };
                match dispatcher.parse_weighed(&line, weight) {
                    Ok(request) if request.id.is_some() => {
                        let Ok(permit) = permits.clone().acquire_owned().await else { break };
                        let (dispatcher, out_tx) = (dispatcher.clone(), out_tx.clone());
                        tokio::spawn(async move {
                            let response = dispatcher.handle(request).await;
                            drop(permit);
                            // A send fails only when the writer has stopped; the session is ending.
                            let _ = out_tx.send(answer(response, share)).await;
                        });
                        continue;
                    }
                    Ok(request) => Ordered::Run(request, share),
                    // A refused request keeps its share until answered: its echoed `id` may be large.
                    Err(response) if response.id.is_some() => {
                        if out_tx.send(answer(*response, share)).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Err(response) => Ordered::Answer(*response, share),
                }
            }
        };
        if ordered_tx.send(job).await.is_err() {
            break;
        }
    }
    debug!("end of requests");
}

async fn run_ordered(
    dispatcher: Arc<Dispatcher>,
    mut rx: mpsc::Receiver<Ordered>,
    out_tx: mpsc::Sender<Answer>,
) {
    while let Some(job) = rx.recv().await {
        let answer = match job {
            Ordered::Run(request, share) => answer(dispatcher.handle(request).await, share),
            Ordered::Answer(response, share) => answer(response, share),
        };
        if out_tx.send(answer).await.is_err() {
            break;
        }
    }
}

async fn write_responses<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<Answer>,
    mut output: W,
) -> std::io::Result<()> {
    while let Some((line, share)) = rx.recv().await {
        output.write_all(&line?).await?;
        // The request leaves the budget once its answer is written.
        drop(share);
        // Flush when nothing else is waiting, so a burst is written in one go.
        if rx.is_empty() {
            output.flush().await?;
        }
    }
    output.flush().await
}

pub(crate) enum Line {
    Complete,
    TooLong,
    Eof,
}

/// Reads one line (without its `\n`) into `buf`, holding at most `limit` bytes: the rest of a
/// longer line is consumed and dropped.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (read_any, too_long) {
                (false, _) => Line::Eof,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        read_any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            if buf.len() + chunk.len() > limit {
                too_long = true;
                *buf = Vec::new();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        input.consume(used);
        if newline.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(if too_long { Line::TooLong } else { Line::Complete });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The budget is whole MiB from 1; a number too large for the machine saturates (it then
    /// admits everything) instead of wrapping to a tiny budget.
    #[test]
    fn budgets_parse_and_saturate() {
        assert_eq!(parse_budget_mib("64"), Ok(64 * 1024 * 1024));
        assert_eq!(parse_budget_mib(" 1 "), Ok(1024 * 1024));
        assert_eq!(parse_budget_mib("18446744073709551615"), Ok(usize::MAX));
        assert_eq!(parse_budget_mib("99999999999999999999999999"), Ok(usize::MAX));
        for bad in ["0", "", "-5", "1.5", "1e3", "lots"] {
            let e = parse_budget_mib(bad).unwrap_err();
            assert!(e.contains(MEMORY_BUDGET_ENV) && e.contains("using the default"), "{bad}: {e}");
        }
        assert_eq!(budget::units(usize::MAX), u32::MAX);
    }
}
