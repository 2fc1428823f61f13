//! The merge of shards. A run with `--shard K/N` takes some of the dependencies (the unit the
//! comparison works on: all bases of a dependency are compared together; which ones is the
//! `shards` module's rule), and shard 1 also runs the per-base profiles. `report merge` checks that the reports are shards
//! of one matrix, none twice and none missing, and unions them: findings and verdicts are
//! per dependency (or per base, deduplicated by id), so the union is what one run would have
//! found, and the outcome is decided again from it.

use crate::model::RunReport;

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
    let mut out = first.clone();
    out.run_id = reports.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>().join("+");
    out.shard = None;
    out.jobs.clear();
    out.findings.clear();
    out.verdicts.clear();
    out.not_run.clear();
    out.errors.clear();
    out.sections.clear();
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

    fn shard(k: u32, n: u32, digest: &str) -> RunReport {
        let mut r = RunReport::new("run", &format!("run{k}"), "m.toml");
        r.shard = Some(Shard { k, n });
        r.matrix_digest = digest.into();
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
        assert_eq!(m.outcome, None, "the union is decided by the caller, through compare::outcome");
    }
}
