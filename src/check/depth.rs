//! Fig. 1(c)(d): iterations to ε over depth.

use std::collections::BTreeMap;

use super::{CheckOutcome, fail_missing, outcome, show_count};
use crate::config::Arch;
use crate::experiment::Experiment;
use crate::plot::data::spread;

/// Median iterations to the target of one architecture: width → [(depth, median)] in increasing
/// depth; ∞ when the median run did not reach the target.
fn iterations_by_depth(exp: &Experiment, arch: Arch) -> BTreeMap<usize, Vec<(usize, f64)>> {
    let mut groups: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for r in exp.rows.iter().filter(|r| r.record.config.model.arch == arch) {
        let it = r.outcome().iters_to(r.theory.target).map_or(f64::INFINITY, |t| t as f64);
        groups.entry((r.record.config.model.width, r.record.config.model.depth)).or_default().push(it);
    }
    let mut out: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
    for ((m, depth), mut v) in groups {
        out.entry(m).or_default().push((depth, spread(&mut v).0));
    }
    out
}

/// Fig. 1(c)(d): the ResNet's iterations to ε change little with depth (within 2× at each width).
pub fn resnet_depth_flat(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "resnet_iterations_flat_in_depth";
    const CLAIM: &str = "ResNet iterations to 1e-6 relative excess change little with depth (Fig. 1(c)(d))";
    const THRESHOLD: &str = "max/min of the median over depths ≤ 2 at every width, every depth reached";
    let by = iterations_by_depth(exp, Arch::Resnet);
    if by.is_empty() {
        return fail_missing(NAME, CLAIM, "no ResNet runs", THRESHOLD);
    }
    let mut pass = true;
    let mut parts = Vec::new();
    for (m, its) in by {
        if its.len() < 2 {
            return fail_missing(NAME, CLAIM, &format!("fewer than two depths at m = {m}"), THRESHOLD);
        }
        let lo = its.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = its.iter().map(|p| p.1).fold(0.0, f64::max);
        let ratio = hi / lo;
        pass &= ratio.is_finite() && ratio <= 2.0;
        let list: Vec<String> = its.iter().map(|(l, v)| format!("L{l}:{}", show_count(*v))).collect();
        parts.push(format!("m={m}: {} (ratio {ratio:.2})", list.join(" ")));
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}

/// Fig. 1(c)(d): the linear network's iterations to ε grow with depth.
pub fn linear_depth_grows(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "linear_iterations_grow_with_depth";
    const CLAIM: &str = "the linear network's iterations to 1e-6 relative excess grow with depth (Fig. 1(c)(d))";
    const THRESHOLD: &str = "median at the largest depth > median at the smallest, at every width";
    let by = iterations_by_depth(exp, Arch::Linear);
    if by.is_empty() {
        return fail_missing(NAME, CLAIM, "no linear-network runs", THRESHOLD);
    }
    let mut pass = true;
    let mut parts = Vec::new();
    for (m, its) in by {
        let (first, last) = (its[0], its[its.len() - 1]);
        pass &= its.len() >= 2 && first.1.is_finite() && last.1 > first.1;
        parts.push(format!("m={m}: L{} {} → L{} {}", first.0, show_count(first.1), last.0, show_count(last.1)));
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}
