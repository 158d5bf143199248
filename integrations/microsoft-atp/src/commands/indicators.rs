//! Indicators: the current ones of the Defender API (`api/indicators`, the "SC" commands and
//! the batch update) and the deprecated Microsoft Graph TI indicators
//! (`beta/security/tiIndicators`, through a Graph token).

use chrono::Utc;
use serde_json::{Map, Value, json};
use soar_integration_kit::format::CommandResults;
use soar_integration_kit::{
    Args, CommandContext, Entry, Error, Handler, Object, Outcome, OutputSpec, Request, async_trait, out,
    parse_date_text,
};

use super::{outputs, seg, table};
use crate::client::Atp;
use crate::outputs::INTEGRATION_NAME;

/// The vendor of the DBot scores (the reference's brand).
const BRAND: &str = "Microsoft Defender Advanced Threat Protection";

const SC_HEADERS: &[&str] =
    &["id", "action", "indicatorValue", "indicatorType", "severity", "title", "description"];

/// `now + (the duration)`: the reference's `get_future_time` (`"14 days"` -> 14 days from now).
pub fn future_time(text: &str, arg: &str) -> Result<String, Error> {
    let now = Utc::now();
    let past = parse_date_text(text, now).map(|d| d.to_utc()).filter(|d| *d <= now).ok_or_else(|| {
        Error::InvalidArg {
            name: arg.to_owned(),
            reason: format!("'{text}' is not a duration; give e.g. 14 days, 12 hours."),
        }
    })?;
    let future = now + (now - past);
    Ok(future.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The standard indicator context and its DBot score (score 0, none), keyed by the reference's
/// context paths.
pub fn dbot_context(kind: &str, value: &str) -> Option<Object> {
    let mut o = Map::new();
    let (path, body, dbot_type) = match kind {
        "file" => {
            let hash = match value.len() {
                32 => "MD5",
                40 => "SHA1",
                64 => "SHA256",
                _ => return None,
            };
            (
                "File(val.MD5 && val.MD5 == obj.MD5 || val.SHA1 && val.SHA1 == obj.SHA1 || val.SHA256 && val.SHA256 == obj.SHA256 || val.SHA512 && val.SHA512 == obj.SHA512 || val.CRC32 && val.CRC32 == obj.CRC32 || val.CTPH && val.CTPH == obj.CTPH || val.SSDeep && val.SSDeep == obj.SSDeep)",
                json!({"Hashes": [{"type": hash, "value": value}], hash: value}),
                "file",
            )
        }
        "ip" => ("IP(val.Address && val.Address == obj.Address)", json!({"Address": value}), "ip"),
        "domain" => ("Domain(val.Name && val.Name == obj.Name)", json!({"Name": value}), "domain"),
        "url" => ("URL(val.Data && val.Data == obj.Data)", json!({"Data": value}), "url"),
        _ => return None,
    };
    o.insert(path.into(), body);
    o.insert(
        "DBotScore(val.Indicator && val.Indicator == obj.Indicator && val.Vendor == obj.Vendor && val.Type && val.Type == obj.Type)".into(),
        json!({"Indicator": value, "Type": dbot_type, "Vendor": BRAND, "Score": 0}),
    );
    Some(o)
}

/// The DBot type of an SC indicator type.
fn sc_kind(indicator_type: &str) -> &'static str {
    match indicator_type {
        "FileSha1" | "FileSha256" | "FileMd5" => "file",
        "IpAddress" => "ip",
        "DomainName" => "domain",
        "Url" => "url",
        _ => "",
    }
}

/// One SC indicator as the reference's `CommandResults` (context, DBot indicator, table).
fn sc_entry(title: String, indicator: Value) -> Result<Entry, Error> {
    let value = indicator.get("indicatorValue").and_then(Value::as_str).unwrap_or_default().to_owned();
    let kind = sc_kind(indicator.get("indicatorType").and_then(Value::as_str).unwrap_or_default());
    let md = table(&title, indicator.clone(), SC_HEADERS)?;
    let mut r = CommandResults::new("MicrosoftATP.Indicators");
    r.outputs_key_field = vec!["id".into()];
    r.outputs = Some(indicator);
    r.readable_output = Some(Value::String(md));
    r.indicator_contexts = dbot_context(kind, &value).into_iter().collect();
    r.into_entry()
}

fn sc_outputs() -> Vec<OutputSpec> {
    let s = |p: &'static str, t: &'static str, d: &'static str| out(p, t, d);
    vec![
        s("MicrosoftATP.Indicators.id", "String", "Created by the system when the indicator is ingested."),
        s(
            "MicrosoftATP.Indicators.action",
            "String",
            "The action to take if the indicator is discovered in the organization.",
        ),
        s(
            "MicrosoftATP.Indicators.description",
            "String",
            "A brief description of the threat represented by the indicator.",
        ),
        s("MicrosoftATP.Indicators.expirationTime", "Date", "The date and time when the indicator expires."),
        s(
            "MicrosoftATP.Indicators.severity",
            "String",
            "The severity of the malicious behavior identified by the data within the indicator.",
        ),
        s("MicrosoftATP.Indicators.indicatorValue", "String", "The value of the indicator."),
        s("MicrosoftATP.Indicators.recommendedActions", "String", "Recommended actions for the indicator."),
        s("MicrosoftATP.Indicators.generateAlert", "Boolean", "Whether an alert was generated."),
        s("MicrosoftATP.Indicators.rbacGroupNames", "Unknown", "A list of RBAC device groups."),
        s("MicrosoftATP.Indicators.mitreTechniques", "Unknown", "A list of MITRE techniques."),
        s("MicrosoftATP.Indicators.indicatorType", "String", "The type of the indicator."),
        s("MicrosoftATP.Indicators.lastUpdateTime", "Date", "The last time the indicator was updated."),
        s("MicrosoftATP.Indicators.createdByDisplayName", "String", "The display name of the created app."),
        s("MicrosoftATP.Indicators.application", "String", "The application associated with the indicator."),
        s("MicrosoftATP.Indicators.title", "String", "The indicator title."),
        s("MicrosoftATP.Indicators.createdBySource", "String", "The source of indicator creation."),
        s("MicrosoftATP.Indicators.historicalDetection", "Boolean", "Whether a historical detection exists."),
        s(
            "MicrosoftATP.Indicators.lastUpdatedBy",
            "String",
            "The identity of the user or application that last updated the indicator.",
        ),
        s(
            "MicrosoftATP.Indicators.creationTimeDateTimeUtc",
            "Date",
            "The date and time the indicator was created.",
        ),
        s("MicrosoftATP.Indicators.category", "Number", "A number representing the indicator category."),
        s(
            "MicrosoftATP.Indicators.createdBy",
            "String",
            "The unique identity of the user or application that submitted the indicator.",
        ),
        s("File.SHA1", "String", "The SHA1 hash of the file."),
        s("File.SHA256", "String", "The SHA256 hash of the file."),
        s("File.MD5", "String", "The MD5 hash of the file."),
        s("Domain.Name", "String", "The domain name."),
        s("IP.Address", "String", "The IP address."),
        s("URL.Data", "String", "The URL."),
        s("DBotScore.Indicator", "String", "The indicator that was tested."),
        s("DBotScore.Type", "String", "The indicator type."),
        s("DBotScore.Vendor", "String", "The vendor used to calculate the score."),
        s("DBotScore.Score", "Number", "The actual score."),
    ]
}

fn sc_list_outcome(list: Vec<Value>) -> Result<Outcome, Error> {
    if list.is_empty() {
        return soar_integration_kit::Results::readable("No indicators found").outcome();
    }
    let mut entries = Vec::new();
    for ind in list {
        let value = ind.get("indicatorValue").map(soar_integration_kit::value_text).unwrap_or_default();
        entries.push(sc_entry(format!("Results found in {INTEGRATION_NAME} SC for value: {value}"), ind)?);
    }
    Ok(entries.into())
}

/// Lists the indicators of Microsoft Defender for Endpoint.
#[derive(Args)]
pub struct ScIndicatorList {
    /// The most indicators to return.
    #[arg(default = "50")]
    limit: u64,
    /// The number of indicators to skip.
    #[arg(default = "0")]
    skip: u64,
    /// Only indicators with this title.
    indicator_title: Option<String>,
    /// Only indicators with this value.
    indicator_value: Option<String>,
    /// Only indicators of this type.
    #[arg(options = ["FileSha1", "FileSha256", "FileMd5", "IpAddress", "DomainName", "Url", "CertificateThumbprint"])]
    indicator_type: Option<String>,
}

#[async_trait]
impl Handler<Atp> for ScIndicatorList {
    const NAME: &'static str = "microsoft-atp-sc-indicator-list";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-sc-indicator-list limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        sc_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let mut filters = Vec::new();
        for (k, v) in [
            ("title", &self.indicator_title),
            ("indicatorValue", &self.indicator_value),
            ("indicatorType", &self.indicator_type),
        ] {
            if let Some(v) = v {
                filters.push(format!("{k} eq '{v}'"));
            }
        }
        let mut req = Request::get("api/indicators").query("$top", self.limit.to_string());
        if self.skip > 0 {
            req = req.query("$skip", self.skip.to_string());
        }
        if !filters.is_empty() {
            req = req.query("$filter", filters.join(" and "));
        }
        req.ok_statuses.push(404);
        let answer = atp.json(ctx, req).await?;
        let list = answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        sc_list_outcome(list.into_iter().take(self.limit as usize).collect())
    }
}

