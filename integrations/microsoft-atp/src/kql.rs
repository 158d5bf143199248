//! The advanced-hunting template queries: KQL text built the way the reference builds it, so
//! that the strings equal the reference's golden ones (`test-data/microsoft-atp/
//! expected_hunting_queries.json`, checked by the tests below).
//!
//! A query is `prefix`, then ` (` + one clause per given filter joined by the query operation +
//! `)`, then `suffix` with the row limit. Filters are CSV arguments written as
//! `has_any ("a","b")`; `process_cmd` is `contains "..."`.
//!
//! Decision: the reference multiplies the *string* `limit` by `page` (`"50" * 2` is `"5050"`);
//! here the KQL limit is the number `limit × page`, as its documentation says.

use soar_integration_kit::Error;

/// The reference's message when no filter argument is given.
pub const ANY_ARGS_ERR: &str = "Please provide at least one of the query args: \"device_name\", \"file_name\", \
                                \"sha1, \"sha256\", \"md5\" or \"device_id\".";
/// The reference's message when no file argument is given.
pub const FILE_ARGS_ERR: &str =
    "Please provide at least one file arguments: \"file_name\", \"sha1\", \"sha256\" or \"md5\".";
/// The reference's message when no device argument is given.
pub const DEVICES_ARGS_ERR: &str =
    "Please provide at least one devices arguments: \"device_id\" or \"device_name\".";
/// The reference's message for the account queries without `username`.
pub const USERNAME_ERR: &str = "Please provide the \"username\" argument.";

/// The filter arguments every template takes (CSV strings as given).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// `device_name`.
    pub device_name: Option<String>,
    /// `file_name`.
    pub file_name: Option<String>,
    /// `sha1`.
    pub sha1: Option<String>,
    /// `sha256`.
    pub sha256: Option<String>,
    /// `md5`.
    pub md5: Option<String>,
    /// `device_id`.
    pub device_id: Option<String>,
}

impl Filters {
    fn any(&self) -> bool {
        self.devices() || self.files()
    }

    fn devices(&self) -> bool {
        self.device_name.is_some() || self.device_id.is_some()
    }

    fn files(&self) -> bool {
        self.file_name.is_some() || self.sha1.is_some() || self.sha256.is_some() || self.md5.is_some()
    }
}

/// How each filter is named in one table: the file and hash columns of the event itself
/// (`FileName`, `SHA1`, ...) or of its initiating process (`InitiatingProcessFileName`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// `FileName`, `SHA1`, `SHA256`, `MD5`, `DeviceName`, `DeviceId`.
    Own,
    /// `InitiatingProcessFileName`, `InitiatingProcessSHA1`, ..., `DeviceName`, `DeviceId`.
    Initiating,
    /// `DeviceName`, `DeviceId` only.
    Devices,
}

/// One clause: `(key has_any ("a","b"))` or `key contains "x"`.
enum Term {
    HasAny(String),
    Contains(String),
}

/// `a, b` -> `("a","b")` (the reference's `get_filter_values`); empty items are dropped.
fn values(csv: &str) -> Option<String> {
    let items: Vec<&str> = csv.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    (!items.is_empty()).then(|| format!("(\"{}\")", items.join("\",\"")))
}

fn clauses(f: &Filters, cols: Columns, process_cmd: Option<&str>) -> Vec<(&'static str, Term)> {
    let mut out = Vec::new();
    let mut add = |key: &'static str, v: &Option<String>| {
        if let Some(vals) = v.as_deref().and_then(values) {
            out.push((key, Term::HasAny(vals)));
        }
    };
    match cols {
        Columns::Own => {
            add("FileName", &f.file_name);
            add("SHA1", &f.sha1);
            add("SHA256", &f.sha256);
            add("MD5", &f.md5);
        }
        Columns::Initiating => {
            add("InitiatingProcessFileName", &f.file_name);
            add("InitiatingProcessSHA1", &f.sha1);
            add("InitiatingProcessSHA256", &f.sha256);
            add("InitiatingProcessMD5", &f.md5);
        }
        Columns::Devices => {}
    }
    add("DeviceName", &f.device_name);
    add("DeviceId", &f.device_id);
    if let Some(cmd) = process_cmd {
        out.push(("InitiatingProcessCommandLine", Term::Contains(format!("\"{cmd}\""))));
    }
    out
}

/// `prefix (clause op clause ...)suffix`, or `prefix + suffix` without clauses.
fn generic(prefix: &str, suffix: &str, terms: &[(&str, Term)], op: &str) -> String {
    if terms.is_empty() {
        return format!("{prefix}{suffix}");
    }
    let mut q = format!("{prefix} (");
    for (key, term) in terms {
        match term {
            Term::HasAny(vals) => q.push_str(&format!(" ({key} has_any {vals}) {op}")),
            Term::Contains(val) => q.push_str(&format!(" {key} contains {val} {op}")),
        }
    }
    // The last operator goes; what was before it stays as it is (its trailing space included).
    if let Some(at) = q.rfind(op) {
        q.truncate(at);
    }
    q.push(')');
    q.push_str(suffix);
    q
}

