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
        installer: None,
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
        installer: None,
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
    let obs = |v: serde_json::Value| Observation {
        status: "ok".into(),
        value: v,
        message: None,
        duration_ms: None,
        ..Default::default()
    };
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

/// The detailed view (`--details`).
#[test]
fn table() {
    insta::assert_snapshot!(super::table::render(&fixture()));
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
    let table = super::table::render(&r);
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
    let details = super::View { details: true, colour: false };
    for (format, view) in [
        (Format::Table, super::View::default()),
        (Format::Table, details),
        (Format::Markdown, super::View::default()),
        (Format::Html, super::View::default()),
    ] {
        let out = super::render_view(&r, format, view);
        if let Some(c) = out.chars().find(|c| raw.contains(c)) {
            panic!("{format:?} {view:?} passes {c:?} through raw:\n{out}");
        }
        assert!(
            out.contains("\\x1b[2K\\x0dall good") && out.contains("\\u202elmth.exe"),
            "{format:?} {view:?}:\n{out}"
        );
    }
    // In colour, the only escapes are the styles added around escaped text.
    let colour = super::render_view(&r, Format::Table, super::View { details: false, colour: true });
    assert!(
        colour.contains("\\x1b[2K\\x0dall good") && !colour.contains('\r') && !colour.contains('\u{202e}'),
        "{colour}"
    );
    let old = fixture();
    let diff = super::diff::diff(&old, &r);
    for out in [super::diff::render_table(&diff), super::diff::render_markdown(&diff)] {
        assert!(!out.chars().any(|c| raw.contains(&c)), "{out}");
        assert!(out.contains("\\u202elmth.exe"), "{out}");
    }
    // JSON is data, not display: unchanged.
    assert!(render(&r, Format::Json).contains("\\u001b[2K\\rall good"));
}

/// A seed-like run: the seed dependencies on the two test-bed bases, most passing; lz4 failing
/// on musl (no wheel, the sdist does not build) with the version that has a wheel suggested;
/// one dependency whose marker excludes both bases, and one job lost to the engine.
fn seed_fixture() -> RunReport {
    let mut r = fixture();
    r.command = "run".into();
    r.matrix_source = "matrix/local.toml (--matrix)".into();
    r.timings = Timings { total: 42.5, bases: 3.2, build: 61.0, probe: 18.4, ..Default::default() };
    let installed = |dep: &str, base: &str| {
        let mut probe = WheelProbe { completion: Completion::Complete, ..Default::default() };
        probe.imports.insert(dep.replace('-', "_"), CheckOutcome::Ok);
        probe.smoke = Some(CheckOutcome::Ok);
        JobRecord { cached: true, probe: Some(probe), ..JobRecord::new(dep, base, dep, BuildOutcome::Installed) }
    };
    let mut jobs = vec![];
    for dep in ["argon2-cffi", "asyncpg", "cryptography", "grpcio", "hiredis", "numpy", "pandas", "scikit-learn"] {
        for base in ["glibc", "musl"] {
            jobs.push(if dep == "grpcio" && base == "musl" {
                JobRecord {
                    error: Some("the engine stopped answering".into()),
                    ..JobRecord::new(dep, base, dep, BuildOutcome::InfraError)
                }
            } else {
                installed(dep, base)
            });
        }
    }
    for base in ["glibc", "musl"] {
        jobs.push(JobRecord::new("pywin32", base, "pywin32; sys_platform == 'win32'", BuildOutcome::NotApplicable));
    }
    let policy = crate::matrix::Policy::default();
    let mut deps: Vec<&str> = jobs.iter().map(|j| j.dependency.as_str()).collect();
    deps.dedup();
    for name in deps {
        let dep = crate::matrix::Dependency {
            name: name.into(),
            requirement: crate::matrix::Requirement::parse(name).unwrap(),
            also: vec![],
            constraints: vec![],
            smoke: None,
            known_difference: None,
        };
        let results: Vec<crate::compare::BaseResult> = jobs
            .iter()
            .filter(|j| j.dependency == name)
            .map(|job| crate::compare::BaseResult { job, required: true, compiler: None })
            .collect();
        let findings = crate::compare::dependency_findings(&dep, &policy, &results);
        r.verdicts.extend(crate::compare::verdicts(&dep, &policy, &results, &findings));
        r.findings.extend(findings);
    }
    r.jobs.extend(jobs);
    r.errors.push("grpcio[musl]: the engine stopped answering".into());
    // The suggestion, as the comparison words it, from the musl base's tags and the index.
    let lz4 = r.findings.iter().position(|f| f.id.starts_with("lz4/install-differs")).expect("lz4's finding");
    let available = crate::compare::Available {
        tags: [("musl".to_string(), Ok(vec!["cp313-cp313-musllinux_1_2_x86_64".to_string()]))].into(),
        files: [("lz4".to_string(), Ok(vec!["lz4-4.3.3-cp313-cp313-musllinux_1_2_x86_64.whl".to_string()]))].into(),
        fixes: Default::default(),
    };
    let dep = crate::matrix::Dependency {
        name: "lz4".into(),
        requirement: crate::matrix::Requirement::parse("lz4==4.4.5").unwrap(),
        also: vec![],
        constraints: vec![],
        smoke: None,
        known_difference: None,
    };
    let lz4_jobs: Vec<JobRecord> = r.jobs.iter().filter(|j| j.dependency == "lz4").cloned().collect();
    let results: Vec<crate::compare::BaseResult> =
        lz4_jobs.iter().map(|job| crate::compare::BaseResult { job, required: true, compiler: None }).collect();
    crate::compare::suggest_versions(&mut r.findings[lz4..=lz4], &dep, &results, &available);
    // The base sections of two libcs differ in dozens of checks, as the seed matrix's do.
    for (subject, kind, n) in [("<profile>", FindingKind::Behaviour, 25), ("<resolver>", FindingKind::Resolver, 14)] {
        for i in 0..n {
            r.findings.push(Finding {
                id: format!("{subject}/{kind}/check{i}"),
                subject: subject.into(),
                kind,
                item: format!("check{i}"),
                failing: vec!["glibc".into(), "musl".into()],
                severity: Severity::Info,
                summary: format!("what check {i} looks at: one thing on glibc; another on musl"),
                evidence: Default::default(),
                known: None,
                explanation: Default::default(),
            });
        }
    }
    r.normalise();
    r.outcome = Some(crate::compare::run_outcome(&r));
    r
}

