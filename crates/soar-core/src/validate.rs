//! Arguments and params checked against the command's and integration's specs.
//!
//! Arguments ([`check_args`]):
//! - an argument that is absent, `null` or an empty/blank string is "not given": it gets its
//!   default, or is reported missing when required (the first missing one is named);
//! - an argument with `options` must take one of them (each item, for a list argument); the
//!   value of a secret argument is never quoted in the error;
//! - argument values may be any JSON value (engines send strings, but context-fed lists and
//!   numbers are common); the command's arg helpers convert them;
//! - unknown arguments are refused with an error naming them and the accepted ones, because a
//!   typo would otherwise be silently ignored. The engine's generic arguments
//!   ([`ENGINE_ARGS`], e.g. `using`, `execution-timeout`) are dropped instead, unless the command
//!   declares one of them.
//!
//! Params ([`check_params`]):
//! - params declared `secret` or `credentials` that arrive as strings are wrapped as
//!   [`soar_protocol::Secret`]; credential objects always hold their password as a `Secret`;
//! - a param that is absent, `null`, blank, or a credentials object with both parts empty is
//!   "not set": it gets its default, or, when required, every such param is named in one error;
//! - select options of params are not checked here (the engine's form enforces them, and
//!   integrations word their own errors about them).

use serde_json::Value;
use soar_protocol::{ParamValue, Params, Secret};

use crate::redact::Masker;
use crate::registry::split_values;
use crate::{ArgSpec, Error, Object, ParamSpec};

/// Arguments every engine command accepts; the engine acts on them, the integration does not.
pub const ENGINE_ARGS: &[&str] = &[
    "using",
    "using-brand",
    "using-category",
    "execution-timeout",
    "extend-context",
    "ignore-outputs",
    "raw-response",
    "retry-count",
    "retry-interval",
    "auto-extract",
];

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Checks `args` against `specs`, fills defaults and records secret values in `masker`.
pub(crate) fn check_args(
    command: &str,
    specs: &[ArgSpec],
    mut args: Object,
    masker: &mut Masker,
) -> Result<Object, Error> {
    // Secrets first, so that every later error about this request is masked.
    for spec in specs.iter().filter(|s| s.secret) {
        if let Some(text) = args.get(spec.name).and_then(scalar_text) {
            masker.add(&text);
        }
    }
    let mut unknown = Vec::new();
    args.retain(|name, _| {
        if specs.iter().any(|s| s.name == name) {
            return true;
        }
        if !ENGINE_ARGS.contains(&name.as_str()) {
            unknown.push(name.clone());
        }
        false
    });
    if !unknown.is_empty() {
        return Err(Error::UnknownArgs {
            command: command.to_owned(),
            unknown,
            accepted: specs.iter().map(|s| s.name.to_owned()).collect(),
        });
    }
    for spec in specs {
        let given = args.get(spec.name).is_some_and(|v| !is_blank(v));
        if !given {
            args.shift_remove(spec.name);
            match spec.default {
                Some(default) => {
                    args.insert(spec.name.to_owned(), Value::String(default.to_owned()));
                }
                None if spec.required => return Err(Error::MissingArg(spec.name.to_owned())),
                None => {}
            }
            continue;
        }
        if !spec.options.is_empty()
            && let Some(value) = args.get(spec.name)
        {
            check_options(spec, value)?;
        }
    }
    Ok(args)
}

fn check_options(spec: &ArgSpec, value: &Value) -> Result<(), Error> {
    let items: Vec<String> = match value {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        other => match scalar_text(other) {
            Some(text) => split_values(&text, spec.is_array).map(str::to_owned).collect(),
            None => {
                return Err(Error::InvalidArg {
                    name: spec.name.to_owned(),
                    reason: format!("expected one of {}, got a JSON object.", spec.options.join(", ")),
                });
            }
        },
    };
    for item in items {
        if !spec.options.contains(&item.as_str()) {
            let shown = if spec.secret { "the given value".to_owned() } else { format!("{item:?}") };
            return Err(Error::InvalidArg {
                name: spec.name.to_owned(),
                reason: format!("{shown} is not one of {}.", spec.options.join(", ")),
            });
        }
    }
    Ok(())
}

