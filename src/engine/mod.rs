//! The exact engines: one [`Chain`] (full width or reduced) driven by a dense or a Gram kernel.
//!
//! | engine | chain | per step | applies to |
//! |---|---|---|---|
//! | `dense` | full | O(L·m²·n) (b for SGD) | everything |
//! | `gram` | full | O(L·m²·(d + k)) | everything (SGD adds O(b·d·(d + k))) |
//! | `reduced_dense` | p ≤ d + k | O(L·p²·n) | zero-initialised ResNets |
//! | `reduced_gram` | p ≤ d + k | O(L·p²·(d + k)) | zero-initialised ResNets |
//!
//! All four follow the same trajectory up to rounding; the tests compare them pairwise.

pub mod blocks;
pub mod build;
pub mod chain;
pub mod estimate;
pub mod footprint;
pub mod plan;
pub mod reduced;

use ndarray::{Array2, Zip};
use serde::{Deserialize, Serialize};

use crate::error::LinalgError;
use crate::linalg::{gemm, half_sq_dist, spectral_norm, sq_norm};
use crate::problem::Problem;
pub use chain::{Backward, Chain, Workspace};
pub use plan::{EngineKind, Kernel, plan};

/// Loss L(W) = ½‖F − Y‖²_F and excess loss L(W) − L* at one point, over all n samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Eval {
    pub loss: f64,
    pub excess: f64,
}

/// What one optimiser step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// The full-batch loss at the weights before the step (full-batch steps compute it for free).
    pub full: Option<Eval>,
    /// Whether the step's residual was finite (false: the run diverged).
    pub finite: bool,
}

/// Trajectory diagnostics of the convergence proof, at the current weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// max_l ‖W_l‖₂.
    pub max_layer_norm: f64,
    /// ‖∇L‖²_F = Σ_l ‖∇_{W_l} L‖²_F (full batch).
    pub grad_norm2: f64,
}

/// Buffers of an SGD step: the minibatch X_S (d×b), Y_S (k×b) and, for the Gram kernel,
/// Σ_S = (n/b)X_SX_Sᵀ (d×d) and C_S = (n/b)Y_SX_Sᵀ (k×d).
struct Minibatch {
    xs: Array2<f64>,
    ys: Array2<f64>,
    sigma: Array2<f64>,
    c: Array2<f64>,
}

/// One run's trainer state: weights and every buffer, allocated once.
pub struct Engine<'p> {
    kind: EngineKind,
    problem: &'p Problem,
    chain: Chain,
    /// Workspace over the identity input (d columns): H_0 = In, output P.
    gram_ws: Workspace,
    /// Workspace over samples (n columns, or b for SGD) of the dense kernel.
    dense_ws: Option<Workspace>,
    minibatch: Option<Minibatch>,
    grads: Option<Vec<Array2<f64>>>,
}

