//! Argument helpers with the reference's exact rules (war-room.md §9): [`arg_to_list`],
//! [`arg_to_bool`], [`arg_to_number`], [`arg_to_datetime`], [`assign_params`],
//! [`remove_empty_elements`].
//!
//! Error texts are the reference's (`Missing "limit"`, `Invalid number: "page_size"="7.25"`,
//! `Invalid date: "since"="x"`), so a playbook that matches on them behaves the same.
//! The clock is a seam ([`Clock`]): relative dates (`3 days`, `in 2 hours`, `yesterday`) are
//! computed from [`Clock::now_utc`], so tests pin "now".

mod datetime;
pub mod typed;

use serde_json::{Map, Value};

pub use datetime::{ArgDateTime, parse_date_text};
pub use typed::{
    ArgContext, Args, Choice, FromArg, Json, choice_from_arg, decode_field, decode_field_or, is_blank,
};

use crate::Error;
use crate::format::py;

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant in UTC.
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// A clock stopped at one instant (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub chrono::DateTime<chrono::Utc>);

impl FixedClock {
    /// Stopped at `secs` seconds after the Unix epoch (the epoch itself when out of range).
    pub fn at_epoch(secs: i64) -> FixedClock {
        FixedClock(chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }
}

impl Clock for FixedClock {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// `argToList(arg, separator)`: falsy -> `[]`; a list as it is; a string `[...]` parsed as JSON
/// when it parses, else split on `separator` with each piece trimmed (empty pieces kept); any
/// other value wrapped in a list.
pub fn arg_to_list(arg: Option<&Value>, separator: &str) -> Vec<Value> {
    let Some(arg) = arg.filter(|a| py::truthy(a)) else { return Vec::new() };
    match arg {
        Value::Array(items) => items.clone(),
        Value::String(s) => {
            if s.starts_with('[')
                && s.ends_with(']')
                && let Ok(v) = serde_json::from_str::<Value>(s)
            {
                return match v {
                    Value::Array(items) => items,
                    other => vec![other],
                };
            }
            let pieces: Vec<&str> =
                if separator.is_empty() { vec![s.as_str()] } else { s.split(separator).collect() };
            pieces.into_iter().map(|p| Value::String(py::strip(p).to_owned())).collect()
        }
        other => vec![other.clone()],
    }
}

/// [`arg_to_list`] with `,`, as strings (non-string items in their JSON text).
pub fn arg_to_str_list(arg: Option<&Value>) -> Vec<String> {
    arg_to_list(arg, ",")
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect()
}

/// `argToBoolean`: a bool as it is; `true`/`yes` and `false`/`no` in any case (not trimmed).
pub fn arg_to_bool(value: &Value) -> Result<bool, Error> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match py::lower(s).as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            _ => Err(Error::Command("Argument does not contain a valid boolean-like value".into())),
        },
        _ => Err(Error::Command("Argument is neither a string nor a boolean".into())),
    }
}

fn missing(arg_name: Option<&str>) -> Error {
    match arg_name.filter(|n| !n.is_empty()) {
        Some(n) => Error::Command(format!("Missing \"{n}\"")),
        None => Error::Command("Missing required argument".into()),
    }
}

/// The reference's error for a value that is not a `kind` (`number`, `date`):
/// `Invalid kind: "name"="value"`, or `"value" is not a valid kind` without a name.
fn invalid_value(kind: &str, arg: &Value, arg_name: Option<&str>) -> Error {
    let text = py::str_of(arg);
    match arg_name.filter(|n| !n.is_empty()) {
        Some(n) => Error::Command(format!("Invalid {kind}: \"{n}\"=\"{text}\"")),
        None => Error::Command(format!("\"{text}\" is not a valid {kind}")),
    }
}

/// What [`arg_to_number_value`] returns: the reference passes booleans through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgNumber {
    /// An integer.
    Int(i128),
    /// A boolean given as is (the reference returns it unchanged).
    Bool(bool),
}

