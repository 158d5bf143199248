//! The seed's flow table as data: the 37 Microsoft integrations, the six flow columns as the seed
//! words them, each integration's command prefix, primary resource and scope, and the
//! [`AuthSpec`] a row gives. `test-data/flow-matrix.md` is the reference copy of the table;
//! `tests/matrix.rs` fails when this table and that file disagree, and gets a token from the
//! emulator for every row, resource and supported flow.
//!
//! Integrations take their flows from here, at compile time: `flows:
//! matrix::declared_flows("<prefix>")` in their `static AuthSpec` (a prefix no single row owns
//! fails the build), or start from the whole row with `..ROW.auth_spec()`. [`SPECS`] holds every
//! row's spec; `soar flows` prints [`ROWS`].
//!
//! Decisions (the table says "client credentials", "Cortex app", ... and leaves the mapping to
//! flows open):
//! - **Client credentials "yes" gives both [`AuthFlow::ClientSecret`] and
//!   [`AuthFlow::ClientCertificate`].** The reference's shared `MicrosoftApiModule` takes a
//!   certificate (thumbprint + private key) wherever it takes a client secret, and this crate
//!   implements both as one client-credentials flow, so a row cannot support one without the other.
//! - **Cortex app** is one of two mechanisms ([`CortexApp`]): `Oproxy { app }` when the row names
//!   an OAuth proxy app (flow [`AuthFlow::CortexApp`]); `DefaultClient` when it says "yes" or
//!   "yes - device" without one, meaning a Palo Alto public client used with device code, so
//!   the row gets [`AuthFlow::DeviceCode`] (whatever the device-code column says; in the seed
//!   every such row also says device code "yes"). The seed's wording is kept in
//!   [`Row::cortex_mark`] so `soar flows` can print it.
//! - **"no - saas"** (managed identities of the XSIAM-only Defender event collector) is
//!   [`Mark::NoSaas`]: no flow, but distinguishable from a plain "no".
//! - **Azure Storage Container, FileShare, Queue, Table** (rows 15–18) use SAS tokens or shared
//!   keys, not Entra app tokens; the only Entra flow they get is managed identity where the seed
//!   says yes (FileShare has none). Their resource is Azure Storage (`https://storage.azure.com`).
//! - **Resources** that [`ApiKind`]'s named APIs cannot express are
//!   [`ApiKind::Resource`]: the Kusto cluster (the seed's example `https://help.kusto.windows.net`;
//!   the real integration uses the customer's cluster URL), Azure DevOps' app id, the Defender
//!   XDR API, MCAS' app id, the Office 365 Management API. Key Vault, Log Analytics, Defender for
//!   Endpoint's Graph calls and Teams' Bot Framework are second resources
//!   ([`Row::other_resources`]) beside the primary one.
//! - **Delegated scopes** ([`Row::delegated_scopes`]) are the ones the seed lists for device
//!   code / authorization code, qualified with the primary resource by the auth crate; the
//!   reference's extra unqualified `user.read` (a Graph permission on an ARM/Kusto request) is
//!   left out, as azure-storage does. Log Analytics' two-resource authorization-code scope is
//!   reduced to ARM's `user_impersonation` (one token is for one resource). Empty means
//!   `<resource>/.default`.
//! - Four prefixes are shared by two rows (`msgraph`, `msgraph-mail`, `microsoft-365-defender`,
//!   `microsoft-teams`): [`row`] answers only for a prefix one row owns; [`rows_with_prefix`] and
//!   [`by_folder`] (the reference's integration folder, unique) reach the others.
//! - The default public client id of a `DefaultClient` row is known only for Azure Storage
//!   ([`Row::default_client_id`]); the others' YAML defaults were not read.

use soar_protocol::AuthFlow;

use crate::spec::{ApiKind, AuthSpec, ParamNames};

