//! The merge of shards. A run with `--shard K/N` takes some of the dependencies (the unit the
//! comparison works on: all bases of a dependency are compared together; which ones is the
//! `shards` module's rule, by count or by last night's times), and shard 1 also runs the
//! per-base profiles. `report merge` checks that the reports are shards of one matrix, none
//! twice and none missing, each finished, and that their jobs are exactly the matrix's plan
//! (recorded in each report), none in two shards; then it unions them: findings and verdicts
//! are per dependency (or per base, deduplicated by id), so the union is what one run would
//! have found, and the outcome is decided again from it.

use std::collections::BTreeMap;

use crate::model::RunReport;

/// The shard as named in messages: `K/N (run ID)`.
fn named(r: &RunReport) -> String {
    match r.shard {
        Some(s) => format!("shard {}/{} (run {})", s.k, s.n, r.run_id),
        None => format!("run {}", r.run_id),
    }
}

/// Checks that the shards are finished and hold exactly the matrix's plan between them, each
/// job once.
fn check_plan(reports: &[RunReport]) -> Result<(), String> {
    for r in reports {
        if let Some(why) = r.unfinished() {
            return Err(format!(
                "{} is unfinished: {why}; run that shard again (a merge of it would pass jobs nobody ran)",
                named(r)
            ));
        }
        if r.planned.is_empty() {
            return Err(format!(
                "{} does not record the matrix's plan (`planned`): it was written by an older muslcheck; run it again",
                named(r)
            ));
        }
    }
    let plan = &reports[0].planned;
    if let Some(r) = reports.iter().find(|r| &r.planned != plan) {
        return Err(format!("{} and {} record different plans of the matrix", named(&reports[0]), named(r)));
    }
    let mut owner: BTreeMap<&str, &RunReport> = BTreeMap::new();
    for r in reports {
        for id in r.jobs.iter().map(|j| j.id.as_str()) {
            if let Some(other) = owner.insert(id, r) {
                return Err(format!("job {id} is in two shards: {} and {}", named(other), named(r)));
            }
        }
    }
    let all: Vec<&String> = plan.values().flatten().collect();
    let extra: Vec<&str> = owner.keys().copied().filter(|id| !all.iter().any(|p| p.as_str() == *id)).collect();
    if !extra.is_empty() {
        return Err(format!("jobs outside the matrix's plan: {}", extra.join(", ")));
    }
    // Which dependencies a shard takes depends on how the shards were balanced (by count, or by
    // the times of a report): what must hold is that together they ran the whole plan.
    let missing: Vec<&str> = all.iter().map(|id| id.as_str()).filter(|id| !owner.contains_key(id)).collect();
    if !missing.is_empty() {
        let empty: Vec<String> = reports.iter().filter(|r| r.jobs.is_empty()).map(named).collect();
        return Err(format!(
            "the shards do not hold the whole matrix's plan: missing {}{}",
            missing.join(", "),
            if empty.is_empty() { String::new() } else { format!(" ({} has no jobs)", empty.join(", ")) }
        ));
    }
    Ok(())
}

