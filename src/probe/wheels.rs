//! The wheel probe's records as typed observations of one job image: what each import and
//! path load did, which distribution each module belongs to, the linkage of every extension
//! module and vendored library, both smoke runs, the timed repetitions of the main-thread one,
//! and whether the probe finished. A record whose
//! value does not have the expected shape is a protocol error, never skipped silently.

use serde::Deserialize;

use super::records::{libc_of, Record};
use super::{checks, ProbeRun};
use crate::model::{Completion, ControlRuntime, Extension, SmokeRuntime, WheelProbe};

/// `import:<module>` and `load:<path>` values.
#[derive(Deserialize)]
struct ImportValue {
    dist: String,
    kind: String,
}

/// A native file of a distribution, as the probe read its ELF headers.
#[derive(Deserialize)]
struct NativeFile {
    path: String,
    #[serde(default)]
    needed: Vec<Option<String>>,
    #[serde(default)]
    glibc_linked: bool,
    #[serde(default)]
    foreign_libc: Option<bool>,
    #[serde(default)]
    relr: bool,
    #[serde(default)]
    glibc_symbol_versions: Vec<String>,
    #[serde(default)]
    missing_needed: Vec<String>,
}

/// `dist:<name>` values.
#[derive(Deserialize)]
struct DistValue {
    #[serde(default)]
    extensions: Vec<NativeFile>,
    #[serde(default)]
    vendored_linkage: Vec<NativeFile>,
    #[serde(default)]
    wheel_tags: Vec<String>,
    #[serde(default)]
    requested: bool,
}

/// Smoke values (the output tails and, in a worker thread, the stack it had).
#[derive(Deserialize, Default)]
struct SmokeValue {
    #[serde(default)]
    stdout_tail: String,
    #[serde(default)]
    stderr_tail: String,
    #[serde(default)]
    thread_stack_bytes: Option<u64>,
}

/// `smoke.runtime` values: the counted runs in milliseconds (the probe's own median and spread
/// are for a reader of the raw records; they are computed again here from the runs).
#[derive(Deserialize)]
struct RuntimeValue {
    #[serde(default)]
    requested: u32,
    #[serde(default)]
    runs_ms: Vec<f64>,
    #[serde(default)]
    warmup_ms: f64,
    #[serde(default)]
    budget_s: f64,
    #[serde(default)]
    stopped: Option<String>,
    /// The control's counted runs (absent from probes older than the control).
    #[serde(default)]
    control_runs_ms: Option<Vec<f64>>,
    #[serde(default)]
    control_warmup_ms: f64,
    #[serde(default)]
    control_stopped: Option<String>,
    #[serde(default)]
    cpu: Option<u32>,
    #[serde(default)]
    slot: Option<u32>,
}

/// Milliseconds as seconds, to the microsecond the probe measured (no binary noise in reports).
fn secs(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1e6
}

fn runtime(r: &Record, v: RuntimeValue, errors: &mut Vec<String>) -> Option<SmokeRuntime> {
    let control = v.control_runs_ms.as_deref().unwrap_or_default();
    if v.runs_ms.iter().chain(control).any(|t| !t.is_finite() || *t < 0.0) {
        errors.push(format!("check {}: a run time that is not a duration", r.check));
        return None;
    }
    let ok = r.status == super::records::Status::Ok;
    let mut t =
        SmokeRuntime::from_runs(v.requested, if ok { v.runs_ms.iter().map(|ms| secs(*ms)).collect() } else { vec![] });
    t.warmup_secs = secs(v.warmup_ms);
    t.budget_secs = v.budget_s;
    t.cpu = v.cpu;
    t.slot = v.slot;
    if ok {
        if let Some(runs) = v.control_runs_ms {
            let mut c = ControlRuntime::from_runs(runs.iter().map(|ms| secs(*ms)).collect());
            c.warmup_secs = secs(v.control_warmup_ms);
            c.stopped = v.control_stopped;
            t.control = Some(c);
        }
    }
    // A skipped timing says why in its message.
    t.stopped = if ok { v.stopped } else { r.message.clone().or(v.stopped) };
    Some(t)
}

