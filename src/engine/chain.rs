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
//! are passed as flags, never copied.

use ndarray::{Array2, ArrayView2, s};

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
            Some(a) => gemm(1.0, &a.view(), z, 0.0, &mut ws.h[0].view_mut()),
            None => ws.h[0].assign(z),
        }
    }

    /// H_l = T_l H_{l−1} for l = 1…L, then F = Out·H_L. Cost O(Σ_l dims_l·dims_(l−1)·c).
    pub fn forward(&self, ws: &mut Workspace) {
        for (l, w) in self.layers.iter().enumerate() {
            let (prev, next) = ws.h.split_at_mut(l + 1);
            let (prev, next) = (prev[l].view(), &mut next[0]);
            let beta = if self.residual {
                next.assign(&prev);
                1.0
            } else {
                0.0
            };
            gemm(self.scales[l], &w.view(), &prev, beta, &mut next.view_mut());
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
    /// the weights of the forward pass (G_{l−1} is formed before W_l is updated).
    pub fn backward(&mut self, ws: &mut Workspace, mut action: Backward) {
        let depth = self.layers.len();
        // G_l has as many rows as H_l, dims[l] = rows of W_l (l ≥ 1).
        // `cur` names the buffer holding G_l: None = ws.resid, Some(i) = ws.g[i].
        let mut cur = None;
        if let Some(b) = &self.output {
            let mut g0 = ws.g[0].slice_mut(s![..self.layers[depth - 1].nrows(), ..]);
            gemm(1.0, &b.t(), &ws.resid.view(), 0.0, &mut g0);
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
            let w = &mut self.layers[l - 1];
            let c = self.scales[l - 1];
            if l > 1 {
                let mut next = g_next.slice_mut(s![..rows_below, ..]);
                let beta = if self.residual {
                    next.assign(&g_cur);
                    1.0
                } else {
                    0.0
                };
                gemm(c, &w.t(), &g_cur, beta, &mut next);
            }
            let h_prev = ws.h[l - 1].t();
            match &mut action {
                Backward::Update { eta } => gemm(-*eta * c, &g_cur, &h_prev, 1.0, &mut w.view_mut()),
                Backward::Gradients(grads) => gemm(c, &g_cur, &h_prev, 0.0, &mut grads[l - 1].view_mut()),
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