/// Wraps secret params, fills defaults, names missing required params, and records every
/// secret value in `masker`.
pub(crate) fn check_params(
    specs: &[ParamSpec],
    params: &mut Params,
    masker: &mut Masker,
) -> Result<(), Error> {
    let mut missing = Vec::new();
    for spec in specs {
        if spec.secret || spec.credentials {
            params.mark_secret(spec.name);
        }
        let set = match params.get(spec.name) {
            None | Some(ParamValue::Other(Value::Null)) => false,
            Some(ParamValue::Str(s)) => !s.trim().is_empty(),
            Some(ParamValue::Secret(s)) => !s.is_empty(),
            Some(ParamValue::Credentials(c)) => !(c.identifier.trim().is_empty() && c.password.is_empty()),
            Some(_) => true,
        };
        if set {
            continue;
        }
        match spec.default {
            Some(default) => {
                let value = if spec.secret {
                    ParamValue::Secret(Secret::new(default))
                } else {
                    ParamValue::Str(default.to_owned())
                };
                params.0.insert(spec.name.to_owned(), value);
            }
            None if spec.required => missing.push(if spec.display.is_empty() {
                spec.name.to_owned()
            } else {
                format!("{} ({})", spec.name, spec.display)
            }),
            None => {}
        }
    }
    // Every secret the request carries, declared or not: credential passwords and wrapped params.
    for value in params.0.values() {
        match value {
            ParamValue::Secret(s) => masker.add(s.expose()),
            ParamValue::Credentials(c) => masker.add(c.password.expose()),
            _ => {}
        }
    }
    match missing.len() {
        0 => Ok(()),
        1 => Err(Error::MissingParam(missing.remove(0))),
        _ => Err(Error::MissingParams(missing)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    const SPECS: &[ArgSpec] = &[
        ArgSpec {
            name: "user",
            description: "",
            required: true,
            default: None,
            options: &[],
            is_array: false,
            secret: false,
        },
        ArgSpec {
            name: "mode",
            description: "",
            required: false,
            default: Some("fast"),
            options: &["fast", "slow"],
            is_array: false,
            secret: false,
        },
        ArgSpec {
            name: "fields",
            description: "",
            required: false,
            default: None,
            options: &["a", "b"],
            is_array: true,
            secret: false,
        },
        ArgSpec {
            name: "pin",
            description: "",
            required: false,
            default: None,
            options: &["1111"],
            is_array: false,
            secret: true,
        },
    ];

    /// The one check of this boundary: args in, checked args or the error text out.
    fn check(args: Value, want: Result<Value, &str>) {
        let got = check_args("x-cmd", SPECS, obj(args.clone()), &mut Masker::default())
            .map(Value::Object)
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_owned), "args {args}");
    }

    #[test]
    fn args_are_checked_and_completed() {
        check(json!({"user": "u"}), Ok(json!({"user": "u", "mode": "fast"})));
        check(json!({"user": "u", "mode": ""}), Ok(json!({"user": "u", "mode": "fast"})));
        check(json!({"user": "u", "using": "inst"}), Ok(json!({"user": "u", "mode": "fast"})));
        check(
            json!({"user": "u", "fields": "a, b"}),
            Ok(json!({"user": "u", "fields": "a, b", "mode": "fast"})),
        );
        check(
            json!({"user": "u", "fields": ["a"]}),
            Ok(json!({"user": "u", "fields": ["a"], "mode": "fast"})),
        );
        check(json!({"user": 5}), Ok(json!({"user": 5, "mode": "fast"})));
        check(json!({}), Err("Missing required argument: user. Add user=<value> to the command."));
        check(
            json!({"user": "  "}),
            Err("Missing required argument: user. Add user=<value> to the command."),
        );
        check(
            json!({"user": "u", "mode": "medium"}),
            Err("Invalid value for argument mode: \"medium\" is not one of fast, slow."),
        );
        check(
            json!({"user": "u", "fields": "a,c"}),
            Err("Invalid value for argument fields: \"c\" is not one of a, b."),
        );
        check(
            json!({"user": "u", "pin": "9999"}),
            Err("Invalid value for argument pin: the given value is not one of 1111."),
        );
        check(
            json!({"user": "u", "usr": "v", "limt": 1}),
            Err("Unknown arguments for x-cmd: usr, limt. Accepted arguments: user, mode, fields, pin."),
        );
    }

    #[test]
    fn params_are_wrapped_defaulted_and_required() {
        let specs = [
            ParamSpec { name: "url", display: "Server URL", required: true, ..ParamSpec::default() },
            ParamSpec { name: "key", secret: true, required: true, ..ParamSpec::default() },
            ParamSpec { name: "creds", credentials: true, required: true, ..ParamSpec::default() },
            ParamSpec { name: "cloud", default: Some("Worldwide"), ..ParamSpec::default() },
        ];
        let mut masker = Masker::default();
        let mut params: Params =
            serde_json::from_value(json!({"url": "https://h", "key": "k-canary", "creds": {"identifier": "id", "password": "p-canary"}}))
                .unwrap();
        check_params(&specs, &mut params, &mut masker).unwrap();
        assert_eq!(params.str("cloud").as_deref(), Some("Worldwide"));
        assert_eq!(params.secret("key").unwrap().expose(), "k-canary");
        assert!(!format!("{params:?}").contains("canary"));
        assert_eq!(masker.masked("k-canary p-canary").as_deref(), Some("<XX_REPLACED> <XX_REPLACED>"));

        let mut params: Params =
            serde_json::from_value(json!({"url": "", "creds": {"identifier": "", "password": ""}})).unwrap();
        let err = check_params(&specs, &mut params, &mut Masker::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Missing required parameters: url (Server URL), key, creds. Set them in the instance configuration."
        );
    }
}
