//! Text helpers shared by every layer that shows what a program printed. A leaf.

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
