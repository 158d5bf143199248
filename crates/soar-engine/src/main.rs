//! The `soar` CLI; everything lives in the library (`soar_engine::cli`).

fn main() -> std::process::ExitCode {
    soar_engine::cli::main()
}
