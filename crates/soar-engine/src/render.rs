//! The War Room for a terminal: markdown tables as boxes, bold, links, headings; errors in red.
//!
//! Only the markdown the War Room formatter produces is handled (headings, pipe tables with
//! `\|` and `` \` `` escapes and `<br>` line breaks, `**bold**`, `[text](url)`, `` `code` ``);
//! anything else is printed as typed. Colours are ANSI and are off when output is not a
//! terminal or `NO_COLOR` is set (`--color` overrides).
//!
//! Text from integrations and APIs is data, never terminal commands: [`neutralize`] shows C0
//! controls (except newline and tab), DEL, C1 controls and bidi embeddings, overrides and
//! isolates visibly (`\x1b` prints as `␛`, U+202E as `\u{202e}`) before any style of ours is
//! added, so an API value cannot write the clipboard (OSC 52), clear the screen, set the window
//! title or reorder what is shown. Everything here runs it; `--json` and `--context` print
//! JSON, which is kept exact.

use std::borrow::Cow;

use serde_json::Value;
use soar_protocol::{Entry, entry_type};

/// Whether to emit ANSI styles, and how wide the terminal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Emit ANSI escape codes.
    pub color: bool,
    /// The terminal's width; a table wider than this is shown one record per block.
    pub width: Option<usize>,
}

const BOLD: &str = "\x1b[1m";
const UNDERLINE: &str = "\x1b[4m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Style {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color { format!("{code}{text}{RESET}") } else { text.to_owned() }
    }

    /// Red text (errors).
    pub fn red(&self, text: &str) -> String {
        self.wrap(RED, text)
    }

    /// Bold text.
    pub fn bold(&self, text: &str) -> String {
        self.wrap(BOLD, text)
    }

    /// Dim text (headers of entries).
    pub fn dim(&self, text: &str) -> String {
        self.wrap(DIM, text)
    }

    /// Yellow text (warnings).
    pub fn yellow(&self, text: &str) -> String {
        self.wrap(YELLOW, text)
    }
}

/// Where an entry goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error (errors and warnings).
    Err,
}

/// Whether `c` must not reach a terminal as it is: C0 controls other than newline and tab
/// (carriage return included: it lets a line overwrite what was printed), DEL, C1 controls
/// (U+0080-U+009F: `U+009B` is a one-character CSI) and the bidi embeddings, overrides and
/// isolates (U+202A-U+202E, U+2066-U+2069) that reorder what is shown.
fn is_hostile(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` made safe for a terminal: C0 controls become their Unicode control pictures (`␛`,
/// `␇`, `␍`, ...), DEL `␡`, C1 controls and bidi controls a visible `\u{..}` escape. Newline
/// and tab are kept, and `\r\n` line ends become `\n`. Text with nothing to change is borrowed.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            c if !is_hostile(c) => out.push(c),
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}')),
            '\u{7f}' => out.push('\u{2421}'),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// Renders one entry; returns the stream it belongs to and the text (ending with a newline).
pub fn render_entry(entry: &Entry, style: Style) -> (Stream, String) {
    let body = entry_text(entry);
    let body = neutralize(&body);
    match entry.entry_type {
        entry_type::ERROR => {
            let text: String = body.lines().map(|l| format!("{}\n", style.red(l))).collect();
            (Stream::Err, text)
        }
        entry_type::WARNING => {
            let text: String = body.lines().map(|l| format!("{}\n", style.yellow(l))).collect();
            (Stream::Err, text)
        }
        entry_type::FILE | entry_type::IMAGE | entry_type::ENTRY_INFO_FILE => {
            let name = neutralize(entry.extra.get("File").and_then(Value::as_str).unwrap_or("(unnamed)"));
            let id = neutralize(entry.extra.get("FileID").and_then(Value::as_str).unwrap_or(""));
            (Stream::Out, format!("{} {name} {}\n", style.bold("File:"), style.dim(&id)))
        }
        _ => (Stream::Out, markdown(&body, style)),
    }
}

/// The text a person reads for an entry: HumanReadable, else Contents (JSON pretty-printed).
pub fn entry_text(entry: &Entry) -> String {
    match &entry.human_readable {
        Value::String(s) if !s.is_empty() => return s.clone(),
        Value::Null => {}
        Value::String(_) => {}
        other => return other.to_string(),
    }
    match &entry.contents {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

/// Renders markdown for a terminal (the text is [`neutralize`]d first).
pub fn markdown(text: &str, style: Style) -> String {
    let text = neutralize(text);
    let mut out = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim_start().starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                i += 1;
            }
            out.push_str(&table(&lines[start..i], style));
            continue;
        }
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            let (styled, _) = inline(trimmed[hashes..].trim(), style);
            out.push_str(&style.bold(&styled));
        } else {
            out.push_str(&inline(line, style).0);
        }
        out.push('\n');
        i += 1;
    }
    out
}

/// Splits a table row into cells on unescaped `|`, unescaping `\|` and `` \` ``.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let inner = row.strip_prefix('|').unwrap_or(row);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('|' | '`')) => cur.push(chars.next().unwrap_or(c)),
            '|' => cells.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        cells.push(cur.trim().to_owned());
    }
    cells
}

