//! `linres table`: summary tables against numbers recomputed from the records' curves, the rules
//! that keep a cell from pooling a field, and the LaTeX and Markdown forms read by real renderers
//! (pdflatex and pdftotext when installed, pulldown-cmark).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Tool, linres, outside, texts};

/// Depth × architecture, two widths, three seeds, every iteration logged.
const GRID: &str = "name: depth_table\nmaster_seed: 7\nseeds: 3\ndata: {kind: paper, d: 4, n: 30}\n\
model: {depth: [2, 4], width: [12, 24], transform: gaussian}\n\
optim: {method: gd, iters: 300}\nlog: {schedule: all}\ntheory: {target: 1.0e-3}\n\
zip:\n  - model.arch: [resnet, linear]\n    optim.step: [{rule: zou}, {rule: du_hu}]\n";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.yaml"), GRID).unwrap();
    let o = linres(dir.path(), &["run", "-q", "grid.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    dir
}

/// (depth, arch) → median over seeds of the first logged iteration with relative excess ≤ 1e-3
/// (∞ when never reached), recomputed from the curves in the records at width `width`.
fn medians_from_records(dir: &Path, width: u64) -> BTreeMap<(u64, String), f64> {
    let mut by_cell: BTreeMap<(u64, String), Vec<f64>> = BTreeMap::new();
    for (_, rec) in common::records_in(&dir.join("results/depth_table/runs")) {
        let model = &rec["config"]["model"];
        if model["width"].as_u64() != Some(width) {
            continue;
        }
        let curve = rec["curve"].as_array().unwrap();
        let e0 = curve[0]["excess"].as_f64().unwrap();
        let first = curve
            .iter()
            .find(|p| p["excess"].as_f64().unwrap() <= 1e-3 * e0)
            .map_or(f64::INFINITY, |p| p["iter"].as_f64().unwrap());
        let key = (model["depth"].as_u64().unwrap(), model["arch"].as_str().unwrap().to_string());
        by_cell.entry(key).or_default().push(first);
    }
    by_cell
        .into_iter()
        .map(|(k, mut v)| {
            assert_eq!(v.len(), 3, "three seeds per cell");
            v.sort_by(f64::total_cmp);
            (k, v[1])
        })
        .collect()
}

fn table(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["table", "grid.yaml", "--rows", "model.depth", "--cols", "model.arch"];
    args.extend_from_slice(extra);
    linres(dir, &args)
}

#[test]
fn cells_are_the_median_iterations_recomputed_from_the_curves() {
    let dir = setup();
    for width in [12, 24] {
        let w = format!("model.width={width}");
        let o = table(dir.path(), &["--filter", &w, "--value", "iters_to_target", "--format", "csv"]);
        let (out, err) = texts(&o);
        assert!(o.status.success(), "{err}");
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("model.depth \\ model.arch,resnet,linear"));
        let want = medians_from_records(dir.path(), width);
        let mut seen = 0;
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            let depth: u64 = cells[0].parse().unwrap();
            for (arch, text) in ["resnet", "linear"].iter().zip(&cells[1..]) {
                let got: f64 = text.parse().unwrap();
                assert_eq!(got, want[&(depth, arch.to_string())], "depth {depth}, {arch}, width {width}");
                seen += 1;
            }
        }
        assert_eq!(seen, 4);
    }
    // The ResNet reaches the target at all: the test compares numbers, not only infinities.
    assert!(medians_from_records(dir.path(), 24).iter().any(|(k, v)| k.1 == "resnet" && v.is_finite()));
}

#[test]
fn min_and_max_over_seeds_and_columns_of_two_fields() {
    let dir = setup();
    let o = linres(
        dir.path(),
        &[
            "table",
            "grid.yaml",
            "--rows",
            "model.depth",
            "--cols",
            "model.arch,model.width",
            "--value",
            "final_rel_excess",
            "--agg",
            "max",
            "--format",
            "csv",
        ],
    );
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    // The corner holds a comma, so CSV quotes it; the columns are grouped by their first field.
    assert_eq!(
        out.lines().next(),
        Some("\"model.depth \\ model.arch, model.width\",\"resnet, 12\",\"resnet, 24\",\"linear, 12\",\"linear, 24\"")
    );
    // The largest final relative excess over the seeds of (depth 4, linear, width 24), from the records.
    let mut want = f64::NEG_INFINITY;
    for (_, rec) in common::records_in(&dir.path().join("results/depth_table/runs")) {
        let m = &rec["config"]["model"];
        if m["depth"] == 4 && m["arch"] == "linear" && m["width"] == 24 {
            let c = rec["curve"].as_array().unwrap();
            let rel = c.last().unwrap()["excess"].as_f64().unwrap() / c[0]["excess"].as_f64().unwrap();
            want = want.max(rel);
        }
    }
    let row = out.lines().find(|l| l.starts_with("4,")).unwrap();
    let got: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
    assert!(common::close(got, want, 1e-12, 0.0), "{got} vs {want}");
}

