//! The harness through the library and the binary: grids, the cache and the records, the runner
//! under signals, concurrent processes and a full disk, shards, merge, diff and SLURM, the command
//! line, bad and hostile input, exports, atomic publishing and thread counts. One test crate (one
//! link of the library and its dependencies) holding one module per subject; run one with
//! `cargo test --test harness grid_cli::`.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod cli;
mod cli_results;
mod cluster;
mod disk_full;
mod export;
mod grid;
mod grid_cli;
mod hostile;
mod layers;
mod layout;
mod parquet;
mod publish;
mod records;
mod slurm;
mod threads;
