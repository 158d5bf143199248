//! `cargo xtask`: the project's automation, written in Rust (see matklad/cargo-xtask).

mod cases;
mod codegen;
mod peers_oidc;

use std::process::Command;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("check-cases") => cases::run(args.get(1).map(String::as_str)),
        Some("codegen") => codegen::run(args.iter().skip(1).any(|a| a == "--check")),
        Some("peers") if args.get(1).map(String::as_str) == Some("oidc") => peers_oidc::run(),
        Some(other) => bail!("unknown xtask command: {other}"),
        None => bail!("usage: cargo xtask <test | codegen [--check]>"),
    }
}

/// Everything CI checks, in one command.
fn test() -> anyhow::Result<()> {
    let status =
        Command::new(env!("CARGO")).args(["test", "--workspace"]).status().context("running cargo test")?;
    if !status.success() {
        bail!("cargo test failed");
    }
    Ok(())
}