/// Retrieves an indicator of Microsoft Defender for Endpoint by its ID.
#[derive(Args)]
pub struct ScIndicatorGet {
    /// The indicator ID.
    indicator_id: String,
}

#[async_trait]
impl Handler<Atp> for ScIndicatorGet {
    const NAME: &'static str = "microsoft-atp-sc-indicator-get-by-id";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-sc-indicator-get-by-id indicator_id=5142"];

    fn outputs() -> Vec<OutputSpec> {
        sc_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let mut req = Request::get(format!("api/indicators/{}", seg(&self.indicator_id)));
        req.ok_statuses.push(404);
        let reply = atp.api.send(&mut ctx.integration_context, req).await?;
        let list = if reply.status == 404 || reply.body.is_null() { Vec::new() } else { vec![reply.body] };
        sc_list_outcome(list)
    }
}

/// The arguments of creating or updating an SC indicator.
#[derive(Args)]
pub struct ScIndicatorFields {
    /// The value of the indicator (a hash, an IP address, a domain or a URL).
    indicator_value: String,
    /// The type of the indicator.
    #[arg(options = ["FileSha1", "FileSha256", "FileMd5", "IpAddress", "DomainName", "Url"])]
    indicator_type: String,
    /// The action taken when the indicator is discovered in the organization.
    #[arg(options = ["Audit", "Block", "BlockAndRemediate", "Allowed", "Warn", "Alert", "AlertAndBlock"])]
    action: String,
    /// The severity of the malicious behavior identified by the data within the indicator.
    #[arg(options = ["Informational", "Low", "Medium", "High"])]
    severity: Option<String>,
    /// When the indicator expires, from now (e.g. 14 days, 12 hours).
    #[arg(default = "14 days")]
    expiration_time: String,
    /// A brief description of the threat represented by the indicator.
    indicator_description: String,
    /// The indicator alert title.
    indicator_title: String,
    /// The application associated with the indicator.
    indicator_application: Option<String>,
    /// The recommended actions for the indicator.
    recommended_actions: Option<String>,
    /// A comma-separated list of RBAC device group names the indicator applies to.
    rbac_group_names: Vec<String>,
    /// Whether an alert is generated.
    #[arg(default = "true", options = soar_integration_kit::BOOL)]
    generate_alert: bool,
}

