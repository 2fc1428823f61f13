//! Run time between bases, on the test-bed bases: an allocation-heavy smoke script (four
//! threads churning 4-16 KB buffers) is several times slower on the musl base, beyond the spread
//! of its repeated runs and beyond what the control says of the interpreters, and is an
//! informational `runtime-differs` finding with the medians and spreads; a pure-arithmetic one
//! takes about as long on both, and a CPU-bound pure-Python one is as much slower as the
//! control: neither is a finding.

use std::path::Path;
use std::sync::Mutex;

use crate::common::*;

/// Gates a small local wheel with a smoke script, timed with the matrix's defaults (5 runs,
/// ratio 1.5); the report and the table the gate printed.
fn gate_with_smoke(dir: &Path, smoke: &str) -> (serde_json::Value, String) {
    // One timed gate at a time: each must not be the other's load.
    static TIMED: Mutex<()> = Mutex::new(());
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    publish_wheel("mcruntime", "1.0", &[("mcruntime/__init__.py", "VALUE = 42\n")], &["mcruntime"]);
    let mut args: Vec<String> = vec![
        "gate".into(),
        "mcruntime==1.0".into(),
        "--smoke".into(),
        smoke.into(),
        "--matrix".into(),
        "tests/fixtures/small.toml".into(),
        // The full tables: each job's timing is in them.
        "--details".into(),
        // Both bases probed at the same time: their runs are timed under the same load.
        "--jobs".into(),
        "2".into(),
    ];
    args.extend(local_index_with_ca());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let table = stdout_of(&in_results(dir, &refs).code(0));
    (report(dir), table)
}

fn runtime_of<'a>(r: &'a serde_json::Value, base: &str) -> &'a serde_json::Value {
    &job(r, &format!("mcruntime[{base}]"))["probe"]["smoke_runtime"]
}

/// Every base timed its smoke script after the warm-up: five times, or at least three when a
/// loaded machine made the runs so slow that the budget stopped them (then it says so).
fn assert_timed(r: &serde_json::Value) {
    for base in ["glibc", "musl"] {
        let t = runtime_of(r, base);
        assert_eq!(t["requested"], 5, "{t:#}");
        let n = t["runs_secs"].as_array().map(Vec::len).unwrap_or(0);
        assert!(n == 5 || (n >= 3 && t["stopped"].as_str().is_some_and(|s| s.contains("budget"))), "{base}: {t:#}");
        let (lo, m, hi) =
            (t["min_secs"].as_f64().unwrap(), t["median_secs"].as_f64().unwrap(), t["max_secs"].as_f64().unwrap());
        assert!(0.0 < lo && lo <= m && m <= hi, "{base}: {t:#}");
        assert!(t["warmup_secs"].as_f64().unwrap() > 0.0, "{base}: {t:#}");
        // The control ran before each counted smoke run, pinned to the same CPU.
        let c = &t["control"];
        assert_eq!(c["runs_secs"].as_array().map(Vec::len), Some(n), "{base}: {t:#}");
        assert!(c["median_secs"].as_f64().is_some_and(|m| m > 0.0) && c["stopped"].is_null(), "{base}: {t:#}");
        // Pinned to the CPU its probe slot names: the slot-th from the highest.
        let (cpu, slot) = (t["cpu"].as_u64().expect("a CPU"), t["slot"].as_u64().expect("a probe slot"));
        assert!(slot < 2, "at most --jobs probes at once: {base}: {t:#}");
        let n = engine_cpus();
        assert_eq!(cpu, n - 1 - slot % n, "{base}, {n} CPUs: {t:#}");
    }
}

/// The engine's CPUs; a container of the test bed may use them all.
fn engine_cpus() -> u64 {
    let o = std::process::Command::new("docker").args(["info", "--format", "{{.NCPU}}"]).output().expect("docker info");
    String::from_utf8_lossy(&o.stdout).trim().parse().expect("the engine's CPU count")
}

#[test]
fn an_allocation_heavy_smoke_test_is_slower_on_musl_and_a_runtime_finding() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let (r, table) = gate_with_smoke(dir.path(), "tests/fixtures/smoke/alloc-threads.py");
    assert_timed(&r);
    let (glibc, musl) = (runtime_of(&r, "glibc"), runtime_of(&r, "musl"));
    eprintln!("alloc-threads: glibc {glibc}, musl {musl}");
    let f = findings_of(&r, "runtime-differs");
    assert_eq!(f.len(), 1, "glibc {glibc:#}\nmusl {musl:#}\n{:#}", r["findings"]);
    assert_eq!(f[0]["id"], "mcruntime/runtime-differs/smoke");
    assert_eq!(f[0]["failing"], serde_json::json!(["musl"]));
    // Informational: the default policy does not block on run time, and the gate passes.
    assert_eq!(f[0]["severity"], "info");
    assert!(r["verdicts"].as_array().unwrap().iter().all(|v| v["pass"] == true), "{r:#}");
    for base in ["glibc", "musl"] {
        let e = f[0]["evidence"][base].as_str().unwrap();
        let n = runtime_of(&r, base)["runs_secs"].as_array().unwrap().len();
        assert!(e.starts_with("median ") && e.contains(&format!(", {n} runs); control median ")), "{base}: {e}");
    }
    let summary = f[0]["summary"].as_str().unwrap();
    assert!(summary.contains("as long on musl as on glibc, where the control takes "), "{}", f[0]);
    // The table shows each job's timing and the finding.
    assert!(table.contains("runtime-differs") && table.contains("run time median"), "{table}");
    assert_no_leftovers(&r);
}