fn value<T: for<'de> Deserialize<'de>>(r: &Record, errors: &mut Vec<String>) -> Option<T> {
    match serde_json::from_value::<T>(r.value.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(format!("check {}: unexpected value ({e})", r.check));
            None
        }
    }
}

fn smoke_output(v: &SmokeValue) -> Option<String> {
    let out = [&v.stdout_tail, &v.stderr_tail]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    (!out.is_empty()).then(|| crate::text::tail(&out, 2000))
}

fn native(dist: &str, kind: &str, f: NativeFile) -> Extension {
    Extension {
        distribution: dist.to_string(),
        kind: kind.to_string(),
        path: f.path,
        needed: f.needed.into_iter().flatten().collect(),
        glibc_linked: f.glibc_linked,
        foreign_libc: f.foreign_libc.unwrap_or(false),
        relr: f.relr,
        glibc_symbol_versions: f.glibc_symbol_versions,
        missing_needed: f.missing_needed,
    }
}

/// Interprets the wheel probe's records.
pub fn wheel_probe(run: &ProbeRun) -> WheelProbe {
    let mut errors = run.protocol_errors.clone();
    let mut w = WheelProbe {
        libc: libc_of(&run.records),
        container: run.container.clone(),
        completion: run.completion.clone(),
        ..Default::default()
    };
    let mut shape_errors = vec![];
    for r in &run.records {
        if let Some(module) = r.check.strip_prefix(checks::IMPORT) {
            let Some(v) = value::<ImportValue>(r, &mut shape_errors) else { continue };
            w.imports.insert(module.to_string(), r.outcome());
            w.module_dist.insert(module.to_string(), v.dist);
            if v.kind == "top_level" {
                w.top_level.insert(module.to_string());
            }
        } else if let Some(path) = r.check.strip_prefix(checks::LOAD) {
            if value::<ImportValue>(r, &mut shape_errors).is_some() {
                w.loads.insert(path.to_string(), r.outcome());
            }
        } else if r.check == checks::SMOKE || r.check == checks::SMOKE_THREAD {
            let v =
                if r.value.is_null() { Some(SmokeValue::default()) } else { value::<SmokeValue>(r, &mut shape_errors) };
            let Some(v) = v else { continue };
            if r.check == checks::SMOKE {
                w.smoke = Some(r.outcome());
                w.smoke_output = smoke_output(&v);
            } else {
                w.smoke_thread = Some(r.outcome());
                w.smoke_thread_output = smoke_output(&v);
                w.thread_stack_bytes = v.thread_stack_bytes;
            }
        } else if r.check == checks::SMOKE_RUNTIME {
            // Without a smoke script there is nothing to time and nothing to say.
            if r.value.is_null() {
                continue;
            }
            let Some(v) = value::<RuntimeValue>(r, &mut shape_errors) else { continue };
            w.smoke_runtime = runtime(r, v, &mut shape_errors);
        } else if let Some(dist) = r.check.strip_prefix(checks::DIST) {
            if r.status != super::records::Status::Ok {
                w.dist_errors.insert(dist.to_string(), r.message.clone().unwrap_or_else(|| "unreadable".into()));
                continue;
            }
            let Some(v) = value::<DistValue>(r, &mut shape_errors) else { continue };
            w.wheel_tags.insert(dist.to_string(), v.wheel_tags);
            if v.requested {
                w.requested.insert(dist.to_string());
            }
            w.extensions.extend(v.extensions.into_iter().map(|f| native(dist, "extension", f)));
            w.extensions.extend(v.vendored_linkage.into_iter().map(|f| native(dist, "vendored", f)));
        }
    }
    if !shape_errors.is_empty() && w.completion.is_complete() {
        w.completion = Completion::Protocol { errors: shape_errors.clone() };
    }
    errors.extend(shape_errors);
    w.protocol_errors = errors;
    w
}

/// The version of every distribution the wheel probe read (`dist:<name>` records), by name.
pub fn versions_of(records: &[Record]) -> std::collections::BTreeMap<String, String> {
    records
        .iter()
        .filter_map(|r| {
            let name = r.check.strip_prefix(checks::DIST)?;
            let version = r.value.get("version").and_then(|v| v.as_str()).unwrap_or("");
            Some((name.to_string(), version.to_string()))
        })
        .collect()
}

