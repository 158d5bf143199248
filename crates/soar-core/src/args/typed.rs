//! Typed command arguments: the one place where argument values become Rust values.
//!
//! A command declares its arguments as a struct with `#[derive(Args)]` (the `soar-derive`
//! crate, re-exported by `soar-integration-kit`): the struct's doc comment is the command's
//! description, each field's doc comment the argument's, and `#[arg(...)]` adds what the type
//! cannot say (`default`, `options`, `secret`, `name`, `array`, `required`). The derive writes
//! [`Args::specs`] (what the manifest, the validator and the generated YAML read) and
//! [`Args::decode`] (what the handler receives), so a default or an option list is written once.
//!
//! What a field's type means ([`FromArg`]):
//! - `T` without a default is required; `T` with `#[arg(default = "...")]` gets the default
//!   when not given (the validator fills it in, [`decode_field`] reads it like a given value);
//!   `Option<T>` is optional; `Vec<T>` is an optional list (empty when not given);
//! - `String`: the text (numbers and booleans from context as their JSON text);
//! - `bool`: `argToBoolean`: a JSON boolean, or `true`/`yes`/`false`/`no` in any case;
//! - integers: `arg_to_number` (digit strings, floats truncated, the reference's error text);
//! - `Vec<T>`: `argToList` (a JSON list, a `[...]` string parsed as JSON, or a comma-separated
//!   string, trimmed), each item decoded as `T`;
//! - [`ArgDateTime`]: `arg_to_datetime` (ISO 8601, epochs, relative phrases such as `3 days`,
//!   computed from the [`ArgContext`]'s clock);
//! - [`Json`]: a value given as JSON text (or as JSON already), parsed once;
//! - [`Secret`]: the text, wrapped so it cannot reach a log;
//! - an enum with `#[derive(Choice)]`: one of its fixed values ([`Choice`]), which are also the
//!   argument's `options` in the manifest.
//!
//! Blank strings and `null` are "not given" here as in the validator, so `decode` gives the same
//! answer whether or not the request went through the validator first (handler tests call it
//! directly).

use serde_json::Value;
use soar_protocol::Secret;

use super::{ArgDateTime, Clock, arg_to_bool, arg_to_datetime, arg_to_list, arg_to_number};
use crate::{ArgSpec, Error, Object};

/// What decoding needs besides the values: the clock for relative dates.
#[derive(Clone, Copy)]
pub struct ArgContext<'a> {
    /// "Now" for relative dates (`3 days`, `in 2 hours`).
    pub clock: &'a dyn Clock,
}

/// A command's typed arguments (derived with `#[derive(Args)]`).
pub trait Args: Sized {
    /// The command's description (the struct's doc comment).
    const DESCRIPTION: &'static str;
    /// The argument specs, in field order.
    fn specs() -> Vec<ArgSpec>;
    /// The values of a request's arguments.
    fn decode(args: &Object, cx: &ArgContext<'_>) -> Result<Self, Error>;
}

/// A type an argument value can be decoded into.
pub trait FromArg: Sized {
    /// The manifest's `isArray`.
    const IS_ARRAY: bool = false;
    /// Required unless the field has a default (`Option` and `Vec` are never required).
    const REQUIRED: bool = true;
    /// The fixed values, for a [`Choice`] (empty: any value).
    const OPTIONS: &'static [&'static str] = &[];

    /// Decodes a given (non-blank) value of argument `name`.
    fn from_arg(name: &str, value: &Value, cx: &ArgContext<'_>) -> Result<Self, Error>;

    /// The value when the argument is not given.
    fn absent(name: &str) -> Result<Self, Error> {
        Err(Error::MissingArg(name.to_owned()))
    }
}

/// An enum of fixed values (derived with `#[derive(Choice)]`).
pub trait Choice: Sized + Copy {
    /// Every value, as a person types it, in declaration order.
    const VALUES: &'static [&'static str];
    /// The value as text.
    fn as_str(self) -> &'static str;
    /// The variant for `text` (exact match).
    fn from_text(text: &str) -> Option<Self>;
}

