//! Phase one: TOML to raw structures with spans. Unknown keys and wrong types stop here.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::Diagnostic;
use crate::input::line_col;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatrix {
    #[serde(default)]
    pub policy: Option<Spanned<RawPolicy>>,
    #[serde(default, rename = "base")]
    pub bases: Vec<Spanned<RawBase>>,
    #[serde(default, rename = "dependency")]
    pub dependencies: Vec<Spanned<RawDependency>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub source_builds: Option<Spanned<String>>,
    pub build_timeout: Option<Spanned<String>>,
    pub probe_timeout: Option<Spanned<String>>,
    pub blocking: Option<Vec<Spanned<String>>>,
    pub ca_bundle: Option<Spanned<String>>,
    pub index_url: Option<Spanned<String>>,
    pub extra_hosts: Option<Vec<Spanned<String>>>,
    pub runtime_runs: Option<Spanned<i64>>,
    pub runtime_ratio: Option<Spanned<f64>>,
    pub installer: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBase {
    pub name: Spanned<String>,
    pub image: Spanned<String>,
    pub family: Option<Spanned<String>>,
    pub python: Option<Spanned<String>>,
    #[serde(default)]
    pub packages: Vec<Spanned<String>>,
    pub required: Option<bool>,
    pub installer: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDependency {
    pub name: Option<Spanned<String>>,
    pub requirement: Spanned<String>,
    pub smoke: Option<Spanned<String>>,
    pub known_difference: Option<Spanned<RawKnown>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKnown {
    pub kinds: Vec<Spanned<String>>,
    pub reason: Spanned<String>,
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<RawMatrix, Vec<Diagnostic>> {
    toml::from_str::<RawMatrix>(text).map_err(|e| located(path, text, e))
}

/// A pyproject.toml as far as muslcheck reads it: everything but `[tool.muslcheck]` is ignored.
#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    muslcheck: Option<RawMatrix>,
}

/// The `[tool.muslcheck]` table of a pyproject.toml (`None` when it has none), read from the
/// whole file so that every span, and so every diagnostic, points into the pyproject.toml.
pub(crate) fn parse_pyproject(path: &Path, text: &str) -> Result<Option<RawMatrix>, Vec<Diagnostic>> {
    toml::from_str::<Pyproject>(text).map(|p| p.tool.and_then(|t| t.muslcheck)).map_err(|e| located(path, text, e))
}

fn located(path: &Path, text: &str, e: toml::de::Error) -> Vec<Diagnostic> {
    let mut message = e.message().trim().to_string();
    let (line, column) = match e.span() {
        Some(s) => {
            if message == "duplicate key" {
                if let Some(key) = key_at(text, s.start) {
                    message = format!("duplicate key `{key}`");
                }
            }
            line_col(text, s.start)
        }
        None => (spanless_error_line(text, e.message()), 1),
    };
    vec![Diagnostic { file: path.to_path_buf(), line, column, message }]
}

/// The TOML key that starts at `offset` (bare or quoted), for naming it in an error.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let rest = text.get(offset..)?;
    let key = if let Some(q) = rest.strip_prefix('"').or_else(|| rest.strip_prefix('\'')) {
        let quote = rest.chars().next()?;
        &q[..q.find(quote)?]
    } else {
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
        &rest[..end]
    };
    (!key.is_empty()).then(|| key.chars().take(64).collect())
}

/// Some errors (the parser's recursion limit on a long dotted key) come without a position.
/// The first line whose inclusion makes the same error appear is where it is: found by bisecting
/// on line prefixes, a handful of parses even for a large file.
fn spanless_error_line(text: &str, message: &str) -> usize {
    let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).chain(std::iter::once(text.len())).collect();
    let fails = |lines: usize| match toml::from_str::<RawMatrix>(&text[..ends[lines - 1]]) {
        Err(e) => e.span().is_none() && e.message() == message,
        Ok(_) => false,
    };
    let (mut lo, mut hi) = (1, ends.len());
    if !fails(hi) {
        return 1;
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}
