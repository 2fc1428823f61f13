//! `run` and `gate`: resolve bases, prepare them, build and probe every job in parallel,
//! profile the bases, compare, report. The report is written after every job, atomically, so
//! an interrupted run leaves a valid partial report; the run's containers are removed on every
//! way out (success, error, SIGINT, SIGTERM).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{bases, emit, exit_code_of, new_run_id};
use crate::cache;
use crate::compare;
use crate::engine::{Engine, EngineError, Sandbox};
use crate::error::{Error, Result};
use crate::install::{self, BuildInputs};
use crate::matrix::Base;
use crate::model::{BuildOutcome, JobRecord, RunReport};
use crate::plan::{self, Job};
use crate::probe::{self, programs, sections, ProbeSpec};
use crate::progress::{Event, Progress};
use crate::settings::RunSettings;

/// A job's observations as the cache keeps them.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedProbe {
    probe: crate::model::WheelProbe,
    crash_depth: Option<crate::model::Observation>,
}

/// Shared between the workers and the interrupt path.
struct State {
    report: Mutex<RunReport>,
    path: PathBuf,
}

impl State {
    /// Applies a change and writes the report (temp file + rename).
    fn update(&self, f: impl FnOnce(&mut RunReport)) {
        let snapshot = {
            let mut r = self.report.lock().expect("report lock");
            f(&mut r);
            r.normalise();
            r.clone()
        };
        let json = serde_json::to_vec_pretty(&snapshot).expect("serialising a report");
        if let Err(e) = crate::results::write_atomic(&self.path, &json) {
            tracing::warn!("failed to write {}: {e}", self.path.display());
        }
    }
}

pub async fn run(s: RunSettings, progress: bool) -> Result<i32> {
    let started = Instant::now();
    let run_id = new_run_id();
    let engine = Engine::connect(&run_id).await?;
    crate::results::prepare(&s.out.results_dir).map_err(Error::Usage)?;
    let mut report = RunReport::new(s.command, &run_id, &s.matrix.path.display().to_string());
    report.matrix_digest = s.matrix_digest.clone();
    report.shard = s.shard;
    report.planned = s.planned.clone();
    let state = Arc::new(State { report: Mutex::new(report), path: s.out.results_dir.join("report.json") });
    let mut jobs = plan::jobs(&s.matrix);
    jobs.extend(crate::lock::baseline_jobs(s.lock.as_ref(), &s.matrix));
    state.update(|r| r.not_run = jobs.iter().map(Job::id).collect());
    let progress = Progress::new(progress);
    tracing::info!("run {run_id}: {} jobs on {} bases", jobs.len(), s.matrix.bases.len());

    let outcome = tokio::select! {
        r = work(&engine, &s, &state, &jobs, &progress) => r,
        sig = crate::signals::interrupted() => Err(Error::Interrupted(sig)),
    };
    progress.finish();
    if s.keep {
        eprintln!(
            "kept this run's containers: list them with `docker ps -a --filter label=io.muslcheck.run={run_id}`, \
             enter a job image with `docker run --rm -it <image> sh`, remove them with `muslcheck clean --run {run_id}`"
        );
    } else {
        let cleaned = engine.cleanup_run().await;
        for f in &cleaned.failed {
            tracing::warn!("cleanup: {f}");
        }
    }
    let available = match outcome {
        Ok(available) => available,
        Err(e) => {
            state.update(|r| {
                r.partial = true;
                r.errors.push(e.to_string());
            });
            eprintln!("partial report written to {}", state.path.display());
            return Err(e);
        }
    };
    state.update(|r| {
        r.timings.total = started.elapsed().as_secs_f64();
        compare::close(r, &s.matrix, s.lock.as_ref(), s.baseline.as_ref(), &available);
    });
    let report = state.report.lock().expect("report lock").clone();
    emit(&report, &s.out)?;
    Ok(exit_code_of(&report))
}

