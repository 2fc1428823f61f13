//! `report merge`, `report diff` and `run --baseline` on crafted reports, as processes and with
//! no engine (DOCKER_HOST points at nothing): no verdict better or worse than the reports'
//! evidence. An unfinished shard, overlapping shards or a shard missing its jobs is refused;
//! an unfinished report or one of another matrix is compared only when a flag allows it, and
//! the comparison says so; a finding that got worse decides like a new one.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::{json, Value};

use crate::common::*;

const NOWHERE: &str = "unix:///nonexistent/muslcheck-test.sock";

fn offline() -> assert_cmd::Command {
    let mut c = bin();
    c.env("DOCKER_HOST", NOWHERE).current_dir(root());
    c
}

fn job(dep: &str, base: &str) -> Value {
    json!({
        "id": format!("{dep}[{base}]"), "dependency": dep, "base": base, "requirement": dep,
        "outcome": "installed", "cached": false, "build_secs": 1.0, "image": null, "image_size": null,
        "size_over_base": null, "distributions": [], "log_tail": "", "error": null, "probe": null
    })
}

fn finding(id: &str, severity: &str, failing: &[&str]) -> Value {
    let mut parts = id.splitn(3, '/');
    let (subject, kind, item) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    json!({
        "id": id, "subject": subject, "kind": kind, "item": item, "failing": failing, "severity": severity,
        "summary": format!("{kind} of {subject}"), "evidence": {}, "known": null
    })
}

/// A finished report of the plan {a, b, c} on base x, holding the jobs of `deps`.
fn finished(run_id: &str, deps: &[&str], shard: Option<(u32, u32)>) -> Value {
    let planned: serde_json::Map<String, Value> =
        ["a", "b", "c"].iter().map(|d| (d.to_string(), json!([format!("{d}[x]")]))).collect();
    json!({
        "schema_version": 2, "tool_version": "0", "run_id": run_id, "command": "run", "matrix": "m.toml",
        "started_at": 1, "finished_at": 2, "partial": false, "not_run": [], "planned": planned,
        "bases": [], "jobs": deps.iter().map(|d| job(d, "x")).collect::<Vec<_>>(), "findings": [],
        "verdicts": [], "errors": [], "matrix_digest": "digest-1",
        "shard": shard.map(|(k, n)| json!({"k": k, "n": n})),
        "outcome": {"exit_code": 0, "findings": 0, "blocking": 0, "failing_verdicts": 0, "errors": 0, "summary": "no blocking finding"}
    })
}

/// What a shard killed with SIGKILL leaves: partial, its remaining jobs in `not_run`, no
/// error, no outcome, never finished.
fn killed(mut r: Value, not_run: &[&str]) -> Value {
    r["partial"] = json!(true);
    r["not_run"] = json!(not_run);
    r["finished_at"] = Value::Null;
    r.as_object_mut().unwrap().remove("outcome");
    r
}

fn write(dir: &Path, name: &str, r: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(r).unwrap()).unwrap();
    p
}

fn merge(dir: &Path, shards: &[&Path]) -> assert_cmd::assert::Assert {
    offline().args(["report", "merge"]).args(shards).arg("--results-dir").arg(dir.join("merged")).assert()
}