/// `arg_to_number` with the reference's exact result (a bool passes through).
pub fn arg_to_number_value(
    arg: Option<&Value>,
    arg_name: Option<&str>,
    required: bool,
) -> Result<Option<ArgNumber>, Error> {
    let arg = match arg {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v),
    };
    let Some(arg) = arg else {
        return if required { Err(missing(arg_name)) } else { Ok(None) };
    };
    let invalid = || invalid_value("number", arg, arg_name);
    match arg {
        Value::String(s) => {
            if py::is_digit_str(s) {
                return py::parse_int(s).map(|n| Some(ArgNumber::Int(n))).map_err(Error::Command);
            }
            let f = py::parse_float(s).map_err(|_| invalid())?;
            if !f.is_finite() || f.abs() >= 1.7e38 {
                return Err(invalid());
            }
            Ok(Some(ArgNumber::Int(f.trunc() as i128)))
        }
        Value::Bool(b) => Ok(Some(ArgNumber::Bool(*b))),
        Value::Number(n) if !n.is_f64() => {
            Ok(Some(ArgNumber::Int(n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)).unwrap_or(0))))
        }
        _ => Err(invalid()),
    }
}

/// `arg_to_number(arg, arg_name, required)`: `None`/`""` are missing; digit strings are
/// integers; other strings go through `float()` and are truncated toward zero; integers pass;
/// float values and other types are rejected. A boolean counts as 0/1.
pub fn arg_to_number(
    arg: Option<&Value>,
    arg_name: Option<&str>,
    required: bool,
) -> Result<Option<i64>, Error> {
    match arg_to_number_value(arg, arg_name, required)? {
        None => Ok(None),
        Some(ArgNumber::Bool(b)) => Ok(Some(i64::from(b))),
        Some(ArgNumber::Int(n)) => i64::try_from(n).map(Some).map_err(|_| {
            Error::Command(format!("The number {n} is too large; use a value between -2^63 and 2^63-1"))
        }),
    }
}

