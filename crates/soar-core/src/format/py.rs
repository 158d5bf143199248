//! Python-compatible text primitives the reference's output depends on.
//!
//! The reference formats values with Python's `str()`, `repr()`, `json.dumps` and the
//! Unicode-aware `str.title()` / `str.capitalize()` / `str.split()`; these differ from Rust's
//! `Display` in many small ways (`True` vs `true`, `1e+16` vs `10000000000000000`, quoting of
//! dict reprs). Everything here works on `serde_json::Value`, which is the reference's data model
//! for anything that came from JSON (dict, list, str, int, float, bool, None).

use std::fmt::Write as _;

use serde_json::{Map, Value};
// The JSON writer lives in `soar-pyjson` so that `soar-auth` (which must not depend on this
// crate) writes error bodies the same way; re-exported here so `py::json_dumps` etc. stay.
pub use soar_pyjson::{
    float_repr, json_dumps, number_into, number_text, repr, repr_str, write_joined, write_json,
    write_json_str, write_repr,
};

/// Python truthiness: None, False, 0, 0.0, "", [] and {} are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's type name of a JSON value, as used in its error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `str(v)`: strings as they are, everything else as `repr`.
pub fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// [`str_of`], appended to `out`.
pub fn str_into(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        other => write_repr(out, other),
    }
}

/// Python's `str.isspace` for one character.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c as u32, 0x1c..=0x1f)
}

/// Python's `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.split()` with no argument.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|p| !p.is_empty())
}

/// True for a "cased" character (Python's `title()` lower-cases a letter that follows one).
fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || is_titlecase_letter(c)
}

fn is_titlecase_letter(c: char) -> bool {
    matches!(c as u32, 0x1c5 | 0x1c8 | 0x1cb | 0x1f2 | 0x1f88..=0x1f8f | 0x1f98..=0x1f9f
        | 0x1fa8..=0x1faf | 0x1fbc | 0x1fcc | 0x1ffc)
}

/// The title-case mapping of one character (Python uses it for the first letter of a word).
fn push_title(out: &mut String, c: char) {
    let special = match c as u32 {
        0xdf => Some("Ss"),
        0x1c4..=0x1c6 => Some("\u{1c5}"),
        0x1c7..=0x1c9 => Some("\u{1c8}"),
        0x1ca..=0x1cc => Some("\u{1cb}"),
        0x1f1..=0x1f3 => Some("\u{1f2}"),
        0xfb00 => Some("Ff"),
        0xfb01 => Some("Fi"),
        0xfb02 => Some("Fl"),
        0xfb03 => Some("Ffi"),
        0xfb04 => Some("Ffl"),
        0xfb05 | 0xfb06 => Some("St"),
        0x587 => Some("\u{535}\u{582}"),
        _ => None,
    };
    match special {
        Some(s) => out.push_str(s),
        None if is_titlecase_letter(c) => out.push(c),
        None => out.extend(c.to_uppercase()),
    }
}

/// An approximation of Unicode's Case_Ignorable property (apostrophes, periods, colons,
/// modifier letters, combining marks, format characters).
fn is_case_ignorable(c: char) -> bool {
    matches!(c as u32, 0x27 | 0x2e | 0x3a | 0x5e | 0x60 | 0xa8 | 0xad | 0xaf | 0xb4 | 0xb7 | 0xb8
        | 0x2b0..=0x36f | 0x374 | 0x375 | 0x37a | 0x384 | 0x385 | 0x387 | 0x483..=0x489
        | 0x591..=0x5bd | 0x610..=0x61a | 0x64b..=0x65f | 0x200b..=0x200f | 0x2018 | 0x2019
        | 0x2024 | 0x2027 | 0xfe00..=0xfe0f | 0xfe13 | 0xfe20..=0xfe2f | 0xff07 | 0xff0e | 0xff1a)
}

