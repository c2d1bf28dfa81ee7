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

use super::cells::Cells;
use crate::grid::FieldValue;
use crate::grid::check::{Along, Bounds, Test, Versus, json_text};
use crate::measure::cells::{Key, key_text};
use crate::measure::{Absence, Measured as Value};

/// Whether the test passed, and what was measured (in words and numbers).
pub struct Verdict {
    pub pass: bool,
    pub measured: String,
}

/// A number a test compares with its bounds, or why there is none.
type Measured = Result<f64, String>;

/// The rule for a cell in one place: its value, or why it has none (`name` names the cell). A
/// censored width compares as its bound ([`Value::number`]: `≤ 10` as 10, `> 1000` as ∞).
fn cell_value(name: &str, v: Value) -> Measured {
    let n = v.number();
    if n.is_nan() { Err(format!("{name} has no value (n/a)")) } else { Ok(n) }
}

/// A cell's value for the measured column: censoring and absence as the measures layer writes
/// them (`≤ 10`, `> 1000`, `n/a`), numbers by [`show`].
fn shown(v: Value) -> String {
    v.text_with(show)
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
            let listed = if k.is_empty() { shown(*v) } else { format!("{name} {}", shown(*v)) };
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
fn groups_without<'a>(cells: &'a Cells, field: &str) -> Vec<(Key, Vec<(&'a FieldValue, Value)>)> {
    let tied = cells.tied(field);
    let mut out: Vec<(Key, Vec<(&FieldValue, Value)>)> = Vec::new();
    for (key, v) in &cells.values {
        let rest: Key = key.iter().filter(|(f, _)| !tied.iter().any(|t| t == f.as_str())).cloned().collect();
        let Some(at) = key.iter().find(|(f, _)| f.as_str() == field).map(|(_, x)| x) else { continue };
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
        let mut xv: Vec<(f64, Value)> = points.iter().map(|(x, v)| (x.number().unwrap_or(f64::NAN), *v)).collect();
        xv.sort_by(|a, b| a.0.total_cmp(&b.0));
        let listed = xv.iter().map(|(x, v)| format!("{}:{}", show(*x), shown(*v))).collect::<Vec<_>>().join(" ");
        let value = xv
            .iter()
            .map(|&(x, v)| cell_value(&show(x), v).map(|v| (x, v)))
            .collect::<Result<Vec<(f64, f64)>, String>>()
            .and_then(|xy| if xy.len() < 2 { Err("fewer than two points".to_string()) } else { stat(&xy) });
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

/// Whether two cells' keys (the versus field and its partners left out) name the same group: they
/// agree on every field both have. A field one of them does not have (a linear network's
/// transformation) does not keep them apart, so a linear network pairs with each of the ResNets
/// its grid holds.
fn same_group(a: &Key, b: &Key) -> bool {
    a.iter().all(|(f, x)| b.iter().find(|(g, _)| g == f).is_none_or(|(_, y)| x == y || x.is_absent() || y.is_absent()))
}

/// The ratio numerator / denominator of every pair of cells, one with the versus field at the
/// numerator and one at the denominator, that name the same group ([`same_group`]); a cell of one
/// side without a partner on the other, or a side without a value, has no ratio.
fn pairs(v: &Versus, cells: &Cells, num: &str, den: &str) -> Vec<Pair> {
    let tied = cells.tied(&v.field);
    let side = |want: &FieldValue| -> Vec<(Key, Value)> {
        cells
            .values
            .iter()
            .filter(|(k, _)| k.iter().any(|(f, x)| f.as_str() == v.field && x == want))
            .map(|(k, value)| {
                (k.iter().filter(|(f, _)| !tied.iter().any(|t| t == f.as_str())).cloned().collect(), *value)
            })
            .collect()
    };
    let (nums, dens) = (side(&FieldValue::wanted(&v.numerator)), side(&FieldValue::wanted(&v.denominator)));
    let missing = |key: &Key, absent: &str| Pair {
        key: key.clone(),
        listed: String::new(),
        ratio: Err(format!("no cell with {} = {absent}", v.field)),
    };
    let mut out = Vec::new();
    let mut paired = vec![false; dens.len()];
    for (ka, a) in &nums {
        let before = out.len();
        for (j, (kb, b)) in dens.iter().enumerate().filter(|(_, (kb, _))| same_group(ka, kb)) {
            paired[j] = true;
            // The pair's key: each field's value from whichever side has it.
            let key = ka
                .iter()
                .map(|(f, x)| match (x.is_absent(), kb.iter().find(|(g, _)| g == f)) {
                    (true, Some(other)) => other.clone(),
                    _ => (f.clone(), x.clone()),
                })
                .collect();
            let ratio = cell_value(&format!("{} = {num}", v.field), *a)
                .and_then(|a| cell_value(&format!("{} = {den}", v.field), *b).map(|b| (a, b)))
                .and_then(|(a, b)| quotient(a, b));
            out.push(Pair { key, listed: format!("{num} {} / {den} {}", shown(*a), shown(*b)), ratio });
        }
        if out.len() == before {
            out.push(missing(ka, den));
        }
    }
    out.extend(dens.iter().zip(&paired).filter(|(_, p)| !**p).map(|((kb, _), _)| missing(kb, num)));
    out
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
        values: pairs
            .iter()
            .map(|p| (p.key.clone(), p.ratio.clone().map_or(Value::Absent(Absence::NotApplicable), Value::Value)))
            .collect(),
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
        assert!(
            cell_value("L=2", Value::Absent(Absence::NotApplicable)).unwrap_err().contains("L=2 has no value (n/a)")
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(show(60.0), "60");
        assert_eq!(show(0.8512), "0.851");
        assert_eq!(show(1.2e-7), "1.20e-7");
        assert_eq!(show(f64::INFINITY), "∞");
    }
}
