//! Numbers as text (the two forms every number shown to a user takes), and the magnitudes linres
//! accepts.

/// Magnitudes linres accepts for scales and data entries: outside [1e-100, 1e100], sums of squares
/// (Gram matrices, norms) under- or overflow and the linear algebra fails or returns nonsense.
pub const MAGNITUDE: (f64, f64) = (1e-100, 1e100);

/// A float as text, the one form every number shown to a user takes (messages, descriptions,
/// tables): the shortest text that reads back to `v`, in exponent notation outside [1e-4, 1e15)
/// (`1e-300`, never 300 digits); non-finite values as `inf`, `-inf`, `NaN`.
pub fn float_text(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-4..1e15).contains(&a) || !v.is_finite() { format!("{v}") } else { format!("{v:e}") }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_in_a_readable_form() {
        for (v, text) in [
            (0.0, "0"),
            (0.5, "0.5"),
            (1234.5, "1234.5"),
            (1e-10, "1e-10"),
            (3.25e20, "3.25e20"),
            (-2e-7, "-2e-7"),
            (1e-300, "1e-300"),
            (-1e300, "-1e300"),
        ] {
            assert_eq!(float_text(v), text);
            assert_eq!(float_text(v).parse::<f64>().unwrap(), v);
        }
    }
}
