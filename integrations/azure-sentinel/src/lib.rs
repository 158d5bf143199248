//! Microsoft Sentinel (prefix `azure-sentinel`): incidents, their comments, relations, entities
//! and alerts, watchlists and their items, threat-intelligence indicators, alert rules and rule
//! templates, through the workspace's Sentinel API under Azure Resource Manager
//! (`api-version=2024-03-01`), plus `fetch-incidents` and the mirroring commands, as the
//! reference "Microsoft Sentinel" integration (`AzureSentinel.py`, modern version) does.
//!
//! The binary (`src/main.rs`) is `soar_integration_kit::run(integration())`. [`AUTH_SPEC`] and
//! [`ABOUT`] declare the flows (client credentials with a secret or a certificate, managed
//! identities; every national cloud, `server_url` for Custom) and the form; [`integration`]
//! lists the commands, each declared in one place: `commands.rs` (the 30 user commands and
//! `test-module`), `fetch.rs` (`fetch-incidents` and the mirroring logic), `mirror.rs` (the four
//! mirroring commands). `client.rs` holds the request conventions, `convert.rs` the context
//! shapes, `tables.rs` the outputs. `azure-sentinel-auth-reset` comes with the kit.
//!
//! Every command runs inside [`AROUND`], which words every failure as the reference's `main()`
//! does: `Failed to execute <command> command. Error: <message>`.
//!
//! Decisions where the reference is silent, wrong or impossible here:
//! - Updates (`update-incident`, outgoing mirroring) send the incident's `etag`; a 412 (changed
//!   meanwhile) is retried once after reading the incident again, and a second 412 is an error
//!   saying so (the reference just fails).
//! - `threat-indicator-list indicator_name=X` shows that indicator (the reference reads only
//!   `value`, so it showed none); `threat-indicator-query` reads `min_valid_until` /
//!   `max_valid_until` (the reference reads the undeclared `min_valid_from` / `max_valid_from`).
//! - `watchlist-create-update file_entry_id=X`: the protocol carries no input files, so the file
//!   is read from the engine's file directory, `$SOAR_FILES_DIR` (else the working directory),
//!   by its entry ID as a plain file name.
//! - Bad numbers, JSON, dates and kinds are argument errors naming the argument.
//! - `fetch-incidents` never loses nor repeats an incident at a page boundary: see `fetch.rs`.

pub mod client;
pub mod commands;
pub mod convert;
pub mod fetch;
pub mod mirror;
pub mod tables;

use soar_integration_kit::{
    About, ApiKind, Around, AuthCommands, AuthFlow, AuthForm, AuthSpec, CommandContext, Error, FlowPicker,
    MsIntegration, ParamNames, ParamRef, ParamSpec, matrix,
};

use crate::client::Sentinel;
use crate::commands::*;
use crate::fetch::FetchIncidents;
use crate::mirror::{GetMappingFields, GetModifiedRemoteData, GetRemoteData, UpdateRemoteSystem};

/// The flows: its row of the flow table (client credentials with a secret or a certificate,
/// Azure managed identities).
pub const FLOWS: &[AuthFlow] = matrix::declared_flows("azure-sentinel");

/// The reference's spellings: the credentials field's username is the client ID and its
/// password the secret; the tenant in `creds_tenant_id` (legacy `tenant_id`); the certificate in
/// `creds_certificate` (legacy `certificate_thumbprint` / `private_key`).
pub const PARAM_NAMES: ParamNames = ParamNames {
    tenant_id: &[ParamRef::Password("creds_tenant_id"), ParamRef::Str("tenant_id")],
    client_id: &[ParamRef::Identifier("credentials")],
    client_secret: &[ParamRef::Password("credentials")],
    certificate_thumbprint: &[
        ParamRef::Identifier("creds_certificate"),
        ParamRef::Str("certificate_thumbprint"),
    ],
    private_key: &[ParamRef::Password("creds_certificate"), ParamRef::Str("private_key")],
    ..ParamNames::DEFAULT
};

