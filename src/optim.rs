//! Step sizes, SGD minibatches and the iterations at which a curve is logged.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::config::{LogConfig, Schedule, StepRule};
use crate::theory::{TransformSpectrum, du_hu_step, zou_step};

/// η for `rule`. `transform` holds σ's of A and B (needed by the Zou rule, ResNet only),
/// `x_norm` = ‖X‖₂, `loss0` = L(W0).
pub fn step_size(
    rule: &StepRule,
    depth: usize,
    k: usize,
    x_norm: f64,
    loss0: f64,
    transform: Option<&TransformSpectrum>,
) -> f64 {
    match *rule {
        StepRule::Fixed { eta } => eta,
        StepRule::Zou { scale } => {
            zou_step(scale, depth, transform.expect("the zou rule is validated to need a ResNet"), x_norm, loss0)
        }
        StepRule::DuHu { scale } => du_hu_step(scale, depth, k, x_norm),
    }
}

/// Minibatches S ⊂ {0, …, n−1} of size b, each drawn uniformly among all b-subsets, independently
/// at every step, and returned in ascending order (so b = n gives exactly the full batch).
pub struct BatchSampler {
    perm: Vec<usize>,
    batch: Vec<usize>,
    rng: ChaCha8Rng,
}

impl BatchSampler {
    pub fn new(n: usize, b: usize, rng: ChaCha8Rng) -> BatchSampler {
        assert!(1 <= b && b <= n, "batch size is validated to lie in 1..=n");
        BatchSampler { perm: (0..n).collect(), batch: vec![0; b], rng }
    }

    /// The next minibatch: a partial Fisher–Yates shuffle of a persistent permutation (b swaps,
    /// swap i with a uniform j ∈ [i, n)), whose first b entries are a uniform b-subset whatever
    /// the permutation was before.
    pub fn next_batch(&mut self) -> &[usize] {
        let (n, b) = (self.perm.len(), self.batch.len());
        for i in 0..b {
            let j = self.rng.random_range(i..n);
            self.perm.swap(i, j);
        }
        self.batch.copy_from_slice(&self.perm[..b]);
        self.batch.sort_unstable();
        &self.batch
    }
}

/// The iterations at which a run of `iters` steps is logged, ascending, always with 0 and `iters`
/// (every iteration with schedule `all` or when `points` exceeds `iters`).
/// Geometric: 0 and round(iters^(i/(points−2))) for i = 0…points−2; linear: round(i·iters/(points−1)).
pub fn log_iterations(log: &LogConfig, iters: usize) -> Vec<usize> {
    let p = log.points.max(2);
    let mut its: Vec<usize> = match log.schedule {
        // As many points as iterations (or more): every iteration.
        _ if p > iters => (0..=iters).collect(),
        Schedule::All => (0..=iters).collect(),
        Schedule::Linear => (0..p).map(|i| ((i as f64) * iters as f64 / (p - 1) as f64).round() as usize).collect(),
        Schedule::Geometric => std::iter::once(0)
            .chain((0..p - 1).map(|i| {
                let frac = if p > 2 { i as f64 / (p - 2) as f64 } else { 1.0 };
                (iters as f64).powf(frac).round() as usize
            }))
            .collect(),
    };
    its.push(0);
    its.push(iters);
    its.retain(|&t| t <= iters);
    its.sort_unstable();
    its.dedup();
    its
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn batches_are_sorted_distinct_and_uniform() {
        let (n, b) = (6, 2);
        let mut s = BatchSampler::new(n, b, ChaCha8Rng::seed_from_u64(3));
        let mut counts = [0usize; 6];
        let mut pairs = std::collections::HashMap::new();
        let draws = 30_000;
        for _ in 0..draws {
            let batch = s.next_batch().to_vec();
            assert!(batch.windows(2).all(|w| w[0] < w[1]), "{batch:?}");
            for &i in &batch {
                counts[i] += 1;
            }
            *pairs.entry(batch).or_insert(0usize) += 1;
        }
        // Each index appears with probability b/n = 1/3; each of the 15 pairs with probability 1/15.
        // Tolerances are 5 binomial standard deviations.
        let expect = draws as f64 / 3.0;
        let sd = (draws as f64 * (1.0 / 3.0) * (2.0 / 3.0)).sqrt();
        assert!(counts.iter().all(|&c| (c as f64 - expect).abs() < 5.0 * sd), "{counts:?}");
        assert_eq!(pairs.len(), 15);
        let pexp = draws as f64 / 15.0;
        let psd = (draws as f64 * (1.0 / 15.0) * (14.0 / 15.0)).sqrt();
        assert!(pairs.values().all(|&c| (c as f64 - pexp).abs() < 5.0 * psd), "{pairs:?}");
    }

    #[test]
    fn full_batch_is_every_index_in_order() {
        let mut s = BatchSampler::new(5, 5, ChaCha8Rng::seed_from_u64(9));
        assert_eq!(s.next_batch(), &[0, 1, 2, 3, 4]);
        assert_eq!(s.next_batch(), &[0, 1, 2, 3, 4]);
    }

    #[test]
    fn log_schedules_include_ends_and_are_increasing() {
        let geo = LogConfig { schedule: Schedule::Geometric, points: 5, diagnostics: false };
        assert_eq!(log_iterations(&geo, 1000), vec![0, 1, 10, 100, 1000]);
        let lin = LogConfig { schedule: Schedule::Linear, points: 3, diagnostics: false };
        assert_eq!(log_iterations(&lin, 10), vec![0, 5, 10]);
        let all = LogConfig { schedule: Schedule::All, points: 2, diagnostics: false };
        assert_eq!(log_iterations(&all, 3), vec![0, 1, 2, 3]);
        // More points than iterations: every iteration once.
        assert_eq!(log_iterations(&geo, 2), vec![0, 1, 2]);
    }
}
