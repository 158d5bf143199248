//! Runs this integration's conformance suite (`test-data/azure-storage/cases/`) with the real binary
//! against the emulator, for one flow on the worldwide cloud, so `cargo test` catches breakage.
//! The full matrix (every flow and cloud) is `cargo xtask conformance --integration azure-storage`.
//! The test itself is written by `soar_integration_kit::conformance_test!`.
//!
//! The runner is the `soar-conformance` crate (a dev-dependency); the emulator is used only as a
//! server over HTTP (the binary talks to it through `SOAR_HOST_MAP` and `SOAR_EXTRA_CA`).

soar_integration_kit::conformance_test!("azure-storage");
