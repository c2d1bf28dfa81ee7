//! The commands that read and change a results directory, driven through the binary: `status`
//! and `list` (text and JSON), `clean` and its selections, `run` on odd results directories,
//! `--set` on grids and `check --readme`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{small_grid, texts};
use serde_json::Value;

/// Runs `args` in `dir` and returns stdout, asserting success.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = common::linres(dir, args);
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{args:?}: {err}");
    out
}

fn json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(dir, args)).unwrap()
}

/// A results directory of experiment `e` (small grid, every run computed).
fn computed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e.yaml"), small_grid("e")).unwrap();
    ok(dir.path(), &["run", "e.yaml", "-q"]);
    dir
}

fn records(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = common::record_files(&dir.join("results/e/runs"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_tampered_or_truncated_record_is_corrupt_never_a_result() {
    let dir = computed();
    let d = dir.path();
    let list = json(d, &["list", "e.yaml", "--json"]);
    let (a, b) = (list[0]["id"].as_str().unwrap().to_string(), list[1]["id"].as_str().unwrap().to_string());
    let runs = d.join("results/e/runs");
    let (file_a, file_b) = (common::record_file(&runs, &a), common::record_file(&runs, &b));
    let full = std::fs::read(&file_a).unwrap();
    std::fs::write(&file_a, &full[..full.len() / 2]).unwrap();
    let edited = String::from_utf8(std::fs::read(&file_b).unwrap()).unwrap();
    std::fs::write(&file_b, edited.replacen("\"status\": \"done\"", "\"status\": \"bogus\"", 1)).unwrap();

    let status = ok(d, &["status", "e.yaml"]);
    assert!(status.contains("e: 4 runs: 2 cached (0 diverged), 0 failed, 0 running, 0 missing, 2 corrupt"), "{status}");
    assert!(
        status.contains(&format!("corrupt {a}: ")) && status.contains(&format!("runs/{}/{a}.json", &a[..2])),
        "{status}"
    );
    assert!(status.contains("`linres clean e.yaml --corrupt` removes them"), "{status}");
    let s = json(d, &["status", "e.yaml", "--json"]);
    assert_eq!((s["cached"].as_u64(), s["corrupt"].as_u64(), s["missing"].as_u64()), (Some(2), Some(2), Some(0)));
    assert!(s["corrupt_records"][0]["file"].as_str().unwrap().ends_with(".json"));
    let list = json(d, &["list", "e.yaml", "--json"]);
    let states: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(states, ["corrupt", "corrupt", "cached", "cached"]);
    assert!(ok(d, &["status"]).contains("e: 2 corrupt, 2 done"));

    // The next run recomputes them (they are never results) …
    ok(d, &["run", "e.yaml", "-q"]);
    assert!(ok(d, &["status", "e.yaml"]).contains("4 cached"));
    // … and `clean --corrupt` removes corrupt records only.
    std::fs::write(&file_a, b"{").unwrap();
    let zero = common::record_file(&runs, "0000000000000000");
    std::fs::create_dir_all(zero.parent().unwrap()).unwrap();
    std::fs::write(&zero, b"not json").unwrap();
    let out = ok(d, &["clean", "e.yaml", "--corrupt"]);
    assert!(out.contains("removed 2 corrupt record(s)"), "{out}");
    assert_eq!(records(d).len(), 3);
    assert!(ok(d, &["status", "e.yaml"]).contains("3 cached (0 diverged), 0 failed, 0 running, 1 missing, 0 corrupt"));
}

#[test]
fn clean_stale_and_dry_run_remove_exactly_what_status_announced() {
    let dir = computed();
    let d = dir.path();
    // Narrow the grid: the width-8 runs are no longer in it.
    std::fs::write(d.join("e.yaml"), small_grid("e").replace("width: [6, 8]", "width: [6]")).unwrap();
    let status = ok(d, &["status", "e.yaml"]);
    assert!(
        status
            .contains("2 record(s) of runs no longer in this grid (kept; `linres clean e.yaml --stale` removes them)"),
        "{status}"
    );
    let before = records(d);
    let dry = ok(d, &["clean", "e.yaml", "--stale", "--dry-run"]);
    assert_eq!(dry.matches("would remove results/e/runs/").count(), 2, "{dry}");
    assert!(
        dry.contains("(record of a run no longer in the grid)") && dry.contains("nothing deleted (--dry-run)"),
        "{dry}"
    );
    assert_eq!(records(d), before, "--dry-run deletes nothing");
    let out = ok(d, &["clean", "e.yaml", "--stale"]);
    assert!(out.contains("removed 2 stale record(s)"), "{out}");
    assert_eq!(records(d).len(), 2);
    assert!(ok(d, &["status", "e.yaml"]).contains("e: 2 runs: 2 cached"));
    assert!(d.join("results/e/summary.csv").exists(), "--stale keeps the tables");
    // Leftovers are named with their own flag.
    std::fs::write(d.join("results/e/runs/.x.json.99.0.tmp"), b"{").unwrap();
    assert!(ok(d, &["status", "e.yaml"]).contains("`linres clean e.yaml --leftovers` removes them"));
    assert!(ok(d, &["clean", "e.yaml", "--leftovers"]).contains("removed 1 leftover file(s)"));
    assert_eq!(records(d).len(), 2);
    // Without a selection, everything goes.
    let out = ok(d, &["clean", "e.yaml"]);
    assert!(out.contains("removed 2 record(s), 4 table(s)"), "{out}");
}

#[test]
fn clean_deletes_nothing_while_a_run_works_on_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Eight dense runs of a fraction of a second each, one at a time.
    let slow = "name: e\nmaster_seed: 3\nseeds: 8\ndata: {kind: paper, d: 10, n: 1000}\n\
                model: {arch: resnet, depth: 8, width: 64}\noptim: {method: gd, iters: 60, step: {rule: zou}}\n\
                engine: dense\nlog: {points: 10}\n";
    std::fs::write(d.join("e.yaml"), slow).unwrap();
    let mut run = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(d)
        .args(["run", "e.yaml", "--jobs", "1", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !d.join("results/e/runs").exists() || records(d).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(60), "no record appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = common::linres(d, &["clean", "e.yaml"]);
    let (_, err) = texts(&o);
    let during = records(d);
    let finished_before_clean = run.try_wait().unwrap().is_some();
    let o_status = o.status.code();
    let status = run.wait().unwrap();
    assert!(status.success());
    assert_eq!(records(d).len(), 8, "every record of the live run survives");
    assert!(!finished_before_clean, "the run (about 4 s) ended before clean: make its runs slower");
    assert_eq!(o_status, Some(1), "{err}");
    assert!(err.contains("is in use by a running `linres run`: nothing deleted (kept"), "{err}");
    assert!(!during.is_empty());
    // Once the run has finished, clean works.
    assert!(ok(d, &["clean", "e.yaml"]).contains("removed 8 record(s)"));
}

#[test]
fn results_that_are_not_a_writable_directory_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("e.yaml"), small_grid("e")).unwrap();
    std::fs::write(d.join("file"), b"x").unwrap();
    for (args, path) in [
        (vec!["run", "e.yaml", "--results", "file"], "--results file: is not a directory"),
        (vec!["list", "e.yaml", "--results", "file"], "--results file: is not a directory"),
        (vec!["status", "--results", "file"], "--results file: is not a directory"),
        (vec!["clean", "e.yaml", "--results", "file"], "--results file: is not a directory"),
        (vec!["plot", "e.yaml", "--results", "file"], "--results file: is not a directory"),
        (vec!["run", "e.yaml", "--results", "file/sub"], "--results file/sub: cannot write the results of e there"),
        (vec!["run", "e.yaml", "--results", "/proc/linres"], "--results /proc/linres: cannot write the results of e"),
    ] {
        let o = common::linres(d, &args);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(path), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(d.join("file")).unwrap(), b"x");
}

#[test]
fn a_fully_cached_grid_writes_nothing() {
    let dir = computed();
    let d = dir.path();
    let summary = d.join("results/e/summary.csv");
    let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let before = (modified(&summary), modified(&d.join("results/e/runs.csv")));
    std::thread::sleep(Duration::from_millis(20));
    let o = common::linres(d, &["run", "e.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    assert!(texts(&o).1.contains("0 computed"), "{}", texts(&o).1);
    assert_eq!(
        (modified(&summary), modified(&d.join("results/e/runs.csv"))),
        before,
        "identical tables are not rewritten"
    );

    // In a read-only results directory it exits 0 …
    let linres = env!("CARGO_BIN_EXE_linres");
    let Some(o) = read_only(d, &d.join("results"), &format!("{linres} run e.yaml")) else { return };
    assert!(o.status.success(), "{}", texts(&o).1);
    assert!(texts(&o).1.contains("0 computed"), "{}", texts(&o).1);
    // … and with something to compute it is a user error naming the path.
    let o = read_only(d, &d.join("results"), &format!("{linres} run e.yaml --set optim.iters=4")).unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", texts(&o).1);
    assert!(texts(&o).1.contains("--results results: cannot write the results of e there"), "{}", texts(&o).1);
}

/// Runs the shell command `command` in `dir` while `read_only` cannot be written: by its
/// permissions, or (as root, whom permissions do not bind) under a read-only bind mount in a
/// private mount namespace. `None`, with a note, where neither is possible.
fn read_only(dir: &Path, read_only: &Path, command: &str) -> Option<std::process::Output> {
    use std::os::unix::fs::PermissionsExt;
    let tree: Vec<PathBuf> = walk(read_only);
    let set = |mode: u32| {
        for p in &tree {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    set(0o555);
    let binds = std::fs::File::create(read_only.join("probe")).is_err();
    let output = if binds {
        Some(Command::new("sh").current_dir(dir).args(["-c", command]).output().unwrap())
    } else {
        let _ = std::fs::remove_file(read_only.join("probe"));
        let ro = read_only.display();
        let script = format!("mount --bind {ro} {ro} && mount -o remount,ro,bind {ro} {ro} && {command}");
        let mounted = Command::new("unshare")
            .args(["-m", "sh", "-c", &format!("mount --bind {ro} {ro} && mount -o remount,ro,bind {ro} {ro}")])
            .output();
        if mounted.is_ok_and(|o| o.status.success()) {
            Some(Command::new("unshare").current_dir(dir).args(["-m", "sh", "-c", &script]).output().unwrap())
        } else {
            eprintln!("read-only part skipped: permissions do not bind and no mount namespace is available");
            None
        }
    };
    set(0o755);
    output
}

/// Every directory under `root`, `root` included.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    for e in std::fs::read_dir(root).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

#[test]
fn set_applies_to_every_run_of_a_grid_and_quiet_silences_progress() {
    let dir = computed();
    let d = dir.path();
    let base: Vec<String> = json(d, &["list", "e.yaml", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().into())
        .collect();
    let set = ["--set", "model.depth=3"];
    let list = json(d, &["list", "e.yaml", set[0], set[1], "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 4);
    for r in list.as_array().unwrap() {
        assert_eq!(r["status"], "missing");
        assert!(!base.contains(&r["id"].as_str().unwrap().to_string()), "a --set changes the run ids");
    }
    let o = common::linres(d, &["run", "e.yaml", set[0], set[1], "-q"]);
    assert!(o.status.success());
    assert_eq!(texts(&o), (String::new(), String::new()), "-q prints nothing");
    let resolved = ok(d, &["list", "e.yaml", set[0], set[1], "--resolved"]);
    assert_eq!(resolved.matches("depth: 3").count(), 4, "{resolved}");
    assert_eq!(resolved.matches("(cached: done)").count(), 4, "{resolved}");
    // `status` and `clean` take the same --set, and their hints repeat it.
    assert!(ok(d, &["status", "e.yaml", set[0], set[1]]).contains("4 cached"));
    let status = ok(d, &["status", "e.yaml"]);
    assert!(status.contains("4 record(s) of runs no longer in this grid"), "{status}");
    assert!(
        ok(d, &["status", "e.yaml", "--set", "model.width=[6]"])
            .contains("`linres clean e.yaml --set 'model.width=[6]' --stale`")
    );
    // A list value makes a new axis; a bad field names the flag.
    assert_eq!(json(d, &["list", "e.yaml", "--set", "model.depth=[2, 3, 4]", "--json"]).as_array().unwrap().len(), 12);
    let o = common::linres(d, &["run", "e.yaml", "--set", "model.depth=0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("--set: model.depth: must be at least 1, got 0"), "{}", texts(&o).1);
}

#[test]
fn status_without_a_spec_and_json() {
    let dir = computed();
    let d = dir.path();
    let all = json(d, &["status", "--json"]);
    assert_eq!(all[0]["name"], "e");
    assert_eq!(all[0]["records"]["done"], 4);
    let one = json(d, &["status", "e.yaml", "--json"]);
    assert_eq!((one["runs"].as_u64(), one["cached"].as_u64(), one["missing"].as_u64()), (Some(4), Some(4), Some(0)));
    let list = json(d, &["list", "e.yaml", "--json", "--filter", "model.width=8"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["params"]["model.width"], 8);
    assert_eq!(list[0]["result"], "done");
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(json(empty.path(), &["status", "--json"]), serde_json::json!([]));
}

#[test]
fn malformed_readme_markers_are_refused_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (begin, end) = ("<!-- checks:begin -->", "<!-- checks:end -->");
    let cases = [
        (format!("a\n{end}\nb\n{begin}\nc\n"), "before"),
        (format!("a\n{begin}\nb\n"), "has no `<!-- checks:end -->`"),
        ("a\nb\n".to_string(), "has no `<!-- checks:begin -->`"),
        (format!("{begin}\n{begin}\nx\n{end}\n"), "more than once"),
        (format!("{begin}\nx\n{end}\n{end}\n"), "more than once"),
    ];
    for (text, rule) in cases {
        std::fs::write(d.join("R.md"), &text).unwrap();
        let o = common::linres(d, &["check", "--experiments", ".", "--readme", "R.md"]);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains("--readme R.md: ") && err.contains(rule), "{err}");
        assert_eq!(std::fs::read_to_string(d.join("R.md")).unwrap(), text, "the file is untouched");
        assert!(!d.join("results").exists(), "nothing is written");
    }
    // Well-formed markers: the table replaces what was between them, once (an experiment with a
    // declared check gives it a row).
    std::fs::write(
        d.join("e.yaml"),
        "name: e\ndata: {kind: paper, d: 3, n: 20}\nmodel: {arch: resnet, depth: 2, width: 6}\n\
         optim: {method: gd, iters: 5, step: {rule: zou}}\n\
         checks: [{name: c, claim: converges, measure: final_rel_excess, test: {each: {at_most: 1}}}]\n",
    )
    .unwrap();
    std::fs::write(d.join("R.md"), format!("a\n{begin}\nold\n{end}\nb\n")).unwrap();
    for _ in 0..2 {
        common::linres(d, &["check", "--experiments", ".", "--readme", "R.md"]);
    }
    let text = std::fs::read_to_string(d.join("R.md")).unwrap();
    // The tables start with the heading of their first kind (claims here).
    assert!(text.starts_with(&format!("a\n{begin}\n**Claims")) && text.ends_with(&format!("{end}\nb\n")), "{text}");
    assert!(text.contains("\n| result | check | claim | measured | threshold |\n"), "{text}");
    assert!(!text.contains("\nold\n") && text.matches(begin).count() == 1, "{text}");
}

/// The documents of `list --resolved`: (the id its comment names, the document).
fn resolved_documents(text: &str) -> Vec<(String, String)> {
    text.split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            let id = d.strip_prefix("# run ").and_then(|r| r.split(' ').next()).expect("a `# run <id>` comment");
            (id.to_string(), format!("---\n{d}"))
        })
        .collect()
}

/// Trains a one-run file through the binary and returns the id of its record.
fn trained_id(dir: &Path, file: &str, text: &str) -> String {
    std::fs::write(dir.join(file), text).unwrap();
    let record = json(dir, &["train", file, "--json"]);
    record["id"].as_str().unwrap().to_string()
}

/// Grids whose runs cover the data kinds, both architectures, transformations with derived
/// defaults, SGD and every step rule.
const ROUND_TRIP: [&str; 2] = [
    "name: a\nseeds: 2\ndata: {kind: spectrum, d: 3, k: 2, n: 12, kappa: 4}\n\
     model: {arch: resnet, depth: 2, width: [6, 8], transform: [gaussian, modified_identity]}\n\
     optim: {method: gd, iters: 5, step: {rule: zou}}\n",
    "name: b\nmaster_seed: 7\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: linear, depth: 3, width: 5}\n\
     optim: {method: sgd, batch: 3, iters: 5, step: [{rule: du_hu}, {rule: fixed, eta: 0.001}]}\n",
];

#[test]
fn list_resolved_prints_one_run_files_that_train_gives_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut checked = 0;
    for (g, grid) in ROUND_TRIP.iter().enumerate() {
        std::fs::write(d.join("g.yaml"), grid).unwrap();
        let docs = resolved_documents(&ok(d, &["list", "g.yaml", "--resolved"]));
        assert_eq!(docs.len(), if g == 0 { 8 } else { 2 });
        for (i, (id, doc)) in docs.iter().enumerate() {
            assert_eq!(&trained_id(d, &format!("run{g}_{i}.yaml"), doc), id, "{doc}");
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
}

#[test]
fn an_edited_width_in_a_resolved_file_gives_the_grids_run_of_that_width() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("g.yaml"), ROUND_TRIP[0]).unwrap();
    let list = json(d, &["list", "g.yaml", "--json"]);
    let id_of = |width: u64, transform: &str, seed: u64| {
        let runs = list.as_array().unwrap();
        let run = runs.iter().find(|r| {
            r["params"]["model.width"] == width
                && r["params"]["model.transform"] == transform
                && r["params"]["seed"] == seed
        });
        run.unwrap()["id"].as_str().unwrap().to_string()
    };
    for transform in ["gaussian", "modified_identity"] {
        let filters =
            ["--filter", "model.width=6", "--filter", &format!("model.transform={transform}"), "--filter", "seed=1"];
        let doc = ok(d, &[&["list", "g.yaml", "--resolved"][..], &filters].concat());
        assert!(doc.contains("width: 6\n"), "{doc}");
        let edited = doc.replace("width: 6\n", "width: 8\n");
        assert_eq!(trained_id(d, "edited.yaml", &edited), id_of(8, transform, 1), "{edited}");
    }
}
