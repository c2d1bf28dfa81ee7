//! linres: training deep linear ResNets (Zou, Long & Gu, ICLR 2020) and the deep linear networks of
//! Du & Hu (ICML 2019), with exact engines and every quantity of the two convergence theorems.
//!
//! Data flow: [`config`] (a validated run) → [`data`] + [`model`] → [`engine`] (one exact engine)
//! → [`train`] (curve, theory report). The mathematics and conventions are in `THEORY.md`
//! (`docs/THEORY.md` of the repository).

use blas_src as _;

pub mod blas;
pub mod canonical;
pub mod check;
pub mod cluster;
pub mod config;
pub mod data;
pub mod engine;
pub mod error;
pub mod escape;
pub mod experiment;
pub mod export;
pub mod fileio;
pub mod halt;
pub mod json_float;
pub mod linalg;
pub mod matrix_file;
pub mod measure;
pub mod model;
pub mod number;
pub mod optim;
pub mod plot;
pub mod problem;
pub mod provenance;
pub mod random;
pub mod report;
pub mod rng;
pub mod runner;
pub mod shell;
pub mod spec;
pub mod store;
pub mod table;
pub mod theory;
pub mod train;
