//! The `start_time` argument of the TAP create command: `now`, an ISO 8601 time, or a relative
//! phrase (`3 days`, `3 days ago`, `in 2 hours`; a bare `N units` means *ago*, as the
//! reference's date parser reads it). The clock is passed in so results are exact in tests.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

/// Parses `text` relative to `now`; the error says what is accepted.
pub fn parse(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "Invalid date: \"start_time\"=\"{text}\". Use now, an ISO 8601 time such as 2024-01-15T10:00:00Z, \
             or a relative time such as \"2 hours\" or \"in 30 minutes\"."
        )
    };
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(dt) = OffsetDateTime::parse(t, &Rfc3339) {
        return Ok(dt.to_offset(time::UtcOffset::UTC));
    }
    let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(dt) = PrimitiveDateTime::parse(t, naive) {
        return Ok(dt.assume_utc());
    }
    let date_only = format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(t, date_only) {
        return Ok(d.midnight().assume_utc());
    }
    let words: Vec<String> = t.split_whitespace().map(str::to_ascii_lowercase).collect();
    let (future, rest): (bool, &[String]) = match words.first().map(String::as_str) {
        Some("in") => (true, &words[1..]),
        _ => (false, &words[..]),
    };
    let rest = match rest.last().map(String::as_str) {
        Some("ago") if !future => &rest[..rest.len() - 1],
        _ => rest,
    };
    let [n, unit] = rest else { return Err(bad()) };
    let n: i64 = n.parse().map_err(|_| bad())?;
    let unit = unit.trim_end_matches('s');
    let span = match unit {
        "second" | "sec" => Duration::seconds(n),
        "minute" | "min" => Duration::minutes(n),
        "hour" => Duration::hours(n),
        "day" => Duration::days(n),
        "week" => Duration::weeks(n),
        _ => return Err(bad()),
    };
    Ok(if future { now + span } else { now - span })
}

/// Graph's format for `startDateTime`: `YYYY-MM-DDTHH:MM:SS.000Z` (UTC, milliseconds zeroed).
pub fn graph_format(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn start_times_parse_like_the_reference() {
        let now = datetime!(2026-03-01 12:00:00 UTC);
        let cases = [
            ("now", "2026-03-01T12:00:00.000Z"),
            ("2030-01-02T03:04:05Z", "2030-01-02T03:04:05.000Z"),
            ("2030-01-02T03:04:05+02:00", "2030-01-02T01:04:05.000Z"),
            ("2030-01-02T03:04:05", "2030-01-02T03:04:05.000Z"),
            ("2030-01-02", "2030-01-02T00:00:00.000Z"),
            ("2 hours", "2026-03-01T10:00:00.000Z"),
            ("3 days ago", "2026-02-26T12:00:00.000Z"),
            ("in 30 minutes", "2026-03-01T12:30:00.000Z"),
        ];
        for (input, want) in cases {
            assert_eq!(graph_format(parse(input, now).unwrap()), want, "{input}");
        }
        for bad in ["", "tomorrow-ish", "2 fortnights", "in x days"] {
            assert!(parse(bad, now).unwrap_err().contains("start_time"), "{bad}");
        }
    }
}
