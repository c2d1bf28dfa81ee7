//! Widths measured over a cell of runs that differ only in the seed and the width: the critical
//! width, the width at which the Zou condition margin reaches 1, and the width each theorem
//! certifies, each with its censoring.
//!
//! A width the grid cannot pin down is censored, never reported as a plain number: when the
//! smallest width of the grid already suffices the answer is "≤ that width"
//! ([`Measured::AtMost`]); when no width up to the largest suffices it is "> the largest"
//! ([`Measured::Above`]).

use std::collections::BTreeMap;

use super::pool::Spread;
use super::{Absence, Measured};
use crate::config::Arch;
use crate::experiment::Row;
use crate::grid::quantity::{Budget, WidthMeasure};
use crate::theory::wide_limit_iterations;

/// A run whose step rule has no theorem iteration count, under a budget in theory iterations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run {id} has a fixed step: a budget in theory iterations needs the theorem's step (use an absolute budget)")]
pub struct NoTheoryCount {
    pub id: String,
}

/// Whether `row` reaches relative excess `target` within `budget`.
pub fn succeeds(row: &Row, target: f64, budget: Budget) -> Result<bool, NoTheoryCount> {
    let o = row.outcome();
    let limit = match budget {
        Budget::Iterations(n) => n as f64,
        Budget::TimesTheory(b) => {
            let count = wide_limit_iterations(&row.record.config.optim.step, o.theory.data.kappa, target)
                .ok_or_else(|| NoTheoryCount { id: row.record.id.clone() })?;
            b * count
        }
    };
    Ok(o.iters_to(target).is_some_and(|t| t as f64 <= limit))
}

/// The smallest width of `widths` (ascending) from which every wider one is `ok`, censored:
/// `AtMost(smallest)` when every width is ok, `Above(largest)` when the largest is not.
pub fn smallest_sufficient(widths: &[f64], ok: impl Fn(f64) -> bool) -> Measured {
    let mut crit = None;
    for &w in widths.iter().rev() {
        if !ok(w) {
            break;
        }
        crit = Some(w);
    }
    match (crit, widths.first(), widths.last()) {
        (_, None, _) | (_, _, None) => Measured::Absent(Absence::NoResult),
        (None, _, Some(&last)) => Measured::Above(last),
        (Some(c), Some(&first), _) if c == first => Measured::AtMost(c),
        (Some(c), _, _) => Measured::Value(c),
    }
}

/// The critical width of a cell and its range over the seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriticalWidth {
    /// Over seeds: the smallest width from which every wider one succeeds in at least half the
    /// seeds.
    pub pooled: Measured,
    /// The smallest and the largest of the per-seed critical widths (each seed alone).
    pub seed_min: Measured,
    pub seed_max: Measured,
}

/// The critical width of `members` (one cell).
pub fn critical_width(members: &[&Row], target: f64, budget: Budget) -> Result<CriticalWidth, NoTheoryCount> {
    // width → (seed, success) of each run
    let mut by_width: BTreeMap<u64, Vec<(u64, bool)>> = BTreeMap::new();
    for r in members {
        let width = r.record.config.model.width as f64;
        by_width.entry(width.to_bits()).or_default().push((r.record.config.seed, succeeds(r, target, budget)?));
    }
    let mut widths: Vec<f64> = by_width.keys().map(|&b| f64::from_bits(b)).collect();
    widths.sort_by(f64::total_cmp);
    let runs = |w: f64| &by_width[&w.to_bits()];
    let pooled = smallest_sufficient(&widths, |w| {
        let v = runs(w);
        2 * v.iter().filter(|(_, ok)| *ok).count() >= v.len()
    });
    let mut seeds: Vec<u64> = by_width.values().flatten().map(|(s, _)| *s).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let per_seed: Vec<Measured> = seeds
        .iter()
        .map(|&seed| {
            let own: Vec<f64> = widths.iter().copied().filter(|&w| runs(w).iter().any(|(s, _)| *s == seed)).collect();
            smallest_sufficient(&own, |w| runs(w).iter().any(|(s, ok)| *s == seed && *ok))
        })
        .collect();
    let order = |a: &&Measured, b: &&Measured| a.number().total_cmp(&b.number());
    let seed_min = per_seed.iter().min_by(order).copied().unwrap_or(Measured::Absent(Absence::NoResult));
    let seed_max = per_seed.iter().max_by(order).copied().unwrap_or(Measured::Absent(Absence::NoResult));
    Ok(CriticalWidth { pooled, seed_min, seed_max })
}

