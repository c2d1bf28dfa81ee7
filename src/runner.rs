//! Executes the runs of a grid: consult the cache, claim each missing run, train it on a rayon
//! worker (a panic or error becomes a `failed` record, the others go on), and write its record
//! atomically the moment it finishes.
//!
//! `jobs` is a number of cores: a pool of that many threads, each taking the next run from one
//! queue ordered longest first by [`estimated_cost`]. A run splits its passes into fixed blocks
//! (`engine::blocks`) on the same pool, so a thread whose queue has run dry helps the runs still
//! going: the tail of a grid, or a grid of one run, uses every core. Which thread computes a block
//! never changes a result. A [`Halt`] (a signal, or a results directory that cannot take
//! records) stops the grid: no new run starts, the runs in progress are interrupted without a
//! record, and their claims are released. When the system will not start `jobs` threads (a
//! process or address-space limit, as on shared login nodes) the pool has fewer ([`start_pool`],
//! [`THREAD_ADDRESS_SPACE`]), and the summary says how many.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::engine::plan;
use crate::engine::plan::estimated_cost;
use crate::error::RunError;
use crate::fileio::bytes_text;
use crate::grid::GridRun;
use crate::halt::{Halt, is_store_wide};
use crate::provenance::Provenance;
use crate::store::publish::{Publisher, publishing};
use crate::store::{Probe, Record, RecordStatus, Store};
use crate::train::train_until;

/// Most threads a grid may ask for (`--jobs`, `--cpus-per-task`).
pub const MAX_JOBS: usize = 1024;

/// How to execute a grid.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cores: threads of the pool that runs start on and split their blocks over.
    pub jobs: usize,
    /// Recompute runs even when a result is cached.
    pub force: bool,
    /// Set by a signal or by the first record that cannot be written: stop taking runs.
    pub halt: Halt,
}

impl RunOptions {
    pub fn new(jobs: usize) -> RunOptions {
        RunOptions { jobs, force: false, halt: Halt::new() }
    }
}

/// What happened to one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEvent {
    /// A result was cached (nothing computed).
    Cached,
    /// The run was computed and its record written with this status.
    Computed(RecordStatus),
    /// Another process holds the run's claim; it will write the record.
    Busy,
    /// The grid was halted while the run trained: no record, claim released.
    Interrupted,
    /// The grid was halted before the run started.
    NotStarted,
}

/// Counts of a finished `run`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub total: usize,
    pub cached: usize,
    pub done: usize,
    pub diverged: usize,
    pub failed: usize,
    pub busy: usize,
    /// Runs stopped by a halt while training, and runs never started because of it.
    pub interrupted: usize,
    pub not_started: usize,
    /// Threads the runs ran on: `jobs`, fewer when the system would not start that many or the
    /// address-space limit has no room for them ([`start_pool`]), 0 when nothing was computed.
    pub threads: usize,
}

/// Not even one thread could be started to run the grid on (the message says why).
#[derive(Debug, thiserror::Error)]
#[error("cannot start a thread to run the grid on: {0}")]
pub struct NoThreads(String);

impl RunSummary {
    /// Counts one event.
    pub fn add(&mut self, e: RunEvent) {
        match e {
            RunEvent::Cached => self.cached += 1,
            RunEvent::Computed(RecordStatus::Done) => self.done += 1,
            RunEvent::Computed(RecordStatus::Diverged) => self.diverged += 1,
            RunEvent::Computed(RecordStatus::Failed) => self.failed += 1,
            RunEvent::Busy => self.busy += 1,
            RunEvent::Interrupted => self.interrupted += 1,
            RunEvent::NotStarted => self.not_started += 1,
        }
    }
}

/// Whether the cache holds a result (done or diverged) for `id`; failed and unreadable records
/// count as missing. A record the index of validated records vouches for is not read again.
pub fn is_cached(store: &Store, id: &str) -> bool {
    matches!(store.probe(id), Probe::Result { .. })
}

