//! The plotting stage: figures declared in YAML, deterministic SVG, CSVs holding exactly the
//! numbers drawn (checked against an independent aggregation of the records), clear errors.

mod common;

use std::path::Path;
use std::process::Command;

use common::dedent;
use linres::experiment::Experiment;
use linres::plot::plot_experiment;

const SPEC: &str = "name: p
master_seed: 3
seeds: 3
data: {kind: paper, d: 4, n: 60}
model: {depth: [2, 4], width: [10, 20], transform: gaussian}
optim: {method: gd, iters: 60}
log: {schedule: all}
zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou, scale: 4}, {rule: du_hu, scale: 1}]}]
figures:
  - {name: curves, kind: curves, title: Curves, filter: {model.width: 20, model.depth: 2}, series: model.arch, lines: [zou, du_hu]}
  - {name: faceted, kind: curves, title: Facets, filter: {model.width: 10}, facets: model.arch, series: model.depth, x: samples, xscale: log}
  - {name: bars, kind: bars, title: Bars, x: model.depth, series: [model.arch, model.width], y: iters_to_target}
  - {name: critical, kind: critical_width, title: Critical, x: model.depth, series: model.arch, budget: 10, bounds: [zou, du_hu, modified_identity]}
";

fn linres(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_linres")).current_dir(dir).args(args).output().unwrap()
}

#[test]
fn figures_are_deterministic_and_their_csvs_hold_the_medians_of_the_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), SPEC).unwrap();
    let o = linres(dir.path(), &["run", "p.yaml", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exp = Experiment::load(&dir.path().join("p.yaml"), &dir.path().join("results")).unwrap();
    let first = plot_experiment(&exp, &dir.path().join("a"), &dir.path().join("results")).unwrap();
    plot_experiment(&exp, &dir.path().join("b"), &dir.path().join("results")).unwrap();
    assert_eq!(first.len(), 12, "svg, csv and png for each of 4 figures");
    for name in ["curves", "faceted", "bars", "critical"] {
        for ext in ["svg", "csv"] {
            let a = std::fs::read(dir.path().join(format!("a/p/{name}.{ext}"))).unwrap();
            let b = std::fs::read(dir.path().join(format!("b/p/{name}.{ext}"))).unwrap();
            assert_eq!(a, b, "{name}.{ext} must be byte-identical when regenerated");
        }
        let png = std::fs::read(dir.path().join(format!("a/p/{name}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
    let svg = std::fs::read_to_string(dir.path().join("a/p/curves.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("Curves"), "the title is drawn");
    // The median at iteration 30 of the linear network in `curves`, recomputed from the records.
    let mut rel: Vec<f64> = exp
        .rows
        .iter()
        .filter(|r| {
            let c = &r.record.config;
            c.model.width == 20 && c.model.depth == 2 && c.model.arch == linres::config::Arch::Linear
        })
        .map(|r| {
            let o = r.record.outcome.as_ref().unwrap();
            o.curve.iter().find(|p| p.iter == 30).unwrap().excess / o.theory.excess0
        })
        .collect();
    assert_eq!(rel.len(), 3);
    rel.sort_by(f64::total_cmp);
    let csv = std::fs::read_to_string(dir.path().join("a/p/curves.csv")).unwrap();
    let row = csv.lines().find(|l| l.starts_with(",linear,median,30,")).expect("a median row at x = 30");
    let drawn: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
    assert_eq!(drawn, rel[1]);
    // Theory lines are drawn per series: Zou for the ResNet, Du & Hu for the linear network.
    assert!(csv.contains(",resnet,zou,") && csv.contains(",linear,du_hu,") && !csv.contains(",linear,zou,"));
    // The samples axis counts n samples per GD step.
    let faceted = std::fs::read_to_string(dir.path().join("a/p/faceted.csv")).unwrap();
    assert!(faceted.lines().any(|l| l.contains(",median,600,")), "iteration 10 × n = 60 samples");
    let bars = std::fs::read_to_string(dir.path().join("a/p/bars.csv")).unwrap();
    assert_eq!(bars.lines().count(), 1 + 2 * 4, "2 depths × 4 series");
}

#[test]
fn figure_declarations_are_checked_with_positions() {
    let cases = [
        ("  - {name: x, kind: curvs, title: t}\n", "figures[0].kind: unknown variant `curvs`"),
        ("  - {name: x, kind: curves, title: t, colour: red}\n", "unknown field `colour`"),
        (
            "  - {name: x, kind: critical_width, title: t, x: model.depth, series: model.arch}\n",
            "figures[0].budget: kind critical_width needs a positive `budget`",
        ),
        (
            "  - {name: x, kind: curves, title: t, y: accuracy}\n",
            "figures[0].y: `accuracy` is not one of rel_excess, excess, loss",
        ),
        ("  - {name: x, kind: bars, title: t, x: model.depth}\n", "figures[0].y: kind Bars needs `y`"),
        (
            "  - {name: x, kind: curves, title: t}\n  - {name: x, kind: curves, title: u}\n",
            "f.yaml:8:6: figures[1].name: figure `x` is declared twice",
        ),
        ("  - {name: a/b, kind: curves, title: t}\n", "figures[0].name: `a/b` must be a file name"),
    ];
    let head = "name: f\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: 8}\noptim: {method: gd, iters: 2, step: {rule: zou}}\nfigures:\n";
    for (fig, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.yaml"), format!("{head}{fig}")).unwrap();
        for cmd in ["run", "plot"] {
            let o = linres(dir.path(), &[cmd, "f.yaml"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
            assert!(err.contains(expected), "{cmd}: expected `{expected}` in: {err}");
            assert!(err.contains("f.yaml:7:") || err.contains("f.yaml:8:"), "{cmd}: the position is given: {err}");
        }
        assert!(!dir.path().join("results").exists() && !dir.path().join("figures").exists());
    }
}

#[test]
fn a_series_that_mixes_grid_values_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dedent(
        "name: m
         master_seed: 1
         data: {kind: paper, d: 3, n: 20}
         model: {arch: resnet, depth: [2, 3], width: 8, transform: gaussian}
         optim: {method: gd, iters: 5, step: {rule: zou}}
         figures: [{name: c, kind: curves, title: t}]",
    );
    std::fs::write(dir.path().join("m.yaml"), spec).unwrap();
    assert!(linres(dir.path(), &["run", "m.yaml", "--quiet"]).status.success());
    let o = linres(dir.path(), &["plot", "m.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("runs of one series differ in `model.depth` (2, 3)"), "{err}");
}
