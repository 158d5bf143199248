//! The integration runtime.
//!
//! An integration binary is `fn main() { soar_core::run(MyIntegration) }`. This crate reads the
//! request, finds the command in the registry, runs it, formats what it returns as War Room
//! entries and writes the response. It knows nothing about HTTP or Microsoft.

mod command;
mod error;
mod runtime;

pub use command::*;

pub use error::Error;
pub use runtime::{handle, handle_bytes, run};
pub use soar_protocol::{
    self as protocol, AuthFlow, Entry, IntegrationContext, Object, Params, Request, Response, Secret,
};
