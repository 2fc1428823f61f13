//! `muslcheck gate`: verdicts per base and the exit-code contract.

use predicates::prelude::*;

use crate::common::*;

fn gate(args: &[&str], dir: &std::path::Path) -> assert_cmd::assert::Assert {
    let ca = ca_bundle();
    let all: Vec<&str> = ["gate"]
        .iter()
        .chain(args)
        .chain(&["--matrix", "tests/fixtures/small.toml", "--ca-bundle", ca.as_str()])
        .copied()
        .collect();
    in_results(dir, &all)
}

#[test]
fn gate_passes_a_pure_package_and_fails_one_that_breaks_on_musl() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    gate(&["six==1.17.0"], dir.path()).code(0).stdout(predicate::str::contains("0 finding(s), 0 blocking"));
    let dir = tempfile::tempdir().unwrap();
    gate(&["lz4==4.4.5", "--format", "markdown"], dir.path())
        .code(1)
        .stdout(predicate::str::contains("| lz4 | musl | ❌ fail |"))
        .stdout(predicate::str::contains("**blocking**"));
    let r = report(dir.path());
    assert_eq!(r["command"], "gate");
    let v: Vec<(String, bool)> = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["base"].as_str().unwrap().to_string(), v["pass"].as_bool().unwrap()))
        .collect();
    assert_eq!(v, vec![("glibc".to_string(), true), ("musl".to_string(), false)]);
    assert_no_leftovers(&r);
}

#[test]
fn gate_reads_a_requirements_file() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let reqs = dir.path().join("requirements.txt");
    std::fs::write(&reqs, "# pure python\nsix==1.17.0\n").unwrap();
    gate(&["-r", reqs.to_str().unwrap()], dir.path()).code(0);
    assert_eq!(report(dir.path())["jobs"].as_array().unwrap().len(), 2);
}
