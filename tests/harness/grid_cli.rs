//! The grid commands driven through the binary: --jobs independence, crash safety under SIGKILL,
//! concurrent processes on one results directory, bad experiment files, exports.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::linres;
use linres::store::{Lookup, Store};
use serde_json::Value;

/// Ten runs of about half a second each (dense engine, so they take measurable time).
const SLOW: &str = "name: slow
master_seed: 3
seeds: 10
data:  {kind: paper, d: 10, n: 1000}
model: {arch: resnet, depth: 8, width: 64, transform: gaussian}
optim: {method: gd, iters: 100, step: {rule: zou, scale: 1.0}}
engine: dense
log:   {points: 20}
";

fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every record of `results/slow`, keyed by id, without timing and provenance.
fn records(dir: &Path) -> Vec<(String, Value)> {
    common::records_in(&dir.join("results/slow/runs"))
}

/// The reference: an uninterrupted `--jobs 1` run of SLOW.
fn reference() -> &'static (tempfile::TempDir, Vec<(String, Value)>) {
    static REF: OnceLock<(tempfile::TempDir, Vec<(String, Value)>)> = OnceLock::new();
    REF.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        write_spec(dir.path(), "slow.yaml", SLOW);
        let o = linres(dir.path(), &["run", "slow.yaml", "--jobs", "1", "--quiet"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let recs = records(dir.path());
        assert_eq!(recs.len(), 10);
        (dir, recs)
    })
}

fn computed_count(stderr: &str) -> usize {
    let line = stderr.lines().find(|l| l.contains(" computed (")).unwrap_or_else(|| panic!("no summary in: {stderr}"));
    line.split(" runs: ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn records_are_identical_for_any_number_of_jobs() {
    let (_, reference) = reference();
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), "slow.yaml", SLOW);
    let o = linres(dir.path(), &["run", "slow.yaml", "--jobs", "2"]);
    assert!(o.status.success());
    common::assert_same_records(&records(dir.path()), reference);
}

