//! `summary.parquet` and `curves.parquet`: the grid's tables with typed columns, for pandas,
//! polars or DuckDB (`pandas.read_parquet("results/<name>/summary.parquet")`).
//!
//! - `summary.parquet`: one row per run with a record: `id`, every parameter column of
//!   `summary.csv` typed by the values the grid gives it (whole numbers → int64, other numbers →
//!   float64, true/false → bool, names → a dictionary of strings, which pandas reads as a
//!   categorical; a field a run does not have is null), then every column of
//!   [`SummaryColumn::ALL`] typed by the schema of `summary.csv` (`inf` is +∞, an empty cell null).
//!   The cells are those of `summary.csv` ([`super::tables::summary_cells`]): one computation,
//!   two notations.
//! - `curves.parquet`: one row per logged point: `id` (a dictionary of strings), `iter`, `loss`,
//!   `excess`, `rel_excess`, `bound` (the theorem's bound at that iteration, null where the run
//!   has none) and, where the grid logs them, `max_layer_norm`, `grad_norm2`, `pl_ratio`. Join it
//!   with the summary on `id` for the grid values.
//!
//! Compressed with Snappy (what pandas writes by default); rows are written in grid order, so the
//! same records give the same bytes.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::tables::Cell;
use crate::grid::{FieldPath, FieldValue, GridRun};
use crate::store::schema::{ColumnType, SummaryColumn};
use crate::train::CurvePoint;

/// The type of a parameter column, from the values the grid's runs take on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Whole numbers written as such (`40`, `3`).
    Int,
    /// Numbers, one of them not whole or written as a float (`1e-5`, `0.5`).
    Float,
    Bool,
    /// Names (`resnet`), anything else, and columns whose values are of several kinds.
    Text,
}

impl ParamType {
    fn of(v: &FieldValue) -> Option<ParamType> {
        match v {
            FieldValue::Absent => None,
            FieldValue::Number(_, text) if text.parse::<i64>().is_ok() => Some(ParamType::Int),
            FieldValue::Number(..) => Some(ParamType::Float),
            FieldValue::Bool(_) => Some(ParamType::Bool),
            FieldValue::Text(_) | FieldValue::Named { .. } | FieldValue::Other(_) => Some(ParamType::Text),
        }
    }

    /// The type that holds values of both types.
    fn join(self, other: ParamType) -> ParamType {
        use ParamType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Int, Float) | (Float, Int) => Float,
            _ => Text,
        }
    }
}

/// The type of each parameter column over every run of the grid (with or without a record, so
/// that a column's type does not depend on which runs have finished).
pub fn param_types(runs: &[GridRun], columns: &[String]) -> Vec<ParamType> {
    columns
        .iter()
        .map(|c| {
            let path = FieldPath::new(c.as_str());
            runs.iter()
                .filter_map(|r| ParamType::of(&path.value_of(r)))
                .reduce(ParamType::join)
                .unwrap_or(ParamType::Text)
        })
        .collect()
}

/// A run's row of `summary.parquet`.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub id: String,
    /// The run's value of each parameter column.
    pub params: Vec<FieldValue>,
    /// Its cell of each column of [`SummaryColumn::ALL`].
    pub cells: Vec<Cell>,
}

/// A run's rows of `curves.parquet`, column by column.
#[derive(Debug, Clone, Default)]
pub struct CurveColumns {
    iter: Vec<i64>,
    loss: Vec<f64>,
    excess: Vec<f64>,
    rel_excess: Vec<f64>,
    bound: Vec<Option<f64>>,
    max_layer_norm: Vec<Option<f64>>,
    grad_norm2: Vec<Option<f64>>,
    pl_ratio: Vec<Option<f64>>,
}

impl CurveColumns {
    /// Appends logged point `p` with its relative excess and the theorem's bound there.
    pub fn push(&mut self, p: &CurvePoint, rel_excess: f64, bound: Option<f64>) {
        self.iter.push(p.iter as i64);
        self.loss.push(p.loss);
        self.excess.push(p.excess);
        self.rel_excess.push(rel_excess);
        self.bound.push(bound);
        self.max_layer_norm.push(p.max_layer_norm);
        self.grad_norm2.push(p.grad_norm2);
        self.pl_ratio.push(p.pl_ratio);
    }
}

