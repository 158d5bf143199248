//! Microsoft Graph User (prefix `msgraph-user`): read and manage Entra ID users through
//! Microsoft Graph `v1.0`, as the reference "Microsoft Graph User" integration does.
//!
//! The binary (`src/main.rs`) is `soar_integration_kit::run(integration())`. This crate
//! declares the prefix, the auth flows, the form and the own params ([`AUTH_SPEC`], [`ABOUT`])
//! and lists the commands in [`integration`]; each command is declared in one place in
//! `commands.rs` (its arguments struct and its handler, which talks to Graph `v1.0` through the
//! kit's `Api` seam), with the output tables in `tables.rs`. The generic
//! `msgraph-user-generate-login-url` and `msgraph-user-auth-reset` come with the kit.
//!
//! Decisions where the reference was silent or wrong (kept here so the code and the reasons
//! travel together):
//! - `msgraph-user-create` sends `accountEnabled` and `forceChangePasswordNextSignIn` as JSON
//!   booleans; the reference sends the strings `"true"`/`"false"`, which Graph's schema types
//!   as Boolean.
//! - `msgraph-user-get-delta` headers: the reference builds them from a Python set (random
//!   order); we keep the requested order, then `ID` and `User Principal Name`.
//! - `key=value` lists split at the first `=` (`a=b=c` is `a` -> `b=c`); the reference crashes.
//! - `lifetime_in_minutes` is checked to be 10..=43200 before the call (the YAML's documented
//!   range) so a person gets the reason at once; `start_time` is a date argument like any other
//!   (`now`, ISO 8601, relative phrases such as `2 hours` or `in 30 minutes`).
//! - The TAP zip is a file entry (Type 3) whose bytes travel base64-encoded in `FileData`,
//!   because the protocol has no side channel for files.
//! - Secret arguments (`password`, `zip_password`) are decoded into `Secret` and only exposed
//!   in the request body; they are declared secret so the runtime masks them.
//! - `next_page` is followed only when it is an https URL on the instance's Graph host (the
//!   kit's rule for every next link): the bearer token goes nowhere else.
//! - The instance form is generated from the flows, with the reference's spellings and labels
//!   ([`AUTH_SPEC`]'s `param_names`); the optional PEM certificate is not on it.
//! - Azure Cloud has no default (the reference's YAML says `Worldwide`): the runtime fills
//!   defaults into every request, so with one an empty Azure Cloud could never reach
//!   `get_azure_cloud`'s backward-compatible branch, and the Server URL the seed article tells
//!   national-cloud users to change would be ignored. Empty, the Server URL picks Graph's host
//!   (login stays worldwide, as in the reference); its default keeps the worldwide cloud.
//!
//! The current reference's commands (groups, owned devices, authentication methods, sign-in
//! preferences, forced reset, MFA push; `directory.rs`, `methods.rs`, `mfa.rs`, `onprem.rs`)
//! follow its arguments, outputs, tables and texts, with these decisions:
//! - `temp-access-pass-method-list` says "No Temporary Access Pass authentication methods found"
//!   and titles one method "Temporary Access Pass Method ..." (the reference reuses the Windows
//!   Hello text and has a stray "W"); `temp-access-pass-method-delete` deletes by `user` and
//!   `method_id` (the reference reads `user_id`, which that command does not have, and fails).
//! - The outputs keep the reference's quirks playbooks may read: the phone methods' key field is
//!   `Id`, owned devices sit under `MSGraphUser.OwnedDevice` with the user under `MSGraphUser.Id`.
//! - `owned-devices-list` checks `limit` (1 to 999) before any call and sends `$filter` only
//!   when given (the reference sends an empty one).
//! - Password changes under an application-only flow: Graph answers 403 "Insufficient
//!   privileges" (the emulator too); `change-password`, `force-reset-password` and
//!   `change-password-on-premise` have no application permission in `permissions.rs`, so the
//!   kit's hint says they need a delegated permission, names the instance's flow and the
//!   authorization code flow to use instead, and `auth-reset`.
//! - `change-password-on-premise` polls (see `onprem.rs`); the MFA secret and token stay in the
//!   integration context (see `mfa.rs`).

pub mod commands;
pub mod dates;
pub mod directory;
pub mod methods;
pub mod mfa;
pub mod onprem;
pub mod permissions;
pub mod tables;
pub mod tap;
pub mod transform;

use soar_integration_kit::{
    About, ApiKind, AuthCommands, AuthFlow, AuthForm, AuthSpec, FlowPicker, MsIntegration, ParamNames,
    ParamRef, ParamSpec, matrix,
};

use crate::commands::*;
use crate::directory::*;
use crate::methods::*;
use crate::mfa::*;

/// The flows this integration supports: its row of the flow table (Cortex application, client
/// credentials with a secret or a certificate, authorization code, managed identities).
pub const FLOWS: &[AuthFlow] = matrix::declared_flows("msgraph-user");

