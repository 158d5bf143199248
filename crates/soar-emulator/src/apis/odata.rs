//! OData `$filter` and `$orderby`, evaluated over JSON items: the part of a query that picks and
//! orders, shared by every emulated API that lists (Sentinel incidents, Defender alerts, Graph).
//! Paging (`$top`, `$skip`, next links) stays with the collection, which knows its API's shape.
//!
//! The grammar is the subset Microsoft's APIs document and the reference integrations send:
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | call | compare
//! compare := path op literal            op: eq ne gt ge lt le
//! call    := contains(path, 'text') | startswith(path, 'text') | endswith(path, 'text')
//! path    := name ("/" name)*           e.g. properties/createdTimeUtc
//! literal := 'text' ('' escapes a quote) | number | true | false | null
//!          | a bare ISO 8601 date-time (2024-01-01T00:00:00Z)
//! ```
//!
//! Decisions:
//! - keywords and operators are case-insensitive, paths are case-sensitive as JSON keys are;
//! - two values that both read as RFC 3339 date-times compare as instants (so `...49.84Z` and
//!   `...49.8434339Z` order correctly); otherwise numbers compare as numbers, strings as strings
//!   (case-sensitive, as Graph's `eq` on most properties is not, but Sentinel's and Defender's
//!   are), booleans as booleans, and mixed kinds never match (`ne` is their negation);
//! - a missing property is `null`: `x eq null` matches it, `x gt 1` does not;
//! - `contains`/`startswith`/`endswith` ignore case, as Defender and Graph do;
//! - `$orderby` takes `path [asc|desc]` items separated by commas; sorting is stable, missing
//!   values first in ascending order.

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A parsed `$filter` + `$orderby`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Option<Expr>,
    orderby: Vec<(Vec<String>, bool)>,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Vec<String>, Op, Value),
    Call(Func, Vec<String>, String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Contains,
    StartsWith,
    EndsWith,
}

impl Query {
    /// Parses the query options; the error names the option and what is wrong, as a service's
    /// 400 message would.
    pub fn parse(filter: Option<&str>, orderby: Option<&str>) -> Result<Query, String> {
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(text) => {
                let mut p = Parser { tokens: tokenize(text)?, at: 0 };
                let expr = p.or()?;
                if let Some(t) = p.peek() {
                    return Err(format!(
                        "Invalid $filter: unexpected '{}' after a complete expression",
                        t.text()
                    ));
                }
                Some(expr)
            }
        };
        let mut order = Vec::new();
        for item in orderby.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let mut words = item.split_whitespace();
            let path = words.next().unwrap_or_default();
            let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(format!("Invalid $orderby: '{other}' is not asc or desc")),
            };
            if words.next().is_some() {
                return Err(format!("Invalid $orderby: '{item}' has more than a property and a direction"));
            }
            order.push((split_path(path)?, desc));
        }
        Ok(Query { filter, orderby: order })
    }

    /// True when the query neither filters nor orders.
    pub fn is_empty(&self) -> bool {
        self.filter.is_none() && self.orderby.is_empty()
    }

    /// Whether `item` passes the filter (always, without one).
    pub fn matches(&self, item: &Value) -> bool {
        self.filter.as_ref().is_none_or(|e| eval(e, item))
    }

    /// The items that pass the filter, in `$orderby` order (stable; input order otherwise).
    /// Items may be borrowed (`Vec<&Value>`), so that a listing copies only its page.
    pub fn apply<T: std::borrow::Borrow<Value>>(&self, items: Vec<T>) -> Vec<T> {
        let kept: Vec<T> = items.into_iter().filter(|i| self.matches(i.borrow())).collect();
        if self.orderby.is_empty() {
            return kept;
        }
        // Each item's sort keys are read (date-times parsed) once, not in every comparison:
        // sorting ten thousand alerts compared them some 270,000 times.
        let keys: Vec<Vec<SortKey<'_>>> = kept
            .iter()
            .map(|item| {
                self.orderby.iter().map(|(path, _)| SortKey::of(lookup(item.borrow(), path))).collect()
            })
            .collect();
        let mut order_of: Vec<usize> = (0..kept.len()).collect();
        order_of.sort_by(|&a, &b| {
            for ((x, y), (_, desc)) in keys[a].iter().zip(&keys[b]).zip(&self.orderby) {
                let ord = x.order(y);
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
        drop(keys);
        let mut slots: Vec<Option<T>> = kept.into_iter().map(Some).collect();
        order_of.into_iter().filter_map(|i| slots[i].take()).collect()
    }
}

/// A value read for sorting: a string's date-time parsed once.
struct SortKey<'a> {
    value: &'a Value,
    instant: Option<OffsetDateTime>,
}

impl<'a> SortKey<'a> {
    fn of(value: &'a Value) -> SortKey<'a> {
        SortKey { value, instant: instant(value) }
    }

    /// Date-times as instants, anything else by [`order_kinds`].
    fn order(&self, other: &SortKey<'_>) -> Ordering {
        match (self.instant, other.instant) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => order_kinds(self.value, other.value),
        }
    }
}

fn split_path(path: &str) -> Result<Vec<String>, String> {
    let parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '@' || c == '.'))
    {
        return Err(format!("Invalid property path '{path}'"));
    }
    Ok(parts)
}

