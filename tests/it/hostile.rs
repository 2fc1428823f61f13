//! Hostile inputs: matrices, requirement files, zones and paths that arrive in a pull request and
//! run as root on a machine with secrets. Refusals are checked offline (DOCKER_HOST points at
//! nothing, so reaching the engine would give 3, not 2); what involves the engine runs on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::common::*;

const NOWHERE: &str = "unix:///nonexistent/muslcheck-test.sock";

fn offline() -> assert_cmd::Command {
    let mut c = bin();
    c.env("DOCKER_HOST", NOWHERE).current_dir(root());
    c
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

const BASES: &str = "[[base]]\nname = \"glibc\"\nimage = \"127.0.0.1:5000/muslcheck-testbed/python:3.13-glibc\"\n\n[[base]]\nname = \"musl\"\nimage = \"127.0.0.1:5000/muslcheck-testbed/python:3.13-musl\"\n";

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Waits (up to `limit`) for a child to exit; kills it and fails when it does not.
fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// 1. `-o` writes through what is at the path instead of replacing it.

#[test]
fn output_is_written_through_symlinks_devices_and_fifos_not_over_them() {
    require_engine();
    let d = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let sc = write(
        d.path(),
        "same.json",
        r#"{"id": "same", "resolv_conf": "nameserver 10.0.0.2\n", "name": "db.example", "type": "A", "flags": ["AI_CANONNAME"], "zone": {"records": [{"name": "db.example.", "type": "A", "value": "192.0.2.7"}]}}"#,
    );
    let dns = |out: &Path| {
        let results = d.path().join("results");
        bin()
            .args([
                "dns",
                "--scenario",
                &sc,
                "--matrix",
                "tests/fixtures/small.toml",
                "--format",
                "json",
                "--results-dir",
            ])
            .arg(&results)
            .arg("-o")
            .arg(out)
            .current_dir(root())
            .assert()
    };
    // A symlink is followed: the file it names gets the report, the link stays a link.
    let target = d.path().join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    dns(&link).code(0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the symlink was replaced");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(written["command"], "dns");
    assert_no_leftovers(&written);

    // A device that refuses the bytes (a private /dev/full: the machine's own is never put at
    // risk) is a clear usage error, and stays a device.
    let full = d.path().join("full");
    assert!(Command::new("mknod").arg(&full).args(["c", "1", "7"]).status().unwrap().success());
    let a = dns(&full).code(2);
    assert!(stderr_of(&a).contains("No space left on device") && stderr_of(&a).contains("full"), "{}", stderr_of(&a));
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&full).unwrap().file_type().is_char_device(),
        "the device was replaced by a file"
    );

    // A FIFO is written in place, to whoever reads it.
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    dns(&fifo).code(0);
    let got: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(got["command"], "dns");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
}

#[test]
fn output_naming_a_directory_is_refused_before_the_engine() {
    let d = tempfile::tempdir().unwrap();
    offline()
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "-o"])
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
}

// 2. A matrix may not read host files into the report; every input is capped.

