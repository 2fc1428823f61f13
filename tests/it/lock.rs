//! Gating against a lock, and the version that would work, on the local index with packages
//! generated for each test run (names with a random suffix, removed at the end): a new
//! requirement that moves a locked distribution, one that conflicts with a pin (an outcome,
//! exit 1), a hash-locked lock, and a source build whose finding names the newest version with
//! a wheel for the failing base.

use std::path::Path;

use crate::common::*;

fn gate(results: &Path, args: &[&str], code: i32) -> serde_json::Value {
    let mut all: Vec<String> = vec!["gate".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.extend(["--matrix".into(), "tests/fixtures/small.toml".into()]);
    all.extend(local_index_with_ca());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let a = in_results(results, &refs);
    let out = a.get_output().clone();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    report(results)
}

fn finding<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {:#}", r["findings"]))
}

#[test]
fn a_new_requirement_that_needs_an_older_version_moves_the_locks_resolution_on_every_base() {
    require_engine();
    let n = Names::new("mc");
    let (a, b) = (n.name("a"), n.name("b"));
    publish_pure(&a, "1.0", &[]);
    publish_pure(&a, "2.0", &[]);
    let need_old = format!("{a}<2");
    publish_pure(&b, "1.0", &[&need_old]);
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("lock.txt");
    std::fs::write(&lock, format!("# the service's requirements\n{a}>=1\nsix==1.17.0\n")).unwrap();
    let r = gate(&d.path().join("r1"), &[&b, "--lock", lock.to_str().unwrap()], 0);
    for base in ["glibc", "musl"] {
        // The lock alone resolves to the newest version; with the new requirement, to the older.
        let alone = job(&r, &format!("lock[{base}]"));
        assert_eq!(alone["outcome"], "installed", "{alone}");
        assert!(alone["probe"].is_null(), "the lock alone is compared with, not probed: {alone}");
        assert!(alone["distributions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == a.as_str() && x["version"] == "2.0"));
        let combined = job(&r, &format!("{b}[{base}]"));
        assert_eq!(combined["outcome"], "installed", "{combined}");
    }
    let moved = finding(&r, &format!("{b}/lock-change/{a}"));
    assert_eq!(moved["evidence"]["glibc"], "downgraded 2.0 -> 1.0", "{moved}");
    assert_eq!(moved["evidence"]["musl"], "downgraded 2.0 -> 1.0", "{moved}");
    assert_eq!(moved["failing"], serde_json::json!(["glibc", "musl"]));
    let added = finding(&r, &format!("{b}/lock-change/{b}"));
    assert_eq!(added["evidence"]["musl"], "added 1.0", "{added}");
    let whole = finding(&r, &format!("{b}/lock-change/"));
    assert!(whole["summary"].as_str().unwrap().contains("glibc 2 changed, musl 2 changed"), "{whole}");
    assert!(
        r["findings"].as_array().unwrap().iter().all(|f| f["id"] != format!("{b}/lock-change/six")),
        "an unchanged distribution is no finding"
    );
    assert!(
        stdout_of(&in_results(
            &d.path().join("r-table"),
            &[
                "gate",
                &b,
                "--lock",
                lock.to_str().unwrap(),
                "--matrix",
                "tests/fixtures/small.toml",
                "--index-url",
                &local_index_args()[1],
                "--add-host",
                &local_index_args()[3],
                "--ca-bundle",
                &local_index_ca(),
            ]
        ))
        .contains("downgraded 2.0 -> 1.0"),
        "the table shows the change"
    );
    // The lock-alone jobs are cached like any job.
    let again = gate(&d.path().join("r2"), &[&b, "--lock", lock.to_str().unwrap()], 0);
    for base in ["glibc", "musl"] {
        let alone = job(&again, &format!("lock[{base}]"));
        assert_eq!((alone["cached"].as_bool(), alone["reuse"].as_str()), (Some(true), Some("reused: index unchanged")));
    }
    assert_no_leftovers(&again);
}

#[test]
fn a_new_requirement_that_needs_a_newer_version_upgrades_it_and_moves_what_held_it_back() {
    require_engine();
    let n = Names::new("mc");
    let (a, x, b) = (n.name("a"), n.name("x"), n.name("b"));
    publish_pure(&a, "1.0", &[]);
    publish_pure(&a, "2.0", &[]);
    // The lock's newest x holds a back below 2; its older x does not.
    publish_pure(&x, "1.0", &[]);
    let below = format!("{a}<2");
    publish_pure(&x, "2.0", &[&below]);
    let at_least = format!("{a}>=2");
    publish_pure(&b, "1.0", &[&at_least]);
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("service.txt");
    std::fs::write(&lock, format!("{x}>=1\n")).unwrap();
    let r = gate(&d.path().join("r"), &[&b, "--lock", lock.to_str().unwrap()], 0);
    let alone = job(&r, "service[musl]");
    let version = |j: &serde_json::Value, name: &str| {
        j["distributions"].as_array().unwrap().iter().find(|d| d["name"] == name).map(|d| d["version"].clone())
    };
    assert_eq!(version(alone, &a), Some("1.0".into()), "{alone}");
    for base in ["glibc", "musl"] {
        assert_eq!(finding(&r, &format!("{b}/lock-change/{a}"))["evidence"][base], "upgraded 1.0 -> 2.0");
        assert_eq!(finding(&r, &format!("{b}/lock-change/{x}"))["evidence"][base], "downgraded 2.0 -> 1.0");
        assert_eq!(finding(&r, &format!("{b}/lock-change/{b}"))["evidence"][base], "added 1.0");
    }
    assert_no_leftovers(&r);
}

#[test]
fn against_a_hash_locked_lock_an_addition_installs_and_a_pin_it_contradicts_is_a_conflict() {
    require_engine();
    let n = Names::new("mc");
    let (a, e, c) = (n.name("a"), n.name("e"), n.name("c"));
    publish_pure(&a, "1.0", &[]);
    publish_pure(&a, "2.0", &[]);
    publish_pure(&e, "1.0", &[]);
    let need_new = format!("{a}>=2");
    publish_pure(&c, "1.0", &[&need_new]);
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("requirements.txt");
    let hash = sha256_of_published(&format!("{a}-1.0-"));
    std::fs::write(&lock, format!("{a}==1.0 \\\n    --hash=sha256:{hash}\n")).unwrap();

    // A new requirement without hashes installs with the hash-locked lock.
    let r = gate(&d.path().join("add"), &[&e, "--lock", lock.to_str().unwrap()], 0);
    let added = finding(&r, &format!("{e}/lock-change/{e}"));
    assert_eq!(added["evidence"]["glibc"], "added 1.0", "{added}");
    let whole = finding(&r, &format!("{e}/lock-change/"));
    assert!(
        whole["explanation"]["musl"][0].as_str().unwrap().contains("hashes are checked by the lock-alone job"),
        "{whole}"
    );

    // A new requirement that needs another version of a pinned distribution does not resolve.
    let r = gate(&d.path().join("conflict"), &[&c, "--lock", lock.to_str().unwrap()], 1);
    assert!(r["errors"].as_array().unwrap().is_empty(), "an outcome, not a harness error: {:#}", r["errors"]);
    for base in ["glibc", "musl"] {
        let j = job(&r, &format!("{c}[{base}]"));
        assert_eq!(j["outcome"], "conflict", "{j}");
        assert_eq!(job(&r, &format!("requirements[{base}]"))["outcome"], "installed");
    }
    let conflict = finding(&r, &format!("{c}/conflict/"));
    assert_eq!(conflict["severity"], "blocking");
    assert_eq!(conflict["failing"], serde_json::json!(["glibc", "musl"]));
    let why = conflict["explanation"]["glibc"].to_string();
    assert!(why.contains(&format!("{c} 1.0 depends on {need_new}")), "pip's explanation: {why}");
    let whole = finding(&r, &format!("{c}/lock-change/"));
    assert!(whole["evidence"]["musl"].as_str().unwrap().contains("do not resolve together"), "{whole}");
    assert_eq!(r["outcome"]["exit_code"], 1);
    assert_no_leftovers(&r);
}

#[test]
fn a_source_build_or_a_missing_wheel_names_the_newest_version_with_a_wheel_for_the_failing_base() {
    require_engine();
    let n = Names::new("mc");
    let c = n.name("c");
    let files = serde_json::json!({format!("{c}/__init__.py"): "X = 1\n"});
    // 1.0: a musllinux wheel only; 2.0: an sdist (its build fails) and a manylinux wheel.
    publish(
        serde_json::json!({"name": c, "version": "1.0", "tag": "cp313-cp313-musllinux_1_2_x86_64", "files": files, "top_level": [c]}),
    );
    publish(
        serde_json::json!({"name": c, "version": "2.0", "tag": "cp313-cp313-manylinux_2_17_x86_64", "files": files, "top_level": [c]}),
    );
    publish(serde_json::json!({"name": c, "version": "2.0", "sdist": true}));
    // Nothing at all for musl at the pinned version (but an older wheel), and nothing ever.
    let (e, g) = (n.name("e"), n.name("g"));
    let files_e = serde_json::json!({format!("{e}/__init__.py"): "X = 1\n"});
    publish(
        serde_json::json!({"name": e, "version": "1.0", "tag": "cp313-cp313-musllinux_1_2_x86_64", "files": files_e}),
    );
    publish(
        serde_json::json!({"name": e, "version": "2.0", "tag": "cp313-cp313-manylinux_2_17_x86_64", "files": files_e}),
    );
    let files_g = serde_json::json!({format!("{g}/__init__.py"): "X = 1\n"});
    publish(
        serde_json::json!({"name": g, "version": "1.0", "tag": "cp313-cp313-manylinux_2_17_x86_64", "files": files_g}),
    );
    let pinned = format!("{e}==2.0");
    let d = tempfile::tempdir().unwrap();
    let r = gate(&d.path().join("r"), &[&c, &pinned, &g], 1);
    let why = finding(&r, &format!("{e}/install-differs/"))["explanation"]["musl"].to_string();
    assert!(why.contains(&format!("the newest version of {e} with a wheel for this base is 1.0")), "{why}");
    let why = finding(&r, &format!("{g}/install-differs/"))["explanation"]["musl"].to_string();
    assert!(why.contains(&format!("no version of {g} on the index has a wheel for this base")), "{why}");
    let glibc = job(&r, &format!("{c}[glibc]"));
    assert_eq!(glibc["distributions"][0]["version"], "2.0", "{glibc}");
    assert_eq!(glibc["distributions"][0]["source"], "manylinux", "{glibc}");
    assert_eq!(job(&r, &format!("{c}[musl]"))["outcome"], "install-failed");
    let sb = finding(&r, &format!("{c}/source-build/{c}"));
    assert_eq!(sb["failing"], serde_json::json!(["musl"]));
    let why = sb["explanation"]["musl"].to_string();
    assert!(
        why.contains(&format!("the newest version of {c} with a wheel for this base is 1.0 ({c}-1.0-cp313-cp313-musllinux_1_2_x86_64.whl)")),
        "{why}"
    );
    // The tags are the base's own, observed: the musl base's list names musllinux tags.
    assert!(why.contains("musllinux_1_2_x86_64"), "{why}");
    let differs = finding(&r, &format!("{c}/install-differs/"));
    assert!(differs["explanation"]["musl"].to_string().contains("is 1.0"), "{differs}");
    assert_no_leftovers(&r);
    // --offline does not ask the index, and says so instead of suggesting.
    let r = gate(&d.path().join("offline"), &[&c, "--offline"], 1);
    let why = finding(&r, &format!("{c}/source-build/{c}"))["explanation"]["musl"].to_string();
    assert!(why.contains("--offline: the index was not asked"), "{why}");
}

#[test]
fn a_missing_or_invalid_lock_is_a_usage_error_naming_the_line() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("missing.txt");
    let a = bin()
        .args(["gate", "six", "--lock", missing.to_str().unwrap(), "--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("missing.txt:1:1: cannot read the requirements file"), "{err}");
    let bad = d.path().join("lock.txt");
    std::fs::write(&bad, "six==1.17.0\nmsgpack ===\n").unwrap();
    let a = bin()
        .args(["gate", "six", "--lock", bad.to_str().unwrap(), "--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("lock.txt:2: "), "{err}");
    // A lock goes with requirements on the command line, not with another file.
    bin()
        .args(["gate", "six", "-r", bad.to_str().unwrap(), "--lock", bad.to_str().unwrap()])
        .args(["--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
    // A lock needs something to gate against it.
    let ok = d.path().join("ok.txt");
    std::fs::write(&ok, "six==1.17.0\n").unwrap();
    bin()
        .args(["gate", "--lock", ok.to_str().unwrap(), "--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
}
