//! Masking of the request's secret values in error entries.
//!
//! The reference masks secrets in every error it reports (war-room.md §5.2): each secret value
//! becomes `<XX_REPLACED>`, in its plain form and in the encoded forms it is likely to take in a
//! message (inside a JSON string, URL form-encoded, base64). The dispatcher applies this to the
//! text of every Type 4 entry, whoever built it, so a command may quote an upstream error.

use base64::Engine as _;
use serde_json::Value;
use soar_protocol::Entry;

/// The text that replaces a secret, as in the reference.
pub const MASK: &str = "<XX_REPLACED>";

/// The forms of the secrets of one request, longest first (so a longer form is replaced
/// before a shorter one inside it).
#[derive(Default)]
pub(crate) struct Masker {
    forms: Vec<String>,
}

impl Masker {
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let forms = [
            secret.to_owned(),
            json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_owned(),
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string(),
            form_encode(secret),
            base64::engine::general_purpose::STANDARD.encode(secret),
        ];
        for form in forms {
            if !form.is_empty() && !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    pub(crate) fn mask(&self, text: &str) -> Option<String> {
        if !self.forms.iter().any(|f| text.contains(f.as_str())) {
            return None;
        }
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), MASK);
            }
        }
        Some(out)
    }

    /// Masks the text fields of an error entry in place.
    pub(crate) fn mask_entry(&self, entry: &mut Entry) {
        for field in [&mut entry.contents, &mut entry.human_readable] {
            if let Value::String(s) = field
                && let Some(masked) = self.mask(s)
            {
                *s = masked;
            }
        }
    }
}

/// `application/x-www-form-urlencoded` (Python's `quote_plus`): space becomes `+`.
fn form_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b' ');
    percent_encoding::utf8_percent_encode(s, SET).to_string().replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_encoded_forms() {
        let mut m = Masker::default();
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
            assert_eq!(m.mask(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(m.mask("nothing secret here"), None);
    }
}
