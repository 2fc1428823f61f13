//! Closing a run: every rule over everything observed, once, then the run's outcome, decided
//! against a baseline when there is one. `run`, `gate`, `report merge` and `run --baseline`
//! all decide through [`outcome`], so a report says the same whichever way it was made.

use std::collections::BTreeMap;

use super::Available;
use crate::error::{EXIT_FINDINGS, EXIT_OK};
use crate::kinds::PROFILE;
use crate::lock::LockPlan;
use crate::matrix::Matrix;
use crate::model::{BuildOutcome, RunOutcome, RunReport};
use crate::report::diff::Baseline;

/// Compares what was observed, decides once, and closes the report.
pub fn close(
    r: &mut RunReport,
    matrix: &Matrix,
    lock: Option<&LockPlan>,
    baseline: Option<&Baseline>,
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
        findings.extend(super::installer_findings(&dep.name, &r.jobs, &matrix.bases, policy, &required));
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
    r.errors.extend(duplicate_ids(&r.findings));
    let (outcome, diff) = outcome(r, baseline);
    r.baseline = diff;
    r.outcome = Some(outcome);
}

/// What is missing when the bases' observed libcs are not of two families: a run whose bases
/// all run one libc compares nothing this tool is for. `None` when there are two or more.
pub fn too_few_families(records: &[crate::model::BaseRecord]) -> Option<String> {
    let families: std::collections::BTreeSet<&str> =
        records.iter().filter_map(|b| b.libc.as_ref()).map(|l| l.family.as_str()).collect();
    if families.len() >= 2 {
        return None;
    }
    let seen: Vec<String> = records
        .iter()
        .map(|b| match &b.libc {
            Some(l) => format!("{} on {}", l, b.name),
            None => format!("not observed on {}", b.name),
        })
        .collect();
    Some(format!(
        "the bases' libcs were observed as {}: a run needs two libc families (e.g. glibc and musl) to compare, and has {}",
        seen.join(", "),
        families.len()
    ))
}

/// A harness error for each finding id given to more than one finding: ids are how reports are
/// diffed and merged, so two findings under one id would hide one of them there. Never a rule's
/// right answer, so the run is not conclusive (exit 3) rather than quietly deduplicated.
pub(crate) fn duplicate_ids(findings: &[crate::model::Finding]) -> Vec<String> {
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in findings {
        by_id.entry(f.id.as_str()).or_default().push(f.summary.as_str());
    }
    by_id
        .into_iter()
        .filter(|(_, summaries)| summaries.len() > 1)
        .map(|(id, summaries)| {
            format!(
                "harness error while closing the run: finding id `{id}` was given to {} findings ({}); ids must be unique",
                summaries.len(),
                summaries.join(" | ")
            )
        })
        .collect()
}

