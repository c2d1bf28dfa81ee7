//! A [`SummaryTable`] as text: booktabs LaTeX, Markdown or CSV.
//!
//! LaTeX and Markdown are for readers: fields and values are named by the experiment's figure
//! `labels:` ([`SummaryTable::field_name`], [`SummaryTable::value_name`]), a field a run does not
//! have shows as `n/a`, numbers are rounded to significant digits ([`significant`]) and censored
//! widths read `≤ 10` / `> 1000`. CSV is for programs: the grid values as written (what `--filter`
//! takes back), every digit of every number.

use super::{CellValue, SummaryTable};
use crate::escape::{csv_text, latex_text, markdown_text};
use crate::grid::field::ABSENT_TEXT;
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

/// How a table is written besides its format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Style {
    /// Significant digits of the numbers (LaTeX, Markdown).
    pub digits: usize,
    /// LaTeX: the table is a `table` float with this `\caption` (escaped).
    pub caption: Option<String>,
    /// LaTeX: the float's `\label` key (checked by [`label_rule`]).
    pub label: Option<String>,
}

/// Why `key` cannot be a LaTeX `\label` key: only letters, digits and `: . _ -` pass through
/// LaTeX and `hyperref` unchanged.
pub fn label_rule(key: &str) -> Option<String> {
    let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || ":._-".contains(c));
    (!ok).then(|| format!("`{key}` must be letters, digits and `: . _ -` (e.g. tab:depth)"))
}

impl SummaryTable {
    /// The table in `format`, written as `style` says.
    pub fn render(&self, format: Format, style: &Style) -> String {
        match format {
            Format::Latex => self.latex(style),
            Format::Markdown => self.markdown(style.digits),
            Format::Csv => self.csv(),
        }
    }

