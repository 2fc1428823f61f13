//! The harness as a CI job runs it: inside a container whose files the engine cannot see,
//! talking to the engine over TCP or TLS with client certificates (as to GitLab's docker:dind),
//! with the CA bundle, the matrix and its smoke script given as paths inside that container.
//! Its findings must be the same as the same gate's over the local socket, its source builds
//! timed, nothing left behind.

use std::process::{Child, Command, Stdio};

use crate::common::*;

/// The glibc test-bed base has the libraries a host build of the harness needs.
const JOB_IMAGE: &str = "127.0.0.1:5000/muslcheck-testbed/python:3.13-glibc";
const GATED: [&str; 2] = ["msgpack==1.1.2", "lz4==4.4.5"];

/// A TCP endpoint for the engine on 127.0.0.1 (socat to its socket), stopped when dropped.
pub struct TcpEngine {
    child: Child,
    pub port: u16,
}

impl TcpEngine {
    pub fn start() -> TcpEngine {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("socat")
            .args([&format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"), "UNIX-CONNECT:/var/run/docker.sock"])
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (scripts/test.sh installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return TcpEngine { child, port };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("socat did not listen on {port}");
    }
}

impl Drop for TcpEngine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A container standing for the CI job: the harness binary and the job's files copied in (never
/// mounted), removed when dropped.
struct JobContainer(String);

impl JobContainer {
    fn create(env: &[(&str, String)], args: &[String]) -> JobContainer {
        let mut c = Command::new("docker");
        c.args(["create", "--network", "host", "--label", "io.muslcheck.test=remote"]);
        for (k, v) in env {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.args([JOB_IMAGE, "/job/muslcheck"]).args(args);
        let out = c.output().expect("docker create");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        JobContainer(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn copy_in(&self, host: &std::path::Path, inside: &str) {
        let out = Command::new("docker").args(["cp"]).arg(host).arg(format!("{}:{inside}", self.0)).output().unwrap();
        assert!(out.status.success(), "docker cp: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn copy_out(&self, inside: &str, host: &std::path::Path) {
        let out = Command::new("docker").args(["cp"]).arg(format!("{}:{inside}", self.0)).arg(host).output().unwrap();
        assert!(out.status.success(), "docker cp: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Runs it to its end: (exit code, stdout, stderr).
    fn run(&self) -> (i32, String, String) {
        let out = Command::new("docker").args(["start", "-a", &self.0]).output().unwrap();
        let code = Command::new("docker").args(["inspect", "-f", "{{.State.ExitCode}}", &self.0]).output().unwrap();
        (
            String::from_utf8_lossy(&code.stdout).trim().parse().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for JobContainer {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// Finding ids with their failing bases and severities: what the comparison decided. Not the
/// findings about times (run and build times move with the machine's load between two runs,
/// whichever engine endpoint served them).
fn decided(r: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] != "runtime-differs" && f["kind"] != "build-time")
        .map(|f| (f["id"].as_str().unwrap().to_string(), f["failing"].to_string(), f["severity"].to_string()))
        .collect();
    v.sort();
    v
}

/// The job directory the container gets: the matrix with its smoke script and the CA bundle,
/// under paths that exist nowhere on the engine's host.
fn job_files(dir: &std::path::Path) -> std::path::PathBuf {
    let job = dir.join("job");
    std::fs::create_dir_all(job.join("smoke")).unwrap();
    std::fs::copy(root().join("tests/fixtures/small.toml"), job.join("m.toml")).unwrap();
    std::fs::copy(root().join("tests/fixtures/smoke/msgpack.py"), job.join("smoke/msgpack.py")).unwrap();
    std::fs::copy(ca_bundle(), job.join("ca.crt")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_muslcheck"), job.join("muslcheck")).unwrap();
    job
}

/// A gate run in the job container with the engine settings in `env` (and the client
/// certificates copied in at /job/certs).
fn gate_in_container(
    dir: &std::path::Path,
    env: Vec<(&str, String)>,
    client_certs: Option<&std::path::Path>,
) -> (i32, String, String, serde_json::Value) {
    std::fs::create_dir_all(dir).unwrap();
    let job = job_files(dir);
    if let Some(certs) = client_certs {
        std::fs::create_dir(job.join("certs")).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(certs.join(f), job.join("certs").join(f)).unwrap();
        }
    }
    let mut args: Vec<String> = vec!["gate".into()];
    args.extend(GATED.iter().map(|s| s.to_string()));
    args.extend(
        ["--matrix", "/job/m.toml", "--ca-bundle", "/job/ca.crt", "--results-dir", "/job/results", "--format", "json"]
            .map(String::from),
    );
    let mut env = env;
    // The job's own caches, inside the job container: nothing of the host is shared.
    env.push(("MUSLCHECK_OBSERVATIONS", "/job/observations".into()));
    // The engine's pip cache volumes the suite uses (scripts/test.sh removes them).
    if let Ok(name) = std::env::var("MUSLCHECK_PIP_CACHE") {
        env.push(("MUSLCHECK_PIP_CACHE", name));
    }
    env.push(("HOME", "/job".into()));
    let c = JobContainer::create(&env, &args);
    c.copy_in(&job, "/");
    let (code, stdout, stderr) = c.run();
    let results = dir.join("results");
    c.copy_out("/job/results", &results);
    (code, stdout, stderr, report(&results))
}

#[test]
fn a_gate_from_a_job_container_over_tcp_and_tls_decides_as_over_the_local_socket() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let mut reports = vec![];
    // The engine over plain TCP (docker:dind without TLS).
    {
        let engine = TcpEngine::start();
        let env = vec![("DOCKER_HOST", format!("tcp://127.0.0.1:{}", engine.port))];
        reports.push(("tcp", gate_in_container(&d.path().join("tcp"), env, None)));
    }
    // The engine over TLS with client certificates made here (docker:dind's default).
    {
        let certs = crate::engines::certs(false);
        let (_proxy, port) = crate::engines::tls_proxy(&certs.server);
        let env = vec![
            ("DOCKER_HOST", format!("tcp://127.0.0.1:{port}")),
            ("DOCKER_TLS_VERIFY", "1".to_string()),
            ("DOCKER_CERT_PATH", "/job/certs".to_string()),
        ];
        reports.push(("tls", gate_in_container(&d.path().join("tls"), env, Some(&certs.client))));
    }
    for (how, (code, _, stderr, remote)) in &reports {
        assert_eq!(*code, 1, "{how}: lz4 fails to build on musl: {stderr}");
        assert!(remote["errors"].as_array().unwrap().is_empty(), "{how}: {:#}", remote["errors"]);
        for j in remote["jobs"].as_array().unwrap() {
            assert_ne!(j["outcome"], "infra-error", "{how}: nothing is bind-mounted from the job container: {j:#}");
        }
        // The source build is timed from pip's log read back through the engine.
        let lz4 = job(remote, "lz4[musl]");
        let build = &lz4["source_builds"][0];
        assert_eq!((build["distribution"].as_str(), build["ok"].as_bool()), (Some("lz4"), Some(false)), "{lz4:#}");
        assert!(build["secs"].as_f64().unwrap() > 0.0, "{how}: {build}");
        // The smoke script given as a path inside the job container ran.
        let msgpack = job(remote, "msgpack[musl]");
        assert_eq!(msgpack["probe"]["smoke"]["status"], "ok", "{how}: {msgpack:#}");
        assert_no_leftovers(remote);
    }

    // The same gate over the local socket decides the same.
    let local_dir = d.path().join("local");
    let mut args: Vec<&str> = vec!["gate"];
    args.extend(GATED);
    let ca = ca_bundle();
    args.extend(["--matrix", "tests/fixtures/small.toml", "--ca-bundle", &ca, "--format", "json", "--results-dir"]);
    bin().args(&args).arg(&local_dir).current_dir(root()).assert().code(1);
    let local = report(&local_dir);
    for (how, (_, _, _, remote)) in &reports {
        assert_eq!(decided(remote), decided(&local), "{how}");
    }
    assert_no_leftovers(&local);
}
