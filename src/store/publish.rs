//! Publishing records in groups (group commit), so that a grid of short runs is not bound by the
//! latency of flushing each record to disk (3 ms per `fdatasync` on a virtual disk, against a
//! fraction of a millisecond of training).
//!
//! A worker that finished a run writes its record to a temporary file beside its place and hands
//! it over ([`Publisher::submit`]) with the run's claim. One thread ([`Publisher::serve`]) takes
//! everything handed over since its last pass as one group: it flushes the group's temporaries
//! concurrently (the journal of the file system commits concurrent flushes together), renames
//! each into place, flushes the directories that changed, and only then releases the claims.
//! The guarantees of [`super::atomic::write`] hold for every record: a reader, or a process
//! started after a `kill -9`, sees a complete record or none (an unpublished temporary is a
//! leftover for `linres clean`, its run is still missing), and a record's bytes are on disk
//! before its name is.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use super::{Claim, Store, Summary, atomic};

/// Most threads that flush one group concurrently.
const SYNC_THREADS: usize = 16;

/// A record written to its temporary, waiting for its group.
struct Pending<T> {
    id: String,
    tmp: PathBuf,
    file: File,
    target: PathBuf,
    summary: Summary,
    claim: Option<Claim>,
    tag: T,
}

struct Queue<T> {
    pending: Vec<Pending<T>>,
    closed: bool,
}

/// Records handed over by workers and published in groups by [`Publisher::serve`]; `T` is what
/// the caller wants back for each record with the outcome of its publication.
pub struct Publisher<T> {
    store: Store,
    queue: Mutex<Queue<T>>,
    wake: Condvar,
}

impl<T: Send> Publisher<T> {
    pub fn new(store: &Store) -> Publisher<T> {
        Publisher {
            store: store.clone(),
            queue: Mutex::new(Queue { pending: Vec::new(), closed: false }),
            wake: Condvar::new(),
        }
    }

    /// Writes the record `bytes` of run `id` (holding `summary`) to a temporary file beside its
    /// place and queues it for publication, with the run's `claim` (released once the record is
    /// published) and `tag`. An error here (a full disk) leaves nothing behind.
    pub fn submit(&self, id: &str, bytes: &[u8], summary: Summary, claim: Option<Claim>, tag: T) -> io::Result<()> {
        let target = self.store.write_path(id);
        fs::create_dir_all(target.parent().unwrap_or(self.store.root()))?;
        let tmp = atomic::temporary_for(&target);
        let written = File::create(&tmp).and_then(|mut file| file.write_all(bytes).map(|()| file));
        let file = match written {
            Ok(file) => file,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.pending.push(Pending { id: id.to_string(), tmp, file, target, summary, claim, tag });
        self.wake.notify_one();
        Ok(())
    }

    /// No more submissions: [`Publisher::serve`] returns once it has published what is queued.
    pub fn close(&self) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.wake.notify_all();
    }

    /// Publishes the queued records group by group until [`Publisher::close`], calling `done`
    /// with each record's tag and the outcome of its publication (its claim still held).
    pub fn serve(&self, done: &(dyn Fn(T, io::Result<()>) + Sync)) {
        loop {
            let group = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                while queue.pending.is_empty() && !queue.closed {
                    queue = self.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
                }
                if queue.pending.is_empty() {
                    return;
                }
                std::mem::take(&mut queue.pending)
            };
            self.commit(group, done);
        }
    }

    /// Flushes, renames and announces one group.
    fn commit(&self, group: Vec<Pending<T>>, done: &(dyn Fn(T, io::Result<()>) + Sync)) {
        let files: Vec<&File> = group.iter().map(|p| &p.file).collect();
        let flushed = concurrently(&files, File::sync_data);
        let mut dirs = BTreeSet::new();
        let mut outcomes = Vec::with_capacity(group.len());
        for (p, flushed) in group.iter().zip(flushed) {
            let outcome = flushed.and_then(|()| fs::rename(&p.tmp, &p.target));
            if outcome.is_err() {
                let _ = fs::remove_file(&p.tmp);
            } else if let Some(dir) = p.target.parent() {
                dirs.insert(dir.to_path_buf());
            }
            outcomes.push(outcome);
        }
        // The new names are on disk too (an error here leaves a record that a power cut may lose,
        // never a partial one, as in `atomic::write`).
        let dirs: Vec<File> = dirs.iter().filter_map(|d| File::open(d).ok()).collect();
        let dir_refs: Vec<&File> = dirs.iter().collect();
        concurrently(&dir_refs, File::sync_all);
        for (p, outcome) in group.into_iter().zip(outcomes) {
            let Pending { id, target, summary, claim, tag, file, .. } = p;
            drop(file);
            if outcome.is_ok() {
                self.store.published(&id, &target, summary);
            }
            done(tag, outcome);
            drop(claim);
        }
    }
}

