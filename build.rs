//! Records the compiler version and the source commit for the provenance of every result.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    // Bind LAPACK's error handler to linres's own (src/blas.rs), which keeps stdout clean: pull the
    // symbol in and export it so the shared OpenBLAS resolves its `xerbla_` calls to it.
    println!("cargo:rustc-link-arg=-Wl,--undefined=xerbla_");
    println!("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol=xerbla_");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    println!("cargo:rustc-env=LINRES_RUSTC={}", output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into()));
    let commit = output("git", &["rev-parse", "HEAD"]).unwrap_or_default();
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
    println!("cargo:rustc-env=LINRES_GIT_COMMIT={commit}");
    println!(
        "cargo:rustc-env=LINRES_GIT_DIRTY={}",
        match dirty {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        }
    );
}
