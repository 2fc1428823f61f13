//! Results across bases -> findings -> verdicts -> the run's outcome, computed once.
//!
//! Pure functions of typed observations: nothing here knows what musl or glibc "should" do;
//! it only says where the bases differ or fail. Each finding kind has its own small rule
//! (`install`, `probe`, `ratios`, `runtime`, `sections`) producing [`Draft`]s; [`finalize`] applies the
//! policy once (severity, accepted differences) and gives each finding its stable id;
//! `verdicts` derives pass/fail per job from the same findings, and the run outcome from those.

mod alone;
mod close;
mod explain;
mod fixes;
mod images;
mod install;
mod installer;
mod lock;
mod probe;
mod ratios;
pub(crate) mod runtime;
mod sections;
mod verdicts;
mod versions;
mod words;

use std::collections::BTreeMap;

use crate::kinds::FindingKind;
use crate::matrix::{Dependency, KnownDifference, Policy};
use crate::model::{BuildOutcome, CheckOutcome, Finding, JobRecord, Severity};

pub use close::{close, outcome, too_few_families};
pub use fixes::{
    candidates, causes_in, fixes_wanted, keep_looking, suggest_fixes, Checked, FixSearch, FixWanted, Fixes, MAX_CHECKED,
};
pub use images::{close_images, compared, SMOKE};
pub use installer::installer_findings;
pub use lock::lock_findings;
pub use sections::{dependency_depth_findings, incomplete_section_findings, section_findings};
pub use verdicts::{run_outcome, verdicts};
pub use versions::{suggest_versions, without_wheel, Available};

/// Per-base inputs for one dependency: the job record and whether that base is required.
pub struct BaseResult<'a> {
    pub job: &'a JobRecord,
    pub required: bool,
    /// The C compiler the base offers to source builds, as observed (see `BaseRecord::compilers`).
    pub compiler: Option<&'a str>,
}

/// A dependency's results among a report's jobs, one per base of the matrix in its order. A job the
/// harness could not do (an infrastructure error) observed nothing: the rules leave it out, and
/// its verdict is `error`.
pub fn base_results<'a>(
    jobs: &'a [JobRecord],
    records: &'a [crate::model::BaseRecord],
    bases: &[crate::matrix::Base],
    dependency: &str,
) -> Vec<BaseResult<'a>> {
    bases
        .iter()
        .filter_map(|b| {
            let id = crate::plan::job_id(dependency, &b.name);
            let job = jobs.iter().find(|j| j.id == id)?;
            let compiler = records.iter().find(|x| x.name == b.name).and_then(|x| x.compilers.get("cc"));
            Some(BaseResult { job, required: b.required, compiler: compiler.map(String::as_str) })
        })
        .collect()
}

/// A finding before the policy is applied: what, about which item, where it fails, and the
/// evidence per base.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub kind: FindingKind,
    pub item: String,
    pub summary: String,
    pub evidence: BTreeMap<String, String>,
    pub failing: Vec<String>,
    pub explanation: BTreeMap<String, Vec<String>>,
}

impl Draft {
    pub fn new(
        kind: FindingKind,
        item: impl Into<String>,
        summary: String,
        evidence: BTreeMap<String, String>,
        failing: Vec<String>,
    ) -> Draft {
        Draft { kind, item: item.into(), summary, evidence, failing, explanation: BTreeMap::new() }
    }
}

/// The subject of findings about a base itself (it could not be prepared).
pub fn base_subject(base: &str) -> String {
    format!("<base:{base}>")
}

/// Applies the policy: a finding blocks when its kind blocks (`Policy::blocks`: missing evidence
/// always, the rest when `policy.blocking` lists it), the matrix does not accept it for this
/// subject, and its failing side includes a required base.
pub(crate) fn finalize(
    subject: &str,
    d: Draft,
    policy: &Policy,
    required: &BTreeMap<String, bool>,
    known: Option<&KnownDifference>,
) -> Finding {
    let known = known.filter(|k| k.kinds.contains(&d.kind)).map(|k| k.reason.clone());
    let involves_required = d.failing.iter().any(|b| required.get(b).copied().unwrap_or(false));
    let severity =
        if policy.blocks(d.kind) && known.is_none() && involves_required { Severity::Blocking } else { Severity::Info };
    let mut failing = d.failing;
    failing.sort();
    failing.dedup();
    Finding {
        id: format!("{subject}/{}/{}", d.kind, d.item),
        subject: subject.to_string(),
        kind: d.kind,
        item: d.item,
        failing,
        severity,
        summary: d.summary,
        evidence: d.evidence,
        known,
        explanation: d.explanation,
    }
}

