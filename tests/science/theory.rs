//! The theory module on cases with closed forms.

use crate::common;

use common::{close, run};
use linres::config::TheoryConstants;
use linres::data::Dataset;
use linres::linalg::singular_values;
use linres::problem::Problem;
use linres::random::gaussian_matrix;
use linres::random::haar_orthonormal;
use linres::theory::{DataTheory, RunShape, TheoryFacts, TheoryReport, TransformSpectrum};
use linres::train::Setup;
use ndarray::{Array2, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn theory_of(x: Array2<f64>, y: Array2<f64>) -> (Problem, DataTheory) {
    let p = Problem::new(Dataset { x, y }).unwrap();
    let t = DataTheory::of(&p).unwrap();
    (p, t)
}

/// X (d×n) with X[i][i] = s_i and zeros elsewhere: its singular values are |s_i|.
fn diagonal_x(s: &[f64], n: usize) -> Array2<f64> {
    let mut x = Array2::zeros((s.len(), n));
    for (i, &v) in s.iter().enumerate() {
        x[[i, i]] = v;
    }
    x
}

#[test]
fn orthogonal_rows_give_kappa_one() {
    let (d, n) = (6, 40);
    let q = haar_orthonormal(&mut ChaCha8Rng::seed_from_u64(1), n, d).unwrap();
    let x = q.t().to_owned() * 3.0; // XXᵀ = 9·I
    let (_, t) = theory_of(x, Array2::zeros((2, n)));
    assert_eq!(t.rank, d);
    assert!((t.kappa - 1.0).abs() < 1e-12);
    assert!((t.sigma_max - 3.0).abs() < 1e-12 && (t.sigma_r - 3.0).abs() < 1e-12);
    assert!((t.fro_norm - 3.0 * (d as f64).sqrt()).abs() < 1e-12);
    assert!((t.stable_rank - d as f64).abs() < 1e-10);
}

#[test]
fn diagonal_spectrum_gives_its_kappa_rank_and_width_bounds() {
    let x = diagonal_x(&[4.0, 1.0, 2.0], 10);
    let (_, t) = theory_of(x, Array2::zeros((2, 10)));
    assert_eq!(t.rank, 3);
    assert_eq!((t.sigma_max, t.sigma_r), (4.0, 1.0));
    assert!((t.kappa - 16.0).abs() < 1e-12);
    assert!((t.stable_rank - 21.0 / 16.0).abs() < 1e-12);
    let constants = TheoryConstants { c_width: 2.0, ..TheoryConstants::default() };
    let facts = TheoryFacts { data: t, transform: None, loss0: 1.0, excess0: 1.0, eta: 0.01 };
    let shape =
        RunShape { arch: linres::config::Arch::Linear, method: linres::config::Method::Gd, depth: 5, width: 100 };
    let report = TheoryReport::derive(&facts, shape, &constants);
    // m_Zou = C·k·r·κ² = 2·2·3·256; m_DuHu = C·L·r·κ³·k = 2·5·3·4096·2; d + k = 5.
    assert!((report.widths.zou - 3072.0).abs() < 1e-9);
    assert!((report.widths.du_hu - 245_760.0).abs() < 1e-6);
    assert!((report.widths.zou_stable - 2.0 * 2.0 * (21.0 / 16.0) * 256.0).abs() < 1e-9);
    assert_eq!(report.widths.modified_identity, 5);
    // Du & Hu: step bound k/(2L‖X‖²) = 2/(2·5·16), rate 1 − ½ηLσ_r²/k = 1 − 0.5·0.01·5/2.
    assert!((report.eta_du_hu - 2.0 / 160.0).abs() < 1e-15);
    let h = report.du_hu.as_ref().unwrap();
    assert!((h.factor - (1.0 - 0.0125)).abs() < 1e-15);
    assert!((report.bound_at(10).unwrap() - (1.0f64 - 0.0125).powi(10)).abs() < 1e-14);
}

#[test]
fn rank_deficient_x_uses_the_smallest_nonzero_singular_value() {
    let x = diagonal_x(&[3.0, 0.0, 2.0, 0.0], 8);
    let (_, t) = theory_of(x, Array2::zeros((1, 8)));
    assert_eq!(t.rank, 2);
    assert_eq!(t.sigma_r, 2.0);
    assert!((t.kappa - 9.0 / 4.0).abs() < 1e-12);
}

#[test]
fn l_star_is_zero_for_realisable_data_and_the_noise_energy_off_the_row_space() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (d, k, n) = (4, 3, 30);
    let x = gaussian_matrix(&mut rng, d, n, 1.0);
    let w = gaussian_matrix(&mut rng, k, d, 1.0);
    let y = w.dot(&x);
    let (p, t) = theory_of(x.clone(), y.clone());
    assert!(t.l_star <= 1e-24 * y.mapv(|v| v * v).sum(), "L* = {}", t.l_star);
    assert!((&p.w_star - &w).mapv(f64::abs).iter().all(|&v| v < 1e-12));
    // Noise E orthogonal to the row space of X: L* = ½‖E‖², W* unchanged.
    let q = haar_orthonormal(&mut rng, n, n).unwrap();
    let mut basis = x.t().to_owned();
    basis.append(ndarray::Axis(1), q.view()).unwrap();
    let (qf, _) = ndarray_linalg::QR::qr(&basis).unwrap();
    let e_dir = qf.column(d).to_owned(); // orthogonal to the d columns of Xᵀ
    let e = array![[1.5], [0.0], [-2.0]].dot(&e_dir.insert_axis(ndarray::Axis(0)));
    let (p2, t2) = theory_of(x, &y + &e);
    assert!((t2.l_star - 0.5 * (1.5f64.powi(2) + 2.0f64.powi(2))).abs() < 1e-10, "{}", t2.l_star);
    assert!((&p2.w_star - &w).mapv(f64::abs).iter().all(|&v| v < 1e-10));
}

