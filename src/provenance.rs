//! Where a result was computed: software versions, machine and date.

use serde::{Deserialize, Serialize};

use crate::blas;

/// Provenance of a result record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub crate_version: String,
    /// Commit the binary was built from (empty outside a git checkout).
    pub git_commit: String,
    /// Whether tracked files differed from that commit at build time (`None`: unknown).
    pub git_dirty: Option<bool>,
    pub rustc: String,
    /// OpenBLAS's build description; it names the core type whose kernels ran (e.g. `Cooperlake`).
    pub openblas_config: String,
    pub cpu: String,
    /// Cores of the process (`--jobs`), shared by its runs; OpenBLAS ran one thread per call.
    pub workers: usize,
    /// When the run finished (RFC 3339, UTC).
    pub date: String,
}

impl Provenance {
    /// The provenance of a result finished now by a process using `workers` cores.
    pub fn now(workers: usize) -> Provenance {
        Provenance {
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("LINRES_GIT_COMMIT").to_string(),
            git_dirty: match env!("LINRES_GIT_DIRTY") {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            rustc: env!("LINRES_RUSTC").to_string(),
            openblas_config: blas::config(),
            cpu: cpu_model(),
            workers,
            date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