/// The run's outcome, and its comparison with the baseline when there is one. Against a
/// baseline, only what is new or worse decides: last night's known failures do not fail
/// tonight's run again, but one that now blocks, or fails another base, does.
pub fn outcome(r: &RunReport, baseline: Option<&Baseline>) -> (RunOutcome, Option<crate::model::ReportDiff>) {
    let mut outcome = super::run_outcome(r);
    let Some(base) = baseline else { return (outcome, None) };
    let mut d = crate::report::diff::diff(&base.report, r);
    d.caveats = base.caveats.clone();
    if outcome.exit_code == EXIT_FINDINGS || outcome.exit_code == EXIT_OK {
        outcome.exit_code = if d.regressions() > 0 { EXIT_FINDINGS } else { EXIT_OK };
        outcome.summary = format!(
            "{} new and {} worsened blocking finding(s) since {}; {} resolved, {} changed",
            d.new_blocking(),
            d.worsened_blocking(),
            d.old_run,
            d.resolved.len(),
            d.changed.len()
        );
    }
    (outcome, Some(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::FindingKind;
    use crate::model::{Completion, JobRecord, Severity, WheelProbe};

    fn matrix(policy: &str) -> Matrix {
        let text = format!(
            "[policy]\n{policy}\n[[base]]\nname = \"glibc\"\nimage = \"g\"\n\n[[base]]\nname = \"musl\"\nimage = \"m\"\n\n[[dependency]]\nrequirement = \"six\"\n"
        );
        Matrix::parse(std::path::Path::new("m.toml"), &text).unwrap()
    }

    fn timed_out(base: &str) -> JobRecord {
        let probe = WheelProbe { completion: Completion::TimedOut { secs: 300 }, ..Default::default() };
        JobRecord { probe: Some(probe), ..JobRecord::new("six", base, "six", BuildOutcome::Installed) }
    }

    fn closed(m: &Matrix, jobs: Vec<JobRecord>) -> RunReport {
        let mut r = RunReport::new("run", "r", "m.toml");
        r.jobs = jobs;
        close(&mut r, m, None, None, &Available::default());
        r
    }

    #[test]
    fn a_probe_time_out_on_both_bases_is_one_finding_naming_both() {
        let r = closed(&matrix(""), vec![timed_out("glibc"), timed_out("musl")]);
        let ids: Vec<(&str, &[String])> = r.findings.iter().map(|f| (f.id.as_str(), f.failing.as_slice())).collect();
        assert_eq!(ids, [("six/timeout/probe", &["glibc".to_string(), "musl".to_string()][..])], "{:#?}", r.findings);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.outcome.unwrap().exit_code, 1);
    }

    #[test]
    fn missing_evidence_blocks_whatever_the_policy_lists() {
        let r = closed(
            &matrix("blocking = []"),
            vec![JobRecord::new("six", "glibc", "six", BuildOutcome::Installed), timed_out("musl")],
        );
        let f = &r.findings[0];
        assert_eq!((f.kind, f.severity), (FindingKind::Timeout, Severity::Blocking));
        assert_eq!(r.verdicts.iter().map(|v| v.pass).collect::<Vec<_>>(), [true, false]);
        assert_eq!(r.outcome.unwrap().exit_code, 1);
    }

    #[test]
    fn an_infrastructure_error_is_an_error_verdict_and_a_junit_error_never_a_silent_absence() {
        let mut lost = JobRecord::new("six", "musl", "six", BuildOutcome::InfraError);
        lost.error = Some("the container was removed while it ran".into());
        let ok = JobRecord {
            probe: Some(WheelProbe { completion: Completion::Complete, ..Default::default() }),
            ..JobRecord::new("six", "glibc", "six", BuildOutcome::Installed)
        };
        let mut r = RunReport::new("run", "r", "m.toml");
        r.jobs = vec![ok, lost];
        r.errors.push("six[musl]: the container was removed while it ran".into());
        close(&mut r, &matrix(""), None, None, &Available::default());
        let status: Vec<(&str, &str)> = r.verdicts.iter().map(|v| (v.base.as_str(), v.status())).collect();
        assert_eq!(status, [("glibc", "pass"), ("musl", "error")]);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.outcome.as_ref().unwrap().exit_code, crate::error::EXIT_INFRA);
        let xml = crate::report::render(&r, crate::cli::Format::Junit);
        assert!(xml.contains("<error") && xml.contains("removed while it ran"), "{xml}");
        assert!(crate::report::table::render(&r).contains("ERROR"), "the full tables say ERROR");
        let glance = crate::report::glance::render(&r, false);
        assert!(glance.lines().any(|l| l.contains("six") && l.contains("error")), "the grid says error: {glance}");
    }

    #[test]
    fn a_requirement_whose_marker_excludes_every_base_is_a_configuration_error() {
        let excluded = |base: &str| {
            let mut j = JobRecord::new("six", base, "six; sys_platform == \"win32\"", BuildOutcome::NotApplicable);
            j.error = Some("the marker excludes this base (pip: Ignoring six: markers 'sys_platform == \"win32\"' don't match your environment)".into());
            j
        };
        let r = closed(&matrix(""), vec![excluded("glibc"), excluded("musl")]);
        let o = r.outcome.unwrap();
        assert_eq!(o.exit_code, crate::error::EXIT_USAGE, "{}", o.summary);
        assert!(
            o.summary.contains("`six; sys_platform == \"win32\"` of six applies to no base (glibc, musl"),
            "{}",
            o.summary
        );
        // On one base only, it is that base's "not applicable", and the run passes.
        let ok = JobRecord {
            probe: Some(WheelProbe { completion: Completion::Complete, ..Default::default() }),
            ..JobRecord::new("six", "glibc", "six", BuildOutcome::Installed)
        };
        assert_eq!(closed(&matrix(""), vec![ok, excluded("musl")]).outcome.unwrap().exit_code, 0);
    }

    #[test]
    fn a_run_needs_two_observed_libc_families() {
        let base = |name: &str, family: Option<&str>| crate::model::BaseRecord {
            name: name.into(),
            image: "i".into(),
            digest: None,
            image_id: "sha256:x".into(),
            size: 0,
            required: true,
            libc: family.map(|f| crate::model::Libc { family: f.into(), version: Some("1".into()) }),
            compilers: Default::default(),
        };
        assert_eq!(too_few_families(&[base("a", Some("glibc")), base("b", Some("musl"))]), None);
        let e = too_few_families(&[base("a", Some("glibc")), base("b", Some("glibc"))]).unwrap();
        assert!(e.contains("glibc 1 on a, glibc 1 on b") && e.contains("has 1"), "{e}");
        let e = too_few_families(&[base("a", Some("musl")), base("b", None)]).unwrap();
        assert!(e.contains("not observed on b"), "{e}");
    }

    #[test]
    fn a_finding_id_given_twice_is_a_harness_error_not_a_quiet_merge() {
        let r = closed(&matrix(""), vec![timed_out("glibc"), timed_out("musl")]);
        let mut twice = r.findings.clone();
        twice.push(r.findings[0].clone());
        twice[1].summary = "another".into();
        let errors = duplicate_ids(&twice);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("`six/timeout/probe` was given to 2 findings"), "{}", errors[0]);
        assert!(duplicate_ids(&r.findings).is_empty());
        // In a report, that error makes the run inconclusive.
        let mut bad = r.clone();
        bad.findings = twice;
        bad.errors.extend(duplicate_ids(&bad.findings));
        assert_eq!(outcome(&bad, None).0.exit_code, crate::error::EXIT_INFRA);
    }
}
