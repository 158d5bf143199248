//! Microsoft Defender for Endpoint (prefix `microsoft-atp`): machines, alerts, machine actions,
//! investigations, indicators, vulnerability management, live response and advanced hunting
//! through the Defender for Endpoint API, and alerts fetched as incidents, as the reference
//! "Microsoft Defender for Endpoint" integration does.
//!
//! The binary (`src/main.rs`) is `soar_integration_kit::run(integration())`. [`AUTH_SPEC`]
//! declares the flows (its row of the flow table: the Cortex XSOAR application through the OAuth
//! proxy as `ms-defender-atp`, client credentials with a secret or a certificate, authorization
//! code, managed identities) and the reference's param spellings (`_auth_id`, `_tenant_id`,
//! `credentials`, `creds_certificate`, `auth_code`, `managed_identities_client_id`); the endpoint
//! type (`endpoint_type`: Worldwide, US/EU/UK Geo Proximity, US GCC, US GCC-High, DoD, Custom
//! with `url`) picks the API host, the login host and the token scope in soar-auth. Commands are
//! declared one place each under `commands/` (grouped by family), their shapes in `outputs.rs`,
//! the hunting KQL in `kql.rs`, the scheduled-command keys in `polling.rs`, the seams in
//! `client.rs`.
//!
//! Decisions where the reference is silent, inconsistent or wrong:
//! - **Polling.** Live response (run script, get file, put file) and
//!   request-and-download-investigation-package poll as the reference does (`machine_action_id`,
//!   `interval_in_seconds`, `timeout_in_seconds`, `polling` in the next run's args). The
//!   machine-action commands (isolate, unisolate, antivirus scan, restrict/remove restriction,
//!   stop and quarantine, offboard, collect investigation package) also poll, by default
//!   (`polling=false` turns it off): their first run is the reference's submission, later runs
//!   (with `action_ids`) check every action. A waiting run answers a short progress note (the
//!   reference answers an empty entry). `Failed`, `Cancelled` and `TimeOut` end a poll with the
//!   reference's error `Command <status>.`.
//! - **Hunting limit.** The reference builds the KQL `limit` as the string `limit` repeated
//!   `page` times (`"50" * 2` = `"5050"`); here it is the number `limit × page`. Every template
//!   keeps only the requested page's rows (the reference forgets it for persistence evidence).
//! - **Fetch.** See `commands/fetch.rs`: `ge` the last time plus the IDs at that instant, so
//!   alerts sharing the boundary instant are neither lost nor repeated.
//! - **Endpoint URL.** `url` has no default (the reference's old default
//!   `https://api.securitycenter.windows.com` would override every endpoint type); it is the
//!   Custom endpoint's URL, or overrides a named type's API host as in the reference.
//! - **SC indicators** go to the configured endpoint's API host (the reference hard-codes the
//!   worldwide host). The Graph TI indicators use Graph `beta` of the cloud.
//! - **Lists without order.** Multi-ID arguments keep their first-seen order without repeats
//!   (the reference goes through a Python set, whose order is arbitrary).
//! - **All-failed errors** print the reference's dict of ID -> caught exception as Python shows
//!   it: `{'id': NotFoundError({'error': {...}})}` for a 404 with a JSON body (the body as a
//!   dict repr), `{'id': DemistoException('Error in API call [500] - ...')}` for any other
//!   failure (its text as a Python string repr). The reference's exception classes are named
//!   after the API client's; a failure the reference would raise as another class (a timeout's
//!   `requests` exception) is shown as `DemistoException` with our text.
//! - **Entries** are `CommandResults`-shaped; the reference's `return_outputs` entries have the
//!   same Contents, HumanReadable and EntryContext.
//! - `microsoft-atp-get-file-info` writes the YAML's `File.SHA1/SHA256/Type/Size` (the reference
//!   writes capitalised raw keys); `list-missing-kb-by-software` documents the prefix it writes,
//!   `MicrosoftATP.SoftwareKB` (the YAML has the typo `MicMicrosoftATP`).
//! - `offboard-machine` sends the `comment` argument as the request's `Comment` (the reference
//!   ignores it and always sends `Offboarded during soc rountine`); its title keeps the
//!   reference's wording (`The offboards request ...`).
//! - `list-alerts` adds the creation time filter even alone, with the missing space
//!   (`...'X'and alertCreationTime+gt+...` upstream) fixed.
//! - **HTTP `timeout` arguments** (start-investigation, advanced-hunting and its `query_batch`
//!   entries, the hunting templates) are the whole-request timeout of the command's API call
//!   (`Request::timeout`, in place of the instance's): seconds, fractions allowed, more than 0,
//!   clamped to an hour; anything else is an error naming the argument.
//! - **Date arguments sent as text** (`get-machine-by-ip` `timestamp`, `create-alert`
//!   `event_time`, `indicator-create-file` `file_compile_date_time` / `file_created_date_time`):
//!   an RFC 3339 text goes as given (the reference passes them through), another form
//!   `arg_to_datetime` reads (`2 hours ago`) as UTC ISO 8601, anything else is an error naming
//!   the argument rather than a request the API refuses. `tests/bad_input.rs` sends every
//!   command's arguments bad values (from the command table) and holds that every refusal names
//!   its argument.
//! - **429.** soar-auth retries idempotent calls on 429 (honouring `Retry-After`); a call that
//!   still answers 429 (a POST, or a GET after the retries) makes the command answer the
//!   reference's "Rate limit reached, rerunning the command in 1 min" with a schedule (60 s,
//!   timeout 900 s, `ran_once_flag`); a second 429 is the error. `fetch-incidents` is not
//!   rescheduled (the reference lists alerts with `overwrite_rate_limit_retry=True`; the fetch
//!   fails and the next scheduled fetch tries again), nor are `test-module` and
//!   `microsoft-atp-test`: the reference's `test_module` asks with
//!   `overwrite_rate_limit_retry=True`, and since its client counts 429 as an OK status (added by
//!   `retry_on_rate_limit`) a rate-limited check reads as success there; here it is the 429 error.

