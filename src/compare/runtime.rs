//! Run time of the smoke script between bases (informational unless the policy blocks on it):
//! musl's allocator and parts of its libm are slower than glibc's, and a dependency that leans
//! on them can be several times slower on one base while working the same.
//!
//! A base is slower than another when its median is at least the policy's ratio times the
//! other's *and* the spreads (min..max of the counted runs) do not overlap: on a loaded machine
//! a ratio of medians alone would turn noise into findings. A base with fewer than
//! [`MIN_RUNTIME_RUNS`] counted runs, or whose main-thread smoke run did not pass, is not
//! compared: too little evidence is never a finding.

use std::collections::BTreeMap;

use super::{BaseResult, Draft};
use crate::kinds::FindingKind;
pub use crate::matrix::MIN_RUNTIME_RUNS;
use crate::report::model::SmokeRuntime;

/// A base's timing, when it can be compared: (median, min, max).
fn comparable<'a>(r: &BaseResult<'a>) -> Result<(f64, f64, f64, &'a SmokeRuntime), String> {
    let p = r.job.probe.as_ref().ok_or("not probed")?;
    if !p.smoke.as_ref().is_some_and(|s| s.is_ok()) {
        return Err("not timed: the smoke test did not pass".into());
    }
    let t = p.smoke_runtime.as_ref().ok_or("not timed")?;
    not_comparable(t).map_or(Ok(()), Err)?;
    match (t.median_secs, t.min_secs, t.max_secs) {
        (Some(m), Some(lo), Some(hi)) if m > 0.0 && lo <= m && m <= hi => Ok((m, lo, hi, t)),
        _ => Err("not compared: no usable timing".into()),
    }
}

/// Why a timing is not compared, or `None` when it can be: what a job's rendering says.
pub fn not_comparable(t: &SmokeRuntime) -> Option<String> {
    let n = t.runs_secs.len();
    if n >= MIN_RUNTIME_RUNS as usize {
        return None;
    }
    let why = t.stopped.as_deref().map(|s| format!(": {s}")).unwrap_or_default();
    Some(format!(
        "not compared: {n} timed run{} of {} (at least {MIN_RUNTIME_RUNS} needed){why}",
        if n == 1 { "" } else { "s" },
        t.requested
    ))
}

/// One finding naming every base that is slower than some other base by the ratio, with the
/// spreads apart; the evidence shows every base's timing (or why it was not compared).
pub fn runtime_differs(observed: &[&BaseResult], ratio: f64) -> Vec<Draft> {
    let timed: Vec<(&str, Result<(f64, f64, f64, &SmokeRuntime), String>)> =
        observed.iter().map(|r| (r.job.base.as_str(), comparable(r))).collect();
    let ok: Vec<(&str, f64, f64, f64)> =
        timed.iter().filter_map(|(b, t)| t.as_ref().ok().map(|(m, lo, hi, _)| (*b, *m, *lo, *hi))).collect();
    // For each slower base, the faster base it differs most from.
    let mut slower: Vec<(&str, f64, &str, f64)> = vec![];
    for &(b, m, lo, _) in &ok {
        let against = ok
            .iter()
            .filter(|&&(a, am, _, ahi)| a != b && m >= ratio * am && lo > ahi)
            .min_by(|x, y| x.1.total_cmp(&y.1));
        if let Some(&(a, am, _, _)) = against {
            slower.push((b, m, a, am));
        }
    }
    if slower.is_empty() {
        return vec![];
    }
    let evidence: BTreeMap<String, String> = timed
        .iter()
        .map(|(b, t)| {
            let text = match t {
                Ok((_, _, _, rt)) => rt.describe(),
                Err(why) => why.clone(),
            };
            (b.to_string(), text)
        })
        .collect();
    let parts: Vec<String> =
        slower.iter().map(|(b, m, a, am)| format!("{:.1}x as long on {b} as on {a}", m / am)).collect();
    let summary = format!("the smoke test takes {} (medians, spreads apart)", parts.join("; "));
    let failing = slower.iter().map(|(b, ..)| b.to_string()).collect();
    vec![Draft::new(FindingKind::RuntimeDiffers, "smoke", summary, evidence, failing)]
}
