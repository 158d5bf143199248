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
//!   the same secret inside it (`\"x` is masked whole, not as `\` + mask, for the secret `"x`);
//! - a value shorter than [`MIN_SECRET_CHARS`] (4) characters is not masked, nor is its
//!   base64: masking a one-letter password would replace that letter everywhere and garble every
//!   error text, while hiding nothing an attacker could not guess. This holds for both rules;
//! - a secret already covered whole by what is registered (the same secret given twice, as a
//!   declared param and again by the name rule) adds no forms;
//! - a secret longer than [`LARGE_SECRET_BYTES`] (64 KiB; no credential is that long) is
//!   registered as it is and JSON-escaped only, without the URL, `quote_plus` and base64
//!   encodings: each would cost up to three times its size, for every request;
//! - the integration context's tokens are secrets too ([`Masker::add_context`]): the values of
//!   keys [`is_context_secret_key`] accepts, at any depth (the token cache's keys:
//!   `access_token`, `<scope>_access_token`, `refresh_token`, `current_refresh_token`,
//!   `auth_code`, `device_code`, `code_verifier`). The dispatcher registers the context of the
//!   request before the command runs and the context it returns afterwards, so a server that
//!   echoes a token, old or freshly obtained, is masked in the error entry.
//!
//! `Debug` of a masker shows how many forms it holds, never the forms.

use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;
use soar_protocol::{Entry, Object, ParamValue, Params};

use crate::format::py;

/// The text that replaces a secret, as in the reference.
pub const MASK: &str = "<XX_REPLACED>";
/// Parameter-name fragments that mark a string param as secret (the reference's list).
pub const SENSITIVE_NAME_PARTS: [&str; 7] =
    ["key", "private", "password", "secret", "token", "credentials", "service_account"];
/// Values shorter than this many characters are not masked (see the module docs).
pub const MIN_SECRET_CHARS: usize = 4;
/// Secrets longer than this are masked as they are and JSON-escaped only (see the module docs).
pub const LARGE_SECRET_BYTES: usize = 64 * 1024;
/// Integration-context key endings whose values are tokens or grant material.
const CONTEXT_SECRET_SUFFIXES: [&str; 5] =
    ["access_token", "refresh_token", "auth_code", "device_code", "code_verifier"];

/// Whether a param (or argument) name is secret by the reference's rule: its lower-cased name
/// contains one of [`SENSITIVE_NAME_PARTS`] (`api_key`, `admin_password`, `webhook_token`).
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    SENSITIVE_NAME_PARTS.iter().any(|p| lower.contains(p))
}

