//! Reading input files safely. Only regular files are read (opening a FIFO blocks until a writer
//! comes, `/dev/zero` never ends), and only up to a size limit checked before reading, so no input
//! can hang linres or make it read until memory runs out.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The whole content of the regular file at `path`, refused (with an error that says why) when it
/// is not a regular file or holds more than `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a regular file ({})", kind_of(&meta))));
    }
    if meta.len() > limit {
        return Err(too_large(meta.len(), limit));
    }
    let mut bytes = Vec::new();
    // The file may grow after the check: never read more than the limit.
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit));
    }
    Ok(bytes)
}

/// The content of `path` up to `limit` bytes, for a file named on the command line: a regular file,
/// or a stream such as a FIFO (`<(…)` in a shell), read to its end. Anything longer than the limit
/// (`/dev/zero`) is an error, never an endless read.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a directory, not a file"));
    }
    if meta.is_file() {
        return read_regular(path, limit);
    }
    let mut bytes = Vec::new();
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the stream holds more than {}, the most read here", bytes_text(limit)),
        ));
    }
    Ok(bytes)
}

fn too_large(size: u64, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("the file holds {} but files read here may hold at most {}", bytes_text(size), bytes_text(limit)),
    )
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// A byte count for people: `812 bytes`, `3.1 MiB`, `64.0 GiB`.
pub fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Total physical memory in bytes (Linux `/proc/meminfo`), `None` where it cannot be read. Read
/// once per process: every run of a grid asks while the grid is resolved.
pub fn physical_memory() -> Option<u64> {
    static TOTAL: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_directories_and_large_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        // Opening a FIFO would block forever: the error must come from the metadata.
        let e = read_regular(&fifo, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("not a regular file (a FIFO)"), "{e}");
        let e = read_regular(Path::new("/dev/zero"), 1 << 20).unwrap_err().to_string();
        assert!(e.contains("a device"), "{e}");
        let e = read_regular(dir.path(), 1 << 20).unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        let f = dir.path().join("big");
        std::fs::write(&f, vec![b'x'; 2048]).unwrap();
        let e = read_regular(&f, 1024).unwrap_err().to_string();
        assert!(e.contains("holds 2.0 KiB") && e.contains("at most 1.0 KiB"), "{e}");
        assert_eq!(read_regular(&f, 4096).unwrap().len(), 2048);
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes_text(812), "812 bytes");
        assert_eq!(bytes_text(3 << 20), "3.0 MiB");
        assert_eq!(bytes_text(64 << 30), "64.0 GiB");
    }
}