/// What the auth crate needs to know about this integration.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "azure-sentinel",
    flows: FLOWS,
    oproxy_app_name: "",
    resource: ApiKind::Arm,
    scopes: &[],
    param_names: PARAM_NAMES,
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Microsoft Sentinel",
    description: "Microsoft Sentinel is a cloud-native security information and event manager (SIEM) platform \
                  that uses built-in AI to help analyze large volumes of data across an enterprise.",
    category: "Analytics & SIEM",
    form: AuthForm {
        picker: FlowPicker::Checkboxes,
        national_clouds: true,
        labels: &[("credentials", "Client ID")],
        defaults: &[],
    },
    params: &[
        ParamSpec {
            default: Some("https://management.azure.com"),
            ..ParamSpec::new("server_url", "Server URL")
        },
        ParamSpec { required: true, ..ParamSpec::new("subscriptionID", "Subscription ID") },
        ParamSpec { required: true, ..ParamSpec::new("resourceGroupName", "Resource Group Name") },
        ParamSpec { required: true, ..ParamSpec::new("workspaceName", "Workspace Name") },
        ParamSpec { checkbox: true, ..ParamSpec::new("isFetch", "Fetch incidents") },
        ParamSpec {
            default: Some("Microsoft Sentinel Incident"),
            ..ParamSpec::new("incidentType", "Incident type")
        },
        ParamSpec {
            default: Some("3 days"),
            ..ParamSpec::new(
                "fetch_time",
                "First fetch timestamp (<number> <time unit>, e.g., 12 hours, 7 days)",
            )
        },
        ParamSpec {
            default: Some("Informational"),
            options: &["Informational", "Low", "Medium", "High"],
            ..ParamSpec::new("min_severity", "The minimum severity of incidents to fetch")
        },
        ParamSpec {
            default: Some("20"),
            ..ParamSpec::new("limit", "The maximum number of incidents to fetch per run (at most 20)")
        },
        ParamSpec {
            options: &["Alerts", "Entities", "Comments", "Relations"],
            ..ParamSpec::new("fetch_additional_info", "Additional info to fetch (comma-separated)")
        },
        ParamSpec {
            default: Some("None"),
            options: &["None", "Incoming", "Outgoing", "Incoming And Outgoing"],
            ..ParamSpec::new("mirror_direction", "Mirroring Direction")
        },
        ParamSpec { checkbox: true, ..ParamSpec::new("close_incident", "Close Mirrored XSOAR Incident") },
        ParamSpec {
            checkbox: true,
            ..ParamSpec::new("close_ticket", "Close Mirrored Microsoft Sentinel Ticket")
        },
    ],
    unprefixed_commands: &[],
};

/// The reference's `main()` around every command.
pub const AROUND: Around = Around { prepare, error: wrap_error };

/// The integration with the process-wide HTTP client (configured from the environment).
pub fn integration() -> MsIntegration<Sentinel> {
    MsIntegration::new(&ABOUT, Sentinel::from_client)
        .auth_commands(AuthCommands::Only(&["auth-reset"]))
        .command::<TestModule>()
        .command::<GetIncident>()
        .command::<ListIncidents>()
        .command::<UpdateIncident>()
        .command::<DeleteIncident>()
        .command::<ListComments>()
        .command::<AddComment>()
        .command::<DeleteComment>()
        .command::<ListRelations>()
        .command::<ListEntities>()
        .command::<ListAlerts>()
        .command::<ListWatchlists>()
        .command::<DeleteWatchlist>()
        .command::<WatchlistCreateUpdate>()
        .command::<ListWatchlistItems>()
        .command::<DeleteWatchlistItem>()
        .command::<WatchlistItemCreateUpdate>()
        .command::<ListIndicators>()
        .command::<QueryIndicators>()
        .command::<CreateIndicator>()
        .command::<UpdateIndicator>()
        .command::<DeleteIndicators>()
        .command::<AppendTags>()
        .command::<ReplaceTags>()
        .command::<ListAlertRules>()
        .command::<ListAlertRuleTemplates>()
        .command::<DeleteAlertRule>()
        .command::<CreateAlertRule>()
        .command::<UpdateAlertRule>()
        .command::<ListSubscriptions>()
        .command::<ListResourceGroups>()
        .command::<FetchIncidents>()
        .command::<GetModifiedRemoteData>()
        .command::<GetRemoteData>()
        .command::<UpdateRemoteSystem>()
        .command::<GetMappingFields>()
        .around(AROUND)
}

/// Nothing to fill: the reference's `main()` reads the params as they are.
pub fn prepare(_: &mut CommandContext) {}

/// The reference's wording of every failure.
fn wrap_error(command: &str, e: Error) -> Error {
    Error::Command(format!("Failed to execute {command} command. Error: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        soar_integration_kit::check_integration(&integration()).unwrap();
    }

    #[test]
    fn the_form_agrees_with_the_declared_flows() {
        assert_eq!(ABOUT.check_params(), Vec::<String>::new());
    }
}
