//! Combining the seeds of a cell: one rule for every output.
//!
//! The median of an even count is the mean of the two middle values; +∞ sorts above every number
//! (so a cell whose seeds mostly diverged has an infinite median, and one that diverged once an
//! infinite maximum). A cell with a member that has no number has none either: a failed or missing
//! run makes it [`Absence::NoResult`], a quantity the runs do not have
//! [`Absence::NotApplicable`].

use super::{Absence, Measured};
use crate::grid::quantity::OverSeeds;

/// Median, minimum and maximum of a sample of numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of a non-empty sample without NaN (`None` otherwise).
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { midpoint(v[n / 2 - 1], v[n / 2]) };
        Some(Spread { median, min: v[0], max: v[n - 1] })
    }
}

/// (a + b)/2, with (x + ∞)/2 = ∞.
fn midpoint(a: f64, b: f64) -> f64 {
    if a == b { a } else { 0.5 * (a + b) }
}

/// The measures of a cell's members combined by `how`.
pub fn pool(how: OverSeeds, members: &[Measured]) -> Measured {
    if let Some(absence) = absence_of(members) {
        return Measured::Absent(absence);
    }
    let values: Vec<f64> = members.iter().map(|m| m.number()).collect();
    let Some(s) = Spread::of(&values) else { return Measured::Absent(Absence::NoResult) };
    Measured::Value(match how {
        OverSeeds::Median => s.median,
        OverSeeds::Min => s.min,
        OverSeeds::Max => s.max,
        OverSeeds::Mean => values.iter().sum::<f64>() / values.len() as f64,
    })
}

/// The mean and the sample standard deviation (divisor n − 1) of a cell's members, absent as
/// [`pool`] says; the deviation does not apply to a single member or to a cell with an infinite
/// member (whose mean is then that infinity).
pub fn mean_sd(members: &[Measured]) -> (Measured, Measured) {
    let mean = pool(OverSeeds::Mean, members);
    let not_applicable = Measured::Absent(Absence::NotApplicable);
    let Measured::Value(m) = mean else { return (mean, mean) };
    if !m.is_finite() || members.len() < 2 {
        return (mean, not_applicable);
    }
    let squares: f64 = members.iter().map(|v| (v.number() - m).powi(2)).sum();
    (mean, Measured::Value((squares / (members.len() - 1) as f64).sqrt()))
}

/// Why a set of measures has no combined number: no member, a member without a result, or a
/// member the quantity does not apply to.
pub fn absence_of(members: &[Measured]) -> Option<Absence> {
    if members.is_empty() || members.contains(&Measured::Absent(Absence::NoResult)) {
        return Some(Absence::NoResult);
    }
    members.iter().any(|m| m.is_absent()).then_some(Absence::NotApplicable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64) -> Measured {
        Measured::Value(x)
    }

    #[test]
    fn median_min_max_mean_by_hand() {
        let cell = [v(3.0), v(1.0), v(10.0), v(2.0)];
        assert_eq!(pool(OverSeeds::Median, &cell), v(2.5));
        assert_eq!(pool(OverSeeds::Min, &cell), v(1.0));
        assert_eq!(pool(OverSeeds::Max, &cell), v(10.0));
        assert_eq!(pool(OverSeeds::Mean, &cell), v(4.0));
    }

    #[test]
    fn infinity_is_the_largest_value_and_absence_wins() {
        let inf = f64::INFINITY;
        assert_eq!(pool(OverSeeds::Median, &[v(1.0), v(inf), v(inf)]), v(inf));
        assert_eq!(pool(OverSeeds::Median, &[v(1.0), v(inf)]), v(inf));
        assert_eq!(pool(OverSeeds::Median, &[v(1.0), v(2.0), v(inf)]), v(2.0));
        assert_eq!(pool(OverSeeds::Median, &[v(inf), v(inf)]), v(inf));
        let na = Measured::Absent(Absence::NotApplicable);
        let none = Measured::Absent(Absence::NoResult);
        assert_eq!(pool(OverSeeds::Max, &[v(1.0), na]), na);
        assert_eq!(pool(OverSeeds::Max, &[na, none, v(1.0)]), none);
        assert_eq!(pool(OverSeeds::Max, &[]), none);
    }

    #[test]
    fn mean_and_sample_deviation_by_hand() {
        // 1, 2, 3, 6: mean 3, squares 4 + 1 + 0 + 9 = 14, sd √(14/3).
        assert_eq!(mean_sd(&[v(1.0), v(2.0), v(3.0), v(6.0)]), (v(3.0), v((14.0f64 / 3.0).sqrt())));
        let na = Measured::Absent(Absence::NotApplicable);
        assert_eq!(mean_sd(&[v(5.0)]), (v(5.0), na));
        assert_eq!(mean_sd(&[v(1.0), v(f64::INFINITY)]), (v(f64::INFINITY), na));
        assert_eq!(mean_sd(&[v(1.0), na]), (na, na));
    }
}
