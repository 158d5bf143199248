//! The microsoft-atp integration binary: one request on stdin, one response on stdout.

use std::process::ExitCode;

fn main() -> ExitCode {
    soar_integration_kit::run(microsoft_atp::integration())
}