#[test]
fn a_pure_arithmetic_smoke_test_takes_as_long_on_both_bases_and_is_no_finding() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = gate_with_smoke(dir.path(), "tests/fixtures/smoke/arithmetic.py");
    assert_timed(&r);
    eprintln!("arithmetic: glibc {}, musl {}", runtime_of(&r, "glibc"), runtime_of(&r, "musl"));
    assert!(findings_of(&r, "runtime-differs").is_empty(), "{:#}", r["findings"]);
    assert_no_leftovers(&r);
}

#[test]
fn a_cpu_bound_pure_python_smoke_test_is_as_much_slower_as_the_control_and_no_finding() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = gate_with_smoke(dir.path(), "tests/fixtures/smoke/pure-python.py");
    assert_timed(&r);
    let (glibc, musl) = (runtime_of(&r, "glibc"), runtime_of(&r, "musl"));
    eprintln!("pure-python: glibc {glibc}, musl {musl}");
    assert!(findings_of(&r, "runtime-differs").is_empty(), "glibc {glibc:#}\nmusl {musl:#}\n{:#}", r["findings"]);
    assert_no_leftovers(&r);
}

#[test]
fn the_timed_runs_stop_at_their_budget_and_too_few_are_not_compared() {
    require_engine();
    publish_wheel("mcruntime", "1.0", &[("mcruntime/__init__.py", "VALUE = 42\n")], &["mcruntime"]);
    let d = tempfile::tempdir().unwrap();
    // A quarter of a 16 s probe timeout: 4 s for the repetitions of a 1.5 s script, so two
    // runs fit and a third would not. Sleeping takes as long under load as without.
    let matrix = d.path().join("m.toml");
    std::fs::write(
        &matrix,
        format!(
            "[policy]\nprobe_timeout = \"16s\"\nruntime_runs = 5\n\n[[base]]\nname = \"glibc\"\nimage = \"{GLIBC}\"\n\n\
             [[base]]\nname = \"musl\"\nimage = \"{MUSL}\"\n"
        ),
    )
    .unwrap();
    let smoke = d.path().join("sleep.py");
    std::fs::write(&smoke, "import time\nimport mcruntime\ntime.sleep(1.5)\n").unwrap();
    let results = d.path().join("results");
    let mut args: Vec<String> = vec![
        "gate".into(),
        "mcruntime==1.0".into(),
        "--smoke".into(),
        smoke.display().to_string(),
        "--matrix".into(),
        matrix.display().to_string(),
        "--details".into(),
    ];
    args.extend(local_index_with_ca());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let table = stdout_of(&in_results(&results, &refs).code(0));
    let r = report(&results);
    for base in ["glibc", "musl"] {
        let p = &job(&r, &format!("mcruntime[{base}]"))["probe"];
        assert_eq!(p["completion"]["status"], "complete", "the probe kept within its timeout: {p:#}");
        let t = &p["smoke_runtime"];
        assert_eq!((t["requested"].as_u64(), t["budget_secs"].as_f64()), (Some(5), Some(4.0)), "{t:#}");
        assert_eq!(t["runs_secs"].as_array().map(Vec::len), Some(2), "{base}: {t:#}");
        assert!(t["stopped"].as_str().unwrap().contains("would not fit in the 4 s budget"), "{t:#}");
    }
    assert!(findings_of(&r, "runtime-differs").is_empty(), "{:#}", r["findings"]);
    assert!(table.contains("run time not compared"), "{table}");
    assert_no_leftovers(&r);
}

#[test]
fn probes_at_once_time_their_runs_on_cpus_of_their_own() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    // Both bases' jobs build at once, then their probes spend some 8 s each timing a smoke
    // script that sleeps (as long under load as without): they overlap, so they hold different
    // probe slots, and where the engine has two CPUs or more, their timed runs were pinned to
    // different ones. Before the slots, both were pinned to the lowest.
    let (r, _) = gate_with_smoke(dir.path(), "tests/fixtures/smoke/sleep.py");
    assert_timed(&r);
    let (glibc, musl) = (runtime_of(&r, "glibc"), runtime_of(&r, "musl"));
    let mut slots = [glibc["slot"].as_u64(), musl["slot"].as_u64()];
    slots.sort();
    assert_eq!(slots, [Some(0), Some(1)], "glibc {glibc:#}\nmusl {musl:#}");
    if engine_cpus() >= 2 {
        assert_ne!(glibc["cpu"], musl["cpu"], "glibc {glibc:#}\nmusl {musl:#}");
    }
    assert!(findings_of(&r, "runtime-differs").is_empty(), "{:#}", r["findings"]);
    assert_no_leftovers(&r);
}
