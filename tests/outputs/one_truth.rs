//! One truth: every output shows a measure with the same value, or the same explicit absence, as
//! the records define it.
//!
//! Generated grids mix a ResNet with the linear network (which has no `transform`), hold runs that
//! diverge (a linear step far above its bracket), runs stopped early (`optim.stop_below`), runs
//! without a result (a deleted record) and critical widths censored at either end of the grid
//! (a budget of one iteration no width meets). For each grid the test reads the records itself
//! and derives every per-run measure from them (final relative excess: ∞ for a diverged run;
//! iterations to the target: the record's first iteration below it, ∞ when none), pools seeds by
//! its own median, and finds critical widths and pooled curves by the rules the README states.
//! Then it asserts that `summary.csv`, `list --json`, the report's runs table, the figure CSVs
//! (bars, critical widths, curves), `table --format csv` and the checks' measured text all say the
//! same.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::common::{close, linres, text};

const DEPTHS: [u64; 2] = [2, 4];
const WIDTHS: [u64; 3] = [6, 12, 24];

/// What varies between generated grids.
#[derive(Debug, Clone)]
struct Case {
    master_seed: u64,
    seeds: u64,
    /// The linear network's step as a multiple of Du & Hu's (30: it diverges).
    linear_scale: u64,
    stop_below: bool,
    /// The absolute budget of the second critical width (the first is 1: nothing meets it).
    budget: u64,
    /// Which run (in grid order) loses its record, if any.
    drop_run: Option<usize>,
}

fn grid_yaml(c: &Case) -> String {
    let stop = if c.stop_below { ", stop_below: 1.0e-5" } else { "" };
    format!(
        "name: truth
master_seed: {ms}
seeds: {seeds}
data: {{kind: spectrum, d: 3, k: 2, n: 20, kappa: 4}}
model: {{depth: [2, 4], width: [6, 12, 24], transform: gaussian}}
optim: {{method: gd, iters: 150{stop}}}
log: {{points: 15}}
theory: {{target: 1.0e-3}}
zip: [{{model.arch: [resnet, linear], optim.step: [{{rule: zou, scale: 1}}, {{rule: du_hu, scale: {ls}}}]}}]
figures:
  - {{name: excess, kind: bars, title: E, x: model.depth, series: [model.arch, model.width], y: final_rel_excess}}
  - {{name: iters, kind: bars, title: I, x: model.depth, series: [model.arch, model.width], y: iters_to_target}}
  - {{name: never, kind: critical_width, title: N, x: model.depth, series: model.arch, budget_iters: 1}}
  - {{name: crit, kind: critical_width, title: C, x: model.depth, series: model.arch, budget_iters: {b}}}
  - {{name: curves, kind: curves, title: K, filter: {{model.width: 12}}, facets: model.depth, series: model.arch}}
checks:
  - {{name: excess, claim: every cell, measure: final_rel_excess, test: {{each: {{at_most: 1.0e300}}}}}}
  - {{name: iters, claim: every cell, measure: iters_to_target, test: {{each: {{at_most: 1.0e300}}}}}}
  - {{name: crit, claim: every cell, measure: critical_width, budget_iters: {b}, test: {{each: {{at_most: 1.0e9}}}}}}
",
        ms = c.master_seed,
        seeds = c.seeds,
        ls = c.linear_scale,
        b = c.budget
    )
}

/// A run's grid point as the test addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    arch: &'static str,
    depth: u64,
    width: u64,
    seed: u64,
}

/// A per-run measure the test derives itself.
type RunValue = fn(&RunTruth) -> f64;

/// What the test itself reads from a run's record.
#[derive(Debug, Clone)]
struct Truth {
    point: Point,
    /// None: the run has no result.
    result: Option<RunTruth>,
}

#[derive(Debug, Clone)]
struct RunTruth {
    final_rel_excess: f64,
    iters_to_target: f64,
    /// (iteration, relative excess) of each logged point.
    curve: Vec<(f64, f64)>,
    diverged_at: Option<f64>,
    stopped: bool,
}

fn records(runs: &Path) -> BTreeMap<String, (PathBuf, serde_json::Value)> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![runs.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                out.insert(v["id"].as_str().unwrap().to_string(), (path, v));
            }
        }
    }
    out
}

