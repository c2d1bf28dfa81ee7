//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use linres::config::{ResolvedRun, RunConfig};

/// Left-trims every line, so tests can indent flat YAML (nested values in flow style) freely.
pub fn dedent(yaml: &str) -> String {
    yaml.lines().map(str::trim_start).collect::<Vec<_>>().join("\n")
}

/// A resolved run from a flat YAML mapping (relative paths from the current directory).
pub fn run(yaml: &str) -> ResolvedRun {
    serde_norway::from_str::<RunConfig>(&dedent(yaml))
        .expect("test config parses")
        .resolve(Path::new("."))
        .expect("test config is valid")
}

/// The parse or resolution error of a flat YAML mapping, as text.
pub fn resolve_error(yaml: &str) -> String {
    match serde_norway::from_str::<RunConfig>(&dedent(yaml)) {
        Err(e) => e.to_string(),
        Ok(c) => c.resolve(Path::new(".")).expect_err("config should be rejected").to_string(),
    }
}

/// |a − b| ≤ rel·max(|a|, |b|) + abs.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}
