//! `cargo xtask conformance [--integration X] [--flow F] [--cloud C] [--case NAME] [--bless] [--verbose]`:
//! a thin front for the `soar-conformance` crate, which holds the runner (the integrations' tests
//! use the same crate as a dev-dependency). Prints `N passed, M failed` and fails when any failed.

use anyhow::bail;

/// Runs the selected suites and prints the totals.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let total = soar_conformance::cli(args)?;
    // The summary line is the command's result: it goes to stdout.
    #[allow(clippy::print_stdout)]
    {
        println!("{} passed, {} failed", total.passed, total.failed.len());
        if !total.rewritten.is_empty() {
            println!("{} case files rewritten: review the diff", total.rewritten.len());
        }
    }
    if !total.failed.is_empty() {
        bail!("{} conformance case run(s) failed", total.failed.len());
    }
    if total.passed != total.planned {
        bail!("{} of {} planned conformance case runs passed", total.passed, total.planned);
    }
    Ok(())
}
