//! Declared checks (`checks:` in an experiment file) on real results: each kind of measure and test
//! passes on honest records and fails on records edited to contradict its claim; runs without a
//! result make a check INCOMPLETE; a finding never gates; nothing passes vacuously; and every
//! misuse of the section is refused when the file is loaded, naming the check and the field; a
//! property gates like a claim, the outputs group checks by kind, and a complete table is never
//! replaced by an incomplete one.

use crate::common;

use common::{dedent, verdict};
use linres::check::check_experiment;
use linres::experiment::{Experiment, Row};
use linres::grid::Spec;
use linres::grid::check::CheckStatus;

/// Runs the grid of `yaml` into a temporary results directory and loads it as an experiment.
fn experiment(yaml: &str) -> (tempfile::TempDir, Experiment) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exp.yaml");
    std::fs::write(&path, dedent(yaml)).unwrap();
    let spec = Spec::load(&path, &[]).unwrap();
    let exp = crate::common::computed_experiment(spec, &dir.path().join("results"));
    (dir, exp)
}

fn status(exp: &Experiment, name: &str) -> CheckStatus {
    crate::common::verdict(exp, name).status
}

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

/// Sets the first iteration below 1e-6 of the runs `pick` selects.
fn set_iters(exp: &mut Experiment, pick: impl Fn(&Row) -> bool, iters: Option<usize>) {
    let mut n = 0;
    for row in exp.rows.iter_mut().filter(|r| pick(r)) {
        row.record.outcome.as_mut().unwrap().first_below[5] = iters;
        n += 1;
    }
    assert!(n > 0, "the edit must touch some run");
}

fn transform(row: &Row) -> &'static str {
    row.record.config.model.transform.as_ref().map(|t| t.kind.name()).unwrap_or("")
}

fn arch(row: &Row) -> String {
    serde_json::to_value(row.record.config.model.arch).unwrap().as_str().unwrap().to_string()
}

/// Moves the runs `pick` selects to the experiment's missing runs (as if they had no result).
fn forget(exp: &mut Experiment, pick: impl Fn(&Row) -> bool) {
    let (gone, kept): (Vec<Row>, Vec<Row>) = exp.rows.drain(..).partition(|r| pick(r));
    assert!(!gone.is_empty());
    exp.rows = kept;
    exp.missing.extend(gone.into_iter().map(|r| r.run));
}

const TRANSFORMS: &str = "name: t
     master_seed: 1
     seeds: 2
     data: {kind: paper, d: 10, n: 200}
     model: {arch: resnet, depth: 4, width: [40, 200], transform: [identity, modified_identity, gaussian]}
     optim: {method: gd, iters: 800, step: {rule: fixed, eta: 5.0e-5}}
     log: {points: 20}
     checks:
       - {name: converge, claim: others converge, filter: {model.transform: [modified_identity, gaussian]},
          measure: final_rel_excess, over_seeds: max, test: {each: {at_most: 1.0e-6}}}
       - {name: stuck, claim: identity stalls, filter: {model.transform: identity},
          measure: final_rel_excess, over_seeds: min, test: {each: {at_least: 1.0e-2}}}
       - {name: stuck_finding, claim: the same as a finding, filter: {model.transform: identity},
          measure: final_rel_excess, over_seeds: min, test: {each: {at_least: 1.0e-2}}, finding: true}";

#[test]
fn each_fails_when_one_seed_breaks_the_bound_and_cells_never_pool_a_field() {
    let (_d, exp) = experiment(TRANSFORMS);
    let v = verdict(&exp, "converge");
    assert_eq!(v.status, CheckStatus::Pass, "{v:?}");
    // One cell per width and transformation (the widths are not pooled), each named in the report.
    for cell in ["m=40 modified_identity", "m=40 gaussian", "m=200 modified_identity", "m=200 gaussian"] {
        assert!(v.measured.contains(cell), "{cell} missing: {}", v.measured);
    }
    assert_eq!(status(&exp, "stuck"), CheckStatus::Pass);
    let mut a = exp.clone();
    set_final_rel_excess(&mut a, |r| transform(r) == "gaussian" && r.record.config.seed == 1, 1e-3);
    assert_eq!(status(&a, "converge"), CheckStatus::Fail, "max over seeds: one bad seed fails the cell");
    let mut b = exp.clone();
    set_final_rel_excess(&mut b, |r| transform(r) == "identity" && r.record.config.model.width == 200, 1e-8);
    assert_eq!(status(&b, "stuck"), CheckStatus::Fail);
    assert_eq!(status(&b, "stuck_finding"), CheckStatus::Finding, "a finding never gates, whatever it measures");
    // Runs without a result make the checks that select them incomplete, not passed.
    let mut c = exp.clone();
    forget(&mut c, |r| transform(r) == "identity" && r.record.config.seed == 0);
    let v = verdict(&c, "stuck");
    assert_eq!(v.status, CheckStatus::Incomplete, "{v:?}");
    assert!(v.measured.starts_with("2 of 4 selected runs have no result"), "{v:?}");
    assert!(!v.status.gates_ok());
    assert_eq!(status(&c, "converge"), CheckStatus::Pass, "a check whose runs are all there is not affected");
}

