//! Typed errors of the library. Each carries the sentence a user needs: which field or file, and
//! which rule it broke.

use std::path::PathBuf;

use thiserror::Error;

/// A configuration value that breaks a rule, e.g. `model.width: modified_identity needs m ≥ d + k`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {rule}")]
pub struct ConfigError {
    /// Dotted path of the field, e.g. `model.width`.
    pub field: String,
    /// The rule it breaks, as a sentence.
    pub rule: String,
}

impl ConfigError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        ConfigError { field: field.into(), rule: rule.into() }
    }
}

/// A data or matrix file that cannot be used.
#[derive(Debug, Error)]
pub enum DataError {
    #[error("{path}: cannot read the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: non-finite value {value} at row {row}, column {col}")]
    NonFinite { path: PathBuf, row: usize, col: usize, value: f64 },
    #[error("{path}: the file holds no samples (n = 0)")]
    Empty { path: PathBuf },
}

/// A LAPACK routine that failed (it does not converge, or its input was not finite).
#[derive(Debug, Error)]
#[error("{what} failed: {source}")]
pub struct LinalgError {
    pub what: &'static str,
    #[source]
    pub source: ndarray_linalg::error::LinalgError,
}

/// Anything that stops a run before it produces a result.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Linalg(#[from] LinalgError),
    #[error(
        "the reduced engine's basis of col(A) + col(Bᵀ) misses a fraction {lost:.1e} of ‖{matrix}‖²_F \
         (numerically ill-conditioned transformations): use engine dense or gram"
    )]
    InexactReduction { matrix: &'static str, lost: f64 },
    /// The problem has no meaningful training run (all-zero inputs, a step that is not finite).
    #[error("{0}")]
    Degenerate(String),
    /// Training was asked to stop (a signal) before the last iteration; nothing is recorded.
    #[error("interrupted before the run finished")]
    Interrupted,
}