/// The template families, their purposes and what each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `microsoft-atp-advanced-hunting-lateral-movement-evidence`.
    LateralMovement,
    /// `...-persistence-evidence`.
    Persistence,
    /// `...-file-origin`.
    FileOrigin,
    /// `...-process-details`.
    ProcessDetails,
    /// `...-network-connections`.
    NetworkConnections,
    /// `...-privilege-escalation`.
    PrivilegeEscalation,
    /// `...-tampering`.
    Tampering,
    /// `...-cover-up`.
    CoverUp,
}

/// What a template query is built from.
#[derive(Debug, Clone, Default)]
pub struct QueryArgs {
    /// The filters.
    pub filters: Filters,
    /// `and` or `or`.
    pub operation: String,
    /// Rows per page.
    pub limit: u64,
    /// The page (1-based); the query asks for `limit × page` rows.
    pub page: u64,
    /// `query_purpose` (templates with purposes).
    pub purpose: String,
    /// `remote_ip_count` (lateral movement, SMB).
    pub remote_ip_count: Option<String>,
    /// `process_cmd` (persistence).
    pub process_cmd: Option<String>,
    /// `username` (cover up).
    pub username: Option<String>,
}

fn err(text: &str) -> Error {
    Error::Command(text.to_owned())
}

fn unsupported(purpose: &str) -> Error {
    Error::Command(format!("Unsupported query_purpose: {purpose}."))
}

const LM_NETWORK_PREFIX: &str = "DeviceNetworkEvents\n| where (RemoteIP startswith \"172.16\" or RemoteIP startswith \"192.168\" or RemoteIP startswith \"10.\") and";
const LM_SMB_PREFIX: &str =
    "DeviceNetworkEvents\n| where RemotePort == 445 and InitiatingProcessId !in (0, 4) and";
const LM_CREDENTIAL_PREFIX: &str = "DeviceProcessEvents\n| where ((FileName has_any (\"procdump.exe\", \"procdump64.exe\") and ProcessCommandLine has \"lsass\") or (ProcessCommandLine has \"lsass.exe\" and (ProcessCommandLine has \"-accepteula\" or ProcessCommandLine contains \"-ma\")) ) and";
const LM_MANAGEMENT_PREFIX: &str = "DeviceNetworkEvents\n| where RemotePort in (22,3389,139,135,23,1433) and";
const LM_NETWORK_SUFFIX: &str = "\n| summarize TotalConnections = count() by DeviceName, RemoteIP, RemotePort, InitiatingProcessFileName\n| order by TotalConnections\n| limit {}";
const LM_SMB_SUFFIX: &str = "\n| summarize RemoteIPCount=dcount(RemoteIP) by DeviceName, InitiatingProcessFileName, InitiatingProcessId, InitiatingProcessCreationTime\n|{} limit {}";
const LM_CREDENTIAL_SUFFIX: &str = "\n| project Timestamp, DeviceName, ActionType, FileName, ProcessCommandLine, AccountName, InitiatingProcessIntegrityLevel, InitiatingProcessTokenElevation\n| limit {}";
const LM_MANAGEMENT_SUFFIX: &str = "\n| summarize TotalCount=count() by DeviceName,LocalIP,RemoteIP,RemotePort\n| order by TotalCount\n| limit {}";

