//! Runs this integration's conformance suite (`test-data/microsoft-atp/cases/`) with the real binary
//! against the emulator, so `cargo test` catches breakage; `cargo xtask conformance --integration
//! microsoft-atp` runs every flow.

soar_integration_kit::conformance_test!("microsoft-atp");