/// The measures of one record, derived from its fields by the rules the README states.
fn run_truth(rec: &serde_json::Value) -> RunTruth {
    let e0 = rec["theory"]["excess0"].as_f64().unwrap();
    let curve: Vec<(f64, f64)> = rec["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["iter"].as_f64().unwrap(), p["excess"].as_f64().unwrap() / e0))
        .collect();
    let diverged_at = rec["diverged_at"].as_f64();
    let final_rel_excess = if diverged_at.is_some() { f64::INFINITY } else { curve.last().unwrap().1 };
    // first_below[j - 1]: the first iteration with relative excess ≤ 10^-j (the target is 1e-3).
    let iters_to_target = rec["first_below"][2].as_f64().unwrap_or(f64::INFINITY);
    RunTruth { final_rel_excess, iters_to_target, curve, diverged_at, stopped: rec["stopped_at"].is_u64() }
}

/// The median of `values` (mean of the two middle ones for an even count; ∞ is the largest).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Parses a number as the outputs write it: CSV `inf`, JSON `"Infinity"`, text `∞`.
fn number(s: &str) -> Option<f64> {
    match s.trim() {
        "inf" | "Infinity" | "∞" => Some(f64::INFINITY),
        "" | "n/a" | "NaN" => None,
        s => Some(s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))),
    }
}

fn same(a: Option<f64>, b: Option<f64>, rel: f64) -> bool {
    match (a, b) {
        (Some(x), Some(y)) if x.is_infinite() || y.is_infinite() => x == y,
        (Some(x), Some(y)) => close(x, y, rel, 0.0),
        (None, None) => true,
        _ => false,
    }
}

/// Whether `text` (a number rounded for reading, `∞` or `n/a`) is `want` to within half a unit of
/// its last digit.
fn shows(text: &str, want: Option<f64>) -> bool {
    match (number(text), want) {
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
            let (m, e) = text.split_once('e').map_or((text, 0), |(m, e)| (m, e.parse::<i32>().unwrap()));
            let decimals = m.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
            (x - y).abs() <= 0.5 * 10f64.powi(e - decimals) * (1.0 + 1e-9)
        }
        (x, y) => x == y,
    }
}

/// A critical width as every output writes it: censored `<=6` / `>24` in CSV, `≤ 6` / `> 24` in
/// text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Width {
    Exactly(u64),
    AtMost(u64),
    Above(u64),
}

fn width_text(s: &str) -> Width {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let n = |t: &str| t.parse::<u64>().unwrap_or_else(|_| panic!("not a width: {s:?}"));
    if let Some(t) = s.strip_prefix("<=").or_else(|| s.strip_prefix('≤')) {
        Width::AtMost(n(t))
    } else if let Some(t) = s.strip_prefix('>') {
        Width::Above(n(t))
    } else {
        Width::Exactly(n(&s))
    }
}

/// The smallest width from which every wider one reaches the target within `budget` in at least
/// half the seeds, censored at the grid's ends.
fn critical(truths: &[&Truth], budget: u64) -> Width {
    let ok = |w: u64| {
        let seeds: Vec<&RunTruth> =
            truths.iter().filter(|t| t.point.width == w).filter_map(|t| t.result.as_ref()).collect();
        2 * seeds.iter().filter(|r| r.iters_to_target <= budget as f64).count() >= seeds.len()
    };
    // The widths the cell has results at (a figure over part of the runs says so and uses these).
    let widths: Vec<u64> =
        WIDTHS.into_iter().filter(|&w| truths.iter().any(|t| t.point.width == w && t.result.is_some())).collect();
    let mut crit = None;
    for &w in widths.iter().rev() {
        if !ok(w) {
            break;
        }
        crit = Some(w);
    }
    match crit {
        None => Width::Above(*widths.last().unwrap()),
        Some(w) if w == widths[0] => Width::AtMost(w),
        Some(w) => Width::Exactly(w),
    }
}

/// The pooled curve's median at `x` over `runs` by the README's rule: a seed holds its last
/// logged value between points; after its last point it holds it if it stopped early and takes
/// no part if it ran out; a diverged seed is ∞ from its ✗ on.
fn pooled_at(runs: &[&RunTruth], x: f64) -> Option<f64> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            if r.diverged_at.is_some_and(|at| x >= at) {
                return Some(f64::INFINITY);
            }
            let before: Vec<&(f64, f64)> = r.curve.iter().filter(|p| p.0 <= x).collect();
            let last = before.last()?;
            let ran_out = r.diverged_at.is_none() && !r.stopped && x > r.curve.last().unwrap().0;
            (!ran_out).then_some(last.1)
        })
        .collect();
    (!values.is_empty()).then(|| median(&values))
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

