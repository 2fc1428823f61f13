//! `report diff` and `report merge`: work on saved reports, no engine. Both are pure functions
//! of the reports (`report::diff`, `report::merge`); this is reading, checking and printing.

use crate::cli::{DiffArgs, Format, MergeArgs, ReportArgs, ReportCommand};
use crate::error::{Error, Result};
use crate::report::{self, diff, merge};
use crate::settings::Output;

pub fn run(a: &ReportArgs) -> Result<i32> {
    match &a.command {
        ReportCommand::Diff(d) => run_diff(d),
        ReportCommand::Merge(m) => run_merge(m),
    }
}

fn run_diff(a: &DiffArgs) -> Result<i32> {
    let old = report::read(&a.old).map_err(Error::Usage)?;
    let new = report::read(&a.new).map_err(Error::Usage)?;
    let caveats = diff::caveats(&old, Some(&new), &new.matrix_digest, crate::settings::allow(&a.allow))
        .map_err(|e| Error::Usage(format!("report diff {} {}: {e}", a.old.display(), a.new.display())))?;
    // Decided as `run --baseline` decides: only what is new or worse fails.
    let (outcome, d) = crate::compare::outcome(&new, Some(&diff::Baseline { report: old, caveats }));
    let d = d.expect("a comparison with a baseline");
    let text = match a.format {
        Format::Json => serde_json::to_string_pretty(&d).expect("serialising a diff") + "\n",
        Format::Markdown => diff::render_markdown(&d),
        Format::Table => diff::render_table(&d),
        Format::Junit | Format::Html => {
            return Err(Error::Usage("report diff renders as table, markdown or json".into()))
        }
    };
    super::print(&text)?;
    Ok(outcome.exit_code)
}

fn run_merge(a: &MergeArgs) -> Result<i32> {
    let out = Output::from_args(&a.output);
    out.check()?;
    let reports = a.reports.iter().map(|p| report::read(p).map_err(Error::Usage)).collect::<Result<Vec<_>>>()?;
    let mut merged = merge::merge(reports).map_err(Error::Usage)?;
    // The union is decided again, as one run of the whole matrix would have been.
    merged.outcome = Some(crate::compare::outcome(&merged, None).0);
    super::save(&merged, &out)?;
    super::emit(&merged, &out)?;
    Ok(super::exit_code_of(&merged))
}