/// A value of one of the seed's six flow columns, as the seed words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    /// `yes`.
    Yes,
    /// `yes - device` (Cortex app column only: a Palo Alto client used with device code).
    YesDevice,
    /// `no`.
    No,
    /// `no - saas` (not available because the integration runs only in the SaaS product).
    NoSaas,
}

impl Mark {
    /// The seed's words.
    pub fn text(self) -> &'static str {
        match self {
            Mark::Yes => "yes",
            Mark::YesDevice => "yes - device",
            Mark::No => "no",
            Mark::NoSaas => "no - saas",
        }
    }

    /// Parses the seed's words (exact, as in the table).
    pub fn parse(text: &str) -> Option<Mark> {
        [Mark::Yes, Mark::YesDevice, Mark::No, Mark::NoSaas].into_iter().find(|m| m.text() == text.trim())
    }

    /// True for the "yes" values.
    pub const fn is_yes(self) -> bool {
        matches!(self, Mark::Yes | Mark::YesDevice)
    }
}

/// How a row offers the Cortex application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CortexApp {
    /// No Cortex application.
    No,
    /// Palo Alto's OAuth proxy with this app name ([`AuthFlow::CortexApp`]).
    Oproxy {
        /// The app name sent to the proxy, e.g. `ms-graph-user`.
        app: &'static str,
    },
    /// A Palo Alto public client id used with device code against Entra directly.
    DefaultClient,
}

impl CortexApp {
    /// The OAuth proxy app name, when the row uses the proxy.
    pub const fn oproxy_app(self) -> Option<&'static str> {
        match self {
            CortexApp::Oproxy { app } => Some(app),
            _ => None,
        }
    }
}

/// The flows a row supports, derived once from its columns (a fixed array so that the table
/// stays a `static` and [`Row::flow_list`] can hand out `'static` slices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSet {
    list: [AuthFlow; 6],
    len: usize,
}

impl FlowSet {
    /// The flows of the given columns, in [`AuthFlow::ALL`] order.
    pub const fn derive(cortex: CortexApp, cc: Mark, dc: Mark, ac: Mark, mi: Mark) -> FlowSet {
        let mut list = [AuthFlow::CortexApp; 6];
        let mut len = 0;
        if let CortexApp::Oproxy { .. } = cortex {
            list[len] = AuthFlow::CortexApp;
            len += 1;
        }
        if cc.is_yes() {
            list[len] = AuthFlow::ClientSecret;
            list[len + 1] = AuthFlow::ClientCertificate;
            len += 2;
        }
        if ac.is_yes() {
            list[len] = AuthFlow::AuthorizationCode;
            len += 1;
        }
        if dc.is_yes() || matches!(cortex, CortexApp::DefaultClient) {
            list[len] = AuthFlow::DeviceCode;
            len += 1;
        }
        if mi.is_yes() {
            list[len] = AuthFlow::ManagedIdentity;
            len += 1;
        }
        FlowSet { list, len }
    }

    /// The flows.
    pub const fn as_slice(&self) -> &[AuthFlow] {
        self.list.split_at(self.len).0
    }
}

/// One integration of the seed's table.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The row number in the seed (1–37).
    pub number: u8,
    /// The display name, e.g. `Azure Compute v2`.
    pub name: &'static str,
    /// The reference's pack folder, e.g. `AzureCompute`.
    pub pack: &'static str,
    /// The reference's integration folder, e.g. `AzureCompute_v2` (unique per row).
    pub folder: &'static str,
    /// The command prefix, e.g. `azure-vm`.
    pub prefix: &'static str,
    /// How the Cortex application is offered.
    pub cortex_app: CortexApp,
    /// The seed's words in the Cortex app column (`yes`, `yes - device`, `no`).
    pub cortex_mark: Mark,
    /// Client credentials column.
    pub client_credentials: Mark,
    /// Device code column.
    pub device_code: Mark,
    /// Authorization code column.
    pub auth_code: Mark,
    /// Managed identities column.
    pub managed_identities: Mark,
    /// National clouds column.
    pub national_clouds: Mark,
    /// The primary API's base URL as the seed gives it (placeholders kept).
    pub api_base: &'static str,
    /// The primary resource a token is requested for.
    pub resource: ApiKind,
    /// Other resources the integration gets tokens for.
    pub other_resources: &'static [ApiKind],
    /// The token scope or resource of the app flows, in the seed's words.
    pub scope: &'static str,
    /// Delegated scopes for device code / authorization code (empty: `<resource>/.default`).
    pub delegated_scopes: &'static [&'static str],
    /// The default public client id of a [`CortexApp::DefaultClient`] row, when known.
    pub default_client_id: Option<&'static str>,
    flows: FlowSet,
}