/// A column of names: a dictionary of strings (pandas reads it as a categorical).
fn names() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn param_field(name: &str, t: ParamType) -> Field {
    let data_type = match t {
        ParamType::Int => DataType::Int64,
        ParamType::Float => DataType::Float64,
        ParamType::Bool => DataType::Boolean,
        ParamType::Text => names(),
    };
    Field::new(name, data_type, true)
}

fn summary_field(c: SummaryColumn) -> Field {
    let data_type = match (c, c.column_type()) {
        (SummaryColumn::Error, _) => DataType::Utf8,
        (_, ColumnType::Text) => names(),
        (_, ColumnType::Integer) => DataType::Int64,
        (_, ColumnType::Float) => DataType::Float64,
        (_, ColumnType::Bool) => DataType::Boolean,
    };
    Field::new(c.name(), data_type, c.nullable())
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

/// The two Parquet tables being written.
pub struct ParquetTables<W: Write + Send> {
    summary: ArrowWriter<W>,
    curves: ArrowWriter<W>,
    summary_schema: SchemaRef,
    curves_schema: SchemaRef,
    types: Vec<ParamType>,
    diagnostics: bool,
}

impl<W: Write + Send> ParquetTables<W> {
    /// Tables with parameter `columns` of `types`, the diagnostics columns in the curves when
    /// `diagnostics`, written to `summary` and `curves`.
    pub fn new(columns: &[String], types: &[ParamType], diagnostics: bool, summary: W, curves: W) -> io::Result<Self> {
        let mut fields = vec![Field::new("id", DataType::Utf8, false)];
        fields.extend(columns.iter().zip(types).map(|(c, &t)| param_field(c, t)));
        fields.extend(SummaryColumn::ALL.map(summary_field));
        let summary_schema = Arc::new(Schema::new(fields));
        let mut fields = vec![Field::new("id", names(), false), Field::new("iter", DataType::Int64, false)];
        fields.extend(["loss", "excess", "rel_excess"].map(|n| Field::new(n, DataType::Float64, false)));
        fields.push(Field::new("bound", DataType::Float64, true));
        if diagnostics {
            fields.extend(["max_layer_norm", "grad_norm2", "pl_ratio"].map(|n| Field::new(n, DataType::Float64, true)));
        }
        let curves_schema = Arc::new(Schema::new(fields));
        let props = || WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        Ok(ParquetTables {
            summary: ArrowWriter::try_new(summary, summary_schema.clone(), Some(props())).map_err(other)?,
            curves: ArrowWriter::try_new(curves, curves_schema.clone(), Some(props())).map_err(other)?,
            summary_schema,
            curves_schema,
            types: types.to_vec(),
            diagnostics,
        })
    }

    /// Appends the rows of some runs, in order.
    pub fn write(&mut self, rows: impl Iterator<Item = (SummaryRow, Option<CurveColumns>)>) -> io::Result<()> {
        let (summaries, curves): (Vec<SummaryRow>, Vec<Option<CurveColumns>>) = rows.unzip();
        if summaries.is_empty() {
            return Ok(());
        }
        let batch = self.summary_batch(&summaries)?;
        self.summary.write(&batch).map_err(other)?;
        let curves: Vec<(&str, CurveColumns)> =
            summaries.iter().zip(curves).filter_map(|(s, c)| Some((s.id.as_str(), c?))).collect();
        if curves.iter().any(|(_, c)| !c.iter.is_empty()) {
            let batch = self.curves_batch(&curves)?;
            self.curves.write(&batch).map_err(other)?;
        }
        Ok(())
    }

    fn summary_batch(&self, rows: &[SummaryRow]) -> io::Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::new();
        let mut ids = StringBuilder::new();
        rows.iter().for_each(|r| ids.append_value(&r.id));
        columns.push(Arc::new(ids.finish()));
        for (j, &t) in self.types.iter().enumerate() {
            columns.push(param_array(t, rows.iter().map(|r| &r.params[j])));
        }
        for (j, c) in SummaryColumn::ALL.iter().enumerate() {
            columns.push(cell_array(*c, rows.iter().map(|r| &r.cells[j]))?);
        }
        RecordBatch::try_new(self.summary_schema.clone(), columns).map_err(other)
    }

    fn curves_batch(&self, runs: &[(&str, CurveColumns)]) -> io::Result<RecordBatch> {
        let mut ids = StringDictionaryBuilder::<Int32Type>::new();
        for (id, c) in runs {
            for _ in 0..c.iter.len() {
                ids.append_value(id);
            }
        }
        let ints = |f: fn(&CurveColumns) -> &Vec<i64>| {
            let mut b = Int64Builder::new();
            runs.iter().for_each(|(_, c)| b.append_slice(f(c)));
            Arc::new(b.finish()) as ArrayRef
        };
        let floats = |f: fn(&CurveColumns) -> &Vec<f64>| {
            let mut b = Float64Builder::new();
            runs.iter().for_each(|(_, c)| b.append_slice(f(c)));
            Arc::new(b.finish()) as ArrayRef
        };
        let optional = |f: fn(&CurveColumns) -> &Vec<Option<f64>>| {
            let mut b = Float64Builder::new();
            runs.iter().for_each(|(_, c)| f(c).iter().for_each(|v| b.append_option(*v)));
            Arc::new(b.finish()) as ArrayRef
        };
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(ids.finish()),
            ints(|c| &c.iter),
            floats(|c| &c.loss),
            floats(|c| &c.excess),
            floats(|c| &c.rel_excess),
            optional(|c| &c.bound),
        ];
        if self.diagnostics {
            columns.extend([optional(|c| &c.max_layer_norm), optional(|c| &c.grad_norm2), optional(|c| &c.pl_ratio)]);
        }
        RecordBatch::try_new(self.curves_schema.clone(), columns).map_err(other)
    }

    /// Completes both files; their writers.
    pub fn finish(self) -> io::Result<(W, W)> {
        Ok((self.summary.into_inner().map_err(other)?, self.curves.into_inner().map_err(other)?))
    }
}

