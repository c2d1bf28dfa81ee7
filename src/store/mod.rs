//! The results directory of one experiment, `results/<name>/`:
//!
//! ```text
//! runs/<id>.json     one record per run, written atomically when the run finishes
//! runs/.<id>.lock    claim of a run being computed (an advisory lock, released at exit)
//! runs.csv           every logged point of every run of the grid (rewritten after each `run`)
//! summary.csv        one row per run
//! .lock              serialises the rewriting of the exports between processes
//! .active            held (shared) by every `run` while it works; `clean` deletes nothing meanwhile
//! ```

pub mod atomic;
mod record;
pub mod schema;
pub mod state;

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

pub use record::{FORMAT, Record, RecordStatus};

/// Largest record read (a run may log 10⁶ points, about 150 MB of JSON).
const MAX_RECORD_BYTES: u64 = 1 << 30;

/// Attempts of [`Store::claim`] on a held lock, and the pause between them.
const CLAIM_ATTEMPTS: u32 = 5;
const CLAIM_RETRY: std::time::Duration = std::time::Duration::from_millis(10);

/// Whether a lock error means the file system has no locks (rather than a real failure).
fn locks_unsupported(e: &io::Error) -> bool {
    const ENOLCK: i32 = 37;
    e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(ENOLCK)
}

/// Whether the claim file at `path` is held (`Some(true)`), free (`Some(false)`), or absent or
/// unlockable (`None`). Probing a free claim takes its lock for an instant.
fn claim_held(path: &Path) -> Option<bool> {
    let file = File::options().write(true).open(path).ok()?;
    match file.try_lock() {
        Ok(()) => Some(false),
        Err(TryLockError::WouldBlock) => Some(true),
        Err(TryLockError::Error(_)) => None,
    }
}

/// What the cache holds for a run id.
#[derive(Debug)]
pub enum Lookup {
    Missing,
    Found(Box<Record>),
    /// A file that is not a complete record of this id (treated as missing).
    Unreadable(String),
}

/// The results directory of one experiment.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A claim on a run: while held, other processes skip the run. Released on drop or process exit.
pub struct Claim {
    path: PathBuf,
    _file: File,
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Another process that opened this file before the removal re-checks the cache after it
        // gets the lock, so removing it here cannot cause a run to be computed twice.
        let _ = fs::remove_file(&self.path);
    }
}

/// An exclusive lock on the experiment's exports.
pub struct ExportLock {
    _file: File,
}

/// A lock on `.active`: shared while a `run` works on the experiment, exclusive while `clean`
/// deletes. Released on drop or process exit.
pub struct ActiveLock {
    _file: File,
}

impl Store {
    /// The store of experiment `name` under `results`.
    pub fn new(results: &Path, name: &str) -> Store {
        Store { root: results.join(name) }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub fn record_path(&self, id: &str) -> PathBuf {
        self.runs_dir().join(format!("{id}.json"))
    }

    /// Creates the directories (only when there is something to write).
    pub fn create(&self) -> io::Result<()> {
        fs::create_dir_all(self.runs_dir())
    }

    /// The record of run `id`, if a complete one exists.
    pub fn read(&self, id: &str) -> Lookup {
        let path = self.record_path(id);
        // A record is a regular file of bounded size: a FIFO or device in its place is unreadable,
        // never a hang.
        let bytes = match crate::fileio::read_regular(&path, MAX_RECORD_BYTES) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Missing,
            Err(e) => return Lookup::Unreadable(format!("{}: {e}", path.display())),
        };
        match Record::from_json(&bytes, id) {
            Ok(r) => Lookup::Found(Box::new(r)),
            Err(why) => Lookup::Unreadable(format!("{}: {why}", path.display())),
        }
    }

    /// Writes `record` atomically, after checking that the bytes read back as the same record
    /// (a record that could not be read would be recomputed forever).
    pub fn write(&self, record: &Record) -> io::Result<()> {
        self.create()?;
        let bytes = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        Record::from_json(&bytes, &record.id)
            .map_err(|why| io::Error::other(format!("the record would not read back: {why}")))?;
        atomic::write(&self.record_path(&record.id), &bytes)
    }

