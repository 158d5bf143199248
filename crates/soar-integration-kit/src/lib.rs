//! What every Microsoft integration of soar-rt shares, written once: the seam between the
//! command handlers and a Microsoft API ([`api`]), its real implementation over
//! `soar_auth::MsClient` ([`client`]), the War Room shapes ([`render`]), the reading of
//! command arguments ([`args`]), the declaration helpers and the command wrapper that builds
//! one auth client per request ([`spec`]), the `soar_core::Integration` made of those
//! declarations ([`integration`]), the instance help written from the auth spec ([`help`]:
//! the YAML's `detaileddescription`), and a test helper ([`conformance_test!`]).
//!
//! **Invariant:** knows nothing of any single integration (no prefix, command name, path or
//! API version of one lives here; each integration passes its own). It depends on
//! `soar-core`, `soar-auth` and `soar-protocol`, never on the emulator.
//!
//! Decisions:
//! - The seam returns the status with the body ([`api::Reply`]); handlers that need only the
//!   JSON use [`api::Api::send_json`].
//! - [`client::MsApi`] is parameterised by the `soar_auth::ApiKind` and an optional version
//!   segment (`v1.0` for Graph, none for ARM, whose version is a query parameter); the
//!   segment is put before relative paths only, never before absolute next links.
//! - An empty answer body (202, 204) is `Value::Null`; a body that is not JSON is an error
//!   with the reference's wording (`Failed to parse json object from response: ...`).
//! - `Api::base_url` is fallible because `CloudEndpoints::base` is (a cloud without a Log
//!   Analytics endpoint); for Graph and ARM it always answers.
//! - The prefix and flows an `MsIntegration` declares are its `AuthSpec`'s, so the two can
//!   never disagree.
//! - Every command builds its `MsClient` per request from that request's params (an instance
//!   can change between requests of one `--serve` process); the process-wide `Shared` keeps
//!   tokens and connections.
//! - The conformance test is a macro, not a function: the runner (the `soar-conformance`
//!   crate) links the emulator, which this crate must not depend on, so each integration names
//!   the runner as a dev-dependency and the macro writes the test around it there.

pub mod api;
pub mod args;
pub mod client;
#[cfg(test)]
mod fixtures;
pub mod help;
pub mod integration;
pub mod render;
pub mod spec;
#[doc(hidden)]
pub mod test_util;

pub use api::{Api, ApiError, Call, Method, Reply};
pub use client::MsApi;
pub use integration::{About, CommandSet, MsIntegration};
pub use render::{Results, Table, file_entry};
pub use spec::{CommandKind, KindHandler, kind_commands};
