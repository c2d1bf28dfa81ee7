//! `linres slurm` against a real SLURM (`scripts/slurm-local.sh start` brings up a single-node
//! cluster; `.ci/run` does so before the tests and requires them). Where no cluster answers (no
//! `sbatch`, or a controller that is down) each test says in one line that it is skipped, unless
//! `LINRES_REQUIRE` asks for `slurm` (see [`common::outside`]).
//!
//! Each test submits a grid of 48 runs as a job array and compares every record with a local
//! `linres run` of the same grid, field by field (curves bit for bit; only `seconds` and
//! `provenance` may differ).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{Tool, assert_same_records, linres, outside, records_in, text};
use linres::store::{Lookup, Store};

/// 48 dense runs of 30–250 ms each.
const GRID: &str = "name: array
master_seed: 3
seeds: 12
data:  {kind: paper, d: 10, n: 400}
model: {arch: resnet, depth: [4, 8], width: [32, 48], transform: gaussian}
optim: {method: gd, iters: 60, step: {rule: zou, scale: 1.0}}
engine: dense
log:   {points: 20}
";
const RUNS: usize = 48;

/// The tests share the cluster's two CPUs: one at a time.
static CLUSTER: Mutex<()> = Mutex::new(());

/// A directory for one test, inside the target directory (on a real cluster, compute nodes must
/// see it: a home or project file system rather than the submission host's /tmp).
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::write(dir.path().join("array.yaml"), GRID).unwrap();
    dir
}

