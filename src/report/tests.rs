//! Snapshot tests: every renderer is a pure function of the report, so a fixed report pins them.

use std::collections::BTreeMap;

use super::model::*;
use super::render;
use crate::cli::Format;
use crate::kinds::FindingKind;

fn fixture() -> RunReport {
    let mut r = RunReport::new("gate", "1700000000-abcdef12", "matrix/local.toml");
    r.started_at = 1_700_000_000;
    r.finished_at = Some(1_700_000_100);
    r.partial = false;
    r.tool_version = "0.0.0".into();
    for (name, family, version, digest) in
        [("glibc", "glibc", "2.41", "sha256:aaaa"), ("musl", "musl", "1.2.5", "sha256:bbbb")]
    {
        r.bases.push(BaseRecord {
            name: name.into(),
            image: format!("127.0.0.1:5000/muslcheck-testbed/python:3.13-{name}"),
            digest: Some(digest.into()),
            image_id: format!("sha256:{name}id"),
            size: 100_000_000,
            required: true,
            libc: Some(Libc { family: family.into(), version: Some(version.into()) }),
            compilers: Default::default(),
        });
    }
    let mut probe = WheelProbe {
        libc: Some(Libc { family: "glibc".into(), version: Some("2.41".into()) }),
        completion: Completion::Complete,
        ..Default::default()
    };
    probe.imports.insert("lz4".into(), CheckOutcome::Ok);
    probe.imports.insert("lz4.frame._frame".into(), CheckOutcome::Ok);
    probe.smoke = Some(CheckOutcome::Skipped { message: "no smoke script".into() });
    r.jobs.push(JobRecord {
        id: "lz4[glibc]".into(),
        dependency: "lz4".into(),
        base: "glibc".into(),
        requirement: "lz4==4.4.5".into(),
        outcome: BuildOutcome::Installed,
        cached: true,
        reuse: String::new(),
        build_secs: 1.25,
        image: Some("muslcheck/job:0123".into()),
        image_size: Some(116_000_000),
        size_over_base: Some(16_000_000),
        distributions: vec![Distribution {
            name: "lz4".into(),
            version: "4.4.5".into(),
            source: Source::Manylinux,
            file: "lz4-4.4.5-cp313-cp313-manylinux_2_28_x86_64.whl".into(),
            requested: true,
        }],
        log_tail: "Successfully installed lz4-4.4.5\n".into(),
        error: None,
        probe: Some(probe),
        crash_depth: None,
        probe_cached: false,
        probe_secs: 0.0,
        source_builds: vec![],
    });
    r.jobs.push(JobRecord {
        id: "lz4[musl]".into(),
        dependency: "lz4".into(),
        base: "musl".into(),
        requirement: "lz4==4.4.5".into(),
        outcome: BuildOutcome::InstallFailed,
        cached: false,
        reuse: String::new(),
        build_secs: 4.5,
        image: None,
        image_size: None,
        size_over_base: None,
        distributions: vec![Distribution {
            name: "lz4".into(),
            version: "4.4.5".into(),
            source: Source::Sdist,
            file: "lz4-4.4.5.tar.gz".into(),
            requested: false,
        }],
        log_tail: "error: command 'cc' failed: No such file or directory\nERROR: Failed to build 'lz4'\n".into(),
        error: Some("ERROR: Failed to build installable wheels for some pyproject.toml based projects (lz4)".into()),
        probe: None,
        crash_depth: None,
        probe_cached: false,
        probe_secs: 0.0,
        source_builds: vec![],
    });
    // The decision comes from the comparison, as in a run: the renderers only show it.
    let known = crate::matrix::Policy::default();
    let dep = crate::matrix::Dependency {
        name: "lz4".into(),
        requirement: crate::matrix::Requirement::parse("lz4==4.4.5").unwrap(),
        also: vec![],
        constraints: vec![],
        smoke: None,
        known_difference: Some(crate::matrix::KnownDifference {
            kinds: vec![FindingKind::SourceBuild],
            reason: "accepted until a musllinux wheel exists".into(),
        }),
    };
    let results: Vec<crate::compare::BaseResult> =
        r.jobs.iter().map(|job| crate::compare::BaseResult { job, required: true, compiler: None }).collect();
    let findings = crate::compare::dependency_findings(&dep, &known, &results);
    let verdicts = crate::compare::verdicts(&dep, &known, &results, &findings);
    r.findings = findings;
    r.verdicts = verdicts;
    let obs = |v: serde_json::Value| Observation { status: "ok".into(), value: v, message: None, duration_ms: None };
    for (base, stack) in [("glibc", 8_388_608), ("musl", 1_051_384)] {
        r.profile.push(ProbeSection {
            base: base.into(),
            libc: r.bases.iter().find(|b| b.name == base).unwrap().libc.clone(),
            checks: BTreeMap::from([("thread_stack.python".into(), obs(serde_json::json!({"bytes": stack})))]),
            protocol_errors: vec![],
            container: ContainerOutcome::default(),
            completion: Completion::Complete,
            cached: false,
        });
    }
    r.normalise();
    r.outcome = Some(crate::compare::run_outcome(&r));
    r
}

#[test]
fn table() {
    insta::assert_snapshot!(render(&fixture(), Format::Table));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render(&fixture(), Format::Markdown));
}

#[test]
fn junit() {
    let xml = render(&fixture(), Format::Junit);
    // Exactly the failing job fails: lz4 installs and passes on glibc.
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    let musl = xml.find("name=\"lz4[musl]\"").unwrap();
    let glibc = xml.find("name=\"lz4[glibc]\"").unwrap();
    let failure = xml.find("<failure").unwrap();
    assert!(failure > musl && (glibc < musl || failure < glibc), "{xml}");
    insta::assert_snapshot!(xml);
}

#[test]
fn json_round_trips_and_is_versioned() {
    let r = fixture();
    let text = render(&r, Format::Json);
    let back: RunReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    assert!(text.contains("\"schema_version\": 2"));
    insta::assert_snapshot!(text);
}

#[test]
fn reading_a_report_checks_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    super::write_atomic(&p, render(&fixture(), Format::Json).as_bytes()).unwrap();
    assert_eq!(super::read(&p).unwrap(), fixture());
    std::fs::write(&p, "{\"schema_version\": 99}").unwrap();
    assert!(super::read(&p).unwrap_err().contains("schema 99"));
    std::fs::write(&p, "[1,2").unwrap();
    assert!(super::read(&p).unwrap_err().contains("not a report"));
}
