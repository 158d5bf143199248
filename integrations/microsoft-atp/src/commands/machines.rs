//! Machines: lists and details, related machines, tags, logon users and alerts, the generic
//! `endpoint` command, and investigations.

use serde_json::{Map, Value, json};
use soar_integration_kit::format::CommandResults;
use soar_integration_kit::{
    Args, CommandContext, Error, Handler, Outcome, OutputSpec, Request, async_trait, out,
};

use super::actions::{filter_with_list, reformat_filter};
use super::{Failures, dedup, output, py_list, results, seg, table};
use crate::client::Atp;
use crate::outputs::{
    ALERT_HEADERS, INTEGRATION_NAME, INVESTIGATION_HEADERS, MACHINE_HEADERS, alert, alert_paths,
    investigation, machine, machine_paths, user, values,
};

const MACHINE_KEY: &str = "MicrosoftATP.Machine(val.ID === obj.ID)";

fn machines_of(answer: &Value) -> Vec<Value> {
    values(answer).iter().map(machine).collect()
}

/// Retrieves machines that have communicated with Microsoft Defender for Endpoint in the last
/// 30 days, filtered by the given fields (hostname or ip may list several values, not both).
#[derive(Args)]
pub struct GetMachines {
    /// A comma-separated list of machine DNS names.
    hostname: Vec<String>,
    /// A comma-separated list of the machines' last IP addresses.
    ip: Vec<String>,
    /// The machine risk score.
    #[arg(options = ["Low", "Medium", "High"])]
    risk_score: Option<String>,
    /// The machine health status.
    #[arg(options = ["Active", "Inactive"])]
    health_status: Option<String>,
    /// The machine's OS platform.
    os_platform: Option<String>,
    /// The page size (at most 10000).
    #[arg(default = "50")]
    page_size: u64,
    /// The page number.
    #[arg(default = "1")]
    page_num: u64,
}

#[async_trait]
impl Handler<Atp> for GetMachines {
    const NAME: &'static str = "microsoft-atp-get-machines";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-machines health_status=Active risk_score=Medium"];

    fn outputs() -> Vec<OutputSpec> {
        machine_paths!("MicrosoftATP.Machine")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let hosts = dedup(self.hostname);
        let ips = dedup(self.ip);
        if hosts.len() > 1 && ips.len() > 1 {
            return Err(Error::Command("Error: only hostname or ip can be an array, not both.".to_owned()));
        }
        if self.page_size == 0 || self.page_num == 0 {
            return Err(Error::InvalidArg {
                name: if self.page_size == 0 { "page_size" } else { "page_num" }.to_owned(),
                reason: "give a positive number.".to_owned(),
            });
        }
        let one = |v: &[String]| v.first().cloned().unwrap_or_default();
        let rest = |skip: &str, h: String, i: String| -> Vec<(&'static str, String)> {
            let all = [
                ("computerDnsName", h),
                ("lastIpAddress", i),
                ("riskScore", self.risk_score.clone().unwrap_or_default()),
                ("healthStatus", self.health_status.clone().unwrap_or_default()),
                ("osPlatform", self.os_platform.clone().unwrap_or_default()),
            ];
            all.into_iter().filter(|(k, _)| *k != skip).collect()
        };
        let filter = if hosts.len() > 1 {
            filter_with_list(&rest("computerDnsName", String::new(), one(&ips)), "computerDnsName", &hosts)
        } else if ips.len() > 1 {
            filter_with_list(&rest("lastIpAddress", one(&hosts), String::new()), "lastIpAddress", &ips)
        } else {
            reformat_filter(&rest("", one(&hosts), one(&ips)))
        };
        let size = self.page_size.min(10_000);
        let mut req = Request::get("api/machines");
        if !filter.is_empty() {
            req = req.query("$filter", filter);
        }
        req = req.query("$skip", ((self.page_num - 1) * size).to_string()).query("$top", size.to_string());
        let answer = atp.json(ctx, req).await?;
        let list = machines_of(&answer);
        let md =
            table(&format!("{INTEGRATION_NAME} Machines:"), Value::Array(list.clone()), MACHINE_HEADERS)?;
        output(md, MACHINE_KEY, Value::Array(list), answer)
    }
}