/// Merges shard reports into one, or says why not.
pub fn merge(reports: Vec<RunReport>) -> Result<RunReport, String> {
    let first = reports.first().ok_or("report merge needs at least one report")?.clone();
    let n = first
        .shard
        .map(|s| s.n)
        .ok_or_else(|| format!("report {} is not a shard (it was run without --shard)", first.run_id))?;
    let mut seen = std::collections::BTreeMap::new();
    for r in &reports {
        if r.schema_version != first.schema_version {
            return Err(format!(
                "reports of schema {} and {} cannot be merged",
                first.schema_version, r.schema_version
            ));
        }
        if r.matrix_digest != first.matrix_digest {
            return Err(format!(
                "reports {} and {} are of different matrices (digests {} and {})",
                first.run_id, r.run_id, first.matrix_digest, r.matrix_digest
            ));
        }
        let s = r.shard.ok_or_else(|| format!("report {} is not a shard (it was run without --shard)", r.run_id))?;
        if s.n != n {
            return Err(format!("report {} is shard {}/{} but {} is of {n}", r.run_id, s.k, s.n, first.run_id));
        }
        if let Some(other) = seen.insert(s.k, r.run_id.clone()) {
            return Err(format!("shard {}/{n} is given twice (runs {other} and {})", s.k, r.run_id));
        }
    }
    let missing: Vec<String> = (1..=n).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{n}")).collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard(s) {} missing: a merge of the others would not be the whole matrix",
            missing.join(", ")
        ));
    }
    check_plan(&reports)?;
    let mut out = first.clone();
    out.run_id = reports.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>().join("+");
    out.shard = None;
    out.jobs.clear();
    out.findings.clear();
    out.verdicts.clear();
    out.not_run.clear();
    out.errors.clear();
    out.sections.clear();
    out.outcome = None;
    out.baseline = None;
    out.partial = false;
    for r in reports {
        out.jobs.extend(r.jobs);
        out.verdicts.extend(r.verdicts);
        out.not_run.extend(r.not_run);
        out.errors.extend(r.errors);
        for (kind, sections) in r.sections {
            out.sections.entry(kind).or_default().extend(sections);
        }
        out.partial |= r.partial;
        for f in r.findings {
            // Findings about a base itself come from every shard that met it: one each.
            if !out.findings.iter().any(|g| g.id == f.id) {
                out.findings.push(f);
            }
        }
        out.started_at = out.started_at.min(r.started_at);
        out.finished_at = out.finished_at.max(r.finished_at);
        out.timings.total = out.timings.total.max(r.timings.total);
        out.timings.bases += r.timings.bases;
        out.timings.build += r.timings.build;
        out.timings.probe += r.timings.probe;
        for (kind, secs) in &r.timings.sections {
            *out.timings.sections.entry(kind.clone()).or_default() += secs;
        }
    }
    out.normalise();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Shard;

    #[test]
    fn shards_parse() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { k: 2, n: 3 });
        for bad in ["0/3", "4/3", "x/3", "3", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    /// The plan of three dependencies on one base: shard 1/2 takes a and c, 2/2 takes b.
    fn plan() -> BTreeMap<String, Vec<String>> {
        ["a", "b", "c"].iter().map(|d| (d.to_string(), vec![crate::plan::job_id(d, "x")])).collect()
    }

    /// A finished shard with the jobs the plan gives it.
    fn shard(k: u32, n: u32, digest: &str) -> RunReport {
        let mut r = RunReport::new("run", &format!("run{k}"), "m.toml");
        r.shard = Some(Shard { k, n });
        r.matrix_digest = digest.into();
        r.planned = plan();
        let names: Vec<String> = r.planned.keys().cloned().collect();
        let assignment = crate::shards::by_count(&names, n);
        for dep in names.into_iter().filter(|d| assignment[d] == k) {
            r.jobs.push(crate::model::JobRecord::new(&dep, "x", &dep, crate::model::BuildOutcome::Installed));
        }
        r.finished_at = Some(1);
        r.partial = false;
        r.outcome = Some(crate::compare::run_outcome(&r));
        r
    }

    #[test]
    fn merge_refuses_what_is_not_one_whole_matrix() {
        assert!(merge(vec![shard(1, 2, "a"), shard(2, 2, "b")]).unwrap_err().contains("different matrices"));
        assert!(merge(vec![shard(1, 2, "a"), shard(1, 2, "a")]).unwrap_err().contains("given twice"));
        assert!(merge(vec![shard(1, 3, "a"), shard(3, 3, "a")]).unwrap_err().contains("2/3 missing"));
        assert!(merge(vec![shard(1, 2, "a"), shard(2, 3, "a")]).unwrap_err().contains("is of 2"));
        let mut whole = RunReport::new("run", "x", "m.toml");
        whole.matrix_digest = "a".into();
        assert!(merge(vec![whole]).unwrap_err().contains("not a shard"));
        let m = merge(vec![shard(2, 2, "a"), shard(1, 2, "a")]).unwrap();
        assert_eq!(m.shard, None);
        assert_eq!(m.jobs.len(), 3);
        assert!(!m.partial);
        assert_eq!(m.outcome, None, "the union is decided by the caller, through compare::outcome");
    }

    #[test]
    fn a_shard_killed_before_it_finished_is_refused_by_run_id_and_jobs() {
        // What SIGKILL leaves: partial, jobs not run, no error, no outcome.
        let mut killed = shard(1, 2, "a");
        let c = killed.jobs.pop().unwrap();
        killed.not_run = vec![c.id.clone()];
        killed.partial = true;
        killed.finished_at = None;
        killed.outcome = None;
        let e = merge(vec![killed.clone(), shard(2, 2, "a")]).unwrap_err();
        assert!(e.contains("shard 1/2 (run run1) is unfinished") && e.contains("jobs not run: c[x]"), "{e}");
        // Every job done but never closed: still unfinished.
        killed.not_run.clear();
        killed.jobs.push(c);
        let e = merge(vec![killed, shard(2, 2, "a")]).unwrap_err();
        assert!(e.contains("never closed"), "{e}");
    }

    #[test]
    fn the_shards_jobs_must_be_exactly_the_plan_each_once() {
        // A shard with no jobs where the plan gives it some.
        let mut empty = shard(2, 2, "a");
        empty.jobs.clear();
        let e = merge(vec![shard(1, 2, "a"), empty]).unwrap_err();
        assert!(
            e.contains("do not hold the whole matrix's plan: missing b[x] (shard 2/2 (run run2) has no jobs)"),
            "{e}"
        );
        // The same job in two shards.
        let mut overlap = shard(2, 2, "a");
        overlap.jobs.push(shard(1, 2, "a").jobs[0].clone());
        let e = merge(vec![shard(1, 2, "a"), overlap]).unwrap_err();
        assert!(e.contains("job a[x] is in two shards: shard 1/2 (run run1) and shard 2/2 (run run2)"), "{e}");
        // A job outside the plan.
        let mut extra = shard(2, 2, "a");
        extra.jobs.push(crate::model::JobRecord::new("z", "x", "z", crate::model::BuildOutcome::Installed));
        assert!(merge(vec![shard(1, 2, "a"), extra]).unwrap_err().contains("outside the matrix's plan: z[x]"));
        // No plan recorded (an older report): refused, not trusted.
        let mut old = shard(2, 2, "a");
        old.planned.clear();
        assert!(merge(vec![shard(1, 2, "a"), old]).unwrap_err().contains("does not record the matrix's plan"));
        // A legitimately empty shard (more shards than dependencies) merges.
        let p = |k| {
            let mut r = shard(k, 4, "a");
            r.run_id = format!("r{k}");
            r
        };
        assert_eq!(merge(vec![p(1), p(2), p(3), p(4)]).unwrap().jobs.len(), 3);
    }
}
