//! Shared helpers: the binary, the engine (required: a missing engine fails the test), the
//! CA bundle, and leak checks by run label.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const GLIBC: &str = "127.0.0.1:5000/muslcheck-testbed/python:3.13-glibc";
pub const MUSL: &str = "127.0.0.1:5000/muslcheck-testbed/python:3.13-musl";

pub fn bin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("muslcheck").expect("the muslcheck binary");
    c.env_remove("MUSLCHECK_CA_BUNDLE")
        .env_remove("MUSLCHECK_MATRIX")
        .env_remove("MUSLCHECK_INDEX_URL")
        .env("NO_COLOR", "1");
    c.env("MUSLCHECK_OBSERVATIONS", observations_dir());
    c
}

/// An observation cache of this test process's own: every suite run observes afresh (a cached
/// observation from yesterday's build would hide a regression), while tests within one run may
/// reuse what another observed, as runs do.
pub fn observations_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new().prefix("muslcheck-it-observations-").tempdir().expect("a temporary directory")
    })
    .path()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The CA bundle pip needs on this network.
pub fn ca_bundle() -> String {
    std::env::var("MUSLCHECK_TEST_CA_BUNDLE").unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into())
}

/// The suite's local HTTPS package index (scripts/testbed/index.sh, started by scripts/test.sh):
/// the arguments that point a command at it, without its CA.
pub fn local_index_args() -> Vec<String> {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run scripts/test.sh (it starts the local index)"))
    };
    vec!["--index-url".into(), var("MUSLCHECK_TEST_INDEX_URL"), "--add-host".into(), var("MUSLCHECK_TEST_INDEX_HOST")]
}

/// The CA (made by the test bed, trusted by nothing else) that signs the local index's certificate.
pub fn local_index_ca() -> String {
    std::env::var("MUSLCHECK_TEST_INDEX_CA").expect("MUSLCHECK_TEST_INDEX_CA is not set: run scripts/test.sh")
}

/// Puts a generated pure-Python wheel on the local index (a file in its directory is served at
/// once): `files` maps paths in the wheel to their text.
pub fn publish_wheel(name: &str, version: &str, files: &[(&str, &str)], top_level: &[&str]) {
    publish_wheel_with(name, version, files, &[], top_level)
}

/// [`publish_wheel`] with binary files too (`(path in the wheel, file on the host)`).
pub fn publish_wheel_with(
    name: &str,
    version: &str,
    files: &[(&str, &str)],
    binary: &[(&str, &Path)],
    top_level: &[&str],
) {
    publish(serde_json::json!({
        "name": name,
        "version": version,
        "files": files.iter().map(|(p, c)| (p.to_string(), serde_json::json!(c))).collect::<serde_json::Map<_, _>>(),
        "top_level": top_level,
        "binary": binary.iter().map(|(p, f)| (p.to_string(), serde_json::json!(b64(&std::fs::read(f).unwrap())))).collect::<serde_json::Map<_, _>>(),
    }));
}

/// Puts a generated file on the local index from a spec of tests/fixtures/wheels/make_wheel.py
/// (a wheel with any tag and `Requires-Dist`, or a failing sdist).
pub fn publish(spec: serde_json::Value) {
    let dir =
        std::env::var("MUSLCHECK_TEST_WHEELHOUSE").expect("MUSLCHECK_TEST_WHEELHOUSE is not set: run scripts/test.sh");
    let name = spec["name"].as_str().unwrap_or("").to_string();
    let version = spec["version"].as_str().unwrap_or("").to_string();
    let mut child = Command::new("python3")
        .arg(root().join("tests/fixtures/wheels/make_wheel.py"))
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 on the host");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), spec.to_string().as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait_with_output().unwrap().status.success(), "making the wheel {name} {version}");
}

/// The sha256 of the local index's file whose name starts with `prefix`.
pub fn sha256_of_published(prefix: &str) -> String {
    use sha2::{Digest, Sha256};
    let dir =
        std::env::var("MUSLCHECK_TEST_WHEELHOUSE").expect("MUSLCHECK_TEST_WHEELHOUSE is not set: run scripts/test.sh");
    let f = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|f| f.file_name().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* on the local index"));
    hex::encode(Sha256::digest(std::fs::read(f.path()).unwrap()))
}

/// The findings of one kind in a report.
pub fn findings_of<'a>(r: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == kind).collect()
}

/// Removes from the local index the files whose names contain `marker` (a test's own suffix).
pub fn unpublish(marker: &str) {
    let dir =
        std::env::var("MUSLCHECK_TEST_WHEELHOUSE").expect("MUSLCHECK_TEST_WHEELHOUSE is not set: run scripts/test.sh");
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        if f.file_name().to_string_lossy().contains(marker) {
            let _ = std::fs::remove_file(f.path());
        }
    }
}

