//! `run` and `gate`: resolve bases, prepare them, build and probe every job in parallel,
//! profile the bases, compare, report. The report is written after every job, atomically, so
//! an interrupted run leaves a valid partial report; the run's containers are removed on every
//! way out (success, error, SIGINT, SIGTERM). A job is run in `job` and observed in `observe`;
//! a per-base section in `section`.

mod job;
mod observe;
mod section;
mod slots;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{bases, emit, exit_code_of, new_run_id};
use crate::compare;
use crate::engine::{Engine, HoldScope};
use crate::error::{Error, Result};
use crate::model::RunReport;
use crate::plan::{self, Job};
use crate::progress::{Event, Progress};
use crate::settings::RunSettings;
use slots::Slots;

/// Shared between the workers and the interrupt path.
pub(super) struct State {
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
    let _results_lock = crate::results::lock(&s.out.results_dir, &run_id).map_err(Error::Usage)?;
    // Killed runs leave their holds: an image tag per image they used, for ever otherwise. Only
    // those of runs known to be over: another host's run on this engine holds no lease here.
    match engine.release_stale_holds(HoldScope::Over).await {
        Ok(gone) if !gone.is_empty() => tracing::info!("removed {} hold tag(s) of runs that are over", gone.len()),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot remove the hold tags of runs that are over: {e}"),
    }
    let mut report = RunReport::new(s.command, &run_id, &s.matrix.path.display().to_string());
    report.matrix_digest = s.matrix_digest.clone();
    report.matrix_source = s.matrix.source_line();
    report.shard = s.shard;
    report.planned = s.planned.clone();
    report.inputs = s.input_notes.clone();
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

async fn work(
    engine: &Engine,
    s: &RunSettings,
    state: &Arc<State>,
    jobs: &[Job],
    progress: &Progress,
) -> Result<compare::Available> {
    use crate::progress::Stage;
    for base in &s.matrix.bases {
        let on_base = jobs.iter().filter(|j| j.base.name == base.name).count() as u64;
        let mut planned = vec![(Stage::Prepare, 1), (Stage::Build, on_base), (Stage::Probe, on_base)];
        planned.extend(s.sections.iter().map(|x| (Stage::Section(x.kind.id), 1)));
        for (stage, total) in planned {
            progress.event(Event::Planned { base: base.name.clone(), stage, total });
        }
    }
    let parallel = match s.jobs {
        Some(n) => n,
        None => engine.info().await.map(|i| i.cpus.clamp(2, 16) as usize).unwrap_or(2),
    };
    let slots = Slots::new(parallel);
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
            base: base.name.clone(),
            stage: Stage::Prepare,
            what: format!("pulling {}, observing its libc, preparing its venv layer", base.image),
        });
        let bases::Prepared { record, prep } = {
            let _slot = slots.builds.acquire().await.expect("slots are never closed");
            bases::prepare(
                engine,
                base,
                s.matrix.policy.build_timeout,
                s.no_cache,
                crate::install::PrepIndex {
                    index_url: s.matrix.policy.index_url.as_deref(),
                    ca_bundle: s.matrix.policy.ca_bundle.as_deref(),
                    extra_hosts: &s.matrix.policy.extra_hosts,
                },
            )
            .await
            .map_err(|e| bases::hinted(&s.matrix, base, e))?
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
        if let Ok(tag) = prep {
            // Beside the jobs: only the comparison needs them, when the run closes.
            units.push(Box::pin(async move {
                let found = bases::compilers(engine, tag, s.observations.as_deref(), s.no_cache).await?;
                state.update(|r| {
                    if let Some(b) = r.bases.iter_mut().find(|b| b.name == base.name) {
                        b.compilers = found;
                    }
                });
                Ok(())
            }));
        }
        for &section in &s.sections {
            units.push(Box::pin(async move {
                let _slot = match section.takes_slot {
                    true => Some(slots.probes.acquire().await),
                    false => None,
                };
                section::run_section(engine, s, state, base, progress, section).await
            }));
        }
        for job in jobs.iter().filter(|j| j.base.name == base.name) {
            let cx = JobContext { engine, s, state, index, progress, slots };
            units.push(Box::pin(job::run_job(cx, job, prep)));
        }
        futures_util::future::try_join_all(units).await.map(|_| ())
    });
    futures_util::future::try_join_all(per_base).await?;
    // What the version suggestions need, where a job could not take a wheel.
    let snapshot = state.report.lock().expect("report lock").clone();
    Ok(crate::hints::gather(engine, s, &snapshot).await)
}

/// What a job needs of the run around it.
#[derive(Clone, Copy)]
pub(super) struct JobContext<'a> {
    pub engine: &'a Engine,
    pub s: &'a RunSettings,
    pub state: &'a State,
    pub index: &'a Option<Arc<crate::index::IndexClient>>,
    pub progress: &'a Progress,
    pub slots: &'a Slots,
}
