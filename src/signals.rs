//! SIGINT and SIGTERM: resolved into a future the pipeline races against its work, so an
//! interrupted run stops, removes its containers and writes a partial report.
//!
//! The handlers live on a thread of their own for the whole life of the process. Once a handler
//! is installed the default action (ending the process) is gone for good, so a signal that
//! nobody waits for must still end the process: otherwise a run that is past its guarded part
//! (rendering, writing the report, cleaning up) could not be interrupted at all. Hence: a
//! signal while some work waits in [`interrupted`] is delivered to it, once; any other signal,
//! and a second one, ends the process at once with 130.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

struct Shared {
    tx: tokio::sync::watch::Sender<Option<&'static str>>,
    /// How many futures wait in [`interrupted`].
    waiting: AtomicUsize,
    /// Signals received so far.
    received: AtomicUsize,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// Installs the handlers (once; later calls do nothing). Called at start-up, and by
/// [`interrupted`] for library callers that did not.
pub fn install() {
    shared();
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let (tx, _) = tokio::sync::watch::channel(None);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Its own thread and runtime: a main runtime whose workers are all busy (a renderer
        // looping on a huge input) must not delay the signal.
        let spawned = std::thread::Builder::new().name("muslcheck-signals".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(_) => return,
            };
            rt.block_on(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
                    (Ok(t), Ok(i)) => (t, i),
                    _ => return,
                };
                let _ = ready_tx.send(());
                loop {
                    let name = tokio::select! {
                        _ = term.recv() => "SIGTERM",
                        _ = int.recv() => "SIGINT",
                    };
                    deliver(name);
                }
            });
        });
        if spawned.is_ok() {
            // Return only once the handlers are in place, so no early signal is lost.
            let _ = ready_rx.recv_timeout(std::time::Duration::from_secs(5));
        }
        Shared { tx, waiting: AtomicUsize::new(0), received: AtomicUsize::new(0) }
    })
}

fn deliver(name: &'static str) {
    let Some(s) = SHARED.get() else {
        // Still starting up: nothing can be waiting yet.
        eprintln!("interrupted by {name}");
        std::process::exit(130);
    };
    let earlier = s.received.fetch_add(1, Ordering::SeqCst);
    if earlier > 0 || s.waiting.load(Ordering::SeqCst) == 0 {
        eprintln!("interrupted by {name}");
        std::process::exit(130);
    }
    s.tx.send_replace(Some(name));
}

/// Counts a waiting future for as long as it lives.
struct Waiting(&'static Shared);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Completes with the signal's name when SIGINT or SIGTERM arrives.
pub async fn interrupted() -> &'static str {
    let s = shared();
    s.waiting.fetch_add(1, Ordering::SeqCst);
    let _waiting = Waiting(s);
    let mut rx = s.tx.subscribe();
    loop {
        if let Some(name) = *rx.borrow_and_update() {
            return name;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}
