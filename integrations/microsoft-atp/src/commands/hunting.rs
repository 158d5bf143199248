//! Advanced hunting: a KQL query (or a batch of up to ten), and the eight template commands
//! whose KQL is built in `kql.rs`.

use std::time::Duration;

use serde_json::{Value, json};
use soar_integration_kit::{
    Args, BOOL, CommandContext, Error, Handler, Outcome, OutputSpec, Request, async_trait, out,
    parse_date_text,
};

use super::table_all;
use crate::client::Atp;
use crate::kql::{
    COVER_UP_PURPOSES, Filters, LATERAL_PURPOSES, NETWORK_PURPOSES, PERSISTENCE_PURPOSES, PROCESS_PURPOSES,
    QueryArgs, Template, with_time_range,
};

/// Minutes since `text` (`2 days` -> 2880); an unreadable text is an error naming `arg`.
fn minutes_since(text: &str, arg: &str) -> Result<i64, Error> {
    let now = chrono::Utc::now();
    let d = parse_date_text(text, now).ok_or_else(|| Error::InvalidArg {
        name: arg.to_owned(),
        reason: format!("'{text}' is not a time range; give e.g. 2 days or 12 hours."),
    })?;
    Ok((now - d.to_utc()).num_seconds().div_euclid(60))
}

/// `POST api/advancedqueries/run` with the query (its time range inserted when given).
async fn run_query(
    atp: &Atp,
    ctx: &mut CommandContext,
    query: &str,
    time_range: Option<&str>,
    arg: &str,
    timeout: Duration,
) -> Result<Value, Error> {
    let query = match time_range.filter(|t| !t.is_empty()) {
        Some(t) => with_time_range(query, minutes_since(t, arg)?),
        None => query.to_owned(),
    };
    atp.json(ctx, Request::post("api/advancedqueries/run").json(&json!({"Query": query})).timeout(timeout))
        .await
}

/// Runs an advanced hunting query (or a batch of them) on Microsoft Defender for Endpoint.
#[derive(Args)]
pub struct AdvancedHunting {
    /// The KQL query to run (required unless query_batch is given).
    query: Option<String>,
    /// The request timeout in seconds (at most 3600); a query of query_batch may give its own.
    #[arg(default = "10")]
    timeout: String,
    /// Only results newer than this (e.g. 2 days, 12 hours); inserted as a Timestamp filter.
    time_range: Option<String>,
    /// A JSON list of up to 10 queries: [{"query": "...", "name": "...", "timeout": "...", "time_range": "..."}].
    query_batch: Option<String>,
    /// A name for the query; its results go under MicrosoftATP.Hunt.Result.<name>.
    name: Option<String>,
}

#[async_trait]
impl Handler<Atp> for AdvancedHunting {
    const NAME: &'static str = "microsoft-atp-advanced-hunting";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-advanced-hunting query=\"DeviceInfo | where OnboardingStatus == 'Onboarded' | limit 10 | distinct DeviceName\"",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![out("MicrosoftATP.Hunt.Result", "Unknown", "The query results.")]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (query, batch) =
            (self.query.filter(|s| !s.is_empty()), self.query_batch.filter(|s| !s.is_empty()));
        let queries: Vec<Value> = match (query, batch) {
            (Some(_), Some(_)) => {
                return Err(Error::Command(
                    "Both query and query_batch were given, please provide just one".into(),
                ));
            }
            (None, None) => {
                return Err(Error::Command(
                    "Both query and query_batch were not given, please provide one".into(),
                ));
            }
            (Some(q), None) => vec![json!({"query": q, "name": self.name.clone().unwrap_or_default()})],
            (None, Some(b)) => match serde_json::from_str::<Value>(&b) {
                Ok(Value::Array(list)) => list,
                _ => {
                    return Err(Error::InvalidArg {
                        name: "query_batch".into(),
                        reason: "give a JSON list of objects with query and name (and optionally timeout and time_range)."
                            .into(),
                    });
                }
            },
        };
        if queries.len() > 10 {
            return Err(Error::Command("Please provide only up to 10 queries.".into()));
        }
        let timeout = super::http_timeout("timeout", &self.timeout)?;
        let mut readable = String::new();
        let mut outputs: Vec<Value> = Vec::new();
        let mut last = Value::Null;
        for q in &queries {
            let text = q.get("query").and_then(Value::as_str).unwrap_or_default();
            if text.is_empty() {
                return Err(Error::InvalidArg {
                    name: "query_batch".into(),
                    reason: "every query needs a query text.".into(),
                });
            }
            let name = q.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let range = q
                .get("time_range")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| self.time_range.clone());
            // A query's own timeout (a number or a text of seconds) replaces the argument's.
            let timeout = match q.get("timeout").filter(|t| !t.is_null()) {
                Some(t) => super::http_timeout("query_batch", &soar_integration_kit::value_text(t))?,
                None => timeout,
            };
            let answer = run_query(atp, ctx, text, range.as_deref(), "time_range", timeout).await?;
            let mut rows = answer.get("Results").cloned().unwrap_or(json!({}));
            // A lone result's ReportId becomes a string, as the reference does.
            if let Value::Array(list) = &mut rows
                && list.len() == 1
                && let Some(id) = list[0].get("ReportId").filter(|v| !v.is_null()).cloned()
                && let Some(o) = list[0].as_object_mut()
            {
                o.insert("ReportId".into(), json!(soar_integration_kit::value_text(&id)));
            }
            readable.push_str(&table_all(&format!("Hunt results for {name} query:"), rows.clone())?);
            if name.is_empty() {
                outputs = vec![rows];
            } else {
                outputs.push(json!({ name: rows }));
            }
            last = answer;
        }
        let context = if outputs.len() == 1 { outputs.remove(0) } else { Value::Array(outputs) };
        super::output(readable, "MicrosoftATP.Hunt.Result", context, last)
    }
}

