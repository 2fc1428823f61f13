//! Markdown for CI job summaries and pull-request comments.

use crate::model::{RunReport, Severity};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

pub fn render(r: &RunReport) -> String {
    let headline = r.outcome.as_ref().map(|o| o.summary.clone()).unwrap_or_else(|| "not finished".to_string());
    let mut out = format!("## muslcheck {}: {headline}\n\n", r.command);
    if r.partial {
        out.push_str(&format!("> **Partial report**: the run did not finish. Not run: {}\n\n", r.not_run.join(", ")));
    }
    out.push_str("| base | image | digest | libc | required |\n|---|---|---|---|---|\n");
    for b in &r.bases {
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {} | {} |\n",
            b.name,
            b.image,
            b.digest.as_deref().unwrap_or("local"),
            b.libc.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
            if b.required { "yes" } else { "no" }
        ));
    }
    if !r.verdicts.is_empty() {
        out.push_str("\n| dependency | base | verdict | reasons |\n|---|---|---|---|\n");
        for v in &r.verdicts {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                v.dependency,
                v.base,
                match (v.pass, v.required) {
                    _ if v.error.is_some() => "⛔ error (not run)",
                    (true, _) if super::not_applicable(r, &v.dependency, &v.base) => "➖ not applicable",
                    (true, _) => "✅ pass",
                    (false, true) => "❌ fail",
                    (false, false) => "⚠️ fail (optional base)",
                },
                cell(&v.reasons.join("\n"))
            ));
        }
    }
    if !r.findings.is_empty() {
        out.push_str("\n| subject | kind | severity | finding | evidence |\n|---|---|---|---|---|\n");
        for f in &r.findings {
            let sev = match (&f.known, f.severity) {
                (Some(k), _) => format!("known ({k})"),
                (None, Severity::Blocking) => "**blocking**".into(),
                (None, Severity::Info) => "info".into(),
            };
            let ev: Vec<String> = f
                .evidence
                .iter()
                .map(|(b, e)| format!("{b}: {e}"))
                .chain(
                    f.explanation.iter().flat_map(|(b, why)| why.iter().map(move |w| format!("**why on {b}**: {w}"))),
                )
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                cell(&f.subject),
                f.kind,
                sev,
                cell(&f.summary),
                cell(&ev.join("\n"))
            ));
        }
    }
    if let Some(d) = &r.baseline {
        out.push_str(&format!(
            "\n### Since the baseline\n\n{}",
            super::diff::render_markdown(d).split_once("\n\n").map(|(_, rest)| rest).unwrap_or("")
        ));
    }
    for e in &r.errors {
        out.push_str(&format!("\n> error: {}\n", cell(e)));
    }
    // Every cell's text came from the report: a control character or a bidi override in it is
    // shown escaped, not passed to the viewer (or the terminal that `cat`s the summary).
    crate::text::sanitize(&out, true).into_owned()
}
