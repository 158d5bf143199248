//! The Microsoft Graph permission each command needs, for the 403 "Insufficient privileges"
//! hint (`soar_integration_kit::hints`): the least-privileged permission Microsoft's Graph
//! reference documents for the call, as an application permission and as a delegated one (the
//! reference's README where it names one: `Directory.AccessAsUser.All` for delete and for the
//! password change, which Graph refuses to application-only tokens).

use soar_integration_kit::Permission;

const fn both(command: &'static str, permission: &'static str) -> Permission {
    Permission { command, application: Some(permission), delegated: Some(permission) }
}

/// One row per command that calls Graph.
pub const PERMISSIONS: &[Permission] = &[
    both("test-module", "User.Read.All"),
    both("msgraph-user-test", "User.Read.All"),
    both("msgraph-user-get", "User.Read.All"),
    both("msgraph-user-list", "User.Read.All"),
    both("msgraph-user-get-delta", "User.Read.All"),
    both("msgraph-direct-reports", "User.Read.All"),
    both("msgraph-user-get-manager", "User.Read.All"),
    both("msgraph-user-update", "User.ReadWrite.All"),
    both("msgraph-user-create", "User.ReadWrite.All"),
    both("msgraph-user-assign-manager", "User.ReadWrite.All"),
    both("msgraph-user-account-disable", "User.ReadWrite.All"),
    both("msgraph-user-terminate-session", "User.ReadWrite.All"),
    both("msgraph-user-unblock", "User.ReadWrite.All"),
    Permission {
        command: "msgraph-user-delete",
        application: Some("User.ReadWrite.All"),
        delegated: Some("Directory.AccessAsUser.All"),
    },
    Permission {
        command: "msgraph-user-change-password",
        application: None,
        delegated: Some("Directory.AccessAsUser.All"),
    },
    // resetPassword takes delegated permissions only (the reference's README: the authorization
    // code flow); the emulator refuses it to application tokens as Graph does.
    Permission {
        command: "msgraph-user-change-password-on-premise",
        application: None,
        delegated: Some("UserAuthenticationMethod.ReadWrite.All"),
    },
    both("msgraph-user-session-revoke", "User.RevokeSessions.All"),
    both("msgraph-user-tap-policy-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-tap-policy-create", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-tap-policy-delete", "UserAuthenticationMethod.ReadWrite.All"),
    // The current reference's commands.
    Permission {
        command: "msgraph-user-force-reset-password",
        application: None,
        delegated: Some("Directory.AccessAsUser.All"),
    },
    both("msgraph-user-get-groups", "GroupMember.Read.All"),
    both("msgraph-user-get-auth-methods", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-owned-devices-list", "Directory.Read.All"),
    both("msgraph-user-get-user-default-auth-method", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-authenticator-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-authenticator-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-email-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-email-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-phone-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-phone-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-software-oath-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-software-oath-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-temp-access-pass-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-temp-access-pass-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-windows-hello-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-windows-hello-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    both("msgraph-user-fido2-method-list", "UserAuthenticationMethod.Read.All"),
    both("msgraph-user-fido2-method-delete", "UserAuthenticationMethod.ReadWrite.All"),
    // The MFA connector: its service principal needs Application.ReadWrite.All; the push itself
    // uses the connector's own token.
    both("msgraph-user-create-mfa-client-secret", "Application.ReadWrite.All"),
    both("msgraph-user-create-mfa-client-access-token", "Application.ReadWrite.All"),
    both("msgraph-user-request-mfa", "Application.ReadWrite.All"),
];

/// Commands that make no Graph call with the instance's token: no permission row.
pub const NOT_GRAPH: &[&str] = &["msgraph-user-auth-reset", "msgraph-user-generate-login-url"];