/// The reference's `parse_ip_addresses`: one row per MAC address (first-seen order) with all
/// its IP addresses.
fn group_by_mac(ips: &[Value]) -> Vec<(String, Vec<String>, String, String)> {
    let mut rows: Vec<(String, Vec<String>, String, String)> = Vec::new();
    let s =
        |v: &Value, k: &str| v.get(k).map(soar_integration_kit::value_text).unwrap_or_else(|| "None".into());
    for item in ips {
        let mac = s(item, "macAddress");
        match rows.iter_mut().find(|r| r.0 == mac) {
            Some(r) => r.1.push(s(item, "ipAddress")),
            None => {
                rows.push((mac, vec![s(item, "ipAddress")], s(item, "type"), s(item, "operationalStatus")))
            }
        }
    }
    rows
}

/// The reference's `print_ip_addresses`: numbered rows, columns padded to their widest cell.
fn print_ip_addresses(ips: &[Value]) -> String {
    let rows: Vec<[String; 5]> = group_by_mac(ips)
        .into_iter()
        .enumerate()
        .map(|(i, (mac, addrs, kind, status))| {
            [
                format!("{}.", i + 1),
                format!("MAC : {mac}"),
                format!("IP Addresses : {}", addrs.join(",")),
                format!("Type : {kind}"),
                format!("Status : {status}"),
            ]
        })
        .collect();
    let mut widths = [0usize; 5];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Retrieves the details of machines by their IDs.
#[derive(Args)]
pub struct GetMachineDetails {
    /// A comma-separated list of machine IDs.
    machine_id: Vec<String>,
}

#[async_trait]
impl Handler<Atp> for GetMachineDetails {
    const NAME: &'static str = "microsoft-atp-get-machine-details";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-machine-details machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = machine_paths!("MicrosoftATP.Machine");
        v.extend([
            out(
                "MicrosoftATP.Machine.NetworkInterfaces.MACAddress",
                "String",
                "The MAC address of the network interface.",
            ),
            out(
                "MicrosoftATP.Machine.NetworkInterfaces.IPAddresses",
                "String",
                "The IP addresses of the network interface.",
            ),
            out(
                "MicrosoftATP.Machine.NetworkInterfaces.Type",
                "String",
                "The type of the network interface.",
            ),
            out(
                "MicrosoftATP.Machine.NetworkInterfaces.Status",
                "String",
                "The status of the network interface.",
            ),
        ]);
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let ids = dedup(self.machine_id);
        let mut data = Vec::new();
        let mut readable = Vec::new();
        let mut raw = Vec::new();
        let mut failed = Failures::default();
        for id in &ids {
            match atp.json(ctx, Request::get(format!("api/machines/{}", seg(id)))).await {
                Ok(answer) => {
                    let m = machine(&answer);
                    let mut shown = m.clone();
                    let ips = m.get("IPAddresses").and_then(Value::as_array).cloned().unwrap_or_default();
                    if let Some(o) = shown.as_object_mut() {
                        o.insert("IPAddresses".into(), Value::String(print_ip_addresses(&ips)));
                    }
                    data.push(m);
                    readable.push(shown);
                    raw.push(answer);
                }
                Err(e) => failed.0.push((id.clone(), e)),
            }
        }
        let mut headers = MACHINE_HEADERS.to_vec();
        headers.push("IPAddresses");
        let md = table(
            &format!("{INTEGRATION_NAME} machines {} details:", py_list(&ids)),
            Value::Array(readable),
            &headers,
        )? + &failed.note(ids.len())?;
        Ok(results(md, "MicrosoftATP.Machine", Some("ID"), Value::Array(data), Value::Array(raw))?.into())
    }
}

/// Retrieves the machines related to files, by SHA1 hash.
#[derive(Args)]
pub struct GetFileRelatedMachines {
    /// A comma-separated list of file SHA1 hashes.
    file_hash: Vec<String>,
}

