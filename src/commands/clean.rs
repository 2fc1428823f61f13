//! `clean`: removes what killed runs left behind, found by label. Cached images and pip's cache
//! directory are kept unless --images is given.

use super::new_run_id;
use crate::cli::CleanArgs;
use crate::engine::Engine;
use crate::error::{Result, EXIT_INFRA, EXIT_OK};

pub async fn run(a: &CleanArgs) -> Result<i32> {
    let engine = Engine::connect(&new_run_id()).await?;
    let found = engine.labelled(a.run.as_deref(), a.images).await?;
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
    if a.images && a.run.is_none() {
        if let Some(dir) = crate::settings::pip_cache_dir().filter(|d| d.exists()) {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => println!("removed pip's cache {}", dir.display()),
                Err(e) => eprintln!("failed to remove pip's cache {}: {e}", dir.display()),
            }
        }
    }
    // An untagged image still used by a live run's container is that run's to remove.
    let failed: Vec<&String> = report.failed.iter().filter(|f| !f.contains("conflict")).collect();
    for f in &report.failed {
        eprintln!("failed to remove {f}");
    }
    Ok(if failed.is_empty() { EXIT_OK } else { EXIT_INFRA })
}
