//! Two promises checked on the real binary: secret arguments never reach stdout (entries) or
//! stderr (logs, even at trace level), and `--manifest` lists every reference command with its
//! arguments and outputs.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_msgraph-user");

#[test]
fn secret_arguments_appear_in_no_output_or_log() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = rt.block_on(soar_conformance::emulator::Emu::start()).unwrap();
    let ph = emu.placeholders().unwrap();
    let params = json!({
        "self_deployed": true,
        "azure_cloud": "Worldwide",
        "creds_auth_id": {"identifier": "", "password": ph["SECRET_APP_ID"]},
        "creds_tenant_id": {"identifier": "", "password": ph["TENANT_ID"]},
        "creds_enc_key": {"identifier": "", "password": ph["SECRET_APP_SECRET"]},
    });
    let user = "alice@soaremulator.onmicrosoft.com";
    // Each request carries a canary in a secret argument; successes and failures both count.
    let requests = [
        (
            "Canary-Pw-7731!",
            json!({"command": "msgraph-user-change-password", "args": {"user": user, "password": "Canary-Pw-7731!"}}),
        ),
        (
            "Canary-Zip-5512",
            json!({"command": "msgraph-user-tap-policy-create", "args": {"user_id": user, "zip_password": "Canary-Zip-5512", "start_time": "2031-01-01T00:00:00Z"}}),
        ),
        (
            "Canary-New-8841!",
            json!({"command": "msgraph-user-create", "args": {"display_name": "Canary", "mail_nickname": "canary", "password": "Canary-New-8841!", "user_principal_name": "canary@soaremulator.onmicrosoft.com"}}),
        ),
        (
            "weak-canary",
            json!({"command": "msgraph-user-change-password", "args": {"user": user, "password": "weak-canary"}}),
        ),
        (
            "Canary-Pw-404!",
            json!({"command": "msgraph-user-change-password", "args": {"user": "ghost@soaremulator.onmicrosoft.com", "password": "Canary-Pw-404!"}, "params": {"handle_error": false}}),
        ),
    ];
    for (canary, mut request) in requests {
        let mut p = params.clone();
        if let Some(extra) = request.get("params").and_then(Value::as_object) {
            p.as_object_mut().unwrap().extend(extra.clone());
        }
        request["params"] = p;
        let (response, stderr) =
            soar_conformance::call_binary(Path::new(BIN), &emu.env(), &request, "trace").unwrap();
        let out = response.to_string();
        assert!(response["entries"].as_array().is_some_and(|e| !e.is_empty()), "{out}");
        assert!(!out.contains(canary), "{canary} in the response: {out}");
        assert!(!stderr.contains(canary), "{canary} in the log");
        if request["command"] == "msgraph-user-tap-policy-create" {
            check_tap_zip(&response, canary, &stderr);
        }
    }
}