impl<'p> Engine<'p> {
    /// An engine of `kind` training `chain` on `problem`; `batch` is the SGD minibatch size
    /// (`None` for full-batch GD). `chain` must already be reduced for the reduced kinds.
    pub fn new(problem: &'p Problem, chain: Chain, kind: EngineKind, batch: Option<usize>) -> Engine<'p> {
        let (d, k) = (problem.d(), problem.k());
        let mut gram_ws = chain.workspace(d);
        chain.load_input(&Array2::eye(d).view(), &mut gram_ws);
        let dense_ws = (kind.kernel() == Kernel::Dense).then(|| {
            let mut ws = chain.workspace(batch.unwrap_or(problem.n()));
            if batch.is_none() {
                chain.load_input(&problem.x.view(), &mut ws);
            }
            ws
        });
        let minibatch = batch.map(|b| Minibatch {
            xs: Array2::zeros((d, b)),
            ys: Array2::zeros((k, b)),
            sigma: Array2::zeros((d, d)),
            c: Array2::zeros((k, d)),
        });
        Engine { kind, problem, chain, gram_ws, dense_ws, minibatch, grads: None }
    }

    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Loss and excess loss over all n samples at the current weights. The dense full-batch engine
    /// evaluates on the samples; the others through P (k×d): L − L* = ½tr((P − W*)Σ(P − W*)ᵀ).
    pub fn evaluate(&mut self) -> Eval {
        match (&mut self.dense_ws, &self.minibatch) {
            (Some(ws), None) => {
                self.chain.forward(ws);
                let f = self.chain.output_of(ws);
                Eval {
                    loss: half_sq_dist(&f, &self.problem.y.view()),
                    excess: half_sq_dist(&f, &self.problem.y_fit.view()),
                }
            }
            _ => {
                self.chain.forward(&mut self.gram_ws);
                self.eval_from_p()
            }
        }
    }

    /// The end-to-end matrix P = Out·T_L⋯T_1·In (k×d) at the current weights.
    pub fn end_to_end(&mut self) -> Array2<f64> {
        self.chain.forward(&mut self.gram_ws);
        self.chain.output_of(&self.gram_ws).to_owned()
    }

    fn eval_from_p(&self) -> Eval {
        let excess = self.problem.excess_of(&self.chain.output_of(&self.gram_ws));
        Eval { loss: self.problem.l_star + excess, excess }
    }

    /// One step W_l ← W_l − η·g_l for every l, with g the full gradient (`batch` = None) or the
    /// unbiased minibatch gradient (n/b)·Σ_{i∈S}∇ℓ_i over the columns `batch` (|S| = b).
    pub fn step(&mut self, batch: Option<&[usize]>, eta: f64) -> StepInfo {
        if let (Some(idx), Some(mb)) = (batch, self.minibatch.as_mut()) {
            gather_columns(&self.problem.x, idx, &mut mb.xs);
            gather_columns(&self.problem.y, idx, &mut mb.ys);
        }
        match self.kind.kernel() {
            Kernel::Dense => self.dense_step(batch.map(|b| b.len()), eta),
            Kernel::Gram => self.gram_step(batch.map(|b| b.len()), eta),
        }
    }

    /// Dense kernel: R = F − Y_S on the samples, then the fused backward update with η·n/b.
    fn dense_step(&mut self, batch: Option<usize>, eta: f64) -> StepInfo {
        let problem = self.problem;
        let ws = self.dense_ws.as_mut().expect("the dense kernel has a sample workspace");
        let (target, scale) = match (batch, &self.minibatch) {
            (Some(b), Some(mb)) => {
                self.chain.load_input(&mb.xs.view(), ws);
                (mb.ys.view(), problem.n() as f64 / b as f64)
            }
            _ => (problem.y.view(), 1.0),
        };
        self.chain.forward(ws);
        let mut resid = std::mem::take(&mut ws.resid);
        Zip::from(&mut resid).and(&self.chain.output_of(ws)).and(&target).for_each(|r, &f, &y| *r = f - y);
        let batch_loss = 0.5 * sq_norm(&resid.view());
        let full = batch
            .is_none()
            .then(|| Eval { loss: batch_loss, excess: half_sq_dist(&self.chain.output_of(ws), &problem.y_fit.view()) });
        ws.resid = resid;
        self.chain.backward(ws, Backward::Update { eta: eta * scale });
        StepInfo { full, finite: batch_loss.is_finite() }
    }

    /// Gram kernel: R = PΣ_S − C_S with Σ_S, C_S the full or (n/b)-scaled minibatch Gram matrices.
    fn gram_step(&mut self, batch: Option<usize>, eta: f64) -> StepInfo {
        let problem = self.problem;
        self.chain.forward(&mut self.gram_ws);
        let (sigma, c) = match (batch, self.minibatch.as_mut()) {
            (Some(b), Some(mb)) => {
                let scale = problem.n() as f64 / b as f64;
                gemm(scale, &mb.xs.view(), &mb.xs.t(), 0.0, &mut mb.sigma.view_mut());
                gemm(scale, &mb.ys.view(), &mb.xs.t(), 0.0, &mut mb.c.view_mut());
                (mb.sigma.view(), mb.c.view())
            }
            _ => (problem.sigma.view(), problem.c.view()),
        };
        let mut resid = std::mem::take(&mut self.gram_ws.resid);
        resid.assign(&c);
        gemm(1.0, &self.chain.output_of(&self.gram_ws), &sigma, -1.0, &mut resid.view_mut());
        let finite = resid.iter().all(|v| v.is_finite());
        self.gram_ws.resid = resid;
        let full = batch.is_none().then(|| self.eval_from_p());
        self.chain.backward(&mut self.gram_ws, Backward::Update { eta });
        StepInfo { full, finite }
    }

    /// max_l ‖W_l‖₂ and the full-batch ‖∇L‖²_F at the current weights (Gram form; the weights are
    /// not changed). For the reduced engines both equal those of the full-width network.
    pub fn diagnostics(&mut self) -> Result<Diagnostics, LinalgError> {
        let problem = self.problem;
        self.chain.forward(&mut self.gram_ws);
        let mut resid = std::mem::take(&mut self.gram_ws.resid);
        resid.assign(&problem.c);
        gemm(1.0, &self.chain.output_of(&self.gram_ws), &problem.sigma.view(), -1.0, &mut resid.view_mut());
        self.gram_ws.resid = resid;
        let mut grads = self.grads.take().unwrap_or_else(|| self.chain.gradient_buffers());
        self.chain.backward(&mut self.gram_ws, Backward::Gradients(&mut grads));
        let grad_norm2 = grads.iter().map(|g| sq_norm(&g.view())).sum();
        self.grads = Some(grads);
        let mut max_layer_norm = 0.0f64;
        for w in &self.chain.layers {
            max_layer_norm = max_layer_norm.max(spectral_norm(&w.view())?);
        }
        Ok(Diagnostics { max_layer_norm, grad_norm2 })
    }
}

/// dst[:, j] = src[:, idx[j]] (src: r×n, dst: r×b).
fn gather_columns(src: &Array2<f64>, idx: &[usize], dst: &mut Array2<f64>) {
    for (j, &i) in idx.iter().enumerate() {
        dst.column_mut(j).assign(&src.column(i));
    }
}