#[test]
fn glance() {
    let r = seed_fixture();
    let out = render(&r, Format::Table);
    assert!(out.lines().count() < 60, "{} lines:\n{out}", out.lines().count());
    // A few of each section's differences in words, the rest counted.
    assert!(out.contains("info <profile>: 19 more difference(s), each in words: --details"), "{out}");
    assert!(out.contains("info <resolver>: 8 more difference(s)"), "{out}");
    assert!(out.contains("what check 0 looks at: one thing on glibc; another on musl"), "{out}");
    // Plain: nothing for a terminal to interpret.
    assert!(!out.contains('\u{1b}'), "{out}");
    // The suggestion is under what to do, the facts under why.
    let lz4 = &out[out.find("FAIL lz4:").expect("lz4's block")..];
    let (why, todo) = (lz4.find("why:").unwrap(), lz4.find("to do: the newest version of lz4 with a wheel").unwrap());
    assert!(why < todo, "{out}");
    for cell in ["not applicable", "error", "FAIL", "pass"] {
        assert!(out.lines().any(|l| l.split("  ").any(|c| c.trim() == cell)), "no {cell} cell:\n{out}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn glance_in_colour_and_in_detail() {
    let r = seed_fixture();
    let plain = render(&r, Format::Table);
    let colour = super::render_view(&r, Format::Table, super::View { details: false, colour: true });
    assert!(colour.contains("\u{1b}[1;31mFAIL\u{1b}[0m") && colour.contains("\u{1b}[32mpass\u{1b}[0m"), "{colour}");
    // Colour adds styles and nothing else.
    let mut stripped = String::new();
    let mut rest = colour.as_str();
    while let Some(i) = rest.find("\u{1b}[") {
        stripped.push_str(&rest[..i]);
        let end = rest[i..].find('m').expect("a style ends in m");
        rest = &rest[i + end + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain);
    // --details is today's full table view.
    let details = super::render_view(&r, Format::Table, super::View { details: true, colour: false });
    assert_eq!(details, super::table::render(&r));
    assert!(details.contains("Jobs") && details.contains("lz4[musl]"), "{details}");
}