fn lookup<'a>(item: &'a Value, path: &[String]) -> &'a Value {
    let mut at = item;
    for key in path {
        match at.get(key) {
            Some(v) => at = v,
            None => return &Value::Null,
        }
    }
    at
}

fn instant(v: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok()
}

/// Compares two values of the same kind; `None` when they are of different kinds.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (instant(a), instant(b)) {
        return Some(x.cmp(&y));
    }
    compare_kinds(a, b)
}

/// [`compare`] for values that are not both date-times.
fn compare_kinds(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The sort order of values that are not both date-times: nulls first, then by kind, then by
/// value.
fn order_kinds(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    compare_kinds(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)))
}

fn eval(e: &Expr, item: &Value) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, item) || eval(b, item),
        Expr::And(a, b) => eval(a, item) && eval(b, item),
        Expr::Not(a) => !eval(a, item),
        Expr::Compare(path, op, literal) => {
            let got = compare(lookup(item, path), literal);
            match op {
                Op::Eq => got == Some(Ordering::Equal),
                Op::Ne => got != Some(Ordering::Equal),
                Op::Gt => got == Some(Ordering::Greater),
                Op::Ge => matches!(got, Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => got == Some(Ordering::Less),
                Op::Le => matches!(got, Some(Ordering::Less | Ordering::Equal)),
            }
        }
        Expr::Call(func, path, needle) => {
            let Some(hay) = lookup(item, path).as_str() else { return false };
            let (hay, needle) = (hay.to_lowercase(), needle.to_lowercase());
            match func {
                Func::Contains => hay.contains(&needle),
                Func::StartsWith => hay.starts_with(&needle),
                Func::EndsWith => hay.ends_with(&needle),
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Text(t) => format!("'{t}'"),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
        }
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(k))
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        Some('\'') => break,
                        Some(ch) => s.push(ch),
                        None => return Err("Invalid $filter: a quoted string is not closed".into()),
                    }
                }
                out.push(Token::Text(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Token::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(format!("Invalid $filter: expected '{}' but found '{}'", want.text(), t.text())),
            None => Err(format!("Invalid $filter: expected '{}' at the end", want.text())),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek().is_some_and(|t| t.keyword("or")) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek().is_some_and(|t| t.keyword("and")) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.next() {
            None => Err("Invalid $filter: the expression ends too early".into()),
            Some(Token::Open) => {
                let e = self.or()?;
                self.expect(Token::Close)?;
                Ok(e)
            }
            Some(t) if t.keyword("not") => Ok(Expr::Not(Box::new(self.unary()?))),
            Some(Token::Word(w)) if self.peek() == Some(&Token::Open) => {
                let func = match w.to_ascii_lowercase().as_str() {
                    "contains" => Func::Contains,
                    "startswith" => Func::StartsWith,
                    "endswith" => Func::EndsWith,
                    _ => return Err(format!("Invalid $filter: unknown function '{w}'")),
                };
                self.expect(Token::Open)?;
                let path = match self.next() {
                    Some(Token::Word(p)) => split_path(&p)?,
                    other => {
                        return Err(format!(
                            "Invalid $filter: {w}() needs a property first, not {:?}",
                            other.map(|t| t.text())
                        ));
                    }
                };
                self.expect(Token::Comma)?;
                let needle = match self.next() {
                    Some(Token::Text(s)) => s,
                    other => {
                        return Err(format!(
                            "Invalid $filter: {w}() needs a quoted string second, not {:?}",
                            other.map(|t| t.text())
                        ));
                    }
                };
                self.expect(Token::Close)?;
                Ok(Expr::Call(func, path, needle))
            }
            Some(Token::Word(path)) => {
                let path = split_path(&path)?;
                let op = match self.next() {
                    Some(Token::Word(o)) => match o.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        _ => return Err(format!("Invalid $filter: unknown operator '{o}'")),
                    },
                    other => {
                        return Err(format!(
                            "Invalid $filter: expected an operator after '{}', found {}",
                            path.join("/"),
                            other.map(|t| format!("'{}'", t.text())).unwrap_or_else(|| "the end".into())
                        ));
                    }
                };
                let literal = match self.next() {
                    Some(Token::Text(s)) => Value::String(s),
                    Some(Token::Word(w)) => literal(&w)?,
                    other => {
                        return Err(format!(
                            "Invalid $filter: expected a value after the operator, found {}",
                            other.map(|t| format!("'{}'", t.text())).unwrap_or_else(|| "the end".into())
                        ));
                    }
                };
                Ok(Expr::Compare(path, op, literal))
            }
            Some(t) => Err(format!("Invalid $filter: unexpected '{}'", t.text())),
        }
    }
}

