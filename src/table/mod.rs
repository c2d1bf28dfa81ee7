//! Summary tables for a paper (`linres table`): one quantity per cell of rows × columns, each cell
//! being the selected runs that share the row fields' and the column fields' values, combined over
//! the seeds (or, for width measures, over the widths and seeds as the measure defines).
//!
//! A cell never pools a grid field silently: every field that varies among the selected runs must
//! be a row or column field (or vary with one in a `zip` group), or be fixed by a filter; the seed
//! is the only replicate. The numbers come from the measures layer, as a check's do, so a table
//! and a check on the same selection agree.

pub mod format;

use std::collections::BTreeMap;

use thiserror::Error;

use crate::experiment::{Experiment, Row};
use crate::grid::figure::{field_text, value_text};
use crate::grid::quantity::{OverSeeds, Quantity, WidthMeasure};
use crate::grid::{FieldPath, FieldValue, Filter, SpecError};
use crate::measure::Measured;
use crate::measure::cells::{group, varying_fields};
use crate::measure::pool::{mean_sd, pool};
use crate::measure::width::critical_width;

/// What a cell shows of its runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CellFormat {
    /// The quantity as it combines the seeds (`--agg`, or the width measure's own rule).
    #[default]
    Value,
    /// `median [min, max]` over the seeds; for a critical width, the width of the pooled seeds
    /// and the smallest and largest width of single seeds.
    MedianRange,
    /// `mean ± sd` over the seeds (sample standard deviation).
    MeanSd,
}

impl CellFormat {
    /// The name written after `--cell`.
    pub fn name(self) -> &'static str {
        match self {
            CellFormat::Value => "value",
            CellFormat::MedianRange => "median-range",
            CellFormat::MeanSd => "mean-sd",
        }
    }
}

/// The numbers of one cell, as its [`CellFormat`] asks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellValue {
    One(Measured),
    Range { median: Measured, min: Measured, max: Measured },
    MeanSd { mean: Measured, sd: Measured },
}

impl CellValue {
    /// Each number of the cell with its name (`median`, `min`, …), in the order shown.
    pub fn parts(&self) -> Vec<(&'static str, Measured)> {
        match *self {
            CellValue::One(v) => vec![("value", v)],
            CellValue::Range { median, min, max } => vec![("median", median), ("min", min), ("max", max)],
            CellValue::MeanSd { mean, sd } => vec![("mean", mean), ("sd", sd)],
        }
    }
}

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
    pub cell: CellFormat,
}

/// A table computed from an experiment's results.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    pub experiment: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    /// The quantity in words (with how the seeds are combined).
    pub quantity: String,
    /// The value combination of each row (one value per row field), in grid order.
    pub row_values: Vec<Vec<FieldValue>>,
    /// The value combination of each column, in grid order.
    pub col_values: Vec<Vec<FieldValue>>,
    /// The `labels:` of the experiment's figures, merged (the first figure's where two differ):
    /// they name the fields and values in LaTeX and Markdown.
    pub labels: BTreeMap<String, String>,
    /// `cells[i][j]`: the value at row i, column j; `None` where the grid has no such run.
    pub cells: Vec<Vec<Option<CellValue>>>,
}

impl SummaryTable {
    /// A field's name for readers: its label, or its name in words ([`field_text`]).
    pub fn field_name(&self, field: &str) -> String {
        field_text(&self.labels, field)
    }

    /// A value's text for readers ([`value_text`]); a number of a column field names its field
    /// (`m = 12`: a bare number over a column says nothing), a row's stands under its field's name.
    pub fn value_name(&self, field: &str, value: &FieldValue, column: bool) -> String {
        value_text(&self.labels, field, value, column && value.number().is_some())
    }
}

/// The `labels:` of every figure of `exp`, the first declared winning where two label one key.
fn figure_labels(exp: &Experiment) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for (key, label) in exp.figures.iter().flat_map(|f| &f.labels) {
        labels.entry(key.clone()).or_insert_with(|| label.clone());
    }
    labels
}

/// Why a table cannot be made.
#[derive(Debug, Error)]
pub enum TableError {
    /// The request breaks a rule (an unknown field, a pooled field, an unknown measure): exit 2.
    #[error("{0}")]
    Spec(SpecError),
    /// Some selected runs have no result yet.
    #[error(
        "{missing} of {total} selected runs of {experiment} have no result; `{command}` computes them \
         (a table over part of the runs would pool fewer seeds in some cells than in others)"
    )]
    Incomplete { experiment: String, command: String, missing: usize, total: usize },
}

