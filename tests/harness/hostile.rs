//! Hostile input through the binary (issue 8): sizes that would not fit in memory, headers that lie,
//! special files. Every case ends, within a bounded time, in exit 2 with a message naming the
//! field (and, in a grid, the run), and writes nothing.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::linres_within;

/// Asserts exit 2, every part in stderr, and no results directory.
fn refused(dir: &Path, args: &[&str], parts: &[&str]) {
    let o = linres_within(dir, args, Duration::from_secs(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "`linres {}`: {err}", args.join(" "));
    for p in parts {
        assert!(err.contains(p), "`linres {}`: `{p}` missing from: {err}", args.join(" "));
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.join("results").exists(), "`linres {}` wrote results", args.join(" "));
}

#[test]
fn a_grid_point_that_cannot_fit_in_memory_is_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deep.yaml"),
        "name: deep\nseeds: 2\ndata: {kind: paper, d: 10, n: 100}\n\
         model: {arch: resnet, depth: [5, 1000000000], width: 40}\n\
         optim: {method: gd, iters: 10, step: {rule: zou}}\n",
    )
    .unwrap();
    let named = ["deep.yaml:4:", "model.depth", "needs at least", "(run model.depth=1000000000, seed=0)"];
    for cmd in ["run", "theory", "list", "status"] {
        refused(dir.path(), &[cmd, "deep.yaml"], &named);
    }
    // The same on the dense engine blames the depth too, and `train` refuses it.
    refused(dir.path(), &["train", "--set", "model.depth=1000000000", "--set", "engine=dense"], &["model.depth"]);
    refused(
        dir.path(),
        &["train", "--set", "optim.iters=1000000000000000", "--set", "log.schedule=all"],
        &["log.schedule", "at most 1000000 points"],
    );
}

#[test]
fn an_npy_header_that_lies_about_its_shape_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    // A valid version-1 header declaring (100000, 100000) float64 on an 800-byte payload.
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }";
    let mut header = format!("{dict:<118}\n");
    header.truncate(118);
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend([0u8; 800]);
    std::fs::write(dir.path().join("X.npy"), &bytes).unwrap();
    std::fs::write(dir.path().join("Y.npy"), &bytes).unwrap();
    std::fs::write(
        dir.path().join("own.yaml"),
        "name: own\ndata: {kind: file, x: X.npy, y: Y.npy}\nmodel: {arch: resnet, depth: 2, width: 8}\n\
         optim: {method: gd, iters: 10, step: {rule: zou}}\n",
    )
    .unwrap();
    for cmd in ["run", "list", "status", "theory"] {
        refused(dir.path(), &[cmd, "own.yaml"], &["data.x", "X.npy", "declares shape (100000, 100000)", "800 bytes"]);
    }
}

#[test]
fn a_fifo_or_a_device_as_data_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Command::new("mkfifo").arg(dir.path().join("X.npy")).status().unwrap().success());
    std::fs::write(
        dir.path().join("fifo.yaml"),
        "name: fifo\ndata: {kind: file, x: X.npy, y: /dev/zero}\nmodel: {arch: resnet, depth: 2, width: 8}\n\
         optim: {method: gd, iters: 10, step: {rule: zou}}\n",
    )
    .unwrap();
    refused(dir.path(), &["run", "fifo.yaml"], &["data.x", "not a regular file (a FIFO)"]);
    std::fs::write(
        dir.path().join("zero.yaml"),
        "name: zero\ndata: {kind: file, x: /dev/urandom, y: /dev/zero}\nmodel: {arch: resnet, depth: 2, width: 8}\n\
         optim: {method: gd, iters: 10, step: {rule: zou}}\n",
    )
    .unwrap();
    refused(dir.path(), &["list", "zero.yaml"], &["data.x", "not a regular file (a device)"]);
    // An experiment file may be a stream (`linres list <(…)`), but an endless one is refused.
    refused(dir.path(), &["run", "/dev/zero"], &["/dev/zero", "more than 16.0 MiB"]);
}

/// Under a memory limit below what a run needs (a `ulimit -v`, as containers and clusters set), the
/// run fails with a record saying so, and the other runs of the grid go on: the process never aborts.
#[test]
fn a_run_larger_than_the_process_may_allocate_becomes_a_failed_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("big.yaml"),
        "name: big\ndata: {kind: paper, d: 10, n: 100}\n\
         model: {arch: resnet, depth: 50, width: [20, 4000]}\n\
         optim: {method: gd, iters: 2, step: {rule: zou}}\nengine: dense\n",
    )
    .unwrap();
    let o = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!("ulimit -v 2000000 && exec {} run big.yaml --jobs 1", env!("CARGO_BIN_EXE_linres")))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("1 run(s) failed"), "{err}");
    let status = linres_within(dir.path(), &["status", "big.yaml"], Duration::from_secs(20));
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("cannot allocate the") && text.contains("this run needs"), "{text}");
    assert!(text.contains("1 cached"), "the small run finished: {text}");
}

/// A FIFO in place of a record is unreadable, never a hang: `status` and `run` go on.
#[test]
fn a_fifo_in_place_of_a_record_does_not_hang_status_or_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("one.yaml"),
        "name: one\ndata: {kind: paper, d: 4, n: 20}\nmodel: {arch: resnet, depth: 2, width: 8}\n\
         optim: {method: gd, iters: 10, step: {rule: zou}}\n",
    )
    .unwrap();
    assert!(linres_within(dir.path(), &["run", "one.yaml", "-q"], Duration::from_secs(20)).status.success());
    let runs = dir.path().join("results/one/runs");
    let record = common::record_files(&runs).into_iter().next().unwrap();
    std::fs::remove_file(&record).unwrap();
    assert!(Command::new("mkfifo").arg(&record).status().unwrap().success());
    let o = linres_within(dir.path(), &["status", "one.yaml"], Duration::from_secs(20));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // `run` recomputes the run and replaces the FIFO with a record.
    assert!(linres_within(dir.path(), &["run", "one.yaml", "-q"], Duration::from_secs(20)).status.success());
    assert!(std::fs::metadata(&record).unwrap().is_file());
}

/// Data scaled to 1e-300 would make LAPACK complain ("DLASCL illegal value") on stdout: it is refused
/// before LAPACK, saying what is wrong, and `--json` output stays clean.
#[test]
fn data_whose_squares_underflow_is_refused_before_lapack() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = String::new();
    for i in 0..30 {
        x.push_str(&format!("{:e},{:e},{:e}\n", 1e-300 * (i as f64 + 1.0), -2e-300, 3e-300 * (i % 4) as f64));
    }
    std::fs::write(dir.path().join("X.csv"), x).unwrap();
    std::fs::write(dir.path().join("Y.csv"), "1\n".repeat(30)).unwrap();
    std::fs::write(
        dir.path().join("tiny.yaml"),
        "name: tiny\ndata: {kind: file, x: X.csv, y: Y.csv}\nmodel: {arch: resnet, depth: 2, width: 8}\n\
         optim: {method: gd, iters: 10, step: {rule: zou}}\n",
    )
    .unwrap();
    let o = linres_within(dir.path(), &["theory", "tiny.yaml", "--json"], Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&o.stdout));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("data.x") && err.contains("outside [1e-100, 1e100]") && err.contains("rescale"), "{err}");
    for set in ["model.transform.a_scale=1e-300", "model.transform.b_scale=1e200", "data.noise=1e300"] {
        let o = linres_within(dir.path(), &["train", "--set", set, "--set", "optim.iters=3"], Duration::from_secs(20));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(set.split('=').next().unwrap()) && err.contains("outside"), "{set}: {err}");
    }
}
