//! Writing the report where `--output` says, without replacing what is there by accident.
//!
//! A regular file (or a new path) is replaced atomically, so a reader never sees half a report.
//! Anything else is the user's way of sending the report somewhere: a symlink is followed to its
//! target (the link stays), and a device or FIFO (`/dev/stdout`, a pipe to a collector) is
//! written in place; renaming over those would replace the device node or the link itself, which
//! is how `-o /dev/full` as root once turned the device into a plain file.

use std::io::Write;
use std::path::Path;

/// Why the report could not be written.
#[derive(Debug)]
pub enum TargetError {
    /// The target is not something a report can be written to (a directory, a full device):
    /// the user named the wrong thing.
    Refused(String),
    /// Writing a regular file failed (disk full, permissions).
    Io(std::io::Error),
}

/// Writes `contents` to `path` as described in the module documentation.
pub fn write_output(path: &Path, contents: &[u8]) -> Result<(), TargetError> {
    let refused = |what: String| TargetError::Refused(format!("cannot write the report to {}: {what}", path.display()));
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                // A dangling symlink: create its target, in place (there is nothing to replace).
                return write_in_place(path, contents, true).map_err(|e| refused(e.to_string()));
            }
            crate::results::write_atomic(path, contents).map_err(TargetError::Io)
        }
        Err(e) => Err(refused(e.to_string())),
        Ok(m) if m.is_dir() => Err(refused("it is a directory".into())),
        // `/dev/stdout` redirected to a file resolves to a regular file through /proc: the
        // caller's open descriptor is what is meant, so write through it.
        Ok(_) if path.starts_with("/dev") || path.starts_with("/proc") => {
            write_in_place(path, contents, false).map_err(|e| refused(e.to_string()))
        }
        Ok(m) if m.is_file() => {
            // Through any symlinks to the file itself, which is replaced with the same mode.
            let real = std::fs::canonicalize(path).map_err(TargetError::Io)?;
            crate::results::write_atomic(&real, contents).map_err(TargetError::Io)
        }
        Ok(_) => write_in_place(path, contents, false).map_err(|e| refused(e.to_string())),
    }
}

fn write_in_place(path: &Path, contents: &[u8], create: bool) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create(create).truncate(create).open(path)?;
    f.write_all(contents)?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    #[test]
    fn a_regular_file_is_replaced_and_a_symlink_followed() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("report.txt");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_output(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o644);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_output(&link, b"newer").unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the mode is kept");
        write_output(&d.path().join("fresh"), b"x").unwrap();
        assert_eq!(std::fs::read(d.path().join("fresh")).unwrap(), b"x");
        let umask = crate::results::tests::umask();
        assert_eq!(
            std::fs::metadata(d.path().join("fresh")).unwrap().permissions().mode() & 0o777,
            0o666 & !umask,
            "a new report gets the umask's mode, not 0600"
        );
    }

    #[test]
    fn devices_are_written_in_place_and_refusals_are_clear() {
        write_output(Path::new("/dev/null"), b"x").unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        match write_output(Path::new("/dev/full"), b"x") {
            Err(TargetError::Refused(m)) => assert!(m.contains("/dev/full") && m.contains("No space left"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(write_output(d.path(), b"x"), Err(TargetError::Refused(m)) if m.contains("directory")));
    }
}