const DEPTH: &str = "name: dep
     master_seed: 1
     data: {kind: paper, d: 4, n: 60}
     model: {depth: [2, 4, 6], width: 12, transform: gaussian}
     optim: {method: gd, iters: 600}
     zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou, scale: 4}, {rule: du_hu, scale: 1}]}]
     checks:
       - {name: flat, claim: resnet flat, filter: {model.arch: resnet}, measure: iters_to_target,
          test: {spread: {x: model.depth, at_most: 2}}}
       - {name: grows, claim: linear grows, filter: {model.arch: linear}, measure: iters_to_target,
          test: {ratio: {x: model.depth, above: 1}}}
       - {name: slope, claim: slope over depth, filter: {model.arch: resnet}, measure: iters_to_target,
          test: {slope: {x: model.depth, at_least: -0.5, at_most: 0.5}}}
       - {name: versus, claim: linear slower, measure: iters_to_target,
          test: {versus: {field: model.arch, numerator: linear, denominator: resnet, above: 1}}}";

#[test]
fn tests_along_a_field_compare_the_right_cells_and_fail_on_edited_records() {
    let (_d, exp) = experiment(DEPTH);
    let depth = |r: &Row| r.record.config.model.depth;
    let mut e = exp.clone();
    // ResNet: 10, 12, 15 iterations over depth 2, 4, 6 (spread 1.5); linear: 10, 20, 40.
    for (d, it) in [(2, 10), (4, 12), (6, 15)] {
        set_iters(&mut e, |r| arch(r) == "resnet" && depth(r) == d, Some(it));
    }
    for (d, it) in [(2, 10), (4, 20), (6, 40)] {
        set_iters(&mut e, |r| arch(r) == "linear" && depth(r) == d, Some(it));
    }
    assert_eq!(status(&e, "flat"), CheckStatus::Pass, "{:?}", verdict(&e, "flat"));
    assert!(verdict(&e, "flat").measured.contains("2:10 4:12 6:15 → spread 1.5"), "{:?}", verdict(&e, "flat"));
    assert_eq!(status(&e, "grows"), CheckStatus::Pass);
    assert!(verdict(&e, "grows").measured.contains("ratio 4"), "{:?}", verdict(&e, "grows"));
    // The slope of ln(10, 12, 15) on ln(2, 4, 6), by hand: least squares.
    let (lx, ly): (Vec<f64>, Vec<f64>) =
        [(2.0f64, 10.0f64), (4.0, 12.0), (6.0, 15.0)].iter().map(|(x, y)| (x.ln(), y.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / 3.0, ly.iter().sum::<f64>() / 3.0);
    let by_hand = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>()
        / lx.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
    let shown = format!("slope {}", (by_hand * 1000.0).round() / 1000.0);
    assert!(verdict(&e, "slope").measured.contains(&shown), "{shown}: {:?}", verdict(&e, "slope"));
    assert_eq!(status(&e, "versus"), CheckStatus::Fail, "at depth 2 both take 10: the ratio 1 is not above 1");
    // Break each claim.
    let mut a = e.clone();
    set_iters(&mut a, |r| arch(r) == "resnet" && depth(r) == 6, Some(25));
    assert_eq!(status(&a, "flat"), CheckStatus::Fail, "spread 2.5");
    let mut b = e.clone();
    set_iters(&mut b, |r| arch(r) == "linear" && depth(r) == 6, Some(9));
    assert_eq!(status(&b, "grows"), CheckStatus::Fail);
    let mut c = e.clone();
    set_iters(&mut c, |r| arch(r) == "resnet" && depth(r) == 6, None);
    let v = verdict(&c, "slope");
    assert_eq!(v.status, CheckStatus::Fail, "a value never reached has no slope: {v:?}");
    let mut d = e.clone();
    set_iters(&mut d, |r| arch(r) == "linear" && depth(r) == 2, Some(11));
    assert_eq!(status(&d, "versus"), CheckStatus::Pass, "{:?}", verdict(&d, "versus"));
}

const WIDTH: &str = "name: w
     master_seed: 1
     seeds: 2
     data: {kind: spectrum, d: 3, k: 3, n: 40, kappa: 2}
     model: {depth: [2, 4], width: [6, 8, 12], transform: gaussian}
     optim: {method: gd, iters: 3000, stop_below: 1.0e-6}
     log: {points: 20}
     zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou, scale: 1}, {rule: du_hu, scale: 1}]}]
     checks:
       - {name: crit, claim: crit grows, filter: {model.arch: linear}, measure: critical_width, budget_iters: 100,
          test: {ratio: {x: model.depth, at_least: 1}}}
       - {name: crit_theory, claim: the same in theory units, filter: {model.arch: linear}, measure: critical_width,
          budget: 10, test: {ratio: {x: model.depth, at_least: 1}}}";

#[test]
fn critical_widths_are_the_smallest_width_from_which_every_wider_one_succeeds_in_half_the_seeds() {
    let (_d, exp) = experiment(WIDTH);
    let w = |r: &Row| r.record.config.model.width;
    let depth = |r: &Row| r.record.config.model.depth;
    let mut e = exp.clone();
    // Depth 2: every width succeeds (critical ≤ 6: the smallest width of the grid already sufficed).
    // Depth 4: width 6 fails in both seeds, width 8 in one seed of two (half succeed: it counts),
    // so the critical width is 8.
    set_iters(&mut e, |r| arch(r) == "linear", Some(50));
    set_iters(&mut e, |r| arch(r) == "linear" && depth(r) == 4 && w(r) == 6, Some(500));
    set_iters(&mut e, |r| arch(r) == "linear" && depth(r) == 4 && w(r) == 8 && r.record.config.seed == 0, None);
    let v = verdict(&e, "crit");
    assert_eq!(v.status, CheckStatus::Pass, "{v:?}");
    assert!(v.measured.contains("2:≤ 6 4:8 → ratio 1.33"), "{v:?}");
    // A wider width failing in both seeds moves the critical width above it; at the widest, beyond
    // the grid ("> 12", compared as ∞).
    let mut f = e.clone();
    set_iters(&mut f, |r| arch(r) == "linear" && depth(r) == 2 && w(r) == 12, None);
    let v = verdict(&f, "crit");
    assert_eq!(v.status, CheckStatus::Fail, "∞ at depth 2 over 8 at depth 4: {v:?}");
    assert!(v.measured.contains("2:> 12"), "{v:?}");
}