#[test]
fn sigkill_mid_run_leaves_only_complete_records_and_the_rerun_fills_the_gaps() {
    let (_, reference) = reference();
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), "slow.yaml", SLOW);
    let mut child = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir.path())
        .args(["run", "slow.yaml", "--jobs", "2", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let runs = dir.path().join("results/slow/runs");
    let start = Instant::now();
    let count = || common::record_files(&runs).len();
    while count() < 3 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = count();
    assert!((3..10).contains(&before), "killed after {before} records: the kill must land mid-grid");
    // Whatever is on disk is either a complete record or nothing.
    let store = Store::new(&dir.path().join("results"), "slow");
    for (id, _) in records(dir.path()) {
        assert!(matches!(store.read(&id), Lookup::Found(_)), "record {id} is incomplete");
    }
    let o = linres(dir.path(), &["run", "slow.yaml", "--jobs", "2"]);
    assert!(o.status.success());
    assert_eq!(computed_count(&String::from_utf8_lossy(&o.stderr)), 10 - before, "only the missing runs are computed");
    common::assert_same_records(&records(dir.path()), reference);
}

/// SIGTERM (what a scheduler sends before SIGKILL) or SIGINT mid-grid: no new run starts, the runs
/// in progress stop without a record, claims are released, the tables of what finished are
/// written, and the process exits promptly with 128 + the signal number.
#[test]
fn sigterm_and_sigint_stop_the_grid_save_what_finished_and_exit_with_128_plus_signal() {
    let (_, reference) = reference();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        write_spec(dir.path(), "slow.yaml", SLOW);
        let mut child = Command::new(env!("CARGO_BIN_EXE_linres"))
            .current_dir(dir.path())
            .args(["run", "slow.yaml", "--jobs", "2", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let runs = dir.path().join("results/slow/runs");
        let count = || common::record_files(&runs).len();
        let start = Instant::now();
        while count() < 2 && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = Instant::now();
        let kill = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        let took = sent.elapsed();
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(took < Duration::from_secs(5), "SIG{signal}: exit took {took:?}: the runs in progress must stop");
        assert!(stderr.contains("stopped with"), "SIG{signal}: says what happened: {stderr}");
        let before = count();
        assert!((2..10).contains(&before), "SIG{signal} after {before} records: it must land mid-grid");
        // Claims are released (no lock file left) and the tables list exactly the finished runs.
        let locks: Vec<_> = Store::new(&dir.path().join("results"), "slow").leftovers();
        assert!(locks.is_empty(), "SIG{signal}: claim files left: {locks:?}");
        let summary = std::fs::read_to_string(dir.path().join("results/slow/summary.csv")).unwrap();
        assert_eq!(summary.lines().count(), 1 + before, "SIG{signal}: summary.csv holds the finished runs");
        let store = Store::new(&dir.path().join("results"), "slow");
        for (id, _) in records(dir.path()) {
            assert!(matches!(store.read(&id), Lookup::Found(_)), "record {id} is incomplete");
        }
        let o = linres(dir.path(), &["run", "slow.yaml", "--jobs", "2"]);
        assert!(o.status.success());
        assert_eq!(computed_count(&String::from_utf8_lossy(&o.stderr)), 10 - before);
        common::assert_same_records(&records(dir.path()), reference);
    }
}

#[test]
fn two_processes_on_one_directory_compute_each_run_once_and_corrupt_nothing() {
    let (_, reference) = reference();
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), "slow.yaml", SLOW);
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_linres"))
            .current_dir(dir.path())
            .args(["run", "slow.yaml", "--jobs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let (ea, eb) = (String::from_utf8_lossy(&a.stderr), String::from_utf8_lossy(&b.stderr));
    assert_eq!(computed_count(&ea) + computed_count(&eb), 10, "{ea}\n{eb}");
    common::assert_same_records(&records(dir.path()), reference);
    // The tables of the last process to finish hold every run.
    let csv = std::fs::read_to_string(dir.path().join("results/slow/summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 11);
}

#[test]
fn bad_experiment_files_exit_2_with_file_line_field_and_rule_and_write_nothing() {
    let cases: &[(&str, &str)] = &[
        ("name: x\nmodel: [1, 2\n", "bad.yaml:"),
        ("name: x\nmaster_seed: 1\nfigure: 3\n", "bad.yaml:3:1: figure: unknown key `figure`"),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: 8, colour: red}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml:3:43: model.colour: unknown field `colour`",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: two, width: 8}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml:3:23: model.depth: invalid type: string \"two\"",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: []}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml:3:33: model.width: empty list",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: [8, 5], transform: modified_identity}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml:3:44: model.width: modified_identity needs m ≥ d + k = 6, got m = 5",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, width: 8}\noptim: {method: gd, step: {rule: zou}}\nzip:\n  - {model.depth: [1, 2], optim.iters: [3]}\n",
            "bad.yaml:6:27: zip[0].optim.iters: has 1 values but the group's first entry has 2",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: [1, 2], width: 8}\noptim: {method: gd, iters: 3, step: {rule: zou}}\nzip:\n  - {model.depth: [1, 2]}\n",
            "bad.yaml:6:6: model.depth: is listed both in a zip group and elsewhere in the grid",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9, noise: .inf}\nmodel: {arch: resnet, depth: 2, width: 8}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml:2:33: data.noise: must be a finite number, got inf",
        ),
        ("name: x\nseeds: 0\n", "bad.yaml:2:1: seeds: a seed count must be an integer from 1 to 1000000, got 0"),
        ("name: ../x\n", "bad.yaml:1:1: name: `../x` must be a non-empty directory name"),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: [[8]]}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml:3:41: model.width[0]: nested lists are not supported",
        ),
        (
            "name: x\ndata: {kind: paper, d: 3, n: 9}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n",
            "bad.yaml: missing field `model`",
        ),
    ];
    for (text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_spec(dir.path(), "bad.yaml", text);
        for cmd in ["run", "list", "theory"] {
            let o = linres(dir.path(), &[cmd, "bad.yaml"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} on:\n{text}\n{err}");
            assert!(err.contains(expected), "{cmd}: expected `{expected}` in: {err}");
        }
        assert!(!dir.path().join("results").exists(), "nothing may be written for:\n{text}");
    }
}

