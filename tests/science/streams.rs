//! Named random streams: golden first draws of each stream, and the common-random-number rules
//! (which parameters a stream's seed depends on).

use crate::common;

use common::run;
use linres::rng::RunSeeds;
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

const SGD_LINEAR: &str = "master_seed: 20200302
     seed: 3
     data: {kind: paper, d: 10, n: 1000}
     model: {arch: linear, depth: 4, width: 40}
     optim: {method: sgd, batch: 50, iters: 10, step: {rule: du_hu}}";

const RESNET: &str = "master_seed: 20200302
     seed: 3
     data: {kind: paper, d: 10, n: 1000}
     model: {arch: resnet, depth: 10, width: 40, transform: gaussian, init_std: 0.01}
     optim: {method: gd, iters: 10, step: {rule: zou}}";

fn first_draws(seed: &linres::rng::StreamSeed) -> (u64, f64) {
    let mut rng = seed.rng();
    (rng.next_u64(), rng.sample::<f64, _>(StandardNormal))
}

/// Pinned when first produced: any change to the derivation (the parameters a stream hashes, the
/// canonical form, blake3) or to the generator changes these numbers, and with them every cached
/// result, so it must be deliberate (and bump `ENGINE_SALT`).
#[test]
fn first_draws_of_every_stream_are_pinned() {
    let a = RunSeeds::derive(&run(SGD_LINEAR));
    let b = RunSeeds::derive(&run(RESNET));
    let got = [
        ("data", first_draws(&a.data)),
        ("init/linear", first_draws(a.init.as_ref().unwrap())),
        ("batches", first_draws(a.batches.as_ref().unwrap())),
        ("transform", first_draws(b.transform.as_ref().unwrap())),
        ("init/resnet", first_draws(b.init.as_ref().unwrap())),
    ];
    assert_eq!(got, GOLDEN);
}

const GOLDEN: [(&str, (u64, f64)); 5] = [
    ("data", (13322345180904997922, 1.0578278993498509)),
    ("init/linear", (6642752133597736036, -0.6387907041863684)),
    ("batches", (17107057225428847314, -1.9945731990165414)),
    ("transform", (15721106553756002264, 1.0918330779530572)),
    ("init/resnet", (6807247023440415629, -0.2504223055579122)),
];

#[test]
fn streams_a_run_does_not_use_are_absent() {
    let gd_resnet = RunSeeds::derive(&run(&RESNET.replace(", init_std: 0.01", "")));
    assert!(gd_resnet.init.is_none() && gd_resnet.batches.is_none() && gd_resnet.transform.is_some());
    let linear = RunSeeds::derive(&run(SGD_LINEAR));
    assert!(linear.transform.is_none() && linear.init.is_some() && linear.batches.is_some());
}

#[test]
fn common_random_numbers_follow_the_documented_dependencies() {
    let base = RunSeeds::derive(&run(RESNET));
    // Depth and optimiser do not change data or transformations; they change nothing but init.
    let deeper = RunSeeds::derive(&run(&RESNET.replace("depth: 10", "depth: 20").replace("rule: zou", "rule: du_hu")));
    assert_eq!(base.data, deeper.data);
    assert_eq!(base.transform, deeper.transform);
    assert_ne!(base.init, deeper.init);
    // The linear network on the same seed index sees the same data.
    assert_eq!(base.data, RunSeeds::derive(&run(&SGD_LINEAR.replace("method: sgd, batch: 50", "method: gd"))).data);
    // Width and transformation change A and B but not the data.
    let wider = RunSeeds::derive(&run(&RESNET.replace("width: 40", "width: 80")));
    assert_eq!(base.data, wider.data);
    assert_ne!(base.transform, wider.transform);
    let scaled =
        RunSeeds::derive(&run(&RESNET.replace("transform: gaussian", "transform: {kind: gaussian, sigma_a2: 0.5}")));
    assert_ne!(base.transform, scaled.transform);
    // Another seed index or master seed changes everything.
    let other = RunSeeds::derive(&run(&RESNET.replace("seed: 3", "seed: 4")));
    assert_ne!(base.data, other.data);
    assert_ne!(base.transform, other.transform);
    let master = RunSeeds::derive(&run(&RESNET.replace("20200302", "1")));
    assert_ne!(base.data, master.data);
    // Batches depend on n and b only.
    let a = RunSeeds::derive(&run(SGD_LINEAR));
    let b = RunSeeds::derive(&run(&SGD_LINEAR.replace("width: 40", "width: 80")));
    assert_eq!(a.batches, b.batches);
    let c = RunSeeds::derive(&run(&SGD_LINEAR.replace("batch: 50", "batch: 60")));
    assert_ne!(a.batches, c.batches);
}
