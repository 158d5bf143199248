//! The dispatcher: one parsed request in, one response out, whatever happens in between.
//!
//! The flow of one request ([`Dispatcher::handle`]):
//! 1. look the command up in the registry (unknown -> an error listing this integration's
//!    commands);
//! 2. check the params (secret ones wrapped, defaults filled, missing required ones named) and
//!    the args against the command's specs (see `validate`), collecting every secret value;
//! 3. run the command, catching a panic as an error entry;
//! 4. build the response: the entries (an error becomes one Type 4 entry), `last_run`,
//!    `incidents`, `mirror`, the integration context when the command changed it (even when it then
//!    failed, so a refreshed token is kept), and the request's `id` and `context_version`;
//! 5. mask the request's secret values in every error entry: secret params and args, params
//!    secret by the reference's name rule, and the tokens of the integration context, both the
//!    one the request brought and the one the command returns (see `redact`). The same maskers
//!    mask the log output while the request runs (see `logs`).
//!
//! Parsing bytes ([`Dispatcher::parse`]) is separate so that serve mode can route a request by
//! its `id` before running it.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;
use soar_protocol::{AuthFlow, Entry, Manifest, Request, Response};
use tracing::{Instrument, debug, debug_span, trace};

use crate::budget::Weight;
use crate::redact::Masker;
use crate::registry::Registry;
use crate::validate::{check_args, check_params};
use crate::{CommandContext, Error, Integration, IntegrationContext, ParamSpec};

/// The largest request the runtime reads: 16 MiB.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// An integration made ready to answer requests: its registry and param specs, read once.
pub struct Dispatcher {
    prefix: &'static str,
    display_name: &'static str,
    about: crate::manifest::About,
    flows: &'static [AuthFlow],
    params: Vec<ParamSpec>,
    registry: Registry,
}

impl Dispatcher {
    /// Reads the integration's declarations once (calls `commands()` and `params()`).
    pub fn new<I: Integration + ?Sized>(integration: &I) -> Dispatcher {
        Dispatcher {
            about: crate::manifest::About {
                description: integration.description(),
                category: integration.category(),
                detailed_description: integration.detailed_description(),
            },
            ..Dispatcher::for_requests(integration)
        }
    }

