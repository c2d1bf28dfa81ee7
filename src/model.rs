//! The two networks at initialisation: the deep linear ResNet (fixed A, B; hidden W_l) and the
//! standard deep linear network of Du & Hu.

use ndarray::{Array2, ArrayView2, s};

use crate::config::{Arch, Dims, ResolvedRun, Sampling, TransformConfig, TransformKind};
use crate::error::RunError;
use crate::linalg::gemm;
use crate::matrix_file;
use crate::random::{gaussian_matrix, wishart_identity};
use crate::rng::RunSeeds;

/// The fixed input and output transformations of a ResNet: A (m×d) and B (k×m).
#[derive(Debug, Clone, PartialEq)]
pub struct Transforms {
    pub a: Array2<f64>,
    pub b: Array2<f64>,
}

/// The Gram matrix of the fixed maps, G = [A, Bᵀ]ᵀ[A, Bᵀ] = [[AᵀA, AᵀBᵀ], [BA, BBᵀ]]
/// ((d+k)×(d+k)): all that the theory (σ's of A and B) and the subspace reduction need of A and B.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformGram {
    pub g: Array2<f64>,
    /// Columns of A (the first block).
    pub d: usize,
}

impl TransformGram {
    /// G from A (m×d) and B (k×m): three GEMMs, O(m(d + k)²), no copy of A or B.
    pub fn of(a: &Array2<f64>, b: &Array2<f64>) -> TransformGram {
        let (d, k) = (a.ncols(), b.nrows());
        let mut g = Array2::zeros((d + k, d + k));
        gemm(1.0, &a.t(), &a.view(), 0.0, &mut g.slice_mut(s![..d, ..d]));
        gemm(1.0, &a.t(), &b.t(), 0.0, &mut g.slice_mut(s![..d, d..]));
        gemm(1.0, &b.view(), &b.t(), 0.0, &mut g.slice_mut(s![d.., d..]));
        let upper = g.slice(s![..d, d..]).to_owned();
        g.slice_mut(s![d.., ..d]).assign(&upper.t());
        TransformGram { g, d }
    }

    /// G drawn directly from its law for Gaussian transformations (`sampling: gram`, stream
    /// `transform_gram`): the columns of M = [A, Bᵀ] (m×(d + k)) are independent N(0, σ_j² I_m) with
    /// σ_j = σ_A·a_scale for the d columns of A and σ_B·b_scale for the k of Bᵀ, so M = ZD with
    /// D = diag(σ_j) and Z standard Gaussian, and G = D·(ZᵀZ)·D with ZᵀZ ~ Wishart_{d+k}(m, I)
    /// ([`wishart_identity`]). O((d + k)²) draws and O((d + k)³) arithmetic at any m.
    pub fn sample_gaussian(t: &TransformConfig, m: usize, dims: Dims, seeds: &RunSeeds) -> TransformGram {
        let Dims { d, k, .. } = dims;
        let mut rng = seeds.transform_gram.expect("a Gram-sampled ResNet has a transform_gram stream").rng();
        let (sa, sb) = gaussian_std(t, m, k);
        let scale: Vec<f64> =
            std::iter::repeat_n(sa * t.a_scale, d).chain(std::iter::repeat_n(sb * t.b_scale, k)).collect();
        let mut g = wishart_identity(&mut rng, m, d + k);
        for ((i, j), v) in g.indexed_iter_mut() {
            *v *= scale[i] * scale[j];
        }
        TransformGram { g, d }
    }

    /// AᵀA (d×d).
    pub fn ata(&self) -> ArrayView2<'_, f64> {
        self.g.slice(s![..self.d, ..self.d])
    }

    /// BBᵀ (k×k).
    pub fn bbt(&self) -> ArrayView2<'_, f64> {
        self.g.slice(s![self.d.., self.d..])
    }
}

/// Hidden weights at initialisation.
#[derive(Debug, Clone, PartialEq)]
pub enum Hidden {
    /// W_1 = … = W_L = 0 (m×m each, not allocated).
    Zero { depth: usize, width: usize },
    /// Explicit matrices W_1 … W_L.
    Weights(Vec<Array2<f64>>),
}

/// σ_A and σ_B of a Gaussian transformation at width m (variances default to 1/m and 1/k).
fn gaussian_std(t: &TransformConfig, m: usize, k: usize) -> (f64, f64) {
    (t.sigma_a2.unwrap_or(1.0 / m as f64).sqrt(), t.sigma_b2.unwrap_or(1.0 / k as f64).sqrt())
}

/// A network at initialisation.
#[derive(Debug, Clone, PartialEq)]
pub enum Network {
    /// f(x) = B(I+W_L)…(I+W_1)Ax, with the Gram matrix of A and B (`transforms` is `None` when
    /// only the Gram matrix was drawn, `sampling: gram`).
    Resnet { transforms: Option<Transforms>, gram: TransformGram, hidden: Hidden },
    /// f(x) = αW_L…W_1x with α = 1/√(m^{L−1}k).
    Linear { weights: Vec<Array2<f64>>, alpha: f64 },
}

