//! linres: training deep linear ResNets (Zou, Long & Gu, ICLR 2020) and the deep linear networks of
//! Du & Hu (ICML 2019), with exact engines and every quantity of the two convergence theorems.
//!
//! The modules are layers, each importing only the layers below it (`docs/ARCHITECTURE.md`; the
//! test `tests/layers.rs` checks it): the outputs read the measures, which read the harness, which
//! runs the science of one run on its inputs, all on the core. The mathematics and conventions are
//! in `THEORY.md` (`docs/THEORY.md` of the repository).

use blas_src as _;

// Outputs: what the user reads. None imports another.
pub mod check;
pub mod export;
pub mod plot;
pub mod report;
pub mod table;

// Measures: the one place where records become numbers.
pub mod measure;

// Harness: the experiment file read once, its grid, the runner, the store, the cluster.
pub mod cluster;
pub mod experiment;
pub mod grid;
pub mod runner;
pub mod store;

// Science of one run.
pub mod engine;
pub mod model;
pub mod optim;
pub mod problem;
pub mod theory;
pub mod train;

// Inputs.
pub mod blas;
pub mod config;
pub mod data;
pub mod linalg;
pub mod matrix_file;
pub mod provenance;
pub mod random;
pub mod rng;

// Core.
pub mod canonical;
pub mod error;
pub mod escape;
pub mod fileio;
pub mod halt;
pub mod json_float;
pub mod number;
pub mod shell;
