//! The plotting stage: the figures declared in an experiment file, drawn from its cached results
//! into `figures/<experiment>/<figure>.{svg,png,pdf}`, each beside a CSV of exactly the numbers drawn.

pub mod data;
pub mod draw;
pub mod layout;
pub mod pdf;

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::escape::{csv_text, xml_chars};
use crate::experiment::Experiment;
use crate::grid::SpecError;
use crate::grid::figure::{FigureDecl, FigureKind, PrintSize};
use crate::measure::Measured;
use crate::number::float_text;
use crate::store::atomic::Staging;
use data::{BarData, CriticalData, CurveData};
use layout::{Canvas, Frame};

/// Why a figure could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("drawing {figure}: {message}")]
    Draw { figure: String, message: String },
}

/// A figure's numbers, of whichever kind.
pub enum FigureData {
    Curves(CurveData),
    Critical(CriticalData),
    Bars(BarData),
}

impl FigureData {
    /// The legend entries (each mark drawn and its text).
    fn keys(&self) -> Vec<(draw::Key, String)> {
        match self {
            FigureData::Curves(d) => draw::curve_keys(d),
            FigureData::Critical(d) => draw::critical_keys(d),
            FigureData::Bars(d) => draw::bar_keys(d),
        }
    }

    /// The canvas of this figure printed at `print` under `title`: the declared height, or the
    /// height its title, legend and panels need at the declared width.
    pub fn canvas(&self, title: &str, print: PrintSize) -> Canvas {
        let texts: Vec<String> = self.keys().into_iter().map(|(_, t)| t).collect();
        Frame::canvas(print, title, &texts, |width| match self {
            FigureData::Curves(d) => draw::curves_body(d, width),
            FigureData::Critical(_) | FigureData::Bars(_) => draw::single_body(width),
        })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        canvas: &Canvas,
        title: &str,
    ) -> Result<(), String> {
        match self {
            FigureData::Curves(d) => draw::curves(root, canvas, title, d),
            FigureData::Critical(d) => draw::critical(root, canvas, title, d),
            FigureData::Bars(d) => draw::bars(root, canvas, title, d),
        }
        .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    }

    /// The numbers drawn, as tidy CSV rows; text cells (labels, values, titles) as
    /// [`csv_text`] writes them for spreadsheets.
    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut row = |cells: &[String]| {
            let cells = cells.iter().map(|c| csv_text(c).into_owned());
            w.write_record(cells).expect("writing to memory");
        };
        match self {
            FigureData::Curves(d) => {
                row(&["panel_value", "panel", "series_value", "series", "curve", "x", "y"].map(String::from));
                for p in &d.panels {
                    for b in &p.bands {
                        let head = [p.value.clone(), p.title.clone(), b.value.clone(), b.label.clone()];
                        for q in &b.points {
                            for (curve, y) in [("median", q.median), ("min", q.min), ("max", q.max)] {
                                row(&[&head[..], &[curve.into(), float_text(q.x), float_text(y)]].concat());
                            }
                        }
                        for l in &b.lines {
                            let name = l.kind.name().to_string();
                            for &(x, y) in &l.points {
                                row(&[&head[..], &[name.clone(), float_text(x), float_text(y)]].concat());
                            }
                        }
                    }
                }
            }
            FigureData::Critical(d) => {
                row(&["series_value", "series", "x", "critical_width", "seed_min", "seed_max"].map(String::from));
                for s in &d.series {
                    for p in &s.points {
                        let w = p.width;
                        let cells = [w.pooled.csv(), w.seed_min.csv(), w.seed_max.csv()];
                        row(&[&[s.value.clone(), s.label.clone(), float_text(p.x)][..], &cells].concat());
                    }
                }
                for b in &d.bounds {
                    let name = format!("bound:{}", b.kind.name());
                    for &(x, w) in &b.points {
                        row(&[String::new(), name.clone(), float_text(x), float_text(w), String::new(), String::new()]);
                    }
                }
            }
            FigureData::Bars(d) => {
                row(&["category", "series_value", "series", "median", "min", "max"].map(String::from));
                for s in &d.series {
                    for (cat, v) in d.categories.iter().zip(&s.values) {
                        if let Some(spread) = v {
                            let cells = [spread.median, spread.min, spread.max].map(|v| Measured::Value(v).csv());
                            row(&[&[cat.clone(), s.value.clone(), s.label.clone()][..], &cells].concat());
                        }
                    }
                }
            }
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 texts")
    }
}

