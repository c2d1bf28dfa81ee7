//! Where the commands print: results on stdout, notes, progress and warnings on stderr.
//!
//! Everything written here goes through [`terminal_output`]: no character from data (a label, a
//! path, a record field) reaches the terminal as a control sequence; commands escape a value with
//! [`linres::escape::terminal_text`] where a line break of its own would forge a line.
//!
//! Nothing here panics. A closed stdout (`linres list … | head -1`) ends the output quietly: later
//! output is dropped and the command finishes with its usual exit status (0 when all went well),
//! without an error message. Any other failure to write stdout (a full disk) is reported once the
//! command ends ([`stdout_error`]). Notes and warnings are dropped under `--quiet`; a closed stderr
//! is ignored.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use linres::escape::terminal_output;

static QUIET: AtomicBool = AtomicBool::new(false);
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Sets `--quiet` for the whole process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` is set (no progress, notes or warnings).
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes to stdout; see the module documentation for what happens when that fails.
pub fn stdout(args: fmt::Arguments) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let text = args.to_string();
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(terminal_output(&text).as_bytes()).and_then(|()| out.flush()) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            *STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        }
    }
}

/// Why stdout could not be written, unless the reader only closed it.
pub fn stdout_error() -> Option<String> {
    STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Writes to stderr regardless of `--quiet` (errors); a closed stderr is ignored.
pub fn stderr(args: fmt::Arguments) {
    let text = args.to_string();
    let _ = io::stderr().lock().write_all(terminal_output(&text).as_bytes());
}

/// Writes a note or progress line to stderr unless `--quiet` is set.
pub fn note(args: fmt::Arguments) {
    if !quiet() {
        stderr(args);
    }
}

/// `println!` to stdout, without the panic on a closed pipe.
macro_rules! outln {
    () => { $crate::cmd::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cmd::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` to stdout, without the panic on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cmd::out::stdout(format_args!($($arg)*)) };
}

/// A line on stderr unless `--quiet` is set.
macro_rules! noteln {
    ($($arg:tt)*) => { $crate::cmd::out::note(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `warning: …` on stderr unless `--quiet` is set.
macro_rules! warnln {
    ($($arg:tt)*) => { $crate::cmd::out::note(format_args!("warning: {}\n", format_args!($($arg)*))) };
}

/// A line on stderr even under `--quiet` (errors).
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cmd::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {errln, noteln, out, outln, warnln};
