//! Curves figures: excess loss against iteration, median and min–max across seeds, theory lines.

use std::collections::BTreeMap;

use super::{distinct, selected, spread};
use crate::experiment::{Experiment, Row};
use crate::plot::spec::{FigureSpec, Scale, TheoryLine};
use crate::spec::SpecError;

/// One point of a band: the median across seeds and the min–max range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

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
    /// Some run is SGD: its theory lines are the GD bound at the SGD step, a heuristic.
    pub sgd: bool,
}

/// The curves of a `curves` figure.
pub fn curves(exp: &Experiment, fig: &FigureSpec) -> Result<CurveData, SpecError> {
    let rows = selected(exp, fig)?;
    let x_kind = fig.x.as_deref().unwrap_or("iter");
    let y_kind = fig.y.as_deref().unwrap_or("rel_excess");
    let series_values = distinct(&rows, |r| fig.series_of(&r.run));
    let facet_values = distinct(&rows, |r| fig.facet_of(&r.run).join("\u{1f}"));
    let mut panels = Vec::new();
    let mut lowest = f64::INFINITY;
    let mut x_max: f64 = 0.0;
    for facet in &facet_values {
        let in_facet: Vec<&Row> =
            rows.iter().copied().filter(|r| fig.facet_of(&r.run).join("\u{1f}") == *facet).collect();
        let mut bands = Vec::new();
        for (colour, value) in series_values.iter().enumerate() {
            let group: Vec<&Row> = in_facet.iter().copied().filter(|r| fig.series_of(&r.run) == *value).collect();
            if group.is_empty() {
                continue;
            }
            let band = band_of(fig, &group, x_kind, y_kind, value, colour);
            for p in &band.points {
                if p.min > 0.0 && p.min.is_finite() {
                    lowest = lowest.min(p.min);
                }
                x_max = x_max.max(p.x);
            }
            bands.push(band);
        }
        let title = in_facet.first().map(|r| fig.facet_title(&r.run)).unwrap_or_default();
        panels.push(Panel { title, value: facet.replace('\u{1f}', " · "), bands });
    }
    // Below 1e-16 of the start the digits are rounding: the default floor stops there. No positive
    // finite point at all (every value NaN or 0): the floor of a relative excess.
    let lowest = if lowest.is_finite() { lowest } else { 1e-16 };
    let y_floor = fig.ymin.unwrap_or(if y_kind == "rel_excess" { lowest.max(1e-16) } else { lowest.max(1e-300) });
    let x_max = fig.xmax.unwrap_or(x_max);
    for panel in &mut panels {
        for band in &mut panel.bands {
            band.points.retain(|p| p.x <= x_max);
            for line in &mut band.lines {
                line.points.retain(|&(x, y)| x <= x_max && y >= y_floor);
            }
        }
    }
    let x_label = if x_kind == "samples" { "samples seen (iteration × batch)" } else { "iteration" };
    let y_label = match y_kind {
        "rel_excess" => "relative excess loss (L(W_t) − L*)/(L(W_0) − L*)",
        "excess" => "excess loss L(W_t) − L*",
        _ => "loss L(W_t)",
    };
    Ok(CurveData {
        panels,
        x_label: x_label.into(),
        y_label: y_label.into(),
        xscale: fig.xscale.unwrap_or(Scale::Linear),
        yscale: fig.yscale.unwrap_or(Scale::Log),
        y_floor,
        // A run whose loss grows without bound would squash every other curve.
        y_max: fig.ymax.or((y_kind == "rel_excess").then_some(10.0)),
        x_max,
        sgd: rows.iter().any(|r| r.record.config.optim.method == crate::config::Method::Sgd),
    })
}

/// The y of a curve point.
fn y_of(y_kind: &str, loss: f64, excess: f64, excess0: f64) -> f64 {
    match y_kind {
        "rel_excess" if excess0 > 0.0 => excess / excess0,
        "rel_excess" => 0.0,
        "excess" => excess,
        _ => loss,
    }
}

fn band_of(fig: &FigureSpec, group: &[&Row], x_kind: &str, y_kind: &str, value: &str, colour: usize) -> Band {
    // x → values across the runs that logged it.
    let mut at: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let mut lines: BTreeMap<(usize, u64), Vec<f64>> = BTreeMap::new();
    let mut x_of_key: BTreeMap<u64, f64> = BTreeMap::new();
    let mut diverged = Vec::new();
    for row in group {
        let Some(o) = &row.record.outcome else { continue };
        let c = &row.record.config;
        let per_step = if x_kind == "samples" { c.optim.batch.unwrap_or(o.theory.data.n) as f64 } else { 1.0 };
        diverged.extend(o.diverged_at.map(|t| t as f64 * per_step));
        let t = &row.theory;
        for p in &o.curve {
            let x = p.iter as f64 * per_step;
            let key = x.to_bits();
            x_of_key.insert(key, x);
            at.entry(key).or_default().push(y_of(y_kind, p.loss, p.excess, t.excess0));
            for (i, kind) in fig.lines.iter().enumerate() {
                if let Some(f) = kind.factor(t) {
                    let rel = f.powf(p.iter as f64);
                    let y = y_of(y_kind, t.data.l_star + rel * t.excess0, rel * t.excess0, t.excess0);
                    lines.entry((i, key)).or_default().push(y);
                }
            }
        }
    }
    let mut x_sorted: Vec<(f64, u64)> = x_of_key.iter().map(|(k, x)| (*x, *k)).collect();
    x_sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let points = x_sorted
        .iter()
        .map(|&(x, key)| {
            let (median, min, max) = spread(at.get_mut(&key).expect("logged"));
            BandPoint { x, median, min, max }
        })
        .collect();
    let line_data = fig
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, &kind)| {
            let pts: Vec<(f64, f64)> =
                x_sorted.iter().filter_map(|&(x, key)| lines.get_mut(&(i, key)).map(|v| (x, spread(v).0))).collect();
            (!pts.is_empty()).then_some(LineData { kind, points: pts })
        })
        .collect();
    let label = group.first().map(|r| fig.series_label(&r.run)).unwrap_or_else(|| fig.label(value));
    Band { label, value: value.to_string(), colour, runs: group.len(), points, lines: line_data, diverged }
}
