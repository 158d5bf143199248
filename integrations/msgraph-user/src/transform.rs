//! The reference's output conventions for Graph objects: readable titles, context keys, the
//! `Account` standard output, and the percent-encoding of user ids in paths.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

/// What Python's `urllib.parse.quote` keeps literal by default: ASCII letters and digits,
/// `_ . - ~`, and `/` (its default `safe`). Everything else is `%XX` per UTF-8 byte.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~').remove(b'/');

/// Percent-encodes a user id or UPN the way the reference puts it in a path
/// (`a b@x.com` -> `a%20b%40x.com`; `/` stays literal, as upstream).
pub fn quote(s: &str) -> String {
    utf8_percent_encode(s, QUOTE).to_string()
}

/// `displayName` -> `Display Name`; `id` -> `ID`; `@odata.type` -> `@Odata.Type`.
///
/// The rule: a space before every upper-case letter, whitespace dropped elsewhere, the ends
/// trimmed, then Python's `str.title()` (every run of letters starts upper-case, the rest of the
/// run is lower-case).
pub fn readable_key(key: &str) -> String {
    if key == "id" {
        return "ID".to_owned();
    }
    if key.is_ascii() {
        return readable_ascii_key(key.as_bytes());
    }
    let mut spaced = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_uppercase() {
            spaced.push(' ');
            spaced.push(c);
        } else if !c.is_whitespace() {
            spaced.push(c);
        }
    }
    python_title(spaced.trim())
}

/// [`readable_key`] of an ASCII key, byte by byte (the same steps without `char` case
/// mapping, which is most of a Graph listing's titling cost).
fn readable_ascii_key(key: &[u8]) -> String {
    let mut spaced = Vec::with_capacity(key.len() + 4);
    for &b in key {
        if b.is_ascii_uppercase() {
            spaced.push(b' ');
            spaced.push(b);
        } else if !char::from(b).is_whitespace() {
            spaced.push(b);
        }
    }
    // Only spaces were added and no whitespace kept: trimming is dropping the leading space.
    let start = usize::from(spaced.first() == Some(&b' '));
    let mut in_word = false;
    let mut out = String::with_capacity(spaced.len() - start);
    for &b in &spaced[start..] {
        if b.is_ascii_alphabetic() {
            out.push(char::from(if in_word { b.to_ascii_lowercase() } else { b.to_ascii_uppercase() }));
            in_word = true;
        } else {
            out.push(char::from(b));
            in_word = false;
        }
    }
    out
}

/// Python's `str.title()`.
fn python_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

/// One Graph object in both shapes the reference uses: readable (titles as keys, for tables)
/// and outputs (titles without spaces, for context). `@removed` becomes `Status: deleted`.
pub fn parse_object(obj: &Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    parse_object_with(obj, &mut Keys::default())
}

/// The readable title (and its context key, the title without spaces) of each Graph key seen
/// so far, so that a page of users titles each key once, not once per user.
#[derive(Default)]
struct Keys(Vec<(String, String, String)>);

impl Keys {
    /// The readable title and the context key of `key`.
    fn titles(&mut self, key: &str) -> (&str, &str) {
        let i = match self.0.iter().position(|(k, _, _)| k == key) {
            Some(i) => i,
            None => {
                let title = readable_key(key);
                let output = title.replace(' ', "");
                self.0.push((key.to_owned(), title, output));
                self.0.len() - 1
            }
        };
        let (_, title, output) = &self.0[i];
        (title, output)
    }
}

impl Keys {
    /// The context key of a readable title this table made (the title without spaces).
    fn output_of(&self, title: &str) -> String {
        match self.0.iter().find(|(_, t, _)| t == title) {
            Some((_, _, output)) => output.clone(),
            None => title.replace(' ', ""),
        }
    }
}

fn parse_object_with(obj: &Map<String, Value>, keys: &mut Keys) -> (Map<String, Value>, Map<String, Value>) {
    let mut readable = Map::with_capacity(obj.len() + 1);
    for (k, v) in obj {
        if k != "@removed" {
            readable.insert(keys.titles(k).0.to_owned(), v.clone());
        }
    }
    if obj.contains_key("@removed") {
        readable.insert("Status".to_owned(), json!("deleted"));
    }
    let mut outputs = Map::with_capacity(readable.len());
    for (k, v) in &readable {
        outputs.insert(keys.output_of(k), v.clone());
    }
    (readable, outputs)
}

/// [`parse_object`] over a list; non-object items are skipped.
pub fn parse_list(items: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let mut keys = Keys::default();
    let mut readable = Vec::with_capacity(items.len());
    let mut outputs = Vec::with_capacity(items.len());
    for o in items.iter().filter_map(Value::as_object) {
        let (r, c) = parse_object_with(o, &mut keys);
        readable.push(Value::Object(r));
        outputs.push(Value::Object(c));
    }
    (readable, outputs)
}