fn is_separator(row: &str) -> bool {
    let cs = cells(row);
    !cs.is_empty() && cs.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

fn table(rows: &[&str], style: Style) -> String {
    // Each row is a list of cells; each cell a list of lines (from <br>), each (styled, width).
    let parsed: Vec<Vec<Vec<(String, usize)>>> = rows
        .iter()
        .filter(|r| !is_separator(r))
        .map(|r| {
            cells(r).iter().map(|c| c.split("<br>").map(|l| inline(l.trim(), style)).collect()).collect()
        })
        .collect();
    let ncols = parsed.iter().map(Vec::len).max().unwrap_or(0);
    if ncols == 0 {
        return String::new();
    }
    let mut widths = vec![0usize; ncols];
    for row in &parsed {
        for (j, cell) in row.iter().enumerate() {
            for (_, w) in cell {
                widths[j] = widths[j].max(*w);
            }
        }
    }
    let total: usize = widths.iter().map(|w| w + 3).sum::<usize>() + 1;
    if let Some(limit) = style.width
        && total > limit
        && parsed.len() > 1
    {
        return records(&parsed, style, limit);
    }
    let rule = |l: &str, m: &str, r: &str| {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("{l}{}{r}\n", parts.join(m))
    };
    let mut out = rule("┌", "┬", "┐");
    for (ri, row) in parsed.iter().enumerate() {
        let height = row.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for li in 0..height {
            out.push('│');
            for (j, width) in widths.iter().enumerate() {
                let (text, w) = row.get(j).and_then(|c| c.get(li)).cloned().unwrap_or_default();
                let text = if ri == 0 { style.bold(&text) } else { text };
                out.push_str(&format!(" {text}{} │", " ".repeat(width - w)));
            }
            out.push('\n');
        }
        if ri == 0 && parsed.len() > 1 {
            out.push_str(&rule("├", "┼", "┤"));
        }
    }
    out.push_str(&rule("└", "┴", "┘"));
    out
}

/// A table too wide for the terminal: one block per row, `Header: value` lines.
fn records(parsed: &[Vec<Vec<(String, usize)>>], style: Style, limit: usize) -> String {
    let headers: Vec<(String, usize)> =
        parsed[0].iter().map(|cell| cell.first().cloned().unwrap_or_default()).collect();
    let key_width = headers.iter().map(|(_, w)| *w).max().unwrap_or(0);
    let mut out = String::new();
    for (i, row) in parsed[1..].iter().enumerate() {
        if i > 0 {
            out.push_str(&style.dim(&"─".repeat(limit.min(40))));
            out.push('\n');
        }
        for (j, (header, hw)) in headers.iter().enumerate() {
            let lines = row.get(j).cloned().unwrap_or_default();
            let pad = " ".repeat(key_width - hw);
            let first = lines.first().map(|(t, _)| t.as_str()).unwrap_or_default();
            out.push_str(&format!("{}{pad} {first}\n", style.bold(&format!("{header}:"))));
            for (text, _) in lines.iter().skip(1) {
                out.push_str(&format!("{} {text}\n", " ".repeat(key_width + 1)));
            }
        }
    }
    out
}

/// Inline markdown: returns the styled text and its visible width.
fn inline(text: &str, style: Style) -> (String, usize) {
    let mut out = String::new();
    let mut width = 0;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let push = |out: &mut String, width: &mut usize, code: Option<&str>, s: &str| {
        *width += s.chars().count();
        match code {
            Some(c) if style.color => out.push_str(&format!("{c}{s}{RESET}")),
            _ => out.push_str(s),
        }
    };
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        if rest.starts_with("**")
            && let Some(end) = rest[2..].find("**")
            && end > 0
        {
            let inner = &rest[2..2 + end];
            push(&mut out, &mut width, Some(BOLD), inner);
            i += 4 + inner.chars().count();
            continue;
        }
        if chars[i] == '['
            && let Some(close) = rest.find("](")
            && let Some(paren) = rest[close + 2..].find(')')
        {
            let label = &rest[1..close];
            let url = &rest[close + 2..close + 2 + paren];
            if !label.contains('[') && !url.contains(char::is_whitespace) {
                push(&mut out, &mut width, Some(UNDERLINE), label);
                if label != url {
                    push(&mut out, &mut width, Some(DIM), &format!(" <{url}>"));
                }
                i += rest[..close + 2 + paren + 1].chars().count();
                continue;
            }
        }
        if rest.starts_with("```")
            && let Some(end) = rest[3..].find("```")
        {
            let inner = &rest[3..3 + end];
            push(&mut out, &mut width, Some(CYAN), inner);
            i += 6 + inner.chars().count();
            continue;
        }
        if chars[i] == '`'
            && let Some(end) = rest[1..].find('`')
            && end > 0
        {
            let inner = &rest[1..1 + end];
            push(&mut out, &mut width, Some(CYAN), inner);
            i += 2 + inner.chars().count();
            continue;
        }
        let mut buf = [0u8; 4];
        push(&mut out, &mut width, None, chars[i].encode_utf8(&mut buf));
        i += 1;
    }
    (out, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLAIN: Style = Style { color: false, width: None };

    fn check(md: &str, want: &str) {
        assert_eq!(markdown(md, PLAIN), want, "\n{}", markdown(md, PLAIN));
    }

    #[test]
    fn tables_headings_bold_links() {
        check(
            "### Users\n|id|mail|\n|---|---|\n| 1 | a@b.c |\n| 22 | \\| pipe |\n",
            "Users\n┌────┬────────┐\n│ id │ mail   │\n├────┼────────┤\n│ 1  │ a@b.c  │\n│ 22 │ | pipe │\n└────┴────┴───┘\n"
                .replace("└────┴────┴───┘", "└────┴────────┘")
                .as_str(),
        );
        check("**No entries.**", "No entries.\n");
        check("open [the page](https://x/y) now", "open the page <https://x/y> now\n");
        check("[https://x](https://x)", "https://x\n");
        check("run `!x-auth-complete`", "run !x-auth-complete\n");
        check("```✅ Success!```", "✅ Success!\n");
        check("|a|\n|---|\n| l1<br>l2 |\n", "┌────┐\n│ a  │\n├────┤\n│ l1 │\n│ l2 │\n└────┘\n");
        check("2 * 3 and **", "2 * 3 and **\n");
    }

    #[test]
    fn tables_wider_than_the_terminal_become_records() {
        let narrow = Style { color: false, width: Some(20) };
        let md = "|Name|Mail|\n|---|---|\n| Alice | alice@example.com |\n| Bob | b@x<br>b2@x |\n";
        assert_eq!(
            markdown(md, narrow),
            "Name: Alice\nMail: alice@example.com\n────────────────────\nName: Bob\nMail: b@x\n      b2@x\n"
        );
        // Wide enough: the box.
        assert!(markdown(md, Style { color: false, width: Some(80) }).starts_with("┌"));
    }

    #[test]
    fn colours_only_when_asked() {
        let color = Style { color: true, width: None };
        assert_eq!(markdown("**b**", color), "\x1b[1mb\x1b[0m\n");
        // Width ignores escape codes, so columns still line up.
        let t = markdown("|a|\n|---|\n| **bb** |\n", color);
        assert!(t.contains("│ \x1b[1mbb\x1b[0m │"), "{t}");
    }

    #[test]
    fn neutralize_shows_controls_visibly() {
        assert_eq!(neutralize("plain\ttext\nü 日本 \u{200f}"), "plain\ttext\nü 日本 \u{200f}");
        assert!(matches!(neutralize("plain"), Cow::Borrowed(_)));
        assert_eq!(
            neutralize("a\x1b[2Jb\x07c\r\nd\re\x7ff\u{9b}g\u{202e}h\u{2066}i\0"),
            "a␛[2Jb␇c\nd␍e␡f\\u{9b}g\\u{202e}h\\u{2066}i␀"
        );
    }

    /// The controls no terminal may see from API data.
    fn hostile_chars(text: &str) -> Vec<char> {
        // Our own styles are the only escape sequences allowed.
        let mut rest = text.to_owned();
        for code in [BOLD, UNDERLINE, RED, YELLOW, CYAN, DIM, RESET] {
            rest = rest.replace(code, "");
        }
        rest.chars().filter(|c| is_hostile(*c)).collect()
    }

    #[test]
    fn control_sequences_from_api_data_are_shown_not_obeyed() {
        let osc52 = "\x1b]52;c;ZWNobyBvd25lZA==\x07"; // write the clipboard
        let clear = "\x1b[2J\x1b[3J\x1b[H"; // clear the screen and scrollback
        let title = "\x1b]0;owned\x1b\\"; // set the window title
        let c1 = "\u{9b}2J\u{9d}0;t\u{9c}"; // the same with C1 controls
        let bidi = "invoice\u{202e}fdp.exe\u{2066}"; // reordered text
        let hostile = format!("{osc52}{clear}{title}{c1}{bidi}\r\x08\x7f");
        let table = format!("|Name|Mail|\n|---|---|\n| {hostile} | a@b |\n");

        let mut human = Entry::markdown("");
        human.human_readable = json!(format!("### {hostile}\n**{hostile}** [{hostile}](https://x)\n{table}"));
        let mut contents = Entry::markdown(hostile.clone());
        contents.human_readable = Value::Null;
        let mut json_contents = Entry::markdown("");
        json_contents.contents = json!({"displayName": hostile, "list": [hostile]});
        json_contents.contents_format = "json".into();
        let error = Entry::error(format!("Error in API call [400] - {hostile}"));
        let mut warning = Entry::error(hostile.clone());
        warning.entry_type = entry_type::WARNING;
        let mut file = Entry::markdown("");
        file.entry_type = entry_type::FILE;
        file.extra.insert("File".into(), json!(hostile));
        file.extra.insert("FileID".into(), json!(hostile));

        for width in [None, Some(20)] {
            for color in [false, true] {
                let style = Style { color, width };
                for entry in [&human, &contents, &json_contents, &error, &warning, &file] {
                    let (_, text) = render_entry(entry, style);
                    assert_eq!(hostile_chars(&text), Vec::<char>::new(), "{text:?}");
                    // Shown, not dropped: a person sees what the API sent (JSON escapes C0
                    // itself).
                    assert!(
                        text.contains("␛]52;c;ZWNobyBvd25lZA==␇")
                            || text.contains("\\u001b]52;c;ZWNobyBvd25lZA==\\u0007"),
                        "{text:?}"
                    );
                    assert!(text.contains("\\u{202e}"), "{text:?}");
                }
            }
        }
        // The markdown printer on its own (soar fetch, instance list, commands) too.
        assert_eq!(hostile_chars(&markdown(&table, Style { color: true, width: None })), Vec::<char>::new());
    }

    #[test]
    fn entries_go_to_the_right_stream() {
        let err = Entry::error("Error in API call [404]\nmore");
        assert_eq!(render_entry(&err, PLAIN), (Stream::Err, "Error in API call [404]\nmore\n".to_owned()));
        assert_eq!(
            render_entry(&err, Style { color: true, width: None }).1,
            "\x1b[31mError in API call [404]\x1b[0m\n\x1b[31mmore\x1b[0m\n"
        );
        let mut note = Entry::markdown("raw");
        note.human_readable = json!("## Shown");
        assert_eq!(render_entry(&note, PLAIN), (Stream::Out, "Shown\n".to_owned()));
        let mut json_entry = Entry::markdown("");
        json_entry.contents = json!({"a": 1});
        json_entry.contents_format = "json".into();
        assert_eq!(render_entry(&json_entry, PLAIN).1, "{\n  \"a\": 1\n}\n");
        let mut num = Entry::markdown("");
        num.human_readable = json!(5);
        assert_eq!(entry_text(&num), "5");
    }
}
