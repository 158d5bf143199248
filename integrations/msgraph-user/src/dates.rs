//! The time arguments of the TAP create command: `lifetime_in_minutes` (checked against the
//! YAML's documented range before any call) and `start_time`, decoded by the kit like every date
//! argument (`now`, ISO 8601, relative phrases such as `2 hours` or `in 30 minutes`, where a
//! bare `N units` means *ago*, as the reference's date parser reads it) and written the way
//! Graph takes `startDateTime`.

use soar_integration_kit::{ArgDateTime, Error};

/// The lifetime in minutes, 10 to 43200; the error says what is accepted.
pub fn lifetime(text: &str) -> Result<i64, Error> {
    text.trim().parse::<i64>().ok().filter(|n| (10..=43200).contains(n)).ok_or_else(|| Error::InvalidArg {
        name: "lifetime_in_minutes".to_owned(),
        reason: format!("\"{text}\" is not a whole number of minutes from 10 to 43200."),
    })
}

/// Graph's format for `startDateTime`: `YYYY-MM-DDTHH:MM:SS.000Z` (UTC, milliseconds zeroed).
pub fn graph_format(t: &ArgDateTime) -> String {
    t.to_utc().format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use soar_integration_kit::__private::{ArgContext, FromArg};
    use soar_integration_kit::FixedClock;

    use super::*;

    /// (start_time as typed, what Graph gets) at 2026-03-01T12:00:00Z.
    #[test]
    fn start_times_parse_like_the_reference() {
        let clock = FixedClock::at_epoch(1_772_366_400);
        let cx = ArgContext { clock: &clock };
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
            let t = ArgDateTime::from_arg("start_time", &json!(input), &cx);
            assert_eq!(
                t.map(|t| graph_format(&t)).map_err(|e| e.to_string()),
                Ok(want.to_owned()),
                "{input}"
            );
        }
        for bad in ["tomorrow-ish", "in x days", "someday"] {
            let e =
                ArgDateTime::from_arg("start_time", &json!(bad), &cx).map(|_| ()).map_err(|e| e.to_string());
            assert_eq!(e, Err(format!("Invalid date: \"start_time\"=\"{bad}\"")), "{bad}");
        }
    }

    #[test]
    fn lifetimes_outside_the_range_are_refused() {
        assert_eq!(lifetime("60").map_err(|e| e.to_string()), Ok(60));
        for bad in ["5", "43201", "x", "1.5"] {
            assert!(lifetime(bad).is_err_and(|e| e.to_string().contains("from 10 to 43200")), "{bad}");
        }
    }
}
