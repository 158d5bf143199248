//! Azure Storage Management (prefix `azure-storage`): storage accounts, blob service
//! properties and blob containers through Azure Resource Manager, as the reference "Azure
//! Storage" integration does (newest version: Client Credentials added, the tenant's token URL
//! for the authorization code flow, `api-version` on every call).
//!
//! The binary (`src/main.rs`) is `soar_core::run(integration())`. [`AUTH_SPEC`] and
//! [`ABOUT`] declare the flows and params; `specs.rs` the commands; `commands.rs` the handlers, which talk to ARM through
//! `soar_integration_kit`'s `Api` seam (its `MsApi` over `soar_auth::MsClient` is the real
//! one; ARM paths carry no version segment, the version is the `api-version` query). The auth
//! commands (`auth-start`, `auth-complete`, `auth-test`, `auth-reset`, `generate-login-url`)
//! come from `soar-auth-commands`.
//!
//! Every command (the auth ones included) runs behind [`Wrapped`], which does what the
//! reference's `main()` does around each command:
//! - fills the param defaults the reference relies on (`auth_type` = `Device Code`, `app_id` =
//!   the Cortex application id `55f9764e-300a-474a-a2bb-549cece85439`);
//! - handles the legacy `app_id` form `<client id>@<refresh token>`: the refresh token is stored
//!   in the integration context as `current_refresh_token` and the id is used alone;
//! - words every failure `Failed to execute <command> command.\nError:\n<message>`.
//!
//! Decisions where the reference was silent:
//! - Device code and authorization code ask for the ARM scope
//!   `https://management.azure.com/user_impersonation` (+ `offline_access`); the reference's extra
//!   unqualified `user.read` (a Graph permission no command uses) is not requested.
//! - `use_sub_domain_name` is optional (the reference crashes without it).
//! - Bad JSON in `network_ruleset_ipRules`, `virtual_network_rules` or `tag`, and a `limit` that
//!   is not a number, are argument errors that name the argument.

pub mod commands;
pub mod specs;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use soar_auth::{ApiKind, AuthSpec, MsClient, ParamNames, ParamRef, Shared};
use soar_core::{ArgSpec, AuthFlow, Command, CommandContext, Error, Outcome, OutputSpec, ParamSpec};
use soar_integration_kit::{About, CommandSet, KindHandler, MsApi, MsIntegration, kind_commands};
use soar_protocol::ParamValue;

use crate::commands::Env;
use crate::specs::Kind;

/// The Cortex XSOAR application id: the default public client of the device code flow.
pub const CORTEX_APP_ID: &str = "55f9764e-300a-474a-a2bb-549cece85439";

/// The flows of the newest reference.
pub const FLOWS: &[AuthFlow] =
    &[AuthFlow::ClientSecret, AuthFlow::DeviceCode, AuthFlow::AuthorizationCode, AuthFlow::ManagedIdentity];

/// What the auth crate needs to know about this integration.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "azure-storage",
    flows: FLOWS,
    oproxy_app_name: "",
    resource: ApiKind::Arm,
    scopes: &["user_impersonation", "offline_access"],
    param_names: ParamNames {
        tenant_id: &[ParamRef::Str("tenant_id")],
        client_id: &[ParamRef::Str("app_id")],
        client_secret: &[ParamRef::Password("credentials")],
        auth_code: &[ParamRef::Password("auth_code")],
        ..ParamNames::DEFAULT
    },
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Azure Storage Management",
    description: "Manage Azure Storage accounts, their blob service properties and \
                  blob containers through Azure Resource Manager.",
    category: "IT Services",
    params,
    unprefixed_commands: &[],
};

/// The integration.
pub type AzureStorage = MsIntegration<ArmCommands>;

/// The integration with the process-wide HTTP client (configured from the environment).
pub fn integration() -> AzureStorage {
    MsIntegration::new(&ABOUT, ArmCommands)
}

/// The commands of [`Kind`] and the generic auth commands, each behind [`Wrapped`].
pub struct ArmCommands;

impl CommandSet for ArmCommands {
    fn commands(&self, shared: &Arc<Shared>) -> Vec<Box<dyn Command>> {
        let mut v = kind_commands(&Kind::ALL, &AUTH_SPEC, shared, Handler);
        v.extend(soar_auth_commands::auth_commands(&AUTH_SPEC, shared.clone()));
        v.into_iter().map(|inner| Box::new(Wrapped { inner }) as Box<dyn Command>).collect()
    }
}

