//! The science, checked against independent computations: engines against each other, gradients
//! against finite differences, the theory module against closed forms, random streams against
//! golden draws, sampling laws, the OpenBLAS kernels and LAPACK's messages. One test crate (one
//! link of the library and its dependencies) holding one module per subject; run one with
//! `cargo test --test science engines::`.

#[path = "../common/mod.rs"]
mod common;

mod diagnostics;
mod engines;
mod gradients;
mod kernels;
mod lapack_quiet;
mod sampling;
mod streams;
mod theory;
mod zou_bound;
