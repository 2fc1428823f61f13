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
    for (name, family, version, digest) in [("glibc", "glibc", "2.41", "sha256:aaaa"), ("musl", "musl", "1.2.5", "sha256:bbbb")] {
        r.bases.push(BaseRecord {
            name: name.into(),
            image: format!("127.0.0.1:5000/muslcheck-testbed/python:3.13-{name}"),
            digest: Some(digest.into()),
            image_id: format!("sha256:{name}id"),
            size: 100_000_000,
            required: true,
            libc: Some(Libc { family: family.into(), version: Some(version.into()) }),
        });
    }
    let mut probe = WheelProbe { libc: Some(Libc { family: "glibc".into(), version: Some("2.41".into()) }), ..Default::default() };
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
        build_secs: 1.25,
        image: Some("muslcheck/job:0123".into()),
        image_size: Some(116_000_000),
        size_over_base: Some(16_000_000),
        distributions: vec![Distribution { name: "lz4".into(), version: "4.4.5".into(), source: Source::Manylinux, file: "lz4-4.4.5-cp313-cp313-manylinux_2_28_x86_64.whl".into(), requested: true }],
        log_tail: "Successfully installed lz4-4.4.5\n".into(),
        error: None,
        probe: Some(probe),
        crash_depth: None,
    });
    r.jobs.push(JobRecord {
        id: "lz4[musl]".into(),
        dependency: "lz4".into(),
        base: "musl".into(),
        requirement: "lz4==4.4.5".into(),
        outcome: BuildOutcome::InstallFailed,
        cached: false,
        build_secs: 4.5,
        image: None,
        image_size: None,
        size_over_base: None,
        distributions: vec![Distribution { name: "lz4".into(), version: "4.4.5".into(), source: Source::Sdist, file: "lz4-4.4.5.tar.gz".into(), requested: false }],
        log_tail: "error: command 'cc' failed: No such file or directory\nERROR: Failed to build 'lz4'\n".into(),
        error: Some("ERROR: Failed to build installable wheels for some pyproject.toml based projects (lz4)".into()),
        probe: None,
        crash_depth: None,
    });
    r.findings.push(Finding {
        subject: "lz4".into(),
        kind: FindingKind::InstallDiffers,
        severity: Severity::Blocking,
        summary: "installs on glibc but not on musl".into(),
        evidence: BTreeMap::from([("glibc".into(), "installed".into()), ("musl".into(), "install-failed: ERROR: Failed to build 'lz4'".into())]),
        known: None,
    });
    r.findings.push(Finding {
        subject: "lz4".into(),
        kind: FindingKind::SourceBuild,
        severity: Severity::Info,
        summary: "lz4 is built from source on musl but installed from a wheel on glibc".into(),
        evidence: BTreeMap::from([("glibc".into(), "manylinux".into()), ("musl".into(), "sdist (lz4-4.4.5.tar.gz)".into())]),
        known: Some("accepted until a musllinux wheel exists".into()),
    });
    r.verdicts.push(Verdict { dependency: "lz4".into(), base: "glibc".into(), pass: true, required: true, reasons: vec![] });
    r.verdicts.push(Verdict { dependency: "lz4".into(), base: "musl".into(), pass: false, required: true, reasons: vec!["install failed: ERROR: Failed to build 'lz4'".into()] });
    let obs = |v: serde_json::Value| Observation { status: "ok".into(), value: v, message: None, duration_ms: None };
    for (base, stack) in [("glibc", 8_388_608), ("musl", 1_051_384)] {
        r.profile.push(ProbeSection {
            base: base.into(),
            libc: r.bases.iter().find(|b| b.name == base).unwrap().libc.clone(),
            checks: BTreeMap::from([("thread_stack.python".into(), obs(serde_json::json!({"bytes": stack})))]),
            protocol_errors: vec![],
            container: ContainerOutcome::default(),
        });
    }
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
    insta::assert_snapshot!(render(&fixture(), Format::Junit));
}

#[test]
fn json_round_trips_and_is_versioned() {
    let r = fixture();
    let text = render(&r, Format::Json);
    let back: RunReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    assert!(text.contains("\"schema_version\": 1"));
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
