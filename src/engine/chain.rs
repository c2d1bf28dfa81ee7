//! The layered map both models share, with its forward pass, backward pass and in-place update.
//!
//! A chain computes F = Out · T_L ⋯ T_1 · In · Z for an input block Z (d×c), with
//! T_l = I + c_l·W_l (ResNet, c_l = 1) or T_l = c_l·W_l (linear network, ∏ c_l = α), In = A (m×d)
//! or the identity, Out = B (k×m) or the identity. Feeding Z = X gives the network's outputs on the
//! samples (the dense engine); feeding Z = I_d gives the end-to-end matrix P (k×d, the Gram engine).
//!
//! With H_0 = In·Z, H_l = T_l H_{l−1}, F = Out·H_L and a residual block R (k×c), the backward pass
//! forms G_L = Outᵀ R, G_{l−1} = T_lᵀ G_l and the gradient ∇_{W_l} = c_l G_l H_{l−1}ᵀ. For the
//! loss ½‖F − Y‖² (R = F − Y, Z = X) this is ∇_{W_l} L = Π_{>l}ᵀ Bᵀ R Xᵀ Aᵀ Π_{<l}ᵀ of THEORY.md;
//! for R = PΣ − C (Z = I_d) it is its Gram form.
//!
//! Every product is a BLAS dgemm into a buffer of a [`Workspace`] allocated once per run; transposes
//! are passed as flags, never copied. Products over the hidden width are cut into the fixed blocks
//! of [`super::blocks`] and run in parallel, so results do not depend on the number of threads.

use ndarray::{Array2, ArrayView2, s};

use super::blocks::{Cols, Rows, for_each_block};
use crate::linalg::gemm;

/// The trainable map Out · T_L ⋯ T_1 · In.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// In: A (m×d), or `None` for the identity (the first layer reads the input).
    pub input: Option<Array2<f64>>,
    /// Out: B (k×m), or `None` for the identity (the last layer writes the output).
    pub output: Option<Array2<f64>>,
    /// W_1 … W_L; W_l is dims_l×dims_(l−1).
    pub layers: Vec<Array2<f64>>,
    /// c_1 … c_L.
    pub scales: Vec<f64>,
    /// T_l = I + c_l W_l when true, c_l W_l when false.
    pub residual: bool,
}

/// Buffers for one block of c input columns, allocated once and reused at every step.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// H_0 … H_L (dims_l×c).
    pub h: Vec<Array2<f64>>,
    /// F = Out·H_L (k×c) when the chain has an output map.
    out: Option<Array2<f64>>,
    /// The residual block R (k×c) that the backward pass propagates.
    pub resid: Array2<f64>,
    /// Ping-pong buffers for G_l (max_l dims[l] × c).
    g: [Array2<f64>; 2],
}

/// What the backward pass does with each layer's gradient.
pub enum Backward<'a> {
    /// W_l ← W_l − η·∇_{W_l}, fused into the gradient's dgemm (no gradient buffer).
    Update { eta: f64 },
    /// Writes ∇_{W_l} into `grads[l−1]` and leaves the weights alone.
    Gradients(&'a mut [Array2<f64>]),
}

impl Chain {
    /// A ResNet chain: In = A (m×d), Out = B (k×m), T_l = I + W_l.
    pub fn resnet(a: Array2<f64>, b: Array2<f64>, layers: Vec<Array2<f64>>) -> Chain {
        let scales = vec![1.0; layers.len()];
        Chain { input: Some(a), output: Some(b), layers, scales, residual: true }
    }

    /// A linear-network chain: T_l = c_l W_l, no input or output map.
    pub fn linear(layers: Vec<Array2<f64>>, scales: Vec<f64>) -> Chain {
        Chain { input: None, output: None, layers, scales, residual: false }
    }

    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Rows of H_0 … H_L.
    pub fn dims(&self) -> Vec<usize> {
        let first = match &self.input {
            Some(a) => a.nrows(),
            None => self.layers[0].ncols(),
        };
        std::iter::once(first).chain(self.layers.iter().map(|w| w.nrows())).collect()
    }

    /// Input dimension d.
    pub fn d(&self) -> usize {
        match &self.input {
            Some(a) => a.ncols(),
            None => self.layers[0].ncols(),
        }
    }

    /// Output dimension k.
    pub fn k(&self) -> usize {
        match &self.output {
            Some(b) => b.nrows(),
            None => self.layers.last().expect("depth ≥ 1").nrows(),
        }
    }

    /// Buffers for blocks of `cols` columns.
    pub fn workspace(&self, cols: usize) -> Workspace {
        let dims = self.dims();
        let g_rows = dims[1..].iter().copied().max().unwrap_or(0);
        Workspace {
            h: dims.iter().map(|&r| Array2::zeros((r, cols))).collect(),
            out: self.output.as_ref().map(|b| Array2::zeros((b.nrows(), cols))),
            resid: Array2::zeros((self.k(), cols)),
            g: [Array2::zeros((g_rows, cols)), Array2::zeros((g_rows, cols))],
        }
    }

    /// H_0 = In·Z for an input block Z (d×c).
    pub fn load_input(&self, z: &ArrayView2<f64>, ws: &mut Workspace) {
        match &self.input {
            Some(a) => for_each_block(Rows(ws.h[0].view_mut()), a.nrows(), z.ncols(), &|start, Rows(mut block)| {
                gemm(1.0, &a.slice(s![start..start + block.nrows(), ..]), z, 0.0, &mut block)
            }),
            None => ws.h[0].assign(z),
        }
    }

