use super::*;
use crate::matrix::{KnownDifference, Requirement};
use crate::report::model::{Distribution, WheelProbe};

fn dep() -> Dependency {
    Dependency { name: "pkg".into(), requirement: Requirement::parse("pkg").unwrap(), smoke: None, known_difference: None }
}

fn job(base: &str, outcome: BuildOutcome) -> JobRecord {
    JobRecord {
        id: format!("pkg[{base}]"),
        dependency: "pkg".into(),
        base: base.into(),
        requirement: "pkg".into(),
        outcome,
        cached: false,
        build_secs: 10.0,
        image: None,
        image_size: None,
        size_over_base: None,
        distributions: vec![],
        log_tail: String::new(),
        error: (outcome != BuildOutcome::Installed).then(|| "ERROR: Failed to build 'pkg'".to_string()),
        crash_depth: None,
        probe: (outcome == BuildOutcome::Installed).then(|| {
            let mut p = WheelProbe::default();
            p.imports.insert("pkg".into(), CheckOutcome::Ok);
            p.top_level.insert("pkg".into());
            p.smoke = Some(CheckOutcome::Ok);
            p
        }),
    }
}

fn dist(name: &str, version: &str, source: Source) -> Distribution {
    Distribution { name: name.into(), version: version.into(), source, file: format!("{name}-{version}"), requested: name == "pkg" }
}

fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
    f.iter().map(|f| (f.kind, f.severity)).collect()
}

#[test]
fn identical_results_give_no_findings_and_passing_verdicts() {
    let (a, b) = (job("glibc", BuildOutcome::Installed), job("musl", BuildOutcome::Installed));
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    assert!(dependency_findings(&dep(), &Policy::default(), &rs).is_empty());
    assert!(verdicts(&dep(), &Policy::default(), &rs).iter().all(|v| v.pass));
}

#[test]
fn install_on_one_base_only_blocks_when_that_base_is_required() {
    let (a, b) = (job("glibc", BuildOutcome::Installed), job("musl", BuildOutcome::InstallFailed));
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    let f = dependency_findings(&dep(), &Policy::default(), &rs);
    assert_eq!(kinds(&f), vec![(FindingKind::InstallDiffers, Severity::Blocking)]);
    assert!(f[0].evidence["musl"].contains("Failed to build"));
    let v = verdicts(&dep(), &Policy::default(), &rs);
    assert!(v[0].pass && !v[1].pass);

    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: false }];
    assert_eq!(kinds(&dependency_findings(&dep(), &Policy::default(), &rs)), vec![(FindingKind::InstallDiffers, Severity::Info)]);
}

#[test]
fn a_known_difference_is_reported_but_does_not_block() {
    let (a, b) = (job("glibc", BuildOutcome::Installed), job("musl", BuildOutcome::InstallFailed));
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    let mut d = dep();
    d.known_difference = Some(KnownDifference { kinds: vec![FindingKind::InstallDiffers], reason: "no wheel".into() });
    let f = dependency_findings(&d, &Policy::default(), &rs);
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!(f[0].known.as_deref(), Some("no wheel"));
}

#[test]
fn source_build_and_version_differences_are_found_in_the_whole_tree() {
    let mut a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    a.distributions = vec![dist("pkg", "2.0", Source::Manylinux), dist("helper", "1.1", Source::Manylinux)];
    b.distributions = vec![dist("pkg", "2.0", Source::Sdist), dist("helper", "1.0", Source::Musllinux)];
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    let f = dependency_findings(&dep(), &Policy::default(), &rs);
    assert_eq!(kinds(&f), vec![(FindingKind::SourceBuild, Severity::Info), (FindingKind::VersionDiffers, Severity::Info)]);
    assert!(f[1].summary.contains("helper"));
    let mut strict = Policy::default();
    strict.source_builds_fail = true;
    strict.blocking.push(FindingKind::SourceBuild);
    let f = dependency_findings(&dep(), &strict, &rs);
    assert_eq!(f[0].severity, Severity::Blocking);
    assert!(!verdicts(&dep(), &strict, &rs)[1].pass);
}

#[test]
fn crashes_and_import_differences_are_found() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    let p = b.probe.as_mut().unwrap();
    p.imports.insert("pkg".into(), CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() });
    p.smoke = Some(CheckOutcome::Error { message: "AssertionError".into() });
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    let f = dependency_findings(&dep(), &Policy::default(), &rs);
    assert_eq!(
        kinds(&f),
        vec![
            (FindingKind::ImportDiffers, Severity::Blocking),
            (FindingKind::SmokeDiffers, Severity::Blocking),
            (FindingKind::Crash, Severity::Blocking)
        ]
    );
    assert_eq!(f[2].evidence["musl"], "import pkg: SIGSEGV");
}

#[test]
fn failing_everywhere_is_a_failure_not_a_difference() {
    let (a, b) = (job("glibc", BuildOutcome::InstallFailed), job("musl", BuildOutcome::InstallFailed));
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    assert_eq!(kinds(&dependency_findings(&dep(), &Policy::default(), &rs)), vec![(FindingKind::Fails, Severity::Blocking)]);
}

#[test]
fn infrastructure_errors_are_not_findings() {
    let (a, b) = (job("glibc", BuildOutcome::Installed), job("musl", BuildOutcome::InfraError));
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    assert!(dependency_findings(&dep(), &Policy::default(), &rs).is_empty());
}

#[test]
fn a_failing_extension_submodule_import_does_not_fail_a_base_but_a_crash_does() {
    let mut a = job("glibc", BuildOutcome::Installed);
    a.probe.as_mut().unwrap().imports.insert("pkg._sub".into(), CheckOutcome::Error { message: "ImportError: circular".into() });
    let b = job("musl", BuildOutcome::Installed);
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    let v = verdicts(&dep(), &Policy::default(), &rs);
    assert!(v[0].pass, "{:?}", v[0]);
    // It is still a difference between the bases.
    assert_eq!(kinds(&dependency_findings(&dep(), &Policy::default(), &rs))[0].0, FindingKind::ImportDiffers);
    a.probe.as_mut().unwrap().imports.insert("pkg._sub".into(), CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() });
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    assert!(!verdicts(&dep(), &Policy::default(), &rs)[0].pass);
}

#[test]
fn a_submodule_error_on_the_only_installed_base_is_not_a_failure() {
    let mut a = job("glibc", BuildOutcome::Installed);
    a.probe.as_mut().unwrap().imports.insert("pkg._sub".into(), CheckOutcome::Error { message: "ImportError: circular".into() });
    let b = job("musl", BuildOutcome::InstallFailed);
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    assert_eq!(kinds(&dependency_findings(&dep(), &Policy::default(), &rs)), vec![(FindingKind::InstallDiffers, Severity::Blocking)]);
    a.probe.as_mut().unwrap().imports.insert("pkg".into(), CheckOutcome::Error { message: "ImportError: top".into() });
    let rs = [BaseResult { job: &a, required: true }, BaseResult { job: &b, required: true }];
    let f = dependency_findings(&dep(), &Policy::default(), &rs);
    assert!(f.iter().any(|f| f.kind == FindingKind::Fails && f.summary.contains("import pkg fails")), "{f:?}");
}
