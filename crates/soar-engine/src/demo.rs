//! `soar demo`: the emulator in-process and every flow of every integration, end to end.

use clap::Args;

use crate::cli::Io;
use crate::error::{EngineError, Result};

/// `soar demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {}

/// Runs the demo.
pub fn run(_args: DemoArgs, _io: &mut Io<'_>) -> Result<u8> {
    Err(EngineError::Other("The demo needs the emulator, which is not wired in yet.".into()))
}
