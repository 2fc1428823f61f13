//! The run report: one renderer per format (pure functions of the model), reading a report
//! back, and merging and comparing reports.

pub mod diff;
pub mod glance;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod table;
pub mod target;
pub mod trace;

use std::path::Path;

use crate::cli::Format;
use crate::model::{self as model, RunReport};

/// How the table format is shown: the summary or every table, with colour or without.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// `--details`: the full tables instead of the summary.
    pub details: bool,
    /// ANSI colour (only for a terminal, without NO_COLOR).
    pub colour: bool,
}

/// Renders a report in a format, plainly (no colour, the summary view of the table format).
pub fn render(report: &RunReport, format: Format) -> String {
    render_view(report, format, View::default())
}

/// Renders a report in a format and view. Reports without jobs or verdicts (`repro`, `dns`)
/// have nothing to summarise: their table is the detailed one.
pub fn render_view(report: &RunReport, format: Format, view: View) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(report).expect("serialising a report") + "\n",
        Format::Table if view.details || (report.jobs.is_empty() && report.verdicts.is_empty()) => {
            table::render(report)
        }
        Format::Table => glance::render(report, view.colour),
        Format::Markdown => markdown::render(report),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report),
    }
}

/// Whether the job of `dependency` on `base` was not applicable (its marker excludes the base):
/// renderers say so instead of showing a pass with nothing installed.
pub(crate) fn not_applicable(r: &RunReport, dependency: &str, base: &str) -> bool {
    r.jobs
        .iter()
        .any(|j| j.dependency == dependency && j.base == base && j.outcome == model::BuildOutcome::NotApplicable)
}

/// The main-thread smoke run time of a job as renderers show it: its median and spread, or why
/// it is not compared.
pub(crate) fn runtime_text(t: &model::SmokeRuntime) -> String {
    match t.not_comparable() {
        Some(why) => format!("run time {why}"),
        None => format!("run time {}", t.describe()),
    }
}

/// Reads a report written by an earlier run; an unknown schema is refused. The file must be a
/// regular file of at most [`MAX_REPORT`](crate::input::MAX_REPORT) bytes.
pub fn read(path: &Path) -> Result<RunReport, String> {
    let text = crate::input::read_regular_text(path, crate::input::MAX_REPORT)
        .map_err(|e| format!("failed to read the report {}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a report: {e}", path.display()))?;
    match v.get("schema_version") {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(model::SCHEMA_VERSION as u64) => {
            serde_json::from_value(v).map_err(|e| format!("{}: {e}", path.display()))
        }
        Some(serde_json::Value::Number(n)) if n.as_u64().is_some() => {
            Err(format!("{} has report schema {n}; this muslcheck reads {}", path.display(), model::SCHEMA_VERSION))
        }
        Some(other) => Err(format!(
            "{} has a schema_version of the wrong type: {}, where a report has a whole number ({})",
            path.display(),
            crate::input::shown(&other.to_string()),
            model::SCHEMA_VERSION
        )),
        None => Err(format!("{} is not a muslcheck report (no schema_version)", path.display())),
    }
}

#[cfg(test)]
mod tests;