/// The column of a parameter of type `t` with these values (absent → null).
fn param_array<'a>(t: ParamType, values: impl Iterator<Item = &'a FieldValue>) -> ArrayRef {
    match t {
        ParamType::Int => Arc::new(Int64Array::from_iter(values.map(|v| match v {
            FieldValue::Number(_, text) => text.parse::<i64>().ok(),
            _ => None,
        }))),
        ParamType::Float => Arc::new(Float64Array::from_iter(values.map(FieldValue::number))),
        ParamType::Bool => Arc::new(BooleanArray::from_iter(values.map(|v| match v {
            FieldValue::Bool(x) => Some(*x),
            _ => None,
        }))),
        ParamType::Text => {
            Arc::new(values.map(|v| (!v.is_absent()).then(|| v.text())).collect::<DictionaryArray<Int32Type>>())
        }
    }
}

/// The column `c` with these cells; a cell of another type than the column's is an error (the
/// measures layer gives none).
fn cell_array<'a>(c: SummaryColumn, cells: impl Iterator<Item = &'a Cell>) -> io::Result<ArrayRef> {
    /// The cells' values as `value` reads them, `Cell::Absent` as null; a cell `value` does not
    /// read is an error naming the column.
    fn typed<'a, T>(
        c: SummaryColumn,
        cells: impl Iterator<Item = &'a Cell>,
        value: impl Fn(&'a Cell) -> Option<T>,
    ) -> io::Result<Vec<Option<T>>> {
        cells
            .map(|cell| match cell {
                Cell::Absent => Ok(None),
                _ => value(cell).map(Some).ok_or_else(|| {
                    io::Error::other(format!("summary column {}: a cell {cell:?} of another type", c.name()))
                }),
            })
            .collect()
    }
    let text = |cell: &'a Cell| match cell {
        Cell::Text(t) => Some(t.as_str()),
        _ => None,
    };
    Ok(match summary_field(c).data_type() {
        DataType::Int64 => Arc::new(Int64Array::from(typed(c, cells, |cell| match cell {
            Cell::Int(v) => Some(*v),
            _ => None,
        })?)),
        DataType::Float64 => Arc::new(Float64Array::from(typed(c, cells, |cell| match cell {
            Cell::Float(v) => Some(*v),
            _ => None,
        })?)),
        DataType::Boolean => Arc::new(BooleanArray::from(typed(c, cells, |cell| match cell {
            Cell::Bool(v) => Some(*v),
            _ => None,
        })?)),
        DataType::Utf8 => Arc::new(StringArray::from(typed(c, cells, text)?)),
        _ => Arc::new(typed(c, cells, text)?.into_iter().collect::<DictionaryArray<Int32Type>>()),
    })
}
