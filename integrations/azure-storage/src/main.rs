//! The azure-storage integration binary: one request on stdin, one response on stdout.

use std::process::ExitCode;

fn main() -> ExitCode {
    soar_core::run(azure_storage::integration())
}
