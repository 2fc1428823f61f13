//! Lock files as gate inputs, on the local index with packages generated for each test (names
//! with a random suffix, removed at the end), with pip and with uv as the installer: a uv.lock
//! with a workspace member and a marker, a pylock.toml whose hash does not match (an outcome),
//! a poetry.lock with its pyproject's group, a Pipfile.lock, real locks of every format, a VCS
//! entry refused at its line, `gate --lock uv.lock NEW` reporting what moves, and the same
//! image under both installers.

use std::path::Path;

use crate::common::*;

/// A distribution with a manylinux and a musllinux wheel (pure Python inside: pip chooses by
/// the tag), each base taking its own.
fn per_libc(name: &str, version: &str) {
    for tag in ["cp313-cp313-manylinux_2_17_x86_64", "cp313-cp313-musllinux_1_2_x86_64"] {
        publish(serde_json::json!({
            "name": name, "version": version, "tag": tag, "top_level": [name],
            "files": {format!("{name}/__init__.py"): "X = 1\n"},
        }));
    }
}

/// `sha256:HEX` of the published file whose name starts with `prefix`.
fn hash(prefix: &str) -> String {
    format!("sha256:{}", sha256_of_published(prefix))
}

fn gate(results: &Path, args: &[&str], installer: &str, code: i32) -> serde_json::Value {
    let mut all: Vec<String> = vec!["gate".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    if !args.contains(&"--matrix") {
        all.extend(["--matrix".into(), "tests/fixtures/small.toml".into()]);
    }
    all.extend(["--installer".into(), installer.into()]);
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

fn uv_lock(app_deps: &str, packages: &str) -> String {
    format!(
        "version = 1\nrevision = 2\nrequires-python = \">=3.12\"\n\n[manifest]\nmembers = [\"app\", \"lib\"]\n\n\
[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [{app_deps}]\n\n\
[[package]]\nname = \"lib\"\nversion = \"0.1.0\"\nsource = {{ editable = \"packages/lib\" }}\n{packages}"
    )
}

fn registry(name: &str, version: &str, deps: &str, hashes: &[String]) -> String {
    let wheels: Vec<String> =
        hashes.iter().map(|h| format!("{{ url = \"https://x/{name}.whl\", hash = \"{h}\" }}")).collect();
    format!(
        "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\ndependencies = [{deps}]\nwheels = [{}]\n",
        wheels.join(", ")
    )
}

#[test]
fn a_uv_lock_with_a_workspace_member_gates_its_pins_on_both_bases_with_pip_and_uv() {
    require_engine();
    let n = Names::new("mcl");
    let (a, b, w) = (n.name("a"), n.name("b"), n.name("w"));
    publish_pure(&a, "1.0", &[]);
    per_libc(&b, "2.0");
    publish_pure(&w, "1.0", &[]);
    let b_hashes =
        vec![hash(&format!("{b}-2.0-cp313-cp313-manylinux")), hash(&format!("{b}-2.0-cp313-cp313-musllinux"))];
    let packages = format!(
        "dependencies = [{{ name = \"{b}\" }}]\n{}{}{}",
        registry(&a, "1.0", "", &[hash(&format!("{a}-1.0-"))]),
        registry(&b, "2.0", "", &b_hashes),
        registry(&w, "1.0", "", &[hash(&format!("{w}-1.0-"))]),
    );
    let app_deps = format!(
        "{{ name = \"{a}\" }}, {{ name = \"lib\" }}, {{ name = \"{w}\", marker = \"sys_platform == 'win32'\" }}"
    );
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("uv.lock");
    std::fs::write(&lock, uv_lock(&app_deps, &packages)).unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(installer), &["-r", lock.to_str().unwrap()], installer, 0);
        for (base, wheel) in [("glibc", "manylinux"), ("musl", "musllinux")] {
            let id = format!("uv[{base}]");
            // The win32-only pin is left out by the base's own interpreter; each base takes its
            // own wheel of b, under the lock's hashes.
            assert_eq!(
                installed(&r, &id),
                [(a.clone(), "1.0".into(), "pure".into()), (b.clone(), "2.0".into(), wheel.into())],
                "{installer} {base}"
            );
            let j = job(&r, &id);
            assert!(j["installer"].as_str().unwrap().starts_with(&format!("{installer} ")), "{j}");
            assert!(j["requirement"].as_str().unwrap().contains("sys_platform == 'win32'"), "{j}");
        }
        let inputs = r["inputs"].to_string();
        assert!(
            inputs.contains("app (virtual .) is the project's own code")
                && inputs.contains("lib (editable packages/lib)"),
            "{inputs}"
        );
        assert_no_leftovers(&r);
        // A workspace member alone, as `uv sync --package lib`.
        let r = gate(
            &d.path().join(format!("{installer}-lib")),
            &["-r", lock.to_str().unwrap(), "--package", "lib"],
            installer,
            0,
        );
        assert_eq!(installed(&r, "uv[musl]"), [(b.clone(), "2.0".into(), "musllinux".into())], "{installer}");
    }
}

