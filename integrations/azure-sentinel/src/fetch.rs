//! `fetch-incidents` (the fact sheet's §6) and the mirroring logic (`get-modified-remote-data`,
//! `get-remote-data`, `update-remote-system`, `get-mapping-fields`).
//!
//! # Fetch
//! The reference's two query modes and state keys (`last_fetch_time`, `last_fetch_ids`,
//! `last_incident_number`): the first run (or a state without an incident number) asks for
//! `properties/createdTimeUtc ge {time}` ordered by creation time, the later ones for
//! `properties/incidentNumber gt {number}` ordered by number, `$top = min(20, limit)`; incidents
//! of the last batch are dropped, those under `min_severity` are counted but not created, and
//! each created incident carries the mirroring fields and the `fetch_additional_info` kinds.
//!
//! Decisions where the reference loses or repeats incidents:
//! - A full page in the time mode is not a safe high-water mark: two incidents created in the
//!   same second may straddle the page boundary in either number order, so switching to
//!   `incidentNumber gt max` could skip the one left behind. The number mode starts only after
//!   a time-mode page that was not full (every incident created since the start time was seen;
//!   later ones get higher numbers). Until then the state keeps `last_incident_number: 0`, which
//!   the reference also reads as "time mode".
//! - In the time mode the IDs to skip are those of every batch fetched since the start second
//!   last advanced (not only the last batch), so a second shared by three batches repeats
//!   nothing; and when a whole page was fetched before (more incidents in one second than a
//!   page holds), the page's `nextLink` is followed in the same run until something new comes.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use soar_integration_kit::format::py::json_dumps;
use soar_integration_kit::format::transforms::pascal_to_space;
use soar_integration_kit::{Args, CommandContext, Error, Handler, Method, Outcome, async_trait};

use crate::client::{Sentinel, param_str};
use crate::commands::{DEFAULT_LIMIT, incidents_page, put_incident, remove_empty};
use crate::convert::{self, DATE_FORMAT, level_value, parse_date, severity_level};

/// The fields `get-remote-data` mirrors in (the reference's `INCOMING_MIRRORED_FIELDS`).
pub const INCOMING_FIELDS: &[&str] = &[
    "ID",
    "Etag",
    "Title",
    "Description",
    "Severity",
    "Status",
    "owner",
    "tags",
    "FirstActivityTimeUTC",
    "LastActivityTimeUTC",
    "LastModifiedTimeUTC",
    "CreatedTimeUTC",
    "IncidentNumber",
    "AlertsCount",
    "AlertProductNames",
    "Tactics",
    "relatedAnalyticRuleIds",
    "IncidentUrl",
    "ProviderIncidentUrl",
    "classification",
    "classificationReason",
    "classificationComment",
    "alerts",
    "entities",
    "comments",
    "relations",
];

/// The fields `update-remote-system` mirrors out (the reference's `OUTGOING_MIRRORED_FIELDS`).
pub const OUTGOING_FIELDS: &[&str] = &[
    "etag",
    "title",
    "description",
    "severity",
    "status",
    "tags",
    "firstActivityTimeUtc",
    "lastActivityTimeUtc",
    "classification",
    "classificationComment",
    "classificationReason",
];

/// The reference's `MIRROR_DIRECTION_DICT`.
pub fn mirror_direction(param: Option<&str>) -> Value {
    match param {
        Some("Incoming") => json!("In"),
        Some("Outgoing") => json!("Out"),
        Some("Incoming And Outgoing") => json!("Both"),
        _ => Value::Null,
    }
}

