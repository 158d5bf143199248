//! Threat and vulnerability management: software, versions, missing KBs, vulnerabilities and
//! the machines they affect.

use serde_json::{Map, Value, json};
use soar_integration_kit::format::CommandResults;
use soar_integration_kit::{
    Args, CommandContext, Entry, Error, Handler, Outcome, OutputSpec, Request, Results, async_trait, out,
    parse_date_text,
};

use super::{Failures, dedup, py_list, results, seg, table};
use crate::client::Atp;
use crate::outputs::{INTEGRATION_NAME, machine, values};

/// `a eq 'x' or a eq 'y'` (the reference's `create_filters_conjunction`).
fn any_of(items: &[String], name: &str) -> String {
    items
        .iter()
        .filter(|s| !s.is_empty())
        .map(|v| format!("{name} eq '{v}'"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The reference's `create_filters_disjunctions`: one clause alone as it is, several each in
/// parentheses joined with ` and `.
fn all_of(clauses: Vec<String>) -> String {
    let clauses: Vec<String> = clauses.into_iter().filter(|c| !c.is_empty()).collect();
    match clauses.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        many => many.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" and "),
    }
}

/// Underscores escaped for markdown, as the reference shows them.
fn escape_underscores(rows: &[Value]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| match r {
                Value::Object(o) => Value::Object(
                    o.iter()
                        .map(|(k, v)| {
                            let v = match v {
                                Value::String(s) => Value::String(s.replace('_', "\\_")),
                                other => other.clone(),
                            };
                            (k.clone(), v)
                        })
                        .collect::<Map<_, _>>(),
                ),
                other => other.clone(),
            })
            .collect(),
    )
}

/// A `Common.CVE` context (`CVE(val.ID && val.ID == obj.ID)`) and its DBot score.
fn cve_context(cve: &Value, id: &str, full: bool) -> Map<String, Value> {
    let g = |k: &str| if full { cve.get(k).cloned().unwrap_or(Value::Null) } else { json!("") };
    let mut m = Map::new();
    m.insert(
        "CVE(val.ID && val.ID == obj.ID)".into(),
        json!({"ID": id, "CVSS": {"Score": g("cvssV3")}, "Published": g("publishedOn"), "Modified": g("updatedOn"), "Description": g("description")}),
    );
    m.insert(
        "DBotScore(val.Indicator && val.Indicator == obj.Indicator && val.Vendor == obj.Vendor && val.Type && val.Type == obj.Type)".into(),
        json!({"Indicator": id, "Type": "cve", "Vendor": null, "Score": 0}),
    );
    m
}

fn cve_entry(
    title: String,
    prefix: &'static str,
    cve: Value,
    headers: &[&str],
    id: &str,
    full: bool,
) -> Result<Entry, Error> {
    let md = table(&title, escape_underscores(std::slice::from_ref(&cve)), headers)?;
    let mut r = CommandResults::new(prefix);
    r.outputs_key_field = vec!["id".into()];
    r.outputs = Some(cve.clone());
    r.raw_response = Some(cve.clone());
    r.readable_output = Some(Value::String(md));
    r.indicator_contexts = vec![cve_context(&cve, id, full)];
    r.into_entry()
}