#[test]
fn certified_widths_compare_the_margin_one_width_with_du_and_hus_requirement() {
    let (_d, exp) = experiment(
        "name: cert
         master_seed: 2
         seeds: 2
         data: {kind: spectrum, d: 3, k: 3, n: 40, kappa: [2, 4]}
         model: {depth: [2, 4, 8], transform: {kind: gaussian, sampling: gram}}
         optim: {method: gd, iters: 1}
         zip: [{model.arch: [resnet, resnet, resnet, resnet, resnet, resnet, linear],
                model.width: [10, 100, 1000, 10000, 100000, 1000000, 10],
                optim.step: [{rule: zou}, {rule: zou}, {rule: zou}, {rule: zou}, {rule: zou}, {rule: zou}, {rule: du_hu}]}]
         checks:
           - {name: ratio_in_depth, claim: ratio linear in L, measure: certified_width,
              test: {versus: {field: model.arch, numerator: linear, denominator: resnet,
                              slope: {x: model.depth, at_least: 0.8, at_most: 1.2}}}}",
    );
    let v = verdict(&exp, "ratio_in_depth");
    assert_eq!(v.status, CheckStatus::Pass, "{v:?}");
    // Independently: Du & Hu's required width from its formula at κ = 2, L = 8, the median (mean of
    // two) over the seeds.
    let required: Vec<f64> = exp
        .rows
        .iter()
        .filter(|r| arch(r) == "linear" && r.record.config.model.depth == 8 && r.theory.data.kappa < 3.0)
        .map(|row| {
            let t = &row.theory.data;
            let (r, k, l) = (t.rank as f64, t.k as f64, 8.0f64);
            let k3 = r * t.kappa.powi(3);
            l * (k3 * k * (1.0 + t.w_star_norm.powi(2))).max(k3 * (r / 0.01f64).ln()).max(l.ln())
        })
        .collect();
    assert_eq!(required.len(), 2);
    let median = 0.5 * (required[0] + required[1]);
    // The measured text rounds to 3 significant digits (number::rounded_text, tested on its own).
    let cell = format!("κ=2 L=8: linear {} / resnet", linres::number::rounded_text(median, 3));
    assert!(v.measured.contains(&cell), "{cell}: {v:?}");
}

#[test]
fn zou_bound_fails_on_a_violation_and_on_zero_covered_runs() {
    let (_d, exp) = experiment(
        "name: b
         master_seed: 1
         data: {kind: paper, d: 10, n: 1000}
         model: {arch: resnet, depth: 10, width: [40, 5000], transform: gaussian}
         optim: {method: gd, iters: 100, step: {rule: zou, scale: 1}}
         log: {schedule: all}
         checks:
           - {name: bound, claim: the bound holds, measure: zou_bound}
           - {name: narrow, claim: no covered run, filter: {model.width: 40}, measure: zou_bound}",
    );
    let v = verdict(&exp, "bound");
    assert!(v.passed() && v.measured.starts_with("1 covered runs"), "{v:?}");
    let mut a = exp.clone();
    for row in a.rows.iter_mut().filter(|r| r.record.config.model.width == 5000) {
        let bound = row.theory.bound_at(5).unwrap();
        row.record.outcome.as_mut().unwrap().curve[5].excess = 1.01 * bound;
    }
    let v = verdict(&a, "bound");
    assert!(!v.passed() && v.measured.contains("1 violations"), "{v:?}");
    let v = verdict(&exp, "narrow");
    assert!(v.status == CheckStatus::Fail && v.measured.contains("nothing to measure"), "{v:?}");
}

#[test]
fn engines_agree_fails_on_a_tampered_curve_and_without_a_comparison() {
    let (_d, exp) = experiment(
        "name: e
         master_seed: 1
         data: {kind: paper, d: 4, n: 40}
         model: {arch: resnet, depth: 3, width: 16, transform: gaussian}
         optim: {method: gd, iters: 200, step: {rule: zou, scale: 1}}
         log: {points: 30}
         checks: [{name: agree, claim: engines agree, measure: engines_agree}]",
    );
    let v = verdict(&exp, "agree");
    assert!(v.passed() && v.measured.starts_with("3 re-runs compared"), "{v:?}");
    let mut a = exp.clone();
    a.rows[0].record.outcome.as_mut().unwrap().curve[10].loss *= 1.0 + 1e-6;
    assert!(!verdict(&a, "agree").passed());
    let mut b = exp.clone();
    set_iters(&mut b, |_| true, None);
    assert!(!verdict(&b, "agree").passed(), "no plateau-free run: nothing compared is a failure");
}

