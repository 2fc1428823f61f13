//! Progress display: the pipeline emits [`Event`]s; this turns them into one line per base and
//! stage (prepare, build, probe, each section), each with its count of units done, the time the
//! stage has taken, and the unit it is working on. Everything goes to stderr: stdout carries the
//! report only. No other module touches indicatif. Off when stderr is not a terminal or with
//! --no-progress; then events go to the log instead.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A stage of the work on one base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Pulling the base, observing its libc, preparing its venv layer.
    Prepare,
    /// Installing the dependencies.
    Build,
    /// Importing and smoke-testing them.
    Probe,
    /// A per-base section (its kind's id: `profile`, `resolver`).
    Section(&'static str),
}

impl Stage {
    fn label(&self) -> &'static str {
        match self {
            Stage::Prepare => "prepare",
            Stage::Build => "build",
            Stage::Probe => "probe",
            Stage::Section(kind) => kind,
        }
    }
}

/// What the pipeline reports as it goes.
#[derive(Debug, Clone)]
pub enum Event {
    /// `total` units of `stage` on `base` are planned.
    Planned { base: String, stage: Stage, total: u64 },
    /// A unit (a job, a base, a section) starts, in a stage.
    Started { id: String, base: String, stage: Stage, what: String },
    /// A unit moves on to another stage (a job from its build to its probe), doing `what`.
    Phase { id: String, stage: Stage, what: String },
    /// A unit is done: every stage it was planned in counts it.
    Finished { id: String, summary: String },
}

impl Event {
    fn sanitized(self) -> Event {
        let line = |s: String| crate::text::sanitize(&s, false).into_owned();
        match self {
            Event::Planned { base, stage, total } => Event::Planned { base: line(base), stage, total },
            Event::Started { id, base, stage, what } => {
                Event::Started { id: line(id), base: line(base), stage, what: line(what) }
            }
            Event::Phase { id, stage, what } => Event::Phase { id: line(id), stage, what: line(what) },
            Event::Finished { id, summary } => Event::Finished { id: line(id), summary: line(summary) },
        }
    }
}

/// One base's stage on the screen.
struct Line {
    bar: ProgressBar,
    prefix: String,
    total: u64,
    done: u64,
    /// The units in this stage now, oldest first, with what each is doing.
    running: Vec<(String, String)>,
    started: Option<Instant>,
}

