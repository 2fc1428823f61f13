//! Running probe programs in sandboxed containers and turning their JSON Lines into
//! observations. A probe that crashes, hangs, runs out of memory or prints garbage is an
//! outcome recorded here, never a harness error.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::engine::{Engine, EngineError, RunSpec, Sandbox};
use crate::probes;
use crate::report::model::{CheckOutcome, ContainerOutcome, Extension, Libc, Observation, WheelProbe};

/// The protocol schema this harness understands.
const SCHEMA: u64 = 1;

/// One parsed line of probe output.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Record {
    pub schema: u64,
    pub check: String,
    pub status: String,
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
}

/// A probe run: the records, and whatever was wrong with its output or its container.
#[derive(Debug, Clone, Default)]
pub struct ProbeRun {
    pub records: Vec<Record>,
    pub protocol_errors: Vec<String>,
    pub container: ContainerOutcome,
}

/// Parses probe stdout. Lines that are not schema-1 records are collected as protocol errors
/// (shortened), never panicked on.
pub fn parse_output(stdout: &str) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in stdout.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) if r.schema == SCHEMA => records.push(r),
            Ok(r) => errors.push(format!("line {}: unsupported probe schema {}", i + 1, r.schema)),
            Err(e) => {
                if errors.len() < 20 {
                    errors.push(format!("line {}: not a probe record ({e}): {}", i + 1, excerpt(line, 120)));
                }
            }
        }
    }
    (records, errors)
}

fn excerpt(s: &str, n: usize) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(n).collect();
    s
}

/// What a probe run needs.
pub struct ProbeSpec<'a> {
    pub image: &'a str,
    pub python: &'a str,
    pub probe: &'a str,
    pub config: serde_json::Value,
    pub sandbox: Sandbox,
    pub user: Option<&'a str>,
    pub timeout: Duration,
    pub kind: &'a str,
    /// Keep the stopped container (`--keep`), for debugging.
    pub keep: bool,
}

/// Runs a probe program in a container and parses what it printed.
pub async fn run(engine: &Engine, p: &ProbeSpec<'_>) -> Result<ProbeRun, EngineError> {
    run_with_files(engine, p, vec![]).await
}

/// [`run`], with files (directory, tar) put into the container before it starts: input too
/// large for a command-line argument (a DNS zone) goes this way. The root filesystem must be
/// writable for that (the strict sandbox's is not).
pub async fn run_with_files(engine: &Engine, p: &ProbeSpec<'_>, uploads: Vec<(String, Vec<u8>)>) -> Result<ProbeRun, EngineError> {
    let mut spec = RunSpec::new(
        p.image,
        vec![p.python.to_string(), "-c".into(), probes::program(p.probe), p.config.to_string()],
        p.kind,
    );
    spec.sandbox = p.sandbox.clone();
    spec.user = p.user.map(str::to_string);
    spec.timeout = p.timeout;
    spec.max_output = 16 << 20;
    spec.keep = p.keep;
    spec.uploads = uploads;
    spec.env = vec!["PYTHONDONTWRITEBYTECODE=1".into(), "PYTHONUNBUFFERED=1".into(), "HOME=/tmp".into()];
    let out = engine.run(&spec).await?;
    if let Some(id) = &out.container {
        eprintln!("kept probe container {} ({}): docker start -ai {id}   (or: docker commit {id} debug && docker run --rm -it --entrypoint sh debug)", &id[..12], p.kind);
    }
    let (records, mut protocol_errors) = parse_output(&out.stdout);
    let container = ContainerOutcome {
        exit_code: out.exit_code,
        oom_killed: out.oom_killed,
        timed_out: out.timed_out,
        output_truncated: out.output_truncated,
        secs: out.duration.as_secs_f64(),
    };
    if out.output_truncated {
        protocol_errors.push("probe output exceeded 16 MiB; the probe was stopped".into());
    }
    if out.timed_out {
        protocol_errors.push(format!("probe did not finish within {} s; it was stopped", p.timeout.as_secs()));
    } else if out.oom_killed {
        protocol_errors.push("probe was killed for exceeding its memory limit (OOM)".into());
    } else if out.exit_code != Some(0) {
        protocol_errors.push(format!(
            "probe exited with {}: {}",
            out.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "no status".into()),
            crate::build::tail(out.stderr.trim(), 300)
        ));
    }
    Ok(ProbeRun { records, protocol_errors, container })
}