fn literal(word: &str) -> Result<Value, String> {
    match word.to_ascii_lowercase().as_str() {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        "null" => return Ok(Value::Null),
        _ => {}
    }
    if let Ok(i) = word.parse::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = word.parse::<f64>()
        && f.is_finite()
    {
        return Ok(Value::from(f));
    }
    if OffsetDateTime::parse(word, &Rfc3339).is_ok() {
        return Ok(Value::String(word.to_owned()));
    }
    Err(format!("Invalid $filter: '{word}' is not a value (quote strings: '{word}')"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn items() -> Vec<Value> {
        vec![
            json!({"id": "1", "properties": {"incidentNumber": 1, "createdTimeUtc": "2024-01-01T10:00:00.5Z", "severity": "High", "title": "Phish"}}),
            json!({"id": "2", "properties": {"incidentNumber": 2, "createdTimeUtc": "2024-01-01T10:00:00.4999999Z", "severity": "Low", "title": "Brute force"}}),
            json!({"id": "3", "properties": {"incidentNumber": 3, "createdTimeUtc": "2024-01-02T00:00:00Z", "severity": "High"}}),
        ]
    }

    /// The one check: `filter`/`orderby` over [`items`] keep these ids, in this order.
    fn check(filter: &str, orderby: &str, ids: &[&str]) {
        let q = Query::parse(Some(filter), Some(orderby)).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let got: Vec<String> =
            q.apply(items()).iter().map(|i| i["id"].as_str().unwrap_or("").to_owned()).collect();
        assert_eq!(got, ids, "$filter={filter} $orderby={orderby}");
    }

    #[test]
    fn filters_and_orders() {
        check("", "", &["1", "2", "3"]);
        check("properties/incidentNumber gt 1", "", &["2", "3"]);
        check("properties/incidentNumber ge 2 and properties/severity eq 'High'", "", &["3"]);
        check("properties/severity eq 'Low' or properties/incidentNumber eq 3", "", &["2", "3"]);
        check("not (properties/severity eq 'High')", "", &["2"]);
        check("properties/title eq null", "", &["3"]);
        check("properties/title ne null", "", &["1", "2"]);
        check("contains(properties/title, 'FORCE')", "", &["2"]);
        check("startswith(properties/title,'ph')", "", &["1"]);
        check("properties/incidentNumber GT 1", "properties/incidentNumber desc", &["3", "2"]);
        check("", "properties/severity asc, properties/incidentNumber desc", &["3", "1", "2"]);
    }

    #[test]
    fn date_times_compare_as_instants_whatever_their_precision() {
        // As strings "…00.4999999Z" > "…00.5Z" is false but "…00.5Z" sorts after; as instants
        // item 2 is earlier, and a bare date-time literal works.
        check("properties/createdTimeUtc ge 2024-01-01T10:00:00.5Z", "", &["1", "3"]);
        check("properties/createdTimeUtc lt '2024-01-01T10:00:00.5Z'", "", &["2"]);
        check("", "properties/createdTimeUtc asc", &["2", "1", "3"]);
    }

    #[test]
    fn sorting_mixed_kinds_is_stable_and_orders_kinds_then_values() {
        let v = |k: Value| json!({"k": k});
        let items = vec![
            v(json!("b")),
            v(json!(2)),
            v(json!("2024-01-01T00:00:00.5Z")),
            v(json!(null)),
            v(json!(true)),
            v(json!("2024-01-01T00:00:00.4999999Z")),
            json!({"other": 1}),
            v(json!(1.5)),
            v(json!("a")),
            v(json!([1])),
        ];
        let got = Query::parse(None, Some("k asc")).unwrap().apply(items.clone());
        let want = [
            v(json!(null)),
            json!({"other": 1}),
            v(json!(true)),
            v(json!(1.5)),
            v(json!(2)),
            v(json!("2024-01-01T00:00:00.4999999Z")),
            v(json!("2024-01-01T00:00:00.5Z")),
            v(json!("a")),
            v(json!("b")),
            v(json!([1])),
        ];
        assert_eq!(got, want);
        let got = Query::parse(None, Some("k desc")).unwrap().apply(items);
        let mut want_desc = want.to_vec();
        want_desc.reverse();
        // Ties keep input order in both directions: the two nulls (a null and a missing key).
        want_desc.swap(8, 9);
        assert_eq!(got, want_desc);
    }

    #[test]
    fn quotes_escape_by_doubling() {
        let q = Query::parse(Some("name eq 'O''Brien'"), None).unwrap();
        assert!(q.matches(&json!({"name": "O'Brien"})));
        assert!(!q.matches(&json!({"name": "OBrien"})));
    }

    #[test]
    fn errors_name_what_is_wrong() {
        for (filter, orderby, needle) in [
            ("a eq", "", "expected a value"),
            ("a like 'x'", "", "unknown operator 'like'"),
            ("a eq 'x", "", "not closed"),
            ("(a eq 1", "", "expected ')'"),
            ("a eq 1 b", "", "unexpected 'b'"),
            ("a eq banana", "", "'banana' is not a value"),
            ("length(a, 'x')", "", "unknown function 'length'"),
            ("", "a sideways", "'sideways' is not asc or desc"),
            ("a//b eq 1", "", "Invalid property path"),
        ] {
            let e = Query::parse(Some(filter), Some(orderby)).unwrap_err();
            assert!(e.contains(needle), "{filter:?} {orderby:?}: {e}");
        }
    }
}
