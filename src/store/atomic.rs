//! Crash-safe publishing, for one file or a whole directory tree. A reader (or a process started
//! after a `kill -9`) sees the old content or the new content, never a mixture and never a part.
//!
//! - [`write`] replaces one file: a uniquely named temporary file in the same directory, flushed to
//!   disk, then renamed over the target. [`write_new`] does the same but never replaces a file.
//! - [`Staging`] replaces a directory tree (a figure set, a report): the new tree is written into
//!   a staging directory beside the target (`.<name>.staging.<tag>`), the entries of the old tree
//!   that the new one neither replaces nor drops are carried over as hard links, and the two
//!   directories are swapped in one step (`renameat2(RENAME_EXCHANGE)` on Linux); then the old
//!   tree is removed. Each staging directory is marked live by a lock held on
//!   `.<name>.staging.<tag>.lock` by the process that writes it, so the next publish of the same
//!   target removes the staging directories of processes that died (and, where the file system
//!   cannot exchange, puts back a target that a death between two renames left missing).
//!
//! The published files are plain files in a plain directory (git sees no difference). Their bytes
//! are not flushed to disk one by one: a kill never shows a partial tree, but after a power cut a
//! figure or a report may need writing again (they are derived from the records, which are flushed).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Suffix of temporary files (ignored by readers, removed by `linres clean`).
pub const TMP_SUFFIX: &str = ".tmp";

/// A temporary name beside `path`, unique across processes (pid) and threads (counter).
pub(crate) fn temporary_for(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}{TMP_SUFFIX}", std::process::id()))
}

/// Writes `bytes` to a temporary file beside `path`, flushed to disk; `commit` then moves it into
/// place. The temporary is removed if anything fails.
fn via_temporary(path: &Path, bytes: &[u8], commit: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let tmp = temporary_for(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        commit(&tmp)
    })();
    let _ = fs::remove_file(&tmp);
    result?;
    if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    via_temporary(path, bytes, |tmp| fs::rename(tmp, path))
}

/// Replaces `path` with `bytes` atomically, without flushing anything to disk: for caches, whose
/// loss after a power cut costs only the time to rebuild them (a reader must check what it reads).
pub fn write_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary_for(path);
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates `path` with `bytes` atomically, never replacing anything: an error of kind
/// [`io::ErrorKind::AlreadyExists`] when something is at `path` (even if it appeared a moment ago).
/// On a file system without hard links the name is created exclusively and then filled (a kill
/// in between leaves a short file, never a replaced one).
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // A hard link is created whole or not at all, and never over an existing name.
    via_temporary(path, bytes, |tmp| match fs::hard_link(tmp, path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            let mut file = File::options().write(true).create_new(true).open(path)?;
            file.write_all(bytes)?;
            file.sync_all()
        }
        linked => linked,
    })
}

/// Marks staging directories: `.<name>.staging.<tag>` beside the target `<name>`.
const STAGING: &str = ".staging.";
/// Suffix of the lock file that marks a staging directory as live.
const LOCK: &str = ".lock";
/// Suffix of a lock file before it is locked (renamed to [`LOCK`] once it is).
const LOCK_TMP: &str = ".lock.tmp";
/// Suffix of the old tree where the file system cannot exchange two directories.
const OLD: &str = ".old";
/// A lock file left unlocked for this long before its rename belongs to a dead process.
const LOCK_TMP_AGE: Duration = Duration::from_secs(60);

