//! Dense linear-algebra helpers on top of ndarray (BLAS) and ndarray-linalg (LAPACK).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, CowArray, Ix2};
use ndarray_linalg::{EigValsh, Eigh, SVD, UPLO};

use crate::error::LinalgError;

/// C ← α·A·B + β·C through BLAS dgemm (A: p×q, B: q×r, C: p×r; transposed views are passed as
/// transpose flags, so no copy is made).
#[inline]
pub fn gemm(alpha: f64, a: &ArrayView2<f64>, b: &ArrayView2<f64>, beta: f64, c: &mut ArrayViewMut2<f64>) {
    general_mat_mul(alpha, a, b, beta, c);
}

/// `a` with strides LAPACK accepts. ndarray gives an axis of length 1 the stride 0 (a 1×1 block
/// BBᵀ when k = 1), which ndarray-linalg refuses: such a matrix is copied into a fresh array.
fn lapack_layout<'a>(a: &'a ArrayView2<f64>) -> CowArray<'a, f64, Ix2> {
    if a.strides().contains(&0) {
        let fresh =
            Array2::from_shape_vec(a.raw_dim(), a.iter().copied().collect()).expect("the same number of entries");
        CowArray::from(fresh)
    } else {
        CowArray::from(a.view())
    }
}

/// Singular values of `a` in descending order (LAPACK dgesvd, no singular vectors).
pub fn singular_values(a: &ArrayView2<f64>) -> Result<Array1<f64>, LinalgError> {
    if a.is_empty() {
        return Ok(Array1::zeros(0));
    }
    let (_, s, _) = lapack_layout(a)
        .svd(false, false)
        .map_err(|source| LinalgError { what: "singular values (dgesvd)", source })?;
    Ok(s)
}

/// Spectral norm ‖a‖₂ = σ_max(a).
pub fn spectral_norm(a: &ArrayView2<f64>) -> Result<f64, LinalgError> {
    Ok(singular_values(a)?.first().copied().unwrap_or(0.0))
}

/// Numerical rank of a p×q matrix from its descending singular values `s`: the number of
/// σ_i > max(p, q)·ε·σ_max (numpy's `matrix_rank` default).
pub fn numerical_rank(s: &Array1<f64>, rows: usize, cols: usize) -> usize {
    let Some(&top) = s.first() else { return 0 };
    let tol = rows.max(cols) as f64 * f64::EPSILON * top;
    s.iter().filter(|&&v| v > tol).count()
}

/// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix (dsyevd).
pub fn symmetric_eigen(a: &ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>), LinalgError> {
    lapack_layout(a)
        .eigh(UPLO::Lower)
        .map_err(|source| LinalgError { what: "symmetric eigendecomposition (dsyev)", source })
}

/// Eigenvalues (ascending) of a symmetric matrix.
pub fn symmetric_eigenvalues(a: &ArrayView2<f64>) -> Result<Array1<f64>, LinalgError> {
    lapack_layout(a)
        .eigvalsh(UPLO::Lower)
        .map_err(|source| LinalgError { what: "symmetric eigenvalues (dsyev)", source })
}

/// Left singular vectors U (p×p) and singular values (descending) of a p×q matrix, without the
/// right singular vectors (so a d×n data matrix never costs an n×n allocation).
pub fn left_singular(a: &ArrayView2<f64>) -> Result<(Array2<f64>, Array1<f64>), LinalgError> {
    let (u, s, _) = lapack_layout(a)
        .svd(true, false)
        .map_err(|source| LinalgError { what: "singular value decomposition (dgesvd)", source })?;
    Ok((u.expect("dgesvd returns U when asked"), s))
}

/// ½‖a − b‖²_F.
pub fn half_sq_dist(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> f64 {
    0.5 * a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum::<f64>()
}

/// ‖a‖²_F.
pub fn sq_norm(a: &ArrayView2<f64>) -> f64 {
    a.iter().map(|v| v * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn singular_values_of_a_diagonal_matrix() {
        let a = array![[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]];
        let s = singular_values(&a.view()).unwrap();
        assert!((s[0] - 4.0).abs() < 1e-14 && (s[1] - 3.0).abs() < 1e-14);
        assert_eq!(numerical_rank(&s, 3, 2), 2);
    }

    #[test]
    fn rank_ignores_rounding_level_singular_values() {
        let s = Array1::from(vec![1.0, 1e-3, 1e-17]);
        assert_eq!(numerical_rank(&s, 3, 3), 2);
        assert_eq!(numerical_rank(&Array1::zeros(0), 0, 0), 0);
    }

    #[test]
    fn a_one_by_one_block_has_its_eigenvalue_and_singular_value() {
        // A 1×1 slice has strides [0, 0] in ndarray.
        let g = ndarray::array![[2.0, 1.0], [1.0, -3.0]];
        let block = g.slice(ndarray::s![1.., 1..]);
        assert_eq!(symmetric_eigenvalues(&block).unwrap().to_vec(), vec![-3.0]);
        assert_eq!(symmetric_eigen(&block).unwrap().0.to_vec(), vec![-3.0]);
        assert_eq!(singular_values(&block).unwrap().to_vec(), vec![3.0]);
        assert_eq!(left_singular(&block).unwrap().1.to_vec(), vec![3.0]);
    }

    #[test]
    fn gemm_matches_a_hand_product_with_transposes() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        let b = array![[5.0, 6.0], [7.0, 8.0]];
        let mut c = Array2::from_elem((2, 2), 1.0);
        // C ← 2·Aᵀ·B + 1·C with Aᵀ·B = [[26, 30], [38, 44]]
        gemm(2.0, &a.t(), &b.view(), 1.0, &mut c.view_mut());
        assert_eq!(c, array![[53.0, 61.0], [77.0, 89.0]]);
    }
}
