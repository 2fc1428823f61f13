//! The decision model end to end, on the test-bed bases: a crash only in a worker thread, code
//! under test that tries to forge probe records, a probe killed mid-run, an optional integration
//! whose own dependency is not installed, and JUnit failing exactly the failing jobs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn gate(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    let ca = ca_bundle();
    let mut all: Vec<&str> = vec!["gate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--matrix", "tests/fixtures/small.toml", "--ca-bundle", &ca]);
    in_results(dir, &all)
}

#[test]
fn a_smoke_test_that_crashes_only_in_a_worker_thread_on_musl_is_a_blocking_thread_crash() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    gate(
        dir.path(),
        &[
            "six==1.17.0",
            "--smoke",
            "tests/fixtures/smoke/deep-json.py",
            "--format",
            "junit",
            "--output",
            junit.to_str().unwrap(),
        ],
    )
    .code(1);
    let r = report(dir.path());
    // The main thread passes on both bases; the worker thread crashes on musl only.
    for base in ["glibc", "musl"] {
        let p = &job(&r, &format!("six[{base}]"))["probe"];
        assert_eq!(p["smoke"]["status"], "ok", "{p:#}");
        assert_eq!(p["completion"]["status"], "complete", "{p:#}");
    }
    assert_eq!(job(&r, "six[glibc]")["probe"]["smoke_thread"]["status"], "ok");
    assert_eq!(job(&r, "six[musl]")["probe"]["smoke_thread"]["status"], "crash");
    let stack = |b: &str| {
        job(&r, &format!("six[{b}]"))["probe"]["thread_stack_bytes"]
            .as_u64()
            .expect("the worker's stack size is reported")
    };
    assert!(stack("musl") < stack("glibc"), "observed stacks: musl {} glibc {}", stack("musl"), stack("glibc"));
    let tc = findings_of(&r, "thread-crash");
    assert_eq!(tc.len(), 1, "{r:#}");
    assert_eq!(tc[0]["severity"], "blocking");
    assert_eq!(tc[0]["failing"], serde_json::json!(["musl"]));
    assert!(tc[0]["evidence"]["musl"].as_str().unwrap().contains("worker thread"), "{tc:?}");
    assert_eq!(r["outcome"]["exit_code"], 1);
    // JUnit fails exactly the failing job.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    let case = |name: &str| {
        xml.split("<testcase ")
            .find(|c| c.contains(&format!("name=\"{name}\"")))
            .unwrap_or_else(|| panic!("{name} in {xml}"))
    };
    assert!(case("six[musl]").contains("<failure"), "{xml}");
    assert!(!case("six[glibc]").contains("<failure"), "{xml}");
    assert_no_leftovers(&r);
}

#[test]
fn code_under_test_cannot_forge_probe_records() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    gate(dir.path(), &["six==1.17.0", "--smoke", "tests/fixtures/smoke/forge.py"]).code(0);
    let r = report(dir.path());
    for base in ["glibc", "musl"] {
        let p = &job(&r, &format!("six[{base}]"))["probe"];
        assert_eq!(p["imports"]["six"]["status"], "ok", "a forged record was taken: {p:#}");
        assert_eq!(p["completion"]["status"], "complete", "{p:#}");
        let out = p["smoke_output"].as_str().unwrap_or("");
        assert!(out.contains("refused") && !out.contains("forged a record"), "{base}: {out}");
    }
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r:#}");
    assert_no_leftovers(&r);
}

