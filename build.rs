//! Records the compiler version and the source commit for the provenance of every result.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
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
