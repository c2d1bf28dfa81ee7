//! Time estimates from the cost model ([`estimated_cost`], in multiply-adds).
//!
//! Before any run of a grid has finished, the time of a set of runs is their estimated work divided
//! by a multiply-add rate measured on this machine ([`measured_rate`]: a timed dgemm of the shape
//! the heaviest run multiplies, [`step_shape`]) and by the cores. The cost model counts every
//! iteration, so when a run may stop early (`optim.stop_below`) that time is an upper bound as far
//! as iterations go; the rate of a small timed kernel is not exact either (per-run set-up and
//! writing are not in it), so the result is an estimate, said as such.
//!
//! As soon as runs finish, [`Remaining`] uses their measured pace instead: the wall-clock seconds
//! since the start per unit of estimated work finished, times the estimated work left. Runs that
//! stop early finish their estimated work sooner, so the pace takes `stop_below` into account
//! without knowing when each run stops.

use std::time::Instant;

use ndarray::Array2;

use super::plan::{estimated_cost, step_shape};
use crate::config::ResolvedRun;
use crate::linalg::gemm;

/// How long the timed kernel of [`measured_rate`] repeats its product (at least three times).
const CALIBRATION_SECONDS: f64 = 0.02;

/// The sides of the timed product are clamped to this range: tiny products are timed on 8×8
/// matrices at least, and a large run's shape is not allocated in full.
const CALIBRATION_SIDES: (usize, usize) = (8, 512);

/// A multiply-add rate measured on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Multiply-adds per second on one core.
    pub per_second: f64,
    /// The product timed: a w×w matrix times a w×c matrix.
    pub w: usize,
    pub c: usize,
}

/// Times the dgemm C ← W·X (W: w×w, X: w×c, one OpenBLAS thread, as the engines run it) of the
/// sides `w` and `c` clamped to [8, 512], repeated for about 20 ms (at least three times), and
/// returns its rate in multiply-adds (w²·c per product) per second.
pub fn measured_rate(w: usize, c: usize) -> Rate {
    let clamp = |s: usize| s.clamp(CALIBRATION_SIDES.0, CALIBRATION_SIDES.1);
    let (w, c) = (clamp(w), clamp(c));
    crate::blas::set_threads(1);
    let a = Array2::from_shape_fn((w, w), |(i, j)| 1.0 / (1.0 + (i + 2 * j) as f64));
    let x = Array2::from_shape_fn((w, c), |(i, j)| 1.0 / (2.0 + (2 * i + j) as f64));
    let mut out = Array2::zeros((w, c));
    let start = Instant::now();
    let mut products = 0u32;
    while products < 3 || start.elapsed().as_secs_f64() < CALIBRATION_SECONDS {
        gemm(1.0, &a.view(), &x.view(), 0.0, &mut out.view_mut());
        products += 1;
    }
    std::hint::black_box(&out);
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    Rate { per_second: f64::from(products) * (w * w * c) as f64 / seconds, w, c }
}

/// The rate to turn the estimated work of `runs` into time: [`measured_rate`] on the shape of the
/// step of the heaviest of them ([`step_shape`]); `None` when `runs` is empty.
pub fn rate_for<'a>(runs: impl IntoIterator<Item = &'a ResolvedRun>) -> Option<Rate> {
    let heaviest = runs.into_iter().max_by(|a, b| estimated_cost(a).total_cmp(&estimated_cost(b)))?;
    let (w, c) = step_shape(heaviest);
    Some(measured_rate(w, c))
}

/// What an estimate of time rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The cost model at a measured rate; `upper_bound`: some run may stop early, so the work
    /// counted (every iteration) is at most what will be done.
    CostModel { upper_bound: bool },
    /// The pace of the runs finished so far.
    Measured,
}

/// An estimate of the seconds left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub seconds: f64,
    pub basis: Basis,
}

/// Seconds for `work` multiply-adds at `rate` per core on `cores` cores (the runs' work spread
/// evenly over the cores, as the runner's blocks spread it).
pub fn seconds_of(work: f64, rate: Rate, cores: usize) -> f64 {
    work / (rate.per_second * cores.max(1) as f64)
}

/// The time left of a set of runs, from their estimated work: the cost model until a run finishes,
/// then the measured pace of the finished ones (module documentation). Time is given by the caller
/// (seconds since the start), so the estimator is a function of the sequence it is told.
#[derive(Debug, Clone)]
pub struct Remaining {
    /// Estimated work of the runs not finished yet.
    left: f64,
    /// Estimated work of the finished runs, and the seconds since the start at the last finish.
    finished: f64,
    at: f64,
    /// Multiply-adds per second of the whole machine (rate × cores) before any run finishes.
    machine_rate: f64,
    may_stop_early: bool,
}

