//! Comparing the cells of a check with its test: whether the claim holds, and the numbers that say so.
//!
//! One rule for a cell without a finite value, whatever the test (`each`, `slope`, `ratio`,
//! `spread`, `versus` and the slope of a `versus`):
//! - **n/a** — a cell without a value (NaN: its runs have no such quantity, e.g. `theory.zou_margin`
//!   of a linear network, or a run of the cell has none), or a cell a `versus` needs that the
//!   selection does not hold — is never compared: the test fails and names the cell.
//! - **∞** — a target never reached, a diverged run, no width of the grid that suffices — is a value
//!   above every number: a bound compares it as such (it fails `at_most` and `below`, meets
//!   `at_least` and `above`), and so do ratios (∞/x = ∞, x/∞ = 0, a spread with an ∞ is ∞). A number
//!   that a test cannot compute from it — a log–log slope through ∞ (or through a value ≤ 0), ∞/∞,
//!   0/0 — fails the test, naming the cells.

use super::cells::{Cells, Key, key_text};
use super::spec::{Along, Bounds, Test, Versus, json_text};

/// Whether the test passed, and what was measured (in words and numbers).
pub struct Verdict {
    pub pass: bool,
    pub measured: String,
}

/// A number a test compares with its bounds, or why there is none.
type Measured = Result<f64, String>;

/// The rule for a cell in one place: its value, or why it has none (`name` names the cell).
fn cell_value(name: &str, v: f64) -> Measured {
    if v.is_nan() { Err(format!("{name} has no value (n/a)")) } else { Ok(v) }
}

/// `a / b` in extended arithmetic (∞/x = ∞, x/∞ = 0); ∞/∞ and 0/0 have no value.
fn quotient(a: f64, b: f64) -> Measured {
    let q = a / b;
    if q.is_nan() { Err(format!("{} / {} has no value", show(a), show(b))) } else { Ok(q) }
}

/// Whether a measured number meets the bounds (a number that could not be measured never does).
fn meets(bounds: &Bounds, m: &Measured) -> bool {
    m.as_ref().is_ok_and(|v| bounds.holds(*v))
}

/// A number for the measured column: integers as integers, ∞, otherwise 3 significant digits.
pub fn show(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "∞".into() } else { "−∞".into() }
    } else if v.is_nan() {
        "n/a".into()
    } else if v == v.round() && v.abs() < 1e9 {
        format!("{v}")
    } else if (1e-3..1e4).contains(&v.abs()) {
        format!("{}", (v * 1000.0).round() / 1000.0)
    } else {
        format!("{v:.2e}")
    }
}

/// Applies `test` to `cells`.
pub fn judge(test: &Test, cells: &Cells) -> Verdict {
    match test {
        Test::Each(bounds) => each(bounds, cells),
        Test::Slope(along) => along_field(along, cells, "slope", slope),
        Test::Ratio(along) => along_field(along, cells, "ratio", |points| {
            let (first, last) = (points[0], points[points.len() - 1]);
            quotient(last.1, first.1)
        }),
        Test::Spread(along) => along_field(along, cells, "spread", |points| {
            // No value is n/a here (the rule is applied first), so max and min see every value.
            let max = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            let min = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            quotient(max, min)
        }),
        Test::Versus(v) => versus(v, cells),
    }
}

fn each(bounds: &Bounds, cells: &Cells) -> Verdict {
    // (the cell as listed, its value)
    let judged: Vec<(String, Measured)> = cells
        .values
        .iter()
        .map(|(k, v)| {
            let name = if k.is_empty() { "the cell".to_string() } else { key_text(k) };
            let listed = if k.is_empty() { show(*v) } else { format!("{name} {}", show(*v)) };
            (listed, cell_value(&name, *v))
        })
        .collect();
    let pass = judged.iter().all(|(_, m)| meets(bounds, m));
    let measured = if judged.len() <= 12 {
        let listed: Vec<&str> = judged.iter().map(|(t, _)| t.as_str()).collect();
        // Named in the list as n/a; the note says what that does (one cell: the rule's own words).
        let without: Vec<&String> = judged.iter().filter_map(|(_, m)| m.as_ref().err()).collect();
        let note = match without.as_slice() {
            [] => String::new(),
            [one] => format!(" ({one}: it fails the test)"),
            many => format!(" ({} cells have no value (n/a): they fail the test)", many.len()),
        };
        format!("{}{note}", listed.join("; "))
    } else {
        let failing: Vec<&String> = judged.iter().filter(|(_, m)| !meets(bounds, m)).map(|(t, _)| t).collect();
        let first = failing.first().map(|t| format!("; first: {t}")).unwrap_or_default();
        format!("{} cells, {} outside the bounds or without a value{first}", judged.len(), failing.len())
    };
    Verdict { pass, measured }
}