/// The arguments every hunting template takes.
#[derive(Args)]
pub struct HuntArgs {
    /// A comma-separated list of device names.
    device_name: Option<String>,
    /// A comma-separated list of file names.
    file_name: Option<String>,
    /// A comma-separated list of SHA1 hashes.
    sha1: Option<String>,
    /// A comma-separated list of SHA256 hashes.
    sha256: Option<String>,
    /// A comma-separated list of MD5 hashes.
    md5: Option<String>,
    /// A comma-separated list of device IDs.
    device_id: Option<String>,
    /// How the filters combine.
    #[arg(default = "or", options = ["or", "and"])]
    query_operation: String,
    /// The rows per page.
    #[arg(default = "50")]
    limit: u64,
    /// Only results newer than this (e.g. 2 days).
    time_range: Option<String>,
    /// The request timeout in seconds (at most 3600).
    #[arg(default = "10")]
    timeout: String,
    /// The page to return (the query asks for limit × page rows).
    #[arg(default = "1")]
    page: u64,
    /// Show the KQL query in the War Room.
    #[arg(default = "false", options = BOOL)]
    show_query: bool,
}

impl HuntArgs {
    fn query_args(&self, purpose: &str) -> Result<QueryArgs, Error> {
        for (name, v) in [("limit", self.limit), ("page", self.page)] {
            if v == 0 {
                return Err(Error::InvalidArg {
                    name: name.into(),
                    reason: "give a positive number.".into(),
                });
            }
        }
        super::http_timeout("timeout", &self.timeout)?;
        Ok(QueryArgs {
            filters: Filters {
                device_name: self.device_name.clone(),
                file_name: self.file_name.clone(),
                sha1: self.sha1.clone(),
                sha256: self.sha256.clone(),
                md5: self.md5.clone(),
                device_id: self.device_id.clone(),
            },
            operation: self.query_operation.clone(),
            limit: self.limit,
            page: self.page,
            purpose: purpose.to_owned(),
            ..QueryArgs::default()
        })
    }
}

/// Builds the query, runs it, keeps the page's rows and writes the reference's entry.
async fn hunt(
    atp: &Atp,
    ctx: &mut CommandContext,
    h: &HuntArgs,
    q: QueryArgs,
    template: Template,
    title: String,
    prefix: String,
) -> Result<Outcome, Error> {
    let query = q.build(template)?;
    let timeout = super::http_timeout("timeout", &h.timeout)?;
    let answer = run_query(atp, ctx, &query, h.time_range.as_deref(), "time_range", timeout).await?;
    let mut rows = answer.get("Results").cloned().unwrap_or(Value::Null);
    if let Value::Array(list) = &mut rows {
        // The query asked for limit × page rows; the page is the last `limit` of them.
        let start = ((h.page - 1) * h.limit) as usize;
        *list = list.iter().skip(start).take(h.limit as usize).cloned().collect();
    }
    let mut readable = table_all(&title, rows.clone())?;
    if h.show_query {
        readable = format!("### The Query:\n{query}\n{readable}");
    }
    Ok(super::results_named(readable, prefix, rows, answer)?.into())
}

