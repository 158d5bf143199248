//! The microsoft-atp integration binary: one request on stdin, one response on stdout.
//!
//! With `SOAR_REPORT_PEAK_RSS` set (the engine's fetch benchmark sets it), the binary writes
//! its peak resident set (`peak-rss VmHWM: N kB`) to standard error when it ends.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = soar_integration_kit::run(microsoft_atp::integration());
    if std::env::var_os("SOAR_REPORT_PEAK_RSS").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("peak-rss {line}");
        }
    }
    code
}