/// At most this many builds, and this many probes, at once (`--jobs`). Builds and probes
/// have limits of their own so that a build waiting on the network never holds back a probe,
/// and the reverse: the machine is kept busy while both kinds of work are in flight.
struct Slots {
    builds: tokio::sync::Semaphore,
    probes: tokio::sync::Semaphore,
}

async fn work(
    engine: &Engine,
    s: &RunSettings,
    state: &Arc<State>,
    jobs: &[Job],
    progress: &Progress,
) -> Result<compare::Available> {
    let sections_per_base = s.sections.len();
    progress.event(Event::Planned((jobs.len() + s.matrix.bases.len() * (1 + sections_per_base)) as u64));
    let parallel = match s.jobs {
        Some(n) => n,
        None => engine.info().await.map(|i| i.cpus.clamp(2, 16) as usize).unwrap_or(2),
    };
    let slots = Slots { builds: tokio::sync::Semaphore::new(parallel), probes: tokio::sync::Semaphore::new(parallel) };
    let slots = &slots;
    // The index builds use, asked from here whether cached resolutions still hold.
    let policy = &s.matrix.policy;
    let index = match crate::index::IndexClient::new(
        policy.index_url.as_deref(),
        policy.ca_bundle.as_deref(),
        &policy.extra_hosts,
    ) {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            tracing::warn!("cached jobs are reused without asking the index: {e}");
            None
        }
    };
    let index = &index;
    let bases_started = Instant::now();
    // Every base at once: pull it (recording its digest), observe its libc, prepare its venv
    // layer; then its jobs and its sections, each as soon as what it needs is there. The
    // sections need only the base, so they run while the jobs build.
    let per_base = s.matrix.bases.iter().map(|base| async move {
        let id = format!("base {}", base.name);
        progress.event(Event::Started {
            id: id.clone(),
            what: format!("pulling {}, observing its libc, preparing its venv layer", base.image),
        });
        let bases::Prepared { record, prep } = {
            let _slot = slots.builds.acquire().await.expect("slots are never closed");
            bases::prepare(engine, base, s.matrix.policy.build_timeout, s.no_cache, s.observations.as_deref()).await?
        };
        progress.event(Event::Finished {
            id,
            summary: format!(
                "{} {}",
                record.digest.as_deref().unwrap_or(&record.image_id),
                record.libc.as_ref().map(|l| l.to_string()).unwrap_or_default()
            ),
        });
        state.update(|r| {
            r.bases.push(record);
            r.timings.bases = r.timings.bases.max(bases_started.elapsed().as_secs_f64());
        });
        // Once every base's libc is observed: a run of one libc family compares nothing.
        let missing = {
            let r = state.report.lock().expect("report lock");
            (r.bases.len() == s.matrix.bases.len()).then(|| compare::too_few_families(&r.bases)).flatten()
        };
        if let Some(m) = missing {
            return Err(Error::Usage(m));
        }
        let prep = &prep;
        let mut units: Vec<futures_util::future::BoxFuture<'_, Result<()>>> = vec![];
        for &section in &s.sections {
            units.push(Box::pin(async move {
                let _slot = match section.takes_slot {
                    true => Some(slots.probes.acquire().await.expect("slots are never closed")),
                    false => None,
                };
                run_section(engine, s, state, base, progress, section).await
            }));
        }
        for job in jobs.iter().filter(|j| j.base.name == base.name) {
            let cx = JobContext { engine, s, state, index, progress, slots };
            units.push(Box::pin(run_job(cx, job, prep)));
        }
        futures_util::future::try_join_all(units).await.map(|_| ())
    });
    futures_util::future::try_join_all(per_base).await?;
    // What the version suggestions need, where a job could not take a wheel.
    let snapshot = state.report.lock().expect("report lock").clone();
    Ok(crate::hints::gather(engine, s, &snapshot).await)
}

