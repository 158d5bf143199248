//! Secret masking: the one [`Masker`] of the crate, used by the runtime and by the formatter.
//!
//! The reference masks secrets in every error it reports (war-room.md §5.2): each registered
//! string becomes `<XX_REPLACED>` in four forms, with CR/LF/TAB written as backslash escapes,
//! with such escapes turned back into characters, as the inside of its JSON string literal
//! (`ensure_ascii`) and `quote_plus`-encoded. Before its forms are taken, a new string is masked
//! with what is already registered, and forms are replaced in registration order; so a secret
//! that contains an earlier one is still caught whole.
//!
//! Two users, one implementation:
//! - the formatter ([`crate::format::entries::return_error`] and the golden cases) uses
//!   [`Masker::new`], the reference's rule exactly, and registers params with
//!   [`Masker::add_params_json`] (the reference's name rule) or [`Masker::from_params`];
//! - the dispatcher uses [`Masker::with_extra_encodings`] for the request's secrets (secret
//!   params, credential passwords, secret args) and masks the text of every Type 4 entry,
//!   whoever built it, so a command may quote an upstream error.
//!
//! Decisions (the runtime's masker, where the reference is silent):
//! - it also registers, for each secret, its encodings taken from the secret as it is (not from
//!   its masked text): the inside of its JSON string without ASCII escapes (what serde_json
//!   writes), URL-encoded with every non-alphanumeric byte escaped, `quote_plus`-encoded, and
//!   base64. Each is masked with what was registered before, like the reference's own forms;
//! - one secret's forms are tried longest first, so a form is never cut by a shorter form of
//!   the same secret inside it (`\"x` is masked whole, not as `\` + mask, for the secret `"x`).
//!
//! `Debug` of a masker shows how many forms it holds, never the forms.

use std::fmt;

use serde_json::Value;
use soar_protocol::{Entry, Object, ParamValue, Params};

use crate::format::py;

/// The text that replaces a secret, as in the reference.
pub const MASK: &str = "<XX_REPLACED>";
/// Parameter-name fragments that mark a string param as secret (the reference's list).
pub const SENSITIVE_NAME_PARTS: [&str; 7] =
    ["key", "private", "password", "secret", "token", "credentials", "service_account"];

/// Masks registered secrets in text. [`Masker::new`] (also `Default`) follows the reference's
/// rule; [`Masker::with_extra_encodings`] is the runtime's.
#[derive(Clone, Default)]
pub struct Masker {
    /// The registered forms, in the order they are replaced.
    replace: Vec<String>,
    /// Whether [`Masker::add`] also registers the runtime's extra encodings.
    extra_encodings: bool,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("forms", &self.replace.len())
            .field("extra_encodings", &self.extra_encodings)
            .finish()
    }
}

impl Masker {
    /// A masker that masks nothing yet and registers secrets by the reference's rule.
    pub fn new() -> Self {
        Self::default()
    }

    /// A masker that masks nothing yet and registers each secret in the reference's forms and
    /// in the runtime's extra encodings (see the module docs).
    pub fn with_extra_encodings() -> Self {
        Self { replace: Vec::new(), extra_encodings: true }
    }