    /// Groups of consecutive columns that share their values of the first `level + 1` column
    /// fields: (first column, number of columns), in order.
    fn groups(&self, level: usize) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (j, v) in self.col_values.iter().enumerate() {
            match out.last_mut() {
                Some((start, n)) if self.col_values[*start][..=level] == v[..=level] => *n += 1,
                _ => out.push((j, 1)),
            }
        }
        out
    }

    /// The readers' text of column `j` at field level `level`.
    fn column_text(&self, j: usize, level: usize) -> String {
        self.value_name(&self.cols[level], &self.col_values[j][level], true)
    }

    /// The readers' texts of row `i`, one per row field.
    fn row_texts(&self, i: usize) -> Vec<String> {
        self.rows.iter().zip(&self.row_values[i]).map(|(f, v)| self.value_name(f, v, false)).collect()
    }

    fn latex(&self, style: &Style) -> String {
        let stub = self.rows.len();
        let levels = self.cols.len();
        let mut s = format!(
            "% {}: {}; rows {}, columns {} (linres table)\n",
            latex_text(&self.experiment),
            latex_text(&self.quantity),
            latex_text(&self.rows.join(", ")),
            latex_text(&self.cols.join(", "))
        );
        let float = style.caption.is_some() || style.label.is_some();
        if float {
            s.push_str("\\begin{table}[htbp]\n\\centering\n");
            if let Some(caption) = &style.caption {
                s.push_str(&format!("\\caption{{{}}}\n", latex_text(caption)));
            }
            if let Some(label) = &style.label {
                s.push_str(&format!("\\label{{{label}}}\n"));
            }
        }
        s.push_str(&format!(
            "\\begin{{tabular}}{{{}{}}}\n\\toprule\n",
            "l".repeat(stub),
            "r".repeat(self.col_values.len())
        ));
        // One header row per column field; the last names the row fields above their column.
        for level in 0..levels {
            let last = level + 1 == levels;
            let mut cells: Vec<String> = if last {
                self.rows.iter().map(|f| latex_text(&self.field_name(f))).collect()
            } else {
                vec![String::new(); stub]
            };
            let groups = self.groups(level);
            cells.extend(groups.iter().map(|&(start, n)| {
                format!("\\multicolumn{{{n}}}{{c}}{{{}}}", latex_text(&self.column_text(start, level)))
            }));
            s.push_str(&format!("{} \\\\\n", cells.join(" & ")));
            if !last {
                let rules: String = groups
                    .iter()
                    .map(|&(start, n)| format!("\\cmidrule(lr){{{}-{}}}", stub + start + 1, stub + start + n))
                    .collect();
                s.push_str(&format!("{rules}\n"));
            }
        }
        s.push_str("\\midrule\n");
        for (i, cells) in self.cells.iter().enumerate() {
            let row: Vec<String> = self
                .row_texts(i)
                .iter()
                .map(|t| latex_text(t))
                .chain(cells.iter().map(|c| c.map_or("--".into(), |v| latex_cell(v, style.digits))))
                .collect();
            s.push_str(&format!("{} \\\\\n", row.join(" & ")));
        }
        s.push_str("\\bottomrule\n\\end{tabular}\n");
        if float {
            s.push_str("\\end{table}\n");
        }
        s
    }

    /// A pipe table: one header row (Markdown has no other), each column named by its fields'
    /// texts joined by " · ".
    fn markdown(&self, digits: usize) -> String {
        let head: Vec<String> =
            self.rows
                .iter()
                .map(|f| self.field_name(f))
                .chain((0..self.col_values.len()).map(|j| {
                    (0..self.cols.len()).map(|level| self.column_text(j, level)).collect::<Vec<_>>().join(" · ")
                }))
                .map(|t| markdown_text(&t))
                .collect();
        let mut s = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
        for (i, cells) in self.cells.iter().enumerate() {
            let row: Vec<String> = self
                .row_texts(i)
                .into_iter()
                .chain(cells.iter().map(|c| c.map_or("—".into(), |v| plain_cell(v, digits))))
                .map(|t| markdown_text(&t))
                .collect();
            s.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        s
    }

    /// One header row: the row and column fields (`model.depth \ model.arch, model.width`), then
    /// each column's grid values joined by ", " (with the part's name, `resnet, 12 (min)`, when a
    /// cell has several numbers); one row per row combination.
    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let text = |t: &str| csv_text(t).into_owned();
        let joined =
            |values: &[crate::grid::FieldValue]| values.iter().map(|v| v.text()).collect::<Vec<_>>().join(", ");
        let parts: Vec<&str> = self
            .cells
            .iter()
            .flatten()
            .flatten()
            .next()
            .map_or(vec!["value"], |c| c.parts().into_iter().map(|(name, _)| name).collect());
        let corner = format!("{} \\ {}", self.rows.join(", "), self.cols.join(", "));
        let head: Vec<String> = std::iter::once(text(&corner))
            .chain(self.col_values.iter().flat_map(|v| {
                let col = joined(v);
                parts.iter().map(move |p| if *p == "value" { text(&col) } else { text(&format!("{col} ({p})")) })
            }))
            .collect();
        let rows = std::iter::once(head).chain(self.row_values.iter().zip(&self.cells).map(|(values, cells)| {
            std::iter::once(text(&joined(values)))
                .chain(cells.iter().flat_map(|c| match c {
                    Some(c) => c.parts().into_iter().map(|(_, v)| v.csv()).collect::<Vec<_>>(),
                    None => vec![String::new(); parts.len()],
                }))
                .collect()
        }));
        for row in rows {
            w.write_record(&row).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 texts")
    }
}

/// A cell for Markdown: `median [min, max]`, `mean ± sd` or the value, each number by
/// [`Measured::text_with`] ([`plain_number`]).
fn plain_cell(v: CellValue, digits: usize) -> String {
    composite_cell(v, |m| m.text_with(|n| plain_number(n, digits)), "±")
}