async fn sc_upsert(atp: &Atp, ctx: &mut CommandContext, f: ScIndicatorFields) -> Result<Outcome, Error> {
    let mut body = Map::new();
    body.insert("indicatorValue".into(), json!(f.indicator_value));
    body.insert("indicatorType".into(), json!(f.indicator_type));
    body.insert("action".into(), json!(f.action));
    body.insert("title".into(), json!(f.indicator_title));
    body.insert("description".into(), json!(f.indicator_description));
    body.insert("generateAlert".into(), json!(f.generate_alert));
    if let Some(s) = f.severity {
        body.insert("severity".into(), json!(s));
    }
    if let Some(a) = f.indicator_application {
        body.insert("application".into(), json!(a));
    }
    body.insert("expirationTime".into(), json!(future_time(&f.expiration_time, "expiration_time")?));
    if let Some(r) = f.recommended_actions {
        body.insert("recommendedActions".into(), json!(r));
    }
    if !f.rbac_group_names.is_empty() {
        body.insert("rbacGroupNames".into(), json!(f.rbac_group_names));
    }
    let answer = atp.json(ctx, Request::post("api/indicators").json(&Value::Object(body))).await?;
    if answer.is_null() || answer.as_object().is_some_and(Map::is_empty) {
        return soar_integration_kit::Results::readable(format!(
            "Indicator {} was NOT updated.",
            f.indicator_value
        ))
        .outcome();
    }
    let value = answer.get("indicatorValue").map(soar_integration_kit::value_text).unwrap_or_default();
    Ok(sc_entry(format!("Indicator {value} was updated successfully."), answer)?.into())
}

/// Creates a new indicator in Microsoft Defender for Endpoint (or updates the one with this value).
#[derive(Args)]
pub struct ScIndicatorCreate {
    #[arg(flatten)]
    fields: ScIndicatorFields,
}

#[async_trait]
impl Handler<Atp> for ScIndicatorCreate {
    const NAME: &'static str = "microsoft-atp-sc-indicator-create";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-sc-indicator-create indicator_value=2.2.2.2 indicator_type=IpAddress action=Audit indicator_description=test indicator_title=title",
    ];

    fn outputs() -> Vec<OutputSpec> {
        sc_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        sc_upsert(atp, ctx, self.fields).await
    }
}

/// Updates an indicator in Microsoft Defender for Endpoint (or creates it).
#[derive(Args)]
pub struct ScIndicatorUpdate {
    #[arg(flatten)]
    fields: ScIndicatorFields,
}

