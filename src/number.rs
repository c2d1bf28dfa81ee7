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

/// `v` rounded to `digits` significant digits, as (mantissa, decimal exponent) when it needs one:
/// integers below 10⁹ stay whole, magnitudes in [10⁻³, 10⁵) are written positionally (`0.00296`,
/// `1234.5` → `1235` at 4 digits), others as `1.23` × 10^e. Finite `v` only.
pub fn significant(v: f64, digits: usize) -> (String, Option<i32>) {
    let digits = digits.max(1);
    if v == v.round() && v.abs() < 1e9 {
        return (format!("{v}"), None);
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let decimals = (digits as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
        return (format!("{v:.decimals$}"), None);
    }
    let text = format!("{v:.*e}", digits - 1);
    let (mantissa, exponent) = text.split_once('e').expect("exponent form");
    (mantissa.to_string(), Some(exponent.parse().expect("an integer exponent")))
}

/// A float for reading: [`significant`] to `digits` digits without trailing zeros (`0.00296`,
/// `1.07e-5`); 0 and non-finite values as Rust prints them (`0`, `inf`, `NaN`).
pub fn rounded_text(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let trim = |m: String| {
        if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.').to_string() } else { m }
    };
    match significant(v, digits) {
        (m, None) => trim(m),
        (m, Some(e)) => format!("{}e{e}", trim(m)),
    }
}

/// A float for reading at a glance (report cells, terminal tables): [`rounded_text`] to 4
/// significant digits.
pub fn compact_text(v: f64) -> String {
    rounded_text(v, 4)
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

    #[test]
    fn rounded_text_keeps_the_significant_digits_at_every_magnitude() {
        for (v, digits, text) in [
            (0.0029617, 3, "0.00296"),
            (0.0029617, 4, "0.002962"),
            (0.084275, 4, "0.08428"),
            (1.0725e-5, 3, "1.07e-5"),
            (1234.6, 4, "1235"),
            (157.0, 3, "157"),
            (2.5, 4, "2.5"),
            (3.25e20, 3, "3.25e20"),
            (f64::INFINITY, 3, "inf"),
        ] {
            assert_eq!(rounded_text(v, digits), text, "{v} to {digits} digits");
            // Independently: the text is v to within half a unit of its last digit.
            if v.is_finite() && v != v.round() {
                let (m, e) = text.split_once('e').map_or((text, 0), |(m, e)| (m, e.parse::<i32>().unwrap()));
                let decimals = m.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
                let unit = 10f64.powi(e - decimals);
                assert!((text.parse::<f64>().unwrap() - v).abs() <= 0.5 * unit * (1.0 + 1e-9), "{v} → {text}");
            }
        }
    }
}