/// The `Account` standard output built from one user's context outputs.
pub fn account(outputs: &Map<String, Value>) -> Value {
    // Built by hand: `json!` would copy each value through a serializer.
    let get = |k: &str| outputs.get(k).cloned().unwrap_or(Value::Null);
    let mut email = Map::with_capacity(1);
    email.insert("Address".to_owned(), get("Mail"));
    let mut account = Map::with_capacity(8);
    account.insert("Type".to_owned(), Value::String("Azure AD".to_owned()));
    account.insert("DisplayName".to_owned(), get("DisplayName"));
    account.insert("Username".to_owned(), get("UserPrincipalName"));
    account.insert("JobTitle".to_owned(), get("JobTitle"));
    account.insert("Email".to_owned(), Value::Object(email));
    account.insert("TelephoneNumber".to_owned(), get("MobilePhone"));
    account.insert("ID".to_owned(), get("ID"));
    account.insert("Office".to_owned(), get("OfficeLocation"));
    Value::Object(account)
}

/// The characters Graph refuses in a user id (the reference's set), in the order found.
pub fn unsupported_chars(user: &str) -> Vec<char> {
    let mut found = Vec::new();
    for c in user.chars() {
        if "%&*+/=?`{|}".contains(c) && !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// Splits `key=value<delim>key=value` into a JSON object of strings, as the reference's
/// update and create commands do. Each pair must contain `=`.
pub fn key_values(text: &str, delimiter: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    if delimiter.is_empty() {
        return Err("the delimiter must not be empty".to_owned());
    }
    for pair in text.split(delimiter) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("\"{pair}\" is not a key=value pair"));
        };
        out.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One table of (input, expected) per boundary; the expectations are the reference's own
    /// examples (fact sheet §3) plus the Python `quote`/`title` edge cases.
    #[test]
    fn readable_keys_follow_the_reference() {
        let cases = [
            ("id", "ID"),
            ("displayName", "Display Name"),
            ("businessPhones", "Business Phones"),
            ("@odata.type", "@Odata.Type"),
            ("userPrincipalName", "User Principal Name"),
            ("onPremisesImmutableId", "On Premises Immutable Id"),
            ("extensionAttribute1", "Extension Attribute1"),
            ("temporaryAccessPass", "Temporary Access Pass"),
            ("ID", "I D"),
        ];
        for (input, want) in cases {
            assert_eq!(readable_key(input), want, "{input}");
        }
    }

    /// The ASCII path titles exactly as the general one.
    #[test]
    fn ascii_titles_match_the_general_path() {
        let general = |key: &str| {
            let mut spaced = String::new();
            for c in key.chars() {
                if c.is_uppercase() {
                    spaced.push(' ');
                    spaced.push(c);
                } else if !c.is_whitespace() {
                    spaced.push(c);
                }
            }
            python_title(spaced.trim())
        };
        for key in [
            "displayName",
            "ID",
            "aB",
            "a1b",
            "a1B",
            "@odata.type",
            "x_y-Z",
            "A",
            "",
            " ",
            "a\x0bb",
            "ABC def",
            "onPremisesSamAccountName",
            "extensionAttribute12",
            "Ab  Cd",
            "z.Z",
        ] {
            assert_eq!(readable_ascii_key(key.as_bytes()), general(key), "{key:?}");
        }
    }

    #[test]
    fn quote_matches_python_defaults() {
        let cases = [
            ("adele@contoso.com", "adele%40contoso.com"),
            ("a b", "a%20b"),
            ("x/y", "x/y"),
            ("a_b.c-d~e", "a_b.c-d~e"),
            ("é#?", "%C3%A9%23%3F"),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input}");
        }
    }

    #[test]
    fn parse_object_builds_both_shapes_and_marks_removed() {
        let obj = json!({"id": "1", "displayName": "A", "@removed": {"reason": "deleted"}});
        let (r, c) = parse_object(obj.as_object().unwrap());
        assert_eq!(Value::Object(r), json!({"ID": "1", "Display Name": "A", "Status": "deleted"}));
        assert_eq!(Value::Object(c), json!({"ID": "1", "DisplayName": "A", "Status": "deleted"}));
    }

    #[test]
    fn account_maps_user_outputs() {
        let c = json!({"ID": "1", "DisplayName": "A", "UserPrincipalName": "a@x", "Mail": "m", "MobilePhone": "p"});
        let a = account(c.as_object().unwrap());
        assert_eq!(
            a,
            json!({"Type": "Azure AD", "DisplayName": "A", "Username": "a@x", "JobTitle": null,
                   "Email": {"Address": "m"}, "TelephoneNumber": "p", "ID": "1", "Office": null})
        );
    }

    #[test]
    fn key_values_split_and_report_bad_pairs() {
        assert_eq!(
            Value::Object(key_values("jobTitle=CISO,city=Oslo", ",").unwrap()),
            json!({"jobTitle": "CISO", "city": "Oslo"})
        );
        assert_eq!(Value::Object(key_values("a=b=c", ",").unwrap()), json!({"a": "b=c"}));
        assert!(key_values("jobTitle", ",").unwrap_err().contains("\"jobTitle\""));
        assert_eq!(unsupported_chars("a/b?c/"), vec!['/', '?']);
    }
}
