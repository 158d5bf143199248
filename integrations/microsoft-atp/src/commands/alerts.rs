//! Alerts: list, get, update, create, and the users, files, IPs and domains related to one.

use serde_json::{Map, Value, json};
use soar_integration_kit::{
    ArgDateTime, Args, CommandContext, Error, Handler, Outcome, OutputSpec, Request, async_trait, out,
};

use super::actions::reformat_filter;
use super::machines::{limit_offset, page};
use super::{Failures, dedup, not_found_note, output, py_list, results, seg, table, table_all};
use crate::client::Atp;
use crate::outputs::{ALERT_HEADERS, INTEGRATION_NAME, alert, alert_paths, file, user, values};

const ALERT_KEY: &str = "MicrosoftATP.Alert(val.ID === obj.ID)";

/// Lists alerts, filtered by severity, status, category and creation time.
#[derive(Args)]
pub struct ListAlerts {
    /// The alert severity.
    #[arg(options = ["High", "Medium", "Low", "Informational"])]
    severity: Option<String>,
    /// The alert status.
    #[arg(options = ["New", "InProgress", "Resolved"])]
    status: Option<String>,
    /// The alert category.
    category: Option<String>,
    /// The most alerts to return.
    #[arg(default = "50")]
    limit: u64,
    /// Only alerts created after this time (e.g. "3 days", an ISO 8601 date).
    creation_time: Option<ArgDateTime>,
}

#[async_trait]
impl Handler<Atp> for ListAlerts {
    const NAME: &'static str = "microsoft-atp-list-alerts";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-list-alerts severity=High limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        alert_paths!("MicrosoftATP.Alert")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let mut filter = reformat_filter(&[
            ("severity", self.severity.unwrap_or_default()),
            ("status", self.status.unwrap_or_default()),
            ("category", self.category.unwrap_or_default()),
        ]);
        if let Some(t) = self.creation_time {
            let iso = t.to_utc().format("%Y-%m-%dT%H:%M:%SZ");
            let clause = format!("alertCreationTime gt {iso}");
            filter = if filter.is_empty() { clause } else { format!("{filter} and {clause}") };
        }
        let mut req = Request::get("api/alerts").query("$expand", "evidence");
        if !filter.is_empty() {
            req = req.query("$filter", filter);
        }
        req = req.query("$top", self.limit.to_string());
        let answer = atp.json(ctx, req).await?;
        let list: Vec<Value> = values(&answer).iter().map(alert).collect();
        let md = table(
            &format!("{INTEGRATION_NAME} alerts with limit of {}:", self.limit),
            Value::Array(list.clone()),
            ALERT_HEADERS,
        )?;
        output(md, ALERT_KEY, Value::Array(list), answer)
    }
}

/// Updates the properties of an alert.
#[derive(Args)]
pub struct UpdateAlert {
    /// The alert ID.
    alert_id: String,
    /// The alert status.
    #[arg(options = ["New", "InProgress", "Resolved"])]
    status: Option<String>,
    /// The owner of the alert.
    assigned_to: Option<String>,
    /// The alert classification.
    #[arg(options = ["Unknown", "FalsePositive", "TruePositive", "InformationalExpectedActivity"])]
    classification: Option<String>,
    /// The alert determination.
    #[arg(options = ["NotAvailable", "Malware", "SecurityTesting", "UnwantedSoftware", "Other"])]
    determination: Option<String>,
    /// A comment to add to the alert.
    comment: Option<String>,
}

