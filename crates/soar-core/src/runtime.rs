//! The entry point: command-line modes, logging, and the one-shot mode.
//!
//! `soar_core::run(MyIntegration)` is all an integration's `main` does. It:
//! - sets up `tracing` to standard error, filtered by `RUST_LOG` (default `warn`; an invalid
//!   value falls back to `warn` with a warning), every line masked with the secrets of the
//!   requests in flight (see `logs`);
//! - installs a panic hook that logs where a panic happened but not its message (the message
//!   may quote a secret; it reaches the person masked, in the error entry);
//! - reads the integration's declarations once ([`Dispatcher::new`]; the manifest's texts only
//!   for `--manifest`);
//! - runs one mode, chosen by the first argument:
//!   - none: one-shot, one request read from standard input to its end (at most 16 MiB), one
//!     response line on standard output;
//!   - `--serve`: newline-delimited requests until end of input (see [`crate::serve`]);
//!   - `--manifest`: the manifest as pretty JSON (see [`crate::manifest`]);
//!   - `--help`: usage on standard error.
//!
//! Exit status: 0 whenever a response was written, including error entries for bad input; 1
//! when standard output could not be written (or `--manifest` of a registry that breaks the
//! rules); 2 for an unknown command-line argument (that is an operator error, reported on
//! standard error: no request was read).
//!
//! Only this module touches stdin/stdout; [`one_shot`] and [`crate::serve()`] take any
//! async reader/writer so that tests feed bytes.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use soar_protocol::Response;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{error, warn};

use crate::dispatch::{Dispatcher, MAX_REQUEST_BYTES, error_response};
use crate::serve::{ServeConfig, serve};
use crate::{Error, Integration, Request};

const USAGE: &str = "usage: <integration> [--serve | --manifest | --help]
  (no argument)  read one JSON request on stdin, write one JSON response on stdout
  --serve        answer newline-delimited requests until end of input
  --manifest     print the integration's manifest (commands, args, outputs, params, flows)
logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) to see more";

enum Mode {
    OneShot,
    Serve,
    Manifest,
    Help,
}

/// Runs an integration binary (see the module docs for modes and exit codes).
pub fn run(integration: impl Integration) -> ExitCode {
    init_tracing();
    install_panic_hook();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => Mode::OneShot,
        ["--serve"] => Mode::Serve,
        ["--manifest"] => Mode::Manifest,
        ["--help" | "-h"] => Mode::Help,
        other => {
            eprintln!("unexpected arguments {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let dispatcher = match mode {
        Mode::Manifest => Dispatcher::new(&integration),
        _ => Dispatcher::for_requests(&integration),
    };
    match mode {
        Mode::Help => {
            eprintln!("{USAGE}");
            ExitCode::SUCCESS
        }
        Mode::Manifest => print_manifest(&dispatcher),
        Mode::OneShot => {
            // Standard input and output are read and written here, synchronously: tokio's
            // stdin/stdout would start a blocking thread for each, which costs a no-op run more
            // than everything else it does.
            let (bytes, read) = read_request(&mut std::io::stdin().lock());
            let too_large = bytes.len() > MAX_REQUEST_BYTES;
            let response = match admit(&dispatcher, bytes, read) {
                // The async runtime is only for a command that runs: a request refused before
                // that (unreadable, too large, not JSON, an unknown command) is answered without it.
                Err(refused) => *refused,
                Ok(request) => match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => {
                        let response = runtime.block_on(dispatcher.handle(request));
                        // A command may leave a blocking task (a DNS lookup) running; do not join it.
                        runtime.shutdown_background();
                        response
                    }
                    Err(e) => {
                        error_response(Error::Command(format!("Could not start the async runtime: {e}")))
                    }
                },
            };
            let written = write_sync(&response);
            if too_large {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            }
            written
        }
        Mode::Serve => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    error!("could not start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let config = ServeConfig::from_env().unwrap_or_else(|e| {
                warn!("{e}");
                ServeConfig::default()
            });
            let dispatcher = Arc::new(dispatcher);
            let input = tokio::io::BufReader::with_capacity(64 * 1024, tokio::io::stdin());
            // Buffered: tokio's stdout hands every write to a blocking thread, so a burst of
            // responses is written per 64 KiB, not per line (`serve` flushes whenever no other
            // response is waiting, so none waits in the buffer).
            let output = tokio::io::BufWriter::with_capacity(64 * 1024, tokio::io::stdout());
            let result = runtime.block_on(serve(dispatcher, input, output, config));
            runtime.shutdown_background();
            exit_code(result)
        }
    }
}

