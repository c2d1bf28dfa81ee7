//! The OpenBLAS kernels a run uses: detected by default, or pinned with OPENBLAS_CORETYPE, which
//! linres checks before anything runs. Records name the kernels in their provenance.

use std::process::Command;

fn train(dir: &std::path::Path, coretype: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_linres"));
    cmd.current_dir(dir).args(["train", "--set", "optim.iters=3", "--json"]).env_remove("OPENBLAS_L2_SIZE");
    match coretype {
        Some(c) => cmd.env("OPENBLAS_CORETYPE", c),
        None => cmd.env_remove("OPENBLAS_CORETYPE"),
    };
    cmd.output().unwrap()
}

#[test]
fn an_unknown_core_type_is_refused_with_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), Some("Pentium9"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("OPENBLAS_CORETYPE") && stderr.contains("Pentium9"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_pinned_core_type_runs_and_the_record_names_it() {
    let dir = tempfile::tempdir().unwrap();
    // Prescott kernels (SSE3) run on every x86-64 CPU.
    let out = train(dir.path(), Some("prescott"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let config = record["provenance"]["openblas_config"].as_str().unwrap();
    assert!(config.contains("Prescott"), "{config}");
    // Without the variable, OpenBLAS picks the kernels for this CPU, which the record names too.
    let out = train(dir.path(), None);
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let config = record["provenance"]["openblas_config"].as_str().unwrap();
    assert!(config.contains(&linres::blas::core_name()) || std::env::var_os("OPENBLAS_CORETYPE").is_some(), "{config}");
}