/// Computes the numbers of figure `fig` of `exp`; `margin` holds the runs of its
/// `margin_experiment`, if it names one.
pub fn figure_data(exp: &Experiment, fig: &FigureDecl, margin: Option<&Experiment>) -> Result<FigureData, SpecError> {
    Ok(match &fig.kind {
        FigureKind::Curves(c) => FigureData::Curves(data::curves(exp, fig, c)?),
        FigureKind::CriticalWidth(c) => FigureData::Critical(data::critical_width(exp, fig, c, margin)?),
        FigureKind::Bars(b) => FigureData::Bars(data::bars(exp, fig, b)?),
    })
}

/// Draws every figure of `exp` into `out_dir/<experiment>/` (`.svg`, `.png`, `.pdf` and `.csv`
/// each); returns the files written. All or nothing, and all at once: every figure is rendered
/// into a staging directory beside the target, which then replaces it in one step
/// ([`Staging::publish`]), keeping the other files the directory holds; a figure that fails leaves
/// the directory as it was. Margin experiments are loaded from the experiment file's directory.
///
/// `print` replaces each figure's declared printed size with the lengths it gives.
pub fn plot_experiment(
    exp: &Experiment,
    out_dir: &Path,
    results: &Path,
    print: &PrintOverride,
) -> Result<Vec<PathBuf>, PlotError> {
    draw::register_fonts();
    let figures = &exp.figures;
    if figures.is_empty() {
        return Ok(Vec::new());
    }
    let dir = out_dir.join(&exp.spec.name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PlotError::Io { path, source }
    };
    let staging = Staging::new(&dir).map_err(io(&dir))?;
    let mut files = Vec::new();
    for fig in figures {
        files.extend(render(exp, fig, staging.dir(), results, print)?);
    }
    let names: Vec<PathBuf> =
        files.iter().map(|f| dir.join(f.file_name().expect("a staged file has a name"))).collect();
    staging.publish(|_| true).map_err(io(&dir))?;
    Ok(names)
}

/// The least height a figure's plot (panels and axes) may have, in points.
const MIN_BODY_PT: f64 = 100.0;

/// Printed lengths that replace every figure's declared ones (`None`: as declared), in points.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PrintOverride {
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub font: Option<f64>,
}

impl PrintOverride {
    /// The printed size of `fig` under this override; the rule a length breaks otherwise.
    fn of(&self, exp_file: &Path, fig: &FigureDecl) -> Result<PrintSize, PlotError> {
        fig.print
            .with(self.width, self.height, self.font)
            .map_err(|(field, rule)| print_error(exp_file, fig, &field, rule))
    }
}