/// (purpose, prefix, suffix, columns, takes process_cmd)
const PERSISTENCE: &[(&str, &str, &str, Columns, bool)] = &[
    (
        "scheduled_job",
        "DeviceEvents | where ActionType == \"ScheduledTaskCreated\" and InitiatingProcessAccountSid != \"S-1-5-18\" and",
        "\n| project Timestamp, DeviceName, InitiatingProcessAccountDomain, InitiatingProcessAccountName, AdditionalFields\n| limit {}",
        Columns::Own,
        false,
    ),
    (
        "registry_entry",
        "DeviceRegistryEvents | where ActionType == \"RegistryValueSet\" and",
        "\n| project Timestamp, DeviceName, RegistryKey, RegistryValueType, PreviousRegistryValueData, RegistryValueName, PreviousRegistryValueName, PreviousRegistryKey, InitiatingProcessFileName\n| limit {}",
        Columns::Initiating,
        true,
    ),
    (
        "startup_folder_changes",
        "DeviceFileEvents | where FolderPath contains @\"\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\" and ActionType == \"FileCreated\" and",
        "\n| project Timestamp, DeviceName, FileName, FolderPath, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine\n| limit {}",
        Columns::Own,
        false,
    ),
    (
        "new_service_created",
        "DeviceRegistryEvents | where RegistryKey contains @\"HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\" and ActionType == \"RegistryKeyCreated\" and",
        "\n| project Timestamp, DeviceName, RegistryKey, RegistryValueName, RegistryValueType, RegistryValueData, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine\n| limit {}",
        Columns::Initiating,
        true,
    ),
    (
        "service_updated",
        "DeviceRegistryEvents | where RegistryKey contains @\"HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\" and ActionType has_any (\"RegistryValueSet\",\"RegistryKeyCreated\") and",
        "\n| project Timestamp, DeviceName, ActionType, RegistryKey, PreviousRegistryKey, RegistryValueName, PreviousRegistryValueName, RegistryValueType, RegistryValueData, PreviousRegistryValueData, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine\n| limit {}",
        Columns::Initiating,
        true,
    ),
    (
        "file_replaced",
        "DeviceFileEvents | where FolderPath contains @\"C:\\Program Files\" and ActionType == \"FileModified\" and",
        "\n| project Timestamp, DeviceName, ActionType, FileName, FolderPath, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine\n| limit {}",
        Columns::Own,
        false,
    ),
    (
        "new_user",
        "DeviceEvents | where ActionType == \"UserAccountCreated\" and",
        "\n| project AccountName,DeviceName,Timestamp,AccountSid,AccountDomain,InitiatingProcessAccountName,InitiatingProcessLogonId\n| limit {}",
        Columns::Own,
        false,
    ),
    (
        "new_group",
        "DeviceEvents | where ActionType == \"SecurityGroupCreated\" and",
        "\n| project AccountName,DeviceName,Timestamp,AccountSid,AccountDomain,InitiatingProcessAccountName,InitiatingProcessLogonId,AdditionalFields\n| limit {}",
        Columns::Own,
        false,
    ),
    (
        "group_user_change",
        "DeviceEvents | where ActionType == \"UserAccountAddedToLocalGroup\" and",
        "\n| summarize by AccountSid\n| limit {}",
        Columns::Own,
        false,
    ),
    (
        "local_firewall_change",
        "DeviceRegistryEvents | where RegistryKey contains @\"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\" and",
        "\n| project Timestamp, DeviceName, ActionType, RegistryKey, PreviousRegistryKey, RegistryValueName, PreviousRegistryValueName, RegistryValueType, RegistryValueData, PreviousRegistryValueData, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine\n| limit {}",
        Columns::Initiating,
        true,
    ),
    (
        "host_file_change",
        "DeviceFileEvents | where FolderPath contains @\"C:\\Windows\\System32\\drivers\\etc\\hosts\" and ActionType == \"FileModified\" and",
        "\n| project Timestamp, DeviceName, ActionType, FileName, FolderPath, SHA1, SHA256, MD5, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine\n| limit {}",
        Columns::Initiating,
        true,
    ),
];

const FILE_ORIGIN_PREFIX: &str = "DeviceFileEvents | where";
const FILE_ORIGIN_SUFFIX: &str = "\n| project Timestamp,FileName,FolderPath, ActionType,DeviceName,MD5,SHA1,SHA256,FileSize,FileOriginUrl,FileOriginIP,InitiatingProcessCommandLine,InitiatingProcessFileName,InitiatingProcessParentFileName\n| limit {}";

const PD_PROCESS_PREFIX: &str = "DeviceProcessEvents | where";
const PD_BEACONING_PREFIX: &str = "DeviceNetworkEvents | where";
const PD_POWERSHELL_PREFIX: &str =
    "DeviceProcessEvents | where FileName in~ (\"powershell.exe\", \"powershell_ise.exe\",\".ps\") and";
const PD_UNSIGNED_PREFIX: &str = "DeviceProcessEvents | where FileName in~ (\"powershell.exe\", \"powershell_ise.exe\",\".ps\") and ( InitiatingProcessFileName != \"SenerIR.exe\" and InitiatingProcessParentFileName != \"MsSense.exe\" and InitiatingProcessSignatureStatus != \"Valid\" ) and (InitiatingProcessFileName != \"CompatTelRunner.exe\" and InitiatingProcessParentFileName != \"CompatTelRunner.exe\")";
const PD_PARENT_SUFFIX: &str = "\n| project Timestamp, DeviceId, DeviceName, ActionType, ProcessId, ProcessCommandLine, ProcessCreationTime, AccountSid, AccountName, AccountDomain,InitiatingProcessAccountDomain, InitiatingProcessAccountDomain, InitiatingProcessAccountName, InitiatingProcessAccountSid, InitiatingProcessAccountSid, InitiatingProcessAccountUpn, InitiatingProcessAccountObjectId, InitiatingProcessLogonId, InitiatingProcessIntegrityLevel, InitiatingProcessTokenElevation, InitiatingProcessSHA1, InitiatingProcessSHA256, InitiatingProcessMD5, InitiatingProcessFileName, InitiatingProcessFileSize, InitiatingProcessVersionInfoCompanyName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoProductVersion, InitiatingProcessVersionInfoInternalFileName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessVersionInfoFileDescription, InitiatingProcessId, InitiatingProcessCommandLine, InitiatingProcessCreationTime, InitiatingProcessFolderPath, InitiatingProcessAccountDomain, InitiatingProcessAccountName, InitiatingProcessAccountSid\n| limit {}";
const PD_GRANDPARENT_SUFFIX: &str = "\n| project Timestamp, DeviceId, DeviceName, ActionType, ProcessId, ProcessCommandLine, ProcessIntegrityLevel, ProcessCreationTime, AccountSid, AccountName, AccountDomain, AccountObjectId, AccountUpn, InitiatingProcessSHA1, InitiatingProcessSHA256, InitiatingProcessMD5, InitiatingProcessFileName, InitiatingProcessId, InitiatingProcessCreationTime, InitiatingProcessFolderPath, InitiatingProcessParentFileName, InitiatingProcessParentId, InitiatingProcessParentCreationTime\n| limit {}";
const PD_DETAILS_SUFFIX: &str = "\n| summarize by SHA1,FileName,SHA256,MD5 | join DeviceFileCertificateInfo on SHA1 | summarize by FileName,SHA1,SHA256,IsSigned,Signer,SignatureType,Issuer,CertificateExpirationTime,IsTrusted,IsRootSignerMicrosoft\n| limit {}";
const PD_BEACONING_SUFFIX: &str = "\n| project Timestamp, DeviceId, DeviceName, ActionType, RemoteIP, RemotePort, RemoteUrl, LocalIP, LocalPort, Protocol, LocalIPType, RemoteIPType, InitiatingProcessSHA1, InitiatingProcessSHA256, InitiatingProcessMD5, InitiatingProcessFileName\n| limit {}";
const PD_POWERSHELL_SUFFIX: &str = "| project Timestamp, FileName, FolderPath, ProcessVersionInfoProductName, ProcessCommandLine, ProcessCreationTime, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessCommandLine, InitiatingProcessFolderPath, InitiatingProcessSignerType, InitiatingProcessSignatureStatus,DeviceId,DeviceName\n| limit {}";
const PD_UNSIGNED_SUFFIX: &str = "\n| summarize by InitiatingProcessFolderPath,InitiatingProcessFileName,InitiatingProcessParentFileName,InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessVersionInfoProductName,InitiatingProcessCommandLine,InitiatingProcessSignerType,InitiatingProcessSignatureStatus";

