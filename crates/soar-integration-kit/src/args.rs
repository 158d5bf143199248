//! Reading command arguments the way the reference's integrations do: a blank argument is
//! not given, non-string JSON values are read as their JSON text, booleans follow
//! `argToBoolean`.

use serde_json::Value;
use soar_core::{CommandContext, Error};
use soar_protocol::Secret;

/// An argument as given, even if empty (the reference tests `'key' in args`); `null` is not
/// given.
pub fn given(ctx: &CommandContext, name: &str) -> Option<String> {
    match ctx.args.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A non-empty argument as text.
pub fn arg(ctx: &CommandContext, name: &str) -> Option<String> {
    given(ctx, name).filter(|s| !s.is_empty())
}

/// A non-empty argument, or the error naming it.
pub fn required(ctx: &CommandContext, name: &str) -> Result<String, Error> {
    arg(ctx, name).ok_or_else(|| Error::MissingArg(name.to_owned()))
}

/// A non-empty argument, else `default`.
pub fn or_default(ctx: &CommandContext, name: &str, default: &str) -> String {
    arg(ctx, name).unwrap_or_else(|| default.to_owned())
}

/// The argument, else the instance param of the same name (`get_from_args_or_params`).
pub fn arg_or_param(ctx: &CommandContext, name: &str) -> Result<String, Error> {
    arg(ctx, name).or_else(|| ctx.params.str(name)).ok_or_else(|| Error::InvalidArg {
        name: name.to_owned(),
        reason: format!("no value: give {name}=<value> or set the instance's default {name}."),
    })
}

/// The reference's `argToBoolean` (strict) on the value `v` of argument `name`:
/// `true`/`yes`/`false`/`no` in any case, else an error naming the argument.
pub fn strict_bool(name: &str, v: &str) -> Result<bool, Error> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => {
            Err(Error::InvalidArg { name: name.to_owned(), reason: format!("\"{v}\" is not true or false.") })
        }
    }
}

/// [`strict_bool`] of a non-empty argument, else `default`.
pub fn boolean(ctx: &CommandContext, name: &str, default: bool) -> Result<bool, Error> {
    arg(ctx, name).map_or(Ok(default), |v| strict_bool(name, &v))
}

/// A secret argument: read once into a [`Secret`] so it can never reach a log by accident.
pub fn secret(ctx: &CommandContext, name: &str) -> Option<Secret> {
    arg(ctx, name).map(Secret::new)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx(args: Value, params: Value) -> CommandContext {
        let params = serde_json::from_value(params).unwrap();
        CommandContext::new("kit-test", args.as_object().cloned().unwrap_or_default(), params)
    }

    /// (argument value, `given`, `arg`): blank is given but not an `arg`, numbers read as text.
    #[test]
    fn given_and_arg_read_values_as_the_reference_does() {
        let cases = [
            (json!("x"), Some("x"), Some("x")),
            (json!(""), Some(""), None),
            (Value::Null, None, None),
            (json!(7), Some("7"), Some("7")),
            (json!(true), Some("true"), Some("true")),
        ];
        for (value, want_given, want_arg) in cases {
            let c = ctx(json!({ "a": value }), json!({}));
            assert_eq!(given(&c, "a").as_deref(), want_given, "{value}");
            assert_eq!(arg(&c, "a").as_deref(), want_arg, "{value}");
        }
        assert_eq!(given(&ctx(json!({}), json!({})), "a"), None);
    }

    #[test]
    fn defaults_params_and_errors_name_the_argument() {
        let c = ctx(json!({"a": "", "b": "v"}), json!({"p": "from-param"}));
        assert_eq!(or_default(&c, "a", "d"), "d");
        assert_eq!(or_default(&c, "b", "d"), "v");
        assert_eq!(arg_or_param(&c, "p").unwrap(), "from-param");
        assert_eq!(arg_or_param(&c, "b").unwrap(), "v");
        assert!(arg_or_param(&c, "q").unwrap_err().to_string().contains("q=<value>"));
        assert!(required(&c, "a").unwrap_err().to_string().contains('a'));
        assert_eq!(secret(&c, "b").map(|s| s.expose().to_owned()).as_deref(), Some("v"));
        assert!(secret(&c, "a").is_none());
    }

    /// (value, parsed): the four words in any case; anything else is an error naming the arg.
    #[test]
    fn booleans_follow_arg_to_boolean() {
        for (v, want) in [("true", true), ("YES", true), ("False", false), ("no", false)] {
            assert_eq!(strict_bool("flag", v).unwrap(), want, "{v}");
            assert_eq!(boolean(&ctx(json!({"flag": v}), json!({})), "flag", !want).unwrap(), want);
        }
        let err = strict_bool("flag", "maybe").unwrap_err().to_string();
        assert!(err.contains("flag") && err.contains("maybe"), "{err}");
        assert!(boolean(&ctx(json!({"flag": ""}), json!({})), "flag", true).unwrap());
    }
}
