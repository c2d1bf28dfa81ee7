//! Grids beyond one process, driven through the binary: shards (`run --shard`), merges
//! (`merge`), comparisons (`diff`) and `run --tables-only`. Every result is checked against an
//! uninterrupted local `run` of the same grid, compared field by field (curves bit for bit).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{SlurmCase, assert_same_records, linres, records_in, text};
use serde_json::Value;

/// 24 cheap runs of unequal cost (widths, depths and iteration counts differ).
const GRID: &str = "name: small
master_seed: 11
seeds: 2
data:  {kind: paper, d: 4, n: 40}
model: {arch: resnet, depth: [2, 6], width: [8, 16, 64], transform: gaussian}
optim: {method: gd, iters: [20, 60], step: {rule: zou, scale: 2}}
log:   {points: 12}
";
const RUNS: usize = 24;

fn spec_in(dir: &Path) -> PathBuf {
    let p = dir.join("small.yaml");
    std::fs::write(&p, GRID).unwrap();
    p
}

/// The reference: the grid run locally in one process.
fn reference() -> &'static (tempfile::TempDir, Vec<(String, Value)>) {
    static REF: OnceLock<(tempfile::TempDir, Vec<(String, Value)>)> = OnceLock::new();
    REF.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        spec_in(dir.path());
        let o = linres(dir.path(), &["run", "small.yaml", "--quiet"]);
        assert!(o.status.success(), "{}", text(&o));
        let recs = records_in(&dir.path().join("results/small/runs"));
        assert_eq!(recs.len(), RUNS);
        (dir, recs)
    })
}

fn record_count(runs: &Path) -> usize {
    common::record_files(runs).len()
}

#[test]
fn shards_cover_every_run_exactly_once_and_give_the_local_records() {
    let (_, want) = reference();
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let runs = dir.path().join("results/small/runs");
    let mut seen = 0;
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = linres(dir.path(), &["run", "small.yaml", "--shard", &shard, "--jobs", "1"]);
        assert!(o.status.success(), "{}", text(&o));
        let now = record_count(&runs);
        // Each shard computes only runs no earlier shard computed (nothing was cached for it).
        let computed = text(&o)
            .lines()
            .find_map(|l| l.split(" runs: ").nth(1).and_then(|r| r.split(' ').next()?.parse::<usize>().ok()))
            .expect("a summary line");
        assert_eq!(now - seen, computed, "shard {shard}: {}", text(&o));
        assert!(text(&o).contains("0 cached"), "shard {shard} found cached runs: {}", text(&o));
        assert!(computed > 0, "shard {shard} is empty");
        seen = now;
        // A shard leaves the tables alone.
        assert!(!dir.path().join("results/small/summary.csv").exists());
    }
    assert_eq!(seen, RUNS);
    assert_same_records(&records_in(&runs), want);
}

