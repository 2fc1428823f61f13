//! `muslcheck run` on small real packages: the differences it reports are the ones observed.

use crate::common::*;

fn run_small(dir: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let ca = ca_bundle();
    let all: Vec<&str> =
        ["run", "--matrix", "tests/fixtures/small.toml", "--no-profile", "--no-resolver", "--ca-bundle", ca.as_str()]
            .iter()
            .chain(extra)
            .copied()
            .collect();
    in_results(dir, &all)
}

#[test]
fn a_package_without_a_musllinux_wheel_is_a_blocking_difference_and_the_rest_pass() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    run_small(dir.path(), &["--format", "junit", "--output", junit.to_str().unwrap()]).code(1);
    let r = report(dir.path());
    assert_eq!(r["partial"], false);
    assert!(r["not_run"].as_array().unwrap().is_empty());

    // lz4: a manylinux wheel on glibc; on musl pip takes the sdist and cannot build it.
    assert_eq!(job(&r, "lz4[glibc]")["outcome"], "installed");
    assert_eq!(job(&r, "lz4[glibc]")["distributions"][0]["source"], "manylinux");
    assert_eq!(job(&r, "lz4[musl]")["outcome"], "install-failed");
    assert_eq!(job(&r, "lz4[musl]")["distributions"][0]["source"], "sdist");
    let findings = r["findings"].as_array().unwrap();
    let lz4: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f["subject"] == "lz4")
        .map(|f| (f["kind"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(lz4, vec![("install-differs", "blocking"), ("source-build", "info")]);
    assert!(findings.iter().all(|f| f["subject"] == "lz4"), "only lz4 differs: {findings:#?}");

    // six (pure) and msgpack (wheels for both) pass on both bases, with every module imported.
    for id in ["six[glibc]", "six[musl]", "msgpack[glibc]", "msgpack[musl]"] {
        let j = job(&r, id);
        assert_eq!(j["outcome"], "installed", "{j}");
        let imports = j["probe"]["imports"].as_object().unwrap();
        assert!(!imports.is_empty() && imports.values().all(|o| o["status"] == "ok"), "{j}");
    }
    assert_eq!(job(&r, "msgpack[musl]")["probe"]["libc"]["family"], "musl");

    // JUnit: one test case per job; exactly the failing one fails, with the reason.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    let musl = xml.split("<testcase ").find(|c| c.contains("name=\"lz4[musl]\"")).unwrap();
    assert!(musl.contains("<failure") && musl.contains("install-differs"), "{musl}");
    assert_no_leftovers(&r);

    // Nothing changed: every image is reused.
    let again = tempfile::tempdir().unwrap();
    run_small(again.path(), &[]).code(1);
    let r2 = report(again.path());
    for id in ["six[glibc]", "six[musl]", "msgpack[glibc]", "msgpack[musl]", "lz4[glibc]"] {
        assert_eq!(job(&r2, id)["cached"], true, "{id} was rebuilt");
        assert_eq!(job(&r2, id)["image"], job(&r, id)["image"]);
        // The same image and the same probe: the observations are reused, identical.
        assert_eq!(job(&r2, id)["probe_cached"], true, "{id} was probed again");
        assert_eq!(job(&r2, id)["probe"], job(&r, id)["probe"]);
    }
    // lz4 fails on musl for want of a compiler: a fact of its inputs, kept like a success and
    // not attempted again while the index holds.
    let lz4 = job(&r2, "lz4[musl]");
    assert_eq!((lz4["outcome"].as_str(), lz4["cached"].as_bool()), (Some("install-failed"), Some(true)), "{lz4}");
    assert!(lz4["reuse"].as_str().unwrap().contains("no compiler"), "{lz4}");
    assert_eq!(r2["findings"], r["findings"], "same inputs, same findings");
}

#[test]
fn only_and_formats() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let md = stdout_of(
        &in_results(
            dir.path(),
            &[
                "run",
                "--matrix",
                "tests/fixtures/small.toml",
                "--only",
                "six",
                "--no-profile",
                "--no-resolver",
                "--format",
                "markdown",
                "--ca-bundle",
                &ca_bundle(),
            ],
        )
        .code(0),
    );
    assert!(md.starts_with("## muslcheck run: no blocking finding"), "{md}");
    assert!(md.contains("| six | musl | ✅ pass |"), "{md}");
    let r = report(dir.path());
    assert_eq!(r["jobs"].as_array().unwrap().len(), 2);
}