const NC_EXTERNAL_PREFIX: &str = "DeviceNetworkEvents | where not(RemoteIP matches regex \"(^10\\\\.)|(^172\\\\.1[6-9]\\\\.)|(^172\\\\.2[0-9]\\\\.)|(^172\\\\.3[0-1]\\\\.)|(^192\\\\.168\\\\.)\") and";
const NC_DNS_PREFIX: &str = "DeviceNetworkEvents | where RemotePort == 53 and";
const NC_ENCODED_PREFIX: &str = "DeviceProcessEvents | where FileName in (\"powershell.exe\",\"powershell_ise.exe\") and ProcessCommandLine contains \"-encoded\" and";
const NC_EXTERNAL_SUFFIX: &str = "\n| summarize TotalConnections = count() by DeviceName, RemoteIP, RemotePort, InitiatingProcessFileName,InitiatingProcessFolderPath | order by TotalConnections\n| limit {}";
const NC_DNS_SUFFIX: &str = "| project Timestamp,DeviceName,ActionType,RemoteIP,Packetinfo = url_decode(AdditionalFields)\n| limit {}";
const NC_ENCODED_SUFFIX: &str = "\n| limit {}";

const PE_PREFIX: &str = "DeviceLogonEvents | where IsLocalAdmin == 1 and";
const PE_SUFFIX: &str = " and AccountDomain == DeviceName | project Timestamp, DeviceId, DeviceName, ActionType, LogonType, AccountDomain, AccountName, IsLocalAdmin, InitiatingProcessFileName\n| limit {}";

const TAMPERING_PREFIX: &str = "let includeProc = dynamic([\"sc.exe\",\"net1.exe\",\"net.exe\", \"taskkill.exe\", \"cmd.exe\", \"powershell.exe\"]); let action = dynamic([\"stop\",\"disable\", \"delete\"]); let service1 = dynamic(['sense', 'windefend', 'mssecflt']); let service2 = dynamic(['sense', 'windefend', 'mssecflt', 'healthservice']); let params1 = dynamic([\"-DisableRealtimeMonitoring\", \"-DisableBehaviorMonitoring\" ,\"-DisableIOAVProtection\"]); let params2 = dynamic([\"sgrmbroker.exe\", \"mssense.exe\"]); let regparams1 = dynamic(['reg add \"HKLM\\\\SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows Defender\"', 'reg add \"HKLM\\\\SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows Advanced Threat Protection\"']); let regparams2 = dynamic(['ForceDefenderPassiveMode', 'DisableAntiSpyware']); let regparams3 = dynamic(['sense', 'windefend']); let regparams4 = dynamic(['demand', 'disabled']); let timeframe = 1d; DeviceProcessEvents";
const TAMPERING_SUFFIX: &str = "\n| where InitiatingProcessFileName in~ (includeProc) | where (InitiatingProcessCommandLine has_any(action) and InitiatingProcessCommandLine has_any (service2) and InitiatingProcessParentFileName != 'cscript.exe') or (InitiatingProcessCommandLine has_any (params1) and InitiatingProcessCommandLine has 'Set-MpPreference' and InitiatingProcessCommandLine has '$true') or (InitiatingProcessCommandLine has_any (params2) and InitiatingProcessCommandLine has \"/IM\") or (InitiatingProcessCommandLine has_any (regparams1) and InitiatingProcessCommandLine has_any (regparams2) and InitiatingProcessCommandLine has '/d 1') or (InitiatingProcessCommandLine has_any(\"start\") and InitiatingProcessCommandLine has \"config\" and InitiatingProcessCommandLine has_any (regparams3) and InitiatingProcessCommandLine has_any (regparams4))| extend Account = iff(isnotempty(InitiatingProcessAccountUpn), InitiatingProcessAccountUpn, InitiatingProcessAccountName), Computer = DeviceName| project Timestamp, Computer, Account, AccountDomain, ProcessName = InitiatingProcessFileName, ProcessNameFullPath = FolderPath, Activity = ActionType, CommandLine = InitiatingProcessCommandLine, InitiatingProcessParentFileName\n| limit {}";