#[test]
fn list_status_theory_and_clean_report_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        "g.yaml",
        "name: g\nmaster_seed: 1\ndata: {kind: paper, d: 3, n: 20}\nmodel: {arch: resnet, depth: 2, width: [6, 8], transform: gaussian}\noptim: {method: gd, iters: 30, step: {rule: zou}}\n",
    );
    let out = |args: &[&str]| {
        let o = linres(dir.path(), args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let list = out(&["list", "g.yaml"]);
    assert_eq!(list.matches(" missing ").count(), 2, "{list}");
    let resolved = out(&["list", "g.yaml", "--resolved", "--filter", "model.width=8"]);
    for field in ["noise: 0.1", "schedule: geometric", "points: 200", "engine: auto", "init_std: 0.0"] {
        assert!(resolved.contains(field), "`{field}` missing from:\n{resolved}");
    }
    // Derived defaults (σ_A² = 1/m) stay derived: editing the width changes them with it.
    assert!(!resolved.contains("sigma_a2"), "{resolved}");
    assert_eq!(resolved.matches("---").count(), 1);
    let theory = out(&["theory", "g.yaml"]);
    assert!(theory.contains("zou margin") && theory.lines().count() == 3, "{theory}");
    let json: Value = serde_json::from_str(&out(&["theory", "g.yaml", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert!(json[0]["theory"]["zou"]["eta_bracket"].as_f64().unwrap() > 0.0);
    out(&["run", "g.yaml", "--quiet"]);
    assert_eq!(out(&["list", "g.yaml"]).matches(" cached ").count(), 2);
    assert!(out(&["status", "g.yaml"]).contains("g: 2 runs: 2 cached (0 diverged), 0 failed, 0 running, 0 missing"));
    assert!(out(&["status"]).contains("g: 2 done"));
    // Files a killed process leaves behind are reported, and removed by `clean`.
    let runs = dir.path().join("results/g/runs");
    std::fs::write(runs.join(".0123456789abcdef.lock"), b"").unwrap();
    std::fs::write(runs.join(".x.json.99.0.tmp"), b"{").unwrap();
    assert!(out(&["status", "g.yaml"]).contains("2 file(s) left by interrupted processes"));
    assert!(out(&["clean", "g.yaml"]).contains("removed 2 record(s)"));
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 0, "clean leaves nothing behind");
    assert_eq!(out(&["list", "g.yaml"]).matches(" missing ").count(), 2);
    assert!(!dir.path().join("results/g/summary.csv").exists());
}

/// `run --dry-run` computes nothing and says what a `run` would do: the runs it would compute
/// (missing, failed, corrupt; all of them with --force), those it would take from the cache, and a
/// work estimate that is zero exactly when nothing is computed.
#[test]
fn a_dry_run_says_what_a_run_would_compute_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.yaml"), crate::common::small_grid("tiny")).unwrap();
    let o = crate::common::linres(d, &["run", "t.yaml", "--filter", "model.width=6", "-q"]);
    assert!(o.status.success(), "{}", crate::common::text(&o));
    let before = crate::common::tree(&d.join("results"));
    let dry = |extra: &[&str]| {
        let mut args = vec!["run", "t.yaml", "--dry-run"];
        args.extend(extra);
        let o = crate::common::linres(d, &args);
        assert!(o.status.success(), "{}", crate::common::text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let out = dry(&[]);
    assert!(out.contains("tiny: 4 runs: 2 cached (0 diverged), 0 failed, 0 running, 2 missing, 0 corrupt"), "{out}");
    assert!(out.contains("would compute 2 (2 missing, 0 failed, 0 corrupt), take 2 from the cache"), "{out}");
    assert!(!out.contains("estimated work 0 multiply-adds"), "{out}");
    let cached = dry(&["--filter", "model.width=6"]);
    assert!(cached.contains("would compute 0 (") && cached.contains("estimated work 0 multiply-adds"), "{cached}");
    assert!(dry(&["--force"]).contains("would compute 4 (--force: every selected run), take 0"));
    assert_eq!(crate::common::tree(&d.join("results")), before, "a dry run writes nothing");
}

/// A grid with one κ and a figure that names only the width: `--set` adding a κ axis would make
/// the figure pool κ.
const ONE_KAPPA: &str = "name: k\nmaster_seed: 1\ndata: {kind: spectrum, d: 4, k: 2, n: 30, noise: 0.0, kappa: 2}\n\
model: {arch: resnet, depth: 2, width: [8, 16], transform: gaussian}\noptim: {method: gd, iters: 5, step: {rule: zou}}\n\
figures:\n  - {name: c, kind: curves, title: t, series: model.width}\n  \
- {name: by_kappa, kind: curves, title: t, series: model.width, facets: data.kappa}\n";

/// `run --set` that adds an axis a declared figure would pool is refused with a pointer to
/// `--no-figures`; with it the runs are computed and the figure is named as left out (the one that
/// names κ is kept); a command without the flag (`list`) and `plot` of a file with the axis
/// still refuse the figure, without pointing at a flag they do not take.
#[test]
fn run_no_figures_runs_a_grid_a_figure_would_pool_and_names_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_spec(d, "k.yaml", ONE_KAPPA);
    let set = ["--set", "data.kappa=[2, 4]"];
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "k.yaml"];
        args.extend(set);
        args.extend(extra);
        linres(d, &args)
    };
    let o = run(&[]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("figure `c` pools runs that differ in `data.kappa` (2, 4)"), "{err}");
    assert!(err.contains("--no-figures"), "the refusal names the flag: {err}");
    assert!(!d.join("results").exists());
    let o = run(&["--no-figures"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("--no-figures: figure `c` left out") && err.contains("pools runs"), "{err}");
    assert!(!err.contains("figure `by_kappa` left out"), "{err}");
    assert_eq!(common::record_files(&d.join("results/k/runs")).len(), 4, "2 widths × 2 κ");
    // Commands that do not offer the flag refuse as before, without naming it.
    let mut list = vec!["list", "k.yaml"];
    list.extend(set);
    for (what, o) in [
        ("list --set", linres(d, &list)),
        ("plot", {
            write_spec(d, "k2.yaml", &ONE_KAPPA.replace("kappa: 2}", "kappa: [2, 4]}"));
            linres(d, &["plot", "k2.yaml"])
        }),
    ] {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("figure `c` pools runs that differ in `data.kappa`"), "{what}: {err}");
        assert!(!err.contains("--no-figures"), "{what} does not take the flag: {err}");
    }
    assert!(!d.join("figures").exists());
}

/// The time `run --dry-run` prints is the estimated work at the rate it states on the cores it
/// states (checked with the printed, rounded numbers), said to be an upper bound exactly when a run
/// may stop early (`optim.stop_below`); nothing to compute, nothing to time.
#[test]
fn a_dry_run_prints_a_time_estimate_that_is_its_work_at_its_stated_rate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = crate::common::small_grid("tiny");
    write_spec(d, "t.yaml", &plain);
    write_spec(d, "s.yaml", &plain.replace("iters: 3,", "iters: 3, stop_below: 1.0e-3,"));
    let line = |spec: &str| {
        let o = linres(d, &["run", spec, "--dry-run", "-j", "1"]);
        assert!(o.status.success(), "{}", common::text(&o));
        let out = String::from_utf8(o.stdout).unwrap();
        out.lines().find(|l| l.contains(": time: ")).unwrap_or_else(|| panic!("no time line: {out}")).to_string()
    };
    let number_after = |text: &str, marker: &str| -> f64 {
        let rest = &text[text.find(marker).unwrap_or_else(|| panic!("no `{marker}` in {text}")) + marker.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap_or_else(|e| panic!("{marker}: {e}: {text}"))
    };
    for (spec, bound) in [("t.yaml", false), ("s.yaml", true)] {
        let t = line(spec);
        assert!(t.contains("an estimate") && t.contains("dgemm timed on this machine"), "{t}");
        assert!(t.contains("on 1 core(s)"), "{t}");
        assert_eq!(t.contains(": at most about "), bound, "{t}");
        assert_eq!(t.contains("optim.stop_below can only shorten it"), bound, "{t}");
        let work = number_after(&t, "estimated work ");
        let shown = number_after(&t, if bound { "at most about " } else { ": about " });
        let per_second = number_after(&t, "the cost model at ");
        // work 3 digits, rate 2 digits, seconds 2 digits: within 10 %.
        let seconds = work / per_second;
        assert!((shown / seconds - 1.0).abs() < 0.1, "{shown} s shown, {seconds} s = work / rate: {t}");
    }
    let o = linres(d, &["run", "t.yaml", "-q"]);
    assert!(o.status.success(), "{}", common::text(&o));
    assert!(line("t.yaml").ends_with("time: nothing to compute"), "{}", line("t.yaml"));
}

/// `run` says before the first run starts what the cost model estimates (an upper bound under
/// stop_below); with `-q` it says nothing.
#[test]
fn run_states_its_time_estimate_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let grid = crate::common::small_grid("tiny").replace("iters: 3,", "iters: 3, stop_below: 1.0e-3,");
    write_spec(d, "s.yaml", &grid);
    let o = linres(d, &["run", "s.yaml", "--filter", "model.width=6"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    let start = err.lines().find(|l| l.contains("run(s) without a record")).unwrap_or_else(|| panic!("{err}"));
    assert!(start.starts_with("tiny: 2 run(s) without a record: estimated work "), "{start}");
    assert!(start.contains("at most about") && start.contains("optim.stop_below can only shorten it"), "{start}");
    // Everything cached: nothing to estimate.
    let o = linres(d, &["run", "s.yaml", "--filter", "model.width=6"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("without a record"), "{}", common::text(&o));
    let o = linres(d, &["run", "s.yaml", "-q"]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", common::text(&o));
}