impl Remaining {
    /// Runs of estimated total `work` to do at `machine_rate` multiply-adds per second (all cores
    /// together); `may_stop_early` when some of them has `optim.stop_below`.
    pub fn new(work: f64, machine_rate: f64, may_stop_early: bool) -> Remaining {
        Remaining { left: work, finished: 0.0, at: 0.0, machine_rate, may_stop_early }
    }

    /// A run of estimated `work` that will not be computed here after all (another process
    /// computes it).
    pub fn skip(&mut self, work: f64) {
        self.left = (self.left - work).max(0.0);
    }

    /// A run of estimated `work` to do that was not counted at the start (its result turned out
    /// to be missing).
    pub fn add(&mut self, work: f64) {
        self.left += work;
    }

    /// A run of estimated `work` finished `seconds` after the start.
    pub fn finish(&mut self, work: f64, seconds: f64) {
        self.left = (self.left - work).max(0.0);
        self.finished += work;
        self.at = self.at.max(seconds);
    }

    /// The seconds left: (seconds at the last finish / work finished) × work left once some work
    /// has finished, else work left / machine rate.
    pub fn estimate(&self) -> Estimate {
        if self.finished > 0.0 {
            Estimate { seconds: self.at / self.finished * self.left, basis: Basis::Measured }
        } else {
            Estimate {
                seconds: self.left / self.machine_rate,
                basis: Basis::CostModel { upper_bound: self.may_stop_early },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_any_run_finishes_the_cost_model_gives_the_time_and_says_when_it_is_a_bound() {
        let mut r = Remaining::new(1200.0, 100.0, true);
        assert_eq!(r.estimate(), Estimate { seconds: 12.0, basis: Basis::CostModel { upper_bound: true } });
        // A run another process computes leaves the work.
        r.skip(200.0);
        assert_eq!(r.estimate().seconds, 10.0);
        let plain = Remaining::new(50.0, 100.0, false);
        assert_eq!(plain.estimate(), Estimate { seconds: 0.5, basis: Basis::CostModel { upper_bound: false } });
    }

    #[test]
    fn once_runs_finish_the_pace_of_the_finished_ones_gives_the_time_left() {
        // Four runs of estimated work 400, 300, 200 and 100 at a model rate of 100 per second:
        // 10 s by the model. Under stop_below they finish at 1 s, 1.5 s, 2 s and 2.25 s.
        let mut r = Remaining::new(1000.0, 100.0, true);
        r.finish(400.0, 1.0);
        // 1 s for 400: 600 left at 1/400 s each.
        assert_eq!(r.estimate(), Estimate { seconds: 600.0 * (1.0 / 400.0), basis: Basis::Measured });
        r.finish(300.0, 1.5);
        // 1.5 s for 700: 300 left.
        assert!((r.estimate().seconds - 300.0 * 1.5 / 700.0).abs() < 1e-12);
        r.finish(200.0, 2.0);
        assert!((r.estimate().seconds - 100.0 * 2.0 / 900.0).abs() < 1e-12);
        r.finish(100.0, 2.25);
        assert_eq!(r.estimate().seconds, 0.0);
    }

    #[test]
    fn a_skipped_run_after_finished_ones_shortens_the_measured_estimate() {
        let mut r = Remaining::new(100.0, 1.0, false);
        r.finish(50.0, 5.0);
        r.skip(30.0);
        // 20 left at 5/50 s each.
        assert!((r.estimate().seconds - 2.0).abs() < 1e-12);
        // A finish reported late (a smaller time) does not move the clock back.
        r.finish(10.0, 4.0);
        assert!((r.estimate().seconds - 10.0 * 5.0 / 60.0).abs() < 1e-12);
        // Work found on the way (a run counted as cached that must be computed) is added.
        r.add(40.0);
        assert!((r.estimate().seconds - 50.0 * 5.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn the_time_of_work_is_spread_over_the_cores() {
        let rate = Rate { per_second: 1e9, w: 8, c: 8 };
        assert_eq!(seconds_of(4e9, rate, 2), 2.0);
        assert_eq!(seconds_of(4e9, rate, 0), 4.0);
    }

    #[test]
    fn the_timed_kernel_reports_a_positive_rate_of_the_clamped_shape() {
        let r = measured_rate(2, 100_000);
        assert_eq!((r.w, r.c), (8, 512));
        assert!(r.per_second.is_finite() && r.per_second > 0.0);
    }
}
