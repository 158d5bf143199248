//! The engine <-> integration protocol: one JSON request in, one JSON response out.
//!
//! This crate does no I/O. It owns the wire types ([`Request`], [`Response`], [`Entry`]), the
//! integration context with its version, the [`Secret`] newtype that every credential is wrapped
//! in on parse, and the [`AuthFlow`] vocabulary that integrations declare. Field names follow the
//! engine's vocabulary (`Type`, `ContentsFormat`, ...) so that an engine maps them one to one.
//!
//! If the wire bytes of any type here change, bump [`PROTOCOL_VERSION`] and refresh the
//! snapshots under `crates/soar-protocol/snapshots/`.

mod context;
mod secret;
mod types;

pub use context::IntegrationContext;
pub use secret::Secret;
pub use types::*;

/// The protocol version. Bumped whenever the wire bytes of a request or response change.
pub const PROTOCOL_VERSION: &str = "1";
