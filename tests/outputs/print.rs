//! Figures for print: the printed size and font size a figure declares (or `plot` is given), the
//! smallest text measured at that size in the SVG (and in the PDF where poppler is present), PDFs
//! that pdflatex includes without a warning, and lengths that cannot be printed refused.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{Tool, linres, outside, text};

/// A grid with one figure of each kind (curves with two panels), printed at the defaults except
/// `declared`, added to the `bars` figure.
fn spec(declared: &str) -> String {
    format!(
        "name: p
master_seed: 3
seeds: 2
data: {{kind: paper, d: 4, n: 40}}
model: {{depth: [2, 4], width: [10, 20], transform: gaussian}}
optim: {{method: gd, iters: 40}}
zip: [{{model.arch: [resnet, linear], optim.step: [{{rule: zou, scale: 4}}, {{rule: du_hu, scale: 1}}]}}]
figures:
  - {{name: curves, kind: curves, title: Curves of both networks at width 20 under their own step rules, filter: {{model.width: 20}}, facets: model.arch, series: model.depth, lines: [zou, du_hu]}}
  - {{name: bars, kind: bars, title: Bars, x: model.depth, series: [model.arch, model.width], y: iters_to_target{declared}}}
  - {{name: critical, kind: critical_width, title: Critical, x: model.depth, series: model.arch, budget: 10, bounds: [zou, du_hu, modified_identity]}}
"
    )
}

/// A directory holding experiment `p` (with `declared` on its bars figure), run.
fn ran(declared: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), spec(declared)).unwrap();
    let o = linres(dir.path(), &["run", "p.yaml", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    dir
}

/// The value of attribute `name` in the tag `tag` (its text from `<`), if present.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[start..].split('"').next()
}

/// (declared printed width in points, printed size in points of each text of) an SVG figure:
/// its `font-size` × its printed width / its viewBox width.
fn printed_text_sizes(svg: &str) -> (f64, Vec<f64>) {
    let head = &svg[svg.find("<svg").unwrap()..];
    let head = &head[..head.find('>').unwrap()];
    let width = attr(head, "width").unwrap();
    let printed: f64 = width.strip_suffix("pt").unwrap_or_else(|| panic!("width in pt: {width}")).parse().unwrap();
    let view: Vec<f64> = attr(head, "viewBox").unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
    let sizes = svg
        .split("<text")
        .skip(1)
        .filter(|t| !t.split('>').nth(1).unwrap_or_default().starts_with('<'))
        .map(|t| attr(t, "font-size").unwrap().parse::<f64>().unwrap() * printed / view[2])
        .collect();
    (printed, sizes)
}

/// The page width and height of a PDF written by the converter, from its `/MediaBox`.
fn media_box(pdf: &[u8]) -> (f64, f64) {
    let at = pdf.windows(9).position(|w| w == b"/MediaBox").expect("a MediaBox");
    let text = String::from_utf8_lossy(&pdf[at..at + 80]);
    let inner = text.split('[').nth(1).unwrap().split(']').next().unwrap();
    let v: Vec<f64> = inner.split_whitespace().map(|v| v.parse().unwrap()).collect();
    (v[2] - v[0], v[3] - v[1])
}

/// The heights of the words `pdftotext -bbox` finds in `pdf` (yMax − yMin, points).
fn pdf_word_heights(pdftotext: &str, pdf: &Path) -> Vec<f64> {
    let out = Command::new(pdftotext).arg("-bbox").arg(pdf).arg("-").output().unwrap();
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    html.split("<word ")
        .skip(1)
        .map(|w| {
            let get = |k: &str| attr(&format!(" {w}"), k).unwrap().parse::<f64>().unwrap();
            get("yMax") - get("yMin")
        })
        .collect()
}

