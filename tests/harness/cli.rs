//! The `linres` binary driven as a user would: help, `train`, flags, exit codes, closed pipes,
//! completions and progress.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{small_grid, texts as text};

fn linres(args: &[&str]) -> Output {
    common::linres(Path::new("."), args)
}

/// Every subcommand (each has `--help`).
const COMMANDS: [&str; 13] = [
    "train",
    "run",
    "list",
    "status",
    "clean",
    "export",
    "theory",
    "plot",
    "check",
    "merge",
    "diff",
    "slurm",
    "completions",
];

#[test]
fn every_command_has_help() {
    let mut cmds = vec![vec!["--help"], vec!["help", "train"]];
    for sub in COMMANDS {
        cmds.push(vec![sub, "--help"]);
    }
    for cmd in cmds {
        let o = linres(&cmd);
        let (out, _) = text(&o);
        assert!(o.status.success(), "{cmd:?}");
        assert!(out.contains("Usage: linres"), "{cmd:?}: {out}");
    }
    let (out, _) = text(&linres(&["train", "--help"]));
    assert!(out.contains("--set <KEY=VALUE>") && out.contains("Without CONFIG"), "{out}");
}

#[test]
fn train_prints_the_curve_theory_and_outcome() {
    let o = linres(&["train", "--set", "optim.iters=300", "--set", "log.points=5", "--set", "model.width=200"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("resnet L=10 m=200 gaussian · paper d=10 k=10 n=1000"), "{out}");
    assert!(out.contains("engine reduced_gram"), "{out}");
    // Rows for iterations 0 and 300, the theory block and the outcome line.
    assert!(out.lines().any(|l| l.trim_start().starts_with("300 ")), "{out}");
    for part in [
        "condition margin=",
        "m_Zou=k·r·κ²=",
        "data     n=1000 d=10 k=10 rank=10",
        "done: relative excess ≤ 1.000e-6 at iteration",
    ] {
        assert!(out.contains(part), "`{part}` missing: {out}");
    }
}

#[test]
fn train_json_is_a_record() {
    let args =
        ["train", "--json", "--set", "optim.iters=50", "--set", "model.arch=linear", "--set", "optim.step.rule=du_hu"];
    let o = linres(&args);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let record: linres::store::Record = serde_json::from_str(&out).unwrap();
    record.validate(&record.id).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["config"]["model"]["arch"], "linear");
    assert!(v["config"]["model"].get("transform").is_none(), "a linear network has no transform");
    assert_eq!(v["status"], "done");
    assert_eq!(v["engine"], "gram");
    let curve = v["curve"].as_array().unwrap();
    assert_eq!(curve.first().unwrap()["iter"], 0);
    assert_eq!(curve.last().unwrap()["iter"], 50);
    // The record keeps the constant-free facts; what the theorems' constants derive is not stored.
    assert!(v["theory"]["eta"].as_f64().unwrap() > 0.0 && v["theory"]["data"]["kappa"].as_f64().unwrap() >= 1.0);
    assert!(v["theory"].get("du_hu").is_none() && v["theory"].get("target").is_none(), "{}", v["theory"]);
    // Same configuration, same result (timing and provenance aside).
    let mut w: serde_json::Value = serde_json::from_slice(&linres(&args).stdout).unwrap();
    let mut v = v;
    for x in [&mut v, &mut w] {
        x.as_object_mut().unwrap().remove("seconds");
        x.as_object_mut().unwrap().remove("provenance");
    }
    assert_eq!(v, w);
}