impl Row {
    /// The seed's six flow columns in its order: Cortex app, client credentials, device code,
    /// auth code, managed identities, national clouds.
    pub fn marks(&self) -> [Mark; 6] {
        [
            self.cortex_mark,
            self.client_credentials,
            self.device_code,
            self.auth_code,
            self.managed_identities,
            self.national_clouds,
        ]
    }

    /// The flows this row supports (see the module docs for the mapping).
    pub fn flows(&self) -> Vec<AuthFlow> {
        self.flows.as_slice().to_vec()
    }

    /// The flows as a slice that lives as long as the row (`'static` for rows of [`ROWS`]).
    pub const fn flow_list(&self) -> &[AuthFlow] {
        self.flows.as_slice()
    }

    /// The OAuth proxy app name (`""` without one, as [`AuthSpec::oproxy_app_name`] wants).
    pub const fn oproxy_app_name(&self) -> &'static str {
        match self.cortex_app {
            CortexApp::Oproxy { app } => app,
            _ => "",
        }
    }

    /// The [`AuthSpec`] of this row: prefix, flows, proxy app name, primary resource, delegated
    /// scopes, the reference's default param names. A `const fn`: an integration can start its
    /// `static AuthSpec` from it and override what differs (`..ROW.auth_spec()`).
    pub const fn auth_spec(&'static self) -> AuthSpec {
        AuthSpec {
            prefix: self.prefix,
            flows: self.flow_list(),
            oproxy_app_name: self.oproxy_app_name(),
            resource: self.resource,
            scopes: self.delegated_scopes,
            param_names: ParamNames::DEFAULT,
            ..AuthSpec::DEFAULT
        }
    }

    /// The row's [`AuthSpec`] as a `'static` (what [`crate::MsClient::from_params`] takes), for
    /// rows of [`ROWS`]; `None` for a row built elsewhere.
    pub fn static_spec(&self) -> Option<&'static AuthSpec> {
        let i = ROWS.iter().position(|r| std::ptr::eq(r, self))?;
        SPECS.get(i)
    }
}

/// The [`AuthSpec`] of each row of [`ROWS`], in the same order (built at compile time).
pub static SPECS: [AuthSpec; 37] = {
    let mut out = [AuthSpec::DEFAULT; 37];
    let mut i = 0;
    while i < ROWS.len() {
        out[i] = ROWS[i].auth_spec();
        i += 1;
    }
    out
};

/// The row whose prefix is `prefix`, when exactly one row has it (four prefixes are shared by
/// two rows; use [`rows_with_prefix`] or [`by_folder`] for those). A `const fn`, so that an
/// integration's `static AuthSpec` can be built from its row.
pub const fn row(prefix: &str) -> Option<&'static Row> {
    let mut found: Option<&'static Row> = None;
    let mut i = 0;
    while i < ROWS.len() {
        if str_eq(ROWS[i].prefix, prefix) {
            if found.is_some() {
                return None;
            }
            found = Some(&ROWS[i]);
        }
        i += 1;
    }
    found
}

