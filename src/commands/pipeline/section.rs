//! One per-base section of one base: observed (or taken from the observation cache) and added
//! to the report, the same way for every section of `sections::ALL`.

use std::time::Instant;

use super::State;
use crate::cache;
use crate::engine::Engine;
use crate::error::Result;
use crate::matrix::Base;
use crate::probe::programs;
use crate::progress::{Event, Progress};
use crate::settings::RunSettings;

pub(super) async fn run_section(
    engine: &Engine,
    s: &RunSettings,
    state: &State,
    base: &Base,
    progress: &Progress,
    section: &crate::sections::Section,
) -> Result<()> {
    let kind = section.kind.id;
    let id = format!("{kind} {}", base.name);
    progress.event(Event::Started {
        id: id.clone(),
        base: base.name.clone(),
        stage: crate::progress::Stage::Section(section.kind.id),
        what: "probing".into(),
    });
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