#[test]
fn a_pylock_whose_hash_does_not_match_is_an_install_failure_with_pip_and_uv() {
    require_engine();
    let n = Names::new("mcl");
    let a = n.name("a");
    publish_pure(&a, "1.0", &[]);
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("pylock.toml");
    std::fs::write(
        &lock,
        format!(
            "lock-version = \"1.0\"\ncreated-by = \"test\"\n\n[[packages]]\nname = \"{a}\"\nversion = \"1.0\"\nwheels = [{{ name = \"{a}-1.0-py3-none-any.whl\", hashes = {{ sha256 = \"{}\" }} }}]\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(installer), &["-r", lock.to_str().unwrap()], installer, 1);
        for base in ["glibc", "musl"] {
            let j = job(&r, &format!("pylock[{base}]"));
            assert_eq!(j["outcome"], "install-failed", "{installer}: {j}");
            assert!(
                j["error"].as_str().unwrap().contains("a hash in the requirements does not match"),
                "{installer}: {j}"
            );
        }
        assert!(r["errors"].as_array().unwrap().is_empty(), "an outcome, not a harness error: {:#}", r["errors"]);
        assert_no_leftovers(&r);
    }
}

#[test]
fn a_poetry_lock_and_a_pipfile_lock_gate_the_selection_their_tools_install() {
    require_engine();
    let n = Names::new("mcl");
    let (a, t, dv) = (n.name("a"), n.name("t"), n.name("dv"));
    publish_pure(&a, "1.0", &[]);
    publish_pure(&t, "1.0", &[]);
    publish_pure(&dv, "1.0", &[]);
    let d = tempfile::tempdir().unwrap();
    let poetry = d.path().join("p");
    std::fs::create_dir(&poetry).unwrap();
    std::fs::write(
        poetry.join("pyproject.toml"),
        format!("[tool.poetry]\nname = \"svc\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n{a} = \"^1.0\"\n\n[tool.poetry.group.test]\noptional = true\n\n[tool.poetry.group.test.dependencies]\n{t} = \"*\"\n"),
    )
    .unwrap();
    let entry = |name: &str| {
        format!(
            "[[package]]\nname = \"{name}\"\nversion = \"1.0\"\noptional = false\npython-versions = \">=3.8\"\nfiles = [{{file = \"{name}-1.0-py3-none-any.whl\", hash = \"{}\"}}]\n\n",
            hash(&format!("{name}-1.0-"))
        )
    };
    std::fs::write(poetry.join("poetry.lock"), format!("{}{}", entry(&a), entry(&t))).unwrap();
    let lock = poetry.join("poetry.lock");
    let pipfile = d.path().join("Pipfile.lock");
    std::fs::write(
        &pipfile,
        format!(
            "{{\n  \"_meta\": {{\"pipfile-spec\": 6, \"requires\": {{}}, \"sources\": []}},\n  \"default\": {{\n    \"{a}\": {{\"hashes\": [\"{}\"], \"version\": \"==1.0\"}},\n    \"-e .\": \"*\"\n  }},\n  \"develop\": {{\n    \"{dv}\": {{\"hashes\": [\"{}\"], \"version\": \"==1.0\", \"markers\": \"python_version >= '3.8'\"}}\n  }}\n}}\n",
            hash(&format!("{a}-1.0-")),
            hash(&format!("{dv}-1.0-"))
        ),
    )
    .unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(format!("{installer}-poetry")), &["-r", lock.to_str().unwrap()], installer, 0);
        assert_eq!(
            installed(&r, "poetry[musl]"),
            [(a.clone(), "1.0".into(), "pure".into())],
            "an optional group is out"
        );
        // Cached like any job, and reused while the index serves what it resolved.
        let again =
            gate(&d.path().join(format!("{installer}-poetry-again")), &["-r", lock.to_str().unwrap()], installer, 0);
        for base in ["glibc", "musl"] {
            let j = job(&again, &format!("poetry[{base}]"));
            assert_eq!(
                (j["cached"].as_bool(), j["reuse"].as_str()),
                (Some(true), Some("reused: index unchanged")),
                "{installer}: {j}"
            );
        }
        let r = gate(
            &d.path().join(format!("{installer}-poetry-test")),
            &["-r", lock.to_str().unwrap(), "--group", "test"],
            installer,
            0,
        );
        let names: Vec<String> = installed(&r, "poetry[glibc]").into_iter().map(|x| x.0).collect();
        assert_eq!(
            names,
            {
                let mut v = vec![a.clone(), t.clone()];
                v.sort();
                v
            },
            "{installer}"
        );
        let r = gate(
            &d.path().join(format!("{installer}-pipfile")),
            &["-r", pipfile.to_str().unwrap(), "--group", "dev"],
            installer,
            0,
        );
        let names: Vec<String> = installed(&r, "Pipfile[musl]").into_iter().map(|x| x.0).collect();
        assert_eq!(
            names,
            {
                let mut v = vec![a.clone(), dv.clone()];
                v.sort();
                v
            },
            "{installer}"
        );
        assert!(r["inputs"].to_string().contains("-e . is the project's own code"), "{}", r["inputs"]);
        assert_no_leftovers(&r);
    }
}