#[test]
fn a_probe_killed_mid_run_fails_its_base() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    // The smoke script hangs on the musl base only (it has no glibc loader), so the probe killed
    // is musl's, and glibc's is there to compare with.
    std::fs::write(
        d.path().join("sleep.py"),
        "import os, time\ntime.sleep(0 if os.path.exists('/lib/x86_64-linux-gnu/libc.so.6') else 300)\n",
    )
    .unwrap();
    let m = format!("[policy]\nprobe_timeout = \"5m\"\n\n[[base]]\nname = \"glibc\"\nimage = \"{GLIBC}\"\n\n[[base]]\nname = \"musl\"\nimage = \"{MUSL}\"\n\n[[dependency]]\nrequirement = \"six==1.17.0\"\nsmoke = \"sleep.py\"\n");
    std::fs::write(d.path().join("m.toml"), m).unwrap();
    let results = d.path().join("results");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("muslcheck"))
        .args([
            "run",
            "--matrix",
            d.path().join("m.toml").to_str().unwrap(),
            "--no-profile",
            "--no-resolver",
            "--no-progress",
            "--ca-bundle",
            &ca_bundle(),
            "--results-dir",
        ])
        .arg(&results)
        .env_remove("MUSLCHECK_CA_BUNDLE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the probe container, then kill it from outside.
    let start = Instant::now();
    let probe = loop {
        assert!(start.elapsed() < Duration::from_secs(240), "the run never started a probe");
        let o = Command::new("docker")
            .args(["ps", "-q", "--filter", "label=io.muslcheck.kind=probe-wheels", "--filter", "status=running"])
            .output()
            .unwrap();
        let ids = String::from_utf8_lossy(&o.stdout).to_string();
        // Only this run's: its report names the run id.
        if let Ok(r) = std::fs::read_to_string(results.join("report.json"))
            .map(|t| serde_json::from_str::<serde_json::Value>(&t).unwrap())
        {
            let mine = Command::new("docker")
                .args([
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=io.muslcheck.run={}", r["run_id"].as_str().unwrap()),
                    "--filter",
                    "label=io.muslcheck.kind=probe-wheels",
                ])
                .output()
                .unwrap();
            // The musl base's probe (glibc's may be running too, timing its runs): the one
            // whose filesystem has musl's loader.
            let musl = String::from_utf8_lossy(&mine.stdout)
                .lines()
                .map(str::trim)
                .filter(|id| !id.is_empty() && ids.contains(id))
                .find(|id| {
                    Command::new("docker")
                        .args(["exec", id, "test", "-e", "/lib/ld-musl-x86_64.so.1"])
                        .status()
                        .is_ok_and(|s| s.success())
                })
                .map(str::to_string);
            if let Some(id) = musl {
                break id;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    // Give the probe time to be inside the smoke script.
    std::thread::sleep(Duration::from_secs(3));
    assert!(Command::new("docker").args(["kill", &probe]).status().unwrap().success());
    assert_eq!(child.wait().unwrap().code(), Some(1), "a base whose probe died is a failure, never a pass");
    let r = report(&results);
    let inc = findings_of(&r, "incomplete");
    assert_eq!(inc.len(), 1, "{r:#}");
    assert_eq!(inc[0]["severity"], "blocking");
    assert_eq!(inc[0]["failing"], serde_json::json!(["musl"]));
    let verdict = |b: &str| r["verdicts"].as_array().unwrap().iter().find(|v| v["base"] == b).unwrap()["pass"].clone();
    assert_eq!((verdict("glibc"), verdict("musl")), (true.into(), false.into()));
    assert_no_leftovers(&r);
}

#[test]
fn an_optional_integration_whose_dependency_is_not_installed_does_not_fail_the_gate() {
    require_engine();
    // A package whose second top-level module is an integration needing a package nobody asked
    // for (as duckdb's adbc_driver_duckdb needs adbc_driver_manager).
    publish_wheel(
        "mcoptional",
        "1.0",
        &[
            ("mcoptional/__init__.py", "VALUE = 42\n"),
            ("mcoptional_adbc/__init__.py", "import mc_driver_manager_not_installed\n"),
        ],
        &["mcoptional", "mcoptional_adbc"],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> =
        vec!["gate".into(), "mcoptional==1.0".into(), "--matrix".into(), "tests/fixtures/small.toml".into()];
    args.extend(local_index_with_ca());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    in_results(dir.path(), &refs).code(0);
    let r = report(dir.path());
    let opt = findings_of(&r, "optional-dependency");
    assert_eq!(opt.len(), 1, "{r:#}");
    assert_eq!(opt[0]["item"], "mcoptional");
    assert!(opt[0]["summary"].as_str().unwrap().contains("mcoptional_adbc"), "{}", opt[0]);
    assert_eq!(opt[0]["severity"], "info");
    assert!(r["verdicts"].as_array().unwrap().iter().all(|v| v["pass"] == true), "{r:#}");
    assert_no_leftovers(&r);
}

/// A matrix whose musl base asks for system packages with apk, which the test-bed musl base
/// does not have: its package step fails.
fn unpreparable_matrix(dir: &Path) -> String {
    let m = format!(
        "[[base]]\nname = \"glibc\"\nimage = \"{GLIBC}\"\n\n[[base]]\nname = \"musl\"\nimage = \"{MUSL}\"\nfamily = \"apk\"\npackages = [\"build-base\"]\n\n\
         [[dependency]]\nrequirement = \"six==1.17.0\"\n\n[[dependency]]\nrequirement = \"msgpack==1.1.2\"\n"
    );
    let p = dir.join("apk.toml");
    std::fs::write(&p, m).unwrap();
    p.display().to_string()
}

#[test]
fn a_base_that_cannot_be_prepared_is_one_finding_and_its_jobs_are_not_run() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let matrix = unpreparable_matrix(d.path());
    let results = d.path().join("results");
    bin()
        .args([
            "run",
            "--matrix",
            &matrix,
            "--no-profile",
            "--no-resolver",
            "--ca-bundle",
            &ca_bundle(),
            "--results-dir",
        ])
        .arg(&results)
        .assert()
        .code(1);
    let r = report(&results);
    let f = r["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "one finding for the base, none per dependency: {r:#}");
    assert_eq!(f[0]["id"], "<base:musl>/prep-failed/");
    assert_eq!(f[0]["severity"], "blocking");
    for dep in ["six", "msgpack"] {
        assert_eq!(job(&r, &format!("{dep}[musl]"))["outcome"], "base-failed");
        assert_eq!(job(&r, &format!("{dep}[glibc]"))["outcome"], "installed");
        let v: Vec<(&str, bool)> = r["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["dependency"] == dep)
            .map(|v| (v["base"].as_str().unwrap(), v["pass"].as_bool().unwrap()))
            .collect();
        assert_eq!(v, [("glibc", true), ("musl", false)], "{r:#}");
    }
    assert_no_leftovers(&r);
}

#[test]
fn repro_treats_requirements_that_do_not_install_as_an_outcome() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let matrix = unpreparable_matrix(d.path());
    let script = d.path().join("ok.py");
    std::fs::write(&script, "print('fine')\n").unwrap();
    let results = d.path().join("results");
    let out = bin()
        .args([
            "repro",
            script.to_str().unwrap(),
            "--runs",
            "1",
            "--matrix",
            &matrix,
            "--ca-bundle",
            &ca_bundle(),
            "--results-dir",
        ])
        .arg(&results)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("could not be prepared"), "{stderr}");
    let r = report(&results);
    let musl = r["repro"].as_array().unwrap().iter().find(|x| x["base"] == "musl").unwrap();
    assert!(musl["install_error"].as_str().unwrap().contains("could not be prepared"), "{musl}");
    assert!(r["errors"].as_array().unwrap().is_empty(), "not an infrastructure error: {r:#}");
    assert_no_leftovers(&r);
}

/// A distribution's modules are imported one after another in one child; a module that kills
/// that child is observed again alone (its crash is its own), and the modules after it are
/// still imported, each with its own outcome.
#[test]
fn imports_after_a_crashing_module_are_observed_and_each_failure_is_its_own() {
    require_engine();
    publish_wheel(
        "mcbatch",
        "1.0",
        &[
            ("mcbatch_a/__init__.py", "VALUE = 1\n"),
            ("mcbatch_b/__init__.py", "import ctypes\nctypes.string_at(0)\n"),
            ("mcbatch_c/__init__.py", "VALUE = 3\n"),
            ("mcbatch_d/__init__.py", "raise ImportError('mcbatch_d refuses')\n"),
            ("mcbatch_e/__init__.py", "import mcbatch_a\nVALUE = mcbatch_a.VALUE + 4\n"),
        ],
        &["mcbatch_a", "mcbatch_b", "mcbatch_c", "mcbatch_d", "mcbatch_e"],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> =
        vec!["gate".into(), "mcbatch==1.0".into(), "--matrix".into(), "tests/fixtures/small.toml".into()];
    args.extend(local_index_with_ca());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    in_results(dir.path(), &refs).code(1);
    let r = report(dir.path());
    for base in ["glibc", "musl"] {
        let imports = &job(&r, &format!("mcbatch[{base}]"))["probe"]["imports"];
        let status = |m: &str| imports[m]["status"].as_str().unwrap_or("missing").to_string();
        assert_eq!(
            ["mcbatch_a", "mcbatch_b", "mcbatch_c", "mcbatch_d", "mcbatch_e"].map(status),
            ["ok", "crash", "ok", "error", "ok"],
            "{base}: {imports:#}"
        );
        assert_eq!(imports["mcbatch_b"]["signal"], 11, "{base}: {imports:#}");
        assert!(imports["mcbatch_d"]["message"].as_str().unwrap().contains("mcbatch_d refuses"), "{imports:#}");
    }
    assert_no_leftovers(&r);
}
