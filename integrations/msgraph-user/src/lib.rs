//! Microsoft Graph User (prefix `msgraph-user`): read and manage Entra ID users through
//! Microsoft Graph `v1.0`, as the reference "Microsoft Graph User" integration does.
//!
//! The binary (`src/main.rs`) is `soar_core::run(integration())`. This crate declares the
//! prefix, the auth flows and params ([`AUTH_SPEC`], [`ABOUT`], [`params`]) and the 20
//! commands in `specs.rs`; the handlers in `commands.rs` talk to Graph `v1.0` through
//! `soar_integration_kit`'s `Api` seam, whose real implementation is its `MsApi` over
//! `soar_auth::MsClient`. The generic
//! `msgraph-user-generate-login-url` and `msgraph-user-auth-reset` come from
//! `soar-auth-commands`.
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
//!   range) so a person gets the reason at once; `start_time` accepts `now`, ISO 8601 and
//!   relative phrases (`2 hours`, `in 30 minutes`), see `dates.rs`.
//! - The TAP zip is a file entry (Type 3) whose bytes travel base64-encoded in `FileData`,
//!   because the protocol has no side channel for files.
//! - Secret arguments (`password`, `zip_password`) are read into `Secret` at once and only
//!   exposed in the request body; they are declared `secret: true` so the runtime masks them.

pub mod commands;
pub mod dates;
pub mod specs;
pub mod tap;
pub mod transform;

use std::sync::Arc;

use async_trait::async_trait;
use soar_auth::{ApiKind, AuthSpec, MsClient, ParamNames, Shared};
use soar_core::{AuthFlow, Command, CommandContext, Error, Outcome, ParamSpec};
use soar_integration_kit::{About, CommandSet, KindHandler, MsApi, MsIntegration, kind_commands};
use time::OffsetDateTime;

use crate::commands::Env;
use crate::specs::Kind;

/// The flows this integration supports (the reference's: Cortex application, client
/// credentials with a secret or a certificate, authorization code, managed identities).
pub const FLOWS: &[AuthFlow] = &[
    AuthFlow::CortexApp,
    AuthFlow::ClientSecret,
    AuthFlow::ClientCertificate,
    AuthFlow::AuthorizationCode,
    AuthFlow::ManagedIdentity,
];

/// The Graph API version in every path.
pub const GRAPH_VERSION: &str = "v1.0";

/// What the auth crate needs to know about this integration.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "msgraph-user",
    flows: FLOWS,
    oproxy_app_name: "ms-graph-user",
    resource: ApiKind::Graph,
    scopes: &[],
    param_names: ParamNames::DEFAULT,
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Microsoft Graph User",
    description: "Read and manage Microsoft Entra ID (Azure AD) users through Microsoft Graph: list, \
                  create, update, disable and delete users, reset passwords, and manage Temporary Access Passes.",
    category: "Analytics & SIEM",
    params,
    // The reference's name, kept so playbooks that call it keep working.
    unprefixed_commands: &["msgraph-direct-reports"],
};

/// The integration.
pub type MsGraphUser = MsIntegration<GraphCommands>;

/// The integration with the process-wide HTTP client (configured from the environment) and
/// the system clock.
pub fn integration() -> MsGraphUser {
    MsIntegration::new(&ABOUT, GraphCommands { clock: OffsetDateTime::now_utc })
}

/// The commands of [`Kind`] plus the reference's two generic auth commands.
pub struct GraphCommands {
    /// The clock (tests fix it).
    pub clock: fn() -> OffsetDateTime,
}

impl CommandSet for GraphCommands {
    fn commands(&self, shared: &Arc<Shared>) -> Vec<Box<dyn Command>> {
        let mut v = kind_commands(&Kind::ALL, &AUTH_SPEC, shared, Handler { clock: self.clock });
        // The reference has only these two generic commands (its own test is msgraph-user-test).
        let generic = ["msgraph-user-generate-login-url", "msgraph-user-auth-reset"];
        v.extend(
            soar_auth_commands::auth_commands(&AUTH_SPEC, shared.clone())
                .into_iter()
                .filter(|c| generic.contains(&c.name())),
        );
        v
    }
}

