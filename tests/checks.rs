//! Every paper check fails on records that contradict its claim (and on records that give it
//! nothing to measure), so no check passes vacuously. Each test runs a small real grid, checks the
//! verdict on the honest records, then edits the records to break the claim.

mod common;

use std::path::Path;

use common::dedent;
use linres::check;
use linres::experiment::Experiment;
use linres::runner::{RunOptions, run_grid};
use linres::spec::Spec;

/// Runs the grid of `yaml` into a temporary results directory and loads it as an experiment.
fn experiment(yaml: &str) -> (tempfile::TempDir, Experiment) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exp.yaml");
    std::fs::write(&path, dedent(yaml)).unwrap();
    let spec = Spec::load(&path, &[]).unwrap();
    let runs = spec.expand().unwrap();
    let results = dir.path().join("results");
    run_grid(&linres::store::Store::new(&results, &spec.name), &runs, &RunOptions::new(2), &|_, _| {});
    let exp = Experiment::of(spec, &results).unwrap();
    assert_eq!(exp.missing, 0);
    (dir, exp)
}

fn set_final_rel_excess(exp: &mut Experiment, pick: impl Fn(&linres::experiment::Row) -> bool, rel: f64) {
    let mut n = 0;
    for row in exp.rows.iter_mut().filter(|r| pick(r)) {
        let o = row.record.outcome.as_mut().unwrap();
        let e0 = o.theory.excess0;
        o.curve.last_mut().unwrap().excess = rel * e0;
        n += 1;
    }
    assert!(n > 0, "the edit must touch some run");
}

fn transform(row: &linres::experiment::Row) -> &'static str {
    row.record.config.model.transform.as_ref().map(|t| t.kind.name()).unwrap_or("")
}

#[test]
fn transforms_fails_when_identity_converges_or_another_kind_stalls() {
    let (_d, exp) = experiment(
        "name: t
         master_seed: 1
         data: {kind: paper, d: 10, n: 200}
         model: {arch: resnet, depth: 4, width: [40, 200], transform: [identity, modified_identity, gaussian]}
         optim: {method: gd, iters: 800, step: {rule: fixed, eta: 5.0e-5}}
         log: {points: 20}",
    );
    assert!(check::transforms(&exp).passed(), "{:?}", check::transforms(&exp));
    let mut a = exp.clone();
    set_final_rel_excess(&mut a, |r| transform(r) == "identity" && r.record.config.model.width == 200, 1e-8);
    assert!(!check::transforms(&a).passed());
    let mut b = exp.clone();
    set_final_rel_excess(&mut b, |r| transform(r) == "gaussian" && r.record.config.seed == 0, 1e-3);
    assert!(!check::transforms(&b).passed());
    let mut c = exp.clone();
    c.rows.retain(|r| transform(r) != "identity");
    let v = check::transforms(&c);
    assert!(!v.passed() && v.measured.contains("nothing to measure"), "{v:?}");
}

#[test]
fn modified_identity_check_fails_on_a_stalled_seed_or_without_runs_at_d_plus_k() {
    let (_d, exp) = experiment(
        "name: mi
         master_seed: 1
         seeds: 2
         data: {kind: paper, d: 4, n: 50}
         model: {arch: resnet, depth: 3, width: [8, 12], transform: modified_identity}
         optim: {method: gd, iters: 300, step: {rule: zou, scale: 4}}",
    );
    assert!(check::modified_identity_narrowest(&[&exp]).passed());
    let mut a = exp.clone();
    set_final_rel_excess(&mut a, |r| r.record.config.model.width == 8 && r.record.config.seed == 1, 1e-4);
    assert!(!check::modified_identity_narrowest(&[&a]).passed());
    // Editing a run wider than d + k changes nothing.
    let mut b = exp.clone();
    set_final_rel_excess(&mut b, |r| r.record.config.model.width == 12, 1e-4);
    assert!(check::modified_identity_narrowest(&[&b]).passed());
    let mut c = exp.clone();
    c.rows.retain(|r| r.record.config.model.width != 8);
    assert!(!check::modified_identity_narrowest(&[&c]).passed());
}