fn cve_outputs(prefix: &'static str) -> Vec<OutputSpec> {
    let f = |s: &'static str, t: &'static str, d: &'static str| out(s, t, d);
    match prefix {
        "MicrosoftATP.SoftwareCVE" => vec![
            f("MicrosoftATP.SoftwareCVE.id", "String", "The vulnerability ID."),
            f("MicrosoftATP.SoftwareCVE.name", "String", "The vulnerability title."),
            f("MicrosoftATP.SoftwareCVE.description", "String", "The vulnerability description."),
            f("MicrosoftATP.SoftwareCVE.severity", "String", "The vulnerability severity."),
            f("MicrosoftATP.SoftwareCVE.cvssV3", "Number", "The CVSS v3 score."),
            f("MicrosoftATP.SoftwareCVE.exposedMachines", "Number", "The number of exposed devices."),
            f(
                "MicrosoftATP.SoftwareCVE.publishedOn",
                "Date",
                "The date when the vulnerability was published.",
            ),
            f("MicrosoftATP.SoftwareCVE.updatedOn", "Date", "The date when the vulnerability was updated."),
            f("MicrosoftATP.SoftwareCVE.publicExploit", "Boolean", "Whether a public exploit exists."),
            f(
                "MicrosoftATP.SoftwareCVE.exploitVerified",
                "Boolean",
                "Whether the exploit is verified to work.",
            ),
            f(
                "MicrosoftATP.SoftwareCVE.exploitInKit",
                "Boolean",
                "Whether the exploit is part of an exploit kit.",
            ),
            f("MicrosoftATP.SoftwareCVE.exploitTypes", "String", "The exploit types."),
            f("MicrosoftATP.SoftwareCVE.exploitUris", "String", "The exploit source URLs."),
        ],
        _ => vec![
            f("MicrosoftATP.Vulnerability.id", "String", "The vulnerability ID."),
            f("MicrosoftATP.Vulnerability.name", "String", "The vulnerability title."),
            f("MicrosoftATP.Vulnerability.description", "String", "The vulnerability description."),
            f("MicrosoftATP.Vulnerability.severity", "String", "The vulnerability severity."),
            f("MicrosoftATP.Vulnerability.cvssV3", "Number", "The CVSS v3 score."),
            f("MicrosoftATP.Vulnerability.exposedMachines", "Number", "The number of exposed devices."),
            f(
                "MicrosoftATP.Vulnerability.publishedOn",
                "Date",
                "The date when the vulnerability was published.",
            ),
            f("MicrosoftATP.Vulnerability.updatedOn", "Date", "The date when the vulnerability was updated."),
            f("MicrosoftATP.Vulnerability.publicExploit", "Boolean", "Whether a public exploit exists."),
            f(
                "MicrosoftATP.Vulnerability.exploitVerified",
                "Boolean",
                "Whether the exploit is verified to work.",
            ),
            f(
                "MicrosoftATP.Vulnerability.exploitInKit",
                "Boolean",
                "Whether the exploit is part of an exploit kit.",
            ),
            f("MicrosoftATP.Vulnerability.exploitTypes", "String", "The exploit types."),
            f("MicrosoftATP.Vulnerability.exploitUris", "String", "The exploit source URLs."),
        ],
    }
}

/// Lists the organization's software inventory.
#[derive(Args)]
pub struct ListSoftware {
    /// A comma-separated list of software IDs.
    id: Vec<String>,
    /// A comma-separated list of software names.
    name: Vec<String>,
    /// A comma-separated list of software vendors.
    vendor: Vec<String>,
    /// The most items to return.
    #[arg(default = "50")]
    limit: u64,
    /// The number of items to skip.
    #[arg(default = "0")]
    offset: u64,
}

#[async_trait]
impl Handler<Atp> for ListSoftware {
    const NAME: &'static str = "microsoft-atp-list-software";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-list-software vendor=microsoft limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        let f = |s: &'static str, t: &'static str, d: &'static str| out(s, t, d);
        vec![
            f("MicrosoftATP.Software.id", "String", "The software ID."),
            f("MicrosoftATP.Software.name", "String", "The software name."),
            f("MicrosoftATP.Software.vendor", "String", "The software vendor name."),
            f("MicrosoftATP.Software.weaknesses", "Number", "The number of discovered vulnerabilities."),
            f(
                "MicrosoftATP.Software.publicExploit",
                "Boolean",
                "Whether a public exploit exists for some of the vulnerabilities.",
            ),
            f(
                "MicrosoftATP.Software.activeAlert",
                "Boolean",
                "Whether an active alert is associated with this software.",
            ),
            f("MicrosoftATP.Software.exposedMachines", "Number", "The number of exposed devices."),
            f(
                "MicrosoftATP.Software.installedMachines",
                "Number",
                "The number of devices with the software installed.",
            ),
            f("MicrosoftATP.Software.impactScore", "Number", "The impact score of this software."),
            f("MicrosoftATP.Software.isNormalized", "Boolean", "Whether the software is normalized."),
            f("MicrosoftATP.Software.category", "String", "The software category."),
            f(
                "MicrosoftATP.Software.distributions",
                "String",
                "The list of known distributions for this software.",
            ),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let filter =
            all_of(vec![any_of(&self.id, "id"), any_of(&self.name, "name"), any_of(&self.vendor, "vendor")]);
        let mut req = Request::get("api/Software")
            .query("$top", self.limit.to_string())
            .query("$skip", self.offset.to_string());
        if !filter.is_empty() {
            req = req.query("$filter", filter);
        }
        let answer = atp.json(ctx, req).await?;
        let list = values(&answer);
        let headers = [
            "id",
            "name",
            "vendor",
            "weaknesses",
            "activeAlert",
            "exposedMachines",
            "installedMachines",
            "publicExploit",
        ];
        let md = table(&format!("{INTEGRATION_NAME} list software:"), escape_underscores(&list), &headers)?;
        Ok(results(md, "MicrosoftATP.Software", Some("id"), Value::Array(list), answer)?.into())
    }
}

