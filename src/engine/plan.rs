//! Which engine trains a run: the user's choice, or for `auto` the cheapest exact one.
//!
//! Cost model (multiply-adds per step, the three dgemm sweeps of [`super::chain`] over L layers of
//! width w and c input columns): chain(w, c) = 3·c·(L·w² + w·(d + k)) for a ResNet and
//! 3·c·Σ_l dims[l]·dims[l−1] for the linear network. The dense kernel feeds c = n columns (b for
//! SGD); the Gram kernel feeds c = d columns and adds k·d² for M = PΣ − C, plus b·d·(d + k) for the
//! minibatch Gram matrices of an SGD step. A zero-initialised ResNet with m > d + k is reduced to
//! width p = d + k first (an upper bound of the exact p, which is only known once A and B exist).

use serde::{Deserialize, Serialize};

use crate::config::{Arch, Dims, EngineChoice, Method, ResolvedRun};
use crate::model::linear_shapes;

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

    /// Whether this engine can train `run` exactly.
    pub fn applies_to(self, run: &ResolvedRun) -> bool {
        !self.is_reduced() || zero_init_resnet(run)
    }
}

fn zero_init_resnet(run: &ResolvedRun) -> bool {
    run.config().model.arch == Arch::Resnet && run.init_std() == 0.0
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
        EngineChoice::Reduced => reduce(cheaper_kernel(run, (dims.d + dims.k).min(m))),
        EngineChoice::Auto if zero_init_resnet(run) && m > dims.d + dims.k => {
            reduce(cheaper_kernel(run, dims.d + dims.k))
        }
        EngineChoice::Auto => full(cheaper_kernel(run, m)),
    }
}

/// Multiply-adds of one step of engine `kind` on `run`, by the cost model of the module
/// documentation (the reduced width taken as min(m, d + k)).
pub fn cost_per_step(run: &ResolvedRun, kind: EngineKind) -> f64 {
    let Dims { d, k, .. } = run.dims();
    let m = run.config().model.width;
    let w = if kind.is_reduced() { m.min(d + k) } else { m };
    kernel_cost(run, w, kind.kernel())
}

fn kernel_cost(run: &ResolvedRun, w: usize, kernel: Kernel) -> f64 {
    let c = run.config();
    let Dims { d, k, n } = run.dims();
    let layer_cost: f64 = match c.model.arch {
        Arch::Resnet => (c.model.depth * w * w + w * (d + k)) as f64,
        Arch::Linear => linear_shapes(run.dims(), c.model.depth, w).iter().map(|&(r, s)| (r * s) as f64).sum(),
    };
    let cols = match c.optim.method {
        Method::Gd => n,
        Method::Sgd => c.optim.batch.unwrap_or(n),
    } as f64;
    match kernel {
        Kernel::Dense => 3.0 * cols * layer_cost,
        Kernel::Gram => {
            let minibatch_gram = if c.optim.method == Method::Sgd { cols * (d * (d + k)) as f64 } else { 0.0 };
            3.0 * d as f64 * layer_cost + (k * d * d) as f64 + minibatch_gram
        }
    }
}

/// The cheaper kernel for `run` at hidden width w, by the cost model of the module documentation.
fn cheaper_kernel(run: &ResolvedRun, w: usize) -> Kernel {
    if kernel_cost(run, w, Kernel::Gram) < kernel_cost(run, w, Kernel::Dense) { Kernel::Gram } else { Kernel::Dense }
}