#[test]
fn matrix_smoke_scripts_and_ca_bundles_must_stay_inside_the_matrix_directory() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    write(d.path(), "secret.txt", "TOPSECRET\n");
    std::os::unix::fs::symlink(d.path().join("secret.txt"), repo.join("innocent.py")).unwrap();
    for smoke in ["/etc/shadow", "/etc/passwd", "../../../../../../../etc/passwd", "../secret.txt", "innocent.py"] {
        let m = write(
            &repo,
            "m.toml",
            format!("{BASES}\n[[dependency]]\nrequirement = \"six==1.17.0\"\nsmoke = \"{smoke}\"\n"),
        );
        let a = offline().args(["run", "--matrix", &m]).assert().code(2);
        let err = stderr_of(&a);
        assert!(
            err.contains(&format!("{m}:11:9: `smoke`")) && err.contains("outside the matrix's directory"),
            "{smoke}: {err}"
        );
        assert!(!err.contains("TOPSECRET") && !err.contains("root:"), "{err}");
    }
    let m = write(&repo, "m.toml", format!("[policy]\nca_bundle = \"/etc/ssl/certs/ca-certificates.crt\"\n\n{BASES}\n[[dependency]]\nrequirement = \"six\"\n"));
    offline()
        .args(["run", "--matrix", &m])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{m}:2:13: `ca_bundle`")));
    // The same files given on the command line are the user's choice: accepted (the engine,
    // which is nowhere, is the next thing to fail).
    let m = write(&repo, "ok.toml", format!("{BASES}\n[[dependency]]\nrequirement = \"six\"\n"));
    let outside = write(d.path(), "smoke.py", "print('hi')\n");
    offline()
        .args(["gate", "six", "--matrix", &m, "--smoke", &outside, "--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
        .assert()
        .code(3);
}

#[test]
fn oversized_inputs_are_refused_with_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let big_matrix = write(d.path(), "big.toml", format!("{BASES}{}", "# pad\n".repeat(200_000)));
    offline()
        .args(["run", "--matrix", &big_matrix])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit of 1 MiB"));
    let reqs = write(d.path(), "req.txt", format!("six\n{}", "# pad\n".repeat(200_000)));
    offline()
        .args(["gate", "-r", &reqs, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit of 1 MiB"));
    let smoke = write(d.path(), "smoke.py", "#".repeat((64 << 10) + 1));
    offline()
        .args(["gate", "six", "--smoke", &smoke, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit of 64 KiB"));
    offline()
        .args(["repro", &smoke, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit of 64 KiB"));
    let ca = write(d.path(), "ca.pem", format!("-----BEGIN CERTIFICATE-----\n{}", "A".repeat(5 << 20)));
    offline()
        .args(["gate", "six", "--ca-bundle", &ca, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit of 4 MiB"));
    let zone = write(d.path(), "zone.json", format!("{{\"records\": [], \"pad\": \"{}\"}}", "x".repeat(5 << 20)));
    let resolv = write(d.path(), "resolv.conf", "nameserver 10.0.0.2\n");
    offline()
        .args([
            "dns",
            "--resolv-conf",
            &resolv,
            "--zone",
            &zone,
            "--name",
            "x",
            "--matrix",
            "tests/fixtures/small.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit of 4 MiB"));
    let scenario = write(d.path(), "sc.json", " ".repeat((4 << 20) + 1));
    offline()
        .args(["dns", "--scenario", &scenario, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit"));
    // An endless input costs the cap, not the machine.
    offline()
        .args(["run", "--matrix", "/dev/zero"])
        .timeout(Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the limit"));
}

#[test]
fn a_smoke_script_at_its_limit_still_reaches_the_container() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    // Quotes and backslashes grow when the script is put into the probe's JSON argument.
    let mut script = String::from("import six\n");
    while script.len() < (64 << 10) - 200 {
        script.push_str("# \"quoted\" and \\ escaped, as scripts are\n");
    }
    script.push_str("print('smoke ok')\n");
    let smoke = write(d.path(), "smoke.py", &script);
    let results = d.path().join("results");
    in_results(
        &results,
        &[
            "gate",
            "six==1.17.0",
            "--smoke",
            &smoke,
            "--matrix",
            "tests/fixtures/small.toml",
            "--ca-bundle",
            &ca_bundle(),
        ],
    )
    .code(0);
    let r = report(&results);
    for id in ["six[glibc]", "six[musl]"] {
        assert_eq!(job(&r, id)["probe"]["smoke"]["status"], "ok", "{}", job(&r, id));
    }
    assert_no_leftovers(&r);
}

// 4. `clean` leaves a live run alone; a run whose containers vanish reports an infrastructure
// error, not a verdict.

fn sleepy_run(dir: &Path) -> (std::process::Child, PathBuf) {
    write(dir, "sleep.py", "import time\ntime.sleep(300)\n");
    let m =
        write(dir, "m.toml", format!("{BASES}\n[[dependency]]\nrequirement = \"six==1.17.0\"\nsmoke = \"sleep.py\"\n"));
    let results = dir.join("results");
    let child = Command::new(assert_cmd::cargo::cargo_bin("muslcheck"))
        .args([
            "run",
            "--matrix",
            &m,
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
    (child, results)
}

fn probe_containers(run_id: &str) -> Vec<String> {
    let o = Command::new("docker")
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("label=io.muslcheck.run={run_id}"),
            "--filter",
            "label=io.muslcheck.kind=probe-wheels",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
}

/// Waits until the run has `n` probes running at once (its jobs on every base).
fn wait_for_probes(results: &Path, n: usize) -> String {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(240), "the run never started a probe");
        if let Some(id) = std::fs::read_to_string(results.join("report.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|r| r["run_id"].as_str().map(str::to_string))
        {
            if probe_containers(&id).len() >= n {
                return id;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn clean_leaves_a_live_run_alone_and_a_forced_clean_is_an_infrastructure_error() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let (mut child, results) = sleepy_run(d.path());
    let run_id = wait_for_probes(&results, 2);
    bin().args(["clean", "--run", &run_id]).assert().success().stdout(predicate::str::contains("still running"));
    // Every run's leftovers, as a dry run: other tests' killed runs are theirs to clean.
    let probes = probe_containers(&run_id);
    let listed = stdout_of(&bin().args(["clean", "--dry-run"]).assert().success());
    assert!(listed.contains(&format!("run {run_id} is still running")), "{listed}");
    assert!(
        probes.iter().all(|p| !listed.contains(p.as_str())),
        "a live run's container is listed for removal: {listed}"
    );
    assert!(!probe_containers(&run_id).is_empty(), "clean removed a live run's probe");
    assert!(child.try_wait().unwrap().is_none(), "the run ended");
    bin().args(["clean", "--run", &run_id, "--force"]).assert().success();
    let status = wait_exit(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(3));
    let r = report(&results);
    for id in ["six[glibc]", "six[musl]"] {
        let j = job(&r, id);
        assert_eq!(j["outcome"], "infra-error", "{j}");
        assert!(j["error"].as_str().unwrap().contains("removed while it ran"), "{j}");
    }
    // A vanished container observed nothing: an `error` verdict, neither a pass nor missing.
    let verdicts = r["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 2, "{r:#}");
    for v in verdicts {
        assert_eq!(v["pass"], false, "{v}");
        assert!(v["error"].as_str().unwrap().contains("removed while it ran"), "{v}");
    }
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r:#}");
    assert!(!r["errors"].as_array().unwrap().is_empty(), "{r:#}");
    assert_no_leftovers(&r);
}

#[test]
fn clean_refuses_what_is_not_a_run_id() {
    for bad in ["x", "../../etc", "1764576000-1a2b3c4d,label=io.muslcheck", ""] {
        offline().args(["clean", "--run", bad]).assert().code(2).stderr(predicate::str::contains("is not a run id"));
    }
}

// 5. Concurrent runs of one requirement share the tag and leave no untagged image.

#[test]
fn two_gates_of_one_requirement_without_cache_agree_and_leave_no_dangling_image() {
    require_engine();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let gate = |dir: &Path| {
        Command::new(assert_cmd::cargo::cargo_bin("muslcheck"))
            .args([
                "gate",
                "six==1.17.0",
                "--no-cache",
                "--matrix",
                "tests/fixtures/small.toml",
                "--no-progress",
                "--ca-bundle",
                &ca_bundle(),
                "--results-dir",
            ])
            .arg(dir)
            .env_remove("MUSLCHECK_CA_BUNDLE")
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (x, y) = (gate(a.path()), gate(b.path()));
    for (child, dir) in [(x, a.path()), (y, b.path())] {
        let out = child.wait_with_output().unwrap();
        let r = report(dir);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\nfindings: {:#}\nerrors: {:#}",
            String::from_utf8_lossy(&out.stderr),
            r["findings"],
            r["errors"]
        );
        assert_no_leftovers(&r);
    }
    let (ra, rb) = (report(a.path()), report(b.path()));
    for id in ["six[glibc]", "six[musl]"] {
        let (ia, ib) = (&job(&ra, id)["image"], &job(&rb, id)["image"]);
        assert!(ia.as_str().is_some_and(|t| t.starts_with("muslcheck/job:")), "{ia}");
        assert_eq!(ia, ib, "{id}");
    }
    // An image replaced while another test's container still uses it stays until that run ends
    // (whichever run ends last removes it), so wait for the other tests a while, not forever.
    let start = Instant::now();
    loop {
        let o = Command::new("docker")
            .args(["images", "-q", "-f", "dangling=true", "-f", "label=io.muslcheck"])
            .output()
            .unwrap();
        if o.stdout.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "untagged images left: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

// 6. Long names are refused at validation; signals still end the process after the run.

#[test]
fn huge_names_are_refused_quickly_everywhere() {
    let d = tempfile::tempdir().unwrap();
    let long = "a".repeat(150_000);
    let start = Instant::now();
    // One argument can hold at most 128 KiB on Linux: the longest a command line can pass.
    let arg = "a".repeat(120_000);
    let a = offline().args(["gate", "--matrix", "tests/fixtures/small.toml", "--", &arg]).assert().code(2);
    assert!(stderr_of(&a).contains("120000 bytes long") && stderr_of(&a).len() < 1000, "{}", stderr_of(&a).len());
    let reqs = write(d.path(), "req.txt", format!("six\n{long}==1\n"));
    offline()
        .args(["gate", "-r", &reqs, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("req.txt:2: requirement is"));
    let m = write(d.path(), "m.toml", format!("{BASES}\n[[dependency]]\nname = \"{long}\"\nrequirement = \"six\"\n\n[[dependency]]\nrequirement = \"{long}\"\n"));
    let a = offline().args(["run", "--matrix", &m]).assert().code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains(":10:8: dependency name") && err.contains(":14:15: `requirement`"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(err.len() < 2000, "the error echoes the input: {} bytes", err.len());
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
}

#[test]
fn a_signal_after_the_run_still_ends_the_process_with_130() {
    require_engine();
    // The report goes to a FIFO nobody reads: the run is over and the process waits there.
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let results = d.path().join("results");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("muslcheck"))
        .args([
            "gate",
            "six==1.17.0",
            "--matrix",
            "tests/fixtures/small.toml",
            "--no-progress",
            "--ca-bundle",
            &ca_bundle(),
            "-o",
        ])
        .arg(&fifo)
        .arg("--results-dir")
        .arg(&results)
        .env_remove("MUSLCHECK_CA_BUNDLE")
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let done = std::fs::read_to_string(results.join("report.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|r| !r["finished_at"].is_null());
        if done {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the process ended before waiting on the FIFO");
        assert!(start.elapsed() < Duration::from_secs(300), "the gate did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the process did not wait on the FIFO");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_no_leftovers(&report(&results));
}

// 7. Result files are not written through planted symlinks.

#[test]
fn install_logs_are_not_written_through_planted_symlinks() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let results = d.path().join("results");
    std::fs::create_dir_all(results.join("logs")).unwrap();
    let victim = write(d.path(), "victim.txt", "precious\n");
    std::os::unix::fs::symlink(&victim, results.join("logs/six_glibc_.install.log")).unwrap();
    let a = in_results(
        &results,
        &["gate", "six==1.17.0", "--no-cache", "--matrix", "tests/fixtures/small.toml", "--ca-bundle", &ca_bundle()],
    )
    .code(3);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "the log was written through the symlink");
    assert!(stderr_of(&a).contains("failed to write the install log"), "{}", stderr_of(&a));
    let r = report(&results);
    assert!(r["errors"].to_string().contains("refusing to write through it"), "{r:#}");
    assert_no_leftovers(&r);
    // A logs directory that is itself a symlink is refused before any work.
    let r2 = d.path().join("r2");
    std::fs::create_dir_all(&r2).unwrap();
    std::os::unix::fs::symlink(d.path(), r2.join("logs")).unwrap();
    in_results(&r2, &["gate", "six==1.17.0", "--matrix", "tests/fixtures/small.toml", "--ca-bundle", &ca_bundle()])
        .code(2)
        .stderr(predicate::str::contains("is a symlink"));
}

// 8. DNS zones, scenarios and faults are checked in Rust, and a big zone reaches the lab.

#[test]
fn bad_zones_scenarios_and_faults_are_refused_with_positions() {
    let d = tempfile::tempdir().unwrap();
    let resolv = write(d.path(), "resolv.conf", "nameserver 10.0.0.2\n");
    let cases = [
        ("{\"records\": [{\"name\": \"a.\", \"type\": \"A\", \"value\": \"1.2.3.4\"}],\n \"faults\": [{\"action\": \"explode\"}]}", ":2:24: unknown `action` \"explode\""),
        ("{\"records\": [\n  {\"name\": \"a.\", \"type\": \"BOGUS\", \"value\": \"1.2.3.4\"}]}", ":2:26: unknown record type"),
        ("{\"records\": [\n  {\"name\": \"a.\", \"type\": \"A\", \"value\": \"not-an-ip\"}]}", ":2:40: `not-an-ip` is not an IPv4 address"),
        ("{\"records\": [],\n \"recrods\": []}", ":2:2: unknown key `recrods` in the zone"),
        ("{\"records\": [\n  {\"name\": }]}", ":2:12: not valid JSON"),
    ];
    for (text, expected) in cases {
        let zone = write(d.path(), "zone.json", text);
        offline()
            .args([
                "dns",
                "--resolv-conf",
                &resolv,
                "--zone",
                &zone,
                "--name",
                "a",
                "--matrix",
                "tests/fixtures/small.toml",
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{zone}{expected}")));
    }
    let zone = write(d.path(), "ok.json", "{\"records\": []}");
    for (fault, expected) in [
        ("action=explode", "unknown `action`"),
        ("action=delay,ms=-5", "`ms` must be"),
        ("action=drop,type=BOGUS", "unknown query type"),
        ("action=drop,nth=0", "`nth`"),
    ] {
        offline()
            .args([
                "dns",
                "--resolv-conf",
                &resolv,
                "--zone",
                &zone,
                "--name",
                "a",
                "--fault",
                fault,
                "--matrix",
                "tests/fixtures/small.toml",
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    let sc = write(
        d.path(),
        "sc.json",
        "{\"resolv_conf\": \"nameserver 10.0.0.2\\n\", \"name\": \"a\",\n \"zone\": {\"records\": []}, \"flavour\": 1}",
    );
    offline()
        .args(["dns", "--scenario", &sc, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{sc}:2:27: unknown key `flavour`")));
}

#[test]
fn a_zone_of_megabytes_reaches_the_lab_and_is_answered() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let mut records: Vec<serde_json::Value> =
        (0..30_000).map(|i| serde_json::json!({"name": format!("h{i}.example."), "type": "A", "value": format!("192.0.2.{}", i % 250 + 1)})).collect();
    records.push(serde_json::json!({"name": "api.example.com.", "type": "A", "value": "203.0.113.10"}));
    let text = serde_json::to_string(&serde_json::json!({ "records": records })).unwrap();
    assert!(text.len() > 1_500_000, "{}", text.len());
    let zone = write(d.path(), "zone.json", &text);
    let resolv = write(d.path(), "resolv.conf", "nameserver 10.0.0.2\n");
    let results = d.path().join("results");
    // 0 or 1 is a comparison of the bases (their canonical names may differ); 2 or 3 is not.
    let code = bin()
        .args([
            "dns",
            "--resolv-conf",
            &resolv,
            "--zone",
            &zone,
            "--name",
            "api.example.com",
            "--type",
            "a",
            "--matrix",
            "tests/fixtures/small.toml",
            "--format",
            "json",
            "--results-dir",
        ])
        .arg(&results)
        .current_dir(root())
        .output()
        .unwrap()
        .status
        .code();
    assert!(matches!(code, Some(0 | 1)), "{code:?}");
    let r = report(&results);
    assert_no_leftovers(&r);
    let sections = r["resolver"].as_array().unwrap();
    assert_eq!(sections.len(), 2);
    for s in sections {
        let obs = &s["checks"]["dns.replay"];
        assert_eq!(obs["status"], "ok", "{}: {}", s["base"], obs["message"]);
        assert_eq!(obs["value"]["result"]["addresses"], serde_json::json!(["203.0.113.10"]), "{}", s["base"]);
        assert!(!obs["value"]["queries"].as_array().unwrap().is_empty(), "{}: no query traced", s["base"]);
    }
}

// 9. Configuration errors are usage errors.

#[test]
fn a_ca_bundle_that_is_not_text_and_a_results_dir_that_is_a_file_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let ca = write(d.path(), "ca.pem", b"-----BEGIN CERTIFICATE-----\n\xff\xfe\x00binary\n");
    offline()
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "--ca-bundle", &ca])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not UTF-8"));
    let file = write(d.path(), "results", "a file");
    for cmd in [vec!["gate", "six"], vec!["run"], vec!["repro", "tests/fixtures/repro/deep_json_thread.py"]] {
        offline()
            .args(&cmd)
            .args(["--matrix", "tests/fixtures/small.toml", "--results-dir", &file])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is a file, not a directory"));
    }
}

// 10. Positions, names, BOMs, units and outcomes.

#[test]
fn errors_point_at_the_right_place_and_name_what_is_wrong() {
    let d = tempfile::tempdir().unwrap();
    let bin_matrix = write(d.path(), "bin.toml", b"[[base]]\nname = \"a\"\nimage = \"x\xff\"\n");
    offline()
        .args(["run", "--matrix", &bin_matrix])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{bin_matrix}:3:11: failed to read the matrix: not UTF-8")));
    let deep = write(d.path(), "deep.toml", format!("{BASES}{}[{}]\n", "# c\n".repeat(7), vec!["a"; 300].join(".")));
    offline()
        .args(["run", "--matrix", &deep])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{deep}:15:1: recursion limit")));
    let dup = write(d.path(), "dup.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\nname = \"b\"\n");
    offline()
        .args(["run", "--matrix", &dup])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{dup}:4:1: duplicate key `name`")));
    let twice = write(d.path(), "twice.txt", "# deps\nsix\nmsgpack\nSix==1.17.0\n");
    offline()
        .args(["gate", "-r", &twice, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{twice}:4: `six` is named twice (first at {twice}:2)")));
    let latin1 = write(d.path(), "latin1.txt", b"six\nmsgpack\ncaf\xe9==1\n");
    offline()
        .args(["gate", "-r", &latin1, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{latin1}:3:4: cannot read the requirements file: not UTF-8")));
    let units = write(
        d.path(),
        "units.toml",
        format!("[policy]\nbuild_timeout = \"1m1m\"\n{BASES}\n[[dependency]]\nrequirement = \"six\"\n"),
    );
    offline()
        .args(["run", "--matrix", &units])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{units}:2:17: `build_timeout`: invalid duration `1m1m`")));
    offline()
        .args([
            "repro",
            "tests/fixtures/repro/deep_json_thread.py",
            "--timeout",
            "1m1m",
            "--matrix",
            "tests/fixtures/small.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--timeout"));
}

#[test]
fn a_byte_order_mark_is_accepted_in_matrices_and_requirement_files() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let m = write(d.path(), "bom.toml", format!("\u{feff}{BASES}"));
    let reqs = write(d.path(), "bom.txt", "\u{feff}six==1.17.0\n");
    let results = d.path().join("results");
    in_results(&results, &["gate", "-r", &reqs, "--matrix", &m, "--ca-bundle", &ca_bundle()]).code(0);
    let r = report(&results);
    assert_eq!(job(&r, "bom[musl]")["outcome"], "installed");
    assert_no_leftovers(&r);
}

#[test]
fn a_marker_that_excludes_every_base_is_not_applicable_and_a_configuration_error_not_a_pass() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let a = in_results(
        d.path(),
        &[
            "gate",
            "six==1.17.0; sys_platform == 'win32'",
            "--matrix",
            "tests/fixtures/small.toml",
            "--ca-bundle",
            &ca_bundle(),
        ],
    )
    .code(2);
    let table = stdout_of(&a);
    assert!(table.contains("not applicable") && !table.contains(" pass "), "{table}");
    assert!(table.contains("sys_platform"), "the outcome names the marker: {table}");
    let r = report(d.path());
    for id in ["six[glibc]", "six[musl]"] {
        let j = job(&r, id);
        assert_eq!(j["outcome"], "not-applicable", "{j}");
        assert!(j["error"].as_str().unwrap().contains("Ignoring six: markers"), "{j}");
        assert!(j["distributions"].as_array().unwrap().is_empty());
    }
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r:#}");
    assert_no_leftovers(&r);
}

// Requirement files that reach outside their folder, and inputs that are not regular files.

#[test]
fn requirement_includes_outside_the_files_folder_are_refused_without_echoing_secrets() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI\n");
    std::fs::create_dir(d.path().join("app")).unwrap();
    std::os::unix::fs::symlink(d.path().join(".env"), d.path().join("app/base.txt")).unwrap();
    let reqs = write(&d.path().join("app"), "requirements.txt", "six\n-r ../.env\n-c base.txt\n-r /etc/shadow\n");
    let a = offline().args(["gate", "-r", &reqs, "--matrix", "tests/fixtures/small.toml"]).assert().code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains("requirements.txt:2: `-r ../.env`: ") && err.contains("outside the requirements file's directory"),
        "{err}"
    );
    assert!(
        err.contains("requirements.txt:3: `-c base.txt`: ") && err.contains("requirements.txt:4: `-r /etc/shadow`: "),
        "{err}"
    );
    assert!(!err.contains("wJalr"), "{err}");
    // The same file named on the command line is the user's choice: read, and still not echoed.
    let a = offline()
        .args(["gate", "-r", &d.path().join(".env").display().to_string(), "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2);
    let err = stderr_of(&a);
    assert!(err.contains(".env:1: not a PEP 508 requirement") && !err.contains("wJalr"), "{err}");
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn reports_and_includes_that_are_fifos_devices_or_huge_are_refused_at_once() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("report.json");
    mkfifo(&fifo);
    let fifo = fifo.display().to_string();
    let huge = d.path().join("huge.json");
    std::fs::File::create(&huge).unwrap().set_len(1 << 40).unwrap();
    let huge = huge.display().to_string();
    for (args, says) in [
        (vec!["report", "diff", &fifo, &fifo], "a FIFO, not a regular file"),
        (vec!["report", "diff", "/dev/zero", "/dev/zero"], "a character device, not a regular file"),
        (vec!["report", "merge", &huge], "larger than the limit of 256 MiB"),
        (vec!["run", "--matrix", "tests/fixtures/small.toml", "--baseline", &fifo], "a FIFO, not a regular file"),
    ] {
        let mut c = offline();
        c.args(&args).timeout(Duration::from_secs(20));
        let a = c.assert().code(2);
        assert!(stderr_of(&a).contains(says), "{args:?}: {}", stderr_of(&a));
    }
    write(d.path(), "requirements.txt", "six\n-r fifo.txt\n");
    mkfifo(&d.path().join("fifo.txt"));
    let a = offline()
        .args([
            "gate",
            "-r",
            &d.path().join("requirements.txt").display().to_string(),
            "--matrix",
            "tests/fixtures/small.toml",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2);
    assert!(stderr_of(&a).contains("fifo.txt:1:1: cannot read the requirements file: a FIFO"), "{}", stderr_of(&a));
}

#[test]
fn a_report_whose_schema_version_has_the_wrong_type_is_named_so() {
    let d = tempfile::tempdir().unwrap();
    for v in ["\"2\"", "-1"] {
        let p = write(d.path(), "r.json", format!("{{\"schema_version\": {v}}}"));
        let a = offline().args(["report", "diff", &p, &p]).assert().code(2);
        assert!(stderr_of(&a).contains("has a schema_version of the wrong type"), "{v}: {}", stderr_of(&a));
    }
}

#[test]
fn a_results_directory_in_use_by_another_run_is_refused() {
    use std::os::unix::io::AsRawFd;
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let results = d.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(results.join(".muslcheck.lock"))
        .unwrap();
    std::fs::write(results.join(".muslcheck.lock"), "run 1700000000-0ther000 (pid 4242)\n").unwrap();
    // SAFETY: a valid, open descriptor.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let a = bin()
        .current_dir(root())
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "--results-dir"])
        .arg(&results)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let err = stderr_of(&a);
    assert!(err.contains("is in use by run 1700000000-0ther000 (pid 4242)"), "{err}");
    assert!(!results.join("report.json").exists(), "the other run's directory was written");
    drop(held);
}
