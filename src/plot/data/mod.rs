//! From records to the numbers a figure draws: grouping into panels and series, aggregation
//! across seeds, theory lines, critical widths. Rendering is elsewhere; every number drawn is also
//! written to the figure's CSV.

mod bars;
mod critical;
mod curves;

pub use bars::{BarData, BarSeries, bars};
pub use critical::{BoundData, CritPoint, CritSeries, CriticalData, critical_width};
pub use curves::{Band, BandPoint, CurveData, LineData, Panel, curves};

use crate::experiment::{Experiment, Row};
use crate::grid::SpecError;
use crate::grid::figure::FigureDecl;

fn error(exp: &Experiment, fig: &FigureDecl, message: impl Into<String>) -> SpecError {
    SpecError {
        file: exp.spec.path.display().to_string(),
        position: None,
        field: Some(format!("figures.{}", fig.name)),
        message: message.into(),
    }
}

/// The rows a figure draws (its filters applied); an error when there are none.
fn selected<'a>(exp: &'a Experiment, fig: &FigureDecl) -> Result<Vec<&'a Row>, SpecError> {
    let rows: Vec<&Row> = exp.rows.iter().filter(|r| fig.filters.iter().all(|f| f.matches(&r.run))).collect();
    if rows.is_empty() {
        return Err(error(exp, fig, "no results match the figure's filter (run the experiment first)"));
    }
    Ok(rows)
}

/// Distinct values of `value(row)` among `rows`, in grid order.
fn distinct<T: PartialEq>(rows: &[&Row], value: impl Fn(&Row) -> T) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for r in rows {
        let v = value(r);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}