#[test]
fn a_lock_entry_from_a_vcs_is_refused_at_its_line_before_anything_runs() {
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("uv.lock");
    let packages = "dependencies = []\n\n[[package]]\nname = \"tool\"\nversion = \"1.0\"\nsource = { git = \"https://example.com/tool.git?rev=v1#0123abcd\" }\n";
    std::fs::write(&lock, uv_lock("{ name = \"tool\" }", packages)).unwrap();
    let a = bin()
        .env("DOCKER_HOST", "unix:///nonexistent/muslcheck-test.sock")
        .args(["gate", "-r", lock.to_str().unwrap(), "--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains(&format!("{}:20: tool comes from git = ", lock.display())), "{err}");
    // The same as --lock, and a selection that makes no sense for the file.
    bin()
        .env("DOCKER_HOST", "unix:///nonexistent/muslcheck-test.sock")
        .args(["gate", "six", "--lock", lock.to_str().unwrap(), "--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
    let reqs = d.path().join("requirements.txt");
    std::fs::write(&reqs, "six==1.17.0\n").unwrap();
    let a = bin()
        .args(["gate", "-r", reqs.to_str().unwrap(), "--package", "x", "--matrix", "tests/fixtures/small.toml"])
        .current_dir(root())
        .assert()
        .code(2);
    assert!(
        String::from_utf8_lossy(&a.get_output().stderr).contains("--package and --no-default-groups go with a lock")
    );
}

#[test]
fn gating_against_a_uv_lock_reports_lock_changes_and_conflicts_with_pip_and_uv() {
    require_engine();
    let n = Names::new("mcl");
    let (x, y, c) = (n.name("x"), n.name("y"), n.name("c"));
    publish_pure(&x, "1.0", &[]);
    publish_pure(&x, "2.0", &[]);
    publish_pure(&y, "1.0", &[]);
    let need_new = format!("{x}>=2");
    publish(serde_json::json!({
        "name": c, "version": "1.0", "requires": [need_new], "top_level": [c],
        "files": {format!("{c}/__init__.py"): "X = 1\n"},
    }));
    let packages = format!("dependencies = []\n{}", registry(&x, "1.0", "", &[hash(&format!("{x}-1.0-"))]));
    let d = tempfile::tempdir().unwrap();
    let lock = d.path().join("uv.lock");
    std::fs::write(&lock, uv_lock(&format!("{{ name = \"{x}\" }}"), &packages)).unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(format!("{installer}-add")), &[&y, "--lock", lock.to_str().unwrap()], installer, 0);
        let added =
            r["findings"].as_array().unwrap().iter().find(|f| f["id"] == format!("{y}/lock-change/{y}")).cloned();
        let added = added.unwrap_or_else(|| panic!("{installer}: no lock-change for {y}: {:#}", r["findings"]));
        assert_eq!(added["evidence"]["musl"], "added 1.0", "{installer}: {added}");
        assert_eq!(job(&r, "uv[glibc]")["outcome"], "installed", "the lock alone");
        let r = gate(
            &d.path().join(format!("{installer}-conflict")),
            &[&c, "--lock", lock.to_str().unwrap()],
            installer,
            1,
        );
        for base in ["glibc", "musl"] {
            let j = job(&r, &format!("{c}[{base}]"));
            assert_eq!(j["outcome"], "conflict", "{installer}: {j}");
        }
        assert!(r["errors"].as_array().unwrap().is_empty(), "{:#}", r["errors"]);
        assert_no_leftovers(&r);
    }
}

#[test]
fn the_same_image_under_pip_and_uv_is_compared_and_a_difference_is_installer_differs() {
    require_engine();
    let n = Names::new("mcl");
    let (a, p) = (n.name("a"), n.name("p"));
    publish_pure(&a, "1.0", &[]);
    // A project whose newest version says `Requires-Python: <3.13`: pip on the bases' 3.13
    // takes the older version, uv (which ignores upper bounds of Requires-Python, as its
    // documentation says) the newer. Each installer's behaviour, observed here, not assumed by
    // the harness.
    publish_pure(&p, "1.0", &[]);
    publish(serde_json::json!({
        "name": p, "version": "2.0", "top_level": [p], "requires_python": ">=3.8,<3.13",
        "files": {format!("{p}/__init__.py"): "VERSION = '2.0'\n"},
    }));
    let index = local_index_with_ca();
    let base_dir = tempfile::tempdir().unwrap();
    let root = base_dir.path().to_path_buf();
    let run = |dir: &str, req: &str, code: i32| {
        let mut args = vec!["gate", req, "--matrix", "tests/fixtures/installers.toml"];
        args.extend(index.iter().map(String::as_str));
        in_results(&root.join(dir), &args).code(code);
        report(&root.join(dir))
    };
    // Where they agree, nothing is said about the installers.
    let r = run("same", &a, 0);
    assert!(job(&r, &format!("{a}[musl]"))["installer"].as_str().unwrap().starts_with("pip "));
    assert!(job(&r, &format!("{a}[musl-uv]"))["installer"].as_str().unwrap().starts_with("uv "));
    assert_eq!(installed(&r, &format!("{a}[musl]")), installed(&r, &format!("{a}[musl-uv]")));
    assert!(findings_of(&r, "installer-differs").is_empty(), "they agree: {:#}", r["findings"]);
    assert_no_leftovers(&r);
    // The bases differ in a version (version-differs, information by default), and the two
    // installers of the musl image are named as such.
    let r = run("differ", &p, 0);
    let f = findings_of(&r, "installer-differs");
    assert_eq!(f.len(), 1, "{:#}", r["findings"]);
    assert_eq!(f[0]["id"], format!("{p}/installer-differs/musl+musl-uv"));
    assert_eq!(f[0]["severity"], "info");
    assert!(f[0]["summary"].as_str().unwrap().contains(&format!("{p} 1.0 (pure) / 2.0 (pure)")), "{}", f[0]);
    assert_eq!(installed(&r, &format!("{p}[musl-uv]"))[0].1, "2.0");
    assert_eq!(installed(&r, &format!("{p}[musl]"))[0].1, "1.0");
    assert_no_leftovers(&r);
}

#[test]
fn a_real_uv_lock_gates_on_both_bases_and_its_missing_musl_wheel_is_found_with_pip_and_uv() {
    require_engine();
    // NW-PaGe/test_pkg's own uv.lock (tests/fixtures/locks/README.md): polars 1.32.3 has a
    // manylinux wheel and no musllinux one (the suite's index serves the wheel only), so the
    // musl base has nothing to install; the dev group's pytest installs everywhere.
    let lock = root().join("tests/fixtures/locks/uv/uv.lock");
    let d = tempfile::tempdir().unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(installer), &["-r", lock.to_str().unwrap()], installer, 1);
        let glibc = installed(&r, "uv[glibc]");
        let names: Vec<&str> = glibc.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["iniconfig", "packaging", "pluggy", "polars", "pygments", "pytest"], "{installer}");
        assert!(glibc.iter().any(|x| x.0 == "polars" && x.2 == "manylinux"), "{installer}: {glibc:?}");
        let musl = job(&r, "uv[musl]");
        assert_eq!(musl["outcome"], "install-failed", "{installer}: {musl}");
        let differs = findings_of(&r, "install-differs");
        assert_eq!(differs.len(), 1, "{installer}: {:#}", r["findings"]);
        assert_eq!(differs[0]["failing"], serde_json::json!(["musl"]));
        // Why, in the same words under both installers: the index's files against the tags the
        // base's own interpreter accepts (a uv base's virtualenv has no pip: its interpreter's
        // own answers).
        let why = differs[0]["explanation"]["musl"][0].as_str().unwrap_or_default();
        assert!(
            why.starts_with("no version of polars on the index has a wheel for this base")
                && why.contains("compatible tags (pip debug): cp313-cp313-musllinux_1_2_x86_64"),
            "{installer}: {:#}",
            differs[0]
        );
        assert!(r["inputs"].to_string().contains("test-pkg (virtual .) is the project's own code"));
        assert!(r["errors"].as_array().unwrap().is_empty(), "{installer}: {:#}", r["errors"]);
        assert_no_leftovers(&r);
    }
}

