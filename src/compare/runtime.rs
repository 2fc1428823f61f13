//! Run time of the smoke script between bases (informational unless the policy blocks on it):
//! musl's allocator and parts of its libm are slower than glibc's, and a dependency that leans
//! on them can be several times slower on one base while working the same.
//!
//! Each base's smoke runs are measured against its control (a fixed pure-Python program run
//! before each smoke run, in the same window): two bases' interpreters need not be built alike
//! (compiler, flags, the profile that guided them), and a smoke run
//! slower by as much as the control is the interpreter, not the dependency. A base is slower
//! than another when its median is at least the policy's ratio times the other's, times the
//! ratio of their controls when that is more than 1, *and* the spreads (min..max of the counted
//! runs) do not overlap *and* the medians are at least [`MIN_RUNTIME_GAP_SECS`] apart. The
//! controls' ratio is taken at its least favourable, the cautious reading of the spreads as
//! for the smoke runs: the slower base's next-to-slowest control run over the other's
//! next-to-fastest (with four runs or more; the slowest over the fastest with three). A control
//! whose runs vary threefold says the window was loaded unevenly, and its median alone would
//! let that load's share of the smoke runs pass for the dependency's (a CI machine running the
//! suite beside itself once gave a small wheel's import-sized smoke 3.2x against a median
//! control of 2.1x, with the control's runs between 0.47 and 1.5 s on one base). One run apart
//! is left out at each end: concurrent probes share the CPU their timed runs are pinned to, and
//! a single control run that met another probe's takes twice as long (0.17 against 0.34 s on
//! the seed matrix), which would raise the bar for a window that was even otherwise. On a
//! loaded machine a ratio of medians alone would turn noise into findings, and the
//! runs of a script that takes a few tens of milliseconds (mostly the interpreter starting) all
//! fit in one burst of someone else's load, which moves them together past any spread. A base
//! with fewer than [`MIN_RUNTIME_RUNS`](crate::matrix::MIN_RUNTIME_RUNS) counted runs (of the
//! smoke script or of the control), or whose main-thread smoke run did not pass, is not
//! compared: too little evidence is never a finding. Nor are timings of different runs: when
//! one base's observation came from the observation cache and another's is new, no base of the
//! dependency is compared, and each job says why ([`note_mixed_timings`]).

use std::collections::{BTreeMap, BTreeSet};

use super::{BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::model::{JobRecord, SmokeRuntime};

/// Medians closer than this are never a finding, whatever their ratio: a difference of a few
/// tens of milliseconds per run is within what a shared engine's scheduling does to a short
/// process, and of no consequence for a service.
pub const MIN_RUNTIME_GAP_SECS: f64 = 0.1;

/// A base's timing that can be compared.
struct Timed<'a> {
    median: f64,
    min: f64,
    max: f64,
    /// The control's median and spread; `None` in a record older than the control.
    control: Option<Control>,
    runtime: &'a SmokeRuntime,
}

/// A base's control: its median and the spread of its runs, one run left out at each end when
/// there are four or more (see the module's comment).
#[derive(Clone, Copy)]
struct Control {
    median: f64,
    fast: f64,
    slow: f64,
}

impl Control {
    fn of(c: &crate::model::ControlRuntime) -> Option<Control> {
        let median = c.comparable_median()?;
        let mut runs = c.runs_secs.clone();
        runs.sort_by(f64::total_cmp);
        let trim = usize::from(runs.len() >= 4);
        let (fast, slow) = (*runs.get(trim)?, *runs.get(runs.len().checked_sub(1 + trim)?)?);
        (fast > 0.0).then_some(Control { median, fast, slow })
    }
}

/// The timing of a job, when it has one to compare or to explain.
fn timing(job: &JobRecord) -> Option<&SmokeRuntime> {
    job.probe.as_ref()?.smoke_runtime.as_ref()
}

