//! The reference's `*_to_xsoar_format` conversions: ARM objects into the context shapes, and its
//! `format_date` (`YYYY-MM-DDTHH:MM:SSZ`).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

/// `YYYY-MM-DDTHH:MM:SSZ`, the reference's `DATE_FORMAT`.
pub const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Parses the date forms the API sends (RFC 3339 with any fraction, or without an offset, read
/// as UTC).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc())
}

/// The reference's `format_date`: empty is `null`; an unparsable date is kept as sent (the
/// reference would raise on it).
pub fn format_date(v: Option<&Value>) -> Value {
    match v.and_then(Value::as_str).filter(|s| !s.is_empty()) {
        None => Value::Null,
        Some(s) => match parse_date(s) {
            Some(d) => json!(d.format(DATE_FORMAT).to_string()),
            None => json!(s),
        },
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn get(v: &Value, path: &[&str]) -> Value {
    at(v, path).cloned().unwrap_or(Value::Null)
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// An incident in the context's shape; `fetch` adds the fields fetch and mirroring carry.
pub fn incident(inc: &Value, fetch: bool) -> Value {
    let p = inc.get("properties").cloned().unwrap_or_else(|| json!({}));
    let labels: Vec<&Value> =
        p.get("labels").and_then(Value::as_array).map(|l| l.iter().collect()).unwrap_or_default();
    let mut out = obj(vec![
        ("ID", get(inc, &["name"])),
        ("IncidentNumber", get(&p, &["incidentNumber"])),
        ("IncidentUrl", get(&p, &["incidentUrl"])),
        ("Title", get(&p, &["title"])),
        ("Description", get(&p, &["description"])),
        ("Severity", get(&p, &["severity"])),
        ("Status", get(&p, &["status"])),
        ("AssigneeName", get(&p, &["owner", "assignedTo"])),
        ("AssigneeEmail", get(&p, &["owner", "email"])),
        ("AssigneeObjectID", get(&p, &["owner", "objectId"])),
        ("AssigneeUPN", get(&p, &["owner", "userPrincipalName"])),
        (
            "Label",
            Value::Array(
                labels
                    .iter()
                    .map(|l| json!({"Name": get(l, &["labelName"]), "Type": get(l, &["labelType"])}))
                    .collect(),
            ),
        ),
        ("FirstActivityTimeUTC", format_date(p.get("firstActivityTimeUtc"))),
        ("LastActivityTimeUTC", format_date(p.get("lastActivityTimeUtc"))),
        ("LastModifiedTimeUTC", format_date(p.get("lastModifiedTimeUtc"))),
        ("CreatedTimeUTC", format_date(p.get("createdTimeUtc"))),
        ("AlertsCount", get(&p, &["additionalData", "alertsCount"])),
        ("BookmarksCount", get(&p, &["additionalData", "bookmarksCount"])),
        ("CommentsCount", get(&p, &["additionalData", "commentsCount"])),
        ("AlertProductNames", get(&p, &["additionalData", "alertProductNames"])),
        ("ProviderIncidentUrl", get(&p, &["additionalData", "providerIncidentUrl"])),
        ("Tactics", get(&p, &["additionalData", "tactics"])),
        ("Techniques", get(&p, &["additionalData", "techniques"])),
        ("FirstActivityTimeGenerated", format_date(p.get("firstActivityTimeGenerated"))),
        ("LastActivityTimeGenerated", format_date(p.get("lastActivityTimeGenerated"))),
        ("Etag", get(inc, &["etag"])),
        ("Deleted", json!(false)),
    ]);
    if fetch && let Some(o) = out.as_object_mut() {
        o.insert("tags".into(), Value::Array(labels.iter().map(|l| get(l, &["labelName"])).collect()));
        o.insert("owner".into(), get(&p, &["owner"]));
        let rules = p.get("relatedAnalyticRuleIds").and_then(Value::as_array).cloned().unwrap_or_default();
        let rules: Vec<Value> = rules
            .iter()
            .map(|r| json!(r.as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default()))
            .collect();
        o.insert("relatedAnalyticRuleIds".into(), Value::Array(rules));
        o.insert("classification".into(), get(&p, &["classification"]));
        o.insert("classificationComment".into(), get(&p, &["classificationComment"]));
        o.insert("classificationReason".into(), get(&p, &["classificationReason"]));
    }
    out
}

/// A comment.
pub fn comment(c: &Value, incident_id: &str) -> Value {
    let p = c.get("properties").cloned().unwrap_or_else(|| json!({}));
    obj(vec![
        ("ID", get(c, &["name"])),
        ("IncidentID", json!(incident_id)),
        ("Message", get(&p, &["message"])),
        ("AuthorName", get(&p, &["author", "assignedTo"])),
        ("AuthorEmail", get(&p, &["author", "email"])),
        ("CreatedTimeUTC", format_date(p.get("createdTimeUtc"))),
    ])
}

/// A related resource of an incident.
pub fn relation(r: &Value, incident_id: &str) -> Value {
    obj(vec![
        ("ID", get(r, &["properties", "relatedResourceName"])),
        ("Kind", get(r, &["properties", "relatedResourceKind"])),
        ("IncidentID", json!(incident_id)),
    ])
}

/// An entity of an incident (`IncidentId` first, as the reference's `dict(IncidentId=..., **x)`).
pub fn entity(e: &Value, incident_id: &str) -> Value {
    obj(vec![
        ("IncidentId", json!(incident_id)),
        ("ID", get(e, &["name"])),
        ("Kind", get(e, &["kind"])),
        ("Properties", get(e, &["properties"])),
    ])
}

/// An alert of an incident.
pub fn alert(a: &Value, incident_id: &str) -> Value {
    let p = a.get("properties").cloned().unwrap_or_else(|| json!({}));
    obj(vec![
        ("IncidentId", json!(incident_id)),
        ("ID", get(&p, &["systemAlertId"])),
        ("Kind", get(a, &["kind"])),
        ("Tactic", get(&p, &["tactics"])),
        ("Technique", get(&p, &["additionalData", "MitreTechniques"])),
        ("DisplayName", get(&p, &["alertDisplayName"])),
        ("Description", get(&p, &["description"])),
        ("ConfidenceLevel", get(&p, &["confidenceLevel"])),
        ("Severity", get(&p, &["severity"])),
        ("VendorName", get(&p, &["vendorName"])),
        ("ProductName", get(&p, &["productName"])),
        ("ProductComponentName", get(&p, &["productComponentName"])),
    ])
}

/// A watchlist.
pub fn watchlist(w: &Value) -> Value {
    let p = w.get("properties").cloned().unwrap_or_else(|| json!({}));
    obj(vec![
        ("Name", get(w, &["name"])),
        ("ID", get(&p, &["watchlistId"])),
        ("Description", get(&p, &["description"])),
        ("Provider", get(&p, &["provider"])),
        ("Source", get(&p, &["source"])),
        ("Created", format_date(p.get("created"))),
        ("Updated", format_date(p.get("updated"))),
        ("CreatedBy", get(&p, &["createdBy", "name"])),
        ("UpdatedBy", get(&p, &["updatedBy", "name"])),
        ("Alias", get(&p, &["watchlistAlias"])),
        ("Label", p.get("labels").cloned().unwrap_or_else(|| json!([]))),
        ("ItemsSearchKey", get(&p, &["itemsSearchKey"])),
    ])
}

/// A watchlist item (`WatchlistAlias` first, as the reference spreads it).
pub fn watchlist_item(i: &Value, alias: &str) -> Value {
    let p = i.get("properties").cloned().unwrap_or_else(|| json!({}));
    obj(vec![
        ("WatchlistAlias", json!(alias)),
        ("Name", get(i, &["name"])),
        ("ID", get(&p, &["watchlistItemId"])),
        ("Created", format_date(p.get("created"))),
        ("Updated", format_date(p.get("updated"))),
        ("CreatedBy", get(&p, &["createdBy", "name"])),
        ("UpdatedBy", get(&p, &["updatedBy", "name"])),
        ("ItemsKeyValue", get(&p, &["itemsKeyValue"])),
    ])
}

/// A threat indicator; nulls removed as the reference does (its empty-string defaults stay).
pub fn indicator(ind: &Value) -> Value {
    let p = ind.get("properties").cloned().unwrap_or_else(|| json!({}));
    let or = |k: &str, d: Value| p.get(k).cloned().unwrap_or(d);
    let date = |k: &str| match p.get(k) {
        None => json!(""),
        Some(v) if v.as_str() == Some("") => json!(""),
        Some(v) => format_date(Some(v)),
    };
    let pattern = p.get("parsedPattern").and_then(Value::as_array).and_then(|a| a.first()).cloned();
    let first_value = |k: &str| {
        pattern
            .as_ref()
            .and_then(|pt| at(pt, &["patternTypeValues"]))
            .and_then(|v| v.get(0))
            .and_then(|v| v.get(k))
            .cloned()
    };
    // The reference reads `KillChainPhases` (capitalised), which the API never sends.
    let phases: Vec<Value> = p
        .get("KillChainPhases")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|ph| json!({"KillChainName": get(ph, &["killChainName"]), "PhaseName": get(ph, &["phaseName"])})).collect())
        .unwrap_or_default();
    let parsed = pattern.as_ref().map(|pt| {
        json!({
            "PatternTypeKey": get(pt, &["patternTypeKey"]),
            "PatternTypeValues": {"Value": first_value("value"), "ValueType": first_value("valueType")},
        })
    });
    let mut out: Map<String, Value> = Map::new();
    for (k, v) in [
        ("ID", get(ind, &["id"])),
        ("Name", get(ind, &["name"])),
        ("ETag", get(ind, &["etag"])),
        ("Type", get(ind, &["type"])),
        ("Kind", get(ind, &["kind"])),
        ("Confidence", or("confidence", json!(""))),
        ("Created", date("created")),
        ("CreatedByRef", or("createdByRef", json!(""))),
        ("ExternalId", or("externalId", json!(""))),
        ("LastUpdatedTimeUtc", date("lastUpdatedTimeUtc")),
        ("Revoked", or("revoked", json!(""))),
        ("Source", or("source", json!(""))),
        ("Tags", or("threatIntelligenceTags", json!("No Tags"))),
        ("DisplayName", or("displayName", json!(""))),
        ("Description", or("description", json!(""))),
        ("Types", or("threatTypes", json!(""))),
        ("KillChainPhases", Value::Array(phases)),
        ("ParsedPattern", parsed.unwrap_or(Value::Null)),
        ("Pattern", or("pattern", json!(""))),
        ("PatternType", or("patternType", json!(""))),
        ("ValidFrom", date("validFrom")),
        ("ValidUntil", date("validUntil")),
        ("Values", first_value("value").unwrap_or(Value::Null)),
        ("Deleted", json!(false)),
    ] {
        if !v.is_null() {
            out.insert(k.to_owned(), v);
        }
    }
    Value::Object(out)
}

/// The reference's `severity_to_level`.
pub fn severity_level(severity: &str) -> f64 {
    match severity {
        "Informational" => 0.5,
        "Low" => 1.0,
        "Medium" => 2.0,
        "High" => 3.0,
        _ => 0.0,
    }
}

/// A level as the reference's JSON writes it (`0.5`, `1`, ...).
pub fn level_value(level: f64) -> Value {
    if level.fract() == 0.0 { json!(level as i64) } else { json!(level) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (API date, context date).
    #[test]
    fn dates_take_the_reference_format() {
        let cases = [
            ("2025-08-10T01:52:38.5416527Z", json!("2025-08-10T01:52:38Z")),
            ("2021-03-01T10:00:00+02:00", json!("2021-03-01T08:00:00Z")),
            ("2021-03-01T10:00:00", json!("2021-03-01T10:00:00Z")),
            ("", Value::Null),
            ("not a date", json!("not a date")),
        ];
        for (given, want) in cases {
            assert_eq!(format_date(Some(&json!(given))), want, "{given}");
        }
    }

    #[test]
    fn incidents_map_every_reference_field() {
        let inc = json!({"name": "i1", "etag": "\"e1\"", "properties": {
            "title": "T", "severity": "High", "status": "New", "incidentNumber": 7,
            "owner": {"assignedTo": "Ann", "email": "a@x", "objectId": "o1", "userPrincipalName": "a@x"},
            "labels": [{"labelName": "l1", "labelType": "User"}],
            "createdTimeUtc": "2024-01-02T03:04:05.123Z",
            "relatedAnalyticRuleIds": ["/subscriptions/s/alertRules/r1"],
            "additionalData": {"alertsCount": 2, "tactics": ["Execution"]}}});
        let out = incident(&inc, true);
        assert_eq!(out["ID"], "i1");
        assert_eq!(out["AssigneeUPN"], "a@x");
        assert_eq!(out["Label"], json!([{"Name": "l1", "Type": "User"}]));
        assert_eq!(out["CreatedTimeUTC"], "2024-01-02T03:04:05Z");
        assert_eq!(out["Tactics"], json!(["Execution"]));
        assert_eq!(out["tags"], json!(["l1"]));
        assert_eq!(out["relatedAnalyticRuleIds"], json!(["r1"]));
        assert_eq!(out["Etag"], "\"e1\"");
        assert!(incident(&inc, false).get("tags").is_none());
    }
}