/// The `fetch_additional_info` kinds: a list, or a comma-separated text.
pub fn additional_kinds(ctx: &CommandContext) -> Result<Vec<String>, Error> {
    let raw: Vec<String> = match ctx.params.get("fetch_additional_info") {
        Some(soar_integration_kit::ParamValue::Other(Value::Array(a))) => {
            a.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        _ => crate::commands::split_list(param_str(ctx, "fetch_additional_info").as_deref()),
    };
    for k in &raw {
        if !["Alerts", "Entities", "Comments", "Relations"].contains(&k.as_str()) {
            return Err(Error::InvalidParam {
                name: "fetch_additional_info".to_owned(),
                reason: format!("'{k}' is not one of Alerts, Entities, Comments, Relations."),
            });
        }
    }
    Ok(raw)
}

/// The reference's `fetch_incidents_additional_info`: each kind's list under its lower-case key.
pub async fn add_additional_info(
    s: &Sentinel,
    ctx: &mut CommandContext,
    kinds: &[String],
    incident: &mut Value,
) -> Result<(), Error> {
    let Some(id) = incident.get("ID").and_then(Value::as_str).map(str::to_owned) else { return Ok(()) };
    for kind in kinds {
        let lower = kind.to_lowercase();
        let (method, key) = match kind.as_str() {
            "Alerts" => (Method::POST, "value"),
            "Entities" => (Method::POST, "entities"),
            _ => (Method::GET, "value"),
        };
        let reply = s.call(ctx, s.req(method, &format!("incidents/{id}/{lower}"))).await?;
        if let Some(o) = incident.as_object_mut() {
            o.insert(lower, reply.get(key).cloned().unwrap_or(Value::Null));
        }
    }
    Ok(())
}

/// `<n> <unit>` (the `fetch_time` param, e.g. `3 days`, `12 hours`) before `now`, or a date.
pub fn first_fetch_start(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    let bad = || Error::InvalidParam {
        name: "fetch_time".to_owned(),
        reason: format!("'{text}' is not <number> <time unit> (e.g. 12 hours, 7 days) or a date."),
    };
    let t = text.trim();
    if let Some(d) = parse_date(t) {
        return Ok(d);
    }
    let mut words = t.split_whitespace();
    let n: i64 = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
    let unit = words.next().ok_or_else(bad)?.to_ascii_lowercase();
    if words.next().is_some_and(|w| w != "ago") {
        return Err(bad());
    }
    let unit = unit.trim_end_matches('s');
    let d = match unit {
        "second" | "sec" => Duration::try_seconds(n),
        "minute" | "min" => Duration::try_minutes(n),
        "hour" => Duration::try_hours(n),
        "day" => Duration::try_days(n),
        "week" => Duration::try_weeks(n),
        "month" => Duration::try_days(n.saturating_mul(30)),
        "year" => Duration::try_days(n.saturating_mul(365)),
        _ => None,
    }
    .ok_or_else(bad)?;
    now.checked_sub_signed(d).ok_or_else(bad)
}

/// The fetch state (`lastRun`).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchState {
    /// `last_fetch_time` (`YYYY-MM-DDTHH:MM:SSZ`).
    pub last_fetch_time: Option<DateTime<Utc>>,
    /// `last_fetch_ids`.
    pub last_fetch_ids: Vec<String>,
    /// `last_incident_number` (0: none).
    pub last_incident_number: i64,
}

impl FetchState {
    /// Reads a `lastRun` (a wrong type is a clear error).
    pub fn read(last_run: &Map<String, Value>) -> Result<FetchState, Error> {
        let bad = |k: &str| {
            Error::Command(format!("The last run's {k} is not valid; reset the instance's last run."))
        };
        let last_fetch_time = match last_run.get("last_fetch_time") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_date(s).ok_or_else(|| bad("last_fetch_time"))?),
            Some(_) => return Err(bad("last_fetch_time")),
        };
        let last_fetch_ids = match last_run.get("last_fetch_ids") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                a.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()
            }
            Some(_) => return Err(bad("last_fetch_ids")),
        };
        let last_incident_number = match last_run.get("last_incident_number") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| bad("last_incident_number"))?,
        };
        Ok(FetchState { last_fetch_time, last_fetch_ids, last_incident_number })
    }

    /// The `lastRun` object.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "last_fetch_time".into(),
            self.last_fetch_time.map_or(Value::Null, |t| json!(t.format(DATE_FORMAT).to_string())),
        );
        m.insert("last_fetch_ids".into(), json!(self.last_fetch_ids));
        m.insert("last_incident_number".into(), json!(self.last_incident_number));
        m
    }

    /// The number mode (the reference: a fetch time and a non-zero incident number).
    pub fn number_mode(&self) -> bool {
        self.last_fetch_time.is_some() && self.last_incident_number != 0
    }
}

