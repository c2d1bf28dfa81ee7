//! Comparing the cells of a check with its test: whether the claim holds, and the numbers that say so.

use super::cells::{Cells, Key, key_text};
use super::spec::{Along, Bounds, Test, Versus};

/// Whether the test passed, and what was measured (in words and numbers).
pub struct Verdict {
    pub pass: bool,
    pub measured: String,
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
            let (first, last) = (points.first()?, points.last()?);
            Some(last.1 / first.1)
        }),
        Test::Spread(along) => along_field(along, cells, "spread", |points| {
            let max = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            let min = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            Some(max / min)
        }),
        Test::Versus(v) => versus(v, cells),
    }
}

fn each(bounds: &Bounds, cells: &Cells) -> Verdict {
    let pass = cells.values.iter().all(|(_, v)| bounds.holds(*v));
    let listed: Vec<String> = cells
        .values
        .iter()
        .map(|(k, v)| if k.is_empty() { show(*v) } else { format!("{} {}", key_text(k), show(*v)) })
        .collect();
    let measured = if listed.len() <= 12 {
        listed.join("; ")
    } else {
        let failing: Vec<&String> =
            listed.iter().zip(&cells.values).filter(|(_, (_, v))| !bounds.holds(*v)).map(|(t, _)| t).collect();
        let worst = failing.first().map(|t| format!("; first outside: {t}")).unwrap_or_default();
        format!("{} cells, {} outside the bounds{worst}", listed.len(), failing.len())
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

/// A number computed from each group's points (x ascending), checked against the bounds.
fn along_field(along: &Along, cells: &Cells, what: &str, stat: impl Fn(&[(f64, f64)]) -> Option<f64>) -> Verdict {
    let mut pass = true;
    let mut parts = Vec::new();
    for (key, points) in groups_without(cells, &along.x) {
        let mut xy: Vec<(f64, f64)> = points.iter().map(|(x, v)| (x.parse::<f64>().unwrap_or(f64::NAN), *v)).collect();
        xy.sort_by(|a, b| a.0.total_cmp(&b.0));
        let listed = xy.iter().map(|(x, v)| format!("{}:{}", show(*x), show(*v))).collect::<Vec<_>>().join(" ");
        let value = if xy.len() < 2 { None } else { stat(&xy) };
        let ok = value.is_some_and(|v| along.bounds.holds(v));
        pass &= ok;
        let result = match value {
            Some(v) => format!("{what} {}", show(v)),
            None => format!("no {what} (fewer than two points, or values that are not positive and finite)"),
        };
        let prefix = if key.is_empty() { String::new() } else { format!("{}: ", key_text(&key)) };
        parts.push(format!("{prefix}{listed} → {result}"));
    }
    Verdict { pass, measured: parts.join("; ") }
}

/// Least-squares slope of ln v on ln x; `None` when a value or x is not positive and finite.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.iter().any(|&(x, v)| !(x.is_finite() && x > 0.0 && v.is_finite() && v > 0.0)) {
        return None;
    }
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, v)| (x.ln(), v.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxx: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    // Slopes are O(1) numbers: below 1e-12 the fit of equal values is rounding, reported as 0.
    (sxx > 0.0).then(|| sxy / sxx).map(|s| if s.abs() < 1e-12 { 0.0 } else { s })
}

/// The ratios of `v` as cells keyed without its field.
fn ratios(v: &Versus, cells: &Cells, num: &str, den: &str) -> Vec<(Key, f64, f64)> {
    groups_without(cells, &v.field)
        .into_iter()
        .filter_map(|(key, points)| {
            let at = |side: &str| points.iter().find(|(x, _)| *x == side).map(|p| p.1);
            Some((key, at(num)?, at(den)?))
        })
        .collect()
}

fn versus(v: &Versus, cells: &Cells) -> Verdict {
    let text = |j: &serde_json::Value| match j {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (num, den) = (text(&v.numerator), text(&v.denominator));
    let pairs = ratios(v, cells, &num, &den);
    if pairs.is_empty() {
        return Verdict { pass: false, measured: format!("no cell has both {num} and {den}") };
    }
    if let Some(along) = &v.slope {
        let ratio_cells = Cells {
            values: pairs.iter().map(|(k, a, b)| (k.clone(), a / b)).collect(),
            partners: cells.partners.clone(),
        };
        let v = along_field(along, &ratio_cells, "slope", slope);
        // The ratios carry the verdict; the pairs behind them are listed when they are few.
        let measured = if pairs.len() <= 6 {
            let shown = pairs
                .iter()
                .map(|(k, a, b)| format!("{} {num} {} / {den} {}", key_text(k), show(*a), show(*b)))
                .collect::<Vec<_>>()
                .join("; ");
            format!("{shown}; ratio {}", v.measured)
        } else {
            format!("ratio {num}/{den}: {}", v.measured)
        };
        return Verdict { pass: v.pass, measured };
    }
    let mut pass = true;
    let parts: Vec<String> = pairs
        .iter()
        .map(|(key, a, b)| {
            let ratio = a / b;
            pass &= v.bounds.holds(ratio);
            let prefix = if key.is_empty() { String::new() } else { format!("{}: ", key_text(key)) };
            format!("{prefix}{num} {} / {den} {} = {}", show(*a), show(*b), show(ratio))
        })
        .collect();
    Verdict { pass, measured: parts.join("; ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_a_power_law_is_its_exponent() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0].iter().map(|&x: &f64| (x, 3.0 * x.powf(1.5))).collect();
        assert!((slope(&points).unwrap() - 1.5).abs() < 1e-12);
        assert_eq!(slope(&[(1.0, 1.0), (2.0, f64::INFINITY)]), None);
        assert_eq!(slope(&[(1.0, 10.0), (2.0, 10.0), (32.0, 10.0)]), Some(0.0));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(show(60.0), "60");
        assert_eq!(show(0.8512), "0.851");
        assert_eq!(show(1.2e-7), "1.20e-7");
        assert_eq!(show(f64::INFINITY), "∞");
    }
}
