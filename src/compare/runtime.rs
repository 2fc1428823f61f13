//! Run time of the smoke script between bases (informational unless the policy blocks on it):
//! musl's allocator and parts of its libm are slower than glibc's, and a dependency that leans
//! on them can be several times slower on one base while working the same.
//!
//! A base is slower than another when its median is at least the policy's ratio times the
//! other's *and* the spreads (min..max of the counted runs) do not overlap *and* the medians are
//! at least [`MIN_RUNTIME_GAP_SECS`] apart: on a loaded machine a ratio of medians alone would
//! turn noise into findings, and the runs of a script that takes a few tens of milliseconds
//! (mostly the interpreter starting) all fit in one burst of someone else's load, which moves
//! them together past any spread. A base with fewer than
//! [`MIN_RUNTIME_RUNS`] counted runs, or whose main-thread smoke run did not pass, is not
//! compared: too little evidence is never a finding.

use std::collections::BTreeMap;

use super::{BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::model::SmokeRuntime;

/// Medians closer than this are never a finding, whatever their ratio: a difference of a few
/// tens of milliseconds per run is within what a shared engine's scheduling does to a short
/// process, and of no consequence for a service.
pub const MIN_RUNTIME_GAP_SECS: f64 = 0.1;

/// A base's timing that can be compared.
struct Timed<'a> {
    median: f64,
    min: f64,
    max: f64,
    runtime: &'a SmokeRuntime,
}

/// The timing of a base, or why it is not compared.
fn comparable<'a>(r: &BaseResult<'a>) -> Result<Timed<'a>, String> {
    let p = r.job.probe.as_ref().ok_or("not probed")?;
    if !p.smoke.as_ref().is_some_and(|s| s.is_ok()) {
        return Err("not timed: the smoke test did not pass".into());
    }
    let t = p.smoke_runtime.as_ref().ok_or("not timed")?;
    t.not_comparable().map_or(Ok(()), Err)?;
    match (t.median_secs, t.min_secs, t.max_secs) {
        (Some(median), Some(min), Some(max)) if median > 0.0 && min <= median && median <= max => {
            Ok(Timed { median, min, max, runtime: t })
        }
        _ => Err("not compared: no usable timing".into()),
    }
}

