//! `--manifest` of the real binary lists the reference's 15 commands (and test-module) with
//! their arguments and outputs.

use std::process::Command;

use serde_json::Value;

#[test]
fn manifest_lists_every_reference_command_with_args_and_outputs() {
    let out = Command::new(env!("CARGO_BIN_EXE_azure-storage")).arg("--manifest").output().unwrap();
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    let commands = manifest["script"]["commands"].as_array().unwrap();
    // (command, argument count, output count) from the reference YAML (fact sheet §3-5).
    let expected = [
        ("test-module", 0, 0),
        ("azure-storage-auth-test", 0, 0),
        ("azure-storage-auth-start", 0, 0),
        ("azure-storage-auth-complete", 1, 0),
        ("azure-storage-auth-reset", 0, 0),
        ("azure-storage-generate-login-url", 2, 0), // pkce and prompt (soar-rt additions)
        ("azure-storage-account-list", 3, 46),
        ("azure-storage-account-create-update", 24, 46),
        ("azure-storage-blob-service-properties-get", 3, 7),
        ("azure-storage-blob-service-properties-set", 16, 16),
        ("azure-storage-blob-containers-create", 7, 3),
        ("azure-storage-blob-containers-update", 7, 7),
        ("azure-storage-blob-containers-list", 6, 9),
        ("azure-storage-blob-container-delete", 4, 0),
        ("azure-storage-subscriptions-list", 0, 12),
        ("azure-storage-resource-group-list", 3, 12),
    ];
    for (name, args, outputs) in expected {
        let c = commands.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(c["arguments"].as_array().map_or(0, Vec::len), args, "{name} arguments");
        assert_eq!(c["outputs"].as_array().map_or(0, Vec::len), outputs, "{name} outputs");
    }
    assert_eq!(commands.len(), expected.len(), "no command beyond the reference's");
    let auth_type = manifest["configuration"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "auth_type")
        .unwrap()
        .clone();
    assert_eq!(auth_type["defaultvalue"], "Device Code");
}
