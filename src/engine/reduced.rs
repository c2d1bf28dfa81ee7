//! Subspace reduction of a zero-initialised ResNet: training in p ≤ d + k dimensions, exactly.
//!
//! # Claim
//! Let U = col(A) + col(Bᵀ) ⊂ ℝ^m, p = dim U, and Q (m×p) an orthonormal basis of U, so that
//! QQᵀA = A and BQQᵀ = B. If W_1(0) = … = W_L(0) = 0, then at every step t of GD or SGD,
//! W_l(t) = Q V_l(t) Qᵀ, where V_l(t) (p×p) are the iterates of the same optimiser, with the same
//! minibatches, on the ResNet with input map A′ = QᵀA (p×d), output map B′ = BQ (k×p) and zero
//! initial V_l. Both networks have the same end-to-end matrix P = BΠA = B′Π′A′, hence the same
//! losses at every step.
//!
//! # Proof (induction on t)
//! t = 0: W_l = 0 = Q·0·Qᵀ. Step: assume W_j = QV_jQᵀ for all j. Then (I + W_j)Q = Q(I + V_j), so
//! Π_{<l}A = Π_{<l}QA′ = QΠ′_{<l}A′ and BΠ_{>l} = B′QᵀΠ_{>l}, whose transpose Π_{>l}ᵀQB′ᵀ equals
//! QΠ′_{>l}ᵀB′ᵀ because (I + W_j)ᵀQ = Q(I + V_j)ᵀ. In particular P = BΠA = B′Π′A′, so the residual
//! R = PX_S − Y_S of any minibatch S is the same for both networks, and
//!
//! ∇_{W_l} = Π_{>l}ᵀBᵀ R X_Sᵀ Aᵀ Π_{<l}ᵀ = Q (Π′_{>l}ᵀB′ᵀ R X_Sᵀ A′ᵀ Π′_{<l}ᵀ) Qᵀ = Q ∇_{V_l} Qᵀ.
//!
//! Hence W_l − η∇_{W_l} = Q(V_l − η∇_{V_l})Qᵀ, which is the claim at t + 1. ∎
//!
//! The argument fails when some W_l(0) has a component outside U (a Gaussian hidden
//! initialisation), and for the linear network, which has no fixed maps to confine the gradients;
//! those runs use the dense or Gram engine. Weight norms and gradient norms carry over:
//! ‖W_l‖₂ = ‖V_l‖₂ and ‖∇_{W_l}‖_F = ‖∇_{V_l}‖_F.
//!
//! # Computing A′ and B′ without Q
//! With M = [A, Bᵀ] (m×(d+k)) and its Gram matrix G = MᵀM = [[AᵀA, AᵀBᵀ], [BA, BBᵀ]], scale the
//! columns to unit norm (D = diag(G_jj^{−1/2}), G′ = DGD) and decompose G′ = VΛVᵀ. Keeping the p
//! eigenpairs with λ > 10⁻¹²·λ_max, Q = MDV_pΛ_p^{−1/2} is an orthonormal basis of U and
//!
//! A′ = QᵀA = Λ_p^{−1/2}V_pᵀ (DG)[:, :d],  B′ = BQ = (Λ_p^{−1/2}V_pᵀ (DG)[:, d:])ᵀ.
//!
//! Only three small GEMMs touch the m-dimensional matrices: O(m(d + k)²) time and no m×m or
//! m×(d + k) allocation. Forming G squares singular values, so directions of the column-normalised
//! M with σ < 10⁻⁶σ_max count as dependent; [`reduce`] checks that the basis keeps all but a 10⁻⁹
//! fraction of ‖A‖²_F and ‖B‖²_F and reports an error otherwise.

use ndarray::{Array2, Axis, s};

use crate::error::RunError;
use crate::linalg::{sq_norm, symmetric_eigen};
use crate::model::TransformGram;

/// The reduced input and output maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction {
    /// A′ = QᵀA (p×d).
    pub a: Array2<f64>,
    /// B′ = BQ (k×p).
    pub b: Array2<f64>,
}

impl Reduction {
    /// p = dim(col(A) + col(Bᵀ)).
    pub fn dim(&self) -> usize {
        self.a.nrows()
    }
}

/// Eigenvalues of G′ below this fraction of the largest are treated as zero.
const EIGEN_TOL: f64 = 1e-12;
/// Largest fraction of ‖A‖²_F or ‖B‖²_F the basis may miss.
const LOST_TOL: f64 = 1e-9;

/// Computes A′ = QᵀA and B′ = BQ from the Gram matrix of A (m×d) and B (k×m); see the module
/// documentation. Cost O((d + k)³): the m-dimensional work is in [`TransformGram::of`].
pub fn reduce(gram: &TransformGram) -> Result<Reduction, RunError> {
    let (g, d) = (&gram.g, gram.d);
    let k = g.nrows() - d;

    let scale = g.diag().mapv(|v| if v > 0.0 { 1.0 / v.sqrt() } else { 0.0 });
    let dg = g * &scale.view().insert_axis(Axis(1));
    let g_scaled = &dg * &scale.view().insert_axis(Axis(0));
    let (lambda, vectors) = symmetric_eigen(&g_scaled.view())?;
    let top = lambda.iter().copied().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..lambda.len()).rev().filter(|&i| lambda[i] > EIGEN_TOL * top).collect();
    let p = keep.len();
    // Rows of T = Λ_p^{−1/2}V_pᵀ (p×(d+k)).
    let mut t = Array2::zeros((p, d + k));
    for (row, &i) in keep.iter().enumerate() {
        let f = 1.0 / lambda[i].sqrt();
        t.row_mut(row).assign(&vectors.column(i).mapv(|v| v * f));
    }
    let a_red = t.dot(&dg.slice(s![.., ..d]));
    let b_red = t.dot(&dg.slice(s![.., d..])).reversed_axes();
    for (matrix, full, kept) in [
        ("A", g.slice(s![..d, ..d]).diag().sum(), sq_norm(&a_red.view())),
        ("B", g.slice(s![d.., d..]).diag().sum(), sq_norm(&b_red.view())),
    ] {
        let lost = if full > 0.0 { (full - kept) / full } else { 0.0 };
        if lost > LOST_TOL {
            return Err(RunError::InexactReduction { matrix, lost });
        }
    }
    Ok(Reduction { a: a_red, b: b_red.as_standard_layout().to_owned() })
}