#[async_trait]
impl Handler<Atp> for ScIndicatorUpdate {
    const NAME: &'static str = "microsoft-atp-sc-indicator-update";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-sc-indicator-update indicator_value=2.2.2.2 indicator_type=IpAddress action=Block indicator_description=test indicator_title=title",
    ];

    fn outputs() -> Vec<OutputSpec> {
        sc_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        sc_upsert(atp, ctx, self.fields).await
    }
}

/// Deletes an indicator of Microsoft Defender for Endpoint.
#[derive(Args)]
pub struct ScIndicatorDelete {
    /// The indicator ID.
    indicator_id: String,
}

#[async_trait]
impl Handler<Atp> for ScIndicatorDelete {
    const NAME: &'static str = "microsoft-atp-sc-indicator-delete";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-sc-indicator-delete indicator_id=5142"];

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        atp.json(ctx, Request::delete(format!("api/indicators/{}", seg(&self.indicator_id)))).await?;
        soar_integration_kit::Results::readable(format!(
            "Indicator ID: {} was successfully deleted",
            self.indicator_id
        ))
        .outcome()
    }
}

/// Creates or updates a batch of indicators (a JSON list of indicator objects).
#[derive(Args)]
pub struct IndicatorBatchUpdate {
    /// A JSON list of indicator objects, e.g. [{"indicatorValue": "2.2.2.2", "indicatorType": "IpAddress", "action": "Audit", "title": "t", "description": "d"}].
    indicator_batch: String,
}