/// A cell for LaTeX: as [`plain_cell`], each number by [`latex_value`], `$\pm$` for ±.
fn latex_cell(v: CellValue, digits: usize) -> String {
    composite_cell(v, |m| latex_value(m, digits), "$\\pm$")
}

/// `median [min, max]`, `mean <pm> sd` (the mean alone when it is not finite) or the value, each
/// number written by `number`.
fn composite_cell(v: CellValue, number: impl Fn(Measured) -> String, pm: &str) -> String {
    match v {
        CellValue::One(m) => number(m),
        CellValue::Range { median, min, max } => format!("{} [{}, {}]", number(median), number(min), number(max)),
        CellValue::MeanSd { mean, sd } if mean.value().is_some_and(f64::is_finite) => {
            format!("{} {pm} {}", number(mean), number(sd))
        }
        CellValue::MeanSd { mean, .. } => number(mean),
    }
}

/// A number for Markdown: ∞ where never reached, n/a for no value, 1.23e-6 for small or large.
fn plain_number(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return ABSENT_TEXT.into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "−∞" }.into();
    }
    match significant(v, digits) {
        (m, None) => m,
        (m, Some(e)) => format!("{m}e{e}"),
    }
}

/// A measured value for LaTeX: numbers by [`latex_number`], censored widths as `$\le 10$` and
/// `$> 1000$`, `n/a` where the runs have no value.
fn latex_value(v: Measured, digits: usize) -> String {
    match v {
        Measured::Value(n) => latex_number(n, digits),
        Measured::AtMost(n) => format!("$\\le {}$", math_number(n, digits)),
        Measured::Above(n) => format!("$> {}$", math_number(n, digits)),
        Measured::Absent(_) => ABSENT_TEXT.into(),
    }
}

/// A number for LaTeX: as it is (`33`, `0.0123`), or in math mode (`$\infty$`,
/// `$1.23 \times 10^{-6}$`); `n/a` for NaN.
fn latex_number(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return ABSENT_TEXT.into();
    }
    let m = math_number(v, digits);
    if m.contains('\\') { format!("${m}$") } else { m }
}

/// A finite or infinite number as math-mode text: `33`, `\infty`, `1.23 \times 10^{-6}`.
fn math_number(v: f64, digits: usize) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "\\infty" } else { "-\\infty" }.into();
    }
    match significant(v, digits) {
        (m, None) => m,
        (m, Some(e)) => format!("{m} \\times 10^{{{e}}}"),
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

    #[test]
    fn censored_widths_and_composite_cells_read_as_written() {
        assert_eq!(latex_value(Measured::AtMost(10.0), 3), "$\\le 10$");
        assert_eq!(latex_value(Measured::Above(1000.0), 3), "$> 1000$");
        assert_eq!(latex_value(Measured::Above(2.5e9), 2), "$> 2.5 \\times 10^{9}$");
        let range = CellValue::Range {
            median: Measured::Value(12.5),
            min: Measured::AtMost(10.0),
            max: Measured::Value(f64::INFINITY),
        };
        assert_eq!(plain_cell(range, 3), "12.5 [≤ 10, ∞]");
        assert_eq!(latex_cell(range, 3), "12.5 [$\\le 10$, $\\infty$]");
        let mean_sd = CellValue::MeanSd { mean: Measured::Value(0.123456), sd: Measured::Value(0.0123456) };
        assert_eq!(plain_cell(mean_sd, 2), "0.12 ± 0.012");
        assert_eq!(latex_cell(mean_sd, 2), "0.12 $\\pm$ 0.012");
        let diverged = CellValue::MeanSd {
            mean: Measured::Value(f64::INFINITY),
            sd: Measured::Absent(crate::measure::Absence::NotApplicable),
        };
        assert_eq!(plain_cell(diverged, 3), "∞");
        assert_eq!(label_rule("tab:depth-1"), None);
        assert!(label_rule("tab depth}").is_some());
    }
}