/// Address space one thread of the pool takes beside its runs' own memory: its stack (2 MiB),
/// the malloc arena glibc reserves for a new thread (64 MiB, mapped as 128 MiB while it is
/// aligned) and OpenBLAS's buffer (32 to 128 MiB by build; 128 MiB for Debian's), rounded up.
/// Under an address-space limit OpenBLAS retries a buffer it cannot map forever, so threads that
/// do not fit would hang, not fail (at 256 MiB a share, 1 run in 6 under `prlimit --as=10⁹` hung
/// in `blas_memory_alloc`).
const THREAD_ADDRESS_SPACE: u64 = 320 << 20;

/// How many threads of [`THREAD_ADDRESS_SPACE`] fit under this process's address-space limit
/// (`ulimit -v`) beside what it maps already, with that limit and what is left of it; `None`
/// without a limit (or where `/proc` does not say).
fn threads_within_address_space() -> Option<(usize, u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let (limit, mapped) = (address_space_limit(&limits)?, mapped_bytes(&status)?);
    let left = limit.saturating_sub(mapped);
    Some((usize::try_from(left / THREAD_ADDRESS_SPACE).unwrap_or(usize::MAX), limit, left))
}

/// The soft address-space limit in bytes from the text of `/proc/self/limits` (`None`: unlimited).
fn address_space_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..].split_whitespace().next()?.parse().ok()
}

/// The bytes mapped (`VmSize`) from the text of `/proc/self/status`.
fn mapped_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kib: u64 = line["VmSize:".len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// A pool of `jobs` threads, or of fewer when the system refuses to start that many: `build` is
/// tried with `jobs`, then half as many, down to one thread. An error only when not even one
/// thread starts.
pub fn start_pool(
    jobs: usize,
    build: &dyn Fn(usize) -> Result<rayon::ThreadPool, String>,
) -> Result<rayon::ThreadPool, NoThreads> {
    let mut threads = jobs.max(1);
    loop {
        match build(threads) {
            Ok(pool) => return Ok(pool),
            Err(why) if threads == 1 => return Err(NoThreads(format!("{why} (a limit on processes?)"))),
            Err(_) => threads /= 2,
        }
    }
}

/// A rayon pool of exactly `threads` threads. When one cannot start, the threads already started
/// are joined before the error returns (rayon only tells them to end), so that a smaller pool tried
/// next has their memory.
fn rayon_pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    let started = std::sync::Mutex::new(Vec::new());
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .spawn_handler(|thread| {
            let handle = std::thread::Builder::new().spawn(|| thread.run())?;
            started.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
            Ok(())
        })
        .build();
    built.map_err(|e| {
        for handle in started.into_inner().unwrap_or_else(|e| e.into_inner()) {
            let _ = handle.join();
        }
        e.to_string()
    })
}