/// The TAP comes back only inside the zip: it opens with the zip password, holds the pass the
/// emulator issued, and the pass is nowhere else in the response or the log.
// A test helper: a failed unwrap is the test failing.
#[allow(clippy::unwrap_used)]
fn check_tap_zip(response: &Value, zip_password: &str, stderr: &str) {
    use base64::Engine;
    use std::io::Read;
    let file = &response["entries"][0];
    assert_eq!(file["Type"], 3, "{response}");
    assert_eq!(file["File"], "TAPPolicyInfo.zip");
    let data = file["FileData"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(archive.by_name_decrypt("TAPPolicyPass.txt", b"not-the-password").is_err());
    let mut pass = String::new();
    let mut inner = archive.by_name_decrypt("TAPPolicyPass.txt", zip_password.as_bytes()).unwrap();
    inner.read_to_string(&mut pass).unwrap();
    // The emulator's passes look like `Tap!` + 12 hex digits.
    assert!(pass.starts_with("Tap!") && pass.len() == 16, "{pass}");
    let mut rest = response.clone();
    rest["entries"][0]["FileData"] = Value::Null;
    assert!(!rest.to_string().contains(&pass), "the pass leaked into the response");
    assert!(!stderr.contains(&pass), "the pass leaked into the log");
}

#[test]
fn manifest_lists_every_reference_command_with_args_and_outputs() {
    let out = Command::new(BIN).arg("--manifest").output().unwrap();
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    let commands = manifest["script"]["commands"].as_array().unwrap();
    let find =
        |name: &str| commands.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name} missing"));
    // (command, argument count, output count) from the reference YAML (fact sheet §3).
    let expected = [
        ("msgraph-user-terminate-session", 1, 0),
        ("msgraph-user-account-disable", 1, 0),
        ("msgraph-user-unblock", 1, 0),
        ("msgraph-user-update", 3, 11),
        ("msgraph-user-delete", 1, 0),
        ("msgraph-user-create", 7, 19),
        ("msgraph-user-get-delta", 1, 11),
        ("msgraph-user-get", 2, 19),
        ("msgraph-user-list", 3, 20),
        ("msgraph-direct-reports", 1, 12),
        ("msgraph-user-get-manager", 1, 12),
        ("msgraph-user-assign-manager", 2, 0),
        ("msgraph-user-change-password", 4, 0),
        // The current reference reads polling_url and timeout_in_seconds too (it polls).
        ("msgraph-user-change-password-on-premise", 5, 0),
        ("msgraph-user-test", 0, 0),
        ("msgraph-user-session-revoke", 1, 0),
        ("msgraph-user-tap-policy-list", 1, 7),
        ("msgraph-user-tap-policy-create", 5, 7),
        ("msgraph-user-tap-policy-delete", 2, 0),
        ("msgraph-user-generate-login-url", 2, 0), // pkce and prompt (soar-rt additions)
        ("msgraph-user-auth-reset", 0, 0),
        ("test-module", 0, 0),
        // The current reference's commands (its README's tables). Ours add NextPage to the owned
        // devices, and keep the MFA secret and token out of the context (mfa.rs): KeyId,
        // ValidFrom, ValidUntil for the secret, ValidUntil for the token.
        ("msgraph-user-force-reset-password", 1, 0),
        ("msgraph-user-get-groups", 1, 37),
        ("msgraph-user-get-auth-methods", 1, 10),
        ("msgraph-user-owned-devices-list", 4, 15),
        ("msgraph-user-get-user-default-auth-method", 1, 5),
        ("msgraph-user-authenticator-method-list", 4, 6),
        ("msgraph-user-authenticator-method-delete", 2, 0),
        ("msgraph-user-email-method-list", 2, 2),
        ("msgraph-user-email-method-delete", 2, 0),
        ("msgraph-user-phone-method-list", 3, 5),
        ("msgraph-user-phone-method-delete", 2, 0),
        ("msgraph-user-software-oath-method-list", 2, 1),
        ("msgraph-user-software-oath-method-delete", 2, 0),
        ("msgraph-user-temp-access-pass-method-list", 2, 2),
        ("msgraph-user-temp-access-pass-method-delete", 2, 0),
        ("msgraph-user-windows-hello-method-list", 2, 4),
        ("msgraph-user-windows-hello-method-delete", 2, 0),
        ("msgraph-user-request-mfa", 3, 0),
        ("msgraph-user-create-mfa-client-secret", 1, 3),
        ("msgraph-user-create-mfa-client-access-token", 1, 1),
        // Also in the current reference, beyond the list of 20.
        ("msgraph-user-fido2-method-list", 3, 7),
        ("msgraph-user-fido2-method-delete", 2, 0),
    ];
    for (name, args, outputs) in expected {
        let c = find(name);
        assert_eq!(c["arguments"].as_array().map_or(0, Vec::len), args, "{name} arguments");
        assert_eq!(c["outputs"].as_array().map_or(0, Vec::len), outputs, "{name} outputs");
    }
    assert_eq!(commands.len(), expected.len(), "no command beyond the reference's");
    // Secret arguments are marked so engines mask them.
    for (cmd, arg) in [
        ("msgraph-user-create", "password"),
        ("msgraph-user-change-password", "password"),
        ("msgraph-user-tap-policy-create", "zip_password"),
        ("msgraph-user-change-password-on-premise", "password"),
        ("msgraph-user-create-mfa-client-access-token", "client_secret"),
        ("msgraph-user-request-mfa", "access_token"),
    ] {
        let a = find(cmd)["arguments"].as_array().unwrap().iter().find(|a| a["name"] == arg).unwrap().clone();
        assert_eq!(a["secret"], true, "{cmd} {arg}");
    }
}
