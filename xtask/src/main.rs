//! `cargo xtask`: the project's automation, written in Rust (see matklad/cargo-xtask).

mod bench_cold;
mod bench_speed;
mod cases;
mod codegen;
mod conformance;
mod fuzz;
mod integrations;
mod pack;
mod peers_ms;
mod peers_oidc;
mod scaffold;
mod suite;
mod tidy;
mod validate_yaml;
mod xsoar;

use anyhow::bail;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => suite::run(),
        Some("check-cases") => cases::run(args.get(1).map(String::as_str)),
        Some("codegen") => codegen::run(args.iter().skip(1).any(|a| a == "--check")),
        Some("conformance") => conformance::main(&args[1..]),
        Some("validate-yaml") => validate_yaml::run(),
        Some("pack") => pack::main(&args[1..]),
        Some("pack-check") => pack::check(),
        Some("new-integration") => scaffold::main(&args[1..]),
        Some("scaffold-check") => scaffold::check(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("peers") if args.get(1).map(String::as_str) == Some("oidc") => peers_oidc::run(),
        Some("peers") if args.get(1).map(String::as_str) == Some("ms") => peers_ms::run(),
        Some("peers") if matches!(args.get(1).map(String::as_str), None | Some("all")) => {
            let ms = peers_ms::run();
            let oidc = peers_oidc::run();
            ms.and(oidc)
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("emulator") => bench_emulator(),
        Some("bench") if args.get(1).map(String::as_str) == Some("cold-start") => bench_cold::run(&args[2..]),
        Some("bench") => bench_speed::run(&args[1..]),
        Some(other) => bail!("unknown xtask command: {other}"),
        None => bail!(
            "usage: cargo xtask <test | codegen [--check] | validate-yaml | pack <integration>... | pack --all | pack-check | conformance | new-integration | scaffold-check | fuzz | peers | check-cases FILE | bench>"
        ),
    }
}

/// `cargo xtask bench emulator`: client-credential token requests per second over loopback.
fn bench_emulator() -> anyhow::Result<()> {
    let status = soar_conformance::cargo_command()
        .args(["bench", "-p", "soar-emulator", "--bench", "token_rate"])
        .status()
        .map_err(|e| anyhow::anyhow!("running cargo bench: {e}"))?;
    if !status.success() {
        bail!("the emulator benchmark failed");
    }
    Ok(())
}
