//! Cached runs agree with every other applicable engine.

use crate::config::Arch;
use crate::engine::{EngineKind, plan::cost_per_step};
use crate::experiment::Row;
use crate::train::train_with;

/// Largest multiply-adds a re-run in the engine sample may cost.
const SAMPLE_COST_LIMIT: f64 = 1e11;

/// A sample of the cached runs `rows` re-trained with every other applicable engine agrees with the cache to
/// relative 1e-9: |a − b| ≤ 1e-9 · max(|a|, |b|, 1e-12·(L(W0) − L*)) for the loss and the excess
/// at every logged point (the floor is where rounding decides the digits of a vanishing excess).
///
/// The sample: the first run of each architecture whose trajectory has no plateau (it reached the
/// target within 5 × its theorem's wide-limit iteration count, or for a fixed step at all) and that
/// some other applicable engine re-runs cheaply; it is re-run with every such engine (an engine
/// whose re-run would cost more than [`SAMPLE_COST_LIMIT`] multiply-adds is left out). A trajectory that lingers near a saddle amplifies
/// rounding differences exponentially while it escapes, so two exact engines then agree only in
/// distribution: a width-5 linear network that leaves a 30 000-step plateau differs by 3e-2
/// between the Gram and the dense engine right at the escape.
/// Returns whether they agree (with one comparison at least) and what was measured.
pub fn engines_agree(rows: &[&Row]) -> (bool, String) {
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    let mut worst_at = String::new();
    let mut problems = Vec::new();
    // The other engines that re-run `row` cheaply.
    let others = |row: &Row| -> Vec<EngineKind> {
        let run = &row.run.run;
        EngineKind::ALL
            .into_iter()
            .filter(|&k| k != row.outcome().engine && k.applies_to(run))
            .filter(|&k| cost_per_step(run, k) * run.config().optim.iters as f64 <= SAMPLE_COST_LIMIT)
            .collect()
    };
    for arch in [Arch::Resnet, Arch::Linear] {
        let pick =
            rows.iter().find(|r| r.run.run.config().model.arch == arch && no_plateau(r) && !others(r).is_empty());
        let Some(row) = pick else { continue };
        let cached = row.outcome();
        for kind in others(row) {
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
    if compared == 0 {
        return (false, "nothing to measure: no selected run could be re-run cheaply without a plateau".into());
    }
    let measured = format!(
        "{compared} re-runs compared, largest relative difference {worst:.1e}{worst_at}{}",
        if problems.is_empty() { String::new() } else { format!("; {}", problems.join("; ")) }
    );
    (problems.is_empty() && worst <= 1e-9, measured)
}

/// Whether a run reached its target without a plateau: within 5 × its theorem's wide-limit
/// iteration count (any time for a fixed step).
fn no_plateau(row: &Row) -> bool {
    let target = row.theory.target;
    let limit = crate::theory::wide_limit_iterations(&row.record.config.optim.step, row.theory.data.kappa, target);
    row.outcome().iters_to(target).is_some_and(|t| limit.is_none_or(|l| t as f64 <= 5.0 * l))
}
