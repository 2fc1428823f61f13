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
/// rename, so a reader (or an interrupted run) never sees half a file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
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
}
