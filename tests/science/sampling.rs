//! `transform: {kind: gaussian, sampling: gram}` draws G = MᵀM, M = [A, Bᵀ], from its Wishart law
//! instead of drawing A and B. The tests compare its law with explicit draws of A and B (first
//! moments against the closed form, the laws of σ_min(A) and ‖B‖ by a two-sample
//! Kolmogorov–Smirnov test, with a control showing the test detects a width off by 10 %), and check
//! that the option trains, is recorded, and is refused where it cannot apply. Seeds are fixed, so
//! every statistical test is deterministic.

use crate::common;

use common::{resolve_error, run};
use linres::config::ResolvedRun;
use linres::engine::{EngineKind, plan};
use linres::linalg::symmetric_eigenvalues;
use linres::model::{Network, TransformGram};
use linres::rng::RunSeeds;
use linres::train::{train, train_with};

/// The Gram matrix of A and B of a ResNet at seed index `seed` (nothing else is built).
fn gram_of(yaml: &str, seed: u64) -> TransformGram {
    let r = run(&format!("seed: {seed}\n{yaml}"));
    let Network::Resnet { gram, .. } = Network::init(&r, &RunSeeds::derive(&r)).unwrap() else { panic!() };
    gram
}

fn resnet(m: usize, transform: &str) -> String {
    format!(
        "master_seed: 7
         data: {{kind: spectrum, d: 3, k: 2, n: 10, kappa: 2}}
         model: {{arch: resnet, depth: 2, width: {m}, transform: {transform}}}
         optim: {{method: gd, iters: 1, step: {{rule: fixed, eta: 0.001}}}}"
    )
}

/// E[G] = m·diag(σ_A² I_d, σ_B² I_k) (σ's including the scales); Var(G_ii) = 2mσ_i⁴ and
/// Var(G_ij) = mσ_i²σ_j² (i ≠ j), so the mean of N draws has standard error √(Var/N). Every entry of
/// the mean of 4000 draws must lie within 4 standard errors.
#[test]
fn the_mean_of_g_is_m_times_the_variances() {
    let (m, n) = (50usize, 4000usize);
    let yaml = resnet(m, "{kind: gaussian, sampling: gram, sigma_a2: 0.3, sigma_b2: 0.7, a_scale: 2}");
    let var = [1.2, 1.2, 1.2, 0.7, 0.7];
    let mut sum = ndarray::Array2::<f64>::zeros((5, 5));
    for seed in 0..n as u64 {
        sum += &gram_of(&yaml, seed).g;
    }
    let mean = sum / n as f64;
    for i in 0..5 {
        for j in 0..5 {
            let expect = if i == j { m as f64 * var[i] } else { 0.0 };
            let variance = if i == j { 2.0 * m as f64 * var[i] * var[i] } else { m as f64 * var[i] * var[j] };
            let se = (variance / n as f64).sqrt();
            assert!(
                (mean[[i, j]] - expect).abs() <= 4.0 * se,
                "E[G]_{i}{j}: mean of {n} draws {} vs {expect} (standard error {se})",
                mean[[i, j]]
            );
        }
    }
}

/// σ_min(A) = √λ_min(AᵀA) and ‖B‖ = √λ_max(BBᵀ) from the blocks of G.
fn sigma_min_a_and_norm_b(g: &TransformGram) -> (f64, f64) {
    let a = symmetric_eigenvalues(&g.ata()).unwrap();
    let b = symmetric_eigenvalues(&g.bbt()).unwrap();
    (a[0].sqrt(), b[b.len() - 1].sqrt())
}

