//! Which engine trains a run: the user's choice, or for `auto` the cheapest exact one.
//!
//! Cost model (multiply-adds per step, the three dgemm sweeps of [`super::chain`] over L layers of
//! width w and c input columns): chain(w, c) = 3·c·(L·w² + w·(d + k)) for a ResNet and
//! 3·c·Σ_l dims_l·dims_(l−1) for the linear network. The dense kernel feeds c = n columns (b for
//! SGD); the Gram kernel feeds c = d columns and adds k·d² for M = PΣ − C, plus b·d·(d + k) for the
//! minibatch Gram matrices of an SGD step. A zero-initialised ResNet with m > d + k is reduced to
//! width p = d + k first (an upper bound of the exact p, which is only known once A and B exist).
//!
//! Cost of a whole run ([`estimated_cost`]): iters · (cost of one step of the planned engine) plus the
//! set-up, n·d·(d + k) for the data products XXᵀ and YXᵀ, and m·(d + k)² for the Gram matrix MᵀM of
//! M = [A, Bᵀ] (ResNet; (d + k)³ when it is drawn directly, `sampling: gram`) or Σ_l dims_l·dims_(l−1)
//! for drawing the linear network's weights.

use serde::{Deserialize, Serialize};

use crate::config::{Arch, Dims, EngineChoice, Method, ResolvedRun, Sampling};
use crate::model::linear_weight_count;

/// The engine a run was trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    Dense,
    Gram,
    ReducedDense,
    ReducedGram,
}

/// The kernel that turns a block of columns into a residual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Forward and backward over samples.
    Dense,
    /// Forward and backward over the identity, with R = PΣ − C.
    Gram,
}

impl EngineKind {
    pub const ALL: [EngineKind; 4] =
        [EngineKind::Dense, EngineKind::Gram, EngineKind::ReducedDense, EngineKind::ReducedGram];

    pub fn is_reduced(self) -> bool {
        matches!(self, EngineKind::ReducedDense | EngineKind::ReducedGram)
    }

    pub fn kernel(self) -> Kernel {
        match self {
            EngineKind::Dense | EngineKind::ReducedDense => Kernel::Dense,
            EngineKind::Gram | EngineKind::ReducedGram => Kernel::Gram,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Dense => "dense",
            EngineKind::Gram => "gram",
            EngineKind::ReducedDense => "reduced_dense",
            EngineKind::ReducedGram => "reduced_gram",
        }
    }

    /// Whether this engine can train `run` exactly: the reduced engines need a zero-initialised
    /// ResNet, the full ones A and B themselves (not only their Gram matrix).
    pub fn applies_to(self, run: &ResolvedRun) -> bool {
        if self.is_reduced() { zero_init_resnet(run) } else { !gram_sampled(run) }
    }
}

fn zero_init_resnet(run: &ResolvedRun) -> bool {
    run.config().model.arch == Arch::Resnet && run.init_std() == 0.0
}

/// Whether only the Gram matrix of A and B is drawn (`sampling: gram`).
fn gram_sampled(run: &ResolvedRun) -> bool {
    run.transform().is_some_and(|t| t.sampling == Sampling::Gram)
}

/// The engine that trains `run`.
pub fn plan(run: &ResolvedRun) -> EngineKind {
    let c = run.config();
    let dims = run.dims();
    let m = c.model.width;
    let reduce = |kernel: Kernel| match kernel {
        Kernel::Dense => EngineKind::ReducedDense,
        Kernel::Gram => EngineKind::ReducedGram,
    };
    let full = |kernel: Kernel| match kernel {
        Kernel::Dense => EngineKind::Dense,
        Kernel::Gram => EngineKind::Gram,
    };
    match c.engine {
        EngineChoice::Dense => EngineKind::Dense,
        EngineChoice::Gram => EngineKind::Gram,
        EngineChoice::ReducedDense => EngineKind::ReducedDense,
        EngineChoice::ReducedGram => EngineKind::ReducedGram,
        EngineChoice::Reduced => reduce(cheaper_kernel(run, dims.d.saturating_add(dims.k).min(m))),
        EngineChoice::Auto if gram_sampled(run) => reduce(cheaper_kernel(run, dims.d.saturating_add(dims.k).min(m))),
        EngineChoice::Auto if zero_init_resnet(run) && m > dims.d.saturating_add(dims.k) => {
            reduce(cheaper_kernel(run, dims.d + dims.k))
        }
        EngineChoice::Auto => full(cheaper_kernel(run, m)),
    }
}

/// Multiply-adds of one step of engine `kind` on `run`, by the cost model of the module
/// documentation (the reduced width taken as min(m, d + k)).
pub fn cost_per_step(run: &ResolvedRun, kind: EngineKind) -> f64 {
    kernel_cost(run, chain_width(run, kind), kind.kernel())
}