#[test]
fn every_kind_prints_at_its_declared_size_with_no_text_below_its_font_size() {
    let dir = ran(", width: 8.5cm, font_size: 9pt");
    let o = linres(dir.path(), &["plot", "p.yaml"]);
    assert!(o.status.success(), "{}", text(&o));
    // (figure, printed width, font size): the defaults (345 pt, 8 pt), and 8.5 cm at 9 pt.
    for (name, width, font) in [("curves", 345.0, 8.0), ("bars", 8.5 / 2.54 * 72.0, 9.0), ("critical", 345.0, 8.0)] {
        let svg = std::fs::read_to_string(dir.path().join(format!("figures/p/{name}.svg"))).unwrap();
        let (printed, sizes) = printed_text_sizes(&svg);
        assert!((printed - width).abs() < 1e-6, "{name}: printed width {printed} pt, declared {width}");
        assert!(sizes.len() > 10, "{name}: its texts are measured ({sizes:?})");
        let smallest = sizes.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(smallest >= font - 1e-6 && smallest >= 7.0, "{name}: smallest text {smallest} pt at {width} pt");
        let pdf = std::fs::read(dir.path().join(format!("figures/p/{name}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-1.5"), "{name}.pdf says PDF 1.5");
        let (w, h) = media_box(&pdf);
        assert!((w - width).abs() < 0.01, "{name}.pdf is {w} pt wide, declared {width}");
        assert!(h > 100.0 && h < 3.0 * width, "{name}.pdf is {h} pt high");
    }
    let Some(pdftotext) = outside(Tool::Pdftotext) else { return };
    for (name, font) in [("curves", 8.0), ("bars", 9.0), ("critical", 8.0)] {
        // A word's box is its font size scaled by the font's ascent − descent as poppler reads it
        // (0.97 for the embedded DejaVu Sans subset).
        let heights = pdf_word_heights(pdftotext, &dir.path().join(format!("figures/p/{name}.pdf")));
        assert!(heights.len() > 10, "{name}.pdf has text");
        let smallest = heights.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(smallest >= 7.0 && smallest >= 0.95 * font, "{name}.pdf: the smallest word is {smallest} pt high");
    }
}

#[test]
fn plot_takes_a_printed_size_for_every_figure_from_the_command_line() {
    let dir = ran("");
    let o = linres(dir.path(), &["plot", "p.yaml", "--width", "5in", "--height", "4in", "--font-size", "10"]);
    assert!(o.status.success(), "{}", text(&o));
    for name in ["curves", "bars", "critical"] {
        let svg = std::fs::read_to_string(dir.path().join(format!("figures/p/{name}.svg"))).unwrap();
        assert!(svg.contains("width=\"360pt\" height=\"288pt\""), "{name}: 5 in × 4 in: {}", &svg[..200]);
        let (_, sizes) = printed_text_sizes(&svg);
        let smallest = sizes.iter().copied().fold(f64::INFINITY, f64::min);
        assert!((smallest - 10.0).abs() < 1e-6, "{name}: smallest text {smallest} pt");
        let (w, h) = media_box(&std::fs::read(dir.path().join(format!("figures/p/{name}.pdf"))).unwrap());
        assert!((w - 360.0).abs() < 0.01 && (h - 288.0).abs() < 0.01, "{name}.pdf is {w} × {h} pt");
    }
}

#[test]
fn lengths_that_cannot_be_printed_are_refused_naming_the_field_or_flag() {
    let dir = ran("");
    for (args, expected) in [
        (&["--width", "3 furlongs"][..], "`3 furlongs` is not a positive length"),
        (&["--width=-3in"][..], "is not a positive length"),
        (&["--font-size", "2pt"][..], "--font-size: 2pt is outside 5pt..24pt"),
        (&["--width", "40in"][..], "--width: 2880pt is outside 72pt..2160pt"),
        (&["--height", "1in"][..], "figures.curves.height: 72pt leaves"),
    ] {
        let o = linres(dir.path(), &[&["plot", "p.yaml"][..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(expected), "{args:?}: expected `{expected}` in {}", text(&o));
        let written = std::fs::read_dir(dir.path().join("figures/p")).map_or(0, |d| d.count());
        assert_eq!(written, 0, "{args:?}: nothing is written");
    }
    for (declared, expected) in [
        (", width: 12 parsecs", "figures[1].width: `12 parsecs` is not a positive length"),
        (", font_size: 30pt", "figures[1].font_size: 30pt is outside 5pt..24pt"),
        (", height: .nan", "figures[1].height: `NaN` is not a positive length"),
    ] {
        std::fs::write(dir.path().join("p.yaml"), spec(declared)).unwrap();
        let o = linres(dir.path(), &["plot", "p.yaml"]);
        assert_eq!(o.status.code(), Some(2), "{declared}: {}", text(&o));
        assert!(text(&o).contains(expected), "{declared}: expected `{expected}` in {}", text(&o));
    }
}

#[test]
fn every_committed_figure_is_declared_readable_at_its_printed_width() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("experiments")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let grid = linres::experiment::Grid::load(&path, &[], &root.join("results")).unwrap();
        for fig in &grid.figures {
            seen += 1;
            // Every text is drawn at least at the font size (measured for each kind above).
            assert!(fig.print.font >= 7.0, "{}: {} pt text", fig.name, fig.print.font);
            assert!(fig.print.width <= 505.0, "{}: wider than a two-column page ({} pt)", fig.name, fig.print.width);
        }
    }
    assert!(seen >= 10, "the experiments declare their figures ({seen})");
}

#[test]
fn pdflatex_includes_a_figure_of_each_kind_and_a_table_without_warnings() {
    let dir = ran("");
    let o = linres(dir.path(), &["plot", "p.yaml"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = linres(
        dir.path(),
        &[
            "table",
            "p.yaml",
            "--filter",
            "model.width=20",
            "--rows",
            "model.depth",
            "--cols",
            "model.arch",
            "--value",
            "iters_to_target",
            "--format",
            "latex",
            "--out",
            "t.tex",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let Some(pdflatex) = outside(Tool::Pdflatex) else { return };
    let figures: String = ["curves", "bars", "critical"]
        .iter()
        .map(|f| format!("\\begin{{figure}}\\includegraphics[width=\\linewidth]{{figures/p/{f}.pdf}}\\end{{figure}}\n"))
        .collect();
    let doc = format!(
        "\\documentclass{{article}}\n\\usepackage[T1]{{fontenc}}\n\\usepackage[utf8]{{inputenc}}\n\\usepackage{{booktabs}}\n\\usepackage{{graphicx}}\n\\begin{{document}}\n\\input{{t.tex}}\n{figures}\\end{{document}}\n"
    );
    std::fs::write(dir.path().join("doc.tex"), doc).unwrap();
    let o = Command::new(pdflatex)
        .current_dir(dir.path())
        .args(["-interaction=nonstopmode", "-halt-on-error", "doc.tex"])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.path().join("doc.log")).unwrap_or_default();
    assert!(o.status.success(), "pdflatex: {}", String::from_utf8_lossy(&o.stdout));
    // No version warning for the figures, and no box of the figures or the table overfull.
    for warning in ["PDF inclusion", "Overfull", "Warning"] {
        assert!(!log.contains(warning), "`{warning}` in the log: {log}");
    }
}