/// Package names with a suffix of one test's own (`{prefix}{stem}{suffix}`); its files leave the
/// local index when it is dropped, so tests in any order see only their own packages.
pub struct Names {
    prefix: &'static str,
    suffix: String,
}

impl Names {
    pub fn new(prefix: &'static str) -> Names {
        Names { prefix, suffix: uuid::Uuid::new_v4().simple().to_string()[..10].to_string() }
    }
    pub fn name(&self, stem: &str) -> String {
        format!("{}{stem}{}", self.prefix, self.suffix)
    }
    /// What every name of this test carries (and its files' names too).
    pub fn suffix(&self) -> &str {
        &self.suffix
    }
}

impl Drop for Names {
    fn drop(&mut self) {
        if std::env::var("MUSLCHECK_TEST_WHEELHOUSE").is_ok() {
            unpublish(&self.suffix);
        }
    }
}

/// Publishes a pure-Python distribution whose one module records its version.
pub fn publish_pure(name: &str, version: &str, requires: &[&str]) {
    publish(serde_json::json!({
        "name": name, "version": version, "requires": requires, "top_level": [name],
        "files": {format!("{name}/__init__.py"): format!("VERSION = '{version}'\n")},
    }));
}

/// A job's installed distributions as (name, version, source), sorted.
pub fn installed(r: &serde_json::Value, id: &str) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = job(r, id)["distributions"]
        .as_array()
        .unwrap_or_else(|| panic!("{id} has no distributions: {:#}", job(r, id)))
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().into(),
                d["version"].as_str().unwrap().into(),
                d["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The arguments that point a command at the local index and trust its CA.
pub fn local_index_with_ca() -> Vec<String> {
    let mut a = local_index_args();
    a.push("--ca-bundle".into());
    a.push(local_index_ca());
    a
}

/// Panics unless a Docker engine answers: these tests never skip.
pub fn require_engine() {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "no Docker engine answers: run scripts/test.sh (it starts one and builds the test bed)");
}

/// Objects a run must never leave behind (containers, networks, volumes) for a run id.
pub fn leftovers(run_id: &str) -> Vec<String> {
    let mut out = vec![];
    for kind in ["ps", "network", "volume"] {
        let mut c = Command::new("docker");
        match kind {
            "ps" => c.args(["ps", "-aq"]),
            "network" => c.args(["network", "ls", "-q"]),
            _ => c.args(["volume", "ls", "-q"]),
        };
        let o = c.args(["--filter", &format!("label=io.muslcheck.run={run_id}")]).output().expect("docker");
        out.extend(String::from_utf8_lossy(&o.stdout).lines().map(|l| format!("{kind} {l}")));
    }
    out
}

/// Runs `muslcheck ARGS --results-dir DIR` from the repository root.
pub fn in_results(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    bin().args(args).arg("--results-dir").arg(dir).current_dir(root()).assert()
}

/// The standard output of an assertion, as text.
pub fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// Reads the report a run wrote to its results directory.
pub fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

pub fn assert_no_leftovers(report: &serde_json::Value) {
    let run_id = report["run_id"].as_str().expect("run id");
    let left = leftovers(run_id);
    assert!(left.is_empty(), "run {run_id} left {left:?}");
    // The run's own volumes (a build's scratch volume) are in `leftovers`; the only volumes
    // kept after a run are pip's caches, which belong to no run.
    let o = Command::new("docker")
        .args([
            "volume",
            "ls",
            "--filter",
            "label=io.muslcheck.kind=cache-volume",
            "--format",
            "{{.Label \"io.muslcheck.run\"}}",
        ])
        .output()
        .expect("docker");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.lines().all(|l| l.trim().is_empty()), "a cache volume carries a run's label: {text}");
}

/// pip's cache volumes of a name of the test's own (`MUSLCHECK_PIP_CACHE`), removed when
/// dropped: a test that needs an empty pip cache leaves none behind.
pub struct PipCache(pub String);

impl PipCache {
    pub fn new() -> PipCache {
        PipCache(format!("muslcheck-test-pip-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]))
    }
}

impl Drop for PipCache {
    fn drop(&mut self) {
        let o = Command::new("docker")
            .args(["volume", "ls", "-q", "--filter", &format!("name={}", self.0)])
            .output()
            .expect("docker");
        for v in String::from_utf8_lossy(&o.stdout).lines() {
            let _ = Command::new("docker").args(["volume", "rm", "-f", v]).output();
        }
    }
}

pub fn job<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("no job {id} in {report:#}"))
}

/// Standard base64, for binary files handed to the wheel maker.
fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
