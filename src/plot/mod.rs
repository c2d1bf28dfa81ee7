//! The plotting stage: the figures declared in an experiment file, drawn from its cached results
//! into `figures/<experiment>/<figure>.{svg,png}`, each beside a CSV of exactly the numbers drawn.

pub mod data;
pub mod draw;
pub mod spec;

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::experiment::Experiment;
use crate::export::float_text;
use crate::spec::SpecError;
use crate::store::atomic;
use data::{BarData, CriticalData, CurveData};
use spec::{FigureKind, FigureSpec};

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
    /// Canvas size in pixels.
    fn size(&self) -> (u32, u32) {
        match self {
            FigureData::Curves(c) if c.panels.len() <= 1 => (960, 640),
            FigureData::Curves(c) => (40 + 600 * c.panels.len() as u32, 640),
            FigureData::Critical(_) => (960, 680),
            FigureData::Bars(_) => (960, 600),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        title: &str,
    ) -> Result<(), String> {
        match self {
            FigureData::Curves(d) => draw::curves(root, title, d),
            FigureData::Critical(d) => draw::critical(root, title, d),
            FigureData::Bars(d) => draw::bars(root, title, d),
        }
        .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    }

    /// The numbers drawn, as tidy CSV rows.
    fn csv(&self) -> String {
        let mut out = String::new();
        let mut row = |cells: &[String]| {
            out.push_str(
                &cells
                    .iter()
                    .map(|c| if c.contains(',') { format!("\"{c}\"") } else { c.clone() })
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        };
        match self {
            FigureData::Curves(d) => {
                row(&["panel", "series", "curve", "x", "y"].map(String::from));
                for p in &d.panels {
                    for b in &p.bands {
                        for q in &b.points {
                            for (curve, y) in [("median", q.median), ("min", q.min), ("max", q.max)] {
                                row(&[p.title.clone(), b.label.clone(), curve.into(), float_text(q.x), float_text(y)]);
                            }
                        }
                        for l in &b.lines {
                            let name = serde_json::to_value(l.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default();
                            for &(x, y) in &l.points {
                                row(&[p.title.clone(), b.label.clone(), name.clone(), float_text(x), float_text(y)]);
                            }
                        }
                    }
                }
            }
            FigureData::Critical(d) => {
                row(&["series", "x", "critical_width", "seed_min", "seed_max"].map(String::from));
                let opt = |v: Option<f64>| v.map(float_text).unwrap_or_default();
                for s in &d.series {
                    for p in &s.points {
                        row(&[s.label.clone(), float_text(p.x), opt(p.crit), opt(p.lo), opt(p.hi)]);
                    }
                }
                for b in &d.bounds {
                    let name = format!(
                        "bound:{}",
                        serde_json::to_value(b.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default()
                    );
                    for &(x, w) in &b.points {
                        row(&[name.clone(), float_text(x), float_text(w), String::new(), String::new()]);
                    }
                }
            }
            FigureData::Bars(d) => {
                row(&["category", "series", "median", "min", "max"].map(String::from));
                for s in &d.series {
                    for (cat, v) in d.categories.iter().zip(&s.values) {
                        if let Some((m, lo, hi)) = v {
                            row(&[cat.clone(), s.label.clone(), float_text(*m), float_text(*lo), float_text(*hi)]);
                        }
                    }
                }
            }
        }
        out
    }
}

/// Computes the numbers of figure `fig` of `exp`; `margin` holds the runs of its
/// `margin_experiment`, if it names one.
pub fn figure_data(exp: &Experiment, fig: &FigureSpec, margin: Option<&Experiment>) -> Result<FigureData, SpecError> {
    Ok(match fig.kind {
        FigureKind::Curves => FigureData::Curves(data::curves(exp, fig)?),
        FigureKind::CriticalWidth => FigureData::Critical(data::critical_width(exp, fig, margin)?),
        FigureKind::Bars => FigureData::Bars(data::bars(exp, fig)?),
    })
}

/// Draws every figure of `exp` into `out_dir/<experiment>/`; returns the files written.
/// Margin experiments are loaded from the experiment file's directory.
pub fn plot_experiment(exp: &Experiment, out_dir: &Path, results: &Path) -> Result<Vec<PathBuf>, PlotError> {
    draw::register_fonts();
    let figures = exp.spec.figure_specs()?;
    let dir = out_dir.join(&exp.spec.name);
    if !figures.is_empty() {
        std::fs::create_dir_all(&dir).map_err(|source| PlotError::Io { path: dir.clone(), source })?;
    }
    let mut written = Vec::new();
    for fig in figures {
        let margin = match &fig.margin_experiment {
            Some(name) => Some(Experiment::load(&exp.spec.base().join(format!("{name}.yaml")), results)?),
            None => None,
        };
        let data = figure_data(exp, &fig, margin.as_ref())?;
        let size = data.size();
        let draw_error = |message: String| PlotError::Draw { figure: fig.name.clone(), message };
        let mut svg = String::new();
        data.draw(&SVGBackend::with_string(&mut svg, size).into_drawing_area(), &fig.title).map_err(draw_error)?;
        let base = dir.join(&fig.name);
        let write = |ext: &str, bytes: &[u8]| {
            let path = base.with_extension(ext);
            atomic::write(&path, bytes).map(|_| path.clone()).map_err(|source| PlotError::Io { path, source })
        };
        written.push(write("svg", svg.as_bytes())?);
        written.push(write("csv", data.csv().as_bytes())?);
        // The PNG encoder writes to a path: draw into a temporary .png beside the target, then rename.
        let tmp = dir.join(format!(".{}.{}.tmp.png", fig.name, std::process::id()));
        data.draw(&BitMapBackend::new(&tmp, size).into_drawing_area(), &fig.title).map_err(draw_error)?;
        let png = base.with_extension("png");
        std::fs::rename(&tmp, &png).map_err(|source| PlotError::Io { path: png.clone(), source })?;
        written.push(png);
    }
    Ok(written)
}
