//! Text helpers shared by every layer that shows what a program printed. A leaf.

/// The first non-blank line, trimmed and cut to 200 characters.
pub fn first_line(s: &str) -> String {
    let l = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    if l.chars().count() > 200 {
        format!("{}…", l.chars().take(200).collect::<String>())
    } else {
        l.to_string()
    }
}

/// The last `n` bytes of `s`, from a line start where possible.
pub fn tail(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut cut = s.len() - n;
    while !s.is_char_boundary(cut) {
        cut += 1;
    }
    let t = &s[cut..];
    match t.find('\n') {
        Some(i) if i + 1 < t.len() => t[i + 1..].to_string(),
        _ => t.to_string(),
    }
}

/// Text from code under test (or from a crafted report) as it may reach a terminal, a Markdown
/// viewer or a browser: every control character (C0, DEL, C1) and every bidirectional override,
/// embedding, isolate and mark is shown escaped (`\x1b`, `\x0d`, `\u009b`, `\u202e`), never
/// interpreted, so an `ESC[2K`, a `\r`, an OSC 8 hyperlink or a right-to-left override cannot
/// rewrite what the reader sees. `\n` (and `\t`) are kept when `newlines` is set, for the formats
/// whose layout has lines; otherwise they are escaped too. Plain text is returned as it is.
pub fn sanitize(s: &str, newlines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c, newlines);
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            use std::fmt::Write;
            let n = c as u32;
            let _ = if n < 0x80 { write!(out, "\\x{n:02x}") } else { write!(out, "\\u{n:04x}") };
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char, newlines: bool) -> bool {
    match c {
        '\n' | '\t' => !newlines,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO), isolates (LRI, RLI, FSI, PDI),
        // and the marks (LRM, RLM).
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_shown_escaped_never_raw() {
        let hostile = "ok\u{1b}[2K\rfake\u{1b}]8;;https://evil/\u{7}link\u{1b}]8;;\u{7} \u{202e}txt.exe\u{2066}\u{200f}\u{9b}31m\u{7f}\0";
        let shown = sanitize(hostile, true);
        assert_eq!(
            shown,
            "ok\\x1b[2K\\x0dfake\\x1b]8;;https://evil/\\x07link\\x1b]8;;\\x07 \\u202etxt.exe\\u2066\\u200f\\u009b31m\\x7f\\x00"
        );
        assert!(!shown.chars().any(|c| needs_escape(c, false)), "{shown}");
        // Lines are kept where the format has lines, escaped where it has not.
        assert_eq!(sanitize("a\nb\tc", true), "a\nb\tc");
        assert_eq!(sanitize("a\nb\tc", false), "a\\x0ab\\x09c");
        // Text without anything to escape is not copied; other non-ASCII text is kept.
        assert!(matches!(sanitize("numpy → ✅ café", true), std::borrow::Cow::Borrowed(_)));
    }
}
