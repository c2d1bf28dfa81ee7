//! Curves figures: excess loss against iteration, median and min–max across seeds, theory lines.

use super::{distinct, selected};
use crate::experiment::{Experiment, Row};
use crate::grid::FieldValue;
use crate::grid::SpecError;
use crate::grid::figure::{CurveX, CurveY, CurvesFigure, FigureDecl, Scale, TheoryLine};
pub use crate::measure::curve::BandPoint;
use crate::measure::curve::{CurveEnd, SeedCurve, pool_curves};
use crate::measure::pool::Spread;
use crate::measure::run::rel_excess;

/// A dashed theory line of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct LineData {
    pub kind: TheoryLine,
    pub points: Vec<(f64, f64)>,
}

/// One series of a panel: its legend label, colour slot, band and theory lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub label: String,
    /// The series' raw grid value(s), joined by " · " (the CSV keeps it beside the label).
    pub value: String,
    pub colour: usize,
    pub runs: usize,
    pub points: Vec<BandPoint>,
    pub lines: Vec<LineData>,
    /// Where its diverged runs diverged (x of their first non-finite loss).
    pub diverged: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    /// The facet fields' raw grid values, joined by " · ".
    pub value: String,
    pub bands: Vec<Band>,
}

/// A curves figure, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveData {
    pub panels: Vec<Panel>,
    pub x_label: String,
    pub y_label: String,
    pub xscale: Scale,
    pub yscale: Scale,
    /// Lowest y drawn (lines and bands are clipped there).
    pub y_floor: f64,
    /// Highest y drawn (`None`: from the data).
    pub y_max: Option<f64>,
    pub x_max: f64,
    /// Some median line reaches the floor (lines end there; the floor is drawn and named).
    pub ends_at_floor: bool,
    /// Some run is SGD: its theory lines are the GD bound at the SGD step, a heuristic.
    pub sgd: bool,
}

/// The curves of a `curves` figure.
pub fn curves(exp: &Experiment, fig: &FigureDecl, c: &CurvesFigure) -> Result<CurveData, SpecError> {
    let rows = selected(exp, fig)?;
    let series_values = distinct(&rows, |r| fig.series_values(&r.run));
    let facet_values = distinct(&rows, |r| fig.facet_of(&r.run));
    let mut panels = Vec::new();
    let mut lowest = f64::INFINITY;
    let mut x_max: f64 = 0.0;
    for facet in &facet_values {
        let in_facet: Vec<&Row> = rows.iter().copied().filter(|r| fig.facet_of(&r.run) == *facet).collect();
        let mut bands = Vec::new();
        for (colour, value) in series_values.iter().enumerate() {
            let group: Vec<&Row> = in_facet.iter().copied().filter(|r| fig.series_values(&r.run) == *value).collect();
            if group.is_empty() {
                continue;
            }
            let band = band_of(fig, c, &group, colour);
            for p in &band.points {
                if p.min > 0.0 && p.min.is_finite() {
                    lowest = lowest.min(p.min);
                }
                x_max = x_max.max(p.x);
            }
            bands.push(band);
        }
        let title = in_facet.first().map(|r| fig.facet_title(&r.run)).unwrap_or_default();
        let value = facet.iter().map(FieldValue::text).collect::<Vec<_>>().join(" · ");
        panels.push(Panel { title, value, bands });
    }
    // Below 1e-16 of the start the digits are rounding: the default floor stops there. No positive
    // finite point at all (every value NaN or 0): the floor of a relative excess.
    let lowest = if lowest.is_finite() { lowest } else { 1e-16 };
    let y_floor = c.ymin.unwrap_or(if c.y == CurveY::RelExcess { lowest.max(1e-16) } else { lowest.max(1e-300) });
    let x_max = c.xmax.unwrap_or_else(|| nice_above(settled(&panels, y_floor) * 1.05).min(x_max));
    let ends_at_floor =
        panels.iter().flat_map(|p| &p.bands).flat_map(|b| &b.points).any(|p| p.x <= x_max && p.median <= y_floor);
    for panel in &mut panels {
        for band in &mut panel.bands {
            band.points.retain(|p| p.x <= x_max);
            for line in &mut band.lines {
                line.points.retain(|&(x, y)| x <= x_max && y >= y_floor);
            }
        }
    }
    let x_label = match c.x {
        CurveX::Samples => "samples seen (iteration × batch)",
        CurveX::Iteration => "iteration",
    };
    let y_label = match c.y {
        CurveY::RelExcess => "relative excess loss",
        CurveY::Excess => "excess loss L(W_t) − L*",
        CurveY::Loss => "loss L(W_t)",
    };
    Ok(CurveData {
        panels,
        x_label: x_label.into(),
        y_label: y_label.into(),
        xscale: c.xscale,
        yscale: c.yscale,
        y_floor,
        // A run whose loss grows without bound would squash every other curve.
        y_max: c.ymax.or((c.y == CurveY::RelExcess).then_some(10.0)),
        x_max,
        ends_at_floor,
        sgd: rows.iter().any(|r| r.record.config.optim.method == crate::config::Method::Sgd),
    })
}