#[test]
fn a_failing_source_build_is_timed_and_named_with_pip_and_uv() {
    require_engine();
    let n = Names::new("mcl");
    let s = n.name("s");
    // Only an sdist, whose in-tree backend fails as a build without a compiler does.
    publish(serde_json::json!({"name": s, "version": "1.0", "sdist": true}));
    let pinned = format!("{s}==1.0");
    let d = tempfile::tempdir().unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(installer), &[&pinned], installer, 1);
        for base in ["glibc", "musl"] {
            let j = job(&r, &format!("{s}[{base}]"));
            assert_eq!(j["outcome"], "install-failed", "{installer}: {j}");
            let b = &j["source_builds"][0];
            assert_eq!(b["distribution"], s.as_str(), "{installer}: {j}");
            assert_eq!(b["ok"], false, "{installer}: {j}");
            assert!(b["error"].as_str().unwrap().contains("command 'cc' failed"), "{installer}: {j}");
            assert!(b["secs"].as_f64().unwrap() >= 0.0);
            assert!(j["installer"].as_str().unwrap().starts_with(installer), "{j}");
        }
        assert!(r["errors"].as_array().unwrap().is_empty(), "{installer}: {:#}", r["errors"]);
        assert_no_leftovers(&r);
    }
}

#[test]
fn a_real_pylock_whose_default_group_applies_to_no_base_says_so_with_pip_and_uv() {
    require_engine();
    // Fuyukai/h11's pylock.toml (written by PDM): its default group pins only
    // typing-extensions, for Pythons before 3.12; the bases run 3.13, and each base's own
    // interpreter says the marker excludes it. A selection that installs nothing anywhere is
    // a configuration error found once the bases read it: exit 2, with the marker.
    let lock = root().join("tests/fixtures/locks/pylock/pylock.toml");
    let d = tempfile::tempdir().unwrap();
    for installer in ["pip", "uv"] {
        let r = gate(&d.path().join(installer), &["-r", lock.to_str().unwrap()], installer, 2);
        for base in ["glibc", "musl"] {
            let j = job(&r, &format!("pylock[{base}]"));
            assert_eq!(j["outcome"], "not-applicable", "{installer}: {j}");
            let why = j["error"].as_str().unwrap();
            assert!(
                why.contains("Ignoring typing-extensions: markers 'python_full_version < \"3.12\"'"),
                "{installer}: {j}"
            );
        }
        assert!(
            r["outcome"]["summary"].as_str().unwrap().contains("typing-extensions"),
            "{installer}: {:#}",
            r["outcome"]
        );
        assert_no_leftovers(&r);
    }
}

