//! Critical-width figures: the smallest width that converges at the theorem's pace, and the bounds.

use super::{distinct, error, selected};
use crate::experiment::{Experiment, Row};
use crate::grid::figure::{CriticalFigure, FigureDecl, WidthBound, field_text};
use crate::grid::{FieldPath, SpecError};
use crate::measure::pool::Spread;
use crate::measure::width::{CriticalWidth, critical_width as critical_width_of, margin_one_width};

/// Critical width of one series at one x (the measures layer's [`CriticalWidth`]: over seeds
/// by the "half of the seeds" rule, and the range of the per-seed widths), censored where the grid
/// cannot pin it down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CritPoint {
    pub x: f64,
    pub width: CriticalWidth,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CritSeries {
    pub label: String,
    /// The series' raw grid value(s), joined by " · ".
    pub value: String,
    pub colour: usize,
    pub points: Vec<CritPoint>,
}

/// A width bound along x.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundData {
    pub kind: WidthBound,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CriticalData {
    pub series: Vec<CritSeries>,
    pub bounds: Vec<BoundData>,
    pub x_label: String,
    /// The width grid (for the y range and the "no width suffices" marker).
    pub widths: Vec<f64>,
}

/// The critical widths of a `critical_width` figure.
pub fn critical_width(
    exp: &Experiment,
    fig: &FigureDecl,
    c: &CriticalFigure,
    margin: Option<&Experiment>,
) -> Result<CriticalData, SpecError> {
    let rows = selected(exp, fig)?;
    let number = |r: &Row, f: &FieldPath| f.value_of(&r.run).number();
    let width = FieldPath::new("model.width");
    let mut widths: Vec<f64> = rows.iter().filter_map(|r| number(r, &width)).collect();
    widths.sort_by(f64::total_cmp);
    widths.dedup();
    let mut xs: Vec<f64> = rows
        .iter()
        .map(|r| number(r, &c.x).ok_or_else(|| error(exp, fig, format!("`{}` is not a number", c.x))))
        .collect::<Result<_, _>>()?;
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut series = Vec::new();
    for (colour, value) in distinct(&rows, |r| fig.series_values(&r.run)).iter().enumerate() {
        let in_series: Vec<&Row> = rows.iter().copied().filter(|r| fig.series_values(&r.run) == *value).collect();
        let mut points = Vec::new();
        for &x in &xs {
            let cell: Vec<&Row> = in_series.iter().copied().filter(|r| number(r, &c.x) == Some(x)).collect();
            if cell.is_empty() {
                continue;
            }
            let width = critical_width_of(&cell, c.target, c.budget).map_err(|e| error(exp, fig, e.to_string()))?;
            points.push(CritPoint { x, width });
        }
        let first = in_series[0];
        series.push(CritSeries {
            label: fig.series_label(&first.run),
            value: fig.series_of(&first.run),
            colour,
            points,
        });
    }
    let bounds =
        c.bounds.iter().map(|&kind| BoundData { kind, points: bound_points(&rows, &c.x, &xs, kind, margin) }).collect();
    let x_label = field_text(&fig.labels, c.x.as_str());
    Ok(CriticalData { series, bounds, x_label, widths })
}

/// A bound's width at each x (median over the runs at that x). The `margin` bound uses the runs of
/// the margin experiment on the same data (equal `data` configuration) as the runs at that x.
fn bound_points(
    rows: &[&Row],
    x_field: &FieldPath,
    xs: &[f64],
    kind: WidthBound,
    margin: Option<&Experiment>,
) -> Vec<(f64, f64)> {
    let number = |r: &Row| x_field.value_of(&r.run).number();
    xs.iter()
        .filter_map(|&x| {
            let at_x: Vec<&&Row> = rows.iter().filter(|r| number(r) == Some(x)).collect();
            if kind == WidthBound::Margin {
                let data: Vec<serde_json::Value> =
                    at_x.iter().map(|r| r.run.run.canonical_json()["data"].clone()).collect();
                let same_data: Vec<&Row> =
                    margin?.rows.iter().filter(|r| data.contains(&r.run.run.canonical_json()["data"])).collect();
                return margin_one_width(&same_data).value().map(|w| (x, w));
            }
            let values: Vec<f64> = at_x
                .iter()
                .map(|r| match kind {
                    WidthBound::Zou => r.theory.widths.zou,
                    WidthBound::ZouStable => r.theory.widths.zou_stable,
                    WidthBound::DuHu => r.theory.widths.du_hu,
                    WidthBound::ModifiedIdentity | WidthBound::Margin => r.theory.widths.modified_identity as f64,
                })
                .collect();
            Spread::of(&values).map(|s| (x, s.median))
        })
        .collect()
}
