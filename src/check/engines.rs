//! Cached runs agree with every other applicable engine.

use super::{CheckOutcome, fail_missing, outcome};
use crate::config::Arch;
use crate::engine::{EngineKind, plan::cost_per_step};
use crate::experiment::{Experiment, Row};
use crate::train::train_with;

/// Largest multiply-adds a re-run in the engine sample may cost.
const SAMPLE_COST_LIMIT: f64 = 2e10;

/// A sample of cached runs re-trained with every other applicable engine agrees with the cache to
/// relative 1e-9: |a − b| ≤ 1e-9 · max(|a|, |b|, 1e-12·(L(W0) − L*)) for the loss and the excess
/// at every logged point (the floor is where rounding decides the digits of a vanishing excess).
///
/// The sample: in each experiment, the first run of each architecture whose re-runs are cheap and
/// whose trajectory has no plateau (it reached the target within 5 × its theorem's wide-limit
/// iteration count, or for a fixed step at all). A trajectory that lingers near a saddle amplifies
/// rounding differences exponentially while it escapes, so two exact engines then agree only in
/// distribution: a width-5 linear network that leaves a 30 000-step plateau differs by 3e-2
/// between the Gram and the dense engine right at the escape.
pub fn engines_agree(experiments: &[&Experiment]) -> CheckOutcome {
    const NAME: &str = "engines_agree";
    const CLAIM: &str = "cached runs re-run with every other applicable engine give the same curve";
    const THRESHOLD: &str =
        "|a − b| ≤ 1e-9 · max(|a|, |b|, 1e-12 × initial excess) at every logged point; ≥ 1 comparison";
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    let mut worst_at = String::new();
    let mut problems = Vec::new();
    for exp in experiments {
        for arch in [Arch::Resnet, Arch::Linear] {
            let pick = exp.rows.iter().find(|r| {
                r.run.run.config().model.arch == arch
                    && no_plateau(r)
                    && EngineKind::ALL.iter().all(|&k| {
                        !k.applies_to(&r.run.run)
                            || cost_per_step(&r.run.run, k) * r.run.run.config().optim.iters as f64 <= SAMPLE_COST_LIMIT
                    })
            });
            let Some(row) = pick else { continue };
            let Some(cached) = &row.record.outcome else { continue };
            for kind in EngineKind::ALL.into_iter().filter(|&k| k != cached.engine && k.applies_to(&row.run.run)) {
                match train_with(&row.run.run, kind) {
                    Ok(again) => {
                        compared += 1;
                        let floor = 1e-12 * cached.theory.excess0;
                        if again.curve.len() != cached.curve.len() {
                            problems.push(format!("{} {}: curve lengths differ", row.record.id, kind.name()));
                        }
                        for (p, q) in cached.curve.iter().zip(&again.curve) {
                            for (a, b) in [(p.loss, q.loss), (p.excess, q.excess)] {
                                let rel = (a - b).abs() / a.abs().max(b.abs()).max(floor);
                                if rel > worst {
                                    worst = rel;
                                    worst_at = format!(
                                        " ({} {} vs {} at t = {})",
                                        row.record.id,
                                        cached.engine.name(),
                                        kind.name(),
                                        p.iter
                                    );
                                }
                            }
                        }
                    }
                    Err(err) => problems.push(format!("{} {}: {err}", row.record.id, kind.name())),
                }
            }
        }
    }
    if compared == 0 {
        return fail_missing(NAME, CLAIM, "no cached run could be re-run", THRESHOLD);
    }
    let measured = format!(
        "{compared} re-runs compared, largest relative difference {worst:.1e}{worst_at}{}",
        if problems.is_empty() { String::new() } else { format!("; {}", problems.join("; ")) }
    );
    outcome(NAME, CLAIM, problems.is_empty() && worst <= 1e-9, measured, THRESHOLD)
}

/// Whether a run reached its target without a plateau: within 5 × its theorem's wide-limit
/// iteration count (any time for a fixed step).
fn no_plateau(row: &Row) -> bool {
    let target = row.theory.target;
    let limit = crate::theory::wide_limit_iterations(&row.record.config.optim.step, row.theory.data.kappa, target);
    row.outcome().iters_to(target).is_some_and(|t| limit.is_none_or(|l| t as f64 <= 5.0 * l))
}