/// The query of one fetch: `$filter`, `$orderby`.
pub fn fetch_query(state: &FetchState, start: DateTime<Utc>) -> (String, &'static str) {
    if state.number_mode() {
        (
            format!("properties/incidentNumber gt {}", state.last_incident_number),
            "properties/incidentNumber asc",
        )
    } else {
        let t = state.last_fetch_time.unwrap_or(start);
        (format!("properties/createdTimeUtc ge {}", t.format(DATE_FORMAT)), "properties/createdTimeUtc asc")
    }
}

/// What a batch makes: the next state and the XSOAR incidents.
pub fn process(
    state: &FetchState,
    start: DateTime<Utc>,
    fresh: &[Value],
    page_full: bool,
    seen_number: i64,
    min_severity: f64,
    (direction, instance): (&Value, &Value),
) -> Result<(FetchState, Vec<Value>), Error> {
    let number_mode = state.number_mode();
    let before = state.last_fetch_time.unwrap_or(start);
    let mut latest = DateTime::<Utc>::from_naive_utc_and_offset(before.naive_utc(), Utc);
    let mut number = state.last_incident_number;
    let mut ids = Vec::new();
    let mut incidents = Vec::new();
    for inc in fresh {
        let created =
            inc.get("CreatedTimeUTC").and_then(Value::as_str).and_then(parse_date).ok_or_else(|| {
                Error::Command(format!(
                    "The incident {} has no valid CreatedTimeUTC.",
                    inc.get("ID").unwrap_or(&Value::Null)
                ))
            })?;
        ids.push(inc.get("ID").and_then(Value::as_str).unwrap_or_default().to_owned());
        let level = severity_level(inc.get("Severity").and_then(Value::as_str).unwrap_or_default());
        if level >= min_severity {
            let mut inc = inc.clone();
            if let Some(o) = inc.as_object_mut() {
                o.insert("mirror_direction".into(), direction.clone());
                o.insert("mirror_instance".into(), instance.clone());
            }
            let title = inc.get("Title").and_then(Value::as_str).unwrap_or_default();
            incidents.push(json!({
                "name": format!("[Azure Sentinel] {title}"),
                "occurred": inc.get("CreatedTimeUTC"),
                "severity": level_value(level),
                "rawJSON": json_dumps(&inc, true),
            }));
        }
        latest = latest.max(created);
        number = number.max(inc.get("IncidentNumber").and_then(Value::as_i64).unwrap_or(0));
    }
    let next = if number_mode {
        FetchState { last_fetch_time: Some(latest), last_fetch_ids: ids, last_incident_number: number }
    } else {
        // Time mode (see the module docs): skip everything fetched since the second last moved.
        let mut skip = if latest == before { state.last_fetch_ids.clone() } else { Vec::new() };
        skip.extend(ids);
        // Every incident created since the start was seen when the page was not full, those
        // fetched before included: the highest number among them is a safe high-water mark.
        FetchState {
            last_fetch_time: Some(latest),
            last_fetch_ids: skip,
            last_incident_number: if page_full { 0 } else { number.max(seen_number) },
        }
    };
    Ok((next, incidents))
}

/// Fetches new incidents from Microsoft Sentinel.
#[derive(Args)]
pub struct FetchIncidents;

