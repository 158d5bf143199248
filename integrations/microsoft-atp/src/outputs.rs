//! The reference's context shapes (machine, machine action, alert, user, file, investigation)
//! built from API objects, the shared table headers, and the context outputs each command
//! declares.

use serde_json::{Map, Value, json};

/// The reference's name in titles and errors.
pub const INTEGRATION_NAME: &str = "Microsoft Defender ATP";

/// Machine table columns.
pub const MACHINE_HEADERS: &[&str] = &[
    "ID",
    "ComputerDNSName",
    "OSPlatform",
    "LastIPAddress",
    "LastExternalIPAddress",
    "HealthStatus",
    "RiskScore",
    "ExposureLevel",
];
/// Machine action table columns.
pub const ACTION_HEADERS: &[&str] =
    &["ID", "Type", "Requestor", "RequestorComment", "Status", "MachineID", "ComputerDNSName"];
/// Alert table columns.
pub const ALERT_HEADERS: &[&str] = &[
    "ID",
    "Title",
    "Description",
    "IncidentID",
    "Severity",
    "Status",
    "Classification",
    "Category",
    "ThreatFamilyName",
    "MachineID",
];
/// Investigation table columns.
pub const INVESTIGATION_HEADERS: &[&str] = &[
    "ID",
    "StartTime",
    "EndTime",
    "CancelledBy",
    "InvestigationState",
    "StatusDetails",
    "MachineID",
    "ComputerDNSName",
    "TriggeringAlertID",
];

fn get(v: &Value, k: &str) -> Value {
    v.get(k).cloned().unwrap_or(Value::Null)
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The reference's `assign_params`: the pairs whose value is not null or empty.
pub fn assign(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if !empty(&v) {
            m.insert(k.to_owned(), v);
        }
    }
    Value::Object(m)
}

/// `get_machine_data`.
pub fn machine(m: &Value) -> Value {
    assign(vec![
        ("ID", get(m, "id")),
        ("ComputerDNSName", get(m, "computerDnsName")),
        ("FirstSeen", get(m, "firstSeen")),
        ("LastSeen", get(m, "lastSeen")),
        ("OSPlatform", get(m, "osPlatform")),
        ("OSVersion", get(m, "version")),
        ("OSProcessor", get(m, "osProcessor")),
        ("LastIPAddress", get(m, "lastIpAddress")),
        ("LastExternalIPAddress", get(m, "lastExternalIpAddress")),
        ("AgentVersion", get(m, "agentVersion")),
        ("OSBuild", get(m, "osBuild")),
        ("HealthStatus", get(m, "healthStatus")),
        ("RBACGroupID", get(m, "rbacGroupId")),
        ("RBACGroupName", get(m, "rbacGroupName")),
        ("RiskScore", get(m, "riskScore")),
        ("ExposureLevel", get(m, "exposureLevel")),
        ("AADDeviceID", get(m, "aadDeviceId")),
        ("IsAADJoined", get(m, "isAadJoined")),
        ("MachineTags", get(m, "machineTags")),
        ("IPAddresses", get(m, "ipAddresses")),
    ])
}

/// `get_machine_action_data`.
pub fn action(a: &Value) -> Value {
    json!({
        "ID": get(a, "id"),
        "Type": get(a, "type"),
        "Scope": get(a, "scope"),
        "Requestor": get(a, "requestor"),
        "RequestorComment": get(a, "requestorComment"),
        "Status": get(a, "status"),
        "MachineID": get(a, "machineId"),
        "ComputerDNSName": get(a, "computerDnsName"),
        "CreationDateTimeUtc": get(a, "creationDateTimeUtc"),
        "LastUpdateTimeUtc": get(a, "lastUpdateTimeUtc"),
        "RelatedFileInfo": {
            "FileIdentifier": get(a, "fileIdentifier"),
            "FileIdentifierType": get(a, "fileIdentifierType"),
        },
        "Commands": get(a, "commands"),
    })
}