/// The label of a series of `arch` and `width` as the figures write it.
fn series(arch: &str, width: u64) -> String {
    format!("{arch} · {width}")
}

/// Every `<td>`'s `data-v` (or text) of the report's runs table, by column, for each run id.
fn report_runs(html: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let table = &html[html.find("id=\"runs\">").unwrap()..];
    let cols: Vec<String> = table.split("data-col=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect();
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td")
                .skip(1)
                .map(|td| match td.find("data-v=\"") {
                    Some(i) => td[i + 8..][..td[i + 8..].find('"').unwrap()].to_string(),
                    None => td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()].to_string(),
                })
                .collect();
            assert_eq!(cells.len(), cols.len(), "a report row has a cell per column: {row}");
            (cells[0].clone(), cols.iter().cloned().zip(cells).collect())
        })
        .collect()
}

/// The values a check's measured text gives each cell, keyed by (arch, depth, width) (width 0
/// for a cell over widths).
fn check_cells(out: &str, name: &str) -> BTreeMap<(String, u64, u64), String> {
    let block = &out[out.find(&format!("truth/{name}:")).unwrap_or_else(|| panic!("check {name}: {out}"))..];
    let measured = block.lines().find_map(|l| l.trim().strip_prefix("measured: ")).unwrap();
    measured
        .split("; ")
        .map(|item| {
            let tokens: Vec<&str> = item.split(' ').collect();
            let step = tokens.iter().position(|t| t.starts_with("step=")).unwrap();
            let num = |prefix: &str| {
                tokens[..step].iter().find_map(|t| t.strip_prefix(prefix)).map_or(0, |v| v.parse().unwrap())
            };
            let arch = tokens[..step].iter().find(|t| **t == "resnet" || **t == "linear").unwrap().to_string();
            ((arch, num("L="), num("m=")), tokens[step + 1..].join(" "))
        })
        .collect()
}

