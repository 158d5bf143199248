//! Test helpers for the integrations' own test crates (hidden from the docs).
//!
//! [`crate::conformance_test!`] writes the test that runs an integration's conformance suite
//! (`test-data/<name>/cases/`) with its real binary against the emulator, for the
//! client-secret flow (else the suite's first flow) on the worldwide cloud, so `cargo test -p <name>` catches breakage
//! (`cargo xtask conformance --integration <name>` runs every flow and cloud). The runner is
//! the `soar-conformance` crate, which the calling integration names as a dev-dependency; this
//! crate itself never links the runner or the emulator (the macro's expansion names
//! `::soar_conformance`, resolved in the calling test crate).

/// Writes `#[test] fn suite_passes_for_one_flow_against_the_emulator` for the
/// integration (package and binary) named `$name`. The calling crate needs
/// `soar-conformance.workspace = true` under `[dev-dependencies]`; the test file is then:
///
/// ```text
/// soar_integration_kit::conformance_test!("msgraph-user");
/// ```
///
/// The test passes when every case file that applies to the chosen flow on the worldwide
/// cloud ran and matched, and at least one did (`soar_conformance::Summary::verdict`: the count
/// comes from the suite's data, so a 3-case integration passes and a case that silently does not
/// run fails).
///
/// It never blesses: with `SOAR_CONFORMANCE_BLESS` set it fails at once and says to run
/// `cargo xtask conformance --integration <name> --bless`, which blesses every flow and cloud
/// together (a one-flow bless would rewrite the expectations the other flows are compared with),
/// so the variable can never turn `cargo test` green.
#[macro_export]
macro_rules! conformance_test {
    ($name:literal) => {
        /// The suite for one flow (client secret when the suite has it, else its first flow) on
        /// the worldwide cloud (or the suite's first cloud).
        #[test]
        fn suite_passes_for_one_flow_against_the_emulator() {
            let bin = ::std::path::Path::new(env!(concat!("CARGO_BIN_EXE_", $name)));
            let bin_dir = bin.parent().expect("the binary has a folder");
            let root = ::soar_conformance::workspace_root();
            let suite = ::soar_conformance::load_suite(&root, $name).expect("the suite reads");
            let pick = |keys: Vec<&String>, wanted: &str| -> String {
                if keys.iter().any(|k| *k == wanted) {
                    wanted.to_owned()
                } else {
                    keys.first().map(|k| (*k).clone()).expect("the suite declares one at least")
                }
            };
            let flow = pick(suite.flows.keys().collect(), "client-secret");
            let cloud = pick(suite.clouds.keys().collect(), "worldwide");
            if ::std::env::var_os("SOAR_CONFORMANCE_BLESS").is_some() {
                panic!(
                    "SOAR_CONFORMANCE_BLESS is set: cargo test does not bless; run `cargo xtask conformance \
                     --integration {} --bless` (every flow and cloud), review the diff, and run the tests \
                     again without the variable",
                    $name
                );
            }
            let opts = ::soar_conformance::Options {
                flow: Some(flow.clone()),
                cloud: Some(cloud.clone()),
                ..::soar_conformance::Options::default()
            };
            let summary =
                ::soar_conformance::run_suite(&root, $name, bin_dir, &opts).expect("the suite runs");
            if let Err(e) = summary.verdict(&format!("{} [{flow}/{cloud}]", $name), "--bless")
            {
                panic!("{e}");
            }
        }

        /// `SOAR_CONFORMANCE_BLESS` cannot turn the suite's test green: the test above, run
        /// again in a child process with the variable set, fails and says how to bless.
        #[test]
        fn the_bless_variable_fails_the_suite_test() {
            if ::std::env::var_os("SOAR_CONFORMANCE_BLESS").is_some() {
                return; // the child of this test (or a person blessing) runs the test above only
            }
            let exe = ::std::env::current_exe().expect("the test binary's path");
            let out = ::std::process::Command::new(exe)
                .args(["suite_passes_for_one_flow_against_the_emulator", "--exact", "--test-threads=1"])
                .env("SOAR_CONFORMANCE_BLESS", "1")
                .output()
                .expect("the test binary runs");
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "SOAR_CONFORMANCE_BLESS=1 passed the suite test:\n{text}");
            assert!(text.contains("cargo test does not bless"), "{text}");
        }
    };
}
