//! The integration runtime.
//!
//! An integration binary is `fn main() { soar_core::run(MyIntegration) }`. This crate reads the
//! request, finds the command in the registry, runs it, formats what it returns as War Room
//! entries and writes the response. It knows nothing about HTTP or Microsoft.
//!
//! The runtime, module by module (each module's docs hold the decisions taken where the issue
//! was silent):
//! - `runtime`: [`run`], the modes (`--serve`, `--manifest`, `--help`), exit codes, logging to
//!   stderr (`RUST_LOG`, default `warn`), the panic hook that logs no message;
//! - `dispatch`: [`Dispatcher`], the flow of one request and the 16 MiB limit;
//! - [`budget`]: memory per request (the density cap) and per `--serve` process (the budget
//!   of request weight in flight);
//! - [`registry`]: the naming rules (prefix, uniqueness, engine command names);
//! - `validate`: args (blank = not given, defaults, options, unknown args refused except the
//!   engine's generic [`ENGINE_ARGS`]) and params (secret wrapping, defaults, required);
//! - `redact`: the crate's one secret masker (the formatter's `return_error` uses it with the
//!   reference's rule); every secret of the request (the integration context's tokens
//!   included; values under 4 characters excepted) masked as [`MASK`] in every error entry;
//! - `logs`: the log output masked with the secrets of the requests in flight;
//! - [`mod@serve`]: ordered requests without `id`, concurrent ones with `id`, and how they mix;
//! - [`manifest`]: the `--manifest` shape (an XSOAR integration YAML's keys).

pub mod args;
pub mod budget;
mod command;
mod dispatch;
mod error;
pub mod format;
#[doc(hidden)]
pub mod golden;
mod logs;
pub mod manifest;
mod redact;
pub mod registry;
mod runtime;
pub mod serve;
mod validate;

pub use command::*;

pub use dispatch::{Dispatcher, MAX_REQUEST_BYTES};
pub use error::{ApiFailure, Error};
pub use format::{CommandResults, TableOptions, table_to_markdown};
pub use redact::{LARGE_SECRET_BYTES, MASK, MIN_SECRET_CHARS, is_context_secret_key, is_secret_name};
pub use registry::{Registry, check_integration};
pub use runtime::{handle, handle_bytes, one_shot, run};
pub use serve::{ServeConfig, serve};
pub use soar_protocol::{
    self as protocol, AuthFlow, Entry, IntegrationContext, Object, Params, Request, Response, Secret,
};
pub use validate::ENGINE_ARGS;