/// Runs `work` with a publisher of `store`'s records served by a thread of its own (when
/// `threaded`), and returns once every record handed to it is published (`done` is told of each).
/// Without `threaded`, or where no thread can be started, `work` gets `None` and must write its
/// records itself.
pub fn publishing<T: Send, R>(
    store: &Store,
    threaded: bool,
    done: &(dyn Fn(T, io::Result<()>) + Sync),
    work: impl FnOnce(Option<&Publisher<T>>) -> R,
) -> R {
    if !threaded {
        return work(None);
    }
    let publisher = Publisher::new(store);
    std::thread::scope(|scope| {
        let server = std::thread::Builder::new().stack_size(1 << 20).spawn_scoped(scope, || publisher.serve(done));
        let result = work(server.is_ok().then_some(&publisher));
        publisher.close();
        result
    })
}

/// `op` on every file, on up to [`SYNC_THREADS`] threads at once (this one among them, alone
/// where no other can be started), with each file's outcome. The helper threads allocate nothing
/// (each outcome has its slot, made here), so that glibc reserves no arena of address space for
/// them (64 MiB each), which under an address-space limit would starve the pool of runs.
fn concurrently(files: &[&File], op: fn(&File) -> io::Result<()>) -> Vec<io::Result<()>> {
    let slots: Vec<OnceLock<io::Result<()>>> = files.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let drain = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(f) = files.get(i) else { break };
        let _ = slots[i].set(op(f));
    };
    std::thread::scope(|scope| {
        for _ in 1..SYNC_THREADS.min(files.len()) {
            // Small stacks: a flush needs none. A thread that cannot start leaves its share to
            // the others.
            if std::thread::Builder::new().stack_size(64 << 10).spawn_scoped(scope, drain).is_err() {
                break;
            }
        }
        drain();
    });
    // Every slot is set: this thread drains what is left before the scope joins the others.
    slots.into_iter().map(|s| s.into_inner().unwrap_or_else(|| Err(io::Error::other("not flushed")))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Lookup, RecordStatus};

    #[test]
    fn a_group_is_published_whole_and_each_record_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "exp");
        let publisher: Publisher<usize> = Publisher::new(&store);
        let summary = Summary { status: RecordStatus::Failed, diverged_at: None };
        let ids: Vec<String> = (0..40).map(|i| format!("{:016x}", i * 0x0123_4567_89ab_u64)).collect();
        for (i, id) in ids.iter().enumerate() {
            let claim = store.claim(id).unwrap();
            publisher.submit(id, format!("record {i}").as_bytes(), summary, claim, i).unwrap();
            // Handed over, not yet published: no record, only a temporary.
            assert!(matches!(store.read(id), Lookup::Missing));
        }
        publisher.close();
        let seen = Mutex::new(Vec::new());
        publisher.serve(&|i, outcome| {
            outcome.unwrap();
            // Reported with the claim still held, after the record is in place.
            assert!(store.is_claimed(&ids[i]));
            assert_eq!(fs::read(store.write_path(&ids[i])).unwrap(), format!("record {i}").as_bytes());
            seen.lock().unwrap().push(i);
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
        assert!(ids.iter().all(|id| !store.is_claimed(id)), "claims released");
        assert!(store.leftovers().is_empty(), "{:?}", store.leftovers());
    }
}
