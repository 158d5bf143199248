//! `cargo xtask check-cases <file>`: evaluates a golden War Room case file with soar-core.
//!
//! Prints one `FAIL <id> (<function>): <diff>` line per failing case, then `N passed, M failed`
//! alone on the last line; exits non-zero when any case fails. The evaluation itself lives in
//! `soar_core::golden`, which soar-core's own tests also use.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail};

/// Runs the cases of `path`.
pub fn run(path: Option<&str>) -> anyhow::Result<()> {
    let Some(path) = path else {
        bail!("usage: cargo xtask check-cases <file> (for example test-data/war-room/war-room-cases.json)");
    };
    let report = soar_core::golden::check_file(Path::new(path)).map_err(|e| anyhow!(e))?;
    let mut out = std::io::stdout().lock();
    for line in report.failure_lines() {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", report.summary())?;
    out.flush()?;
    if report.failed() > 0 {
        // Exit non-zero without an error report: the failures are already listed above.
        std::process::exit(1);
    }
    Ok(())
}