/// The grid run locally into `<dir>/local`; its records.
fn local_records(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let o = linres(dir, &["run", "array.yaml", "--results", "local", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let recs = records_in(&dir.join("local/array/runs"));
    assert_eq!(recs.len(), RUNS);
    recs
}

fn record_files(runs: &Path) -> Vec<PathBuf> {
    common::record_files(runs)
}

/// Whether any of `jobs` is still queued or running.
fn queued(jobs: &str) -> bool {
    let o = Command::new("squeue").args(["-h", "-j", jobs, "-o", "%i"]).output().unwrap();
    o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

/// The ids printed by `linres slurm --submit`: "submitted array job A (…) and finalize job F".
fn job_ids(out: &str) -> (String, String) {
    let line = out.lines().find(|l| l.contains("submitted array job")).unwrap_or_else(|| panic!("no job ids in {out}"));
    let word_after = |key: &str| line.split(key).nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    (word_after("array job "), word_after("finalize job "))
}

#[test]
fn an_array_computes_every_run_as_a_local_run_does() {
    if outside(Tool::Slurm).is_none() {
        return;
    }
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workdir();
    let want = local_records(dir.path());
    let o = linres(dir.path(), &["slurm", "array.yaml", "--tasks", "6", "--results", "cluster", "--submit", "--wait"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("(6 of 6 tasks hold missing runs)"), "{}", text(&o));
    assert_same_records(&records_in(&dir.path().join("cluster/array/runs")), &want);
    // Six tasks ran (one log each) and the finalize job wrote the tables of all 48 runs.
    let slurm = dir.path().join("cluster/array/slurm");
    let logs: Vec<String> = std::fs::read_dir(slurm.join("logs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(logs.iter().filter(|l| l.starts_with("array-")).count(), 6, "{logs:?}");
    let summary = std::fs::read_to_string(dir.path().join("cluster/array/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), RUNS + 1);
    // A second submission finds nothing missing and submits nothing.
    let o = linres(dir.path(), &["slurm", "array.yaml", "--tasks", "6", "--results", "cluster", "--submit", "--wait"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("nothing submitted"), "{}", text(&o));
}

#[test]
fn a_cancelled_array_loses_nothing_and_a_resubmission_computes_only_what_is_missing() {
    if outside(Tool::Slurm).is_none() {
        return;
    }
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workdir();
    let want = local_records(dir.path());
    let runs = dir.path().join("cluster/array/runs");
    // Four tasks on two CPUs: two run while two wait, so a cancellation lands mid-grid.
    let waiting = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir.path())
        .args(["slurm", "array.yaml", "--tasks", "4", "--results", "cluster", "--submit", "--wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while record_files(&runs).len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(120), "the array computed nothing in 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = linres(dir.path(), &["status", "array.yaml", "--results", "cluster"]);
    assert!(status.status.success(), "{}", text(&status));
    let squeue = Command::new("squeue").args(["-h", "-n", "linres-array", "-o", "%F"]).output().unwrap();
    let array_id =
        String::from_utf8_lossy(&squeue.stdout).lines().next().expect("the array is queued").trim().to_string();
    let cancel = Command::new("scancel").arg(&array_id).output().unwrap();
    assert!(cancel.status.success(), "{}", String::from_utf8_lossy(&cancel.stderr));
    // `--wait` returns once the array and the finalize job have ended, and fails: runs are missing.
    let waited = waiting.wait_with_output().unwrap();
    assert_eq!(waited.status.code(), Some(1), "{}", text(&waited));
    assert!(text(&waited).contains("missing"), "{}", text(&waited));
    let (array, finalize) = job_ids(&text(&waited));
    assert_eq!(array, array_id);
    assert!(!queued(&format!("{array},{finalize}")));

    // What the cancelled tasks left: complete records only, and not all of them.
    let kept = record_files(&runs);
    assert!((4..RUNS).contains(&kept.len()), "{} records after the cancellation", kept.len());
    let store = Store::new(&dir.path().join("cluster"), "array");
    for f in &kept {
        let id = f.file_stem().unwrap().to_string_lossy();
        assert!(matches!(store.read(&id), Lookup::Found(_)), "record {id} is incomplete");
    }
    let before: Vec<(PathBuf, Vec<u8>)> = kept.iter().map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();

    let o = linres(dir.path(), &["slurm", "array.yaml", "--tasks", "4", "--results", "cluster", "--submit", "--wait"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_records(&records_in(&runs), &want);
    // Records that survived the cancellation were not computed again (byte for byte, timing included).
    for (f, bytes) in before {
        assert_eq!(std::fs::read(&f).unwrap(), bytes, "{} was recomputed", f.display());
    }
}

/// Shell syntax in every path and value the scripts accept (quoted in commands, inert in `#SBATCH`
/// lines) reaches SLURM as text: sbatch takes the scripts, the jobs write their logs where the
/// scripts say, compute the same records as a local run, and no injected command runs.
#[test]
fn hostile_paths_the_scripts_accept_run_as_text_under_slurm() {
    if outside(Tool::Slurm).is_none() {
        return;
    }
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let work = root.path().join("work$(touch${IFS}canary);`touch${IFS}canary`|x>y");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("array.yaml"), GRID.replace("seeds: 12", "seeds: 2")).unwrap();
    let set = "data.noise=0.25 # '\"$(touch canary); `touch canary`";
    let hostile =
        ["--set", set, "--results", "res$(touch${IFS}canary)&x", "--sbatch-arg=--comment=$(touch${IFS}canary)"];
    let mut args = vec!["slurm", "array.yaml", "--tasks", "3", "--submit", "--wait"];
    args.extend(hostile);
    let o = linres(&work, &args);
    assert!(o.status.success(), "{}", text(&o));
    let o = linres(&work, &["run", "array.yaml", "--set", set, "--results", "local", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let results = work.join("res$(touch${IFS}canary)&x/array");
    assert_same_records(&records_in(&results.join("runs")), &records_in(&work.join("local/array/runs")));
    let logs = std::fs::read_dir(results.join("slurm/logs")).unwrap().count();
    assert_eq!(logs, 4, "three tasks and the finalize job log where the scripts say");
    assert!(!common::canary_below(root.path()), "an injected command ran");
}
