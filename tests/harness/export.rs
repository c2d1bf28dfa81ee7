//! `export` round-trips: the `.npy` files and `meta.json` of a run, read back and re-trained by a
//! naive implementation written here (plain matrix products, no linres engine), reproduce the
//! run's first losses to relative 1e-10.

use crate::common;

use std::path::Path;

use common::dedent;
use linres::export::inputs::export_inputs;
use linres::grid::Spec;
use linres::runner::{RunOptions, run_grid};
use linres::store::{Lookup, Store};
use ndarray::Array2;
use ndarray_npy::read_npy;

fn product(mats: &[Array2<f64>], size: usize) -> Array2<f64> {
    mats.iter().fold(Array2::eye(size), |acc, m| m.dot(&acc))
}

/// Losses ½‖f(X) − Y‖² of `steps` GD steps from the exported start, by the textbook formulas.
fn naive_losses(dir: &Path, steps: usize) -> Vec<f64> {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let eta = meta["eta"].as_f64().unwrap();
    let depth = meta["depth"].as_u64().unwrap() as usize;
    let x: Array2<f64> = read_npy(dir.join("X.npy")).unwrap();
    let y: Array2<f64> = read_npy(dir.join("Y.npy")).unwrap();
    let (x, y) = (x.t().to_owned(), y.t().to_owned()); // d×n, k×n
    let resnet = meta["model"] == "resnet";
    let weights = |m: usize| -> Vec<Array2<f64>> {
        (1..=depth)
            .map(|l| {
                let p = dir.join(format!("W{l}.npy"));
                if p.exists() { read_npy(p).unwrap() } else { Array2::zeros((m, m)) }
            })
            .collect()
    };
    let mut losses = Vec::new();
    if resnet {
        let a: Array2<f64> = read_npy(dir.join("A.npy")).unwrap();
        let b: Array2<f64> = read_npy(dir.join("B.npy")).unwrap();
        let m = a.nrows();
        let mut w = weights(m);
        for _ in 0..=steps {
            let t: Vec<Array2<f64>> = w.iter().map(|wl| Array2::eye(m) + wl).collect();
            let r = b.dot(&product(&t, m)).dot(&a).dot(&x) - &y;
            losses.push(0.5 * r.mapv(|v| v * v).sum());
            let grads: Vec<Array2<f64>> = (0..depth)
                .map(|l| {
                    let above = b.dot(&product(&t[l + 1..], m));
                    let below = product(&t[..l], m).dot(&a);
                    above.t().dot(&r).dot(&x.t()).dot(&below.t())
                })
                .collect();
            for (wl, g) in w.iter_mut().zip(&grads) {
                wl.scaled_add(-eta, g);
            }
        }
    } else {
        let alpha = meta["alpha"].as_f64().unwrap();
        let mut w: Vec<Array2<f64>> = (1..=depth).map(|l| read_npy(dir.join(format!("W{l}.npy"))).unwrap()).collect();
        let d = x.nrows();
        for _ in 0..=steps {
            let chain = |ws: &[Array2<f64>], start: Array2<f64>| ws.iter().fold(start, |acc, m| m.dot(&acc));
            let r = chain(&w, x.clone()) * alpha - &y;
            losses.push(0.5 * r.mapv(|v| v * v).sum());
            let grads: Vec<Array2<f64>> = (0..depth)
                .map(|l| {
                    let above = chain(&w[l + 1..], Array2::eye(w[l].nrows()));
                    let below = chain(&w[..l], Array2::eye(d)).dot(&x);
                    (above.t().dot(&r).dot(&below.t())) * alpha
                })
                .collect();
            for (wl, g) in w.iter_mut().zip(&grads) {
                wl.scaled_add(-eta, g);
            }
        }
    }
    losses
}