#[async_trait]
impl Handler<Atp> for GetFileRelatedMachines {
    const NAME: &'static str = "microsoft-atp-get-file-related-machines";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-file-related-machines file_hash=8f0b0f5ea7b4cd3a0e7c3d4e2b1a9f8e7d6c5b4a"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = machine_paths!("MicrosoftATP.FileMachine.Machines");
        v.push(out("MicrosoftATP.FileMachine.File", "String", "The machine related file hash."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let files = dedup(self.file_hash);
        let mut raw = Vec::new();
        let mut context = Vec::new();
        let mut all = Vec::new();
        let mut failed = Failures::default();
        for f in &files {
            match atp.json(ctx, Request::get(format!("api/files/{}/machines", seg(f)))).await {
                Ok(answer) => {
                    let list = machines_of(&answer);
                    all.extend(list.iter().cloned());
                    context.push(json!({"File": f, "Machines": list}));
                    raw.push(answer);
                }
                Err(e) => failed.0.push((f.clone(), e)),
            }
        }
        let md = table(
            &format!("{INTEGRATION_NAME} machines related to files {}", py_list(&files)),
            Value::Array(all),
            MACHINE_HEADERS,
        )? + &failed.note(files.len())?;
        Ok(results(md, "MicrosoftATP.FileMachine", None, Value::Array(context), Value::Array(raw))?.into())
    }
}

/// Adds or removes a tag on a machine.
#[derive(Args)]
pub struct AddRemoveMachineTag {
    /// The machine ID.
    machine_id: String,
    /// Add or remove the tag.
    #[arg(options = ["Add", "Remove"])]
    action: String,
    /// The tag name.
    tag: String,
}

#[async_trait]
impl Handler<Atp> for AddRemoveMachineTag {
    const NAME: &'static str = "microsoft-atp-add-remove-machine-tag";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-add-remove-machine-tag machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa action=Add tag=isolated",
    ];

    fn outputs() -> Vec<OutputSpec> {
        machine_paths!("MicrosoftATP.Machine")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = json!({"Value": self.tag, "Action": self.action});
        let answer = atp
            .json(ctx, Request::post(format!("api/machines/{}/tags", seg(&self.machine_id))).json(&body))
            .await?;
        let m = machine(&answer);
        // The reference's headers spell `LastIpAddress`, which no row has; kept.
        let headers = [
            "ID",
            "ComputerDNSName",
            "OSPlatform",
            "LastIpAddress",
            "LastExternalIPAddress",
            "HealthStatus",
            "RiskScore",
            "ExposureLevel",
            "MachineTags",
        ];
        let md =
            table(&format!("Succeed to {} tag to {}:", self.action, self.machine_id), m.clone(), &headers)?;
        output(md, MACHINE_KEY, m, answer)
    }
}

/// Retrieves the users who logged on to a machine.
#[derive(Args)]
pub struct GetMachineUsers {
    /// The machine ID.
    machine_id: String,
}

#[async_trait]
impl Handler<Atp> for GetMachineUsers {
    const NAME: &'static str = "microsoft-atp-get-machine-users";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-machine-users machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.MachineUser.ID", "String", "The user ID."),
            out("MicrosoftATP.MachineUser.AccountName", "String", "The user account name."),
            out("MicrosoftATP.MachineUser.AccountDomain", "String", "The domain of the user account."),
            out("MicrosoftATP.MachineUser.FirstSeen", "Date", "When the user was first seen on the machine."),
            out("MicrosoftATP.MachineUser.LastSeen", "Date", "When the user was last seen on the machine."),
            out("MicrosoftATP.MachineUser.LogonTypes", "String", "The logon types of the user."),
            out("MicrosoftATP.MachineUser.DomainAdmin", "Boolean", "Whether the user is a domain admin."),
            out("MicrosoftATP.MachineUser.NetworkUser", "Boolean", "Whether the user is a network user."),
            out("MicrosoftATP.MachineUser.MachineID", "String", "The machine ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer =
            atp.json(ctx, Request::get(format!("api/machines/{}/logonusers", seg(&self.machine_id)))).await?;
        let list: Vec<Value> = values(&answer)
            .iter()
            .map(|u| {
                let mut d = user(u);
                if let Some(o) = d.as_object_mut() {
                    o.insert("MachineID".into(), Value::String(self.machine_id.clone()));
                }
                d
            })
            .collect();
        let headers = [
            "ID",
            "AccountName",
            "AccountDomain",
            "FirstSeen",
            "LastSeen",
            "LogonTypes",
            "DomainAdmin",
            "NetworkUser",
        ];
        let md = table(
            &format!("Microsoft Defender ATP logon users for machine {}:", self.machine_id),
            Value::Array(list.clone()),
            &headers,
        )?;
        let key = "MicrosoftATP.MachineUser(val.ID && val.ID == obj.ID && val.MachineID && val.MachineID == obj.MachineID)";
        output(md, key, Value::Array(list), answer)
    }
}

/// Retrieves the alerts related to a machine.
#[derive(Args)]
pub struct GetMachineAlerts {
    /// The machine ID.
    machine_id: String,
}

