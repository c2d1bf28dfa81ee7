//! Cells: the runs that agree on a set of fields, and one number per cell.
//!
//! A check's cells agree on every grid field that varies among its runs except the seed (and the
//! width, for a width measure); a table's on its row and column fields; a figure's marks on their
//! series, facet and x fields. The pooling rule, checked when the experiment file is read, makes
//! these the same: runs of one cell differ only in the seed (and the width).

use std::collections::HashMap;

use super::Measured;
use super::pool::pool;
use super::width::NoTheoryCount;
use crate::experiment::Row;
use crate::grid::quantity::Quantity;
use crate::grid::{FieldPath, FieldValue};

/// A cell's key: the value of each keyed field, in the order the fields were given.
pub type Key = Vec<(FieldPath, FieldValue)>;

/// The runs that share a key.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    pub key: Key,
    pub members: Vec<&'a Row>,
}

/// `rows` grouped by their values of `fields`, cells in first-seen (grid) order.
pub fn group<'a>(rows: &[&'a Row], fields: &[FieldPath]) -> Vec<Cell<'a>> {
    let mut index: HashMap<Vec<FieldValue>, usize> = HashMap::new();
    let mut cells: Vec<Cell<'a>> = Vec::new();
    for &r in rows {
        let values: Vec<FieldValue> = fields.iter().map(|f| f.value_of(&r.run)).collect();
        match index.get(&values) {
            Some(&i) => cells[i].members.push(r),
            None => {
                index.insert(values.clone(), cells.len());
                let key = fields.iter().cloned().zip(values).collect();
                cells.push(Cell { key, members: vec![r] });
            }
        }
    }
    cells
}

/// The fields of `axes` (seed and `skip` aside) that take more than one value among `rows`, in
/// axis order.
pub fn varying_fields(axes: &[String], rows: &[&Row], skip: &[&str]) -> Vec<FieldPath> {
    axes.iter()
        .filter(|a| *a != "seed" && !skip.contains(&a.as_str()))
        .map(FieldPath::new)
        .filter(|f| {
            let first = rows.first().map(|r| f.value_of(&r.run));
            rows.iter().any(|r| Some(f.value_of(&r.run)) != first)
        })
        .collect()
}

impl Quantity {
    /// The quantity over one cell of runs with a result.
    pub fn of_cell(self, members: &[&Row]) -> Result<Measured, NoTheoryCount> {
        match self {
            Quantity::Run { measure, over_seeds } => {
                let values: Vec<Measured> = members.iter().map(|r| measure.of(r)).collect();
                Ok(pool(over_seeds, &values))
            }
            Quantity::Width(w) => w.of(members),
        }
    }

    /// The fields a cell of this quantity does not key on besides the seed: the width for a width
    /// measure.
    pub fn spanned(self) -> &'static [&'static str] {
        if self.over_widths() { &["model.width"] } else { &[] }
    }
}

/// A key in short words for the measured column of a check: "L=2 linear κ=4".
pub fn key_text(key: &Key) -> String {
    key.iter()
        .map(|(field, value)| match field.as_str() {
            "model.depth" => format!("L={value}"),
            "model.width" => format!("m={value}"),
            "data.kappa" => format!("κ={value}"),
            "optim.batch" => format!("b={value}"),
            "model.arch" | "model.transform" if !value.is_absent() => value.to_string(),
            other => format!("{}={value}", other.rsplit('.').next().unwrap_or(other)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