/// The two-sample Kolmogorov–Smirnov statistic sup_x |F_1(x) − F_2(x)| of two samples.
fn ks_statistic(mut a: Vec<f64>, mut b: Vec<f64>) -> f64 {
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Samples of (σ_min(A), ‖B‖) at seed indices `seeds`.
fn samples(yaml: &str, seeds: std::ops::Range<u64>) -> (Vec<f64>, Vec<f64>) {
    seeds.map(|s| sigma_min_a_and_norm_b(&gram_of(yaml, s))).unzip()
}

/// With 3000 draws on each side, the 0.1 % critical value of the statistic is
/// c·√(2/3000) = 0.050 with c = √(ln(2/0.001)/2) = 1.95. Gram sampling against explicit draws must
/// stay below it; explicit draws at a width 10 % larger must exceed it (the test has the power to see
/// such an error).
#[test]
fn sigma_min_of_a_and_the_norm_of_b_follow_the_law_of_explicit_draws() {
    let n = 3000u64;
    let critical = (-(0.001f64 / 2.0).ln() / 2.0).sqrt() * (2.0 / n as f64).sqrt();
    assert!((critical - 0.0504).abs() < 1e-3);
    let t = "{kind: gaussian, SAMPLING sigma_a2: 1, sigma_b2: 1}";
    let gram = resnet(50, &t.replace("SAMPLING", "sampling: gram,"));
    let explicit = resnet(50, &t.replace("SAMPLING", ""));
    let wider = resnet(55, &t.replace("SAMPLING", ""));
    let (ga, gb) = samples(&gram, 0..n);
    let (ea, eb) = samples(&explicit, 0..n);
    let (wa, wb) = samples(&wider, 0..n);
    let (da, db) = (ks_statistic(ga.clone(), ea), ks_statistic(gb.clone(), eb));
    assert!(da < critical && db < critical, "gram vs explicit: D = {da:.4} (σ_min A), {db:.4} (‖B‖) ≥ {critical:.4}");
    let (wa, wb) = (ks_statistic(ga, wa), ks_statistic(gb, wb));
    assert!(wa > critical && wb > critical, "m = 50 vs 55 not detected: D = {wa:.4}, {wb:.4}");
}

/// Below m = d + k the Wishart law is singular; G then comes from an explicit m×(d + k) draw and has
/// rank m.
#[test]
fn below_d_plus_k_the_gram_matrix_has_rank_m() {
    let g = gram_of(&resnet(4, "{kind: gaussian, sampling: gram}"), 0);
    let eig = symmetric_eigenvalues(&g.g.view()).unwrap();
    assert!(eig[0].abs() < 1e-12 * eig[4], "{eig}");
    assert!(eig[1] > 1e-6 * eig[4], "{eig}");
}

#[test]
fn a_width_of_a_billion_trains_on_a_reduced_engine_and_says_how_it_was_sampled() {
    let r = run("master_seed: 1
         data: {kind: paper, d: 10, n: 1000}
         model: {arch: resnet, depth: 10, width: 1000000000, transform: {kind: gaussian, sampling: gram}}
         optim: {method: gd, iters: 200, step: {rule: zou, scale: 1}}");
    assert_eq!(plan(&r), EngineKind::ReducedGram);
    let out = train(&r).unwrap();
    assert!(out.seeds.transform.is_none() && out.seeds.transform_gram.is_some());
    assert_eq!(r.canonical_json()["model"]["transform"]["sampling"], "gram");
    let theory = common::report(&r, &out.theory);
    let zou = theory.zou.as_ref().unwrap();
    // ‖A‖, σ_min(A) → 1 and ‖B‖, σ_min(B) → √(m/k) as m → ∞ (σ_A² = 1/m, σ_B² = 1/k).
    assert!((zou.spectrum.a_norm - 1.0).abs() < 1e-3 && (zou.spectrum.a_sigma_min - 1.0).abs() < 1e-3, "{zou:?}");
    assert!((zou.spectrum.b_norm / 1e4 - 1.0).abs() < 1e-3, "{zou:?}");
    assert!(out.curve.last().unwrap().excess < 1e-6 * out.theory.excess0);
    // Both reduced engines follow the same trajectory.
    let other = train_with(&r, EngineKind::ReducedDense).unwrap();
    for (p, q) in out.curve.iter().zip(&other.curve) {
        assert!((p.excess - q.excess).abs() <= 1e-10 * p.excess.max(q.excess) + 1e-13 * out.theory.excess0);
    }
}

#[test]
fn explicit_sampling_is_the_default_and_leaves_the_run_id_alone() {
    let plain = run(&resnet(30, "gaussian"));
    let explicit = run(&resnet(30, "{kind: gaussian, sampling: explicit}"));
    let gram = run(&resnet(30, "{kind: gaussian, sampling: gram}"));
    assert!(plain.canonical_json()["model"]["transform"].get("sampling").is_none());
    assert_eq!(plain.id(), explicit.id());
    assert_ne!(plain.id(), gram.id());
    // Other kinds drop the field, as they drop σ_A².
    let mi = run(&resnet(30, "{kind: modified_identity, sampling: gram}"));
    assert_eq!(mi.id(), run(&resnet(30, "modified_identity")).id());
    // Full engines do not apply to a Gram-sampled run; the reduced ones do, even at m ≤ d + k.
    let narrow: ResolvedRun = run(&resnet(4, "{kind: gaussian, sampling: gram}"));
    assert!(EngineKind::ALL.iter().all(|k| k.applies_to(&narrow) == k.is_reduced()));
    assert!(plan(&narrow).is_reduced());
}

#[test]
fn sampling_gram_is_refused_where_a_and_b_are_needed() {
    for engine in ["dense", "gram"] {
        let e = resolve_error(&format!("{}\nengine: {engine}", resnet(30, "{kind: gaussian, sampling: gram}")));
        assert!(
            e.starts_with("model.transform.sampling:")
                && e.contains(&format!("engine {engine}"))
                && e.contains("reduced"),
            "{e}"
        );
    }
    let e = resolve_error(
        &resnet(30, "{kind: gaussian, sampling: gram}").replace("width: 30,", "width: 30, init_std: 0.1,"),
    );
    assert!(e.starts_with("model.transform.sampling:") && e.contains("init_std"), "{e}");
    let e = resolve_error(&resnet(30, "{kind: gaussian, sampling: wishart}"));
    assert!(e.contains("sampling") && e.contains("explicit") && e.contains("gram"), "{e}");
}

/// The binary exits with 2, names the field and writes nothing.
#[test]
fn the_command_line_refuses_a_gram_sampled_dense_run_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::linres(
        dir.path(),
        &["train", "--set", "model.transform={kind: gaussian, sampling: gram}", "--set", "engine=dense"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("model.transform.sampling") && stderr.contains("engine dense"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn export_writes_g_in_place_of_a_and_b() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&resnet(30, "{kind: gaussian, sampling: gram}"));
    let files = linres::export::inputs::export_inputs(&r, dir.path(), false).unwrap();
    assert!(files.contains(&"G.npy".to_string()) && !files.iter().any(|f| f == "A.npy" || f == "B.npy"), "{files:?}");
    let g: ndarray::Array2<f64> = ndarray_npy::read_npy(dir.path().join("G.npy")).unwrap();
    assert_eq!(g, gram_of(&resnet(30, "{kind: gaussian, sampling: gram}"), 0).g);
}
