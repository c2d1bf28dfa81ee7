//! Curves pooled over seeds on a common iteration grid.
//!
//! Seeds of one cell log the same iterations until one of them ends early, so the pooled curve is
//! drawn on the union of their logged x. At an x a seed did not log, it holds its value at the last
//! x it logged before (a step function: every logged point is an exact value of the run, and GD
//! does not move between the points that matter here). After its last point a seed that stopped
//! (`optim.stop_below`) holds its last value; one that diverged holds it until the iteration where
//! it diverged (its ✗) and is +∞ from there on; one that simply ran out of iterations takes no
//! further part. So the median of seeds that each fall monotonically falls monotonically, and a
//! diverged seed counts as the worst seed from its ✗ on rather than vanishing from the pool.

use super::pool::Spread;

/// How a seed's curve ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CurveEnd {
    /// It ran every iteration: no value after its last point.
    Ran,
    /// `optim.stop_below` ended it early: it holds its last value.
    Stopped,
    /// Its loss became non-finite at `at` (in the curve's x units).
    Diverged { at: f64 },
}

/// One seed's logged points (x ascending) and how its curve ends.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedCurve {
    pub points: Vec<(f64, f64)>,
    pub end: CurveEnd,
}

impl SeedCurve {
    /// The seed's value at `x` under the rule of this module (`None`: it takes no part).
    pub fn at(&self, x: f64) -> Option<f64> {
        let i = self.points.partition_point(|&(px, _)| px <= x);
        let last = self.points.last();
        match (i, self.end) {
            (_, CurveEnd::Diverged { at }) if x >= at => Some(f64::INFINITY),
            (0, _) => None,
            (i, _) if i < self.points.len() => Some(self.points[i - 1].1),
            (_, CurveEnd::Ran) if last.is_some_and(|&(lx, _)| x > lx) => None,
            _ => last.map(|&(_, y)| y),
        }
    }

    /// The x at which the seed's curve has something to show: its points and its ✗.
    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        let cross = match self.end {
            CurveEnd::Diverged { at } => Some(at),
            _ => None,
        };
        self.points.iter().map(|&(x, _)| x).chain(cross)
    }
}

/// One point of a pooled curve: the median over the seeds that take part at x, and their range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// How many seeds take part at x.
    pub seeds: usize,
}

/// The pooled curve of `seeds` on the union of their x (ascending).
pub fn pool_curves(seeds: &[SeedCurve]) -> Vec<BandPoint> {
    let mut xs: Vec<f64> = seeds.iter().flat_map(SeedCurve::xs).filter(|x| !x.is_nan()).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.into_iter()
        .filter_map(|x| {
            let values: Vec<f64> = seeds.iter().filter_map(|s| s.at(x)).filter(|y| !y.is_nan()).collect();
            Spread::of(&values).map(|s| BandPoint { x, median: s.median, min: s.min, max: s.max, seeds: values.len() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(points: &[(f64, f64)], end: CurveEnd) -> SeedCurve {
        SeedCurve { points: points.to_vec(), end }
    }

    #[test]
    fn stopped_seeds_hold_their_last_value_so_the_median_stays_monotone() {
        // Three monotone seeds, stopped at different iterations (the defect: the median rose
        // where the fastest seed stopped logging).
        let a = seed(&[(0.0, 1.0), (10.0, 0.1), (20.0, 1e-7)], CurveEnd::Stopped);
        let b = seed(&[(0.0, 1.0), (10.0, 0.2), (20.0, 1e-3), (30.0, 1e-7)], CurveEnd::Stopped);
        let c = seed(&[(0.0, 1.0), (10.0, 0.3), (20.0, 1e-2), (30.0, 1e-4), (40.0, 1e-7)], CurveEnd::Stopped);
        let band = pool_curves(&[a, b, c]);
        let xs: Vec<f64> = band.iter().map(|p| p.x).collect();
        assert_eq!(xs, [0.0, 10.0, 20.0, 30.0, 40.0]);
        // By hand: at 30 the seeds are (1e-7 held, 1e-7, 1e-4): median 1e-7; at 40 all 1e-7.
        let medians: Vec<f64> = band.iter().map(|p| p.median).collect();
        assert_eq!(medians, [1.0, 0.2, 1e-3, 1e-7, 1e-7]);
        assert!(band.windows(2).all(|w| w[1].median <= w[0].median && w[1].max <= w[0].max));
        assert!(band.iter().all(|p| p.seeds == 3));
    }

    #[test]
    fn a_diverged_seed_is_infinite_from_its_cross_on() {
        let ok = seed(&[(0.0, 1.0), (10.0, 0.5), (20.0, 0.25)], CurveEnd::Ran);
        let bad = seed(&[(0.0, 1.0), (10.0, 2.0)], CurveEnd::Diverged { at: 15.0 });
        let band = pool_curves(&[ok, bad]);
        let at = |x: f64| band.iter().find(|p| p.x == x).copied().unwrap();
        assert_eq!(at(10.0).max, 2.0);
        assert_eq!(at(15.0).max, f64::INFINITY);
        assert_eq!(at(15.0).min, 0.5);
        assert_eq!(at(20.0).median, f64::INFINITY);
    }

    #[test]
    fn a_seed_that_ran_out_takes_no_further_part() {
        let short = seed(&[(0.0, 1.0), (10.0, 0.5)], CurveEnd::Ran);
        let long = seed(&[(0.0, 1.0), (10.0, 0.4), (20.0, 0.2)], CurveEnd::Ran);
        let band = pool_curves(&[short, long]);
        assert_eq!(band.last().unwrap().seeds, 1);
        assert_eq!(band.last().unwrap().median, 0.2);
    }
}