/// The width at which the median Zou condition margin of `members` first reaches 1, interpolated
/// linearly in log(width) and log(margin) between the two grid widths around the crossing;
/// censored at the ends of the grid, not applicable to runs without a Zou margin.
pub fn margin_one_width(members: &[&Row]) -> Measured {
    let mut by_width: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for r in members {
        let Some(margin) = r.theory.zou.as_ref().and_then(|z| z.margin) else {
            return Measured::Absent(Absence::NotApplicable);
        };
        by_width.entry((r.record.config.model.width as f64).to_bits()).or_default().push(margin);
    }
    let mut curve: Vec<(f64, f64)> =
        by_width.into_iter().filter_map(|(w, v)| Spread::of(&v).map(|s| (f64::from_bits(w), s.median))).collect();
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(&(last, _)) = curve.last() else { return Measured::Absent(Absence::NoResult) };
    match curve.iter().position(|&(_, m)| m >= 1.0) {
        None => Measured::Above(last),
        Some(0) => Measured::AtMost(curve[0].0),
        Some(i) => {
            let ((w1, m1), (w2, m2)) = (curve[i - 1], curve[i]);
            let f = -m1.ln() / (m2.ln() - m1.ln());
            Measured::Value((w1.ln() + f * (w2.ln() - w1.ln())).exp())
        }
    }
}

/// The width each theorem certifies for the runs of one cell (which share an architecture): the
/// margin-one width of a ResNet, the median of Du & Hu's required width of a linear network.
pub fn certified_width(members: &[&Row]) -> Measured {
    match members.first().map(|r| r.record.config.model.arch) {
        None => Measured::Absent(Absence::NoResult),
        Some(Arch::Resnet) => margin_one_width(members),
        Some(Arch::Linear) => {
            let widths: Option<Vec<f64>> =
                members.iter().map(|r| r.theory.du_hu.as_ref().map(|h| h.width_required)).collect();
            widths
                .and_then(|w| Spread::of(&w))
                .map_or(Measured::Absent(Absence::NotApplicable), |s| Measured::Value(s.median))
        }
    }
}

impl WidthMeasure {
    /// The measure over one cell.
    pub fn of(self, members: &[&Row]) -> Result<Measured, NoTheoryCount> {
        Ok(match self {
            WidthMeasure::Critical { target, budget } => critical_width(members, target, budget)?.pooled,
            WidthMeasure::MarginOne => margin_one_width(members),
            WidthMeasure::Certified => certified_width(members),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_sufficient_width_is_censored_at_the_ends() {
        let widths = [10.0, 20.0, 40.0, 80.0];
        assert_eq!(smallest_sufficient(&widths, |w| w >= 40.0), Measured::Value(40.0));
        assert_eq!(smallest_sufficient(&widths, |_| true), Measured::AtMost(10.0));
        assert_eq!(smallest_sufficient(&widths, |_| false), Measured::Above(80.0));
        // A narrower width that succeeds below a failing one does not count.
        assert_eq!(smallest_sufficient(&widths, |w| w != 20.0), Measured::Value(40.0));
        assert_eq!(smallest_sufficient(&widths, |w| w != 80.0), Measured::Above(80.0));
        assert_eq!(smallest_sufficient(&[], |_| true), Measured::Absent(Absence::NoResult));
    }
}