#[test]
fn shards_and_a_local_run_on_one_directory_never_corrupt_or_duplicate_a_record() {
    let (_, want) = reference();
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let mut children: Vec<_> = ["0/2", "1/2", ""]
        .iter()
        .map(|shard| {
            let mut args = vec!["run", "small.yaml", "--jobs", "1", "--quiet"];
            if !shard.is_empty() {
                args.extend(["--shard", shard]);
            }
            Command::new(env!("CARGO_BIN_EXE_linres"))
                .current_dir(dir.path())
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    assert_same_records(&records_in(&dir.path().join("results/small/runs")), want);
    let leftovers = linres::store::Store::new(&dir.path().join("results"), "small").leftovers();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_shards_exit_2_naming_the_flag_and_the_rule_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    for (bad, rule) in
        [("3/2", "I must be below N"), ("0/0", "N must be at least 1"), ("a/b", "expected I/N"), ("1", "expected I/N")]
    {
        let o = linres(dir.path(), &["run", "small.yaml", "--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains("--shard") && text(&o).contains(rule), "{bad}: {}", text(&o));
        assert!(!text(&o).contains("panicked"));
    }
    assert!(!dir.path().join("results").exists());
}

/// Runs shard `i` of `n` into its own results directory (a machine without a shared file system).
fn shard_into(dir: &Path, i: usize, n: usize) -> PathBuf {
    let results = dir.join(format!("machine{i}"));
    let shard = format!("{i}/{n}");
    let o = linres(dir, &["run", "small.yaml", "--shard", &shard, "--results", results.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    results
}

/// The rows of summary.csv, sorted (it holds no timings, so executions agree).
fn summary_without_seconds(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert!(reader.headers().unwrap().iter().all(|h| h != "seconds"), "summary.csv holds no timings");
    let mut rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(|v| v.to_string()).collect()).collect();
    rows.sort();
    rows
}

#[test]
fn merging_shards_from_separate_machines_gives_the_local_records_and_tables() {
    let (ref_dir, want) = reference();
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let sources: Vec<PathBuf> = (0..3).map(|i| shard_into(dir.path(), i, 3)).collect();
    let mut args = vec!["merge"];
    args.extend(sources.iter().map(|s| s.to_str().unwrap()));
    args.extend(["--into", "merged", "--experiments", "."]);
    let o = linres(dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_records(&records_in(&dir.path().join("merged/small/runs")), want);
    assert_eq!(
        summary_without_seconds(&dir.path().join("merged/small/summary.csv")),
        summary_without_seconds(&ref_dir.path().join("results/small/summary.csv"))
    );
    // A second merge of the same sources finds every record present and equal, and copies nothing.
    let o = linres(dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("copied 0 record(s)") && text(&o).contains(&format!("{RUNS} already present")),
        "{}",
        text(&o)
    );
}

/// Rewrites one record file through `edit` (a JSON value).
fn tamper(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// (name, bytes) of every file below `dir`, sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A copy of the reference results under `dir/name`, in the flat layout of earlier versions
/// (`runs/<id>.json`), which linres reads beside its sharded one: merge and diff are tested on both.
fn copy_reference(dir: &Path, name: &str) -> PathBuf {
    let (ref_dir, _) = reference();
    let to = dir.join(name).join("small/runs");
    std::fs::create_dir_all(&to).unwrap();
    for file in common::record_files(&ref_dir.path().join("results/small/runs")) {
        std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
    }
    dir.join(name)
}

fn first_record(results: &Path) -> (String, PathBuf) {
    let p = common::record_files(&results.join("small/runs")).into_iter().next().unwrap();
    (p.file_stem().unwrap().to_string_lossy().into_owned(), p)
}

#[test]
fn a_merge_with_a_conflicting_record_is_refused_with_a_table_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dst = copy_reference(dir.path(), "dst");
    let src = copy_reference(dir.path(), "src");
    let (id, path) = first_record(&src);
    tamper(&path, |v| {
        let loss = v["curve"][2]["loss"].as_f64().unwrap();
        v["curve"][2]["loss"] = Value::from(loss * (1.0 + 1e-6));
    });
    // A run only the source has: it must not be copied either, since the merge is refused whole.
    let other = records_in(&dst.join("small/runs")).into_iter().map(|r| r.0).find(|i| *i != id).unwrap();
    std::fs::remove_file(common::record_file(&dst.join("small/runs"), &other)).unwrap();
    let before = snapshot(&dst);
    let o = linres(dir.path(), &["merge", "src", "--into", "dst"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    let row = out.lines().find(|l| l.contains(&id)).unwrap_or_else(|| panic!("no row for {id}: {out}"));
    assert!(row.contains("curve.loss at t = "), "{row}");
    assert!(out.contains("nothing was written") && out.contains("must agree"), "{out}");
    assert_eq!(snapshot(&dst), before, "a refused merge changed the destination");
    // Within a looser tolerance the records agree and the merge goes through.
    let o = linres(dir.path(), &["merge", "src", "--into", "dst", "--rtol", "1e-5", "--experiments", "."]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_result_replaces_a_failed_record_and_a_failure_never_replaces_a_result() {
    let dir = tempfile::tempdir().unwrap();
    let dst = copy_reference(dir.path(), "dst");
    let src = copy_reference(dir.path(), "src");
    let (id, dst_path) = first_record(&dst);
    let src_path = common::record_file(&src.join("small/runs"), &id);
    let fail = |v: &mut Value| {
        let o = v.as_object_mut().unwrap();
        for k in ["curve", "theory", "engine", "seeds", "iters_to_target", "reduced_dim"] {
            o.remove(k);
        }
        o.insert("status".into(), Value::from("failed"));
        o.insert("error".into(), Value::from("out of memory"));
    };
    tamper(&dst_path, fail);
    let good = std::fs::read(&src_path).unwrap();
    let o = linres(dir.path(), &["merge", "src", "--into", "dst"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("copied 1 record(s) (1 replacing failed ones)"), "{}", text(&o));
    // Copied into its shard, the failed record of the flat layout gone.
    let dst_path = common::record_file(&dst.join("small/runs"), &id);
    assert_eq!(common::record_files(&dst.join("small/runs")).len(), RUNS, "one record per run");
    assert_eq!(std::fs::read(&dst_path).unwrap(), good, "the result is copied byte for byte");
    // Now the source holds the failure: the destination's result stays.
    tamper(&src_path, fail);
    let o = linres(dir.path(), &["merge", "src", "--into", "dst"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("copied 0 record(s)") && text(&o).contains("1 failed record(s) not copied"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&dst_path).unwrap(), good);
}

#[test]
fn bad_merge_arguments_exit_2_naming_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    copy_reference(dir.path(), "src");
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let single = dir.path().join("src/small");
    for (args, names) in [
        (vec!["merge", "nowhere", "--into", "dst"], "SRC `nowhere`"),
        (vec!["merge", "src", "--into", "file"], "--into"),
        (vec!["merge", "src", "--into", "src"], "--into"),
        (vec!["merge", "src", single.to_str().unwrap(), "--into", "dst"], "of one kind"),
        (vec!["merge", "src", "--into", "dst", "--rtol=-1"], "--rtol"),
        (vec!["merge", "--into", "dst"], "SRC"),
    ] {
        let o = linres(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(names), "{args:?}: {}", text(&o));
    }
    assert!(!dir.path().join("dst").exists());
}

#[test]
fn diff_finds_every_kind_of_difference_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_reference(dir.path(), "a");
    let b = copy_reference(dir.path(), "b");
    let o = linres(dir.path(), &["diff", "a", "b"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(&format!("{RUNS} runs compared")), "{}", text(&o));
    // One experiment's directories compare the same way.
    let o = linres(dir.path(), &["diff", "a/small", "b/small"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mut ids: Vec<String> = records_in(&a.join("small/runs")).into_iter().map(|r| r.0).collect();
    ids.sort();
    let path = |root: &Path, id: &str| common::record_file(&root.join("small/runs"), id);
    tamper(&path(&b, &ids[0]), |v| {
        let e = v["curve"][5]["excess"].as_f64().unwrap();
        v["curve"][5]["excess"] = Value::from(e * (1.0 + 1e-8));
    });
    tamper(&path(&b, &ids[1]), |v| v["first_below"][5] = Value::from(3));
    tamper(&path(&b, &ids[2]), |v| v["status"] = Value::from("diverged"));
    std::fs::remove_file(path(&b, &ids[3])).unwrap();
    std::fs::write(path(&b, &ids[4]), b"{ truncated").unwrap();
    let o = linres(dir.path(), &["diff", "a", "b"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    let row =
        |id: &str| out.lines().find(|l| l.contains(id)).unwrap_or_else(|| panic!("no row for {id}: {out}")).to_string();
    assert!(row(&ids[0]).contains("curve.excess at t = "), "{out}");
    assert!(row(&ids[1]).contains("first iteration below 1e-6"), "{out}");
    assert!(row(&ids[2]).contains("record") && row(&ids[2]).contains("unreadable"), "{out}");
    assert!(row(&ids[3]).contains("absent"), "{out}");
    assert!(row(&ids[4]).contains("unreadable"), "{out}");
    for id in &ids[5..] {
        assert!(!out.contains(id.as_str()), "{id} agrees but is listed: {out}");
    }
    // The excess differs by 1e-8: within --rtol 1e-7 only the other four remain.
    let o = linres(dir.path(), &["diff", "a", "b", "--rtol", "1e-7"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!text(&o).contains(ids[0].as_str()), "{}", text(&o));
}

/// Rewrites cell `column` of the row of `id` in the csv table at `path` with `edit` (None: drops
/// the row).
fn edit_summary(path: &Path, id: &str, column: &str, edit: impl Fn(&str) -> Option<String>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let j = header.iter().position(|c| c == column).unwrap_or_else(|| panic!("no column {column}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).unwrap();
    let mut found = false;
    for row in reader.records() {
        let mut row: Vec<String> = row.unwrap().iter().map(String::from).collect();
        if row[0] == id {
            found = true;
            match edit(&row[j]) {
                Some(v) => row[j] = v,
                None => continue,
            }
        }
        writer.write_record(&row).unwrap();
    }
    assert!(found, "no row {id}");
    std::fs::write(path, writer.into_inner().unwrap()).unwrap();
}

/// `make reproduce`: committed results hold only `<name>/summary.csv`; a fresh run beside them holds
/// records and tables. diff compares the tables row by row.
#[test]
fn diff_compares_summary_tables_when_a_side_holds_only_them() {
    let (ref_dir, recs) = reference();
    let dir = tempfile::tempdir().unwrap();
    let fresh = copy_reference(dir.path(), "fresh");
    let table = ref_dir.path().join("results/small/summary.csv");
    std::fs::copy(&table, fresh.join("small/summary.csv")).unwrap();
    let committed = dir.path().join("committed/small");
    std::fs::create_dir_all(&committed).unwrap();
    let committed_table = committed.join("summary.csv");
    let reset = || std::fs::copy(&table, &committed_table).unwrap();
    reset();
    for args in [
        ["diff", "committed", "fresh"],
        ["diff", "fresh", "committed"],
        ["diff", "committed", "committed"],
        ["diff", "committed/small", "fresh/small"],
    ] {
        let o = linres(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(&format!("agree: {RUNS} runs compared")), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("kernels"), "{}", text(&o));
    }
    let id = &recs[3].0;
    let scale = |factor: f64| move |v: &str| Some((v.parse::<f64>().unwrap() * factor).to_string());
    // A theory quantity off by a relative 1e-7: beyond the default 1e-9, within 1e-6.
    edit_summary(&committed_table, id, "sigma_max", scale(1.0 + 1e-7));
    let o = linres(dir.path(), &["diff", "committed", "fresh"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    let line = out.lines().find(|l| l.contains(id.as_str())).unwrap_or_else(|| panic!("no row for {id}: {out}"));
    assert!(line.starts_with("small ") && line.contains("sigma_max (relative 1.0e-7)"), "{out}");
    assert!(out.contains("1 difference(s)"), "{out}");
    let o = linres(dir.path(), &["diff", "committed", "fresh", "--rtol", "1e-6"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // An iteration count is compared exactly, whatever the tolerance.
    reset();
    edit_summary(&committed_table, id, "final_iter", |v| Some((v.parse::<u64>().unwrap() + 1).to_string()));
    let o = linres(dir.path(), &["diff", "committed", "fresh", "--rtol", "0.5"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).lines().any(|l| l.contains(id.as_str()) && l.contains("final_iter")), "{}", text(&o));
    // A missing row, and a missing table.
    reset();
    edit_summary(&committed_table, id, "status", |_| None);
    let o = linres(dir.path(), &["diff", "committed", "fresh"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    let line = out.lines().find(|l| l.contains(id.as_str())).unwrap_or_else(|| panic!("no row for {id}: {out}"));
    assert!(line.contains("row") && line.contains("absent") && line.contains("done"), "{out}");
    assert!(out.contains(&format!("{} runs on both sides", RUNS - 1)), "{out}");
    std::fs::remove_file(fresh.join("small/summary.csv")).unwrap();
    let o = linres(dir.path(), &["diff", "committed", "fresh"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).lines().any(|l| l.contains("summary.csv") && l.contains("absent")), "{}", text(&o));
}

#[test]
fn diff_says_when_the_sides_ran_on_different_openblas_kernels() {
    let dir = tempfile::tempdir().unwrap();
    copy_reference(dir.path(), "a");
    let b = copy_reference(dir.path(), "b");
    for (id, _) in records_in(&b.join("small/runs")) {
        tamper(&common::record_file(&b.join("small/runs"), &id), |v| {
            v["provenance"]["openblas_config"] =
                Value::from("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Elbrus MAX_THREADS=64");
        });
    }
    let o = linres(dir.path(), &["diff", "a", "b"]);
    // The kernels are informative: the records still agree.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("different OpenBLAS kernels"), "{}", text(&o));
    assert!(text(&o).contains(&format!("Elbrus (OpenBLAS 0.3.21): {RUNS}")), "{}", text(&o));
}

#[test]
fn bad_diff_arguments_exit_2_naming_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    copy_reference(dir.path(), "a");
    for (args, names) in [
        (vec!["diff", "a", "nowhere"], "B: `nowhere` is not a directory"),
        (vec!["diff", "nowhere", "a"], "A: `nowhere` is not a directory"),
        (vec!["diff", "a", "a/small"], "same kind"),
        (vec!["diff", "a", "a", "--rtol", "nan"], "--rtol"),
    ] {
        let o = linres(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(names), "{args:?}: {}", text(&o));
    }
}

#[test]
fn tables_only_writes_the_tables_of_what_is_cached_and_computes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    shard_into(dir.path(), 0, 2);
    let results = dir.path().join("machine0");
    let cached = record_count(&results.join("small/runs"));
    let o = linres(dir.path(), &["run", "small.yaml", "--results", "machine0", "--tables-only"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(record_count(&results.join("small/runs")), cached, "--tables-only computed runs");
    assert_eq!(summary_without_seconds(&results.join("small/summary.csv")).len(), cached);
}

#[test]
fn slurm_writes_two_scripts_that_bash_reads() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let o = linres(
        dir.path(),
        &["slurm", "small.yaml", "--tasks", "5", "--time", "0:10:00", "--sbatch-arg", "--qos=short"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let slurm = dir.path().join("results/small/slurm");
    for script in ["array.sbatch", "finalize.sbatch"] {
        let path = slurm.join(script);
        let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(check.status.success(), "{script}: {}", String::from_utf8_lossy(&check.stderr));
        assert!(std::fs::read_to_string(&path).unwrap().contains("#SBATCH --qos=short"));
    }
    let array = std::fs::read_to_string(slurm.join("array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-4") && array.contains("--shard \"$SLURM_ARRAY_TASK_ID/5\""), "{array}");
    assert!(slurm.join("logs").is_dir(), "sbatch does not create the log directory");
    // Nothing was computed or submitted.
    assert_eq!(record_count(&dir.path().join("results/small/runs")), 0);
}

#[test]
fn bad_slurm_arguments_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    for (args, flag) in [
        (vec!["slurm", "small.yaml", "--tasks", "0"], "--tasks"),
        (vec!["slurm", "small.yaml", "--tasks", "x"], "--tasks"),
        (vec!["slurm", "small.yaml", "--tasks", "2", "--cpus-per-task", "0"], "--cpus-per-task"),
        (vec!["slurm", "small.yaml", "--tasks", "2", "--time", "1:00\n#SBATCH --mem=1T"], "--time"),
        (vec!["slurm", "small.yaml", "--tasks", "2", "--sbatch-arg", "qos=long"], "--sbatch-arg"),
        (vec!["slurm", "small.yaml", "--tasks", "2", "--wait"], "--submit"),
        (vec!["slurm", "missing.yaml", "--tasks", "2"], "missing.yaml"),
    ] {
        let o = linres(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(flag), "{args:?}: {}", text(&o));
    }
    assert!(!dir.path().join("results").exists());
}

#[test]
fn status_counts_runs_claimed_by_a_live_process_as_running() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    shard_into(dir.path(), 0, 2);
    let results = dir.path().join("machine0");
    let cached = record_count(&results.join("small/runs"));
    // This process claims two runs without a result, as a running `linres run` does.
    let grid = linres::grid::Spec::load(&dir.path().join("small.yaml"), &[]).unwrap().expand().unwrap();
    let store = linres::store::Store::new(&results, "small");
    let missing: Vec<String> =
        grid.iter().map(|r| r.run.id()).filter(|id| !store.record_path(id).exists()).take(2).collect();
    let claims: Vec<_> = missing.iter().map(|id| store.claim(id).unwrap().unwrap()).collect();
    let status = |dir: &Path| text(&linres(dir, &["status", "small.yaml", "--results", "machine0"]));
    let out = status(dir.path());
    let want = format!("{cached} cached (0 diverged), 0 failed, 2 running, {} missing", RUNS - cached - 2);
    assert!(out.contains(&want), "{out}");
    drop(claims);
    let out = status(dir.path());
    assert!(out.contains(&format!("0 running, {} missing", RUNS - cached)), "{out}");
}

#[test]
fn slurm_scripts_with_hostile_bytes_in_every_path_and_option_run_nothing_but_linres() {
    // Shell syntax everywhere it can be written: quoted in commands, inert in #SBATCH lines.
    let payload = "'\"$(touch canary);`touch canary`;touch canary #";
    let bin = format!("b i{payload}n");
    let spec = format!("s p{payload}ec");
    let set = format!("data.noise=0.25 # {payload}");
    let accepted = SlurmCase::new(
        &bin,
        &spec,
        "work$(touch${IFS}canary);x",
        &[
            "--results",
            "res$(touch${IFS}canary)|x>y",
            "--set",
            &set,
            "--filter",
            "model.width=6,8",
            "--time",
            "1:00$(touch${IFS}canary)",
            "--partition",
            "p;touch${IFS}canary",
            "--mem",
            "4G|touch${IFS}canary",
            "--sbatch-arg",
            "--comment=`touch${IFS}canary`",
        ],
    );
    accepted.run().unwrap_or_else(|e| panic!("refused: {e}"));

    // What cannot be written into an #SBATCH line or onto one line of a script: exit 2 naming it.
    let at = |bin: &str, spec: &str, work: &str| SlurmCase::new(bin, spec, work, &[]);
    let with = |flag: &str, value: &str| SlurmCase::new("bin", "spec", "work", &[flag, value]);
    let cases = [
        (with("--results", "res\ntouch canary\n"), "--results"),
        (with("--results", "res\rx"), "--results"),
        (with("--results", "re s"), "--results"),
        (with("--results", "res%j"), "--results"),
        (with("--results", "res#x"), "--results"),
        (with("--results", "res'x"), "--results"),
        (with("--results", "res\\x"), "--results"),
        (with("--results", "res\u{1b}[2Jx"), "--results"),
        (at("bin", "spec", "work\ntouch canary"), "the working directory"),
        (at("bin", "spec", "wo rk"), "the working directory"),
        (at("bin", "spec\ntouch canary\n", "work"), "SPEC"),
        (at("bin\ntouch canary\n", "spec", "work"), "the linres binary"),
        (with("--set", "data.noise=0.25\ntouch canary"), "--set"),
        (with("--filter", "model.width=6\ttouch"), "--filter"),
        (with("--time", "1:00\ntouch canary"), "--time"),
        (with("--time", "1:00 --uid=0"), "--time"),
        (with("--partition", "p\"x"), "--partition"),
        (with("--mem", "4G\r"), "--mem"),
        (with("--sbatch-arg", "--qos=a\n#SBATCH --uid=0"), "--sbatch-arg"),
        (with("--sbatch-arg", "--qos=a --uid=0"), "--sbatch-arg"),
    ];
    for (case, named) in cases {
        let err = case.run().err().unwrap_or_else(|| panic!("{case:?} accepted"));
        assert!(err.contains(&format!("error: {named}")), "{case:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "the error is one line: {err}");
    }
}

/// A shard count far above the number of runs: the parts from the 25th on are empty, and none of
/// them costs memory or time (before: a 1.6 TB allocation and an abort, a capacity overflow panic,
/// and 6 s and 1.6 GB for 10⁸ parts of 24 runs).
#[test]
fn huge_shard_counts_are_empty_shards_computed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let limit = std::time::Duration::from_secs(20);
    for (shard, runs) in [
        ("0/100000000000", 1),
        ("0/18446744073709551615", 1),
        ("3/100000000", 1),
        ("3/1000000000", 1),
        ("30/1000000000", 0),
    ] {
        let start = std::time::Instant::now();
        let o = common::linres_within(dir.path(), &["run", "small.yaml", "--shard", shard, "--jobs", "1"], limit);
        assert!(o.status.success(), "{shard}: {}", text(&o));
        assert!(text(&o).contains(&format!("shard {shard}: {runs} of {RUNS} runs")), "{shard}: {}", text(&o));
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{shard}: {:?}", start.elapsed());
    }
    // Parts 0 and 3 hold one run each (part 0 of every count the same one); part 30 none.
    assert_eq!(record_count(&dir.path().join("results/small/runs")), 2);
}

/// `--tasks` and `--cpus-per-task` are bounded whether the scripts are only written or submitted;
/// a submission of the most tasks SLURM allows submits only the tasks that hold runs, at once.
#[test]
fn slurm_task_and_cpu_counts_are_bounded_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let limit = std::time::Duration::from_secs(20);
    for mode in [&[][..], &["--submit"][..]] {
        for (flag, value, rule) in [
            ("--tasks", "1000000000000", "from 1 to 4000001"),
            ("--tasks", "4000002", "MaxArraySize"),
            ("--cpus-per-task", "1025", "from 1 to 1024"),
        ] {
            let mut args = vec!["slurm", "small.yaml", flag, value];
            if flag != "--tasks" {
                args.extend(["--tasks", "2"]);
            }
            args.extend(mode);
            let o = common::linres_within(dir.path(), &args, limit);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
            assert!(text(&o).contains(&format!("error: {flag}: {value}")) && text(&o).contains(rule), "{}", text(&o));
        }
    }
    assert!(!dir.path().join("results").exists(), "a refused command wrote the scripts");
    // The largest count is written as it is, and submitted (to a stand-in sbatch) as the 24 tasks
    // that hold runs.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake_sbatch(&bin);
    let o = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir.path())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args(["slurm", "small.yaml", "--tasks", "4000001", "--submit"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("(24 of 4000001 tasks hold missing runs)"), "{}", text(&o));
    let array = std::fs::read_to_string(dir.path().join("results/small/slurm/array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-4000000\n"), "{array}");
    let calls = std::fs::read_to_string(bin.join("calls")).unwrap();
    assert!(calls.lines().next().unwrap().contains("--array=0-23 "), "{calls}");
}

/// An `sbatch` in `bin` that records each call's arguments (one line per call in `bin/calls`)
/// and answers with a job id.
fn fake_sbatch(bin: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!("#!/bin/bash\necho \"$*\" >> '{}'\necho 4242\n", bin.join("calls").display());
    std::fs::write(bin.join("sbatch"), script).unwrap();
    std::fs::set_permissions(bin.join("sbatch"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn submitting_without_sbatch_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path());
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir.path())
        .env("PATH", empty.path())
        .args(["slurm", "small.yaml", "--tasks", "2", "--submit"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot run `sbatch") && err.contains("is this a SLURM submission host?"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "the cause is said once: {err}");
}

/// Under an address-space limit (as on shared login nodes) `--jobs 200` runs on as many threads as
/// fit (before: a panic when the pool could not start its threads, and past the pool, a hang in
/// OpenBLAS, which retries a buffer it cannot map forever); where not even one fits, a clear error.
#[test]
fn under_an_address_space_limit_a_grid_runs_on_fewer_threads_or_says_why_not() {
    let Some(prlimit) = common::outside(common::Tool::Prlimit) else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = "name: many\nmaster_seed: 1\nseeds: 100\ndata: {kind: paper, d: 3, n: 9}\n\
                model: {arch: resnet, depth: [2, 3], width: [6, 8, 10, 12]}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n";
    std::fs::write(dir.path().join("many.yaml"), spec).unwrap();
    let under = |bytes: &str| {
        let mut c = Command::new(prlimit);
        c.current_dir(dir.path()).arg(format!("--as={bytes}")).args([
            env!("CARGO_BIN_EXE_linres"),
            "run",
            "many.yaml",
            "--jobs",
            "200",
        ]);
        let (o, hung) = common::finish_within(c, std::time::Duration::from_secs(120)).unwrap();
        assert!(!hung, "a hang under --as={bytes}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
        o
    };
    let o = under("1000000000");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the system would not start 200 threads"), "{}", text(&o));
    assert!(text(&o).contains("800 runs: 800 computed"), "{}", text(&o));
    assert_eq!(record_count(&dir.path().join("results/many/runs")), 800);
    std::fs::remove_dir_all(dir.path().join("results")).unwrap();
    let o = under("300000000");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("cannot start a thread to run the grid on: the address-space limit"), "{}", text(&o));
}

#[test]
fn merge_refuses_sources_and_a_destination_of_different_kinds_and_ambiguous_directories() {
    let dir = tempfile::tempdir().unwrap();
    let src = copy_reference(dir.path(), "src");
    copy_reference(dir.path(), "dst");
    let before = snapshot(&src);
    for (args, named, what) in [
        // An experiment's directory into the results directory holding it: would write src/runs/.
        (["merge", "src/small", "--into", "src"], "--into", "`src` is a results directory"),
        // A results directory into an experiment's directory.
        (["merge", "src", "--into", "dst/small"], "--into", "`dst/small` is one experiment's directory"),
    ] {
        let o = linres(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(&format!("error: {named}: {what}")), "{args:?}: {}", text(&o));
    }
    assert_eq!(snapshot(&src), before, "a refused merge wrote");
    assert!(!src.join("runs").exists() && !dir.path().join("dst/small/small").exists());
    // Committed results (tables only) are a results directory too.
    std::fs::create_dir_all(dir.path().join("committed/small")).unwrap();
    std::fs::write(dir.path().join("committed/small/summary.csv"), "id\n").unwrap();
    let o = linres(dir.path(), &["merge", "src/small", "--into", "committed"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`committed` is a results directory"), "{}", text(&o));
    // A directory that is both (what the first merge used to leave) is refused wherever it is read:
    // before, `merge` took it for one experiment and dropped the others.
    let (_, record) = first_record(&src);
    std::fs::create_dir_all(src.join("runs")).unwrap();
    std::fs::copy(&record, src.join("runs").join(record.file_name().unwrap())).unwrap();
    for args in [&["merge", "src", "--into", "new"][..], &["diff", "src", "dst"][..]] {
        let o = linres(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("is both one experiment's directory") && text(&o).contains("small/"), "{}", text(&o));
    }
    assert!(!dir.path().join("new").exists());
    // Experiments' directories merge into an empty or new directory, results directories into one.
    std::fs::remove_dir_all(src.join("runs")).unwrap();
    let o = linres(dir.path(), &["merge", "src/small", "--into", "fresh"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(record_count(&dir.path().join("fresh/runs")), RUNS);
}

#[test]
fn a_corrupt_source_record_is_reported_as_corrupt_with_why() {
    let dir = tempfile::tempdir().unwrap();
    copy_reference(dir.path(), "dst");
    let src = copy_reference(dir.path(), "src");
    let (id, path) = first_record(&src);
    std::fs::write(&path, b"{ truncated").unwrap();
    let o = linres(dir.path(), &["merge", "src", "--into", "dst"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    let row = out.lines().find(|l| l.contains(&id)).unwrap_or_else(|| panic!("no row for {id}: {out}"));
    assert!(row.contains("corrupt source record") && row.contains("not a record"), "{row}");
    assert!(out.contains("error: SRC, --into: 1 corrupt record(s)"), "{out}");
    assert!(!out.contains("between records of the same run"), "not a disagreement: {out}");
}

/// An experiment file outside `--experiments` (default `experiments/`): the merge names the
/// `--spec` flag when it cannot find the file, and rewrites the tables from the file `--spec`
/// gives, as a local run writes them.
#[test]
fn a_merge_rewrites_the_tables_from_the_spec_flag_and_names_it_when_the_file_is_elsewhere() {
    let (ref_dir, _) = reference();
    let dir = tempfile::tempdir().unwrap();
    copy_reference(dir.path(), "src");
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    spec_in(&dir.path().join("elsewhere"));
    let o = linres(dir.path(), &["merge", "src", "--into", "dst"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("tables not rewritten") && text(&o).contains("--spec FILE"), "{}", text(&o));
    assert!(!dir.path().join("dst/small/summary.csv").exists());
    let o = linres(dir.path(), &["merge", "src", "--into", "dst2", "--spec", "elsewhere/small.yaml"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("tables rewritten from elsewhere/small.yaml"), "{}", text(&o));
    assert_eq!(
        summary_without_seconds(&dir.path().join("dst2/small/summary.csv")),
        summary_without_seconds(&ref_dir.path().join("results/small/summary.csv"))
    );
}

#[test]
fn a_bad_spec_flag_of_merge_exits_2_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_reference(d, "src");
    spec_in(d);
    std::fs::write(d.join("other.yaml"), GRID.replace("name: small", "name: other")).unwrap();
    std::fs::write(d.join("broken.yaml"), "name: small\nmodel: [\n").unwrap();
    for (extra, names) in [
        (&["--spec", "other.yaml"][..], "experiment `other` is not among the merged experiments (small)"),
        (&["--spec", "missing.yaml"][..], "--spec missing.yaml"),
        (&["--spec", "broken.yaml"][..], "--spec broken.yaml"),
        (&["--spec", "small.yaml", "--spec", "./small.yaml"][..], "experiment `small` is given twice"),
    ] {
        let mut args = vec!["merge", "src", "--into", "dst"];
        args.extend(extra);
        let o = linres(d, &args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains(names), "{extra:?}: {}", text(&o));
        assert!(!d.join("dst").exists(), "{extra:?} wrote the destination");
    }
}