const CU_FILE_DELETED_PREFIX: &str = "DeviceFileEvents | where ActionType == \"FileDeleted\" and";
const CU_EVENT_LOG_PREFIX: &str = "DeviceProcessEvents | where (ProcessCommandLine has \"WEVTUTIL\" and ProcessCommandLine has_any (\"CL\",\"clear-log\")) or (ProcessCommandLine contains \"Clear-EventLog\") and";
const CU_ACCOUNT_PREFIX: &str = "union Device* | where";
const CU_FILE_DELETED_SUFFIX: &str = "\n| project Timestamp, DeviceId, DeviceName, FileName, FolderPath, InitiatingProcessFileName, InitiatingProcessVersionInfoProductName, InitiatingProcessCommandLine\n| limit {}";
const CU_EVENT_LOG_SUFFIX: &str = "\n| summarize LogClearCount = dcount(ProcessCommandLine), ClearedLogList = make_set(ProcessCommandLine) by DeviceId,DeviceName, bin(Timestamp, 5m),FileName,InitiatingProcessFileName\n| limit {}";
const CU_ACCOUNT_SUFFIXES: &[(&str, &str)] = &[
    (
        "compromised_information",
        "\n| project Timestamp, DeviceId, DeviceName, ActionType, FileName, FolderPath, SHA1, SHA256, MD5, InitiatingProcessFileName\n| limit {}",
    ),
    ("connected_devices", "\n| summarize by DeviceName\n| limit {}"),
    (
        "action_types",
        "\n| summarize Number_of_actions=count(ActionType) by ActionType,DeviceName | order by Number_of_actions\n| limit {}",
    ),
    (
        "common_files",
        "\n| summarize Number_of_accoiated_events=count(FileName) by FileName, MD5, SHA1, SHA256 | order by Number_of_accoiated_events\n| limit {}",
    ),
];

/// The purposes each template accepts (the commands' `query_purpose` options).
pub const LATERAL_PURPOSES: &[&str] =
    &["network_connections", "smb_connections", "credential_dumping", "management_connection"];
/// See [`LATERAL_PURPOSES`].
pub const PERSISTENCE_PURPOSES: &[&str] = &[
    "scheduled_job",
    "registry_entry",
    "startup_folder_changes",
    "new_service_created",
    "service_updated",
    "file_replaced",
    "new_user",
    "new_group",
    "group_user_change",
    "local_firewall_change",
    "host_file_change",
];
/// See [`LATERAL_PURPOSES`].
pub const PROCESS_PURPOSES: &[&str] = &[
    "parent_process",
    "grandparent_process",
    "process_details",
    "beaconing_evidence",
    "powershell_execution_unsigned_files",
    "process_excecution_powershell",
];
/// See [`LATERAL_PURPOSES`].
pub const NETWORK_PURPOSES: &[&str] = &["external_addresses", "dns_query", "encoded_commands"];
/// See [`LATERAL_PURPOSES`].
pub const COVER_UP_PURPOSES: &[&str] = &[
    "file_deleted",
    "event_log_cleared",
    "compromised_information",
    "connected_devices",
    "action_types",
    "common_files",
];

impl QueryArgs {
    fn limit_text(&self) -> String {
        self.limit.saturating_mul(self.page.max(1)).to_string()
    }

    fn suffix(&self, template: &str) -> String {
        template.replacen("{}", &self.limit_text(), 1)
    }

    fn op(&self) -> &str {
        if self.operation.is_empty() { "or" } else { &self.operation }
    }

    fn q(&self, prefix: &str, suffix: &str, cols: Columns, cmd: Option<&str>) -> String {
        generic(prefix, &self.suffix(suffix), &clauses(&self.filters, cols, cmd), self.op())
    }