#[test]
fn zou_bound_fails_on_a_violation_and_on_zero_covered_runs() {
    let (_d, exp) = experiment(
        "name: z
         master_seed: 1
         data: {kind: paper, d: 10, n: 1000}
         model: {arch: resnet, depth: 10, width: [40, 5000], transform: gaussian}
         optim: {method: gd, iters: 100, step: {rule: zou, scale: 1}}
         log: {schedule: all}",
    );
    let v = check::zou_bound(&[&exp]);
    assert!(v.passed() && v.measured.starts_with("1 covered runs"), "{v:?}");
    assert!(!v.measured.contains("bound after t = 0 1.0"), "the bound is not tight after the start: {v:?}");
    let mut a = exp.clone();
    for row in a.rows.iter_mut().filter(|r| r.record.config.model.width == 5000) {
        let bound = row.theory.bound_at(5).unwrap();
        row.record.outcome.as_mut().unwrap().curve[5].excess = 1.01 * bound;
    }
    let v = check::zou_bound(&[&a]);
    assert!(!v.passed() && v.measured.contains("1 violations"), "{v:?}");
    let mut b = exp.clone();
    b.rows.retain(|r| r.record.config.model.width == 40);
    assert!(!check::zou_bound(&[&b]).passed(), "zero covered runs is a failure");
}

const DEPTH: &str = "name: dep
     master_seed: 1
     data: {kind: paper, d: 4, n: 60}
     model: {depth: [2, 6], width: 12, transform: gaussian}
     optim: {method: gd, iters: 600}
     zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou, scale: 4}, {rule: du_hu, scale: 1}]}]";

fn set_iters(exp: &mut Experiment, arch: &str, depth: usize, iters: Option<usize>) {
    for row in exp.rows.iter_mut() {
        let c = &row.record.config;
        if serde_json::to_value(c.model.arch).unwrap() == arch && c.model.depth == depth {
            row.record.outcome.as_mut().unwrap().first_below[5] = iters;
        }
    }
}

#[test]
fn depth_checks_fail_when_the_resnet_slows_or_the_linear_network_speeds_up_with_depth() {
    let (_d, exp) = experiment(DEPTH);
    let mut a = exp.clone();
    set_iters(&mut a, "resnet", 2, Some(10));
    set_iters(&mut a, "resnet", 6, Some(25));
    assert!(!check::resnet_depth_flat(&a).passed());
    set_iters(&mut a, "resnet", 6, Some(19));
    assert!(check::resnet_depth_flat(&a).passed());
    set_iters(&mut a, "resnet", 6, None);
    assert!(!check::resnet_depth_flat(&a).passed(), "a depth that never reaches the target fails");
    let mut b = exp.clone();
    set_iters(&mut b, "linear", 2, Some(50));
    set_iters(&mut b, "linear", 6, Some(40));
    assert!(!check::linear_depth_grows(&b).passed());
    set_iters(&mut b, "linear", 6, None);
    assert!(check::linear_depth_grows(&b).passed(), "not reaching the target at depth 6 is growth");
    let mut c = exp.clone();
    c.rows.retain(|r| r.record.config.model.arch == linres::config::Arch::Resnet);
    assert!(!check::linear_depth_grows(&c).passed());
}

#[test]
fn critical_width_checks_follow_the_success_pattern() {
    let (_d, exp) = experiment(
        "name: cw
         master_seed: 1
         data: {kind: spectrum, d: 3, k: 3, n: 30, kappa: 2}
         model: {depth: [2, 8], width: [3, 6, 12, 24], transform: gaussian}
         optim: {method: gd, iters: 20}
         zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou, scale: 1}, {rule: du_hu, scale: 1}]}]
         figures:
           - {name: c, kind: critical_width, title: c, x: model.depth, series: model.arch, budget: 10}",
    );
    // Impose a success pattern: a run succeeds iff width ≥ threshold(arch, depth).
    let pattern = |exp: &mut Experiment, threshold: &dyn Fn(&str, usize) -> usize| {
        for row in exp.rows.iter_mut() {
            let c = &row.record.config;
            let arch = serde_json::to_value(c.model.arch).unwrap().as_str().unwrap().to_string();
            let ok = c.model.width >= threshold(&arch, c.model.depth);
            row.record.outcome.as_mut().unwrap().first_below[5] = ok.then_some(1);
        }
    };
    let verdicts = |exp: &Experiment| check::critical_width_depth(exp).iter().map(|o| o.passed()).collect::<Vec<_>>();
    let mut a = exp.clone();
    // ResNet 6 at both depths; linear 6 then 24: every claim holds.
    pattern(&mut a, &|arch, depth| if arch == "linear" && depth != 2 { 24 } else { 6 });
    assert_eq!(verdicts(&a), [true, true, true, true]);
    // Linear below the ResNet at depth 2: the first claim fails only.
    pattern(&mut a, &|arch, depth| {
        if arch == "resnet" {
            6
        } else if depth == 2 {
            3
        } else {
            24
        }
    });
    assert_eq!(verdicts(&a), [false, true, true, true]);
    // Linear flat and equal to the ResNet: "strictly larger at the deepest" and "grows" fail.
    pattern(&mut a, &|_, _| 6);
    assert_eq!(verdicts(&a), [true, false, false, true]);
    // ResNet jumps two grid steps (3 → 12): "flat" fails.
    pattern(&mut a, &|arch, depth| {
        if arch == "linear" {
            if depth == 2 { 12 } else { 24 }
        } else if depth == 2 {
            3
        } else {
            12
        }
    });
    assert_eq!(verdicts(&a), [true, true, true, false]);
    let mut b = exp.clone();
    b.rows.retain(|r| r.record.config.model.arch == linres::config::Arch::Resnet);
    assert!(verdicts(&b).iter().all(|p| !p));
}

