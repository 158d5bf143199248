//! The War Room command line: `!command arg=value arg2="a b" arg3=`{"k": "v"}``.
//!
//! Rules (as people type them in the War Room CLI):
//! * the leading `!` is optional; the command name is the first word;
//! * each argument is `name=value`; a value is a bare word (up to the next space), a
//!   double-quoted string (`\"` and `\\` are escapes, any other backslash is kept as typed, so
//!   Windows paths work), or a back-quoted string taken as is (for JSON with double quotes);
//! * a quote only opens a value at its start (`name=o'neil` is a bare word);
//! * `using=INSTANCE` picks the instance, as in the War Room;
//! * an argument given twice, a word without `=`, or a quote left open is an error that says
//!   what to type instead.

use crate::error::{EngineError, Result};

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The command name, without `!`.
    pub command: String,
    /// The arguments in the order typed (`using` excluded).
    pub args: Vec<(String, String)>,
    /// The instance named with `using=`.
    pub using: Option<String>,
}

/// Parses one War Room command line.
pub fn parse(line: &str) -> Result<CommandLine> {
    let usage = |msg: String| EngineError::Usage(msg);
    let chars: Vec<char> = line.trim().chars().collect();
    let mut i = 0;
    if chars.first() == Some(&'!') {
        i = 1;
    }
    let start = i;
    while i < chars.len() && !chars[i].is_whitespace() {
        i += 1;
    }
    let command: String = chars[start..i].iter().collect();
    if command.is_empty() {
        return Err(usage(
            "No command given: type it like soar run '!msgraph-user-list properties=id,mail'.".into(),
        ));
    }
    if let Some(bad) = command.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(usage(format!(
            "The command name {command:?} contains {bad:?}: type the command first, then name=value arguments, \
             e.g. '!msgraph-user-list properties=id,mail'."
        )));
    }
    let mut args: Vec<(String, String)> = Vec::new();
    let mut using = None;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let name_start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let name: String = chars[name_start..i].iter().collect();
        if i >= chars.len() || chars[i] != '=' {
            return Err(usage(format!(
                "Argument {name:?} has no value: write {name}=<value> (quote values with spaces: {name}=\"a b\")."
            )));
        }
        if name.is_empty() {
            return Err(usage(format!(
                "A value has no argument name at column {}: write name=value.",
                i + 1
            )));
        }
        i += 1; // '='
        let value = match chars.get(i) {
            Some('"') => {
                let open = i;
                i += 1;
                let mut v = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(usage(format!(
                                "Unbalanced \" in argument {name} (opened at column {}): close it, e.g. {name}=\"a b\".",
                                open + 1
                            )));
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                            v.push(chars[i + 1]);
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            v.push(*c);
                            i += 1;
                        }
                    }
                }
                v
            }
            Some('`') => {
                let open = i;
                i += 1;
                let close = chars[i..].iter().position(|c| *c == '`').ok_or_else(|| {
                    usage(format!(
                        "Unbalanced ` in argument {name} (opened at column {}): close it, e.g. {name}=`{{\"k\": \"v\"}}`.",
                        open + 1
                    ))
                })?;
                let v: String = chars[i..i + close].iter().collect();
                i += close + 1;
                v
            }
            _ => {
                let s = i;
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                chars[s..i].iter().collect()
            }
        };
        if let Some(c) = chars.get(i)
            && !c.is_whitespace()
        {
            return Err(usage(format!(
                "Unexpected {c:?} right after the quoted value of {name}: put a space before the next argument."
            )));
        }
        if name == "using" {
            using = Some(value);
            continue;
        }
        if args.iter().any(|(n, _)| *n == name) {
            return Err(usage(format!("Argument {name} is given twice: keep one {name}=<value>.")));
        }
        args.push((name, value));
    }
    Ok(CommandLine { command, args, using })
}

/// The Levenshtein distance, for "did you mean" hints.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) || c.contains(word) && word.len() >= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Want<'a> = Result<(&'a str, &'a [(&'a str, &'a str)], Option<&'a str>), &'a str>;

    fn check(line: &str, want: Want<'_>) {
        let got = parse(line);
        match (got, want) {
            (Ok(cl), Ok((cmd, args, using))) => {
                assert_eq!(cl.command, cmd, "{line}");
                let args: Vec<(String, String)> =
                    args.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
                assert_eq!(cl.args, args, "{line}");
                assert_eq!(cl.using.as_deref(), using, "{line}");
            }
            (Err(e), Err(fragment)) => {
                let msg = e.to_string();
                assert!(msg.contains(fragment), "{line}: {msg}");
                assert!(!msg.contains('\n'), "one line: {msg}");
            }
            (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn command_lines() {
        check("!msgraph-user-list", Ok(("msgraph-user-list", &[], None)));
        check("msgraph-user-list limit=5", Ok(("msgraph-user-list", &[("limit", "5")], None)));
        check(
            "!msgraph-user-list limit=5 properties=id,mail",
            Ok(("msgraph-user-list", &[("limit", "5"), ("properties", "id,mail")], None)),
        );
        check(r#"!x name="a b"  other=c"#, Ok(("x", &[("name", "a b"), ("other", "c")], None)));
        check(r#"!x q="say \"hi\" \\o/""#, Ok(("x", &[("q", r#"say "hi" \o/"#)], None)));
        check(r#"!x path="C:\temp\new""#, Ok(("x", &[("path", r"C:\temp\new")], None)));
        check(r#"!x body=`{"k": "v w"}`"#, Ok(("x", &[("body", r#"{"k": "v w"}"#)], None)));
        check("!x name=o'neil", Ok(("x", &[("name", "o'neil")], None)));
        check("!x a= b=2", Ok(("x", &[("a", ""), ("b", "2")], None)));
        check(r#"!x a="""#, Ok(("x", &[("a", "")], None)));
        check("!x filter=a=b", Ok(("x", &[("filter", "a=b")], None)));
        check("!x using=graph-prod limit=1", Ok(("x", &[("limit", "1")], Some("graph-prod"))));
        check("  !x  ", Ok(("x", &[], None)));
    }

    #[test]
    fn bad_command_lines_say_what_to_type() {
        check("", Err("No command given"));
        check("!", Err("No command given"));
        check(r#"!x name="a b"#, Err(r#"Unbalanced " in argument name (opened at column 9): close it"#));
        check("!x body=`{", Err("Unbalanced ` in argument body"));
        check("!x limit", Err("write limit=<value>"));
        check("!x =5", Err("no argument name"));
        check("!x a=1 a=2", Err("given twice"));
        check(r#"!x a="b"c"#, Err("put a space"));
        check("!x/y", Err("contains '/'"));
    }

    #[test]
    fn suggestions() {
        let cands = ["limit", "properties", "user"];
        assert_eq!(closest("limt", cands), Some("limit"));
        assert_eq!(closest("propertes", cands), Some("properties"));
        assert_eq!(closest("zzzzzz", cands), None);
    }
}
