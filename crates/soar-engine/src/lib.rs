//! The `soar` engine: instances, the integration-context store, running integration binaries
//! over the protocol, the War Room printer, the supported-flows matrix and the demo.
//!
//! **Invariant:** the engine runs integration binaries (spawns them, one JSON request on stdin,
//! one JSON response on stdout); it never links their code.

pub mod cli;
pub mod cmdline;
pub mod demo;
pub mod error;
pub mod flows;
pub mod fsutil;
pub mod instance;
pub mod manifest;
pub mod render;
pub mod runner;
pub mod store;

pub use error::{EngineError, Result};
