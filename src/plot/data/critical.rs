//! Critical-width figures: the smallest width that converges at the theorem's pace, and the bounds.

use std::collections::BTreeMap;

use super::{axis_label, distinct, error, selected, spread};
use crate::experiment::{Experiment, Row};
use crate::export::tables::param_value;
use crate::plot::spec::{FigureSpec, WidthBound};
use crate::spec::SpecError;
use crate::theory::wide_limit_iterations;

/// Critical width of one series at one x: over seeds (`crit`, the "half of the seeds" rule) and
/// per seed (`lo`..`hi`). `None`: no width of the grid suffices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CritPoint {
    pub x: f64,
    pub crit: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
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

/// Whether a run reaches `target` within `budget` × its theorem's wide-limit iteration count
/// ([`wide_limit_iterations`]); `None` when the run's step rule has no such count.
pub fn succeeds(row: &Row, target: f64, budget: f64) -> Option<bool> {
    let o = row.record.outcome.as_ref()?;
    let limit = wide_limit_iterations(&row.record.config.optim.step, o.theory.data.kappa, target)?;
    Some(o.iters_to(target).is_some_and(|t| t as f64 <= budget * limit))
}

/// The smallest width from which every larger width of the grid succeeds (`ok(width)`).
pub fn critical(widths: &[f64], ok: impl Fn(f64) -> bool) -> Option<f64> {
    let mut crit = None;
    for &w in widths.iter().rev() {
        if ok(w) {
            crit = Some(w);
        } else {
            break;
        }
    }
    crit
}

/// The critical widths of a `critical_width` figure.
pub fn critical_width(
    exp: &Experiment,
    fig: &FigureSpec,
    margin: Option<&Experiment>,
) -> Result<CriticalData, SpecError> {
    let rows = selected(exp, fig)?;
    let x_field = fig.x.as_deref().expect("checked: critical_width has x");
    let target = fig.target.unwrap_or(1e-6);
    let budget = fig.budget.expect("checked: critical_width has a budget");
    let number = |r: &Row, f: &str| param_value(&r.run, f).parse::<f64>().ok();
    let mut widths: Vec<f64> = rows.iter().filter_map(|r| number(r, "model.width")).collect();
    widths.sort_by(f64::total_cmp);
    widths.dedup();
    let mut xs: Vec<f64> = rows
        .iter()
        .map(|r| number(r, x_field).ok_or_else(|| error(exp, fig, format!("`{x_field}` is not a number"))))
        .collect::<Result<_, _>>()?;
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut series = Vec::new();
    for (colour, value) in distinct(&rows, |r| fig.series_of(&r.run)).iter().enumerate() {
        let mut points = Vec::new();
        for &x in &xs {
            // width → per-seed successes
            let mut by_width: BTreeMap<u64, Vec<(u64, bool)>> = BTreeMap::new();
            for r in rows.iter().filter(|r| fig.series_of(&r.run) == *value && number(r, x_field) == Some(x)) {
                let ok = succeeds(r, target, budget).ok_or_else(|| {
                    error(
                        exp,
                        fig,
                        "critical widths need runs with step rule zou or du_hu (a wide-limit iteration count)",
                    )
                })?;
                by_width
                    .entry(number(r, "model.width").unwrap_or(0.0).to_bits())
                    .or_default()
                    .push((r.record.config.seed, ok));
            }
            if by_width.is_empty() {
                continue;
            }
            let grid: Vec<f64> = widths.iter().copied().filter(|w| by_width.contains_key(&w.to_bits())).collect();
            let fraction = |w: f64| {
                let v = &by_width[&w.to_bits()];
                v.iter().filter(|(_, ok)| *ok).count() as f64 / v.len() as f64
            };
            let crit = critical(&grid, |w| fraction(w) >= 0.5);
            let seeds: Vec<u64> = {
                let mut s: Vec<u64> = by_width.values().flatten().map(|(s, _)| *s).collect();
                s.sort_unstable();
                s.dedup();
                s
            };
            let per_seed: Vec<Option<f64>> = seeds
                .iter()
                .map(|seed| critical(&grid, |w| by_width[&w.to_bits()].iter().any(|(s, ok)| s == seed && *ok)))
                .collect();
            let found: Vec<f64> = per_seed.iter().flatten().copied().collect();
            let all_found = found.len() == per_seed.len();
            let lo = found.iter().copied().reduce(f64::min);
            let hi = if all_found { found.iter().copied().reduce(f64::max) } else { None };
            points.push(CritPoint { x, crit, lo, hi });
        }
        let label = rows.iter().find(|r| fig.series_of(&r.run) == *value).map(|r| fig.series_label(&r.run));
        series.push(CritSeries { label: label.unwrap_or_default(), value: value.clone(), colour, points });
    }
    let bounds = fig
        .bounds
        .iter()
        .map(|&kind| BoundData { kind, points: bound_points(&rows, x_field, &xs, kind, margin) })
        .collect();
    let x_label = fig.labels.get(x_field).cloned().unwrap_or_else(|| axis_label(x_field));
    Ok(CriticalData { series, bounds, x_label, widths })
}

/// A bound's width at each x (median over the runs at that x). The `margin` bound uses the runs of
/// the margin experiment on the same data (equal `data` configuration) as the runs at that x.
fn bound_points(
    rows: &[&Row],
    x_field: &str,
    xs: &[f64],
    kind: WidthBound,
    margin: Option<&Experiment>,
) -> Vec<(f64, f64)> {
    let number = |r: &Row, f: &str| param_value(&r.run, f).parse::<f64>().ok();
    xs.iter()
        .filter_map(|&x| {
            let at_x: Vec<&&Row> = rows.iter().filter(|r| number(r, x_field) == Some(x)).collect();
            if kind == WidthBound::Margin {
                let data: Vec<serde_json::Value> =
                    at_x.iter().map(|r| r.run.run.canonical_json()["data"].clone()).collect();
                let same_data: Vec<&Row> =
                    margin?.rows.iter().filter(|r| data.contains(&r.run.run.canonical_json()["data"])).collect();
                return margin_one_width(&same_data).map(|w| (x, w));
            }
            let mut values: Vec<f64> = at_x
                .iter()
                .map(|r| match kind {
                    WidthBound::Zou => r.theory.widths.zou,
                    WidthBound::ZouStable => r.theory.widths.zou_stable,
                    WidthBound::DuHu => r.theory.widths.du_hu,
                    WidthBound::ModifiedIdentity | WidthBound::Margin => r.theory.widths.modified_identity as f64,
                })
                .collect();
            (!values.is_empty()).then(|| (x, spread(&mut values).0))
        })
        .collect()
}

/// The width at which the median Zou condition margin first reaches 1, interpolated linearly in
/// log(width) and log(margin) between the two grid widths around the crossing.
pub fn margin_one_width(rows: &[&Row]) -> Option<f64> {
    let mut by_width: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for r in rows {
        let margin = r.theory.zou.as_ref().and_then(|z| z.margin)?;
        by_width.entry((r.record.config.model.width as f64).to_bits()).or_default().push(margin);
    }
    let mut curve: Vec<(f64, f64)> =
        by_width.into_iter().map(|(w, mut v)| (f64::from_bits(w), spread(&mut v).0)).collect();
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    let i = curve.iter().position(|&(_, m)| m >= 1.0)?;
    if i == 0 {
        return Some(curve[0].0);
    }
    let ((w1, m1), (w2, m2)) = (curve[i - 1], curve[i]);
    let f = -m1.ln() / (m2.ln() - m1.ln());
    Some((w1.ln() + f * (w2.ln() - w1.ln())).exp())
}
