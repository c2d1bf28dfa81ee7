//! What a run will allocate, estimated from its configuration before anything is allocated, and
//! the check that it fits in this machine's memory. A run that cannot fit is refused as a
//! configuration error naming the field that makes it large, instead of aborting the process.
//!
//! Bytes (8 per f64), for the engine [`plan`] picks, width w = m (full) or p ≤ d + k (reduced),
//! c = n columns (b under SGD) for the dense kernel:
//! - data: X, Y, Ŷ and the generators' temporaries, 8·n·(3d + 3k);
//! - transformations (ResNet): A and B, 8·m·(d + k) (none with `sampling: gram`);
//! - weights: Σ_l rows_l·cols_l (L·w² for a ResNet), twice with `log.diagnostics` (gradients);
//! - workspaces: activations and back-propagated blocks, 8·(Σ_l dims_l + 2·max dims + 2k)·c for the
//!   dense kernel, the same with c = d for the Gram workspace every engine keeps;
//! - the curve: about 400 bytes per logged point (the point and its JSON text, written and read back).

use crate::config::{Arch, Dims, ResolvedRun, Sampling};
use crate::error::ConfigError;
use crate::fileio::bytes_text;
use crate::model::linear_weight_count;

use super::plan::{Kernel, plan};

/// Bytes per logged point of the curve (in memory and as JSON text).
const BYTES_PER_POINT: f64 = 400.0;

/// One part of a run's memory, with the fields whose values make it large.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub what: &'static str,
    pub bytes: f64,
    /// (field, the factor it contributes): the largest factor names the field to blame.
    pub factors: Vec<(&'static str, f64)>,
}

/// The memory a run needs, by part.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    pub parts: Vec<Part>,
}

impl Footprint {
    pub fn total(&self) -> f64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// The estimate for `run`, given how many points its curve logs.
    pub fn of(run: &ResolvedRun, logged_points: usize) -> Footprint {
        let c = run.config();
        let Dims { d, k, n } = run.dims();
        let (dd, kk, nn) = (d as f64, k as f64, n as f64);
        let (m, depth) = (c.model.width as f64, c.model.depth as f64);
        let kind = plan(run);
        let w = if kind.is_reduced() { d.saturating_add(k).min(c.model.width) as f64 } else { m };
        let width_field = if kind.is_reduced() { "model.transform" } else { "model.width" };
        let (samples_field, cols) = match c.optim.batch {
            Some(b) => ("optim.batch", b as f64),
            None => ("data.n", nn),
        };
        let data_field = if matches!(c.data, crate::config::DataConfig::File(_)) { "data.x" } else { "data.n" };
        let (weights, dims_sum, max_dim) = match c.model.arch {
            Arch::Resnet => (depth * w * w, (depth + 1.0) * w, w),
            Arch::Linear => {
                // Σ_l dims_l = d + (L − 1)·m + k (d + k for L = 1), without building the L shapes.
                let weights = linear_weight_count(run.dims(), c.model.depth, c.model.width);
                let dims_sum = dd + (depth - 1.0) * m + kk;
                (weights, dims_sum, dd.max(m))
            }
        };
        let diagnostics = if c.log.diagnostics { 2.0 } else { 1.0 };
        let block = |cols: f64| 8.0 * (dims_sum + 2.0 * max_dim + 2.0 * kk) * cols;
        let dense = kind.kernel() == Kernel::Dense;
        let mut parts = vec![
            Part {
                what: "data",
                bytes: 8.0 * nn * (3.0 * dd + 3.0 * kk),
                factors: vec![(data_field, nn), ("data.d", dd)],
            },
            Part {
                what: "hidden weights",
                bytes: 8.0 * weights * diagnostics,
                factors: vec![("model.depth", depth), (width_field, w * w)],
            },
            Part {
                what: "workspaces",
                bytes: block(dd) + if dense { block(cols) } else { 0.0 },
                factors: vec![
                    (samples_field, if dense { cols } else { 0.0 }),
                    ("model.depth", depth),
                    (width_field, w),
                ],
            },
            Part {
                what: "curve",
                bytes: BYTES_PER_POINT * logged_points as f64,
                factors: vec![("log.points", logged_points as f64)],
            },
        ];
        if c.model.arch == Arch::Resnet && run.transform().is_none_or(|t| t.sampling == Sampling::Explicit) {
            parts.push(Part {
                what: "transformations A, B",
                bytes: 8.0 * m * (dd + kk),
                factors: vec![("model.width", m)],
            });
        }
        Footprint { parts }
    }

    /// Refuses the run when its estimate exceeds `available` bytes, naming the field that makes the
    /// largest part large.
    pub fn check(&self, available: f64) -> Result<(), ConfigError> {
        let total = self.total();
        if total <= available {
            return Ok(());
        }
        let largest = self.parts.iter().max_by(|a, b| a.bytes.total_cmp(&b.bytes)).expect("a footprint has parts");
        let field = largest.factors.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or("model", |f| f.0);
        let mut parts: Vec<&Part> = self.parts.iter().filter(|p| p.bytes >= 0.01 * total).collect();
        parts.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
        let text = |b: f64| if b >= u64::MAX as f64 { "more than 16 EiB".to_string() } else { bytes_text(b as u64) };
        let list: Vec<String> = parts.iter().map(|p| format!("{} {}", p.what, text(p.bytes))).collect();
        Err(ConfigError::new(
            field,
            format!(
                "the run needs at least {} of memory ({}); this machine has {}",
                text(total),
                list.join(", "),
                text(available)
            ),
        ))
    }
}

