//! A run's result does not depend on the number of threads it runs on: every engine, trained in
//! pools of 1, 2 and 3 threads, gives byte-identical outcomes (curve, theory, seeds). The widths
//! are above the block length of `engine::blocks`, so every pass is split into several blocks.

mod common;

use common::run;
use linres::engine::EngineKind;
use linres::train::train_with;

fn outcome_json(yaml: &str, kind: EngineKind, threads: usize) -> String {
    let r = run(yaml);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let outcome = pool.install(|| train_with(&r, kind)).unwrap();
    serde_json::to_string(&outcome).unwrap()
}

fn identical_for_1_2_3_threads(yaml: &str, kinds: &[EngineKind]) {
    for &kind in kinds {
        let one = outcome_json(yaml, kind, 1);
        for threads in [2, 3] {
            assert!(one == outcome_json(yaml, kind, threads), "{kind:?}: 1 and {threads} threads differ");
        }
    }
}

#[test]
fn resnet_gd_and_sgd_records_are_identical_for_any_thread_count() {
    let gd = "master_seed: 1
        data: {kind: paper, d: 10, n: 200}
        model: {arch: resnet, depth: 4, width: 150, transform: gaussian}
        optim: {method: gd, iters: 25, step: {rule: zou, scale: 1}}
        log: {schedule: all, diagnostics: true}";
    identical_for_1_2_3_threads(gd, &EngineKind::ALL);
    let sgd = gd.replace("method: gd,", "method: sgd, batch: 70,");
    identical_for_1_2_3_threads(&sgd, &EngineKind::ALL);
}

#[test]
fn linear_and_gaussian_init_records_are_identical_for_any_thread_count() {
    let linear = "master_seed: 2
        data: {kind: spectrum, d: 8, k: 5, n: 200, kappa: 4}
        model: {arch: linear, depth: 4, width: 150}
        optim: {method: gd, iters: 25, step: {rule: du_hu, scale: 1}}
        log: {schedule: all, diagnostics: true}";
    identical_for_1_2_3_threads(linear, &[EngineKind::Dense, EngineKind::Gram]);
    let init = "master_seed: 3
        data: {kind: paper, d: 10, n: 200}
        model: {arch: resnet, depth: 3, width: 140, transform: gaussian, init_std: 0.01}
        optim: {method: gd, iters: 25, step: {rule: zou, scale: 1}}
        log: {schedule: all}";
    identical_for_1_2_3_threads(init, &[EngineKind::Dense, EngineKind::Gram]);
}