/// The one argument of the per-software commands.
#[derive(Args)]
pub struct SoftwareId {
    /// The software ID (e.g. microsoft-_-edge).
    id: String,
}

async fn software_sub(atp: &Atp, ctx: &mut CommandContext, id: &str, sub: &str) -> Result<Value, Error> {
    atp.json(ctx, Request::get(format!("api/Software/{}/{sub}", seg(id)))).await
}

/// Lists the machines that have a software installed.
#[derive(Args)]
pub struct ListMachinesBySoftware {
    #[arg(flatten)]
    software: SoftwareId,
}

#[async_trait]
impl Handler<Atp> for ListMachinesBySoftware {
    const NAME: &'static str = "microsoft-atp-list-machines-by-software";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-list-machines-by-software id=microsoft-_-edge"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.SoftwareMachine.id", "String", "The machine ID."),
            out("MicrosoftATP.SoftwareMachine.computerDnsName", "String", "The machine DNS name."),
            out("MicrosoftATP.SoftwareMachine.osPlatform", "String", "The operating system platform."),
            out("MicrosoftATP.SoftwareMachine.rbacGroupName", "String", "The machine RBAC group name."),
            out("MicrosoftATP.SoftwareMachine.rbacGroupId", "Number", "The machine RBAC group ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = &self.software.id;
        let answer = software_sub(atp, ctx, id, "machineReferences").await?;
        let list = values(&answer);
        let headers = ["id", "computerDnsName", "osPlatform", "rbacGroupName", "rbacGroupId"];
        let md = table(
            &format!("{INTEGRATION_NAME} list machines by software: {id}"),
            Value::Array(list.clone()),
            &headers,
        )?;
        Ok(results(md, "MicrosoftATP.SoftwareMachine", Some("id"), Value::Array(list), answer)?.into())
    }
}

/// Lists the version distribution of a software.
#[derive(Args)]
pub struct ListSoftwareVersionDistribution {
    #[arg(flatten)]
    software: SoftwareId,
}

#[async_trait]
impl Handler<Atp> for ListSoftwareVersionDistribution {
    const NAME: &'static str = "microsoft-atp-list-software-version-distribution";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-list-software-version-distribution id=microsoft-_-edge"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.SoftwareVersion.version", "String", "The version name."),
            out("MicrosoftATP.SoftwareVersion.installations", "Number", "The number of installations."),
            out("MicrosoftATP.SoftwareVersion.vulnerabilities", "Number", "The number of vulnerabilities."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = software_sub(atp, ctx, &self.software.id, "distributions").await?;
        let list = values(&answer);
        let md = table(
            &format!("{INTEGRATION_NAME} software version distribution:"),
            Value::Array(list.clone()),
            &["version", "installations", "vulnerabilities"],
        )?;
        let mut r = CommandResults::new("MicrosoftATP.SoftwareVersion");
        r.outputs_key_field = vec!["version".into(), "installations".into(), "vulnerabilities".into()];
        r.outputs = Some(Value::Array(list));
        r.raw_response = Some(answer);
        r.readable_output = Some(Value::String(md));
        Ok(r.into_entry()?.into())
    }
}

/// Lists the security updates (KBs) a software is missing.
#[derive(Args)]
pub struct ListMissingKbBySoftware {
    #[arg(flatten)]
    software: SoftwareId,
}

#[async_trait]
impl Handler<Atp> for ListMissingKbBySoftware {
    const NAME: &'static str = "microsoft-atp-list-missing-kb-by-software";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-list-missing-kb-by-software id=microsoft-_-windows_10"];