#[async_trait]
impl Handler<Atp> for UpdateAlert {
    const NAME: &'static str = "microsoft-atp-update-alert";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-update-alert alert_id=da637200417169017725_183736971 status=InProgress"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.Alert.ID", "String", "The alert ID."),
            out("MicrosoftATP.Alert.AssignedTo", "String", "The owner of the alert."),
            out("MicrosoftATP.Alert.Status", "String", "The current status of the alert."),
            out("MicrosoftATP.Alert.Classification", "String", "The alert classification."),
            out("MicrosoftATP.Alert.Determination", "String", "The alert determination."),
            out("MicrosoftATP.Alert.Comment", "String", "The alert comment."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let fields = [
            ("assignedTo", "AssignedTo", self.assigned_to),
            ("status", "Status", self.status),
            ("classification", "Classification", self.classification),
            ("determination", "Determination", self.determination),
            ("comment", "Comment", self.comment),
        ];
        if fields.iter().all(|f| f.2.is_none()) {
            return Err(Error::Command("No arguments were given to update the alert".to_owned()));
        }
        let mut body = Map::new();
        let mut context = Map::new();
        context.insert("ID".into(), json!(self.alert_id));
        for (api, ctx_key, v) in fields {
            if let Some(v) = v {
                body.insert(api.into(), json!(v));
                context.insert(ctx_key.into(), json!(v));
            }
        }
        let answer = atp
            .json(
                ctx,
                Request::patch(format!("api/alerts/{}", seg(&self.alert_id))).json(&Value::Object(body)),
            )
            .await?;
        let md = format!("The alert {} has been updated successfully", self.alert_id);
        output(md, ALERT_KEY, Value::Object(context), answer)
    }
}

/// Retrieves alerts by their IDs.
#[derive(Args)]
pub struct GetAlertById {
    /// A comma-separated list of alert IDs.
    alert_ids: Vec<String>,
}

#[async_trait]
impl Handler<Atp> for GetAlertById {
    const NAME: &'static str = "microsoft-atp-get-alert-by-id";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-alert-by-id alert_ids=da637200417169017725_183736971"];

    fn outputs() -> Vec<OutputSpec> {
        alert_paths!("MicrosoftATP.Alert")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let ids = dedup(self.alert_ids);
        let mut data = Vec::new();
        let mut raw = Vec::new();
        let mut failed = Failures::default();
        let mut not_found = Vec::new();
        for id in &ids {
            match atp.json(ctx, Request::get(format!("api/alerts/{}", seg(id)))).await {
                Ok(answer) => {
                    data.push(alert(&answer));
                    raw.push(answer);
                }
                Err(e) if e.is_not_found() => not_found.push(id.clone()),
                Err(e) => failed.0.push((id.clone(), e)),
            }
        }
        let md = table(
            &format!("{INTEGRATION_NAME} Alerts Info for IDs {}:", py_list(&ids)),
            Value::Array(data.clone()),
            ALERT_HEADERS,
        )? + &failed.note(ids.len())?
            + &not_found_note(&not_found);
        Ok(results(md, "MicrosoftATP.Alert", Some("ID"), Value::Array(data), Value::Array(raw))?.into())
    }
}

/// Creates an alert from an event (its report ID) on a machine.
#[derive(Args)]
pub struct CreateAlert {
    /// The ID of the machine the event was identified on.
    machine_id: String,
    /// The severity of the alert.
    #[arg(options = ["Low", "Medium", "High"])]
    severity: String,
    /// The title of the alert.
    title: String,
    /// The description of the alert.
    description: String,
    /// The action that is recommended to be taken by the security officer when analyzing the alert.
    recommended_action: String,
    /// The precise time of the event, as a string (e.g. 2020-02-23T07:22:07.1532018Z).
    event_time: String,
    /// The report ID of the event.
    report_id: String,
    /// The category of the alert.
    #[arg(default = "None", options = ["None", "SuspiciousActivity", "Malware", "CredentialTheft", "Exploit", "WebExploit", "DocumentExploit", "PrivilegeEscalation", "Persistence", "RemoteAccessTool", "CommandAndControl", "SuspiciousNetworkTraffic", "Ransomware", "MalwareDownload", "Reconnaissance", "WebFingerprinting", "Weaponization", "Delivery", "SocialEngineering", "CredentialStealing", "Installation", "Backdoor", "Trojan", "TrojanDownloader", "LateralMovement", "ExplorationEnumeration", "NetworkPropagation", "Exfiltration", "NotApplicable", "EnterprisePolicy", "General"])]
    category: String,
}