/// The instance parameters, as the reference names them.
pub fn params() -> Vec<ParamSpec> {
    let p = |name, display| ParamSpec { name, display, ..ParamSpec::default() };
    vec![
        ParamSpec {
            default: Some("Worldwide"),
            options: &["Worldwide", "US GCC", "US GCC-High", "DoD", "Germany", "China", "Custom"],
            hidden: true,
            ..p("azure_cloud", "Azure Cloud")
        },
        ParamSpec {
            default: Some("https://graph.microsoft.com"),
            ..p("host", "Server URL (e.g., https://graph.microsoft.com)")
        },
        ParamSpec { credentials: true, ..p("creds_auth_id", "ID / Client ID") },
        ParamSpec { credentials: true, ..p("creds_tenant_id", "Token / Tenant ID") },
        ParamSpec { credentials: true, ..p("creds_enc_key", "Key / Client Secret") },
        ParamSpec { secret: true, hidden: true, ..p("auth_id", "ID (received from the admin consent)") },
        ParamSpec { secret: true, hidden: true, ..p("tenant_id", "Token (received from the admin consent)") },
        ParamSpec { secret: true, hidden: true, ..p("enc_key", "Key (received from the admin consent)") },
        ParamSpec { credentials: true, ..p("creds_certificate", "Certificate Thumbprint / Private Key") },
        ParamSpec { secret: true, hidden: true, ..p("certificate_thumbprint", "Certificate Thumbprint") },
        ParamSpec { secret: true, hidden: true, ..p("private_key", "Private Key") },
        ParamSpec { checkbox: true, ..p("self_deployed", "Use a self-deployed Azure application") },
        p("redirect_uri", "Application redirect URI (for Self Deployed - Authorization Code Flow)"),
        ParamSpec { credentials: true, ..p("creds_auth_code", "Authorization code") },
        ParamSpec { secret: true, hidden: true, ..p("auth_code", "Authorization code") },
        ParamSpec { checkbox: true, ..p("use_managed_identities", "Use Azure Managed Identities") },
        ParamSpec {
            credentials: true,
            ..p("managed_identities_client_id", "Azure Managed Identities Client ID")
        },
        ParamSpec {
            checkbox: true,
            default: Some("false"),
            hidden: true,
            ..p("insecure", "Trust any certificate (not secure)")
        },
        ParamSpec {
            checkbox: true,
            default: Some("false"),
            hidden: true,
            ..p("proxy", "Use system proxy settings")
        },
        ParamSpec {
            checkbox: true,
            default: Some("true"),
            hidden: true,
            ..p("handle_error", "Suppress Errors for Non Found Users")
        },
    ]
}

/// Runs a command of [`Kind`] with the request's auth client and the instance's choices.
struct Handler {
    clock: fn() -> OffsetDateTime,
}

#[async_trait]
impl KindHandler<Kind> for Handler {
    async fn run(&self, kind: Kind, ms: MsClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let flow = ms.flow();
        let env = Env {
            handle_error: ctx.params.bool("handle_error", true),
            // The reference's test reads the checkbox itself, not the effective self-deployed mode.
            self_deployed: ctx.params.bool("self_deployed", false),
            auth_code_flow: flow == AuthFlow::AuthorizationCode,
            now: (self.clock)(),
            api: &MsApi::new(ms, ApiKind::Graph, Some(GRAPH_VERSION)),
        };
        commands::run(kind, &env, ctx).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_follows_the_runtime_rules() {
        // Prefixes (msgraph-direct-reports declared), unique names and argument defaults, as the
        // runtime checks at start-up.
        soar_core::check_integration(&super::integration()).unwrap();
    }
}