    /// Registers a secret: the reference's four forms of its masked text (CR/LF/TAB as
    /// backslash escapes, escapes turned back into characters, the inside of its JSON string
    /// literal, `quote_plus`-encoded), plus the extra encodings when this masker has them.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let a = self.mask(secret);
        let escaped = a.replace('\r', "\\r").replace('\n', "\\n").replace('\t', "\\t");
        let unescaped = a.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t");
        let mut forms = vec![escaped, unescaped, json_inside(&a, true), py::quote_plus(&a)];
        if self.extra_encodings {
            let extra = [
                json_inside(secret, false),
                percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string(),
                py::quote_plus(secret),
                py::b64(secret),
            ];
            forms.extend(extra.iter().map(|form| self.mask(form)));
            forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        }
        self.replace.extend(forms.into_iter().filter(|form| !form.is_empty()));
    }

    /// Registers the secrets of a params object as the reference does: every string whose key
    /// (lower-cased) contains a [`SENSITIVE_NAME_PARTS`] word, with its base64; dicts searched
    /// recursively; `identifier:password` in base64 for credential objects.
    pub fn add_params_json(&mut self, params: &Object) {
        for (k, v) in params {
            match v {
                Value::Object(inner) => {
                    self.add_params_json(inner);
                    let id = inner.get("identifier").filter(|v| py::truthy(v));
                    let pw = inner.get("password").filter(|v| py::truthy(v));
                    if let (Some(id), Some(pw)) = (id, pw) {
                        self.add(&py::b64(&format!("{}:{}", py::str_of(id), py::str_of(pw))));
                    }
                }
                Value::String(s) => {
                    let lower = k.to_lowercase();
                    if SENSITIVE_NAME_PARTS.iter().any(|p| lower.contains(p)) {
                        self.add(s);
                        self.add(&py::b64(s));
                    }
                }
                _ => {}
            }
        }
    }

    /// A reference-rule masker for an instance's params. Params the integration declared secret
    /// are masked whatever their name (a superset of the reference's rule).
    pub fn from_params(params: &Params) -> Self {
        let mut m = Masker::new();
        m.add_params(params);
        m
    }

    /// Registers an instance's params as [`Masker::from_params`] does: declared secrets whatever
    /// their name, and the reference's name rule for the rest.
    pub fn add_params(&mut self, params: &Params) {
        let m = self;
        let mut plain = Object::new();
        for (k, v) in &params.0 {
            match v {
                ParamValue::Str(s) => {
                    plain.insert(k.clone(), Value::String(s.clone()));
                }
                ParamValue::Secret(s) => {
                    m.add(s.expose());
                    m.add(&py::b64(s.expose()));
                }
                ParamValue::Credentials(c) => {
                    let mut cred = Object::new();
                    cred.insert("identifier".into(), Value::String(c.identifier.clone()));
                    cred.insert("password".into(), Value::String(c.password.expose().to_owned()));
                    plain.insert(k.clone(), Value::Object(cred));
                }
                ParamValue::Other(Value::Object(o)) => {
                    plain.insert(k.clone(), Value::Object(o.clone()));
                }
                _ => {}
            }
        }
        m.add_params_json(&plain);
    }

    /// Whether nothing is registered (masking would change nothing).
    pub fn is_empty(&self) -> bool {
        self.replace.is_empty()
    }

    /// The text with every registered form replaced by [`MASK`], in registration order.
    pub fn mask(&self, text: &str) -> String {
        self.masked(text).unwrap_or_else(|| text.to_owned())
    }

    /// Like [`Masker::mask`], but `None` when masking leaves the text as it is.
    pub fn masked(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for form in &self.replace {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(form.as_str()) {
                out = Some(current.replace(form.as_str(), MASK));
            }
        }
        out.filter(|masked| masked != text)
    }

    /// Masks the text fields (`Contents`, `HumanReadable`) of an entry in place.
    pub(crate) fn mask_entry(&self, entry: &mut Entry) {
        for field in [&mut entry.contents, &mut entry.human_readable] {
            if let Value::String(s) = field
                && let Some(masked) = self.masked(s)
            {
                *s = masked;
            }
        }
    }
}

/// The inside of `s`'s JSON string literal, as Python's `json.dumps` writes it.
fn json_inside(s: &str, ensure_ascii: bool) -> String {
    let mut js = String::new();
    py::write_json_str(&mut js, s, ensure_ascii);
    js[1..js.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_encoded_forms() {
        let mut m = Masker::with_extra_encodings();
        m.add("Tr0ub4dor&3 \"x\"");
        m.add("abc/def");
        let cases = [
            ("pw Tr0ub4dor&3 \"x\" end", "pw <XX_REPLACED> end"),
            ("json \"Tr0ub4dor&3 \\\"x\\\"\"", "json \"<XX_REPLACED>\""),
            ("form Tr0ub4dor%263+%22x%22", "form <XX_REPLACED>"),
            ("url abc%2Fdef", "url <XX_REPLACED>"),
            ("b64 YWJjL2RlZg==", "b64 <XX_REPLACED>"),
        ];
        for (text, want) in cases {
            assert_eq!(m.masked(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(m.masked("nothing secret here"), None);
    }

    /// The runtime's decisions: a form is not cut by a shorter one of the same secret, a secret
    /// holding an earlier one is masked whole in every encoding, and the reference's forms
    /// (escaped newlines) are masked too.
    #[test]
    fn extra_encodings_mask_whole_forms() {
        let cases: [(&[&str], &str, &str); 4] = [
            (&["\"x"], "q \\\"x q", "q <XX_REPLACED> q"),
            (&["abc", "abcdef"], "b64 YWJjZGVm", "b64 <XX_REPLACED>"),
            (&["abc", "x abc"], "url x%20abc form x+abc", "url <XX_REPLACED> form <XX_REPLACED>"),
            (&["a\nb"], "log a\\nb", "log <XX_REPLACED>"),
        ];
        for (secrets, text, want) in cases {
            let mut m = Masker::with_extra_encodings();
            for s in secrets {
                m.add(s);
            }
            assert_eq!(m.mask(text), want, "{secrets:?} in {text}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut m = Masker::with_extra_encodings();
        m.add("hunter2");
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
