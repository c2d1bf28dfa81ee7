//! The checks the repository's own experiment files declare: each result is of the kind the
//! issue of record gives it (a claim of the papers, a property that holds by construction, a
//! finding), and each gating check fails on records constructed to contradict it. The files are
//! loaded as committed, their grids shrunk with `--set` overrides so the runs take a moment; the
//! checks themselves are the files' own.

use crate::common::verdict;
use linres::experiment::{Experiment, Row};
use linres::grid::Spec;
use linres::grid::check::{CheckKind, CheckStatus};

/// The committed experiment file `name`.
fn file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments").join(format!("{name}.yaml"))
}

/// The committed experiment `name` with `overrides`, run into a temporary results directory.
fn declared(name: &str, overrides: &[&str]) -> (tempfile::TempDir, Experiment) {
    let dir = tempfile::tempdir().unwrap();
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let spec = Spec::load(&file(name), &overrides).unwrap();
    let exp = crate::common::computed_experiment(spec, &dir.path().join("results"));
    (dir, exp)
}

fn status(exp: &Experiment, name: &str) -> CheckStatus {
    crate::common::verdict(exp, name).status
}

fn noise(row: &Row) -> f64 {
    serde_json::to_value(&row.record.config.data).unwrap()["noise"].as_f64().unwrap_or(0.0)
}

/// Sets the final relative excess of the runs `pick` selects (their last logged point).
fn set_final_rel_excess(exp: &mut Experiment, pick: impl Fn(&Row) -> bool, rel: f64) {
    let mut n = 0;
    for row in exp.rows.iter_mut().filter(|r| pick(r)) {
        let o = row.record.outcome.as_mut().unwrap();
        let e0 = o.theory.excess0;
        o.curve.last_mut().unwrap().excess = rel * e0;
        n += 1;
    }
    assert!(n > 0, "the edit must touch some run");
}

/// Every check of every committed experiment file is of the kind the issue gives it: the listed
/// properties (by construction) and findings (extensions, or outside the theorems' conditions),
/// every `engines_agree` a property, and the rest claims.
#[test]
fn the_committed_checks_are_of_their_kinds() {
    let properties = [
        "certified_widths/certified_width_ratio_linear_in_depth",
        "width_margin/margin_grows_as_sqrt_width",
        "modified_identity/modified_identity_trajectory_independent_of_width",
        "modified_identity/scaled_modified_identity_meets_the_conditions",
    ];
    let findings = [
        "digits/modified_identity_at_d_plus_k",
        "sgd/sgd_converges_without_noise",
        "depth_fixed_eta/resnet_iterations_fall_as_one_over_depth_at_fixed_step",
    ];
    let claims = ["identity_trap/identity_trapped_without_noise", "identity_trap/identity_trap_at_least_a_quarter"];
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(file("x").parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let spec = Spec::load(&path, &[]).unwrap();
        let runs = spec.expand().unwrap();
        for c in spec.check_decls(&runs).unwrap() {
            let name = format!("{}/{}", spec.name, c.name);
            let want = if properties.contains(&name.as_str()) || c.name == "engines_agree" {
                Some(CheckKind::Property)
            } else if findings.contains(&name.as_str()) {
                Some(CheckKind::Finding)
            } else if claims.contains(&name.as_str()) {
                Some(CheckKind::Claim)
            } else {
                None
            };
            if let Some(want) = want {
                assert_eq!(c.kind, want, "{name}");
            }
            seen.push(name);
        }
    }
    for name in properties.iter().chain(&findings).chain(&claims) {
        assert!(seen.contains(&name.to_string()), "{name} is declared");
    }
}