impl Transforms {
    /// Builds A and B for `t` at width m (Gaussian ones draw A then B, row-major, from `seeds.transform`).
    ///
    /// identity: A = [I_d; 0], B = [I_k, 0]; modified identity: A = [I_d; 0], B = [0, I_k] (I_k in
    /// the last k columns); gaussian: A_ij ~ N(0, σ_A²), B_ij ~ N(0, σ_B²); file: read from `.npy`.
    /// A is then multiplied by `a_scale` and B by `b_scale`.
    pub fn build(t: &TransformConfig, m: usize, dims: Dims, seeds: &RunSeeds) -> Result<Transforms, RunError> {
        let Dims { d, k, .. } = dims;
        let (mut a, mut b) = match t.kind {
            TransformKind::Identity | TransformKind::ModifiedIdentity => {
                let mut a = Array2::zeros((m, d));
                a.slice_mut(s![..d, ..]).assign(&Array2::eye(d));
                let mut b = Array2::zeros((k, m));
                let first = if t.kind == TransformKind::Identity { 0 } else { m - k };
                b.slice_mut(s![.., first..first + k]).assign(&Array2::eye(k));
                (a, b)
            }
            TransformKind::Gaussian => {
                let mut rng = seeds.transform.expect("an explicitly drawn ResNet has a transform stream").rng();
                let (sa, sb) = gaussian_std(t, m, k);
                let a = gaussian_matrix(&mut rng, m, d, sa);
                let b = gaussian_matrix(&mut rng, k, m, sb);
                (a, b)
            }
            TransformKind::File => {
                let file = |f: &Option<matrix_file::MatrixFile>| f.as_ref().expect("resolved file transform").load();
                (file(&t.a)?, file(&t.b)?)
            }
        };
        if t.a_scale != 1.0 {
            a *= t.a_scale;
        }
        if t.b_scale != 1.0 {
            b *= t.b_scale;
        }
        Ok(Transforms { a, b })
    }
}

impl Network {
    /// The network of `run` at initialisation.
    ///
    /// Linear network: W_1 (m×d), W_2…W_{L−1} (m×m), W_L (k×m) (just W_1: k×d when L = 1), entries
    /// N(0, 1), drawn W_1 first, row-major, from `seeds.init`. ResNet: A, B from
    /// [`Transforms::build`]; hidden weights zero, or N(0, init_std²) drawn from `seeds.init`.
    pub fn init(run: &ResolvedRun, seeds: &RunSeeds) -> Result<Network, RunError> {
        let c = run.config();
        let dims = run.dims();
        let (depth, m) = (c.model.depth, c.model.width);
        match c.model.arch {
            Arch::Resnet => {
                let t = run.transform().expect("a resolved ResNet has a transform");
                let std = run.init_std();
                let hidden = if std > 0.0 {
                    let mut rng = seeds.init.expect("a ResNet with init_std > 0 has an init stream").rng();
                    Hidden::Weights((0..depth).map(|_| gaussian_matrix(&mut rng, m, m, std)).collect())
                } else {
                    Hidden::Zero { depth, width: m }
                };
                let (transforms, gram) = if t.sampling == Sampling::Gram {
                    (None, TransformGram::sample_gaussian(t, m, dims, seeds))
                } else {
                    let transforms = Transforms::build(t, m, dims, seeds)?;
                    let gram = TransformGram::of(&transforms.a, &transforms.b);
                    (Some(transforms), gram)
                };
                Ok(Network::Resnet { transforms, gram, hidden })
            }
            Arch::Linear => {
                let mut rng = seeds.init.expect("a linear network has an init stream").rng();
                let shapes = linear_shapes(dims, depth, m);
                let weights = shapes.iter().map(|&(r, cols)| gaussian_matrix(&mut rng, r, cols, 1.0)).collect();
                Ok(Network::Linear { weights, alpha: linear_alpha(dims.k, depth, m) })
            }
        }
    }
}

/// Shapes (rows, cols) of W_1 … W_L of a linear network.
pub fn linear_shapes(dims: Dims, depth: usize, m: usize) -> Vec<(usize, usize)> {
    let Dims { d, k, .. } = dims;
    if depth == 1 {
        return vec![(k, d)];
    }
    let mut shapes = vec![(m, d)];
    shapes.extend(std::iter::repeat_n((m, m), depth - 2));
    shapes.push((k, m));
    shapes
}

/// Σ_l rows_l·cols_l over [`linear_shapes`] (the number of weights), in closed form and in floating
/// point: k·d for L = 1, else m·d + (L − 2)·m² + k·m. Depth and width come from input, so no shape
/// list is built and no product can overflow.
pub fn linear_weight_count(dims: Dims, depth: usize, m: usize) -> f64 {
    let (d, k, m, l) = (dims.d as f64, dims.k as f64, m as f64, depth as f64);
    if depth == 1 { k * d } else { m * d + (l - 2.0) * m * m + k * m }
}

/// α = 1/√(m^{L−1}k), computed in log space so deep networks neither overflow nor underflow.
pub fn linear_alpha(k: usize, depth: usize, m: usize) -> f64 {
    (-0.5 * ((depth - 1) as f64 * (m as f64).ln() + (k as f64).ln())).exp()
}

/// The factor α split over the layers, c_1 = 1/√k and c_l = 1/√m for l ≥ 2, so ∏c_l = α while each
/// scaled layer c_l·W_l keeps activations of order one (no overflow at depth 100).
pub fn linear_scales(k: usize, m: usize, depth: usize) -> Vec<f64> {
    let mut scales = vec![1.0 / (k as f64).sqrt()];
    scales.extend(std::iter::repeat_n(1.0 / (m as f64).sqrt(), depth - 1));
    scales
}
