//! Domains, files, IP addresses and users: statistics, related alerts and machines, and file
//! information.

use serde_json::{Map, Value, json};
use soar_integration_kit::{
    Args, CommandContext, Error, Handler, Outcome, OutputSpec, Request, async_trait, out,
};

use super::{Failures, dedup, not_found_note, output, outputs, py_list, seg, table, table_all};
use crate::client::Atp;
use crate::outputs::{
    ALERT_HEADERS, INTEGRATION_NAME, MACHINE_HEADERS, alert, alert_paths, assign, file, machine,
    machine_paths, values,
};

fn pick(v: &Value, pairs: &[(&'static str, &str)]) -> Value {
    assign(pairs.iter().map(|(k, src)| (*k, v.get(*src).cloned().unwrap_or(Value::Null))).collect())
}

/// Retrieves statistics on a domain.
#[derive(Args)]
pub struct GetDomainStatistics {
    /// The domain address.
    domain: String,
}

#[async_trait]
impl Handler<Atp> for GetDomainStatistics {
    const NAME: &'static str = "microsoft-atp-get-domain-statistics";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-domain-statistics domain=google.com"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.DomainStatistics.Statistics.Host", "String", "The domain host."),
            out(
                "MicrosoftATP.DomainStatistics.Statistics.OrgPrevalence",
                "String",
                "The prevalence of the domain in the organization.",
            ),
            out(
                "MicrosoftATP.DomainStatistics.Statistics.OrgFirstSeen",
                "Date",
                "The first date and time the domain was seen in the organization.",
            ),
            out(
                "MicrosoftATP.DomainStatistics.Statistics.OrgLastSeen",
                "Date",
                "The last date and time the domain was seen in the organization.",
            ),
            out("MicrosoftATP.DomainStatistics.Domain", "String", "The domain name."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = atp.json(ctx, Request::get(format!("api/domains/{}/stats", seg(&self.domain)))).await?;
        let stats = pick(
            &answer,
            &[
                ("Host", "host"),
                ("OrgPrevalence", "orgPrevalence"),
                ("OrgFirstSeen", "orgFirstSeen"),
                ("OrgLastSeen", "orgLastSeen"),
            ],
        );
        let md = table_all(&format!("Statistics on {} domain:", self.domain), stats.clone())?;
        output(
            md,
            "MicrosoftATP.DomainStatistics(val.Domain === obj.Domain)",
            json!({"Domain": self.domain, "Statistics": stats}),
            answer,
        )
    }
}

/// What the "related alerts" commands share.
async fn related_alerts(
    atp: &Atp,
    ctx: &mut CommandContext,
    path: String,
    title: String,
    key: &str,
    id_key: &str,
    id: &str,
) -> Result<Outcome, Error> {
    let answer = atp.json(ctx, Request::get(path)).await?;
    let list: Vec<Value> = values(&answer).iter().map(alert).collect();
    let md = table(&title, Value::Array(list.clone()), ALERT_HEADERS)?;
    let mut o = Map::new();
    o.insert(id_key.to_owned(), json!(id));
    o.insert("Alerts".into(), Value::Array(list));
    output(md, key, Value::Object(o), answer)
}

/// What the "related machines" commands share.
async fn related_machines(
    atp: &Atp,
    ctx: &mut CommandContext,
    path: String,
    title: String,
    key: &str,
    id_key: &str,
    id: &str,
) -> Result<Outcome, Error> {
    let answer = atp.json(ctx, Request::get(path)).await?;
    let list: Vec<Value> = values(&answer).iter().map(machine).collect();
    let md = table(&title, Value::Array(list.clone()), MACHINE_HEADERS)?;
    let mut o = Map::new();
    o.insert(id_key.to_owned(), json!(id));
    o.insert("Machines".into(), Value::Array(list));
    output(md, key, Value::Object(o), answer)
}

/// Retrieves the alerts related to a domain.
#[derive(Args)]
pub struct GetDomainAlerts {
    /// The domain address.
    domain: String,
}

#[async_trait]
impl Handler<Atp> for GetDomainAlerts {
    const NAME: &'static str = "microsoft-atp-get-domain-alerts";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-domain-alerts domain=google.com"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = alert_paths!("MicrosoftATP.DomainAlert.Alerts");
        v.push(out("MicrosoftATP.DomainAlert.Domain", "String", "The domain address."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let d = &self.domain;
        related_alerts(
            atp,
            ctx,
            format!("api/domains/{}/alerts", seg(d)),
            format!("Domain {d} related alerts Info:"),
            "MicrosoftATP.DomainAlert(val.Domain === obj.Domain)",
            "Domain",
            d,
        )
        .await
    }
}

/// Retrieves the machines that have communicated with a domain.
#[derive(Args)]
pub struct GetDomainMachines {
    /// The domain address.
    domain: String,
}

#[async_trait]
impl Handler<Atp> for GetDomainMachines {
    const NAME: &'static str = "microsoft-atp-get-domain-machines";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-domain-machines domain=google.com"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = machine_paths!("MicrosoftATP.DomainMachine.Machines");
        v.push(out("MicrosoftATP.DomainMachine.Domain", "String", "The domain address."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let d = &self.domain;
        related_machines(
            atp,
            ctx,
            format!("api/domains/{}/machines", seg(d)),
            format!("Machines that have communicated with {d} domain:"),
            "MicrosoftATP.DomainMachine(val.Domain === obj.Domain)",
            "Domain",
            d,
        )
        .await
    }
}

/// Retrieves statistics on a file.
#[derive(Args)]
pub struct GetFileStatistics {
    /// The file SHA1 hash.
    file_hash: String,
}

#[async_trait]
impl Handler<Atp> for GetFileStatistics {
    const NAME: &'static str = "microsoft-atp-get-file-statistics";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-file-statistics file_hash=9fe3ba25e5660c23dfe478d577cfacde5e27a6d8"];

    fn outputs() -> Vec<OutputSpec> {
        let s = |f: &'static str, t: &'static str, d: &'static str| out(f, t, d);
        vec![
            s("MicrosoftATP.FileStatistics.Sha1", "String", "The file SHA1 hash."),
            s(
                "MicrosoftATP.FileStatistics.Statistics.OrgPrevalence",
                "String",
                "The prevalence of the file in the organization.",
            ),
            s(
                "MicrosoftATP.FileStatistics.Statistics.OrgFirstSeen",
                "Date",
                "The first date and time the file was seen in the organization.",
            ),
            s(
                "MicrosoftATP.FileStatistics.Statistics.OrgLastSeen",
                "Date",
                "The last date and time the file was seen in the organization.",
            ),
            s(
                "MicrosoftATP.FileStatistics.Statistics.GlobalPrevalence",
                "String",
                "The global prevalence of the file.",
            ),
            s(
                "MicrosoftATP.FileStatistics.Statistics.GlobalFirstObserved",
                "Date",
                "The first global observation date and time of the file.",
            ),
            s(
                "MicrosoftATP.FileStatistics.Statistics.GlobalLastObserved",
                "Date",
                "The last global observation date and time of the file.",
            ),
            s("MicrosoftATP.FileStatistics.Statistics.TopFileNames", "String", "The top names of the file."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = atp.json(ctx, Request::get(format!("api/files/{}/stats", seg(&self.file_hash)))).await?;
        let stats = pick(
            &answer,
            &[
                ("OrgPrevalence", "orgPrevalence"),
                ("OrgFirstSeen", "orgFirstSeen"),
                ("OrgLastSeen", "orgLastSeen"),
                ("GlobalPrevalence", "globalPrevalence"),
                ("GlobalFirstObserved", "globalFirstObserved"),
                ("GlobalLastObserved", "globalLastObserved"),
                ("TopFileNames", "topFileNames"),
            ],
        );
        let md = table_all(&format!("Statistics on {} file:", self.file_hash), stats.clone())?;
        output(
            md,
            "MicrosoftATP.FileStatistics(val.Sha1 === obj.Sha1)",
            json!({"Sha1": self.file_hash, "Statistics": stats}),
            answer,
        )
    }
}

/// Retrieves the alerts related to a file.
#[derive(Args)]
pub struct GetFileAlerts {
    /// The file SHA1 hash.
    file_hash: String,
}

#[async_trait]
impl Handler<Atp> for GetFileAlerts {
    const NAME: &'static str = "microsoft-atp-get-file-alerts";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-file-alerts file_hash=9fe3ba25e5660c23dfe478d577cfacde5e27a6d8"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = alert_paths!("MicrosoftATP.FileAlert.Alerts");
        v.push(out("MicrosoftATP.FileAlert.Sha1", "String", "The file SHA1 hash."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let h = &self.file_hash;
        related_alerts(
            atp,
            ctx,
            format!("api/files/{}/alerts", seg(h)),
            format!("File {h} related alerts Info:"),
            "MicrosoftATP.FileAlert(val.Sha1 === obj.Sha1)",
            "Sha1",
            h,
        )
        .await
    }
}

/// Retrieves statistics on an IP address.
#[derive(Args)]
pub struct GetIpStatistics {
    /// The IP address.
    ip: String,
}

#[async_trait]
impl Handler<Atp> for GetIpStatistics {
    const NAME: &'static str = "microsoft-atp-get-ip-statistics";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-ip-statistics ip=8.8.8.8"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out(
                "MicrosoftATP.IPStatistics.Statistics.OrgPrevalence",
                "String",
                "The prevalence of the IP in the organization.",
            ),
            out(
                "MicrosoftATP.IPStatistics.Statistics.OrgFirstSeen",
                "Date",
                "The first date and time the IP was seen in the organization.",
            ),
            out(
                "MicrosoftATP.IPStatistics.Statistics.OrgLastSeen",
                "Date",
                "The last date and time the IP was seen in the organization.",
            ),
            out("MicrosoftATP.IPStatistics.IPAddress", "String", "The IP address."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = atp.json(ctx, Request::get(format!("api/ips/{}/stats", seg(&self.ip)))).await?;
        let stats = pick(
            &answer,
            &[
                ("OrgPrevalence", "orgPrevalence"),
                ("OrgFirstSeen", "orgFirstSeen"),
                ("OrgLastSeen", "orgLastSeen"),
            ],
        );
        let md = table_all(&format!("Statistics on {} IP:", self.ip), stats.clone())?;
        output(
            md,
            "MicrosoftATP.IPStatistics(val.IPAddress === obj.IPAddress)",
            json!({"IPAddress": self.ip, "Statistics": stats}),
            answer,
        )
    }
}

/// Retrieves the alerts related to an IP address.
#[derive(Args)]
pub struct GetIpAlerts {
    /// The IP address.
    ip: String,
}

#[async_trait]
impl Handler<Atp> for GetIpAlerts {
    const NAME: &'static str = "microsoft-atp-get-ip-alerts";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-ip-alerts ip=8.8.8.8"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = alert_paths!("MicrosoftATP.IPAlert.Alerts");
        v.push(out("MicrosoftATP.IPAlert.IPAddress", "String", "The IP address."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let ip = &self.ip;
        related_alerts(
            atp,
            ctx,
            format!("api/ips/{}/alerts", seg(ip)),
            format!("IP {ip} related alerts Info:"),
            "MicrosoftATP.IPAlert(val.IPAddress === obj.IPAddress)",
            "IPAddress",
            ip,
        )
        .await
    }
}

/// Retrieves the alerts related to a user (by its short name, not the UPN).
#[derive(Args)]
pub struct GetUserAlerts {
    /// The user name.
    username: String,
}

#[async_trait]
impl Handler<Atp> for GetUserAlerts {
    const NAME: &'static str = "microsoft-atp-get-user-alerts";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-user-alerts username=demisto"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = alert_paths!("MicrosoftATP.UserAlert.Alerts");
        v.push(out("MicrosoftATP.UserAlert.Username", "String", "The name of the user."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let u = &self.username;
        related_alerts(
            atp,
            ctx,
            format!("api/users/{}/alerts", seg(u)),
            format!("User {u} related alerts Info:"),
            "MicrosoftATP.UserAlert(val.Username === obj.Username)",
            "Username",
            u,
        )
        .await
    }
}

/// Retrieves the machines related to a user.
#[derive(Args)]
pub struct GetUserMachines {
    /// The user name.
    username: String,
}

#[async_trait]
impl Handler<Atp> for GetUserMachines {
    const NAME: &'static str = "microsoft-atp-get-user-machines";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-get-user-machines username=demisto"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = machine_paths!("MicrosoftATP.UserMachine.Machines");
        v.push(out("MicrosoftATP.UserMachine.Username", "String", "The name of the user."));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let u = &self.username;
        related_machines(
            atp,
            ctx,
            format!("api/users/{}/machines", seg(u)),
            format!("Machines that are related to user {u}:"),
            "MicrosoftATP.UserMachine(val.Username === obj.Username)",
            "Username",
            u,
        )
        .await
    }
}

/// Retrieves file information by SHA1 or SHA256 hashes.
#[derive(Args)]
pub struct GetFileInfo {
    /// A comma-separated list of SHA1 or SHA256 hashes.
    hash: Vec<String>,
}

#[async_trait]
impl Handler<Atp> for GetFileInfo {
    const NAME: &'static str = "microsoft-atp-get-file-info";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-get-file-info hash=9fe3ba25e5660c23dfe478d577cfacde5e27a6d8"];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.File.Sha1", "String", "The SHA1 hash of the file."),
            out("MicrosoftATP.File.Md5", "String", "The MD5 hash of the file."),
            out("MicrosoftATP.File.Sha256", "String", "The SHA256 hash of the file."),
            out(
                "MicrosoftATP.File.GlobalPrevalence",
                "Number",
                "The file prevalence across the organization.",
            ),
            out("MicrosoftATP.File.GlobalFirstObserved", "Date", "The first time the file was observed."),
            out("MicrosoftATP.File.GlobalLastObserved", "Date", "The last time the file was observed."),
            out("MicrosoftATP.File.Size", "Number", "The size of the file."),
            out("MicrosoftATP.File.FileType", "String", "The type of the file."),
            out(
                "MicrosoftATP.File.IsPeFile",
                "Boolean",
                "True if the file is portable executable, False otherwise.",
            ),
            out("MicrosoftATP.File.FilePublisher", "String", "The file's publisher."),
            out("MicrosoftATP.File.FileProductName", "String", "The file's product name."),
            out("MicrosoftATP.File.Signer", "String", "The file signer."),
            out("MicrosoftATP.File.Issuer", "String", "The file issuer."),
            out("MicrosoftATP.File.SignerHash", "String", "The hash of the signing certificate."),
            out(
                "MicrosoftATP.File.IsValidCertificate",
                "Boolean",
                "Whether the signing certificate was successfully verified.",
            ),
            out("MicrosoftATP.File.DeterminationType", "String", "The determination type of the file."),
            out("MicrosoftATP.File.DeterminationValue", "String", "The determination value of the file."),
            out("File.SHA1", "String", "The SHA1 hash of the file."),
            out("File.SHA256", "String", "The SHA256 hash of the file."),
            out("File.Type", "String", "The type of the file."),
            out("File.Size", "Number", "The size of the file."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let hashes = dedup(self.hash);
        let mut shown = Vec::new();
        let mut standard = Vec::new();
        let mut raw = Vec::new();
        let mut seen = Vec::new();
        let mut failed = Failures::default();
        let mut not_found = Vec::new();
        for h in &hashes {
            match atp.json(ctx, Request::get(format!("api/files/{}", seg(h)))).await {
                Ok(answer) => {
                    let data = file(&answer);
                    let sha1 = data.get("Sha1").map(soar_integration_kit::value_text).unwrap_or_default();
                    if !seen.contains(&sha1) {
                        seen.push(sha1);
                        shown.push(data);
                    }
                    // The YAML's File names (the reference capitalises the raw keys instead).
                    standard.push(pick(
                        &answer,
                        &[("SHA1", "sha1"), ("SHA256", "sha256"), ("Type", "fileType"), ("Size", "size")],
                    ));
                    raw.push(answer);
                }
                Err(e) if e.is_not_found() => not_found.push(h.clone()),
                Err(e) => failed.0.push((h.clone(), e)),
            }
        }
        let headers = ["Sha1", "Sha256", "Size", "FileType", "Signer", "IsValidCertificate"];
        let md = table(
            &format!("{INTEGRATION_NAME} file info by hashes: {}", py_list(&hashes)),
            Value::Array(shown.clone()),
            &headers,
        )? + &failed.note(hashes.len())?
            + &not_found_note(&not_found);
        if shown.is_empty() {
            return soar_integration_kit::Results::text("No entries.").outcome();
        }
        let mut context = Map::new();
        context.insert("MicrosoftATP.File(val.Sha1 === obj.Sha1)".into(), Value::Array(shown));
        context.insert(
            "File(val.SHA1 && val.SHA1 == obj.SHA1 || val.SHA256 && val.SHA256 == obj.SHA256 || val.Type && val.Type == obj.Type || val.Size && val.Size == obj.Size )".into(),
            Value::Array(standard),
        );
        Ok(outputs(md, context, Value::Array(raw))?.into())
    }
}
