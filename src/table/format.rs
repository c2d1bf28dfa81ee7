//! A [`SummaryTable`] as text: booktabs LaTeX, Markdown or CSV.

use super::SummaryTable;
use crate::escape::{csv_text, latex_text, markdown_text};
use crate::measure::Measured;
use crate::number::significant;

/// The text forms of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A booktabs `tabular` (`\usepackage{booktabs}`), every text escaped for LaTeX ([`latex_text`]).
    Latex,
    /// A GitHub-flavoured Markdown pipe table, every text escaped for Markdown ([`markdown_text`]).
    Markdown,
    /// Comma-separated values at full precision (`inf` where never reached, empty where no run);
    /// text cells that a spreadsheet would read as formulas prefixed with `'` ([`csv_text`]).
    Csv,
}

impl SummaryTable {
    /// The table in `format`; numbers rounded to `digits` significant digits (LaTeX, Markdown).
    pub fn render(&self, format: Format, digits: usize) -> String {
        match format {
            Format::Latex => self.latex(digits),
            Format::Markdown => self.markdown(digits),
            Format::Csv => self.csv(),
        }
    }

    /// "model.depth \ model.arch": which fields run down and which across.
    fn corner(&self) -> String {
        format!("{} \\ {}", self.rows.join(", "), self.cols.join(", "))
    }

    fn latex(&self, digits: usize) -> String {
        let n = self.col_values.len();
        let mut s = format!(
            "% {}: {}; rows {}, columns {} (linres table)\n",
            latex_text(&self.experiment),
            latex_text(&self.quantity),
            latex_text(&self.rows.join(", ")),
            latex_text(&self.cols.join(", "))
        );
        s.push_str(&format!("\\begin{{tabular}}{{l{}}}\n\\toprule\n", "r".repeat(n)));
        s.push_str(&format!(
            " & \\multicolumn{{{n}}}{{c}}{{{}}} \\\\\n\\cmidrule(lr){{2-{}}}\n",
            latex_text(&self.cols.join(", ")),
            n + 1
        ));
        let head: Vec<String> = std::iter::once(latex_text(&self.rows.join(", ")))
            .chain(self.col_values.iter().map(|v| latex_text(&v.join(", "))))
            .collect();
        s.push_str(&format!("{} \\\\\n\\midrule\n", head.join(" & ")));
        for (values, cells) in self.row_values.iter().zip(&self.cells) {
            let row: Vec<String> = std::iter::once(latex_text(&values.join(", ")))
                .chain(cells.iter().map(|c| c.map_or("--".into(), |v| latex_value(v, digits))))
                .collect();
            s.push_str(&format!("{} \\\\\n", row.join(" & ")));
        }
        s.push_str("\\bottomrule\n\\end{tabular}\n");
        s
    }

    fn markdown(&self, digits: usize) -> String {
        let n = self.col_values.len();
        let head: Vec<String> = std::iter::once(markdown_text(&self.corner()))
            .chain(self.col_values.iter().map(|v| markdown_text(&v.join(", "))))
            .collect();
        let mut s = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(n + 1));
        for (values, cells) in self.row_values.iter().zip(&self.cells) {
            let row: Vec<String> = std::iter::once(markdown_text(&values.join(", ")))
                .chain(cells.iter().map(|c| c.map_or("—".into(), |v| v.text_with(|n| plain_number(n, digits)))))
                .collect();
            s.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        s
    }

    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let text = |t: &str| csv_text(t).into_owned();
        let head: Vec<String> =
            std::iter::once(text(&self.corner())).chain(self.col_values.iter().map(|v| text(&v.join(", ")))).collect();
        let rows = std::iter::once(head).chain(self.row_values.iter().zip(&self.cells).map(|(values, cells)| {
            std::iter::once(text(&values.join(", ")))
                .chain(cells.iter().map(|c| c.map(Measured::csv).unwrap_or_default()))
                .collect()
        }));
        for row in rows {
            w.write_record(&row).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 texts")
    }
}

/// A number for Markdown: ∞ where never reached, n/a for no value, 1.23e-6 for small or large.
fn plain_number(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return "n/a".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "−∞" }.into();
    }
    match significant(v, digits) {
        (m, None) => m,
        (m, Some(e)) => format!("{m}e{e}"),
    }
}

/// A measured value for LaTeX: numbers by [`latex_number`], censored widths as `$\leq$ 10` and
/// `$>$ 1000`, `n/a` where the runs have no value.
fn latex_value(v: Measured, digits: usize) -> String {
    match v {
        Measured::Value(n) => latex_number(n, digits),
        Measured::AtMost(n) => format!("$\\leq$ {}", latex_number(n, digits)),
        Measured::Above(n) => format!("$>$ {}", latex_number(n, digits)),
        Measured::Absent(_) => "n/a".into(),
    }
}

/// A number for LaTeX: `$\infty$`, `n/a`, `$1.23 \times 10^{-6}$`.
fn latex_number(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return "n/a".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "$\\infty$" } else { "$-\\infty$" }.into();
    }
    match significant(v, digits) {
        (m, None) => m,
        (m, Some(e)) => format!("${m} \\times 10^{{{e}}}$"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_significant_digits() {
        assert_eq!(plain_number(1234.0, 3), "1234");
        assert_eq!(plain_number(0.012345, 3), "0.0123");
        assert_eq!(plain_number(1.23456, 3), "1.23");
        assert_eq!(plain_number(1.2345e-7, 3), "1.23e-7");
        assert_eq!(plain_number(2.5e12, 2), "2.5e12");
        assert_eq!(plain_number(f64::INFINITY, 3), "∞");
        assert_eq!(plain_number(f64::NAN, 3), "n/a");
        assert_eq!(latex_number(1.2345e-7, 3), "$1.23 \\times 10^{-7}$");
        assert_eq!(latex_number(f64::INFINITY, 3), "$\\infty$");
        // Every rounded text parses back to within half a unit of its last digit.
        for v in [0.001234567, 98765.4321, 1.5e-300, 7.77e200, 42.4242] {
            let t = plain_number(v, 4);
            let back: f64 = t.parse().unwrap();
            assert!((back - v).abs() <= 5e-4 * v.abs(), "{v} → {t}");
        }
    }
}