/// String equality usable in `const fn` (`==` on `str` is not const).
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Every row with this prefix.
pub fn rows_with_prefix(prefix: &str) -> impl Iterator<Item = &'static Row> + '_ {
    ROWS.iter().filter(move |r| r.prefix == prefix)
}

/// The row of the reference's integration folder (`MicrosoftGraphUser`, ...).
pub fn by_folder(folder: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.folder == folder)
}

/// The flows an integration with this prefix must declare (see [`row`]).
pub const fn flows_of(prefix: &str) -> Option<&'static [AuthFlow]> {
    match row(prefix) {
        Some(r) => Some(r.flow_list()),
        None => None,
    }
}

/// [`flows_of`] for a `static AuthSpec`: `flows: matrix::declared_flows("msgraph-user")`. A
/// prefix that no single row owns stops the build (the panic happens during constant
/// evaluation), so an integration cannot drift from the table.
pub const fn declared_flows(prefix: &str) -> &'static [AuthFlow] {
    match flows_of(prefix) {
        Some(f) => f,
        None => panic!("no single row of the flow table has this prefix (soar_auth::matrix::ROWS)"),
    }
}

const Y: Mark = Mark::Yes;
const N: Mark = Mark::No;
const NO_APP: (CortexApp, Mark) = (CortexApp::No, Mark::No);
const DEFAULT: (CortexApp, Mark) = (CortexApp::DefaultClient, Mark::Yes);
const DEFAULT_DEVICE: (CortexApp, Mark) = (CortexApp::DefaultClient, Mark::YesDevice);

const fn oproxy(app: &'static str) -> (CortexApp, Mark) {
    (CortexApp::Oproxy { app }, Mark::Yes)
}

/// The ARM family's delegated scope (the reference adds `user.read`, left out: see the docs).
const ARM_USER: &[&str] = &["user_impersonation", "offline_access"];
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ARM_DEFAULT: &str = "https://management.azure.com/.default";
const ARM: &str = "https://management.azure.com";
const GRAPH: &str = "https://graph.microsoft.com";
const STORAGE_MI: &str = "https://storage.azure.com/";

/// One row; `flows` are the columns client credentials, device code, auth code, managed
/// identities, national clouds.
#[allow(clippy::too_many_arguments)] // a table row; named fields follow in `Row { .., ..r(..) }` where needed
const fn r(
    number: u8,
    name: &'static str,
    (pack, folder): (&'static str, &'static str),
    prefix: &'static str,
    (cortex_app, cortex_mark): (CortexApp, Mark),
    [cc, dc, ac, mi, nc]: [Mark; 5],
    api_base: &'static str,
    resource: ApiKind,
    scope: &'static str,
) -> Row {
    Row {
        number,
        name,
        pack,
        folder,
        prefix,
        cortex_app,
        cortex_mark,
        client_credentials: cc,
        device_code: dc,
        auth_code: ac,
        managed_identities: mi,
        national_clouds: nc,
        api_base,
        resource,
        other_resources: &[],
        scope,
        delegated_scopes: &[],
        default_client_id: None,
        flows: FlowSet::derive(cortex_app, cc, dc, ac, mi),
    }
}

