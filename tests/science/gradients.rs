//! Analytic gradients (the chain's backward pass, dense and Gram form) against central finite
//! differences of an independently written loss: P = B(I+W_L)…(I+W_1)A or αW_L…W_1 built with
//! plain matrix products, L = ½‖PX − Y‖²_F. Tolerance: |analytic − fd| ≤ 1e-6·|fd| + 1e-7, with
//! step h = 1e-5 (the truncation error is O(h²) ≈ 1e-10 relative, rounding ≈ ε·L/h ≈ 1e-11·L).

use linres::engine::{Backward, Chain};
use linres::linalg::gemm;
use linres::random::gaussian_matrix;
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

/// One SGD step on the minibatch S of every engine moves the end-to-end matrix P by
/// −η·(n/b)·∇L_S: the gradient of the minibatch loss L_S = ½‖f(X_S) − Y_S‖², computed here by
/// central differences of the naive loss, scaled by n/b (the unbiased estimate of the full gradient).
#[test]
fn an_sgd_step_uses_the_minibatch_gradient_scaled_by_n_over_b() {
    use linres::engine::{Engine, EngineKind};
    use linres::model::{Hidden, Network};
    let yaml = "{master_seed: 9, data: {kind: paper, d: 2, n: 8}, model: {arch: resnet, depth: 2, width: 6, transform: gaussian},
                 optim: {method: sgd, batch: 3, iters: 1, step: {rule: fixed, eta: 0.01}}}";
    let run =
        serde_norway::from_str::<linres::config::RunConfig>(yaml).unwrap().resolve(std::path::Path::new(".")).unwrap();
    let setup = linres::train::Setup::new(&run).unwrap();
    let Network::Resnet { transforms: Some(transforms), hidden: Hidden::Zero { depth, width }, .. } = &setup.network
    else {
        panic!()
    };
    let batch = [1usize, 4, 6];
    let (eta, scale) = (0.01, 8.0 / 3.0);
    let xs = setup.problem.x.select(ndarray::Axis(1), &batch);
    let ys = setup.problem.y.select(ndarray::Axis(1), &batch);
    // The expected step from W = 0, by finite differences of the minibatch loss.
    let mut chain =
        Chain::resnet(transforms.a.clone(), transforms.b.clone(), vec![Array2::zeros((*width, *width)); *depth]);
    let h = 1e-6;
    let mut step = Vec::new();
    for l in 0..*depth {
        let mut g = Array2::zeros((*width, *width));
        for i in 0..*width {
            for j in 0..*width {
                chain.layers[l][[i, j]] = h;
                let up = naive_loss(&chain, &xs, &ys);
                chain.layers[l][[i, j]] = -h;
                let down = naive_loss(&chain, &xs, &ys);
                chain.layers[l][[i, j]] = 0.0;
                g[[i, j]] = (up - down) / (2.0 * h);
            }
        }
        step.push(g * (-eta * scale));
    }
    let p_of = |layers: &[Array2<f64>]| {
        let mut p = transforms.a.clone();
        for w in layers {
            p = &p + &w.dot(&p);
        }
        transforms.b.dot(&p)
    };
    let p0 = p_of(&vec![Array2::zeros((*width, *width)); *depth]);
    let expected = p_of(&step) - &p0;
    for kind in EngineKind::ALL {
        let chain = Chain::for_engine(setup.network.clone(), kind).unwrap();
        let mut engine = Engine::new(&setup.problem, chain, kind, Some(3));
        engine.step(Some(&batch), eta);
        let moved = engine.end_to_end() - &p0;
        let err = (&moved - &expected).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        let size = expected.mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        assert!(err <= 1e-6 * size, "{kind:?}: |ΔP − expected| = {err}, |expected| = {size}");
    }
}

/// ∇_{W_l} = c_l·(Out·T_L⋯T_{l+1})ᵀ R (T_{l−1}⋯T_1·In·X)ᵀ with R = F − Y, every factor formed as a
/// whole matrix with plain products (no blocks, no workspace).
fn closed_form_gradients(chain: &Chain, x: &Array2<f64>, y: &Array2<f64>) -> Vec<Array2<f64>> {
    let t: Vec<Array2<f64>> = chain
        .layers
        .iter()
        .zip(&chain.scales)
        .map(|(w, &c)| if chain.residual { Array2::eye(w.nrows()) + &(w * c) } else { w * c })
        .collect();
    let depth = t.len();
    let below = |l: usize| {
        let mut p = chain.input.clone().unwrap_or_else(|| Array2::eye(x.nrows())).dot(x);
        for tj in &t[..l] {
            p = tj.dot(&p);
        }
        p
    };
    let above = |l: usize| {
        let mut p = chain.output.clone().unwrap_or_else(|| Array2::eye(t[depth - 1].nrows()));
        for tj in t[l + 1..].iter().rev() {
            p = p.dot(tj);
        }
        p
    };
    let r = above(depth - 1).dot(&t[depth - 1]).dot(&below(depth - 1)) - y;
    (0..depth).map(|l| above(l).t().dot(&r).dot(&below(l).t()) * chain.scales[l]).collect()
}

/// Widths above the block length: every pass runs in several blocks, in parallel.
#[test]
fn gradients_of_wide_chains_split_in_blocks_match_the_closed_form() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let (d, k, m, n) = (4, 3, 150, 20);
    let x = gaussian_matrix(&mut rng, d, n, 1.0);
    let y = gaussian_matrix(&mut rng, k, n, 1.0);
    let a = gaussian_matrix(&mut rng, m, d, 0.1);
    let b = gaussian_matrix(&mut rng, k, m, 0.1);
    let resnet = Chain::resnet(a, b, (0..3).map(|_| gaussian_matrix(&mut rng, m, m, 0.05)).collect());
    let shapes = [(m, d), (m, m), (m, m), (k, m)];
    let layers = shapes.iter().map(|&(r, c)| gaussian_matrix(&mut rng, r, c, 1.0)).collect();
    let linear = Chain::linear(layers, linres::model::linear_scales(k, m, shapes.len()));
    for mut chain in [resnet, linear] {
        let expect = closed_form_gradients(&chain, &x, &y);
        for (name, got) in [("dense", dense_gradient(&mut chain, &x, &y)), ("gram", gram_gradient(&mut chain, &x, &y))]
        {
            for (l, (g, e)) in got.iter().zip(&expect).enumerate() {
                let size = e.mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
                let err = (g - e).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
                assert!(size > 0.0 && err <= 1e-12 * size, "{name} layer {}: error {err}, size {size}", l + 1);
            }
        }
    }
}
