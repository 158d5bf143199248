//! Test helpers for the integrations' own test crates (hidden from the docs).
//!
//! [`crate::conformance_test!`] writes the test that runs an integration's conformance suite
//! (`test-data/<name>/cases/`) with its real binary against the emulator, for the
//! client-secret flow on the worldwide cloud, so `cargo test -p <name>` catches breakage
//! (`cargo xtask conformance --integration <name>` runs every flow and cloud). The runner is
//! the `soar-conformance` crate, which the calling integration names as a dev-dependency; this
//! crate itself never links the runner or the emulator (the macro's expansion names
//! `::soar_conformance`, resolved in the calling test crate).

/// Writes `#[test] fn suite_passes_for_client_credentials_against_the_emulator` for the
/// integration (package and binary) named `$name`. The calling crate needs
/// `soar-conformance.workspace = true` under `[dev-dependencies]`; the test file is then:
///
/// ```text
/// soar_integration_kit::conformance_test!("msgraph-user");
/// ```
///
/// The test passes when every case file that applies to the client-secret flow on the worldwide
/// cloud ran and matched, and at least one did (`soar_conformance::Summary::verdict`: the count
/// comes from the suite's data, so a 3-case integration passes and a case that silently does not
/// run fails).
///
/// `SOAR_CONFORMANCE_BLESS=1` rewrites the expectations instead (review the diff). The test then
/// still fails when a file changed, so blessing never turns `cargo test` green by itself; run it
/// again without the variable.
#[macro_export]
macro_rules! conformance_test {
    ($name:literal) => {
        #[test]
        fn suite_passes_for_client_credentials_against_the_emulator() {
            let bin = ::std::path::Path::new(env!(concat!("CARGO_BIN_EXE_", $name)));
            let bin_dir = bin.parent().expect("the binary has a folder");
            let opts = ::soar_conformance::Options {
                flow: Some("client-secret".into()),
                cloud: Some("worldwide".into()),
                bless: ::std::env::var("SOAR_CONFORMANCE_BLESS").is_ok_and(|v| v == "1"),
                ..::soar_conformance::Options::default()
            };
            let summary =
                ::soar_conformance::run_suite(&::soar_conformance::workspace_root(), $name, bin_dir, &opts)
                    .expect("the suite runs");
            if let Err(e) =
                summary.verdict(concat!($name, " [client-secret/worldwide]"), "SOAR_CONFORMANCE_BLESS")
            {
                panic!("{e}");
            }
        }
    };
}
