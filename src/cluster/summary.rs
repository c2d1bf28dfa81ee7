//! Whether two `summary.csv` tables of one experiment describe the same results: how `linres diff`
//! compares a side that holds only its tables (committed results keep `summary.csv`, not the
//! records) with another.
//!
//! Rows are paired by run id; a row on one side only is a difference, and so is a column on one
//! side only. In a pair of rows every column both sides hold is compared:
//!
//! - columns compared exactly by the schema of `summary.csv` ([`crate::store::schema`]: integers
//!   such as iterations, the rank and the seed; text such as status, engine and `zou_covered`)
//!   must be equal, and so must cells that are not both numbers (a step rule as JSON, empty cells);
//! - numbers (both cells parse as floats) agree within the relative tolerance of the curves
//!   ([`relative_difference`]), |a − b| ≤ rtol · max(|a|, |b|, 1e-6 · s), where s is the scale of the
//!   run's loss, the largest |value| of loss0, excess0, final_excess and l_star in the row on either
//!   side, for those four (points and floors of the run's loss curves, as in record comparison), and
//!   1 for final_rel_excess (final_excess / excess0); other numbers (parameters, the data's
//!   spectrum, theory quantities) are compared without floor;
//! - `error` is informative only, as in record comparison: a failed run's message may name the
//!   machine (its memory) and differs legitimately.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::compare::relative_difference;
use crate::store::schema::{Comparison, SummaryColumn, comparison_of};

/// Fraction of a scale below which differences are measured against it (as for curves).
const FLOOR: f64 = 1e-6;

/// One difference between two tables: the run (`-` for the whole table), what differs and the two
/// sides.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDifference {
    pub id: String,
    pub what: String,
    pub a: String,
    pub b: String,
}

fn difference(id: &str, what: impl Into<String>, a: impl Into<String>, b: impl Into<String>) -> TableDifference {
    TableDifference { id: id.into(), what: what.into(), a: a.into(), b: b.into() }
}

/// A summary table read into memory: its header and its rows by run id.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub columns: Vec<String>,
    pub rows: BTreeMap<String, Vec<String>>,
    /// Ids found on more than one row.
    pub duplicates: BTreeSet<String>,
}

impl Summary {
    /// Reads `path` (a `summary.csv`, first column `id`), or says why it cannot be read.
    pub fn read(path: &Path) -> Result<Summary, String> {
        let bytes = crate::fileio::read_regular(path, 1 << 32).map_err(|e| e.to_string())?;
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let columns: Vec<String> = reader.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
        if columns.first().map(String::as_str) != Some("id") {
            return Err("its first column is not `id`".into());
        }
        let mut table = Summary { columns, ..Summary::default() };
        for row in reader.records() {
            let row: Vec<String> = row.map_err(|e| e.to_string())?.iter().map(String::from).collect();
            let id = row[0].clone();
            if table.rows.insert(id.clone(), row).is_some() {
                table.duplicates.insert(id);
            }
        }
        Ok(table)
    }

    fn cell<'a>(&'a self, row: &'a [String], column: &str) -> Option<&'a str> {
        self.columns.iter().position(|c| c == column).and_then(|j| row.get(j)).map(String::as_str)
    }
}

