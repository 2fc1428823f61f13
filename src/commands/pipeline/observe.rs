//! A job's observations: the wheel probe (imports, ELF facts, the smoke script in the main
//! thread and in a worker thread, its run times) and, with the profile on, the crash depth with
//! the dependency imported; kept in the observation cache by a key of everything they depend on.

use std::time::Instant;

use super::JobContext;
use crate::cache;
use crate::engine::{EngineError, Sandbox};
use crate::install;
use crate::model::JobRecord;
use crate::plan::Job;
use crate::probe::{self, programs, sections, ProbeSpec};
use crate::progress::Event;

/// A job's observations as the cache keeps them.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedProbe {
    probe: crate::model::WheelProbe,
    crash_depth: Option<crate::model::Observation>,
}

/// The wheel probe's configuration: the smoke script and how often, within what budget, it is
/// timed.
fn wheel_probe_config(smoke: Option<&str>, policy: &crate::matrix::Policy) -> serde_json::Value {
    serde_json::json!({
        "smoke": smoke,
        "runtime_runs": policy.runtime_runs,
        "runtime_budget_s": policy.runtime_budget().as_secs_f64(),
    })
}

/// The configuration a probe runs with: `config` and the probe's slot number, which says which
/// CPU its timed runs are pinned to (see `slots`). Not in the cache key: where a run was timed
/// changes nothing of what it observed.
fn timed_on(mut config: serde_json::Value, slot: usize) -> serde_json::Value {
    config["timing_slot"] = slot.into();
    config
}

/// The observation cache key of a job's wheel probe: everything the observation depends on, the
/// image by content, the probe programs, the configuration (the smoke script and its timing
/// settings), the sandbox and limits, and whether the crash depth is measured. Not
/// `runtime_ratio`: the comparison is made again from the kept observation on every run, so a
/// new ratio needs no new probe.
fn wheel_probe_key(
    image_id: &str,
    config: &serde_json::Value,
    sandbox: &Sandbox,
    policy: &crate::matrix::Policy,
    crash_depth: bool,
) -> String {
    cache::key(&[
        image_id,
        &cache::digest(&programs::program(programs::WHEELS)),
        &cache::digest(&programs::program(programs::PROFILE)),
        &config.to_string(),
        &format!("{sandbox:?}"),
        &policy.probe_timeout.as_secs().to_string(),
        if crash_depth { "crash-depth" } else { "" },
    ])
}

/// Probes an installed job image (or takes its observations from the cache) into `record`.
pub(super) async fn probe_job(
    cx: JobContext<'_>,
    job: &Job,
    slot: usize,
    job_image: &str,
    image_id: &str,
    record: &mut JobRecord,
) -> Result<(), EngineError> {
    let JobContext { engine, s, state, progress, .. } = cx;
    let id = job.id();
    let probe_started = Instant::now();
    // Probed from a hold of this run's on the job image: see `Engine::hold`.
    let image = engine.hold(job_image).await?;
    let config = wheel_probe_config(job.dependency.smoke.as_ref().map(|(_, src)| src.as_str()), &s.matrix.policy);
    let sandbox = Sandbox::strict();
    let key = wheel_probe_key(image_id, &config, &sandbox, &s.matrix.policy, s.observes(&crate::kinds::PROFILE));
    let cached = if s.no_cache || image_id.is_empty() {
        None
    } else {
        cache::get::<CachedProbe>(s.observations.as_deref(), "wheels", &key)
    };
    if let Some(c) = cached {
        record.probe = Some(c.probe);
        record.crash_depth = c.crash_depth;
        record.probe_cached = true;
    } else {
        progress.event(Event::Phase {
            id: id.clone(),
            stage: crate::progress::Stage::Probe,
            what: "importing and smoke-testing".into(),
        });
        let run = probe::run(
            engine,
            &ProbeSpec {
                image: &image,
                python: install::VENV_PYTHON,
                probe: programs::WHEELS,
                config: timed_on(config, slot),
                sandbox,
                user: Some("1000:1000"),
                timeout: s.matrix.policy.probe_timeout,
                kind: "probe-wheels",
                keep: s.keep,
            },
        )
        .await?;
        let observed = probe::wheels::wheel_probe(&run);
        let mut depth_complete = true;
        if s.observes(&crate::kinds::PROFILE) {
            // The crash depth again, with the dependency imported first: an extension that
            // starts threads or changes stack use shows up here.
            let modules = probe::wheels::top_level_of(&run.records, &job.dependency.requirement.name);
            if !modules.is_empty() {
                progress.event(Event::Phase {
                    id: id.clone(),
                    stage: crate::progress::Stage::Probe,
                    what: "crash depth with it imported".into(),
                });
                // The base's own boundary, where its profile has it already, is tried
                // first (the probe observes both its sides; it is a starting point, not
                // an answer).
                let hint = state
                    .report
                    .lock()
                    .expect("report")
                    .section(&crate::kinds::PROFILE)
                    .iter()
                    .find(|p| p.base == job.base.name)
                    .and_then(|p| p.checks.get(probe::checks::CRASH_DEPTH_JSON_THREAD))
                    .and_then(|o| o.value.get("max_ok_depth"))
                    .and_then(serde_json::Value::as_i64);
                let mut config =
                    serde_json::json!({"only": [probe::checks::CRASH_DEPTH_JSON_THREAD], "preimport": modules});
                if let Some(h) = hint {
                    config["hints"] = serde_json::json!({ probe::checks::CRASH_DEPTH_JSON_THREAD: h });
                }
                let section =
                    sections::libc_profile(engine, &job.base.name, &image, install::VENV_PYTHON, config, false).await?;
                depth_complete = section.completion.is_complete();
                record.crash_depth = section.checks.get(probe::checks::CRASH_DEPTH_JSON_THREAD).cloned();
            }
        }
        // Only what the probes said in full is a fact of the image worth keeping.
        if observed.completion.is_complete() && depth_complete && !image_id.is_empty() {
            let c = CachedProbe { probe: observed.clone(), crash_depth: record.crash_depth.clone() };
            cache::put(s.observations.as_deref(), "wheels", &key, &c);
        }
        record.probe = Some(observed);
        record.probe_secs = probe_started.elapsed().as_secs_f64();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Policy;

    #[test]
    fn the_wheel_probe_key_follows_the_timing_settings_and_not_the_comparison_ratio() {
        let key = |p: &Policy| {
            let config = wheel_probe_config(Some("print(1)"), p);
            wheel_probe_key("sha256:img", &config, &Sandbox::strict(), p, true)
        };
        let base = Policy::default();
        let runs = Policy { runtime_runs: 9, ..Policy::default() };
        let off = Policy { runtime_runs: 0, ..Policy::default() };
        // The budget is a share of the probe timeout.
        let budget = Policy { probe_timeout: std::time::Duration::from_secs(60), ..Policy::default() };
        let ratio = Policy { runtime_ratio: 4.0, ..Policy::default() };
        assert_ne!(key(&base), key(&runs));
        assert_ne!(key(&base), key(&off));
        assert_ne!(key(&base), key(&budget));
        assert_eq!(key(&base), key(&ratio));
        assert_eq!(wheel_probe_config(None, &runs)["runtime_runs"], 9);
        assert_eq!(wheel_probe_config(None, &budget)["runtime_budget_s"], 15.0);
    }
}