/// The identity trap: every seed must end within [¼, 0.26] (theory: at least ¼ for even L, the
/// limit exactly ¼). A run that diverged (∞), one above 0.26 and one below ¼ each fail.
#[test]
fn the_identity_trap_fails_on_a_diverged_run_and_outside_a_quarter() {
    let (_d, exp) = declared("identity_trap", &["seeds=2", "data.n=60", "optim.iters=20", "log.points=5"]);
    let (max, min) = ("identity_trapped_without_noise", "identity_trap_at_least_a_quarter");
    let mut honest = exp.clone();
    // The committed runs end at 0.2500034–0.2500068 (10⁵ steps).
    set_final_rel_excess(&mut honest, |r| noise(r) == 0.0, 0.2500066);
    assert_eq!(status(&honest, max), CheckStatus::Pass, "{:?}", verdict(&honest, max));
    assert_eq!(status(&honest, min), CheckStatus::Pass, "{:?}", verdict(&honest, min));
    let mut diverged = honest.clone();
    let row = diverged.rows.iter_mut().find(|r| noise(r) == 0.0 && r.record.config.seed == 1).unwrap();
    row.record.outcome.as_mut().unwrap().diverged_at = Some(10);
    let v = verdict(&diverged, max);
    assert_eq!(v.status, CheckStatus::Fail, "a diverged run fails: {v:?}");
    assert!(v.measured.contains('∞'), "{v:?}");
    let mut high = honest.clone();
    set_final_rel_excess(&mut high, |r| noise(r) == 0.0 && r.record.config.seed == 0, 0.3);
    assert_eq!(status(&high, max), CheckStatus::Fail);
    let mut low = honest.clone();
    set_final_rel_excess(&mut low, |r| noise(r) == 0.0 && r.record.config.seed == 0, 0.2);
    assert_eq!(status(&low, min), CheckStatus::Fail);
}

/// Sets the excess of the runs `pick` selects at their logged point `index` to `times` × their
/// initial excess.
fn set_point(exp: &mut Experiment, pick: impl Fn(&Row) -> bool, index: usize, times: f64) {
    let mut n = 0;
    for row in exp.rows.iter_mut().filter(|r| pick(r)) {
        let o = row.record.outcome.as_mut().unwrap();
        let e0 = o.theory.excess0;
        o.curve[index].excess = times * e0;
        n += 1;
    }
    assert!(n > 0, "the edit must touch some run");
}

fn depth(row: &Row) -> usize {
    row.record.config.model.depth
}

/// The scaled modified identity at d + k: every run converges, stays under the Zou bound, and its
/// largest hidden-weight norm falls as 1/L. Each gating check fails on records edited to break it:
/// one run that stops at 1e-3, one logged point above its bound, and weight norms at L = 100 ten
/// times too large (slope about −0.5).
#[test]
fn the_scaled_modified_identity_checks_fail_on_records_that_break_them() {
    let (_d, exp) = declared("modified_identity_scaled", &["seeds=1"]);
    let gating = [
        "scaled_margin_covers_every_run",
        "modified_identity_at_d_plus_k_converges",
        "modified_identity_at_d_plus_k_zou_bound",
        "hidden_weights_shrink_as_one_over_depth",
    ];
    for name in gating {
        assert_eq!(status(&exp, name), CheckStatus::Pass, "{:?}", verdict(&exp, name));
    }
    let mut stalled = exp.clone();
    set_final_rel_excess(&mut stalled, |r| depth(r) == 100, 1e-3);
    assert_eq!(status(&stalled, "modified_identity_at_d_plus_k_converges"), CheckStatus::Fail);
    let mut above = exp.clone();
    set_point(&mut above, |r| depth(r) == 10, 3, 1.5);
    let v = verdict(&above, "modified_identity_at_d_plus_k_zou_bound");
    assert_eq!(v.status, CheckStatus::Fail, "{v:?}");
    assert!(!v.measured.contains(" 0 violations"), "{v:?}");
    let mut heavy = exp.clone();
    for row in heavy.rows.iter_mut().filter(|r| depth(r) == 100) {
        for p in &mut row.record.outcome.as_mut().unwrap().curve {
            p.max_layer_norm = p.max_layer_norm.map(|v| 10.0 * v);
        }
    }
    let v = verdict(&heavy, "hidden_weights_shrink_as_one_over_depth");
    assert_eq!(v.status, CheckStatus::Fail, "{v:?}");
}

