//! The OpenBLAS library linres links: its build configuration, the kernels it runs and its thread
//! count (FFI).
//!
//! OpenBLAS starts one thread per core. linres splits a run's work over the cores itself, in fixed
//! blocks (`engine::blocks`), so OpenBLAS must run one thread per call: a second level of threads
//! would oversubscribe the cores (measured 1.3–2.6× slower on 2 cores) and split some products
//! differently for each thread count. The environment variable is read only at library start, so
//! the count is set here.

use std::ffi::{CStr, c_char, c_int};

use crate::error::ConfigError;

unsafe extern "C" {
    fn openblas_set_num_threads(num_threads: c_int);
    fn openblas_get_num_threads() -> c_int;
    fn openblas_get_config() -> *const c_char;
    fn openblas_get_corename() -> *const c_char;
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

/// OpenBLAS's build description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64`;
/// a DYNAMIC_ARCH build names the core type whose kernels it runs.
///
/// Read once per process: a DYNAMIC_ARCH OpenBLAS assembles the text in one static buffer at every
/// call (strcpy, then strcat of the core name), so concurrent calls from the runner's threads
/// garbled it (records named `… NO_AFFINITY  MAX_THREADS=64Cooperlake MAX_THREADS=64`).
pub fn config() -> String {
    static CONFIG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string; the OnceLock
            // makes this the only call.
            unsafe { c_text(openblas_get_config()) }
        })
        .clone()
}

/// The core type whose kernels OpenBLAS runs, e.g. `Cooperlake` or `Haswell`: detected from the
/// CPU when the library loads, or forced by the environment variable [`CORETYPE_VAR`].
pub fn core_name() -> String {
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe { c_text(openblas_get_corename()) }
}

/// # Safety
/// `p` is null or points to a NUL-terminated string.
unsafe fn c_text(p: *const c_char) -> String {
    if p.is_null() { String::new() } else { unsafe { CStr::from_ptr(p) }.to_string_lossy().trim().to_string() }
}

/// OpenBLAS's variable that forces a core type (read when the library loads, before `main`).
/// Records are bit-identical across machines only when they ran the same kernels: pinning a core
/// type every machine of a family supports (e.g. `Haswell` on x86-64 with AVX2) trades the fastest
/// kernels of each machine for that.
pub const CORETYPE_VAR: &str = "OPENBLAS_CORETYPE";

/// Checks [`CORETYPE_VAR`] when it is set: the CPU must have the instructions that core type's
/// kernels use (otherwise the first product would stop the process with an illegal instruction),
/// and OpenBLAS must run that core type (an unknown name makes it fall back to other kernels).
/// `cpu_flags` are those of `/proc/cpuinfo` (`None`: unknown, not checked).
pub fn check_core_type(requested: Option<&str>, cpu_flags: Option<&str>, running: &str) -> Result<(), ConfigError> {
    let Some(requested) = requested.map(str::trim) else { return Ok(()) };
    let flags: Option<Vec<&str>> = cpu_flags.map(|f| f.split_whitespace().collect());
    if let (Some(flags), Some(needs)) = (&flags, instructions_of(requested)) {
        let missing: Vec<&str> = needs.iter().copied().filter(|n| !flags.contains(n)).collect();
        if !missing.is_empty() {
            return Err(ConfigError::new(
                CORETYPE_VAR,
                format!(
                    "{requested} kernels use {} instructions, which this CPU does not have (the first product \
                     would stop with an illegal instruction); unset {CORETYPE_VAR} or name a core type this \
                     CPU supports",
                    missing.join(", ")
                ),
            ));
        }
    }
    if !requested.eq_ignore_ascii_case(running) {
        return Err(ConfigError::new(
            CORETYPE_VAR,
            format!(
                "OpenBLAS does not run the core type {requested:?} (it runs its {running} kernels instead: \
                 unknown names fall back); name one of its core types, e.g. Haswell, SkylakeX, Zen"
            ),
        ));
    }
    Ok(())
}

/// [`check_core_type`] for this process: its environment, its CPU and the kernels OpenBLAS loaded.
pub fn check_this_core_type() -> Result<(), ConfigError> {
    let requested = std::env::var(CORETYPE_VAR).ok();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok();
    let flags =
        cpuinfo.as_deref().and_then(|t| t.lines().find(|l| l.starts_with("flags"))).and_then(|l| l.split(':').nth(1));
    check_core_type(requested.as_deref(), flags, &core_name())
}

/// CPU flags (as `/proc/cpuinfo` spells them) that the kernels of an x86-64 core type of
/// OpenBLAS need beyond SSE3; `None` for the types not listed (not checked).
fn instructions_of(core: &str) -> Option<&'static [&'static str]> {
    const AVX512: &[&str] = &["avx512f", "avx512dq", "avx512bw", "avx512vl"];
    const AVX512_BF16: &[&str] = &["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_bf16"];
    Some(match core.to_ascii_lowercase().as_str() {
        "skylakex" => AVX512,
        "cooperlake" | "sapphirerapids" => AVX512_BF16,
        "haswell" | "zen" => &["avx2", "fma"],
        "sandybridge" | "bulldozer" | "piledriver" | "steamroller" | "excavator" => &["avx"],
        _ => return None,
    })
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
    fn the_configuration_is_the_same_text_when_read_from_many_threads_at_once() {
        let seen: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                (0..8).map(|_| scope.spawn(|| (0..50_000).map(|_| config()).collect::<Vec<String>>())).collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let core = core_name();
        for text in &seen {
            assert_eq!(text.matches("MAX_THREADS").count(), 1, "garbled: {text}");
            assert!(text.starts_with("OpenBLAS ") && text.contains(&core), "{text} does not name {core}");
        }
    }

    #[test]
    fn thread_count_round_trips_and_config_names_openblas() {
        let before = threads();
        set_threads(1);
        assert_eq!(threads(), 1);
        set_threads(before);
        assert_eq!(threads(), before);
        assert!(config().contains("OpenBLAS"), "{}", config());
        // A DYNAMIC_ARCH build names its core type in the configuration string.
        assert!(config().contains(&core_name()), "{} / {}", config(), core_name());
    }

    #[test]
    fn a_core_type_is_refused_when_the_cpu_lacks_its_instructions_or_openblas_does_not_run_it() {
        let avx2 = "fpu sse3 avx avx2 fma";
        let avx512 = "fpu sse3 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16";
        // Not set: nothing to check.
        assert!(check_core_type(None, Some(avx2), "Haswell").is_ok());
        // Set, supported and running (any letter case).
        assert!(check_core_type(Some("HASWELL"), Some(avx2), "Haswell").is_ok());
        assert!(check_core_type(Some("Cooperlake"), Some(avx512), "Cooperlake").is_ok());
        // AVX-512 kernels on an AVX2 CPU would crash: refused, naming the missing instructions.
        let e = check_core_type(Some("SkylakeX"), Some(avx2), "SkylakeX").unwrap_err();
        assert_eq!(e.field, CORETYPE_VAR);
        assert!(e.rule.contains("avx512f") && e.rule.contains("illegal instruction"), "{e}");
        // A name OpenBLAS does not know: it ran other kernels.
        let e = check_core_type(Some("Pentium9"), Some(avx512), "Prescott").unwrap_err();
        assert!(e.rule.contains("\"Pentium9\"") && e.rule.contains("Prescott"), "{e}");
        // Unknown CPU flags: only the kernels are compared.
        assert!(check_core_type(Some("SkylakeX"), None, "SkylakeX").is_ok());
    }
}