/// The timing of a base, or why it is not compared.
fn comparable<'a>(r: &BaseResult<'a>) -> Result<Timed<'a>, String> {
    let p = r.job.probe.as_ref().ok_or("not probed")?;
    if !p.smoke.as_ref().is_some_and(|s| s.is_ok()) {
        return Err("not timed: the smoke test did not pass".into());
    }
    let t = p.smoke_runtime.as_ref().ok_or("not timed")?;
    t.not_comparable().map_or(Ok(()), Err)?;
    let control = t.control.as_ref().and_then(Control::of);
    match (t.median_secs, t.min_secs, t.max_secs) {
        (Some(median), Some(min), Some(max)) if median > 0.0 && min <= median && median <= max => {
            Ok(Timed { median, min, max, control, runtime: t })
        }
        _ => Err("not compared: no usable timing".into()),
    }
}

/// Why the timings of these jobs (one dependency's) are not compared because they were taken in
/// different runs: some came from the observation cache and some are new. `None` when they are
/// all of one kind.
pub fn mixed_timings<'a>(jobs: impl IntoIterator<Item = &'a JobRecord>) -> Option<String> {
    let (mut cached, mut fresh) = (BTreeSet::new(), BTreeSet::new());
    for j in jobs.into_iter().filter(|j| timing(j).is_some()) {
        if j.probe_cached { &mut cached } else { &mut fresh }.insert(j.base.as_str());
    }
    if cached.is_empty() || fresh.is_empty() {
        return None;
    }
    let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
    Some(format!(
        "not compared: timed in an earlier run on {} (kept observation) and in this run on {}; \
         timings of different runs are not compared (--no-cache times every base again)",
        list(&cached),
        list(&fresh)
    ))
}

/// Marks the timing of every job whose dependency's timings were taken in different runs (see
/// [`mixed_timings`]) with why they are not compared, so that each job's rendering says it.
pub fn note_mixed_timings(jobs: &mut [JobRecord]) {
    let dependencies: BTreeSet<String> = jobs.iter().map(|j| j.dependency.clone()).collect();
    for dep in dependencies {
        let why = mixed_timings(jobs.iter().filter(|j| j.dependency == dep));
        for j in jobs.iter_mut().filter(|j| j.dependency == dep) {
            if let Some(t) = j.probe.as_mut().and_then(|p| p.smoke_runtime.as_mut()) {
                t.not_compared.clone_from(&why);
            }
        }
    }
}

/// One slower base: its median, the base it is slower than and that one's median, and the
/// ratio of their controls (`None` without controls).
struct Slower<'a> {
    base: &'a str,
    median: f64,
    against: &'a str,
    against_median: f64,
    control_ratio: Option<ControlRatio>,
}

/// How much slower one base's control ran than another's: the ratio of their medians (what the
/// finding says) and the least favourable one, the first's slow end over the other's fast end
/// (what the bar is raised by).
#[derive(Clone, Copy)]
struct ControlRatio {
    medians: f64,
    cautious: f64,
}

/// The ratio of base `t`'s control to base `o`'s: `Some(None)` when neither has a control
/// (records older than it), `None` when only one has (they are not compared).
fn control_ratio(t: &Timed, o: &Timed) -> Option<Option<ControlRatio>> {
    match (t.control, o.control) {
        (Some(a), Some(b)) => Some(Some(ControlRatio { medians: a.median / b.median, cautious: a.slow / b.fast })),
        (None, None) => Some(None),
        _ => None,
    }
}

