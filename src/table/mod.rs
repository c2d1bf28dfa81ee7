//! Summary tables for a paper (`linres table`): one quantity per cell of rows × columns, each cell
//! being the selected runs that share the row fields' and the column fields' values, combined over
//! the seeds (or, for width measures, over the widths and seeds as the measure defines).
//!
//! A cell never pools a grid field silently: every field that varies among the selected runs must
//! be a row or column field (or vary with one in a `zip` group), or be fixed by a filter; the seed
//! is the only replicate. The numbers come from the measures layer, as a check's do, so a table
//! and a check on the same selection agree.

pub mod format;

use thiserror::Error;

use crate::experiment::{Experiment, Row};
use crate::grid::quantity::Quantity;
use crate::grid::{FieldPath, Filter, SpecError};
use crate::measure::Measured;
use crate::measure::cells::{group, varying_fields};

/// What a table shows: the fields along its rows and columns, the quantity in its cells and the
/// filters that select the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    /// Grid fields whose value combinations make the rows (at least one).
    pub rows: Vec<String>,
    /// Grid fields whose value combinations make the columns (at least one).
    pub cols: Vec<String>,
    pub quantity: Quantity,
    pub filters: Vec<Filter>,
}

/// A table computed from an experiment's results.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    pub experiment: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    /// The quantity in words (with how the seeds are combined).
    pub quantity: String,
    /// The value combination of each row (one text per row field), in grid order.
    pub row_values: Vec<Vec<String>>,
    /// The value combination of each column, in grid order.
    pub col_values: Vec<Vec<String>>,
    /// `cells[i][j]`: the value at row i, column j; `None` where the grid has no such run.
    pub cells: Vec<Vec<Option<Measured>>>,
}

/// Why a table cannot be made.
#[derive(Debug, Error)]
pub enum TableError {
    /// The request breaks a rule (an unknown field, a pooled field, an unknown measure): exit 2.
    #[error("{0}")]
    Spec(SpecError),
    /// Some selected runs have no result yet.
    #[error(
        "{missing} of {total} selected runs of {experiment} have no result; `linres run {path}` computes them \
         (a table over part of the runs would pool fewer seeds in some cells than in others)"
    )]
    Incomplete { experiment: String, path: String, missing: usize, total: usize },
}

fn spec_error(exp: &Experiment, field: &str, message: String) -> TableError {
    TableError::Spec(SpecError {
        file: exp.spec.path.display().to_string(),
        position: None,
        field: Some(field.to_string()),
        message,
    })
}

/// Distinct value combinations of `fields` among `rows`, in first-seen (grid) order.
fn combinations(rows: &[&Row], fields: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let v: Vec<String> =
            fields.iter().map(|f| FieldPath::new(f.as_str()).value_of(&r.run).text().to_string()).collect();
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

impl TableSpec {
    /// The table of `exp`'s results. Refused (exit 2) when a row or column field is unknown or
    /// named twice, when a width measure is laid out along the width, or when a field varies among
    /// the selected runs without being a row, a column, or zipped with one; refused as incomplete
    /// when a selected run has no result.
    pub fn build(&self, exp: &Experiment) -> Result<SummaryTable, TableError> {
        let selected: Vec<&Row> = exp.rows.iter().filter(|r| self.filters.iter().all(|f| f.matches(&r.run))).collect();
        let missing = exp.missing.iter().filter(|r| self.filters.iter().all(|f| f.matches(r))).count();
        if missing > 0 {
            return Err(TableError::Incomplete {
                experiment: exp.spec.name.clone(),
                path: exp.spec.path.display().to_string(),
                missing,
                total: missing + selected.len(),
            });
        }
        if selected.is_empty() {
            return Err(spec_error(exp, "--filter", "selects no run of the grid".into()));
        }
        let laid_out: Vec<&String> = self.rows.iter().chain(&self.cols).collect();
        for (flag, fields) in [("--rows", &self.rows), ("--cols", &self.cols)] {
            if fields.is_empty() {
                return Err(spec_error(exp, flag, "name at least one grid field".into()));
            }
            for f in fields {
                if laid_out.iter().filter(|g| **g == f).count() > 1 {
                    return Err(spec_error(exp, flag, format!("`{f}` is named twice in --rows and --cols")));
                }
                if selected.iter().all(|r| FieldPath::new(f.as_str()).value_of(&r.run).is_absent()) {
                    return Err(spec_error(
                        exp,
                        flag,
                        format!("no run has the field `{f}` (grid fields: {})", exp.axes.join(", ")),
                    ));
                }
                if f == "seed" {
                    return Err(spec_error(exp, flag, "seeds are the replicates a cell combines, not a layout".into()));
                }
                if self.quantity.over_widths() && f == "model.width" {
                    return Err(spec_error(
                        exp,
                        flag,
                        "a width measure spans the widths of a cell; lay out other fields".into(),
                    ));
                }
            }
        }
        let named: Vec<String> =
            laid_out.iter().flat_map(|f| std::iter::once((*f).clone()).chain(exp.spec.zip_partners(f))).collect();
        let pooled: Vec<String> = varying_fields(&exp.axes, &selected, self.quantity.spanned())
            .into_iter()
            .map(|f| f.to_string())
            .filter(|f| !named.contains(f))
            .collect();
        if !pooled.is_empty() {
            return Err(spec_error(
                exp,
                "--rows/--cols",
                format!(
                    "{} varies among the selected runs but is neither a row nor a column field; a cell would pool its \
                     values: fix it with --filter (e.g. --filter {}={}) or lay it out",
                    pooled.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
                    pooled[0],
                    FieldPath::new(pooled[0].as_str()).value_of(&selected[0].run)
                ),
            ));
        }
        let row_values = combinations(&selected, &self.rows);
        let col_values = combinations(&selected, &self.cols);
        let mut table = vec![vec![None; col_values.len()]; row_values.len()];
        // Every other field is fixed or pooled only over the seeds (and the width of a width
        // measure), so the cells of the row and column fields are the quantity's cells.
        let fields: Vec<FieldPath> = self.rows.iter().chain(&self.cols).map(FieldPath::new).collect();
        for cell in group(&selected, &fields) {
            let value = self.quantity.of_cell(&cell.members).map_err(|e| spec_error(exp, "--value", e.to_string()))?;
            let text: Vec<String> = cell.key.iter().map(|(_, v)| v.text().to_string()).collect();
            let (row, col) = text.split_at(self.rows.len());
            let at = |values: &[Vec<String>], v: &[String]| values.iter().position(|c| c == v);
            if let (Some(i), Some(j)) = (at(&row_values, row), at(&col_values, col)) {
                table[i][j] = Some(value);
            }
        }
        Ok(SummaryTable {
            experiment: exp.spec.name.clone(),
            rows: self.rows.clone(),
            cols: self.cols.clone(),
            quantity: self.quantity.describe(),
            row_values,
            col_values,
            cells: table,
        })
    }
}