macro_rules! hunt_outputs {
    ($p:literal) => {
        vec![out($p, "Unknown", "The query results.")]
    };
}

/// Hunts for lateral movement evidence on devices or files.
#[derive(Args)]
pub struct HuntLateralMovement {
    /// What to hunt for.
    #[arg(options = LATERAL_PURPOSES)]
    query_purpose: String,
    /// With smb_connections: only processes that connected to more remote IPs than this.
    remote_ip_count: Option<u64>,
    #[arg(flatten)]
    h: HuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntLateralMovement {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-lateral-movement-evidence";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-advanced-hunting-lateral-movement-evidence query_purpose=network_connections device_name=desktop-s2455r8",
    ];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntLateralMovementEvidence.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = &self.query_purpose;
        let q = QueryArgs {
            remote_ip_count: self.remote_ip_count.map(|n| n.to_string()),
            ..self.h.query_args(p)?
        };
        let title = format!("Lateral Movement Evidence Hunt ({p}) Results");
        let prefix = format!("MicrosoftATP.HuntLateralMovementEvidence.Result.{p}");
        hunt(atp, ctx, &self.h, q, Template::LateralMovement, title, prefix).await
    }
}

/// Hunts for persistence evidence on devices or files.
#[derive(Args)]
pub struct HuntPersistence {
    /// What to hunt for.
    #[arg(options = PERSISTENCE_PURPOSES)]
    query_purpose: String,
    /// Text the initiating process command line contains (required for registry_entry).
    process_cmd: Option<String>,
    #[arg(flatten)]
    h: HuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntPersistence {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-persistence-evidence";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-advanced-hunting-persistence-evidence query_purpose=scheduled_job device_name=desktop-s2455r8",
    ];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntPersistenceEvidence.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = &self.query_purpose;
        let q = QueryArgs { process_cmd: self.process_cmd.clone(), ..self.h.query_args(p)? };
        // The reference's title, typo included.
        let title = format!("Persistence EvidenceHunt Hunt ({p}) Results");
        let prefix = format!("MicrosoftATP.HuntPersistenceEvidence.Result.{p}");
        hunt(atp, ctx, &self.h, q, Template::Persistence, title, prefix).await
    }
}

/// Hunts for the origin of files.
#[derive(Args)]
pub struct HuntFileOrigin {
    #[arg(flatten)]
    h: HuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntFileOrigin {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-file-origin";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-advanced-hunting-file-origin sha1=9fe3ba25e5660c23dfe478d577cfacde5e27a6d8"];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntFileOrigin.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let q = self.h.query_args("")?;
        hunt(
            atp,
            ctx,
            &self.h,
            q,
            Template::FileOrigin,
            "File Origin Hunt Results".into(),
            "MicrosoftATP.HuntFileOrigin.Result".into(),
        )
        .await
    }
}

/// Hunts for process details on devices or files.
#[derive(Args)]
pub struct HuntProcessDetails {
    /// What to hunt for.
    #[arg(options = PROCESS_PURPOSES)]
    query_purpose: String,
    #[arg(flatten)]
    h: HuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntProcessDetails {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-process-details";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-advanced-hunting-process-details query_purpose=parent_process sha1=9fe3ba25e5660c23dfe478d577cfacde5e27a6d8",
    ];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntProcessDetails.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = &self.query_purpose;
        let q = self.h.query_args(p)?;
        let title = format!("Process Details Hunt ({p}) Results");
        let prefix = format!("MicrosoftATP.HuntProcessDetails.Result.{p}");
        hunt(atp, ctx, &self.h, q, Template::ProcessDetails, title, prefix).await
    }
}

