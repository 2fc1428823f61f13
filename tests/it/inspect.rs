//! `muslcheck inspect` on images the tests build from the test-bed bases (labelled with a run
//! label of the test's own, removed when the test ends): a musl image with a glibc-linked
//! extension copied into its site-packages, a healthy image, virtual environments in the usual
//! places, a musl image against a glibc image of the same requirement compared with `gate`, and
//! `repro --image` and `dns --image` in the images as they are.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::*;

/// An image built for one test from a build context; removed (with its tag) when dropped.
struct TestImage {
    tag: String,
}

/// The label every test image carries: the objects of one test, found (and checked) by it.
const RUN_LABEL: &str = "io.muslcheck.run";

impl TestImage {
    /// Builds `dockerfile` with the files of `dir` as its context.
    fn build(dir: &Path, dockerfile: &str) -> TestImage {
        let tag = format!("muslcheck-inspect-test-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
        // Without the build cache: tests running at once build the same first steps, and the
        // legacy builder would reuse one test's intermediate image in another's build while the
        // first test's end removes it with its image ("unable to find image sha256:…", seen in a
        // warm suite). Each image then has a chain of its own.
        let out = Command::new("docker")
            .args(["build", "-q", "--no-cache", "--force-rm", "--label", "io.muslcheck.test=1", "--label"])
            .arg(format!("{RUN_LABEL}={tag}"))
            .args(["-t", &tag])
            .arg(dir)
            .output()
            .expect("docker");
        assert!(out.status.success(), "building {tag}: {}", String::from_utf8_lossy(&out.stderr));
        TestImage { tag }
    }

    fn id(&self) -> String {
        let out = Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", &self.tag]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["image", "rm", "-f", &self.tag]).output();
        // Nothing of the build is left: no container, no image under its label.
        for what in [&["ps", "-aq"][..], &["image", "ls", "-q"][..]] {
            let o = Command::new("docker")
                .args(what)
                .args(["--filter", &format!("label={RUN_LABEL}={}", self.tag)])
                .output()
                .unwrap();
            let left = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if !std::thread::panicking() {
                assert!(left.is_empty(), "{} left {what:?}: {left}", self.tag);
            }
        }
    }
}

/// A distribution as a copied site-packages has it: its files and a dist-info directory with
/// METADATA, top_level.txt, WHEEL (with `tag`) and RECORD, written under `dir/site/`.
fn distribution(dir: &Path, name: &str, tag: &str, files: &[(&str, &[u8])]) {
    let site = dir.join("site");
    let info = format!("{name}-1.0.dist-info");
    let mut record = String::new();
    for (path, data) in files {
        let p = site.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        record.push_str(&format!("{path},,\n"));
    }
    std::fs::create_dir_all(site.join(&info)).unwrap();
    let meta = [
        ("METADATA", format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")),
        ("top_level.txt", format!("{name}\n")),
        ("WHEEL", format!("Wheel-Version: 1.0\nGenerator: muslcheck-test\nRoot-Is-Purelib: false\nTag: {tag}\n")),
    ];
    for (f, text) in &meta {
        std::fs::write(site.join(&info).join(f), text).unwrap();
        record.push_str(&format!("{info}/{f},,\n"));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    std::fs::write(site.join(&info).join("RECORD"), record).unwrap();
}

/// Dockerfile lines: a virtual environment at `venv`, the context's `site/` copied into its
/// site-packages (as a COPY from another build stage puts it there).
fn venv_with_site(venv: &str) -> String {
    format!(
        "RUN python3 -m venv {venv}\nCOPY site/ /tmp/site/\nRUN cp -r /tmp/site/. \"$({venv}/bin/python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])')\"/ && rm -r /tmp/site\n"
    )
}

/// Dockerfile lines: `requirement` installed with pip into a virtual environment at /opt/venv,
/// trusting the CA bundle this network needs (copied into the context as ca.pem).
fn venv_with_pip(dir: &Path, requirement: &str) -> String {
    std::fs::copy(ca_bundle(), dir.join("ca.pem")).unwrap();
    format!(
        "COPY ca.pem /tmp/ca.pem\nRUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --cert /tmp/ca.pem '{requirement}' && rm /tmp/ca.pem\nENV PATH=/opt/venv/bin:$PATH\n"
    )
}

/// Runs `muslcheck ARGS` into a results directory of its own; returns the assertion and the report.
fn muslcheck(args: &[&str]) -> (assert_cmd::assert::Assert, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let a = in_results(dir.path(), args);
    let r = report(dir.path());
    assert_no_leftovers(&r);
    (a, r, dir)
}

fn code(a: &assert_cmd::assert::Assert) -> Option<i32> {
    a.get_output().status.code()
}

fn base_of<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["bases"].as_array().unwrap().iter().find(|b| b["name"] == name).unwrap_or_else(|| panic!("no base {name}: {r:#}"))
}

/// A base's libc family, as observed in it.
fn family(r: &serde_json::Value, name: &str) -> String {
    base_of(r, name)["libc"]["family"].as_str().unwrap_or("not observed").to_string()
}

/// The report's name of the image `tag` (its image id, short: it was never pushed).
fn name_of(image: &TestImage) -> String {
    let id = image.id();
    format!("sha256:{}", &id.trim_start_matches("sha256:")[..12])
}

#[test]
fn inspect_a_glibc_linked_extension_copied_into_a_musl_image_is_one_blocking_finding_explained_by_its_elf() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    // An extension built against glibc, as a Debian build stage makes it, named for glibc's
    // interpreter and copied with its dist-info into the musl image's site-packages.
    // It calls a function only glibc has (so it needs glibc's versioned symbols), and its init
    // returns no module (it fails to import wherever it loads).
    let src = "#include <gnu/libc-version.h>\nvoid *PyInit__native(void) { (void)gnu_get_libc_version(); return 0; }\n";
    std::fs::write(d.path().join("native.c"), src).unwrap();
    let ok = Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--label", "io.muslcheck.test=1", "-v"])
        .arg(format!("{}:/out", d.path().display()))
        .args([
            "-w",
            "/out",
            &toolchain(),
            "bash",
            "-c",
            "gcc -shared -fPIC -o native.so native.c && chmod 644 native.so",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "building the extension in the toolchain image");
    let native = std::fs::read(d.path().join("native.so")).unwrap();
    distribution(
        d.path(),
        "mcglibc",
        "cp313-cp313-manylinux_2_17_x86_64",
        &[
            ("mcglibc/__init__.py", b"from . import _native\n"),
            ("mcglibc/_native.cpython-313-x86_64-linux-gnu.so", &native),
        ],
    );
    let image = TestImage::build(d.path(), &format!("FROM {MUSL}\n{}", venv_with_site("/opt/venv")));
    let (a, r, _dir) = muslcheck(&["inspect", &image.tag, "--no-profile", "--format", "json"]);
    assert_eq!(code(&a), Some(1), "{r:#}");
    let name = name_of(&image);
    assert_eq!(family(&r, &name), "musl", "the image's libc, observed by its loader");
    let blocking: Vec<&serde_json::Value> =
        r["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "blocking").collect();
    assert_eq!(blocking.len(), 1, "one cause, one finding: {:#}", r["findings"]);
    let f = blocking[0];
    assert_eq!((f["subject"].as_str(), f["kind"].as_str()), (Some("mcglibc"), Some("foreign-libc")), "{f:#}");
    assert_eq!(f["failing"], serde_json::json!([name]));
    assert!(
        f["evidence"][&name].as_str().unwrap().contains("mcglibc/_native.cpython-313-x86_64-linux-gnu.so"),
        "{f:#}"
    );
    let why: Vec<&str> = f["explanation"][&name].as_array().unwrap().iter().filter_map(|l| l.as_str()).collect();
    assert!(
        why.iter().any(|l| l.contains("_native.cpython-313-x86_64-linux-gnu.so was linked against glibc")
            && l.contains("runs musl")),
        "the ELF explanation: {why:?}"
    );
    assert_eq!(r["outcome"]["exit_code"], 1);
}

#[test]
fn inspect_a_healthy_musl_image_exits_0_without_running_its_entrypoint() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    distribution(d.path(), "mcpure", "py3-none-any", &[("mcpure/__init__.py", b"VALUE = 1\n")]);
    // An entrypoint that would fail every probe if it ran instead of the probe.
    let file =
        format!("FROM {MUSL}\n{}ENV PATH=/opt/venv/bin:$PATH\nENTRYPOINT [\"false\"]\n", venv_with_site("/opt/venv"));
    let image = TestImage::build(d.path(), &file);
    let (a, r, _dir) = muslcheck(&["inspect", &image.tag, "--format", "json"]);
    assert_eq!(code(&a), Some(0), "{r:#}");
    let name = name_of(&image);
    assert_eq!(base_of(&r, &name)["image_id"], image.id());
    assert_eq!(family(&r, &name), "musl");
    let j = job(&r, &format!("mcpure[{name}]"));
    assert_eq!(j["probe"]["imports"]["mcpure"]["status"], "ok", "{j:#}");
    assert_eq!(r["interpreters"][0]["path"], "/opt/venv/bin/python");
    assert_eq!(r["interpreters"][0]["how"], "on PATH, virtual environment");
    // The libc profile was observed in the image, and in full.
    assert_eq!(r["profile"][0]["completion"]["status"], "complete", "{:#}", r["profile"]);
    assert!(r["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "blocking"), "{:#}", r["findings"]);
}

#[test]
fn inspect_finds_virtual_environments_in_opt_venv_and_app_venv() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    distribution(d.path(), "mcopt", "py3-none-any", &[("mcopt/__init__.py", b"")]);
    let mut file = format!("FROM {GLIBC}\n{}", venv_with_site("/opt/venv"));
    std::fs::rename(d.path().join("site"), d.path().join("site-opt")).unwrap();
    file = file.replace("COPY site/", "COPY site-opt/");
    distribution(d.path(), "mcapp", "py3-none-any", &[("mcapp/__init__.py", b"")]);
    file.push_str(&venv_with_site("/app/.venv"));
    file.push_str("WORKDIR /app\n");
    let image = TestImage::build(d.path(), &file);
    let (a, r, _dir) = muslcheck(&["inspect", &image.tag, "--no-profile", "--format", "json"]);
    assert_eq!(code(&a), Some(0), "{r:#}");
    let found: Vec<(&str, &str)> = r["interpreters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap(), i["how"].as_str().unwrap()))
        .collect();
    assert!(found.contains(&("/opt/venv/bin/python", "virtual environment")), "{found:?}");
    assert!(found.contains(&("/app/.venv/bin/python", "virtual environment")), "{found:?}");
    assert!(found.iter().any(|(_, how)| *how == "on PATH"), "the PATH interpreter too: {found:?}");
    let name = name_of(&image);
    for (dist, venv) in [("mcopt", "/opt/venv/bin/python"), ("mcapp", "/app/.venv/bin/python")] {
        let j = job(&r, &format!("{dist}[{name}]"));
        assert!(j["reuse"].as_str().unwrap().contains(venv), "{dist} is seen through {venv}: {j:#}");
        assert_eq!(j["probe"]["imports"][dist]["status"], "ok");
    }
    // --python chooses: only that interpreter is probed.
    let (_, r, _dir) =
        muslcheck(&["inspect", &image.tag, "--python", "/app/.venv/bin/python", "--no-profile", "--format", "json"]);
    let paths: Vec<&str> = r["interpreters"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/app/.venv/bin/python"]);
    // One that is not in the image is a usage error, before anything is probed.
    let dir = tempfile::tempdir().unwrap();
    in_results(dir.path(), &["inspect", &image.tag, "--python", "/nowhere/python"])
        .code(2)
        .stderr(predicates::str::contains("/nowhere/python: not in the image"));
}

/// A finding as both commands can be compared by: its kind, item and severity, and the libc
/// families of the bases it fails (the subjects and base names differ: a requirement and bases
/// of the matrix for `gate`, distributions and images for `inspect`).
fn comparable(r: &serde_json::Value) -> BTreeSet<(String, String, String, Vec<String>)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        // Run times move with the machine's load from one run to the next; build times and
        // installed sizes are of builds, and inspect builds nothing.
        .filter(|f| !["runtime-differs", "build-time", "size"].contains(&f["kind"].as_str().unwrap()))
        .map(|f| {
            // Sorted: the images' order is their ids', the bases' the matrix's.
            let mut failing: Vec<String> =
                f["failing"].as_array().unwrap().iter().map(|b| family(r, b.as_str().unwrap())).collect();
            failing.sort();
            (
                f["kind"].as_str().unwrap().to_string(),
                f["item"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                failing,
            )
        })
        .collect()
}

#[test]
fn inspect_against_a_glibc_image_of_the_same_requirement_finds_what_gate_finds() {
    require_engine();
    let smoke = "tests/fixtures/smoke/deep-json.py";
    let ca = ca_bundle();
    let (g, gate, _gdir) = muslcheck(&[
        "gate",
        "six==1.17.0",
        "--smoke",
        smoke,
        "--matrix",
        "tests/fixtures/small.toml",
        "--ca-bundle",
        &ca,
        "--format",
        "json",
    ]);
    let images: Vec<TestImage> = [MUSL, GLIBC]
        .iter()
        .map(|base| {
            let d = tempfile::tempdir().unwrap();
            let file = format!("FROM {base}\n{}", venv_with_pip(d.path(), "six==1.17.0"));
            TestImage::build(d.path(), &file)
        })
        .collect();
    let (i, inspect, _idir) = muslcheck(&[
        "inspect",
        &images[0].tag,
        "--against",
        &images[1].tag,
        "--smoke",
        smoke,
        "--no-profile",
        "--format",
        "json",
    ]);
    assert_eq!(code(&i), code(&g), "gate: {gate:#}\ninspect: {inspect:#}");
    let (from_gate, from_inspect) = (comparable(&gate), comparable(&inspect));
    assert!(!from_gate.is_empty(), "the smoke script crashes in a musl worker thread: {gate:#}");
    assert_eq!(from_inspect, from_gate, "inspect: {:#}", inspect["findings"]);
    // Matched by distribution: six is compared between the two images.
    let names: Vec<String> = images.iter().map(name_of).collect();
    for n in &names {
        assert_eq!(job(&inspect, &format!("six[{n}]"))["outcome"], "installed");
    }
    assert_eq!(family(&inspect, &names[0]), "musl");
    assert_eq!(family(&inspect, &names[1]), "glibc");
}

/// A requirement that pulls in a distribution with a module that refuses direct import, the
/// same on every base: `gate` says so as information, and `inspect --against` of images where
/// pip installed that requirement tells the two apart the same way, by the `REQUESTED` file pip
/// writes for what it was asked for by name (the image knows no requirement).
#[test]
fn inspect_tells_a_pulled_in_distribution_from_the_one_asked_for_as_gate_does() {
    require_engine();
    let n = Names::new("mci");
    let (gated, helper) = (n.name("gated"), n.name("helper"));
    let internal = format!("{helper}_internal");
    publish(serde_json::json!({
        "name": helper, "version": "1.0",
        "files": {
            format!("{helper}/__init__.py"): "VALUE = 1\n",
            format!("{internal}.py"): "raise ImportError('only imported by the package itself')\n",
        },
        "top_level": [helper, internal],
    }));
    publish(serde_json::json!({
        "name": gated, "version": "1.0",
        "files": {format!("{gated}/__init__.py"): format!("import {helper}\n")},
        "top_level": [gated], "requires": [helper],
    }));
    let mut args: Vec<String> = vec![
        "gate".into(),
        gated.clone(),
        "--matrix".into(),
        "tests/fixtures/small.toml".into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(local_index_with_ca());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (g, gate, _gdir) = muslcheck(&refs);
    // The images: pip installs the requirement from the wheels themselves, as a build would.
    let wheelhouse = std::env::var("MUSLCHECK_TEST_WHEELHOUSE").unwrap();
    let images: Vec<TestImage> = [MUSL, GLIBC]
        .iter()
        .map(|base| {
            let d = tempfile::tempdir().unwrap();
            std::fs::create_dir(d.path().join("wh")).unwrap();
            for f in std::fs::read_dir(&wheelhouse).unwrap().flatten() {
                if f.file_name().to_string_lossy().contains(n.suffix()) {
                    std::fs::copy(f.path(), d.path().join("wh").join(f.file_name())).unwrap();
                }
            }
            let file = format!(
                "FROM {base}\nCOPY wh/ /tmp/wh/\nRUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index --find-links /tmp/wh --disable-pip-version-check {gated} && rm -r /tmp/wh\nENV PATH=/opt/venv/bin:$PATH\n"
            );
            TestImage::build(d.path(), &file)
        })
        .collect();
    let (i, inspect, _idir) =
        muslcheck(&["inspect", &images[0].tag, "--against", &images[1].tag, "--no-profile", "--format", "json"]);
    assert_eq!(code(&g), Some(0), "gate: {gate:#}");
    assert_eq!(code(&i), code(&g), "inspect: {inspect:#}");
    for r in [&gate, &inspect] {
        let t = findings_of(r, "transitive-fails");
        assert_eq!(t.len(), 1, "{:#}", r["findings"]);
        assert_eq!(t[0]["severity"], "info", "{}", t[0]);
        assert!(
            t[0]["summary"].as_str().unwrap().contains(&format!("{helper} was installed as a dependency")),
            "{}",
            t[0]
        );
        assert!(findings_of(r, "fails").is_empty(), "{:#}", r["findings"]);
    }
    assert_eq!(comparable(&inspect), comparable(&gate), "inspect: {:#}", inspect["findings"]);
    // What the images say of themselves: the requirement was asked for, its dependency was not.
    let names: Vec<String> = images.iter().map(name_of).collect();
    assert_eq!(job(&inspect, &format!("{gated}[{}]", names[0]))["distributions"][0]["requested"], true);
    assert_eq!(job(&inspect, &format!("{helper}[{}]", names[0]))["distributions"][0]["requested"], false);
}

#[test]
fn repro_and_dns_run_in_the_images_given() {
    require_engine();
    let images: Vec<TestImage> = [MUSL, GLIBC]
        .iter()
        .map(|base| {
            let d = tempfile::tempdir().unwrap();
            distribution(d.path(), "mcpure", "py3-none-any", &[("mcpure/__init__.py", b"")]);
            TestImage::build(d.path(), &format!("FROM {base}\n{}WORKDIR /app\n", venv_with_site("/app/.venv")))
        })
        .collect();
    let names: Vec<String> = images.iter().map(name_of).collect();
    let (a, r, _dir) = muslcheck(&[
        "repro",
        "tests/fixtures/repro/deep_json_thread.py",
        "--runs",
        "2",
        "--image",
        &images[0].tag,
        "--image",
        &images[1].tag,
        "--format",
        "json",
    ]);
    assert_eq!(code(&a), Some(1), "{r:#}");
    let rec = |n: &str| r["repro"].as_array().unwrap().iter().find(|x| x["base"] == n).unwrap().clone();
    assert_eq!(rec(&names[0])["outcomes"], serde_json::json!({"SIGSEGV": 2}), "{r:#}");
    assert_eq!(rec(&names[1])["outcomes"], serde_json::json!({"exit 0": 2}), "{r:#}");
    assert_eq!(base_of(&r, &names[0])["image_id"], images[0].id());
    let (_, r, _dir) = muslcheck(&[
        "dns",
        "--scenario",
        "probes/dns-scenarios/servfail-search.json",
        "--image",
        &images[0].tag,
        "--image",
        &images[1].tag,
        "--format",
        "json",
    ]);
    let sections: Vec<(&str, &str)> = r["resolver"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["base"].as_str().unwrap(), s["libc"]["family"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(sections, [(names[0].as_str(), "musl"), (names[1].as_str(), "glibc")], "{r:#}");
    for s in r["resolver"].as_array().unwrap() {
        assert!(s["checks"].as_object().unwrap().keys().any(|k| k.starts_with("dns.") && k != "dns.sandbox"), "{s:#}");
    }
}

fn toolchain() -> String {
    std::env::var("MUSLCHECK_TEST_TOOLCHAIN")
        .expect("MUSLCHECK_TEST_TOOLCHAIN is not set: run scripts/test.sh (the test bed's build stage)")
}

#[test]
fn inspect_refuses_bad_arguments_before_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("empty.py");
    std::fs::write(&script, "\n").unwrap();
    let refused: [(&[&str], &str); 6] = [
        (&["inspect", "svc:1", "--against", "svc:1"], "`svc:1` is named twice"),
        (&["inspect", "svc:1", "--python", "venv/bin/python"], "must be an absolute path"),
        (&["inspect", "svc:1", "--repro", "x.py", "--runs", "0"], "--runs must be between 1 and 1000"),
        (&["inspect", "svc:1", "--smoke", script.to_str().unwrap()], "is empty"),
        (&["inspect", "bad ref"], "is not an image reference"),
        (&["repro", "x.py", "--image", "svc:1", "-r", "six"], "cannot be used with"),
    ];
    for (args, message) in refused {
        // An engine that cannot be reached: refused before it is asked.
        bin()
            .args(args)
            .arg("--results-dir")
            .arg(dir.path().join("r"))
            .env("DOCKER_HOST", "tcp://127.0.0.1:1")
            .current_dir(dir.path())
            .assert()
            .code(2)
            .stderr(predicates::str::contains(message));
    }
}
