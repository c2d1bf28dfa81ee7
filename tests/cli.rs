//! The `linres` binary driven as a user would.

use std::process::{Command, Output};

fn linres(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linres")).args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn every_command_has_help() {
    let mut cmds = vec![vec!["--help"], vec!["help", "train"]];
    for sub in ["train", "run", "list", "status", "clean", "export", "theory", "plot", "check"] {
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
    assert!(v["theory"]["du_hu"]["factor"].as_f64().unwrap() < 1.0);
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
