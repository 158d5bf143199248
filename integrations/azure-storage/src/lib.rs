//! Azure Storage Management (prefix `azure-storage`): storage accounts, blob service
//! properties and blob containers through Azure Resource Manager, as the reference "Azure
//! Storage" integration does (newest version: Client Credentials added, the tenant's token URL
//! for the authorization code flow, `api-version` on every call).
//!
//! The binary (`src/main.rs`) is `soar_core::run(integration())`. [`AUTH_SPEC`] and [`ABOUT`]
//! declare the flows, the form and the own params; [`integration`] lists the commands, each
//! declared in one place in `commands.rs` (its arguments struct and its handler), with the long
//! output tables and option lists in `tables.rs`. The auth commands (`auth-start`, `auth-complete`,
//! `auth-test`, `auth-reset`, `generate-login-url`) come with the kit.
//!
//! Every command (the auth ones included) runs inside [`AROUND`], which does what the
//! reference's `main()` does around each command:
//! - fills the param defaults the reference relies on (`auth_type` = `Device Code`, `app_id` =
//!   the Cortex application id `55f9764e-300a-474a-a2bb-549cece85439`, `redirect_uri` =
//!   `https://localhost/myapp`);
//! - handles the legacy `app_id` form `<client id>@<refresh token>`: the refresh token is stored
//!   in the integration context as `current_refresh_token` and the id is used alone;
//! - words every failure `Failed to execute <command> command.\nError:\n<message>`, except token
//!   errors (a refused client secret, a revoked refresh token, an unapproved device code, a
//!   managed identity endpoint without a token), which the reference's auth module reports
//!   itself (`return_error` ends the run before the wrapper).
//!
//! Decisions:
//! - Device code and authorization code ask for the ARM scope
//!   `https://management.azure.com/user_impersonation` (+ `offline_access`). The reference asks
//!   that (plus an unqualified `user.read`, a Graph permission no command uses) under device code
//!   but `https://management.azure.com/.default` under authorization code; for an app registered
//!   as the article says (ARM's one delegated permission, `user_impersonation`) both give the
//!   same token, and `.default` would also request anything else the registration lists.
//!   ARCHITECTURE.md ("Authentication commands and errors") records why this stays.
//! - `use_sub_domain_name` is optional (the reference crashes without it).
//! - Bad JSON in `network_ruleset_ipRules`, `virtual_network_rules` or `tag`, and a `limit` that
//!   is not a number, are argument errors that name the argument.
//! - The instance form is generated from the flows: `redirect_uri` is a visible field (the
//!   authorization-code flow needs it), the rest as the reference's form.

pub mod commands;
pub mod tables;

use serde_json::Value;
use soar_integration_kit::{
    About, ApiKind, Around, AuthFlow, AuthForm, AuthSpec, CURRENT_REFRESH_TOKEN, CommandContext, Error,
    FlowPicker, MsIntegration, ParamNames, ParamSpec, ParamValue, matrix,
};

use crate::commands::{
    AccountCreateUpdate, AccountList, Arm, BlobServiceGet, BlobServiceSet, ContainerCreate, ContainerDelete,
    ContainerList, ContainerUpdate, ResourceGroupList, SubscriptionsList, TestModule,
};

/// The Cortex XSOAR application id: the default public client of the device code flow.
pub const CORTEX_APP_ID: &str = "55f9764e-300a-474a-a2bb-549cece85439";

/// The flows: its row of the flow table (client credentials with a secret or a certificate,
/// device code, with the Cortex XSOAR application as the default public client, authorization
/// code, managed identities).
pub const FLOWS: &[AuthFlow] = matrix::declared_flows("azure-storage");

/// What the auth crate needs to know about this integration.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "azure-storage",
    flows: FLOWS,
    oproxy_app_name: "",
    resource: ApiKind::Arm,
    scopes: &["user_impersonation", "offline_access"],
    param_names: ParamNames::APP_CREDENTIALS,
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Azure Storage Management",
    description: "Manage Azure Storage accounts, their blob service properties and \
                  blob containers through Azure Resource Manager.",
    category: "IT Services",
    form: AuthForm {
        picker: FlowPicker::Select { default: AuthFlow::DeviceCode },
        national_clouds: false,
        labels: &[("app_id", "Application ID"), ("redirect_uri", "Application redirect URI")],
        defaults: &[("app_id", CORTEX_APP_ID)],
    },
    params: &[
        ParamSpec { required: true, ..ParamSpec::new("subscription_id", "Default Subscription ID") },
        ParamSpec { required: true, ..ParamSpec::new("resource_group_name", "Default Resource Group Name") },
    ],
    unprefixed_commands: &[],
};