/// `get_alert_data` (its `Comments` are built from top-level fields, as the reference does).
pub fn alert(a: &Value) -> Value {
    json!({
        "ID": get(a, "id"),
        "IncidentID": get(a, "incidentId"),
        "InvestigationID": get(a, "investigationId"),
        "InvestigationState": get(a, "investigationState"),
        "AssignedTo": get(a, "assignedTo"),
        "Severity": get(a, "severity"),
        "Status": get(a, "status"),
        "Classification": get(a, "classification"),
        "Determination": get(a, "determination"),
        "DetectionSource": get(a, "detectionSource"),
        "Category": get(a, "category"),
        "ThreatFamilyName": get(a, "threatFamilyName"),
        "Title": get(a, "title"),
        "Description": get(a, "description"),
        "AlertCreationTime": get(a, "alertCreationTime"),
        "FirstEventTime": get(a, "firstEventTime"),
        "LastEventTime": get(a, "lastEventTime"),
        "LastUpdateTime": get(a, "lastUpdateTime"),
        "ResolvedTime": get(a, "resolvedTime"),
        "MachineID": get(a, "machineId"),
        "ComputerDNSName": get(a, "computerDnsName"),
        "AADTenantID": get(a, "aadTenantId"),
        "Comments": [{
            "Comment": get(a, "comment"),
            "CreatedBy": get(a, "createdBy"),
            "CreatedTime": get(a, "createdTime"),
        }],
        "Evidence": get(a, "evidence"),
        "DetectorID": get(a, "detectorId"),
        "ThreatName": get(a, "threatName"),
        "RelatedUser": get(a, "relatedUser"),
        "MitreTechniques": get(a, "mitreTechniques"),
        "RBACGroupName": get(a, "rbacGroupName"),
    })
}

/// `get_user_data`.
pub fn user(u: &Value) -> Value {
    json!({
        "ID": get(u, "id"),
        "AccountName": get(u, "accountName"),
        "AccountDomain": get(u, "accountDomain"),
        "AccountSID": get(u, "accountSid"),
        "FirstSeen": get(u, "firstSeen"),
        "LastSeen": get(u, "lastSeen"),
        "MostPrevalentMachineID": get(u, "mostPrevalentMachineId"),
        "LeastPrevalentMachineID": get(u, "leastPrevalentMachineId"),
        "LogonTypes": get(u, "logonTypes"),
        "LogonCount": get(u, "logOnMachinesCount"),
        "DomainAdmin": get(u, "isDomainAdmin"),
        "NetworkUser": get(u, "isOnlyNetworkUser"),
    })
}

/// `get_file_data`.
pub fn file(f: &Value) -> Value {
    assign(vec![
        ("Sha1", get(f, "sha1")),
        ("Size", get(f, "size")),
        ("Sha256", get(f, "sha256")),
        ("Md5", get(f, "md5")),
        ("GlobalPrevalence", get(f, "globalPrevalence")),
        ("GlobalFirstObserved", get(f, "globalFirstObserved")),
        ("GlobalLastObserved", get(f, "globalLastObserved")),
        ("SizeInBytes", get(f, "size")),
        ("FileType", get(f, "fileType")),
        ("IsPeFile", get(f, "isPeFile")),
        ("FilePublisher", get(f, "filePublisher")),
        ("FileProductName", get(f, "fileProductName")),
        ("Signer", get(f, "signer")),
        ("Issuer", get(f, "issuer")),
        ("SignerHash", get(f, "signerHash")),
        ("IsValidCertificate", get(f, "isValidCertificate")),
        ("DeterminationType", get(f, "determinationType")),
        ("DeterminationValue", get(f, "determinationValue")),
    ])
}

/// `get_investigation_data`.
pub fn investigation(i: &Value) -> Value {
    json!({
        "ID": get(i, "id"),
        "StartTime": get(i, "startTime"),
        "EndTime": get(i, "endTime"),
        "InvestigationState": get(i, "state"),
        "CancelledBy": get(i, "cancelledBy"),
        "StatusDetails": get(i, "statusDetails"),
        "MachineID": get(i, "machineId"),
        "ComputerDNSName": get(i, "computerDnsName"),
        "TriggeringAlertID": get(i, "triggeringAlertId"),
    })
}

/// The `value` list of an answer (empty when absent).
pub fn values(reply: &Value) -> Vec<Value> {
    reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default()
}

macro_rules! machine_paths {
    ($p:literal) => {
        vec![
            out(concat!($p, ".ID"), "String", "The machine ID."),
            out(concat!($p, ".ComputerDNSName"), "String", "The machine DNS name."),
            out(
                concat!($p, ".FirstSeen"),
                "Date",
                "The first date and time the machine was observed by Microsoft Defender ATP.",
            ),
            out(
                concat!($p, ".LastSeen"),
                "Date",
                "The last date and time the machine was observed by Microsoft Defender ATP.",
            ),
            out(concat!($p, ".OSPlatform"), "String", "The operating system platform."),
            out(concat!($p, ".OSVersion"), "String", "The operating system version."),
            out(concat!($p, ".OSProcessor"), "String", "The operating system processor."),
            out(concat!($p, ".LastIPAddress"), "String", "The last IP on the machine."),
            out(
                concat!($p, ".LastExternalIPAddress"),
                "String",
                "The last machine IP to access the internet.",
            ),
            out(concat!($p, ".OSBuild"), "Number", "The operating system build number."),
            out(concat!($p, ".HealthStatus"), "String", "The machine health status."),
            out(concat!($p, ".RBACGroupID"), "Number", "The machine RBAC group ID."),
            out(concat!($p, ".RBACGroupName"), "String", "The machine RBAC group name."),
            out(concat!($p, ".RiskScore"), "String", "The machine risk score."),
            out(concat!($p, ".ExposureLevel"), "String", "The exposure level of the machine."),
            out(
                concat!($p, ".IsAADJoined"),
                "Boolean",
                "True if the machine is AAD joined, False otherwise.",
            ),
            out(concat!($p, ".AADDeviceID"), "String", "The AAD Device ID."),
            out(concat!($p, ".MachineTags"), "String", "Set of machine tags."),
        ]
    };
}
pub(crate) use machine_paths;