/// The hidden width of the chain engine `kind` trains `run` on: m, or min(m, d + k) reduced.
fn chain_width(run: &ResolvedRun, kind: EngineKind) -> usize {
    let Dims { d, k, .. } = run.dims();
    let m = run.config().model.width;
    if kind.is_reduced() { m.min(d.saturating_add(k)) } else { m }
}

/// Multiply-adds of the whole run by the engine [`plan`] picks, set-up included (module
/// documentation). Shard balancing and longest-first scheduling compare runs by it.
pub fn estimated_cost(run: &ResolvedRun) -> f64 {
    let c = run.config();
    let Dims { d, k, n } = run.dims();
    let (dd, kk, nn, m) = (d as f64, k as f64, n as f64, c.model.width as f64);
    let data = nn * dd * (dd + kk);
    let network: f64 = match c.model.arch {
        Arch::Resnet if gram_sampled(run) => (dd + kk).powi(3),
        Arch::Resnet => m * (dd + kk) * (dd + kk),
        Arch::Linear => linear_weight_count(run.dims(), c.model.depth, c.model.width),
    };
    c.optim.iters as f64 * cost_per_step(run, plan(run)) + data + network
}

/// In floating point: sizes come from input, and their products may exceed any integer type.
fn kernel_cost(run: &ResolvedRun, w: usize, kernel: Kernel) -> f64 {
    let c = run.config();
    let Dims { d, k, .. } = run.dims();
    let (dd, kk, wf) = (d as f64, k as f64, w as f64);
    let layer_cost: f64 = match c.model.arch {
        Arch::Resnet => c.model.depth as f64 * wf * wf + wf * (dd + kk),
        Arch::Linear => linear_weight_count(run.dims(), c.model.depth, w),
    };
    let cols = columns(run, Kernel::Dense) as f64;
    match kernel {
        Kernel::Dense => 3.0 * cols * layer_cost,
        Kernel::Gram => {
            let minibatch_gram = if c.optim.method == Method::Sgd { cols * dd * (dd + kk) } else { 0.0 };
            3.0 * dd * layer_cost + kk * dd * dd + minibatch_gram
        }
    }
}

/// The columns `kernel` feeds through the chain in one step of `run`: n samples (b for SGD) for
/// the dense kernel, d for the Gram kernel.
fn columns(run: &ResolvedRun, kernel: Kernel) -> usize {
    let c = run.config();
    match kernel {
        Kernel::Dense => match c.optim.method {
            Method::Gd => run.dims().n,
            Method::Sgd => c.optim.batch.unwrap_or(run.dims().n),
        },
        Kernel::Gram => run.dims().d,
    }
}

/// The shape of the products one step of `run` multiplies by the engine [`plan`] picks: the
/// chain's hidden width w (min(m, d + k) for a reduced engine) and the columns c it feeds (n, b
/// for SGD, d for a Gram kernel). Time estimates time a product of this shape
/// ([`super::estimate`]).
pub fn step_shape(run: &ResolvedRun) -> (usize, usize) {
    let kind = plan(run);
    (chain_width(run, kind), columns(run, kind.kernel()))
}

