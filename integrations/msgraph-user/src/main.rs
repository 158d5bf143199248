//! The msgraph-user integration binary: one request on stdin, one response on stdout.

use std::process::ExitCode;

fn main() -> ExitCode {
    soar_core::run(msgraph_user::integration())
}