/// Lower-cases `chars[i]` into `out`, with Python's final-sigma rule for `Σ`.
fn push_lower_at(out: &mut String, chars: &[char], i: usize) {
    let c = chars[i];
    if c != '\u{3a3}' {
        out.extend(c.to_lowercase());
        return;
    }
    let before = chars[..i].iter().rev().find(|c| !is_case_ignorable(**c));
    let mut final_sigma = before.is_some_and(|c| is_cased(*c));
    if final_sigma {
        let after = chars[i + 1..].iter().find(|c| !is_case_ignorable(**c));
        final_sigma = after.is_none_or(|c| !is_cased(*c));
    }
    out.push(if final_sigma { '\u{3c2}' } else { '\u{3c3}' });
}

/// Python's `str.title()`: the first letter of every run of cased letters is title-cased and
/// the rest lower-cased.
pub fn title(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for (i, &c) in chars.iter().enumerate() {
        if prev_cased {
            push_lower_at(&mut out, &chars, i);
        } else {
            push_title(&mut out, c);
        }
        prev_cased = is_cased(c);
    }
    out
}

/// Python's `str.capitalize()`: the first character title-cased, the rest lower-cased.
pub fn capitalize(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if i == 0 {
            push_title(&mut out, c);
        } else {
            push_lower_at(&mut out, &chars, i);
        }
    }
    out
}

/// Python's `str.lower()`.
pub fn lower(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for i in 0..chars.len() {
        push_lower_at(&mut out, &chars, i);
    }
    out
}

/// The value of a Unicode decimal digit (category Nd), which Python's `int()` and `float()`
/// accept in place of ASCII digits.
pub fn decimal_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    const ZEROS: &[u32] = &[
        0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50,
        0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
        0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066,
        0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
        0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
        0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
    ];
    let cp = c as u32;
    ZEROS.iter().find(|&&z| cp >= z && cp < z + 10).map(|z| cp - z)
}

/// Python's `str.isdigit()`: non-empty and every character a digit (decimal digits plus the
/// superscript, subscript and circled digits, which `int()` then rejects).
pub fn is_digit_str(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            decimal_value(c).is_some()
                || matches!(c as u32, 0xb2 | 0xb3 | 0xb9 | 0x2070 | 0x2074..=0x2079 | 0x2080..=0x2089
                    | 0x2460..=0x2468 | 0x2474..=0x247c | 0x2488..=0x2490 | 0x24ea | 0x24f5..=0x24fd
                    | 0x24ff | 0x2776..=0x277e | 0x2780..=0x2788 | 0x278a..=0x2792 | 0x1369..=0x1371
                    | 0x19da | 0x10a40..=0x10a43 | 0x1f100..=0x1f10a)
        })
}

/// Replaces Unicode decimal digits with ASCII ones and removes the single underscores Python
/// allows between digits; `None` when an underscore is misplaced.
fn normalise_number_text(s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).and_then(|&p| decimal_value(p));
            let after = chars.get(i + 1).and_then(|&n| decimal_value(n));
            if before.is_none() || after.is_none() {
                return None;
            }
            continue;
        }
        match decimal_value(c) {
            Some(d) => out.push(char::from_digit(d, 10).unwrap_or('0')),
            None => out.push(c),
        }
    }
    Some(out)
}

/// Python's `int(str)` in base 10; `Err` carries Python's message.
pub fn parse_int(s: &str) -> Result<i128, String> {
    let err = || format!("invalid literal for int() with base 10: {}", repr_str(s));
    let t = strip(s);
    let norm = normalise_number_text(t).ok_or_else(err)?;
    let (neg, digits) = match norm.as_bytes().first() {
        Some(b'-') => (true, &norm[1..]),
        Some(b'+') => (false, &norm[1..]),
        _ => (false, norm.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n: i128 = digits.parse().map_err(|_| err())?;
    Ok(if neg { -n } else { n })
}

/// Python's `float(str)`; `Err` carries Python's message.
pub fn parse_float(s: &str) -> Result<f64, String> {
    let err = || format!("could not convert string to float: {}", repr_str(s));
    let t = strip(s);
    let norm = normalise_number_text(t).ok_or_else(err)?;
    let body = norm.trim_start_matches(['+', '-']);
    let lower = body.to_ascii_lowercase();
    if norm.len() - body.len() > 1 {
        return Err(err());
    }
    let neg = norm.starts_with('-');
    if lower == "inf" || lower == "infinity" {
        return Ok(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if lower == "nan" {
        return Ok(f64::NAN);
    }
    // Rust accepts the same decimal/exponent syntax once the special words are handled.
    if !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return Err(err());
    }
    norm.parse::<f64>().map_err(|_| err())
}

/// Python's `==` between JSON values (`1 == 1.0 == True`, deep for lists and dicts).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => {
                // Integers compare exactly; anything involving a float compares as f64.
                match (a.as_i64().or(bool_int(a)), b.as_i64().or(bool_int(b))) {
                    (Some(i), Some(j)) => i == j,
                    _ => x == y,
                }
            }
            _ => false,
        },
    }
}