/// Test hook: with `LINRES_TEST_PAUSE_AT=<step>` in the environment, a publish stops at that step
/// (`staged`, `carried`, `exchanged`, or `moved-old` where the file system cannot exchange),
/// prints `paused at <step>` on stderr and sleeps, so that a test can kill the process there.
fn pause(step: &str) {
    if std::env::var_os("LINRES_TEST_PAUSE_AT").is_some_and(|v| v == step) {
        let _ = writeln!(io::stderr(), "paused at {step}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// `.<name>.staging.<tag><suffix>`.
fn staging_name(name: &OsStr, tag: &str, suffix: &str) -> OsString {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(STAGING);
    s.push(tag);
    s.push(suffix);
    s
}

/// A directory tree being written beside `target`, to replace it whole with [`Staging::publish`].
/// Dropped without publishing, it is removed and the target is untouched.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    parent: PathBuf,
    name: OsString,
    tag: String,
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl Staging {
    /// An empty staging directory for `target` (a directory, which need not exist yet; its parent
    /// is created). First removes the staging directories that dead processes left for `target`.
    pub fn new(target: &Path) -> io::Result<Staging> {
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no directory name"))?
            .to_os_string();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)?;
        remove_stale(&parent, &name, target);
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let tag = format!("{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        // The lock file gets its final name only once locked: a cleaner never sees it unlocked.
        let tmp = parent.join(staging_name(&name, &tag, LOCK_TMP));
        let lock = File::options().write(true).create_new(true).open(&tmp)?;
        match lock.try_lock() {
            // Without locks (some network file systems) a cleaner cannot tell live from dead and
            // leaves the directory alone.
            Ok(()) | Err(TryLockError::Error(_)) => {}
            Err(TryLockError::WouldBlock) => unreachable!("a file created a moment ago is locked by nobody"),
        }
        let lock_path = parent.join(staging_name(&name, &tag, LOCK));
        if let Err(e) = fs::rename(&tmp, &lock_path) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let dir = parent.join(staging_name(&name, &tag, ""));
        let staging = Staging { target: target.to_path_buf(), parent, name, tag, dir, lock_path, _lock: lock };
        fs::create_dir(&staging.dir)?;
        Ok(staging)
    }

    /// The staging directory: write the new tree here.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces the target with the staged tree, in one step for every reader. Each entry of the
    /// old tree that the staged tree does not have is kept (carried over as a hard link) when
    /// `keep` says so for its path relative to the target, and dropped otherwise. Refused when the
    /// target exists and is not a directory.
    pub fn publish(self, keep: impl Fn(&Path) -> bool) -> io::Result<()> {
        pause("staged");
        let exists = match fs::symlink_metadata(&self.target) {
            Ok(m) if m.is_dir() => true,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} is not a directory; it would be replaced whole", self.target.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        if exists {
            carry(&self.target, &self.dir, Path::new(""), &keep)?;
        }
        pause("carried");
        let old = self.exchange(exists)?;
        pause("exchanged");
        if let Some(old) = old {
            // Whatever appeared in the old tree after it was carried over moves to the new one.
            rescue(&old, &self.target, Path::new(""), &keep);
            fs::remove_dir_all(&old)?;
        }
        if let Ok(dir) = File::open(&self.parent) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Moves the staged tree to the target; returns where the old tree went, if there was one.
    fn exchange(&self, exists: bool) -> io::Result<Option<PathBuf>> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{CWD, RenameFlags, renameat_with};
            use rustix::io::Errno;
            let flags = if exists { RenameFlags::EXCHANGE } else { RenameFlags::NOREPLACE };
            match renameat_with(CWD, &self.dir, CWD, &self.target, flags) {
                Ok(()) => return Ok(exists.then(|| self.dir.clone())),
                // A target that appeared meanwhile is exchanged (what it holds is rescued after).
                Err(Errno::EXIST) if !exists => return self.exchange(true),
                // The file system cannot exchange: two renames below.
                Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !exists {
            fs::rename(&self.dir, &self.target)?;
            return Ok(None);
        }
        let old = self.parent.join(staging_name(&self.name, &self.tag, OLD));
        fs::rename(&self.target, &old)?;
        pause("moved-old");
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            let _ = fs::rename(&old, &self.target);
            return Err(e);
        }
        Ok(Some(old))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
        let _ = fs::remove_file(&self.lock_path);
    }
}

/// Carries the entries of `old/rel` that `new/rel` lacks and `keep` keeps into `new/rel`: files,
/// links and other non-directories as hard links (a copy where the file system refuses the link),
/// directories entry by entry (an empty one only if kept itself).
fn carry(old: &Path, new: &Path, rel: &Path, keep: &impl Fn(&Path) -> bool) -> io::Result<()> {
    for entry in fs::read_dir(old.join(rel))? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        let (from, to) = (old.join(&rel), new.join(&rel));
        let taken = fs::symlink_metadata(&to).ok();
        if entry.file_type()?.is_dir() {
            match taken {
                Some(m) if !m.is_dir() => {} // a file of the new tree takes its place
                _ => {
                    carry(old, new, &rel, keep)?;
                    if !to.exists() && keep(&rel) && fs::read_dir(&from)?.next().is_none() {
                        fs::create_dir_all(&to)?;
                    }
                }
            }
        } else if taken.is_none() && keep(&rel) {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)?;
            }
            if fs::hard_link(&from, &to).is_err() {
                fs::copy(&from, &to)?;
            }
        }
    }
    Ok(())
}

