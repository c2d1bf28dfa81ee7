//! One number per run: the definitions every output reads.

use super::{Absence, Measured};
use crate::experiment::Row;
use crate::grid::quantity::{RunMeasure, TheoryQuantity};
use crate::theory::TheoryReport;
use crate::train::RunOutcome;

/// The relative excess e/e0 = (L(W) − L*)/(L(W0) − L*); 0 when the start is already optimal
/// (e0 = 0: every later excess is 0 too).
pub fn rel_excess(excess: f64, excess0: f64) -> f64 {
    if excess0 > 0.0 { excess / excess0 } else { 0.0 }
}

/// The final excess L(W_T) − L* of a run: at its last logged iteration, +∞ when it diverged (the
/// final iterate is not finite, whatever it logged before).
pub fn final_excess(o: &RunOutcome) -> f64 {
    match (o.diverged_at, o.curve.last()) {
        (None, Some(p)) => p.excess,
        _ => f64::INFINITY,
    }
}

/// The final relative excess: [`final_excess`] over the initial excess.
pub fn final_rel_excess(o: &RunOutcome) -> f64 {
    match final_excess(o) {
        e if e.is_finite() => rel_excess(e, o.theory.excess0),
        e => e,
    }
}

impl RunMeasure {
    /// The measure's value for a run with a result.
    pub fn of(self, row: &Row) -> Measured {
        let o = row.outcome();
        match self {
            RunMeasure::FinalRelExcess => Measured::Value(final_rel_excess(o)),
            RunMeasure::ItersToTarget { target } => {
                Measured::Value(o.iters_to(target).map_or(f64::INFINITY, |t| t as f64))
            }
            RunMeasure::Theory(q) => q.of(&row.theory),
            RunMeasure::Seconds => Measured::Value(row.record.seconds),
            RunMeasure::MaxLayerNorm => {
                Measured::applicable(o.curve.iter().filter_map(|p| p.max_layer_norm).reduce(f64::max))
            }
        }
    }

    /// The measure's value for a run of the grid that may have no result.
    pub fn of_run(self, row: Option<&Row>) -> Measured {
        row.map_or(Measured::Absent(Absence::NoResult), |r| self.of(r))
    }
}

impl TheoryQuantity {
    /// The quantity in a run's theory report; not applicable where the run's architecture has
    /// none (a Zou quantity of a linear network), ∞ for an iteration bound that never reaches the
    /// target.
    pub fn of(self, t: &TheoryReport) -> Measured {
        let z = t.zou.as_ref();
        let h = t.du_hu.as_ref();
        let never = |v: Option<f64>| Measured::Value(v.unwrap_or(f64::INFINITY));
        match self {
            TheoryQuantity::ZouMargin => Measured::applicable(z.and_then(|z| z.margin)),
            TheoryQuantity::ZouEtaOverBracket => Measured::applicable(z.map(|z| t.eta / z.eta_bracket)),
            TheoryQuantity::ZouRho => Measured::applicable(z.map(|z| z.rho)),
            TheoryQuantity::ZouItersBound => {
                z.map_or(Measured::Absent(Absence::NotApplicable), |z| never(z.iters_to_target))
            }
            TheoryQuantity::LinFactor => Measured::applicable(z.map(|z| z.lin_factor)),
            TheoryQuantity::DuHuWidthRequired => Measured::applicable(h.map(|h| h.width_required)),
            TheoryQuantity::DuHuItersBound => {
                h.map_or(Measured::Absent(Absence::NotApplicable), |h| never(h.iters_to_target))
            }
            TheoryQuantity::MZou => Measured::Value(t.widths.zou),
            TheoryQuantity::MDuHu => Measured::Value(t.widths.du_hu),
            TheoryQuantity::Kappa => Measured::Value(t.data.kappa),
            TheoryQuantity::Eta => Measured::Value(t.eta),
        }
    }
}
