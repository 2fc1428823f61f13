//! The detailed terminal rendering (`--details`): bases, every job, the verdicts, the findings
//! with their evidence, and the profile sections, in full tables.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};

use crate::model::{BuildOutcome, ProbeSection, RunReport, Severity};

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_width(140);
    t
}

/// The longest line a cell shows. The table library's word splitting is quadratic in a word's
/// length (a 150 kB name took over a minute), and nobody reads a 10 kB cell: the report.json
/// keeps every value whole.
const MAX_CELL_LINE: usize = 200;

/// Adds a row, each line of each cell cut to [`MAX_CELL_LINE`] characters with an ellipsis.
fn add<T: Into<Cell>>(t: &mut Table, cells: Vec<T>) {
    t.add_row(cells.into_iter().map(|c| Cell::new(clip(&c.into().content()))).collect::<Vec<_>>());
}

fn clip(s: &str) -> String {
    // Each line escaped before the layout, so the widths are those of what is shown.
    let lines: Vec<String> = s
        .split('\n')
        .map(|l| crate::text::sanitize(l, false))
        .map(|l| match l.char_indices().nth(MAX_CELL_LINE - 1) {
            Some((i, _)) if l[i..].chars().count() > 1 => format!("{}…", &l[..i]),
            _ => l.to_string(),
        })
        .collect();
    lines.join("\n")
}

