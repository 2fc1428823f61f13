//! Phase one: TOML to raw structures with spans. Unknown keys and wrong types stop here.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{line_col, Diagnostic};

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
    toml::from_str::<RawMatrix>(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        vec![Diagnostic { file: path.to_path_buf(), line, column, message: e.message().trim().to_string() }]
    })
}