/// Runs every run of `runs` that has no cached result (all of them with `force`), longest first,
/// calling `on_event` once per run that was looked at (from worker threads; runs a halt kept from
/// starting are only counted in the summary). OpenBLAS runs one thread per call: linres splits
/// the work itself, in a way that keeps every record independent of `jobs` (and so of the threads
/// the system let start).
pub fn run_grid(
    store: &Store,
    runs: &[GridRun],
    options: &RunOptions,
    on_event: &(dyn Fn(&GridRun, RunEvent) + Sync),
) -> Result<RunSummary, NoThreads> {
    let mut summary = RunSummary { total: runs.len(), ..RunSummary::default() };
    let mut todo = Vec::new();
    for run in runs {
        if !options.force && is_cached(store, &run.run.id()) {
            summary.add(RunEvent::Cached);
            on_event(run, RunEvent::Cached);
        } else {
            todo.push((estimated_cost(&run.run.point_run()), run));
        }
    }
    if todo.is_empty() {
        store.save_index();
        return Ok(summary);
    }
    // Longest first (a stable sort: equal costs keep the grid's order), so that no long run starts
    // last and leaves the other cores idle.
    todo.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Under an address-space limit, the thread that publishes records takes one thread's share
    // when two fit; with room for one, the worker publishes its own records.
    let (fit, publisher_thread) = match threads_within_address_space() {
        None => (usize::MAX, true),
        Some((0, limit, left)) => {
            return Err(NoThreads(format!(
                "the address-space limit (ulimit -v) of {} leaves {}, less than the {} a thread takes (its stack, \
                 an allocator arena and OpenBLAS's buffer)",
                bytes_text(limit),
                bytes_text(left),
                bytes_text(THREAD_ADDRESS_SPACE)
            )));
        }
        Some((n, _, _)) => (n.saturating_sub(1).max(1), n >= 2),
    };
    let pool = start_pool(options.jobs.min(fit), &rayon_pool)?;
    let threads = pool.current_num_threads();
    summary.threads = threads;
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(info.to_string()));
    }));
    let next = AtomicUsize::new(0);
    // Records are published in groups by one thread beside the pool (see `store::publish`); where
    // no thread can be started for it, each worker publishes its own records.
    let published = std::sync::Mutex::new(Vec::new());
    let done = |(run, status): (&GridRun, RecordStatus), outcome: std::io::Result<()>| {
        let event = match outcome {
            Ok(()) => RunEvent::Computed(status),
            Err(e) => write_error(store, run, &e, 0.0, options, threads),
        };
        on_event(run, event);
        published.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    };
    let events: Vec<Vec<RunEvent>> = publishing(store, publisher_thread, &done, |publisher| {
        // One loop per thread of the pool; a thread whose loop ends steals blocks of runs still going.
        pool.broadcast(|_| {
            let mut events = Vec::new();
            while let Some(&(_, run)) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                if options.halt.is_set() {
                    events.push(RunEvent::NotStarted);
                    continue;
                }
                // A record handed to the publisher is reported when it is published.
                if let Some(event) = execute(store, run, options, threads, publisher) {
                    on_event(run, event);
                    events.push(event);
                }
            }
            events
        })
    });
    panic::set_hook(previous_hook);
    for e in events.into_iter().flatten().chain(published.into_inner().unwrap_or_else(|e| e.into_inner())) {
        summary.add(e);
    }
    store.save_index();
    Ok(summary)
}

