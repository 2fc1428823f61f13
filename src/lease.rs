//! A run's lease: a lock file that lives exactly as long as the run, so `clean` can tell a live
//! run's containers from the leftovers of a run that was killed.
//!
//! The file is `<dir>/<run id>.lock` (`/run/muslcheck/runs` for root, else
//! `$XDG_RUNTIME_DIR/muslcheck/runs`, else `/tmp/muslcheck-<uid>/runs`), holding the run's pid,
//! and the run keeps an exclusive `flock` on it. A lock and not a pid file or a heartbeat,
//! because the kernel releases the lock when the process ends however it ends (`kill -9`
//! included): a lease cannot outlive its run, a recycled pid cannot make a dead run look alive,
//! and there is no clock or interval to tune. Its limit: it is seen on this machine only; a run
//! on another machine that shares the engine (or the harness in a job container) holds no lease
//! here, so no lease is [`RunState::Unknown`], never proof that a run is over.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

/// Where leases live: stable for a user whatever the environment says, so `sudo muslcheck clean`
/// sees the leases of `sudo muslcheck run`.
pub fn dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if uid == 0 {
        return PathBuf::from("/run/muslcheck/runs");
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("muslcheck/runs"),
        None => std::env::temp_dir().join(format!("muslcheck-{uid}/runs")),
    }
}

fn path_of(run_id: &str) -> PathBuf {
    dir().join(format!("{run_id}.lock"))
}

pub(crate) fn try_lock(f: &std::fs::File) -> std::io::Result<bool> {
    // SAFETY: a valid, open descriptor; flock only reads its arguments.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// A held lease; dropping it removes the file and releases the lock.
#[derive(Debug)]
pub struct Lease {
    _file: std::fs::File,
    path: PathBuf,
}

impl Lease {
    /// Takes the lease of a fresh run id.
    pub fn acquire(run_id: &str) -> std::io::Result<Lease> {
        let d = dir();
        std::fs::create_dir_all(&d)?;
        let path = path_of(run_id);
        // Locked under a private name, then renamed: the lease appears already held, so a
        // concurrent `clean` never sees (and sweeps) it unlocked.
        let tmp = d.join(format!("{run_id}.lock.new"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        if !try_lock(&file)? {
            return Err(std::io::Error::other(format!("{} is locked by another process", tmp.display())));
        }
        writeln!(file, "{}", std::process::id())?;
        std::fs::rename(&tmp, &path)?;
        Ok(Lease { _file: file, path })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What this machine knows of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// Its lease is held: by this process id, when the file says.
    Live(Option<u32>),
    /// Its lease file is here and nobody holds it: the run ended here without removing it
    /// (`kill -9`, the OOM killer). Known to be over; [`sweep`] removes the file.
    Ended,
    /// No lease file here: the run ended and its file was removed, or it runs somewhere this
    /// machine cannot see (another host sharing the engine, a job container). Not known to be
    /// over: what acts on its own must leave such a run's objects alone.
    Unknown,
}

pub fn state(run_id: &str) -> RunState {
    let path = path_of(run_id);
    let Ok(mut f) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&path) else {
        return RunState::Unknown;
    };
    match try_lock(&f) {
        Ok(false) => {
            let mut text = String::new();
            let _ = Read::by_ref(&mut f).take(64).read_to_string(&mut text);
            RunState::Live(text.trim().parse().ok())
        }
        Ok(true) => RunState::Ended,
        // A lease that cannot even be locked is treated as held: leaving a container alone is
        // the safe mistake.
        Err(_) => RunState::Live(None),
    }
}

/// The run ids of the lease files here, whatever their state.
fn known_runs() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir()) else { return vec![] };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".lock")).map(str::to_string))
        .collect()
}

/// The runs whose lease is held on this machine now.
pub fn live_runs() -> Vec<String> {
    known_runs().into_iter().filter(|id| matches!(state(id), RunState::Live(_))).collect()
}

/// The runs that ended on this machine without removing their lease (see [`RunState::Ended`]).
pub fn ended_runs() -> Vec<String> {
    known_runs().into_iter().filter(|id| state(id) == RunState::Ended).collect()
}

/// Removes the lease files nobody holds (runs killed with `kill -9`, or ended by a signal
/// before they could remove theirs). Once removed, such a run is [`RunState::Unknown`].
pub fn sweep() {
    forget(&ended_runs());
}

/// Removes the lease files of these ended runs, once what they told has been acted on: only
/// those, so that a run that ended after the caller looked stays known as ended for the next.
pub fn forget(runs: &[String]) {
    for id in runs {
        if state(id) == RunState::Ended {
            let _ = std::fs::remove_file(path_of(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_live_while_held_and_gone_after() {
        let id = format!("{}-{}", crate::model::now(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        assert_eq!(state(&id), RunState::Unknown);
        let lease = Lease::acquire(&id).unwrap();
        assert_eq!(state(&id), RunState::Live(Some(std::process::id())));
        drop(lease);
        assert_eq!(state(&id), RunState::Unknown);
        assert!(!path_of(&id).exists());
    }

    #[test]
    fn stale_leases_are_swept_and_held_ones_kept() {
        let new_id = || format!("{}-{}", crate::model::now(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (stale, held) = (new_id(), new_id());
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(path_of(&stale), "1\n").unwrap();
        let lease = Lease::acquire(&held).unwrap();
        let live = live_runs();
        assert!(live.contains(&held) && !live.contains(&stale), "{live:?}");
        // An ended run stays known as ended until swept: reading it does not forget it.
        assert_eq!(state(&stale), RunState::Ended);
        assert!(ended_runs().contains(&stale) && !ended_runs().contains(&held));
        sweep();
        assert_eq!(state(&stale), RunState::Unknown);
        assert!(!path_of(&stale).exists());
        assert!(path_of(&held).exists());
        drop(lease);
    }
}
