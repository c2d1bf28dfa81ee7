//! Bar figures: a per-run number, median and min–max across seeds, grouped by a grid field.

use super::{distinct, selected};
use crate::experiment::{Experiment, Row};
use crate::grid::SpecError;
use crate::grid::figure::{BarsFigure, FigureDecl, Scale, field_text};
use crate::grid::quantity::RunMeasure;
use crate::measure::pool::Spread;
use crate::number::float_text;

/// One series of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    pub label: String,
    /// The series' raw grid value(s), joined by " · ".
    pub value: String,
    pub colour: usize,
    /// Runs it summarises, and how many of them diverged (named in the legend).
    pub runs: usize,
    pub diverged: usize,
    /// Per category: median, minimum and maximum over the seeds (∞ where a seed never reached
    /// the target or diverged).
    pub values: Vec<Option<Spread>>,
}

/// Grouped bars: one group per x category, one bar per series.
#[derive(Debug, Clone, PartialEq)]
pub struct BarData {
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    pub x_label: String,
    pub y_label: String,
    pub yscale: Scale,
}

/// The bars of a `bars` figure.
pub fn bars(exp: &Experiment, fig: &FigureDecl, b: &BarsFigure) -> Result<BarData, SpecError> {
    let rows = selected(exp, fig)?;
    let categories = distinct(&rows, |r| b.x.value_of(&r.run));
    let mut series = Vec::new();
    for (colour, value) in distinct(&rows, |r| fig.series_values(&r.run)).iter().enumerate() {
        let in_series: Vec<&Row> = rows.iter().copied().filter(|r| fig.series_values(&r.run) == *value).collect();
        let mut per_cat = Vec::new();
        let (mut runs, mut diverged) = (0, 0);
        for cat in &categories {
            let group: Vec<&Row> = in_series.iter().copied().filter(|r| b.x.value_of(&r.run) == *cat).collect();
            runs += group.len();
            diverged += group.iter().filter(|r| r.outcome().diverged_at.is_some()).count();
            let values: Vec<f64> = group.iter().map(|r| b.y.of(r).number()).collect();
            per_cat.push(Spread::of(&values));
        }
        let first = in_series[0];
        series.push(BarSeries {
            label: fig.series_label(&first.run),
            value: fig.series_of(&first.run),
            colour,
            runs,
            diverged,
            values: per_cat,
        });
    }
    let y_label = match b.y {
        RunMeasure::ItersToTarget { target } => format!("iterations to relative excess {}", float_text(target)),
        other => other.describe(),
    };
    Ok(BarData {
        categories: categories.iter().map(|c| fig.value_text(b.x.as_str(), c, false)).collect(),
        series,
        x_label: field_text(&fig.labels, b.x.as_str()),
        y_label,
        yscale: b.yscale,
    })
}
