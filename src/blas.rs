//! The OpenBLAS library linres links: its build configuration and thread count (FFI).
//!
//! OpenBLAS starts one thread per core. linres splits a run's work over the cores itself, in fixed
//! blocks (`engine::blocks`), so OpenBLAS must run one thread per call: a second level of threads
//! would oversubscribe the cores (measured 1.3–2.6× slower on 2 cores) and split some products
//! differently for each thread count. The environment variable is read only at library start, so
//! the count is set here.

use std::ffi::{CStr, c_char, c_int};

unsafe extern "C" {
    fn openblas_set_num_threads(num_threads: c_int);
    fn openblas_get_num_threads() -> c_int;
    fn openblas_get_config() -> *const c_char;
}

/// Sets the number of threads OpenBLAS uses for each call (process-wide).
pub fn set_threads(n: usize) {
    let n = c_int::try_from(n.max(1)).unwrap_or(c_int::MAX);
    // SAFETY: OpenBLAS accepts any positive count; the call only stores it.
    unsafe { openblas_set_num_threads(n) }
}

/// The number of threads OpenBLAS currently uses.
pub fn threads() -> usize {
    // SAFETY: a plain getter.
    let n = unsafe { openblas_get_num_threads() };
    usize::try_from(n).unwrap_or(1)
}

/// OpenBLAS's build description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64`.
pub fn config() -> String {
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe {
        let p = openblas_get_config();
        if p.is_null() { String::new() } else { CStr::from_ptr(p).to_string_lossy().trim().to_string() }
    }
}

/// LAPACK's error handler, replacing OpenBLAS's, which prints "** On entry to DLASCL parameter
/// number 4 had an illegal value" to standard output (where it would break `--json` output and
/// ignore `-q`). LAPACK returns the same information as a negative `info`, which the callers turn
/// into an error, so this handler prints nothing. The build script exports the symbol so that the
/// shared OpenBLAS library binds its calls here.
///
/// # Safety
/// Called by LAPACK with a routine name of `len` bytes and a pointer to the parameter number.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xerbla_(_name: *const c_char, _info: *const c_int, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_count_round_trips_and_config_names_openblas() {
        let before = threads();
        set_threads(1);
        assert_eq!(threads(), 1);
        set_threads(before);
        assert_eq!(threads(), before);
        assert!(config().contains("OpenBLAS"), "{}", config());
    }
}
