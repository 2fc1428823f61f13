//! Verdicts and the run's outcome, derived from the findings: a verdict fails exactly when a
//! finding the policy blocks on (and the matrix does not accept) names its base as failing, so
//! the verdict, the finding's severity, JUnit and the exit code can never disagree.

use super::{base_subject, first_line, BaseResult};
use crate::error::{EXIT_FINDINGS, EXIT_INFRA, EXIT_OK, EXIT_USAGE};
use crate::matrix::{Dependency, Policy};
use crate::model::{BuildOutcome, Finding, RunOutcome, RunReport, Severity, Verdict};

/// Pass or fail of a dependency on each base, with the findings behind it.
pub fn verdicts(dep: &Dependency, policy: &Policy, results: &[BaseResult], findings: &[Finding]) -> Vec<Verdict> {
    results
        .iter()
        .map(|r| {
            let base = &r.job.base;
            let about_base = base_subject(base);
            let naming: Vec<&Finding> = findings
                .iter()
                .filter(|f| (f.subject == dep.name || f.subject == about_base) && f.failing.contains(base))
                .collect();
            let failed_by: Vec<String> =
                naming.iter().filter(|f| policy.blocks(f.kind) && f.known.is_none()).map(|f| f.id.clone()).collect();
            let mut reasons: Vec<String> = naming
                .iter()
                .map(|f| match &f.known {
                    Some(_) => format!("[{}, accepted] {}", f.kind, f.summary),
                    None => format!("[{}] {}", f.kind, f.summary),
                })
                .collect();
            // A job the harness could not run has no evidence at all: never a pass.
            let error = (r.job.outcome == BuildOutcome::InfraError)
                .then(|| first_line(r.job.error.as_deref().unwrap_or("infrastructure error")));
            if let Some(e) = &error {
                reasons.push(format!("not run: {e}"));
            }
            Verdict {
                dependency: dep.name.clone(),
                base: base.clone(),
                pass: failed_by.is_empty() && error.is_none(),
                required: r.required,
                reasons,
                failed_by,
                error,
            }
        })
        .collect()
}

/// The dependencies whose requirement applies to no base (its marker excludes every one): one
/// line each, with the marker as pip read it. Nothing was checked for them, which is not a pass.
fn applies_nowhere(r: &RunReport) -> Vec<String> {
    let mut by_dep: std::collections::BTreeMap<&str, Vec<&crate::model::JobRecord>> = Default::default();
    for j in &r.jobs {
        by_dep.entry(j.dependency.as_str()).or_default().push(j);
    }
    by_dep
        .into_iter()
        .filter(|(_, jobs)| jobs.iter().all(|j| j.outcome == BuildOutcome::NotApplicable))
        .map(|(dep, jobs)| {
            let bases: Vec<&str> = jobs.iter().map(|j| j.base.as_str()).collect();
            format!(
                "the requirement `{}` of {dep} applies to no base ({}: {}): nothing was checked; fix its marker or leave it out",
                jobs[0].requirement,
                bases.join(", "),
                first_line(jobs[0].error.as_deref().unwrap_or("the marker excludes this base"))
            )
        })
        .collect()
}

/// The run's outcome from its findings, verdicts and errors: exit 3 when the harness itself
/// failed, 2 when a requirement's marker excludes every base (a configuration error found
/// only once pip read it), 1 when a finding blocks, else 0.
pub fn run_outcome(r: &RunReport) -> RunOutcome {
    let blocking = r.findings.iter().filter(|f| f.severity == Severity::Blocking).count();
    let failing_verdicts = r.verdicts.iter().filter(|v| !v.pass).count();
    let nowhere = applies_nowhere(r);
    let (exit_code, summary) = if !r.errors.is_empty() {
        (EXIT_INFRA, format!("{} infrastructure error(s): the run is not conclusive", r.errors.len()))
    } else if !nowhere.is_empty() {
        (EXIT_USAGE, nowhere.join("; "))
    } else if blocking > 0 {
        (EXIT_FINDINGS, format!("{blocking} blocking finding(s)"))
    } else {
        (EXIT_OK, "no blocking finding".to_string())
    };
    RunOutcome { exit_code, findings: r.findings.len(), blocking, failing_verdicts, errors: r.errors.len(), summary }
}