#[async_trait]
impl Handler<Atp> for GetMachineAlerts {
    const NAME: &'static str = "microsoft-atp-get-machine-alerts";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-machine-alerts machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa"];

    fn outputs() -> Vec<OutputSpec> {
        alert_paths!("MicrosoftATP.MachineAlerts")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer =
            atp.json(ctx, Request::get(format!("api/machines/{}/alerts", seg(&self.machine_id)))).await?;
        let list: Vec<Value> = values(&answer).iter().map(alert).collect();
        let md = table(
            &format!("Alerts that are related to machine {}:", self.machine_id),
            Value::Array(list.clone()),
            ALERT_HEADERS,
        )?;
        let key = "MicrosoftATP.MachineAlerts(val.ID && val.ID == obj.ID && val.MachineID && val.MachineID == obj.MachineID)";
        output(md, key, Value::Array(list), answer)
    }
}

/// The reference's health status to endpoint status map.
fn endpoint_status(health: &str) -> Value {
    match health {
        "Active" | "ImpairedCommunication" | "NoSensorData" | "NoSensorDataImpairedCommunication" => {
            json!("Online")
        }
        "Inactive" => json!("Offline"),
        _ => Value::Null,
    }
}

/// The machine's MAC: that of its `ipAddresses` entry whose address is `lastIpAddress`.
fn mac_of(m: &Value) -> Value {
    let last = m.get("lastIpAddress").and_then(Value::as_str).unwrap_or("");
    m.get("ipAddresses")
        .and_then(Value::as_array)
        .and_then(|ips| {
            ips.iter().find(|i| !last.is_empty() && i.get("ipAddress").and_then(Value::as_str) == Some(last))
        })
        .map(|i| i.get("macAddress").cloned().unwrap_or(Value::String(String::new())))
        .unwrap_or(Value::Null)
}

/// The reference's `handle_machines`: one `CommandResults` per machine, its `Common.Endpoint`
/// indicator (whose context comes first, as a one-element list) and `MicrosoftATP.Machine`
/// keyed by `ID`; "no device found" when the answer lists none.
fn endpoint_results(answer: &Value) -> Result<Outcome, Error> {
    let mut entries = Vec::new();
    for raw in values(answer) {
        let mut data = machine(&raw);
        let mac = mac_of(&raw);
        if let Some(o) = data.as_object_mut() {
            o.insert("MACAddress".into(), mac.clone());
        }
        let s = |k: &str| data.get(k).cloned().unwrap_or(Value::Null);
        let os_version = format!(
            "{} {} bit",
            data.get("OSVersion").map(soar_integration_kit::value_text).unwrap_or_else(|| "None".into()),
            data.get("OSProcessor").map(soar_integration_kit::value_text).unwrap_or_else(|| "None".into())
        );
        let health = data.get("HealthStatus").and_then(Value::as_str).unwrap_or("Unknown").to_owned();
        // `Common.Endpoint.to_context`: `ID` always (null when absent), then only the values
        // given, in its order.
        let mut endpoint = Map::new();
        endpoint.insert("ID".into(), s("ID"));
        if let Value::Object(given) = super::super::outputs::assign(vec![
            ("Hostname", s("ComputerDNSName")),
            ("IPAddress", s("LastIPAddress")),
            ("MACAddress", mac),
            ("OS", s("OSPlatform")),
            ("OSVersion", Value::String(os_version)),
            ("Vendor", json!(INTEGRATION_NAME)),
            ("Status", endpoint_status(&health)),
        ]) {
            endpoint.extend(given);
        }
        let headers = ["ID", "Hostname", "OS", "OSVersion", "IPAddress", "Status", "MACAddress", "Vendor"];
        let md = table(&format!("{INTEGRATION_NAME} Machine:"), Value::Object(endpoint.clone()), &headers)?;
        let mut indicator = Map::new();
        indicator.insert(
            "Endpoint(val.ID && val.ID == obj.ID && val.Vendor == obj.Vendor)".into(),
            Value::Object(endpoint),
        );
        let mut r = CommandResults::new("MicrosoftATP.Machine");
        r.outputs_key_field = vec!["ID".into()];
        r.outputs = Some(data);
        r.readable_output = Some(Value::String(md));
        r.raw_response = Some(answer.clone());
        r.indicator_contexts = vec![indicator];
        entries.push(r.into_entry()?);
    }
    if entries.is_empty() {
        entries.push(
            soar_integration_kit::Results {
                readable: Some(format!("{INTEGRATION_NAME} no device found.")),
                raw: Some(answer.clone()),
                ..Default::default()
            }
            .entry()?,
        );
    }
    Ok(entries.into())
}

