//! Fig. 1(a)(b) and the narrowest width: which transformations converge.

use super::{CheckOutcome, e, fail_missing, final_rel_excess, outcome, transform_of};
use crate::config::TransformKind;
use crate::experiment::Experiment;

/// Fig. 1(a)(b): identity transformations stay at relative excess ≥ 1e-2 while modified identity
/// and Gaussian ones reach ≤ 1e-6, at m = 40 and m = 200.
pub fn transforms(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "transforms";
    const CLAIM: &str = "identity transformations get stuck; modified identity and Gaussian ones converge (Fig. 1(a)(b), m = 40 and 200)";
    const THRESHOLD: &str =
        "identity: every seed ≥ 1e-2; modified identity, Gaussian: every seed ≤ 1e-6 (final relative excess)";
    let mut parts = Vec::new();
    let mut pass = true;
    for m in [40, 200] {
        for kind in [TransformKind::Identity, TransformKind::ModifiedIdentity, TransformKind::Gaussian] {
            let values: Vec<f64> = exp
                .rows
                .iter()
                .filter(|r| r.record.config.model.width == m && transform_of(r) == Some(kind))
                .filter_map(final_rel_excess)
                .collect();
            if values.is_empty() {
                return fail_missing(NAME, CLAIM, &format!("no {} runs at m = {m}", kind.name()), THRESHOLD);
            }
            let (lo, hi) =
                (values.iter().copied().fold(f64::INFINITY, f64::min), values.iter().copied().fold(0.0, f64::max));
            if kind == TransformKind::Identity {
                pass &= lo >= 1e-2;
                parts.push(format!("m={m} identity min {}", e(lo)));
            } else {
                pass &= hi <= 1e-6;
                parts.push(format!("{} max {}", kind.name(), e(hi)));
            }
        }
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}

/// Modified identity at exactly m = d + k converges for every seed, on each experiment given.
pub fn modified_identity_narrowest(experiments: &[&Experiment]) -> CheckOutcome {
    const NAME: &str = "modified_identity_d_plus_k";
    const CLAIM: &str = "the modified identity at width exactly d + k converges for every seed (paper data and digits)";
    const THRESHOLD: &str = "final relative excess ≤ 1e-6 for every seed";
    let mut parts = Vec::new();
    let mut pass = true;
    for exp in experiments {
        let values: Vec<f64> = exp
            .rows
            .iter()
            .filter(|r| transform_of(r) == Some(TransformKind::ModifiedIdentity))
            .filter(|r| {
                r.record
                    .outcome
                    .as_ref()
                    .is_some_and(|o| r.record.config.model.width == o.theory.data.d + o.theory.data.k)
            })
            .filter_map(final_rel_excess)
            .collect();
        if values.is_empty() {
            return fail_missing(
                NAME,
                CLAIM,
                &format!("no modified-identity run at m = d + k in {}", exp.spec.name),
                THRESHOLD,
            );
        }
        let worst = values.iter().copied().fold(0.0, f64::max);
        pass &= worst <= 1e-6;
        parts.push(format!("{}: {} seeds, worst {}", exp.spec.name, values.len(), e(worst)));
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}
