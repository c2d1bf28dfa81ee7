//! The four engines follow the same trajectory (they are exact rewrites of one another).
//! Tolerance: losses and excess losses agree to relative 1e-10, plus an absolute rounding floor of
//! 1e-13·(L(W0) − L*) below which the different summation orders of the engines decide the digits
//! (it matters only for noiseless data, whose loss itself goes to zero).

use crate::common;

use common::{close, run};
use linres::engine::EngineKind;
use linres::train::{RunOutcome, Status, train, train_with};

fn curves_agree(a: &RunOutcome, b: &RunOutcome) {
    assert_eq!(a.curve.len(), b.curve.len());
    let floor = 1e-13 * a.theory.excess0;
    for (p, q) in a.curve.iter().zip(&b.curve) {
        assert_eq!(p.iter, q.iter);
        assert!(
            close(p.loss, q.loss, 1e-10, floor),
            "{:?} vs {:?} at {}: loss {} vs {}",
            a.engine,
            b.engine,
            p.iter,
            p.loss,
            q.loss
        );
        assert!(
            close(p.excess, q.excess, 1e-10, floor),
            "{:?} vs {:?} at {}: excess {} vs {}",
            a.engine,
            b.engine,
            p.iter,
            p.excess,
            q.excess
        );
    }
}

fn all_pairs_agree(yaml: &str, kinds: &[EngineKind]) -> Vec<RunOutcome> {
    let r = run(yaml);
    let outs: Vec<RunOutcome> = kinds.iter().map(|&k| train_with(&r, k).unwrap()).collect();
    for (i, a) in outs.iter().enumerate() {
        assert_eq!(a.status(), Status::Done);
        assert_eq!(a.engine, kinds[i]);
        for b in &outs[i + 1..] {
            curves_agree(a, b);
        }
    }
    outs
}

const ENGINES: [EngineKind; 4] = EngineKind::ALL;

#[test]
fn gd_resnet_engines_agree_for_every_transformation() {
    for transform in ["gaussian", "identity", "modified_identity"] {
        let outs = all_pairs_agree(
            &format!(
                "master_seed: 1
                 data: {{kind: paper, d: 4, n: 60}}
                 model: {{arch: resnet, depth: 5, width: 16, transform: {transform}}}
                 optim: {{method: gd, iters: 250, step: {{rule: fixed, eta: 0.004}}}}
                 log: {{schedule: all}}"
            ),
            &ENGINES,
        );
        // The runs moved: the comparison is not between four copies of the starting point.
        let c = &outs[0].curve;
        assert!(c.last().unwrap().loss < 0.9 * c[0].loss, "{transform}: {} → {}", c[0].loss, c.last().unwrap().loss);
        assert_eq!(c.len(), 251);
    }
}

#[test]
fn gd_resnet_engines_agree_on_spectrum_data_with_k_not_d() {
    all_pairs_agree(
        "master_seed: 2
         data: {kind: spectrum, d: 5, k: 3, n: 40, kappa: 9, rank: 4, noise: 0.05}
         model: {arch: resnet, depth: 3, width: 12, transform: gaussian}
         optim: {method: gd, iters: 220, step: {rule: zou, scale: 1}}
         log: {schedule: all}",
        &ENGINES,
    );
}

#[test]
fn sgd_engines_agree_with_the_same_batches() {
    let outs = all_pairs_agree(
        "master_seed: 3
         data: {kind: paper, d: 4, n: 50}
         model: {arch: resnet, depth: 4, width: 14, transform: gaussian}
         optim: {method: sgd, batch: 7, iters: 300, step: {rule: fixed, eta: 0.0005}}
         log: {schedule: linear, points: 40}",
        &ENGINES,
    );
    assert!(outs[0].curve.last().unwrap().excess < 0.5 * outs[0].theory.excess0);
}

#[test]
fn linear_network_dense_and_gram_agree() {
    for depth in [1, 2, 4] {
        all_pairs_agree(
            &format!(
                "master_seed: 4
                 data: {{kind: spectrum, d: 5, k: 3, n: 40, kappa: 4}}
                 model: {{arch: linear, depth: {depth}, width: 20}}
                 optim: {{method: gd, iters: 200, step: {{rule: du_hu, scale: 1}}}}
                 log: {{schedule: all}}"
            ),
            &[EngineKind::Dense, EngineKind::Gram],
        );
    }
}

#[test]
fn gaussian_hidden_init_dense_and_gram_agree_and_reduced_is_refused() {
    let yaml = "master_seed: 5
         data: {kind: paper, d: 3, n: 30}
         model: {arch: resnet, depth: 3, width: 10, transform: gaussian, init_std: 0.05}
         optim: {method: gd, iters: 200, step: {rule: fixed, eta: 0.005}}
         log: {schedule: all}";
    all_pairs_agree(yaml, &[EngineKind::Dense, EngineKind::Gram]);
    let err = train_with(&run(yaml), EngineKind::ReducedGram).unwrap_err().to_string();
    assert!(err.contains("engine") && err.contains("zero-initialised ResNet"), "{err}");
}

#[test]
fn sgd_with_the_full_batch_is_exactly_gd() {
    let gd = "master_seed: 6
         data: {kind: paper, d: 3, n: 20}
         model: {arch: resnet, depth: 3, width: 8, transform: gaussian}
         optim: {method: gd, iters: 50, step: {rule: fixed, eta: 0.01}}
         log: {schedule: all}";
    let sgd = gd.replace("method: gd,", "method: sgd, batch: 20,");
    for kind in [EngineKind::Dense, EngineKind::Gram] {
        let a = train_with(&run(gd), kind).unwrap();
        let b = train_with(&run(&sgd), kind).unwrap();
        // Identical columns in identical order: the same floating-point operations. Only the
        // loss of W_t is computed differently (on samples under GD, through P under SGD).
        for (p, q) in a.curve.iter().zip(&b.curve) {
            assert!(close(p.loss, q.loss, 1e-13, 0.0), "{kind:?} at {}: {} vs {}", p.iter, p.loss, q.loss);
        }
    }
}

#[test]
fn sgd_stops_at_the_first_iteration_below_the_threshold_whatever_the_log() {
    let base = "master_seed: 7
         data: {kind: paper, d: 4, n: 50, noise: 0}
         model: {arch: resnet, depth: 3, width: 20, transform: gaussian}
         optim: {method: sgd, batch: 10, iters: 400, step: {rule: zou, scale: 2}}";
    let every = train(&run(&format!("{base}\nlog: {{schedule: all}}"))).unwrap();
    let threshold = 1e-3;
    let first =
        every.curve.iter().find(|p| p.excess <= threshold * every.theory.excess0).expect("reaches the threshold").iter;
    let sparse = base.replace("iters: 400,", &format!("iters: 400, stop_below: {threshold},"));
    let stopped = train(&run(&format!("{sparse}\nlog: {{points: 3}}"))).unwrap();
    assert_eq!(stopped.stopped_at, Some(first), "stop at the first iteration below the threshold, not at a logged one");
    assert_eq!(stopped.curve.last().unwrap().iter, first);
}