    /// The KQL of `template` for these arguments, or the reference's error for what is missing.
    pub fn build(&self, template: Template) -> Result<String, Error> {
        let f = &self.filters;
        let p = self.purpose.as_str();
        match template {
            Template::LateralMovement => {
                if !f.any() {
                    return Err(err(ANY_ARGS_ERR));
                }
                Ok(match p {
                    "network_connections" => {
                        self.q(LM_NETWORK_PREFIX, LM_NETWORK_SUFFIX, Columns::Initiating, None)
                    }
                    "smb_connections" => {
                        let count = self
                            .remote_ip_count
                            .as_deref()
                            .map(|n| format!(" where RemoteIPCount > {n} |"))
                            .unwrap_or_default();
                        let suffix = LM_SMB_SUFFIX.replacen("{}", &count, 1);
                        self.q(LM_SMB_PREFIX, &suffix, Columns::Initiating, None)
                    }
                    "credential_dumping" => {
                        self.q(LM_CREDENTIAL_PREFIX, LM_CREDENTIAL_SUFFIX, Columns::Own, None)
                    }
                    "management_connection" => {
                        self.q(LM_MANAGEMENT_PREFIX, LM_MANAGEMENT_SUFFIX, Columns::Initiating, None)
                    }
                    other => return Err(unsupported(other)),
                })
            }
            Template::Persistence => {
                if p == "registry_entry" && self.process_cmd.is_none() {
                    return Err(err(
                        "Cannot initiate \"registry_entry\" query without \"process_cmd\" argument.",
                    ));
                }
                if !f.any() {
                    return Err(err(ANY_ARGS_ERR));
                }
                let (_, prefix, suffix, cols, cmd) =
                    PERSISTENCE.iter().find(|row| row.0 == p).ok_or_else(|| unsupported(p))?;
                let cmd = if *cmd { self.process_cmd.as_deref() } else { None };
                Ok(self.q(prefix, suffix, *cols, cmd))
            }
            Template::FileOrigin => {
                if !f.any() {
                    return Err(err(ANY_ARGS_ERR));
                }
                Ok(self.q(FILE_ORIGIN_PREFIX, FILE_ORIGIN_SUFFIX, Columns::Own, None))
            }
            Template::ProcessDetails => {
                if p == "process_excecution_powershell" {
                    if !f.files() {
                        return Err(err(FILE_ARGS_ERR));
                    }
                    if !f.devices() {
                        return Err(err(DEVICES_ARGS_ERR));
                    }
                } else if p != "powershell_execution_unsigned_files" && !f.any() {
                    return Err(err(ANY_ARGS_ERR));
                }
                Ok(match p {
                    "parent_process" => self.q(PD_PROCESS_PREFIX, PD_PARENT_SUFFIX, Columns::Own, None),
                    "grandparent_process" => {
                        self.q(PD_PROCESS_PREFIX, PD_GRANDPARENT_SUFFIX, Columns::Own, None)
                    }
                    "process_details" => self.q(PD_PROCESS_PREFIX, PD_DETAILS_SUFFIX, Columns::Own, None),
                    "beaconing_evidence" => {
                        self.q(PD_BEACONING_PREFIX, PD_BEACONING_SUFFIX, Columns::Initiating, None)
                    }
                    "process_excecution_powershell" => {
                        self.q(PD_POWERSHELL_PREFIX, PD_POWERSHELL_SUFFIX, Columns::Initiating, None)
                    }
                    "powershell_execution_unsigned_files" => {
                        let terms = clauses(f, Columns::Initiating, None);
                        let prefix = if terms.is_empty() {
                            PD_UNSIGNED_PREFIX.to_owned()
                        } else {
                            format!("{PD_UNSIGNED_PREFIX} and")
                        };
                        generic(&prefix, PD_UNSIGNED_SUFFIX, &terms, self.op())
                    }
                    other => return Err(unsupported(other)),
                })
            }
            Template::NetworkConnections => {
                if p == "encoded_commands" {
                    if !f.devices() {
                        return Err(err(DEVICES_ARGS_ERR));
                    }
                } else if !f.any() {
                    return Err(err(ANY_ARGS_ERR));
                }
                Ok(match p {
                    "external_addresses" => {
                        self.q(NC_EXTERNAL_PREFIX, NC_EXTERNAL_SUFFIX, Columns::Initiating, None)
                    }
                    "dns_query" => self.q(NC_DNS_PREFIX, NC_DNS_SUFFIX, Columns::Initiating, None),
                    "encoded_commands" => {
                        self.q(NC_ENCODED_PREFIX, NC_ENCODED_SUFFIX, Columns::Devices, None)
                    }
                    other => return Err(unsupported(other)),
                })
            }
            Template::PrivilegeEscalation => {
                if !f.devices() {
                    return Err(err(DEVICES_ARGS_ERR));
                }
                Ok(self.q(PE_PREFIX, PE_SUFFIX, Columns::Devices, None))
            }
            Template::Tampering => {
                let terms = clauses(f, Columns::Devices, None);
                let prefix = if terms.is_empty() {
                    TAMPERING_PREFIX.to_owned()
                } else {
                    format!("{TAMPERING_PREFIX}| where")
                };
                Ok(generic(&prefix, &self.suffix(TAMPERING_SUFFIX), &terms, self.op()))
            }
            Template::CoverUp => {
                let account = CU_ACCOUNT_SUFFIXES.iter().find(|(name, _)| *name == p);
                if account.is_some() {
                    if self.username.is_none() {
                        return Err(err(USERNAME_ERR));
                    }
                } else if p == "event_log_cleared" {
                    if !f.devices() {
                        return Err(err(DEVICES_ARGS_ERR));
                    }
                } else if !f.any() {
                    return Err(err(ANY_ARGS_ERR));
                }
                if let Some((_, suffix)) = account {
                    let terms: Vec<(&str, Term)> = self
                        .username
                        .as_deref()
                        .and_then(values)
                        .map(|v| ("AccountName", Term::HasAny(v)))
                        .into_iter()
                        .collect();
                    return Ok(generic(CU_ACCOUNT_PREFIX, &self.suffix(suffix), &terms, self.op()));
                }
                Ok(match p {
                    "file_deleted" => {
                        self.q(CU_FILE_DELETED_PREFIX, CU_FILE_DELETED_SUFFIX, Columns::Own, None)
                    }
                    "event_log_cleared" => {
                        self.q(CU_EVENT_LOG_PREFIX, CU_EVENT_LOG_SUFFIX, Columns::Devices, None)
                    }
                    other => return Err(unsupported(other)),
                })
            }
        }
    }
}

