//! `clean`: removes what killed runs left behind, found by label. Cached images and pip's cache
//! directory are kept unless --images is given.

use super::new_run_id;
use crate::cli::CleanArgs;
use crate::engine::{Engine, HoldScope};
use crate::error::{Error, Result, EXIT_INFRA, EXIT_OK};
use crate::lease::RunState;

/// Whether `id` has the shape [`new_run_id`] gives: seconds since the epoch, a dash, eight hex
/// digits. Anything else cannot name a run, and reaches no engine filter.
pub(crate) fn is_run_id(id: &str) -> bool {
    match id.split_once('-') {
        Some((secs, hex)) => {
            (1..=20).contains(&secs.len())
                && secs.bytes().all(|b| b.is_ascii_digit())
                && hex.len() == 8
                && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        None => false,
    }
}

pub async fn run(a: &CleanArgs) -> Result<i32> {
    if let Some(id) = a.run.as_deref().filter(|id| !is_run_id(id)) {
        return Err(Error::Usage(format!(
            "--run `{}` is not a run id (run ids look like 1764576000-1a2b3c4d: see `run_id` in report.json)",
            crate::input::shown(id)
        )));
    }
    let own = new_run_id();
    let engine = Engine::connect(&own).await?;
    let mut found = engine.labelled(a.run.as_deref(), a.images).await?;
    if !a.force {
        for run in found.runs() {
            if let RunState::Live(pid) = crate::lease::state(&run) {
                let pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                println!("run {run} is still running{pid}: left alone; --force removes its containers too");
                found.leave_runs(|r| r == run);
            }
        }
    }
    let what = format!(
        "{} container(s), {} network(s), {} volume(s), {} image(s), {} untagged image(s)",
        found.containers.len(),
        found.networks.len(),
        found.volumes.len(),
        found.images.len(),
        found.dangling.iter().filter(|d| !found.images.contains(d)).count()
    );
    if a.dry_run {
        println!("would remove {what}");
        for c in &found.containers {
            println!("  container {c}");
        }
        for n in &found.networks {
            println!("  network {n}");
        }
        for v in &found.volumes {
            println!("  volume {v}");
        }
        for i in &found.images {
            println!("  image {i}");
        }
        for i in found.dangling.iter().filter(|d| !found.images.contains(d)) {
            println!("  untagged image {i}");
        }
        return Ok(EXIT_OK);
    }
    let report = engine.remove_labelled(&found).await;
    println!("removed {what}");
    // Hold tags of runs not live here (with or without --images; with --run, that run's).
    let scope = a.run.as_deref().map_or(HoldScope::NotLiveHere, HoldScope::Run);
    match engine.release_stale_holds(scope).await {
        Ok(gone) if !gone.is_empty() => println!("removed {} hold tag(s) of runs that are gone", gone.len()),
        Ok(_) => {}
        Err(e) => eprintln!("failed to remove the hold tags of runs that are gone: {e}"),
    }
    crate::lease::sweep();
    // An untagged image still used by a live run's container is that run's to remove.
    let failed: Vec<&String> = report.failed.iter().filter(|f| !f.contains("conflict")).collect();
    for f in &report.failed {
        eprintln!("failed to remove {f}");
    }
    Ok(if failed.is_empty() { EXIT_OK } else { EXIT_INFRA })
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_ids_have_the_generated_shape() {
        assert!(super::is_run_id(&super::new_run_id()));
        assert!(super::is_run_id("1764576000-1a2b3c4d"));
        for bad in [
            "",
            "x",
            "1764576000",
            "1764576000-1A2B3C4D",
            "1764576000-1a2b3c4",
            "-1a2b3c4d",
            "1764576000-1a2b3c4d-x",
            "a-1a2b3c4d",
            "1764576000-1a2b3c4d\n",
        ] {
            assert!(!super::is_run_id(bad), "accepted {bad:?}");
        }
    }
}