/// The top-level modules the wheel probe found for a distribution.
pub fn top_level_of(records: &[Record], dist: &str) -> Vec<String> {
    records
        .iter()
        .find(|r| r.check == format!("{}{dist}", checks::DIST))
        .and_then(|r| r.value.get("top_level"))
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckOutcome, ContainerOutcome};
    use crate::probe::records::{completion, parse_output};

    fn probe(out: &str) -> WheelProbe {
        let parsed = parse_output(out);
        let container = ContainerOutcome { exit_code: Some(0), ..Default::default() };
        let completion = completion(&container, "", 60, &parsed);
        wheel_probe(&ProbeRun {
            records: parsed.records,
            protocol_errors: parsed.protocol_errors,
            container,
            completion,
        })
    }

    #[test]
    fn loads_dists_vendored_linkage_and_both_smokes_are_kept() {
        let w = probe(concat!(
            r#"{"schema":1,"check":"dist:pkg","status":"ok","value":{"top_level":["pkg"],"extensions":[{"path":"pkg/_c.so","needed":["libc.so.6"],"glibc_linked":true,"foreign_libc":true}],"vendored_linkage":[{"path":"pkg.libs/libz.so","needed":["libc.so.6",null],"glibc_linked":true,"foreign_libc":true}]}}"#,
            "\n",
            r#"{"schema":1,"check":"dist:broken","status":"error","message":"KeyError: Name"}"#,
            "\n",
            r#"{"schema":1,"check":"import:pkg","status":"ok","value":{"dist":"pkg","kind":"top_level"}}"#,
            "\n",
            r#"{"schema":1,"check":"load:pkg/_c.cpython-313-x86_64-linux-gnu.so","status":"crash","value":{"dist":"pkg","kind":"extension","signal":11,"signal_name":"SIGSEGV"}}"#,
            "\n",
            r#"{"schema":1,"check":"smoke","status":"ok","value":{"stdout_tail":"fine\n"}}"#,
            "\n",
            r#"{"schema":1,"check":"smoke.thread","status":"crash","value":{"signal":11,"signal_name":"SIGSEGV","thread_stack_bytes":1048576}}"#,
            "\n",
            r#"{"schema":1,"check":"probe.end","status":"ok","value":{"planned":6,"emitted":6,"protected":true}}"#,
            "\n",
        ));
        assert!(w.completion.is_complete(), "{:?}", w.completion);
        assert_eq!(w.extensions.len(), 2);
        assert_eq!(w.extensions[1].kind, "vendored");
        assert!(w.extensions[1].foreign_libc);
        assert_eq!(w.dist_errors["broken"], "KeyError: Name");
        assert!(matches!(w.loads["pkg/_c.cpython-313-x86_64-linux-gnu.so"], CheckOutcome::Crash { .. }));
        assert_eq!(w.module_dist["pkg"], "pkg");
        assert_eq!(w.smoke, Some(CheckOutcome::Ok));
        assert!(matches!(w.smoke_thread, Some(CheckOutcome::Crash { .. })));
        assert_eq!(w.thread_stack_bytes, Some(1 << 20));
    }

    #[test]
    fn the_timed_smoke_runs_are_kept_with_their_median_and_spread() {
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke","status":"ok","value":{}}"#,
            "\n",
            r#"{"schema":1,"check":"smoke.runtime","status":"ok","value":{"requested":5,"budget_s":45.0,"warmup_ms":300.0,"runs_ms":[210.0,200.0,230.0,220.0,210.0],"stopped":null,"median_ms":210.0,"min_ms":200.0,"max_ms":230.0}}"#,
            "\n",
            r#"{"schema":1,"check":"probe.end","status":"ok","value":{"planned":2,"emitted":2,"protected":true}}"#,
            "\n",
        ));
        assert!(w.completion.is_complete(), "{:?}", w.completion);
        let t = w.smoke_runtime.expect("timed");
        assert_eq!(t.runs_secs, vec![0.21, 0.2, 0.23, 0.22, 0.21]);
        assert_eq!((t.median_secs, t.min_secs, t.max_secs), (Some(0.21), Some(0.2), Some(0.23)));
        assert_eq!((t.requested, t.warmup_secs, t.budget_secs, t.stopped), (5, 0.3, 45.0, None));
        assert_eq!((t.control, t.cpu), (None, None), "a probe older than the control has none");
        // The control's runs, interleaved with the smoke runs, are kept beside them.
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke","status":"ok","value":{}}"#,
            "\n",
            r#"{"schema":1,"check":"smoke.runtime","status":"ok","value":{"requested":3,"runs_ms":[210.0,200.0,230.0],"cpu":0,"slot":1,"control_warmup_ms":160.0,"control_runs_ms":[150.0,140.0,170.0],"control_stopped":null}}"#,
            "\n",
        ));
        let t = w.smoke_runtime.expect("timed");
        assert_eq!((t.cpu, t.slot), (Some(0), Some(1)));
        let c = t.control.as_ref().expect("the control");
        assert_eq!((c.runs_secs.clone(), c.median_secs, c.warmup_secs), (vec![0.15, 0.14, 0.17], Some(0.15), 0.16));
        assert_eq!(t.describe(), "median 0.21 s (0.20–0.23 s, 3 runs); control median 0.15 s (0.14–0.17 s)");
        // A control time that is not a duration is a protocol error like a smoke one.
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke.runtime","status":"ok","value":{"requested":3,"runs_ms":[1.0],"control_runs_ms":[-1.0]}}"#,
            "\n",
        ));
        assert_eq!(w.smoke_runtime, None);
    }

    #[test]
    fn a_timing_stopped_early_or_skipped_says_why_and_no_smoke_script_is_no_timing() {
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke.runtime","status":"ok","value":{"requested":5,"runs_ms":[1900.0],"stopped":"run 3 did not pass (crash: killed by SIGSEGV)"},"message":"run 3 did not pass (crash: killed by SIGSEGV)"}"#,
            "\n",
        ));
        let t = w.smoke_runtime.expect("timed");
        assert_eq!(t.runs_secs, vec![1.9]);
        assert_eq!(t.stopped.as_deref(), Some("run 3 did not pass (crash: killed by SIGSEGV)"));
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke.runtime","status":"skipped","value":{"requested":5,"warmup_ms":12.0},"message":"not timed: the first main-thread run did not pass (crash)"}"#,
            "\n",
        ));
        let t = w.smoke_runtime.expect("recorded");
        assert!(t.runs_secs.is_empty() && t.median_secs.is_none());
        assert_eq!(t.stopped.as_deref(), Some("not timed: the first main-thread run did not pass (crash)"));
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke.runtime","status":"skipped","message":"no smoke script configured"}"#,
            "\n",
        ));
        assert_eq!(w.smoke_runtime, None);
        // A run time that is not a duration is a protocol error, never a timing.
        let w = probe(concat!(
            r#"{"schema":1,"check":"smoke.runtime","status":"ok","value":{"requested":5,"runs_ms":[-3.0]}}"#,
            "\n",
            r#"{"schema":1,"check":"probe.end","status":"ok","value":{"planned":1,"emitted":1,"protected":true}}"#,
            "\n",
        ));
        assert_eq!(w.smoke_runtime, None);
        assert!(matches!(w.completion, Completion::Protocol { .. }), "{:?}", w.completion);
    }

    #[test]
    fn a_record_of_the_wrong_shape_breaks_the_protocol() {
        let w = probe(concat!(
            r#"{"schema":1,"check":"import:pkg","status":"ok","value":{"kind":"top_level"}}"#,
            "\n",
            r#"{"schema":1,"check":"probe.end","status":"ok","value":{"planned":1,"emitted":1,"protected":true}}"#,
            "\n",
        ));
        assert!(w.imports.is_empty());
        assert!(matches!(w.completion, Completion::Protocol { .. }), "{:?}", w.completion);
    }
}