fn spec_error(exp: &Experiment, field: &str, message: String) -> TableError {
    TableError::Spec(SpecError {
        file: exp.spec.path.display().to_string(),
        position: None,
        field: Some(field.to_string()),
        message,
    })
}

/// Distinct value combinations of `fields` among `rows`, ordered field by field: by the first
/// field's values in first-seen (grid) order, then within each by the second's, and so on (so
/// that columns sharing a first field's value sit together under one header).
fn combinations(rows: &[&Row], fields: &[String]) -> Vec<Vec<FieldValue>> {
    let mut out: Vec<Vec<FieldValue>> = Vec::new();
    // Per field, its values in first-seen order.
    let mut seen: Vec<Vec<FieldValue>> = vec![Vec::new(); fields.len()];
    for r in rows {
        let v: Vec<FieldValue> = fields.iter().map(|f| FieldPath::new(f.as_str()).value_of(&r.run)).collect();
        for (level, value) in v.iter().enumerate() {
            if !seen[level].contains(value) {
                seen[level].push(value.clone());
            }
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    let rank = |v: &Vec<FieldValue>| -> Vec<usize> {
        v.iter().enumerate().map(|(level, x)| seen[level].iter().position(|s| s == x).unwrap_or(0)).collect()
    };
    out.sort_by_key(rank);
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
                command: exp.run_command(),
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
        let width_rule = match (self.cell, self.quantity) {
            (CellFormat::Value, _) | (_, Quantity::Run { .. }) => None,
            (CellFormat::MedianRange, Quantity::Width(WidthMeasure::Critical { .. })) => None,
            (CellFormat::MedianRange, Quantity::Width(_)) => {
                Some("interpolates the seeds' median: it has no range of single seeds; use --cell value")
            }
            (CellFormat::MeanSd, Quantity::Width(_)) => {
                Some("is one width per cell, not a mean of the seeds; use --cell value or median-range")
            }
        };
        if let Some(rule) = width_rule {
            return Err(spec_error(exp, "--cell", format!("{} {rule}", self.quantity.describe())));
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
            let value = self.cell_value(&cell.members).map_err(|e| spec_error(exp, "--value", e.to_string()))?;
            let key: Vec<FieldValue> = cell.key.into_iter().map(|(_, v)| v).collect();
            let (row, col) = key.split_at(self.rows.len());
            let at = |values: &[Vec<FieldValue>], v: &[FieldValue]| values.iter().position(|c| c == v);
            if let (Some(i), Some(j)) = (at(&row_values, row), at(&col_values, col)) {
                table[i][j] = Some(value);
            }
        }
        Ok(SummaryTable {
            experiment: exp.spec.name.clone(),
            rows: self.rows.clone(),
            cols: self.cols.clone(),
            quantity: self.describe(),
            row_values,
            col_values,
            labels: figure_labels(exp),
            cells: table,
        })
    }

    /// The quantity and the cell format in words.
    fn describe(&self) -> String {
        match (self.cell, self.quantity) {
            (CellFormat::Value, q) => q.describe(),
            (CellFormat::MedianRange, Quantity::Run { measure, .. }) => {
                format!("{}: median [min, max] over seeds", measure.describe())
            }
            (CellFormat::MeanSd, Quantity::Run { measure, .. }) => {
                format!("{}: mean ± sample standard deviation over seeds", measure.describe())
            }
            (_, q) => format!("{} [smallest, largest of single seeds]", q.describe()),
        }
    }

    /// The numbers of one cell of runs, as the cell format asks (checked by [`TableSpec::build`]).
    fn cell_value(&self, members: &[&Row]) -> Result<CellValue, crate::measure::width::NoTheoryCount> {
        let per_run = |measure: crate::grid::quantity::RunMeasure| -> Vec<Measured> {
            members.iter().map(|r| measure.of(r)).collect()
        };
        Ok(match (self.cell, self.quantity) {
            (CellFormat::MedianRange, Quantity::Run { measure, .. }) => {
                let v = per_run(measure);
                CellValue::Range {
                    median: pool(OverSeeds::Median, &v),
                    min: pool(OverSeeds::Min, &v),
                    max: pool(OverSeeds::Max, &v),
                }
            }
            (CellFormat::MedianRange, Quantity::Width(WidthMeasure::Critical { target, budget })) => {
                let w = critical_width(members, target, budget)?;
                CellValue::Range { median: w.pooled, min: w.seed_min, max: w.seed_max }
            }
            (CellFormat::MeanSd, Quantity::Run { measure, .. }) => {
                let (mean, sd) = mean_sd(&per_run(measure));
                CellValue::MeanSd { mean, sd }
            }
            _ => CellValue::One(self.quantity.of_cell(members)?),
        })
    }
}
