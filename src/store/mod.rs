//! The results directory of one experiment, `results/<name>/`:
//!
//! ```text
//! runs/<ab>/<id>.json     one record per run, in the directory named by the id's first two hex
//!                         digits (at most 1/256 of the records per directory), written atomically
//!                         when the run finishes
//! runs/<ab>/.<id>.lock    claim of a run being computed (an advisory lock, released at exit)
//! runs/<ab>/.index        what the records of the directory hold, for the records validated
//!                         before (a cache: [`index`])
//! runs/<id>.json          a record of the earlier layout (one directory for every record): read
//!                         like the others; a new record of the run is written in its shard
//! runs.csv                every logged point of every run of the grid (rewritten after each `run`)
//! summary.csv             one row per run
//! .lock                   serialises the rewriting of the exports between processes
//! .active                 held (shared) by every `run` while it works; `clean` deletes nothing meanwhile
//! ```

pub mod atomic;
mod index;
pub mod publish;
mod record;
pub mod schema;
pub mod state;

use std::fs::{self, File, Metadata, TryLockError};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use index::{INDEX_FILE, Stamp, Summary};
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

/// What the cache holds for a run id, told without reading a record that the index vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Missing,
    /// A result: done, or diverged at an iteration.
    Result {
        diverged_at: Option<usize>,
    },
    /// The record of a failed run.
    Failed,
    /// A file that is not a complete record of this id (why).
    Unreadable(String),
}

impl Probe {
    /// What a record holds.
    fn of(summary: Summary) -> Probe {
        match summary.status {
            RecordStatus::Failed => Probe::Failed,
            _ => Probe::Result { diverged_at: summary.diverged_at },
        }
    }
}

/// The results directory of one experiment. Clones share the index of validated records
/// ([`Store::save_index`] writes back what it learnt).
#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    index: Arc<index::Index>,
    /// Whether `runs/` holds records of the flat layout (looked at once).
    flat: Arc<OnceLock<bool>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish_non_exhaustive()
    }
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

/// The directory of record `id` below `runs`: `runs/<first two hex digits>`, or `runs` itself
/// for a name that does not start with two hex digits (never an id linres computes).
fn shard_dir(runs: &Path, id: &str) -> PathBuf {
    match id.as_bytes() {
        [a, b, ..] if is_hex(*a) && is_hex(*b) => runs.join(&id[..2]),
        _ => runs.to_path_buf(),
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Whether `name` names a shard directory of `runs/` (two lower-case hex digits).
fn is_shard_name(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(is_hex)
}

/// The id of a record file named `name` (`<id>.json`, not hidden).
fn record_id(name: &str) -> Option<&str> {
    name.strip_suffix(".json").filter(|id| !id.is_empty() && !id.starts_with('.'))
}

/// Where a record was found.
enum Located {
    Missing,
    Found(PathBuf, Metadata),
    Error(PathBuf, io::Error),
}

/// Opens the record file at `path` (never blocking on a FIFO) and reads it whole, with the
/// stamp of what was read: the file must be regular and at most [`MAX_RECORD_BYTES`] long.
fn read_record_file(path: &Path) -> io::Result<(Vec<u8>, Stamp)> {
    let file = File::options().read(true).custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > MAX_RECORD_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("holds {} bytes, more than a record may ({MAX_RECORD_BYTES})", meta.len()),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "grew past the size a record may have"));
    }
    Ok((bytes, Stamp::of(&meta)))
}

impl Store {
    /// The store of experiment `name` under `results`.
    pub fn new(results: &Path, name: &str) -> Store {
        Store::at(&results.join(name))
    }