/// Checks `run` against this machine's physical memory (nothing to check where it is unknown).
pub fn check_fits(run: &ResolvedRun) -> Result<(), ConfigError> {
    let Some(memory) = crate::fileio::physical_memory() else { return Ok(()) };
    let c = run.config();
    Footprint::of(run, c.log.points_for(c.optim.iters)).check(memory as f64)
}

/// Reserves the run's estimated memory fallibly, before anything is allocated, and gives it back:
/// where the process may not have that much (a `ulimit -v`, a container's limit, other runs), this
/// is an error instead of an abort at the first large allocation.
pub fn reserve(run: &ResolvedRun) -> Result<(), crate::error::RunError> {
    use std::alloc::{GlobalAlloc, Layout, System};
    let c = run.config();
    let bytes = Footprint::of(run, c.log.points_for(c.optim.iters)).total();
    let refused = || {
        crate::error::RunError::Degenerate(format!(
            "cannot allocate the {} this run needs (the process's memory is limited below that)",
            bytes_text(bytes as u64)
        ))
    };
    let layout = Layout::from_size_align(bytes as usize, 8).map_err(|_| refused())?;
    if layout.size() == 0 {
        return Ok(());
    }
    // The probe asks the system allocator directly (it is released at once and never touched, so it
    // costs address space only and is no allocation of the run's).
    // SAFETY: the layout has a nonzero size; the block is freed with the same layout.
    unsafe {
        let block = System.alloc(layout);
        if block.is_null() {
            return Err(refused());
        }
        System.dealloc(block, layout);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    fn run(model: &str, extra: &str) -> ResolvedRun {
        let yaml = format!(
            "{{master_seed: 1, data: {{kind: paper, d: 10, n: 1000}}, model: {model}, \
             optim: {{method: gd, iters: 10, step: {{rule: fixed, eta: 0.001}}}}{extra}}}"
        );
        serde_norway::from_str::<RunConfig>(&yaml).unwrap().resolve(std::path::Path::new(".")).unwrap()
    }

    const GIB: f64 = (1u64 << 30) as f64;

    #[test]
    fn the_field_that_makes_a_run_large_is_named() {
        // A reduced ResNet a billion layers deep: the depth, not the width, is to blame.
        let deep = Footprint::of(&run("{arch: resnet, depth: 1000000000, width: 40}", ""), 200);
        let e = deep.check(24.0 * GIB).unwrap_err();
        assert_eq!(e.field, "model.depth", "{e}");
        assert!(e.rule.contains("hidden weights") && e.rule.contains("this machine has 24.0 GiB"), "{e}");
        // The same depth on the dense engine still blames the depth (L = 10⁹ > m² = 1600).
        let dense = Footprint::of(&run("{arch: resnet, depth: 1000000000, width: 40}", ", engine: dense"), 200);
        assert_eq!(dense.check(24.0 * GIB).unwrap_err().field, "model.depth");
        // A very wide dense ResNet: the width.
        let wide = Footprint::of(&run("{arch: resnet, depth: 10, width: 1000000}", ", engine: gram"), 200);
        assert_eq!(wide.check(24.0 * GIB).unwrap_err().field, "model.width");
        // The paper's run fits comfortably.
        let paper = Footprint::of(&run("{arch: resnet, depth: 10, width: 40}", ""), 200);
        assert!(paper.check(24.0 * GIB).is_ok());
        assert!(paper.total() < 1e6, "{paper:?}");
    }

    #[test]
    fn the_dense_estimate_counts_weights_and_activation_blocks_exactly() {
        // L = 4, m = 100, n = 1000, d = k = 10, dense: weights 4·100², workspaces over n and over d.
        let f = Footprint::of(&run("{arch: resnet, depth: 4, width: 100}", ", engine: dense"), 0);
        let part = |w: &str| f.parts.iter().find(|p| p.what == w).unwrap().bytes;
        assert_eq!(part("hidden weights"), 8.0 * 4.0 * 100.0 * 100.0);
        let per_col = 5.0 * 100.0 + 2.0 * 100.0 + 2.0 * 10.0;
        assert_eq!(part("workspaces"), 8.0 * per_col * (1000.0 + 10.0));
        assert_eq!(part("transformations A, B"), 8.0 * 100.0 * 20.0);
    }

    #[test]
    fn a_gram_sampled_resnet_of_width_a_billion_fits() {
        let huge = "{arch: resnet, depth: 10, width: 1000000000, transform: {kind: gaussian, sampling: gram}}";
        let f = Footprint::of(&run(huge, ""), 200);
        assert!(f.parts.iter().all(|p| p.what != "transformations A, B"), "{f:?}");
        assert!(f.check(GIB).is_ok(), "{f:?}");
        // Drawn explicitly, A and B alone would take 8·10⁹·20 bytes.
        let explicit = Footprint::of(&run(&huge.replace(", sampling: gram", ""), ""), 200);
        assert_eq!(explicit.check(24.0 * GIB).unwrap_err().field, "model.width");
    }
}
