//! Closing a run: every rule over everything observed, once, then the run's outcome, decided
//! against a baseline when there is one. `run`, `gate`, `report merge` and `run --baseline`
//! all decide through [`outcome`], so a report says the same whichever way it was made.

use std::collections::BTreeMap;

use super::Available;
use crate::error::{EXIT_FINDINGS, EXIT_INFRA, EXIT_OK};
use crate::kinds::PROFILE;
use crate::lock::LockPlan;
use crate::matrix::Matrix;
use crate::model::{BuildOutcome, RunOutcome, RunReport};

/// Compares what was observed, decides once, and closes the report.
pub fn close(
    r: &mut RunReport,
    matrix: &Matrix,
    lock: Option<&LockPlan>,
    baseline: Option<&RunReport>,
    available: &Available,
) {
    let policy = &matrix.policy;
    let required = matrix.required();
    r.findings.clear();
    r.verdicts.clear();
    // A base that could not be prepared is one finding, not one per dependency.
    let mut failed_bases = BTreeMap::new();
    for j in r.jobs.iter().filter(|j| j.outcome == BuildOutcome::BaseFailed) {
        failed_bases.entry(j.base.clone()).or_insert_with(|| j.error.clone().unwrap_or_default());
    }
    for (base, error) in &failed_bases {
        r.findings.push(super::prep_failed(base, error, policy, &required));
    }
    // Timings of different runs (one base's kept from an earlier run) are not compared, and
    // each job says so.
    super::runtime::note_mixed_timings(&mut r.jobs);
    for dep in &matrix.dependencies {
        let results = super::base_results(&r.jobs, &r.bases, &matrix.bases, &dep.name);
        let mut findings = super::dependency_findings(dep, policy, &results);
        super::suggest_versions(&mut findings, dep, &results, available);
        super::suggest_fixes(&mut findings, dep, &results, &available.fixes);
        r.findings.extend(findings);
        let verdicts = super::verdicts(dep, policy, &results, &r.findings);
        r.verdicts.extend(verdicts);
    }
    if let Some(lock) = lock {
        r.findings.extend(super::lock_findings(lock, &r.jobs, &matrix.bases, policy, &required));
    }
    let mut found = vec![];
    for section in crate::sections::ALL {
        let observed = r.section(section.kind);
        found.extend(super::section_findings(section.kind, observed, policy, &required, section.normalise));
        found.extend(super::incomplete_section_findings(section.kind.subject, observed, policy, &required));
    }
    // A dependency's crash depth is measured against its own base's, from the profile.
    found.extend(super::dependency_depth_findings(&r.jobs, r.section(&PROFILE), policy, &required));
    r.findings.extend(found);
    let infra = r.jobs.iter().any(|j| j.outcome == BuildOutcome::InfraError);
    r.partial = infra || !r.not_run.is_empty();
    r.finished_at = Some(crate::model::now());
    r.normalise();
    let (outcome, diff) = outcome(r, baseline);
    r.baseline = diff;
    r.outcome = Some(outcome);
}

/// The run's outcome, and its comparison with the baseline when there is one. Against a
/// baseline, only what is new decides: last night's known failures do not fail tonight's run
/// again.
pub fn outcome(r: &RunReport, baseline: Option<&RunReport>) -> (RunOutcome, Option<crate::model::ReportDiff>) {
    let mut outcome = super::run_outcome(r);
    let Some(base) = baseline else { return (outcome, None) };
    let d = crate::report::diff::diff(base, r);
    if outcome.exit_code != EXIT_INFRA {
        outcome.exit_code = if d.new_blocking() > 0 { EXIT_FINDINGS } else { EXIT_OK };
        outcome.summary = format!(
            "{} new blocking finding(s) since {}; {} resolved, {} changed",
            d.new_blocking(),
            d.old_run,
            d.resolved.len(),
            d.changed.len()
        );
    }
    (outcome, Some(d))
}