/// True for `null` and blank strings: "not given".
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Reads argument `name` of `args` as a `T` (used by the derived [`Args::decode`]).
pub fn decode_field<T: FromArg>(args: &Object, name: &str, cx: &ArgContext<'_>) -> Result<T, Error> {
    match args.get(name) {
        Some(v) if !is_blank(v) => T::from_arg(name, v, cx),
        _ => T::absent(name),
    }
}

/// [`decode_field`] for an argument with a default: when not given, the default is decoded
/// as if it had been (the validator fills it in too; this keeps `decode` whole on its own).
pub fn decode_field_or<T: FromArg>(
    args: &Object,
    name: &str,
    default: &str,
    cx: &ArgContext<'_>,
) -> Result<T, Error> {
    match args.get(name) {
        Some(v) if !is_blank(v) => T::from_arg(name, v, cx),
        _ => T::from_arg(name, &Value::String(default.to_owned()), cx),
    }
}

/// The text of a scalar; lists and objects as their JSON text.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn invalid(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidArg { name: name.to_owned(), reason: reason.into() }
}

impl FromArg for String {
    fn from_arg(_: &str, value: &Value, _: &ArgContext<'_>) -> Result<Self, Error> {
        Ok(value_text(value))
    }
}

impl FromArg for Secret {
    fn from_arg(_: &str, value: &Value, _: &ArgContext<'_>) -> Result<Self, Error> {
        Ok(Secret::new(value_text(value)))
    }
}

impl FromArg for Value {
    fn from_arg(_: &str, value: &Value, _: &ArgContext<'_>) -> Result<Self, Error> {
        Ok(value.clone())
    }
}

impl FromArg for bool {
    fn from_arg(name: &str, value: &Value, _: &ArgContext<'_>) -> Result<Self, Error> {
        // argToBoolean's rule, with an error that names the argument and the accepted words.
        arg_to_bool(value)
            .map_err(|_| invalid(name, format!("\"{}\" is not true or false.", value_text(value))))
    }
}

macro_rules! integer_arg {
    ($($t:ty),*) => {$(
        impl FromArg for $t {
            fn from_arg(name: &str, value: &Value, _: &ArgContext<'_>) -> Result<Self, Error> {
                let n = arg_to_number(Some(value), Some(name), true)?
                    .ok_or_else(|| Error::MissingArg(name.to_owned()))?;
                <$t>::try_from(n).map_err(|_| {
                    invalid(name, format!(
                        "{n} is out of range; use a number from {} to {}.",
                        <$t>::MIN,
                        <$t>::MAX
                    ))
                })
            }
        }
    )*};
}

integer_arg!(i64, i32, u64, u32, u16, usize);

impl FromArg for ArgDateTime {
    fn from_arg(name: &str, value: &Value, cx: &ArgContext<'_>) -> Result<Self, Error> {
        arg_to_datetime(Some(value), Some(name), true, true, cx.clock)?
            .ok_or_else(|| Error::MissingArg(name.to_owned()))
    }
}

impl<T: FromArg> FromArg for Option<T> {
    const IS_ARRAY: bool = T::IS_ARRAY;
    const REQUIRED: bool = false;
    const OPTIONS: &'static [&'static str] = T::OPTIONS;

    fn from_arg(name: &str, value: &Value, cx: &ArgContext<'_>) -> Result<Self, Error> {
        T::from_arg(name, value, cx).map(Some)
    }

    fn absent(_: &str) -> Result<Self, Error> {
        Ok(None)
    }
}

impl<T: FromArg> FromArg for Vec<T> {
    const IS_ARRAY: bool = true;
    const REQUIRED: bool = false;
    const OPTIONS: &'static [&'static str] = T::OPTIONS;

    fn from_arg(name: &str, value: &Value, cx: &ArgContext<'_>) -> Result<Self, Error> {
        arg_to_list(Some(value), ",")
            .iter()
            .filter(|item| !is_blank(item))
            .map(|item| T::from_arg(name, item, cx))
            .collect()
    }

    fn absent(_: &str) -> Result<Self, Error> {
        Ok(Vec::new())
    }
}

/// A value given as JSON text (`[{"value": "1.1.1.1"}]`), or as JSON already (from context).
#[derive(Debug, Clone, PartialEq)]
pub struct Json(pub Value);