/// The number of rows on both sides and every difference between tables `a` and `b` (module
/// documentation), by id.
pub fn compare_tables(a: &Summary, b: &Summary, rtol: f64) -> (usize, Vec<TableDifference>) {
    let mut out = Vec::new();
    let set = |t: &Summary| t.columns.iter().cloned().collect::<BTreeSet<String>>();
    let (ca, cb) = (set(a), set(b));
    for c in ca.symmetric_difference(&cb) {
        let side = |s: &BTreeSet<String>| if s.contains(c) { "present" } else { "absent" };
        out.push(difference("-", format!("column `{c}`"), side(&ca), side(&cb)));
    }
    let common: Vec<&String> = a
        .columns
        .iter()
        .filter(|c| cb.contains(*c) && *c != "id" && comparison_of(c) != Comparison::Informative)
        .collect();
    let loss_columns: Vec<&str> =
        SummaryColumn::CSV.iter().filter(|c| c.comparison() == Comparison::Loss).map(|c| c.name()).collect();
    for (side, t) in [("A", a), ("B", b)] {
        for id in &t.duplicates {
            out.push(difference(id, format!("more than one row on side {side}"), "", ""));
        }
    }
    let status = |t: &Summary, row: &[String]| t.cell(row, "status").unwrap_or("present").to_string();
    let mut both = 0;
    for (id, ra) in &a.rows {
        let Some(rb) = b.rows.get(id) else {
            out.push(difference(id, "row", status(a, ra), "absent"));
            continue;
        };
        both += 1;
        let scale = |names: &[&str]| {
            names
                .iter()
                .flat_map(|c| [a.cell(ra, c), b.cell(rb, c)])
                .filter_map(|v| v?.parse::<f64>().ok())
                .map(f64::abs)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        };
        let loss_scale = scale(&loss_columns);
        for column in &common {
            let (Some(x), Some(y)) = (a.cell(ra, column), b.cell(rb, column)) else { continue };
            if x == y {
                continue;
            }
            let numbers = (x.parse::<f64>(), y.parse::<f64>());
            let what = match (numbers, comparison_of(column)) {
                ((Ok(u), Ok(v)), how @ (Comparison::Loss | Comparison::Relative | Comparison::Number)) => {
                    let floor = match how {
                        Comparison::Loss => FLOOR * loss_scale,
                        Comparison::Relative => FLOOR,
                        _ => 0.0,
                    };
                    let rel = relative_difference(u, v, floor);
                    if rel <= rtol {
                        continue;
                    }
                    format!("{column} (relative {rel:.1e})")
                }
                _ => column.to_string(),
            };
            out.push(difference(id, what, x, y));
        }
    }
    for (id, rb) in b.rows.iter().filter(|(id, _)| !a.rows.contains_key(*id)) {
        out.push(difference(id, "row", "absent", status(b, rb)));
    }
    (both, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Summary {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, text).unwrap();
        Summary::read(&path).unwrap()
    }

    const HEADER: &str = "id,model.width,status,engine,loss0,excess0,final_excess,final_rel_excess,l_star,\
                          final_iter,sigma_max,zou_covered,error\n";

    fn base() -> String {
        format!(
            "{HEADER}a1,40,done,gram,100,90,1e-20,1.1e-22,1e-28,400,34.2,false,\n\
             a2,80,failed,,,,,,,,,,out of memory\n"
        )
    }

    fn whats(a: &str, b: &str, rtol: f64) -> Vec<(String, String)> {
        compare_tables(&table(a), &table(b), rtol).1.into_iter().map(|d| (d.id, d.what)).collect()
    }

    #[test]
    fn a_table_agrees_with_itself_and_counts_its_rows() {
        let (n, d) = compare_tables(&table(&base()), &table(&base()), 1e-9);
        assert_eq!((n, d), (2, vec![]));
    }

    #[test]
    fn numbers_agree_within_the_tolerance_and_differ_beyond_it() {
        let b = base().replace("34.2", "34.2000001");
        assert_eq!(whats(&base(), &b, 1e-9), [("a1".to_string(), "sigma_max (relative 2.9e-9)".to_string())]);
        assert!(whats(&base(), &b, 1e-8).is_empty());
    }

    #[test]
    fn loss_columns_below_the_floor_of_the_runs_loss_scale_are_rounding() {
        // 1e-20 against 3e-20 at loss scale 100: measured against 1e-4, relative 2e-16.
        let b = base().replace("1e-20", "3e-20").replace("1e-28", "5e-28");
        assert!(whats(&base(), &b, 1e-9).is_empty());
        // A run that stalls at 1e-6 of its scale differs.
        let b = base().replace("1e-20", "1e-4");
        assert_eq!(whats(&base(), &b, 1e-9).len(), 1);
        // final_rel_excess has floor 1e-6 (scale 1): 1.1e-22 against 3e-22 agrees, 1e-8 does not.
        assert!(whats(&base(), &base().replace("1.1e-22", "3e-22"), 1e-9).is_empty());
        assert_eq!(whats(&base(), &base().replace("1.1e-22", "1e-8"), 1e-9).len(), 1);
    }

    #[test]
    fn integers_and_text_must_be_equal() {
        // final_iter 400 against 400.0000001 would agree within 1e-3 if it were a float.
        let b = base().replace(",400,", ",401,").replace("false", "true").replace("gram", "dense");
        let mut got = whats(&base(), &b, 1e-2);
        got.sort();
        let want: Vec<(String, String)> =
            ["engine", "final_iter", "zou_covered"].iter().map(|c| ("a1".to_string(), c.to_string())).collect();
        assert_eq!(got, want);
        // An empty cell against a value differs; the error text is informative only.
        let b = base().replace("out of memory", "another message").replace(",,,,,,,,,", ",,1,,,,,,,");
        assert_eq!(whats(&base(), &b, 1e-9), [("a2".to_string(), "loss0".to_string())]);
        let b = base().replace("failed", "done");
        assert_eq!(whats(&base(), &b, 1e-9), [("a2".to_string(), "status".to_string())]);
    }

    #[test]
    fn rows_and_columns_on_one_side_only_are_differences() {
        let short: String = base().lines().take(2).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            compare_tables(&table(&base()), &table(&short), 1e-9).1,
            [difference("a2", "row", "failed", "absent")]
        );
        let (n, d) = compare_tables(&table(&short), &table(&base()), 1e-9);
        assert_eq!((n, d), (1, vec![difference("a2", "row", "absent", "failed")]));
        let wider = base().replace("zou_covered,error", "zou_covered,error,extra").replace("\n", ",x\n");
        let wider = wider.replacen(",x\n", "\n", 1);
        assert_eq!(whats(&base(), &wider, 1e-9), [("-".to_string(), "column `extra`".to_string())]);
    }

    #[test]
    fn a_duplicated_id_and_a_table_without_ids_are_reported() {
        let dup = format!("{}{}", base(), base().lines().nth(1).unwrap());
        assert_eq!(whats(&base(), &dup, 1e-9), [("a1".to_string(), "more than one row on side B".to_string())]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, "run,status\nx,done\n").unwrap();
        assert!(Summary::read(&path).unwrap_err().contains("`id`"));
    }
}
