//! Comparing two reports (last night's and tonight's): findings matched by their stable ids,
//! never by position, prose or version numbers, and classified as new, resolved, changed (same
//! id, different evidence, severity or failing bases: a version bump of the same problem) or
//! unchanged. A pure function of the two reports.

use crate::model::{Finding, ReportDiff, RunReport, Severity};

/// What is comparable of a finding: everything but what varies run to run.
fn same(a: &Finding, b: &Finding) -> bool {
    (a.severity, &a.failing, &a.evidence, &a.summary, &a.known)
        == (b.severity, &b.failing, &b.evidence, &b.summary, &b.known)
}

pub fn diff(old: &RunReport, new: &RunReport) -> ReportDiff {
    let by_id = |r: &RunReport| {
        r.findings.iter().map(|f| (f.id.clone(), f.clone())).collect::<std::collections::BTreeMap<_, _>>()
    };
    let (o, n) = (by_id(old), by_id(new));
    let mut d = ReportDiff {
        old_run: old.run_id.clone(),
        new_run: new.run_id.clone(),
        new: vec![],
        resolved: vec![],
        changed: vec![],
        unchanged: vec![],
    };
    for (id, f) in &n {
        match o.get(id) {
            None => d.new.push(f.clone()),
            Some(before) if same(before, f) => d.unchanged.push(id.clone()),
            Some(before) => d.changed.push((before.clone(), f.clone())),
        }
    }
    d.resolved = o.iter().filter(|(id, _)| !n.contains_key(*id)).map(|(_, f)| f.clone()).collect();
    d
}

fn line(f: &Finding) -> String {
    format!("{} [{}{}] {}", f.id, f.kind, if f.severity == Severity::Blocking { ", blocking" } else { "" }, f.summary)
}

/// Text for a terminal.
pub fn render_table(d: &ReportDiff) -> String {
    let mut out = format!("{} -> {}\n", d.old_run, d.new_run);
    for (title, items) in
        [("new", d.new.iter().map(line).collect::<Vec<_>>()), ("resolved", d.resolved.iter().map(line).collect())]
    {
        out.push_str(&format!("\n{title} ({})\n", items.len()));
        for i in items {
            out.push_str(&format!("  {i}\n"));
        }
    }
    out.push_str(&format!("\nchanged ({})\n", d.changed.len()));
    for (a, b) in &d.changed {
        out.push_str(&format!("  {}\n    was: {}\n    now: {}\n", b.id, line(a), line(b)));
    }
    out.push_str(&format!("\nunchanged: {}\n{} new blocking finding(s)\n", d.unchanged.len(), d.new_blocking()));
    crate::text::sanitize(&out, true).into_owned()
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// Markdown, for a chat notification or a pull-request comment.
pub fn render_markdown(d: &ReportDiff) -> String {
    let mut out = format!(
        "## muslcheck: {} new, {} resolved, {} changed ({} new blocking)\n\n",
        d.new.len(),
        d.resolved.len(),
        d.changed.len(),
        d.new_blocking()
    );
    if d.new.is_empty() && d.resolved.is_empty() && d.changed.is_empty() {
        out.push_str("Nothing changed since the baseline.\n");
        return crate::text::sanitize(&out, true).into_owned();
    }
    out.push_str("| change | finding | kind | severity | summary |\n|---|---|---|---|---|\n");
    let sev = |f: &Finding| if f.severity == Severity::Blocking { "**blocking**" } else { "info" };
    for f in &d.new {
        out.push_str(&format!("| new | `{}` | {} | {} | {} |\n", cell(&f.id), f.kind, sev(f), cell(&f.summary)));
    }
    for (a, b) in &d.changed {
        out.push_str(&format!(
            "| changed | `{}` | {} | {} | {} (was: {}) |\n",
            cell(&b.id),
            b.kind,
            sev(b),
            cell(&b.summary),
            cell(&a.summary)
        ));
    }
    for f in &d.resolved {
        out.push_str(&format!("| resolved | `{}` | {} | {} | {} |\n", cell(&f.id), f.kind, sev(f), cell(&f.summary)));
    }
    crate::text::sanitize(&out, true).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::FindingKind;
    use std::collections::BTreeMap;

    fn finding(id: &str, sev: Severity, evidence: &str) -> Finding {
        Finding {
            id: id.into(),
            subject: id.split('/').next().unwrap().into(),
            kind: FindingKind::VersionDiffers,
            item: String::new(),
            failing: vec!["musl".into()],
            severity: sev,
            summary: format!("summary of {id}"),
            evidence: BTreeMap::from([("musl".into(), evidence.into())]),
            known: None,
            explanation: BTreeMap::new(),
        }
    }

    #[test]
    fn findings_are_matched_by_id_and_a_version_bump_is_a_change() {
        let mut old = RunReport::new("run", "old", "m.toml");
        let mut new = RunReport::new("run", "new", "m.toml");
        old.findings = vec![
            finding("a/version-differs/numpy", Severity::Info, "2.3.4"),
            finding("b/crash/b", Severity::Blocking, "x"),
            finding("c/fails/c", Severity::Blocking, "y"),
        ];
        // Reordered, one bumped, one gone, one new.
        new.findings = vec![
            finding("d/crash/d", Severity::Blocking, "z"),
            finding("c/fails/c", Severity::Blocking, "y"),
            finding("a/version-differs/numpy", Severity::Info, "2.3.5"),
        ];
        let d = diff(&old, &new);
        assert_eq!(d.new.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["d/crash/d"]);
        assert_eq!(d.resolved.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["b/crash/b"]);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].1.evidence["musl"], "2.3.5");
        assert_eq!(d.unchanged, ["c/fails/c"]);
        assert_eq!(d.new_blocking(), 1);
        assert!(render_markdown(&d).contains("| new | `d/crash/d`"));
        assert!(render_table(&d).contains("1 new blocking"));
        // The same report against itself: nothing.
        let same = diff(&new, &new);
        assert!(same.new.is_empty() && same.resolved.is_empty() && same.changed.is_empty());
        assert!(render_markdown(&same).contains("Nothing changed"));
    }
}