/// Every misuse of `checks:` is refused when the file is loaded, naming the check and the field.
#[test]
fn misdeclared_checks_are_refused_at_load_naming_the_check_and_field() {
    let base = "name: m\nmaster_seed: 1\ndata: {kind: paper, d: 4, n: 20}\n\
                model: {arch: resnet, depth: [2, 3], width: 8, transform: [gaussian, modified_identity]}\n\
                optim: {method: gd, iters: 10, step: {rule: zou}}\nchecks:\n";
    let cases: [(&str, &[&str]); 14] = [
        (
            "  - {name: a, claim: c, measure: nope, test: {each: {at_most: 1}}}",
            &["checks[0].measure", "`nope` is not a measure"],
        ),
        ("  - {name: a, claim: c, measure: final_rel_excess}", &["checks[0].test", "give a test"]),
        (
            "  - {name: a, claim: c, measure: zou_bound, test: {each: {at_most: 1}}}",
            &["checks[0].test", "brings its own test"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, test: {each: {}}}",
            &["checks[0].test", "at least one bound"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, test: {each: {at_most: 1}, slope: {x: model.depth, above: 0}}}",
            &["checks[0].test", "exactly one test"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, test: {slope: {x: model.width, above: 0}}}",
            &["checks[0].test", "`model.width` must take two or more values"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, test: {slope: {x: model.transform, above: 0}}}",
            &["checks[0].test", "must be numeric"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, test: {versus: {field: model.transform, numerator: identity, denominator: gaussian, above: 1}}}",
            &["checks[0].test", "never takes the value `identity`"],
        ),
        (
            "  - {name: a, claim: c, filter: {model.depth: 7}, measure: final_rel_excess, test: {each: {at_most: 1}}}",
            &["checks[0].filter", "selects no run"],
        ),
        (
            "  - {name: a, claim: c, measure: iters_to_target, target: 5.0e-7, test: {each: {at_most: 1}}}",
            &["checks[0].target", "a decade"],
        ),
        (
            "  - {name: a, claim: c, measure: critical_width, test: {each: {at_most: 1}}}",
            &["checks[0].budget", "needs one positive budget"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, budget: 3, test: {each: {at_most: 1}}}",
            &["checks[0].budget", "only critical_width"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, test: {each: {at_most: 1}}}\n  - {name: a, claim: d, measure: final_rel_excess, test: {each: {at_most: 1}}}",
            &["checks[1].name", "declared twice"],
        ),
        (
            "  - {name: a, claim: c, measure: final_rel_excess, colour: red, test: {each: {at_most: 1}}}",
            &["checks[0]", "unknown field `colour`"],
        ),
    ];
    for (check, parts) in cases {
        let text = format!("{base}{check}\n");
        let spec = Spec::parse(&text, std::path::Path::new("m.yaml"), &[]).unwrap();
        let runs = spec.expand().unwrap();
        let e = spec.check_decls(&runs).expect_err(check).to_string();
        assert!(e.starts_with("m.yaml:"), "the position is given: {e}");
        for p in parts {
            assert!(e.contains(p), "`{p}` missing from: {e}\n(for {check})");
        }
    }
}

