//! The decision model over hand-built typed observations: every finding kind, the verdict and
//! exit-code rule, and the holes that must stay closed (a dead probe, a probe cut short, an
//! optional integration, a pure-Python fallback, a worker-thread-only crash).

use super::*;
use crate::matrix::{KnownDifference, Requirement};
use crate::model::{Completion, Distribution, Extension, RunReport, Source, Verdict, WheelProbe};

fn dep() -> Dependency {
    Dependency {
        name: "pkg".into(),
        requirement: Requirement::parse("pkg").unwrap(),
        also: vec![],
        constraints: vec![],
        smoke: None,
        known_difference: None,
    }
}

fn job(base: &str, outcome: BuildOutcome) -> JobRecord {
    JobRecord {
        build_secs: 10.0,
        error: (outcome != BuildOutcome::Installed).then(|| "ERROR: Failed to build 'pkg'".to_string()),
        probe: (outcome == BuildOutcome::Installed).then(|| {
            let mut p = WheelProbe { completion: Completion::Complete, ..Default::default() };
            for (m, top) in [("pkg", true), ("pkg._speedups", false)] {
                p.imports.insert(m.into(), CheckOutcome::Ok);
                p.module_dist.insert(m.into(), "pkg".into());
                if top {
                    p.top_level.insert(m.into());
                }
            }
            p.smoke = Some(CheckOutcome::Ok);
            p.smoke_thread = Some(CheckOutcome::Ok);
            p
        }),
        ..JobRecord::new("pkg", base, "pkg", outcome)
    }
}

fn probe(j: &mut JobRecord) -> &mut WheelProbe {
    j.probe.as_mut().unwrap()
}

fn dist(name: &str, version: &str, source: Source) -> Distribution {
    Distribution {
        name: name.into(),
        version: version.into(),
        source,
        file: format!("{name}-{version}"),
        requested: name == "pkg",
    }
}

fn segv() -> CheckOutcome {
    CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() }
}

/// Findings and verdicts for two required bases.
fn decide_with(policy: &Policy, d: &Dependency, a: &JobRecord, b: &JobRecord) -> (Vec<Finding>, Vec<Verdict>) {
    let rs =
        [BaseResult { job: a, required: true, compiler: None }, BaseResult { job: b, required: true, compiler: None }];
    let f = dependency_findings(d, policy, &rs);
    let v = verdicts(d, policy, &rs, &f);
    (f, v)
}

fn decide(a: &JobRecord, b: &JobRecord) -> (Vec<Finding>, Vec<Verdict>) {
    decide_with(&Policy::default(), &dep(), a, b)
}

fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
    f.iter().map(|f| (f.kind, f.severity)).collect()
}

fn passes(v: &[Verdict]) -> Vec<bool> {
    v.iter().map(|v| v.pass).collect()
}

/// The verdict and the findings never disagree: a required base fails exactly when a blocking
/// finding names it.
fn assert_consistent(f: &[Finding], v: &[Verdict]) {
    for v in v {
        let blocked = f.iter().any(|f| f.severity == Severity::Blocking && f.failing.contains(&v.base));
        assert_eq!(v.blocks(), blocked, "verdict {v:?} against findings {f:?}");
    }
}

#[test]
fn identical_results_give_no_findings_and_passing_verdicts() {
    let (f, v) = decide(&job("glibc", BuildOutcome::Installed), &job("musl", BuildOutcome::Installed));
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(passes(&v), [true, true]);
}

#[test]
fn install_on_one_base_only_blocks_and_fails_that_base_only() {
    let (f, v) = decide(&job("glibc", BuildOutcome::Installed), &job("musl", BuildOutcome::InstallFailed));
    assert_eq!(kinds(&f), vec![(FindingKind::InstallDiffers, Severity::Blocking)]);
    assert_eq!(f[0].id, "pkg/install-differs/");
    assert_eq!(f[0].failing, ["musl"]);
    assert!(f[0].evidence["musl"].contains("Failed to build"));
    assert_eq!(passes(&v), [true, false]);
    assert_consistent(&f, &v);
}

