//! What the explanations' suggestions are made from, gathered from the bases and the index
//! after the jobs ran: the wheel tags and index files behind "a version with a wheel for this
//! base" (`versions`, with `tags`), and the older wheels read for "a version without the cause"
//! (`fixes`). The rules that pick from them are in `compare`.

mod fixes;
mod tags;
mod versions;

use crate::compare::Available;
use crate::engine::Engine;
use crate::model::RunReport;
use crate::settings::RunSettings;

/// Tags of the bases and files of the distributions that some job could not take a wheel for,
/// and the older versions read where a distribution fails by a cause in its native files
/// (`fixhints`).
pub async fn gather(engine: &Engine, s: &RunSettings, report: &RunReport) -> Available {
    let fixes = fixes::gather(engine, s, report).await;
    Available { fixes, ..versions::without_wheels(engine, s, report).await }
}