/// Returns information about endpoints (machines) by ID, IP address or hostname.
#[derive(Args)]
pub struct Endpoint {
    /// A comma-separated list of machine IDs.
    id: Vec<String>,
    /// A comma-separated list of last IP addresses.
    ip: Vec<String>,
    /// A comma-separated list of machine DNS names.
    hostname: Vec<String>,
}

#[async_trait]
impl Handler<Atp> for Endpoint {
    const NAME: &'static str = "endpoint";
    const EXAMPLES: &'static [&'static str] = &["!endpoint hostname=desktop-s2455r8"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = vec![
            out("Endpoint.Hostname", "String", "The endpoint's hostname."),
            out("Endpoint.OS", "String", "The endpoint's operating system."),
            out("Endpoint.OSVersion", "String", "The endpoint's operating system's version."),
            out("Endpoint.IPAddress", "String", "The endpoint's IP address."),
            out("Endpoint.ID", "String", "The endpoint's identifier."),
            out("Endpoint.Status", "String", "The endpoint's status."),
            out("Endpoint.MACAddress", "String", "The endpoint's MAC address."),
            out("Endpoint.Vendor", "String", "The integration name of the endpoint vendor."),
        ];
        v.extend(machine_paths!("MicrosoftATP.Machine"));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (ids, ips, hosts) = (dedup(self.id), dedup(self.ip), dedup(self.hostname));
        if ids.is_empty() && ips.is_empty() && hosts.is_empty() {
            return Err(Error::Command(format!(
                "{INTEGRATION_NAME} - In order to run this command, please provide valid id, ip or hostname"
            )));
        }
        let mut parts = Vec::new();
        for (k, list) in [("computerDnsName", &hosts), ("lastIpAddress", &ips), ("id", &ids)] {
            parts.extend(list.iter().map(|v| format!("{k} eq '{v}'")));
        }
        let answer = atp.json(ctx, Request::get("api/machines").query("$filter", parts.join(" or "))).await?;
        endpoint_results(&answer)
    }
}

/// Retrieves the machines seen with an internal IP within 15 minutes of a timestamp.
#[derive(Args)]
pub struct GetMachineByIp {
    /// The IP address.
    ip: String,
    /// The time of the sighting (ISO 8601, e.g. 2024-05-19T01:00:05Z).
    timestamp: String,
    /// The most machines to return.
    #[arg(default = "50")]
    limit: usize,
    /// Return every machine found, ignoring the limit.
    #[arg(default = "false", options = soar_integration_kit::BOOL)]
    all_results: bool,
}

#[async_trait]
impl Handler<Atp> for GetMachineByIp {
    const NAME: &'static str = "microsoft-atp-get-machine-by-ip";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-machine-by-ip ip=10.0.0.4 timestamp=2024-05-19T01:00:05Z"];

    fn outputs() -> Vec<OutputSpec> {
        machine_paths!("MicrosoftATP.Machine")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let timestamp = super::date_text("timestamp", &self.timestamp)?;
        // The reference's `machines/findbyip(ip='..',timestamp=..)`; `:` is a path character
        // (RFC 3986 pchar), so times and IPv6 addresses go as the reference sends them.
        let value = |s: &str| seg(s).replace("%3A", ":");
        let path = format!("api/machines/findbyip(ip='{}',timestamp={})", value(&self.ip), value(&timestamp));
        let mut answer = atp.json(ctx, Request::get(path)).await?;
        if !self.all_results
            && let Some(list) = answer.get_mut("value").and_then(Value::as_array_mut)
        {
            list.truncate(self.limit);
        }
        endpoint_results(&answer)
    }
}

/// Retrieves investigations: one by ID, or a page of all of them.
#[derive(Args)]
pub struct ListInvestigations {
    /// The investigation ID.
    id: Option<String>,
    /// The most investigations to return.
    #[arg(default = "50")]
    limit: String,
    /// The number of investigations to skip.
    #[arg(default = "0")]
    offset: String,
}

