//! From records to the numbers a figure draws: grouping into panels and series, aggregation
//! across seeds, theory lines, critical widths. Rendering is elsewhere; every number drawn is also
//! written to the figure's CSV.

use std::collections::BTreeMap;

use super::spec::{FigureSpec, Scale, TheoryLine, WidthBound};
use crate::experiment::{Experiment, Row};
use crate::export::tables::param_value;
use crate::spec::SpecError;
use crate::theory::wide_limit_iterations;

/// Median, minimum and maximum of a non-empty sample.
pub fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { 0.5 * (values[n / 2 - 1] + values[n / 2]) };
    (median, values[0], values[n - 1])
}

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
    pub colour: usize,
    pub runs: usize,
    pub points: Vec<BandPoint>,
    pub lines: Vec<LineData>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
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

/// One series of a bar chart: per category, (median, min, max) across seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    pub label: String,
    pub colour: usize,
    pub values: Vec<Option<(f64, f64, f64)>>,
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

fn error(exp: &Experiment, fig: &FigureSpec, message: impl Into<String>) -> SpecError {
    SpecError {
        file: exp.spec.path.display().to_string(),
        position: None,
        field: Some(format!("figures.{}", fig.name)),
        message: message.into(),
    }
}

/// The rows a figure draws (its filters applied).
fn selected<'a>(exp: &'a Experiment, fig: &FigureSpec) -> Vec<&'a Row> {
    let filters = fig.filters();
    exp.rows.iter().filter(|r| filters.iter().all(|f| f.matches(&r.run))).collect()
}

/// Distinct values of `value(row)` among `rows`, in grid order.
fn distinct(rows: &[&Row], value: impl Fn(&Row) -> String) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        let v = value(r);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Distinct values of `field` among `rows`, in grid order (one empty value without a field).
fn values_of(rows: &[&Row], field: Option<&str>) -> Vec<String> {
    distinct(rows, |r| field.map(|f| param_value(&r.run, f)).unwrap_or_default())
}