#[test]
fn an_optional_base_does_not_block() {
    let (a, b) = (job("glibc", BuildOutcome::Installed), job("musl", BuildOutcome::InstallFailed));
    let rs = [
        BaseResult { job: &a, required: true, compiler: None },
        BaseResult { job: &b, required: false, compiler: None },
    ];
    let f = dependency_findings(&dep(), &Policy::default(), &rs);
    assert_eq!(kinds(&f), vec![(FindingKind::InstallDiffers, Severity::Info)]);
    let v = verdicts(&dep(), &Policy::default(), &rs, &f);
    assert!(!v[1].pass && !v[1].blocks());
    assert_consistent(&f, &v);
}

#[test]
fn a_known_difference_is_reported_but_does_not_block() {
    let mut d = dep();
    d.known_difference = Some(KnownDifference { kinds: vec![FindingKind::InstallDiffers], reason: "no wheel".into() });
    let (f, v) = decide_with(
        &Policy::default(),
        &d,
        &job("glibc", BuildOutcome::Installed),
        &job("musl", BuildOutcome::InstallFailed),
    );
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!(f[0].known.as_deref(), Some("no wheel"));
    assert_eq!(passes(&v), [true, true]);
}

#[test]
fn source_build_and_version_differences_are_found_in_the_whole_tree() {
    let mut a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    a.distributions = vec![dist("pkg", "2.0", Source::Manylinux), dist("helper", "1.1", Source::Manylinux)];
    b.distributions = vec![dist("pkg", "2.0", Source::Sdist), dist("helper", "1.0", Source::Musllinux)];
    let (f, v) = decide(&a, &b);
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::SourceBuild, Severity::Info), (FindingKind::VersionDiffers, Severity::Info)]
    );
    assert_eq!(f[0].id, "pkg/source-build/pkg");
    assert_eq!(f[1].id, "pkg/version-differs/helper", "no version number in an id");
    assert_eq!(passes(&v), [true, true]);
    let mut strict = Policy { source_builds_fail: true, ..Policy::default() };
    strict.blocking.push(FindingKind::SourceBuild);
    let (f, v) = decide_with(&strict, &dep(), &a, &b);
    assert_eq!(f[0].severity, Severity::Blocking);
    assert_eq!(passes(&v), [true, false]);
    assert_consistent(&f, &v);
}

#[test]
fn crashes_and_import_differences_are_found() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    probe(&mut b).imports.insert("pkg".into(), segv());
    probe(&mut b).smoke = Some(CheckOutcome::Error { message: "AssertionError".into() });
    let (f, v) = decide(&a, &b);
    // The import crash is one finding, with its explanation; the smoke failure another.
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::Crash, Severity::Blocking), (FindingKind::SmokeDiffers, Severity::Blocking)]
    );
    assert_eq!(f[0].id, "pkg/crash/pkg");
    assert_eq!(f[0].evidence["musl"], "crash (SIGSEGV)");
    assert!(f[0].explanation["musl"][0].starts_with("no explanation found"), "{:?}", f[0].explanation);
    assert_eq!(passes(&v), [true, false]);
    assert_consistent(&f, &v);
}

#[test]
fn failing_everywhere_is_a_failure_not_a_difference() {
    let (f, v) = decide(&job("glibc", BuildOutcome::InstallFailed), &job("musl", BuildOutcome::InstallFailed));
    assert_eq!(kinds(&f), vec![(FindingKind::Fails, Severity::Blocking)]);
    assert_eq!(passes(&v), [false, false]);
}

#[test]
fn build_time_outs_are_timeout_findings() {
    let (f, v) = decide(&job("glibc", BuildOutcome::Installed), &job("musl", BuildOutcome::Timeout));
    assert!(f.iter().any(|f| f.kind == FindingKind::Timeout && f.failing == ["musl"]), "{f:?}");
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn infrastructure_errors_are_not_findings_but_never_a_pass() {
    let (f, v) = decide(&job("glibc", BuildOutcome::Installed), &job("musl", BuildOutcome::InfraError));
    assert!(f.is_empty());
    assert_eq!(passes(&v), [true, false]);
    assert!(v[1].reasons[0].starts_with("not run"));
}

#[test]
fn a_probe_that_died_fails_its_base() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    let p = probe(&mut b);
    p.completion = Completion::OomKilled;
    // What a dead probe leaves: nothing after the point it died.
    p.imports.clear();
    p.smoke = None;
    p.smoke_thread = None;
    let (f, v) = decide(&a, &b);
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::Incomplete, Severity::Blocking)],
        "missing modules are unknown, not absent: {f:?}"
    );
    assert_eq!(f[0].id, "pkg/incomplete/probe");
    assert!(f[0].evidence["musl"].contains("OOM"));
    assert_eq!(passes(&v), [true, false]);
    assert_consistent(&f, &v);
}