/// The cheaper kernel for `run` at hidden width w, by the cost model of the module documentation.
fn cheaper_kernel(run: &ResolvedRun, w: usize) -> Kernel {
    if kernel_cost(run, w, Kernel::Gram) < kernel_cost(run, w, Kernel::Dense) { Kernel::Gram } else { Kernel::Dense }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    fn run(model: &str, optim: &str, engine: &str, n: usize) -> ResolvedRun {
        let yaml = format!(
            "{{master_seed: 1, data: {{kind: paper, d: 10, n: {n}}}, model: {model}, optim: {optim}, engine: {engine}}}"
        );
        serde_norway::from_str::<RunConfig>(&yaml).unwrap().resolve(std::path::Path::new(".")).unwrap()
    }

    const GD: &str = "{method: gd, iters: 10, step: {rule: fixed, eta: 0.001}}";

    #[test]
    fn auto_picks_the_cheapest_exact_engine() {
        let resnet = |m: usize| format!("{{arch: resnet, depth: 10, width: {m}, transform: gaussian}}");
        // A wide zero-initialised full-batch ResNet: the reduced problem in Gram form (n > d).
        assert_eq!(plan(&run(&resnet(1000), GD, "auto", 1000)), EngineKind::ReducedGram);
        // Fewer samples than input dimensions: the reduced problem on the samples is cheaper.
        assert_eq!(plan(&run(&resnet(1000), GD, "auto", 5)), EngineKind::ReducedDense);
        // m ≤ d + k: nothing to reduce; Gram form when n > d.
        assert_eq!(plan(&run(&resnet(20), GD, "auto", 1000)), EngineKind::Gram);
        assert_eq!(plan(&run(&resnet(20), GD, "auto", 5)), EngineKind::Dense);
        // A Gaussian hidden initialisation switches the reduction off.
        let init = "{arch: resnet, depth: 10, width: 1000, transform: gaussian, init_std: 0.01}";
        assert_eq!(plan(&run(init, GD, "auto", 1000)), EngineKind::Gram);
        // The linear network has no reduction.
        assert_eq!(plan(&run("{arch: linear, depth: 4, width: 50}", GD, "auto", 1000)), EngineKind::Gram);
        assert_eq!(plan(&run("{arch: linear, depth: 4, width: 50}", GD, "auto", 5)), EngineKind::Dense);
        // SGD: a batch of 2 is cheaper on the samples; a batch of 500 in Gram form.
        let sgd = |b: usize| format!("{{method: sgd, batch: {b}, iters: 10, step: {{rule: fixed, eta: 0.001}}}}");
        assert_eq!(plan(&run(&resnet(1000), &sgd(2), "auto", 1000)), EngineKind::ReducedDense);
        assert_eq!(plan(&run(&resnet(1000), &sgd(500), "auto", 1000)), EngineKind::ReducedGram);
        // `reduced` picks its inner kernel; explicit choices are kept.
        assert_eq!(plan(&run(&resnet(1000), GD, "reduced", 1000)), EngineKind::ReducedGram);
        assert_eq!(plan(&run(&resnet(1000), GD, "dense", 1000)), EngineKind::Dense);
        assert_eq!(plan(&run(&resnet(1000), GD, "reduced_dense", 1000)), EngineKind::ReducedDense);
    }

    #[test]
    fn the_cost_model_counts_the_three_sweeps() {
        // ResNet, dense: 3·n·(L·m² + m·(d + k)) multiply-adds.
        let r = run("{arch: resnet, depth: 10, width: 100, transform: gaussian}", GD, "dense", 1000);
        assert_eq!(cost_per_step(&r, EngineKind::Dense), 3.0 * 1000.0 * (10.0 * 1e4 + 100.0 * 20.0));
        // Gram: d columns instead of n, plus k·d² for PΣ − C.
        assert_eq!(cost_per_step(&r, EngineKind::Gram), 3.0 * 10.0 * (10.0 * 1e4 + 100.0 * 20.0) + 1000.0);
        // Reduced: width d + k.
        assert_eq!(cost_per_step(&r, EngineKind::ReducedGram), 3.0 * 10.0 * (10.0 * 400.0 + 20.0 * 20.0) + 1000.0);
    }

    #[test]
    fn the_step_shape_is_the_planned_chain_width_and_its_columns() {
        let resnet = |m: usize| format!("{{arch: resnet, depth: 10, width: {m}, transform: gaussian}}");
        // Reduced Gram: width d + k = 20, d = 10 columns.
        assert_eq!(step_shape(&run(&resnet(1000), GD, "auto", 1000)), (20, 10));
        // Dense at full width: the n = 1000 samples.
        assert_eq!(step_shape(&run(&resnet(100), GD, "dense", 1000)), (100, 1000));
        // SGD with a batch of 2 on the samples of the reduced chain.
        let sgd = "{method: sgd, batch: 2, iters: 10, step: {rule: fixed, eta: 0.001}}";
        assert_eq!(step_shape(&run(&resnet(1000), sgd, "auto", 1000)), (20, 2));
    }

    #[test]
    fn the_run_cost_is_the_steps_of_the_planned_engine_plus_the_set_up() {
        // Dense ResNet, m = 100, d = 10, k = 10, n = 1000, 10 steps: per step 3·n·(L·m² + m·(d + k)),
        // set-up n·d·(d + k) for XXᵀ, YXᵀ and m·(d + k)² for MᵀM.
        let r = run("{arch: resnet, depth: 10, width: 100, transform: gaussian}", GD, "dense", 1000);
        let step = 3.0 * 1000.0 * (10.0 * 1e4 + 100.0 * 20.0);
        assert_eq!(estimated_cost(&r), 10.0 * step + 1000.0 * 10.0 * 20.0 + 100.0 * 400.0);
        // Linear network, widths 10 → 50 → 50 → 50 → 10, Gram kernel (n > d): per step
        // 3·d·Σ dims_l·dims_(l−1) + k·d², set-up n·d·(d + k) + Σ dims_l·dims_(l−1).
        let l = run("{arch: linear, depth: 4, width: 50}", GD, "auto", 1000);
        let weights = 500.0 + 2500.0 + 2500.0 + 500.0;
        assert_eq!(estimated_cost(&l), 10.0 * (3.0 * 10.0 * weights + 1000.0) + 200_000.0 + weights);
        // More steps cost more; a wider dense network costs more.
        let wide = run("{arch: resnet, depth: 10, width: 200, transform: gaussian}", GD, "dense", 1000);
        assert!(estimated_cost(&wide) > estimated_cost(&r));
    }
}