/// Checks that runs grouped together differ only in the seed (and the grouping fields).
fn check_replicates(exp: &Experiment, fig: &FigureSpec, rows: &[&Row], grouping: &[&str]) -> Result<(), SpecError> {
    for axis in exp.axes.iter().filter(|a| *a != "seed" && !grouping.contains(&a.as_str())) {
        let values = values_of(rows, Some(axis));
        if values.len() > 1 {
            return Err(error(
                exp,
                fig,
                format!(
                    "runs of one series differ in `{axis}` ({}); add it to the figure's filter, series or facets",
                    values.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The curves of a `curves` figure.
pub fn curves(exp: &Experiment, fig: &FigureSpec) -> Result<CurveData, SpecError> {
    let rows = selected(exp, fig);
    if rows.is_empty() {
        return Err(error(exp, fig, "no results match the figure's filter (run the experiment first)"));
    }
    let x_kind = fig.x.as_deref().unwrap_or("iter");
    let y_kind = fig.y.as_deref().unwrap_or("rel_excess");
    let series_values = distinct(&rows, |r| fig.series_of(&r.run));
    let facet_values = values_of(&rows, fig.facets.as_deref());
    let grouping: Vec<&str> = fig.series.iter().chain(fig.facets.iter()).map(String::as_str).collect();
    let mut panels = Vec::new();
    let mut lowest = f64::INFINITY;
    let mut x_max: f64 = 0.0;
    for facet in &facet_values {
        let in_facet: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| fig.facets.as_deref().is_none_or(|f| param_value(&r.run, f) == *facet))
            .collect();
        let mut bands = Vec::new();
        for (colour, value) in series_values.iter().enumerate() {
            let group: Vec<&Row> = in_facet.iter().copied().filter(|r| fig.series_of(&r.run) == *value).collect();
            if group.is_empty() {
                continue;
            }
            check_replicates(exp, fig, &group, &grouping)?;
            let band = band_of(fig, &group, x_kind, y_kind, value, colour);
            for p in &band.points {
                if p.min > 0.0 {
                    lowest = lowest.min(p.min);
                }
                x_max = x_max.max(p.x);
            }
            bands.push(band);
        }
        let title = fig
            .facets
            .as_ref()
            .map(|f| if fig.labels.contains_key(facet) { fig.label(facet) } else { format!("{f} = {facet}") })
            .unwrap_or_default();
        panels.push(Panel { title, bands });
    }
    // Below 1e-16 of the start the digits are rounding: the default floor stops there.
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
    for row in group {
        let Some(o) = &row.record.outcome else { continue };
        let c = &row.record.config;
        let per_step = if x_kind == "samples" { c.optim.batch.unwrap_or(o.theory.data.n) as f64 } else { 1.0 };
        let t = &o.theory;
        for p in &o.curve {
            let x = p.iter as f64 * per_step;
            let key = x.to_bits();
            x_of_key.insert(key, x);
            at.entry(key).or_default().push(y_of(y_kind, p.loss, p.excess, t.excess0));
            for (i, kind) in fig.lines.iter().enumerate() {
                let factor = match kind {
                    TheoryLine::Zou => t.zou.as_ref().map(|z| (1.0 - z.rho).max(0.0)),
                    TheoryLine::Linearised => t.zou.as_ref().map(|z| z.lin_factor),
                    TheoryLine::DuHu => t.du_hu.as_ref().map(|h| h.factor.max(0.0)),
                };
                if let Some(f) = factor {
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
    Band { label: fig.label(value), colour, runs: group.len(), points, lines: line_data }
}

/// Whether a run reaches `target` within `budget` × its theorem's wide-limit iteration count
/// ([`wide_limit_iterations`]); `None` when the run's step rule has no such count.
pub fn succeeds(row: &Row, target: f64, budget: f64) -> Option<bool> {
    let o = row.record.outcome.as_ref()?;
    let limit = wide_limit_iterations(&row.record.config.optim.step, o.theory.data.kappa, target)?;
    let reached =
        o.curve.iter().find(|p| o.theory.excess0 > 0.0 && p.excess / o.theory.excess0 <= target).map(|p| p.iter);
    let first = if (target - o.theory.target).abs() <= 1e-15 * target { o.iters_to_target } else { reached };
    Some(first.is_some_and(|t| t as f64 <= budget * limit))
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
    let rows = selected(exp, fig);
    if rows.is_empty() {
        return Err(error(exp, fig, "no results match the figure's filter (run the experiment first)"));
    }
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
        series.push(CritSeries { label: fig.label(value), colour, points });
    }
    let bounds = fig
        .bounds
        .iter()
        .map(|&kind| BoundData { kind, points: bound_points(&rows, x_field, &xs, kind, margin) })
        .collect();
    Ok(CriticalData { series, bounds, x_label: axis_label(x_field), widths })
}

fn axis_label(field: &str) -> String {
    match field {
        "model.depth" => "depth L".into(),
        "data.kappa" => "condition number κ".into(),
        "model.width" => "width m".into(),
        other => other.into(),
    }
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
                .filter_map(|r| r.record.outcome.as_ref())
                .map(|o| match kind {
                    WidthBound::Zou => o.theory.widths.zou,
                    WidthBound::ZouStable => o.theory.widths.zou_stable,
                    WidthBound::DuHu => o.theory.widths.du_hu,
                    WidthBound::ModifiedIdentity | WidthBound::Margin => o.theory.widths.modified_identity as f64,
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
        let margin = r.record.outcome.as_ref().and_then(|o| o.theory.zou.as_ref()).and_then(|z| z.margin)?;
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

/// The bars of a `bars` figure.
pub fn bars(exp: &Experiment, fig: &FigureSpec) -> Result<BarData, SpecError> {
    let rows = selected(exp, fig);
    if rows.is_empty() {
        return Err(error(exp, fig, "no results match the figure's filter (run the experiment first)"));
    }
    let x_field = fig.x.as_deref().expect("checked: bars have x");
    let y_kind = fig.y.as_deref().expect("checked: bars have y");
    let categories = values_of(&rows, Some(x_field));
    let series_values = distinct(&rows, |r| fig.series_of(&r.run));
    let mut series = Vec::new();
    for (colour, value) in series_values.iter().enumerate() {
        let mut per_cat = Vec::new();
        for cat in &categories {
            let group: Vec<&Row> = rows
                .iter()
                .copied()
                .filter(|r| param_value(&r.run, x_field) == *cat)
                .filter(|r| fig.series_of(&r.run) == *value)
                .collect();
            let grouping: Vec<&str> = std::iter::once(x_field).chain(fig.series.iter().map(String::as_str)).collect();
            check_replicates(exp, fig, &group, &grouping)?;
            let mut values: Vec<f64> = group
                .iter()
                .map(|r| {
                    let o = r.record.outcome.as_ref();
                    match y_kind {
                        "iters_to_target" => o.and_then(|o| o.iters_to_target).map_or(f64::INFINITY, |t| t as f64),
                        "final_rel_excess" => o
                            .and_then(|o| {
                                o.curve
                                    .last()
                                    .map(|p| if o.theory.excess0 > 0.0 { p.excess / o.theory.excess0 } else { 0.0 })
                            })
                            .unwrap_or(f64::NAN),
                        _ => r.record.seconds,
                    }
                })
                .collect();
            per_cat.push((!values.is_empty()).then(|| spread(&mut values)));
        }
        series.push(BarSeries { label: fig.label(value), colour, values: per_cat });
    }
    let y_label = match y_kind {
        "iters_to_target" => format!("iterations to relative excess {:e}", fig.target.unwrap_or(1e-6)),
        "final_rel_excess" => "final relative excess loss".into(),
        _ => "seconds".into(),
    };
    Ok(BarData {
        categories: categories.iter().map(|c| fig.label(c)).collect(),
        series,
        x_label: axis_label(x_field),
        y_label,
        yscale: fig.yscale.unwrap_or(Scale::Log),
    })
}
