//! Snapshot tests: every renderer is a pure function of the report, so a fixed report pins them.

use std::collections::BTreeMap;

use super::render;
use crate::cli::Format;
use crate::kinds::FindingKind;
use crate::model::*;

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
        r.add_section(
            &crate::kinds::PROFILE,
            ProbeSection {
                base: base.into(),
                libc: r.bases.iter().find(|b| b.name == base).unwrap().libc.clone(),
                checks: BTreeMap::from([("thread_stack.python".into(), obs(serde_json::json!({"bytes": stack})))]),
                protocol_errors: vec![],
                container: ContainerOutcome::default(),
                completion: Completion::Complete,
                cached: false,
            },
        );
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
    crate::results::write_atomic(&p, render(&fixture(), Format::Json).as_bytes()).unwrap();
    assert_eq!(super::read(&p).unwrap(), fixture());
    std::fs::write(&p, "{\"schema_version\": 99}").unwrap();
    assert!(super::read(&p).unwrap_err().contains("schema 99"));
    std::fs::write(&p, "[1,2").unwrap();
    assert!(super::read(&p).unwrap_err().contains("not a report"));
    for (wrong, shown) in [("\"2\"", "\\\"2\\\""), ("-1", "-1"), ("2.5", "2.5"), ("null", "null"), ("[2]", "[2]")] {
        std::fs::write(&p, format!("{{\"schema_version\": {wrong}}}")).unwrap();
        let e = super::read(&p).unwrap_err();
        assert!(
            e.contains(&format!("has a schema_version of the wrong type: {shown}, where a report has a whole number")),
            "{wrong}: {e}"
        );
    }
    std::fs::write(&p, "{}").unwrap();
    assert!(super::read(&p).unwrap_err().contains("(no schema_version)"));
}

/// Two installed jobs whose smoke script is timed on both bases, musl's many times slower, and
/// a third base with too few runs to compare: every format shows the finding with the numbers,
/// and the table and the HTML each job's timing.
fn runtime_fixture() -> RunReport {
    let mut r = RunReport::new("gate", "1700000000-abcdef12", "matrix/local.toml");
    let mut stopped = SmokeRuntime::from_runs(5, vec![2.0, 2.1]);
    stopped.stopped = Some("the next run (about 2.1 s) would not fit in the 5 s budget".into());
    for (base, t) in [
        ("glibc", SmokeRuntime::from_runs(5, vec![0.21, 0.20, 0.23, 0.22, 0.21])),
        ("musl", SmokeRuntime::from_runs(5, vec![1.9, 1.8, 2.1, 1.9, 2.0])),
        ("other", stopped.clone()),
    ] {
        let probe = WheelProbe {
            completion: Completion::Complete,
            smoke: Some(CheckOutcome::Ok),
            smoke_thread: Some(CheckOutcome::Ok),
            smoke_runtime: Some(t),
            ..Default::default()
        };
        r.jobs
            .push(JobRecord { probe: Some(probe), ..JobRecord::new("pkg", base, "pkg==1.0", BuildOutcome::Installed) });
        r.bases.push(BaseRecord {
            name: base.into(),
            image: format!("img-{base}"),
            digest: None,
            image_id: format!("sha256:{base}"),
            size: 0,
            required: true,
            libc: None,
            compilers: Default::default(),
        });
    }
    let policy = crate::matrix::Policy::default();
    let dep = crate::matrix::Dependency {
        name: "pkg".into(),
        requirement: crate::matrix::Requirement::parse("pkg==1.0").unwrap(),
        also: vec![],
        constraints: vec![],
        smoke: None,
        known_difference: None,
    };
    let results: Vec<crate::compare::BaseResult> =
        r.jobs.iter().map(|job| crate::compare::BaseResult { job, required: true, compiler: None }).collect();
    r.findings = crate::compare::dependency_findings(&dep, &policy, &results);
    r.verdicts = crate::compare::verdicts(&dep, &policy, &results, &r.findings);
    r.normalise();
    r.outcome = Some(crate::compare::run_outcome(&r));
    r
}

