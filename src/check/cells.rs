//! From results to the numbers a check compares: one value per cell, a cell being the selected runs
//! that agree on every grid field but the seed (and, for width measures, the width).

use std::collections::BTreeMap;

use super::spec::{Budget, Measure, OverSeeds, Quantity, TheoryQuantity};
use crate::experiment::{Experiment, Row};
use crate::export::tables::param_value;
use crate::plot::data::{critical, margin_one_width, spread, succeeds};
use crate::theory::TheoryReport;

/// A cell's key: (field, value text) for every grid field that varies among the selected runs,
/// except the seed (and the width for width measures), in axis order.
pub type Key = Vec<(String, String)>;

/// The measured value of every cell, in grid order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    pub values: Vec<(Key, f64)>,
    /// For each field of the keys, the fields that vary with it in a `zip` group: comparing along
    /// a field compares along its partners too.
    pub partners: Vec<(String, Vec<String>)>,
}

impl Cells {
    /// `field` and the fields zipped with it.
    pub fn tied(&self, field: &str) -> Vec<String> {
        let mut out = vec![field.to_string()];
        if let Some((_, p)) = self.partners.iter().find(|(f, _)| f == field) {
            out.extend(p.iter().cloned());
        }
        out
    }
}

/// The grid fields that vary among `rows` (the seed and `skip` aside), in axis order.
pub fn varying_fields(exp: &Experiment, rows: &[&Row], skip: &[&str]) -> Vec<String> {
    exp.axes
        .iter()
        .filter(|a| *a != "seed" && !skip.contains(&a.as_str()))
        .filter(|a| {
            let first = rows.first().map(|r| param_value(&r.run, a));
            rows.iter().any(|r| Some(param_value(&r.run, a)) != first)
        })
        .cloned()
        .collect()
}

/// The value of a per-run measure for one run.
pub fn run_value(q: &Quantity, row: &Row) -> f64 {
    let o = row.outcome();
    match &q.measure {
        Measure::FinalRelExcess => {
            if o.diverged_at.is_some() {
                return f64::INFINITY;
            }
            let e0 = o.theory.excess0;
            o.curve.last().map_or(f64::INFINITY, |p| if e0 > 0.0 { p.excess / e0 } else { 0.0 })
        }
        Measure::ItersToTarget => o.iters_to(q.target).map_or(f64::INFINITY, |t| t as f64),
        Measure::Theory(t) => theory_value(&row.theory, t),
        _ => unreachable!("cells of width measures and built-ins are not per run"),
    }
}

/// A quantity of a theory report by name (NaN where the run's architecture has none).
pub fn theory_value(t: &TheoryReport, q: &TheoryQuantity) -> f64 {
    let z = t.zou.as_ref();
    let h = t.du_hu.as_ref();
    let nan = f64::NAN;
    match q.0 {
        "zou_margin" => z.and_then(|z| z.margin).unwrap_or(nan),
        "zou_eta_over_bracket" => z.map_or(nan, |z| t.eta / z.eta_bracket),
        "zou_rho" => z.map_or(nan, |z| z.rho),
        "zou_iters_bound" => z.and_then(|z| z.iters_to_target).unwrap_or(f64::INFINITY),
        "lin_factor" => z.map_or(nan, |z| z.lin_factor),
        "du_hu_width_required" => h.map_or(nan, |h| h.width_required),
        "du_hu_iters_bound" => h.and_then(|h| h.iters_to_target).unwrap_or(f64::INFINITY),
        "m_zou" => t.widths.zou,
        "m_du_hu" => t.widths.du_hu,
        "kappa" => t.data.kappa,
        "eta" => t.eta,
        other => unreachable!("theory quantity {other} is validated"),
    }
}

/// The seeds of a cell combined; n/a (NaN) when one of them has no value, so that a cell never
/// hides a run without one (see [`super::verdict`] for how tests treat such a cell).
fn combine(how: OverSeeds, values: &mut [f64]) -> f64 {
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    match how {
        OverSeeds::Median => spread(values).0,
        OverSeeds::Min => spread(values).1,
        OverSeeds::Max => spread(values).2,
        OverSeeds::Mean => values.iter().sum::<f64>() / values.len() as f64,
    }
}