#[test]
fn kappa_check_fails_on_a_quadratic_growth_and_on_too_few_kappas() {
    let (_d, exp) = experiment(
        "name: k
         master_seed: 1
         data: {kind: spectrum, d: 3, k: 3, n: 30, kappa: [1, 4, 16]}
         model: {arch: resnet, depth: 2, width: 20, transform: gaussian}
         optim: {method: gd, iters: 2000, step: {rule: zou, scale: 1}}",
    );
    let v = check::iterations_vs_kappa(&exp);
    assert!(v.passed(), "{v:?}");
    let mut a = exp.clone();
    for row in a.rows.iter_mut() {
        let linres::config::DataConfig::Spectrum(s) = &row.record.config.data else { panic!() };
        let kappa = s.kappa;
        row.record.outcome.as_mut().unwrap().first_below[5] = Some((10.0 * kappa * kappa) as usize);
    }
    let v = check::iterations_vs_kappa(&a);
    assert!(!v.passed() && v.measured.contains("slope 2.00"), "{v:?}");
    let mut b = exp.clone();
    b.rows.truncate(2);
    assert!(!check::iterations_vs_kappa(&b).passed());
}

#[test]
fn sgd_check_fails_when_a_batch_size_stalls() {
    let (_d, exp) = experiment(
        "name: s
         master_seed: 1
         data: {kind: paper, d: 4, n: 100, noise: 0}
         model: {arch: resnet, depth: 2, width: 30, transform: gaussian}
         optim: {method: sgd, batch: [10, 100], iters: 1500, step: {rule: zou, scale: 1}}
         log: {points: 10}",
    );
    assert!(check::sgd_converges(&exp).passed(), "{:?}", check::sgd_converges(&exp));
    let mut a = exp.clone();
    set_final_rel_excess(&mut a, |r| r.record.config.optim.batch == Some(10), 1e-3);
    assert!(!check::sgd_converges(&a).passed());
}

#[test]
fn engine_check_fails_on_a_corrupted_cache_and_with_nothing_to_compare() {
    let (_d, exp) = experiment(
        "name: e
         master_seed: 1
         data: {kind: paper, d: 4, n: 40}
         model: {depth: 3, width: 40, transform: gaussian}
         optim: {method: gd, iters: 400}
         log: {schedule: all}
         zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou, scale: 4}, {rule: du_hu, scale: 1}]}]",
    );
    let v = check::engines_agree(&[&exp]);
    assert!(v.passed() && v.measured.starts_with("4 re-runs compared"), "{v:?}");
    let mut a = exp.clone();
    let o = a.rows[0].record.outcome.as_mut().unwrap();
    o.curve[3].loss *= 1.0 + 1e-7;
    assert!(!check::engines_agree(&[&a]).passed());
    let mut b = exp.clone();
    for row in b.rows.iter_mut() {
        row.record.outcome.as_mut().unwrap().first_below[5] = None;
    }
    assert!(!check::engines_agree(&[&b]).passed(), "no plateau-free run: nothing compared is a failure");
}

#[test]
fn without_experiments_or_results_every_check_fails() {
    let dir = tempfile::tempdir().unwrap();
    let outcomes = check::run_all(dir.path(), &dir.path().join("results"));
    assert!(outcomes.len() >= 8);
    assert!(outcomes.iter().all(|o| !o.passed()), "{outcomes:?}");
    // With the experiment files but no results, likewise.
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let outcomes = check::run_all(&experiments, &dir.path().join("results"));
    assert!(outcomes.iter().all(|o| !o.passed() && o.measured.contains("nothing to measure")), "{outcomes:?}");
    let table = check::markdown(&outcomes);
    assert_eq!(table.lines().filter(|l| l.starts_with("| **FAIL**")).count(), outcomes.len());
}
