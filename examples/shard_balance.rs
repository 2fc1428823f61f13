//! Shards by count against shards by time: 200 dependencies whose times are drawn, in a fixed
//! order, from a report's measured job times (each measured dependency repeated, with a
//! deterministic spread of +-20 %), the first shard carrying the report's profile time. Prints,
//! for N = 2, 4 and 8, the slowest shard against the ideal (total / N).
//!
//! Usage: cargo run --release --example shard_balance -- REPORT [COUNT]

use std::collections::BTreeMap;

use muslcheck::shards::{by_count, by_time, durations_of, loads, sections_secs};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: shard_balance REPORT [COUNT]");
    let count: usize = args.next().map(|c| c.parse().expect("COUNT is a number")).unwrap_or(200);
    let text = std::fs::read_to_string(&path).expect("reading the report");
    let report: muslcheck::model::RunReport = serde_json::from_str(&text).expect("a muslcheck report");
    let measured: Vec<(String, f64)> = durations_of(&report).into_iter().collect();
    assert!(!measured.is_empty(), "the report has no job times");
    let profiles = sections_secs(&report);
    let mut durations = BTreeMap::new();
    for i in 0..count {
        let (name, secs) = &measured[i % measured.len()];
        // A fixed spread, so the copies of one dependency are not all equal.
        let spread = 0.8 + 0.4 * ((i * 37) % 101) as f64 / 100.0;
        durations.insert(format!("{name}-{i:03}"), secs * spread);
    }
    let names: Vec<String> = durations.keys().cloned().collect();
    let total: f64 = durations.values().sum::<f64>() + profiles;
    println!(
        "{count} dependencies from {} measured in run {} ({:.0} s of jobs, profiles {:.0} s)",
        measured.len(),
        report.run_id,
        total - profiles,
        profiles
    );
    println!("{:>3} {:>10} {:>18} {:>18}", "N", "ideal s", "by count (x ideal)", "by time (x ideal)");
    for n in [2u32, 4, 8] {
        let ideal = total / n as f64;
        let slowest = |a: &BTreeMap<String, u32>| loads(a, n, &durations, profiles).into_iter().fold(0.0, f64::max);
        let counted = slowest(&by_count(&names, n));
        let timed = slowest(&by_time(&names, n, &durations, profiles));
        println!(
            "{n:>3} {ideal:>10.0} {:>11.0} ({:.2}x) {:>11.0} ({:.2}x)",
            counted,
            counted / ideal,
            timed,
            timed / ideal
        );
    }
}