/// One finding naming every base that is slower than some other base by the ratio, beyond what
/// their controls differ by and with the spreads apart; the evidence shows every base's timing
/// (or why it was not compared).
pub fn runtime_differs(observed: &[&BaseResult], ratio: f64) -> Vec<Draft> {
    if mixed_timings(observed.iter().map(|r| r.job)).is_some() {
        return vec![];
    }
    let timed: Vec<(&str, Result<Timed, String>)> =
        observed.iter().map(|r| (r.job.base.as_str(), comparable(r))).collect();
    let ok: Vec<(&str, &Timed)> = timed.iter().filter_map(|(b, t)| t.as_ref().ok().map(|t| (*b, t))).collect();
    // For each slower base, the fastest base it differs from.
    let mut slower: Vec<Slower> = vec![];
    for &(b, t) in &ok {
        let against = ok
            .iter()
            .filter_map(|&(a, o)| {
                let c = control_ratio(t, o)?;
                // A control faster on the slower base never lowers the bar below the ratio.
                let bar = ratio * c.map_or(1.0, |c| c.cautious).max(1.0);
                let differs = a != b
                    && t.median >= bar * o.median
                    && t.min > o.max
                    && t.median - o.median >= MIN_RUNTIME_GAP_SECS;
                differs.then_some((a, o, c))
            })
            .min_by(|x, y| x.1.median.total_cmp(&y.1.median));
        if let Some((a, o, c)) = against {
            slower.push(Slower { base: b, median: t.median, against: a, against_median: o.median, control_ratio: c });
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
    let parts: Vec<String> = slower
        .iter()
        .map(|s| {
            let control = match s.control_ratio {
                Some(c) if c.cautious > c.medians * 1.05 => format!(
                    ", where the control takes {:.1}x (up to {:.1}x, {}'s slower control runs against {}'s faster)",
                    c.medians, c.cautious, s.base, s.against
                ),
                Some(c) => format!(", where the control takes {:.1}x", c.medians),
                None => ", without a control".to_string(),
            };
            format!("{:.1}x as long on {} as on {}{control}", s.median / s.against_median, s.base, s.against)
        })
        .collect();
    let summary = format!("the smoke test takes {} (medians, spreads apart)", parts.join("; "));
    let failing = slower.iter().map(|s| s.base.to_string()).collect();
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

    /// [`job`] with the control timed as `control` beside the smoke runs.
    fn controlled(base: &str, runs: &[f64], control: &[f64]) -> JobRecord {
        let mut j = job(base, runs);
        let t = j.probe.as_mut().unwrap().smoke_runtime.take().unwrap();
        j.probe.as_mut().unwrap().smoke_runtime = Some(t.with_control(control.to_vec()));
        j
    }

    /// The rule on a glibc and a musl base, each with its smoke runs and its control's runs.
    fn both(glibc: &[f64], glibc_control: &[f64], musl: &[f64], musl_control: &[f64]) -> Vec<Draft> {
        rule(&[controlled("glibc", glibc, glibc_control), controlled("musl", musl, musl_control)], 1.5)
    }

    const FAST: [f64; 5] = [0.21, 0.20, 0.23, 0.22, 0.21];
    const SLOW: [f64; 5] = [1.9, 1.8, 2.1, 1.9, 2.0];
    /// A control of about 0.15 s, and the same control on an interpreter 1.6x as slow.
    const CONTROL: [f64; 5] = [0.15, 0.14, 0.16, 0.15, 0.15];
    const CONTROL_SLOWER: [f64; 5] = [0.24, 0.23, 0.26, 0.24, 0.25];

    #[test]
    fn an_interpreter_wide_slowdown_measured_by_the_control_is_no_finding() {
        // Pure-Python work 1.6x as long on musl, spreads apart, 0.6 s apart: and the control,
        // run in the same window, 1.6x as long too. The interpreter, not the dependency.
        let glibc = [1.0, 0.98, 1.03, 1.01, 0.99];
        let musl = [1.6, 1.58, 1.63, 1.61, 1.62];
        let d = rule(&[controlled("glibc", &glibc, &CONTROL), controlled("musl", &musl, &CONTROL_SLOWER)], 1.5);
        assert!(d.is_empty(), "{d:?}");
        // Without the control the same runs were a finding: the control is what cancels it.
        assert_eq!(rule(&[job("glibc", &glibc), job("musl", &musl)], 1.5).len(), 1);
        // The control's ratio scales the bar, taken at its least favourable: musl's
        // next-to-slowest control run over glibc's next-to-fastest is 0.25 / 0.15 = 1.67, and
        // 1.5 x 1.67 = 2.5x the other base's median (the medians' 1.6 alone would have put it
        // at 2.4x). The summary says the medians' ratio alone when the other is within 5 % of it.
        let far = [2.85, 2.83, 2.87, 2.86, 2.84];
        let d = rule(&[controlled("glibc", &glibc, &CONTROL), controlled("musl", &far, &CONTROL_SLOWER)], 1.5);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].summary.contains("where the control takes 1.6x (medians, spreads apart)"), "{}", d[0].summary);
        for near in [[2.3, 2.28, 2.33, 2.31, 2.29], [2.45, 2.43, 2.47, 2.46, 2.44]] {
            assert!(
                rule(&[controlled("glibc", &glibc, &CONTROL), controlled("musl", &near, &CONTROL_SLOWER)], 1.5)
                    .is_empty(),
                "{near:?}"
            );
        }
    }

    #[test]
    fn a_control_that_varied_with_the_load_raises_the_bar_by_its_spread() {
        // As a CI machine running the suite beside itself once timed a small wheel's
        // import-sized smoke: glibc's control between 0.47 and 1.5 s (the window's load came
        // and went), musl's between 1.4 and 1.8 s.
        let glibc = [0.035, 0.06, 0.087, 0.10, 0.12];
        let glibc_control = [0.47, 0.60, 0.79, 1.2, 1.5];
        let musl = [0.17, 0.25, 0.29, 0.30, 0.31];
        let musl_control = [1.4, 1.6, 1.7, 1.75, 1.8];
        // The medians' ratios alone: 0.29 / 0.087 = 3.3x against 1.5 x 1.7 / 0.79 = 3.2x, a
        // finding of the load. musl's next-to-slowest control run against glibc's
        // next-to-fastest is 1.75 / 0.6 = 2.9x, and the bar 4.4x.
        let median = |runs: &[f64]| SmokeRuntime::from_runs(5, runs.to_vec()).median_secs.unwrap();
        assert!(median(&musl) / median(&glibc) >= 1.5 * median(&musl_control) / median(&glibc_control));
        let d = both(&glibc, &glibc_control, &musl, &musl_control);
        assert!(d.is_empty(), "{d:?}");
        // A smoke test slower by far more than any reading of the controls still is a finding:
        // an allocator-bound one, 0.2 s against 4 s on a loaded machine.
        let alloc = [3.6, 3.9, 4.0, 4.1, 3.8];
        let glibc_alloc = [0.19, 0.2, 0.21, 0.2, 0.22];
        let d = both(&glibc_alloc, &glibc_control, &alloc, &musl_control);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].summary.contains("(up to 2.9x, musl's slower control runs against glibc's faster)"),
            "{}",
            d[0].summary
        );
    }

    #[test]
    fn one_control_run_that_met_another_probe_does_not_raise_the_bar() {
        // As the seed matrix timed asyncpg on the test-bed bases: one musl control run of 0.57 s
        // (it shared its CPU), the rest 0.36-0.44 s. Read from the slowest run the bar would be
        // 1.5 x 0.57 / 0.28 = 3.0x and the smoke's 2.9x no finding; one run left out at each
        // end, 1.5 x 0.44 / 0.31 = 2.1x.
        let glibc = [0.177, 0.20, 0.227, 0.30, 0.352];
        let glibc_control = [0.28, 0.31, 0.37, 0.41, 0.47];
        let musl = [0.464, 0.60, 0.659, 0.70, 0.771];
        let musl_control = [0.36, 0.40, 0.42, 0.44, 0.57];
        let d = both(&glibc, &glibc_control, &musl, &musl_control);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].summary.contains("2.9x as long on musl as on glibc, where the control takes 1.1x (up to 1.4x"),
            "{}",
            d[0].summary
        );
        // With three runs there is nothing to leave out: the slowest against the fastest.
        let d = both(&glibc[..3], &glibc_control[..3], &musl[..3], &[0.36, 0.42, 0.57]);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn a_smoke_test_much_slower_than_its_control_is_still_a_finding_with_both_ratios() {
        let d = rule(&[controlled("glibc", &FAST, &CONTROL), controlled("musl", &SLOW, &CONTROL_SLOWER)], 1.5);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].failing, vec!["musl".to_string()]);
        assert!(
            d[0].summary.contains("9.0x as long on musl as on glibc, where the control takes 1.6x"),
            "{}",
            d[0].summary
        );
        assert_eq!(d[0].evidence["glibc"], "median 0.21 s (0.20–0.23 s, 5 runs); control median 0.15 s (0.14–0.16 s)");
        assert_eq!(d[0].evidence["musl"], "median 1.9 s (1.8–2.1 s, 5 runs); control median 0.24 s (0.23–0.26 s)");
        // A control faster on the slower base never lowers the bar below the policy's ratio.
        let slower = [0.33, 0.32, 0.34, 0.33, 0.33]; // 1.57x FAST's median, 0.12 s apart
        let d = rule(&[controlled("glibc", &FAST, &CONTROL_SLOWER), controlled("musl", &slower, &CONTROL)], 1.6);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn a_control_with_too_few_runs_or_on_one_base_only_is_not_compared() {
        let mut short = controlled("musl", &SLOW, &CONTROL_SLOWER[..1]);
        short.probe.as_mut().unwrap().smoke_runtime.as_mut().unwrap().control.as_mut().unwrap().stopped =
            Some("control run 3 did not pass (error: MemoryError)".into());
        assert!(rule(&[controlled("glibc", &FAST, &CONTROL), short.clone()], 1.5).is_empty());
        let t = short.probe.as_ref().unwrap().smoke_runtime.as_ref().unwrap();
        assert_eq!(
            t.not_comparable().unwrap(),
            "not compared: 1 control run(s) of the 5 needed: control run 3 did not pass (error: MemoryError)"
        );
        // A record older than the control beside a new one: not the same measure, not compared.
        assert!(rule(&[controlled("glibc", &FAST, &CONTROL), job("musl", &SLOW)], 1.5).is_empty());
    }

    #[test]
    fn a_kept_timing_is_never_compared_with_a_new_one_and_each_job_says_why() {
        let (glibc, mut musl) = (controlled("glibc", &FAST, &CONTROL), controlled("musl", &SLOW, &CONTROL));
        assert_eq!(rule(&[glibc.clone(), musl.clone()], 1.5).len(), 1, "new on both: compared");
        musl.probe_cached = true;
        assert!(rule(&[glibc.clone(), musl.clone()], 1.5).is_empty(), "kept on one base, new on the other");
        let mut jobs = vec![glibc.clone(), musl.clone()];
        note_mixed_timings(&mut jobs);
        let why = "not compared: timed in an earlier run on musl (kept observation) and in this run on glibc; \
                   timings of different runs are not compared (--no-cache times every base again)";
        for j in &jobs {
            let t = j.probe.as_ref().unwrap().smoke_runtime.as_ref().unwrap();
            assert_eq!(t.not_comparable().as_deref(), Some(why), "{}", j.base);
        }
        // Kept on both (one earlier run timed both): compared, and a later close clears the note.
        for j in &mut jobs {
            j.probe_cached = true;
        }
        note_mixed_timings(&mut jobs);
        assert!(jobs.iter().all(|j| j.probe.as_ref().unwrap().smoke_runtime.as_ref().unwrap().not_compared.is_none()));
        assert_eq!(rule(&jobs, 1.5).len(), 1);
        // Another dependency's jobs are another matter.
        let mut other = controlled("glibc", &FAST, &CONTROL);
        other.dependency = "other".into();
        let mut jobs = vec![other, musl.clone()];
        note_mixed_timings(&mut jobs);
        assert!(jobs.iter().all(|j| j.probe.as_ref().unwrap().smoke_runtime.as_ref().unwrap().not_compared.is_none()));
    }

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
