//! The results directory (`report.json`, `logs/<job>.install.log`): created once per run, and
//! written without following symlinks.
//!
//! The directory may come from a checkout a pull request controls, so a planted
//! `logs/six_glibc_.install.log -> /etc/cron.d/x` must not make a run (as root) write there.
//! Files are opened with `O_NOFOLLOW` (a symlink in the last component is refused) and the `logs`
//! directory itself must be a real directory. `report.json` is replaced by rename, which never
//! follows a symlink either.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Creates `<dir>/logs`; refuses a `logs` that is a symlink or not a directory.
pub fn prepare(dir: &Path) -> Result<(), String> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|e| format!("cannot create the results directory {}: {e}", logs.display()))?;
    match std::fs::symlink_metadata(&logs) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!("{} is a symlink, not a directory: refusing to write logs through it", logs.display())),
        Err(e) => Err(format!("cannot inspect {}: {e}", logs.display())),
    }
}

/// The lock file in a results directory: held (flock) by the run writing there.
pub const LOCK_FILE: &str = ".muslcheck.lock";

/// A results directory holds one run at a time: two runs sharing one would overwrite each
/// other's `report.json` and logs without a word. Held for as long as the value lives; the
/// kernel releases it however the run ends (as a lease is, see `lease`). The file is left in
/// place: removing it would let a third run lock a new file while a second holds the old one.
#[derive(Debug)]
pub struct ResultsLock {
    _file: std::fs::File,
}

/// Takes the results directory `dir` for `run_id`, or says which run has it (a usage error:
/// the user pointed two runs at one directory).
pub fn lock(dir: &Path, run_id: &str) -> Result<ResultsLock, String> {
    use std::io::{Read, Seek};
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| format!("cannot lock the results directory ({}): {e}", path.display()))?;
    if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(format!("cannot lock the results directory: {} is not a regular file", path.display()));
    }
    let held = !crate::lease::try_lock(&file)
        .map_err(|e| format!("cannot lock the results directory ({}): {e}", path.display()))?;
    if held {
        let mut who = String::new();
        let _ = (&mut file).take(200).read_to_string(&mut who);
        let who = crate::text::sanitize(who.trim(), false);
        return Err(format!(
            "the results directory {} is in use by {}; give this run another --results-dir, or wait for that one to finish",
            dir.display(),
            if who.is_empty() { "another run".into() } else { who }
        ));
    }
    file.set_len(0).and_then(|_| file.rewind()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    writeln!(file, "run {run_id} (pid {})", std::process::id())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(ResultsLock { _file: file })
}

/// Creates or truncates `path` and writes `contents`, refusing to follow a symlink there.
pub fn write_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::other("it is a symlink; refusing to write through it"),
            _ => e,
        })?;
    f.write_all(contents)?;
    f.flush()
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then a
/// rename, so a reader (or an interrupted run) never sees half a file. A file that is replaced
/// keeps its mode; a new one gets the mode the umask gives (0644 under the usual 022), as any
/// other program's output would, not the temporary file's private 0600.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let existing = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file()).map(|m| m.permissions());
    // The mode is given to open(2), which applies the umask.
    let mut tmp = tempfile::Builder::new().permissions(std::fs::Permissions::from_mode(0o666)).tempfile_in(dir)?;
    if let Some(p) = existing {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Replaces the file `path` names (through any symlinks: the link stays a link, its target is
/// what is rewritten), atomically and with its mode kept. A file nobody may write (0444) is
/// refused: a read-only matrix says "do not edit me", and root's rename would ignore that.
pub fn replace_through(path: &Path, contents: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let real = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
    let meta = std::fs::metadata(&real).map_err(|e| format!("cannot inspect {}: {e}", real.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file; refusing to replace it", real.display()));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o222 == 0 {
        return Err(format!(
            "{} is read-only (mode {mode:04o}); refusing to rewrite it (make it writable first)",
            real.display()
        ));
    }
    write_atomic(&real, contents).map_err(|e| format!("failed to write {}: {e}", real.display()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn planted_symlinks_are_refused_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        prepare(&d.path().join("results")).unwrap();
        let log = d.path().join("results/logs/x.install.log");
        std::os::unix::fs::symlink(&victim, &log).unwrap();
        let e = write_file(&log, b"pip output").unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // A logs directory that is a symlink is refused as a whole.
        let other = d.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::create_dir_all(d.path().join("r2")).unwrap();
        std::os::unix::fs::symlink(&other, d.path().join("r2/logs")).unwrap();
        assert!(prepare(&d.path().join("r2")).unwrap_err().contains("is a symlink"));
        // A plain file is written.
        let plain = d.path().join("results/logs/y.install.log");
        write_file(&plain, b"ok").unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), b"ok");
    }

    #[test]
    fn a_results_directory_holds_one_run_at_a_time() {
        let d = tempfile::tempdir().unwrap();
        let first = lock(d.path(), "1700000000-aaaaaaaa").unwrap();
        let e = lock(d.path(), "1700000001-bbbbbbbb").unwrap_err();
        assert!(
            e.contains(&format!(
                "is in use by run 1700000000-aaaaaaaa (pid {}); give this run another --results-dir",
                std::process::id()
            )),
            "{e}"
        );
        drop(first);
        let _second = lock(d.path(), "1700000001-bbbbbbbb").unwrap();
        assert!(std::fs::read_to_string(d.path().join(LOCK_FILE)).unwrap().starts_with("run 1700000001-bbbbbbbb "));
        // A lock file planted as a symlink is not followed.
        let d2 = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(d.path().join("victim"), d2.path().join(LOCK_FILE)).unwrap();
        assert!(lock(d2.path(), "x").unwrap_err().contains("cannot lock the results directory"));
        assert!(!d.path().join("victim").exists());
    }

    /// The process's umask, read without changing it (umask(2) can only set it, and this
    /// process has other threads creating files).
    pub(crate) fn umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find_map(|l| l.strip_prefix("Umask:")).expect("Umask in /proc/self/status");
        u32::from_str_radix(line.trim(), 8).unwrap()
    }

    #[test]
    fn new_files_get_the_umasks_mode_and_replaced_files_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let d = tempfile::tempdir().unwrap();
        let fresh = d.path().join("report.json");
        write_atomic(&fresh, b"{}").unwrap();
        assert_eq!(mode(&fresh), 0o666 & !umask(), "not the temporary file's 0600");
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&fresh, b"{\"a\": 1}").unwrap();
        assert_eq!(mode(&fresh), 0o640);
        assert_eq!(std::fs::read(&fresh).unwrap(), b"{\"a\": 1}");
    }

    #[test]
    fn a_file_is_replaced_through_its_symlink_and_a_read_only_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("real.toml");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o664)).unwrap();
        let link = d.path().join("link.toml");
        std::os::unix::fs::symlink("real.toml", &link).unwrap();
        replace_through(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o664);
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = replace_through(&link, b"newer").unwrap_err();
        assert!(e.contains("real.toml is read-only (mode 0444); refusing to rewrite it"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }
}