#[test]
fn bad_input_exits_with_code_2_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["train", "--set", "model.width=3"],
            "model.width: gaussian transformations need m ≥ max(d, k) = 10, got m = 3",
        ),
        (&["train", "--set", "model.depth=0"], "model.depth: must be at least 1, got 0"),
        (&["train", "--set", "optim.step={rule: fixed, eta: -1}"], "optim.step.eta: must be > 0, got -1"),
        (&["train", "--set", "bogus"], "is not of the form key.path=value"),
        (&["train", "/nonexistent/exp.yaml"], "cannot read the experiment file"),
    ];
    for (args, msg) in cases {
        let o = linres(args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let multi = dir.path().join("multi.yaml");
    std::fs::write(&multi, "master_seed: 1\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: [6, 8]}\noptim: {method: gd, iters: 3, step: {rule: zou}}\n").unwrap();
    let o = linres(&["train", multi.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("expands to 2 runs; use `linres run`"));
}

#[test]
fn a_diverging_run_is_reported_with_its_iteration() {
    let o = linres(&["train", "--set", "optim.step={rule: zou, scale: 400}", "--set", "optim.iters=200"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("diverged at iteration"), "{out}");
    assert!(err.contains("the run diverged at iteration"), "{err}");
}

#[test]
fn export_to_an_unwritable_place_exits_2_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("e.yaml");
    std::fs::write(&spec, "master_seed: 1\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: 8}\noptim: {method: gd, iters: 2, step: {rule: zou}}\n").unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let target = blocker.join("sub");
    let o = linres(&["export", spec.to_str().unwrap(), "--run", "", "--npy", target.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write") && err.contains("file/sub"), "{err}");
}

#[test]
fn a_non_string_top_level_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("k.yaml");
    std::fs::write(&spec, "1: 2\n").unwrap();
    let o = linres(&["list", spec.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains(": 1: unknown key `1`"), "{err}");
}

/// Runs `args` in `dir` with stdout closed before the command writes: it must end as it would
/// with an open stdout (same exit status), without a panic or an error about the pipe.
fn with_closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("e.yaml"), small_grid("e")).unwrap();
    // 3000 runs: `list` prints more than a pipe holds, so it meets the closed pipe for sure.
    std::fs::write(d.join("big.yaml"), small_grid("big").replace("seeds: 2", "seeds: 1500")).unwrap();
    assert!(common::linres(d, &["run", "e.yaml", "-q"]).status.success());
    std::fs::write(d.join("R.md"), "# r\n<!-- checks:begin -->\n<!-- checks:end -->\n").unwrap();
    let id = text(&common::linres(d, &["list", "e.yaml", "--json"])).0;
    let id: serde_json::Value = serde_json::from_str(&id).unwrap();
    let id = id[0]["id"].as_str().unwrap().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["list", "big.yaml"],
        vec!["list", "big.yaml", "--json"],
        vec!["list", "big.yaml", "--resolved"],
        vec!["list", "e.yaml"],
        vec!["status"],
        vec!["status", "e.yaml"],
        vec!["status", "e.yaml", "--json"],
        vec!["theory", "e.yaml"],
        vec!["theory", "e.yaml", "--json"],
        vec!["train", "--set", "optim.iters=20"],
        vec!["train", "--set", "optim.iters=20", "--json"],
        // Twice into one directory: --force, since export never replaces a file it did not write.
        vec!["export", "e.yaml", "--run", &id, "--npy", "npy", "--force"],
        vec!["clean", "e.yaml", "--dry-run"],
        vec!["plot", "e.yaml"],
        vec!["check", "--experiments", ".", "--readme", "R.md"],
        vec!["completions", "bash"],
        vec!["--help"],
        vec!["list", "--help"],
    ];
    for args in cases {
        let open = common::linres(d, &args);
        let closed = with_closed_stdout(d, &args);
        let (_, err) = text(&closed);
        assert_eq!(closed.status.code(), open.status.code(), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("stdout"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn thread_counts_are_checked_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("e.yaml"), small_grid("e")).unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["run", "e.yaml", "--jobs", "0"], "'--jobs <N>'"),
        (&["run", "e.yaml", "--jobs", "100000"], "'--jobs <N>'"),
        (&["run", "e.yaml", "--jobs=-3"], "'--jobs <N>'"),
        (&["train", "--jobs", "0"], "'--jobs <N>'"),
        (&["train", "-j", "2000"], "'--jobs <N>'"),
    ];
    for (args, flag) in cases {
        let start = Instant::now();
        let o = common::linres(d, args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(flag) && err.contains("a thread count is a whole number from 1 to 1024"),
            "{args:?}: {err}"
        );
        assert!(start.elapsed() < Duration::from_secs(5), "{args:?} took {:?}", start.elapsed());
        assert!(!d.join("results").exists(), "{args:?} wrote results");
    }
    // The largest count is accepted (and only as many workers as runs are started).
    let o = common::linres(d, &["run", "e.yaml", "--jobs", "1024"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(text(&o).1.contains("with 4 job(s)"), "{}", text(&o).1);
}

#[test]
fn export_with_an_unknown_or_ambiguous_id_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("e.yaml"), small_grid("e")).unwrap();
    let o = common::linres(d, &["export", "e.yaml", "--run", "zzzz", "--npy", "out"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--run: no run of e has an id starting with `zzzz`"), "{err}");
    let o = common::linres(d, &["export", "e.yaml", "--run", "", "--npy", "out"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is the start of 4 run ids"), "{err}");
    assert!(!d.join("out").exists());
}

#[test]
fn an_overlong_name_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = "n".repeat(256);
    std::fs::write(d.join("e.yaml"), small_grid(&long)).unwrap();
    let o = common::linres(d, &["run", "e.yaml"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("e.yaml:1:1: name: is 256 bytes long; a directory name has at most 255 bytes"), "{err}");
    assert!(!d.join("results").exists());
    std::fs::write(d.join("e.yaml"), small_grid(&long[..255])).unwrap();
    assert!(common::linres(d, &["list", "e.yaml"]).status.success());
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef linres"), ("fish", "complete -c linres")] {
        let o = linres(&["completions", shell]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: {out}");
        for sub in ["train", "clean", "completions"] {
            assert!(out.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(out.contains("dry-run"), "{shell} completion lacks clean's flags");
    }
    let o = linres(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("invalid value 'tcsh'"));
}

#[test]
fn the_progress_counter_agrees_with_its_counts() {
    // The bar is drawn only on a terminal: `script` gives the command one.
    let Some(script) = common::outside(common::Tool::Script) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("e.yaml"), small_grid("e").replace("seeds: 2", "seeds: 6")).unwrap();
    let command = format!("{} run e.yaml --jobs 2", env!("CARGO_BIN_EXE_linres"));
    let o = Command::new(script).current_dir(d).args(["-qec", &command, "/dev/null"]).output().unwrap();
    let screen = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{screen}");
    // Every frame "k/12 runs (done a · diverged b · cached c · failed f)" has k = a + b + c + f.
    let mut frames = 0;
    let marker = " runs (done ";
    for (at, _) in screen.match_indices(marker) {
        let counter: Option<usize> =
            screen[..at].rsplit(' ').next().and_then(|c| c.split('/').next()).and_then(|c| c.parse().ok());
        let inside = screen[at + marker.len()..].split(')').next().unwrap_or_default();
        let counts: Option<Vec<usize>> =
            inside.split(" · ").map(|p| p.rsplit(' ').next().and_then(|n| n.parse().ok())).collect();
        let (Some(counter), Some(counts)) = (counter, counts) else {
            panic!("unreadable frame at {at}: `{}`", &screen[at.saturating_sub(20)..(at + 80).min(screen.len())]);
        };
        assert_eq!(counter, counts.iter().sum::<usize>(), "frame `{counter}/… (done {inside})`");
        frames += 1;
    }
    assert!(frames >= 2, "no progress frames in {screen}");
}

#[test]
fn train_on_ones_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // X: 5 samples of 3 features (CSV, one sample per row); y: 5 targets as a 1-D .npy (k = 1).
    std::fs::write(d.join("X.csv"), "1,2,3\n4,5,6\n7,8,10\n1,0,0\n0,1,1\n").unwrap();
    let y = ndarray::arr1(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    ndarray_npy::write_npy(d.join("y.npy"), &y).unwrap();
    let args = [
        "train",
        "--set",
        "data.kind=file",
        "--set",
        "data.x=X.csv",
        "--set",
        "data.y=y.npy",
        "--set",
        "model.width=8",
        "--json",
    ];
    let o = common::linres(d, &args);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["config"]["data"]["kind"], "file");
    assert!(v["config"]["data"].get("d").is_none(), "{}", v["config"]["data"]);
    assert_eq!(v["theory"]["data"]["rank"], 3, "{}", v["theory"]["data"]);
    let first = v["curve"][0]["loss"].as_f64().unwrap();
    // At W = 0 the ResNet's output is BAx; the loss is ½‖BAX − Y‖²_F with k = 1.
    assert!(first > 0.0 && v["curve"].as_array().unwrap().last().unwrap()["loss"].as_f64().unwrap() < first);
    // Changing the step rule drops the fields of the old rule; the new one's are kept.
    let o =
        linres(&["train", "--set", "optim.step.rule=fixed", "--set", "optim.step.eta=1e-6", "--set", "optim.iters=5"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o =
        linres(&["train", "--set", "optim.step.eta=1e-6", "--set", "optim.step.rule=fixed", "--set", "optim.iters=5"]);
    assert!(o.status.success(), "{}", text(&o).1);
    // A rule that needs a field still says so.
    let o = linres(&["train", "--set", "optim.step.rule=fixed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("rule fixed needs `eta`"), "{}", text(&o).1);
}

#[test]
fn the_numpy_reference_prints_its_usage_without_arguments() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/retrain_export.py");
    let Some(python) = common::outside(common::Tool::Python3) else { return };
    let o = Command::new(python).arg(&script).output().unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("usage: retrain_export.py") && !err.contains("Traceback"), "{err}");
}