pub mod client;
pub mod commands;
pub mod kql;
pub mod outputs;
pub mod polling;

use soar_integration_kit::{
    About, ApiKind, AuthCommands, AuthFlow, AuthForm, AuthSpec, CommandContext, Error, FlowPicker, MsClient,
    MsIntegration, ParamNames, ParamRef, ParamSpec, Rescue, matrix,
};

use crate::client::Atp;
use crate::commands::{actions, alerts, entities, fetch, hunting, indicators, live, machines, tvm};

/// The flows this integration supports: its row of the flow table.
pub const FLOWS: &[AuthFlow] = matrix::declared_flows("microsoft-atp");

/// The endpoint types of the `endpoint_type` select.
pub const ENDPOINT_TYPES: &[&str] = &[
    "Worldwide",
    "US Geo Proximity",
    "EU Geo Proximity",
    "UK Geo Proximity",
    "US GCC",
    "US GCC-High",
    "DoD",
    "Custom",
];

/// What the auth crate needs to know about this integration: the reference's spellings.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "microsoft-atp",
    flows: FLOWS,
    oproxy_app_name: "ms-defender-atp",
    resource: ApiKind::Defender,
    scopes: &[],
    param_names: ParamNames {
        client_id: &[ParamRef::Str("_auth_id"), ParamRef::Str("auth_id")],
        tenant_id: &[ParamRef::Str("_tenant_id"), ParamRef::Str("tenant_id")],
        client_secret: &[ParamRef::Password("credentials"), ParamRef::Str("enc_key")],
        certificate_thumbprint: &[
            ParamRef::Identifier("creds_certificate"),
            ParamRef::Str("certificate_thumbprint"),
        ],
        private_key: &[ParamRef::Password("creds_certificate"), ParamRef::Str("private_key")],
        auth_code: &[ParamRef::Password("auth_code")],
        // `url` is the Defender endpoint's URL here, never Graph's.
        graph_url: &[],
        ..ParamNames::DEFAULT
    },
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Microsoft Defender for Endpoint",
    description: "Microsoft Defender for Endpoint (previously Defender ATP) is a unified platform for preventive \
                  protection, post-breach detection, automated investigation, and response.",
    category: "Endpoint",
    form: AuthForm {
        picker: FlowPicker::Select { default: AuthFlow::ClientSecret },
        national_clouds: false,
        labels: &[
            ("_auth_id", "ID / Client ID"),
            ("_tenant_id", "Token / Tenant ID"),
            ("credentials", "Key / Client Secret"),
        ],
        defaults: &[],
    },
    params: &[
        ParamSpec {
            default: Some("Worldwide"),
            options: ENDPOINT_TYPES,
            help: "Use the endpoint of your tenant's geography or government cloud; Custom uses the Endpoint URI.",
            ..ParamSpec::new("endpoint_type", "Endpoint Type")
        },
        ParamSpec {
            help: "The API host for the Custom endpoint type (e.g. https://api.securitycenter.microsoft.com); it overrides the host of a named endpoint type.",
            ..ParamSpec::new("url", "Endpoint URI")
        },
        ParamSpec { hidden: true, checkbox: true, ..ParamSpec::new("is_gcc", "Using Microsoft GCC?") },
        ParamSpec {
            default: Some("B - Usually reliable"),
            options: &[
                "A+ - 3rd party enrichment",
                "A - Completely reliable",
                "B - Usually reliable",
                "C - Fairly reliable",
                "D - Not usually reliable",
                "E - Unreliable",
                "F - Reliability cannot be judged",
            ],
            ..ParamSpec::new("Reliability", "Source Reliability")
        },
        ParamSpec {
            default: Some("New"),
            help: "Comma-separated: New, InProgress, Resolved.",
            ..ParamSpec::new("fetch_status", "Status to filter out alerts for fetching as incidents")
        },
        ParamSpec {
            default: Some("Informational,Low,Medium,High"),
            help: "Comma-separated: Informational, Low, Medium, High.",
            ..ParamSpec::new("fetch_severity", "Severity to filter out alerts for fetching as incidents")
        },
        ParamSpec {
            help: "Comma-separated: Third-party sensors, Antivirus, Automated investigation, Custom detection, Custom TI, EDR, Microsoft 365 Defender, Microsoft Defender for Office 365, Microsoft Defender Experts, SmartScreen.",
            ..ParamSpec::new(
                "fetch_detectionsource",
                "Detection Source to filter out alerts for fetching as incidents",
            )
        },
        ParamSpec {
            default: Some("50"),
            ..ParamSpec::new("max_fetch", "Maximum number of incidents to fetch")
        },
        ParamSpec { checkbox: true, ..ParamSpec::new("fetch_evidence", "Fetch alert evidence") },
        ParamSpec {
            default: Some("3 days"),
            ..ParamSpec::new(
                "first_fetch_timestamp",
                "First fetch timestamp (<number> <time unit>, e.g., 12 hours, 7 days)",
            )
        },
    ],
    unprefixed_commands: &["endpoint"],
};