#[test]
fn a_probe_that_timed_out_is_a_timeout_finding() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    probe(&mut b).completion = Completion::TimedOut { secs: 300 };
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::Timeout, Severity::Blocking)]);
    assert_eq!(f[0].id, "pkg/timeout/probe");
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn a_probe_cut_short_fails_its_base_even_if_everything_it_said_was_fine() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    probe(&mut b).completion = Completion::NoClosingRecord;
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::Incomplete, Severity::Blocking)]);
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn an_optional_integration_missing_everywhere_is_information() {
    let mut a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    for j in [&mut a, &mut b] {
        let p = probe(j);
        let missing = CheckOutcome::MissingOptional {
            module: "adbc_driver_manager".into(),
            message: "No module named 'adbc_driver_manager'".into(),
        };
        p.imports.insert("adbc_driver_pkg".into(), missing);
        p.top_level.insert("adbc_driver_pkg".into());
        p.module_dist.insert("adbc_driver_pkg".into(), "pkg".into());
    }
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::OptionalDependency, Severity::Info)]);
    assert_eq!(passes(&v), [true, true]);
    // The same error on one base only is still a difference.
    probe(&mut a).imports.insert("adbc_driver_pkg".into(), CheckOutcome::Ok);
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::ImportDiffers, Severity::Blocking)]);
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn modules_of_one_distribution_failing_the_same_way_are_one_finding_with_its_explanation() {
    let mut a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    for j in [&mut a, &mut b] {
        let base = j.base.clone();
        let p = probe(j);
        for i in 0..21 {
            p.imports.insert(format!("pkg._ext{i:02}"), CheckOutcome::Ok);
            p.module_dist.insert(format!("pkg._ext{i:02}"), "pkg".into());
        }
        p.libc = Some(crate::model::Libc {
            family: base.clone(),
            version: Some(if base == "musl" { "1.2.3" } else { "2.41" }.into()),
        });
    }
    let p = probe(&mut b);
    for i in 0..21 {
        p.imports.insert(format!("pkg._ext{i:02}"), segv());
    }
    p.imports.insert("pkg".into(), segv());
    p.extensions.push(Extension {
        distribution: "pkg".into(),
        kind: "vendored".into(),
        path: "pkg.libs/libopenblas.so".into(),
        needed: vec![],
        glibc_linked: false,
        foreign_libc: false,
        relr: true,
        glibc_symbol_versions: vec![],
        missing_needed: vec![],
    });
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::Crash, Severity::Blocking)], "one finding, not 22: {f:?}");
    assert_eq!(f[0].id, "pkg/crash/pkg");
    assert!(f[0].summary.contains("22 modules of pkg"), "{}", f[0].summary);
    let why = &f[0].explanation["musl"];
    assert!(why.iter().any(|w| w.contains("DT_RELR") && w.contains("musl 1.2.3") && w.contains("1.2.4")), "{why:?}");
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn a_compiled_module_that_fails_where_the_package_imports_is_a_pure_python_fallback() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    probe(&mut b).imports.insert(
        "pkg._speedups".into(),
        CheckOutcome::Error { message: "ImportError: Error loading shared library".into() },
    );
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::PurePythonFallback, Severity::Info)]);
    assert_eq!(f[0].id, "pkg/pure-python-fallback/pkg");
    assert!(f[0].summary.contains("pkg._speedups"), "{}", f[0].summary);
    assert_eq!(f[0].failing, ["musl"]);
    assert_eq!(passes(&v), [true, true]);
    // Not even there (built from an sdist without its extension): the same.
    probe(&mut b).imports.remove("pkg._speedups");
    let (f, _) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::PurePythonFallback, Severity::Info)]);
    assert_eq!(f[0].evidence["musl"], "not present");
    // But a crash of it is a crash, whatever the package does.
    probe(&mut b).imports.insert("pkg._speedups".into(), segv());
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::Crash, Severity::Blocking)], "{f:?}");
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn a_crash_in_a_worker_thread_only_is_a_blocking_thread_crash() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    probe(&mut b).smoke_thread = Some(segv());
    probe(&mut b).thread_stack_bytes = Some(1 << 20);
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::ThreadCrash, Severity::Blocking)]);
    assert_eq!(f[0].failing, ["musl"]);
    assert!(
        f[0].evidence["musl"].contains("main thread: ok; worker thread (1024 KiB stack): crash (SIGSEGV)"),
        "{:?}",
        f[0].evidence
    );
    assert!(f[0].evidence["glibc"].contains("worker thread"));
    assert_eq!(passes(&v), [true, false]);
    assert_consistent(&f, &v);
    // A dependency may opt out, with a reason.
    let mut d = dep();
    d.known_difference = Some(KnownDifference {
        kinds: vec![FindingKind::ThreadCrash],
        reason: "only used from the main thread".into(),
    });
    let (f, v) = decide_with(&Policy::default(), &d, &a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::ThreadCrash, Severity::Info)]);
    assert_eq!(passes(&v), [true, true]);
}

