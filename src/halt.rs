//! Stopping a grid before it has run everything: on SIGINT or SIGTERM (what a cluster scheduler
//! sends before SIGKILL) or when the results directory cannot take records (disk full, quota,
//! read-only). The runner then starts no new run, interrupts the runs in progress (they write no
//! record and release their claims), and the command writes the tables of what finished and exits
//! with 128 + the signal number (130 for SIGINT, 143 for SIGTERM) or 1.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The value of the halt cell when the store cannot be written (signals store their number).
const STORE_FAILED: usize = usize::MAX;

/// A shared "stop now" flag with its reason; clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Halt {
    cell: Arc<AtomicUsize>,
    store_error: Arc<std::sync::Mutex<Option<String>>>,
}

/// Why a grid stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaltReason {
    /// SIGINT or SIGTERM was received.
    Signal(i32),
    /// A record could not be written (the message says why, e.g. no space left on the device).
    Store(String),
}

impl HaltReason {
    /// The process exit code: 128 + the signal number, or 1 when the store failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            HaltReason::Signal(s) => u8::try_from(128 + s).unwrap_or(1),
            HaltReason::Store(_) => 1,
        }
    }
}

impl std::fmt::Display for HaltReason {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            HaltReason::Signal(s) if *s == SIGINT => write!(f, "interrupted (SIGINT)"),
            HaltReason::Signal(s) if *s == SIGTERM => write!(f, "terminated (SIGTERM)"),
            HaltReason::Signal(s) => write!(f, "stopped by signal {s}"),
            HaltReason::Store(why) => write!(f, "{why}"),
        }
    }
}

impl Halt {
    /// A flag that only [`Halt::store_failed`] sets.
    pub fn new() -> Halt {
        Halt::default()
    }

    /// A flag that SIGINT and SIGTERM set. A second signal ends the process at once with
    /// 128 + its number (the first one lets finished work be saved).
    pub fn on_signals() -> io::Result<Halt> {
        let halt = Halt::new();
        let armed = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // Registered before `armed` is set by the same signal: only a second signal exits.
            signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&armed))?;
            signal_hook::flag::register(sig, Arc::clone(&armed))?;
            signal_hook::flag::register_usize(sig, Arc::clone(&halt.cell), sig as usize)?;
        }
        Ok(halt)
    }

    /// Whether the grid must stop.
    pub fn is_set(&self) -> bool {
        self.cell.load(Ordering::Relaxed) != 0
    }

    /// Records that the store cannot take records (the first reason is kept).
    pub fn store_failed(&self, why: String) {
        if self.cell.compare_exchange(0, STORE_FAILED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            *self.store_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        }
    }

    /// Why the grid stopped, if it did.
    pub fn reason(&self) -> Option<HaltReason> {
        match self.cell.load(Ordering::SeqCst) {
            0 => None,
            STORE_FAILED => Some(HaltReason::Store(
                self.store_error.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default(),
            )),
            sig => Some(HaltReason::Signal(i32::try_from(sig).unwrap_or(0))),
        }
    }
}

/// Whether a write error means that no record can be written to this directory any more (rather
/// than a problem of one record).
pub fn is_store_wide(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(e.kind(), StorageFull | QuotaExceeded | FileTooLarge | ReadOnlyFilesystem | PermissionDenied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_store_failure_is_kept_and_signals_map_to_exit_codes() {
        let h = Halt::new();
        assert!(!h.is_set() && h.reason().is_none());
        h.store_failed("no space left".into());
        h.store_failed("later".into());
        assert_eq!(h.reason(), Some(HaltReason::Store("no space left".into())));
        assert_eq!(HaltReason::Signal(SIGINT).exit_code(), 130);
        assert_eq!(HaltReason::Signal(SIGTERM).exit_code(), 143);
        assert!(is_store_wide(&io::Error::from(io::ErrorKind::StorageFull)));
        assert!(!is_store_wide(&io::Error::other("one bad record")));
    }
}
