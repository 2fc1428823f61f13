//! `muslcheck repro`: a reproducer that crashes only on musl is reported as such, with a rate.

use predicates::prelude::*;

use crate::common::*;

#[test]
fn a_reproducer_that_segfaults_only_on_musl_is_reported_with_its_crash_rate() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    in_results(
        dir.path(),
        &["repro", "tests/fixtures/repro/deep_json_thread.py", "--runs", "3", "--matrix", "tests/fixtures/small.toml"],
    )
    .code(1)
    .stdout(predicate::str::contains("outcomes differ between bases"));
    let r = report(dir.path());
    let rec = |b: &str| r["repro"].as_array().unwrap().iter().find(|x| x["base"] == b).unwrap().clone();
    let (g, m) = (rec("glibc"), rec("musl"));
    assert_eq!(g["outcomes"], serde_json::json!({"exit 0": 3}), "{g}");
    assert_eq!(g["crash_rate"], 0.0);
    assert!(g["runs"][0]["excerpt"].as_str().unwrap().contains("serialised 16002 bytes"), "{g}");
    assert_eq!(m["outcomes"], serde_json::json!({"SIGSEGV": 3}), "{m}");
    assert_eq!(m["crash_rate"], 1.0);
    assert_eq!(m["runs"][0]["signal"], 11);
    assert_no_leftovers(&r);
}

#[test]
fn a_reproducer_that_behaves_the_same_exits_0_and_requirements_are_installed_first() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("ok.py");
    std::fs::write(&script, "import msgpack\nassert msgpack.unpackb(msgpack.packb([1, 2])) == [1, 2]\nprint('fine')\n")
        .unwrap();
    in_results(
        dir.path(),
        &[
            "repro",
            script.to_str().unwrap(),
            "--requirement",
            "msgpack==1.1.2",
            "--runs",
            "2",
            "--matrix",
            "tests/fixtures/small.toml",
            "--ca-bundle",
            &ca_bundle(),
        ],
    )
    .code(0)
    .stdout(predicate::str::contains("same outcomes on every base"));
    let r = report(dir.path());
    for x in r["repro"].as_array().unwrap() {
        assert_eq!(x["outcomes"], serde_json::json!({"exit 0": 2}), "{x}");
    }
}
