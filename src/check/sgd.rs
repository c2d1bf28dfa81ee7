//! SGD converges on noiseless data.

use std::collections::BTreeMap;

use super::{CheckOutcome, e, fail_missing, final_rel_excess, outcome};
use crate::config::Method;
use crate::experiment::{Experiment, Row};

/// SGD converges (relative excess ≤ 1e-6) for every batch size run on noiseless data.
pub fn sgd_converges(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "sgd_converges";
    const CLAIM: &str = "SGD converges for every batch size run (noiseless targets, fixed step)";
    const THRESHOLD: &str = "final relative excess ≤ 1e-6 for every SGD run with label noise 0";
    let noiseless = |r: &&Row| match &r.record.config.data {
        crate::config::DataConfig::Paper(p) => p.noise == 0.0,
        crate::config::DataConfig::Spectrum(s) => s.noise == 0.0,
        _ => false,
    };
    let mut by_batch: BTreeMap<usize, f64> = BTreeMap::new();
    for r in exp.rows.iter().filter(|r| r.record.config.optim.method == Method::Sgd).filter(noiseless) {
        let v = final_rel_excess(r).unwrap_or(f64::INFINITY);
        let worst = by_batch.entry(r.record.config.optim.batch.unwrap_or(0)).or_insert(0.0);
        *worst = worst.max(v);
    }
    if by_batch.is_empty() {
        return fail_missing(NAME, CLAIM, "no SGD runs on noiseless data", THRESHOLD);
    }
    let pass = by_batch.values().all(|&v| v <= 1e-6);
    let measured = by_batch.iter().map(|(b, v)| format!("b={b}: worst {}", e(*v))).collect::<Vec<_>>().join("; ");
    outcome(NAME, CLAIM, pass, measured, THRESHOLD)
}