impl Line {
    fn draw(&mut self, last: Option<&str>) {
        let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
        let head = format!("{}  {:>3}/{:<3}", self.prefix, self.done, self.total);
        if self.total > 0 && self.done >= self.total {
            self.bar.set_style(style("  {msg}"));
            let what = last.filter(|s| !s.is_empty()).map(|s| format!("done: {s}")).unwrap_or_else(|| "done".into());
            // A stage nothing entered (every probe's observations reused) took no time of its own.
            let took = if self.started.is_some() { clock(elapsed) } else { "-".into() };
            self.bar.finish_with_message(format!("{head} {took:>6}  {what}"));
        } else if let Some((id, what)) = self.running.last() {
            // The unit named, unless the line is its only one (a base's prepare, a section).
            let current = if self.total == 1 { what.clone() } else { format!("{id}: {what}") };
            let more = match self.running.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            // The stage's time ticks on (indicatif's clock, reset when the stage began).
            self.bar.set_style(style("{spinner} {prefix} {elapsed:>6}  {msg}"));
            self.bar.set_prefix(head);
            self.bar.set_message(format!("{current}{more}"));
            self.bar.enable_steady_tick(Duration::from_millis(250));
        } else {
            self.bar.set_style(style("  {msg}"));
            self.bar.set_message(format!("{head} {:>6}  {}", "", if self.started.is_some() { "…" } else { "waiting" }));
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("progress template")
}

/// `4.2s`, `1m05s`.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[derive(Default)]
struct Screen {
    /// By (base, stage), in the order they were planned.
    lines: Vec<((String, Stage), Line)>,
    /// Where each unit is now: its base and the stages it has been in.
    units: HashMap<String, (String, Vec<Stage>)>,
}

impl Screen {
    fn line(&mut self, base: &str, stage: Stage) -> Option<&mut Line> {
        self.lines.iter_mut().find(|((b, s), _)| b == base && *s == stage).map(|(_, l)| l)
    }

    /// Enters a unit into a stage (leaving the one it was in, which then counts it done).
    fn enter(&mut self, id: &str, base: &str, stage: Stage, what: String) {
        let previous = self.units.get(id).and_then(|(_, st)| st.last().copied());
        if let Some(prev) = previous.filter(|p| *p != stage) {
            self.leave(id, base, prev, None);
        }
        self.units.entry(id.to_string()).or_insert_with(|| (base.to_string(), vec![])).1.push(stage);
        if let Some(l) = self.line(base, stage) {
            if l.started.is_none() {
                l.started = Some(Instant::now());
                l.bar.reset_elapsed();
            }
            l.running.retain(|(x, _)| x != id);
            l.running.push((id.to_string(), what));
            l.draw(None);
        }
    }

    fn leave(&mut self, id: &str, base: &str, stage: Stage, summary: Option<&str>) {
        if let Some(l) = self.line(base, stage) {
            l.running.retain(|(x, _)| x != id);
            l.done += 1;
            l.draw(summary);
        }
    }

    /// A unit is done: it counts in the stage it was in, and in the stages planned after it
    /// that it passed without entering (a job whose probe was cached, or that did not install).
    fn finish(&mut self, id: &str, summary: &str) {
        let Some((base, stages)) = self.units.remove(id) else { return };
        let last = *stages.last().expect("a unit entered a stage");
        let single = matches!(last, Stage::Prepare | Stage::Section(_));
        self.leave(id, &base, last, single.then_some(summary));
        if last == Stage::Build {
            self.leave(id, &base, Stage::Probe, None);
        }
    }
}

pub struct Progress {
    inner: Option<Inner>,
}

struct Inner {
    multi: MultiProgress,
    screen: Mutex<Screen>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { inner: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        Progress { inner: Some(Inner { multi, screen: Mutex::default() }) }
    }

    pub fn event(&self, e: Event) {
        // Summaries carry text from code under test (pip's and the probes' output): one line
        // each, control characters and bidi overrides shown escaped, never sent to the terminal.
        let e = e.sanitized();
        let Some(i) = &self.inner else {
            match e {
                Event::Planned { base, stage, total } => tracing::info!("{base}: {total} {} planned", stage.label()),
                Event::Started { id, what, .. } => tracing::info!("{id}: {what}"),
                Event::Phase { id, what, .. } => tracing::info!("{id}: {what}"),
                Event::Finished { id, summary } => tracing::info!("{id}: {summary}"),
            }
            return;
        };
        let mut screen = i.screen.lock().expect("progress screen");
        match e {
            Event::Planned { base, stage, total } => match screen.line(&base, stage) {
                Some(l) => l.total += total,
                None => {
                    let mut line = Line {
                        bar: i.multi.add(ProgressBar::new_spinner()),
                        prefix: format!("{base:<12} {:<9}", stage.label()),
                        total,
                        done: 0,
                        running: vec![],
                        started: None,
                    };
                    line.draw(None);
                    screen.lines.push(((base, stage), line));
                }
            },
            Event::Started { id, base, stage, what } => screen.enter(&id, &base, stage, what),
            Event::Phase { id, stage, what } => {
                if let Some(base) = screen.units.get(&id).map(|(b, _)| b.clone()) {
                    screen.enter(&id, &base, stage, what);
                }
            }
            Event::Finished { id, summary } => screen.finish(&id, &summary),
        }
    }

    /// Leaves every line on the screen as it stands (the report follows on stdout).
    pub fn finish(&self) {
        if let Some(i) = &self.inner {
            for (_, l) in &i.screen.lock().expect("progress screen").lines {
                if !l.bar.is_finished() {
                    l.bar.abandon();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_text_reaches_the_terminal_as_one_escaped_line() {
        let e = Event::Finished { id: "dep[\u{202e}musl]".into(), summary: "ok\u{1b}[2K\rPASS\nnext".into() };
        match e.sanitized() {
            Event::Finished { id, summary } => {
                assert_eq!(id, "dep[\\u202emusl]");
                assert_eq!(summary, "ok\\x1b[2K\\x0dPASS\\x0anext");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_job_counts_in_build_and_probe_whichever_way_it_ends() {
        let hidden = |prefix: &str| Line {
            bar: ProgressBar::hidden(),
            prefix: prefix.into(),
            total: 2,
            done: 0,
            running: vec![],
            started: None,
        };
        let mut s = Screen::default();
        s.lines.push((("musl".into(), Stage::Build), hidden("musl build")));
        s.lines.push((("musl".into(), Stage::Probe), hidden("musl probe")));
        s.enter("a[musl]", "musl", Stage::Build, "installing".into());
        s.enter("b[musl]", "musl", Stage::Build, "installing".into());
        let message = s.line("musl", Stage::Build).unwrap().bar.message();
        assert!(message.contains("b[musl]: installing (+1 more)"), "{message}");
        s.enter("a[musl]", "musl", Stage::Probe, "importing and smoke-testing".into());
        let build = s.line("musl", Stage::Build).unwrap();
        assert_eq!((build.done, build.running.len()), (1, 1));
        assert_eq!(build.bar.prefix(), "musl build    1/2  ");
        s.finish("a[musl]", "installed");
        // b did not install: it never reaches the probe, which counts it all the same.
        s.finish("b[musl]", "install_failed: no compiler");
        for stage in [Stage::Build, Stage::Probe] {
            let l = s.line("musl", stage).unwrap();
            assert_eq!((l.done, l.running.len()), (2, 0), "{stage:?}");
            assert!(l.bar.is_finished() && l.bar.message().contains("2/2") && l.bar.message().contains("done"));
        }
    }
}