fn check_case(case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("g.yaml"), grid_yaml(case)).unwrap();
    let o = linres(d, &["run", "g.yaml", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));

    // Ids in grid order, each with its point.
    let listed: serde_json::Value =
        serde_json::from_slice(&linres(d, &["list", "g.yaml", "--json", "-q"]).stdout).unwrap();
    let point_of = |item: &serde_json::Value| {
        let p = &item["params"];
        Point {
            arch: if p["model.arch"] == "resnet" { "resnet" } else { "linear" },
            depth: p["model.depth"].as_u64().unwrap(),
            width: p["model.width"].as_u64().unwrap(),
            seed: p["seed"].as_u64().unwrap(),
        }
    };
    let ids: Vec<(String, Point)> =
        listed.as_array().unwrap().iter().map(|i| (i["id"].as_str().unwrap().to_string(), point_of(i))).collect();
    let runs_dir = d.join("results/truth/runs");
    if let Some(k) = case.drop_run {
        let (id, _) = &ids[k % ids.len()];
        std::fs::remove_file(&records(&runs_dir)[id].0).unwrap();
        let o = linres(d, &["run", "g.yaml", "--tables-only", "-q"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let recs = records(&runs_dir);
    let truths: BTreeMap<String, Truth> = ids
        .iter()
        .map(|(id, point)| (id.clone(), Truth { point: *point, result: recs.get(id).map(|(_, r)| run_truth(r)) }))
        .collect();
    let complete = truths.values().all(|t| t.result.is_some());

    // Per run: summary.csv, list --json and the report's runs table.
    let summary: BTreeMap<String, BTreeMap<String, String>> =
        csv_rows(&d.join("results/truth/summary.csv")).into_iter().map(|r| (r["id"].clone(), r)).collect();
    let listed: serde_json::Value =
        serde_json::from_slice(&linres(d, &["list", "g.yaml", "--json", "-q"]).stdout).unwrap();
    let json: BTreeMap<String, &serde_json::Value> =
        listed.as_array().unwrap().iter().map(|i| (i["id"].as_str().unwrap().to_string(), i)).collect();
    let o = linres(d, &["report", "g.yaml", "--out", "site", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let report = report_runs(&std::fs::read_to_string(d.join("site/truth/index.html")).unwrap());
    let json_number = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => number(s),
        v => v.as_f64(),
    };
    for (id, truth) in &truths {
        let row = &report[id];
        let measures = &json[id]["measures"];
        match &truth.result {
            None => {
                assert!(!summary.contains_key(id), "a run without a result has no summary row");
                assert_eq!(row["status"], "missing");
                for m in ["final_rel_excess", "iters_to_target", "theory.zou_margin", "theory.kappa"] {
                    assert!(measures[m].is_null(), "{id} {m}: {measures}");
                }
                for c in ["final_rel_excess", "iters_to_target", "zou_margin", "kappa"] {
                    assert_eq!(number(&row[c]), None, "{id} {c} in the report");
                }
            }
            Some(r) => {
                let s = &summary[id];
                for (name, col, want) in [
                    ("final_rel_excess", "final_rel_excess", r.final_rel_excess),
                    ("iters_to_target", "iters_to_target", r.iters_to_target),
                ] {
                    assert_eq!(number(&s[name]), Some(want), "{id} {name} in summary.csv");
                    assert_eq!(json_number(&measures[name]), Some(want), "{id} {name} in list --json");
                    assert_eq!(number(&row[col]), Some(want), "{id} {name} in the report");
                }
                // Theory quantities: the same in the three (absent for the linear network's Zou
                // margin and the ResNet's Du & Hu width).
                for (q, col) in
                    [("zou_margin", "zou_margin"), ("du_hu_width_required", "du_hu_width_required"), ("kappa", "kappa")]
                {
                    let in_summary = number(&s[q]);
                    let linear = truth.point.arch == "linear";
                    let lacks = (q == "zou_margin" && linear) || (q == "du_hu_width_required" && !linear);
                    assert_eq!(in_summary.is_none(), lacks, "{id} {q} in summary.csv");
                    assert_eq!(json_number(&measures[&format!("theory.{q}")]), in_summary, "{id} {q}");
                    assert_eq!(number(&row[col]), in_summary, "{id} {q} in the report");
                }
            }
        }
        // The field the linear network lacks: an empty CSV cell, n/a on the page, never blank.
        let transform = if truth.point.arch == "linear" { ("", "n/a") } else { ("gaussian", "gaussian") };
        if let Some(s) = summary.get(id) {
            assert_eq!(s["model.transform"], transform.0, "{id}");
        }
        assert_eq!(row["model.transform"], transform.1, "{id}");
    }

    // Per cell: the figures, the table and the checks against the test's own pooling.
    let o = linres(d, &["plot", "g.yaml", "--out", "figs", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let figs = d.join("figs/truth");
    let cell = |arch: &str, depth: u64, width: u64| -> Vec<&Truth> {
        truths
            .values()
            .filter(|t| t.point.arch == arch && t.point.depth == depth && (width == 0 || t.point.width == width))
            .collect()
    };
    let pooled = |arch: &str, depth: u64, width: u64, f: RunValue| -> Vec<f64> {
        cell(arch, depth, width).iter().filter_map(|t| t.result.as_ref()).map(f).collect()
    };
    let measures: [(&str, RunValue); 2] = [("excess", |r| r.final_rel_excess), ("iters", |r| r.iters_to_target)];
    let table_value = ["final_rel_excess", "iters_to_target"];
    for ((figure, f), value) in measures.into_iter().zip(table_value) {
        let rows = csv_rows(&figs.join(format!("{figure}.csv")));
        assert!(rows.iter().all(|r| !r["series"].trim().is_empty() && !r["series_value"].is_empty()));
        let table = linres(
            d,
            &[
                "table",
                "g.yaml",
                "--rows",
                "model.depth",
                "--cols",
                "model.arch,model.width",
                "--value",
                value,
                "--format",
                "csv",
                "-q",
            ],
        );
        // A table over part of the runs is refused (and says why) rather than pooling fewer seeds.
        assert_eq!(table.status.success(), complete, "{}", text(&table));
        let table_rows: Vec<Vec<String>> = if complete {
            csv::Reader::from_reader(&table.stdout[..])
                .records()
                .map(|r| r.unwrap().iter().map(String::from).collect())
                .collect()
        } else {
            assert!(text(&table).contains("no result"), "{}", text(&table));
            Vec::new()
        };
        let table_header: Vec<String> = csv::Reader::from_reader(&table.stdout[..])
            .headers()
            .map(|h| h.iter().map(String::from).collect())
            .unwrap_or_default();
        let checks = text(&linres(d, &["check", "g.yaml", "-q"]));
        let checked = complete.then(|| check_cells(&checks, figure));
        for arch in ["resnet", "linear"] {
            for depth in DEPTHS {
                for width in WIDTHS {
                    let values = pooled(arch, depth, width, f);
                    let want = (!values.is_empty()).then(|| median(&values));
                    let drawn = rows
                        .iter()
                        .find(|r| r["category"] == depth.to_string() && r["series_value"] == series(arch, width))
                        .map(|r| number(&r["median"]));
                    assert_eq!(drawn.flatten(), want, "{figure}: {arch} L={depth} m={width} drawn");
                    if complete {
                        let col = table_header.iter().position(|h| h == &format!("{arch}, {width}")).unwrap();
                        let row = table_rows.iter().find(|r| r[0] == depth.to_string()).unwrap();
                        assert!(same(number(&row[col]), want, 1e-12), "{value} table {arch} L={depth} m={width}");
                        let text = &checked.as_ref().unwrap()[&(arch.to_string(), depth, width)];
                        assert!(shows(text, want), "check {figure} {arch} L={depth} m={width}: {text} for {want:?}");
                    }
                }
            }
        }
    }

    // Critical widths: the figures (a budget nothing meets, and the case's), the table and the
    // check.
    let checks = text(&linres(d, &["check", "g.yaml", "-q"]));
    let budget = case.budget.to_string();
    let table = linres(
        d,
        &[
            "table",
            "g.yaml",
            "--rows",
            "model.depth",
            "--cols",
            "model.arch",
            "--value",
            "critical_width",
            "--budget-iters",
            &budget,
            "--format",
            "csv",
            "-q",
        ],
    );
    assert_eq!(table.status.success(), complete, "{}", text(&table));
    let table_rows: Vec<BTreeMap<String, String>> = if complete {
        let mut reader = csv::Reader::from_reader(&table.stdout[..]);
        let mut header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        header[0] = "rows".into();
        reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
    } else {
        Vec::new()
    };
    for (figure, budget) in [("never", 1), ("crit", case.budget)] {
        let rows = csv_rows(&figs.join(format!("{figure}.csv")));
        for arch in ["resnet", "linear"] {
            for depth in DEPTHS {
                let want = critical(&cell(arch, depth, 0), budget);
                let drawn = rows
                    .iter()
                    .find(|r| r["x"] == depth.to_string() && r["series_value"] == arch)
                    .unwrap_or_else(|| panic!("{figure}: no {arch} L={depth}"));
                assert_eq!(width_text(&drawn["critical_width"]), want, "{figure} {arch} L={depth}");
                if figure == "never" {
                    assert!(matches!(want, Width::Above(_)), "no run reaches 1e-3 in one iteration");
                }
                if complete && figure == "crit" {
                    let row = table_rows.iter().find(|r| r["rows"] == depth.to_string()).unwrap();
                    assert_eq!(width_text(&row[arch]), want, "table {arch} L={depth}");
                    let text = &check_cells(&checks, "crit")[&(arch.to_string(), depth, 0)];
                    assert_eq!(width_text(text), want, "check crit {arch} L={depth}");
                }
            }
        }
    }

    // Curves pooled over seeds: the figure's median at every x is the test's, and the median of
    // seeds that each fall monotonically falls monotonically.
    let rows = csv_rows(&figs.join("curves.csv"));
    for depth in DEPTHS {
        for arch in ["resnet", "linear"] {
            let seeds: Vec<&RunTruth> = cell(arch, depth, 12).into_iter().filter_map(|t| t.result.as_ref()).collect();
            let medians: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| {
                    r["panel_value"] == depth.to_string() && r["series_value"] == arch && r["curve"] == "median"
                })
                .map(|r| (number(&r["x"]).unwrap(), number(&r["y"]).unwrap()))
                .collect();
            assert!(!medians.is_empty() || seeds.is_empty(), "curves: {arch} L={depth} drawn");
            for &(x, y) in &medians {
                assert!(same(pooled_at(&seeds, x), Some(y), 1e-12), "curves {arch} L={depth} x={x}: {y}");
            }
            let falls = |c: &[(f64, f64)]| c.windows(2).all(|w| w[1].1 <= w[0].1);
            let xs: BTreeSet<u64> = medians.iter().map(|m| m.0 as u64).collect();
            assert_eq!(xs.len(), medians.len(), "one median per x");
            if seeds.iter().all(|s| s.diverged_at.is_none() && falls(&s.curve)) {
                assert!(falls(&medians), "the median of falling seeds falls: {arch} L={depth} {medians:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_output_shows_each_measure_as_the_records_define_it(
        master_seed in 0u64..1000,
        seeds in 1u64..=3,
        linear_scale in prop::sample::select(vec![1u64, 30]),
        stop_below in any::<bool>(),
        budget in prop::sample::select(vec![20u64, 60, 150]),
        drop_run in prop::option::of(0usize..100),
    ) {
        check_case(&Case { master_seed, seeds, linear_scale, stop_below, budget, drop_run });
    }
}

/// The one grid every kind of run is certain to be in: two seeds, a linear network that diverges,
/// ResNet seeds stopped early, a record missing.
#[test]
fn a_grid_with_every_kind_of_run_agrees_in_every_output() {
    check_case(&Case { master_seed: 3, seeds: 2, linear_scale: 30, stop_below: true, budget: 150, drop_run: Some(9) });
    check_case(&Case { master_seed: 3, seeds: 3, linear_scale: 1, stop_below: true, budget: 60, drop_run: None });
}

/// A grid of a ResNet and the linear network, which has no `transform`.
const MIXED: &str = "name: mixed
master_seed: 1
seeds: 1
data: {kind: spectrum, d: 3, k: 2, n: 20, kappa: 4}
model: {depth: 2, width: [6, 12], transform: gaussian}
optim: {method: gd, iters: 30}
zip: [{model.arch: [resnet, linear], optim.step: [{rule: zou}, {rule: du_hu}]}]
figures:
  - {name: by_transform, kind: curves, title: T, filter: {model.width: 6}, series: model.transform}
  - {name: gaussian_only, kind: curves, title: G, filter: {model.width: 6, model.transform: gaussian}, series: model.arch}
  - {name: absent_only, kind: curves, title: A, filter: {model.width: 6, model.transform: n/a}, series: model.arch}
checks:
  - {name: resnets, claim: c, filter: {model.transform: gaussian}, measure: final_rel_excess, test: {each: {at_most: 1}}}
";

/// A field a run does not have: a series label says `n/a` (never blank), a filter value `n/a`
/// selects those runs, and every filter that leaves them out only because they lack its field
/// (a figure's, a check's, a `--filter` of any command) says so.
#[test]
fn a_field_a_run_lacks_is_shown_selected_and_never_dropped_without_a_word() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("m.yaml"), MIXED).unwrap();
    let o = linres(d, &["run", "m.yaml"]);
    assert!(o.status.success(), "{}", text(&o));
    let note = "leaves out the 2 runs that have no model.transform; add n/a to its values to keep them";
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    for who in ["figure `gaussian_only`", "check `resnets`"] {
        assert!(stderr.contains(&format!("{who}: the filter on model.transform {note}")), "{who}: {stderr}");
    }
    assert!(!stderr.contains("figure `absent_only`"), "a filter listing n/a drops nothing silently: {stderr}");
    let o = linres(d, &["plot", "m.yaml", "--out", "figs", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let labels: BTreeSet<String> =
        csv_rows(&d.join("figs/mixed/by_transform.csv")).into_iter().map(|r| r["series"].clone()).collect();
    // Alone in a label, an absent value names its field.
    let want = BTreeSet::from(["gaussian".to_string(), "model.transform = n/a".to_string()]);
    assert_eq!(labels, want, "series labels");
    let archs = |name: &str| -> BTreeSet<String> {
        csv_rows(&d.join(format!("figs/mixed/{name}.csv"))).into_iter().map(|r| r["series_value"].clone()).collect()
    };
    assert_eq!(archs("gaussian_only"), BTreeSet::from(["resnet".to_string()]));
    assert_eq!(archs("absent_only"), BTreeSet::from(["linear".to_string()]));
    for args in [
        &["list", "m.yaml", "--filter", "model.transform=gaussian"][..],
        &[
            "table",
            "m.yaml",
            "--rows",
            "model.width",
            "--cols",
            "model.arch",
            "--value",
            "final_rel_excess",
            "--filter",
            "model.transform=gaussian",
        ][..],
    ] {
        let o = linres(d, args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(&format!("--filter: the filter on model.transform {note}")), "{args:?}: {stderr}");
    }
    let o = linres(d, &["list", "m.yaml", "--filter", "model.transform=n/a", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let archs: Vec<&str> =
        listed.as_array().unwrap().iter().map(|r| r["params"]["model.arch"].as_str().unwrap()).collect();
    assert_eq!(archs, ["linear", "linear"], "{}", text(&o));
}