#[test]
fn spectrum_data_has_exactly_the_requested_kappa_and_rank() {
    for (kappa, rank) in [(1.0, 5), (16.0, 5), (100.0, 3)] {
        let r = run(&format!(
            "master_seed: 3
             data: {{kind: spectrum, d: 5, k: 2, n: 50, kappa: {kappa}, rank: {rank}, scale: 7}}
             model: {{arch: linear, depth: 2, width: 4}}
             optim: {{method: gd, iters: 1, step: {{rule: du_hu}}}}"
        ));
        let s = Setup::new(&r).unwrap();
        assert_eq!(s.data_theory.rank, rank);
        assert!(close(s.data_theory.kappa, kappa, 1e-10, 0.0), "κ {} vs {kappa}", s.data_theory.kappa);
        assert!(close(s.data_theory.sigma_max, 7.0, 1e-12, 0.0));
    }
}

#[test]
fn transform_spectrum_matches_the_svd_of_a_and_b() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (m, d, k, n) = (30, 4, 3, 20);
    let x = gaussian_matrix(&mut rng, d, n, 1.0);
    let a = gaussian_matrix(&mut rng, m, d, 0.3);
    let b = gaussian_matrix(&mut rng, k, m, 0.6);
    let p = Problem::new(Dataset { x: x.clone(), y: Array2::zeros((k, n)) }).unwrap();
    let t = TransformSpectrum::of(&linres::model::TransformGram::of(&a, &b), &p).unwrap();
    let sa = singular_values(&a.view()).unwrap();
    let sb = singular_values(&b.view()).unwrap();
    assert!(close(t.a_norm, sa[0], 1e-12, 0.0) && close(t.a_sigma_min, sa[d - 1], 1e-10, 0.0));
    assert!(close(t.b_norm, sb[0], 1e-12, 0.0) && close(t.b_sigma_min, sb[k - 1], 1e-10, 0.0));
    // λ_r(XᵀAᵀAX) = σ_min(AX)² (rank d here).
    let sax = singular_values(&a.dot(&x).view()).unwrap();
    assert!(close(t.ax_lambda_r, sax[d - 1].powi(2), 1e-10, 0.0));
}

