//! Tables for a paper (`linres table`): headers from the figures' `labels:` with one header row
//! per column field (booktabs `\cmidrule` groups), cells as `median [min, max]` or `mean ± sd`
//! recomputed here from the records, significant digits, censored widths as ≤ / >, a caption and
//! a label that pdflatex typesets and references without a warning, and bad flags refused.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Tool, linres, outside, texts};

/// Depth × architecture × width, three seeds, every iteration logged; a figure labels the
/// architectures and the width field.
const GRID: &str = "name: paper_table\nmaster_seed: 11\nseeds: 3\ndata: {kind: paper, d: 4, n: 30}\n\
model: {depth: [2, 4], width: [12, 24], transform: gaussian}\n\
optim: {method: gd, iters: 300}\nlog: {schedule: all}\ntheory: {target: 1.0e-3}\n\
zip:\n  - model.arch: [resnet, linear]\n    optim.step: [{rule: zou}, {rule: du_hu}]\n\
figures:\n  - {name: f, kind: bars, title: T, x: model.depth, series: [model.arch, model.width], \
y: iters_to_target, labels: {resnet: ResNet, linear: linear net, model.width: m}}\n";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.yaml"), GRID).unwrap();
    let o = linres(dir.path(), &["run", "-q", "grid.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    dir
}

fn table(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["table", "grid.yaml", "--rows", "model.depth", "--cols", "model.arch,model.width"];
    args.extend_from_slice(extra);
    linres(dir, &args)
}

/// The records' curves: (depth, arch, width) → per seed, the relative excess at each logged
/// iteration, as (iteration, relative excess).
type Curves = BTreeMap<(u64, String, u64), Vec<Vec<(f64, f64)>>>;

fn curves(dir: &Path) -> Curves {
    let mut out: Curves = BTreeMap::new();
    for (_, rec) in common::records_in(&dir.join("results/paper_table/runs")) {
        let m = &rec["config"]["model"];
        let curve = rec["curve"].as_array().unwrap();
        let e0 = curve[0]["excess"].as_f64().unwrap();
        let points = curve.iter().map(|p| (p["iter"].as_f64().unwrap(), p["excess"].as_f64().unwrap() / e0)).collect();
        let key = (m["depth"].as_u64().unwrap(), m["arch"].as_str().unwrap().to_string(), m["width"].as_u64().unwrap());
        out.entry(key).or_default().push(points);
    }
    assert_eq!(out.len(), 8, "two depths × two architectures × two widths");
    assert!(out.values().all(|seeds| seeds.len() == 3), "three seeds per cell");
    out
}

/// The CSV output as rows of (header → cell).
fn csv_rows(out: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(out);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

#[test]
fn median_range_and_mean_sd_cells_are_the_records_statistics() {
    let dir = setup();
    let want = curves(dir.path());
    let finals = |seeds: &Vec<Vec<(f64, f64)>>| -> Vec<f64> {
        let mut v: Vec<f64> = seeds.iter().map(|c| c.last().unwrap().1).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let o = table(dir.path(), &["--value", "final_rel_excess", "--cell", "median-range", "--format", "csv"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let rows = csv_rows(&o.stdout);
    let o = table(dir.path(), &["--value", "final_rel_excess", "--cell", "mean-sd", "--format", "csv"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let mean_rows = csv_rows(&o.stdout);
    for ((depth, arch, width), seeds) in &want {
        let v = finals(seeds);
        let row = rows.iter().find(|r| r["model.depth \\ model.arch, model.width"] == depth.to_string()).unwrap();
        let got = |part: &str| -> f64 { row[&format!("{arch}, {width} ({part})")].parse().unwrap() };
        let at = format!("L={depth} {arch} m={width}");
        // Three seeds: the median is the middle one.
        for (part, expect) in [("median", v[1]), ("min", v[0]), ("max", v[2])] {
            assert!(common::close(got(part), expect, 1e-12, 0.0), "{at} {part}: {} vs {expect}", got(part));
        }
        let mean = v.iter().sum::<f64>() / 3.0;
        let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 2.0).sqrt();
        let row = mean_rows.iter().find(|r| r["model.depth \\ model.arch, model.width"] == depth.to_string()).unwrap();
        let got = |part: &str| -> f64 { row[&format!("{arch}, {width} ({part})")].parse().unwrap() };
        assert!(common::close(got("mean"), mean, 1e-12, 0.0), "{at} mean: {} vs {mean}", got("mean"));
        assert!(common::close(got("sd"), sd, 1e-9, 1e-300), "{at} sd: {} vs {sd}", got("sd"));
    }
    // The cells are different numbers, not one repeated: the seeds differ.
    assert!(want.values().any(|s| finals(s)[0] < finals(s)[2]));
}

/// The significant digits of a number as written: `0.00123` → 3, `1.20e-7` → 3, `45.0` → 3.
fn significant_digits(text: &str) -> usize {
    let mantissa = text.split('e').next().unwrap();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').len()
}

#[test]
fn digits_are_respected_and_each_shown_number_rounds_the_records_value() {
    let dir = setup();
    let want = curves(dir.path());
    for digits in [2usize, 5] {
        let d = digits.to_string();
        let o = table(dir.path(), &["--value", "final_rel_excess", "--cell", "median-range", "--digits", &d]);
        let (out, err) = texts(&o);
        assert!(o.status.success(), "{err}");
        let mut seen = 0;
        for line in out.lines().skip(2) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let depth: u64 = cells[0].parse().unwrap();
            let cols = [("resnet", 12), ("resnet", 24), ("linear", 12), ("linear", 24)];
            for ((arch, width), cell) in cols.iter().zip(&cells[1..]) {
                // `median [min, max]`, Markdown-escaped brackets.
                let numbers: Vec<&str> = cell.split(|c: char| " [],\\".contains(c)).filter(|t| !t.is_empty()).collect();
                assert_eq!(numbers.len(), 3, "{cell}");
                let mut v: Vec<f64> =
                    want[&(depth, arch.to_string(), *width)].iter().map(|c| c.last().unwrap().1).collect();
                v.sort_by(f64::total_cmp);
                for (text, value) in numbers.iter().zip([v[1], v[0], v[2]]) {
                    assert_eq!(significant_digits(text), digits, "{text} in {cell}");
                    let shown: f64 = text.parse().unwrap();
                    let unit = 10f64.powf(value.abs().log10().floor() - (digits as f64 - 1.0));
                    assert!((shown - value).abs() <= 0.5 * unit * (1.0 + 1e-9), "{text} for {value}");
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 2 * 4 * 3, "{out}");
    }
}

/// The critical width of a cell, censored, as the test computes it from the curves: the smallest
/// width from which every wider one reaches `target` within `budget` iterations in at least half
/// the seeds; "≤ w" when the smallest width already does, "> w" when the widest does not.
fn critical_text(curves: &Curves, depth: u64, arch: &str, target: f64, budget: f64) -> String {
    let widths = [12u64, 24];
    let ok = |w: u64| {
        let seeds = &curves[&(depth, arch.to_string(), w)];
        let reached = seeds.iter().filter(|c| c.iter().any(|&(t, r)| r <= target && t <= budget)).count();
        2 * reached >= seeds.len()
    };
    let mut crit = None;
    for &w in widths.iter().rev() {
        if !ok(w) {
            break;
        }
        crit = Some(w);
    }
    match crit {
        None => format!("> {}", widths[1]),
        Some(w) if w == widths[0] => format!("≤ {w}"),
        Some(w) => w.to_string(),
    }
}

#[test]
fn censored_widths_read_at_most_and_above_in_markdown_and_latex() {
    let dir = setup();
    let want = curves(dir.path());
    for (target, budget, latex) in [("1e-1", "300", "$\\le 12$"), ("1e-3", "1", "$> 24$")] {
        let args = ["--value", "critical_width", "--target", target, "--budget-iters", budget];
        let o = linres(
            dir.path(),
            &[&["table", "grid.yaml", "--rows", "model.depth", "--cols", "model.arch"][..], &args[..]].concat(),
        );
        let (out, err) = texts(&o);
        assert!(o.status.success(), "{err}");
        let mut shown = Vec::new();
        for line in out.lines().skip(2) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let depth: u64 = cells[0].parse().unwrap();
            for (arch, cell) in ["resnet", "linear"].iter().zip(&cells[1..]) {
                let expect = critical_text(&want, depth, arch, target.parse().unwrap(), budget.parse().unwrap());
                assert_eq!(cell.replace('\\', ""), expect, "L={depth} {arch}");
                shown.push(expect);
            }
        }
        assert_eq!(shown.len(), 4);
        let o = linres(
            dir.path(),
            &[&["table", "grid.yaml", "--rows", "model.depth", "--cols", "model.arch", "--format", "latex"][..], &args]
                .concat(),
        );
        let (tex, err) = texts(&o);
        assert!(o.status.success(), "{err}");
        // The case is censored as the test intends: every cell at one end of the grid.
        let censored = if latex.contains("le") { "≤ 12" } else { "> 24" };
        assert!(shown.iter().all(|s| s == censored), "{shown:?}");
        assert_eq!(tex.matches(latex).count(), 4, "{tex}");
    }
}

#[test]
fn headers_come_from_the_figures_labels_with_a_row_per_column_field() {
    let dir = setup();
    let o = table(dir.path(), &["--value", "iters_to_target", "--format", "latex"]);
    let (tex, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    // Level 1: the architectures' labels over two columns each, ruled; level 2: the labelled width.
    assert!(
        tex.contains(" & \\multicolumn{2}{c}{ResNet} & \\multicolumn{2}{c}{linear net} \\\\\n\\cmidrule(lr){2-3}\\cmidrule(lr){4-5}\n"),
        "{tex}"
    );
    assert!(
        tex.contains("depth L & \\multicolumn{1}{c}{m = 12} & \\multicolumn{1}{c}{m = 24} & \\multicolumn{1}{c}{m = 12} & \\multicolumn{1}{c}{m = 24} \\\\\n\\midrule\n"),
        "{tex}"
    );
    let o = table(dir.path(), &["--value", "iters_to_target"]);
    let (md, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        md.lines().next().unwrap(),
        "| depth L | ResNet · m = 12 | ResNet · m = 24 | linear net · m = 12 | linear net · m = 24 |"
    );
    // A field the linear network does not have is the shared absent notation, never blank.
    let o = linres(
        dir.path(),
        &[
            "table",
            "grid.yaml",
            "--rows",
            "model.depth",
            "--cols",
            "model.arch,model.transform",
            "--filter",
            "model.width=12",
            "--value",
            "iters_to_target",
        ],
    );
    let (md, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(md.lines().next().unwrap(), "| depth L | ResNet · gaussian | linear net · n/a |");
}

#[test]
fn a_captioned_labelled_table_with_grouped_headers_compiles_without_warnings() {
    let dir = setup();
    let caption = "Iterations to 1e-3 & spread_of 3 seeds";
    let o = table(
        dir.path(),
        &[
            "--value",
            "iters_to_target",
            "--cell",
            "mean-sd",
            "--format",
            "latex",
            "--caption",
            caption,
            "--label",
            "tab:excess",
            "--out",
            "t.tex",
        ],
    );
    assert!(o.status.success(), "{}", texts(&o).1);
    let tex = std::fs::read_to_string(dir.path().join("t.tex")).unwrap();
    assert!(tex.contains("\\begin{table}[htbp]\n\\centering\n\\caption{Iterations to 1e-3 \\& spread\\_of 3 seeds}\n\\label{tab:excess}\n"), "{tex}");
    assert!(tex.contains("\\cmidrule(lr){2-3}\\cmidrule(lr){4-5}") && tex.contains("$\\pm$"), "{tex}");
    assert!(tex.trim_end().ends_with("\\end{table}"), "{tex}");
    let (Some(pdflatex), Some(pdftotext)) = (outside(Tool::Pdflatex), outside(Tool::Pdftotext)) else { return };
    let doc = "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n\
               \\usepackage{booktabs}\n\\begin{document}\nTable~\\ref{tab:excess} shows it.\n\\input{t.tex}\n\
               \\end{document}\n";
    std::fs::write(dir.path().join("doc.tex"), doc).unwrap();
    // Twice: the first pass writes the label, the second resolves the reference.
    for _ in 0..2 {
        let o = Command::new(pdflatex)
            .current_dir(dir.path())
            .args(["-interaction=nonstopmode", "-halt-on-error", "doc.tex"])
            .output()
            .unwrap();
        assert!(o.status.success(), "pdflatex: {}", String::from_utf8_lossy(&o.stdout));
    }
    let log = std::fs::read_to_string(dir.path().join("doc.log")).unwrap();
    for warning in ["Warning", "Overfull", "Underfull", "undefined"] {
        assert!(!log.contains(warning), "`{warning}` in the log: {log}");
    }
    let o = Command::new(pdftotext).current_dir(dir.path()).args(["-layout", "doc.pdf", "-"]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Table 1 shows it."), "the reference resolves: {text}");
    assert!(text.contains(&format!("Table 1: {caption}")), "the caption as written: {text}");
    assert!(text.contains("ResNet") && text.contains("m = 12") && text.contains("±"), "{text}");
}

#[test]
fn bad_cell_digits_caption_and_label_flags_are_exit_2_naming_the_flag() {
    let dir = setup();
    let cases: [(&[&str], &str); 9] = [
        (&["--value", "final_rel_excess", "--digits", "0"], "--digits"),
        (&["--value", "final_rel_excess", "--digits", "18"], "--digits"),
        (&["--value", "final_rel_excess", "--cell", "median-sd"], "--cell"),
        (&["--value", "final_rel_excess", "--cell", "median-range", "--agg", "max"], "--agg: --cell median-range"),
        (&["--value", "final_rel_excess", "--caption", "x"], "--caption: only --format latex"),
        (&["--value", "final_rel_excess", "--format", "latex", "--label", "tab:x"], "--label: a label refers"),
        (
            &["--value", "final_rel_excess", "--format", "latex", "--caption", "x", "--label", "tab x}"],
            "--label: `tab x}` must be",
        ),
        (&["--value", "critical_width", "--budget-iters", "10", "--cell", "mean-sd"], "--cell"),
        (&["--value", "margin_one_width", "--cell", "median-range"], "--cell"),
    ];
    for (extra, message) in cases {
        let args: Vec<&str> = if extra.contains(&"critical_width") || extra.contains(&"margin_one_width") {
            [&["table", "grid.yaml", "--rows", "model.depth", "--cols", "model.arch"][..], extra].concat()
        } else {
            [&["table", "grid.yaml", "--rows", "model.depth", "--cols", "model.arch,model.width"][..], extra].concat()
        };
        let o = linres(dir.path(), &args);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(message), "{extra:?}: `{message}` not in {err}");
    }
}