/// The reference's `check_limit_and_offset_values`.
pub fn limit_offset(limit: &str, offset: &str) -> Result<(usize, usize), Error> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(limit) {
        return Err(Error::Command(
            "Error: You can only enter a positive integer or zero to limit argument.".into(),
        ));
    }
    if !digits(offset) {
        return Err(Error::Command(
            "Error: You can only enter a positive integer to offset argument.".into(),
        ));
    }
    let l: usize =
        limit.parse().map_err(|_| Error::InvalidArg { name: "limit".into(), reason: "too large.".into() })?;
    let o: usize = offset
        .parse()
        .map_err(|_| Error::InvalidArg { name: "offset".into(), reason: "too large.".into() })?;
    if l == 0 {
        return Err(Error::Command(
            "Error: The value of the limit argument must be a positive integer.".into(),
        ));
    }
    Ok((l, o))
}

/// `items[offset .. offset + limit]`, clamped.
pub fn page(items: Vec<Value>, limit: usize, offset: usize) -> Vec<Value> {
    items.into_iter().skip(offset).take(limit).collect()
}

#[async_trait]
impl Handler<Atp> for ListInvestigations {
    const NAME: &'static str = "microsoft-atp-list-investigations";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-list-investigations limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        investigation_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (limit, offset) = limit_offset(&self.limit, &self.offset)?;
        let key = "MicrosoftATP.Investigation(val.ID === obj.ID)";
        if let Some(id) = self.id.filter(|s| !s.is_empty()) {
            let answer = atp.json(ctx, Request::get(format!("api/investigations/{}", seg(&id)))).await?;
            let data = investigation(&answer);
            let md = table(&format!("Investigation {id} Info:"), data.clone(), INVESTIGATION_HEADERS)?;
            return output(md, key, data, answer);
        }
        let answer = atp.json(ctx, Request::get("api/investigations")).await?;
        let all = values(&answer);
        let list: Vec<Value> = page(all.clone(), limit, offset).iter().map(investigation).collect();
        let md = table("Investigations Info:", Value::Array(list.clone()), INVESTIGATION_HEADERS)?;
        output(md, key, Value::Array(list), Value::Array(all))
    }
}

fn investigation_outputs() -> Vec<OutputSpec> {
    vec![
        out("MicrosoftATP.Investigation.ID", "String", "The investigation ID."),
        out(
            "MicrosoftATP.Investigation.StartTime",
            "Date",
            "The date and time when the investigation was created.",
        ),
        out(
            "MicrosoftATP.Investigation.EndTime",
            "Date",
            "The date and time when the investigation was completed.",
        ),
        out("MicrosoftATP.Investigation.InvestigationState", "String", "The investigation state."),
        out(
            "MicrosoftATP.Investigation.CancelledBy",
            "Unknown",
            "The ID of the user/application that cancelled that investigation.",
        ),
        out(
            "MicrosoftATP.Investigation.StatusDetails",
            "Unknown",
            "Additional information about the state of the investigation.",
        ),
        out(
            "MicrosoftATP.Investigation.MachineID",
            "String",
            "The ID of the machine on which the investigation is executed.",
        ),
        out(
            "MicrosoftATP.Investigation.ComputerDNSName",
            "String",
            "The name of the machine on which the investigation is executed.",
        ),
        out(
            "MicrosoftATP.Investigation.TriggeringAlertID",
            "String",
            "The ID of the alert that triggered the investigation.",
        ),
    ]
}

/// Starts an automated investigation on a machine.
#[derive(Args)]
pub struct StartInvestigation {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the investigation.
    comment: String,
    /// The request timeout in seconds (at most 3600).
    #[arg(default = "50")]
    timeout: String,
}

#[async_trait]
impl Handler<Atp> for StartInvestigation {
    const NAME: &'static str = "microsoft-atp-start-investigation";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-start-investigation machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=test",
    ];

    fn outputs() -> Vec<OutputSpec> {
        investigation_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let timeout = super::http_timeout("timeout", &self.timeout)?;
        let body = json!({"Comment": self.comment});
        let answer = atp
            .json(
                ctx,
                Request::post(format!("api/machines/{}/startInvestigation", seg(&self.machine_id)))
                    .json(&body)
                    .timeout(timeout),
            )
            .await?;
        let data = investigation(&answer);
        let id = answer.get("id").map(soar_integration_kit::value_text).unwrap_or_default();
        let md = table(
            &format!("Starting investigation {id} on {} machine:", self.machine_id),
            data.clone(),
            INVESTIGATION_HEADERS,
        )?;
        output(md, "MicrosoftATP.Investigation(val.ID === obj.ID)", data, answer)
    }
}
