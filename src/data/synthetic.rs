//! Synthetic training sets drawn from the `data` stream.

use ndarray::{Array1, Array2, Axis};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::Dataset;
use crate::config::{PaperData, SpectrumData, Target};
use crate::error::LinalgError;
use crate::random::{gaussian_matrix, haar_orthonormal};

/// The paper's set: x_i ~ N(0, I_d), y_i = −x_i + noise·e_i with e_i ~ N(0, I_d) (k = d).
///
/// Draws sample by sample (x_i, then e_i), so the first n′ samples of a set of size n > n′ are the
/// set of size n′.
pub fn paper(p: &PaperData, rng: &mut ChaCha8Rng) -> Dataset {
    let (d, n) = (p.d, p.n);
    let mut x = Array2::zeros((d, n));
    let mut y = Array2::zeros((d, n));
    for i in 0..n {
        for r in 0..d {
            x[[r, i]] = rng.sample::<f64, _>(StandardNormal);
        }
        for r in 0..d {
            y[[r, i]] = -x[[r, i]] + p.noise * rng.sample::<f64, _>(StandardNormal);
        }
    }
    Dataset { x, y }
}

/// The r nonzero singular values of `spectrum` data: geometric from σ_1 = scale down to
/// σ_r = scale/√κ, so that σ_1²/σ_r² = κ exactly (up to rounding).
pub fn spectrum_values(scale: f64, kappa: f64, r: usize) -> Array1<f64> {
    if r == 1 {
        return Array1::from_elem(1, scale);
    }
    Array1::from_shape_fn(r, |i| scale * kappa.powf(-(i as f64) / (2.0 * (r - 1) as f64)))
}

/// X = U_r diag(s) V_rᵀ (d×n) with U_r (d×r) and V_r (n×r) Haar-random orthonormal columns and s
/// from [`spectrum_values`]; Y = W*X + noise·E with W* either Gaussian (N(0, 1/d) entries, k×d) or −I.
///
/// Draw order: U (d×r), V (n×r), W* (k×d, Gaussian target only), E (k×n).
pub fn spectrum(p: &SpectrumData, rng: &mut ChaCha8Rng) -> Result<Dataset, LinalgError> {
    let r = p.rank.unwrap_or(p.d.min(p.n));
    let scale = p.scale.unwrap_or((p.n as f64).sqrt());
    let u = haar_orthonormal(rng, p.d, r)?;
    let v = haar_orthonormal(rng, p.n, r)?;
    let sv = spectrum_values(scale, p.kappa, r);
    let us = &u * &sv.view().insert_axis(Axis(0));
    let x = us.dot(&v.t());
    let w_star = match p.target {
        Target::Gaussian => gaussian_matrix(rng, p.k, p.d, (1.0 / p.d as f64).sqrt()),
        Target::NegIdentity => -Array2::<f64>::eye(p.d),
    };
    let mut y = w_star.dot(&x);
    if p.noise > 0.0 {
        y.scaled_add(p.noise, &gaussian_matrix(rng, p.k, p.n, 1.0));
    }
    Ok(Dataset { x, y })
}
