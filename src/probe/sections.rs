//! Per-base probe sections: the libc observed in each base, the libc behaviour profile and the
//! resolver profile. Each runs its probe in a container of the base itself.

use std::time::Duration;

use std::collections::BTreeMap;

use super::records::libc_of;
use super::{checks, programs, run, ProbeRun, ProbeSpec};
use crate::engine::{Engine, EngineError, Sandbox};
use crate::model::{Libc, Observation, ProbeSection};

/// Observes the C and C++ compilers a source build would use in a prepared image: per language
/// ("cc", "c++"), what was found and its version, or what was looked for. A probe that did not
/// finish says so: the absence of a compiler is only reported when it was observed.
pub async fn observe_compilers(
    engine: &Engine,
    image: &str,
    python: &str,
) -> Result<Result<BTreeMap<String, String>, String>, EngineError> {
    let run = run(
        engine,
        &ProbeSpec {
            image,
            python,
            probe: programs::COMPILER,
            config: serde_json::json!({}),
            // A writable root, as a build has: a compiler may write a cache even to say its
            // version (Zig's does), and on a read-only root that says nothing about a build.
            sandbox: Sandbox::strict_writable(),
            user: Some("1000:1000"),
            timeout: Duration::from_secs(180),
            kind: "probe-compiler",
            keep: false,
        },
    )
    .await?;
    if let Some(why) = run.unfinished() {
        return Ok(Err(format!("the compiler probe did not finish ({why})")));
    }
    let mut out = BTreeMap::new();
    for (check, lang) in [(checks::COMPILER_CC, "cc"), (checks::COMPILER_CXX, "c++")] {
        let Some(r) = run.records.iter().find(|r| r.check == check) else { continue };
        let v = &r.value;
        let text = match r.status {
            super::records::Status::Ok => format!(
                "{} ({}{})",
                v["command"].as_str().unwrap_or("?"),
                v["version"].as_str().unwrap_or("version unknown"),
                match v["path"].as_str() {
                    Some(p) if !p.ends_with(&format!("/{}", v["command"].as_str().unwrap_or(""))) => format!(", {p}"),
                    _ => String::new(),
                }
            ),
            _ => format!("no compiler: {}", r.message.as_deref().unwrap_or("none found")),
        };
        out.insert(lang.to_string(), text);
    }
    Ok(Ok(out))
}

/// Observes which libc a base's Python runs on (never inferred from its name).
pub async fn observe_libc(
    engine: &Engine,
    image: &str,
    python: &str,
) -> Result<(Option<Libc>, Vec<String>), EngineError> {
    let run = run(
        engine,
        &ProbeSpec {
            image,
            python,
            probe: programs::LIBC,
            config: serde_json::json!({}),
            sandbox: Sandbox::strict(),
            user: Some("1000:1000"),
            timeout: Duration::from_secs(60),
            kind: "probe-libc",
            keep: false,
        },
    )
    .await?;
    Ok((libc_of(&run.records), run.protocol_errors))
}

/// A section: one observation per check id (ids are unique: the parser refuses repeats).
pub fn section(base: &str, run: ProbeRun) -> ProbeSection {
    let checks: BTreeMap<String, Observation> =
        run.records.iter().map(|r| (r.check.clone(), r.observation())).collect();
    ProbeSection {
        base: base.to_string(),
        libc: libc_of(&run.records),
        checks,
        protocol_errors: run.protocol_errors,
        container: run.container,
        completion: run.completion,
        cached: false,
    }
}

/// How many resolver scenarios a section observed (`dns.<id>` records, not the lab's own
/// `dns.sandbox`): none means the base can be compared with nothing.
pub fn scenarios_observed(section: &ProbeSection) -> usize {
    section.checks.keys().filter(|c| c.starts_with(checks::DNS) && *c != checks::DNS_SANDBOX).count()
}

/// The thread crash depth a section observed (`crash_depth.json_thread`), if it did.
pub fn json_thread_depth(section: &ProbeSection) -> Option<i64> {
    section.checks.get(checks::CRASH_DEPTH_JSON_THREAD).and_then(|o| o.value["max_ok_depth"].as_i64())
}