    fn outputs() -> Vec<OutputSpec> {
        // The reference YAML's prefix typo (`MicMicrosoftATP`) is not kept: the command writes
        // `MicrosoftATP.SoftwareKB`.
        vec![
            out("MicrosoftATP.SoftwareKB.id", "String", "The update ID."),
            out("MicrosoftATP.SoftwareKB.name", "String", "The update name."),
            out("MicrosoftATP.SoftwareKB.osBuild", "Number", "The OS build number."),
            out("MicrosoftATP.SoftwareKB.productsNames", "String", "The product names."),
            out("MicrosoftATP.SoftwareKB.url", "String", "The update URL."),
            out(
                "MicrosoftATP.SoftwareKB.machineMissedOn",
                "Number",
                "The number of machines missing the update.",
            ),
            out("MicrosoftATP.SoftwareKB.cveAddressed", "Number", "The number of CVEs the update addresses."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = &self.software.id;
        let answer = software_sub(atp, ctx, id, "getmissingkbs").await?;
        let list = values(&answer);
        let headers = ["id", "name", "osBuild", "productsNames", "url", "machineMissedOn", "cveAddressed"];
        let md = table(
            &format!("{INTEGRATION_NAME} missing kb by software: {id}"),
            escape_underscores(&list),
            &headers,
        )?;
        Ok(results(md, "MicrosoftATP.SoftwareKB", Some("id"), Value::Array(list), answer)?.into())
    }
}

const CVE_HEADERS: &[&str] = &[
    "id",
    "name",
    "description",
    "severity",
    "cvssV3",
    "publishedOn",
    "updatedOn",
    "exposedMachines",
    "exploitVerified",
    "publicExploit",
];

/// Lists the vulnerabilities of a software.
#[derive(Args)]
pub struct ListVulnerabilitiesBySoftware {
    #[arg(flatten)]
    software: SoftwareId,
}

#[async_trait]
impl Handler<Atp> for ListVulnerabilitiesBySoftware {
    const NAME: &'static str = "microsoft-atp-list-vulnerabilities-by-software";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-list-vulnerabilities-by-software id=microsoft-_-edge"];

    fn outputs() -> Vec<OutputSpec> {
        cve_outputs("MicrosoftATP.SoftwareCVE")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let sid = &self.software.id;
        let answer = software_sub(atp, ctx, sid, "vulnerabilities").await?;
        let list = values(&answer);
        if list.is_empty() {
            return Results::readable(format!("No vulnerabilities were found for software: {sid}."))
                .outcome();
        }
        let mut entries = Vec::new();
        for cve in list {
            let id = cve.get("id").map(soar_integration_kit::value_text).unwrap_or_default();
            let title = format!("{INTEGRATION_NAME} vulnerability {id} by software: {sid}");
            entries.push(cve_entry(title, "MicrosoftATP.SoftwareCVE", cve, CVE_HEADERS, &id, true)?);
        }
        Ok(entries.into())
    }
}

/// Lists the vulnerabilities affecting the organization's machines.
#[derive(Args)]
pub struct ListVulnerabilitiesByMachine {
    /// A comma-separated list of machine IDs.
    machine_id: Vec<String>,
    /// A comma-separated list of software IDs.
    software_id: Vec<String>,
    /// A comma-separated list of CVE IDs.
    cve_id: Vec<String>,
    /// A comma-separated list of product names.
    product_name: Vec<String>,
    /// A comma-separated list of product versions.
    product_version: Vec<String>,
    /// A comma-separated list of severities.
    severity: Vec<String>,
    /// A comma-separated list of product vendors.
    product_vendor: Vec<String>,
    /// The most items to return.
    #[arg(default = "25")]
    limit: u64,
    /// The number of items to skip.
    #[arg(default = "0")]
    offset: u64,
}

#[async_trait]
impl Handler<Atp> for ListVulnerabilitiesByMachine {
    const NAME: &'static str = "microsoft-atp-list-vulnerabilities-by-machine";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-list-vulnerabilities-by-machine machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.MachineCVE.id", "String", "The vulnerability entry ID."),
            out("MicrosoftATP.MachineCVE.cveId", "String", "The CVE ID."),
            out("MicrosoftATP.MachineCVE.machineId", "String", "The machine ID."),
            out("MicrosoftATP.MachineCVE.fixingKbId", "Unknown", "The fixing KB ID."),
            out("MicrosoftATP.MachineCVE.productName", "String", "The product name."),
            out("MicrosoftATP.MachineCVE.productVendor", "String", "The product vendor."),
            out("MicrosoftATP.MachineCVE.productVersion", "String", "The product version."),
            out("MicrosoftATP.MachineCVE.severity", "String", "The vulnerability severity."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let filter = all_of(vec![
            any_of(&self.machine_id, "machineId"),
            any_of(&self.software_id, "id"),
            any_of(&self.cve_id, "cveId"),
            any_of(&self.product_name, "productName"),
            any_of(&self.product_version, "productVersion"),
            any_of(&self.severity, "severity"),
            any_of(&self.product_vendor, "productVendor"),
        ]);
        let mut req = Request::get("api/vulnerabilities/machinesVulnerabilities")
            .query("$top", self.limit.to_string())
            .query("$skip", self.offset.to_string());
        if !filter.is_empty() {
            req = req.query("$filter", filter);
        }
        let answer = atp.json(ctx, req).await?;
        let list = values(&answer);
        if list.is_empty() {
            return Results::readable(format!(
                "No vulnerabilities were found for machine: {}.",
                py_list(&self.machine_id)
            ))
            .outcome();
        }
        let headers =
            ["id", "cveId", "machineId", "productName", "productVendor", "productVersion", "severity"];
        let mut entries = Vec::new();
        for cve in list {
            let id = cve.get("cveId").map(soar_integration_kit::value_text).unwrap_or_default();
            entries.push(cve_entry(
                format!("{INTEGRATION_NAME} vulnerability {id}:"),
                "MicrosoftATP.MachineCVE",
                cve,
                &headers,
                &id,
                false,
            )?);
        }
        Ok(entries.into())
    }
}

/// Lists vulnerabilities, filtered by ID, name, description, dates, CVSS and severity.
#[derive(Args)]
pub struct ListVulnerabilities {
    /// A comma-separated list of vulnerability IDs.
    id: Vec<String>,
    /// The exact vulnerability name.
    name_equal: Option<String>,
    /// Text the vulnerability name contains.
    name_contains: Option<String>,
    /// Text the vulnerability description contains.
    description_contains: Option<String>,
    /// Only vulnerabilities published after this date (e.g. 3 days, 2022-05-01).
    published_on: Option<String>,
    /// Only vulnerabilities with a CVSS v3 score at least this.
    cvss: Option<String>,
    /// A comma-separated list of severities.
    severity: Vec<String>,
    /// Only vulnerabilities updated after this date.
    updated_on: Option<String>,
    /// The most items to return.
    #[arg(default = "25")]
    limit: u64,
    /// The number of items to skip.
    #[arg(default = "0")]
    offset: u64,
}

fn iso_date(text: Option<String>, arg: &str) -> Result<String, Error> {
    let Some(t) = text.filter(|s| !s.is_empty()) else { return Ok(String::new()) };
    let d = parse_date_text(&t, chrono::Utc::now()).ok_or_else(|| Error::InvalidArg {
        name: arg.to_owned(),
        reason: format!("'{t}' is not a date; give e.g. 3 days or 2022-05-01."),
    })?;
    Ok(d.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[async_trait]
impl Handler<Atp> for ListVulnerabilities {
    const NAME: &'static str = "microsoft-atp-list-vulnerabilities";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-list-vulnerabilities severity=High limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        cve_outputs("MicrosoftATP.Vulnerability")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let published = iso_date(self.published_on, "published_on")?;
        let updated = iso_date(self.updated_on, "updated_on")?;
        let mut clauses = vec![all_of(vec![any_of(&self.id, "id"), any_of(&self.severity, "severity")])];
        if let Some(n) = self.name_contains.filter(|s| !s.is_empty()) {
            clauses.push(format!("contains(name, '{n}')"));
        }
        if let Some(n) = self.name_equal.filter(|s| !s.is_empty()) {
            clauses.push(format!("name eq '{n}'"));
        }
        if let Some(d) = self.description_contains.filter(|s| !s.is_empty()) {
            clauses.push(format!("contains(description, '{d}')"));
        }
        if let Some(c) = self.cvss.filter(|s| !s.is_empty()) {
            if c.parse::<f64>().is_err() {
                return Err(Error::InvalidArg {
                    name: "cvss".into(),
                    reason: format!("'{c}' is not a number."),
                });
            }
            clauses.push(format!("cvssV3 ge {c}"));
        }
        if !updated.is_empty() {
            clauses.push(format!("updatedOn ge {updated}"));
        }
        if !published.is_empty() {
            clauses.push(format!("publishedOn ge {published}"));
        }
        let filter = all_of(clauses);
        let mut req = Request::get("api/vulnerabilities")
            .query("$top", self.limit.to_string())
            .query("$skip", self.offset.to_string());
        if !filter.is_empty() {
            req = req.query("$filter", filter);
        }
        let answer = atp.json(ctx, req).await?;
        let list = values(&answer);
        if list.is_empty() {
            return Results::readable("No vulnerabilities were found.").outcome();
        }
        let headers = [
            "id",
            "name",
            "description",
            "severity",
            "publishedOn",
            "updatedOn",
            "exposedMachines",
            "exploitVerified",
            "publicExploit",
            "cvssV3",
        ];
        let mut entries = Vec::new();
        for cve in list {
            let id = cve.get("id").map(soar_integration_kit::value_text).unwrap_or_default();
            entries.push(cve_entry(
                format!("{INTEGRATION_NAME} vulnerabilities:"),
                "MicrosoftATP.Vulnerability",
                cve,
                &headers,
                &id,
                true,
            )?);
        }
        Ok(entries.into())
    }
}

/// Lists the machines affected by vulnerabilities (CVE IDs).
#[derive(Args)]
pub struct ListMachinesByVulnerability {
    /// A comma-separated list of CVE IDs.
    cve_id: Vec<String>,
}

#[async_trait]
impl Handler<Atp> for ListMachinesByVulnerability {
    const NAME: &'static str = "microsoft-atp-list-machines-by-vulnerability";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-list-machines-by-vulnerability cve_id=CVE-2021-32810"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.CveMachine.ID", "String", "The machine ID."),
            out("MicrosoftATP.CveMachine.ComputerDNSName", "String", "The machine DNS name."),
            out("MicrosoftATP.CveMachine.OSPlatform", "String", "The operating system platform."),
            out("MicrosoftATP.CveMachine.RBACGroupName", "String", "The machine RBAC group name."),
            out("MicrosoftATP.CveMachine.RBACGroupID", "Number", "The machine RBAC group ID."),
            out("MicrosoftATP.CveMachine.CVE", "String", "The given CVE IDs related to this machine."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let cves = dedup(self.cve_id);
        let mut rows: Vec<(Value, String)> = Vec::new();
        let mut raw = Vec::new();
        let mut failed = Failures::default();
        for c in &cves {
            match atp
                .json(ctx, Request::get(format!("api/vulnerabilities/{}/machineReferences", seg(c))))
                .await
            {
                Ok(answer) => {
                    rows.extend(values(&answer).iter().map(|m| (machine(m), c.clone())));
                    raw.push(answer);
                }
                Err(e) => failed.0.push((c.clone(), e)),
            }
        }
        // One row per machine with every CVE it has (the reference's
        // `create_related_cve_list_for_machine`).
        let mut machines: Vec<Value> = Vec::new();
        for (m, cve) in rows {
            let id = m.get("ID").cloned();
            match machines.iter_mut().find(|x| x.get("ID").cloned() == id) {
                Some(x) => {
                    if let Some(Value::Array(list)) = x.get_mut("CVE") {
                        list.push(json!(cve));
                    }
                }
                None => {
                    let mut m = m;
                    if let Some(o) = m.as_object_mut() {
                        o.insert("CVE".into(), json!([cve]));
                    }
                    machines.push(m);
                }
            }
        }
        let headers = ["ID", "ComputerDNSName", "OSPlatform", "RBACGroupID", "RBACGroupName", "CVE"];
        let md = table(
            &format!("{INTEGRATION_NAME} machines by vulnerabilities: {}", py_list(&cves)),
            Value::Array(machines.clone()),
            &headers,
        )? + &failed.note(cves.len())?;
        Ok(results(md, "MicrosoftATP.CveMachine", Some("ID"), Value::Array(machines), Value::Array(raw))?
            .into())
    }
}
