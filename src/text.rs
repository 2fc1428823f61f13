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
