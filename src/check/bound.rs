//! The GD bound of Zou et al., run by run.

use crate::experiment::Row;

/// The Zou et al. bound L(W_t) − L* ≤ (1 − ρ)^t (L(W0) − L*) holds on every run of `rows` that meets
/// its conditions (GD, margin ≥ 1, η ≤ bracket), at every logged iteration where the bound is above
/// 1e-12 × the initial excess (below, rounding decides the digits). Fails without a covered run.
/// Returns whether it holds and what was measured.
pub fn zou_bound(rows: &[&Row]) -> (bool, String) {
    let (mut runs, mut points, mut violations) = (0, 0, Vec::new());
    let mut worst: f64 = 0.0;
    for row in rows {
        let o = row.outcome();
        if !row.theory.zou.as_ref().is_some_and(|z| z.covered) {
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
