//! Python-compatible JSON text, shared by crates that must not depend on each other.
//!
//! The reference (Python) writes JSON with `json.dumps`, whose default layout differs from
//! `serde_json`'s compact one: separators are `", "` and `": "`, non-ASCII is escaped as
//! `\uXXXX` when `ensure_ascii` is on, and floats use Python's `repr` (`1e+16`, `2.0`,
//! `0.30000000000000004`). Texts a person reads (War Room output in `soar-core`, API error texts
//! in `soar-auth`) must match the reference byte for byte, so both use this one writer.
//!
//! Decisions where the reference is silent:
//! - The crate depends on `serde_json` only and works on `serde_json::Value`, which is the
//!   reference's data model for anything that came from JSON. Insertion order is kept (the
//!   workspace enables `preserve_order`), as Python's dicts keep it.
//! - `serde_json` is built with `float_roundtrip`, so a float parsed from a body is the exact
//!   double Python would parse and prints back with the same digits.
//! - Nothing here can fail, so the crate has no error type.
//! - `write_list` and `write_dict` take the item writers as arguments: `json.dumps` and Python's
//!   `repr` share the `[a, b]` / `{k: v}` layout, and `soar-core` builds its `repr` on them.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// Python's `repr(float)` (also what `json.dumps` writes for a float).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".to_owned() } else { "-inf".to_owned() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".to_owned() } else { "0.0".to_owned() };
    }
    // `{:e}` gives the shortest round-trip digits, like Python's repr, in the form `d.ddde±x`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut exp = exp;
    if let Some((d, e)) = half_even_tie(f.abs(), &digits, exp) {
        digits = d;
        exp = e;
    }
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// When the exact value of `abs` lies exactly halfway between two shortest candidates, Python
/// picks the one with an even last digit; Rust may pick the other. Returns Python's choice.
fn half_even_tie(abs: f64, digits: &str, exp: i32) -> Option<(String, i32)> {
    let n = digits.len();
    // Two shortest candidates exist only when the double's rounding interval (about 2.2e-16
    // relative) holds two n-digit decimals, so n >= 15, and a neighbour of Rust's choice must
    // round-trip too. Both checks are cheap; the exact expansion below is not.
    if n < 15 {
        return None;
    }
    let d: u64 = digits.parse().ok()?;
    let scale = exp - (n as i32 - 1);
    let round_trips = |v: u64| format!("{v}e{scale}").parse::<f64>().ok() == Some(abs);
    let neighbour_round_trips = round_trips(d + 1) || (d > 0 && round_trips(d - 1));
    if !neighbour_round_trips {
        return None;
    }
    let exact = format!("{abs:.45e}");
    let (mant, e2) = exact.split_once('e')?;
    if e2.parse::<i32>().ok()? != exp {
        return None;
    }
    let exact_digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if exact_digits.get(n) != Some(&b'5') || !exact_digits[n + 1..].iter().all(|&b| b == b'0') {
        return None;
    }
    let prefix: u128 = std::str::from_utf8(&exact_digits[..n]).ok()?.parse().ok()?;
    let chosen = if prefix.is_multiple_of(2) { prefix } else { prefix + 1 };
    let mut text = chosen.to_string();
    let mut exp = exp;
    if text.len() > n {
        exp += 1;
    }
    while text.len() > 1 && text.ends_with('0') {
        text.pop();
    }
    Some((text, exp))
}

/// A JSON number as Python writes it (`str()`, `repr()` and `json.dumps` agree on numbers).
pub fn number_text(n: &Number) -> String {
    let mut out = String::new();
    number_into(&mut out, n);
    out
}

/// [`number_text`], appended to `out`.
pub fn number_into(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else {
        out.push_str(&float_repr(n.as_f64().unwrap_or(f64::NAN)));
    }
}

/// Python's `json.dumps(v, ensure_ascii=..)` with the default separators `", "` and `": "`.
pub fn json_dumps(v: &Value, ensure_ascii: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, v, ensure_ascii);
    out
}

/// [`json_dumps`], appended to `out`.
pub fn write_json(out: &mut String, v: &Value, ensure_ascii: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // json.dumps spells the non-finite floats in JavaScript style.
                if f.is_nan() {
                    out.push_str("NaN");
                } else if f.is_infinite() {
                    out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
                } else {
                    out.push_str(&float_repr(f));
                }
            } else {
                number_into(out, n);
            }
        }
        Value::String(s) => write_json_str(out, s, ensure_ascii),
        Value::Array(a) => write_list(out, a, |out, item| write_json(out, item, ensure_ascii)),
        Value::Object(o) => write_dict(
            out,
            o,
            |out, k| write_json_str(out, k, ensure_ascii),
            |out, item| write_json(out, item, ensure_ascii),
        ),
    }
}

