//! Comparing two reports (last night's and tonight's): findings matched by their stable ids,
//! never by position, prose or version numbers, and classified as new, resolved, worsened (same
//! id, severity up or a base failing that did not), changed (same id, other evidence, or fewer
//! failing bases) or unchanged. A pure function of the two reports; [`caveats`] says first
//! whether they can be compared at all.

use crate::model::{Finding, ReportDiff, RunReport, Severity};

/// What the flags allow comparing: a report that did not finish, reports of other matrices.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allow {
    pub unfinished: bool,
    pub other_matrix: bool,
}

/// A report to compare with, and what made the comparison weaker (each allowed by a flag).
#[derive(Debug, Clone)]
pub struct Baseline {
    pub report: RunReport,
    pub caveats: Vec<String>,
}

/// Whether `old` can be compared with a report of the matrix `new_digest` (and `new` itself,
/// when it is a finished report rather than the run in progress): both finished, one matrix.
/// What a flag allows becomes a caveat the comparison records; anything else is refused,
/// naming the report.
pub fn caveats(
    old: &RunReport,
    new: Option<&RunReport>,
    new_digest: &str,
    allow: Allow,
) -> Result<Vec<String>, String> {
    let mut out = vec![];
    let reports = [("the old report", Some(old)), ("the new report", new)];
    for (role, r) in reports.into_iter().filter_map(|(role, r)| r.map(|r| (role, r))) {
        if let Some(why) = r.unfinished() {
            let what = format!("{role} (run {}) is unfinished: {why}", r.run_id);
            if !allow.unfinished {
                return Err(format!(
                    "{what}; its absent jobs would read as resolved findings. Compare finished runs, or pass --allow-unfinished"
                ));
            }
            out.push(format!("{what} (compared with --allow-unfinished)"));
        }
    }
    if old.matrix_digest != new_digest {
        let what = format!(
            "the old report (run {}) is of another matrix (digest `{}`, this one `{new_digest}`)",
            old.run_id, old.matrix_digest
        );
        if !allow.other_matrix {
            return Err(format!(
                "{what}: dependencies or bases it lacks would read as new or resolved. Compare runs of one matrix, or pass --allow-other-matrix"
            ));
        }
        out.push(format!("{what} (compared with --allow-other-matrix)"));
    }
    Ok(out)
}

/// What is comparable of a finding: everything but what varies run to run.
fn same(a: &Finding, b: &Finding) -> bool {
    (a.severity, &a.failing, &a.evidence, &a.summary, &a.known)
        == (b.severity, &b.failing, &b.evidence, &b.summary, &b.known)
}

/// Worse than before: blocking where it was information, or failing a base it did not fail.
fn worse(before: &Finding, after: &Finding) -> bool {
    let severity_up = before.severity == Severity::Info && after.severity == Severity::Blocking;
    severity_up || after.failing.iter().any(|b| !before.failing.contains(b))
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
        worsened: vec![],
        changed: vec![],
        unchanged: vec![],
        caveats: vec![],
    };
    for (id, f) in &n {
        match o.get(id) {
            None => d.new.push(f.clone()),
            Some(before) if same(before, f) => d.unchanged.push(id.clone()),
            Some(before) if worse(before, f) => d.worsened.push((before.clone(), f.clone())),
            Some(before) => d.changed.push((before.clone(), f.clone())),
        }
    }
    d.resolved = o.iter().filter(|(id, _)| !n.contains_key(*id)).map(|(_, f)| f.clone()).collect();
    d
}

fn line(f: &Finding) -> String {
    format!("{} [{}{}] {}", f.id, f.kind, if f.severity == Severity::Blocking { ", blocking" } else { "" }, f.summary)
}

fn failing(f: &Finding) -> String {
    if f.failing.is_empty() {
        "no base".into()
    } else {
        f.failing.join(", ")
    }
}

