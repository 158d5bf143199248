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
//! - The registry is built once, so what commands hold (HTTP pools, token caches, counters) stays
//!   warm across requests.
//! - The only fatal error is failing to write the output; reading errors end the session like
//!   end of input.

use std::sync::Arc;

use soar_protocol::Response;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};
use tracing::{debug, warn};

use crate::Error;
use crate::dispatch::{Dispatcher, MAX_REQUEST_BYTES, error_response};

/// Serve-mode limits.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The most requests with an `id` running at once.
    pub max_in_flight: usize,
    /// The longest request line read, in bytes.
    pub max_request_bytes: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig { max_in_flight: 256, max_request_bytes: MAX_REQUEST_BYTES }
    }
}

enum Ordered {
    Run(soar_protocol::Request),
    Answer(Response),
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
    let (out_tx, out_rx) = mpsc::channel::<Response>(1024);
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
    out_tx: mpsc::Sender<Response>,
    ordered_tx: mpsc::Sender<Ordered>,
) {
    let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut line = Vec::new();
    loop {
        let job = match read_line(&mut input, &mut line, config.max_request_bytes).await {
            Ok(Line::Eof) => break,
            Err(e) => {
                warn!("reading requests failed, ending the session: {e}");
                break;
            }
            Ok(Line::TooLong) => {
                Ordered::Answer(error_response(Error::RequestTooLarge { limit: config.max_request_bytes }))
            }
            Ok(Line::Complete) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(Line::Complete) => match dispatcher.parse(&line) {
                Ok(request) if request.id.is_some() => {
                    let Ok(permit) = permits.clone().acquire_owned().await else { break };
                    let (dispatcher, out_tx) = (dispatcher.clone(), out_tx.clone());
                    tokio::spawn(async move {
                        let response = dispatcher.handle(request).await;
                        drop(permit);
                        // A send fails only when the writer has stopped; the session is ending.
                        let _ = out_tx.send(response).await;
                    });
                    continue;
                }
                Ok(request) => Ordered::Run(request),
                Err(response) if response.id.is_some() => {
                    if out_tx.send(*response).await.is_err() {
                        break;
                    }
                    continue;
                }
                Err(response) => Ordered::Answer(*response),
            },
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
    out_tx: mpsc::Sender<Response>,
) {
    while let Some(job) = rx.recv().await {
        let response = match job {
            Ordered::Run(request) => dispatcher.handle(request).await,
            Ordered::Answer(response) => response,
        };
        if out_tx.send(response).await.is_err() {
            break;
        }
    }
}

async fn write_responses<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<Response>,
    mut output: W,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    while let Some(response) = rx.recv().await {
        buf.clear();
        serde_json::to_writer(&mut buf, &response)?;
        buf.push(b'\n');
        output.write_all(&buf).await?;
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