/// `arg_to_datetime(arg, arg_name, is_utc, required)`: epochs (digit strings, numbers; above
/// 2,000,000,000 they are milliseconds), ISO 8601 and common date texts, and relative phrases.
/// Relative results are naive UTC wall time; texts with an offset are aware UTC.
pub fn arg_to_datetime(
    arg: Option<&Value>,
    arg_name: Option<&str>,
    is_utc: bool,
    required: bool,
    clock: &dyn Clock,
) -> Result<Option<ArgDateTime>, Error> {
    let Some(arg) = arg.filter(|a| !a.is_null()) else {
        return if required { Err(missing(arg_name)) } else { Ok(None) };
    };
    let invalid = || invalid_value("date", arg, arg_name);
    let epoch = match arg {
        Value::String(s) if py::is_digit_str(s) => Some(py::parse_float(s).map_err(Error::Command)?),
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    if let Some(mut secs) = epoch {
        if secs > 2_000_000_000.0 {
            secs /= 1000.0;
        }
        let dt = datetime::from_timestamp(secs).map_err(Error::Command)?;
        return Ok(Some(if is_utc { ArgDateTime::Aware(dt) } else { ArgDateTime::Naive(dt.naive_utc()) }));
    }
    match arg {
        Value::String(s) => parse_date_text(s, clock.now_utc()).map(Some).ok_or_else(invalid),
        _ => Err(invalid()),
    }
}

/// `assign_params(keys_to_ignore, values_to_ignore, **kwargs)`: keeps each pair whose key is
/// not ignored and whose value does not equal (Python `==`) an ignored value. `None` for
/// `values_to_ignore` means the defaults None, "", [] and {}.
pub fn assign_params(
    pairs: impl IntoIterator<Item = (String, Value)>,
    keys_to_ignore: &[String],
    values_to_ignore: Option<&[Value]>,
) -> Map<String, Value> {
    let defaults =
        [Value::Null, Value::String(String::new()), Value::Array(Vec::new()), Value::Object(Map::new())];
    let ignored: &[Value] = values_to_ignore.unwrap_or(&defaults);
    pairs
        .into_iter()
        .filter(|(k, v)| !keys_to_ignore.contains(k) && !ignored.iter().any(|i| py::py_eq(i, v)))
        .collect()
}

/// `remove_empty_elements(d)`: recursively drops None, `{}` and `[]` from dicts and lists,
/// children first (so a container emptied by the cleaning goes too); scalars are returned as is.
pub fn remove_empty_elements(d: &Value) -> Value {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }
    }
    match d {
        Value::Array(items) => {
            Value::Array(items.iter().map(remove_empty_elements).filter(|v| !empty(v)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), remove_empty_elements(v)))
                .filter(|(_, v)| !empty(v))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `argToList` rows from war-room.md §9.
    fn check_list(arg: Value, want: Value) {
        assert_eq!(Value::Array(arg_to_list(Some(&arg), ",")), want, "arg {arg}");
    }

    #[test]
    fn arg_to_list_rows() {
        check_list(json!(" a, b ,,c "), json!(["a", "b", "", "c"]));
        check_list(json!("a,"), json!(["a", ""]));
        check_list(json!("  "), json!([""]));
        check_list(json!("[p,q]"), json!(["[p", "q]"]));
        check_list(json!(" [1] "), json!(["[1]"]));
        check_list(json!("[1, 2]"), json!([1, 2]));
        check_list(json!("[]"), json!([]));
        check_list(json!(5), json!([5]));
        check_list(json!(0), json!([]));
        check_list(json!([" x "]), json!([" x "]));
    }

    #[test]
    fn arg_to_number_rows() {
        let n = |v: Value| arg_to_number_value(Some(&v), None, false).map_err(|e| e.to_string());
        assert_eq!(n(json!("3.99")), Ok(Some(ArgNumber::Int(3))));
        assert_eq!(n(json!("-3.99")), Ok(Some(ArgNumber::Int(-3))));
        assert_eq!(n(json!("1e3")), Ok(Some(ArgNumber::Int(1000))));
        assert_eq!(n(json!(" 42 ")), Ok(Some(ArgNumber::Int(42))));
        assert_eq!(n(json!("1_000")), Ok(Some(ArgNumber::Int(1000))));
        assert_eq!(n(json!("007")), Ok(Some(ArgNumber::Int(7))));
        assert_eq!(n(json!(true)), Ok(Some(ArgNumber::Bool(true))));
        assert_eq!(n(json!("inf")), Err("\"inf\" is not a valid number".into()));
        let e = arg_to_number(Some(&json!(7.25)), Some("page_size"), false).unwrap_err();
        assert_eq!(e.to_string(), "Invalid number: \"page_size\"=\"7.25\"");
        assert_eq!(
            arg_to_number(Some(&json!("")), None, true).unwrap_err().to_string(),
            "Missing required argument"
        );
    }

    /// Request values beyond every range are errors that say so, never a panic or a wrapped
    /// value.
    #[test]
    fn huge_numbers_are_errors_not_overflows() {
        let too_large =
            arg_to_number(Some(&json!("99999999999999999999")), Some("limit"), false).unwrap_err();
        assert_eq!(
            too_large.to_string(),
            "The number 99999999999999999999 is too large; use a value between -2^63 and 2^63-1"
        );
        for v in [json!("9".repeat(60)), json!("1e300"), json!(u64::MAX), json!(1e300)] {
            let got = arg_to_number(Some(&v), Some("limit"), false);
            assert!(got.is_err(), "{v}: {got:?}");
        }
        let clock = FixedClock::at_epoch(1_705_312_800);
        for (v, want) in [
            (json!("9".repeat(400)), "cannot convert float infinity to integer"),
            (json!(1e300), "year "),
            (json!("1e300 years ago"), "Invalid date: \"since\"=\"1e300 years ago\""),
            (json!("in 9223372036854775807 months"), "Invalid date"),
        ] {
            let e = arg_to_datetime(Some(&v), Some("since"), true, false, &clock).unwrap_err().to_string();
            assert!(e.starts_with(want), "{v}: {e}");
        }
    }

    #[test]
    fn booleans_and_params() {
        assert!(arg_to_bool(&json!("YES")).unwrap());
        assert!(arg_to_bool(&json!(" true")).is_err());
        assert_eq!(
            arg_to_bool(&json!(1)).unwrap_err().to_string(),
            "Argument is neither a string nor a boolean"
        );
        let kept = assign_params(
            [("a".into(), json!(0)), ("b".into(), json!(null)), ("c".into(), json!(false))],
            &[],
            Some(&[json!(0)]),
        );
        assert_eq!(Value::Object(kept), json!({"b": null}));
    }
}