    /// The store whose results directory is `root` (`results/<name>`).
    pub fn at(root: &Path) -> Store {
        Store { root: root.to_path_buf(), index: Arc::default(), flat: Arc::default() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// The path of the record of `id`: where it is (its shard, or `runs/` in the flat layout), or
    /// where it would be written (its shard).
    pub fn record_path(&self, id: &str) -> PathBuf {
        match self.locate(id) {
            Located::Found(path, _) | Located::Error(path, _) => path,
            Located::Missing => self.write_path(id),
        }
    }

    /// Where the record of `id` is written: in its shard.
    fn write_path(&self, id: &str) -> PathBuf {
        shard_dir(&self.runs_dir(), id).join(format!("{id}.json"))
    }

    /// Where the record of `id` lies in the flat layout.
    fn flat_path(&self, id: &str) -> PathBuf {
        self.runs_dir().join(format!("{id}.json"))
    }

    /// Whether `runs/` holds any record of the flat layout (looked at once per store).
    fn has_flat(&self) -> bool {
        *self.flat.get_or_init(|| {
            fs::read_dir(self.runs_dir()).is_ok_and(|entries| {
                entries.filter_map(Result::ok).any(|e| e.file_name().to_str().and_then(record_id).is_some())
            })
        })
    }

    /// Finds the record file of `id`: in its shard, else in the flat layout.
    fn locate(&self, id: &str) -> Located {
        let path = self.write_path(id);
        match fs::metadata(&path) {
            Ok(meta) => return Located::Found(path, meta),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Located::Error(path, e),
            Err(_) => {}
        }
        let flat = self.flat_path(id);
        if flat == path || !self.has_flat() {
            return Located::Missing;
        }
        match fs::metadata(&flat) {
            Ok(meta) => Located::Found(flat, meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Located::Missing,
            Err(e) => Located::Error(flat, e),
        }
    }

    /// Creates the directories (only when there is something to write).
    pub fn create(&self) -> io::Result<()> {
        fs::create_dir_all(self.runs_dir())
    }

    /// The record of run `id`, if a complete one exists.
    pub fn read(&self, id: &str) -> Lookup {
        let path = match self.locate(id) {
            Located::Missing => return Lookup::Missing,
            Located::Error(path, e) => return Lookup::Unreadable(format!("{}: {e}", path.display())),
            Located::Found(path, _) => path,
        };
        // A record is a regular file of bounded size: a FIFO or device in its place is unreadable,
        // never a hang.
        let (bytes, stamp) = match read_record_file(&path) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Missing,
            Err(e) => return Lookup::Unreadable(format!("{}: {e}", path.display())),
        };
        match Record::from_json(&bytes, id) {
            Ok(r) => {
                self.index.insert(path.parent().unwrap_or(&self.root), id, stamp, r.summary());
                Lookup::Found(Box::new(r))
            }
            Err(why) => Lookup::Unreadable(format!("{}: {why}", path.display())),
        }
    }

    /// What the cache holds for run `id`: from the index when it vouches for the record file as
    /// it is now (one `stat`), else by reading and validating the record (which the index then
    /// remembers).
    pub fn probe(&self, id: &str) -> Probe {
        match self.locate(id) {
            Located::Missing => return Probe::Missing,
            Located::Error(path, e) => return Probe::Unreadable(format!("{}: {e}", path.display())),
            Located::Found(path, meta) => {
                let dir = path.parent().unwrap_or(&self.root);
                if meta.is_file()
                    && let Some(summary) = self.index.get(dir, id, Stamp::of(&meta))
                {
                    return Probe::of(summary);
                }
            }
        }
        match self.read(id) {
            Lookup::Missing => Probe::Missing,
            Lookup::Found(r) => Probe::of(r.summary()),
            Lookup::Unreadable(why) => Probe::Unreadable(why),
        }
    }

    /// The identity of the record file of `id` as it is now (`None` without one): one `stat`.
    pub fn stamp(&self, id: &str) -> Option<Stamp> {
        match self.locate(id) {
            Located::Found(_, meta) => Some(Stamp::of(&meta)),
            _ => None,
        }
    }

    /// The bytes of `record` as stored, checked to read back as the same record (a record that
    /// could not be read would be recomputed forever).
    pub fn encode(record: &Record) -> io::Result<Vec<u8>> {
        let bytes = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        Record::from_json(&bytes, &record.id)
            .map_err(|why| io::Error::other(format!("the record would not read back: {why}")))?;
        Ok(bytes)
    }

    /// Writes `record` atomically (flushed to disk), after checking that the bytes read back as
    /// the same record.
    pub fn write(&self, record: &Record) -> io::Result<()> {
        let bytes = Store::encode(record)?;
        self.write_bytes(&record.id, &bytes, record.summary())
    }

    /// Writes the bytes of a record of `id` that holds `summary` atomically in its shard
    /// (flushed to disk), and removes a record of the flat layout it replaces.
    pub fn write_bytes(&self, id: &str, bytes: &[u8], summary: Summary) -> io::Result<()> {
        let path = self.write_path(id);
        fs::create_dir_all(path.parent().unwrap_or(&self.root))?;
        atomic::write(&path, bytes)?;
        self.published(id, &path, summary);
        Ok(())
    }

    /// Bookkeeping after the record of `id` was published at `path`: the index learns it, and a
    /// record of the flat layout it replaces is removed.
    fn published(&self, id: &str, path: &Path, summary: Summary) {
        if let Ok(meta) = fs::metadata(path) {
            self.index.insert(path.parent().unwrap_or(&self.root), id, Stamp::of(&meta), summary);
        }
        let flat = self.flat_path(id);
        if flat != path && self.has_flat() {
            let _ = fs::remove_file(flat);
        }
    }

    /// Ids of every record file in the store (`runs/<ab>/<id>.json`, `runs/<id>.json`), sorted and
    /// without repeats.
    pub fn record_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.record_files().into_iter().map(|(id, _)| id).collect();
        ids.dedup();
        ids
    }

    /// Every record file of the store with its id, sorted by id (a record in its shard before one
    /// of the same id in the flat layout). A file in a shard that is not its id's is not a record.
    pub fn record_files(&self) -> Vec<(String, PathBuf)> {
        let runs = self.runs_dir();
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&runs) else { return out };
        let mut shards = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if is_shard_name(name) && entry.file_type().is_ok_and(|t| t.is_dir()) {
                shards.push(entry.path());
            } else if let Some(id) = record_id(name) {
                out.push((id.to_string(), entry.path()));
            }
        }
        let in_shards: Vec<(String, PathBuf)> = {
            use rayon::prelude::*;
            shards
                .par_iter()
                .flat_map_iter(|dir| {
                    let shard = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                    fs::read_dir(dir)
                        .into_iter()
                        .flatten()
                        .filter_map(Result::ok)
                        .filter_map(move |e| {
                            let name = e.file_name().into_string().ok()?;
                            let id = record_id(&name).filter(|id| id.starts_with(&shard))?.to_string();
                            Some((id, e.path()))
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        // Shard first among equal ids: sorted by id, then shard records before flat ones.
        let mut all: Vec<(String, PathBuf, bool)> = in_shards.into_iter().map(|(i, p)| (i, p, false)).collect();
        all.extend(out.into_iter().map(|(i, p)| (i, p, true)));
        all.sort_unstable_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
        all.into_iter().map(|(i, p, _)| (i, p)).collect()
    }

    /// Deletes the record of `id` (in its shard and in the flat layout, if any).
    pub fn remove(&self, id: &str) -> io::Result<()> {
        for path in [self.write_path(id), self.flat_path(id)] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// The index files of the store's record directories.
    pub fn index_files(&self) -> Vec<PathBuf> {
        let runs = self.runs_dir();
        let Ok(entries) = fs::read_dir(&runs) else { return Vec::new() };
        let mut out: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_str().is_some_and(is_shard_name))
            .map(|e| e.path().join(INDEX_FILE))
            .chain([runs.join(INDEX_FILE)])
            .filter(|p| p.is_file())
            .collect();
        out.sort();
        out
    }

    /// Writes back what the index of validated records learnt (best effort: a directory that
    /// cannot be written keeps its index). For the commands that write results; the others leave
    /// the results directory as it is.
    pub fn save_index(&self) {
        self.index.save();
    }

    fn claim_path(&self, id: &str) -> PathBuf {
        shard_dir(&self.runs_dir(), id).join(format!(".{id}.lock"))
    }

    /// Claims run `id` for this process: `None` when another process holds it. A lock found held is
    /// tried again for a moment, since `status` probes claims by taking a free lock for an instant.
    /// On a file system without locks (some network mounts) the run is taken unlocked: shards keep
    /// processes on different machines apart, and the atomic rename of the record is the commit.
    pub fn claim(&self, id: &str) -> io::Result<Option<Claim>> {
        let path = self.claim_path(id);
        fs::create_dir_all(path.parent().unwrap_or(&self.root))?;
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
        let runs = self.runs_dir();
        let mut dirs = vec![(self.root.clone(), false), (runs.clone(), true)];
        if let Ok(entries) = fs::read_dir(&runs) {
            dirs.extend(
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_str().is_some_and(is_shard_name))
                    .map(|e| (e.path(), true)),
            );
        }
        let mut out = Vec::new();
        for (dir, records) in dirs {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let temporary = name.ends_with(atomic::TMP_SUFFIX);
                let unheld_claim =
                    records && name.starts_with('.') && name.ends_with(".lock") && claim_held(&path) == Some(false);
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