/// The libc behaviour profile (thread stacks, crash depth, loader, locale, ...) of a base's
/// image, or some of its checks (`config["only"]`) on a job image with the dependency imported;
/// in the strict sandbox, pinned to CPU 0 when `pinned`. The base's profile is (so `cpu_count`
/// against affinity is observed); a job's crash depth, a depth and not a time, needs no pinning,
/// and unpinned, the jobs' measurements do not all queue on the base profiles' CPU.
pub async fn libc_profile(
    engine: &Engine,
    base: &str,
    image: &str,
    python: &str,
    config: serde_json::Value,
    pinned: bool,
) -> Result<ProbeSection, EngineError> {
    let mut sandbox = Sandbox::strict();
    if pinned {
        sandbox.cpuset = Some("0".into());
    }
    let run = run(
        engine,
        &ProbeSpec {
            image,
            python,
            probe: programs::PROFILE,
            config,
            sandbox,
            user: Some("1000:1000"),
            timeout: Duration::from_secs(240),
            kind: "probe-profile",
            keep: false,
        },
    )
    .await?;
    Ok(section(base, run))
}

/// The sandbox the DNS lab needs: root inside the container to write /etc/resolv.conf,
/// /etc/hosts and /etc/nsswitch.conf (root-owned files: no capability needed), a writable root
/// for nsswitch.conf, no network at all, every capability dropped but binding port 53 (engines
/// since 20.10 also allow that through ip_unprivileged_port_start).
pub fn dns_sandbox() -> Sandbox {
    Sandbox {
        network: false,
        read_only: false,
        drop_all_caps: true,
        cap_add: vec!["NET_BIND_SERVICE".into()],
        memory_bytes: Some(512 << 20),
        pids_limit: Some(256),
        cpuset: None,
        tmpfs: vec![],
    }
}

/// Where a custom scenario is put in the DNS lab's container; the probe reads it from there
/// (`custom_file`), so a zone of megabytes never becomes a command-line argument.
pub const SCENARIO_FILE: &str = "/run/muslcheck/dns-scenario.json";

/// One custom scenario on a base, handed to the lab as a file.
pub async fn resolver_scenario(
    engine: &Engine,
    base: &str,
    image: &str,
    python: &str,
    scenario: &[u8],
    timeout: Duration,
) -> Result<ProbeSection, EngineError> {
    let (dir, name) = SCENARIO_FILE.rsplit_once('/').expect("an absolute path");
    let tar = crate::engine::tar_of(&[(&format!("{}/{name}", dir.trim_start_matches('/')), scenario)]);
    let config = serde_json::json!({ "custom_file": SCENARIO_FILE });
    dns_lab(engine, base, image, python, config, timeout, vec![("/".to_string(), tar)]).await
}

/// The resolver profile (or one custom scenario) of a base.
pub async fn resolver(
    engine: &Engine,
    base: &str,
    image: &str,
    python: &str,
    config: serde_json::Value,
    timeout: Duration,
) -> Result<ProbeSection, EngineError> {
    dns_lab(engine, base, image, python, config, timeout, vec![]).await
}

/// The DNS lab in its sandbox, as root inside the container, with files put in first.
async fn dns_lab(
    engine: &Engine,
    base: &str,
    image: &str,
    python: &str,
    config: serde_json::Value,
    timeout: Duration,
    uploads: Vec<(String, Vec<u8>)>,
) -> Result<ProbeSection, EngineError> {
    let spec = ProbeSpec {
        image,
        python,
        probe: programs::DNS,
        config,
        sandbox: dns_sandbox(),
        user: Some("0:0"),
        timeout,
        kind: "probe-dns",
        keep: false,
    };
    Ok(section(base, super::runner::run_with_files(engine, &spec, uploads).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Completion, ContainerOutcome};

    #[test]
    fn a_lab_that_reported_only_itself_observed_no_scenario() {
        let obs = Observation {
            status: "ok".into(),
            value: serde_json::Value::Null,
            message: None,
            duration_ms: None,
            ..Default::default()
        };
        let mut s = ProbeSection {
            base: "musl".into(),
            libc: None,
            checks: BTreeMap::from([("libc".into(), obs.clone()), (checks::DNS_SANDBOX.into(), obs.clone())]),
            protocol_errors: vec![],
            container: ContainerOutcome::default(),
            completion: Completion::NoClosingRecord,
            cached: false,
        };
        assert_eq!(scenarios_observed(&s), 0);
        s.checks.insert("dns.replay".into(), obs);
        assert_eq!(scenarios_observed(&s), 1);
    }
}
