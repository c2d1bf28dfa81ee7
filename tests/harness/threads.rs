//! A run's result does not depend on the number of threads it runs on: every engine, trained in
//! pools of 1, 2 and 3 threads, gives byte-identical outcomes (curve, theory, seeds). The widths
//! are above the block length of `engine::blocks`, so every pass is split into several blocks.

use crate::common;

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

/// A grid of mixed widths and engines through the runner: the records written with 1, 2 and 3
/// cores are identical apart from `seconds` and `provenance`.
#[test]
fn grid_records_are_identical_for_1_2_and_3_cores() {
    let spec = "name: mixed
        master_seed: 4
        seeds: 2
        data: {kind: paper, d: 10, n: 150}
        model: {arch: resnet, depth: 3, width: [30, 150], transform: gaussian}
        optim: {method: gd, iters: 20, step: {rule: zou, scale: 1}}
        engine: [dense, gram, reduced]
        log: {points: 8}";
    let runs = linres::grid::Spec::parse(&common::dedent(spec), std::path::Path::new("mixed.yaml"), &[])
        .unwrap()
        .expand()
        .unwrap();
    let records = |jobs: usize| {
        let dir = tempfile::tempdir().unwrap();
        let store = linres::store::Store::new(dir.path(), "mixed");
        let s = linres::runner::run_grid(&store, &runs, &linres::runner::RunOptions::new(jobs), &|_, _| {}).unwrap();
        assert_eq!(s.done, 12, "{s:?}");
        common::records_in(&store.runs_dir())
    };
    let one = records(1);
    common::assert_same_records(&records(2), &one);
    common::assert_same_records(&records(3), &one);
}

/// Runs start longest first by `estimated_cost`: on one core they finish in that order.
#[test]
fn runs_start_longest_first() {
    let spec = "name: order
        master_seed: 5
        data: {kind: paper, d: 10, n: 100}
        model: {arch: resnet, depth: 2, width: [20, 90, 40, 130, 60], transform: gaussian}
        optim: {method: gd, iters: 5, step: {rule: zou, scale: 1}}
        engine: dense
        log: {points: 2}";
    let runs = linres::grid::Spec::parse(&common::dedent(spec), std::path::Path::new("order.yaml"), &[])
        .unwrap()
        .expand()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = linres::store::Store::new(dir.path(), "order");
    let finished = std::sync::Mutex::new(Vec::new());
    linres::runner::run_grid(&store, &runs, &linres::runner::RunOptions::new(1), &|r, _| {
        finished.lock().unwrap().push(r.run.config().model.width)
    })
    .unwrap();
    assert_eq!(finished.into_inner().unwrap(), vec![130, 90, 60, 40, 20]);
    let costs: Vec<f64> = runs.iter().map(|r| linres::engine::plan::estimated_cost(&r.run)).collect();
    assert!(costs[3] > costs[1] && costs[1] > costs[4], "{costs:?}");
}
