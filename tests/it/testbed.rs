//! The test bed as the harness sees it: both bases pulled from the local registry with their
//! digests, their libc observed inside them, the package index reachable only with the CA bundle.

use predicates::prelude::*;

use crate::common::*;

#[test]
fn doctor_reports_engine_bases_digests_libc_and_index() {
    require_engine();
    let mut args: Vec<String> = ["doctor", "--matrix", "matrix/local.toml", "--ca-bundle"].map(String::from).to_vec();
    args.push(local_index_ca());
    args.extend(local_index_args());
    let out = bin().args(&args).current_dir(root()).assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("engine: Docker "), "{text}");
    assert!(text.contains("API 1."), "{text}");
    assert!(text.contains("package index: https://index.muslcheck.test:"), "{text}");
    for (name, libc) in [("glibc", "glibc 2."), ("musl", "musl 1.2.")] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {text}"));
        assert!(line.contains("sha256:"), "no digest for {name}: {line}");
        assert!(line.contains(libc), "libc of {name} not observed as {libc}: {line}");
        assert!(line.contains("reachable"), "{line}");
    }
}

/// The local index's certificate is signed by a CA only the test bed has: without it, pip in
/// the bases (which trust Debian's public CAs) refuses the index on any network.
#[test]
fn doctor_without_the_ca_bundle_says_the_index_is_unreachable() {
    require_engine();
    bin()
        .args(["doctor", "--matrix", "matrix/local.toml"])
        .args(local_index_args())
        .current_dir(root())
        .assert()
        .code(3)
        .stdout(predicate::str::contains("UNREACHABLE"))
        .stderr(predicate::str::contains("CERTIFICATE_VERIFY_FAILED"));
}

#[test]
fn bases_are_pulled_with_registry_digests_and_their_libc_observed() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    in_results(
        dir.path(),
        &["gate", "six==1.17.0", "--matrix", "tests/fixtures/small.toml", "--ca-bundle", &ca_bundle()],
    )
    .code(0);
    let r = report(dir.path());
    let bases = r["bases"].as_array().unwrap();
    assert_eq!(bases.len(), 2);
    for b in bases {
        let digest = b["digest"].as_str().expect("a registry digest");
        assert!(digest.starts_with("sha256:") && digest.len() == 71, "{b}");
        // The digest is the registry's: the engine lists it for the pulled reference.
        let image = b["image"].as_str().unwrap();
        let o = std::process::Command::new("docker")
            .args(["image", "inspect", "-f", "{{json .RepoDigests}}", image])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&o.stdout).contains(digest), "{image} {digest}");
    }
    let libc = |name: &str| bases.iter().find(|b| b["name"] == name).unwrap()["libc"].clone();
    assert_eq!(libc("musl")["family"], "musl");
    assert!(libc("musl")["version"].as_str().unwrap().starts_with("1.2."), "{}", libc("musl"));
    assert_eq!(libc("glibc")["family"], "glibc");
    assert_no_leftovers(&r);
}

#[test]
fn pip_installs_wheels_on_both_bases_with_the_ca_bundle_and_fails_clearly_without() {
    require_engine();
    let index = local_index_args();
    let with = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "gate",
        "msgpack==1.1.2",
        "--smoke",
        "tests/fixtures/smoke/msgpack.py",
        "--matrix",
        "tests/fixtures/small.toml",
        "--ca-bundle",
    ]
    .map(String::from)
    .to_vec();
    args.push(local_index_ca());
    args.extend(index.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    in_results(with.path(), &refs).code(0);
    let r = report(with.path());
    assert_eq!(job(&r, "msgpack[glibc]")["distributions"][0]["source"], "manylinux");
    assert_eq!(job(&r, "msgpack[musl]")["distributions"][0]["source"], "musllinux");
    for id in ["msgpack[glibc]", "msgpack[musl]"] {
        assert_eq!(job(&r, id)["probe"]["smoke"]["status"], "ok", "{}", job(&r, id));
        // The file came from the local index, not from anywhere else.
        assert!(
            job(&r, id)["distributions"][0]["file"].as_str().unwrap().starts_with("msgpack-1.1.2-"),
            "{}",
            job(&r, id)
        );
    }
    assert_no_leftovers(&r);

    // Without the CA: not a finding about msgpack but a problem of this machine: exit 3.
    let without = tempfile::tempdir().unwrap();
    let mut args: Vec<String> =
        ["gate", "msgpack==1.1.2", "--no-cache", "--matrix", "tests/fixtures/small.toml"].map(String::from).to_vec();
    args.extend(index);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    in_results(without.path(), &refs).code(3);
    let r = report(without.path());
    for id in ["msgpack[glibc]", "msgpack[musl]"] {
        let j = job(&r, id);
        assert_eq!(j["outcome"], "infra-error", "{j}");
        assert!(j["error"].as_str().unwrap().contains("CERTIFICATE_VERIFY_FAILED"), "{j}");
    }
    assert!(r["findings"].as_array().unwrap().is_empty(), "a TLS failure is not a finding: {r:#}");
    assert_no_leftovers(&r);
}

/// The musl base's CPython is built with profile-guided and link-time optimisation, as Debian
/// builds the glibc base's (its debian/rules, which leave no trace in sysconfig), so that run
/// times compare interpreters that differ in their libc, not in their compiler options. Read
/// from the interpreter itself: what configure was given and what it compiled with.
#[test]
fn the_musl_base_interpreter_is_built_with_pgo_and_lto() {
    require_engine();
    let out = std::process::Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--label", "io.muslcheck.test=1", MUSL, "python3", "-c"])
        .arg("import sysconfig as s; print(s.get_config_var('CONFIG_ARGS')); print(s.get_config_var('PY_CFLAGS_NODIST'))")
        .output()
        .expect("docker");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let (args, cflags) = text.split_once('\n').unwrap_or((&text, ""));
    for flag in ["'--enable-optimizations'", "'--with-lto'", "'--enable-shared'"] {
        assert!(args.contains(flag), "{flag} in CONFIG_ARGS: {args}");
    }
    for flag in ["-flto", "-fprofile-use"] {
        assert!(cflags.split_whitespace().any(|f| f == flag), "{flag} in PY_CFLAGS_NODIST: {cflags}");
    }
}
