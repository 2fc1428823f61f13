//! Ratios between bases: build time and installed size (informational unless the policy says
//! otherwise).

use super::{BaseResult, Draft};
use crate::kinds::FindingKind;

/// Ratios at or above these become findings.
const BUILD_TIME_RATIO: f64 = 3.0;
const SIZE_RATIO: f64 = 2.0;

pub fn build_time(rs: &[&BaseResult]) -> Vec<Draft> {
    ratio(
        FindingKind::BuildTime,
        "build time",
        BUILD_TIME_RATIO,
        // Below this the slower build is not worth a finding, however fast the other one.
        5.0,
        rs,
        |r| Some(r.job.build_secs).filter(|s| *s > 0.0),
        |v| format!("{v:.1} s"),
    )
}

pub fn size(rs: &[&BaseResult]) -> Vec<Draft> {
    ratio(
        FindingKind::Size,
        "installed size",
        SIZE_RATIO,
        1_000_000.0,
        rs,
        |r| r.job.size_over_base.filter(|s| *s > 0).map(|s| s as f64),
        |v| format!("{:.1} MB", v / 1e6),
    )
}

fn ratio(
    kind: FindingKind,
    what: &str,
    threshold: f64,
    at_least: f64,
    rs: &[&BaseResult],
    value: impl Fn(&BaseResult) -> Option<f64>,
    show: impl Fn(f64) -> String,
) -> Vec<Draft> {
    let vals: Vec<(&str, f64)> = rs.iter().filter_map(|r| value(r).map(|v| (r.job.base.as_str(), v))).collect();
    if vals.len() < 2 {
        return vec![];
    }
    let (min_b, min) = vals.iter().copied().fold(("", f64::MAX), |a, x| if x.1 < a.1 { x } else { a });
    let (max_b, max) = vals.iter().copied().fold(("", f64::MIN), |a, x| if x.1 > a.1 { x } else { a });
    if min > 0.0 && max >= at_least && max / min >= threshold {
        let evidence = vals.iter().map(|(b, v)| (b.to_string(), show(*v))).collect();
        return vec![Draft::new(
            kind,
            "",
            format!("{what} on {max_b} is {:.1}x that on {min_b} ({} vs {})", max / min, show(max), show(min)),
            evidence,
            vec![max_b.to_string()],
        )];
    }
    vec![]
}