fn bool_int(v: &Value) -> Option<i64> {
    v.as_bool().map(i64::from)
}

/// Base64 (standard alphabet, padded) of UTF-8 text, as the reference's `b64_encode` gives.
pub fn b64(text: &str) -> String {
    b64_bytes(text.as_bytes())
}

/// Standard padded base64 of bytes.
pub fn b64_bytes(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes standard padded base64.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// Python's `urllib.parse.quote_plus(text)`.
pub fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A JSON object with one key (a small constructor used by the formatter).
pub fn object1(key: impl Into<String>, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), value);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One check per case: the Rust output must equal what Python 3.11 prints.
    fn check(got: String, want: &str) {
        assert_eq!(got, want);
    }

    #[test]
    fn repr_and_json_match_python() {
        check(
            repr(&json!([{"r": "admin", "ok": true}, null, 2.0, [2, "z"]])),
            "[{'r': 'admin', 'ok': True}, None, 2.0, [2, 'z']]",
        );
        check(repr(&json!({"note": "don't"})), "{'note': \"don't\"}");
        check(repr(&json!("a'b\"c\n")), "'a\\'b\"c\\n'");
        check(
            json_dumps(&json!({"id": 3, "é": "ñ", "x": [1.5, null]}), false),
            "{\"id\": 3, \"é\": \"ñ\", \"x\": [1.5, null]}",
        );
        check(json_dumps(&json!({"é": "\u{1F600}"}), true), "{\"\\u00e9\": \"\\ud83d\\ude00\"}");
    }

    #[test]
    fn case_mappings_match_python() {
        check(title("v4addr"), "V4Addr");
        check(title("o'neil"), "O'Neil");
        check(title("CODE"), "Code");
        check(title("straße"), "Straße");
        check(title("ßa"), "Ssa");
        check(capitalize("v4addr"), "V4addr");
        check(capitalize("ID"), "Id");
        check(capitalize("AΣ"), "Aς");
        check(title("ΣΣ ΣaΣ."), "Σς Σaς.");
    }

    #[test]
    fn number_parsing_matches_python() {
        assert_eq!(parse_int(" 42 "), Ok(42));
        assert_eq!(parse_int("1_000"), Ok(1000));
        assert_eq!(parse_int("١٢"), Ok(12));
        assert_eq!(parse_int("1__0"), Err("invalid literal for int() with base 10: '1__0'".to_owned()));
        assert_eq!(parse_float("1e3"), Ok(1000.0));
        assert_eq!(parse_float("-3.99"), Ok(-3.99));
        assert!(parse_float("0x10").is_err());
        assert!(parse_float("abc").is_err());
        assert!(is_digit_str("²") && parse_int("²").is_err());
    }

    #[test]
    fn base64_round_trips() {
        check(b64("svc:Tr0ub4dor&3"), "c3ZjOlRyMHViNGRvciYz");
        assert_eq!(b64_decode("aWQsbmFtZQp1MSxab8OrCg==").unwrap(), "id,name\nu1,Zoë\n".as_bytes());
        check(quote_plus("Tr0ub4dor&3 a/b~"), "Tr0ub4dor%263+a%2Fb~");
    }
}
