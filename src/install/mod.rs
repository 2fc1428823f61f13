//! Building a dependency on a base, in two content-addressed layers:
//! 1. a *prep* image per base (`prep`): the base by image id, its system packages, and a
//!    virtualenv at /opt/muslcheck/venv, shared by every dependency on the base;
//! 2. a *job* image per (requirements, prep image) (`job`): pip runs in a labelled container
//!    with the base's pip-cache directory and the CA bundle mounted (never baked into an image),
//!    and the container is committed. pip's report, its log and a build record go into the
//!    image at /opt/muslcheck/, so a cached image carries its own result.
//!
//! What pip printed is read in `pip`: the distributions it chose, and what a failure was.
//! pip runs without a shell: the requirement reaches it as a line of a requirements file, and
//! it was parsed as PEP 508 before.

mod job;
pub(crate) mod pip;
mod prep;
pub(crate) mod uv;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::matrix::{Base, Requirement};
use crate::model::{BuildOutcome, Distribution};

pub use job::build_job;
pub use pip::last_error_line;
pub use prep::{ensure_prep, prep_tag, PrepIndex};

pub const VENV: &str = "/opt/muslcheck/venv";
pub const VENV_PYTHON: &str = "/opt/muslcheck/venv/bin/python";

/// How a cached job is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Ask the index whether every distribution of the cached resolution is unchanged.
    Check,
    /// Reuse without asking (`--offline`).
    Offline,
    /// Rebuild every job (`--refresh`).
    Refresh,
}

impl Freshness {
    pub fn from_flags(offline: bool, refresh: bool) -> Freshness {
        match (offline, refresh) {
            (_, true) => Freshness::Refresh,
            (true, false) => Freshness::Offline,
            _ => Freshness::Check,
        }
    }
}

/// What a build produced; stored in the job image as build.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildRecord {
    pub outcome: BuildOutcome,
    pub exit_code: Option<i64>,
    pub secs: f64,
    pub distributions: Vec<Distribution>,
    pub log_tail: String,
    pub error: Option<String>,
    /// Per distribution of the resolution, its state on the index right after the build (see
    /// `index`); empty when the index could not be asked.
    #[serde(default)]
    pub index_state: std::collections::BTreeMap<String, String>,
    /// Why the index could not be asked right after the build: the job is *unchecked*, and a
    /// later run that can ask the index builds it again rather than trust it unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<String>,
    /// The installer and its version (`pip 25.3`, `uv 0.9.9`), as it reported itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installer: Option<String>,
    /// Why a failed install is kept like a success (see [`deterministic_failure`]).
    #[serde(default)]
    pub failure_cause: Option<String>,
    /// The distributions built from an sdist, with their build time and any error (see
    /// [`crate::srcbuild`]).
    #[serde(default)]
    pub source_builds: Vec<crate::model::SourceBuild>,
}

/// A build's result as the pipeline uses it.
#[derive(Debug, Clone)]
pub struct JobBuild {
    pub record: BuildRecord,
    pub image: Option<String>,
    pub cached: bool,
    /// pip's whole output (empty when cached: it is in the image).
    pub log: String,
    /// Why the job was reused or built.
    pub reuse: String,
}

pub struct BuildInputs<'a> {
    pub base: &'a Base,
    pub prep_tag: &'a str,
    /// Installed together, in one pip run.
    pub requirements: &'a [Requirement],
    /// Constraints of that run (`-c`).
    pub constraints: &'a [Requirement],
    pub ca_bundle: Option<&'a std::path::Path>,
    /// The package index pip uses (PIP_INDEX_URL), when not pip's default.
    pub index_url: Option<&'a str>,
    /// `name:address` entries for the build container's /etc/hosts.
    pub extra_hosts: &'a [String],
    pub timeout: Duration,
    pub no_cache: bool,
    /// The name of pip's cache volumes (`<name>-<base>` is this base's), or none.
    pub pip_cache: Option<&'a str>,
    pub freshness: Freshness,
    /// The index to ask whether a cached resolution still holds; none: it cannot be asked.
    pub index: Option<&'a std::sync::Arc<crate::index::IndexClient>>,
}
