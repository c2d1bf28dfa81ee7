//! Trajectory diagnostics (`log.diagnostics`): the reduced engine reports the full network's
//! ‖W_l‖₂ and ‖∇L‖²_F (they are invariant under W_l = QV_lQᵀ), and on a run covered by the Zou
//! theorem the proof's quantities behave as it says: the PL ratio stays above
//! (2/e)·L·σ_min²(A)σ_min²(B)σ_r² and the weights stay small.

use crate::common;

use common::{close, run};
use linres::engine::EngineKind;
use linres::train::train_with;

#[test]
fn reduced_and_dense_engines_report_the_same_diagnostics() {
    let r = run("master_seed: 4
         data: {kind: paper, d: 4, n: 50}
         model: {arch: resnet, depth: 3, width: 24, transform: gaussian}
         optim: {method: gd, iters: 60, step: {rule: zou, scale: 2}}
         log: {schedule: linear, points: 7, diagnostics: true}");
    let dense = train_with(&r, EngineKind::Dense).unwrap();
    let reduced = train_with(&r, EngineKind::ReducedGram).unwrap();
    assert_eq!(dense.curve.len(), 7);
    for (p, q) in dense.curve.iter().zip(&reduced.curve) {
        let (w1, w2) = (p.max_layer_norm.unwrap(), q.max_layer_norm.unwrap());
        let (g1, g2) = (p.grad_norm2.unwrap(), q.grad_norm2.unwrap());
        // At t = 0 the weights are zero.
        assert!(close(w1, w2, 1e-9, 1e-14), "t = {}: ‖W‖ {w1} vs {w2}", p.iter);
        assert!(close(g1, g2, 1e-9, 0.0), "t = {}: ‖∇‖² {g1} vs {g2}", p.iter);
        assert!(close(p.pl_ratio.unwrap(), g1 / p.excess, 1e-12, 0.0));
    }
    assert_eq!(dense.curve[0].max_layer_norm, Some(0.0));
    assert!(dense.curve[6].max_layer_norm.unwrap() > 0.0);
}

#[test]
fn a_covered_run_keeps_the_pl_inequality_and_small_weights() {
    let depth = 10.0;
    let r = run("master_seed: 8
         data: {kind: paper, d: 10, n: 1000}
         model: {arch: resnet, depth: 10, width: 20000, transform: gaussian}
         optim: {method: gd, iters: 40, step: {rule: zou, scale: 1}}
         log: {schedule: all, diagnostics: true}");
    let out = train_with(&r, EngineKind::ReducedGram).unwrap();
    let theory = common::report(&r, &out.theory);
    let z = theory.zou.as_ref().unwrap();
    assert!(z.covered, "the premise: margin {:?}", z.margin);
    let s = &z.spectrum;
    let pl_floor = 2.0 / std::f64::consts::E
        * depth
        * s.a_sigma_min.powi(2)
        * s.b_sigma_min.powi(2)
        * out.theory.data.sigma_r.powi(2);
    for p in out.curve.iter().filter(|p| p.excess > 1e-10 * out.theory.excess0) {
        assert!(p.pl_ratio.unwrap() >= pl_floor, "t = {}: PL ratio {} < {pl_floor}", p.iter, p.pl_ratio.unwrap());
        // The proof keeps every ‖W_l‖₂ of order 1/L.
        assert!(p.max_layer_norm.unwrap() <= 1.0 / depth, "t = {}: max ‖W_l‖ = {}", p.iter, p.max_layer_norm.unwrap());
    }
}