/// The integration with the process-wide HTTP client (configured from the environment).
pub fn integration() -> MsIntegration<Atp> {
    integration_with(Atp::from_client)
}

/// The integration with another environment per request (tests put fakes behind the seams).
pub fn integration_with(
    env: impl Fn(MsClient, &CommandContext) -> Result<Atp, Error> + Send + Sync + 'static,
) -> MsIntegration<Atp> {
    MsIntegration::new(&ABOUT, env)
        .command::<commands::TestModule>()
        .command::<commands::Test>()
        .command::<fetch::FetchIncidents>()
        .command::<actions::Isolate>()
        .command::<actions::Unisolate>()
        .command::<machines::GetMachines>()
        .command::<machines::GetFileRelatedMachines>()
        .command::<machines::GetMachineDetails>()
        .command::<actions::RunAntivirusScan>()
        .command::<alerts::ListAlerts>()
        .command::<alerts::UpdateAlert>()
        .command::<hunting::AdvancedHunting>()
        .command::<alerts::CreateAlert>()
        .command::<alerts::GetAlertRelatedUser>()
        .command::<alerts::GetAlertRelatedFiles>()
        .command::<alerts::GetAlertRelatedIps>()
        .command::<alerts::GetAlertRelatedDomains>()
        .command::<actions::ListMachineActions>()
        .command::<actions::CollectInvestigationPackage>()
        .command::<actions::GetInvestigationPackageSasUri>()
        .command::<actions::RestrictAppExecution>()
        .command::<actions::RemoveAppRestriction>()
        .command::<actions::StopAndQuarantineFile>()
        .command::<machines::ListInvestigations>()
        .command::<machines::StartInvestigation>()
        .command::<entities::GetDomainStatistics>()
        .command::<entities::GetDomainAlerts>()
        .command::<entities::GetDomainMachines>()
        .command::<entities::GetFileStatistics>()
        .command::<entities::GetFileAlerts>()
        .command::<entities::GetIpStatistics>()
        .command::<entities::GetIpAlerts>()
        .command::<entities::GetUserAlerts>()
        .command::<entities::GetUserMachines>()
        .command::<machines::AddRemoveMachineTag>()
        .command::<indicators::IndicatorList>()
        .command::<indicators::IndicatorGet>()
        .command::<indicators::IndicatorCreateFile>()
        .command::<indicators::IndicatorCreateNetwork>()
        .command::<indicators::IndicatorUpdate>()
        .command::<indicators::IndicatorDelete>()
        .command::<indicators::ScIndicatorUpdate>()
        .command::<indicators::ScIndicatorCreate>()
        .command::<indicators::ScIndicatorDelete>()
        .command::<indicators::ScIndicatorList>()
        .command::<indicators::ScIndicatorGet>()
        .command::<tvm::ListMachinesBySoftware>()
        .command::<tvm::ListMissingKbBySoftware>()
        .command::<tvm::ListVulnerabilitiesBySoftware>()
        .command::<tvm::ListSoftware>()
        .command::<tvm::ListVulnerabilitiesByMachine>()
        .command::<tvm::ListVulnerabilities>()
        .command::<tvm::ListSoftwareVersionDistribution>()
        .command::<tvm::ListMachinesByVulnerability>()
        .command::<entities::GetFileInfo>()
        .command::<machines::Endpoint>()
        .command::<indicators::IndicatorBatchUpdate>()
        .command::<alerts::GetAlertById>()
        .command::<live::LiveResponseGetFile>()
        .command::<live::LiveResponseRunScript>()
        .command::<live::LiveResponsePutFile>()
        .command::<live::LiveResponseResult>()
        .command::<live::LiveResponseCancel>()
        .command::<hunting::HuntLateralMovement>()
        .command::<hunting::HuntPersistence>()
        .command::<hunting::HuntFileOrigin>()
        .command::<hunting::HuntProcessDetails>()
        .command::<hunting::HuntNetworkConnections>()
        .command::<hunting::HuntPrivilegeEscalation>()
        .command::<hunting::HuntTampering>()
        .command::<hunting::HuntCoverUp>()
        .command::<machines::GetMachineUsers>()
        .command::<machines::GetMachineAlerts>()
        .command::<actions::RequestAndDownloadInvestigationPackage>()
        .command::<actions::Offboard>()
        .command::<machines::GetMachineByIp>()
        // The reference has these two generic commands.
        .auth_commands(AuthCommands::Only(&["generate-login-url", "auth-reset"]))
        .rescue(Rescue { answer: polling::rate_limit_retry, args: polling::rate_limit_args })
}

#[cfg(test)]
mod tests {
    use soar_integration_kit::Integration;

    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        soar_integration_kit::check_integration(&integration()).unwrap();
    }

    #[test]
    fn the_form_agrees_with_the_declared_flows() {
        assert_eq!(ABOUT.check_params(), Vec::<String>::new());
    }

    /// The fact sheet's 74 commands (73 `microsoft-atp-*` and `endpoint`), plus the
    /// reference's newer get-machine-by-ip, test-module, fetch-incidents and auth-reset.
    #[test]
    fn every_reference_command_is_there() {
        let names: Vec<String> = integration().commands().iter().map(|c| c.name().to_owned()).collect();
        let listed = include_str!("../../../test-data/microsoft-atp/reference-commands.txt");
        let mut missing = Vec::new();
        for name in listed.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !names.iter().any(|n| n == name) {
                missing.push(name);
            }
        }
        assert!(missing.is_empty(), "missing commands: {missing:?}");
        assert_eq!(listed.lines().filter(|l| !l.trim().is_empty()).count(), 74);
    }
}