#[test]
fn a_runtime_difference_is_shown_in_every_format_with_its_numbers() {
    let r = runtime_fixture();
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let (glibc, musl) = ("median 0.21 s (0.20–0.23 s, 5 runs)", "median 1.9 s (1.8–2.1 s, 5 runs)");
    let not_compared = "not compared: 2 timed runs of 5 (at least 3 needed)";
    for format in [Format::Markdown, Format::Html] {
        let out = render(&r, format);
        for text in ["runtime-differs", glibc, musl, not_compared, "9.0x as long on musl as on glibc"] {
            assert!(out.contains(text), "{format:?} lacks {text:?}:\n{out}");
        }
    }
    // Each job's own timing, finding or not (the table wraps long cells: short fragments).
    let html = render(&r, Format::Html);
    assert!(
        html.contains(&format!("run time {glibc}")) && html.contains(&format!("run time {not_compared}")),
        "{html}"
    );
    let table = render(&r, Format::Table);
    for text in ["runtime-differs", &format!("run time {glibc}"), &format!("run time {musl}"), "run time not compared"]
    {
        assert!(table.contains(text), "the table lacks {text:?}:\n{table}");
    }
    // JUnit: informational, so no case fails; the evidence is in each case's output.
    let xml = render(&r, Format::Junit);
    assert_eq!(xml.matches("<failure").count(), 0, "{xml}");
    assert!(xml.contains("[runtime-differs]") && xml.contains(&format!("musl: {musl}")), "{xml}");
    // The JSON keeps the runs and the statistics, and reads back.
    let text = render(&r, Format::Json);
    assert!(text.contains("\"median_secs\": 1.9") && text.contains("\"runs_secs\""), "{text}");
    assert_eq!(serde_json::from_str::<RunReport>(&text).unwrap(), r);
}

/// A crafted report (or code under test writing into a summary, an evidence excerpt or a log
/// tail): escape sequences, a carriage return, an OSC 8 hyperlink and a right-to-left override.
/// No renderer for people passes any of them through raw; JSON keeps the text as it was.
#[test]
fn terminal_escapes_and_bidi_overrides_are_shown_escaped_in_every_human_format() {
    const HOSTILE: &str =
        "\u{1b}[2K\rall good \u{1b}]8;;https://evil.example/\u{7}click\u{1b}]8;;\u{7} \u{202e}lmth.exe";
    let mut r = fixture();
    let f = r.findings.first_mut().expect("the fixture has a finding");
    f.summary = format!("summary {HOSTILE}");
    f.evidence.insert("musl".into(), format!("evidence {HOSTILE}\nsecond line"));
    r.errors.push(format!("error {HOSTILE}"));
    r.jobs[1].error = Some(format!("pip {HOSTILE}"));
    r.jobs[1].log_tail = format!("log {HOSTILE}");
    let raw = ['\u{1b}', '\r', '\u{7}', '\u{202e}'];
    for format in [Format::Table, Format::Markdown, Format::Html] {
        let out = render(&r, format);
        if let Some(c) = out.chars().find(|c| raw.contains(c)) {
            panic!("{format:?} passes {c:?} through raw:\n{out}");
        }
        assert!(out.contains("\\x1b[2K\\x0dall good") && out.contains("\\u202elmth.exe"), "{format:?}:\n{out}");
    }
    let old = fixture();
    let diff = super::diff::diff(&old, &r);
    for out in [super::diff::render_table(&diff), super::diff::render_markdown(&diff)] {
        assert!(!out.chars().any(|c| raw.contains(&c)), "{out}");
        assert!(out.contains("\\u202elmth.exe"), "{out}");
    }
    // JSON is data, not display: unchanged.
    assert!(render(&r, Format::Json).contains("\\u001b[2K\\rall good"));
}
