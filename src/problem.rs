//! What every engine and the theory need from a training set, computed once per run.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use crate::data::Dataset;
use crate::error::LinalgError;
use crate::linalg::{gemm, half_sq_dist, left_singular, numerical_rank};

/// The training set with its Gram matrices and least-squares solution.
///
/// Shapes: X d×n, Y k×n, Σ = XXᵀ d×d, C = YXᵀ k×d, W* = YX⁺ k×d, Ŷ = W*X k×n.
#[derive(Debug, Clone)]
pub struct Problem {
    pub x: Array2<f64>,
    pub y: Array2<f64>,
    /// Σ = XXᵀ (d×d).
    pub sigma: Array2<f64>,
    /// C = YXᵀ (k×d).
    pub c: Array2<f64>,
    /// W* = YX⁺ = C·U_r S_r⁻² U_rᵀ (k×d), the least-squares map.
    pub w_star: Array2<f64>,
    /// Ŷ = W*X (k×n), the best fit.
    pub y_fit: Array2<f64>,
    /// L* = ½‖W*X − Y‖²_F, the global minimum of the loss.
    pub l_star: f64,
    /// Singular values of X, descending (min(d, n) of them).
    pub singular_values: Array1<f64>,
    /// Numerical rank r of X.
    pub rank: usize,
    /// Σ^{1/2} factor F = U_r S_r (d×r): Σ = FFᵀ.
    sigma_half: Array2<f64>,
    /// Fᵀ (r×d, rows contiguous) for the excess loss.
    sigma_half_t: Array2<f64>,
}

impl Problem {
    /// Computes Σ, C, the SVD of X (left vectors only), W*, Ŷ and L*. Cost O(n·d·(d + k)).
    pub fn new(data: Dataset) -> Result<Problem, LinalgError> {
        let Dataset { x, y } = data;
        let (d, k, n) = (x.nrows(), y.nrows(), x.ncols());
        let mut sigma = Array2::zeros((d, d));
        gemm(1.0, &x.view(), &x.t(), 0.0, &mut sigma.view_mut());
        let mut c = Array2::zeros((k, d));
        gemm(1.0, &y.view(), &x.t(), 0.0, &mut c.view_mut());
        let (u, singular_values) = left_singular(&x.view())?;
        let rank = numerical_rank(&singular_values, d, n);
        let u_r = u.slice(s![.., ..rank]);
        let s_r = singular_values.slice(s![..rank]);
        let sigma_half = &u_r * &s_r.insert_axis(Axis(0));
        // W* = C U_r S_r⁻² U_rᵀ
        let inv_s2 = s_r.mapv(|v| 1.0 / (v * v));
        let cu = c.dot(&u_r) * &inv_s2.insert_axis(Axis(0));
        let w_star = cu.dot(&u_r.t());
        let y_fit = w_star.dot(&x);
        let l_star = half_sq_dist(&y_fit.view(), &y.view());
        let sigma_half_t = sigma_half.t().as_standard_layout().into_owned();
        Ok(Problem { x, y, sigma, c, w_star, y_fit, l_star, singular_values, rank, sigma_half, sigma_half_t })
    }

    /// The factor F = U_r S_r (d×r) with Σ = FFᵀ.
    pub fn sigma_half(&self) -> &Array2<f64> {
        &self.sigma_half
    }

    pub fn d(&self) -> usize {
        self.x.nrows()
    }
    pub fn k(&self) -> usize {
        self.y.nrows()
    }
    pub fn n(&self) -> usize {
        self.x.ncols()
    }

    /// Excess loss of an end-to-end map P (k×d): L(P) − L* = ½‖(P − W*) U_r S_r‖²_F
    /// = ½ tr((P − W*) Σ (P − W*)ᵀ), never negative and free of the cancellation in L(P) − L*.
    /// O(k·d·r), no allocation (it runs at every Gram step).
    pub fn excess_of(&self, p: &ArrayView2<f64>) -> f64 {
        let d = self.d();
        let ft = self.sigma_half_t.as_slice().expect("Fᵀ is contiguous");
        let w = self.w_star.as_slice().expect("W* is contiguous");
        let mut total = 0.0;
        for (a, p_row) in p.rows().into_iter().enumerate() {
            let w_row = &w[a * d..(a + 1) * d];
            for f_row in ft.chunks_exact(d) {
                let mut v = 0.0;
                for ((pi, wi), fi) in p_row.iter().zip(w_row).zip(f_row) {
                    v += (pi - wi) * fi;
                }
                total += v * v;
            }
        }
        0.5 * total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn least_squares_of_a_rank_deficient_set_matches_the_normal_equations() {
        // X has rank 2 (third row = first + second); W* must solve W*Σ = C on the row space.
        let x = array![[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 1.0, 3.0], [1.0, 1.0, 3.0, 2.0]];
        let y = array![[1.0, 2.0, 0.5, -1.0]];
        let p = Problem::new(Dataset { x: x.clone(), y: y.clone() }).unwrap();
        assert_eq!(p.rank, 2);
        let resid = p.w_star.dot(&p.sigma) - &p.c;
        assert!(resid.iter().all(|v| v.abs() < 1e-12), "{resid}");
        // W* is the minimum-norm solution: its rows lie in col(X), i.e. W* (1,1,−1)ᵀ = 0.
        assert!(p.w_star.dot(&array![1.0, 1.0, -1.0])[0].abs() < 1e-12);
        // L* equals the loss of W* computed directly, and the excess of W* itself is 0.
        let direct = 0.5 * (p.w_star.dot(&x) - &y).mapv(|v| v * v).sum();
        assert!((p.l_star - direct).abs() < 1e-12);
        assert!(p.excess_of(&p.w_star.view()) < 1e-28);
    }

    #[test]
    fn excess_of_matches_the_loss_difference() {
        let x = array![[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]];
        let y = array![[1.0, 0.0, 2.0]];
        let prob = Problem::new(Dataset { x: x.clone(), y: y.clone() }).unwrap();
        let pm = array![[0.3, -0.7]];
        let loss = 0.5 * (pm.dot(&x) - &y).mapv(|v| v * v).sum();
        assert!((prob.excess_of(&pm.view()) - (loss - prob.l_star)).abs() < 1e-12);
    }
}