    /// [`Dispatcher::new`] without the manifest's texts (description, category, detailed
    /// description), which only `--manifest` prints: the one-shot and serve modes of
    /// [`crate::run`] use it, so a run does not write the instance help it never shows.
    pub(crate) fn for_requests<I: Integration + ?Sized>(integration: &I) -> Dispatcher {
        Dispatcher {
            prefix: integration.prefix(),
            display_name: integration.display_name(),
            about: crate::manifest::About::default(),
            flows: integration.supported_flows(),
            params: integration.params(),
            registry: Registry::from_integration(integration),
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The manifest (see [`crate::manifest`]).
    pub fn manifest(&self) -> Manifest {
        crate::manifest::build(
            self.prefix,
            self.display_name,
            &self.about,
            self.flows,
            &self.params,
            &self.registry,
        )
    }

    /// Parses one request. On failure the error response already carries the request's `id`
    /// when one could be read.
    ///
    /// A request whose parsed form would exceed the density cap (see `budget`) is refused
    /// before it is parsed.
    pub fn parse(&self, input: &[u8]) -> Result<Request, Box<Response>> {
        self.parse_weighed(input, crate::budget::estimate(input))
    }

    /// [`Dispatcher::parse`] with the weight already estimated (serve mode weighs first).
    pub(crate) fn parse_weighed(&self, input: &[u8], weight: Weight) -> Result<Request, Box<Response>> {
        let fail = |e: Error, id: Option<Value>| Box::new(Response { id, ..error_response(e) });
        if weight.too_dense() {
            return Err(fail(
                Error::InvalidRequest(format!(
                    "The request is too dense to parse: its {} bytes would take about {} MiB in memory, more than {} times its size. Send large lists as text (for example comma-separated) or in several calls.",
                    weight.bytes,
                    weight.parsed / (1024 * 1024),
                    crate::budget::MAX_EXPANSION
                )),
                probe(input).ok().and_then(|p| p.small_id()),
            ));
        }
        // Fast path: a well-formed request parses straight into the type.
        if let Ok(request) = serde_json::from_slice::<Request>(input) {
            return Ok(request);
        }
        // Slow path, for a message that names what is wrong and the request's id. It parses
        // no tree of the request: the bytes are checked, probed for `id` and `command`, and
        // deserialized again with the path of the failing field recorded.
        if input.iter().all(u8::is_ascii_whitespace) {
            return Err(fail(
                Error::InvalidRequest(
                    "The request is empty. Send one JSON object such as {\"command\": \"test-module\"}."
                        .into(),
                ),
                None,
            ));
        }
        if let Err(e) = serde_json::from_slice::<IgnoredAny>(input) {
            return Err(fail(
                Error::InvalidRequest(format!(
                    "The request is not valid JSON ({e}). Send one JSON object such as {{\"command\": \"test-module\", \"args\": {{}}}}."
                )),
                None,
            ));
        }
        let probe = match probe(input) {
            Ok(probe) => probe,
            Err(_) => {
                return Err(fail(
                    Error::InvalidRequest(format!(
                        "The request must be a JSON object with a \"command\" field, not {}.",
                        kind(input)
                    )),
                    None,
                ));
            }
        };
        let id = probe.id();
        if !probe.has_command {
            let names: Vec<&str> = self.registry.names().collect();
            return Err(fail(
                Error::InvalidRequest(format!(
                    "The request has no \"command\" field. Add one, e.g. \"command\": \"test-module\"; this integration's commands are: {}.",
                    names.join(", ")
                )),
                id,
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(input);
        serde_path_to_error::deserialize::<_, Request>(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let message = if path == "." {
                format!("The request does not have the expected shape: {}.", e.inner())
            } else {
                format!(
                    "The request field `{path}` has the wrong type: {}. See the protocol schema (crates/soar-protocol/schema/request.schema.json).",
                    e.inner()
                )
            };
            fail(Error::InvalidRequest(message), id.clone())
        })
    }

    /// Parses and runs one request given as bytes; always returns a response.
    pub async fn handle_bytes(&self, input: &[u8]) -> Response {
        if input.len() > MAX_REQUEST_BYTES {
            return error_response(Error::RequestTooLarge { limit: MAX_REQUEST_BYTES });
        }
        match self.parse(input) {
            Ok(request) => self.handle(request).await,
            Err(response) => *response,
        }
    }

    /// The response refusing `request` before anything of it runs, when its command cannot run:
    /// the registry breaks its rules, or the integration has no such command. One-shot mode
    /// answers these without starting the async runtime; [`Dispatcher::handle`] gives the same
    /// response.
    pub fn refusal(&self, request: &Request) -> Option<Response> {
        let e = self.lookup(&request.command).err()?;
        Some(Response {
            id: request.id.clone(),
            context_version: request.context_version,
            entries: vec![e.to_entry()],
            ..Response::default()
        })
    }

    fn lookup(&self, command: &str) -> Result<&crate::registry::Registered, Error> {
        if !self.registry.problems().is_empty() {
            return Err(Error::Registry(self.registry.problems().join("; ")));
        }
        self.registry.get(command).ok_or_else(|| Error::UnknownCommand {
            command: command.to_owned(),
            available: self.registry.names().map(str::to_owned).collect(),
        })
    }

    /// Runs one parsed request; always returns a response.
    ///
    /// Everything logged while it runs (the command's own logs included) is inside a `request`
    /// span carrying the command name and the `id`, so concurrent serve-mode logs stay apart.
    pub async fn handle(&self, request: Request) -> Response {
        let span = debug_span!(
            "request",
            command = %request.command,
            id = %request.id.as_ref().map(ToString::to_string).unwrap_or_default()
        );
        self.handle_in_span(request).instrument(span).await
    }

    async fn handle_in_span(&self, request: Request) -> Response {
        let Request {
            id,
            command,
            args,
            mut params,
            integration_context,
            context_version,
            last_run,
            instance,
        } = request;
        debug!("request received");
        let mut response = Response { id, context_version, ..Response::default() };
        let registered = match self.lookup(&command) {
            Ok(registered) => registered,
            Err(e) => {
                response.entries = vec![e.to_entry()];
                return response;
            }
        };
        let mut masker = Masker::with_extra_encodings();
        let params_checked = check_params(&self.params, &mut params, &mut masker);
        // The reference's name rule too (`api_key`, `password`, ...), for params an integration
        // forgot to declare secret; and the context's tokens, which a server may echo.
        masker.add_params(&params);
        masker.add_context(&integration_context);
        let prepared =
            params_checked.and_then(|()| check_args(&command, &registered.args, args, &mut masker));
        let masker = Arc::new(masker);
        let _logs = crate::logs::register(masker.clone());
        let args = match prepared {
            Ok(args) => args,
            Err(e) => {
                debug!("request refused: invalid input");
                response.entries = vec![e.to_entry()];
                mask_errors(&[&masker], &mut response);
                return response;
            }
        };
        let secret_args = registered.args.iter().filter(|a| a.secret).map(|a| a.name.to_owned()).collect();
        let mut ctx = CommandContext {
            command,
            args,
            params,
            integration_context: IntegrationContext::new(integration_context),
            last_run,
            instance,
            secret_args,
        };
        trace!(context = ?ctx, "running command");
        let result = catch_panic(registered.command.run(&mut ctx)).await;
        match result {
            Ok(Ok(outcome)) => {
                response.entries = outcome.entries;
                response.last_run = outcome.last_run;
                response.incidents = outcome.incidents;
                response.mirror = outcome.mirror;
            }
            Ok(Err(e)) => {
                debug!("command returned an error");
                response.entries = vec![e.to_entry()];
            }
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                response.entries = vec![Error::Panicked { command: ctx.command.clone(), message }.to_entry()];
            }
        }
        // Tokens the command obtained (a refresh before the failing call) are masked too.
        let mut returned = Masker::with_extra_encodings();
        if ctx.integration_context.changed() {
            let data = ctx.integration_context.into_data();
            if response.entries.iter().any(Entry::is_error) {
                returned.add_context(&data);
            }
            response.integration_context = Some(data);
        }
        mask_errors(&[&masker, &returned], &mut response);
        response
    }
}

/// A response holding only the error entry of `e`.
pub(crate) fn error_response(e: Error) -> Response {
    Response { entries: vec![e.to_entry()], ..Response::default() }
}

fn mask_errors(maskers: &[&Masker], response: &mut Response) {
    for masker in maskers.iter().filter(|m| !m.is_empty()) {
        for entry in response.entries.iter_mut().filter(|e| e.is_error()) {
            masker.mask_entry(entry);
        }
    }
}

/// Polls `future`, turning a panic inside it into `Err(payload)`. The future is not polled
/// again after a panic.
async fn catch_panic<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// What a valid JSON text is, from its first byte.
fn kind(input: &[u8]) -> &'static str {
    match input.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

/// The top-level `id` (kept raw) and whether `command` is present, read without building the
/// rest of the request.
struct Probe {
    id: Option<Box<RawValue>>,
    has_command: bool,
}

/// The largest `id` echoed in the answer to a request refused as too dense.
const MAX_PROBED_ID: usize = 64 * 1024;

impl Probe {
    fn id(&self) -> Option<Value> {
        let raw = self.id.as_ref()?;
        serde_json::from_str::<Value>(raw.get()).ok().filter(|v| !v.is_null())
    }

    /// The id, unless its text is over [`MAX_PROBED_ID`] (its parsed form is not bounded).
    fn small_id(&self) -> Option<Value> {
        self.id.as_ref().filter(|raw| raw.get().len() <= MAX_PROBED_ID).and(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Probe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Probe;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                let mut probe = Probe { id: None, has_command: false };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        // The last `id` wins, as it does when parsing the request.
                        "id" => probe.id = Some(map.next_value()?),
                        "command" => {
                            probe.has_command = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(probe)
            }
        }
        d.deserialize_map(Visit)
    }
}

fn probe(input: &[u8]) -> serde_json::Result<Probe> {
    serde_json::from_slice(input)
}