/// One-shot mode: reads `input` to its end (at most 16 MiB are held), writes one response line
/// to `output`. A larger input gets an error response, after which the rest of the input is
/// read and dropped so that an engine still writing does not fail on a closed pipe. Fails only
/// when writing fails.
pub async fn one_shot<R, W>(dispatcher: &Dispatcher, mut input: R, mut output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // The request bytes live only in this block, so a refused large input is freed before
    // the rest of it is drained.
    let (response, too_large) = {
        let mut bytes = Vec::new();
        let limit = MAX_REQUEST_BYTES as u64 + 1;
        let read = (&mut input).take(limit).read_to_end(&mut bytes).await;
        let too_large = bytes.len() > MAX_REQUEST_BYTES;
        (respond(dispatcher, bytes, read).await, too_large)
    };
    write_response(&mut output, &response).await?;
    if too_large {
        let _ = tokio::io::copy(&mut input, &mut tokio::io::sink()).await;
    }
    Ok(())
}

/// Reads a one-shot request synchronously: at most 16 MiB and one byte, to tell a larger input.
fn read_request(input: &mut impl std::io::Read) -> (Vec<u8>, std::io::Result<usize>) {
    let mut bytes = Vec::new();
    let read =
        std::io::Read::read_to_end(&mut std::io::Read::take(input, MAX_REQUEST_BYTES as u64 + 1), &mut bytes);
    (bytes, read)
}

/// The response to what one-shot mode read (at most 16 MiB and one byte of it in `bytes`).
async fn respond(dispatcher: &Dispatcher, bytes: Vec<u8>, read: std::io::Result<usize>) -> Response {
    match admit(dispatcher, bytes, read) {
        Ok(request) => dispatcher.handle(request).await,
        Err(refused) => *refused,
    }
}

/// The request one-shot mode read, parsed, or the response refusing it before anything runs:
/// unreadable input, more than 16 MiB (`bytes` holds at most one byte more), not a request, or
/// a command the integration does not have.
fn admit(
    dispatcher: &Dispatcher,
    bytes: Vec<u8>,
    read: std::io::Result<usize>,
) -> Result<Request, Box<Response>> {
    if let Err(e) = read {
        return Err(Box::new(error_response(Error::InvalidRequest(format!(
            "Could not read the request from standard input: {e}. Send one JSON object and close the input."
        )))));
    }
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(Box::new(error_response(Error::RequestTooLarge { limit: MAX_REQUEST_BYTES })));
    }
    let request = dispatcher.parse(&bytes)?;
    match dispatcher.refusal(&request) {
        Some(refused) => Err(Box::new(refused)),
        None => Ok(request),
    }
}

/// Parses and runs one request given as bytes; always returns a response. Builds the registry
/// on each call: for repeated calls keep a [`Dispatcher`].
pub async fn handle_bytes(integration: &impl Integration, input: &[u8]) -> Response {
    Dispatcher::new(integration).handle_bytes(input).await
}

/// Runs one parsed request. Builds the registry on each call: for repeated calls keep a
/// [`Dispatcher`].
pub async fn handle(integration: &impl Integration, request: Request) -> Response {
    Dispatcher::new(integration).handle(request).await
}

async fn write_response<W: AsyncWrite + Unpin>(output: &mut W, response: &Response) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(response)?;
    line.push(b'\n');
    output.write_all(&line).await?;
    output.flush().await
}

/// Writes the response line with one `write_all` (standard output is line-buffered with a
/// small buffer, so serializing into it would make a system call per kilobyte).
fn write_sync(response: &Response) -> ExitCode {
    let written = serde_json::to_vec(response).map_err(std::io::Error::from).and_then(|mut line| {
        line.push(b'\n');
        let mut out = std::io::stdout().lock();
        out.write_all(&line)?;
        out.flush()
    });
    exit_code(written)
}

fn print_manifest(dispatcher: &Dispatcher) -> ExitCode {
    let problems = dispatcher.registry().problems();
    if !problems.is_empty() {
        eprintln!("the integration breaks the registry rules: {}", problems.join("; "));
        return ExitCode::FAILURE;
    }
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, &dispatcher.manifest())
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    exit_code(written)
}

fn exit_code(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("could not write the response to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => match EnvFilter::try_new(&value) {
            Ok(filter) => (filter, None),
            Err(e) => (EnvFilter::new("warn"), Some(e)),
        },
        _ => (EnvFilter::new("warn"), None),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::logs::MaskingStderr)
        .with_ansi(false)
        .try_init();
    if let Some(e) = bad {
        warn!("RUST_LOG is not a valid filter ({e}); using warn");
    }
}

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        error!(location = %location, "panic caught; its message is in the error entry of the response");
    }));
}
