//! One job: its dependency installed on its base (or the cached image reused), its install log
//! kept, its image probed, and its record added to the report, whatever happened.

use std::time::Instant;

use super::JobContext;
use crate::engine::EngineError;
use crate::error::{Error, Result};
use crate::install::{self, BuildInputs};
use crate::model::{BuildOutcome, JobRecord};
use crate::plan::Job;
use crate::progress::Event;

pub(super) async fn run_job(cx: JobContext<'_>, job: &Job, prep: &std::result::Result<String, String>) -> Result<()> {
    let JobContext { engine, s, state, index, progress, slots } = cx;
    let id = job.id();
    let build_slot = slots.builds.acquire().await.expect("slots are never closed");
    progress.event(Event::Started {
        id: id.clone(),
        base: job.base.name.clone(),
        stage: crate::progress::Stage::Build,
        what: "installing".into(),
    });
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
        record.installer = built.record.installer.clone().or_else(|| Some(job.base.installer.name().to_string()));
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
            let probe_slot = slots.probes.acquire().await;
            super::observe::probe_job(
                cx,
                job,
                probe_slot.number(),
                built.image.as_deref().expect("an installed job has an image"),
                &image_id,
                &mut record,
            )
            .await?;
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