#[async_trait]
impl Handler<Atp> for IndicatorBatchUpdate {
    const NAME: &'static str = "microsoft-atp-indicator-batch-update";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-indicator-batch-update indicator_batch=`[{\"indicatorValue\": \"220e7d15b0b3d7fac48f2bd61114db1022197f7f\", \"indicatorType\": \"FileSha1\", \"action\": \"Audit\", \"title\": \"demo\", \"description\": \"demo\"}]`",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.Indicators.ID", "String", "The ID of the indicator."),
            out("MicrosoftATP.Indicators.Value", "String", "The value of the indicator."),
            out("MicrosoftATP.Indicators.IsFailed", "Boolean", "Whether the update failed."),
            out("MicrosoftATP.Indicators.FailureReason", "String", "The reason of the failure."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let batch: Value = serde_json::from_str(&self.indicator_batch).map_err(|e| {
            Error::Command(format!(
                "{INTEGRATION_NAME}: The `indicator_batch` argument is not a valid json, {e}."
            ))
        })?;
        if !batch.is_array() {
            return Err(Error::InvalidArg {
                name: "indicator_batch".into(),
                reason: "give a JSON list of indicator objects.".into(),
            });
        }
        let answer =
            atp.json(ctx, Request::post("api/indicators/import").json(&json!({"Indicators": batch}))).await?;
        let rows: Vec<Value> = answer
            .get("value")
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .map(|i| {
                        json!({
                            "ID": i.get("id"),
                            "Value": i.get("indicator"),
                            "IsFailed": i.get("isFailed"),
                            "FailureReason": i.get("failureReason"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if rows.is_empty() {
            return soar_integration_kit::Results::readable("Indicators were not updated.").outcome();
        }
        let md = table(
            "Indicators updated successfully.",
            Value::Array(rows.clone()),
            &["ID", "Value", "IsFailed", "FailureReason"],
        )?;
        Ok(super::results(md, "MicrosoftATP.Indicators", Some("id"), Value::Array(rows), answer)?.into())
    }
}

// ---- deprecated Graph TI indicators ------------------------------------------------------------

const TI: &str = "security/tiIndicators";
const TARGET: &str = "Microsoft Defender ATP";
const TI_HEADERS: &[&str] = &[
    "id",
    "action",
    "threatType",
    "severity",
    "fileName",
    "fileHashType",
    "fileHashValue",
    "domainName",
    "networkIPv4",
    "url",
];
const TI_KEY: &str = "MicrosoftATP.Indicators(val.id == obj.id)";

/// The reference's `NUMBER_TO_SEVERITY`.
fn severity_name(n: &Value) -> Value {
    match n.as_i64() {
        Some(0) | Some(5) => json!("Informational"),
        Some(1) => json!("Low"),
        Some(2) => json!("MediumLow"),
        Some(3) => json!("MediumHigh"),
        Some(4) => json!("High"),
        _ => Value::Null,
    }
}

/// The reference's `SEVERITY_TO_NUMBER`.
fn severity_number(s: &str) -> i64 {
    match s {
        "Low" => 1,
        "MediumLow" => 2,
        "MediumHigh" => 3,
        "High" => 4,
        _ => 0,
    }
}

fn with_severity_name(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        let s = severity_name(o.get("severity").unwrap_or(&Value::Null));
        o.insert("severity".into(), s);
    }
    v
}

/// The reference's `build_std_output`: the standard File/IP/Domain/URL context of each TI
/// indicator, merged per key.
fn std_outputs(indicators: &[Value]) -> Map<String, Value> {
    let mut out = Map::new();
    let file_keys = ["fileHashType", "fileHashValue", "fileName", "filePath", "fileSize", "fileType"];
    for ind in indicators {
        let s = |k: &str| ind.get(k).and_then(Value::as_str).map(str::to_owned);
        let ctx = if file_keys.iter().any(|k| ind.get(*k).is_some()) {
            let mut f = Map::new();
            for (k, src) in [("Name", "fileName"), ("Size", "fileSize"), ("Path", "filePath")] {
                if let Some(v) = ind.get(src).filter(|v| !v.is_null()) {
                    f.insert(k.into(), v.clone());
                }
            }
            if let (Some(t), Some(h)) = (s("fileHashType"), s("fileHashValue")) {
                f.insert(t.to_ascii_uppercase(), json!(h));
            }
            Some((
                "File(val.MD5 && val.MD5 == obj.MD5 || val.SHA1 && val.SHA1 == obj.SHA1 || val.SHA256 && val.SHA256 == obj.SHA256 || val.SHA512 && val.SHA512 == obj.SHA512 || val.CRC32 && val.CRC32 == obj.CRC32 || val.CTPH && val.CTPH == obj.CTPH || val.SSDeep && val.SSDeep == obj.SSDeep)",
                Value::Object(f),
            ))
        } else if let Some(d) = s("domainName") {
            Some(("Domain(val.Name && val.Name == obj.Name)", json!({"Name": d})))
        } else if let Some(ip) = s("networkIPv4").or_else(|| s("networkIPv6")) {
            Some(("IP(val.Address && val.Address == obj.Address)", json!({"Address": ip})))
        } else {
            s("url").map(|u| ("URL(val.Data && val.Data == obj.Data)", json!({"Data": u})))
        };
        if let Some((k, v)) = ctx {
            match out.entry(k.to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(list) => list.push(v),
                other => *other = Value::Array(vec![v]),
            }
        }
    }
    out
}

fn ti_outputs() -> Vec<OutputSpec> {
    let s = |p: &'static str, t: &'static str, d: &'static str| out(p, t, d);
    vec![
        s("MicrosoftATP.Indicators.id", "String", "Created by the system when the indicator is ingested."),
        s("MicrosoftATP.Indicators.action", "String", "The action to apply if the indicator is matched."),
        s(
            "MicrosoftATP.Indicators.description",
            "String",
            "A brief description of the threat represented by the indicator.",
        ),
        s("MicrosoftATP.Indicators.expirationDateTime", "Date", "When the indicator expires."),
        s(
            "MicrosoftATP.Indicators.severity",
            "String",
            "The severity of the malicious behavior identified by the indicator.",
        ),
        s(
            "MicrosoftATP.Indicators.threatType",
            "String",
            "Each indicator must have a valid indicator threat type.",
        ),
        s("MicrosoftATP.Indicators.tlpLevel", "String", "The Traffic Light Protocol value of the indicator."),
        s("MicrosoftATP.Indicators.targetProduct", "String", "The target product."),
        s("MicrosoftATP.Indicators.fileHashType", "String", "The type of the hash in fileHashValue."),
        s("MicrosoftATP.Indicators.fileHashValue", "String", "The file hash value."),
        s("MicrosoftATP.Indicators.fileName", "String", "The name of the file."),
        s("MicrosoftATP.Indicators.domainName", "String", "The domain name."),
        s("MicrosoftATP.Indicators.networkIPv4", "String", "The IPv4 address."),
        s("MicrosoftATP.Indicators.url", "String", "The URL."),
        s("File.SHA1", "String", "The SHA1 hash of the file."),
        s("File.SHA256", "String", "The SHA256 hash of the file."),
        s("File.MD5", "String", "The MD5 hash of the file."),
        s("Domain.Name", "String", "The domain name."),
        s("IP.Address", "String", "The IP address."),
        s("URL.Data", "String", "The URL."),
    ]
}

fn ti_outcome(
    title: String,
    indicators: Vec<Value>,
    headers: Option<&[&str]>,
    raw: Value,
) -> Result<Outcome, Error> {
    let md = match headers {
        Some(h) => table(&title, Value::Array(indicators.clone()), h)?,
        None => super::table_all(&title, indicators.first().cloned().unwrap_or(Value::Null))?,
    };
    let mut context = std_outputs(&indicators);
    let value = if indicators.len() == 1 && headers.is_none() {
        indicators[0].clone()
    } else {
        Value::Array(indicators)
    };
    context.insert(TI_KEY.into(), value);
    Ok(outputs(md, context, raw)?.into())
}

/// Deprecated: use microsoft-atp-sc-indicator-list. Lists the Microsoft Graph TI indicators of Microsoft Defender ATP.
#[derive(Args)]
pub struct IndicatorList {
    /// The most indicators to return.
    #[arg(default = "50")]
    limit: usize,
    /// The page size of each request (at most 200).
    #[arg(default = "50")]
    page_size: usize,
}

async fn ti_list(
    atp: &Atp,
    ctx: &mut CommandContext,
    first: Request,
    limit: usize,
) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    let mut next = Some(first);
    while let Some(req) = next.take() {
        let page = atp.graph_json(ctx, req).await?;
        for item in page.get("value").and_then(Value::as_array).cloned().unwrap_or_default() {
            if item.get("targetProduct").and_then(Value::as_str) == Some(TARGET) {
                out.push(item);
            }
        }
        if out.len() >= limit {
            break;
        }
        next = page.get("@odata.nextLink").and_then(Value::as_str).map(Request::get);
    }
    out.truncate(limit);
    Ok(out)
}

#[async_trait]
impl Handler<Atp> for IndicatorList {
    const NAME: &'static str = "microsoft-atp-indicator-list";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-indicator-list limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        ti_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if self.page_size == 0 || self.page_size > 200 {
            return Err(Error::InvalidArg {
                name: "page_size".into(),
                reason: "give a number from 1 to 200.".into(),
            });
        }
        let list =
            ti_list(atp, ctx, Request::get(TI).query("$top", self.page_size.to_string()), self.limit).await?;
        if list.is_empty() {
            return soar_integration_kit::Results::readable("No indicators found").outcome();
        }
        let list: Vec<Value> = list.into_iter().map(with_severity_name).collect();
        ti_outcome(
            "Microsoft Defender ATP Indicators:".into(),
            list.clone(),
            Some(TI_HEADERS),
            Value::Array(list),
        )
    }
}

/// Deprecated: use microsoft-atp-sc-indicator-get-by-id. Gets a Microsoft Graph TI indicator by its ID.
#[derive(Args)]
pub struct IndicatorGet {
    /// The indicator ID.
    indicator_id: String,
}

#[async_trait]
impl Handler<Atp> for IndicatorGet {
    const NAME: &'static str = "microsoft-atp-indicator-get-by-id";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-indicator-get-by-id indicator_id=17228385412813963452"];

