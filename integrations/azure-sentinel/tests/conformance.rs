//! Runs this integration's conformance suite (`test-data/azure-sentinel/cases/`) with the real binary
//! against the emulator, so `cargo test` catches breakage; `cargo xtask conformance --integration
//! azure-sentinel` runs every flow.

soar_integration_kit::conformance_test!("azure-sentinel");
