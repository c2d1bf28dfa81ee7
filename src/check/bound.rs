//! The GD bounds of the two theorems, run by run: Zou et al.'s on ResNets, Du & Hu's on linear
//! networks.

use crate::config::Method;
use crate::experiment::Row;

/// The Zou et al. bound L(W_t) − L* ≤ (1 − ρ)^t (L(W0) − L*) holds on every run of `rows` that meets
/// its conditions (GD, margin ≥ 1, η ≤ bracket), at every logged iteration where the bound is above
/// 1e-12 × the initial excess (below, rounding decides the digits). Fails without a covered run.
/// Returns whether it holds and what was measured.
pub fn zou_bound(rows: &[&Row]) -> (bool, String) {
    bound_holds(rows, |row| row.theory.zou.as_ref().is_some_and(|z| z.covered))
}

/// The Du & Hu bound L(t) − L* ≤ (1 − ½ηLσ_r²/k)^t (L(0) − L*) holds on every linear network of
/// `rows` that meets their conditions at the run's constants (GD, width ≥ their required width,
/// η ≤ k/(2L‖X‖²)), at every logged iteration where the bound is above 1e-12 × the initial excess.
/// Fails without a covered run. Returns whether it holds and what was measured.
pub fn du_hu_bound(rows: &[&Row]) -> (bool, String) {
    bound_holds(rows, du_hu_covered)
}

/// Whether a run meets Du & Hu's conditions: GD, margin m / required width ≥ 1, and a step at most
/// k/(2L‖X‖²) (up to rounding).
pub fn du_hu_covered(row: &Row) -> bool {
    let t = &row.theory;
    row.record.config.optim.method == Method::Gd
        && t.du_hu.as_ref().is_some_and(|h| h.margin >= 1.0)
        && t.eta <= t.eta_du_hu * (1.0 + 1e-12)
}

/// The run's theorem bound ([`crate::theory::TheoryReport::bound_at`]) holds at every logged point
/// of every run of `rows` that `covered` selects, down to 1e-12 × the initial excess; fails without
/// a covered run.
fn bound_holds(rows: &[&Row], covered: impl Fn(&Row) -> bool) -> (bool, String) {
    let (mut runs, mut points, mut violations) = (0, 0, Vec::new());
    let mut worst: f64 = 0.0;
    for row in rows {
        let o = row.outcome();
        if !covered(row) {
            continue;
        }
        runs += 1;
        for p in &o.curve {
            let Some(line) = row.theory.bound_at(p.iter) else { continue };
            if line <= 1e-12 * o.theory.excess0 {
                break;
            }
            points += 1;
            if p.iter > 0 {
                worst = worst.max(p.excess / line);
            }
            if p.excess > line {
                violations.push(format!("{} t={}", row.record.id, p.iter));
            }
        }
    }
    if runs == 0 {
        return (false, "nothing to measure: no selected run meets the theorem's conditions".into());
    }
    let measured = format!(
        "{runs} covered runs, {points} points checked, largest excess/bound after t = 0 {worst:.3}, {} violations{}",
        violations.len(),
        violations.first().map(|v| format!(" (first: {v})")).unwrap_or_default()
    );
    (violations.is_empty(), measured)
}