    fn outputs() -> Vec<OutputSpec> {
        ti_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = atp.graph_json(ctx, Request::get(format!("{TI}/{}", seg(&self.indicator_id)))).await?;
        let ind = with_severity_name(answer);
        ti_outcome(
            "Microsoft Defender ATP Indicators:".into(),
            vec![ind.clone()],
            Some(TI_HEADERS),
            json!([ind]),
        )
    }
}

/// The fields every TI indicator creation takes.
#[derive(Args)]
pub struct TiCommon {
    /// The action to apply if the indicator is matched.
    #[arg(options = ["unknown", "allow", "block", "alert"])]
    action: String,
    /// A brief description (1 to 100 characters) of the threat represented by the indicator.
    description: String,
    /// When the indicator expires, from now (e.g. 14 days).
    #[arg(default = "14 days")]
    expiration_time: String,
    /// The threat type of the indicator.
    #[arg(options = ["Botnet", "C2", "CryptoMining", "Darknet", "DDoS", "MaliciousUrl", "Malware", "Phishing", "Proxy", "PUA", "WatchList"])]
    threat_type: String,
    /// The Traffic Light Protocol value of the indicator.
    #[arg(options = ["unknown", "white", "green", "amber"])]
    tlp_level: Option<String>,
    /// The confidence (0 to 100) that the data identifies malicious behavior.
    confidence: Option<i64>,
    /// The severity of the malicious behavior.
    #[arg(default = "MediumHigh", options = ["Informational", "Low", "MediumLow", "MediumHigh", "High"])]
    severity: String,
    /// A comma-separated list of tags.
    tags: Vec<String>,
}

impl TiCommon {
    fn body(&self) -> Result<Map<String, Value>, Error> {
        if self.description.is_empty() || self.description.chars().count() > 100 {
            return Err(Error::Command(
                "The description argument must contain at least 1 character and not more than 100".into(),
            ));
        }
        if let Some(c) = self.confidence
            && !(0..=100).contains(&c)
        {
            return Err(Error::Command("The confidence argument must be between 0 and 100".into()));
        }
        let mut b = Map::new();
        b.insert("action".into(), json!(self.action));
        b.insert("description".into(), json!(self.description));
        b.insert("expirationDateTime".into(), json!(future_time(&self.expiration_time, "expiration_time")?));
        b.insert("targetProduct".into(), json!(TARGET));
        b.insert("threatType".into(), json!(self.threat_type));
        if let Some(t) = &self.tlp_level {
            b.insert("tlpLevel".into(), json!(t));
        }
        if let Some(c) = self.confidence {
            b.insert("confidence".into(), json!(c));
        }
        b.insert("severity".into(), json!(severity_number(&self.severity)));
        if !self.tags.is_empty() {
            b.insert("tags".into(), json!(self.tags));
        }
        Ok(b)
    }
}

async fn ti_create(
    atp: &Atp,
    ctx: &mut CommandContext,
    mut body: Map<String, Value>,
    specific: Vec<(&str, Option<Value>)>,
    what: &str,
) -> Result<Outcome, Error> {
    let specific: Vec<(&str, Value)> = specific.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
    if specific.is_empty() {
        return Err(Error::Command(format!("Must supply at least one {what} attribute.")));
    }
    for (k, v) in specific {
        body.insert(k.into(), v);
    }
    let answer = atp.graph_json(ctx, Request::post(TI).json(&Value::Object(body))).await?;
    let ind = with_severity_name(answer.clone());
    let id = ind.get("id").map(soar_integration_kit::value_text).unwrap_or_else(|| "None".into());
    let md = table(&format!("Indicator {id} was successfully created:"), ind.clone(), TI_HEADERS)?;
    let mut context = std_outputs(std::slice::from_ref(&ind));
    context.insert(TI_KEY.into(), ind);
    Ok(outputs(md, context, answer)?.into())
}

/// Deprecated: use microsoft-atp-sc-indicator-create. Creates a Microsoft Graph TI file indicator.
#[derive(Args)]
pub struct IndicatorCreateFile {
    #[arg(flatten)]
    common: TiCommon,
    /// The date and time when the file was compiled.
    file_compile_date_time: Option<String>,
    /// The date and time when the file was created.
    file_created_date_time: Option<String>,
    /// The type of the hash in file_hash_value.
    #[arg(options = ["unknown", "sha1", "sha256", "md5", "authenticodeHash256", "lsHash", "ctph"])]
    file_hash_type: Option<String>,
    /// The file hash value.
    file_hash_value: Option<String>,
    /// The mutex name used in file-based detections.
    file_mutex_name: Option<String>,
    /// The name of the file.
    file_name: Option<String>,
    /// The software used to alter the file.
    file_packer: Option<String>,
    /// The path of the file.
    file_path: Option<String>,
    /// The size of the file in bytes.
    file_size: Option<i64>,
    /// The text description of the type of the file.
    file_type: Option<String>,
}

#[async_trait]
impl Handler<Atp> for IndicatorCreateFile {
    const NAME: &'static str = "microsoft-atp-indicator-create-file";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-indicator-create-file action=alert description=test threat_type=Malware file_hash_type=sha1 file_hash_value=50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c",
    ];