    /// Ids of every record file in the store (`runs/<id>.json`), sorted.
    pub fn record_ids(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.runs_dir()) else { return Vec::new() };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(String::from))
            .filter(|n| !n.starts_with('.'))
            .collect();
        ids.sort();
        ids
    }

    /// Deletes the record of `id` (if any).
    pub fn remove(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.record_path(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn claim_path(&self, id: &str) -> PathBuf {
        self.runs_dir().join(format!(".{id}.lock"))
    }

    /// Claims run `id` for this process: `None` when another process holds it. A lock found held is
    /// tried again for a moment, since `status` probes claims by taking a free lock for an instant.
    /// On a file system without locks (some network mounts) the run is taken unlocked: shards keep
    /// processes on different machines apart, and the atomic rename of the record is the commit.
    pub fn claim(&self, id: &str) -> io::Result<Option<Claim>> {
        self.create()?;
        let path = self.claim_path(id);
        let file = File::options().create(true).truncate(false).write(true).open(&path)?;
        for attempt in 1..=CLAIM_ATTEMPTS {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if attempt < CLAIM_ATTEMPTS => std::thread::sleep(CLAIM_RETRY),
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) if locks_unsupported(&e) => break,
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        Ok(Some(Claim { path, _file: file }))
    }

    /// Whether a live process holds the claim on run `id` (a process on another machine only where
    /// the file system shares locks, as NFS does for `flock`).
    pub fn is_claimed(&self, id: &str) -> bool {
        claim_held(&self.claim_path(id)) == Some(true)
    }

    /// Waits for the exclusive lock on the exports.
    pub fn lock_exports(&self) -> io::Result<ExportLock> {
        fs::create_dir_all(&self.root)?;
        let file = File::options().create(true).truncate(false).write(true).open(self.root.join(".lock"))?;
        file.lock()?;
        Ok(ExportLock { _file: file })
    }

    /// Marks the experiment as in use by a `run` (a shared lock on `.active`, waiting for a
    /// `clean` in progress to finish): while it is held, [`Store::lock_for_clean`] fails.
    pub fn hold_active(&self) -> io::Result<ActiveLock> {
        let file = self.open_active()?;
        file.lock_shared()?;
        Ok(ActiveLock { _file: file })
    }

    /// The exclusive lock `clean` holds while it deletes: `None` while a live `run` holds
    /// [`Store::hold_active`] (its records, claims and temporaries must not be deleted).
    pub fn lock_for_clean(&self) -> io::Result<Option<ActiveLock>> {
        let file = self.open_active()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ActiveLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    fn open_active(&self) -> io::Result<File> {
        fs::create_dir_all(&self.root)?;
        File::options().create(true).truncate(false).write(true).open(self.root.join(".active"))
    }

    /// Files left by interrupted processes: temporaries of unfinished writes, and claim files that
    /// no process holds any more (a claim held by a running process is not listed).
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for dir in [self.root.clone(), self.runs_dir()] {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let temporary = name.ends_with(atomic::TMP_SUFFIX);
                let unheld_claim = dir == self.runs_dir()
                    && name.starts_with('.')
                    && name.ends_with(".lock")
                    && claim_held(&path) == Some(false);
                if temporary || unheld_claim {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_claim_is_seen_and_refused_and_a_released_one_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "exp");
        assert!(!store.is_claimed("abc"), "no claim file");
        let claim = store.claim("abc").unwrap().expect("a free run is claimed");
        assert!(store.is_claimed("abc"));
        // Another claimant (a separate open file description, as another process has) is refused.
        assert!(store.claim("abc").unwrap().is_none());
        drop(claim);
        assert!(!store.is_claimed("abc"));
        assert!(store.claim("abc").unwrap().is_some());
    }

    #[test]
    fn a_claim_probed_for_an_instant_is_still_taken() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "exp");
        drop(store.claim("abc").unwrap());
        // A probe (as `status` makes) holds the free lock while the runner tries to claim the run.
        let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let path = store.claim_path("abc");
        std::fs::write(&path, b"").unwrap();
        let prober = std::thread::spawn(move || {
            let file = File::options().write(true).open(&path).unwrap();
            file.try_lock().unwrap();
            held.0.send(()).unwrap();
            release.1.recv().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(15));
        });
        held.1.recv().unwrap();
        release.0.send(()).unwrap();
        assert!(store.claim("abc").unwrap().is_some(), "a momentary probe made the claimant skip the run");
        prober.join().unwrap();
    }

    #[test]
    fn a_file_system_without_locks_is_told_from_a_failure() {
        assert!(locks_unsupported(&io::Error::from_raw_os_error(37)));
        assert!(locks_unsupported(&io::Error::from(io::ErrorKind::Unsupported)));
        assert!(!locks_unsupported(&io::Error::from_raw_os_error(5)));
        assert!(!locks_unsupported(&io::Error::from(io::ErrorKind::PermissionDenied)));
    }
}
