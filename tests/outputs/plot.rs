//! The plotting stage: figures declared in YAML, deterministic SVG, CSVs holding exactly the
//! numbers drawn (checked against an independent aggregation of the records), clear errors.

use crate::common;

use std::process::Command;

use common::{dedent, linres};
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

#[test]
fn figures_are_deterministic_and_their_csvs_hold_the_medians_of_the_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), SPEC).unwrap();
    let o = linres(dir.path(), &["run", "p.yaml", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exp = Experiment::load(&dir.path().join("p.yaml"), &dir.path().join("results")).unwrap();
    let first = plot_experiment(&exp, &dir.path().join("a"), &dir.path().join("results"), &Default::default()).unwrap();
    plot_experiment(&exp, &dir.path().join("b"), &dir.path().join("results"), &Default::default()).unwrap();
    assert_eq!(first.len(), 16, "svg, pdf, csv and png for each of 4 figures");
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
    assert!(csv.starts_with("panel_value,panel,series_value,series,curve,x,y\n"), "{csv}");
    let row = csv.lines().find(|l| l.starts_with(",,linear,linear,median,30,")).expect("a median row at x = 30");
    let drawn: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
    assert_eq!(drawn, rel[1]);
    // Theory lines are drawn per series: Zou for the ResNet, Du & Hu for the linear network.
    assert!(
        csv.contains(",resnet,resnet,zou,") && csv.contains(",linear,linear,du_hu,") && !csv.contains(",linear,zou,")
    );
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
            "figures[0].budget: critical_width needs one positive budget: `budget`",
        ),
        (
            "  - {name: x, kind: curves, title: t, y: accuracy}\n",
            "figures[0].y: `accuracy` is not one of rel_excess, excess, loss",
        ),
        ("  - {name: x, kind: bars, title: t, x: model.depth}\n", "figures[0].y: kind bars needs `y`"),
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
fn every_kind_refuses_at_load_a_mark_that_pools_an_unnamed_grid_field() {
    let head = "name: m\nmaster_seed: 1\ndata: {kind: spectrum, d: 4, k: 2, n: 30, noise: 0.0, kappa: [2, 4]}\nmodel: {arch: resnet, depth: [2, 3], width: [8, 16], transform: gaussian}\noptim: {method: gd, iters: 5, step: {rule: zou}}\nfigures:\n";
    let cases = [
        ("{name: c, kind: curves, title: t, filter: {model.width: 8}, series: model.depth}", "`data.kappa` (2, 4)"),
        (
            "{name: c, kind: curves, title: t, filter: {model.width: [8, 16]}, series: model.depth, facets: data.kappa}",
            "`model.width` (8, 16)",
        ),
        (
            "{name: c, kind: bars, title: t, x: model.depth, y: iters_to_target}",
            "`data.kappa` (2, 4) and `model.width` (8, 16)",
        ),
        (
            "{name: c, kind: critical_width, title: t, x: model.depth, series: model.arch, budget: 10}",
            "`data.kappa` (2, 4)",
        ),
    ];
    for (fig, unnamed) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.yaml"), format!("{head}  - {fig}\n")).unwrap();
        for cmd in ["list", "run", "plot", "check"] {
            let o = linres(dir.path(), &[cmd, "m.yaml"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {fig}: {err}");
            assert!(err.contains("figure `c` pools runs that differ in"), "{cmd} {fig}: {err}");
            assert!(err.contains(unnamed), "{cmd} {fig}: expected {unnamed} in {err}");
        }
        assert!(!dir.path().join("results").exists() && !dir.path().join("figures").exists());
    }
    // Named by a facet list, a series or a filter, the same grid is accepted.
    let dir = tempfile::tempdir().unwrap();
    let ok =
        "  - {name: c, kind: curves, title: t, filter: {model.width: 8}, series: model.depth, facets: [data.kappa]}\n";
    std::fs::write(dir.path().join("m.yaml"), format!("{head}{ok}")).unwrap();
    let o = linres(dir.path(), &["list", "m.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn facets_take_a_list_and_field_labels_name_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dedent(
        "name: f
         master_seed: 1
         seeds: 2
         data: {kind: spectrum, d: 4, k: 2, n: 30, noise: 0.0, kappa: [2, 4]}
         model: {arch: resnet, depth: [2, 4], width: 8, transform: [gaussian, modified_identity]}
         optim: {method: gd, iters: 20, step: {rule: zou}}
         figures:
           - {name: one, kind: curves, title: One facet, facets: data.kappa, series: [model.depth, model.transform],
              labels: {data.kappa: κ, model.depth: L, modified_identity: modified identity}}
           - {name: two, kind: curves, title: Two facets, facets: [data.kappa, model.depth], series: model.transform,
              labels: {data.kappa: κ, model.depth: L}}",
    );
    std::fs::write(dir.path().join("f.yaml"), spec).unwrap();
    assert!(linres(dir.path(), &["run", "f.yaml", "--quiet"]).status.success());
    let o = linres(dir.path(), &["plot", "f.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let one = std::fs::read_to_string(dir.path().join("figures/f/one.csv")).unwrap();
    // Each row carries the raw grid values beside the labels drawn.
    assert!(one.contains("2,κ = 2,2 · gaussian,L = 2 · gaussian,median"), "{one}");
    assert!(one.contains("4,κ = 4,4 · modified_identity,L = 4 · modified identity,"), "{one}");
    let two = std::fs::read_to_string(dir.path().join("figures/f/two.csv")).unwrap();
    for panel in ["\"κ = 2, L = 2\"", "\"κ = 2, L = 4\"", "\"κ = 4, L = 2\"", "\"κ = 4, L = 4\""] {
        assert!(two.contains(&format!("{panel},gaussian,gaussian,median")), "panel {panel} in {two}");
    }
    let svg = std::fs::read_to_string(dir.path().join("figures/f/two.svg")).unwrap();
    assert!(svg.contains("κ = 4, L = 2"), "the facet title is drawn");
}

#[test]
fn facets_on_a_kind_that_draws_one_panel_are_refused_with_what_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "name: b\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 20}\nmodel: {arch: resnet, depth: [2, 3], width: 8}\noptim: {method: gd, iters: 5, step: {rule: zou}}\nfigures:\n  - {name: b, kind: bars, title: t, x: model.depth, y: iters_to_target, facets: model.depth}\n";
    std::fs::write(dir.path().join("b.yaml"), spec).unwrap();
    let o = linres(dir.path(), &["list", "b.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("figures[0].facets: kind bars draws one panel: use `filter`"), "{err}");
}

#[test]
fn plot_writes_all_figures_or_none() {
    let dir = tempfile::tempdir().unwrap();
    // The second figure's margin experiment does not exist: it fails after the first was drawn.
    let spec = "name: a\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 20}\nmodel: {arch: resnet, depth: 2, width: [8, 16]}\noptim: {method: gd, iters: 5, step: {rule: zou}}\nfigures:\n  - {name: curves, kind: curves, title: t, series: model.width}\n  - {name: crit, kind: critical_width, title: t, x: model.depth, series: model.arch, budget: 10, bounds: [margin], margin_experiment: nowhere}\n";
    std::fs::write(dir.path().join("a.yaml"), spec).unwrap();
    assert!(linres(dir.path(), &["run", "a.yaml", "--quiet"]).status.success());
    let o = linres(dir.path(), &["plot", "a.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let left: Vec<_> = std::fs::read_dir(dir.path().join("figures/a"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing of any figure is left behind: {left:?}");
}

#[test]
fn axis_bounds_plotters_cannot_draw_are_refused_at_load_quickly() {
    let head = "name: f\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: 8}\noptim: {method: gd, iters: 2, step: {rule: zou}}\nfigures:\n";
    let cases = [
        ("ymin: 1.0e-320", "figures[0].ymin: a bound of a log axis must lie in [1e-300, 1e300]"),
        ("ymin: .inf", "figures[0].ymin: an axis bound must be a finite number"),
        ("yscale: linear, ymin: -1e308, ymax: 1e308", "figures[0].ymin: a bound of a linear axis must lie in"),
        ("ymin: 0", "figures[0].ymin: a bound of a log axis"),
        ("ymin: 1.0e-3, ymax: 1.0e-4", "figures[0].ymax: ymin (0.001) must be below ymax (0.0001)"),
        ("ymin: 1.0e-300, ymax: 1.0e+100", "figures[0].ymax: a log axis may span at most 300 decades"),
        ("yscale: linear, ymin: 1, ymax: 1.0000000000000002", "figures[0].ymax: the span"),
        ("xmax: .nan", "figures[0].xmax: an axis bound must be a finite number"),
        ("xmax: -5", "figures[0].xmax: -5 is not above the x axis' start (0)"),
    ];
    for (bounds, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let fig = format!("  - {{name: c, kind: curves, title: t, {bounds}}}\n");
        std::fs::write(dir.path().join("f.yaml"), format!("{head}{fig}")).unwrap();
        for cmd in ["plot", "run", "list", "check"] {
            let o = common::linres_within(dir.path(), &[cmd, "f.yaml"], std::time::Duration::from_secs(20));
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} with {bounds}: {err}");
            assert!(err.contains(expected), "{cmd} with {bounds}: expected `{expected}` in: {err}");
        }
        assert!(!dir.path().join("results").exists() && !dir.path().join("figures").exists());
    }
}

#[test]
fn every_figure_is_also_a_vector_pdf_whose_text_is_real_text() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "name: v\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 20}\nmodel: {arch: resnet, depth: [2, 3], width: 8}\noptim: {method: gd, iters: 20, step: {rule: zou}}\nfigures:\n  - {name: c, kind: curves, title: Curves in a PDF, series: model.depth}\n  - {name: b, kind: bars, title: Bars in a PDF, x: model.depth, y: iters_to_target}\n";
    std::fs::write(dir.path().join("v.yaml"), spec).unwrap();
    assert!(linres(dir.path(), &["run", "v.yaml", "--quiet"]).status.success());
    let o = linres(dir.path(), &["plot", "v.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (name, texts) in [
        ("c", ["Curves in a PDF", "iteration", "relative excess loss"]),
        ("b", ["Bars in a PDF", "depth L", "iterations to relative excess"]),
    ] {
        let pdf = dir.path().join(format!("figures/v/{name}.pdf"));
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{name}.pdf is a PDF");
        assert!(bytes.windows(9).any(|w| w == b"/FontFile"), "{name}.pdf embeds its font");
        let Some(pdftotext) = common::outside(common::Tool::Pdftotext) else { return };
        let out = Command::new(pdftotext).arg(&pdf).arg("-").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for t in texts {
            assert!(text.contains(t), "`{t}` is text in {name}.pdf: {text}");
        }
    }
}

#[test]
fn diverged_runs_are_marked_and_counted_in_the_legend_not_in_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dedent(
        "name: dv
         master_seed: 1
         seeds: 2
         data: {kind: paper, d: 3, n: 20}
         model: {arch: resnet, depth: 2, width: 8}
         optim: {method: gd, iters: 200, step: [{rule: fixed, eta: 0.01}, {rule: fixed, eta: 50}]}
         log: {schedule: all}
         figures:
           - {name: c, kind: curves, title: Curves, series: optim.step.eta}
           - {name: b, kind: bars, title: Bars, x: model.depth, series: optim.step.eta, y: final_rel_excess}",
    );
    std::fs::write(dir.path().join("dv.yaml"), spec).unwrap();
    assert!(linres(dir.path(), &["run", "dv.yaml", "--quiet"]).status.success());
    let o = linres(dir.path(), &["plot", "dv.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in ["c", "b"] {
        let svg = std::fs::read_to_string(dir.path().join(format!("figures/dv/{name}.svg"))).unwrap();
        assert!(svg.contains("optim.step.eta = 50 (2 of 2 runs diverged)"), "{name}: the legend counts them");
        assert!(
            !svg.contains("0.01 (") && svg.contains("optim.step.eta = 0.01\n<"),
            "{name}: the stable series is plain"
        );
        let csv = std::fs::read_to_string(dir.path().join(format!("figures/dv/{name}.csv"))).unwrap();
        assert!(!csv.contains("diverged"), "{name}: the CSV holds grid values and numbers, not legend text");
    }
    let svg = std::fs::read_to_string(dir.path().join("figures/dv/c.svg")).unwrap();
    assert!(svg.contains("the iteration where a run diverged"), "the ✗ is explained");
}

/// Writes `f.yaml` (a one-axis grid with `figure`), runs `linres <cmd> f.yaml` for `list`, `run`
/// and `plot`, and returns stderr after asserting exit 2 and that nothing was written.
fn figure_refusal(figure: &str) -> String {
    let head = "name: f\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 9}\n\
                model: {arch: resnet, depth: [2, 3], width: 8, transform: [gaussian, modified_identity]}\n\
                optim: {method: gd, iters: 2, step: {rule: zou}}\nfigures:\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.yaml"), format!("{head}  - {figure}\n")).unwrap();
    let mut last = String::new();
    for cmd in ["list", "run", "plot"] {
        let o = linres(dir.path(), &[cmd, "f.yaml"]);
        last = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{cmd} {figure}: {last}");
        assert!(!dir.path().join("results").exists() && !dir.path().join("figures").exists(), "{cmd} {figure}");
    }
    last
}

/// A field no run has, in a figure's filter, series, facets or x, is "unknown" with the nearest
/// field that exists (it used to "select no run" or "pool runs").
#[test]
fn unknown_fields_in_figures_are_named_with_the_nearest_field() {
    let cases = [
        (
            "{name: a, kind: curves, title: t, filter: {model.bogus: 7}, series: [model.depth, model.transform]}",
            "figures[0].filter.model.bogus: unknown field `model.bogus`",
        ),
        (
            "{name: a, kind: curves, title: t, series: [model.depth, model.transfrom]}",
            "figures[0].series: unknown field `model.transfrom`; did you mean `model.transform`?",
        ),
        (
            "{name: a, kind: curves, title: t, series: model.depth, facets: model.tranform}",
            "figures[0].facets: unknown field `model.tranform`; did you mean `model.transform`?",
        ),
        (
            "{name: a, kind: bars, title: t, x: model.dept, series: model.transform, y: iters_to_target}",
            "figures[0].x: unknown field `model.dept`; did you mean `model.depth`?",
        ),
    ];
    for (figure, expected) in cases {
        let err = figure_refusal(figure);
        assert!(err.contains(expected), "`{expected}` missing: {err}");
        assert!(!err.contains("pools runs") && !err.contains("selects no"), "{err}");
    }
}

/// Control characters in any text a figure displays (title, label keys and values) are refused
/// when the file is loaded, naming the field; so is a target outside (0, 1), in exponent notation.
#[test]
fn control_characters_in_figure_texts_are_refused_at_load() {
    let fig =
        |extra: &str| format!("{{name: a, kind: curves, title: t, series: [model.depth, model.transform]{extra}}}");
    let cases = [
        (fig(", title: \"a\\0b\"").replace("title: t, ", ""), "figures[0].title", "U+0000"),
        (fig(", labels: {gaussian: \"g\\nFAIL\"}"), "figures[0].labels.gaussian", "U+000A"),
        (fig(", labels: {\"gauss\\ran\": g}"), "figures[0].labels", "U+000D"),
        (fig(", labels: {model.depth: \"L\\x7f\"}"), "figures[0].labels.model.depth", "U+007F"),
        (fig(", target: 1.0e300"), "figures[0].target", "kind curves does not take `target`"),
        (
            "{name: a, kind: bars, title: t, x: model.depth, series: model.transform, y: iters_to_target, target: 1.0e300}"
                .into(),
            "figures[0].target",
            "got 1e300",
        ),
    ];
    for (figure, field, shown) in cases {
        let err = figure_refusal(&figure);
        assert!(err.contains(field) && err.contains(shown), "`{field}`, `{shown}` missing: {err}");
    }
}

/// A series value that XML cannot carry (a data file named with a vertical tab) made `plot` fail
/// with exit 1 (the SVG it wrote could not be read back to make the PDF); found by
/// tests/properties/properties_text.rs.
#[test]
fn a_series_value_with_a_control_character_draws_a_valid_svg() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, name) in ["a\u{b}\u{1}.csv", "b.csv"].iter().enumerate() {
        std::fs::write(d.join(name), format!("1,2,3\n4,5,6\n7,8,10\n1,0,0\n0,1,{}\n", i + 1)).unwrap();
    }
    std::fs::write(d.join("Y.csv"), "1\n2\n3\n4\n5\n").unwrap();
    let spec = "name: v\ndata: {kind: file, x: [\"a\\v\\x01.csv\", b.csv], y: Y.csv}\n\
                model: {arch: resnet, depth: 2, width: 6}\noptim: {method: gd, iters: 4, step: {rule: zou}}\n\
                figures:\n  - {name: f, kind: curves, title: t, series: data.x}\n";
    std::fs::write(d.join("v.yaml"), spec).unwrap();
    assert!(linres(d, &["run", "v.yaml", "--quiet"]).status.success());
    let o = linres(d, &["plot", "v.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(d.join("figures/v/f.svg")).unwrap();
    usvg::Tree::from_str(&svg, &usvg::Options::default()).expect("an SVG that XML readers read");
    assert!(svg.contains("a\\u{b}\\u{1}.csv"), "the value is shown, its control characters as escapes");
    let csv = std::fs::read_to_string(d.join("figures/v/f.csv")).unwrap();
    assert!(csv.contains("a\u{b}\u{1}.csv"), "the CSV keeps the value as it is");
}
