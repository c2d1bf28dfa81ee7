//! The measures layer: the one place where records become numbers. Every output (figures,
//! tables, checks, the report, `summary.csv`, `--json`) reads its numbers from here, so the same
//! runs show the same value everywhere, with one rule for what has no value.
//!
//! - [`run`]: one number per run (final relative excess, iterations to a target, theory
//!   quantities, seconds), with one rule for diverged runs (∞ final excess) and runs without a
//!   result (absent).
//! - [`pool`]: combining the seeds of a cell (median, min, max, mean).
//! - [`curve`]: curves pooled over seeds on a common iteration grid.
//! - [`width`]: critical, margin-one and certified widths with their censoring.
//! - [`cells`]: grouping runs into cells and one number per cell.
//!
//! Field lookup (the value a run takes on a field, and the rule for a field it does not have) is
//! the grid's ([`crate::grid::field`]); what is measured is declared in
//! [`crate::grid::quantity`].

pub mod cells;
pub mod curve;
pub mod pool;
pub mod run;
mod value;
pub mod width;

pub use value::{Absence, Measured};