    fn outputs() -> Vec<OutputSpec> {
        ti_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = self.common.body()?;
        let j = |v: Option<String>| v.map(Value::String);
        let date = |arg: &str, v: Option<String>| v.map(|t| super::date_text(arg, &t)).transpose();
        let specific = vec![
            ("fileCompileDateTime", j(date("file_compile_date_time", self.file_compile_date_time)?)),
            ("fileCreatedDateTime", j(date("file_created_date_time", self.file_created_date_time)?)),
            ("fileHashType", j(self.file_hash_type)),
            ("fileHashValue", j(self.file_hash_value)),
            ("fileMutexName", j(self.file_mutex_name)),
            ("fileName", j(self.file_name)),
            ("filePacker", j(self.file_packer)),
            ("filePath", j(self.file_path)),
            ("fileSize", self.file_size.map(Value::from)),
            ("fileType", j(self.file_type)),
        ];
        ti_create(atp, ctx, body, specific, "file").await
    }
}

/// Deprecated: use microsoft-atp-sc-indicator-create. Creates a Microsoft Graph TI network indicator.
#[derive(Args)]
pub struct IndicatorCreateNetwork {
    #[arg(flatten)]
    common: TiCommon,
    /// The domain name.
    domain_name: Option<String>,
    /// The CIDR block notation of the network.
    network_cidr_block: Option<String>,
    /// The destination autonomous system identifier.
    network_destination_asn: Option<i64>,
    /// The destination CIDR block.
    network_destination_cidr_block: Option<String>,
    /// The destination IPv4 address.
    network_destination_ipv4: Option<String>,
    /// The destination IPv6 address.
    network_destination_ipv6: Option<String>,
    /// The destination TCP port.
    network_destination_port: Option<i64>,
    /// The IPv4 address.
    network_ipv4: Option<String>,
    /// The IPv6 address.
    network_ipv6: Option<String>,
    /// The TCP port.
    network_port: Option<i64>,
    /// The protocol number.
    network_protocol: Option<i64>,
    /// The source autonomous system identifier.
    network_source_asn: Option<i64>,
    /// The source CIDR block.
    network_source_cidr_block: Option<String>,
    /// The source IPv4 address.
    network_source_ipv4: Option<String>,
    /// The source IPv6 address.
    network_source_ipv6: Option<String>,
    /// The source TCP port.
    network_source_port: Option<i64>,
    /// The user agent string from a web request.
    user_agent: Option<String>,
    /// The URL.
    url: Option<String>,
}