/// Whether an integration-context key holds a token or grant material: its lower-cased name
/// ends with `access_token`, `refresh_token`, `auth_code`, `device_code` or `code_verifier`
/// (the auth crate's cache keys, per-scope keys such as `<scope>_access_token` included).
pub fn is_context_secret_key(key: &str) -> bool {
    let lower = key.to_lowercase();
    CONTEXT_SECRET_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Whether `value` is long enough to be masked ([`MIN_SECRET_CHARS`]).
pub fn is_maskable(value: &str) -> bool {
    value.chars().nth(MIN_SECRET_CHARS - 1).is_some()
}

/// Masks registered secrets in text. [`Masker::new`] (also `Default`) follows the reference's
/// rule; [`Masker::with_extra_encodings`] is the runtime's.
///
/// Registering is cheap: a secret's forms are computed when the masker is first used, so a
/// request that fails nothing and logs nothing never encodes its tokens.
#[derive(Clone, Default)]
pub struct Masker {
    /// The registered secrets in order, each with whether its base64 is registered after it.
    secrets: Vec<(String, bool)>,
    /// The forms, in the order they are replaced, computed from `secrets` on first use.
    forms: OnceLock<Vec<String>>,
    /// Whether secrets are also registered in the runtime's extra encodings.
    extra_encodings: bool,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("secrets", &self.secrets.len())
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
        Self { extra_encodings: true, ..Self::default() }
    }

    /// Registers a secret: the reference's four forms of its masked text (CR/LF/TAB as
    /// backslash escapes, escapes turned back into characters, the inside of its JSON string
    /// literal, `quote_plus`-encoded), plus the extra encodings when this masker has them.
    ///
    /// A value shorter than [`MIN_SECRET_CHARS`] is ignored; a value already masked whole adds
    /// nothing; one over [`LARGE_SECRET_BYTES`] is registered as it is and JSON-escaped only.
    pub fn add(&mut self, secret: &str) {
        self.push(secret, false);
    }

    /// Registers a secret and its base64 (what the reference registers for a secret param),
    /// unless it is shorter than [`MIN_SECRET_CHARS`].
    fn add_with_b64(&mut self, secret: &str) {
        self.push(secret, true);
    }

    fn push(&mut self, secret: &str, with_b64: bool) {
        if is_maskable(secret) {
            self.secrets.push((secret.to_owned(), with_b64));
            self.forms = OnceLock::new();
        }
    }

    /// The forms of every registered secret, computed on first use.
    fn forms(&self) -> &[String] {
        self.forms.get_or_init(|| {
            let mut forms = Forms(Vec::new());
            for (secret, with_b64) in &self.secrets {
                forms.add(secret, self.extra_encodings);
                if *with_b64 && secret.len() <= LARGE_SECRET_BYTES {
                    forms.add(&py::b64(secret), self.extra_encodings);
                }
            }
            forms.0
        })
    }

    /// Registers the tokens and grant material of an integration context: every string under a
    /// key [`is_context_secret_key`] accepts, in nested objects and lists of objects too.
    pub fn add_context(&mut self, context: &Object) {
        for (k, v) in context {
            match v {
                Value::String(s) if is_context_secret_key(k) => self.add(s),
                Value::Object(inner) => self.add_context(inner),
                Value::Array(items) => {
                    for item in items {
                        if let Value::Object(inner) = item {
                            self.add_context(inner);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Registers the secrets of a params object as the reference does: every string whose key
    /// (lower-cased) contains a [`SENSITIVE_NAME_PARTS`] word, with its base64; dicts searched
    /// recursively; `identifier:password` in base64 for credential objects.
    pub fn add_params_json(&mut self, params: &Object) {
        for (k, v) in params {
            match v {
                Value::Object(inner) => self.add_params_object(inner),
                Value::String(s) if is_secret_name(k) => self.add_with_b64(s),
                _ => {}
            }
        }
    }

    /// A dict inside params: searched like params, and `identifier:password` in base64 when it
    /// is a credentials object.
    fn add_params_object(&mut self, inner: &Object) {
        self.add_params_json(inner);
        let id = inner.get("identifier").filter(|v| py::truthy(v));
        let pw = inner.get("password").filter(|v| py::truthy(v));
        if let (Some(id), Some(pw)) = (id, pw) {
            self.add_credentials(&py::str_of(id), &py::str_of(pw));
        }
    }

    /// The base64 of `identifier:password` (a Basic authorization header), when the password
    /// is long enough to be masked.
    fn add_credentials(&mut self, identifier: &str, password: &str) {
        if is_maskable(password) {
            self.add(&py::b64(&format!("{identifier}:{password}")));
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
        // The reference's rule read straight from the typed params, without copying them into
        // a JSON object first (a param may be large).
        for (k, v) in &params.0 {
            match v {
                ParamValue::Str(s) if is_secret_name(k) => self.add_with_b64(s),
                ParamValue::Secret(s) => self.add_with_b64(s.expose()),
                ParamValue::Credentials(c) => {
                    let password = c.password.expose();
                    self.add_with_b64(password);
                    if !c.identifier.is_empty() && !password.is_empty() {
                        self.add_credentials(&c.identifier, password);
                    }
                }
                ParamValue::Other(Value::Object(o)) => self.add_params_object(o),
                _ => {}
            }
        }
    }

    /// Whether nothing is registered (masking would change nothing).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The text with every registered form replaced by [`MASK`], in registration order.
    pub fn mask(&self, text: &str) -> String {
        self.masked(text).unwrap_or_else(|| text.to_owned())
    }

    /// Like [`Masker::mask`], but `None` when masking leaves the text as it is.
    pub fn masked(&self, text: &str) -> Option<String> {
        if self.secrets.is_empty() {
            return None;
        }
        masked_with(self.forms(), text)
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

/// `text` with every form replaced by [`MASK`] in order; `None` when nothing changes.
fn masked_with(forms: &[String], text: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for form in forms {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(form.as_str()) {
            out = Some(current.replace(form.as_str(), MASK));
        }
    }
    out.filter(|masked| masked != text)
}

/// The forms of the secrets registered so far, in replacement order.
struct Forms(Vec<String>);

impl Forms {
    fn mask(&self, text: &str) -> String {
        masked_with(&self.0, text).unwrap_or_else(|| text.to_owned())
    }

    /// Adds the forms of one secret (see [`Masker::add`]): each is taken from the secret as
    /// masked by the forms before it.
    fn add(&mut self, secret: &str, extra_encodings: bool) {
        let a = self.mask(secret);
        if a == MASK {
            return;
        }
        if secret.len() > LARGE_SECRET_BYTES {
            let mut forms = vec![json_inside(&a, true), a];
            forms.push(self.mask(&json_inside(secret, false)));
            forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
            forms.dedup();
            self.0.extend(forms.into_iter().filter(|form| is_maskable(form) && form != MASK));
            return;
        }
        let escaped = a.replace('\r', "\\r").replace('\n', "\\n").replace('\t', "\\t");
        let unescaped = a.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t");
        let mut forms = vec![escaped, unescaped, json_inside(&a, true), py::quote_plus(&a)];
        if extra_encodings {
            let extra = [
                json_inside(secret, false),
                percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string(),
                py::quote_plus(secret),
                py::b64(secret),
            ];
            forms.extend(extra.iter().map(|form| self.mask(form)));
            forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        }
        let mut kept: Vec<String> = Vec::with_capacity(forms.len());
        for form in forms {
            if is_maskable(&form) && form != MASK && !kept.contains(&form) {
                kept.push(form);
            }
        }
        self.0.extend(kept);
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
            (&["\"xyz"], "q \\\"xyz q", "q <XX_REPLACED> q"),
            (&["abcd", "abcdef"], "b64 YWJjZGVm", "b64 <XX_REPLACED>"),
            (&["abcd", "x abcd"], "url x%20abcd form x+abcd", "url <XX_REPLACED> form <XX_REPLACED>"),
            (&["a\nbc"], "log a\\nbc", "log <XX_REPLACED>"),
        ];
        for (secrets, text, want) in cases {
            let mut m = Masker::with_extra_encodings();
            for s in secrets {
                m.add(s);
            }
            assert_eq!(m.mask(text), want, "{secrets:?} in {text}");
        }
    }

    /// One to three characters are not masked (nor their base64), by either rule: a one-letter
    /// password would otherwise be replaced in every word of every error text.
    #[test]
    fn values_shorter_than_four_characters_are_not_masked() {
        let text = "Error in API call [401] - bad key k, pin 123, pass abcd, token \u{e9}\u{e9}\u{e9}\u{e9}";
        for mut m in [Masker::new(), Masker::with_extra_encodings()] {
            m.add("k");
            m.add("123");
            m.add_params_json(
                &serde_json::from_str(
                    r#"{"api_key": "k", "password": "abcd", "token": "\u00e9\u00e9\u00e9\u00e9"}"#,
                )
                .unwrap(),
            );
            assert_eq!(
                m.mask(text),
                "Error in API call [401] - bad key k, pin 123, pass <XX_REPLACED>, token <XX_REPLACED>"
            );
            assert_eq!(m.masked("YQ== is the base64 of k"), None);
        }
    }

    #[test]
    fn context_tokens_are_masked_by_key() {
        let context: Object = serde_json::from_str(
            r#"{"access_token": "at-canary-1", "current_refresh_token": "rt-canary-2",
                "https://vault.azure.net/.default_access_token": "scoped-canary-3",
                "device_code": "dc-canary-4", "code_verifier": "cv-canary-5", "auth_code": "ac-canary-6",
                "nested": {"refresh_token": "nested-canary-7"}, "list": [{"Access_Token": "list-canary-8"}],
                "valid_until": "1700000000", "user_code": "ABCD-EFGH", "device_code_interval": 5}"#,
        )
        .unwrap();
        let mut m = Masker::with_extra_encodings();
        m.add_context(&context);
        let text = format!("sent {}", serde_json::to_string(&context).unwrap());
        let masked = m.mask(&text);
        assert!(!masked.contains("canary"), "{masked}");
        assert!(masked.contains("1700000000") && masked.contains("ABCD-EFGH"), "{masked}");
        assert!(is_context_secret_key("graph_access_token") && !is_context_secret_key("access_token_expiry"));
    }

    /// A huge secret is masked as it is and JSON-escaped, without the encodings that would
    /// each cost up to three times its size; a secret registered twice adds nothing.
    #[test]
    fn large_and_repeated_secrets_stay_cheap() {
        let big = "x/".repeat(LARGE_SECRET_BYTES);
        let mut m = Masker::with_extra_encodings();
        m.add(&big);
        let forms: usize = m.forms().iter().map(String::len).sum();
        assert!(forms <= 2 * big.len(), "{forms} bytes of forms for a {} byte secret", big.len());
        assert_eq!(m.mask(&format!("a {big} b")), "a <XX_REPLACED> b");
        let mut once = Masker::with_extra_encodings();
        once.add("Tr0ub4dor&3");
        let count = once.forms().len();
        once.add("Tr0ub4dor&3");
        assert_eq!(once.forms().len(), count);
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut m = Masker::with_extra_encodings();
        m.add("hunter2");
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