/// Moves into `new` every kept non-directory of `old` (the retired tree) that `new` lacks: files
/// created in the old tree between the carrying over and the exchange.
fn rescue(old: &Path, new: &Path, rel: &Path, keep: &impl Fn(&Path) -> bool) {
    let Ok(entries) = fs::read_dir(old.join(rel)) else { return };
    for entry in entries.filter_map(Result::ok) {
        let rel = rel.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            rescue(old, new, &rel, keep);
        } else if keep(&rel) && fs::symlink_metadata(new.join(&rel)).is_err() {
            if let Some(parent) = new.join(&rel).parent() {
                let _ = fs::create_dir_all(parent);
            }
            let _ = fs::rename(old.join(&rel), new.join(&rel));
        }
    }
}

/// Removes what dead processes left while publishing `target` (named `name`, in `parent`): their
/// staging directories and lock files, and an old tree set aside between two renames, which is put
/// back when the target is missing. A staging directory whose lock is held is left alone.
fn remove_stale(parent: &Path, name: &OsStr, target: &Path) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    let prefix = staging_name(name, "", "");
    let prefix = prefix.to_string_lossy();
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&*prefix)) else { continue };
        let path = entry.path();
        let tag = [LOCK_TMP, LOCK, OLD, ""].iter().find_map(|suffix| rest.strip_suffix(suffix)).unwrap_or(rest);
        // Tags are `<pid>-<counter>-<nanoseconds>`; anything else belongs to another target.
        if tag.split('-').count() != 3
            || !tag.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        if rest.ends_with(LOCK_TMP) {
            let old = entry.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok());
            if old.is_some_and(|age| age > LOCK_TMP_AGE) && unlocked(&path) == Some(true) {
                let _ = fs::remove_file(&path);
            }
        } else if rest.ends_with(LOCK) {
            if unlocked(&path) == Some(true) {
                recover(parent, name, tag, target);
                let _ = fs::remove_file(&path);
            }
        } else if !parent.join(staging_name(name, tag, LOCK)).exists() {
            recover(parent, name, tag, target);
        }
    }
}

/// Whether the lock file at `path` is free (its process is dead); `None` when that cannot be told.
fn unlocked(path: &Path) -> Option<bool> {
    let file = File::options().write(true).open(path).ok()?;
    match file.try_lock() {
        Ok(()) => Some(true),
        Err(TryLockError::WouldBlock) => Some(false),
        Err(TryLockError::Error(_)) => None,
    }
}

/// Cleans up after the dead publish `tag` of `target`: its old tree back in place if the target is
/// missing (otherwise removed), its staging directory removed.
fn recover(parent: &Path, name: &OsStr, tag: &str, target: &Path) {
    let old = parent.join(staging_name(name, tag, OLD));
    if old.is_dir() {
        if fs::symlink_metadata(target).is_err() {
            let _ = fs::rename(&old, target);
        } else {
            let _ = fs::remove_dir_all(&old);
        }
    }
    let _ = fs::remove_dir_all(parent.join(staging_name(name, tag, "")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn write_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("X.npy");
        write_new(&p, b"first").unwrap();
        let e = write_new(&p, b"second").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"first");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary left: {names:?}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write(&p, b"old").unwrap();
        // Renaming onto a directory fails: the target is untouched and the temporary removed.
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("x"), b"x").unwrap();
        assert!(write(&sub, b"new").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert!(
            fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(TMP_SUFFIX))
        );
    }
}