impl Record {
    /// The check's outcome (for import and smoke checks run in a subprocess).
    pub fn outcome(&self) -> CheckOutcome {
        match self.status.as_str() {
            "ok" => CheckOutcome::Ok,
            "crash" => CheckOutcome::Crash {
                signal: self.value.get("signal").and_then(|v| v.as_i64()).unwrap_or(0),
                name: self.value.get("signal_name").and_then(|v| v.as_str()).unwrap_or("signal").to_string(),
            },
            "timeout" => CheckOutcome::Timeout,
            "skipped" => CheckOutcome::Skipped { message: self.message.clone().unwrap_or_default() },
            _ => CheckOutcome::Error { message: self.message.clone().unwrap_or_else(|| self.status.clone()) },
        }
    }

    pub fn observation(&self) -> Observation {
        Observation { status: self.status.clone(), value: self.value.clone(), message: self.message.clone(), duration_ms: self.duration_ms }
    }
}

/// The libc a probe reported in its `libc` check.
pub fn libc_of(records: &[Record]) -> Option<Libc> {
    let r = records.iter().find(|r| r.check == "libc")?;
    Some(Libc {
        family: r.value.get("family")?.as_str()?.to_string(),
        version: r.value.get("version").and_then(|v| v.as_str()).map(str::to_string),
    })
}

/// Observations keyed by check id (a repeated id keeps the last).
pub fn observations(records: &[Record]) -> BTreeMap<String, Observation> {
    records.iter().map(|r| (r.check.clone(), r.observation())).collect()
}

/// The top-level modules the wheel probe found for a distribution.
pub fn top_level_of(records: &[Record], dist: &str) -> Vec<String> {
    records
        .iter()
        .find(|r| r.check == format!("dist:{dist}"))
        .and_then(|r| r.value.get("top_level"))
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Interprets the wheel-loading probe's records.
pub fn wheel_probe(run: &ProbeRun) -> WheelProbe {
    let mut w = WheelProbe {
        libc: libc_of(&run.records),
        protocol_errors: run.protocol_errors.clone(),
        container: run.container.clone(),
        ..Default::default()
    };
    for r in &run.records {
        if let Some(module) = r.check.strip_prefix("import:") {
            w.imports.insert(module.to_string(), r.outcome());
            if r.value.get("kind").and_then(|k| k.as_str()) == Some("top_level") {
                w.top_level.insert(module.to_string());
            }
        } else if r.check == "smoke" {
            w.smoke = Some(r.outcome());
            let out = ["stdout_tail", "stderr_tail"]
                .iter()
                .filter_map(|k| r.value.get(*k).and_then(|v| v.as_str()))
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            w.smoke_output = (!out.is_empty()).then(|| crate::build::tail(&out, 2000));
        } else if let Some(dist) = r.check.strip_prefix("dist:") {
            for e in r.value.get("extensions").and_then(|v| v.as_array()).into_iter().flatten() {
                w.extensions.push(Extension {
                    distribution: dist.to_string(),
                    path: e.get("path").and_then(|v| v.as_str()).unwrap_or("").to_string(),
                    needed: e
                        .get("needed")
                        .and_then(|v| v.as_array())
                        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                    glibc_linked: e.get("glibc_linked").and_then(|v| v.as_bool()).unwrap_or(false),
                    foreign_libc: e.get("foreign_libc").and_then(|v| v.as_bool()).unwrap_or(false),
                });
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_truncation_and_binary_are_protocol_errors_not_panics() {
        let out = "{\"schema\":1,\"check\":\"libc\",\"status\":\"ok\",\"value\":{\"family\":\"musl\",\"version\":\"1.2.5\"}}\n\
                   hello world\n{\"schema\":1,\"check\":\"x\",\"sta\n\u{0}\u{1}\u{fffd}\u{fffd}\n{\"schema\":2,\"check\":\"y\",\"status\":\"ok\"}\n";
        let (records, errors) = parse_output(out);
        assert_eq!(records.len(), 1);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!(libc_of(&records).unwrap().to_string(), "musl 1.2.5");
    }

    #[test]
    fn outcomes_map_statuses() {
        let (r, _) = parse_output(
            "{\"schema\":1,\"check\":\"import:a\",\"status\":\"crash\",\"value\":{\"signal\":11,\"signal_name\":\"SIGSEGV\"}}\n\
             {\"schema\":1,\"check\":\"import:b\",\"status\":\"error\",\"message\":\"ImportError: x\"}\n",
        );
        assert_eq!(r[0].outcome(), CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() });
        assert_eq!(r[1].outcome(), CheckOutcome::Error { message: "ImportError: x".into() });
    }
}