/// The reference's `rebuild_query_with_time_range`: ` | where Timestamp > ago(<N>m)` goes
/// before the first `|` (the character before it is replaced, as the reference slices it), or
/// at the end when the query has no pipe.
pub fn with_time_range(query: &str, minutes: i64) -> String {
    let clause = format!("Timestamp > ago({minutes}m)");
    match query.find('|') {
        None => format!("{query} | where {clause}"),
        Some(at) => {
            // The reference keeps `query[:at - 1]`; at 0 that would be all but the last
            // character, so a query starting with `|` keeps nothing before it.
            let head =
                if at == 0 { "" } else { &query[..query[..at].char_indices().last().map_or(0, |(i, _)| i)] };
            format!("{head} | where {clause} {}", &query[at..])
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn golden() -> Value {
        let text = include_str!("../../../test-data/microsoft-atp/expected_hunting_queries.json");
        serde_json::from_str(text).unwrap_or(Value::Null)
    }

    fn args(purpose: &str, limit: u64, op: &str, f: Filters) -> QueryArgs {
        QueryArgs {
            filters: f,
            operation: op.to_owned(),
            limit,
            page: 1,
            purpose: purpose.to_owned(),
            ..QueryArgs::default()
        }
    }

    fn sha1() -> Filters {
        Filters { sha1: Some("1,2".into()), ..Filters::default() }
    }

    /// (template, arguments, path in the golden file): the reference's own test inputs.
    #[test]
    fn queries_equal_the_reference_golden_strings() {
        let md5 = Filters { md5: Some("1,2".into()), ..Filters::default() };
        let dev1 = Filters { device_name: Some("1".into()), ..Filters::default() };
        let id1 = Filters { device_id: Some("1".into()), ..Filters::default() };
        let sha_id = Filters { sha1: Some("1,2".into()), device_id: Some("1".into()), ..Filters::default() };
        let md5_id = Filters { md5: Some("1".into()), device_id: Some("1".into()), ..Filters::default() };
        let md5_1 = Filters { md5: Some("1".into()), ..Filters::default() };
        let id12 = Filters { device_id: Some("12".into()), ..Filters::default() };
        let user =
            |p: &str| QueryArgs { username: Some("dbot".into()), ..args(p, 1, "and", Filters::default()) };
        let mut cases: Vec<(Template, QueryArgs, &str)> = vec![
            (
                Template::LateralMovement,
                args("network_connections", 1, "and", sha1()),
                "/LateralMovementEvidence/network_connections",
            ),
            (
                Template::LateralMovement,
                args("smb_connections", 1, "and", md5.clone()),
                "/LateralMovementEvidence/smb_connections",
            ),
            (
                Template::LateralMovement,
                QueryArgs { remote_ip_count: Some("25".into()), ..args("smb_connections", 1, "and", md5) },
                "/LateralMovementEvidence/smb_connections_w_remote_ip_count",
            ),
            (
                Template::LateralMovement,
                args("credential_dumping", 10, "or", dev1.clone()),
                "/LateralMovementEvidence/credential_dumping",
            ),
            (
                Template::LateralMovement,
                args("management_connection", 10, "or", dev1),
                "/LateralMovementEvidence/rdp_attempts",
            ),
            (
                Template::Persistence,
                QueryArgs {
                    process_cmd: Some("something".into()),
                    ..args("registry_entry", 1, "and", sha1())
                },
                "/PersistenceEvidence/registry_entry",
            ),
            (Template::FileOrigin, args("", 1, "and", sha1()), "/FileOrigin"),
            (
                Template::ProcessDetails,
                args("parent_process", 1, "and", sha1()),
                "/ProcessDetails/parent_process",
            ),
            (
                Template::ProcessDetails,
                args("grandparent_process", 1, "and", sha1()),
                "/ProcessDetails/grandparent_process",
            ),
            (Template::ProcessDetails, args("process_details", 1, "and", sha1()), "/ProcessDetails/process"),
            (
                Template::ProcessDetails,
                args("beaconing_evidence", 1, "and", sha1()),
                "/ProcessDetails/beaconing_evidence",
            ),
            (
                Template::ProcessDetails,
                args("process_excecution_powershell", 1, "and", sha_id),
                "/ProcessDetails/process_excecution_powershell",
            ),
            (
                Template::ProcessDetails,
                args("powershell_execution_unsigned_files", 1, "and", Filters::default()),
                "/ProcessDetails/powershell_execution_unsigned_files",
            ),
            (
                Template::ProcessDetails,
                args("powershell_execution_unsigned_files", 1, "and", md5_1),
                "/ProcessDetails/powershell_execution_unsigned_files__md5",
            ),
            (
                Template::NetworkConnections,
                args("external_addresses", 1, "and", sha1()),
                "/NetworkConnections/external_addresses",
            ),
            (
                Template::NetworkConnections,
                args("dns_query", 1, "and", sha1()),
                "/NetworkConnections/dns_query",
            ),
            (
                Template::NetworkConnections,
                args("encoded_commands", 1, "and", md5_id),
                "/NetworkConnections/encoded_commands",
            ),
            (Template::PrivilegeEscalation, args("", 1, "and", id1.clone()), "/PrivilegeEscalation"),
            (Template::Tampering, args("", 1, "and", id1), "/Tampering/with_device"),
            (Template::Tampering, args("", 1, "and", Filters::default()), "/Tampering/no_device"),
            (Template::CoverUp, args("file_deleted", 1, "and", sha1()), "/CoverUp/file_deleted"),
            (Template::CoverUp, args("event_log_cleared", 1, "and", id12), "/CoverUp/event_log"),
            (Template::CoverUp, user("compromised_information"), "/CoverUp/compromised_information"),
            (Template::CoverUp, user("connected_devices"), "/CoverUp/connected_devices"),
            (Template::CoverUp, user("action_types"), "/CoverUp/action_types"),
            (Template::CoverUp, user("common_files"), "/CoverUp/common_files"),
        ];
        for p in PERSISTENCE_PURPOSES.iter().filter(|p| **p != "registry_entry") {
            cases.push((
                Template::Persistence,
                args(p, 1, "and", sha1()),
                Box::leak(format!("/PersistenceEvidence/{p}").into_boxed_str()),
            ));
        }
        let golden = golden();
        for (template, a, path) in cases {
            let want = golden.pointer(path).and_then(Value::as_str);
            assert!(want.is_some(), "no golden string at {path}");
            assert_eq!(a.build(template).ok().as_deref(), want, "{path}");
        }
    }

    /// The reference's `limit * page` repeats the string; here it is the product.
    #[test]
    fn the_limit_is_limit_times_page() {
        let q = QueryArgs { page: 2, ..args("credential_dumping", 50, "or", sha1()) };
        assert!(q.build(Template::LateralMovement).unwrap_or_default().ends_with("\n| limit 100"));
    }

    /// (template, arguments, the reference's error).
    #[test]
    fn missing_filters_get_the_reference_errors() {
        let none = Filters::default();
        let cases = [
            (
                Template::LateralMovement,
                args("network_connections", 1, "and", none.clone()),
                ANY_ARGS_ERR.to_owned(),
            ),
            (
                Template::Persistence,
                args("registry_entry", 1, "and", sha1()),
                "Cannot initiate \"registry_entry\" query without \"process_cmd\" argument.".to_owned(),
            ),
            (
                Template::ProcessDetails,
                args(
                    "process_excecution_powershell",
                    1,
                    "and",
                    Filters { device_id: Some("1".into()), ..none.clone() },
                ),
                FILE_ARGS_ERR.to_owned(),
            ),
            (
                Template::ProcessDetails,
                args("process_excecution_powershell", 1, "and", sha1()),
                DEVICES_ARGS_ERR.to_owned(),
            ),
            (
                Template::NetworkConnections,
                args("encoded_commands", 1, "and", sha1()),
                DEVICES_ARGS_ERR.to_owned(),
            ),
            (Template::PrivilegeEscalation, args("", 1, "and", sha1()), DEVICES_ARGS_ERR.to_owned()),
            (Template::CoverUp, args("connected_devices", 1, "and", sha1()), USERNAME_ERR.to_owned()),
            (Template::CoverUp, args("event_log_cleared", 1, "and", sha1()), DEVICES_ARGS_ERR.to_owned()),
            (
                Template::CoverUp,
                args("nope", 1, "and", sha1()),
                "Unsupported query_purpose: nope.".to_owned(),
            ),
        ];
        for (t, a, want) in cases {
            assert_eq!(a.build(t).map_err(|e| e.to_string()), Err(want));
        }
    }

    #[test]
    fn time_ranges_go_before_the_first_pipe() {
        assert_eq!(with_time_range("T", 5), "T | where Timestamp > ago(5m)");
        assert_eq!(with_time_range("T | take 1", 5), "T | where Timestamp > ago(5m) | take 1");
        assert_eq!(with_time_range("T\n| take 1", 5), "T | where Timestamp > ago(5m) | take 1");
        assert_eq!(with_time_range("| take 1", 5), " | where Timestamp > ago(5m) | take 1");
    }
}
