//! Running a grid on more than one machine: shards of a grid ([`shard`]), and results directories
//! merged ([`merge`]) and compared ([`diff`]) record by record ([`compare`], one comparison for
//! both) or, where a side holds only its tables, row by row of `summary.csv` ([`summary`]). This wing sits beside the runner and uses the harness (spec, store, export); the runner
//! knows nothing of it.

pub mod compare;
pub mod diff;
pub mod layout;
pub mod merge;
pub mod shard;
pub mod slurm;
pub mod summary;
