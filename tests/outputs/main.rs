//! The outputs as a reader sees them: figures, checks, tables, the HTML report, text escaped in
//! every format, and the README's examples. One test crate (one link of the library and its
//! dependencies) holding one module per output; run one with `cargo test --test outputs plot::`.

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod claims;
mod escapes;
mod one_truth;
mod paper_tables;
mod plot;
mod print;
mod readme;
mod readme_numbers;
mod report;
mod table;