#[test]
fn exported_inputs_reproduce_the_first_losses_of_each_model() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec::parse(
        &dedent(
            "name: e
             master_seed: 11
             data: {kind: spectrum, d: 4, k: 3, n: 25, kappa: 5, noise: 0.1}
             model: {depth: 3, width: 9, transform: gaussian}
             optim: {method: gd, iters: 5, step: {rule: du_hu, scale: 0.5}}
             log: {schedule: all}
             zip: [{model.arch: [resnet, resnet, linear], model.init_std: [0, 0.05, 0]}]",
        ),
        Path::new("e.yaml"),
        &[],
    )
    .unwrap();
    let runs = spec.expand().unwrap();
    assert_eq!(runs.len(), 3);
    let store = Store::new(dir.path(), "e");
    run_grid(&store, &runs, &RunOptions::new(1), &|_, _| {}).unwrap();
    for run in &runs {
        let out = dir.path().join(run.run.id());
        let files = export_inputs(&run.run, &out, false).unwrap();
        let x: Array2<f64> = read_npy(out.join("X.npy")).unwrap();
        assert_eq!(x.dim(), (25, 4), "X.npy is n×d");
        let Lookup::Found(rec) = store.read(&run.run.id()) else { panic!() };
        let curve = &rec.outcome.as_ref().unwrap().curve;
        let naive = naive_losses(&out, 5);
        for (p, want) in curve.iter().zip(&naive) {
            assert!((p.loss - want).abs() <= 1e-10 * want.abs(), "{files:?} at {}: {} vs {}", p.iter, p.loss, want);
        }
        assert!(naive[5] < naive[0], "the re-trained run descends");
    }
}

/// Every file in `dir` with its bytes (not the directories).
fn files_in(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn export_never_overwrites_a_file_it_did_not_write_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An experiment on the user's own data, exported next to it.
    std::fs::write(d.join("X.csv"), "1,2,3\n4,5,6\n7,8,10\n1,0,0\n0,1,1\n").unwrap();
    std::fs::write(d.join("Y.csv"), "1\n2\n3\n4\n5\n").unwrap();
    std::fs::write(d.join("X.npy"), b"the user's own X").unwrap();
    std::fs::write(
        d.join("mine.yaml"),
        "name: mine\ndata: {kind: file, x: X.csv, y: Y.csv, standardize: true}\n\
         model: {arch: resnet, depth: 2, width: 8}\noptim: {method: gd, iters: 5, step: {rule: zou}}\n",
    )
    .unwrap();
    let o = common::linres(d, &["list", "mine.yaml", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let before = files_in(d);
    let export = |npy: &str, extra: &[&str]| {
        let mut args = vec!["export", "mine.yaml", "--run", &id, "--npy", npy];
        args.extend_from_slice(extra);
        common::linres(d, &args)
    };
    let o = export(".", &[]);
    let (_, err) = common::texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("./X.npy: already exists and was not written by this export"), "{err}");
    assert!(err.contains("--force"), "the message says how to replace it: {err}");
    assert_eq!(files_in(d), before, "nothing written, the user's X.npy untouched");
    // Into a directory of its own: written; a second export there is refused (not the same call).
    let o = export("out", &[]);
    assert!(o.status.success(), "{}", common::texts(&o).1);
    let exported = files_in(&d.join("out"));
    assert!(exported.contains_key("X.npy") && exported.contains_key("meta.json"), "{:?}", exported.keys());
    std::fs::write(d.join("out/B.npy"), b"changed").unwrap();
    let o = export("out", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", common::texts(&o).1);
    assert_eq!(std::fs::read(d.join("out/B.npy")).unwrap(), b"changed");
    // --force replaces every file of the export, and only those.
    let o = export(".", &["--force"]);
    assert!(o.status.success(), "{}", common::texts(&o).1);
    let after = files_in(d);
    assert_eq!(after["X.npy"], exported["X.npy"], "the exported X replaced the user's");
    for (name, bytes) in &before {
        if name != "X.npy" {
            assert_eq!(&after[name], bytes, "{name} is not part of the export");
        }
    }
}