#[test]
fn foreign_libc_includes_vendored_libraries() {
    let a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    probe(&mut b).extensions.push(Extension {
        distribution: "pkg".into(),
        kind: "vendored".into(),
        path: "pkg.libs/libgfortran.so.5".into(),
        needed: vec!["libc.so.6".into()],
        glibc_linked: true,
        foreign_libc: true,
        relr: false,
        glibc_symbol_versions: vec!["GLIBC_2.17".into()],
        missing_needed: vec![],
    });
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::ForeignLibc, Severity::Blocking)]);
    assert!(f[0].evidence["musl"].contains("pkg.libs/libgfortran.so.5"));
    assert_eq!(passes(&v), [true, false]);
}

#[test]
fn ratios_become_information() {
    let mut a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    a.build_secs = 10.0;
    b.build_secs = 400.0;
    a.size_over_base = Some(10_000_000);
    b.size_over_base = Some(50_000_000);
    let (f, v) = decide(&a, &b);
    assert_eq!(kinds(&f), vec![(FindingKind::BuildTime, Severity::Info), (FindingKind::Size, Severity::Info)]);
    assert_eq!(passes(&v), [true, true]);
}

#[test]
fn a_base_that_could_not_be_prepared_is_one_finding_and_fails_its_jobs() {
    let required = BTreeMap::from([("glibc".to_string(), true), ("musl".to_string(), true)]);
    let prep = prep_failed("musl", "failed to prepare base musl: apk: not found", &Policy::default(), &required);
    assert_eq!((prep.id.as_str(), prep.severity), ("<base:musl>/prep-failed/", Severity::Blocking));
    let (a, b) = (job("glibc", BuildOutcome::Installed), job("musl", BuildOutcome::BaseFailed));
    let rs = [
        BaseResult { job: &a, required: true, compiler: None },
        BaseResult { job: &b, required: true, compiler: None },
    ];
    let mut f = dependency_findings(&dep(), &Policy::default(), &rs);
    assert!(f.is_empty(), "no install finding for a job that never ran: {f:?}");
    f.push(prep);
    let v = verdicts(&dep(), &Policy::default(), &rs, &f);
    assert_eq!(passes(&v), [true, false]);
    assert_eq!(v[1].failed_by, ["<base:musl>/prep-failed/"]);
    assert_consistent(&f, &v);
}

#[test]
fn the_run_outcome_is_decided_once_from_findings_and_errors() {
    let mut r = RunReport::new("gate", "1-x", "m.toml");
    assert_eq!(run_outcome(&r).exit_code, 0);
    let (f, v) = decide(&job("glibc", BuildOutcome::Installed), &job("musl", BuildOutcome::InstallFailed));
    r.findings = f;
    r.verdicts = v;
    let o = run_outcome(&r);
    assert_eq!((o.exit_code, o.blocking, o.failing_verdicts), (1, 1, 1));
    r.errors.push("engine lost".into());
    assert_eq!(run_outcome(&r).exit_code, 3);
}