#[async_trait]
impl Handler<Atp> for IndicatorCreateNetwork {
    const NAME: &'static str = "microsoft-atp-indicator-create-network";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-indicator-create-network action=unknown description=test threat_type=Malware domain_name=example.com",
    ];

    fn outputs() -> Vec<OutputSpec> {
        ti_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = self.common.body()?;
        let j = |v: Option<String>| v.map(Value::String);
        let n = |v: Option<i64>| v.map(Value::from);
        let specific = vec![
            ("domainName", j(self.domain_name)),
            ("networkCidrBlock", j(self.network_cidr_block)),
            ("networkDestinationAsn", n(self.network_destination_asn)),
            ("networkDestinationCidrBlock", j(self.network_destination_cidr_block)),
            ("networkDestinationIPv4", j(self.network_destination_ipv4)),
            ("networkDestinationIPv6", j(self.network_destination_ipv6)),
            ("networkDestinationPort", n(self.network_destination_port)),
            ("networkIPv4", j(self.network_ipv4)),
            ("networkIPv6", j(self.network_ipv6)),
            ("networkPort", n(self.network_port)),
            ("networkProtocol", n(self.network_protocol)),
            ("networkSourceAsn", n(self.network_source_asn)),
            ("networkSourceCidrBlock", j(self.network_source_cidr_block)),
            ("networkSourceIPv4", j(self.network_source_ipv4)),
            ("networkSourceIPv6", j(self.network_source_ipv6)),
            ("networkSourcePort", n(self.network_source_port)),
            ("userAgent", j(self.user_agent)),
            ("url", j(self.url)),
        ];
        ti_create(atp, ctx, body, specific, "network").await
    }
}

/// Deprecated: use microsoft-atp-sc-indicator-update. Updates a Microsoft Graph TI indicator.
#[derive(Args)]
pub struct IndicatorUpdate {
    /// The indicator ID.
    indicator_id: String,
    /// When the indicator expires, from now (e.g. 14 days).
    expiration_time: String,
    /// A brief description (1 to 100 characters) of the threat represented by the indicator.
    description: Option<String>,
    /// The severity of the malicious behavior.
    #[arg(default = "Informational", options = ["Informational", "Low", "MediumLow", "MediumHigh", "High"])]
    severity: String,
}

#[async_trait]
impl Handler<Atp> for IndicatorUpdate {
    const NAME: &'static str = "microsoft-atp-indicator-update";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-indicator-update indicator_id=17228385412813963452 expiration_time=\"2 days\""];

    fn outputs() -> Vec<OutputSpec> {
        ti_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if let Some(d) = &self.description
            && (d.is_empty() || d.chars().count() > 100)
        {
            return Err(Error::Command(
                "The description argument must contain at least 1 character and not more than 100".into(),
            ));
        }
        let mut body = Map::new();
        body.insert("targetProduct".into(), json!(TARGET));
        body.insert(
            "expirationDateTime".into(),
            json!(future_time(&self.expiration_time, "expiration_time")?),
        );
        if let Some(d) = &self.description {
            body.insert("description".into(), json!(d));
        }
        body.insert("severity".into(), json!(severity_number(&self.severity)));
        let req = Request::patch(format!("{TI}/{}", seg(&self.indicator_id)))
            .header("Prefer", "return=representation")
            .json(&Value::Object(body));
        let answer = atp.graph_json(ctx, req).await?;
        let ind = with_severity_name(answer.clone());
        ti_outcome(
            format!("Indicator ID: {} was updated successfully.", self.indicator_id),
            vec![ind],
            None,
            answer,
        )
    }
}

/// Deprecated: use microsoft-atp-sc-indicator-delete. Deletes a Microsoft Graph TI indicator.
#[derive(Args)]
pub struct IndicatorDelete {
    /// The indicator ID.
    indicator_id: String,
}

#[async_trait]
impl Handler<Atp> for IndicatorDelete {
    const NAME: &'static str = "microsoft-atp-indicator-delete";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-indicator-delete indicator_id=17228385412813963452"];

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        atp.graph_json(ctx, Request::delete(format!("{TI}/{}", seg(&self.indicator_id)))).await?;
        soar_integration_kit::Results::readable(format!(
            "Indicator ID: {} was successfully deleted",
            self.indicator_id
        ))
        .outcome()
    }
}