/// Groups `rows` by their values of `fields`, in first-seen order.
fn group<'a>(rows: &[&'a Row], fields: &[String]) -> Vec<(Key, Vec<&'a Row>)> {
    let mut out: Vec<(Key, Vec<&Row>)> = Vec::new();
    for r in rows {
        let key: Key = fields.iter().map(|f| (f.clone(), param_value(&r.run, f))).collect();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => out.push((key, vec![r])),
        }
    }
    out
}

/// The cells of a per-run or width quantity over `rows` (a check's or a table's selected results).
pub fn cells(q: &Quantity, exp: &Experiment, rows: &[&Row]) -> Cells {
    let skip: &[&str] = if q.measure.over_widths() { &["model.width"] } else { &[] };
    let fields = varying_fields(exp, rows, skip);
    let partners = fields.iter().map(|f| (f.clone(), exp.spec.zip_partners(f))).collect();
    let values = group(rows, &fields)
        .into_iter()
        .map(|(key, members)| {
            let value = match &q.measure {
                Measure::CriticalWidth => critical_width(q, &members),
                Measure::MarginOneWidth => margin_one(&members),
                Measure::CertifiedWidth => certified_width(&members),
                _ => {
                    let mut v: Vec<f64> = members.iter().map(|r| run_value(q, r)).collect();
                    combine(q.over_seeds, &mut v)
                }
            };
            (key, value)
        })
        .collect();
    Cells { values, partners }
}

/// The smallest width of the cell from which every wider width succeeds in at least half the seeds
/// (success: the target within the budget); ∞ when none does.
fn critical_width(q: &Quantity, members: &[&Row]) -> f64 {
    let mut by_width: BTreeMap<usize, Vec<bool>> = BTreeMap::new();
    for r in members {
        let ok = match q.budget {
            Budget::TimesTheory(b) => succeeds(r, q.target, b).unwrap_or(false),
            Budget::Iterations(n) => r.outcome().iters_to(q.target).is_some_and(|t| t as u64 <= n),
            Budget::None => unreachable!("critical_width has a validated budget"),
        };
        by_width.entry(r.record.config.model.width).or_default().push(ok);
    }
    let widths: Vec<f64> = by_width.keys().map(|&w| w as f64).collect();
    let ok = |w: f64| by_width.get(&(w as usize)).is_some_and(|s| 2 * s.iter().filter(|&&x| x).count() >= s.len());
    critical(&widths, ok).unwrap_or(f64::INFINITY)
}

/// The width at which the cell's median Zou margin reaches 1; ∞ when no width of the grid
/// reaches it, n/a when a run of the cell has no margin (a linear network, an optimal start).
fn margin_one(members: &[&Row]) -> f64 {
    if members.iter().any(|r| r.theory.zou.as_ref().and_then(|z| z.margin).is_none()) {
        return f64::NAN;
    }
    margin_one_width(members).unwrap_or(f64::INFINITY)
}

/// The width a theorem certifies for the runs of one cell (which share an architecture).
fn certified_width(members: &[&Row]) -> f64 {
    match members.first().map(|r| r.record.config.model.arch) {
        Some(crate::config::Arch::Resnet) => margin_one(members),
        _ => {
            let mut v: Vec<f64> =
                members.iter().map(|r| r.theory.du_hu.as_ref().map_or(f64::NAN, |h| h.width_required)).collect();
            combine(OverSeeds::Median, &mut v)
        }
    }
}

/// "model.depth=2, model.arch=linear" → "L=2 linear" (short, for the measured column).
pub fn key_text(key: &Key) -> String {
    key.iter()
        .map(|(field, value)| match field.as_str() {
            "model.depth" => format!("L={value}"),
            "model.width" => format!("m={value}"),
            "data.kappa" => format!("κ={value}"),
            "optim.batch" => format!("b={value}"),
            "model.arch" | "model.transform" => value.clone(),
            other => format!("{}={value}", other.rsplit('.').next().unwrap_or(other)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
