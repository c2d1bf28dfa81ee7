//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use linres::config::{ResolvedRun, RunConfig};

/// Left-trims every line, so tests can indent flat YAML (nested values in flow style) freely.
pub fn dedent(yaml: &str) -> String {
    yaml.lines().map(str::trim_start).collect::<Vec<_>>().join("\n")
}

/// A resolved run from a flat YAML mapping (relative paths from the current directory).
pub fn run(yaml: &str) -> ResolvedRun {
    serde_norway::from_str::<RunConfig>(&dedent(yaml))
        .expect("test config parses")
        .resolve(Path::new("."))
        .expect("test config is valid")
}

/// The parse or resolution error of a flat YAML mapping, as text.
pub fn resolve_error(yaml: &str) -> String {
    match serde_norway::from_str::<RunConfig>(&dedent(yaml)) {
        Err(e) => e.to_string(),
        Ok(c) => c.resolve(Path::new(".")).expect_err("config should be rejected").to_string(),
    }
}

/// Every theory quantity of `run` with these facts, under the default constants.
pub fn report(run: &ResolvedRun, facts: &linres::theory::TheoryFacts) -> linres::theory::TheoryReport {
    report_with(run, facts, &linres::config::TheoryConstants::default())
}

/// Every theory quantity of `run` with these facts, under `constants`.
pub fn report_with(
    run: &ResolvedRun,
    facts: &linres::theory::TheoryFacts,
    constants: &linres::config::TheoryConstants,
) -> linres::theory::TheoryReport {
    linres::theory::TheoryReport::derive(facts, linres::theory::RunShape::of(run.config()), constants)
}

/// |a − b| ≤ rel·max(|a|, |b|) + abs.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

/// Every record in a `runs/` directory, keyed by id and sorted, without the fields that
/// legitimately differ between executions (`seconds`, `provenance`).
pub fn records_in(runs: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(runs)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seconds");
            o.remove("provenance");
            (p.file_stem().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Asserts equal record sets (curves bit for bit), naming the first differing field instead of
/// printing both sets.
pub fn assert_same_records(got: &[(String, serde_json::Value)], want: &[(String, serde_json::Value)]) {
    assert_eq!(
        got.iter().map(|r| &r.0).collect::<Vec<_>>(),
        want.iter().map(|r| &r.0).collect::<Vec<_>>(),
        "record ids differ"
    );
    for ((id, a), (_, b)) in got.iter().zip(want) {
        if a != b {
            let (fa, fb) = (flatten(a, String::new()), flatten(b, String::new()));
            let diff = fa.iter().zip(&fb).find(|(x, y)| x != y);
            panic!("record {id} differs: {diff:?} ({} vs {} fields)", fa.len(), fb.len());
        }
    }
}

fn flatten(v: &serde_json::Value, path: String) -> Vec<(String, serde_json::Value)> {
    match v {
        serde_json::Value::Object(m) => m.iter().flat_map(|(k, x)| flatten(x, format!("{path}.{k}"))).collect(),
        serde_json::Value::Array(a) => {
            a.iter().enumerate().flat_map(|(i, x)| flatten(x, format!("{path}[{i}]"))).collect()
        }
        other => vec![(path, other.clone())],
    }
}

/// Runs the `linres` binary in `dir` as a user would.
pub fn linres(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the binary in `dir` as [`linres`] does, killing it if it has not finished after `limit`
/// (a hang fails the test). Both pipes are drained while it runs, so a long output cannot block it.
pub fn linres_within(dir: &Path, args: &[&str], limit: std::time::Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes).unwrap_or_default()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("`linres {}` did not finish within {limit:?} (a hang): {err}", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    std::process::Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

/// stdout and stderr of a finished command, as text.
pub fn texts(o: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// A small grid (two widths, two seeds; milliseconds per run) named `name`.
pub fn small_grid(name: &str) -> String {
    format!(
        "name: {name}\nmaster_seed: 1\nseeds: 2\ndata: {{kind: paper, d: 3, n: 9}}\n\
         model: {{arch: resnet, depth: 2, width: [6, 8]}}\noptim: {{method: gd, iters: 3, step: {{rule: zou}}}}\n"
    )
}