#[async_trait]
impl Handler<Sentinel> for FetchIncidents {
    const NAME: &'static str = "fetch-incidents";

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let limit: u32 = match param_str(ctx, "limit") {
            None => DEFAULT_LIMIT,
            Some(t) => t.parse().ok().filter(|n| *n > 0).ok_or_else(|| Error::InvalidParam {
                name: "limit".to_owned(),
                reason: format!("'{t}' is not a positive whole number."),
            })?,
        };
        let top = DEFAULT_LIMIT.min(limit);
        let min_name = param_str(ctx, "min_severity").unwrap_or_else(|| "Informational".to_owned());
        if !["Informational", "Low", "Medium", "High"].contains(&min_name.as_str()) {
            return Err(Error::InvalidParam {
                name: "min_severity".to_owned(),
                reason: format!("'{min_name}' is not one of Informational, Low, Medium, High."),
            });
        }
        let kinds = additional_kinds(ctx)?;
        let now = Utc::now();
        let start =
            first_fetch_start(&param_str(ctx, "fetch_time").unwrap_or_else(|| "3 days".to_owned()), now)?;
        let state = FetchState::read(&ctx.last_run.clone().unwrap_or_default())?;
        let (filter, orderby) = fetch_query(&state, start);
        let mut page = incidents_page(s, ctx, top, Some(&filter), orderby).await?;
        let mut seen_number = 0;
        let (fresh, page_full) = loop {
            let raw = page.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
            let full = raw.len() as u32 >= top;
            seen_number = raw
                .iter()
                .filter_map(|i| {
                    i.get("properties").and_then(|p| p.get("incidentNumber")).and_then(Value::as_i64)
                })
                .fold(seen_number, i64::max);
            let fresh: Vec<Value> = raw
                .iter()
                .filter(|i| {
                    !state
                        .last_fetch_ids
                        .iter()
                        .any(|id| Some(id.as_str()) == i.get("name").and_then(Value::as_str))
                })
                .map(|i| convert::incident(i, true))
                .collect();
            match page.get("nextLink").and_then(Value::as_str) {
                Some(link) if fresh.is_empty() && full && !state.number_mode() => {
                    page = s.call(ctx, s.url(Method::GET, link)).await?;
                }
                _ => break (fresh, full),
            }
        };
        let mut fresh = fresh;
        for inc in &mut fresh {
            add_additional_info(s, ctx, &kinds, inc).await?;
        }
        let direction = mirror_direction(param_str(ctx, "mirror_direction").as_deref());
        let instance = ctx.instance.clone().map_or(Value::Null, Value::String);
        let (next, incidents) = process(
            &state,
            start,
            &fresh,
            page_full,
            seen_number,
            severity_level(&min_name),
            (&direction, &instance),
        )?;
        Ok(Outcome { last_run: Some(next.to_object()), incidents: Some(incidents), ..Outcome::default() })
    }
}

// ---- mirroring ---------------------------------------------------------------------------------

/// `get-modified-remote-data`: the IDs of the incidents modified since `last_update`, following
/// every next link.
pub async fn modified_ids(
    s: &Sentinel,
    ctx: &mut CommandContext,
    last_update: &str,
) -> Result<Vec<String>, Error> {
    let since = parse_date(last_update).ok_or_else(|| Error::InvalidArg {
        name: "lastUpdate".to_owned(),
        reason: format!("'{last_update}' is not a date; give an ISO 8601 time."),
    })?;
    let filter = format!("properties/lastModifiedTimeUtc ge {}", since.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
    let mut req = s.req(Method::GET, "incidents").query("$filter", filter);
    let mut ids = Vec::new();
    loop {
        let reply = s.call(ctx, req).await?;
        ids.extend(
            reply
                .get("value")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|i| i.get("name").and_then(Value::as_str))
                .map(str::to_owned),
        );
        match reply.get("nextLink").and_then(Value::as_str) {
            Some(link) if !link.is_empty() => req = s.url(Method::GET, link),
            _ => return Ok(ids),
        }
    }
}

/// The reference's `MIRROR_STATUS_DICT`: Sentinel classification -> XSOAR close reason.
pub fn close_reason(classification: &str) -> String {
    match classification {
        "Undetermined" => "Other".to_owned(),
        "TruePositive" | "BenignPositive" => "Resolved".to_owned(),
        "FalsePositive" => "False Positive".to_owned(),
        other => other.to_owned(),
    }
}

/// `get-remote-data`: the mirrored object and the close/reopen entries. A failure is reported
/// in the object (`in_mirror_error`), as the reference does.
pub async fn remote_data(
    s: &Sentinel,
    ctx: &mut CommandContext,
    id: &str,
) -> Result<(Map<String, Value>, Vec<Value>), Error> {
    let kinds = additional_kinds(ctx)?;
    let close_incident = ctx.params.bool("close_incident", false);
    let fetched = s.call(ctx, s.req(Method::GET, &format!("incidents/{id}"))).await;
    let mut incident = match fetched {
        Ok(raw) => convert::incident(&raw, true),
        Err(e) => return Ok((error_object(id, &e), Vec::new())),
    };
    if let Err(e) = add_additional_info(s, ctx, &kinds, &mut incident).await {
        return Ok((error_object(id, &e), Vec::new()));
    }
    let mut object = Map::new();
    for f in INCOMING_FIELDS {
        if let Some(v) = incident.get(*f).filter(|v| !v.is_null()) {
            object.insert((*f).to_owned(), v.clone());
        }
    }
    let mut entries = Vec::new();
    if close_incident {
        match object.get("Status").and_then(Value::as_str) {
            Some("Closed") => {
                let reason = object.get("classification").and_then(Value::as_str).unwrap_or_default();
                let notes = object.get("classificationComment").and_then(Value::as_str).unwrap_or_default();
                entries.push(json!({
                    "Type": 1,
                    "Contents": {
                        "dbotIncidentClose": true,
                        "closeReason": close_reason(reason),
                        "closeNotes": format!("{notes}\nClosed on Microsoft Sentinel").trim().to_owned(),
                    },
                    "ContentsFormat": "json",
                }));
            }
            Some("New" | "Active") => entries
                .push(json!({"Type": 1, "Contents": {"dbotIncidentReopen": true}, "ContentsFormat": "json"})),
            _ => {}
        }
    }
    Ok((object, entries))
}