/// The seed's 37 rows, in its order.
#[rustfmt::skip]
pub static ROWS: [Row; 37] = [
    r(1, "Azure Compute v2", ("AzureCompute", "AzureCompute_v2"), "azure-vm", oproxy("ms-azure-compute"),
        [Y, N, N, N, N], ARM, ApiKind::Arm, ARM_DEFAULT),
    Row { delegated_scopes: ARM_USER, ..r(2, "Azure Data Explorer", ("AzureDataExplorer", "AzureDataExplorer"), "azure-data-explorer", DEFAULT_DEVICE,
        [Y, Y, Y, N, N], "https://help.kusto.windows.net", ApiKind::Resource("https://help.kusto.windows.net"), "{cluster_url}/.default") },
    Row { delegated_scopes: ARM_USER, ..r(3, "AzureDevOps", ("AzureDevOps", "AzureDevOps"), "azure-devops", DEFAULT,
        [Y, Y, Y, N, N], "https://dev.azure.com/{organization}", ApiKind::Resource("499b84ac-1321-427f-aa17-267ca6975798"),
        "499b84ac-1321-427f-aa17-267ca6975798/user_impersonation offline_access") },
    Row { delegated_scopes: ARM_USER, ..r(4, "Azure Firewall", ("AzureFirewall", "AzureFirewall"), "azure-firewall", DEFAULT,
        [Y, Y, N, Y, N], ARM, ApiKind::Arm, ARM_DEFAULT) },
    Row { other_resources: &[ApiKind::Resource("https://vault.azure.net")], ..r(5, "Azure Key Vault", ("AzureKeyVault", "AzureKeyVault"), "azure-key-vault", NO_APP,
        [Y, N, N, Y, Y], ARM, ApiKind::Arm, "https://vault.azure.net") },
    Row { delegated_scopes: ARM_USER, ..r(6, "Azure Kubernetes Services", ("AzureKubernetesServices", "AzureKubernetesServices"), "azure-ks", DEFAULT,
        [Y, Y, Y, Y, Y], "{resource_manager}subscriptions/{sub}", ApiKind::Arm, "{resource_manager}.default") },
    Row { other_resources: &[ApiKind::LogAnalytics], delegated_scopes: &["user_impersonation"], ..r(7, "Azure Log Analytics", ("AzureLogAnalytics", "AzureLogAnalytics"), "azure-log-analytics", oproxy("ms-azure-log-analytics"),
        [Y, N, Y, Y, Y], "{resource_manager}subscriptions/{sub}", ApiKind::Arm, "https://api.loganalytics.io") },
    Row { delegated_scopes: ARM_USER, ..r(8, "Azure Network Security Groups", ("AzureNetworkSecurityGroups", "AzureNetworkSecurityGroups"), "azure-nsg", DEFAULT,
        [Y, Y, Y, Y, N], ARM, ApiKind::Arm, ARM_DEFAULT) },
    Row { delegated_scopes: &["IdentityRiskyUser.Read.All", "IdentityRiskEvent.ReadWrite.All", "IdentityRiskyUser.ReadWrite.All", "offline_access"],
        ..r(9, "Azure Risky Users", ("AzureRiskyUsers", "AzureRiskyUsers"), "azure-risky-users", DEFAULT,
        [Y, Y, N, Y, N], GRAPH, ApiKind::Graph, GRAPH_DEFAULT) },
    r(10, "Azure Security Center v2", ("AzureSecurityCenter", "AzureSecurityCenter_v2"), "azure-sc", oproxy("ms-azure-sc"),
        [Y, N, N, Y, N], ARM, ApiKind::Arm, ARM_DEFAULT),
    r(11, "Microsoft Defender for Cloud Event Collector", ("AzureSecurityCenter", "MicrosoftDefenderForCloudEventCollector"), "ms-defender-for-cloud", NO_APP,
        [Y, N, N, N, N], "{server_url}subscriptions/{sub}", ApiKind::Arm, ARM_DEFAULT),
    r(12, "Azure Sentinel", ("AzureSentinel", "AzureSentinel"), "azure-sentinel", NO_APP,
        [Y, N, N, Y, Y], "{resource_manager}subscriptions/{sub}", ApiKind::Arm, "{resource_manager}.default"),
    Row { delegated_scopes: ARM_USER, ..r(13, "Azure SQL Management", ("AzureSQLManagement", "AzureSQLManagement"), "azure-sql", DEFAULT,
        [Y, Y, Y, Y, N], ARM, ApiKind::Arm, "https://management.azure.com/user_impersonation") },
    Row { delegated_scopes: ARM_USER, default_client_id: Some("55f9764e-300a-474a-a2bb-549cece85439"),
        ..r(14, "Azure Storage", ("AzureStorage", "AzureStorage"), "azure-storage", DEFAULT,
        [Y, Y, Y, Y, N], ARM, ApiKind::Arm, ARM_DEFAULT) },
    r(15, "Azure Storage Container", ("AzureStorageContainer", "AzureStorageContainer"), "azure-storage-container", NO_APP,
        [N, N, N, Y, N], "https://{account}.blob.core.windows.net/", ApiKind::Storage, STORAGE_MI),
    r(16, "Azure Storage FileShare", ("AzureStorageFileShare", "AzureStorageFileShare"), "azure-storage-fileshare", NO_APP,
        [N, N, N, N, N], "https://{account}.file.core.windows.net/", ApiKind::Storage, "SAS token only"),
    r(17, "Azure Storage Queue", ("AzureStorageQueue", "AzureStorageQueue"), "azure-storage-queue", NO_APP,
        [N, N, N, Y, N], "https://{account}.queue.core.windows.net/", ApiKind::Storage, STORAGE_MI),
    r(18, "Azure Storage Table", ("AzureStorageTable", "AzureStorageTable"), "azure-storage-table", NO_APP,
        [N, N, N, Y, N], "https://{account}.table.core.windows.net/", ApiKind::Storage, STORAGE_MI),
    Row { delegated_scopes: ARM_USER, ..r(19, "Azure Web Application Firewall", ("AzureWAF", "AzureWAF"), "azure-waf", DEFAULT,
        [Y, Y, Y, Y, N], ARM, ApiKind::Arm, ARM_DEFAULT) },
    r(20, "Microsoft 365 Defender", ("Microsoft365Defender", "Microsoft365Defender"), "microsoft-365-defender", DEFAULT,
        [Y, Y, N, Y, N], "https://api.security.microsoft.com", ApiKind::Resource("https://api.security.microsoft.com"), "https://api.security.microsoft.com/"),
    r(21, "Microsoft 365 Defender Event Collector - XSIAM", ("Microsoft365Defender", "Microsoft365DefenderEventCollector"), "microsoft-365-defender", NO_APP,
        [Y, N, N, Mark::NoSaas, N], "{url}/api/alerts", ApiKind::Defender, "https://securitycenter.onmicrosoft.com/windowsatpservice/.default"),
    r(22, "Microsoft Defender for Cloud Apps", ("MicrosoftCloudAppSecurity", "MicrosoftCloudAppSecurity"), "microsoft-cas", NO_APP,
        [Y, Y, N, N, Y], "https://<tenant>.portal.cloudappsecurity.com/api/v1", ApiKind::Resource("05a65629-4c1b-48c1-a78b-804c4abdd4af"),
        "05a65629-4c1b-48c1-a78b-804c4abdd4af/.default"),
    Row { other_resources: &[ApiKind::Graph], ..r(23, "Microsoft Defender for Endpoint", ("MicrosoftDefenderAdvancedThreatProtection", "MicrosoftDefenderAdvancedThreatProtection"), "microsoft-atp", oproxy("ms-defender-atp"),
        [Y, N, Y, Y, Y], "https://api.securitycenter.microsoft.com/api", ApiKind::Defender, "https://securitycenter.onmicrosoft.com/windowsatpservice/.default") },
    r(24, "Microsoft Graph API", ("MicrosoftGraphAPI", "MicrosoftGraphAPI"), "msgraph-api", DEFAULT,
        [Y, Y, Y, Y, Y], GRAPH, ApiKind::Graph, "{graph}/.default"),
    Row { delegated_scopes: &["offline_access", "Application.ReadWrite.All"], ..r(25, "Azure Active Directory Applications", ("MicrosoftGraphApplications", "MicrosoftGraphApplications"), "msgraph-apps", DEFAULT_DEVICE,
        [Y, Y, N, Y, N], GRAPH, ApiKind::Graph, GRAPH_DEFAULT) },
    r(26, "O365 Outlook Calendar", ("MicrosoftGraphCalendar", "MicrosoftGraphCalendar"), "msgraph-calendar", oproxy("ms-graph-calendar"),
        [Y, N, N, Y, N], "{url}/v1.0/", ApiKind::Graph, "module default"),
    r(27, "Microsoft Graph Device Management", ("MicrosoftGraphDeviceManagement", "MicrosoftGraphDeviceManagement"), "msgraph", oproxy("ms-graph-device-management"),
        [Y, N, N, Y, Y], "{url}/v1.0", ApiKind::Graph, GRAPH_DEFAULT),
    r(28, "O365 File Management", ("MicrosoftGraphFiles", "MicrosoftGraphFiles"), "msgraph", oproxy("ms-graph-files"),
        [Y, N, Y, Y, N], "{host}/v1.0/", ApiKind::Graph, "module default"),
    r(29, "Microsoft Graph Groups", ("MicrosoftGraphGroups", "MicrosoftGraphGroups"), "msgraph-groups", oproxy("ms-graph-groups"),
        [Y, N, Y, Y, N], "{url}/v1.0/", ApiKind::Graph, "module default"),
    Row { delegated_scopes: &["offline_access", "IdentityRiskEvent.Read.All", "IdentityRiskyUser.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "Policy.ReadWrite.ConditionalAccess", "Policy.Read.All"],
        ..r(30, "Azure Active Directory Identity And Access", ("MicrosoftGraphIdentityandAccess", "MicrosoftGraphIdentityandAccess"), "msgraph-identity", DEFAULT,
        [Y, Y, N, Y, N], GRAPH, ApiKind::Graph, "module default") },
    r(31, "Microsoft Graph Mail Single User", ("MicrosoftGraphMail", "MicrosoftGraphListener"), "msgraph-mail", oproxy("ms-graph-mail-listener"),
        [N, N, Y, Y, N], "https://graph.microsoft.com/v1.0/", ApiKind::Graph, "module default"),
    r(32, "O365 Outlook Mail", ("MicrosoftGraphMail", "MicrosoftGraphMail"), "msgraph-mail", oproxy("ms-graph-mail"),
        [Y, N, N, Y, Y], "{url}/v1.0", ApiKind::Graph, "Graph `.default` of that cloud"),
    r(33, "Microsoft Graph Security", ("MicrosoftGraphSecurity", "MicrosoftGraphSecurity"), "msg", oproxy("ms-graph-security"),
        [Y, N, Y, Y, N], "…/v1.0/", ApiKind::Graph, "module default"),
    r(34, "Microsoft Graph User", ("MicrosoftGraphUser", "MicrosoftGraphUser"), "msgraph-user", oproxy("ms-graph-user"),
        [Y, N, Y, Y, N], "https://graph.microsoft.com/v1.0/", ApiKind::Graph, GRAPH_DEFAULT),
    r(35, "Microsoft Management Activity API (O365 Azure Events)", ("MicrosoftManagementActivity", "MicrosoftManagementActivity"), "ms-management-activity", oproxy("ms-management-api"),
        [N, N, Y, Y, N], "https://manage.office.com/api/v1.0", ApiKind::Resource("https://manage.office.com"), "resource=https://manage.office.com"),
    Row { other_resources: &[ApiKind::Resource("https://api.botframework.com")], ..r(36, "Microsoft Teams", ("MicrosoftTeams", "MicrosoftTeams"), "microsoft-teams", NO_APP,
        [Y, N, Y, N, N], GRAPH, ApiKind::Graph, GRAPH_DEFAULT) },
    Row { delegated_scopes: &["offline_access", "Group.ReadWrite.All", "TeamMember.ReadWrite.All", "Team.ReadBasic.All"],
        ..r(37, "Microsoft Teams Management", ("MicrosoftTeams", "MicrosoftTeamsManagement"), "microsoft-teams", DEFAULT,
        [Y, Y, N, Y, N], GRAPH, ApiKind::Graph, GRAPH_DEFAULT) },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_in_order_and_folders_are_unique() {
        for (i, row) in ROWS.iter().enumerate() {
            assert_eq!(row.number as usize, i + 1, "{}", row.name);
            assert_eq!(by_folder(row.folder).map(|r| r.number), Some(row.number));
        }
    }

    #[test]
    fn the_cortex_variant_agrees_with_the_seed_words() {
        for row in &ROWS {
            let ok = match row.cortex_app {
                CortexApp::No => row.cortex_mark == Mark::No,
                CortexApp::Oproxy { app } => row.cortex_mark == Mark::Yes && !app.is_empty(),
                CortexApp::DefaultClient => row.cortex_mark.is_yes(),
            };
            assert!(ok, "row {}: {:?} / {:?}", row.number, row.cortex_app, row.cortex_mark);
        }
    }

    #[test]
    fn flows_follow_the_columns() {
        let f = |prefix: &str| flows_of(prefix).unwrap().to_vec();
        use AuthFlow::*;
        // Oproxy + client credentials (secret and certificate) + auth code + MI.
        assert_eq!(
            f("msgraph-user"),
            [CortexApp, ClientSecret, ClientCertificate, AuthorizationCode, ManagedIdentity]
        );
        // Default client: device code, whatever else.
        assert_eq!(
            f("azure-storage"),
            [ClientSecret, ClientCertificate, AuthorizationCode, DeviceCode, ManagedIdentity]
        );
        assert_eq!(f("azure-storage-container"), [ManagedIdentity]);
        assert_eq!(f("azure-storage-fileshare"), []);
        // "no - saas" is no flow, and shared prefixes have no single row.
        let collector = by_folder("Microsoft365DefenderEventCollector").unwrap();
        assert_eq!(collector.managed_identities, Mark::NoSaas);
        assert_eq!(collector.flows(), [ClientSecret, ClientCertificate]);
        assert!(
            row("microsoft-365-defender").is_none()
                && rows_with_prefix("microsoft-365-defender").count() == 2
        );
        assert!(row("no-such-prefix").is_none());
    }

    #[test]
    fn a_static_spec_can_take_its_flows_from_the_table() {
        static SPEC: AuthSpec =
            AuthSpec { prefix: "msgraph-user", flows: declared_flows("msgraph-user"), ..AuthSpec::DEFAULT };
        assert_eq!(SPEC.flows, by_folder("MicrosoftGraphUser").unwrap().flows().as_slice());
        const STORAGE: Option<&[AuthFlow]> = flows_of("azure-storage");
        assert_eq!(STORAGE.map(<[AuthFlow]>::len), Some(5));
        const SHARED: Option<&Row> = row("msgraph-mail");
        assert!(SHARED.is_none());
        static FROM_ROW: AuthSpec = match row("azure-storage") {
            Some(r) => AuthSpec { user_flow_tenant: Some("organizations"), ..r.auth_spec() },
            None => AuthSpec::DEFAULT,
        };
        assert_eq!(FROM_ROW.prefix, "azure-storage");
        assert_eq!(FROM_ROW.flows.len(), 5);
    }

    #[test]
    fn each_row_gives_its_auth_spec() {
        for row in &ROWS {
            let spec = row.static_spec().unwrap();
            assert_eq!(spec.prefix, row.prefix);
            assert_eq!(spec.flows, row.flows().as_slice());
            assert_eq!(spec.oproxy_app_name, row.cortex_app.oproxy_app().unwrap_or(""));
            assert_eq!(spec.resource, row.resource);
            assert_eq!(spec.scopes, row.delegated_scopes);
        }
        let copy = ROWS[0];
        assert!(copy.static_spec().is_none(), "a row outside ROWS has no static spec");
    }
}