/// A JSON string literal as Python's `json` module writes it.
pub fn write_json_str(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes each item with `write`, with `sep` between two items (Python's `sep.join`).
pub fn write_joined<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    sep: &str,
    mut write: impl FnMut(&mut String, T),
) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        write(out, item);
    }
}

/// `[a, b]`: the list layout `json.dumps` and `repr` share, items written by `item`.
pub fn write_list(out: &mut String, items: &[Value], item: impl Fn(&mut String, &Value)) {
    out.push('[');
    write_joined(out, items, ", ", item);
    out.push(']');
}

/// `{k: v}`: the dict layout `json.dumps` and `repr` share, keys and values written by `key`
/// and `item`.
pub fn write_dict(
    out: &mut String,
    map: &Map<String, Value>,
    key: impl Fn(&mut String, &str),
    item: impl Fn(&mut String, &Value),
) {
    out.push('{');
    write_joined(out, map, ", ", |out, (k, v)| {
        key(out, k);
        out.push_str(": ");
        item(out, v);
    });
    out.push('}');
}

/// Python's `repr(v)` (also its `str()` of a dict or list, e.g. an exception built from a
/// JSON body): `None`, `True`, `'text'`, `[1, 'a']`, `{'k': None}`.
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

/// [`repr`], appended to `out`.
pub fn write_repr(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Number(n) => number_into(out, n),
        Value::String(s) => out.push_str(&repr_str(s)),
        Value::Array(a) => write_list(out, a, write_repr),
        Value::Object(o) => write_dict(out, o, |out, k| out.push_str(&repr_str(k)), write_repr),
    }
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let cp = c as u32;
                let _ = if cp <= 0xff {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xffff {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable` for one character: control characters,
/// separators other than the space, and the common format characters are not printable.
fn is_printable(c: char) -> bool {
    let cp = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || (c.is_whitespace())
        || matches!(cp, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
            | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
            | 0xd800..=0xdfff | 0xe000..=0xf8ff | 0xe0001 | 0xe0020..=0xe007f))
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
    // The tie case below needs every digit: it is exactly representable, and its point is the rounding.
    #[allow(clippy::excessive_precision)]
    fn float_repr_matches_python() {
        for (f, want) in [
            (2.5, "2.5"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1.2345678901234567e19, "1.2345678901234567e+19"),
            (1e15, "1000000000000000.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (-1.5e-300, "-1.5e-300"),
            // Exactly halfway between two 16-digit candidates: Python keeps the even digit.
            (9671074504078.0625, "9671074504078.062"),
        ] {
            check(float_repr(f), want);
        }
    }

    #[test]
    fn json_dumps_matches_python() {
        for (v, ascii, want) in [
            (json!({"a": 1, "b": [1, 2]}), true, r#"{"a": 1, "b": [1, 2]}"#),
            (
                json!({"id": 3, "é": "ñ", "x": [1.5, null]}),
                false,
                "{\"id\": 3, \"é\": \"ñ\", \"x\": [1.5, null]}",
            ),
            // ensure_ascii escapes outside ASCII, astral characters as a surrogate pair.
            (json!({"é": "\u{1F600}"}), true, r#"{"\u00e9": "\ud83d\ude00"}"#),
            (json!({"t": "a\"b\\c\n\u{1}\u{7f}"}), true, r#"{"t": "a\"b\\c\n\u0001\u007f"}"#),
            (
                json!([1e16, 2.0, -0.0, u64::MAX, i64::MIN]),
                true,
                "[1e+16, 2.0, -0.0, 18446744073709551615, -9223372036854775808]",
            ),
            (
                json!({"e": {}, "l": [], "n": null, "b": false}),
                true,
                r#"{"e": {}, "l": [], "n": null, "b": false}"#,
            ),
            (json!("x"), true, r#""x""#),
        ] {
            check(json_dumps(&v, ascii), want);
        }
    }

    #[test]
    fn numbers_print_as_python_does() {
        check(number_text(&Number::from(-7)), "-7");
        check(number_text(&Number::from(u64::MAX)), "18446744073709551615");
        check(number_text(&Number::from_f64(0.5).unwrap()), "0.5");
        // A parsed float prints with the shortest digits that read back to it, as in Python.
        let parsed: Value = serde_json::from_str("[2.2250738585072011e-308, 0.1]").unwrap();
        check(json_dumps(&parsed, true), "[2.225073858507201e-308, 0.1]");
    }

    #[test]
    fn write_joined_puts_the_separator_between_items_only() {
        let mut out = String::new();
        write_joined(&mut out, ["a", "b", "c"], " | ", |o, s| o.push_str(s));
        check(out, "a | b | c");
        let mut out = String::new();
        write_joined(&mut out, Vec::<&str>::new(), ", ", |o, s| o.push_str(s));
        check(out, "");
    }
}
