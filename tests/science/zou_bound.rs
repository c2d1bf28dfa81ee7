//! The GD theorem of Zou et al., measured: with Gaussian transformations wide enough that the
//! condition margin is ≥ 1 (C = 1) and η at the step bracket (C₁ = 1), the excess loss stays at or
//! below (1 − ρ)^t (L(W0) − L*) at every step where that line is above 1e-12·(L(W0) − L*) (below
//! it, rounding decides the digits).

use crate::common;

use common::run;
use linres::train::{Status, train};

fn check_bound(width: usize, depth: usize, seed: u64) -> usize {
    let r = run(&format!(
        "master_seed: {seed}
         data: {{kind: paper, d: 10, n: 1000}}
         model: {{arch: resnet, depth: {depth}, width: {width}, transform: gaussian}}
         optim: {{method: gd, iters: 2000, step: {{rule: zou, scale: 1}}}}
         log: {{schedule: all}}"
    ));
    let out = train(&r).unwrap();
    assert_eq!(out.status(), Status::Done);
    let theory = common::report(&r, &out.theory);
    let z = theory.zou.as_ref().unwrap();
    let margin = z.margin.unwrap();
    assert!(margin >= 1.0, "m = {width}: the Zou condition margin is {margin} < 1: the premise does not hold");
    assert!(z.covered);
    let floor = 1e-12 * out.theory.excess0;
    let mut checked = 0;
    for p in &out.curve {
        let line = theory.bound_at(p.iter).unwrap();
        if line <= floor {
            break;
        }
        assert!(p.excess <= line, "m = {width}, t = {}: excess {} above the line {}", p.iter, p.excess, line);
        checked += 1;
    }
    checked
}

#[test]
fn excess_loss_stays_below_the_zou_line_when_the_conditions_hold() {
    for (width, depth, seed) in [(10_000, 10, 1), (100_000, 10, 2), (20_000, 30, 3)] {
        let checked = check_bound(width, depth, seed);
        assert!(checked > 20, "only {checked} steps above the rounding floor");
    }
}
