//! Exports for plotting and for other tools: the grid's tables as CSV and Parquet, one run's
//! inputs as `.npy`.

pub mod inputs;
pub mod parquet;
pub mod tables;

pub use crate::config::float_text;

/// A float for reading: 4 significant digits, in exponent notation outside [1e-3, 1e5); 0 and
/// non-finite values as Rust prints them (`0`, `inf`, `NaN`).
pub fn compact_text(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3e}")
    }
}
