//! The one crate an integration depends on: what every Microsoft integration of soar-rt
//! shares, written once, and the re-exports of what an integration needs from the runtime
//! (`soar-core`), the auth crates and the derive macros.
//!
//! - [`command`]: one place per command: a `#[derive(Args)]` struct and its [`Handler`] impl;
//! - [`integration`]: [`About`] (the auth spec, the form, the own params) and
//!   [`MsIntegration`], the builder that lists the commands by type;
//! - [`params`]: the instance form's auth fields generated from the declared flows, and the
//!   check that they agree;
//! - [`api`]: the seam to a Microsoft API ([`Api`], [`Request`], [`Reply`]); [`client`]: its real
//!   implementation over `soar_auth::MsClient`; [`testing`]: a scripted fake for handler tests;
//! - [`paging`]: OData and ARM next links and `$top`/`$skip` as streams (constant memory);
//! - [`render`]: War Room shapes ([`Results`], [`Table`], [`file_entry`]);
//! - [`help`]: the instance help written from the auth spec and the form (the YAML's
//!   `detaileddescription`);
//! - [`conformance_test!`]: the per-integration conformance test.
//!
//! **Invariant:** knows nothing of any single integration (no prefix, command name, path or
//! API version of one lives here; each integration passes its own). It depends on
//! `soar-core`, `soar-auth`, `soar-auth-commands`, `soar-derive` and `soar-protocol`, never on
//! the emulator.
//!
//! Decisions:
//! - One error type reaches the War Room: handlers return `soar_core::Error`; an API's error
//!   answer is `Error::Api` (status, headers, body, and the reference's text made once where
//!   soar-auth reads the answer); `soar_auth_commands::core_error` is the one conversion.
//! - One request builder: `soar_auth::ApiRequest` (re-exported as [`Request`]) goes from the
//!   handler to `MsClient::send`; which API it goes to is the [`MsApi`]'s, not the request's.
//! - Next links (arguments such as `next_page`, and links in answers) are followed only on the
//!   API's own origin over https ([`api::check_next_link`]): the bearer token goes nowhere else.
//! - [`client::MsApi`] is parameterised by the `soar_auth::ApiKind` and an optional version
//!   segment (`v1.0` for Graph, none for ARM, whose version is a query parameter); the
//!   segment is put before relative paths only, never before absolute next links.
//! - An empty answer body (202, 204) is `Value::Null`; a body that is not JSON is an error
//!   with the reference's wording (`Failed to parse json object from response: ...`).
//! - **The global allocator** of every binary built on the kit is `soar_alloc::SoarAlloc`:
//!   mimalloc in a `--serve` process, glibc's malloc in a one-shot run (see `soar-alloc` for
//!   why and how the choice stays sound). A `--serve` process answering many requests at once
//!   spends much of its time allocating and freeing `serde_json` values: `cargo xtask bench
//!   serve` measured 0.42 ms of the integration's CPU per 100-user listing with mimalloc
//!   against 0.80 ms with glibc's (0.09 against 0.14 ms a get), for more peak RSS. A one-shot
//!   run pays for mimalloc's first pages instead (0.2 ms, a tenth of a run). mimalloc is built
//!   without transparent huge pages (the workspace enables its `no_thp` feature). The feature
//!   `system-alloc` puts the system allocator in every mode.
//! - Every command builds its `MsClient` per request from that request's params (an instance
//!   can change between requests of one `--serve` process); the process-wide `Shared` keeps
//!   tokens and connections. The instance's errors come before the arguments'.
//! - The conformance test is a macro, not a function: the runner (the `soar-conformance`
//!   crate) links the emulator, which this crate must not depend on, so each integration names
//!   the runner as a dev-dependency and the macro writes the test around it there.

#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: soar_alloc::SoarAlloc = soar_alloc::SoarAlloc;

// The derive macros name `::soar_integration_kit`; this lets the kit's own tests use them.
#[cfg(test)]
extern crate self as soar_integration_kit;

pub mod api;
pub mod client;
pub mod command;
#[cfg(test)]
mod fixtures;
pub mod help;
pub mod hints;
pub mod integration;
pub mod paging;
pub mod params;
pub mod render;
#[doc(hidden)]
pub mod test_util;
pub mod testing;

pub use api::{Api, Reply, Request, check_next_link};
pub use async_trait::async_trait;
pub use client::MsApi;
pub use command::{ApiClient, BOOL, EnvFn, Handler, arg_or_param, out};
pub use hints::Permission;
pub use http::Method;
pub use integration::{About, Around, AuthCommands, MsIntegration, Rescue};
pub use paging::{Page, Paging};
pub use params::{AuthForm, FlowPicker};
pub use render::{Results, Table, file_entry};
pub use soar_auth::{
    ApiKind, AuthFlow, AuthSpec, CURRENT_REFRESH_TOKEN, MAX_TIMEOUT, MsClient, ParamNames, ParamRef,
    PlainHttp, matrix,
};
pub use soar_auth_commands::{core_error, ok_outcome};
pub use soar_core::args::typed::value_text;
pub use soar_core::args::{ArgDateTime, Args, Choice, Clock, FixedClock, Json, SystemClock, parse_date_text};
pub use soar_core::{
    ApiFailure, ArgSpec, CommandContext, Entry, Error, Integration, IntegrationContext, Object, Outcome,
    OutputSpec, ParamSpec, Params, Secret, check_integration, format, run,
};
pub use soar_derive::{Args, Choice};
pub use soar_protocol::{Mirror, ParamValue, Schedule, mirror};

/// What the derive macros' generated code names (not for direct use).
#[doc(hidden)]
pub mod __private {
    pub use serde_json::Value;
    pub use soar_core::args::{
        ArgContext, Args, Choice, FromArg, choice_from_arg, decode_field, decode_field_or, is_blank,
    };
    pub use soar_core::{ArgSpec, Error, Object};
}
