//! The engine <-> integration protocol: one JSON request in, one JSON response out.
//!
//! This crate does no I/O. It owns the wire types ([`Request`], [`Response`], [`Entry`]), the
//! integration context with its version, the [`Secret`] newtype that every credential is wrapped
//! in on parse, and the [`AuthFlow`] vocabulary that integrations declare. Field names follow the
//! engine's vocabulary (`Type`, `ContentsFormat`, ...) so that an engine maps them one to one.
//!
//! If the wire bytes of any type here change, bump [`PROTOCOL_VERSION`] and refresh the
//! snapshots under `crates/soar-protocol/snapshots/`.
//!
//! Guards, all run by `cargo test -p soar-protocol`:
//! - `tests/snapshots.rs` serializes representative requests, responses and a manifest and
//!   compares the exact bytes with `snapshots/*.json`. To accept a change, bump
//!   [`PROTOCOL_VERSION`] first, then run with `SOAR_UPDATE_SNAPSHOTS=1`; the update refuses
//!   to rewrite a drifted snapshot while `snapshots/PROTOCOL_VERSION` still names the current
//!   version, so the version cannot be forgotten.
//! - `tests/schema.rs` checks that `schema/*.json` (see [`schema`]) match the types;
//!   `cargo xtask codegen` rewrites them.
//!
//! Polling and mirroring (protocol version 3):
//! - a scheduled (polling) command is an entry carrying XSOAR's polling keys; see [`Schedule`];
//! - mirroring commands read XSOAR's argument names from `args` and answer in
//!   [`Response::mirror`]; see [`mirror`].
//!
//! Decisions on the wire:
//! - unknown top-level request fields are ignored, so an engine may send fields a binary does
//!   not know yet; `id: null` is the same as no `id`;
//! - a param is credentials only when it is an object with a string `password` (other keys,
//!   such as XSOAR's `passwordChanged`, are ignored); any other object or a list stays as it is;
//! - `Debug` of [`Request`] and [`IntegrationContext`] prints key names, never values.

mod context;
mod manifest;
pub mod mirror;
mod schedule;
pub mod schema;
mod secret;
mod types;

pub use context::IntegrationContext;
pub use manifest::*;
pub use mirror::Mirror;
pub use schedule::{MIN_NEXT_RUN_SECONDS, Schedule};
pub use secret::Secret;
pub use types::*;

/// The protocol version. Bumped whenever the wire bytes of a request, response or manifest change.
pub const PROTOCOL_VERSION: &str = "3";
