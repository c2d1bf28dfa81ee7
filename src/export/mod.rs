//! Exports for plotting and for other tools: the grid's tables as CSV and Parquet, one run's
//! inputs as `.npy`.

pub mod inputs;
pub mod parquet;
pub mod tables;
