//! Markers of lock entries: parsed with `pep508_rs` (whose marker trees are canonical, so
//! conjunctions and disjunctions along a dependency graph stay small), and the selection part
//! of a marker (`extra == 'x'`, PEP 751's `'x' in extras` and `'x' in dependency_groups`)
//! decided before parsing, since that is the user's choice and not a fact of any base.
//!
//! Only the selection variables are decided; every environment variable (`sys_platform`,
//! `platform_machine`, `python_version`, …) is left for the base's own interpreter.

use std::str::FromStr;

use pep508_rs::MarkerTree;

/// What a selection variable asks: `extra` (one extra of the entry), `extras` (PEP 751: the
/// lock's extras asked for), `dependency_groups` (PEP 751: the groups asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    Extra,
    Extras,
    Groups,
}

/// Always true and always false, as markers: the marker algebra folds them away.
const TRUE: &str = "(python_full_version < '0' or python_full_version >= '0')";
const FALSE: &str = "(python_full_version < '0' and python_full_version >= '0')";

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Word(String),
    Op(String),
    Paren,
}

fn tokens(s: &str) -> Result<Vec<(Tok, usize, usize)>, String> {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let end = s[i + 1..].find(c).ok_or_else(|| format!("an unclosed quote in the marker `{s}`"))?;
            out.push((Tok::Str(s[i + 1..i + 1 + end].to_string()), start, i + end + 2));
            i += end + 2;
        } else if c == '(' || c == ')' {
            out.push((Tok::Paren, start, i + 1));
            i += 1;
        } else if "=!<>~".contains(c) {
            while i < b.len() && "=!<>~".contains(b[i] as char) {
                i += 1;
            }
            out.push((Tok::Op(s[start..i].to_string()), start, i));
        } else {
            while i < b.len() && !(b[i] as char).is_ascii_whitespace() && !"()'\"=!<>~".contains(b[i] as char) {
                i += 1;
            }
            out.push((Tok::Word(s[start..i].to_string()), start, i));
        }
    }
    Ok(out)
}

fn var(word: &str) -> Option<Var> {
    match word {
        "extra" => Some(Var::Extra),
        "extras" => Some(Var::Extras),
        "dependency_groups" => Some(Var::Groups),
        _ => None,
    }
}

/// Parses a lock entry's marker, deciding its selection clauses with `selected(var, name)`
/// (names normalised). An empty marker is true.
pub(crate) fn parse(marker: &str, selected: &dyn Fn(Var, &str) -> bool) -> Result<MarkerTree, String> {
    let decided = decide(marker, selected)?;
    if decided.trim().is_empty() {
        return Ok(MarkerTree::TRUE);
    }
    if let Some(c) = decided.chars().find(|c| !c.is_ascii() || c.is_control()) {
        return Err(format!("the marker contains {c:?}; markers are ASCII text"));
    }
    // A parser panic must not become a harness crash (see `Requirement::parse`).
    std::panic::catch_unwind(|| MarkerTree::from_str(&decided))
        .map_err(|_| format!("the marker `{}` could not be parsed", crate::input::shown(marker)))?
        .map_err(|e| format!("not a PEP 508 marker: `{}`: {}", crate::input::shown(marker), e.message))
}

/// The marker text with every selection clause replaced by a constant.
fn decide(marker: &str, selected: &dyn Fn(Var, &str) -> bool) -> Result<String, String> {
    let toks = tokens(marker)?;
    let mut out = String::new();
    let mut last = 0;
    let mut i = 0;
    while i < toks.len() {
        // `A op B`, `A not in B`: one side a selection variable, the other a string.
        let (op, width) = match (toks.get(i + 1), toks.get(i + 2)) {
            (Some((Tok::Word(n), ..)), Some((Tok::Word(m), ..))) if n == "not" && m == "in" => ("not in", 4),
            (Some((Tok::Op(o), ..)), _) => (o.as_str(), 3),
            (Some((Tok::Word(w), ..)), _) if w == "in" => ("in", 3),
            _ => {
                i += 1;
                continue;
            }
        };
        let (lhs, rhs) = (&toks[i].0, toks.get(i + width - 1).map(|t| &t.0));
        let clause = match (lhs, rhs) {
            (Tok::Word(w), Some(Tok::Str(v))) => var(w).map(|x| (x, v)),
            (Tok::Str(v), Some(Tok::Word(w))) => var(w).map(|x| (x, v)),
            _ => None,
        };
        let Some((x, value)) = clause else {
            i += 1;
            continue;
        };
        let positive = match op {
            "==" | "in" => true,
            "!=" | "not in" => false,
            _ => {
                return Err(format!(
                    "`{op}` on `{x:?}` in the marker `{}` is not a selection",
                    crate::input::shown(marker)
                ))
            }
        };
        let holds = selected(x, &super::normalise(value)) == positive;
        out.push_str(&marker[last..toks[i].1]);
        out.push_str(if holds { TRUE } else { FALSE });
        last = toks[i + width - 1].2;
        i += width;
    }
    out.push_str(&marker[last..]);
    Ok(out)
}