#[test]
fn zou_quantities_match_the_formulas_for_scaled_modified_identity() {
    // A = α[I;0], B = β[0,I]: σ_min = ‖·‖ for both, so margin = αβσ_r²/(‖X‖√(L0 − L*)) (C = 1).
    let r = run("master_seed: 5
         data: {kind: paper, d: 3, n: 25}
         model: {arch: resnet, depth: 4, width: 6, transform: {kind: modified_identity, a_scale: 2, b_scale: 0.5}}
         optim: {method: gd, iters: 1, step: {rule: zou, scale: 0.5}}");
    let th = common::report(&r, &linres::train::initial_theory(&r).unwrap());
    let z = th.zou.as_ref().unwrap();
    let (x, s) = (th.data.sigma_max, th.data.sigma_r);
    assert!(close(z.spectrum.a_norm, 2.0, 1e-14, 0.0) && close(z.spectrum.a_sigma_min, 2.0, 1e-14, 0.0));
    assert!(close(z.spectrum.b_norm, 0.5, 1e-14, 0.0) && close(z.spectrum.b_sigma_min, 0.5, 1e-14, 0.0));
    // BA = 0, so L(W0) = ½‖Y‖².
    assert!(close(th.loss0 - th.data.l_star, th.excess0, 1e-10, 0.0));
    assert!(close(z.margin.unwrap(), 1.0 * s * s / (x * th.excess0.sqrt()), 1e-12, 0.0));
    let bracket = 1.0 / (4.0 * 1.0 * x * (th.loss0.sqrt() + x));
    assert!(close(z.eta_bracket, bracket, 1e-12, 0.0));
    assert!(close(th.eta, 0.5 * bracket, 1e-12, 0.0));
    let rho = th.eta * 4.0 * 4.0 * 0.25 * s * s / std::f64::consts::E;
    assert!(close(z.rho, rho, 1e-12, 0.0));
    assert!(close(z.iters_to_target.unwrap(), (1e-6f64).ln() / (1.0 - rho).ln(), 1e-12, 0.0));
}

#[test]
fn the_gd_theorem_covers_gd_runs_only_and_its_bracket_scales_with_c_step() {
    let base = "master_seed: 6
         data: {kind: paper, d: 10, n: 1000}
         model: {arch: resnet, depth: 10, width: 20000, transform: gaussian}
         optim: {method: gd, iters: 1, step: {rule: zou, scale: 1}}";
    let gd_run = run(base);
    let gd = common::report(&gd_run, &linres::train::initial_theory(&gd_run).unwrap());
    let z = gd.zou.as_ref().unwrap();
    assert!(z.covered && z.margin.unwrap() >= 1.0);
    let sgd_run = run(&base.replace("method: gd,", "method: sgd, batch: 100,"));
    let sgd = common::report(&sgd_run, &linres::train::initial_theory(&sgd_run).unwrap());
    assert!(!sgd.zou.as_ref().unwrap().covered, "the GD theorem does not cover SGD");
    let constants = TheoryConstants { c_step: 2.0, ..TheoryConstants::default() };
    let c2 = common::report_with(&gd_run, &linres::train::initial_theory(&gd_run).unwrap(), &constants);
    assert!(close(c2.zou.as_ref().unwrap().eta_bracket, 2.0 * z.eta_bracket, 1e-14, 0.0));
    assert_eq!(c2.eta, gd.eta, "the step rule is not the bracket constant");
}

/// What the README says of `theory.c_step`: the step of `rule: zou` is `scale` × the bracket at
/// C₁ = 1 and belongs to the run (its id and η do not move with `c_step`), while the bracket the
/// theory reports is C₁ × that, so η / bracket = scale / c_step.
#[test]
fn the_zou_rule_trains_at_c1_equal_1_and_c_step_moves_only_the_reported_bracket() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("z.yaml"),
        "name: z\nmaster_seed: 1\ndata: {kind: spectrum, d: 3, k: 2, n: 20, kappa: 4}\n\
         model: {arch: resnet, depth: 4, width: 12, transform: gaussian}\n\
         optim: {method: gd, iters: 10, step: {rule: zou, scale: 3}}\n",
    )
    .unwrap();
    let theory = |c_step: &str| -> serde_json::Value {
        let o =
            common::linres(dir.path(), &["theory", "z.yaml", "--json", "--set", &format!("theory.c_step={c_step}")]);
        assert!(o.status.success(), "{}", common::text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()[0].clone()
    };
    let (one, two) = (theory("1"), theory("2"));
    assert_eq!(one["id"], two["id"], "c_step is not part of the run");
    let eta = one["theory"]["eta"].as_f64().unwrap();
    assert_eq!(eta, two["theory"]["eta"].as_f64().unwrap(), "the step does not follow c_step");
    let bracket = |t: &serde_json::Value| t["theory"]["zou"]["eta_bracket"].as_f64().unwrap();
    assert!(close(eta / bracket(&one), 3.0, 1e-12, 0.0), "η = scale × the C₁ = 1 bracket");
    assert!(close(bracket(&two), 2.0 * bracket(&one), 1e-12, 0.0), "the bracket scales with C₁");
    assert!(close(eta / bracket(&two), 1.5, 1e-12, 0.0), "η / bracket = scale / c_step");
}