impl FromArg for Json {
    fn from_arg(name: &str, value: &Value, _: &ArgContext<'_>) -> Result<Self, Error> {
        match value {
            Value::String(text) => serde_json::from_str(text).map(Json).map_err(|e| {
                invalid(
                    name,
                    format!("not valid JSON ({e}); give a JSON value such as [{{\"key\": \"value\"}}]."),
                )
            }),
            other => Ok(Json(other.clone())),
        }
    }
}

/// [`FromArg`] for a [`Choice`] enum (the derive writes `impl FromArg` with this).
pub fn choice_from_arg<C: Choice>(name: &str, value: &Value) -> Result<C, Error> {
    let text = value_text(value);
    C::from_text(&text).ok_or_else(|| {
        invalid(name, format!("\"{text}\" is not one of the accepted values: {}.", C::VALUES.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::args::FixedClock;

    fn cx_check<T: FromArg + std::fmt::Debug + PartialEq>(value: Option<Value>, want: Result<T, &str>) {
        let clock = FixedClock(Utc.with_ymd_and_hms(2024, 1, 15, 12, 0, 0).single().unwrap());
        let cx = ArgContext { clock: &clock };
        let mut args = Object::new();
        if let Some(v) = value.clone() {
            args.insert("a".into(), v);
        }
        let got = decode_field::<T>(&args, "a", &cx);
        match (got, want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{value:?}"),
            (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{value:?}: {e}"),
            (got, want) => panic!("{value:?}: got {got:?}, want {want:?}"),
        }
    }

    /// (value given, decoded or the error's text): every type's rule, blank as not given.
    #[test]
    fn values_decode_by_type() {
        cx_check::<String>(Some(json!("x")), Ok("x".into()));
        cx_check::<String>(Some(json!(7)), Ok("7".into()));
        cx_check::<String>(Some(json!("  ")), Err("Missing required argument: a"));
        cx_check::<String>(None, Err("Missing required argument: a"));
        cx_check::<Option<String>>(None, Ok(None));
        cx_check::<Option<String>>(Some(json!("")), Ok(None));
        for (v, b) in
            [(json!("TRUE"), true), (json!("yes"), true), (json!("No"), false), (json!(false), false)]
        {
            cx_check::<bool>(Some(v), Ok(b));
        }
        cx_check::<bool>(Some(json!("maybe")), Err("\"maybe\" is not true or false."));
        cx_check::<i64>(Some(json!("42")), Ok(42));
        cx_check::<i64>(Some(json!("7.9")), Ok(7));
        cx_check::<i64>(Some(json!("x")), Err("Invalid number: \"a\"=\"x\""));
        cx_check::<u32>(Some(json!("-1")), Err("-1 is out of range"));
        cx_check::<Option<u32>>(Some(json!(5)), Ok(Some(5)));
        cx_check::<Vec<String>>(Some(json!("a, b,,c")), Ok(vec!["a".into(), "b".into(), "c".into()]));
        cx_check::<Vec<String>>(Some(json!("[\"x\", \"y\"]")), Ok(vec!["x".into(), "y".into()]));
        cx_check::<Vec<String>>(None, Ok(vec![]));
        cx_check::<Vec<i64>>(Some(json!("1,2")), Ok(vec![1, 2]));
        cx_check::<Vec<i64>>(Some(json!("1,z")), Err("Invalid number: \"a\"=\"z\""));
        cx_check::<Json>(Some(json!("[{\"v\": 1}]")), Ok(Json(json!([{"v": 1}]))));
        cx_check::<Json>(Some(json!([1])), Ok(Json(json!([1]))));
        cx_check::<Json>(Some(json!("[oops")), Err("not valid JSON"));
        cx_check::<ArgDateTime>(
            Some(json!("2 hours ago")),
            Ok(ArgDateTime::Naive(Utc.with_ymd_and_hms(2024, 1, 15, 10, 0, 0).single().unwrap().naive_utc())),
        );
        cx_check::<ArgDateTime>(Some(json!("someday")), Err("Invalid date: \"a\"=\"someday\""));
    }

    #[test]
    fn secrets_stay_wrapped() {
        let clock = FixedClock(Utc::now());
        let cx = ArgContext { clock: &clock };
        let s = Secret::from_arg("p", &json!("hunter2"), &cx).unwrap();
        assert_eq!(s.expose(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
