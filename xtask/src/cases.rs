//! `cargo xtask check-cases <file>`: evaluates a golden War Room case file with soar-core.
//!
//! Prints one `FAIL <id> (<function>): <diff>` line per failing case, then `N passed, M failed`
//! alone on the last line; exits 1 when any case fails and 2 when the file cannot be used. The
//! evaluation itself lives in `soar_core::golden`, which soar-core's own tests also use.

use std::io::Write;
use std::path::Path;

/// Runs the cases of `path`.
pub fn run(path: Option<&str>) -> anyhow::Result<()> {
    let Some(path) = path else {
        return usage_error(
            "usage: cargo xtask check-cases <file> (for example test-data/war-room/war-room-cases.json)",
        );
    };
    let report = match soar_core::golden::check_file(Path::new(path)) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let mut out = std::io::stdout().lock();
    for line in report.failure_lines() {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", report.summary())?;
    out.flush()?;
    if report.failed() > 0 {
        // The failures are listed above; no error report on top.
        std::process::exit(1);
    }
    Ok(())
}

/// Says what is wrong on stderr and exits 2 (a bad invocation, not a failed case).
fn usage_error(message: &str) -> anyhow::Result<()> {
    writeln!(std::io::stderr(), "{message}")?;
    std::process::exit(2);
}