fn error_object(id: &str, e: &Error) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("in_mirror_error".into(), json!(e.to_string()));
    m
}

/// XSOAR's numeric severity -> Sentinel's (the reference's `LEVEL_TO_SEVERITY`); a Sentinel
/// name is kept.
pub fn severity_name(v: &Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        if ["Informational", "Low", "Medium", "High"].contains(&s) {
            return Some(s.to_owned());
        }
        return s.parse::<f64>().ok().and_then(|n| severity_name(&json!(n)));
    }
    let n = v.as_f64()?;
    // The reference's `LEVEL_TO_SEVERITY` keys: 0, 0.5, 1, 2, 3, 4.
    let name = if n == 0.0 || n == 0.5 {
        "Informational"
    } else if n == 1.0 {
        "Low"
    } else if n == 2.0 {
        "Medium"
    } else if n == 3.0 || n == 4.0 {
        "High"
    } else {
        return None;
    };
    Some(name.to_owned())
}

/// The reference's `extract_classification_reason`.
pub fn classification_reason(delta: &Map<String, Value>, data: &Map<String, Value>) -> String {
    let s = |m: &Map<String, Value>, k: &str| {
        m.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let classification = s(delta, "classification").or_else(|| s(data, "classification")).unwrap_or_default();
    match classification.as_str() {
        "FalsePositive" => s(delta, "classificationReason")
            .or_else(|| s(data, "classificationReason"))
            .unwrap_or_else(|| "InaccurateData".to_owned()),
        "TruePositive" => "SuspiciousActivity".to_owned(),
        "BenignPositive" => "SuspiciousButExpected".to_owned(),
        _ => String::new(),
    }
}

/// The PUT body of an outgoing mirror (the reference's `update_incident_request`).
pub fn outgoing_body(
    current: &Value,
    data: &Map<String, Value>,
    delta: &Map<String, Value>,
    close: bool,
) -> Result<Value, Error> {
    let missing: Vec<&str> =
        ["severity", "status", "title"].into_iter().filter(|f| !data.contains_key(*f)).collect();
    if !missing.is_empty() {
        return Err(Error::Command(
            "Update incident request is missing one of the required fields for the API: ('severity', 'status', 'title')".to_owned(),
        ));
    }
    let p = current.get("properties").cloned().unwrap_or_else(|| json!({}));
    let severity = data.get("severity").and_then(severity_name).ok_or_else(|| Error::Command(format!(
        "The severity {} has no Microsoft Sentinel equivalent (0, 0.5, 1, 2, 3, 4 or a Sentinel severity).",
        data.get("severity").unwrap_or(&Value::Null)
    )))?;
    let mut status = data.get("status").cloned().unwrap_or(json!("Active"));
    // closingUserId set to '' means the XSOAR incident was reopened.
    if status == json!("Closed") && delta.get("closingUserId") == Some(&json!("")) {
        status = json!("Active");
    }
    let mut labels = p.get("labels").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(tags) = delta.get("tags").and_then(Value::as_array) {
        labels.extend(tags.iter().map(|t| json!({"labelName": t, "type": "User"})));
    }
    let mut props = Map::new();
    props.insert("title".into(), data.get("title").cloned().unwrap_or(Value::Null));
    props.insert("description".into(), delta.get("description").cloned().unwrap_or(Value::Null));
    props.insert("severity".into(), json!(severity));
    props.insert("status".into(), status);
    props.insert(
        "firstActivityTimeUtc".into(),
        delta.get("firstActivityTimeUtc").cloned().unwrap_or(Value::Null),
    );
    props.insert(
        "lastActivityTimeUtc".into(),
        delta.get("lastActivityTimeUtc").cloned().unwrap_or(Value::Null),
    );
    props.insert("owner".into(), p.get("owner").cloned().unwrap_or_else(|| json!({})));
    props.insert("labels".into(), Value::Array(labels));
    if close {
        let pick = |k: &str| {
            delta
                .get(k)
                .filter(|v| !v.is_null() && *v != "")
                .or_else(|| data.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        };
        props.insert("status".into(), json!("Closed"));
        props.insert("classification".into(), pick("classification"));
        props.insert("classificationComment".into(), pick("classificationComment"));
        props.insert("classificationReason".into(), json!(classification_reason(delta, data)));
    }
    // The reference drops only None here (`remove_nulls_from_dictionary` also drops empties).
    remove_empty(&mut props);
    let etag = current
        .get("etag")
        .filter(|e| !e.is_null())
        .or_else(|| delta.get("etag"))
        .or_else(|| data.get("etag"))
        .cloned()
        .unwrap_or(Value::Null);
    Ok(json!({"etag": etag, "properties": props}))
}

/// What `update-remote-system` did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Nothing relevant changed or the status is not mirrored.
    Skipped(String),
    /// The incident was updated (closed when `true`).
    Updated(bool),
}

/// `update-remote-system`: mirrors local changes out. `status` is XSOAR's (1 active, 2 done).
pub async fn update_remote(
    s: &Sentinel,
    ctx: &mut CommandContext,
    id: &str,
    data: &Map<String, Value>,
    delta: &Map<String, Value>,
    status: i64,
    changed: bool,
) -> Result<Outgoing, Error> {
    if !changed || delta.is_empty() {
        return Ok(Outgoing::Skipped(format!("Skipping updating remote incident {id} as it didn't change.")));
    }
    let relevant: Vec<&String> = delta
        .keys()
        .filter(|k| {
            (OUTGOING_FIELDS.contains(&k.as_str()) || k.as_str() == "closingUserId")
                && !["classification", "classificationComment"].contains(&k.as_str())
        })
        .collect();
    if status != 1 && status != 2 {
        return Ok(Outgoing::Skipped(format!(
            "Incident with remote ID {id} is not Active or Closed, not updating. (status: {status})"
        )));
    }
    let close_ticket = ctx.params.bool("close_ticket", false);
    let closing = {
        let c = delta
            .get("classification")
            .or_else(|| data.get("classification"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        close_ticket && !c.is_empty()
    };
    let close = status == 2 && closing;
    if !close && relevant.is_empty() {
        return Ok(Outgoing::Skipped(format!(
            "No relevant changes detected for the incident with remote ID {id}, not updating."
        )));
    }
    put_incident(s, ctx, id, |current| outgoing_body(current, data, delta, close)).await?;
    Ok(Outgoing::Updated(close))
}

/// `get-mapping-fields`: one scheme, the outgoing fields with their `pascalToSpace` names.
pub fn mapping_schemes() -> Map<String, Value> {
    let fields: Map<String, Value> =
        OUTGOING_FIELDS.iter().map(|f| ((*f).to_owned(), json!(pascal_to_space(f)))).collect();
    let mut m = Map::new();
    m.insert("Microsoft Sentinel Incident".into(), Value::Object(fields));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_date(s).unwrap_or_default()
    }

    fn inc(id: &str, number: i64, created: &str, severity: &str) -> Value {
        json!({"ID": id, "IncidentNumber": number, "CreatedTimeUTC": created, "Severity": severity, "Title": id})
    }

    #[test]
    fn first_fetch_start_reads_units_and_dates() {
        let now = t("2024-05-10T12:00:00Z");
        let cases = [
            ("3 days", Some("2024-05-07T12:00:00Z")),
            ("12 hours", Some("2024-05-10T00:00:00Z")),
            ("1 week ago", Some("2024-05-03T12:00:00Z")),
            ("2024-01-01T00:00:00Z", Some("2024-01-01T00:00:00Z")),
            ("soon", None),
            ("3 fortnights", None),
        ];
        for (text, want) in cases {
            let got = first_fetch_start(text, now).ok().map(|d| d.format(DATE_FORMAT).to_string());
            assert_eq!(got.as_deref(), want, "{text}");
        }
        assert!(first_fetch_start("soon", now).is_err_and(|e| e.to_string().contains("fetch_time")));
    }

    /// (state, query): the time mode first, the number mode once a number is known.
    #[test]
    fn queries_follow_the_two_modes() {
        let start = t("2024-05-07T12:00:00Z");
        let first = FetchState { last_fetch_time: None, last_fetch_ids: vec![], last_incident_number: 0 };
        assert_eq!(
            fetch_query(&first, start),
            ("properties/createdTimeUtc ge 2024-05-07T12:00:00Z".to_owned(), "properties/createdTimeUtc asc")
        );
        let numbered =
            FetchState { last_fetch_time: Some(start), last_fetch_ids: vec![], last_incident_number: 41 };
        assert_eq!(
            fetch_query(&numbered, start),
            ("properties/incidentNumber gt 41".to_owned(), "properties/incidentNumber asc")
        );
    }

    #[test]
    fn processing_applies_severity_mirroring_and_state() {
        let start = t("2024-05-07T12:00:00Z");
        let state = FetchState { last_fetch_time: None, last_fetch_ids: vec![], last_incident_number: 0 };
        let batch = [inc("a", 5, "2024-05-08T00:00:00Z", "Low"), inc("b", 6, "2024-05-09T00:00:00Z", "High")];
        let (next, incidents) =
            process(&state, start, &batch, false, 0, 2.0, (&json!("Both"), &json!("inst"))).unwrap();
        assert_eq!(incidents.len(), 1, "Low is below Medium");
        assert_eq!(incidents[0]["name"], "[Azure Sentinel] b");
        assert_eq!(incidents[0]["severity"], 3);
        let raw: Value =
            serde_json::from_str(incidents[0]["rawJSON"].as_str().unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            (raw["mirror_direction"].clone(), raw["mirror_instance"].clone()),
            (json!("Both"), json!("inst"))
        );
        assert_eq!(next.to_object(), json!({"last_fetch_time": "2024-05-09T00:00:00Z", "last_fetch_ids": ["a", "b"], "last_incident_number": 6}).as_object().cloned().unwrap_or_default());
        // A full time-mode page keeps the time mode (number 0) and the skipped IDs.
        let (next, _) = process(&state, start, &batch, true, 0, 0.0, (&Value::Null, &Value::Null)).unwrap();
        assert_eq!(next.last_incident_number, 0);
        assert!(!next.number_mode());
    }

    #[test]
    fn outgoing_bodies_map_severity_tags_and_closing() {
        let current = json!({"etag": "\"e1\"", "properties": {"owner": {"email": "a@x"}, "labels": [{"labelName": "old", "labelType": "User"}]}});
        let data = json!({"title": "T", "severity": 3, "status": "Closed", "classification": "TruePositive"});
        let delta = json!({"tags": ["new"], "description": "d"});
        let (data, delta) =
            (data.as_object().cloned().unwrap_or_default(), delta.as_object().cloned().unwrap_or_default());
        let body = outgoing_body(&current, &data, &delta, true).unwrap();
        assert_eq!(
            body,
            json!({"etag": "\"e1\"", "properties": {
            "title": "T", "description": "d", "severity": "High", "status": "Closed", "owner": {"email": "a@x"},
            "labels": [{"labelName": "old", "labelType": "User"}, {"labelName": "new", "type": "User"}],
            "classification": "TruePositive", "classificationReason": "SuspiciousActivity"}})
        );
        let mut no_title = data.clone();
        no_title.remove("title");
        assert!(outgoing_body(&current, &no_title, &delta, false).is_err());
    }

    #[test]
    fn close_reasons_and_classification_reasons_follow_the_reference() {
        assert_eq!(close_reason("FalsePositive"), "False Positive");
        assert_eq!(close_reason("Undetermined"), "Other");
        let m = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            classification_reason(&m(json!({"classification": "FalsePositive"})), &m(json!({}))),
            "InaccurateData"
        );
        assert_eq!(
            classification_reason(&m(json!({})), &m(json!({"classification": "BenignPositive"}))),
            "SuspiciousButExpected"
        );
        assert_eq!(severity_name(&json!(0.5)).as_deref(), Some("Informational"));
        assert_eq!(severity_name(&json!(7)), None);
    }
}