/// One finding naming every base that is slower than some other base by the ratio, with the
/// spreads apart; the evidence shows every base's timing (or why it was not compared).
pub fn runtime_differs(observed: &[&BaseResult], ratio: f64) -> Vec<Draft> {
    let timed: Vec<(&str, Result<Timed, String>)> =
        observed.iter().map(|r| (r.job.base.as_str(), comparable(r))).collect();
    let ok: Vec<(&str, &Timed)> = timed.iter().filter_map(|(b, t)| t.as_ref().ok().map(|t| (*b, t))).collect();
    // For each slower base, the fastest base it differs from.
    let mut slower: Vec<(&str, f64, &str, f64)> = vec![];
    for &(b, t) in &ok {
        let against = ok
            .iter()
            .filter(|(a, o)| {
                *a != b && t.median >= ratio * o.median && t.min > o.max && t.median - o.median >= MIN_RUNTIME_GAP_SECS
            })
            .min_by(|x, y| x.1.median.total_cmp(&y.1.median));
        if let Some((a, o)) = against {
            slower.push((b, t.median, a, o.median));
        }
    }
    if slower.is_empty() {
        return vec![];
    }
    let evidence: BTreeMap<String, String> = timed
        .iter()
        .map(|(b, t)| {
            let text = match t {
                Ok(t) => t.runtime.describe(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{dependency_findings, verdicts, Dependency};
    use crate::matrix::{KnownDifference, Policy, Requirement};
    use crate::model::{BuildOutcome, CheckOutcome, Completion, JobRecord, Severity, WheelProbe};

    /// An installed job whose probe finished, with a passing smoke run timed as `runs`.
    fn job(base: &str, runs: &[f64]) -> JobRecord {
        let probe = WheelProbe {
            completion: Completion::Complete,
            smoke: Some(CheckOutcome::Ok),
            smoke_thread: Some(CheckOutcome::Ok),
            smoke_runtime: Some(SmokeRuntime::from_runs(5, runs.to_vec())),
            ..Default::default()
        };
        JobRecord { probe: Some(probe), ..JobRecord::new("pkg", base, "pkg", BuildOutcome::Installed) }
    }

    fn rule(jobs: &[JobRecord], ratio: f64) -> Vec<Draft> {
        let rs: Vec<BaseResult> = jobs.iter().map(|job| BaseResult { job, required: true, compiler: None }).collect();
        let refs: Vec<&BaseResult> = rs.iter().collect();
        runtime_differs(&refs, ratio)
    }

    const FAST: [f64; 5] = [0.21, 0.20, 0.23, 0.22, 0.21];
    const SLOW: [f64; 5] = [1.9, 1.8, 2.1, 1.9, 2.0];

    #[test]
    fn a_base_many_times_slower_with_the_spreads_apart_is_a_finding_with_the_numbers() {
        let d = rule(&[job("glibc", &FAST), job("musl", &SLOW)], 1.5);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, FindingKind::RuntimeDiffers);
        assert_eq!(d[0].item, "smoke");
        assert_eq!(d[0].failing, vec!["musl".to_string()]);
        assert_eq!(d[0].evidence["glibc"], "median 0.21 s (0.20–0.23 s, 5 runs)");
        assert_eq!(d[0].evidence["musl"], "median 1.9 s (1.8–2.1 s, 5 runs)");
        assert!(d[0].summary.contains("9.0x as long on musl as on glibc"), "{}", d[0].summary);
        // Either base can be the slow one: nothing here knows which libc "should" be faster.
        let d = rule(&[job("glibc", &SLOW), job("musl", &FAST)], 1.5);
        assert_eq!(d[0].failing, vec!["glibc".to_string()]);
    }

    #[test]
    fn the_ratio_of_medians_must_reach_the_threshold() {
        let fast = [2.1, 2.0, 2.3, 2.2, 2.1];
        let slower = [3.0, 3.1, 3.2, 3.1, 3.0]; // 1.48x the fast median, spreads apart
        assert!(rule(&[job("glibc", &fast), job("musl", &slower)], 1.5).is_empty());
        assert_eq!(rule(&[job("glibc", &fast), job("musl", &slower)], 1.4).len(), 1);
        // Exactly at the threshold counts.
        let double = [4.2, 4.1, 4.4, 4.3, 4.2];
        assert_eq!(rule(&[job("glibc", &fast), job("musl", &double)], 2.0).len(), 1);
    }

    #[test]
    fn a_short_script_is_no_finding_however_large_the_ratio() {
        // 30 ms against 80 ms, spreads apart: the interpreter starting under someone's load.
        let quick = [0.030, 0.031, 0.029, 0.030, 0.032];
        let slower = [0.080, 0.079, 0.082, 0.081, 0.080];
        assert!(rule(&[job("glibc", &quick), job("musl", &slower)], 1.5).is_empty());
        let slower = [0.131, 0.130, 0.133, 0.132, 0.131]; // 0.1 s apart: compared
        assert_eq!(rule(&[job("glibc", &quick), job("musl", &slower)], 1.5).len(), 1);
    }

    #[test]
    fn overlapping_spreads_are_no_finding_whatever_the_medians() {
        // Medians 0.21 and 1.9 s, but one slow outlier of the fast base reaches the slow range:
        // the machine was loaded, the bases may not differ.
        let noisy = [0.21, 0.20, 1.85, 0.22, 0.21];
        assert!(rule(&[job("glibc", &noisy), job("musl", &SLOW)], 1.5).is_empty());
        let touching = [0.21, 0.20, 1.8, 0.22, 0.21]; // max == the slow base's min
        assert!(rule(&[job("glibc", &touching), job("musl", &SLOW)], 1.5).is_empty());
    }

    #[test]
    fn fewer_than_three_runs_are_never_compared_and_say_why() {
        let mut few = job("musl", &SLOW[..2]);
        few.probe.as_mut().unwrap().smoke_runtime.as_mut().unwrap().stopped =
            Some("the next run (about 2.0 s) would not fit in the 3 s budget".into());
        assert!(rule(&[job("glibc", &FAST), few.clone()], 1.5).is_empty());
        let t = few.probe.as_ref().unwrap().smoke_runtime.as_ref().unwrap();
        assert_eq!(
            t.not_comparable().unwrap(),
            "not compared: 2 timed runs of 5 (at least 3 needed): the next run (about 2.0 s) would not fit in the 3 s budget"
        );
        assert_eq!(rule(&[job("glibc", &FAST), job("musl", &SLOW[..3])], 1.5).len(), 1);
        // With a third base that is slow, the base with too few runs is shown, not compared.
        let d = rule(&[job("glibc", &FAST), few, job("other", &SLOW)], 1.5);
        assert_eq!(d[0].failing, vec!["other".to_string()]);
        assert!(d[0].evidence["musl"].starts_with("not compared: 2 timed runs"), "{:?}", d[0].evidence);
    }

    #[test]
    fn a_smoke_test_that_failed_or_crashed_is_never_timed() {
        for outcome in
            [CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() }, CheckOutcome::Error { message: "boom".into() }]
        {
            // Even with timings in the record (a crash is fast), a failed run is not a speed.
            let mut bad = job("musl", &SLOW);
            bad.probe.as_mut().unwrap().smoke = Some(outcome);
            assert!(rule(&[job("glibc", &FAST), bad.clone()], 1.5).is_empty());
            let mut bad_fast = job("glibc", &FAST);
            bad_fast.probe.as_mut().unwrap().smoke = bad.probe.as_ref().unwrap().smoke.clone();
            assert!(rule(&[bad_fast, job("musl", &SLOW)], 1.5).is_empty());
        }
        // No timing at all (no smoke script, timing off) is nothing to compare either.
        let mut none = job("musl", &SLOW);
        none.probe.as_mut().unwrap().smoke_runtime = None;
        assert!(rule(&[job("glibc", &FAST), none], 1.5).is_empty());
    }

    #[test]
    fn it_is_informational_unless_the_policy_blocks_on_it_and_a_known_difference_accepts_it() {
        let dep = |known: Option<KnownDifference>| Dependency {
            name: "pkg".into(),
            requirement: Requirement::parse("pkg").unwrap(),
            also: vec![],
            constraints: vec![],
            smoke: None,
            known_difference: known,
        };
        let (a, b) = (job("glibc", &FAST), job("musl", &SLOW));
        let rs = [
            BaseResult { job: &a, required: true, compiler: None },
            BaseResult { job: &b, required: true, compiler: None },
        ];
        let decide = |policy: &Policy, d: &Dependency| {
            let f = dependency_findings(d, policy, &rs);
            let v = verdicts(d, policy, &rs, &f);
            (f, v)
        };
        let (f, v) = decide(&Policy::default(), &dep(None));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].id.as_str(), f[0].severity), ("pkg/runtime-differs/smoke", Severity::Info));
        assert!(v.iter().all(|v| v.pass));
        let mut strict = Policy::default();
        strict.blocking.push(FindingKind::RuntimeDiffers);
        let (f, v) = decide(&strict, &dep(None));
        assert_eq!(f[0].severity, Severity::Blocking);
        assert_eq!(v.iter().map(|v| (v.base.as_str(), v.pass)).collect::<Vec<_>>(), [("glibc", true), ("musl", false)]);
        let known = KnownDifference { kinds: vec![FindingKind::RuntimeDiffers], reason: "batch job".into() };
        let (f, v) = decide(&strict, &dep(Some(known)));
        assert_eq!((f[0].severity, f[0].known.as_deref()), (Severity::Info, Some("batch job")));
        assert!(v.iter().all(|v| v.pass));
        // The policy's ratio is the one applied.
        let lax = Policy { runtime_ratio: 10.0, ..Policy::default() };
        assert!(decide(&lax, &dep(None)).0.is_empty());
    }

    #[test]
    fn medians_and_spreads_of_even_and_odd_counts() {
        let t = SmokeRuntime::from_runs(4, vec![0.4, 0.1, 0.3, 0.2]);
        assert_eq!((t.median_secs, t.min_secs, t.max_secs), (Some(0.25), Some(0.1), Some(0.4)));
        assert_eq!(t.runs_secs, vec![0.4, 0.1, 0.3, 0.2], "kept in the order they ran");
        let t = SmokeRuntime::from_runs(5, vec![]);
        assert_eq!((t.median_secs, t.describe().as_str()), (None, "no timed run"));
        assert_eq!(SmokeRuntime::from_runs(1, vec![12.3]).describe(), "median 12 s (12–12 s, 1 run)");
    }
}