macro_rules! action_paths {
    ($p:literal) => {
        vec![
            out(concat!($p, ".ID"), "String", "The machine action ID."),
            out(concat!($p, ".Type"), "String", "The type of the machine action."),
            out(concat!($p, ".Scope"), "Unknown", "The scope of the action."),
            out(concat!($p, ".Requestor"), "String", "The ID of the user that executed the action."),
            out(
                concat!($p, ".RequestorComment"),
                "String",
                "The comment that was written when issuing the action.",
            ),
            out(concat!($p, ".Status"), "String", "The current status of the command."),
            out(concat!($p, ".MachineID"), "String", "The machine ID on which the action was executed."),
            out(
                concat!($p, ".ComputerDNSName"),
                "String",
                "The machine DNS name on which the action was executed.",
            ),
            out(concat!($p, ".CreationDateTimeUtc"), "Date", "The date and time the action was created."),
            out(
                concat!($p, ".LastUpdateTimeUtc"),
                "Date",
                "The last date and time the action status was updated.",
            ),
            out(concat!($p, ".RelatedFileInfo.FileIdentifier"), "String", "The file identifier."),
            out(
                concat!($p, ".RelatedFileInfo.FileIdentifierType"),
                "String",
                "The type of the file identifier. Possible values: \"SHA1\" ,\"SHA256\" and \"MD5\".",
            ),
        ]
    };
}
pub(crate) use action_paths;

macro_rules! alert_paths {
    ($p:literal) => {
        vec![
            out(concat!($p, ".ID"), "String", "The alert ID."),
            out(concat!($p, ".IncidentID"), "Number", "The incident ID."),
            out(concat!($p, ".InvestigationID"), "Number", "The investigation ID."),
            out(concat!($p, ".InvestigationState"), "String", "The investigation state."),
            out(concat!($p, ".AssignedTo"), "String", "The owner of the alert."),
            out(concat!($p, ".Severity"), "String", "The severity of the alert."),
            out(concat!($p, ".Status"), "String", "The current status of the alert."),
            out(concat!($p, ".Classification"), "String", "The alert classification."),
            out(concat!($p, ".Determination"), "String", "The determination of the alert."),
            out(concat!($p, ".DetectionSource"), "String", "The detection source."),
            out(concat!($p, ".Category"), "String", "The category of the alert."),
            out(concat!($p, ".ThreatFamilyName"), "String", "The threat family name."),
            out(concat!($p, ".Title"), "String", "The alert title."),
            out(concat!($p, ".Description"), "String", "The alert description."),
            out(concat!($p, ".AlertCreationTime"), "Date", "The date and time the alert was created."),
            out(
                concat!($p, ".FirstEventTime"),
                "Date",
                "The first event time that triggered the alert on that machine.",
            ),
            out(
                concat!($p, ".LastEventTime"),
                "Date",
                "The last event time that triggered the alert on that machine.",
            ),
            out(
                concat!($p, ".LastUpdateTime"),
                "Date",
                "The first event time that triggered the alert on that machine.",
            ),
            out(
                concat!($p, ".ResolvedTime"),
                "Date",
                "The date and time when the status of the alert was changed to 'Resolved'.",
            ),
            out(concat!($p, ".MachineID"), "String", "The machine ID that is associated with the alert."),
            out(concat!($p, ".ComputerDNSName"), "String", "The machine DNS name."),
            out(concat!($p, ".AADTenantID"), "String", "The AAD tenant ID."),
            out(concat!($p, ".Comments.Comment"), "String", "The alert comment string."),
            out(concat!($p, ".Comments.CreatedBy"), "String", "The alert comment created by string."),
            out(concat!($p, ".Comments.CreatedTime"), "Date", "The alert comment create time date."),
            out(concat!($p, ".Evidence"), "Unknown", "Evidence related to the alert."),
        ]
    };
}
pub(crate) use alert_paths;
