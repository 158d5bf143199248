//! Header and key transforms (`pascalToSpace`, `underscoreToCamelCase`, `string_to_table_header`,
//! `string_to_context_key`, `camelize`, `camelize_string`), with Python's Unicode-aware
//! `title()` / `capitalize()` rules.

use serde_json::{Map, Value};

use super::py;
use crate::Error;

/// A shipped header transform, chosen by the reference's function name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderTransform {
    /// `pascalToSpace`: `ThreatScore` -> `Threat Score`.
    PascalToSpace,
    /// `underscoreToCamelCase`: `user_id` -> `UserId`.
    UnderscoreToCamelCase,
    /// `string_to_table_header`: `user_principal_name` -> `User Principal Name`.
    StringToTableHeader,
    /// `string_to_context_key`: `user_principal_name` -> `UserPrincipalName`.
    StringToContextKey,
    /// `camelize_string` with its defaults (`_`, upper camel): `ip_address` -> `IpAddress`.
    CamelizeString,
}

impl HeaderTransform {
    /// The transform with this reference name (`pascalToSpace`, `underscoreToCamelCase`,
    /// `string_to_table_header`, `string_to_context_key`, `camelize_string`).
    pub fn from_name(name: &str) -> Result<Self, Error> {
        Ok(match name {
            "pascalToSpace" => HeaderTransform::PascalToSpace,
            "underscoreToCamelCase" => HeaderTransform::UnderscoreToCamelCase,
            "string_to_table_header" => HeaderTransform::StringToTableHeader,
            "string_to_context_key" => HeaderTransform::StringToContextKey,
            "camelize_string" => HeaderTransform::CamelizeString,
            other => {
                return Err(Error::Command(format!(
                    "Unknown headerTransform \"{other}\": use pascalToSpace, underscoreToCamelCase, \
                     string_to_table_header, string_to_context_key or camelize_string"
                )));
            }
        })
    }

    /// Applies the transform to one header.
    pub fn apply(self, header: &str) -> String {
        match self {
            HeaderTransform::PascalToSpace => pascal_to_space(header),
            HeaderTransform::UnderscoreToCamelCase => underscore_to_camel_case(header, true),
            HeaderTransform::StringToTableHeader => string_to_table_header(header),
            HeaderTransform::StringToContextKey => string_to_context_key(header),
            HeaderTransform::CamelizeString => camelize_string(header, "_", true),
        }
    }
}

/// The byte ranges of the matches of the ASCII pattern `[A-Z]?[a-z]+`, left to right.
fn pascal_tokens(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let mut j = i;
        if b[j].is_ascii_uppercase() && b.get(j + 1).is_some_and(u8::is_ascii_lowercase) {
            j += 1;
        }
        if b[j].is_ascii_lowercase() {
            while j < b.len() && b[j].is_ascii_lowercase() {
                j += 1;
            }
            tokens.push((start, j));
            i = j;
        } else {
            i += 1;
        }
    }
    tokens
}

/// `pascalToSpace`: each match of `[A-Z]?[a-z]+` becomes ` Match ` (title-cased), then runs of
/// whitespace collapse to one space and the ends are trimmed.
pub fn pascal_to_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut last = 0;
    for (start, end) in pascal_tokens(s) {
        out.push_str(&s[last..start]);
        out.push(' ');
        out.push_str(&py::title(&s[start..end]));
        out.push(' ');
        last = end;
    }
    out.push_str(&s[last..]);
    py::split_whitespace(&out).collect::<Vec<_>>().join(" ")
}

/// `underscoreToCamelCase(s, upper_camel)`.
pub fn underscore_to_camel_case(s: &str, upper_camel: bool) -> String {
    camelize_string(s, "_", upper_camel)
}

/// `string_to_table_header`: `_` to spaces, split on whitespace, capitalize each word.
pub fn string_to_table_header(s: &str) -> String {
    let spaced = s.replace('_', " ");
    py::split_whitespace(&spaced).map(py::capitalize).collect::<Vec<_>>().join(" ")
}