thread_local! {
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Claims, trains and records one run. With a `publisher` the record goes to it (with the claim)
/// and `None` is returned: the publisher reports the run once its record is in place.
fn execute<'a>(
    store: &Store,
    run: &'a GridRun,
    options: &RunOptions,
    workers: usize,
    publisher: Option<&Publisher<(&'a GridRun, RecordStatus)>>,
) -> Option<RunEvent> {
    let id = run.run.id();
    let halt = &options.halt;
    let claim = match store.claim(&id) {
        Ok(Some(c)) => c,
        Ok(None) => return Some(RunEvent::Busy),
        Err(e) if is_store_wide(&e) => {
            halt.store_failed(format!("cannot claim run {id} in {}: {e}", store.runs_dir().display()));
            return Some(RunEvent::NotStarted);
        }
        Err(e) => return Some(write_failed(store, run, format!("cannot claim the run: {e}"), 0.0, options, workers)),
    };
    // Another process may have finished the run between our cache check and the claim.
    if !options.force && is_cached(store, &id) {
        return Some(RunEvent::Cached);
    }
    let start = Instant::now();
    PANIC_MESSAGE.with(|m| m.borrow_mut().take());
    // Trained on its own copy of the configuration: nothing is kept in the grid.
    let resolved = run.run.standalone();
    let result = panic::catch_unwind(AssertUnwindSafe(|| train_until(&resolved, plan(&resolved), &|| halt.is_set())));
    let seconds = start.elapsed().as_secs_f64();
    let event = match result {
        Ok(Ok(outcome)) => {
            let record = Record::finished(id, resolved.config().clone(), outcome, seconds, Provenance::now(workers));
            let status = record.status;
            let written = Store::encode(&record).and_then(|bytes| match publisher {
                Some(p) => p.submit(&record.id, &bytes, record.summary(), Some(claim), (run, status)).map(|()| None),
                None => store.write_bytes(&record.id, &bytes, record.summary()).map(|()| Some(claim)),
            });
            match written {
                Ok(None) => return None,
                Ok(Some(claim)) => {
                    drop(claim);
                    return Some(RunEvent::Computed(status));
                }
                Err(e) => write_error(store, run, &e, seconds, options, workers),
            }
        }
        Ok(Err(RunError::Interrupted)) => RunEvent::Interrupted,
        Ok(Err(e)) => write_failed(store, run, e.to_string(), seconds, options, workers),
        Err(payload) => {
            // The hook's message names the location; a panic in a block that another thread ran
            // reached this thread without one, and only its payload text is known here.
            let text = panic_text(payload.as_ref());
            let message =
                PANIC_MESSAGE.with(|m| m.borrow_mut().take()).filter(|m| m.contains(text.as_str())).unwrap_or(text);
            write_failed(store, run, format!("panic: {message}"), seconds, options, workers)
        }
    };
    Some(event)
}

/// What becomes of a run whose record could not be written (`e`): a store-wide error (a full
/// disk) halts the grid and leaves the run missing; another is recorded as the run's failure.
fn write_error(
    store: &Store,
    run: &GridRun,
    e: &std::io::Error,
    seconds: f64,
    options: &RunOptions,
    workers: usize,
) -> RunEvent {
    if is_store_wide(e) {
        options.halt.store_failed(format!("cannot write {}: {e}", store.record_path(&run.run.id()).display()));
        RunEvent::Interrupted
    } else {
        write_failed(store, run, format!("cannot write the record: {e}"), seconds, options, workers)
    }
}

/// Records a run that could not finish. If even that record cannot be written, the run stays
/// missing (retried next time), and a store-wide error halts the grid.
fn write_failed(
    store: &Store,
    run: &GridRun,
    error: String,
    seconds: f64,
    options: &RunOptions,
    workers: usize,
) -> RunEvent {
    let record = Record::failed(run.run.id(), run.run.config().clone(), error, seconds, Provenance::now(workers));
    match store.write(&record) {
        Err(e) if is_store_wide(&e) => {
            options.halt.store_failed(format!("cannot write {}: {e}", store.record_path(&record.id).display()));
            RunEvent::Interrupted
        }
        _ => RunEvent::Computed(RecordStatus::Failed),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_that_cannot_start_every_thread_has_fewer_and_none_is_an_error() {
        // A system that starts at most 5 threads: 200 → 100 → 50 → 25 → 12 → 6 → 3.
        let limited = |n: usize| if n <= 5 { rayon_pool(n) } else { Err(format!("{n} threads: WouldBlock")) };
        let pool = start_pool(200, &limited).expect("a smaller pool starts");
        assert_eq!(pool.current_num_threads(), 3);
        assert_eq!(start_pool(4, &limited).unwrap().current_num_threads(), 4, "no fallback when all start");
        let none = |n: usize| Err::<rayon::ThreadPool, _>(format!("{n} threads: WouldBlock"));
        let e = start_pool(8, &none).expect_err("not even one thread");
        assert!(
            e.to_string().contains("1 threads: WouldBlock") && e.to_string().contains("cannot start a thread"),
            "{e}"
        );
    }

    #[test]
    fn the_address_space_limit_and_the_mapped_bytes_are_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63704                63704                processes \n\
                      Max address space         1000000000           unlimited            bytes     \n";
        assert_eq!(address_space_limit(limits), Some(1_000_000_000));
        assert_eq!(address_space_limit(&limits.replace("1000000000 ", "unlimited  ")), None);
        assert_eq!(mapped_bytes("Name:\tlinres\nVmPeak:\t 900 kB\nVmSize:\t  870444 kB\n"), Some(870_444 * 1024));
        // This process's own: no limit, or one it stays below.
        assert!(threads_within_address_space().is_none_or(|(_, limit, left)| left < limit));
    }
}