#[test]
fn the_dependencys_crash_depth_is_reported_only_where_it_moves_materially() {
    use crate::model::{ContainerOutcome, Observation, ProbeSection};
    let depth = |d: i64| Observation {
        status: "ok".into(),
        value: serde_json::json!({"max_ok_depth": d}),
        ..Default::default()
    };
    let section = |base: &str, d: i64| ProbeSection {
        base: base.into(),
        libc: None,
        checks: BTreeMap::from([(crate::probe::checks::CRASH_DEPTH_JSON_THREAD.to_string(), depth(d))]),
        protocol_errors: vec![],
        container: ContainerOutcome::default(),
        completion: Completion::Complete,
        cached: false,
    };
    let profile = [section("glibc", 100_000), section("musl", 9_000)];
    let mut a = job("glibc", BuildOutcome::Installed);
    let mut b = job("musl", BuildOutcome::Installed);
    // The bases differ a lot, but the dependency changes neither: no finding.
    a.crash_depth = Some(depth(99_000));
    b.crash_depth = Some(depth(8_800));
    let required = BTreeMap::from([("glibc".to_string(), true), ("musl".to_string(), true)]);
    assert!(dependency_depth_findings(&[a.clone(), b.clone()], &profile, &Policy::default(), &required).is_empty());
    b.crash_depth = Some(depth(2_000));
    let f = dependency_depth_findings(&[a, b], &profile, &Policy::default(), &required);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].id.as_str(), f[0].severity), ("pkg/behaviour/crash-depth", Severity::Info));
    assert_eq!(f[0].failing, ["musl"]);
}

/// A source build's evidence is what was observed of it: its time and the compiler on the base
/// that built it, its first error line where it failed, the install's time where a wheel came.
#[test]
fn source_build_evidence_carries_times_compilers_and_errors() {
    let sb = |ok: bool, secs: f64, error: Option<&str>| crate::model::SourceBuild {
        distribution: "pkg".into(),
        file: "pkg-2.0.tar.gz".into(),
        ok,
        secs,
        error: error.map(str::to_string),
        from_cache: false,
    };
    let mut wheel = job("glibc", BuildOutcome::Installed);
    wheel.build_secs = 3.2;
    wheel.distributions = vec![dist("pkg", "2.0", Source::Manylinux)];
    let mut built = job("cc", BuildOutcome::Installed);
    built.distributions = vec![dist("pkg", "2.0", Source::Sdist)];
    built.source_builds = vec![sb(true, 380.4, None)];
    let mut failed = job("musl", BuildOutcome::InstallFailed);
    failed.distributions = vec![dist("pkg", "2.0", Source::Sdist)];
    failed.source_builds = vec![sb(false, 0.7, Some("pkg.c:1:10: fatal error: 'zstd.h' file not found"))];
    let rs = [
        BaseResult { job: &wheel, required: true, compiler: Some("cc (gcc 14)") },
        BaseResult { job: &built, required: true, compiler: Some("cc (clang version 22.1.8)") },
        BaseResult { job: &failed, required: true, compiler: Some("no compiler: none found") },
    ];
    let d = install::source_build(&rs.iter().collect::<Vec<_>>());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].failing, ["cc", "musl"]);
    assert_eq!(d[0].evidence["glibc"], "manylinux (pkg-2.0); the install took 3.2 s");
    assert_eq!(d[0].evidence["cc"], "built from source (pkg-2.0) in 380.4 s; C compiler: cc (clang version 22.1.8)");
    assert_eq!(
        d[0].evidence["musl"],
        "the source build (pkg-2.0) failed after 0.7 s: pkg.c:1:10: fatal error: 'zstd.h' file not found; C compiler: no compiler: none found"
    );
    // The whole install's time is compared, with both numbers in the summary.
    built.build_secs = 385.0;
    let rs = [
        BaseResult { job: &wheel, required: true, compiler: None },
        BaseResult { job: &built, required: true, compiler: None },
    ];
    let r = ratios::build_time(&rs.iter().collect::<Vec<_>>());
    assert_eq!(r[0].summary, "build time on cc is 120.3x that on glibc (385.0 s vs 3.2 s)");
}
