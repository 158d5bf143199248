//! `fetch-incidents`: new alerts become incidents, oldest first.
//!
//! State (`last_run`): `last_alert_fetched_time`, the creation time of the newest alert
//! fetched (the API's own text), and `last_alert_ids`, the IDs of the alerts fetched at that
//! very instant.
//!
//! Decision (the reference's rule loses alerts): the reference asks for alerts created strictly
//! after the last time (plus 1 ms), so alerts sharing the boundary instant that did not fit in
//! the previous page are never fetched. Here the query asks for `alertCreationTime ge <last>`
//! with `$top = max_fetch + (ids kept at the boundary)`, skips the alerts whose ID was already
//! fetched at that instant, and keeps at most `max_fetch` new ones: no alert is lost or repeated
//! across runs, however many share an instant. Filters are written with spaces, not the
//! reference's literal `+`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use soar_integration_kit::{
    Args, CommandContext, Error, Handler, Outcome, Request, async_trait, parse_date_text,
};

use crate::client::{Atp, FetchParams};
use crate::outputs::INTEGRATION_NAME;

/// The detection source names of the instance form and their API values.
pub const DETECTION_SOURCES: &[(&str, &str)] = &[
    ("Third-party sensors", "ThirdPartySensors"),
    ("Antivirus", "WindowsDefenderAv"),
    ("Automated investigation", "AutomatedInvestigation"),
    ("Custom detection", "CustomDetection"),
    ("Custom TI", "CustomerTI"),
    ("EDR", "WindowsDefenderAtp"),
    ("Microsoft 365 Defender", "MTP"),
    ("Microsoft Defender for Office 365", "OfficeATP"),
    ("Microsoft Defender Experts", "ThreatExperts"),
    ("SmartScreen", "WindowsDefenderSmartScreen"),
];

const STATUSES: &[&str] = &["New", "InProgress", "Resolved"];
const SEVERITIES: &[&str] = &["Informational", "Low", "Medium", "High"];

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// ` and (a eq 'x')` or ` and ((a eq 'x') or (a eq 'y'))`, as the reference groups them.
fn group(field: &str, values: &[String]) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{field} eq '{v}'")).collect();
    match parts.as_slice() {
        [] => String::new(),
        [one] => format!(" and ({one})"),
        many => format!(" and ({})", many.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" or ")),
    }
}

fn check_values(param: &str, given: &[String], accepted: &[&str]) -> Result<(), Error> {
    for g in given {
        if !accepted.contains(&g.as_str()) {
            return Err(Error::InvalidParam {
                name: param.to_owned(),
                reason: format!("'{g}' is not one of {}.", accepted.join(", ")),
            });
        }
    }
    Ok(())
}

