//! Grid expansion, run identity, the cache and the common-random-number rules, through the library.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::dedent;
use linres::grid::{Filter, GridRun, Spec, select};
use linres::runner::{RunEvent, RunOptions, run_grid};
use linres::store::{Lookup, Record, RecordStatus, Store};
use serde_json::json;

fn expand(yaml: &str) -> Vec<GridRun> {
    Spec::parse(&dedent(yaml), Path::new("grid.yaml"), &[]).unwrap().expand().unwrap()
}

fn ids(runs: &[GridRun]) -> BTreeSet<String> {
    runs.iter().map(|r| r.run.id()).collect()
}

const GRID: &str = "name: g
     master_seed: 7
     seeds: 2
     data: {kind: paper, d: 3, n: 30}
     model: {arch: resnet, depth: [2, 3], width: [8, 12], transform: [modified_identity, gaussian]}
     optim: {method: gd, iters: 20, step: {rule: zou, scale: 1}}";

#[test]
fn the_grid_is_the_product_of_lists_zip_groups_and_seeds() {
    let runs = expand(GRID);
    assert_eq!(runs.len(), 2 * 2 * 2 * 2);
    assert_eq!(ids(&runs).len(), 16, "every run has its own id");
    // Seeds vary fastest, the first axis slowest.
    let p: Vec<(String, serde_json::Value)> = runs[1].params.iter().cloned().collect();
    assert_eq!(
        p,
        vec![
            ("model.depth".into(), json!(2)),
            ("model.width".into(), json!(8)),
            ("model.transform".into(), json!("modified_identity")),
            ("seed".into(), json!(1)),
        ]
    );
    // A zip group varies its fields together: 3 (zip) × 2 (width) runs, not 3 × 3 × 2.
    let zipped = expand(
        "master_seed: 1
         data: {kind: paper, d: 3, n: 30}
         model: {arch: resnet, width: [8, 12], transform: gaussian}
         optim: {method: gd, step: {rule: zou}}
         zip: [{model.depth: [1, 2, 4], optim.iters: [10, 20, 40]}]",
    );
    assert_eq!(zipped.len(), 6);
    for r in &zipped {
        let c = r.run.config();
        assert_eq!(c.optim.iters, 10 * c.model.depth, "depth and iters are zipped");
    }
    // Explicit seed lists.
    let seeded = expand(&GRID.replace("seeds: 2", "seeds: [3, 5, 9]"));
    let seeds: BTreeSet<u64> = seeded.iter().map(|r| r.run.config().seed).collect();
    assert_eq!(seeds, BTreeSet::from([3, 5, 9]));
}

#[test]
fn ids_do_not_depend_on_list_order_key_order_or_the_rest_of_the_grid() {
    let base = ids(&expand(GRID));
    let reordered = ids(&expand(
        "optim: {step: {scale: 1.0, rule: zou}, iters: 20, method: gd}
         model: {transform: [gaussian, modified_identity], width: [12, 8], arch: resnet, depth: [3, 2]}
         data: {n: 30, d: 3, kind: paper}
         seeds: [1, 0]
         master_seed: 7
         name: other-name",
    ));
    assert_eq!(base, reordered);
    // One run alone has the id it has inside the grid (numbers normalised: 1 vs 1.0, 8 vs 8).
    let single = expand(
        "master_seed: 7
         seeds: [1]
         data: {kind: paper, d: 3, n: 30, noise: 0.1}
         model: {arch: resnet, depth: 3, width: 12, transform: {kind: gaussian}}
         optim: {method: gd, iters: 20, step: {rule: zou, scale: 1}}",
    );
    assert_eq!(single.len(), 1);
    assert!(base.contains(&single[0].run.id()));
    // Any change of a parameter changes the id.
    let other = expand(&GRID.replace("iters: 20", "iters: 21"));
    assert!(ids(&other).is_disjoint(&base));
}

#[test]
fn inapplicable_axes_collapse_into_one_run() {
    // A linear network has no transformation: the transform axis gives one run per width, not two.
    let runs = expand(
        "master_seed: 1
         data: {kind: paper, d: 3, n: 30}
         model: {arch: [resnet, linear], depth: 2, width: [8, 12], transform: [modified_identity, gaussian]}
         optim: {method: gd, iters: 5, step: {rule: du_hu}}",
    );
    assert_eq!(runs.len(), 4 + 2);
    // The linear runs keep no transformation among their parameters, so a filter on it skips them.
    for r in runs.iter().filter(|r| r.run.config().model.arch == linres::config::Arch::Linear) {
        assert!(r.params.iter().all(|(k, _)| k != "model.transform"), "{:?}", r.params);
    }
    let f = Filter::parse("model.transform=modified_identity").unwrap();
    let picked = select(runs, &[f]).unwrap();
    assert_eq!(picked.len(), 2);
    assert!(picked.iter().all(|r| r.run.config().model.arch == linres::config::Arch::Resnet));
}