/// Text for a terminal.
pub fn render_table(d: &ReportDiff) -> String {
    let mut out = format!("{} -> {}\n", d.old_run, d.new_run);
    for c in &d.caveats {
        out.push_str(&format!("caveat: {c}\n"));
    }
    for (title, items) in
        [("new", d.new.iter().map(line).collect::<Vec<_>>()), ("resolved", d.resolved.iter().map(line).collect())]
    {
        out.push_str(&format!("\n{title} ({})\n", items.len()));
        for i in items {
            out.push_str(&format!("  {i}\n"));
        }
    }
    for (title, pairs) in [("worsened", &d.worsened), ("changed", &d.changed)] {
        out.push_str(&format!("\n{title} ({})\n", pairs.len()));
        for (a, b) in pairs {
            out.push_str(&format!(
                "  {}\n    was: {} (failing: {})\n    now: {} (failing: {})\n",
                b.id,
                line(a),
                failing(a),
                line(b),
                failing(b)
            ));
        }
    }
    out.push_str(&format!(
        "\nunchanged: {}\n{} new blocking finding(s), {} worsened blocking finding(s)\n",
        d.unchanged.len(),
        d.new_blocking(),
        d.worsened_blocking()
    ));
    crate::text::sanitize(&out, true).into_owned()
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// Markdown, for a chat notification or a pull-request comment.
pub fn render_markdown(d: &ReportDiff) -> String {
    let mut out = format!(
        "## muslcheck: {} new, {} worsened, {} resolved, {} changed ({} new blocking, {} worsened blocking)\n\n",
        d.new.len(),
        d.worsened.len(),
        d.resolved.len(),
        d.changed.len(),
        d.new_blocking(),
        d.worsened_blocking()
    );
    for c in &d.caveats {
        out.push_str(&format!("> **caveat:** {}\n\n", cell(c)));
    }
    if d.new.is_empty() && d.resolved.is_empty() && d.changed.is_empty() && d.worsened.is_empty() {
        out.push_str("Nothing changed since the baseline.\n");
        return crate::text::sanitize(&out, true).into_owned();
    }
    out.push_str("| change | finding | kind | severity | summary |\n|---|---|---|---|---|\n");
    let sev = |f: &Finding| if f.severity == Severity::Blocking { "**blocking**" } else { "info" };
    for f in &d.new {
        out.push_str(&format!("| new | `{}` | {} | {} | {} |\n", cell(&f.id), f.kind, sev(f), cell(&f.summary)));
    }
    for (a, b) in &d.worsened {
        out.push_str(&format!(
            "| worsened | `{}` | {} | {} (was {}) | {} (failing: {}; was: {}) |\n",
            cell(&b.id),
            b.kind,
            sev(b),
            sev(a),
            cell(&b.summary),
            cell(&failing(b)),
            cell(&failing(a))
        ));
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

    #[test]
    fn a_finding_that_blocks_now_or_fails_another_base_is_worsened_and_decides() {
        let mut old = RunReport::new("run", "old", "m.toml");
        let mut new = RunReport::new("run", "new", "m.toml");
        let mut up = finding("a/fails/a", Severity::Blocking, "x");
        let mut wider = finding("b/crash/b", Severity::Blocking, "y");
        wider.failing.push("musl-optional".into());
        let narrower = finding("c/crash/c", Severity::Blocking, "z");
        let mut was_wide = narrower.clone();
        was_wide.failing.push("glibc".into());
        old.findings =
            vec![finding("a/fails/a", Severity::Info, "x"), finding("b/crash/b", Severity::Blocking, "y"), was_wide];
        up.summary = "summary of a/fails/a".into();
        new.findings = vec![up, wider, narrower];
        let d = diff(&old, &new);
        let ids = |v: &[(Finding, Finding)]| v.iter().map(|(_, f)| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.worsened), ["a/fails/a", "b/crash/b"], "severity up; a new failing base, optional or not");
        assert_eq!(ids(&d.changed), ["c/crash/c"], "fewer failing bases is a change, not worse");
        assert_eq!((d.new_blocking(), d.worsened_blocking(), d.regressions()), (0, 2, 2));
        assert!(render_table(&d).contains("worsened (2)"), "{}", render_table(&d));
        assert!(render_markdown(&d).contains("| worsened | `b/crash/b`"), "{}", render_markdown(&d));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["worsened"].as_array().unwrap().len(), 2);
        // Decided as `run --baseline` decides: exit 1, though nothing is new.
        new.findings.iter_mut().for_each(|f| f.kind = FindingKind::Crash);
        let base = Baseline { report: old, caveats: vec![] };
        let (o, _) = crate::compare::outcome(&new, Some(&base));
        assert_eq!(o.exit_code, 1, "{}", o.summary);
        assert!(o.summary.contains("2 worsened"), "{}", o.summary);
    }

    fn finished(id: &str, digest: &str) -> RunReport {
        let mut r = RunReport::new("run", id, "m.toml");
        r.matrix_digest = digest.into();
        r.finished_at = Some(1);
        r.partial = false;
        r.outcome = Some(crate::compare::run_outcome(&r));
        r
    }

    #[test]
    fn unfinished_reports_and_other_matrices_are_compared_only_when_allowed_and_then_said() {
        let (old, new) = (finished("old", "d1"), finished("new", "d1"));
        assert_eq!(caveats(&old, Some(&new), "d1", Allow::default()), Ok(vec![]));
        // What SIGKILL leaves: partial, jobs not run, no outcome.
        let mut killed = RunReport::new("run", "killed", "m.toml");
        killed.matrix_digest = "d1".into();
        killed.not_run = vec!["six[musl]".into()];
        for (o, n) in [(&killed, &new), (&old, &killed)] {
            let e = caveats(o, Some(n), "d1", Allow::default()).unwrap_err();
            assert!(
                e.contains("(run killed) is unfinished") && e.contains("six[musl]") && e.contains("--allow-unfinished"),
                "{e}"
            );
        }
        let allowed = caveats(&killed, Some(&new), "d1", Allow { unfinished: true, ..Allow::default() }).unwrap();
        assert!(allowed[0].contains("compared with --allow-unfinished"), "{allowed:?}");
        let e = caveats(&old, Some(&new), "d2", Allow::default()).unwrap_err();
        assert!(e.contains("another matrix") && e.contains("--allow-other-matrix"), "{e}");
        let allowed = caveats(&old, None, "d2", Allow { other_matrix: true, ..Allow::default() }).unwrap();
        assert!(allowed[0].contains("compared with --allow-other-matrix"));
        let mut d = diff(&old, &new);
        d.caveats = allowed;
        assert!(render_markdown(&d).contains("**caveat:**") && render_table(&d).contains("caveat: "));
    }
}