#[test]
fn a_varying_field_that_is_not_laid_out_is_refused_and_nothing_is_written() {
    let dir = setup();
    let o = table(dir.path(), &["--value", "iters_to_target", "--out", "t.tex"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`model.width` varies among the selected runs"), "{err}");
    assert!(err.contains("--filter model.width=12"), "{err}");
    assert!(!dir.path().join("t.tex").exists());
    // Misuse names the flag and the rule.
    for (extra, message) in [
        (vec!["--value", "nope"], "--value: `nope` is not a measure"),
        (vec!["--value", "zou_bound"], "built-in check"),
        (
            vec!["--value", "critical_width", "--filter", "model.width=12"],
            "--budget: critical_width needs one positive budget",
        ),
        (vec!["--value", "iters_to_target", "--target", "3e-3"], "--target"),
        (vec!["--value", "iters_to_target", "--filter", "model.width=99"], "--filter: selects no run"),
        (vec!["--value", "margin_one_width", "--agg", "min"], "--agg: margin_one_width combines the seeds itself"),
    ] {
        let o = table(dir.path(), &extra);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(message), "{extra:?}: {err}");
    }
    let o = linres(
        dir.path(),
        &["table", "grid.yaml", "--rows", "model.depht", "--cols", "model.arch", "--value", "iters_to_target"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("--rows: no run has the field `model.depht`"), "{}", texts(&o).1);
    let o = linres(
        dir.path(),
        &["table", "grid.yaml", "--rows", "seed", "--cols", "model.arch", "--value", "iters_to_target"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("replicates"), "{}", texts(&o).1);
}

#[test]
fn a_table_over_missing_runs_is_refused() {
    let dir = setup();
    // Remove the records of seed 1 by hand, as a crashed or partial copy would leave them.
    let runs = dir.path().join("results/depth_table/runs");
    for (id, rec) in common::records_in(&runs) {
        if rec["config"]["seed"] == 1 {
            std::fs::remove_file(common::record_file(&runs, &id)).unwrap();
        }
    }
    let o = table(dir.path(), &["--filter", "model.width=12", "--value", "iters_to_target", "--out", "t.md"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("4 of 12 selected runs of depth_table have no result"), "{err}");
    assert!(!dir.path().join("t.md").exists());
}

#[test]
fn markdown_renders_as_a_table_with_every_cell() {
    let dir = setup();
    let o = table(dir.path(), &["--filter", "model.width=24", "--value", "theory.kappa", "--format", "markdown"]);
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut in_cell = false;
    for event in Parser::new_ext(&out, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => {
                rows.last_mut().unwrap().push(String::new());
                in_cell = true;
            }
            Event::End(TagEnd::TableCell) => in_cell = false,
            Event::Text(t) if in_cell => rows.last_mut().unwrap().last_mut().unwrap().push_str(&t),
            _ => {}
        }
    }
    assert_eq!(rows.len(), 3, "a header and two depths: {out}");
    assert_eq!(rows[0], ["depth L", "resnet", "linear"]);
    assert!(rows.iter().all(|r| r.len() == 3));
    // κ is a property of the data, the same for every depth and architecture: one number everywhere.
    let kappas: Vec<&String> = rows[1..].iter().flat_map(|r| &r[1..]).collect();
    assert!(kappas.iter().all(|k| *k == kappas[0] && k.parse::<f64>().is_ok()), "{kappas:?}");
}

#[test]
fn latex_compiles_with_booktabs_and_shows_its_numbers() {
    let dir = setup();
    let o = table(
        dir.path(),
        &["--filter", "model.width=24", "--value", "iters_to_target", "--format", "latex", "--out", "t.tex"],
    );
    assert!(o.status.success(), "{}", texts(&o).1);
    let tex = std::fs::read_to_string(dir.path().join("t.tex")).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule"), "{tex}");
    assert!(tex.starts_with("% depth\\_table:"), "the experiment's name is escaped: {tex}");
    let (Some(pdflatex), Some(pdftotext)) = (outside(Tool::Pdflatex), outside(Tool::Pdftotext)) else { return };
    let doc = "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n\\usepackage{booktabs}\n\\begin{document}\n\\input{t.tex}\n\\end{document}\n";
    std::fs::write(dir.path().join("doc.tex"), doc).unwrap();
    let o = std::process::Command::new(pdflatex)
        .current_dir(dir.path())
        .args(["-interaction=nonstopmode", "-halt-on-error", "doc.tex"])
        .output()
        .unwrap();
    assert!(o.status.success(), "pdflatex: {}", String::from_utf8_lossy(&o.stdout));
    let o = std::process::Command::new(pdftotext)
        .current_dir(dir.path())
        .args(["-layout", "doc.pdf", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let want = medians_from_records(dir.path(), 24);
    for depth in [2u64, 4] {
        let line =
            text.lines().find(|l| l.trim_start().starts_with(&depth.to_string())).unwrap_or_else(|| panic!("{text}"));
        let shown: Vec<&str> = line.split_whitespace().collect();
        for (i, arch) in ["resnet", "linear"].iter().enumerate() {
            let v = want[&(depth, arch.to_string())];
            let expect = if v.is_finite() { format!("{v}") } else { "∞".into() };
            assert_eq!(shown[i + 1], expect, "{line}");
        }
    }
    assert!(text.contains("depth L") && text.contains("resnet"), "{text}");
}

#[test]
fn an_out_that_cannot_be_written_is_named_with_exit_2() {
    let dir = setup();
    std::fs::create_dir(dir.path().join("tables")).unwrap();
    for (out, message) in [
        ("nodir/x.tex", "--out nodir/x.tex: the directory nodir does not exist"),
        ("tables", "--out tables: is a directory"),
    ] {
        let o = table(dir.path(), &["--filter", "model.width=24", "--value", "iters_to_target", "--out", out]);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "--out {out}: {err}");
        assert!(err.contains(message), "--out {out}: {err}");
    }
    assert!(!dir.path().join("nodir").exists());
    assert_eq!(std::fs::read_dir(dir.path().join("tables")).unwrap().count(), 0);
}

/// `max_layer_norm` (a measure added by following docs/ARCHITECTURE.md: one variant, one arm) is
/// the largest weight norm over the logged points: the maximum of the records' `max_layer_norm`
/// of each run, taken over the seeds by the median; a grid without `log.diagnostics` has no value
/// (n/a), never 0.
#[test]
fn the_largest_hidden_weight_norm_is_the_records_maximum_and_absent_without_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let grid = GRID.replace("log: {schedule: all}", "log: {schedule: all, diagnostics: true}");
    std::fs::write(dir.path().join("grid.yaml"), &grid).unwrap();
    assert!(linres(dir.path(), &["run", "-q", "grid.yaml"]).status.success());
    let mut by_cell: BTreeMap<(u64, String), Vec<f64>> = BTreeMap::new();
    for (_, rec) in common::records_in(&dir.path().join("results/depth_table/runs")) {
        let model = &rec["config"]["model"];
        if model["width"].as_u64() != Some(12) {
            continue;
        }
        let norms: Vec<f64> =
            rec["curve"].as_array().unwrap().iter().filter_map(|p| p["max_layer_norm"].as_f64()).collect();
        assert!(!norms.is_empty(), "diagnostics log the norms");
        let key = (model["depth"].as_u64().unwrap(), model["arch"].as_str().unwrap().to_string());
        by_cell.entry(key).or_default().push(norms.iter().copied().fold(0.0, f64::max));
    }
    let o = table(dir.path(), &["--value", "max_layer_norm", "--filter", "model.width=12", "--format", "csv"]);
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    let rows: Vec<Vec<String>> = out.lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect();
    assert_eq!(by_cell.len(), 4, "two depths × two architectures");
    for ((depth, arch), mut v) in by_cell {
        v.sort_by(f64::total_cmp);
        let row = rows.iter().find(|r| r[0] == depth.to_string()).expect("a row per depth");
        let got: f64 = row[if arch == "resnet" { 1 } else { 2 }].parse().unwrap();
        assert!((got - v[1]).abs() <= 1e-12 * v[1], "L={depth} {arch}: {got} against the records' {}", v[1]);
    }
    // Without diagnostics nothing was logged: the measure is absent, not 0.
    let plain = setup();
    let o = table(plain.path(), &["--value", "max_layer_norm", "--filter", "model.width=12"]);
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.lines().skip(2).all(|l| l.matches("n/a").count() == 2), "{out}");
}