#[test]
fn a_real_poetry_lock_and_a_real_pipfile_lock_gate_on_both_bases_and_pass_with_pip_and_uv() {
    require_engine();
    // pavelkoA/python-project-49's poetry.lock with its pyproject (main and the non-optional dev
    // group, which `poetry install` installs) and 000Sanya/yadisk_backup's Pipfile.lock (its
    // default category): tests/fixtures/locks/README.md. Every pin is pure Python and served by
    // the suite's index, so both bases install the same set and a healthy lock passes.
    let poetry = root().join("tests/fixtures/locks/poetry-gate/poetry.lock");
    let pipfile = root().join("tests/fixtures/locks/pipfile-gate/Pipfile.lock");
    let cases: [(&Path, &str, &[&str]); 2] = [
        (&poetry, "poetry", &["asciinema", "flake8", "mccabe", "prompt", "pycodestyle", "pyflakes"]),
        (
            &pipfile,
            "Pipfile",
            &["certifi", "charset-normalizer", "idna", "python-dotenv", "requests", "urllib3", "yadisk"],
        ),
    ];
    let d = tempfile::tempdir().unwrap();
    for installer in ["pip", "uv"] {
        for (lock, dep, expected) in cases {
            let r = gate(&d.path().join(format!("{installer}-{dep}")), &["-r", lock.to_str().unwrap()], installer, 0);
            for base in ["glibc", "musl"] {
                let j = job(&r, &format!("{dep}[{base}]"));
                assert_eq!(j["outcome"], "installed", "{installer}: {j}");
                let got = installed(&r, &format!("{dep}[{base}]"));
                let names: Vec<&str> = got.iter().map(|x| x.0.as_str()).collect();
                assert_eq!(names, expected, "{installer} {dep}[{base}]");
                assert!(got.iter().all(|x| x.2 == "pure"), "{installer}: {got:?}");
                assert!(j["installer"].as_str().unwrap().starts_with(installer), "{j}");
            }
            assert_eq!(r["outcome"]["exit_code"], 0, "{installer} {dep}: {:#}", r["outcome"]);
            assert!(
                r["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "blocking"),
                "{:#}",
                r["findings"]
            );
            assert!(r["errors"].as_array().unwrap().is_empty(), "{installer}: {:#}", r["errors"]);
            assert_no_leftovers(&r);
        }
    }
    let r = report(&d.path().join("pip-poetry"));
    assert!(
        r["inputs"].to_string().contains("hexlet-code is the project itself, not a locked dependency: left out"),
        "{}",
        r["inputs"]
    );
}