/// The instance parameters of the newest reference.
pub fn params() -> Vec<ParamSpec> {
    let p = |name, display| ParamSpec { name, display, ..ParamSpec::default() };
    vec![
        ParamSpec { default: Some(CORTEX_APP_ID), ..p("app_id", "Application ID") },
        ParamSpec { required: true, ..p("subscription_id", "Default Subscription ID") },
        ParamSpec { required: true, ..p("resource_group_name", "Default Resource Group Name") },
        ParamSpec { checkbox: true, hidden: true, ..p("insecure", "Trust any certificate (not secure)") },
        ParamSpec { checkbox: true, hidden: true, ..p("proxy", "Use system proxy settings") },
        ParamSpec {
            required: true,
            default: Some("Device Code"),
            options: &["Client Credentials", "Authorization Code", "Device Code", "Azure Managed Identities"],
            ..p("auth_type", "Authentication Type")
        },
        p("tenant_id", "Tenant ID"),
        ParamSpec { credentials: true, ..p("credentials", "Client Secret") },
        ParamSpec { hidden: true, ..p("redirect_uri", "Application redirect URI") },
        ParamSpec { credentials: true, ..p("auth_code", "Authorization code") },
        ParamSpec {
            credentials: true,
            ..p("managed_identities_client_id", "Azure Managed Identities Client ID")
        },
    ]
}

/// The reference's `main()` around a command: param defaults, the legacy `app_id@refresh_token`
/// form, and the `Failed to execute ...` wording of every error.
pub struct Wrapped {
    /// The command.
    pub inner: Box<dyn Command>,
}

/// Fills the defaults and splits `app_id@refresh_token` (see the crate docs).
pub fn prepare(ctx: &mut CommandContext) {
    if ctx.params.str("auth_type").is_none() {
        ctx.params.0.insert("auth_type".into(), ParamValue::Str("Device Code".into()));
    }
    let app_id = ctx.params.str("app_id").unwrap_or_else(|| CORTEX_APP_ID.to_owned());
    let app_id = match app_id.split_once('@') {
        Some((id, refresh)) => {
            ctx.integration_context.set(soar_auth::CURRENT_REFRESH_TOKEN, Value::String(refresh.to_owned()));
            id.to_owned()
        }
        None => app_id,
    };
    ctx.params.0.insert("app_id".into(), ParamValue::Str(app_id));
}

#[async_trait]
impl Command for Wrapped {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn description(&self) -> &str {
        self.inner.description()
    }

    fn args(&self) -> Vec<ArgSpec> {
        self.inner.args()
    }

    fn outputs(&self) -> Vec<OutputSpec> {
        self.inner.outputs()
    }

    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        prepare(ctx);
        self.inner
            .run(ctx)
            .await
            .map_err(|e| Error::Command(format!("Failed to execute {} command.\nError:\n{e}", ctx.command)))
    }
}

/// Runs a command of [`Kind`] with the request's auth client.
struct Handler;

#[async_trait]
impl KindHandler<Kind> for Handler {
    async fn run(&self, kind: Kind, ms: MsClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if kind == Kind::TestModule {
            return test_module(&ms, ctx).await;
        }
        let env = Env { api: &MsApi::new(ms, ApiKind::Arm, None) };
        commands::run(kind, &env, ctx).await
    }
}

/// The reference's `test_module`: only the flows that need no person can be tested here.
async fn test_module(ms: &MsClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    match ms.flow() {
        AuthFlow::DeviceCode => Err(Error::Command(
            "Please enable the integration and run `!azure-storage-auth-start`and `!azure-storage-auth-complete` to \
             log in.You can validate the connection by running `!azure-storage-auth-test`\nFor more details press the \
             (?) button."
                .to_owned(),
        )),
        AuthFlow::AuthorizationCode => Err(Error::Command(
            "When using user auth flow configuration, Please enable the integration and run the \
             !azure-storage-auth-test command in order to test it"
                .to_owned(),
        )),
        _ => {
            ms.token(&mut ctx.integration_context, ApiKind::Arm).await.map_err(Error::command)?;
            Ok(soar_auth_commands::ok_outcome())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use soar_protocol::Params;

    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        // Prefixes, unique names and argument defaults, as the runtime checks at start-up.
        soar_core::check_integration(&integration()).unwrap();
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
            assert_eq!(ctx.params.str("app_id").as_deref(), Some(app_id));
            assert_eq!(ctx.params.str("auth_type").as_deref(), Some(auth_type));
            assert_eq!(
                ctx.integration_context.get(soar_auth::CURRENT_REFRESH_TOKEN).and_then(Value::as_str),
                refresh
            );
        }
    }
}
