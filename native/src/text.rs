//! Text from outside (files, hosts, requests) made safe to print: control
//! characters escaped, so a hostname or device name from a snapshot file
//! cannot move the terminal's cursor, change its colours or forge a line
//! of output; and long text shortened, so an error message does not echo a
//! 20 MB line.

use std::fmt::Write;

/// `s` with every control character (C0 including newline and tab, DEL,
/// C1) written as `\u{XX}`; everything else as is.
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` cut to at most `max` characters per line (marked with how much was
/// left out) and at most 20 lines.
pub fn shorten(s: &str, max: usize) -> String {
    const MAX_LINES: usize = 20;
    let mut out = String::new();
    for (i, line) in s.lines().enumerate() {
        if i == MAX_LINES {
            let _ = write!(out, "\n… ({} more lines)", s.lines().count() - MAX_LINES);
            return out;
        }
        if i > 0 {
            out.push('\n');
        }
        match line.char_indices().nth(max) {
            None => out.push_str(line),
            Some((cut, _)) => {
                out.push_str(&line[..cut]);
                let _ = write!(out, "… ({} more bytes)", line.len() - cut);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("node01"), "node01");
        assert_eq!(
            escape_control("evil\x1b[2J\nlvslab: ok"),
            "evil\\u{1b}[2J\\u{a}lvslab: ok"
        );
        assert_eq!(escape_control("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
        assert_eq!(escape_control("nœud-é"), "nœud-é");
    }

    #[test]
    fn long_lines_and_many_lines_are_cut() {
        assert_eq!(shorten("short", 10), "short");
        let long = "x".repeat(1_000_000);
        let s = shorten(&format!("error at line 1:\n{long}\n  ^"), 100);
        assert!(s.len() < 200, "{s}");
        assert!(s.contains("… (999900 more bytes)"), "{s}");
        assert!(s.ends_with("  ^"));
        let many = "l\n".repeat(100);
        let s = shorten(&many, 10);
        assert_eq!(s.lines().count(), 21);
        assert!(s.ends_with("… (80 more lines)"), "{s}");
        // Never cuts inside a character.
        assert_eq!(shorten("ééé", 2), "éé… (2 more bytes)");
    }
}
