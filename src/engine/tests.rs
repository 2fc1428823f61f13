//! The engine module against the real engine: sandboxing observed from inside, OOM, time-outs,
//! bounded output, labels and removal. (These need a running engine and the test-bed bases, like
//! the integration tests; scripts/test.sh provides both.)

use std::time::Duration;

use super::*;

const MUSL: &str = "127.0.0.1:5000/muslcheck-testbed/python:3.13-musl";
const GLIBC: &str = "127.0.0.1:5000/muslcheck-testbed/python:3.13-glibc";

async fn engine() -> Engine {
    Engine::connect(&format!("enginetest-{}", uuid::Uuid::new_v4().simple()))
        .await
        .expect("a running Docker engine (run scripts/test.sh)")
}

fn py(image: &str, code: &str) -> RunSpec {
    let mut s = RunSpec::new(image, vec!["python3".into(), "-c".into(), code.into()], "test");
    s.user = Some("1000:1000".into());
    s.timeout = Duration::from_secs(60);
    s
}

async fn assert_nothing_left(e: &Engine) {
    let left = e.labelled(Some(&e.run_id.clone()), false).await.unwrap();
    assert!(left.containers.is_empty() && left.networks.is_empty(), "{left:?}");
}

#[tokio::test]
async fn probe_containers_are_non_root_read_only_and_offline_observed_from_inside() {
    let e = engine().await;
    let code = r#"
import os, socket, json
r = {"uid": os.getuid(), "euid": os.geteuid()}
try:
    open("/usr/evil", "w"); r["root_writable"] = True
except OSError as x:
    r["root_writable"] = False; r["root_errno"] = x.errno
open("/tmp/ok", "w").write("x"); r["tmp_writable"] = True
try:
    socket.create_connection(("10.255.255.53", 53), timeout=3); r["network"] = True
except OSError as x:
    r["network"] = False; r["net_error"] = str(x)
r["ifaces"] = sorted(n for _, n in socket.if_nameindex())
r["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
r["nnp"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0]
print(json.dumps(r))
"#;
    for image in [MUSL, GLIBC] {
        let out = e.run(&py(image, code)).await.unwrap();
        assert_eq!(out.exit_code, Some(0), "{image}: {}", out.stderr);
        let r: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        assert_eq!(r["uid"], 1000, "{image} {r}");
        assert_eq!(r["root_writable"], false, "{image} {r}");
        assert_eq!(r["root_errno"], 30, "EROFS expected: {image} {r}");
        assert_eq!(r["tmp_writable"], true);
        assert_eq!(r["network"], false, "{image} {r}");
        assert_eq!(r["ifaces"], serde_json::json!(["lo"]), "{image} {r}");
        assert_eq!(r["caps"], "0000000000000000", "{image} {r}");
        assert_eq!(r["nnp"], "1", "{image} {r}");
    }
    assert_nothing_left(&e).await;
}

#[tokio::test]
async fn memory_limit_is_recorded_as_oom_not_an_error() {
    let e = engine().await;
    let mut spec = py(MUSL, "x = bytearray(512 * 1024 * 1024)\nx[::4096] = b'y' * len(x[::4096])\nprint('survived')");
    spec.sandbox.memory_bytes = Some(128 << 20);
    let out = e.run(&spec).await.unwrap();
    assert!(out.oom_killed, "{out:?}");
    assert_ne!(out.exit_code, Some(0));
    assert!(!out.stdout.contains("survived"));
    assert_nothing_left(&e).await;
}

#[tokio::test]
async fn a_container_past_its_time_limit_is_killed_and_says_so() {
    let e = engine().await;
    let mut spec = py(GLIBC, "import time\nprint('started', flush=True)\ntime.sleep(600)");
    spec.timeout = Duration::from_secs(3);
    let start = std::time::Instant::now();
    let out = e.run(&spec).await.unwrap();
    assert!(out.timed_out);
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
    assert!(out.stdout.contains("started"));
    assert_nothing_left(&e).await;
}

#[tokio::test]
async fn gigabytes_of_output_are_cut_at_the_limit_and_the_container_stopped() {
    let e = engine().await;
    let mut spec = py(MUSL, "import sys\nwhile True: sys.stdout.write('x' * 65536)");
    spec.max_output = 4 << 20;
    let start = std::time::Instant::now();
    let out = e.run(&spec).await.unwrap();
    assert!(out.output_truncated);
    assert!(out.stdout.len() <= 4 << 20);
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_nothing_left(&e).await;
}

#[tokio::test]
async fn a_probe_printing_garbage_is_an_outcome() {
    let e = engine().await;
    let garbage = "import sys\nsys.stdout.write('not json\\n{\"schema\": 1, \"check\": \"x\", \"sta\\n')\nsys.stdout.buffer.write(bytes(range(256)) + b'\\n')\nemit('libc', value=detect_libc())\n";
    let run = crate::probe::run(
        &e,
        &crate::probe::ProbeSpec {
            image: MUSL,
            python: "python3",
            probe: garbage,
            config: serde_json::json!({}),
            sandbox: Sandbox::strict(),
            user: Some("1000:1000"),
            timeout: Duration::from_secs(60),
            kind: "test",
            keep: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(run.records.len(), 1, "{:?}", run.records);
    assert_eq!(crate::probe::records::libc_of(&run.records).unwrap().family, "musl");
    assert!(run.protocol_errors.len() >= 3, "{:?}", run.protocol_errors);
    assert_nothing_left(&e).await;
}

#[tokio::test]
async fn labels_carry_the_run_and_cleanup_removes_by_label() {
    let e = engine().await;
    let mut spec = py(GLIBC, "print('x')");
    spec.keep = true;
    let out = e.run(&spec).await.unwrap();
    let id = out.container.unwrap();
    let found = e.labelled(Some(&e.run_id.clone()), false).await.unwrap();
    assert_eq!(found.containers.len(), 1);
    assert!(found.containers[0].starts_with(&id[..12]) || id.starts_with(&found.containers[0][..12]));
    let report = e.cleanup_run().await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_nothing_left(&e).await;
}

#[tokio::test]
async fn a_full_disk_is_seen_by_pip_and_named_as_such() {
    // A 2 MiB tmpfs as pip's install target: it runs out of room exactly as on a full disk.
    let e = engine().await;
    let code = "import glob, subprocess, sys\n\
                wheels = glob.glob('/usr/share/python-wheels/pip-*.whl')\n\
                sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--no-index', '--no-deps', '--target', '/small'] + wheels))";
    let mut spec = RunSpec::new(GLIBC, vec!["python3".into(), "-c".into(), code.into()], "test");
    spec.sandbox.tmpfs.push("/small".into());
    spec.tmpfs_size = Some("2m".into());
    spec.timeout = Duration::from_secs(120);
    let out = e.run(&spec).await.unwrap();
    let log = format!("{}{}", out.stdout, out.stderr);
    assert_ne!(out.exit_code, Some(0), "{log}");
    assert!(crate::install::pip::disk_full(&log).is_some(), "{log}");
    assert_nothing_left(&e).await;
}