/// `inspect`: each image's interpreters, how each was found and what it sees.
fn interpreters(r: &RunReport) -> Table {
    let mut t = table();
    t.set_header(vec!["base", "interpreter", "found", "libc", "distributions", "probe"]);
    for i in &r.interpreters {
        let mut seen = i.distributions.join(", ");
        if !i.judged_elsewhere.is_empty() {
            seen.push_str(&format!("\n(judged through another interpreter: {})", i.judged_elsewhere.join(", ")));
        }
        add(
            &mut t,
            vec![
                i.base.clone(),
                format!("{}{}", i.path, if i.main { " (main)" } else { "" }),
                i.how.clone(),
                i.libc.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                seen,
                i.completion.describe(),
            ],
        );
    }
    t
}

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    if r.partial {
        out.push_str(&format!(
            "PARTIAL REPORT: the run did not finish; not run: {}\n\n",
            if r.not_run.is_empty() { "-".to_string() } else { r.not_run.join(", ") }
        ));
    }
    let mut t = table();
    t.set_header(vec!["base", "image", "digest", "libc", "required"]);
    for b in &r.bases {
        add(
            &mut t,
            vec![
                b.name.clone(),
                b.image.clone(),
                b.digest.clone().unwrap_or_else(|| format!("(local) {}", b.image_id)),
                b.libc.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                if b.required { "yes" } else { "no" }.into(),
            ],
        );
    }
    out.push_str(&format!("Bases\n{t}\n"));
    if !r.interpreters.is_empty() {
        out.push_str(&format!("\nInterpreters\n{}\n", interpreters(r)));
    }

    if !r.jobs.is_empty() {
        let mut t = table();
        t.set_header(vec![
            "job",
            "outcome",
            "installed",
            "imports",
            "smoke (main / worker thread)",
            "thread depth",
            "build",
            "size over base",
        ]);
        for j in &r.jobs {
            let installed = j
                .distributions
                .iter()
                .map(|d| {
                    format!(
                        "{} {} ({})",
                        d.name,
                        d.version,
                        serde_json::to_value(d.source).unwrap().as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let (imports, smoke) = match &j.probe {
                Some(p) => {
                    let bad = p.imports.values().filter(|o| !o.is_ok()).count();
                    let smoke = match (&p.smoke, &p.smoke_thread) {
                        (Some(m), Some(t)) => format!(
                            "{} / {}{}",
                            m.label(),
                            t.label(),
                            p.thread_stack_bytes.map(|b| format!(" ({} KiB stack)", b / 1024)).unwrap_or_default()
                        ),
                        (Some(m), None) => m.label(),
                        _ => "-".into(),
                    };
                    let smoke = match &p.smoke_runtime {
                        Some(t) => format!("{smoke}\n{}", super::runtime_text(t)),
                        None => smoke,
                    };
                    let imports = format!("{}/{} ok", p.imports.len() - bad, p.imports.len());
                    let imports = if p.completion.is_complete() {
                        imports
                    } else {
                        format!("{imports}\nPROBE INCOMPLETE: {}", p.completion.describe())
                    };
                    (imports, smoke)
                }
                None => ("-".into(), "-".into()),
            };
            let outcome = match j.outcome {
                BuildOutcome::Installed => "installed".to_string(),
                o => format!(
                    "{}: {}",
                    serde_json::to_value(o).unwrap().as_str().unwrap_or(""),
                    j.error.as_deref().unwrap_or("").lines().next().unwrap_or("")
                ),
            };
            add(
                &mut t,
                vec![
                    Cell::new(&j.id),
                    Cell::new(outcome),
                    Cell::new(if installed.is_empty() { "-".into() } else { installed }),
                    Cell::new(imports),
                    Cell::new(smoke),
                    Cell::new(
                        j.crash_depth
                            .as_ref()
                            .map(|o| {
                                let f = &o.value["failure"];
                                format!(
                                    "{} then {}",
                                    o.value["max_ok_depth"],
                                    f["signal_name"].as_str().or(f["exception"].as_str()).unwrap_or("-")
                                )
                            })
                            .unwrap_or_else(|| "-".into()),
                    ),
                    Cell::new(format!(
                        "{:.1} s{}{}",
                        j.build_secs,
                        if j.cached { " (cached)" } else { "" },
                        if j.reuse.is_empty() { String::new() } else { format!("\n{}", j.reuse) }
                    )),
                    Cell::new(
                        j.size_over_base.map(|s| format!("{:.1} MB", s as f64 / 1e6)).unwrap_or_else(|| "-".into()),
                    ),
                ],
            );
        }
        out.push_str(&format!("\nJobs\n{t}\n"));
    }

    if !r.verdicts.is_empty() {
        let mut t = table();
        t.set_header(vec!["dependency", "base", "verdict", "reasons"]);
        for v in &r.verdicts {
            add(
                &mut t,
                vec![
                    v.dependency.clone(),
                    format!("{}{}", v.base, if v.required { "" } else { " (optional)" }),
                    if v.error.is_some() {
                        "ERROR"
                    } else if !v.pass {
                        "FAIL"
                    } else if super::not_applicable(r, &v.dependency, &v.base) {
                        "not applicable"
                    } else {
                        "pass"
                    }
                    .into(),
                    if v.reasons.is_empty() { "-".into() } else { v.reasons.join("\n") },
                ],
            );
        }
        out.push_str(&format!("\nVerdicts\n{t}\n"));
    }

    let deps: Vec<_> = r.findings.iter().filter(|f| !f.subject.starts_with('<')).collect();
    if !deps.is_empty() {
        let mut t = table();
        t.set_header(vec!["subject", "kind", "severity", "finding", "evidence"]);
        for f in deps {
            let sev = match (&f.known, f.severity) {
                (Some(_), _) => "known".to_string(),
                (None, Severity::Blocking) => "BLOCKING".to_string(),
                (None, Severity::Info) => "info".to_string(),
            };
            let mut summary = f.summary.clone();
            if let Some(k) = &f.known {
                summary.push_str(&format!("\n(accepted: {k})"));
            }
            add(
                &mut t,
                vec![
                    f.subject.clone(),
                    f.kind.to_string(),
                    sev,
                    summary,
                    f.evidence
                        .iter()
                        .map(|(b, e)| format!("{b}: {e}"))
                        .chain(
                            f.explanation
                                .iter()
                                .flat_map(|(b, why)| why.iter().map(move |w| format!("why on {b}: {w}"))),
                        )
                        .collect::<Vec<_>>()
                        .join("\n"),
                ],
            );
        }
        out.push_str(&format!("\nFindings\n{t}\n"));
    }
    for kind in crate::kinds::SECTIONS {
        let sections = r.section(kind);
        if !sections.is_empty() {
            out.push_str(&format!("\n{} ({})\n{}\n", kind.title, kind.about, side_by_side(sections)));
        }
    }
    if !r.repro.is_empty() {
        let mut t = table();
        t.set_header(vec!["base", "runs", "crash rate", "outcomes", "excerpt"]);
        for x in &r.repro {
            add(
                &mut t,
                vec![
                    x.base.clone(),
                    x.runs.len().to_string(),
                    format!("{:.0}%", x.crash_rate * 100.0),
                    x.outcomes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"),
                    x.install_error
                        .clone()
                        .or_else(|| x.runs.iter().find(|r| !r.excerpt.is_empty()).map(|r| r.excerpt.clone()))
                        .unwrap_or_default(),
                ],
            );
        }
        out.push_str(&format!("\nReproducer\n{t}\n"));
    }
    for e in &r.errors {
        out.push_str(&format!("\nerror: {e}\n"));
    }
    if r.command == "repro" {
        let distinct: std::collections::BTreeSet<Vec<&String>> =
            r.repro.iter().map(|x| x.outcomes.keys().collect()).collect();
        out.push_str(if distinct.len() > 1 {
            "\noutcomes differ between bases\n"
        } else {
            "\nsame outcomes on every base\n"
        });
        return out;
    }
    if let Some(d) = &r.baseline {
        out.push_str(&format!("\nSince the baseline\n{}", super::diff::render_table(d)));
    }
    out.push_str(&footer(r));
    // Whatever did not pass through a cell (headings, lists of names) is escaped here.
    crate::text::sanitize(&out, true).into_owned()
}

/// The closing lines of a run's report, in every text view: where the time went and what was
/// reused, then the findings, how many block, and the exit code they earn. Not yet escaped.
pub(crate) fn footer(r: &RunReport) -> String {
    let mut out = String::new();
    let t = &r.timings;
    if t.total > 0.0 {
        let cached = r.jobs.iter().filter(|j| j.cached).count();
        let observed = r.jobs.iter().filter(|j| j.probe_cached).count();
        out.push_str(&format!(
            "\ntime: {:.1} s in all; bases {:.1} s, builds {:.1} s, probes {:.1} s, {} (phases of parallel jobs overlap); {cached}/{} images reused, {observed} observations reused\n",
            t.total,
            t.bases,
            t.build,
            t.probe,
            crate::kinds::SECTIONS
                .iter()
                .map(|k| format!("{} {:.1} s", k.id, t.sections.get(k.id).copied().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", "),
            r.jobs.len()
        ));
    }
    match &r.outcome {
        Some(o) => out.push_str(&format!(
            "\n{} finding(s), {} blocking{} (exit {})\n",
            o.findings,
            o.blocking,
            if o.errors > 0 {
                format!("; {} infrastructure error(s): not conclusive", o.errors)
            } else if o.exit_code == crate::error::EXIT_USAGE {
                // Exit 2 found once the run went (a marker that excludes every base): say why.
                format!("; {}", o.summary)
            } else {
                String::new()
            },
            o.exit_code
        )),
        None => out.push_str("\nthe run did not finish: no outcome\n"),
    }
    out
}

/// One row per check, one column per base.
pub fn side_by_side(sections: &[ProbeSection]) -> Table {
    let mut t = table();
    let mut header = vec!["check".to_string()];
    header.extend(
        sections
            .iter()
            .map(|s| format!("{} ({})", s.base, s.libc.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "?".into()))),
    );
    t.set_header(header);
    let mut checks: Vec<&String> = sections.iter().flat_map(|s| s.checks.keys()).collect();
    checks.sort();
    checks.dedup();
    for c in checks {
        // The check with what it looks at; each base's words (the raw values are in the JSON).
        let about = sections.iter().find_map(|s| s.checks.get(c).and_then(|o| o.about.clone()));
        let mut row = vec![match about {
            Some(a) => format!("{c}\n{a}"),
            None => c.clone(),
        }];
        for s in sections {
            row.push(s.checks.get(c).map(|o| o.words()).unwrap_or_else(|| "-".into()));
        }
        add(&mut t, row);
    }
    t
}

#[cfg(test)]
mod clip_tests {
    use super::*;
    use crate::model::JobRecord;

    #[test]
    fn a_huge_name_renders_quickly_and_cut() {
        let name = "a".repeat(150_000);
        let mut r = RunReport::new("gate", "1700000000-abcdef12", "m.toml");
        r.jobs.push(JobRecord {
            error: Some(format!("ERROR: no {name}")),
            ..JobRecord::new(&name, "musl", &name, BuildOutcome::InstallFailed)
        });
        let start = std::time::Instant::now();
        let out = render(&r);
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
        assert!(out.contains('…'), "{out}");
        assert!(out.len() < 10_000, "{}", out.len());
        assert_eq!(clip(&"x".repeat(200)), "x".repeat(200));
        assert_eq!(clip(&"x".repeat(201)).chars().count(), 200);
        assert_eq!(clip("a\nb"), "a\nb");
    }
}
