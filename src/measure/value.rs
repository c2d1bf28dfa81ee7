//! A measured number with its explicit absence and censoring: what every output shows for a
//! measure, in each output's notation.

use std::fmt;

use crate::number::float_text;

/// Why a measure has no number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Absence {
    /// The quantity does not exist for the run (a Zou margin of a linear network, the Du & Hu
    /// width of a ResNet).
    NotApplicable,
    /// The run has no result (failed, missing, or its record is unreadable).
    NoResult,
}

/// A measured value.
///
/// +∞ is a value, not an absence: it says the measured event never happened (a target never
/// reached, the final excess of a diverged run, a bound that never falls below the target).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measured {
    Value(f64),
    /// Censored from above: the true value is at most this (a width that already sufficed at the
    /// smallest width of the grid).
    AtMost(f64),
    /// Censored from below: the true value exceeds this (no width up to the largest of the grid
    /// sufficed).
    Above(f64),
    Absent(Absence),
}

impl Measured {
    /// The number a test compares: the value, the bound of an `AtMost`, +∞ for `Above` (larger
    /// than anything the grid saw), NaN for an absence.
    pub fn number(self) -> f64 {
        match self {
            Measured::Value(v) | Measured::AtMost(v) => v,
            Measured::Above(_) => f64::INFINITY,
            Measured::Absent(_) => f64::NAN,
        }
    }

    /// The value, if it is one (uncensored and present).
    pub fn value(self) -> Option<f64> {
        match self {
            Measured::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_absent(self) -> bool {
        matches!(self, Measured::Absent(_))
    }

    /// The value from an optional number (`None`: not applicable).
    pub fn applicable(v: Option<f64>) -> Measured {
        v.map_or(Measured::Absent(Absence::NotApplicable), Measured::Value)
    }

    /// The text for readers, with `number` formatting the numbers: `∞`, `≤ 10`, `> 1000`, `n/a`.
    pub fn text_with(self, number: impl Fn(f64) -> String) -> String {
        match self {
            Measured::Value(v) if v == f64::INFINITY => "∞".into(),
            Measured::Value(v) if v == f64::NEG_INFINITY => "−∞".into(),
            Measured::Value(v) => number(v),
            Measured::AtMost(v) => format!("≤ {}", number(v)),
            Measured::Above(v) => format!("> {}", number(v)),
            Measured::Absent(_) => crate::grid::field::ABSENT_TEXT.into(),
        }
    }

    /// One CSV cell: the shortest round-trip number, `inf` for +∞ (what pandas and numpy read as
    /// infinity), `<=10` / `>1000` for censored values, an empty cell for an absence.
    pub fn csv(self) -> String {
        match self {
            Measured::Value(v) if v == f64::INFINITY => "inf".into(),
            Measured::Value(v) if v == f64::NEG_INFINITY => "-inf".into(),
            Measured::Value(v) => float_text(v),
            Measured::AtMost(v) => format!("<={}", float_text(v)),
            Measured::Above(v) => format!(">{}", float_text(v)),
            Measured::Absent(_) => String::new(),
        }
    }

    /// The value as JSON: a number, `"Infinity"` (as [`crate::json_float`] writes it), an
    /// object `{"at_most": v}` / `{"above": v}` for censored values, `null` for an absence.
    pub fn json(self) -> serde_json::Value {
        let number = |v: f64| {
            serde_json::Number::from_f64(v).map_or_else(
                || serde_json::Value::String(if v > 0.0 { "Infinity" } else { "-Infinity" }.into()),
                serde_json::Value::Number,
            )
        };
        match self {
            Measured::Value(v) => number(v),
            Measured::AtMost(v) => serde_json::json!({ "at_most": number(v) }),
            Measured::Above(v) => serde_json::json!({ "above": number(v) }),
            Measured::Absent(_) => serde_json::Value::Null,
        }
    }
}

/// The readers' text with the shortest round-trip numbers.
impl fmt::Display for Measured {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text_with(float_text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notation_says_the_same() {
        let cases = [
            (Measured::Value(14.0), "14", "14"),
            (Measured::Value(f64::INFINITY), "∞", "inf"),
            (Measured::AtMost(10.0), "≤ 10", "<=10"),
            (Measured::Above(1000.0), "> 1000", ">1000"),
            (Measured::Absent(Absence::NotApplicable), "n/a", ""),
        ];
        for (m, text, csv) in cases {
            assert_eq!(m.to_string(), text);
            assert_eq!(m.csv(), csv);
        }
        assert_eq!(Measured::Value(f64::INFINITY).json(), serde_json::json!("Infinity"));
        assert_eq!(Measured::AtMost(10.0).json(), serde_json::json!({"at_most": 10.0}));
        assert!(Measured::Absent(Absence::NoResult).json().is_null());
        assert!(Measured::Absent(Absence::NoResult).number().is_nan());
        assert_eq!(Measured::Above(5.0).number(), f64::INFINITY);
    }
}