/// Through the binary: `linres check SPEC` exits 0 on PASS and findings, 1 on FAIL or INCOMPLETE,
/// 2 on a misdeclared check (before anything runs), and `run`, `list`, `plot` and `status` refuse
/// such a file too.
#[test]
fn the_check_command_gates_on_fail_and_incomplete_but_not_on_findings() {
    let dir = tempfile::tempdir().unwrap();
    let linres = |args: &[&str]| common::linres(dir.path(), args);
    std::fs::write(dir.path().join("t.yaml"), dedent(TRANSFORMS)).unwrap();
    let o = linres(&["check", "t.yaml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "nothing has run: INCOMPLETE gates: {out}");
    assert!(out.contains("INCOMPLETE t/converge") && out.contains("8 of 8 selected runs have no result"), "{out}");
    assert!(linres(&["run", "t.yaml", "-q"]).status.success());
    let o = linres(&["check", "t.yaml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("PASS t/converge") && out.contains("FINDING t/stuck_finding"), "{out}");
    assert!(out.contains("3 checks: 2 passed, 0 failed, 0 incomplete, 1 findings"), "{out}");
    // A threshold nothing can meet fails the gate; a finding with the same threshold would not.
    let strict = dedent(TRANSFORMS).replace("at_most: 1.0e-6", "at_most: 1.0e-300");
    std::fs::write(dir.path().join("t.yaml"), strict).unwrap();
    assert_eq!(linres(&["check", "t.yaml"]).status.code(), Some(1));
    let broken =
        dedent(TRANSFORMS).replace("measure: final_rel_excess, over_seeds: max", "measure: nope, over_seeds: max");
    std::fs::write(dir.path().join("bad.yaml"), broken.replace("name: t", "name: bad")).unwrap();
    for cmd in ["check", "run", "list", "plot", "status"] {
        let o = linres(&[cmd, "bad.yaml"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("checks[0].measure"));
    }
    assert!(!dir.path().join("results/bad").exists(), "nothing is written for a misdeclared file");
    assert!(!dir.path().join("figures/bad").exists(), "no figure is drawn for a misdeclared file");
}

/// A resnet grid over depth × width whose checks all measure `theory.zou_margin`, one test kind
/// each, with bounds every cell meets while the margins are equal.
const MARGINS: &str = "name: na
     master_seed: 1
     data: {kind: paper, d: 4, n: 40}
     model: {arch: resnet, depth: [2, 4, 6], width: [12, 24], transform: gaussian}
     optim: {method: gd, iters: 5, step: {rule: zou}}
     log: {points: 3}
     checks:
       - {name: each, claim: c, measure: theory.zou_margin, test: {each: {at_least: 1, at_most: 10}}}
       - {name: spread, claim: c, measure: theory.zou_margin, test: {spread: {x: model.depth, at_most: 2}}}
       - {name: ratio, claim: c, measure: theory.zou_margin, test: {ratio: {x: model.depth, at_most: 2}}}
       - {name: slope, claim: c, measure: theory.zou_margin, test: {slope: {x: model.depth, at_least: -1, at_most: 1}}}
       - {name: versus, claim: c, measure: theory.zou_margin,
          test: {versus: {field: model.width, numerator: 24, denominator: 12, at_most: 2}}}
       - {name: versus_slope, claim: c, measure: theory.zou_margin,
          test: {versus: {field: model.width, numerator: 24, denominator: 12, slope: {x: model.depth, at_least: -1, at_most: 1}}}}";

const MARGIN_CHECKS: [&str; 6] = ["each", "spread", "ratio", "slope", "versus", "versus_slope"];

/// Sets the Zou margin of the runs `pick` selects (`None`: the run has no margin, a cell n/a).
fn set_margin(exp: &mut Experiment, pick: impl Fn(&Row) -> bool, margin: Option<f64>) {
    let mut n = 0;
    for row in exp.rows.iter_mut().filter(|r| pick(r)) {
        row.theory.zou.as_mut().unwrap().margin = margin;
        n += 1;
    }
    assert!(n > 0, "the edit must touch some run");
}

fn at(depth: usize, width: usize) -> impl Fn(&Row) -> bool {
    move |r: &Row| r.record.config.model.depth == depth && r.record.config.model.width == width
}

/// One rule for a cell without a finite value, whatever the test: a cell without a value (n/a)
/// fails every gating test and is named; ∞ is a value, which fails an upper bound and leaves a
/// log–log slope undefined (a failure naming it).
#[test]
fn a_cell_without_a_value_or_an_infinite_one_fails_every_kind_of_test_and_is_named() {
    let (_d, exp) = experiment(MARGINS);
    let mut even = exp.clone();
    set_margin(&mut even, |_| true, Some(1.5));
    for name in MARGIN_CHECKS {
        assert_eq!(
            status(&even, name),
            CheckStatus::Pass,
            "equal margins meet every bound: {:?}",
            verdict(&even, name)
        );
    }
    // n/a in the middle of the depths at width 12 (spread used to skip it and pass; the ratio, which
    // reads the ends, used not to see it).
    let mut na = even.clone();
    set_margin(&mut na, at(4, 12), None);
    for name in MARGIN_CHECKS {
        let v = verdict(&na, name);
        assert_eq!(v.status, CheckStatus::Fail, "a cell without a value fails `{name}`: {v:?}");
        assert!(v.measured.contains("n/a"), "`{name}` names the cell without a value: {v:?}");
    }
    assert!(
        verdict(&na, "spread").measured.contains("m=12: 2:1.5 4:n/a 6:1.5 → no spread"),
        "{:?}",
        verdict(&na, "spread")
    );
    assert!(verdict(&na, "each").measured.contains("L=4 m=12 n/a"), "{:?}", verdict(&na, "each"));
    // ∞ at the widest, deepest cell: above every upper bound, and no log–log slope through it.
    let mut inf = even.clone();
    set_margin(&mut inf, at(6, 24), Some(f64::INFINITY));
    for name in MARGIN_CHECKS {
        let v = verdict(&inf, name);
        assert_eq!(v.status, CheckStatus::Fail, "∞ fails `{name}`: {v:?}");
        assert!(v.measured.contains('∞'), "`{name}` names the infinite cell: {v:?}");
    }
    assert!(verdict(&inf, "slope").measured.contains("6:∞ → no slope"), "{:?}", verdict(&inf, "slope"));
    // No cell with a value: nothing is compared, and every test fails.
    let mut nan_everywhere = even.clone();
    set_margin(&mut nan_everywhere, |_| true, None);
    for name in MARGIN_CHECKS {
        assert_eq!(status(&nan_everywhere, name), CheckStatus::Fail, "{:?}", verdict(&nan_everywhere, name));
    }
}

/// A `versus` compares the cells of its two sides in every group of the selected cells: a group
/// without one of them fails (it used to be skipped silently).
#[test]
fn a_versus_group_without_one_of_its_sides_fails_and_is_named() {
    let (_d, exp) = experiment(MARGINS);
    let mut e = exp.clone();
    set_margin(&mut e, |_| true, Some(1.5));
    e.rows.retain(|r| !at(4, 12)(r));
    for name in ["versus", "versus_slope"] {
        let v = verdict(&e, name);
        assert_eq!(v.status, CheckStatus::Fail, "{name}: {v:?}");
        assert!(v.measured.contains("L=4: no cell with model.width = 12"), "{name}: {v:?}");
    }
}

/// Writes `yaml` as `c.yaml` in a fresh directory, runs `linres <cmd> c.yaml`, and returns the
/// exit code and stderr after asserting that nothing was written.
fn load_refusal(yaml: &str, cmd: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), yaml).unwrap();
    let o = common::linres(dir.path(), &[cmd, "c.yaml"]);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("c.yaml")], "nothing is written for a refused file");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

const SMALL: &str = "name: c\nmaster_seed: 1\ndata: {kind: spectrum, d: 3, k: 3, n: 30, kappa: 2, noise: [0, 0.5]}\n\
                     model: {arch: resnet, depth: [2, 3], width: 8, transform: gaussian}\n\
                     optim: {method: gd, iters: 5, step: {rule: zou}}\nchecks:\n";

/// Bounds no number can meet are refused at load (they would always FAIL), naming the test.
#[test]
fn bounds_that_admit_no_value_are_refused_at_load_naming_the_test() {
    let cases = [
        ("each: {at_least: 5, at_most: 1}", "checks[0].test.each", "at_least 5 and at_most 1"),
        ("each: {above: 3, below: 3}", "checks[0].test.each", "above 3 and below 3"),
        ("each: {above: 2, at_most: 2}", "checks[0].test.each", "above 2 and at_most 2"),
        ("each: {at_least: 2, below: 2}", "checks[0].test.each", "at_least 2 and below 2"),
        ("each: {above: .inf}", "checks[0].test.each", "above inf"),
        ("each: {below: -.inf}", "checks[0].test.each", "below -inf"),
        ("slope: {x: model.depth, at_least: 1, at_most: 0.5}", "checks[0].test.slope", "at_least 1 and at_most 0.5"),
        (
            "versus: {field: model.depth, numerator: 3, denominator: 2, slope: {x: data.noise, above: 1.0e-300, below: 1.0e-301}}",
            "checks[0].test.versus.slope",
            "above 1e-300 and below 1e-301",
        ),
    ];
    for (test, field, bounds) in cases {
        let yaml = format!("{SMALL}  - {{name: a, claim: c, measure: theory.kappa, test: {{{test}}}}}\n");
        for cmd in ["check", "list"] {
            let (code, err) = load_refusal(&yaml, cmd);
            assert_eq!(code, Some(2), "{cmd} {test}: {err}");
            for part in [field, bounds, "no number meets"] {
                assert!(err.contains(part), "`{part}` missing for {test}: {err}");
            }
        }
    }
}

/// The sides of a `versus` are compared with the grid's values as `--filter` compares them
/// (numbers as numbers): `denominator: 0.0` is the grid's `0`, `numerator: 5.0e-1` its `0.5`.
#[test]
fn versus_sides_are_the_grids_values_compared_as_numbers() {
    let (_d, exp) = experiment(&format!(
        "{SMALL}  - {{name: v, claim: c, measure: theory.kappa, test: {{versus: {{field: data.noise, numerator: 5.0e-1, denominator: 0.0, at_least: 0.99, at_most: 1.01}}}}}}"
    ));
    let v = verdict(&exp, "v");
    assert_eq!(v.status, CheckStatus::Pass, "κ does not depend on the noise: {v:?}");
    assert!(v.measured.contains("L=2: 0.5 2 / 0 2 = 1"), "the grid's texts of both sides: {v:?}");
    assert!(v.threshold.contains("data.noise = 0.5 over data.noise = 0"), "{v:?}");
    // A value the grid does not take is still refused.
    let yaml = format!(
        "{SMALL}  - {{name: v, claim: c, measure: theory.kappa, test: {{versus: {{field: data.noise, numerator: 0.7, denominator: 0, above: 0}}}}}}\n"
    );
    let (code, err) = load_refusal(&yaml, "check");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("checks[0].test") && err.contains("never takes the value `0.7`"), "{err}");
}

/// A field no run of the grid has is "unknown", with the nearest field that exists, wherever a
/// check names a field (filter keys, the field a test compares along).
#[test]
fn unknown_fields_in_checks_are_named_with_the_nearest_field() {
    let cases = [
        (
            "{name: a, claim: c, filter: {model.bogus: 7}, measure: theory.kappa, test: {each: {above: 0}}}",
            "checks[0].filter.model.bogus",
            "unknown field `model.bogus`",
        ),
        (
            "{name: a, claim: c, filter: {model.dpeth: 2}, measure: theory.kappa, test: {each: {above: 0}}}",
            "checks[0].filter.model.dpeth",
            "did you mean `model.depth`?",
        ),
        (
            "{name: a, claim: c, measure: theory.kappa, test: {slope: {x: data.kapa, above: 0}}}",
            "checks[0].test.slope.x",
            "unknown field `data.kapa`; did you mean `data.kappa`?",
        ),
        (
            "{name: a, claim: c, measure: theory.kappa, test: {versus: {field: data.nosie, numerator: 0, denominator: 0.5, above: 0}}}",
            "checks[0].test.versus.field",
            "did you mean `data.noise`?",
        ),
        (
            "{name: a, claim: c, measure: theory.kappa, test: {versus: {field: data.noise, numerator: 0, denominator: 0.5, slope: {x: model.detph, above: 0}}}}",
            "checks[0].test.versus.slope.x",
            "did you mean `model.depth`?",
        ),
    ];
    for (check, field, message) in cases {
        let (code, err) = load_refusal(&format!("{SMALL}  - {check}\n"), "check");
        assert_eq!(code, Some(2), "{check}: {err}");
        assert!(err.contains(field) && err.contains(message), "`{field}`, `{message}` for {check}: {err}");
        assert!(!err.contains("selects no run"), "{err}");
    }
}

/// Control characters in a check's displayed text (its claim) are refused at load, naming it; a
/// claim with other Unicode is accepted.
#[test]
fn control_characters_in_a_claim_are_refused_at_load() {
    for (claim, shown) in [("\"a\\0b\"", "U+0000"), ("\"a\\nb | FAIL |\"", "U+000A"), ("\"a\\e[31mb\"", "U+001B")] {
        let yaml =
            format!("{SMALL}  - {{name: a, claim: {claim}, measure: theory.kappa, test: {{each: {{above: 0}}}}}}\n");
        let (code, err) = load_refusal(&yaml, "check");
        assert_eq!(code, Some(2), "{claim}: {err}");
        assert!(err.contains("checks[0].claim") && err.contains("control character") && err.contains(shown), "{err}");
    }
    let yaml =
        format!("{SMALL}  - {{name: a, claim: \"κ ≥ 1 — ok\", measure: theory.kappa, test: {{each: {{above: 0}}}}}}\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), yaml).unwrap();
    let o = common::linres(dir.path(), &["list", "c.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A check's threshold writes tiny numbers in exponent notation (`linres check` prints it).
#[test]
fn a_check_threshold_writes_tiny_numbers_in_exponent_notation() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "{SMALL}  - {{name: a, claim: c, measure: critical_width, budget: 1.0e-300, test: {{each: {{at_least: 1.0e-300}}}}}}\n"
    );
    std::fs::write(dir.path().join("c.yaml"), yaml).unwrap();
    let o = common::linres(dir.path(), &["check", "c.yaml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "INCOMPLETE: {out}");
    assert!(out.contains("within 1e-300 × the theorem's") && out.contains("every cell ≥ 1e-300"), "{out}");
    assert!(!out.contains("00000"), "{out}");
}

/// The TRANSFORMS checks with `kind:` spelled out: a property gates like a claim, `kind: finding`
/// is `finding: true`.
const KINDS: &str = "name: t
     master_seed: 1
     seeds: 2
     data: {kind: paper, d: 10, n: 200}
     model: {arch: resnet, depth: 4, width: [40, 200], transform: [identity, modified_identity, gaussian]}
     optim: {method: gd, iters: 800, step: {rule: fixed, eta: 5.0e-5}}
     log: {points: 20}
     checks:
       - {name: converge, claim: others converge, filter: {model.transform: [modified_identity, gaussian]},
          measure: final_rel_excess, over_seeds: max, test: {each: {at_most: 1.0e-6}}, kind: claim}
       - {name: stuck_property, claim: identity stalls, filter: {model.transform: identity},
          measure: final_rel_excess, over_seeds: min, test: {each: {at_least: 1.0e-2}}, kind: property}
       - {name: stuck_finding, claim: the same as a finding, filter: {model.transform: identity},
          measure: final_rel_excess, over_seeds: min, test: {each: {at_least: 1.0e-2}}, kind: finding}
       - {name: stuck_old, claim: the same with the older spelling, filter: {model.transform: identity},
          measure: final_rel_excess, over_seeds: min, test: {each: {at_least: 1.0e-2}}, finding: true}";

/// A property gates like a claim (PASS on honest records, FAIL on records edited to break it,
/// INCOMPLETE without results), keeps its kind in the outcome, and `kind: finding` and
/// `finding: true` are the same finding.
#[test]
fn a_property_gates_like_a_claim_and_kind_finding_is_finding_true() {
    use linres::grid::check::CheckKind;
    let (_d, exp) = experiment(KINDS);
    let kinds: Vec<(String, CheckKind)> = check_experiment(&exp).into_iter().map(|o| (o.name, o.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("converge".to_string(), CheckKind::Claim),
            ("stuck_property".to_string(), CheckKind::Property),
            ("stuck_finding".to_string(), CheckKind::Finding),
            ("stuck_old".to_string(), CheckKind::Finding),
        ]
    );
    assert_eq!(status(&exp, "stuck_property"), CheckStatus::Pass);
    let mut b = exp.clone();
    set_final_rel_excess(&mut b, |r| transform(r) == "identity" && r.record.config.model.width == 200, 1e-8);
    assert_eq!(status(&b, "stuck_property"), CheckStatus::Fail, "a property gates");
    assert!(!CheckStatus::Fail.gates_ok());
    for name in ["stuck_finding", "stuck_old"] {
        assert_eq!(status(&b, name), CheckStatus::Finding, "{name}: a finding never gates");
    }
    let mut c = exp.clone();
    forget(&mut c, |r| transform(r) == "identity" && r.record.config.seed == 0);
    assert_eq!(status(&c, "stuck_property"), CheckStatus::Incomplete);
}

/// `kind` and `finding` that contradict each other are refused at load (exit 2), naming the field
/// `finding` and the rule; agreeing ones, and every kind alone, are accepted; an unknown kind is
/// named.
#[test]
fn contradictory_kind_and_finding_are_refused_naming_the_field() {
    let check = |extra: &str| {
        format!("{SMALL}  - {{name: a, claim: c, measure: theory.kappa, test: {{each: {{above: 0}}}}, {extra}}}\n")
    };
    for extra in ["kind: claim, finding: true", "kind: property, finding: true", "kind: finding, finding: false"] {
        let (code, err) = load_refusal(&check(extra), "check");
        assert_eq!(code, Some(2), "{extra}: {err}");
        assert!(err.contains("checks[0].finding") && err.contains("contradicts `kind:"), "{extra}: {err}");
    }
    let (code, err) = load_refusal(&check("kind: theorem"), "check");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("checks[0].kind") && err.contains("theorem"), "{err}");
    for extra in ["kind: finding, finding: true", "kind: claim, finding: false", "kind: property", "finding: false"] {
        let spec = Spec::parse(&check(extra), std::path::Path::new("c.yaml"), &[]).unwrap();
        let runs = spec.expand().unwrap();
        assert!(spec.check_decls(&runs).is_ok(), "{extra} is accepted");
    }
}

/// The markdown table and the `check` output list claims, then properties, then findings, each
/// under its heading, whatever the order of declaration.
#[test]
fn outputs_group_checks_by_kind_in_the_order_claims_properties_findings() {
    use linres::check::markdown;
    use linres::grid::check::CheckKind;
    let (_d, exp) =
        experiment(&KINDS.replace("kind: claim}", "kind: finding}").replace("finding: true}", "kind: claim}"));
    let table = markdown(&check_experiment(&exp));
    let at = |s: &str| table.find(s).unwrap_or_else(|| panic!("`{s}` missing from:\n{table}"));
    let (claims, properties, findings) =
        (at(CheckKind::Claim.heading()), at(CheckKind::Property.heading()), at(CheckKind::Finding.heading()));
    assert!(claims < properties && properties < findings, "{table}");
    // Each check under its kind's heading.
    assert!(claims < at("`t/stuck_old`") && at("`t/stuck_old`") < properties, "{table}");
    assert!(properties < at("`t/stuck_property`") && at("`t/stuck_property`") < findings, "{table}");
    assert!(findings < at("`t/converge`") && findings < at("`t/stuck_finding`"), "{table}");
    assert_eq!(table.matches("| result | check | claim | measured | threshold |").count(), 3, "{table}");
    // The command prints the same groups, in the same order.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), dedent(KINDS)).unwrap();
    assert!(common::linres(dir.path(), &["run", "t.yaml", "-q"]).status.success());
    let o = common::linres(dir.path(), &["check", "t.yaml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("`{s}` missing from:\n{out}"));
    assert!(at(CheckKind::Claim.heading()) < at("PASS t/converge"), "{out}");
    assert!(at("PASS t/converge") < at(CheckKind::Property.heading()), "{out}");
    assert!(at(CheckKind::Property.heading()) < at("PASS t/stuck_property"), "{out}");
    assert!(at("PASS t/stuck_property") < at(CheckKind::Finding.heading()), "{out}");
    assert!(at(CheckKind::Finding.heading()) < at("FINDING t/stuck_finding"), "{out}");
    // The report's pages: a heading per kind, each before its checks.
    let o = common::linres(dir.path(), &["report", "t.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for page in ["report/index.html", "report/t/index.html"] {
        let html = std::fs::read_to_string(dir.path().join(page)).unwrap();
        let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing from {page}"));
        let heading = |k: CheckKind| at(&format!("<h3>{}</h3>", linres::escape::html_text(k.heading())));
        let (claims, properties, findings) =
            (heading(CheckKind::Claim), heading(CheckKind::Property), heading(CheckKind::Finding));
        assert!(claims < at(">converge<") && at(">converge<") < properties, "{page}");
        assert!(properties < at(">stuck_property<") && at(">stuck_property<") < findings, "{page}");
        assert!(findings < at(">stuck_finding<"), "{page}");
    }
}

/// `linres check` never replaces a complete table (results/CHECKS.md, or the README's between its
/// markers) by one with INCOMPLETE rows: it keeps the file, says so and still exits 1; a table
/// that is itself incomplete is replaced, and a complete one always.
#[test]
fn a_complete_checks_table_is_never_overwritten_by_an_incomplete_one() {
    let dir = tempfile::tempdir().unwrap();
    let linres = |args: &[&str]| common::linres(dir.path(), args);
    std::fs::create_dir(dir.path().join("experiments")).unwrap();
    std::fs::write(dir.path().join("experiments/t.yaml"), dedent(KINDS)).unwrap();
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, "# r\n<!-- checks:begin -->\nold\n<!-- checks:end -->\n").unwrap();
    let checks_md = dir.path().join("results/CHECKS.md");
    // No table yet: the incomplete one is written (there is nothing better to keep).
    let o = linres(&["check", "--readme", "README.md"]);
    assert_eq!(o.status.code(), Some(1));
    let first = std::fs::read_to_string(&checks_md).unwrap();
    assert!(first.contains("| **INCOMPLETE** |"), "{first}");
    assert!(std::fs::read_to_string(&readme).unwrap().contains("| **INCOMPLETE** |"));
    // Complete results replace an incomplete table.
    assert!(linres(&["run", "experiments/t.yaml", "-q"]).status.success());
    let o = linres(&["check", "--readme", "README.md"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let complete = std::fs::read_to_string(&checks_md).unwrap();
    let complete_readme = std::fs::read_to_string(&readme).unwrap();
    assert!(!complete.contains("INCOMPLETE") && complete.contains("| PASS |"), "{complete}");
    assert!(!complete_readme.contains("INCOMPLETE") && complete_readme.contains("| PASS |"));
    // Results gone (a fresh clone): the complete tables are kept, byte for byte, and the command says so.
    std::fs::remove_dir_all(dir.path().join("results/t")).unwrap();
    let o = linres(&["check", "--readme", "README.md"]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "INCOMPLETE still gates: {out}");
    assert!(out.contains("INCOMPLETE t/converge"), "{out}");
    assert_eq!(std::fs::read_to_string(&checks_md).unwrap(), complete);
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), complete_readme);
    assert!(err.contains("kept results/CHECKS.md") && err.contains("kept README.md"), "{err}");
    assert!(!out.contains("table in results/CHECKS.md"), "{out}");
}