#[test]
fn runs_of_one_seed_share_data_and_runs_of_one_width_share_transformations() {
    let runs = expand(GRID);
    let mut data: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut transforms: BTreeMap<(u64, usize, String), BTreeSet<String>> = BTreeMap::new();
    for r in &runs {
        let seeds = linres::rng::RunSeeds::derive(&r.run);
        let c = r.run.config();
        data.entry(c.seed).or_default().insert(seeds.data.to_hex());
        let key = (c.seed, c.model.width, r.run.transform().unwrap().kind.name().to_string());
        transforms.entry(key).or_default().insert(seeds.transform.unwrap().to_hex());
    }
    assert!(data.values().all(|s| s.len() == 1), "one data seed per seed index");
    assert_ne!(data[&0], data[&1]);
    // Depth varies within each (seed, width, transform) group, yet A and B are shared.
    assert!(transforms.values().all(|s| s.len() == 1));
}

#[test]
fn filters_select_by_axis_or_config_field() {
    let runs = expand(GRID);
    let f = |s: &str| Filter::parse(s).unwrap();
    assert_eq!(select(runs.clone(), &[f("model.width=8")]).unwrap().len(), 8);
    assert_eq!(select(runs.clone(), &[f("model.width=8,12"), f("seed=0")]).unwrap().len(), 8);
    assert_eq!(select(runs.clone(), &[f("model.transform=gaussian"), f("model.depth=3")]).unwrap().len(), 4);
    assert_eq!(select(runs.clone(), &[f("optim.step.rule=zou")]).unwrap().len(), 16);
    let e = select(runs, &[f("model.widht=8")]).unwrap_err().to_string();
    assert!(e.contains("unknown field `model.widht`; did you mean `model.width`?"), "{e}");
}

#[test]
fn the_cache_is_hit_missed_forced_and_retries_failures() {
    let dir = tempfile::tempdir().unwrap();
    let runs = expand(GRID);
    let store = Store::new(dir.path(), "g");
    let opts = RunOptions::new(2);
    let quiet = |_: &GridRun, _: RunEvent| {};
    let first = run_grid(&store, &runs, &opts, &quiet).unwrap();
    assert_eq!((first.done, first.cached), (16, 0));
    let mtimes: Vec<_> =
        runs.iter().map(|r| std::fs::metadata(store.record_path(&r.run.id())).unwrap().modified().unwrap()).collect();
    let second = run_grid(&store, &runs, &opts, &quiet).unwrap();
    assert_eq!((second.done, second.cached), (0, 16));
    let after: Vec<_> =
        runs.iter().map(|r| std::fs::metadata(store.record_path(&r.run.id())).unwrap().modified().unwrap()).collect();
    assert_eq!(mtimes, after, "a cached run is not rewritten");
    // --force recomputes exactly the selected runs.
    let some = &runs[..3];
    let forced = run_grid(&store, some, &RunOptions { force: true, ..RunOptions::new(1) }, &quiet).unwrap();
    assert_eq!((forced.done, forced.cached), (3, 0));
    // A failed record is retried; an unreadable file counts as missing.
    let id = runs[5].run.id();
    let Lookup::Found(rec) = store.read(&id) else { panic!() };
    let failed = Record::failed(id.clone(), rec.config.clone(), "boom".into(), 0.0, rec.provenance.clone());
    store.write(&failed).unwrap();
    assert!(matches!(store.read(&id), Lookup::Found(r) if r.status == RecordStatus::Failed));
    std::fs::write(store.record_path(&runs[6].run.id()), b"{\"format\": 1, \"id\": ").unwrap();
    assert!(matches!(store.read(&runs[6].run.id()), Lookup::Unreadable(_)));
    let third = run_grid(&store, &runs, &opts, &quiet).unwrap();
    assert_eq!((third.done, third.cached), (2, 14));
    assert!(matches!(store.read(&id), Lookup::Found(r) if r.status == RecordStatus::Done));
}

#[test]
fn a_failing_run_is_recorded_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.csv");
    std::fs::write(&data, "1,2\n3,4\n5,7\n").unwrap();
    let y = dir.path().join("y.csv");
    std::fs::write(&y, "1\n2\n3\n").unwrap();
    let spec_text = format!(
        "master_seed: 1
         data: {{kind: file, x: {}, y: {}}}
         model: {{arch: linear, depth: [1, 2], width: 3}}
         optim: {{method: gd, iters: 5, step: {{rule: du_hu}}}}",
        data.display(),
        y.display()
    );
    let runs = expand(&spec_text);
    // The data file changes after the grid was resolved: reading it now fails inside the run.
    std::fs::write(&data, "1,2\n3,x\n").unwrap();
    let store = Store::new(dir.path(), "f");
    let s = run_grid(&store, &runs, &RunOptions::new(2), &|_, _| {}).unwrap();
    assert_eq!(s.failed, 2);
    for r in &runs {
        let Lookup::Found(rec) = store.read(&r.run.id()) else { panic!("a failed run is recorded") };
        assert_eq!(rec.status, RecordStatus::Failed);
        assert!(
            rec.error.as_deref().unwrap().contains("the file changed since the configuration was read"),
            "{:?}",
            rec.error
        );
        rec.validate(&r.run.id()).unwrap();
    }
}
