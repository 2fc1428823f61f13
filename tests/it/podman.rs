//! podman as the engine, through its Docker API (`podman system service`): `doctor` and a small
//! gate behave as on Docker. The test's own podman has its storage, configuration and socket in
//! a temporary directory, trusts the local registry (plain HTTP on 127.0.0.1), and has ulimits
//! that this machine lets containers set; everything it made is removed at the end, its firewall
//! chains too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;

/// A podman API service of the test's own, stopped and wiped when dropped.
struct Podman {
    dir: tempfile::TempDir,
    service: Child,
    /// The firewall chains podman's network makes were not there before: remove them after.
    chains_were_there: bool,
}

impl Podman {
    fn start() -> Podman {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("registries.conf"),
            "[[registry]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true\n",
        )
        .unwrap();
        // The sandbox refuses podman's default rlimits (`error setting rlimit type 7`).
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n",
        )
        .unwrap();
        let chains_were_there = netavark_chains().iter().any(|l| !l.is_empty());
        let service = Podman::command(dir.path())
            .args(["system", "service", "--time=0", &format!("unix://{}", dir.path().join("api.sock").display())])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("service.log")).unwrap())
            .spawn()
            .expect("podman (scripts/test.sh installs it)");
        let p = Podman { dir, service, chains_were_there };
        // Ready when the API answers, not when the socket appears: on a new machine podman
        // first sets its storage up, and under the suite's load that can take seconds.
        for _ in 0..600 {
            let ping = Command::new("curl")
                .args(["-sf", "--max-time", "5", "--unix-socket"])
                .arg(p.socket())
                .arg("http://podman/_ping")
                .output();
            if ping.is_ok_and(|o| o.status.success() && o.stdout == b"OK") {
                return p;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("podman's API did not answer in 60 s: {}", p.log());
    }

    /// What the service printed, for a failure's message.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("service.log")).unwrap_or_default()
    }

    fn command(dir: &Path) -> Command {
        let mut c = Command::new("podman");
        c.args([
            "--root",
            &dir.join("root").display().to_string(),
            "--runroot",
            &dir.join("run").display().to_string(),
        ])
        .env("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf"))
        .env("CONTAINERS_CONF", dir.join("containers.conf"));
        c
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("api.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Lines of `podman LIST --filter label=io.muslcheck -q` (containers, volumes, networks).
    fn labelled(&self, list: &[&str]) -> Vec<String> {
        let out = Podman::command(self.dir.path())
            .args(list)
            .args(["--filter", "label=io.muslcheck", "-q"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = Podman::command(self.dir.path()).args(["system", "reset", "--force"]).output();
        let _ = self.service.kill();
        let _ = self.service.wait();
        if !self.chains_were_there {
            remove_netavark_chains();
        }
        let _ = Command::new("ip").args(["link", "delete", "podman0"]).output();
    }
}

/// `iptables -S` lines that name podman's netavark chains, per table.
fn netavark_chains() -> Vec<String> {
    ["nat", "filter"]
        .iter()
        .flat_map(|t| {
            let out = Command::new("iptables").args(["-t", t, "-S"]).output().map(|o| o.stdout).unwrap_or_default();
            String::from_utf8_lossy(&out)
                .lines()
                .filter(|l| l.contains("NETAVARK"))
                .map(|l| format!("{t} {l}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Deletes the rules that jump to netavark's chains, then the chains.
fn remove_netavark_chains() {
    let lines = netavark_chains();
    for l in &lines {
        let (table, rule) = l.split_once(' ').unwrap();
        if let Some(spec) = rule.strip_prefix("-A ") {
            let mut args = vec!["-t", table, "-D"];
            args.extend(spec.split_whitespace().map(|w| w.trim_matches('"')));
            // Comments with spaces do not survive the split: delete such rules by number below.
            let _ = Command::new("iptables").args(&args).output();
        }
    }
    for l in &lines {
        let (table, rule) = l.split_once(' ').unwrap();
        if let Some(chain) = rule.strip_prefix("-N ") {
            let _ = Command::new("iptables").args(["-t", table, "-F", chain]).output();
        }
    }
    // Rules in the built-in chains that still jump to them (a comment with spaces), by number.
    for table in ["nat", "filter"] {
        for chain in ["PREROUTING", "OUTPUT", "POSTROUTING", "FORWARD", "INPUT"] {
            loop {
                let out = Command::new("iptables").args(["-t", table, "-L", chain, "--line-numbers", "-n"]).output();
                let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
                let Some(n) = text.lines().find(|l| l.contains("NETAVARK")).and_then(|l| l.split_whitespace().next())
                else {
                    break;
                };
                let n = n.to_string();
                if !Command::new("iptables").args(["-t", table, "-D", chain, &n]).status().is_ok_and(|s| s.success()) {
                    break;
                }
            }
        }
    }
    for l in &lines {
        let (table, rule) = l.split_once(' ').unwrap();
        if let Some(chain) = rule.strip_prefix("-N ") {
            let _ = Command::new("iptables").args(["-t", table, "-X", chain]).output();
        }
    }
}

#[test]
fn podman_serves_doctor_and_a_gate_as_docker_does() {
    require_engine();
    let podman = Podman::start();
    let d = tempfile::tempdir().unwrap();
    let observations = d.path().join("observations");

    let doctor = bin()
        .args(["doctor", "--matrix", "tests/fixtures/small.toml"])
        .args(local_index_with_ca())
        .env("DOCKER_HOST", podman.host())
        .current_dir(root())
        .assert();
    let text = stdout_of(&doctor);
    let seen = || {
        let o = doctor.get_output();
        format!("{text}\nstderr: {}\npodman: {}", String::from_utf8_lossy(&o.stderr), podman.log())
    };
    assert!(text.contains("glibc 2.") && text.contains("musl 1.2.5"), "both libcs observed through podman: {}", seen());
    assert!(!text.contains("UNREACHABLE"), "the local index is reached from podman's containers: {}", seen());

    let results = d.path().join("r");
    let out = bin()
        .args(["gate", "six==1.17.0", "msgpack==1.1.2", "--matrix", "tests/fixtures/small.toml", "--format", "json"])
        .args(local_index_with_ca())
        .arg("--results-dir")
        .arg(&results)
        .env("DOCKER_HOST", podman.host())
        .env("MUSLCHECK_OBSERVATIONS", &observations)
        .current_dir(root())
        .assert()
        .code(0);
    let r = report(&results);
    assert!(r["errors"].as_array().unwrap().is_empty(), "{}", stdout_of(&out));
    for v in r["verdicts"].as_array().unwrap() {
        assert_eq!(v["pass"], true, "{v}");
    }
    for j in ["six[glibc]", "six[musl]", "msgpack[glibc]", "msgpack[musl]"] {
        let job = job(&r, j);
        assert_eq!(job["outcome"], "installed", "{job:#}");
        let imports = job["probe"]["imports"].as_object().unwrap();
        assert!(!imports.is_empty() && imports.values().all(|o| o["status"] == "ok"), "{job:#}");
    }
    // msgpack's smoke script ran in podman's probe sandbox on both bases.
    for j in ["msgpack[glibc]", "msgpack[musl]"] {
        assert_eq!(job(&r, j)["probe"]["smoke"]["status"], "ok", "{:#}", job(&r, j));
    }
    // msgpack takes its musllinux wheel on musl and its manylinux wheel on glibc, as on Docker.
    let source = |j: &str| {
        job(&r, j)["distributions"].as_array().unwrap().iter().find(|d| d["name"] == "msgpack").unwrap()["source"]
            .clone()
    };
    assert_eq!((source("msgpack[glibc]"), source("msgpack[musl]")), ("manylinux".into(), "musllinux".into()));
    assert!(podman.labelled(&["ps", "-a"]).is_empty(), "containers left in podman");
    assert!(podman.labelled(&["network", "ls"]).is_empty(), "networks left in podman");
    // Only pip's cache volumes are kept (no run's label).
    let kept = Podman::command(podman.dir.path())
        .args(["volume", "ls", "--filter", "label=io.muslcheck.run", "-q"])
        .output()
        .unwrap();
    assert!(kept.stdout.is_empty(), "a run's volumes left: {}", String::from_utf8_lossy(&kept.stdout));
}
