//! Bar figures: a per-run number, median and min–max across seeds, grouped by a grid field.

use super::{axis_label, distinct, selected, values_of};
use crate::experiment::{Experiment, Row};
use crate::export::tables::param_value;
use crate::measure::pool::Spread;
use crate::plot::spec::{FigureSpec, Scale};
use crate::spec::SpecError;
use crate::spec::quantity::RunMeasure;

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
pub fn bars(exp: &Experiment, fig: &FigureSpec) -> Result<BarData, SpecError> {
    let rows = selected(exp, fig)?;
    let x_field = fig.x.as_deref().expect("checked: bars have x");
    let y_kind = fig.y.as_deref().expect("checked: bars have y");
    let categories = values_of(&rows, Some(x_field));
    let series_values = distinct(&rows, |r| fig.series_of(&r.run));
    let mut series = Vec::new();
    for (colour, value) in series_values.iter().enumerate() {
        let mut per_cat = Vec::new();
        let (mut runs, mut diverged) = (0, 0);
        for cat in &categories {
            let group: Vec<&Row> = rows
                .iter()
                .copied()
                .filter(|r| param_value(&r.run, x_field) == *cat)
                .filter(|r| fig.series_of(&r.run) == *value)
                .collect();
            runs += group.len();
            diverged +=
                group.iter().filter(|r| r.record.outcome.as_ref().is_some_and(|o| o.diverged_at.is_some())).count();
            let measure = match y_kind {
                "iters_to_target" => RunMeasure::ItersToTarget { target: fig.target.unwrap_or(exp.spec.theory.target) },
                "final_rel_excess" => RunMeasure::FinalRelExcess,
                _ => RunMeasure::Seconds,
            };
            let values: Vec<f64> = group.iter().map(|r| measure.of(r).number()).collect();
            per_cat.push(Spread::of(&values));
        }
        let label =
            rows.iter().find(|r| fig.series_of(&r.run) == *value).map(|r| fig.series_label(&r.run)).unwrap_or_default();
        series.push(BarSeries { label, value: value.clone(), colour, runs, diverged, values: per_cat });
    }
    let y_label = match y_kind {
        "iters_to_target" => format!("iterations to relative excess {:e}", fig.target.unwrap_or(1e-6)),
        "final_rel_excess" => "final relative excess loss".into(),
        _ => "seconds".into(),
    };
    Ok(BarData {
        categories: categories.iter().map(|c| fig.label(c)).collect(),
        series,
        x_label: fig.labels.get(x_field).cloned().unwrap_or_else(|| axis_label(x_field)),
        y_label,
        yscale: fig.yscale.unwrap_or(Scale::Log),
    })
}