/// The x after which nothing drawn visibly changes: the largest, over every band, x of the last
/// point whose median, minimum or maximum (clipped at `floor`) is not within [`SETTLED`] of the
/// band's final ones (a band that reaches the floor, stops or diverges is flat from there on).
fn settled(panels: &[Panel], floor: f64) -> f64 {
    let clip = |p: &BandPoint| [p.median, p.min, p.max].map(|v| if v.is_nan() { v } else { v.max(floor) });
    let near = |x: f64, y: f64| {
        x == y || (x.is_nan() && y.is_nan()) || (x > 0.0 && y > 0.0 && (x / y).ln().abs() <= SETTLED.ln())
    };
    let same = |a: [f64; 3], b: [f64; 3]| a.iter().zip(&b).all(|(&x, &y)| near(x, y));
    panels
        .iter()
        .flat_map(|p| &p.bands)
        .filter_map(|b| {
            let last = clip(b.points.last()?);
            let changing = b.points.iter().rev().find(|p| !same(clip(p), last));
            // The first point where the band is at its final values.
            Some(match changing {
                Some(p) => b.points.iter().find(|q| q.x > p.x).map_or(p.x, |q| q.x),
                None => b.points[0].x,
            })
        })
        .fold(0.0, f64::max)
}

/// Values within this factor of each other look the same on a log axis (4 % of a decade).
const SETTLED: f64 = 1.1;

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `x` (an axis end).
fn nice_above(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return f64::INFINITY;
    }
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * p).find(|&v| v >= x * (1.0 - 1e-12)).unwrap_or(10.0 * p)
}

/// The y of a curve point.
fn y_of(y: CurveY, loss: f64, excess: f64, excess0: f64) -> f64 {
    match y {
        CurveY::RelExcess => rel_excess(excess, excess0),
        CurveY::Excess => excess,
        CurveY::Loss => loss,
    }
}

/// The band of one series in one panel: its runs' curves pooled over seeds by the measures
/// layer's rule ([`pool_curves`]: stopped seeds hold their last value, a diverged seed is +∞ from
/// its ✗ on), and each theory line as the median of its runs' lines at the band's x.
fn band_of(fig: &FigureDecl, c: &CurvesFigure, group: &[&Row], colour: usize) -> Band {
    let per_step = |row: &Row| match c.x {
        CurveX::Samples => row.record.config.optim.batch.unwrap_or(row.outcome().theory.data.n) as f64,
        CurveX::Iteration => 1.0,
    };
    let seeds: Vec<SeedCurve> = group
        .iter()
        .map(|row| {
            let o = row.outcome();
            let step = per_step(row);
            let points =
                o.curve.iter().map(|p| (p.iter as f64 * step, y_of(c.y, p.loss, p.excess, o.theory.excess0))).collect();
            let end = match (o.diverged_at, o.stopped_at) {
                (Some(t), _) => CurveEnd::Diverged { at: t as f64 * step },
                (None, Some(_)) => CurveEnd::Stopped,
                (None, None) => CurveEnd::Ran,
            };
            SeedCurve { points, end }
        })
        .collect();
    let points = pool_curves(&seeds);
    let lines = c
        .lines
        .iter()
        .filter_map(|&kind| {
            let pts: Vec<(f64, f64)> = points
                .iter()
                .filter_map(|p| {
                    let ys: Vec<f64> = group
                        .iter()
                        .filter_map(|row| {
                            let t = &row.theory;
                            let rel = kind.factor(t)?.powf(p.x / per_step(row));
                            Some(y_of(c.y, t.data.l_star + rel * t.excess0, rel * t.excess0, t.excess0))
                        })
                        .collect();
                    Spread::of(&ys).map(|s| (p.x, s.median))
                })
                .collect();
            (!pts.is_empty()).then_some(LineData { kind, points: pts })
        })
        .collect();
    let diverged = seeds
        .iter()
        .filter_map(|s| match s.end {
            CurveEnd::Diverged { at } => Some(at),
            _ => None,
        })
        .collect();
    // A band has runs (empty groups are skipped): its label and value are its first run's.
    let (label, value) = group.first().map(|r| (fig.series_label(&r.run), fig.series_of(&r.run))).unwrap_or_default();
    Band { label, value, colour, runs: group.len(), points, lines, diverged }
}