/// The cells split into groups that agree on every field but `field` (and the fields zipped with
/// it): (group key, (value of `field`, cell value)).
fn groups_without<'a>(cells: &'a Cells, field: &str) -> Vec<(Key, Vec<(&'a str, f64)>)> {
    let tied = cells.tied(field);
    let mut out: Vec<(Key, Vec<(&str, f64)>)> = Vec::new();
    for (key, v) in &cells.values {
        let rest: Key = key.iter().filter(|(f, _)| !tied.contains(f)).cloned().collect();
        let at = key.iter().find(|(f, _)| f == field).map_or("", |(_, x)| x.as_str());
        match out.iter_mut().find(|(k, _)| *k == rest) {
            Some((_, points)) => points.push((at, *v)),
            None => out.push((rest, vec![(at, *v)])),
        }
    }
    out
}

fn prefix(key: &Key) -> String {
    if key.is_empty() { String::new() } else { format!("{}: ", key_text(key)) }
}

/// A number computed from each group's points (x ascending, at least two, every value a value),
/// checked against the bounds.
fn along_field(along: &Along, cells: &Cells, what: &str, stat: impl Fn(&[(f64, f64)]) -> Measured) -> Verdict {
    let mut pass = true;
    let mut parts = Vec::new();
    for (key, points) in groups_without(cells, &along.x) {
        let mut xy: Vec<(f64, f64)> = points.iter().map(|(x, v)| (x.parse::<f64>().unwrap_or(f64::NAN), *v)).collect();
        xy.sort_by(|a, b| a.0.total_cmp(&b.0));
        let listed = xy.iter().map(|(x, v)| format!("{}:{}", show(*x), show(*v))).collect::<Vec<_>>().join(" ");
        let value = xy
            .iter()
            .try_for_each(|&(x, v)| cell_value(&show(x), v).map(drop))
            .and_then(|()| if xy.len() < 2 { Err("fewer than two points".to_string()) } else { stat(&xy) });
        pass &= meets(&along.bounds, &value);
        let result = match value {
            Ok(v) => format!("{what} {}", show(v)),
            Err(why) => format!("no {what}: {why}"),
        };
        parts.push(format!("{}{listed} → {result}", prefix(&key)));
    }
    Verdict { pass, measured: parts.join("; ") }
}

/// Least-squares slope of ln v on ln x; an error naming the point when an x or a value is not
/// positive and finite (∞ included: it has no logarithm to fit).
pub fn slope(points: &[(f64, f64)]) -> Measured {
    for &(x, v) in points {
        if !(x.is_finite() && x > 0.0 && v.is_finite() && v > 0.0) {
            return Err(format!("{}:{} is not positive and finite (a log–log slope needs both)", show(x), show(v)));
        }
    }
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, v)| (x.ln(), v.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxx: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx <= 0.0 {
        return Err("every point has the same x".into());
    }
    // Slopes are O(1) numbers: below 1e-12 the fit of equal values is rounding, reported as 0.
    let s = sxy / sxx;
    Ok(if s.abs() < 1e-12 { 0.0 } else { s })
}

/// One group of a `versus`: its key, the two sides as listed, and their ratio (or why there is none).
struct Pair {
    key: Key,
    listed: String,
    ratio: Measured,
}

impl Pair {
    fn text(&self) -> String {
        let p = prefix(&self.key);
        match &self.ratio {
            Ok(r) => format!("{p}{} = {}", self.listed, show(*r)),
            Err(why) if self.listed.is_empty() => format!("{p}{why}"),
            Err(why) => format!("{p}{}: no ratio: {why}", self.listed),
        }
    }
}

/// The ratio numerator / denominator in every group of cells that agree on every field but the
/// versus field; a group without one of the sides, or with a side without a value, has none.
fn pairs(v: &Versus, cells: &Cells, num: &str, den: &str) -> Vec<Pair> {
    groups_without(cells, &v.field)
        .into_iter()
        .map(|(key, points)| {
            let side = |s: &str| points.iter().find(|(x, _)| *x == s).map(|p| p.1);
            let (listed, ratio) = match (side(num), side(den)) {
                (Some(a), Some(b)) => {
                    let ratio = cell_value(&format!("{} = {num}", v.field), a)
                        .and_then(|a| cell_value(&format!("{} = {den}", v.field), b).map(|b| (a, b)))
                        .and_then(|(a, b)| quotient(a, b));
                    (format!("{num} {} / {den} {}", show(a), show(b)), ratio)
                }
                (a, _) => {
                    let absent = if a.is_none() { num } else { den };
                    (String::new(), Err(format!("no cell with {} = {absent}", v.field)))
                }
            };
            Pair { key, listed, ratio }
        })
        .collect()
}

fn versus(v: &Versus, cells: &Cells) -> Verdict {
    let (num, den) = (json_text(&v.numerator), json_text(&v.denominator));
    let pairs = pairs(v, cells, &num, &den);
    let complete = pairs.iter().all(|p| p.ratio.is_ok());
    let Some(along) = &v.slope else {
        let pass = pairs.iter().all(|p| meets(&v.bounds, &p.ratio));
        return Verdict { pass, measured: pairs.iter().map(Pair::text).collect::<Vec<_>>().join("; ") };
    };
    // The slope of the ratios: a group without a ratio is a cell without a value.
    let ratio_cells = Cells {
        values: pairs.iter().map(|p| (p.key.clone(), p.ratio.clone().unwrap_or(f64::NAN))).collect(),
        partners: cells.partners.clone(),
    };
    let fit = along_field(along, &ratio_cells, "slope", slope);
    // The ratios carry the verdict; the pairs behind them are listed when they are few, and the
    // groups without a ratio always.
    let shown: Vec<String> = pairs.iter().filter(|p| pairs.len() <= 6 || p.ratio.is_err()).map(Pair::text).collect();
    let measured = if shown.is_empty() {
        format!("ratio {num}/{den}: {}", fit.measured)
    } else {
        format!("{}; ratio {num}/{den}: {}", shown.join("; "), fit.measured)
    };
    Verdict { pass: fit.pass && complete, measured }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_a_power_law_is_its_exponent() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0].iter().map(|&x: &f64| (x, 3.0 * x.powf(1.5))).collect();
        assert!((slope(&points).unwrap() - 1.5).abs() < 1e-12);
        assert!(slope(&[(1.0, 1.0), (2.0, f64::INFINITY)]).unwrap_err().contains("2:∞"));
        assert!(slope(&[(1.0, 1.0), (2.0, 0.0)]).is_err());
        assert_eq!(slope(&[(1.0, 10.0), (2.0, 10.0), (32.0, 10.0)]), Ok(0.0));
    }

    #[test]
    fn quotients_follow_extended_arithmetic_and_undefined_ones_are_named() {
        assert_eq!(quotient(f64::INFINITY, 2.0), Ok(f64::INFINITY));
        assert_eq!(quotient(2.0, f64::INFINITY), Ok(0.0));
        assert!(quotient(f64::INFINITY, f64::INFINITY).unwrap_err().contains("∞ / ∞"));
        assert!(quotient(0.0, 0.0).is_err());
        assert!(cell_value("L=2", f64::NAN).unwrap_err().contains("L=2 has no value (n/a)"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(show(60.0), "60");
        assert_eq!(show(0.8512), "0.851");
        assert_eq!(show(1.2e-7), "1.20e-7");
        assert_eq!(show(f64::INFINITY), "∞");
    }
}
