//! Property tests: random inputs (experiment files, data files, free text, paths and options of
//! the cluster scripts) end in a valid result or a clean refusal. One test crate holding one
//! module per kind of input; `PROPTEST_CASES` and `PROPTEST_RNG_SEED` choose how many cases and
//! which (`cargo test --test properties`, or one module: `cargo test --test properties
//! properties_text::`).
//!
//! The allocation guard of module `properties` (a `#[global_allocator]` refusing any single
//! allocation above 1 GiB) is process-wide, so it covers the other modules too: their cases run
//! the binary in child processes and allocate little in this one.

#[path = "../common/mod.rs"]
mod common;

mod properties;
mod properties_cluster;
mod properties_text;
