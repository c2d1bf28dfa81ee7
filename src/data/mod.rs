//! Training sets: X is d×n (columns are samples) and Y is k×n, as in THEORY.md.

pub mod digits;
pub mod synthetic;

use ndarray::{Array2, Axis};

use crate::config::{DataConfig, Dims, ResolvedRun};
use crate::error::RunError;
use crate::rng::RunSeeds;

/// A training set: X (d×n) and Y (k×n).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub x: Array2<f64>,
    pub y: Array2<f64>,
}

impl Dataset {
    pub fn dims(&self) -> Dims {
        Dims { d: self.x.nrows(), k: self.y.nrows(), n: self.x.ncols() }
    }

    /// Builds the data set of `run` (synthetic sets draw from the `data` stream).
    pub fn build(run: &ResolvedRun, seeds: &RunSeeds) -> Result<Dataset, RunError> {
        let data = match &run.config().data {
            DataConfig::Paper(p) => synthetic::paper(p, &mut seeds.data.rng()),
            DataConfig::Spectrum(s) => synthetic::spectrum(s, &mut seeds.data.rng())?,
            DataConfig::File(f) => {
                let x = f.x.load()?;
                let y = f.y.load()?;
                let mut data = Dataset { x: x.reversed_axes(), y: y.reversed_axes() };
                if f.standardize {
                    standardize(&mut data.x);
                }
                data
            }
            DataConfig::Digits(g) => {
                let mut data = digits::load();
                if g.standardize {
                    standardize(&mut data.x);
                }
                data
            }
        };
        debug_assert_eq!(data.dims(), run.dims());
        Ok(data)
    }
}

/// Centres every feature (row of the d×n matrix X) and scales it to unit variance (population
/// standard deviation); a constant feature becomes 0.
pub fn standardize(x: &mut Array2<f64>) {
    let n = x.ncols() as f64;
    for mut row in x.axis_iter_mut(Axis(0)) {
        let mean = row.sum() / n;
        row.mapv_inplace(|v| v - mean);
        let std = (row.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
        if std > 0.0 {
            row.mapv_inplace(|v| v / std);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standardize_gives_zero_mean_unit_variance_and_zeroes_constants() {
        let mut x = array![[1.0, 2.0, 3.0, 6.0], [5.0, 5.0, 5.0, 5.0]];
        standardize(&mut x);
        let row = x.row(0);
        assert!(row.sum().abs() < 1e-14);
        assert!((row.iter().map(|v| v * v).sum::<f64>() / 4.0 - 1.0).abs() < 1e-14);
        assert_eq!(x.row(1).to_vec(), vec![0.0; 4]);
    }
}