async fn run_section(
    engine: &Engine,
    s: &RunSettings,
    state: &State,
    base: &Base,
    progress: &Progress,
    section: &crate::sections::Section,
) -> Result<()> {
    let kind = section.kind.id;
    let id = format!("{kind} {}", base.name);
    progress.event(Event::Started { id: id.clone(), what: "probing".into() });
    let started = Instant::now();
    let image = state
        .report
        .lock()
        .expect("report")
        .bases
        .iter()
        .find(|b| b.name == base.name)
        .map(|b| b.image_id.clone())
        .unwrap_or_default();
    let key = cache::key(&[&image, &cache::digest(&programs::program(section.program)), &base.python, "{}"]);
    let cached =
        if s.no_cache { None } else { cache::get::<crate::model::ProbeSection>(s.observations.as_deref(), kind, &key) };
    let result = match cached {
        Some(mut observed) => {
            observed.cached = true;
            Ok(observed)
        }
        None => (section.observe)(engine, &base.name, &image, &base.python).await,
    };
    match result {
        Ok(observed) => {
            if !observed.cached && observed.completion.is_complete() {
                cache::put(s.observations.as_deref(), kind, &key, &observed);
            }
            let secs = if observed.cached { 0.0 } else { started.elapsed().as_secs_f64() };
            progress.event(Event::Finished {
                id,
                summary: format!("{} checks{}", observed.checks.len(), if observed.cached { " (cached)" } else { "" }),
            });
            state.update(|r| {
                *r.timings.sections.entry(kind.to_string()).or_default() += secs;
                r.add_section(section.kind, observed);
            });
            Ok(())
        }
        Err(e) if e.is_connection_lost() => Err(e.into()),
        Err(e) => {
            progress.event(Event::Finished { id: id.clone(), summary: format!("failed: {e}") });
            state.update(|r| r.errors.push(format!("{id}: {e}")));
            Ok(())
        }
    }
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

/// What a job needs of the run around it.
#[derive(Clone, Copy)]
struct JobContext<'a> {
    engine: &'a Engine,
    s: &'a RunSettings,
    state: &'a State,
    index: &'a Option<Arc<crate::index::IndexClient>>,
    progress: &'a Progress,
    slots: &'a Slots,
}

