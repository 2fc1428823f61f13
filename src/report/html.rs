//! One self-contained HTML file (inline style, one inline script for the findings' filter, no
//! external asset: it opens offline and from a CI artifact): the decision first, then the
//! findings by severity with a filter by base and kind and their raw evidence behind a
//! disclosure, then the verdict grid, then per dependency the
//! resolved trees side by side with wheel provenance, the import and smoke outcomes with
//! evidence, sizes and build times, and the base sections. A pure function of the report.

use std::fmt::Write;

use crate::model::{BuildOutcome, CheckOutcome, Finding, JobRecord, ProbeSection, RunReport, Severity};

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}\
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}th{background:#f4f4f4}\
.pass{background:#e6f4ea}.fail{background:#fce8e6}.optional{background:#fef7e0}.blocking{color:#b3261e;font-weight:bold}\
.info{color:#555}.known{color:#7a5c00}code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{white-space:pre-wrap;margin:0}\
.summary{font-size:1.2em;padding:.6em 1em;border-radius:4px;display:inline-block}\
details summary{cursor:pointer;color:#555}.filter select{margin:0 .4em}";

fn outcome(o: &CheckOutcome) -> String {
    match o {
        CheckOutcome::Error { message } => format!("error: {}", message.lines().last().unwrap_or("")),
        other => other.label(),
    }
}

fn finding_rows(out: &mut String, findings: &[&Finding]) {
    out.push_str(
        "<table id=\"findings\"><tr><th>finding</th><th>kind</th><th>severity</th><th>on</th><th>what differs, and why</th></tr>",
    );
    for f in findings {
        let (class, sev) = match (&f.known, f.severity) {
            (Some(_), _) => ("known", "known".to_string()),
            (None, Severity::Blocking) => ("blocking", "blocking".to_string()),
            (None, Severity::Info) => ("info", "info".to_string()),
        };
        let why: Vec<String> = f
            .explanation
            .iter()
            .flat_map(|(b, why)| why.iter().map(move |w| format!("<i>why on {}</i>: {}", esc(b), esc(w))))
            .collect();
        // The raw evidence per base, behind a disclosure: the words come first.
        let raw: Vec<String> = f.evidence.iter().map(|(b, e)| format!("<b>{}</b>: {}", esc(b), esc(e))).collect();
        let _ = write!(
            out,
            "<tr class=\"finding\" data-kind=\"{kind}\" data-bases=\"{bases}\"><td><code>{}</code></td><td>{kind}</td><td class=\"{class}\">{sev}</td><td>{}</td><td>{}{}{}<details><summary>evidence</summary>{}</details></td></tr>",
            esc(&f.id),
            esc(&f.failing.join(", ")),
            esc(&f.summary),
            f.known
                .as_ref()
                .map(|k| format!("<br><span class=\"known\">accepted: {}</span>", esc(k)))
                .unwrap_or_default(),
            if why.is_empty() { String::new() } else { format!("<br>{}", why.join("<br>")) },
            raw.join("<br>"),
            kind = f.kind,
            bases = esc(&f.failing.join(" ")),
        );
    }
    out.push_str("</table>");
}

/// The findings' filter: by base and by kind, from the page itself (no network), and from the
/// address's fragment (`#base=musl&kind=crash`) so a filtered view can be linked.
fn filter(out: &mut String, findings: &[&Finding]) {
    let mut bases: Vec<&str> = findings.iter().flat_map(|f| f.failing.iter().map(String::as_str)).collect();
    bases.sort();
    bases.dedup();
    let mut kinds: Vec<String> = findings.iter().map(|f| f.kind.to_string()).collect();
    kinds.sort();
    kinds.dedup();
    let options = |all: &str, values: &mut dyn Iterator<Item = String>| {
        std::iter::once(format!("<option value=\"\">{all}</option>"))
            .chain(values.map(|v| format!("<option value=\"{0}\">{0}</option>", esc(&v))))
            .collect::<String>()
    };
    let _ = write!(
        out,
        "<p class=\"filter\">on <select id=\"f-base\">{}</select> kind <select id=\"f-kind\">{}</select> <span id=\"f-shown\"></span></p>",
        options("every base", &mut bases.iter().map(|b| b.to_string())),
        options("every kind", &mut kinds.into_iter()),
    );
}

/// Hides the findings that do not match the filter; reads and writes the fragment. Placed
/// after the findings' table, which it reads when it runs.
const FILTER_SCRIPT: &str = "<script>(function(){\
var b=document.getElementById('f-base'),k=document.getElementById('f-kind'),n=document.getElementById('f-shown');\
function apply(){var shown=0,rows=document.querySelectorAll('#findings tr.finding');\
for(var i=0;i<rows.length;i++){var r=rows[i];\
var ok=(!b.value||(' '+r.dataset.bases+' ').indexOf(' '+b.value+' ')>=0)&&(!k.value||r.dataset.kind===k.value);\
r.hidden=!ok;if(ok)shown++;}n.textContent=shown+' of '+rows.length+' shown';}\
function fromHash(){var h=new URLSearchParams(location.hash.slice(1));b.value=h.get('base')||'';k.value=h.get('kind')||'';apply();}\
function toHash(){var h=new URLSearchParams();if(b.value)h.set('base',b.value);if(k.value)h.set('kind',k.value);\
history.replaceState(null,'','#'+h.toString());apply();}\
b.onchange=toHash;k.onchange=toHash;window.onhashchange=fromHash;fromHash();})();</script>";

fn dependency(out: &mut String, r: &RunReport, dep: &str) {
    let jobs: Vec<&JobRecord> =
        r.bases.iter().filter_map(|b| r.jobs.iter().find(|j| j.dependency == dep && j.base == b.name)).collect();
    let _ = write!(out, "<h3 id=\"dep-{0}\">{0}</h3><table><tr><th></th>", esc(dep));
    for j in &jobs {
        let _ = write!(out, "<th>{}</th>", esc(&j.base));
    }
    out.push_str("</tr>");
    let row = |out: &mut String, title: &str, cell: &dyn Fn(&JobRecord) -> String| {
        let _ = write!(out, "<tr><th>{title}</th>");
        for j in &jobs {
            let _ = write!(out, "<td>{}</td>", cell(j));
        }
        out.push_str("</tr>");
    };
    row(out, "outcome", &|j| match j.outcome {
        BuildOutcome::Installed => "installed".into(),
        o => format!(
            "{}: {}",
            serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            esc(j.error.as_deref().unwrap_or(""))
        ),
    });
    row(out, "installed tree", &|j| {
        j.distributions
            .iter()
            .map(|d| {
                format!(
                    "{} {} <span class=\"info\">({})</span>",
                    esc(&d.name),
                    esc(&d.version),
                    serde_json::to_value(d.source)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("<br>")
    });
    row(out, "imports", &|j| match &j.probe {
        Some(p) => {
            let bad: Vec<String> = p
                .imports
                .iter()
                .filter(|(_, o)| !o.is_ok())
                .map(|(m, o)| format!("{}: {}", esc(m), esc(&outcome(o))))
                .collect();
            format!(
                "{}/{} ok{}",
                p.imports.len() - bad.len(),
                p.imports.len(),
                if bad.is_empty() { String::new() } else { format!("<br>{}", bad.join("<br>")) }
            )
        }
        None => "-".into(),
    });
    row(out, "smoke (main / worker thread)", &|j| match &j.probe {
        Some(p) => format!(
            "{} / {}{}",
            p.smoke.as_ref().map(|s| esc(&outcome(s))).unwrap_or_else(|| "-".into()),
            p.smoke_thread.as_ref().map(|s| esc(&outcome(s))).unwrap_or_else(|| "-".into()),
            p.thread_stack_bytes
                .map(|b| format!(" <span class=\"info\">({} KiB stack)</span>", b / 1024))
                .unwrap_or_default()
        ),
        None => "-".into(),
    });
    if jobs.iter().any(|j| j.probe.as_ref().is_some_and(|p| p.smoke_runtime.is_some())) {
        row(out, "smoke run time (main thread)", &|j| {
            j.probe
                .as_ref()
                .and_then(|p| p.smoke_runtime.as_ref())
                .map(|t| esc(&super::runtime_text(t)))
                .unwrap_or_else(|| "-".into())
        });
    }
    row(out, "build, size over base", &|j| {
        format!(
            "{:.1} s{}, {}",
            j.build_secs,
            if j.cached { " (cached)" } else { "" },
            j.size_over_base.map(|s| format!("{:.1} MB", s as f64 / 1e6)).unwrap_or_else(|| "-".into())
        )
    });
    out.push_str("</table>");
}

fn section(out: &mut String, title: &str, sections: &[ProbeSection]) {
    if sections.is_empty() {
        return;
    }
    let _ = write!(out, "<h2>{title}</h2><table><tr><th>check</th>");
    for s in sections {
        let _ = write!(
            out,
            "<th>{} ({})</th>",
            esc(&s.base),
            s.libc.as_ref().map(|l| esc(&l.to_string())).unwrap_or_else(|| "?".into())
        );
    }
    out.push_str("</tr>");
    let mut checks: Vec<&String> = sections.iter().flat_map(|s| s.checks.keys()).collect();
    checks.sort();
    checks.dedup();
    for c in checks {
        // What the check looks at under its id; each base's words, its raw value behind a
        // disclosure.
        let about = sections.iter().find_map(|s| s.checks.get(c).and_then(|o| o.about.clone()));
        let about = about.map(|a| format!("<br><small>{}</small>", esc(&a))).unwrap_or_default();
        let _ = write!(out, "<tr><td><code>{}</code>{about}</td>", esc(c));
        for s in sections {
            match s.checks.get(c) {
                Some(o) => {
                    let _ = write!(
                        out,
                        "<td>{}<details><summary>value</summary><pre>{}</pre></details></td>",
                        esc(&o.words()),
                        esc(&o.summary())
                    );
                }
                None => out.push_str("<td>-</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    let headline = r.outcome.as_ref().map(|o| o.summary.clone()).unwrap_or_else(|| "not finished".into());
    let failed = r.outcome.as_ref().is_some_and(|o| o.exit_code != 0);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>muslcheck {cmd}: {h}</title><style>{STYLE}</style></head><body>\
         <h1>muslcheck {cmd}</h1><p class=\"summary {cls}\" id=\"summary\">{h}</p><p class=\"info\">run {run}{partial}</p>",
        cmd = esc(&r.command),
        h = esc(&headline),
        cls = if failed { "fail" } else { "pass" },
        run = esc(&r.run_id),
        partial = if r.partial { " — partial report: the run did not finish" } else { "" }
    );
    // The findings by severity (blocking first), then the verdict grid.
    let mut findings: Vec<&Finding> = r.findings.iter().collect();
    findings.sort_by_key(|f| (f.severity != Severity::Blocking || f.known.is_some(), f.id.clone()));
    if !findings.is_empty() {
        out.push_str("<h2>Differences</h2>");
        filter(&mut out, &findings);
        finding_rows(&mut out, &findings);
        // After the rows it filters.
        out.push_str(FILTER_SCRIPT);
    }
    let mut deps: Vec<&str> = r.verdicts.iter().map(|v| v.dependency.as_str()).collect();
    deps.dedup();
    // The verdict grid: a row per dependency, a column per base.
    if !deps.is_empty() {
        out.push_str("<h2>Verdicts</h2><table><tr><th>dependency</th>");
        for b in &r.bases {
            let _ = write!(
                out,
                "<th>{}<br><span class=\"info\">{}</span></th>",
                esc(&b.name),
                b.libc.as_ref().map(|l| esc(&l.to_string())).unwrap_or_default()
            );
        }
        out.push_str("</tr>");
        for d in &deps {
            let _ = write!(out, "<tr><td><a href=\"#dep-{0}\">{0}</a></td>", esc(d));
            for b in &r.bases {
                match r.verdicts.iter().find(|v| v.dependency == *d && v.base == b.name) {
                    Some(v) => {
                        let (cls, word) = match (v.pass, v.required) {
                            _ if v.error.is_some() => ("fail", "ERROR"),
                            (true, _) => ("pass", "pass"),
                            (false, true) => ("fail", "FAIL"),
                            (false, false) => ("optional", "fail (optional)"),
                        };
                        let _ = write!(out, "<td class=\"{cls}\" title=\"{}\">{word}</td>", esc(&v.reasons.join("\n")));
                    }
                    None => out.push_str("<td>-</td>"),
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    if !deps.is_empty() {
        out.push_str("<h2>Dependencies</h2>");
        for d in &deps {
            dependency(&mut out, r, d);
        }
    }
    for kind in crate::kinds::SECTIONS {
        section(&mut out, kind.title, r.section(kind));
    }
    if !r.errors.is_empty() {
        out.push_str("<h2>Errors</h2><ul>");
        for e in &r.errors {
            let _ = write!(out, "<li>{}</li>", esc(e));
        }
        out.push_str("</ul>");
    }
    out.push_str("</body></html>\n");
    // After HTML escaping: control characters and bidi overrides are shown escaped, so neither
    // a terminal that prints the file nor the browser's bidi algorithm interprets them.
    crate::text::sanitize(&out, true).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_nothing_external_is_referenced() {
        let mut r = RunReport::new("gate", "1-x", "m.toml");
        r.errors.push("<script>alert(1)</script> & \"quotes\"".into());
        let html = render(&r);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        for external in ["http://", "https://", "src=", "<link"] {
            assert!(!html.contains(external), "references {external}: {html}");
        }
    }

    #[test]
    fn findings_come_first_with_their_filter_and_the_only_script_is_the_filters() {
        let mut r = RunReport::new("gate", "1-x", "m.toml");
        let f = |id: &str, kind: crate::kinds::FindingKind, sev: Severity, base: &str| Finding {
            id: id.into(),
            subject: "x".into(),
            kind,
            item: String::new(),
            failing: vec![base.into()],
            severity: sev,
            summary: format!("<b>{id}</b>"),
            evidence: [(base.to_string(), "raw <value>".to_string())].into(),
            known: None,
            explanation: Default::default(),
        };
        r.findings = vec![
            f("x/size/", crate::kinds::FindingKind::Size, Severity::Info, "glibc"),
            f("x/crash/m", crate::kinds::FindingKind::Crash, Severity::Blocking, "musl"),
        ];
        r.verdicts = vec![crate::model::Verdict {
            dependency: "x".into(),
            base: "musl".into(),
            pass: false,
            required: true,
            reasons: vec![],
            failed_by: vec!["x/crash/m".into()],
            error: None,
        }];
        let html = render(&r);
        assert!(html.find("x/crash/m").unwrap() < html.find("x/size/").unwrap(), "blocking first");
        assert!(html.find("Differences").unwrap() < html.find("Verdicts").unwrap());
        assert!(html.contains("data-kind=\"crash\" data-bases=\"musl\""), "{html}");
        assert!(
            html.contains("<details><summary>evidence</summary><b>musl</b>: raw &lt;value&gt;</details>"),
            "{html}"
        );
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains(FILTER_SCRIPT));
        assert!(html.contains("&lt;b&gt;x/crash/m&lt;/b&gt;"), "summaries escaped: {html}");
    }
}