#[async_trait]
impl Handler<Atp> for CreateAlert {
    const NAME: &'static str = "microsoft-atp-create-alert";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-create-alert machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa severity=Low title=test description=test recommended_action=none event_time=2020-02-23T07:22:07.1532018Z report_id=20279 category=Exploit",
    ];

    fn outputs() -> Vec<OutputSpec> {
        alert_paths!("MicrosoftATP.Alert")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let event_time = super::date_text("event_time", &self.event_time)?;
        let body = json!({
            "machineId": self.machine_id,
            "severity": self.severity,
            "title": self.title,
            "description": self.description,
            "eventTime": event_time,
            "reportId": self.report_id,
            "recommendedAction": self.recommended_action,
            "category": self.category,
        });
        let answer = atp.json(ctx, Request::post("api/alerts/CreateAlertByReference").json(&body)).await?;
        let data = alert(&answer);
        let md = table("Alert created:", data.clone(), ALERT_HEADERS)?;
        output(md, ALERT_KEY, data, answer)
    }
}

/// Retrieves the user related to an alert.
#[derive(Args)]
pub struct GetAlertRelatedUser {
    /// The alert ID.
    id: String,
}

#[async_trait]
impl Handler<Atp> for GetAlertRelatedUser {
    const NAME: &'static str = "microsoft-atp-get-alert-related-user";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-alert-related-user id=da637200417169017725_183736971"];