/// Du & Hu's bound, run by run: it passes on the covered runs, fails on a point above the bound,
/// and fails (nothing to measure) when no run meets the width condition.
#[test]
fn the_du_hu_bound_fails_on_a_violation_and_without_a_covered_run() {
    let (_d, exp) = declared("du_hu_bound", &["seeds=2", "model.width=[64, 512]"]);
    let name = "du_hu_bound_run_by_run";
    let v = verdict(&exp, name);
    assert_eq!(v.status, CheckStatus::Pass, "{v:?}");
    // Width 64 is below the required width at both depths and 512 above it at both: 4 covered runs.
    assert!(v.measured.starts_with("4 covered runs"), "{v:?}");
    let mut above = exp.clone();
    set_point(&mut above, |r| r.record.config.model.width == 512 && depth(r) == 2, 2, 0.9);
    let v = verdict(&above, name);
    assert_eq!(v.status, CheckStatus::Fail, "{v:?}");
    assert!(v.measured.contains("2 violations"), "{v:?}");
    // A violation on a run outside the condition does not count.
    let mut outside = exp.clone();
    set_point(&mut outside, |r| r.record.config.model.width == 64, 2, 0.9);
    assert_eq!(status(&outside, name), CheckStatus::Pass);
    let (_d, narrow) = declared("du_hu_bound", &["seeds=1", "model.width=64"]);
    let v = verdict(&narrow, name);
    assert_eq!(v.status, CheckStatus::Fail, "{v:?}");
    assert!(v.measured.contains("no selected run meets the theorem's conditions"), "{v:?}");
}

/// `pl_over_bound`: the smallest PL ratio over (2/e)·L·σ_min²(A)σ_min²(B)σ_r², over the logged
/// points whose excess is above 1e-10 × the initial one; n/a without diagnostics. Checked on a run
/// whose PL ratios are set by hand, against the bound written out from the run's theory facts.
#[test]
fn pl_over_bound_is_the_smallest_pl_ratio_over_the_proofs_bound_above_the_rounding_floor() {
    use linres::grid::quantity::RunMeasure;
    use linres::measure::Measured;
    let (_d, exp) = declared("modified_identity_scaled", &["seeds=1", "data.n=200", "model.depth=[2, 10]"]);
    let mut row = exp.rows.iter().find(|r| depth(r) == 10).unwrap().clone();
    let z = row.theory.zou.clone().unwrap();
    let bound = 2.0 / std::f64::consts::E
        * 10.0
        * z.spectrum.a_sigma_min.powi(2)
        * z.spectrum.b_sigma_min.powi(2)
        * row.theory.data.sigma_r.powi(2);
    let o = row.record.outcome.as_mut().unwrap();
    let e0 = o.theory.excess0;
    assert!(o.curve.len() >= 4 && o.curve.iter().all(|p| p.pl_ratio.is_some()), "diagnostics are logged");
    for (i, p) in o.curve.iter_mut().enumerate() {
        p.pl_ratio = Some(bound * (3.0 + i as f64));
        p.excess = e0 * 0.5f64.powi(i as i32);
    }
    // The second point is the smallest above the floor once the first is raised; the last point,
    // below the floor, would be smaller still and is left out.
    o.curve[0].pl_ratio = Some(bound * 100.0);
    let last = o.curve.len() - 1;
    o.curve[last].excess = 1e-11 * e0;
    o.curve[last].pl_ratio = Some(bound * 0.1);
    match RunMeasure::PlOverBound.of(&row) {
        Measured::Value(v) => assert!((v - 4.0).abs() < 1e-12, "{v}"),
        other => panic!("{other:?}"),
    }
    for p in &mut row.record.outcome.as_mut().unwrap().curve {
        p.pl_ratio = None;
    }
    assert!(matches!(RunMeasure::PlOverBound.of(&row), Measured::Absent(_)), "n/a without diagnostics");
}
