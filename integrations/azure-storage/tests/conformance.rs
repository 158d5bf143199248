//! Runs this integration's conformance suite (`test-data/azure-storage/cases/`) with the real binary
//! against the emulator, for one flow on the worldwide cloud, so `cargo test` catches breakage.
//! The full matrix (every flow and cloud) is `cargo xtask conformance --integration azure-storage`.
//!
//! The runner is the xtask's own module, compiled in here; the emulator is used only as a
//! server over HTTP (the binary talks to it through `SOAR_HOST_MAP` and `SOAR_EXTRA_CA`).

#[allow(dead_code)]
#[path = "../../../xtask/src/conformance.rs"]
mod conformance;

use std::path::Path;

#[test]
fn suite_passes_for_client_credentials_against_the_emulator() {
    let bin = Path::new(env!("CARGO_BIN_EXE_azure-storage"));
    let bin_dir = bin.parent().expect("the binary has a folder");
    let opts = conformance::Options {
        flow: Some("client-secret".into()),
        cloud: Some("worldwide".into()),
        // `SOAR_CONFORMANCE_BLESS=1` rewrites the expectations instead (review the diff).
        bless: std::env::var("SOAR_CONFORMANCE_BLESS").is_ok_and(|v| v == "1"),
        ..conformance::Options::default()
    };
    let summary = conformance::run_suite(&conformance::workspace_root(), "azure-storage", bin_dir, &opts)
        .expect("the suite runs");
    assert!(summary.failed.is_empty(), "{} failed:\n{}", summary.failed.len(), summary.failed.join("\n"));
    assert!(summary.passed > 20, "only {} case runs passed", summary.passed);
}