/// The reference's `main()` around every command (see the crate docs).
pub const AROUND: Around = Around { prepare, error: wrap_error };

/// The integration with the process-wide HTTP client (configured from the environment).
pub fn integration() -> MsIntegration<Arm> {
    MsIntegration::new(&ABOUT, Arm::from_client)
        .command::<TestModule>()
        .command::<AccountList>()
        .command::<AccountCreateUpdate>()
        .command::<BlobServiceGet>()
        .command::<BlobServiceSet>()
        .command::<ContainerCreate>()
        .command::<ContainerUpdate>()
        .command::<ContainerList>()
        .command::<ContainerDelete>()
        .command::<SubscriptionsList>()
        .command::<ResourceGroupList>()
        .around(AROUND)
}

/// Fills the defaults and splits `app_id@refresh_token` (see the crate docs).
pub fn prepare(ctx: &mut CommandContext) {
    if ctx.params.str("auth_type").is_none() {
        ctx.params.0.insert("auth_type".into(), ParamValue::Str("Device Code".into()));
    }
    let app_id = ctx.params.str("app_id").unwrap_or_else(|| CORTEX_APP_ID.to_owned());
    let app_id = match app_id.split_once('@') {
        Some((id, refresh)) => {
            ctx.integration_context.set(CURRENT_REFRESH_TOKEN, Value::String(refresh.to_owned()));
            id.to_owned()
        }
        None => app_id,
    };
    ctx.params.0.insert("app_id".into(), ParamValue::Str(app_id));
    // The reference's client falls back to `https://localhost/myapp` (its default redirect URI),
    // so `generate-login-url` works without the field.
    if ctx.params.str("redirect_uri").is_none_or(|s| s.is_empty()) {
        ctx.params.0.insert("redirect_uri".into(), ParamValue::Str(DEFAULT_REDIRECT_URI.into()));
    }
}

/// The redirect URI the reference uses when none is configured.
pub const DEFAULT_REDIRECT_URI: &str = "https://localhost/myapp";

/// The reference's wording of every failure but a token error, which its auth module reports
/// itself before `main()`'s wrapper sees anything.
fn wrap_error(command: &str, e: Error) -> Error {
    match e {
        Error::Token(_) => e,
        e => Error::Command(format!("Failed to execute {command} command.\nError:\n{e}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use soar_integration_kit::Params;

    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        // Prefixes, unique names and argument defaults, as the runtime checks at start-up.
        soar_integration_kit::check_integration(&integration()).unwrap();
    }

    /// The help offers the Cortex XSOAR application (the default public client under device
    /// code) with its own steps, and the troubleshooting section.
    #[test]
    fn the_help_describes_the_cortex_application() {
        use soar_integration_kit::Integration as _;
        let help = integration().detailed_description();
        for want in [
            "#### Cortex XSOAR application\n",
            "Leave **Application ID** (`app_id`) at its default, `55f9764e-300a-474a-a2bb-549cece85439`.",
            "Set **Authentication Type** (`auth_type`) to `Device Code`.",
            "### Troubleshooting\n",
            "managed identities work only on an Azure virtual machine",
        ] {
            assert!(help.contains(want), "{want}\n{help}");
        }
    }

    #[test]
    fn the_form_agrees_with_the_declared_flows() {
        assert_eq!(ABOUT.check_params(), Vec::<String>::new());
    }

    /// (params given, app_id and auth_type after `prepare`, refresh token stored).
    #[test]
    fn prepare_fills_defaults_and_splits_the_legacy_app_id() {
        let cases = [
            (json!({}), CORTEX_APP_ID, "Device Code", None),
            (
                json!({"app_id": "my-app", "auth_type": "Client Credentials"}),
                "my-app",
                "Client Credentials",
                None,
            ),
            (json!({"app_id": "my-app@rt-123"}), "my-app", "Device Code", Some("rt-123")),
        ];
        for (params, app_id, auth_type, refresh) in cases {
            let params: Params = serde_json::from_value(params.clone()).unwrap();
            let mut ctx = CommandContext::new("azure-storage-auth-test", Default::default(), params);
            prepare(&mut ctx);
            assert_eq!(ctx.params.str("redirect_uri").as_deref(), Some(DEFAULT_REDIRECT_URI));
            assert_eq!(ctx.params.str("app_id").as_deref(), Some(app_id));
            assert_eq!(ctx.params.str("auth_type").as_deref(), Some(auth_type));
            assert_eq!(ctx.integration_context.get(CURRENT_REFRESH_TOKEN).and_then(Value::as_str), refresh);
        }
    }
}
