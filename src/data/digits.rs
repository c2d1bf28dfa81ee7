//! The bundled 8×8 handwritten digits (UCI optdigits test set as shipped by scikit-learn; see
//! `data/README.md` for source and licence): n = 1797 images, d = 64 pixel intensities in 0..16,
//! one-hot targets with k = 10.

use std::io::Read;

use ndarray::Array2;

use super::Dataset;
use crate::config::{DIGITS_DIMS, Dims};

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// X (64×1797, raw intensities) and one-hot Y (10×1797).
pub fn load() -> Dataset {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .expect("the bundled digits file is valid gzip");
    let Dims { d, k, n } = DIGITS_DIMS;
    let mut x = Array2::zeros((d, n));
    let mut y = Array2::zeros((k, n));
    let mut count = 0;
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let values: Vec<f64> =
            line.split(',').map(|v| v.trim().parse().expect("the bundled digits file holds numbers")).collect();
        assert_eq!(values.len(), d + 1, "the bundled digits file has 65 columns");
        for (r, &v) in values[..d].iter().enumerate() {
            x[[r, i]] = v;
        }
        y[[values[d] as usize, i]] = 1.0;
        count += 1;
    }
    assert_eq!(count, n, "the bundled digits file has 1797 rows");
    Dataset { x, y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_have_the_documented_shape_range_and_classes() {
        let data = load();
        assert_eq!(data.dims(), DIGITS_DIMS);
        assert!(data.x.iter().all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0));
        // Every column of Y is one-hot, and every class occurs (≈180 images each).
        for col in data.y.columns() {
            assert_eq!(col.sum(), 1.0);
        }
        for class in data.y.rows() {
            let count = class.sum();
            assert!((170.0..=190.0).contains(&count), "class count {count}");
        }
        // The first image of scikit-learn's load_digits() is a 0 whose first row is 0,0,5,13,9,1,0,0.
        assert_eq!(
            data.x.column(0).iter().take(8).copied().collect::<Vec<_>>(),
            vec![0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(data.y[[0, 0]], 1.0);
    }
}
