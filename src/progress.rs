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
