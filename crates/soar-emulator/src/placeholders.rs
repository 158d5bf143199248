//! The `${NAME}` placeholders that test data (`test-data/*/conformance.json`, case files) uses for
//! the emulator's own registrations, and their resolution over a JSON value.
//!
//! The values belong here because they are the emulator's: its tenant, its test apps and their
//! secrets, its managed identities, its OAuth proxy registration, the certificate app's generated
//! key and thumbprint, its loopback port and its paging token. The conformance runner and
//! `soar demo` both fill params from [`Emulator::placeholders`] with [`fill_placeholders`]; a
//! caller may add its own names on top (the runner adds its read-only app and a cloud's `_key`
//! values).
//!
//! Decisions:
//! - A placeholder is `${` + letters, digits or `_` + `}`. Any other `$` text is left as it is.
//! - A placeholder that is not in the table is an error naming it (and the known names), not an
//!   empty string or the literal text: a misspelt name in test data is caught where it is written.
//! - Resolution is one pass: a value that itself contains `${...}` is not resolved again.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::server::Emulator;
use crate::{Error, config};

/// Placeholder name (without `${` `}`) -> value.
pub type Placeholders = BTreeMap<String, String>;

impl Emulator {
    /// The values test data may name as `${NAME}`: `TENANT_ID`, `SUBSCRIPTION_ID`,
    /// `SECRET_APP_ID` / `SECRET_APP_SECRET`, `CERT_APP_ID` / `CERT_THUMBPRINT` / `CERT_KEY_PEM`,
    /// `PUBLIC_APP_ID`, `LIMITED_APP_ID` / `LIMITED_APP_SECRET`, `SYSTEM_MI_CLIENT_ID`,
    /// `USER_MI_CLIENT_ID`, `PROXY_REGISTRATION_ID` / `PROXY_TOKEN` / `PROXY_KEY` / `OPROXY_URL`,
    /// `TEST_USER_UPN`, `EMU_HTTPS_PORT` and `SKIPTOKEN_100` (the Graph `$skiptoken` of offset 100).
    pub fn placeholders(&self) -> Result<Placeholders, Error> {
        let mut p = Placeholders::new();
        let mut put = |k: &str, v: &str| {
            p.insert(k.to_owned(), v.to_owned());
        };
        put("EMU_HTTPS_PORT", &self.https_port().to_string());
        put("TENANT_ID", config::DEFAULT_TENANT_ID);
        put("SUBSCRIPTION_ID", config::DEFAULT_SUBSCRIPTION_ID);
        put("SECRET_APP_ID", config::SECRET_APP_ID);
        put("SECRET_APP_SECRET", config::SECRET_APP_SECRET);
        put("CERT_APP_ID", config::CERT_APP_ID);
        put("PUBLIC_APP_ID", config::PUBLIC_APP_ID);
        put("LIMITED_APP_ID", config::LIMITED_APP_ID);
        put("LIMITED_APP_SECRET", config::LIMITED_APP_SECRET);
        put("SYSTEM_MI_CLIENT_ID", config::SYSTEM_MI_CLIENT_ID);
        put("USER_MI_CLIENT_ID", config::USER_MI_CLIENT_ID);
        put("PROXY_REGISTRATION_ID", config::PROXY_REGISTRATION_ID);
        put("PROXY_TOKEN", config::PROXY_TOKEN);
        put("PROXY_KEY", config::PROXY_KEY_B64);
        put("OPROXY_URL", &format!("{}/obtain-token", self.https_base()));
        put("TEST_USER_UPN", config::TEST_USER_UPN);
        put("SKIPTOKEN_100", &crate::apis::skiptoken(100));
        let cert =
            self.cert_files().iter().find(|c| c.client_id == config::CERT_APP_ID).ok_or_else(|| {
                Error::Config(format!(
                    "the emulator wrote no certificate for its certificate app {}",
                    config::CERT_APP_ID
                ))
            })?;
        put("CERT_THUMBPRINT", &cert.thumbprint);
        let key = std::fs::read_to_string(&cert.key)
            .map_err(|source| Error::Io { context: format!("reading {}", cert.key.display()), source })?;
        put("CERT_KEY_PEM", &key);
        Ok(p)
    }
}

/// Replaces every `${NAME}` in the strings of `value` (object keys are left as they are) with
/// its value in `map`. An unknown name is an error that names it and lists the known ones.
pub fn fill_placeholders(value: &Value, map: &Placeholders) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(fill_str(s, map)?),
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| fill_placeholders(x, map)).collect::<Result<_, _>>()?)
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), fill_placeholders(x, map)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// [`fill_placeholders`] for one string.
pub fn fill_str(text: &str, map: &Placeholders) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        let name = &after[..name_len];
        if name.is_empty() || !after[name_len..].starts_with('}') {
            // Not a placeholder: keep the `${` and go on after it.
            out.push_str("${");
            rest = after;
            continue;
        }
        let value = map.get(name).ok_or_else(|| {
            format!(
                "unknown placeholder ${{{name}}} (known: {})",
                map.keys().map(|k| format!("${{{k}}}")).collect::<Vec<_>>().join(", ")
            )
        })?;
        out.push_str(value);
        rest = &after[name_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map() -> Placeholders {
        [("TENANT_ID", "t1"), ("X", "${TENANT_ID}")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn every_string_is_filled_once() {
        let v = json!({"tenant": "${TENANT_ID}", "list": ["a-${TENANT_ID}-${TENANT_ID}"], "n": 1, "${TENANT_ID}": "${X}"});
        assert_eq!(
            fill_placeholders(&v, &map()).unwrap(),
            json!({"tenant": "t1", "list": ["a-t1-t1"], "n": 1, "${TENANT_ID}": "${TENANT_ID}"})
        );
    }

    #[test]
    fn text_that_is_no_placeholder_stays() {
        for s in ["cost $5", "${", "${}", "${a b}", "${TENANT_ID", "$${TENANT_ID}x"] {
            let want = if s == "$${TENANT_ID}x" { "$t1x" } else { s };
            assert_eq!(fill_str(s, &map()).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let e = fill_placeholders(&json!({"a": ["${TENANT}"]}), &map()).unwrap_err();
        assert_eq!(e, "unknown placeholder ${TENANT} (known: ${TENANT_ID}, ${X})");
    }
}
