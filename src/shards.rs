//! Which dependencies a shard of a nightly takes. Without measured times, by count: the sorted
//! names, K-1 modulo N. With last night's report (`--durations`), by time: longest first onto
//! the least-loaded shard (deterministic: ties go to the lower shard, equal times by name), the
//! first shard starting with the per-base profiles' time, since it runs them. A name the report
//! does not know weighs what the known ones weigh on average, so unknown names are spread by
//! count among the shards. Every runner computes the same assignment from the same inputs.

use std::collections::BTreeMap;

/// A dependency's measured time: its jobs' build and probe seconds on every base.
pub fn durations_of(report: &crate::model::RunReport) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for j in &report.jobs {
        *out.entry(j.dependency.clone()).or_insert(0.0) += j.build_secs + j.probe_secs;
    }
    out
}

/// The per-base sections' time in a report (the first shard runs them).
pub fn sections_secs(report: &crate::model::RunReport) -> f64 {
    report.timings.sections.values().sum()
}

/// The shard (1-based) of each name, in the order given, by count.
pub fn by_count(names: &[String], n: u32) -> BTreeMap<String, u32> {
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    sorted.into_iter().enumerate().map(|(i, name)| (name.clone(), (i as u32 % n) + 1)).collect()
}

/// The shard (1-based) of each name, by time; `first_extra` is the time the first shard spends
/// besides its dependencies (the per-base profiles).
pub fn by_time(names: &[String], n: u32, durations: &BTreeMap<String, f64>, first_extra: f64) -> BTreeMap<String, u32> {
    let known: Vec<f64> = names.iter().filter_map(|d| durations.get(d).copied()).collect();
    let unknown_weight = if known.is_empty() { 1.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
    let weight = |d: &String| durations.get(d).copied().unwrap_or(unknown_weight).max(0.0);
    let mut order: Vec<&String> = names.iter().collect();
    order.sort_by(|a, b| weight(b).total_cmp(&weight(a)).then_with(|| a.cmp(b)));
    let mut load = vec![0.0_f64; n as usize];
    load[0] = first_extra.max(0.0);
    let mut out = BTreeMap::new();
    for d in order {
        let (k, _) = load
            .iter()
            .enumerate()
            .min_by(|(i, a), (j, b)| a.total_cmp(b).then_with(|| i.cmp(j)))
            .expect("at least one shard");
        load[k] += weight(d);
        out.insert(d.clone(), k as u32 + 1);
    }
    out
}

/// Each shard's total time under an assignment (the first with `first_extra` added).
pub fn loads(
    assignment: &BTreeMap<String, u32>,
    n: u32,
    durations: &BTreeMap<String, f64>,
    first_extra: f64,
) -> Vec<f64> {
    let mut load = vec![0.0_f64; n as usize];
    load[0] = first_extra;
    for (d, k) in assignment {
        load[*k as usize - 1] += durations.get(d).copied().unwrap_or(0.0);
    }
    load
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("d{i:03}")).collect()
    }

    #[test]
    fn counts_split_the_sorted_names_modulo_n() {
        let a = by_count(&names(10), 3);
        assert_eq!((1..=3).map(|k| a.values().filter(|v| **v == k).count()).collect::<Vec<_>>(), [4, 3, 3]);
        assert_eq!(a["d000"], 1);
        assert_eq!(a["d001"], 2);
    }

    #[test]
    fn the_longest_job_gets_a_shard_of_its_own_and_the_rest_balance() {
        // One 250 s source build and many small jobs: by count the build's shard also gets its
        // share of the small ones; by time it gets none.
        let mut d: BTreeMap<String, f64> = names(13).into_iter().map(|n| (n, 10.0)).collect();
        d.insert("d000".into(), 250.0);
        let all: Vec<String> = d.keys().cloned().collect();
        let timed = by_time(&all, 2, &d, 0.0);
        let big = timed["d000"];
        assert!(timed.iter().all(|(n, k)| n == "d000" || *k != big), "{timed:?}");
        let counted = by_count(&all, 2);
        let slowest = |a: &BTreeMap<String, u32>| loads(a, 2, &d, 0.0).into_iter().fold(0.0, f64::max);
        assert!(slowest(&timed) < slowest(&counted));
        assert_eq!(slowest(&timed), 250.0);
    }

    #[test]
    fn the_first_shard_carries_the_profiles_and_the_assignment_is_deterministic() {
        let d: BTreeMap<String, f64> = names(4).into_iter().map(|n| (n, 10.0)).collect();
        let all: Vec<String> = d.keys().cloned().collect();
        let a = by_time(&all, 2, &d, 25.0);
        assert_eq!(a.values().filter(|k| **k == 1).count(), 1, "the profiles' 25 s fill most of shard 1: {a:?}");
        assert_eq!(a, by_time(&all, 2, &d, 25.0));
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(a, by_time(&reversed, 2, &d, 25.0), "the order names are given in changes nothing");
    }

    #[test]
    fn unknown_names_are_spread_by_count() {
        let d: BTreeMap<String, f64> = BTreeMap::from([("d000".into(), 10.0), ("d001".into(), 10.0)]);
        let a = by_time(&names(8), 4, &d, 0.0);
        assert_eq!((1..=4).map(|k| a.values().filter(|v| **v == k).count()).collect::<Vec<_>>(), [2, 2, 2, 2]);
        // With no known time at all, every name weighs the same.
        let b = by_time(&names(8), 4, &BTreeMap::new(), 0.0);
        assert_eq!((1..=4).map(|k| b.values().filter(|v| **v == k).count()).collect::<Vec<_>>(), [2, 2, 2, 2]);
    }
}
