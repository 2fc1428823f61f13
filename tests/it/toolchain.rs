//! What Alpine's source builds cost, on the test bed's three bases: glibc (a wheel), musl with
//! no compiler (the build fails, and says why), and musl with a C/C++ compiler (the build
//! succeeds, and its time is observed next to the wheel install's).

use crate::common::*;

const LZ4: &str = "lz4==4.4.5";

#[test]
fn a_source_build_is_timed_where_it_succeeds_and_explained_where_it_fails() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let results = d.path().join("r");
    // pip's own cache of wheels it built would hide the build: a cache of this test's own.
    let pip_cache = PipCache::new();
    let out = bin()
        .args([
            "gate",
            LZ4,
            "--matrix",
            "tests/fixtures/toolchain.toml",
            "--ca-bundle",
            &ca_bundle(),
            "--refresh",
            "--format",
            "markdown",
            "--results-dir",
        ])
        .arg(&results)
        .env("MUSLCHECK_PIP_CACHE", &pip_cache.0)
        .current_dir(root())
        .assert()
        .code(1);
    let r = report(&results);
    let compilers = |b: &str| {
        r["bases"].as_array().unwrap().iter().find(|x| x["name"] == b).unwrap()["compilers"]["cc"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(compilers("musl").starts_with("no compiler"), "{}", compilers("musl"));
    assert!(compilers("musl-cc").contains("clang version"), "observed in the prepared image: {}", compilers("musl-cc"));

    let glibc = job(&r, "lz4[glibc]");
    assert_eq!(glibc["outcome"], "installed");
    assert!(glibc["source_builds"].as_array().is_none_or(|b| b.is_empty()), "{glibc:#}");
    let musl = job(&r, "lz4[musl]");
    assert_eq!(musl["outcome"], "install-failed");
    let failed = &musl["source_builds"][0];
    assert_eq!((failed["distribution"].as_str(), failed["ok"].as_bool()), (Some("lz4"), Some(false)), "{musl:#}");
    assert!(failed["error"].as_str().unwrap().contains("cc-musl"), "the missing compiler is the line shown: {failed}");
    let cc = job(&r, "lz4[musl-cc]");
    assert_eq!(cc["outcome"], "installed", "{cc:#}");
    let built = &cc["source_builds"][0];
    assert_eq!((built["ok"].as_bool(), built["from_cache"].as_bool()), (Some(true), None), "{built}");
    let secs = built["secs"].as_f64().unwrap();
    assert!(secs > 0.0 && secs <= cc["build_secs"].as_f64().unwrap(), "the build's time within the install's: {cc:#}");
    // The extension built by the toolchain loads and works on musl.
    let imports = cc["probe"]["imports"].as_object().unwrap();
    assert!(!imports.is_empty() && imports.values().all(|o| o["status"] == "ok"), "{imports:#?}");

    let findings = r["findings"].as_array().unwrap();
    let source = findings.iter().find(|f| f["kind"] == "source-build").expect("a source-build finding");
    assert_eq!(source["failing"], serde_json::json!(["musl", "musl-cc"]));
    let ev = &source["evidence"];
    assert!(ev["glibc"].as_str().unwrap().contains("the install took"), "{ev}");
    assert!(ev["musl"].as_str().unwrap().contains("failed after"), "{ev}");
    assert!(ev["musl-cc"].as_str().unwrap().contains(&format!("in {secs:.1} s")), "{ev}");
    let md = stdout_of(&out);
    assert!(md.contains("built from source (lz4-4.4.5.tar.gz) in"), "{md}");
    let verdict =
        |b: &str| r["verdicts"].as_array().unwrap().iter().find(|v| v["base"] == b).unwrap()["pass"].as_bool().unwrap();
    assert_eq!((verdict("glibc"), verdict("musl"), verdict("musl-cc")), (true, false, true));
    assert_no_leftovers(&r);

    // The failure for want of a compiler is a fact of the inputs, read from what the build
    // backend said (pip's console leaves it out): the next run reuses it, and its evidence.
    let again = d.path().join("again");
    bin()
        .args(["gate", LZ4, "--matrix", "tests/fixtures/toolchain.toml", "--ca-bundle", &ca_bundle(), "--results-dir"])
        .arg(&again)
        .env("MUSLCHECK_PIP_CACHE", &pip_cache.0)
        .current_dir(root())
        .assert()
        .code(1);
    let r2 = report(&again);
    let musl2 = job(&r2, "lz4[musl]");
    assert!(musl2["reuse"].as_str().unwrap().contains("the failure is a fact of its inputs (no compiler"), "{musl2:#}");
    assert_eq!(musl2["source_builds"], musl["source_builds"]);
    assert_no_leftovers(&r2);
}
