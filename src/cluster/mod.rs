//! Running a grid on more than one machine: shards of a grid ([`shard`]), and results directories
//! merged ([`merge`]) and compared ([`diff`]) record by record ([`compare`], one comparison for
//! both). This wing sits beside the runner and uses the harness (spec, store, export); the runner
//! knows nothing of it.

pub mod compare;
pub mod diff;
pub mod layout;
pub mod merge;
pub mod shard;
pub mod slurm;