/// The numbers of figure `fig` of `exp` printed at `print`, its canvas and its SVG text (its
/// margin experiment, if it names one, loaded from the experiment file's directory with results
/// under `results`). The SVG is declared at the printed size in points, over a canvas of
/// [`layout::PX_PER_PT`] pixels per point.
fn svg_of(
    exp: &Experiment,
    fig: &FigureDecl,
    results: &Path,
    print: PrintSize,
) -> Result<(FigureData, Canvas, String), PlotError> {
    let margin = match &fig.kind {
        FigureKind::CriticalWidth(c) => match &c.margin_experiment {
            Some(name) => Some(Experiment::load(&exp.spec.base().join(format!("{name}.yaml")), results)?),
            None => None,
        },
        FigureKind::Curves(_) | FigureKind::Bars(_) => None,
    };
    let data = figure_data(exp, fig, margin.as_ref())?;
    let canvas = data.canvas(&fig.title, print);
    let texts: Vec<String> = data.keys().into_iter().map(|(_, t)| t).collect();
    let frame = Frame::of(&canvas, &fig.title, &texts);
    let body = canvas.height - (frame.title_h + frame.legend_h) as f64 / canvas.scale();
    if body < MIN_BODY_PT {
        return Err(print_error(
            &exp.spec.path,
            fig,
            "height",
            format!(
                "{}pt leaves {}pt for the plot under the title and legend at this width, below the {}pt it \
                 needs (leave the height out: then it is what the layout needs)",
                float_text(canvas.height),
                float_text(body.max(0.0).round()),
                float_text(MIN_BODY_PT)
            ),
        ));
    }
    let mut svg = String::new();
    data.draw(&SVGBackend::with_string(&mut svg, canvas.pixels()).into_drawing_area(), &canvas, &fig.title)
        .map_err(|message| PlotError::Draw { figure: fig.name.clone(), message })?;
    // Labels and values from input may hold characters that XML cannot (plotters writes them raw).
    let svg = printed_size(&xml_chars(&svg), &canvas);
    Ok((data, canvas, svg))
}

/// A printed size that does not fit figure `fig` of the experiment file `file`: bad input.
fn print_error(file: &Path, fig: &FigureDecl, field: &str, rule: String) -> PlotError {
    PlotError::Spec(SpecError {
        file: file.display().to_string(),
        position: None,
        field: Some(format!("figures.{}.{field}", fig.name)),
        message: rule,
    })
}

/// `svg` (plotters' document, sized in pixels) declared at `canvas`'s printed size in points.
fn printed_size(svg: &str, canvas: &Canvas) -> String {
    let (w, h) = canvas.pixels();
    let from = format!("<svg width=\"{w}\" height=\"{h}\" ");
    let to =
        format!("<svg width=\"{}pt\" height=\"{}pt\" ", float_text(canvas.width), float_text(canvas.printed_height()));
    debug_assert!(svg.contains(&from), "plotters opens its SVG with its size");
    svg.replacen(&from, &to, 1)
}

/// A declared figure and its SVG text, or why it could not be drawn.
pub type FigureSvg<'a> = (&'a FigureDecl, Result<String, PlotError>);

/// Every figure `exp` declares, drawn as SVG text (for pages that inline them): (figure, its SVG
/// or why it could not be drawn), in declaration order.
pub fn figure_svgs<'a>(exp: &'a Experiment, results: &Path) -> Vec<FigureSvg<'a>> {
    draw::register_fonts();
    exp.figures.iter().map(|fig| (fig, svg_of(exp, fig, results, fig.print).map(|(.., svg)| svg))).collect()
}

/// Renders figure `fig` of `exp` into `dir`; returns its files.
fn render(
    exp: &Experiment,
    fig: &FigureDecl,
    dir: &Path,
    results: &Path,
    print: &PrintOverride,
) -> Result<Vec<PathBuf>, PlotError> {
    let (data, canvas, svg) = svg_of(exp, fig, results, print.of(&exp.spec.path, fig)?)?;
    let draw_error = |message: String| PlotError::Draw { figure: fig.name.clone(), message };
    let base = dir.join(&fig.name);
    let write = |ext: &str, bytes: &[u8]| {
        let path = base.with_extension(ext);
        std::fs::write(&path, bytes).map(|_| path.clone()).map_err(|source| PlotError::Io { path, source })
    };
    let pdf = pdf::from_svg(&svg).map_err(draw_error)?;
    let mut files = vec![write("svg", svg.as_bytes())?, write("pdf", &pdf)?, write("csv", data.csv().as_bytes())?];
    let png = base.with_extension("png");
    data.draw(&BitMapBackend::new(&png, canvas.pixels()).into_drawing_area(), &canvas, &fig.title)
        .map_err(draw_error)?;
    files.push(png);
    Ok(files)
}