/// The `$filter` of one fetch.
pub fn filter(p: &FetchParams, since: &str) -> Result<String, Error> {
    let statuses = list(&p.status);
    let severities = list(&p.severity);
    check_values("fetch_status", &statuses, STATUSES)?;
    check_values("fetch_severity", &severities, SEVERITIES)?;
    let mut sources = Vec::new();
    for s in list(&p.detection_source) {
        let api =
            DETECTION_SOURCES.iter().find(|(name, _)| *name == s).map(|(_, v)| (*v).to_owned()).ok_or_else(
                || Error::InvalidParam {
                    name: "fetch_detectionsource".into(),
                    reason: format!(
                        "'{s}' is not one of {}.",
                        DETECTION_SOURCES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                },
            )?;
        sources.push(api);
    }
    Ok(format!(
        "alertCreationTime ge {since}{}{}{}",
        group("detectionSource", &sources),
        group("status", &statuses),
        group("severity", &severities)
    ))
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// Fetches new alerts as incidents.
#[derive(Args)]
pub struct FetchIncidents;

/// One fetch: the incidents and the next state, from the state and the alerts the query found
/// (sorted by creation time, oldest first). Pure, so the boundary rules are tested directly.
pub fn select(
    last_time: &str,
    last_ids: &[String],
    alerts: Vec<Value>,
    max: usize,
) -> (Vec<Value>, Map<String, Value>) {
    let last = parse_time(last_time);
    let mut incidents = Vec::new();
    let mut new_time = last_time.to_owned();
    let mut new_at = last;
    let mut ids_at: Vec<String> = last_ids.to_vec();
    for alert in alerts {
        if incidents.len() >= max {
            break;
        }
        let id = alert.get("id").map(soar_integration_kit::value_text).unwrap_or_default();
        let created = alert.get("alertCreationTime").and_then(Value::as_str).unwrap_or_default().to_owned();
        let Some(t) = parse_time(&created) else { continue };
        if last.is_some_and(|l| t < l) || (Some(t) == last && last_ids.contains(&id)) {
            continue;
        }
        if new_at.is_none_or(|n| t > n) {
            new_at = Some(t);
            new_time = created.clone();
            ids_at.clear();
        }
        if Some(t) == new_at && !ids_at.contains(&id) {
            ids_at.push(id.clone());
        }
        incidents.push(json!({
            "name": format!("{INTEGRATION_NAME} Alert {id}"),
            "occurred": created,
            "rawJSON": alert.to_string(),
            "dbotMirrorId": id,
        }));
    }
    let mut state = Map::new();
    state.insert("last_alert_fetched_time".into(), json!(new_time));
    state.insert("last_alert_ids".into(), json!(ids_at));
    (incidents, state)
}

#[async_trait]
impl Handler<Atp> for FetchIncidents {
    const NAME: &'static str = "fetch-incidents";

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = &atp.fetch;
        let max: usize =
            p.max_fetch.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| Error::InvalidParam {
                name: "max_fetch".into(),
                reason: format!("'{}' is not a positive number.", p.max_fetch),
            })?;
        let last_run = ctx.last_run.clone().unwrap_or_default();
        let (since, ids) = match last_run.get("last_alert_fetched_time").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => {
                let mut t = t.to_owned();
                // An old state without a zone is UTC.
                if !t.ends_with('Z') && !t.contains('+') {
                    t.push('Z');
                }
                let ids: Vec<String> = last_run
                    .get("last_alert_ids")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(soar_integration_kit::value_text).collect())
                    .unwrap_or_default();
                (t, ids)
            }
            _ => {
                let now = Utc::now();
                let first = parse_date_text(&p.first_fetch, now).ok_or_else(|| Error::InvalidParam {
                    name: "first_fetch_timestamp".into(),
                    reason: format!("'{}' is not a time; give e.g. 3 days.", p.first_fetch),
                })?;
                (first.to_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), Vec::new())
            }
        };
        let mut req = Request::get("api/alerts")
            .query("$filter", filter(p, &since)?)
            .query("$orderby", "alertCreationTime asc");
        if p.evidence {
            req = req.query("$expand", "evidence");
        }
        req = req.query("$top", (max + ids.len()).to_string());
        let answer = match atp.json(ctx, req).await {
            Ok(a) => a,
            Err(e) if e.to_string().starts_with("Verify that the server URL parameter is correct") => {
                return Err(Error::Command(format!(
                    "Failed to fetch {max} alerts. This may caused due to large amount of alert. Try using a lower limit."
                )));
            }
            Err(e) => return Err(e),
        };
        let alerts = answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        let (incidents, state) = select(&since, &ids, alerts, max);
        Ok(Outcome { last_run: Some(state), incidents: Some(incidents), ..Outcome::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, t: &str) -> Value {
        json!({"id": id, "alertCreationTime": t})
    }

    fn ids(incidents: &[Value]) -> Vec<String> {
        incidents
            .iter()
            .filter_map(|i| i.get("dbotMirrorId").and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }

    /// Alerts sharing their creation time across the page boundary: three at one instant,
    /// max_fetch 2. The first run takes two and keeps their IDs; the second (whose query asks
    /// for `ge` that instant) gets all three again, skips the two and takes the third, then the
    /// next one; nothing is lost or repeated.
    #[test]
    fn alerts_sharing_the_boundary_instant_are_neither_lost_nor_repeated() {
        let t = "2024-01-01T10:00:00.1234567Z";
        let all = vec![alert("a", t), alert("b", t), alert("c", t), alert("d", "2024-01-01T10:00:01Z")];
        let (first, state) = select("2024-01-01T00:00:00Z", &[], all.clone(), 2);
        assert_eq!(ids(&first), ["a", "b"]);
        assert_eq!(state.get("last_alert_fetched_time"), Some(&json!(t)));
        assert_eq!(state.get("last_alert_ids"), Some(&json!(["a", "b"])));

        let kept: Vec<String> = vec!["a".into(), "b".into()];
        let (second, state) = select(t, &kept, all.clone(), 2);
        assert_eq!(ids(&second), ["c", "d"]);
        assert_eq!(state.get("last_alert_fetched_time"), Some(&json!("2024-01-01T10:00:01Z")));
        assert_eq!(state.get("last_alert_ids"), Some(&json!(["d"])));

        let (third, same) =
            select("2024-01-01T10:00:01Z", &["d".to_owned()], vec![alert("d", "2024-01-01T10:00:01Z")], 2);
        assert!(third.is_empty());
        assert_eq!(same.get("last_alert_ids"), Some(&json!(["d"])));
    }

    /// A boundary instant spread over two runs keeps the IDs of both.
    #[test]
    fn the_boundary_ids_accumulate_while_the_instant_stays() {
        let t = "2024-01-01T10:00:00Z";
        let (_, state) = select(t, &["a".to_owned()], vec![alert("a", t), alert("b", t)], 5);
        assert_eq!(state.get("last_alert_ids"), Some(&json!(["a", "b"])));
    }

    /// (params, since, filter or error).
    #[test]
    fn filters_follow_the_instance() {
        let p = |status: &str, sev: &str, src: &str| FetchParams {
            status: status.into(),
            severity: sev.into(),
            detection_source: src.into(),
            max_fetch: "50".into(),
            evidence: false,
            first_fetch: "3 days".into(),
        };
        let since = "2024-01-01T00:00:00Z";
        assert_eq!(
            filter(&p("New", "High", ""), since).unwrap(),
            "alertCreationTime ge 2024-01-01T00:00:00Z and (status eq 'New') and (severity eq 'High')"
        );
        assert_eq!(
            filter(&p("New,Resolved", "", "EDR,Antivirus"), since).unwrap(),
            "alertCreationTime ge 2024-01-01T00:00:00Z and ((detectionSource eq 'WindowsDefenderAtp') or (detectionSource eq 'WindowsDefenderAv')) and ((status eq 'New') or (status eq 'Resolved'))"
        );
        let err = filter(&p("Open", "", ""), since).unwrap_err().to_string();
        assert!(err.contains("fetch_status") && err.contains("Open"), "{err}");
        let err = filter(&p("", "", "Radar"), since).unwrap_err().to_string();
        assert!(err.contains("fetch_detectionsource"), "{err}");
    }
}
