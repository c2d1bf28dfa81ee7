//! Analytic gradients (the chain's backward pass, dense and Gram form) against central finite
//! differences of an independently written loss: P = B(I+W_L)…(I+W_1)A or αW_L…W_1 built with
//! plain matrix products, L = ½‖PX − Y‖²_F. Tolerance: |analytic − fd| ≤ 1e-6·|fd| + 1e-7, with
//! step h = 1e-5 (the truncation error is O(h²) ≈ 1e-10 relative, rounding ≈ ε·L/h ≈ 1e-11·L).

use linres::engine::{Backward, Chain};
use linres::linalg::gemm;
use linres::rng::gaussian_matrix;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn naive_loss(chain: &Chain, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let d = x.nrows();
    let mut p = match &chain.input {
        Some(a) => a.clone(),
        None => Array2::eye(d),
    };
    for (w, &c) in chain.layers.iter().zip(&chain.scales) {
        let t = if chain.residual { Array2::eye(w.nrows()) + &(w * c) } else { w * c };
        p = t.dot(&p);
    }
    if let Some(b) = &chain.output {
        p = b.dot(&p);
    }
    0.5 * (p.dot(x) - y).mapv(|v| v * v).sum()
}

/// ∇ from the dense kernel (R = F − Y on the samples).
fn dense_gradient(chain: &mut Chain, x: &Array2<f64>, y: &Array2<f64>) -> Vec<Array2<f64>> {
    let mut ws = chain.workspace(x.ncols());
    chain.load_input(&x.view(), &mut ws);
    chain.forward(&mut ws);
    ws.resid = &chain.output_of(&ws) - y;
    let mut grads = chain.gradient_buffers();
    chain.backward(&mut ws, Backward::Gradients(&mut grads));
    grads
}

/// ∇ from the Gram kernel (input I_d, R = PΣ − C).
fn gram_gradient(chain: &mut Chain, x: &Array2<f64>, y: &Array2<f64>) -> Vec<Array2<f64>> {
    let d = x.nrows();
    let mut ws = chain.workspace(d);
    chain.load_input(&Array2::eye(d).view(), &mut ws);
    chain.forward(&mut ws);
    let sigma = x.dot(&x.t());
    let mut resid = y.dot(&x.t());
    gemm(1.0, &chain.output_of(&ws), &sigma.view(), -1.0, &mut resid.view_mut());
    ws.resid = resid;
    let mut grads = chain.gradient_buffers();
    chain.backward(&mut ws, Backward::Gradients(&mut grads));
    grads
}

fn check_against_finite_differences(mut chain: Chain, x: &Array2<f64>, y: &Array2<f64>) {
    let dense = dense_gradient(&mut chain, x, y);
    let gram = gram_gradient(&mut chain, x, y);
    let h = 1e-5;
    let mut checked = 0;
    for l in 0..chain.layers.len() {
        let (rows, cols) = chain.layers[l].dim();
        for i in 0..rows {
            for j in 0..cols {
                let orig = chain.layers[l][[i, j]];
                chain.layers[l][[i, j]] = orig + h;
                let up = naive_loss(&chain, x, y);
                chain.layers[l][[i, j]] = orig - h;
                let down = naive_loss(&chain, x, y);
                chain.layers[l][[i, j]] = orig;
                let fd = (up - down) / (2.0 * h);
                for (name, g) in [("dense", &dense), ("gram", &gram)] {
                    let an = g[l][[i, j]];
                    assert!(
                        (an - fd).abs() <= 1e-6 * fd.abs() + 1e-7,
                        "{name} layer {} entry ({i},{j}): analytic {an}, fd {fd}",
                        l + 1
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50);
}

#[test]
fn resnet_gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (d, k, m, n, depth) = (3, 2, 5, 7, 3);
    let x = gaussian_matrix(&mut rng, d, n, 1.0);
    let y = gaussian_matrix(&mut rng, k, n, 1.0);
    let a = gaussian_matrix(&mut rng, m, d, 0.5);
    let b = gaussian_matrix(&mut rng, k, m, 0.5);
    let layers = (0..depth).map(|_| gaussian_matrix(&mut rng, m, m, 0.2)).collect();
    check_against_finite_differences(Chain::resnet(a, b, layers), &x, &y);
}

#[test]
fn linear_network_gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (d, k, m, n) = (3, 2, 4, 6);
    let x = gaussian_matrix(&mut rng, d, n, 1.0);
    let y = gaussian_matrix(&mut rng, k, n, 1.0);
    let shapes = [(m, d), (m, m), (m, m), (k, m)];
    let layers = shapes.iter().map(|&(r, c)| gaussian_matrix(&mut rng, r, c, 1.0)).collect();
    let scales = linres::model::linear_scales(k, m, shapes.len());
    // α = ∏ c_l = 1/√(m^{L−1}k)
    let alpha: f64 = scales.iter().product();
    assert!((alpha - linres::model::linear_alpha(k, 4, m)).abs() < 1e-15);
    assert!((alpha - 1.0 / ((m as f64).powi(3) * k as f64).sqrt()).abs() < 1e-15);
    check_against_finite_differences(Chain::linear(layers, scales), &x, &y);
}

#[test]
fn update_step_subtracts_eta_times_the_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (d, k, m, n, depth) = (3, 2, 5, 6, 2);
    let x = gaussian_matrix(&mut rng, d, n, 1.0);
    let y = gaussian_matrix(&mut rng, k, n, 1.0);
    let a = gaussian_matrix(&mut rng, m, d, 0.5);
    let b = gaussian_matrix(&mut rng, k, m, 0.5);
    let layers: Vec<Array2<f64>> = (0..depth).map(|_| gaussian_matrix(&mut rng, m, m, 0.2)).collect();
    let mut chain = Chain::resnet(a, b, layers.clone());
    let grads = dense_gradient(&mut chain, &x, &y);
    let eta = 0.03;
    let mut ws = chain.workspace(n);
    chain.load_input(&x.view(), &mut ws);
    chain.forward(&mut ws);
    ws.resid = &chain.output_of(&ws) - &y;
    chain.backward(&mut ws, Backward::Update { eta });
    for l in 0..depth {
        let expect = &layers[l] - &(&grads[l] * eta);
        let diff = (&chain.layers[l] - &expect).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        assert!(diff < 1e-14, "layer {}: {diff}", l + 1);
    }
}