/// `string_to_context_key`: split on `_`, capitalize each part, join with nothing.
pub fn string_to_context_key(s: &str) -> String {
    s.split('_').map(py::capitalize).collect()
}

/// `camelize_string(s, delim, upper_camel)`: the first part `title()` (or `lower()`), the rest
/// `title()`, joined with nothing. An empty `delim` is treated as "no split".
pub fn camelize_string(s: &str, delim: &str, upper_camel: bool) -> String {
    let parts: Vec<&str> = if delim.is_empty() { vec![s] } else { s.split(delim).collect() };
    let mut out = String::with_capacity(s.len());
    for (i, part) in parts.iter().enumerate() {
        if i == 0 && !upper_camel {
            out.push_str(&py::lower(part));
        } else {
            out.push_str(&py::title(part));
        }
    }
    out
}

/// `camelize(src, delim, upper_camel)`: camelises the keys of a dict, or of every dict in a
/// list (not recursive into values). When two keys collide the last value wins, at the first
/// key's position.
pub fn camelize(src: &Value, delim: &str, upper_camel: bool) -> Result<Value, Error> {
    if delim.is_empty() {
        return Err(Error::Command("empty separator".to_owned()));
    }
    match src {
        Value::Array(items) => items
            .iter()
            .map(|item| camelize(item, delim, upper_camel))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(camelize_string(k, delim, upper_camel), v.clone());
            }
            Ok(Value::Object(out))
        }
        other => Err(Error::Command(format!("'{}' object has no attribute 'items'", py::type_name(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One check per (function, input, expected) row; the expectations are war-room.md §8's.
    fn check(f: fn(&str) -> String, input: &str, want: &str) {
        assert_eq!(f(input), want, "input {input:?}");
    }

    #[test]
    fn pascal_to_space_examples() {
        for (i, w) in [
            ("ThreatScore", "Threat Score"),
            ("thisIsIPAddressName", "This Is IP Address Name"),
            ("HTTPResponseCode", "HTTP Response Code"),
            ("mail2", "Mail 2"),
            ("snake_case_key", "Snake _ Case _ Key"),
            ("a1B2c3", "A 1B2 C 3"),
            ("ÜberName", "Ü Ber Name"),
            ("ID", "ID"),
            // A regex substitution, not a replace-all of each token: `is` inside `This` stays.
            ("isThis", "Is This"),
        ] {
            check(pascal_to_space, i, w);
        }
    }

    #[test]
    fn underscore_and_table_header_examples() {
        let upper = |s: &str| underscore_to_camel_case(s, true);
        for (i, w) in [
            ("hello_world", "HelloWorld"),
            ("user_id", "UserId"),
            ("already_CamelCase", "AlreadyCamelcase"),
            ("ip_v4addr", "IpV4Addr"),
            ("__x", "X"),
        ] {
            check(upper, i, w);
        }
        assert_eq!(underscore_to_camel_case("ETAG__value_ID", false), "etagValueId");
        for (i, w) in [
            ("one_two", "One Two"),
            ("userPrincipalName", "Userprincipalname"),
            ("ID", "Id"),
            ("lastSignIn__DateTime", "Lastsignin Datetime"),
            ("a.b_c", "A.b C"),
        ] {
            check(string_to_table_header, i, w);
        }
        check(string_to_context_key, "user_principal_name", "UserPrincipalName");
    }

    #[test]
    fn camelize_keys() {
        let got = camelize(&json!({"start date": 1, "end_date": 2, "IP address": 3}), " ", true).unwrap();
        assert_eq!(serde_json::to_string(&got).unwrap(), r#"{"StartDate":1,"End_Date":2,"IpAddress":3}"#);
        let got = camelize(&json!({"user_name": 1, "USER__NAME": 2}), "_", false).unwrap();
        assert_eq!(serde_json::to_string(&got).unwrap(), r#"{"userName":2}"#);
    }
}
