//! The GD bound of Zou et al., run by run.

use super::{CheckOutcome, fail_missing, outcome};
use crate::experiment::Experiment;

/// The Zou et al. bound holds on every run that meets its conditions (margin ≥ 1, η ≤ bracket),
/// at every logged iteration where the bound is above 1e-12 × the initial excess.
pub fn zou_bound(experiments: &[&Experiment]) -> CheckOutcome {
    const NAME: &str = "zou_bound";
    const CLAIM: &str = "L(W_t) − L* ≤ (1 − ρ)^t (L(W0) − L*) on every run that meets the theorem's conditions";
    const THRESHOLD: &str = "no violation above 1e-12 × (L(W0) − L*); at least one covered run";
    let (mut runs, mut points, mut violations) = (0, 0, Vec::new());
    let mut worst: f64 = 0.0;
    for exp in experiments {
        for row in &exp.rows {
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
    }
    if runs == 0 {
        return fail_missing(NAME, CLAIM, "no run meets the theorem's conditions", THRESHOLD);
    }
    let measured = format!(
        "{runs} covered runs, {points} points checked, largest excess/bound after t = 0 {worst:.3}, {} violations{}",
        violations.len(),
        violations.first().map(|v| format!(" (first: {v})")).unwrap_or_default()
    );
    outcome(NAME, CLAIM, violations.is_empty(), measured, THRESHOLD)
}
