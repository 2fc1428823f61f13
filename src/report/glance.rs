//! The table format's default view, read at a glance: a verdict grid (dependency by base), each
//! blocking finding as a short block (what, where, why, what to do), the other findings one line
//! each, then the closing lines (times, reuse, the outcome). The full tables are the detailed
//! view's (`--details`, [`super::table`]). Every text is escaped by the sanitiser before any
//! colour is added; colour is added only when asked (a terminal, no NO_COLOR), so piped output is
//! plain and the same from one run to the next.

use crate::model::{BuildOutcome, Finding, RunReport, Severity};

/// The lines of a finding's explanation shown under "why" (the rest: `--details`).
const MAX_WHY: usize = 3;
/// The lines of suggestions shown under "what to do".
const MAX_DO: usize = 2;
/// The longest line shown; the report and `--details` keep every line whole.
const MAX_LINE: usize = 160;
/// Informational differences of one per-base section (`<profile>`, `<resolver>`) shown at a
/// glance; the rest are counted, and every one of them is in words under `--details`. A base
/// profile differs in dozens of checks between two libcs, which would bury the dependencies.
const MAX_SECTION_LINES: usize = 6;

/// The explanation lines that say what to do (as `compare` words them: the version with a wheel
/// for the base, the libc version that loads the file, an older version without the cause).
const SUGGESTIONS: &[&str] = &["the newest version of ", "by the rule table, ", "an older version without the cause: "];

/// Whether an explanation line is a suggestion rather than a fact.
pub(crate) fn is_suggestion(line: &str) -> bool {
    SUGGESTIONS.iter().any(|s| line.starts_with(s))
}

/// ANSI styles, or nothing.
struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.code("1", t)
    }
    fn red(&self, t: &str) -> String {
        self.code("1;31", t)
    }
    fn green(&self, t: &str) -> String {
        self.code("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.code("33", t)
    }
    fn dim(&self, t: &str) -> String {
        self.code("2", t)
    }
}

/// One line of untrusted text as shown: escaped, then cut to [`MAX_LINE`] characters.
fn line(s: &str) -> String {
    let s = crate::text::sanitize(s, false);
    match s.char_indices().nth(MAX_LINE - 1) {
        Some((i, _)) if s[i..].chars().count() > 1 => format!("{}…", &s[..i]),
        _ => s.into_owned(),
    }
}

/// What one cell of the grid says, from the verdict and the job behind it.
fn cell(r: &RunReport, dependency: &str, base: &str) -> &'static str {
    let job = r.jobs.iter().find(|j| j.dependency == dependency && j.base == base);
    let verdict = r.verdicts.iter().find(|v| v.dependency == dependency && v.base == base);
    match (job.map(|j| j.outcome), verdict) {
        (Some(BuildOutcome::InfraError), _) => "error",
        (_, Some(v)) if !v.pass => "FAIL",
        (Some(BuildOutcome::NotApplicable), _) => "not applicable",
        (_, Some(_)) => "pass",
        (_, None) if r.not_run.iter().any(|id| *id == crate::plan::job_id(dependency, base)) => "not run",
        (_, None) => "-",
    }
}

fn painted(p: &Paint, text: &str) -> String {
    match text {
        "FAIL" => p.red(text),
        "pass" => p.green(text),
        "error" | "not run" => p.yellow(text),
        _ => p.dim(text),
    }
}