    /// H_l = T_l H_{l−1} for l = 1…L, then F = Out·H_L. Cost O(Σ_l dims_l·dims_(l−1)·c). Each layer
    /// is split into fixed blocks of rows of W_l (rows of H_l), run in parallel.
    pub fn forward(&self, ws: &mut Workspace) {
        for (l, w) in self.layers.iter().enumerate() {
            let (prev, next) = ws.h.split_at_mut(l + 1);
            let prev = prev[l].view();
            let (c, residual) = (self.scales[l], self.residual);
            for_each_block(Rows(next[0].view_mut()), w.nrows(), prev.ncols(), &|start, Rows(mut block)| {
                let rows = start..start + block.nrows();
                let beta = if residual {
                    block.assign(&prev.slice(s![rows.clone(), ..]));
                    1.0
                } else {
                    0.0
                };
                gemm(c, &w.slice(s![rows, ..]), &prev, beta, &mut block);
            });
        }
        if let (Some(b), Some(out)) = (&self.output, ws.out.as_mut()) {
            gemm(1.0, &b.view(), &ws.h[self.layers.len()].view(), 0.0, &mut out.view_mut());
        }
    }

    /// F after [`Chain::forward`] (k×c).
    pub fn output_of<'w>(&self, ws: &'w Workspace) -> ArrayView2<'w, f64> {
        match &ws.out {
            Some(out) => out.view(),
            None => ws.h[self.layers.len()].view(),
        }
    }

    /// Propagates `ws.resid` = R back through the chain (after [`Chain::forward`] on the same
    /// workspace): G_L = Outᵀ R, ∇_{W_l} = c_l G_l H_{l−1}ᵀ, G_{l−1} = T_lᵀ G_l, with T_l taken at
    /// the weights of the forward pass. Each layer is split into fixed blocks J of columns of W_l:
    /// block J forms the rows J of G_{l−1} = (I) G_l + c_l W_l[:, J]ᵀ G_l, then updates (or writes
    /// the gradient of) the same columns, W_l[:, J] −= η c_l G_l H_{l−1}[J, :]ᵀ, while they are
    /// still in cache: one read of W_l from memory instead of two.
    pub fn backward(&mut self, ws: &mut Workspace, mut action: Backward) {
        let depth = self.layers.len();
        // G_l has as many rows as H_l, dims[l] = rows of W_l (l ≥ 1).
        // `cur` names the buffer holding G_l: None = ws.resid, Some(i) = ws.g[i].
        let mut cur = None;
        if let Some(b) = &self.output {
            let resid = ws.resid.view();
            let g0 = ws.g[0].slice_mut(s![..self.layers[depth - 1].nrows(), ..]);
            for_each_block(Rows(g0), b.ncols(), resid.ncols(), &|start, Rows(mut block)| {
                gemm(1.0, &b.slice(s![.., start..start + block.nrows()]).t(), &resid, 0.0, &mut block)
            });
            cur = Some(0);
        }
        for l in (1..=depth).rev() {
            let rows = self.layers[l - 1].nrows();
            let rows_below = if l > 1 { self.layers[l - 2].nrows() } else { 0 };
            let [g0, g1] = &mut ws.g;
            let (g_cur, g_next) = match cur {
                None => (ws.resid.view(), g0),
                Some(0) => (g0.slice(s![..rows, ..]), g1),
                Some(_) => (g1.slice(s![..rows, ..]), g0),
            };
            let next = (l > 1).then(|| Rows(g_next.slice_mut(s![..rows_below, ..])));
            let w = &mut self.layers[l - 1];
            let cols = w.ncols();
            let (c, residual) = (self.scales[l - 1], self.residual);
            let h_prev = ws.h[l - 1].view();
            let propagate = |j: &std::ops::Range<usize>, w_j: &ArrayView2<f64>, next: Option<Rows>| {
                if let Some(Rows(mut next)) = next {
                    let beta = if residual {
                        next.assign(&g_cur.slice(s![j.clone(), ..]));
                        1.0
                    } else {
                        0.0
                    };
                    gemm(c, &w_j.t(), &g_cur, beta, &mut next);
                }
            };
            match &mut action {
                Backward::Update { eta } => {
                    let eta = *eta;
                    for_each_block(
                        (Cols(w.view_mut()), next),
                        cols,
                        h_prev.ncols(),
                        &|start, (Cols(mut w_j), next)| {
                            let j = start..start + w_j.ncols();
                            propagate(&j, &w_j.view(), next);
                            gemm(-eta * c, &g_cur, &h_prev.slice(s![j, ..]).t(), 1.0, &mut w_j);
                        },
                    );
                }
                Backward::Gradients(grads) => {
                    let w = w.view();
                    let grad = Cols(grads[l - 1].view_mut());
                    for_each_block((grad, next), cols, h_prev.ncols(), &|start, (Cols(mut grad_j), next)| {
                        let j = start..start + grad_j.ncols();
                        propagate(&j, &w.slice(s![.., j.clone()]), next);
                        gemm(c, &g_cur, &h_prev.slice(s![j, ..]).t(), 0.0, &mut grad_j);
                    });
                }
            }
            cur = Some(match cur {
                Some(0) => 1,
                _ => 0,
            });
        }
    }

    /// Zero matrices shaped like the layers, to receive [`Backward::Gradients`].
    pub fn gradient_buffers(&self) -> Vec<Array2<f64>> {
        self.layers.iter().map(|w| Array2::zeros(w.raw_dim())).collect()
    }
}
