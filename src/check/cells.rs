//! The cells a check compares: its selected runs grouped by every grid field that varies among
//! them but the seed (and the width, for a width measure), with one number per cell from the
//! measures layer.

use crate::experiment::{Experiment, Row};
use crate::grid::quantity::Quantity;
use crate::measure::Measured;
use crate::measure::cells::{Key, group, varying_fields};
use crate::measure::width::NoTheoryCount;

/// The measured value of every cell, in grid order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    pub values: Vec<(Key, Measured)>,
    /// For each field of the keys, the fields that vary with it in a `zip` group: comparing along
    /// a field compares along its partners too.
    pub partners: Vec<(String, Vec<String>)>,
}

impl Cells {
    /// The cells of `quantity` over `rows` (a check's selected results).
    pub fn of(quantity: Quantity, exp: &Experiment, rows: &[&Row]) -> Result<Cells, NoTheoryCount> {
        let fields = varying_fields(&exp.axes, rows, quantity.spanned());
        let partners = fields.iter().map(|f| (f.to_string(), exp.spec.zip_partners(f.as_str()))).collect();
        let values = group(rows, &fields)
            .into_iter()
            .map(|cell| Ok((cell.key, quantity.of_cell(&cell.members)?)))
            .collect::<Result<_, NoTheoryCount>>()?;
        Ok(Cells { values, partners })
    }

    /// `field` and the fields zipped with it.
    pub fn tied(&self, field: &str) -> Vec<String> {
        let mut out = vec![field.to_string()];
        if let Some((_, p)) = self.partners.iter().find(|(f, _)| f == field) {
            out.extend(p.iter().cloned());
        }
        out
    }
}