/// The verdict grid: a row per dependency, a column per base (optional bases marked).
fn grid(r: &RunReport, p: &Paint) -> String {
    let mut deps: Vec<&str> = r.verdicts.iter().map(|v| v.dependency.as_str()).collect();
    deps.extend(r.jobs.iter().map(|j| j.dependency.as_str()));
    deps.sort();
    deps.dedup();
    let bases: Vec<(String, String)> = r
        .bases
        .iter()
        .map(|b| (b.name.clone(), format!("{}{}", line(&b.name), if b.required { "" } else { " (optional)" })))
        .collect();
    let mut rows: Vec<Vec<String>> =
        vec![std::iter::once("dependency".to_string()).chain(bases.iter().map(|(_, shown)| shown.clone())).collect()];
    let mut cells: Vec<Vec<&str>> = vec![];
    for d in &deps {
        rows.push(std::iter::once(line(d)).chain(bases.iter().map(|(b, _)| cell(r, d, b).to_string())).collect());
        cells.push(bases.iter().map(|(b, _)| cell(r, d, b)).collect());
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut text = String::new();
        for (c, value) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - value.chars().count());
            let shown = match (i, c) {
                (0, _) => p.bold(value),
                (_, 0) => value.clone(),
                _ => painted(p, cells[i - 1][c - 1]),
            };
            text.push_str(&shown);
            if c + 1 < row.len() {
                text.push_str(&pad);
                text.push_str("  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// Up to `max` lines, each one line, and how many more there are.
fn cut(lines: &[String], max: usize) -> Vec<String> {
    let mut out: Vec<String> = lines.iter().take(max).map(|l| line(l)).collect();
    if lines.len() > max {
        out.push(format!("… {} more (--details)", lines.len() - max));
    }
    out
}

/// A blocking finding: what differs, on which bases, why, and what to do.
fn block(f: &Finding, p: &Paint) -> String {
    let mut why: Vec<String> = vec![];
    let mut todo: Vec<String> = vec![];
    for base in &f.failing {
        for l in f.explanation.get(base).into_iter().flatten() {
            let shown = if f.failing.len() > 1 { format!("{base}: {l}") } else { l.clone() };
            if is_suggestion(l) {
                todo.push(shown);
            } else {
                why.push(shown);
            }
        }
    }
    why.dedup();
    if why.is_empty() {
        // Nothing explains it: what was observed on the failing bases, first lines.
        why = f
            .failing
            .iter()
            .filter_map(|b| f.evidence.get(b).and_then(|e| e.lines().next()).map(|e| format!("{b}: {e}")))
            .collect();
    }
    let mut out = format!("{} {}: {} [{}]\n", p.red("FAIL"), p.bold(&line(&f.subject)), line(&f.summary), f.kind);
    out.push_str(&format!("  where: {}\n", line(&f.failing.join(", "))));
    for (label, lines, max) in [("why:  ", &why, MAX_WHY), ("to do:", &todo, MAX_DO)] {
        for (i, l) in cut(lines, max).iter().enumerate() {
            out.push_str(&format!("  {} {l}\n", if i == 0 { label } else { "      " }));
        }
    }
    out
}

/// A finding of a per-base section rather than of a dependency.
fn is_section(f: &Finding) -> bool {
    crate::kinds::SECTIONS.iter().any(|k| k.subject == f.subject)
}

/// Any other finding (informational, or accepted by the matrix), on one line.
fn info_line(f: &Finding, p: &Paint) -> String {
    let label = if f.known.is_some() { "accepted" } else { "info" };
    let known = f.known.as_deref().map(|k| format!(" (accepted: {})", line(k))).unwrap_or_default();
    let on = if f.failing.is_empty() { String::new() } else { format!(" on {}", line(&f.failing.join(", "))) };
    format!("{} {} [{}]{on}: {}{known}\n", p.dim(label), line(&f.subject), f.kind, line(&f.summary))
}

/// The default view of a run's report (`run`, `gate`, `report merge`).
pub fn render(r: &RunReport, colour: bool) -> String {
    let p = Paint(colour);
    let mut out = String::new();
    if r.partial {
        out.push_str(&format!(
            "{}: the run did not finish; not run: {}\n\n",
            p.yellow("PARTIAL REPORT"),
            if r.not_run.is_empty() { "-".to_string() } else { line(&r.not_run.join(", ")) }
        ));
    }
    out.push_str(&format!("{}\n{}", p.bold("Verdicts"), grid(r, &p)));
    let (blocking, other): (Vec<&Finding>, Vec<&Finding>) =
        r.findings.iter().partition(|f| f.severity == Severity::Blocking && f.known.is_none());
    if !blocking.is_empty() {
        out.push_str(&format!("\n{}\n", p.bold("Blocking")));
        for f in &blocking {
            out.push_str(&block(f, &p));
        }
    }
    if !other.is_empty() {
        out.push_str(&format!("\n{}\n", p.bold("Also found")));
        // The dependencies' findings first, then each section's, a few in words and the rest
        // counted.
        let (sections, deps): (Vec<&&Finding>, Vec<&&Finding>) = other.iter().partition(|f| is_section(f));
        for f in deps {
            out.push_str(&info_line(f, &p));
        }
        for kind in crate::kinds::SECTIONS {
            let mine: Vec<&&Finding> = sections.iter().copied().filter(|f| f.subject == kind.subject).collect();
            for f in mine.iter().take(MAX_SECTION_LINES) {
                out.push_str(&info_line(f, &p));
            }
            if mine.len() > MAX_SECTION_LINES {
                out.push_str(&format!(
                    "{} {}: {} more difference(s), each in words: --details\n",
                    p.dim("info"),
                    line(kind.subject),
                    mine.len() - MAX_SECTION_LINES
                ));
            }
        }
    }
    for e in &r.errors {
        out.push_str(&format!("\n{} {}\n", p.red("error:"), line(e)));
    }
    if let Some(d) = &r.baseline {
        out.push_str(&format!(
            "\nsince the baseline ({}): {} new ({} blocking), {} resolved, {} changed, {} unchanged\n",
            line(&d.old_run),
            d.new.len(),
            d.new_blocking(),
            d.resolved.len(),
            d.changed.len(),
            d.unchanged.len()
        ));
    }
    let mut closing = String::new();
    // What reading the input left out (a lock's entry for the project's own code).
    for note in &r.inputs {
        closing.push_str(&format!("\ninput: {}", line(note)));
    }
    if !r.inputs.is_empty() {
        closing.push('\n');
    }
    if !r.matrix_source.is_empty() {
        closing.push_str(&format!("\nmatrix: {}\n", r.matrix_source));
    }
    closing.push_str(&super::table::footer(r));
    let closing = crate::text::sanitize(&closing, true).into_owned();
    out.push_str(&closing);
    out.push_str(&p.dim("every job, the evidence and the profiles: --details\n"));
    out
}