pub(crate) use crate::text::first_line;

pub(crate) fn outcome_text(o: &CheckOutcome) -> String {
    match o {
        CheckOutcome::Error { message } => format!("error: {}", first_line(message)),
        CheckOutcome::MissingOptional { module, message } => {
            format!("needs {module}, which no installed distribution provides: {}", first_line(message))
        }
        other => other.label(),
    }
}

/// The one finding of a base that could not be prepared: its jobs did not run.
pub fn prep_failed(base: &str, error: &str, policy: &Policy, required: &BTreeMap<String, bool>) -> Finding {
    let evidence = BTreeMap::from([(base.to_string(), first_line(error))]);
    let d = Draft::new(
        FindingKind::PrepFailed,
        "",
        format!("base {base} could not be prepared: {}", first_line(error)),
        evidence,
        vec![base.to_string()],
    );
    finalize(&base_subject(base), d, policy, required, None)
}

/// Findings for one dependency across its bases (in matrix order). Jobs the harness could not
/// run (an infrastructure error, a base that could not be prepared) take no part: their own
/// records say why.
pub fn dependency_findings(dep: &Dependency, policy: &Policy, results: &[BaseResult]) -> Vec<Finding> {
    let required: BTreeMap<String, bool> = results.iter().map(|r| (r.job.base.clone(), r.required)).collect();
    let considered: Vec<&BaseResult> = results
        .iter()
        .filter(|r| {
            !matches!(r.job.outcome, BuildOutcome::InfraError | BuildOutcome::BaseFailed | BuildOutcome::NotApplicable)
        })
        .collect();
    if considered.is_empty() {
        return vec![];
    }
    let installed: Vec<&BaseResult> =
        considered.iter().copied().filter(|r| r.job.outcome == BuildOutcome::Installed).collect();
    let mut drafts = vec![];
    drafts.extend(install::install_differs(&considered));
    drafts.extend(install::build_timeout(&considered));
    drafts.extend(install::fails_to_install(&considered));
    drafts.extend(install::conflict(&considered));
    drafts.extend(install::source_build(&considered));
    drafts.extend(install::version_differs(&installed));
    let probed: Vec<&BaseResult> = installed.iter().copied().filter(|r| r.job.probe.is_some()).collect();
    drafts.extend(probe::incomplete(&probed));
    // Per-module rules compare only bases whose probe said everything: a module a cut-short
    // probe did not report is unknown there, not absent.
    let observed: Vec<&BaseResult> =
        probed.iter().copied().filter(|r| r.job.probe.as_ref().is_some_and(|p| p.completion.is_complete())).collect();
    drafts.extend(probe::imports(&observed));
    drafts.extend(probe::dist_errors(&observed));
    let loaded = probe::loads(&observed);
    let loaded: Vec<BaseResult> = loaded
        .iter()
        .zip(&observed)
        .map(|(job, r)| BaseResult { job, required: r.required, compiler: r.compiler })
        .collect();
    drafts.extend(probe::imports(&loaded.iter().collect::<Vec<_>>()));
    drafts.extend(probe::smoke(&observed));
    drafts.extend(probe::thread_crash(&observed));
    drafts.extend(probe::crash(&observed));
    drafts.extend(probe::foreign_libc(&observed));
    drafts.extend(runtime::runtime_differs(&observed, policy.runtime_ratio));
    drafts.extend(ratios::build_time(&installed));
    drafts.extend(ratios::size(&installed));
    drafts.into_iter().map(|d| finalize(&dep.name, d, policy, &required, dep.known_difference.as_ref())).collect()
}

#[cfg(test)]
mod tests;