/// `a and b`.
pub(crate) fn and(a: &MarkerTree, b: &MarkerTree) -> MarkerTree {
    let mut m = a.clone();
    m.and(b.clone());
    m
}

/// A poetry `python = "…"` constraint (`^3.8`, `~3.9`, `>=3.8,<4.0`, `3.9.*`, `<3.11 || >=3.12`)
/// as a marker on `python_version`.
pub(crate) fn poetry_python(constraint: &str) -> Result<MarkerTree, String> {
    let mut any = MarkerTree::FALSE;
    for alt in constraint.split("||") {
        let mut all = MarkerTree::TRUE;
        for part in alt.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            let clause = poetry_clause(part).ok_or_else(|| {
                format!("the python constraint `{}` is not one this version reads", crate::input::shown(constraint))
            })?;
            all.and(parse(&clause, &|_, _| false)?);
        }
        any.or(all);
    }
    Ok(any)
}

fn poetry_clause(part: &str) -> Option<String> {
    if part == "*" {
        return Some(TRUE.into());
    }
    let version = |v: &str| v.split('.').all(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()));
    let bump = |v: &str, at: usize| -> Option<String> {
        let mut parts: Vec<u64> = v.split('.').map(|x| x.parse().ok()).collect::<Option<_>>()?;
        parts.truncate(at + 1);
        while parts.len() <= at {
            parts.push(0);
        }
        parts[at] += 1;
        Some(parts.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
    };
    let full = "python_full_version";
    if let Some(v) = part.strip_prefix('^') {
        if !version(v) {
            return None;
        }
        let first_nonzero = v.split('.').position(|x| x != "0").unwrap_or(0);
        return Some(format!("{0} >= '{v}' and {0} < '{1}'", full, bump(v, first_nonzero)?));
    }
    if let Some(v) = part.strip_prefix('~').filter(|v| !v.starts_with('=')) {
        if !version(v) {
            return None;
        }
        let at = if v.contains('.') { 1 } else { 0 };
        return Some(format!("{0} >= '{v}' and {0} < '{1}'", full, bump(v, at)?));
    }
    if let Some(v) = part.strip_suffix(".*") {
        if !version(v) {
            return None;
        }
        return Some(format!("python_version == '{v}.*'").replace("python_version", "python_full_version"));
    }
    for op in [">=", "<=", "!=", "==", ">", "<", "~="] {
        if let Some(v) = part.strip_prefix(op) {
            let v = v.trim();
            if !version(v.trim_end_matches(".*")) {
                return None;
            }
            return Some(format!("python_full_version {op} '{v}'"));
        }
    }
    version(part).then(|| format!("python_full_version == '{part}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: Var, _: &str) -> bool {
        false
    }

    #[test]
    fn selection_clauses_are_decided_and_environment_clauses_kept() {
        let dev = |v: Var, n: &str| v == Var::Groups && n == "dev";
        let m = parse("\"dev\" in dependency_groups and sys_platform == 'linux'", &dev).unwrap();
        assert_eq!(m.try_to_string().unwrap(), "sys_platform == 'linux'");
        let m = parse("'dev' in dependency_groups", &none).unwrap();
        assert!(m.is_false());
        let m = parse(
            "\"default\" in dependency_groups and python_version < \"3.12\" or \"dev\" in dependency_groups and python_version < \"3.12\"",
            &dev,
        )
        .unwrap();
        assert_eq!(m.try_to_string().unwrap(), "python_full_version < '3.12'");
        let m = parse("extra == 'socks' or platform_machine == 'aarch64'", &none).unwrap();
        assert_eq!(m.try_to_string().unwrap(), "platform_machine == 'aarch64'");
        assert!(parse("'x' not in extras", &none).unwrap().is_true());
        assert!(parse("", &none).unwrap().is_true());
        assert!(parse("sys_platform == ", &none).is_err());
        assert!(parse("extra > 'a'", &none).is_err());
    }

    #[test]
    fn poetry_python_constraints_become_markers() {
        let s = |c: &str| poetry_python(c).unwrap().try_to_string();
        assert_eq!(s("<3.11").unwrap(), "python_full_version < '3.11'");
        assert_eq!(s("^3.8").unwrap(), "python_full_version >= '3.8' and python_full_version < '4'");
        assert_eq!(s("*"), None);
        assert!(s(">=3.8,<3.10 || >=3.12").unwrap().contains(" or "));
        assert!(poetry_python("^three").is_err());
    }
}
