//! Reading the files a user (or a pull request) hands to muslcheck: matrices, requirement files,
//! smoke scripts, CA bundles, zones and scenarios.
//!
//! Every read is capped, so a huge or endless file (`/dev/zero`) costs at most the cap; text must
//! be UTF-8, and when it is not the error says where the first bad byte is; a UTF-8 byte-order
//! mark is accepted and dropped, as pip and most editors do.

use std::io::Read;
use std::path::Path;

/// Matrices, requirement files, resolv.conf files.
pub const MAX_TEXT: u64 = 1 << 20;
/// Smoke and reproducer scripts. They reach the container as one command-line argument, which
/// Linux limits to 128 KiB; half of that leaves room for JSON escaping, and a bigger script
/// would fail only inside the container, with "argument list too long".
pub const MAX_SCRIPT: u64 = 64 << 10;
/// CA bundles, DNS zones and scenarios: bigger by nature (a corporate bundle, a large zone).
pub const MAX_DATA: u64 = 4 << 20;
/// Run reports read back (`report diff`, `report merge`, `--baseline`): the largest nightly
/// report seen is a few MiB; a file beyond this is not one, and is not read into memory.
pub const MAX_REPORT: u64 = 256 << 20;

/// Why an input file could not be read.
#[derive(Debug)]
pub enum InputError {
    Io(std::io::Error),
    /// Larger than the cap (bytes).
    TooLarge(u64),
    /// Not UTF-8: the 1-based line and column of the first bad byte.
    NotUtf8 {
        line: usize,
        column: usize,
    },
    /// A directory, not a file.
    Directory,
    /// A FIFO, a device or a socket where a regular file is needed: what it is.
    NotRegular(&'static str),
}

impl InputError {
    /// Where the problem is, when it has a position (else 1:1, the start of the file).
    pub fn position(&self) -> (usize, usize) {
        match self {
            InputError::NotUtf8 { line, column } => (*line, *column),
            _ => (1, 1),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Io(e) => write!(f, "{e}"),
            InputError::TooLarge(cap) => write!(f, "larger than the limit of {}", size(*cap)),
            InputError::NotUtf8 { line, column } => {
                write!(f, "not UTF-8 text (first bad byte at line {line}, column {column})")
            }
            InputError::Directory => write!(f, "a directory, not a file"),
            InputError::NotRegular(what) => write!(f, "{what}, not a regular file"),
        }
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads at most `cap` bytes of `path` as UTF-8 text, without a leading byte-order mark.
pub fn read_text(path: &Path, cap: u64) -> Result<String, InputError> {
    let file = std::fs::File::open(path).map_err(InputError::Io)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(InputError::Directory);
    }
    let mut bytes = Vec::new();
    // One byte past the cap tells "exactly the cap" from "more".
    file.take(cap + 1).read_to_end(&mut bytes).map_err(InputError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge(cap));
    }
    decode(bytes)
}

/// Like [`read_text`], for a file that must be a regular file: a report, a baseline, a
/// requirements file's include. A FIFO, a device or a socket is refused before it is opened (a
/// FIFO nobody writes to would block the read for ever, `/dev/zero` would cost the cap), and
/// once more on the opened file, which is opened without blocking so a FIFO swapped in between
/// cannot hang the open; a regular file's size is checked before anything is read.
pub fn read_regular_text(path: &Path, cap: u64) -> Result<String, InputError> {
    use std::os::unix::fs::OpenOptionsExt;
    regular(&std::fs::metadata(path).map_err(InputError::Io)?)?;
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(InputError::Io)?;
    let meta = file.metadata().map_err(InputError::Io)?;
    regular(&meta)?;
    if meta.len() > cap {
        return Err(InputError::TooLarge(cap));
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(InputError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge(cap));
    }
    decode(bytes)
}

fn regular(meta: &std::fs::Metadata) -> Result<(), InputError> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    match () {
        _ if t.is_file() => Ok(()),
        _ if t.is_dir() => Err(InputError::Directory),
        _ if t.is_fifo() => Err(InputError::NotRegular("a FIFO")),
        _ if t.is_char_device() => Err(InputError::NotRegular("a character device")),
        _ if t.is_block_device() => Err(InputError::NotRegular("a block device")),
        _ if t.is_socket() => Err(InputError::NotRegular("a socket")),
        _ => Err(InputError::NotRegular("not a file")),
    }
}

/// UTF-8 text from bytes, without a leading byte-order mark; a bad byte is located.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, InputError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = std::str::from_utf8(&e.as_bytes()[..good]).expect("the valid prefix");
        let (line, column) = crate::input::line_col(prefix, prefix.len());
        InputError::NotUtf8 { line, column }
    })
}

/// A value as shown back in an error: escaped, and cut to its first 80 characters, so a hostile
/// input of megabytes does not become a message of megabytes.
pub fn shown(s: &str) -> String {
    let escaped: String = s.escape_debug().collect();
    match escaped.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &escaped[..i]),
        None => escaped,
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|i| before[i + 1..].chars().count()).unwrap_or_else(|| before.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_located_and_a_bom_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFsix\n".to_vec()).unwrap(), "six\n");
        match decode(b"six\nnumpy\ncaf\xe9\n".to_vec()) {
            Err(InputError::NotUtf8 { line, column }) => assert_eq!((line, column), (3, 4)),
            other => panic!("{other:?}"),
        }
        match decode(b"\x89PNG\r\n".to_vec()) {
            Err(InputError::NotUtf8 { line, column }) => assert_eq!((line, column), (1, 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_are_capped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big");
        std::fs::write(&p, vec![b'a'; 1025]).unwrap();
        assert!(matches!(read_text(&p, 1024), Err(InputError::TooLarge(1024))));
        assert_eq!(read_text(&p, 1025).unwrap().len(), 1025);
        // An endless device costs the cap, not the machine.
        assert!(matches!(read_text(Path::new("/dev/zero"), 4096), Err(InputError::TooLarge(_))));
        assert!(matches!(read_text(d.path(), 10), Err(InputError::Directory)));
        assert!(read_text(&d.path().join("none"), 10).unwrap_err().to_string().contains("No such file"));
    }

    #[test]
    fn fifos_and_devices_are_refused_where_a_regular_file_is_needed_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo.json");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Nobody writes to the FIFO: a blocking open would never return (the test would hang).
        let e = read_regular_text(&fifo, 1024).unwrap_err();
        assert_eq!(e.to_string(), "a FIFO, not a regular file");
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(matches!(read_regular_text(&link, 1024), Err(InputError::NotRegular("a FIFO"))));
        assert!(matches!(
            read_regular_text(Path::new("/dev/zero"), 1024),
            Err(InputError::NotRegular("a character device"))
        ));
        assert!(matches!(read_regular_text(d.path(), 1024), Err(InputError::Directory)));
        // A regular file over the cap is refused by its size, before it is read: a sparse file
        // of a TiB costs nothing.
        let big = d.path().join("big.json");
        std::fs::File::create(&big).unwrap().set_len(1 << 40).unwrap();
        assert!(matches!(read_regular_text(&big, MAX_REPORT), Err(InputError::TooLarge(MAX_REPORT))));
        std::fs::write(&big, "{}").unwrap();
        assert_eq!(read_regular_text(&big, 2).unwrap(), "{}");
    }
}