/// What the auth crate needs to know about this integration: the reference's param spellings
/// (the credentials fields, then the hidden legacy ones).
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "msgraph-user",
    flows: FLOWS,
    oproxy_app_name: "ms-graph-user",
    resource: ApiKind::Graph,
    scopes: &[],
    param_names: ParamNames {
        client_id: &[ParamRef::Password("creds_auth_id"), ParamRef::Str("auth_id")],
        tenant_id: &[ParamRef::Password("creds_tenant_id"), ParamRef::Str("tenant_id")],
        client_secret: &[ParamRef::Password("creds_enc_key"), ParamRef::Str("enc_key")],
        certificate_thumbprint: &[
            ParamRef::Identifier("creds_certificate"),
            ParamRef::Str("certificate_thumbprint"),
        ],
        private_key: &[ParamRef::Password("creds_certificate"), ParamRef::Str("private_key")],
        auth_code: &[ParamRef::Password("creds_auth_code"), ParamRef::Str("auth_code")],
        ..ParamNames::DEFAULT
    },
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Microsoft Graph User",
    description: "Read and manage Microsoft Entra ID (Azure AD) users through Microsoft Graph: list, \
                  create, update, disable and delete users, reset passwords, and manage Temporary Access Passes.",
    category: "Analytics & SIEM",
    // No default cloud: an instance whose Azure Cloud is left empty follows the Server URL
    // (`host`), as the reference's `get_azure_cloud` does, so changing the Server URL (the seed
    // article's national-cloud instruction) reaches that cloud; the Server URL's default keeps
    // everyone else on the worldwide cloud.
    form: AuthForm {
        picker: FlowPicker::Checkboxes,
        national_clouds: true,
        labels: &[],
        defaults: &[("azure_cloud", "")],
    },
    params: &[
        ParamSpec {
            default: Some("https://graph.microsoft.com"),
            ..ParamSpec::new("host", "Server URL (e.g., https://graph.microsoft.com)")
        },
        ParamSpec {
            default: Some("true"),
            hidden: true,
            checkbox: true,
            ..ParamSpec::new("handle_error", "Suppress Errors for Non Found Users")
        },
        ParamSpec {
            default: Some("false"),
            checkbox: true,
            help: "Lets msgraph-user-create-mfa-client-secret and msgraph-user-create-mfa-client-access-token run: \
                   they create credentials of Microsoft's MFA connector application. Restrict who may run them.",
            ..ParamSpec::new("allow_secret_generators", "Allow secret generators commands execution")
        },
    ],
    // The reference's name, kept so playbooks that call it keep working.
    unprefixed_commands: &["msgraph-direct-reports"],
};

/// The integration with the process-wide HTTP client (configured from the environment) and
/// the system clock.
pub fn integration() -> MsIntegration<Graph> {
    MsIntegration::new(&ABOUT, Graph::from_client)
        .command::<TestModule>()
        .command::<TerminateSession>()
        .command::<Unblock>()
        .command::<Update>()
        .command::<Delete>()
        .command::<Create>()
        .command::<GetDelta>()
        .command::<Get>()
        .command::<List>()
        .command::<DirectReports>()
        .command::<GetManager>()
        .command::<AssignManager>()
        .command::<AccountDisable>()
        .command::<ChangePassword>()
        .command::<ChangePasswordOnPremise>()
        .command::<Test>()
        .command::<SessionRevoke>()
        .command::<TapList>()
        .command::<TapCreate>()
        .command::<TapDelete>()
        // The current reference's commands.
        .command::<ForceResetPassword>()
        .command::<GetGroups>()
        .command::<GetAuthMethods>()
        .command::<OwnedDevicesList>()
        .command::<GetUserDefaultAuthMethod>()
        .command::<AuthenticatorMethodList>()
        .command::<AuthenticatorMethodDelete>()
        .command::<EmailMethodList>()
        .command::<EmailMethodDelete>()
        .command::<PhoneMethodList>()
        .command::<PhoneMethodDelete>()
        .command::<SoftwareOathMethodList>()
        .command::<SoftwareOathMethodDelete>()
        .command::<TempAccessPassMethodList>()
        .command::<TempAccessPassMethodDelete>()
        .command::<WindowsHelloMethodList>()
        .command::<WindowsHelloMethodDelete>()
        .command::<Fido2MethodList>()
        .command::<Fido2MethodDelete>()
        .command::<RequestMfa>()
        .command::<CreateMfaClientSecret>()
        .command::<CreateMfaClientAccessToken>()
        // The reference has only these two generic commands (its own test is msgraph-user-test).
        .auth_commands(AuthCommands::Only(&["generate-login-url", "auth-reset"]))
        .permissions(permissions::PERMISSIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        // Prefixes (msgraph-direct-reports declared), unique names and argument defaults, as the
        // runtime checks at start-up.
        soar_integration_kit::check_integration(&integration()).unwrap();
    }

    /// Every command that calls Graph has a row in the permission table (the 403 hint names it).
    #[test]
    fn every_graph_command_has_its_permission() {
        use soar_integration_kit::Integration as _;
        let names: Vec<String> = integration().commands().iter().map(|c| c.name().to_owned()).collect();
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !permissions::NOT_GRAPH.contains(&n.as_str()))
            .filter(|n| !permissions::PERMISSIONS.iter().any(|p| p.command == n.as_str()))
            .collect();
        assert!(missing.is_empty(), "no permission row for {missing:?}");
    }

    #[test]
    fn the_form_agrees_with_the_declared_flows() {
        assert_eq!(ABOUT.check_params(), Vec::<String>::new());
    }
}
