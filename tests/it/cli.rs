//! The command line as a process: help, and bad input refused with exit 2 before the engine is
//! contacted (DOCKER_HOST points at nothing, so reaching it would give 3), and an unreachable
//! engine giving 3 quickly with one clear message.

use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::common::*;

const NOWHERE: &str = "unix:///nonexistent/muslcheck-test.sock";

fn offline() -> assert_cmd::Command {
    let mut c = bin();
    c.env("DOCKER_HOST", NOWHERE).current_dir(root());
    c
}

#[test]
fn help_explains_commands_and_exit_codes() {
    let out = bin().arg("--help").assert().success().get_output().stdout.clone();
    insta::assert_snapshot!("help", String::from_utf8_lossy(&out));
    let out = bin().args(["gate", "--help"]).assert().success().get_output().stdout.clone();
    insta::assert_snapshot!("gate_help", String::from_utf8_lossy(&out));
}

#[test]
fn an_unreachable_engine_exits_3_fast_with_one_clear_message() {
    for args in [
        vec!["run", "--matrix", "tests/fixtures/small.toml"],
        vec!["gate", "six", "--matrix", "tests/fixtures/small.toml"],
        vec!["doctor", "--matrix", "tests/fixtures/small.toml"],
        vec!["clean"],
    ] {
        let start = Instant::now();
        offline()
            .args(&args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("cannot reach the Docker engine"))
            .stderr(predicate::str::contains(format!("DOCKER_HOST={NOWHERE}")))
            .stderr(predicate::str::contains("panicked").not());
        assert!(start.elapsed() < Duration::from_secs(2), "{args:?} took {:?}", start.elapsed());
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn bad_matrices_are_refused_with_file_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        ("truncated.toml", "[[base]]\nname = \"a\nimage = \"x\"\n", ":2:"),
        ("unknown-key.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\nimgae = \"y\"\n", ":4:1: unknown field `imgae`"),
        ("wrong-type.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\nrequired = \"yes\"\n", ":4:"),
        ("duplicate.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\n[[base]]\nname = \"a\"\nimage = \"y\"\n[[dependency]]\nrequirement = \"six\"\n", ":5:8: duplicate base name `a`"),
        ("empty.toml", "", ":1:1: the matrix names no base"),
        ("smuggled.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\n[[dependency]]\nrequirement = \"six\\nRUN curl x | sh\"\n", ":5:15: `requirement`: requirement contains a control character"),
        ("no-deps.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\n", "names no dependency"),
    ];
    for (name, text, expected) in cases {
        let path = write(d.path(), name, text);
        offline()
            .args(["run", "--matrix", &path])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected))
            .stderr(predicate::str::contains("panicked").not());
    }
    // Several problems in one file are all reported.
    let path = write(d.path(), "many.toml", "[policy]\nsource_builds = \"maybe\"\n[[base]]\nname = \"a b\"\nimage = \"x\"\n[[dependency]]\nrequirement = \"$(id)\"\n");
    let out = offline().args(["run", "--matrix", &path]).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8_lossy(&out);
    assert_eq!(err.matches(&path).count(), 3, "{err}");
}

#[test]
fn bad_requirements_and_arguments_are_refused_before_the_engine() {
    for req in [
        "numpy && rm -rf /",
        "numpy; echo $(id)",
        "six`id`",
        "--index-url=http://evil/simple",
        "pkg @ https://example.com/p.whl",
        "num py",
        "six\nRUN id",
    ] {
        offline()
            .args(["gate", "--matrix", "tests/fixtures/small.toml", "--", req])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid requirement"));
    }
    let d = tempfile::tempdir().unwrap();
    let reqs =
        write(d.path(), "requirements.txt", "six\n--extra-index-url http://evil/simple\nfoo @ https://x/y.whl\n");
    offline()
        .args(["gate", "-r", &reqs, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("requirements.txt:2: `--extra-index-url` would switch the package index"))
        .stderr(predicate::str::contains("requirements.txt:3: direct URL requirements are not supported"));
    offline()
        .args(["run", "--matrix", "tests/fixtures/small.toml", "--only", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown dependency `nope`"));
    offline()
        .args(["run", "--matrix", "tests/fixtures/small.toml", "--base", "alpine"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown base `alpine`"));
    offline()
        .args(["run", "--matrix", "no/such/file.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("failed to read the matrix"));
    offline()
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "--ca-bundle", "/no/such/ca.pem"])
        .assert()
        .code(2);
    offline()
        .args(["gate", "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least one requirement"));
    offline().args(["frobnicate"]).assert().code(2);
}
