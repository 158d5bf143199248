//! Runs this integration's conformance suite (`test-data/contoso-widgets/cases/`) with the real binary
//! against the emulator, so `cargo test` catches breakage; `cargo xtask conformance --integration
//! contoso-widgets` runs every flow.

soar_integration_kit::conformance_test!("contoso-widgets");
