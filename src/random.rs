//! Random matrices drawn from a named stream ([`crate::rng`]): Gaussian entries, Haar-distributed
//! orthonormal columns, and Wishart matrices drawn through their Bartlett factor.

use ndarray::{Array2, Axis};
use ndarray_linalg::QR;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{ChiSquared, StandardNormal};

use crate::error::LinalgError;
use crate::linalg::gemm;

/// A rows×cols matrix of independent N(0, std²) entries, drawn in row-major order.
pub fn gaussian_matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize, std: f64) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || std * rng.sample::<f64, _>(StandardNormal))
}

/// A draw of W ~ Wishart_p(m, I_p), the law of ZᵀZ for an m×p matrix Z of independent N(0, 1)
/// entries, at a cost that does not depend on m.
///
/// m ≥ p (Bartlett decomposition): W = LLᵀ with L lower triangular (p×p), L_ii = √c_i where
/// c_i ~ χ²_{m−i} (i = 0…p−1), and L_ij ~ N(0, 1) for j < i; drawn row by row, each row's c_i
/// first, then its L_ij in order of j. O(p²) draws and O(p³) arithmetic.
/// m < p (W singular): Z itself is drawn, row-major, and W = ZᵀZ; m·p < p² draws.
pub fn wishart_identity(rng: &mut ChaCha8Rng, m: usize, p: usize) -> Array2<f64> {
    let factor = if m >= p {
        let mut l = Array2::<f64>::zeros((p, p));
        for i in 0..p {
            let chi2 = ChiSquared::new((m - i) as f64).expect("m − i ≥ 1 degrees of freedom");
            l[[i, i]] = rng.sample::<f64, _>(chi2).sqrt();
            for j in 0..i {
                l[[i, j]] = rng.sample::<f64, _>(StandardNormal);
            }
        }
        l.reversed_axes()
    } else {
        gaussian_matrix(rng, m, p, 1.0)
    };
    // W = FᵀF with F = Lᵀ (p×p) or Z (m×p).
    let mut w = Array2::zeros((p, p));
    gemm(1.0, &factor.t(), &factor.view(), 0.0, &mut w.view_mut());
    // Exactly symmetric: the upper triangle is the lower one.
    for i in 0..p {
        for j in 0..i {
            w[[j, i]] = w[[i, j]];
        }
    }
    w
}

/// A rows×cols matrix with orthonormal columns drawn from the Haar measure (rows ≥ cols): the Q of
/// a Gaussian matrix's QR factorisation with the signs of R's diagonal moved into Q.
pub fn haar_orthonormal(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Result<Array2<f64>, LinalgError> {
    assert!(rows >= cols, "haar_orthonormal needs rows ≥ cols");
    let g = gaussian_matrix(rng, rows, cols, 1.0);
    let (mut q, r) = g.qr().map_err(|source| LinalgError { what: "QR factorisation (dgeqrf)", source })?;
    for (j, mut col) in q.axis_iter_mut(Axis(1)).enumerate() {
        if r[[j, j]] < 0.0 {
            col.mapv_inplace(|v| -v);
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn haar_columns_are_orthonormal() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let q = haar_orthonormal(&mut rng, 7, 4).unwrap();
        let g = q.t().dot(&q);
        for i in 0..4 {
            for j in 0..4 {
                let expect = if i == j { 1.0 } else { 0.0 };
                assert!((g[[i, j]] - expect).abs() < 1e-13);
            }
        }
    }
}