/// Hunts for network connections of devices or files.
#[derive(Args)]
pub struct HuntNetworkConnections {
    /// What to hunt for.
    #[arg(options = NETWORK_PURPOSES)]
    query_purpose: String,
    #[arg(flatten)]
    h: HuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntNetworkConnections {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-network-connections";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-advanced-hunting-network-connections query_purpose=dns_query device_name=desktop-s2455r8",
    ];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntNetworkConnections.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = &self.query_purpose;
        let q = self.h.query_args(p)?;
        let title = format!("Network Connections Hunt ({p}) Results");
        let prefix = format!("MicrosoftATP.HuntNetworkConnections.Result.{p}");
        hunt(atp, ctx, &self.h, q, Template::NetworkConnections, title, prefix).await
    }
}

/// The device arguments of the device-only templates.
#[derive(Args)]
pub struct DeviceHuntArgs {
    /// A comma-separated list of device names.
    device_name: Option<String>,
    /// A comma-separated list of device IDs.
    device_id: Option<String>,
    /// How the filters combine.
    #[arg(default = "or", options = ["or", "and"])]
    query_operation: String,
    /// The rows per page.
    #[arg(default = "50")]
    limit: u64,
    /// Only results newer than this (e.g. 2 days).
    time_range: Option<String>,
    /// The request timeout in seconds (at most 3600).
    #[arg(default = "10")]
    timeout: String,
    /// The page to return (the query asks for limit × page rows).
    #[arg(default = "1")]
    page: u64,
    /// Show the KQL query in the War Room.
    #[arg(default = "false", options = BOOL)]
    show_query: bool,
}

impl DeviceHuntArgs {
    fn as_hunt(&self) -> HuntArgs {
        HuntArgs {
            device_name: self.device_name.clone(),
            file_name: None,
            sha1: None,
            sha256: None,
            md5: None,
            device_id: self.device_id.clone(),
            query_operation: self.query_operation.clone(),
            limit: self.limit,
            time_range: self.time_range.clone(),
            timeout: self.timeout.clone(),
            page: self.page,
            show_query: self.show_query,
        }
    }
}

/// Hunts for privilege escalation on devices.
#[derive(Args)]
pub struct HuntPrivilegeEscalation {
    #[arg(flatten)]
    d: DeviceHuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntPrivilegeEscalation {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-privilege-escalation";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-advanced-hunting-privilege-escalation device_name=desktop-s2455r8"];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntPrivilegeEscalation.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let h = self.d.as_hunt();
        let q = h.query_args("")?;
        hunt(
            atp,
            ctx,
            &h,
            q,
            Template::PrivilegeEscalation,
            "Privilege Escalation Hunt Results".into(),
            "MicrosoftATP.HuntPrivilegeEscalation.Result".into(),
        )
        .await
    }
}

/// Hunts for tampering with Microsoft Defender on devices.
#[derive(Args)]
pub struct HuntTampering {
    #[arg(flatten)]
    d: DeviceHuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntTampering {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-tampering";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-advanced-hunting-tampering device_name=desktop-s2455r8"];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntTampering.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let h = self.d.as_hunt();
        let q = h.query_args("")?;
        hunt(
            atp,
            ctx,
            &h,
            q,
            Template::Tampering,
            "Tampering Hunt Results".into(),
            "MicrosoftATP.HuntTampering.Result".into(),
        )
        .await
    }
}

/// Hunts for cover-up activity on devices, files or by a user.
#[derive(Args)]
pub struct HuntCoverUp {
    /// What to hunt for.
    #[arg(options = COVER_UP_PURPOSES)]
    query_purpose: String,
    /// A comma-separated list of user names (for the account purposes).
    username: Option<String>,
    #[arg(flatten)]
    h: HuntArgs,
}

#[async_trait]
impl Handler<Atp> for HuntCoverUp {
    const NAME: &'static str = "microsoft-atp-advanced-hunting-cover-up";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-advanced-hunting-cover-up query_purpose=connected_devices username=demisto"];

    fn outputs() -> Vec<OutputSpec> {
        hunt_outputs!("MicrosoftATP.HuntCoverUp.Result")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = &self.query_purpose;
        let q = QueryArgs { username: self.username.clone(), ..self.h.query_args(p)? };
        let title = format!("Cover Up Hunt ({p}) Results");
        let prefix = format!("MicrosoftATP.HuntCoverUp.Result.{p}");
        hunt(atp, ctx, &self.h, q, Template::CoverUp, title, prefix).await
    }
}