    fn outputs() -> Vec<OutputSpec> {
        let p = |f: &'static str, t: &'static str, d: &'static str| out(f, t, d);
        vec![
            p("MicrosoftATP.AlertUser.User.ID", "String", "The user ID."),
            p("MicrosoftATP.AlertUser.User.AccountName", "String", "The account name."),
            p("MicrosoftATP.AlertUser.User.AccountDomain", "String", "The account domain."),
            p("MicrosoftATP.AlertUser.User.AccountSID", "String", "The account SID."),
            p("MicrosoftATP.AlertUser.User.FirstSeen", "Date", "The user first seen date and time."),
            p("MicrosoftATP.AlertUser.User.LastSeen", "Date", "The user last seen date and time."),
            p(
                "MicrosoftATP.AlertUser.User.MostPrevalentMachineID",
                "String",
                "The most prevalent machine ID.",
            ),
            p(
                "MicrosoftATP.AlertUser.User.LeastPrevalentMachineID",
                "String",
                "The least prevalent machine ID.",
            ),
            p("MicrosoftATP.AlertUser.User.LogonTypes", "String", "The user logon types."),
            p("MicrosoftATP.AlertUser.User.LogonCount", "Number", "The user logon count."),
            p("MicrosoftATP.AlertUser.User.DomainAdmin", "Number", "Whether the user is the domain admin."),
            p("MicrosoftATP.AlertUser.User.NetworkUser", "Number", "Whether the user is the domain admin."),
            p("MicrosoftATP.AlertUser.AlertID", "String", "The alert ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = atp.json(ctx, Request::get(format!("api/alerts/{}/user", seg(&self.id)))).await?;
        let data = user(&answer);
        let md = table_all("Alert Related User:", data.clone())?;
        output(
            md,
            "MicrosoftATP.AlertUser(val.AlertID === obj.AlertID)",
            json!({"AlertID": self.id, "User": data}),
            answer,
        )
    }
}

/// The paging arguments of the related-entity commands.
#[derive(Args)]
pub struct Slice {
    /// The alert ID.
    id: String,
    /// The most items to return.
    #[arg(default = "50")]
    limit: String,
    /// The number of items to skip.
    #[arg(default = "0")]
    offset: String,
}

async fn related(
    atp: &Atp,
    ctx: &mut CommandContext,
    s: &Slice,
    what: &str,
) -> Result<(Vec<Value>, Value), Error> {
    let (limit, offset) = limit_offset(&s.limit, &s.offset)?;
    let answer = atp.json(ctx, Request::get(format!("api/alerts/{}/{what}", seg(&s.id)))).await?;
    let all = values(&answer);
    Ok((page(all.clone(), limit, offset), Value::Array(all)))
}

/// Retrieves the files related to an alert.
#[derive(Args)]
pub struct GetAlertRelatedFiles {
    #[arg(flatten)]
    slice: Slice,
}

#[async_trait]
impl Handler<Atp> for GetAlertRelatedFiles {
    const NAME: &'static str = "microsoft-atp-get-alert-related-files";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-alert-related-files id=da637200417169017725_183736971"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.AlertFile.Files.Sha1", "String", "The SHA1 hash of the file."),
            out("MicrosoftATP.AlertFile.Files.Sha256", "String", "The SHA256 hash of the file."),
            out("MicrosoftATP.AlertFile.Files.SizeInBytes", "Number", "The size of the file in bytes."),
            out("MicrosoftATP.AlertFile.Files.FileType", "String", "The type of the file."),
            out("MicrosoftATP.AlertFile.Files.FilePublisher", "String", "The file's publisher."),
            out("MicrosoftATP.AlertFile.Files.FileProductName", "String", "The file's product name."),
            out("MicrosoftATP.AlertFile.AlertID", "String", "The alert ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (items, raw) = related(atp, ctx, &self.slice, "files").await?;
        let files: Vec<Value> = items.iter().map(file).collect();
        let headers = ["Sha1", "Sha256", "SizeInBytes", "FileType", "FilePublisher", "FileProductName"];
        let md =
            table(&format!("Alert {} Related Files:", self.slice.id), Value::Array(files.clone()), &headers)?;
        let ctx_out = json!({"AlertID": self.slice.id, "Files": files});
        output(md, "MicrosoftATP.AlertFile(val.AlertID === obj.AlertID)", ctx_out, raw)
    }
}

/// Retrieves the IP addresses related to an alert.
#[derive(Args)]
pub struct GetAlertRelatedIps {
    #[arg(flatten)]
    slice: Slice,
}

#[async_trait]
impl Handler<Atp> for GetAlertRelatedIps {
    const NAME: &'static str = "microsoft-atp-get-alert-related-ips";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-alert-related-ips id=da637200417169017725_183736971"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.AlertIP.IPs", "Unknown", "The list of IP addresses."),
            out("MicrosoftATP.AlertIP.AlertID", "String", "The alert ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (items, raw) = related(atp, ctx, &self.slice, "ips").await?;
        let ips: Vec<String> =
            items.iter().filter_map(|i| i.get("id")).map(soar_integration_kit::value_text).collect();
        let md = format!("Alert {} Related IPs: {}", self.slice.id, py_list(&ips));
        output(
            md,
            "MicrosoftATP.AlertIP(val.AlertID === obj.AlertID)",
            json!({"AlertID": self.slice.id, "IPs": ips}),
            raw,
        )
    }
}

/// Retrieves the domains related to an alert.
#[derive(Args)]
pub struct GetAlertRelatedDomains {
    #[arg(flatten)]
    slice: Slice,
}

#[async_trait]
impl Handler<Atp> for GetAlertRelatedDomains {
    const NAME: &'static str = "microsoft-atp-get-alert-related-domains";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-alert-related-domains id=da637200417169017725_183736971"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.AlertDomain.Domains", "Unknown", "The list of domains."),
            out("MicrosoftATP.AlertDomain.AlertID", "String", "The alert ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (items, raw) = related(atp, ctx, &self.slice, "domains").await?;
        let hosts: Vec<String> =
            items.iter().filter_map(|i| i.get("host")).map(soar_integration_kit::value_text).collect();
        let md = format!("Alert {} Related Domains: {}", self.slice.id, py_list(&hosts));
        output(
            md,
            "MicrosoftATP.AlertDomain(val.AlertID === obj.AlertID)",
            json!({"AlertID": self.slice.id, "Domains": hosts}),
            raw,
        )
    }
}
