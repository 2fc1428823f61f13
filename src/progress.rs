//! Progress display: the pipeline emits [`Event`]s; this turns them into indicatif bars (a bar
//! per running job and an overall bar). No other module touches indicatif. Off when stderr is
//! not a terminal or with --no-progress; then events go to the log instead.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the pipeline reports as it goes.
#[derive(Debug, Clone)]
pub enum Event {
    /// The number of units of work (jobs, profiles) planned.
    Planned(u64),
    Started {
        id: String,
        what: String,
    },
    Phase {
        id: String,
        what: String,
    },
    Finished {
        id: String,
        summary: String,
    },
}

impl Event {
    fn sanitized(self) -> Event {
        let line = |s: String| crate::text::sanitize(&s, false).into_owned();
        match self {
            Event::Planned(n) => Event::Planned(n),
            Event::Started { id, what } => Event::Started { id: line(id), what: line(what) },
            Event::Phase { id, what } => Event::Phase { id: line(id), what: line(what) },
            Event::Finished { id, summary } => Event::Finished { id: line(id), summary: line(summary) },
        }
    }
}

pub struct Progress {
    inner: Option<Inner>,
}

struct Inner {
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { inner: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise:.dim} [{bar:30}] {pos}/{len} {msg}")
                .expect("progress template")
                .progress_chars("=> "),
        );
        Progress { inner: Some(Inner { multi, overall, bars: Mutex::default() }) }
    }

    pub fn event(&self, e: Event) {
        // Summaries carry text from code under test (pip's and the probes' output): one line
        // each, control characters and bidi overrides shown escaped, never sent to the terminal.
        let e = e.sanitized();
        let Some(i) = &self.inner else {
            match e {
                Event::Planned(n) => tracing::info!("{n} units of work planned"),
                Event::Started { id, what } => tracing::info!("{id}: {what}"),
                Event::Phase { id, what } => tracing::info!("{id}: {what}"),
                Event::Finished { id, summary } => tracing::info!("{id}: {summary}"),
            }
            return;
        };
        match e {
            Event::Planned(n) => i.overall.inc_length(n),
            Event::Started { id, what } => {
                let bar = i.multi.insert_before(&i.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix:.bold} {msg} {elapsed:.dim}")
                        .expect("spinner template"),
                );
                bar.set_prefix(id.clone());
                bar.set_message(what);
                bar.enable_steady_tick(Duration::from_millis(120));
                i.bars.lock().expect("bars").insert(id, bar);
            }
            Event::Phase { id, what } => {
                if let Some(b) = i.bars.lock().expect("bars").get(&id) {
                    b.set_message(what);
                }
            }
            Event::Finished { id, summary } => {
                if let Some(b) = i.bars.lock().expect("bars").remove(&id) {
                    b.finish_and_clear();
                }
                i.overall.inc(1);
                let _ = i.multi.println(format!("  {id}: {summary}"));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(i) = &self.inner {
            i.overall.finish_and_clear();
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
}