async fn run_job(cx: JobContext<'_>, job: &Job, prep: &std::result::Result<String, String>) -> Result<()> {
    let JobContext { engine, s, state, index, progress, slots } = cx;
    let id = job.id();
    let build_slot = slots.builds.acquire().await.expect("slots are never closed");
    progress.event(Event::Started { id: id.clone(), what: "installing".into() });
    let started = Instant::now();
    let requirement = job.dependency.install_set().iter().map(|r| r.text.clone()).collect::<Vec<_>>().join("; ");
    let mut record = JobRecord::new(&job.dependency.name, &job.base.name, &requirement, BuildOutcome::InfraError);
    // A log that cannot be written is reported, never dropped silently.
    let mut log_error = None;
    let result: std::result::Result<(), EngineError> = async {
        let prep_tag = match prep {
            Ok(t) => t,
            Err(e) => {
                // Not this dependency's failure: the base's own finding says why.
                record.outcome = BuildOutcome::BaseFailed;
                record.error = Some(e.clone());
                return Ok(());
            }
        };
        let install = job.dependency.install_set();
        let inputs = BuildInputs {
            base: &job.base,
            prep_tag,
            requirements: &install,
            constraints: &job.dependency.constraints,
            ca_bundle: s.matrix.policy.ca_bundle.as_deref(),
            index_url: s.matrix.policy.index_url.as_deref(),
            extra_hosts: &s.matrix.policy.extra_hosts,
            timeout: s.matrix.policy.build_timeout,
            no_cache: s.no_cache,
            pip_cache: s.pip_cache.as_deref(),
            freshness: s.freshness,
            index: index.as_ref(),
        };
        let built = install::build_job(engine, &inputs).await;
        drop(build_slot);
        let built = built?;
        if !built.log.is_empty() {
            let log_path = s.out.results_dir.join("logs").join(format!("{}.install.log", id.replace(['[', ']'], "_")));
            if let Err(e) = crate::results::write_file(&log_path, built.log.as_bytes()) {
                let msg = format!("{id}: failed to write the install log {}: {e}", log_path.display());
                tracing::warn!("{msg}");
                log_error = Some(msg);
            }
        }
        record.outcome = built.record.outcome;
        record.cached = built.cached;
        record.reuse = built.reuse.clone();
        record.build_secs = built.record.secs;
        record.distributions = built.record.distributions.clone();
        record.log_tail = built.record.log_tail.clone();
        record.source_builds = built.record.source_builds.clone();
        record.error = built.record.error.clone();
        record.image = built.image.clone();
        let mut image_id = String::new();
        if let Some(img) = &built.image {
            let info = engine.image(img).await?;
            let size = info.as_ref().map(|i| i.size);
            image_id = info.map(|i| i.id).unwrap_or_default();
            let base_size =
                state.report.lock().expect("report").bases.iter().find(|b| b.name == job.base.name).map(|b| b.size);
            record.image_size = size;
            record.size_over_base = size.zip(base_size).map(|(a, b)| a - b);
        }
        // The lock alone is built to be compared with, not observed.
        if record.outcome == BuildOutcome::Installed && !crate::lock::is_baseline(s.lock.as_ref(), job) {
            let _probe_slot = slots.probes.acquire().await.expect("slots are never closed");
            let probe_started = Instant::now();
            // Probed from a hold of this run's on the job image: see `Engine::hold`.
            let image = engine.hold(built.image.as_deref().expect("an installed job has an image")).await?;
            let config =
                wheel_probe_config(job.dependency.smoke.as_ref().map(|(_, src)| src.as_str()), &s.matrix.policy);
            let sandbox = Sandbox::strict();
            let key =
                wheel_probe_key(&image_id, &config, &sandbox, &s.matrix.policy, s.observes(&crate::kinds::PROFILE));
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
                progress.event(Event::Phase { id: id.clone(), what: "importing and smoke-testing".into() });
                let run = probe::run(
                    engine,
                    &ProbeSpec {
                        image: &image,
                        python: install::VENV_PYTHON,
                        probe: programs::WHEELS,
                        config,
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
                        progress.event(Event::Phase { id: id.clone(), what: "crash depth with it imported".into() });
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
                            sections::libc_profile(engine, &job.base.name, &image, install::VENV_PYTHON, config)
                                .await?;
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
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        // The engine going away is an infrastructure error for this job, not a finding about
        // the dependency; the run goes on to record the rest as not run.
        record.outcome = BuildOutcome::InfraError;
        record.error = Some(e.to_string());
        if e.is_connection_lost() || !engine.ping().await {
            let msg = format!("{id}: the engine went away: {e}");
            state.update(|r| {
                r.jobs.push(record);
                r.not_run.retain(|x| x != &id);
                r.errors.push(msg.clone());
            });
            progress.event(Event::Finished { id, summary: "engine lost".into() });
            return Err(Error::Engine(e));
        }
    }
    let summary = match record.outcome {
        BuildOutcome::Installed => format!(
            "installed in {:.0} s{}{}",
            started.elapsed().as_secs_f64(),
            if record.cached { " (cached)" } else { "" },
            record
                .probe
                .as_ref()
                .map(|p| format!(
                    ", imports {}/{} ok",
                    p.imports.values().filter(|o| o.is_ok()).count(),
                    p.imports.len()
                ))
                .unwrap_or_default()
        ),
        o => format!(
            "{}: {}",
            serde_json::to_value(o).unwrap().as_str().unwrap_or(""),
            record.error.as_deref().unwrap_or("").lines().next().unwrap_or("")
        ),
    };
    let infra = (record.outcome == BuildOutcome::InfraError)
        .then(|| format!("{id}: {}", record.error.as_deref().unwrap_or("infrastructure error")));
    state.update(|r| {
        if !record.cached {
            r.timings.build += record.build_secs;
        }
        r.timings.probe += record.probe_secs;
        r.jobs.push(record);
        r.not_run.retain(|x| x != &id);
        // An infrastructure failure (disk full, an engine error) makes the run exit 3.
        r.errors.extend(infra);
        r.errors.extend(log_error);
    });
    progress.event(Event::Finished { id, summary });
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