#[test]
fn a_merge_of_a_killed_shard_is_refused_by_run_id_and_unfinished_jobs() {
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one.json", &finished("run-one", &["a", "c"], Some((1, 2))));
    // Shard 2 was killed before its job ran: an "empty partial report".
    let two = write(d.path(), "two.json", &killed(finished("run-two", &[], Some((2, 2))), &["b[x]"]));
    merge(d.path(), &[&one, &two])
        .code(2)
        .stderr(predicate::str::contains("shard 2/2 (run run-two) is unfinished"))
        .stderr(predicate::str::contains("jobs not run: b[x]"));
    assert!(!d.path().join("merged/report.json").exists(), "no merged report from an unfinished shard");
    // Finished, the same two merge, and the union is decided: exit 0.
    let two = write(d.path(), "two.json", &finished("run-two", &["b"], Some((2, 2))));
    merge(d.path(), &[&one, &two]).code(0);
    let merged = report(&d.path().join("merged"));
    assert_eq!(merged["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(merged["partial"], false);
}

#[test]
fn a_merge_needs_the_shards_jobs_to_be_the_whole_plan_each_once() {
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one.json", &finished("run-one", &["a", "c"], Some((1, 2))));
    // A shard with no jobs, finished, while the plan gives it b.
    let empty = write(d.path(), "empty.json", &finished("run-two", &[], Some((2, 2))));
    merge(d.path(), &[&one, &empty]).code(2).stderr(predicate::str::contains(
        "the shards do not hold the whole matrix's plan: missing b[x] (shard 2/2 (run run-two) has no jobs)",
    ));
    // The same job in two shards.
    let overlap = write(d.path(), "overlap.json", &finished("run-two", &["b", "a"], Some((2, 2))));
    merge(d.path(), &[&one, &overlap]).code(2).stderr(predicate::str::contains("job a[x] is in two shards"));
}

#[test]
fn a_diff_refuses_an_unfinished_report_or_another_matrix_unless_allowed_and_then_says_so() {
    let d = tempfile::tempdir().unwrap();
    let old = write(d.path(), "old.json", &finished("old", &["a", "b", "c"], None));
    let partial = write(d.path(), "partial.json", &killed(finished("tonight", &[], None), &["a[x]", "b[x]", "c[x]"]));
    // Last night's findings would all read as resolved: refused, not exit 0.
    let mut with_findings = finished("old", &["a", "b", "c"], None);
    with_findings["findings"] = json!([finding("a/crash/", "blocking", &["x"])]);
    let old_findings = write(d.path(), "old-findings.json", &with_findings);
    offline()
        .args(["report", "diff"])
        .arg(&old_findings)
        .arg(&partial)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the new report (run tonight) is unfinished"))
        .stderr(predicate::str::contains("--allow-unfinished"));
    let out = offline()
        .args(["report", "diff", "--format", "json", "--allow-unfinished"])
        .arg(&old_findings)
        .arg(&partial)
        .assert()
        .code(0);
    let diff: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(diff["caveats"][0].as_str().unwrap().contains("compared with --allow-unfinished"), "{diff:#}");
    let mut other = finished("other", &["a", "b", "c"], None);
    other["matrix_digest"] = json!("digest-2");
    let other = write(d.path(), "other.json", &other);
    offline()
        .args(["report", "diff"])
        .arg(&old)
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("another matrix").and(predicate::str::contains("--allow-other-matrix")));
    offline()
        .args(["report", "diff", "--format", "markdown", "--allow-other-matrix"])
        .arg(&old)
        .arg(&other)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("**caveat:**"));
}

#[test]
fn a_worsened_finding_fails_a_diff_like_a_new_one_and_is_shown_as_worsened() {
    let d = tempfile::tempdir().unwrap();
    let mut old = finished("old", &["a", "b", "c"], None);
    old["findings"] = json!([finding("a/crash/", "blocking", &["x"]), finding("b/size/", "info", &["x"])]);
    let mut new = finished("new", &["a", "b", "c"], None);
    // a fails another base (an optional one), b now blocks: nothing is new.
    new["findings"] = json!([finding("a/crash/", "blocking", &["x", "y"]), finding("b/size/", "blocking", &["x"])]);
    let (old, new) = (write(d.path(), "old.json", &old), write(d.path(), "new.json", &new));
    let out = offline().args(["report", "diff"]).arg(&old).arg(&new).assert().code(1);
    let text = stdout_of(&out);
    assert!(text.contains("worsened (2)") && text.contains("new (0)"), "{text}");
    offline()
        .args(["report", "diff", "--format", "markdown"])
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("| worsened | `a/crash/`"));
    // Better is not worse: the reverse is exit 0.
    offline().args(["report", "diff"]).arg(&new).arg(&old).assert().code(0);
}

#[test]
fn run_baseline_refuses_an_unfinished_baseline_or_another_matrix_before_the_engine() {
    let d = tempfile::tempdir().unwrap();
    let partial = write(d.path(), "partial.json", &killed(finished("last-night", &[], None), &["six[glibc]"]));
    let run = |baseline: &Path, extra: &[&str]| {
        offline()
            .args(["run", "--matrix", "tests/fixtures/small.toml", "--no-profile", "--no-resolver", "--baseline"])
            .arg(baseline)
            .args(extra)
            .arg("--results-dir")
            .arg(d.path().join("results"))
            .assert()
    };
    run(&partial, &[]).code(2).stderr(predicate::str::contains("(run last-night) is unfinished"));
    let other = write(d.path(), "other.json", &finished("last-night", &["a"], None));
    run(&other, &[]).code(2).stderr(predicate::str::contains("another matrix"));
    // Allowed, the run goes on to the engine (which is nowhere: exit 3, not 2).
    run(&partial, &["--allow-unfinished", "--allow-other-matrix"])
        .code(3)
        .stderr(predicate::str::contains("cannot reach the Docker engine"));
}
