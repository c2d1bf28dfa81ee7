//! Records read back whatever they hold: infinities and NaN survive the writer and the reader of
//! records, tables and `--json` output (issue 8 item 5); theory constants are not part of a run
//! (issue 9 item 12): they leave the ids alone and change only what is derived when results are read.

use crate::common;

use std::path::Path;

use linres::config::TheoryConstants;
use linres::grid::Spec;
use linres::provenance::Provenance;
use linres::store::{Lookup, Record, Store};
use linres::train::train;
use serde_json::Value;

fn spec(text: &str) -> Spec {
    Spec::parse(&common::dedent(text), Path::new("exp.yaml"), &[]).unwrap()
}

const ONE: &str = "name: one
    master_seed: 3
    data: {kind: paper, d: 4, n: 30}
    model: {arch: resnet, depth: 3, width: 12, transform: gaussian}
    optim: {method: gd, iters: 20, step: {rule: zou, scale: 1}}
    log: {schedule: all, diagnostics: true}";

/// Sets every float a record's outcome holds (facts, curve, timing) to `v`.
fn fill(record: &mut Record, v: f64) {
    record.seconds = v;
    let o = record.outcome.as_mut().unwrap();
    let t = &mut o.theory;
    for x in [&mut t.loss0, &mut t.excess0, &mut t.eta] {
        *x = v;
    }
    let d = &mut t.data;
    for x in [
        &mut d.sigma_max,
        &mut d.sigma_r,
        &mut d.kappa,
        &mut d.fro_norm,
        &mut d.stable_rank,
        &mut d.l_star,
        &mut d.w_star_norm,
    ] {
        *x = v;
    }
    let s = t.transform.as_mut().unwrap();
    for x in [&mut s.a_sigma_min, &mut s.a_norm, &mut s.b_sigma_min, &mut s.b_norm, &mut s.ax_lambda_r] {
        *x = v;
    }
    for p in &mut o.curve {
        p.loss = v;
        p.excess = v;
        p.max_layer_norm = Some(v);
        p.grad_norm2 = Some(v);
        p.pl_ratio = Some(v);
    }
}

/// Paths of every non-integer JSON number outside `config` and `provenance`.
fn plain_floats(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if path.is_empty() && (k == "config" || k == "provenance") {
                    continue;
                }
                plain_floats(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, x)| plain_floats(x, &format!("{path}[{i}]"), out))
        }
        Value::Number(n) if n.is_f64() => out.push(path.to_string()),
        _ => {}
    }
}

#[test]
fn records_full_of_infinities_and_nan_are_written_and_read_back() {
    let runs = spec(ONE).expand().unwrap();
    let run = &runs[0].run;
    let outcome = train(run).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), "one");
    for v in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        let mut record = Record::finished(run.id(), run.config().clone(), outcome.clone(), 0.0, Provenance::now(1));
        fill(&mut record, v);
        let json: Value = serde_json::to_value(&record).unwrap();
        let mut missed = Vec::new();
        plain_floats(&json, "", &mut missed);
        assert!(missed.is_empty(), "floats the test did not set to {v} (a field it does not know?): {missed:?}");
        store.write(&record).unwrap_or_else(|e| panic!("{v}: the writer refused the record: {e}"));
        let Lookup::Found(back) = store.read(&run.id()) else { panic!("{v}: the record does not read back") };
        assert_eq!(format!("{back:?}"), format!("{record:?}"), "{v}: the record changed on the way");
    }
}

#[test]
fn a_huge_step_is_a_cached_result_and_its_infinite_theory_reaches_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("huge.yaml"),
        "name: huge\ndata: {kind: paper, d: 4, n: 30}\nmodel: {arch: resnet, depth: 3, width: 12}\n\
         optim: {method: gd, iters: 20, step: {rule: fixed, eta: 1.0e300}}\n",
    )
    .unwrap();
    let linres = |args: &[&str]| common::linres(dir.path(), args);
    let first = linres(&["run", "huge.yaml"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let second = linres(&["run", "huge.yaml"]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("0 computed") && err.contains("1 cached"), "the result is cached, not recomputed: {err}");
    // The linearised factor (1 − ηLμ)² is infinite: written as `inf` in the CSV, `"Infinity"` in JSON.
    let summary = std::fs::read_to_string(dir.path().join("results/huge/summary.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(summary.as_bytes());
    let header = rows.headers().unwrap().clone();
    let row = rows.records().next().unwrap().unwrap();
    let rho: f64 = row[header.iter().position(|h| h == "zou_rho").unwrap()].parse().unwrap();
    assert!(rho.is_infinite() || rho > 1e290, "ρ = ηL… at η = 1e300: {rho}");
    let theory = linres(&["theory", "huge.yaml", "--json"]);
    let text = String::from_utf8_lossy(&theory.stdout);
    let v: Value = serde_json::from_str(&text).expect("theory --json is valid JSON");
    assert_eq!(v[0]["theory"]["zou"]["lin_factor"], "Infinity", "{text}");
}

#[test]
fn theory_constants_leave_run_ids_alone_and_change_only_what_is_derived() {
    let base = spec(ONE);
    let changed = spec(&format!("{ONE}\n    theory: {{c_zou: 2, c_step: 3, c_width: 4, delta: 0.2, target: 1.0e-3}}"));
    let ids = |s: &Spec| s.expand().unwrap().iter().map(|r| r.run.id()).collect::<Vec<_>>();
    assert_eq!(ids(&base), ids(&changed), "no trajectory depends on the constants");
    assert_eq!(changed.theory.c_zou, 2.0);
    // The same facts give margins in the ratio of the constants.
    let runs = base.expand().unwrap();
    let facts = linres::train::initial_theory(&runs[0].run).unwrap();
    let one = common::report(&runs[0].run, &facts);
    let two = common::report_with(&runs[0].run, &facts, &changed.theory);
    let (m1, m2) = (one.zou.as_ref().unwrap().margin.unwrap(), two.zou.as_ref().unwrap().margin.unwrap());
    assert!(common::close(m1, 2.0 * m2, 1e-14, 0.0), "margin ∝ 1/C: {m1} vs {m2}");
    assert!(common::close(two.widths.zou, 4.0 * one.widths.zou, 1e-14, 0.0));
    // Constants are one value per experiment; targets are decades.
    let e = Spec::parse(&format!("{}\ntheory: {{c_zou: [1, 2]}}", common::dedent(ONE)), Path::new("exp.yaml"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("theory.c_zou") && e.contains("give one value, not a list"), "{e}");
    let e = Spec::parse(&format!("{}\ntheory: {{target: 5.0e-7}}", common::dedent(ONE)), Path::new("exp.yaml"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("exp.yaml:7:") && e.contains("theory.target") && e.contains("a decade"), "{e}");
    let e =
        Spec::parse(&common::dedent(ONE), Path::new("exp.yaml"), &["theory.c_zu=2".into()]).unwrap_err().to_string();
    assert!(e.contains("--set") && e.contains("theory.c_zu") && e.contains("unknown field"), "{e}");
    let default = TheoryConstants::default();
    assert_eq!(base.theory, default);
}

#[test]
fn records_keep_the_first_iteration_below_every_decade_exactly() {
    let text = common::dedent(ONE).replace("iters: 20", "iters: 3000");
    let runs = Spec::parse(&text, Path::new("exp.yaml"), &[]).unwrap().expand().unwrap();
    let out = train(&runs[0].run).unwrap();
    let e0 = out.theory.excess0;
    for j in 1..=16 {
        let eps = format!("1e-{j}").parse::<f64>().unwrap();
        // schedule all: the curve holds every iteration, so a scan of it is the reference.
        let scan = out.curve.iter().find(|p| p.excess / e0 <= eps).map(|p| p.iter);
        assert_eq!(out.iters_to(eps), scan, "decade 1e-{j}");
    }
    assert!(out.iters_to(1e-6).is_some(), "the run converges, so the comparison is not vacuous");
    assert_eq!(out.iters_to(5e-7), None, "a target between decades has no stored answer");
}

/// Every run of every experiment file: its configuration, written into a record and read back,
/// hashes to the run's id (the store refuses records whose configuration is another run's, so a
/// configuration that did not survive the trip would make every result look corrupt).
#[test]
fn a_configuration_read_back_from_a_record_hashes_to_its_run_id() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut checked = 0;
    for file in files.iter().filter(|p| p.extension().is_some_and(|x| x == "yaml")) {
        for run in Spec::load(file, &[]).unwrap().expand().unwrap() {
            let json = serde_json::to_vec(run.run.config()).unwrap();
            let back: linres::config::RunConfig = serde_json::from_slice(&json).unwrap();
            assert_eq!(back.resolved_id(), run.run.id(), "{}: {}", file.display(), String::from_utf8_lossy(&json));
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} runs checked");
}

/// Two runs of a small grid computed into `dir/results`; the directory's `linres`.
fn two_runs(dir: &Path) -> (Vec<String>, impl Fn(&[&str]) -> std::process::Output + '_) {
    std::fs::write(dir.join("two.yaml"), common::small_grid("two").replace("seeds: 2", "seeds: 1")).unwrap();
    let linres = move |args: &[&str]| common::linres(dir, args);
    assert!(linres(&["run", "two.yaml", "-q"]).status.success());
    let mut ids: Vec<String> =
        Spec::load(&dir.join("two.yaml"), &[]).unwrap().expand().unwrap().iter().map(|r| r.run.id()).collect();
    ids.sort();
    (ids, linres)
}

/// The record of `from` copied over the record of `to`, its `id` field edited to `to`: what a
/// careless copy (or a forged record) leaves.
fn forge(runs: &Path, from: &str, to: &str) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(common::record_file(runs, from)).unwrap()).unwrap();
    v["id"] = Value::from(to);
    let target = common::record_file(runs, to);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(target, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn a_record_whose_configuration_is_another_runs_is_corrupt_for_status_run_and_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (ids, linres) = two_runs(dir.path());
    let runs = dir.path().join("results/two/runs");
    let good = std::fs::read(common::record_file(&runs, &ids[1])).unwrap();
    forge(&runs, &ids[0], &ids[1]);
    let store = Store::new(&dir.path().join("results"), "two");
    let Lookup::Unreadable(why) = store.read(&ids[1]) else { panic!("a forged record reads as a result") };
    assert!(why.contains(&format!("configuration is that of run {}", ids[0])), "{why}");
    let o = linres(&["status", "two.yaml"]);
    let (out, _) = common::texts(&o);
    assert!(out.contains("1 cached (0 diverged), 0 failed, 0 running, 0 missing, 1 corrupt"), "{out}");
    assert!(out.contains(&format!("corrupt {}", ids[1])) && out.contains("another run's id"), "{out}");
    let o = linres(&["status"]);
    assert!(common::texts(&o).0.contains("two: 1 corrupt, 1 done"), "{}", common::texts(&o).0);
    // `run` computes the run again, and its record is the one a clean run writes.
    let o = linres(&["run", "two.yaml"]);
    assert!(common::texts(&o).1.contains("1 computed"), "{}", common::texts(&o).1);
    let Lookup::Found(back) = store.read(&ids[1]) else { panic!("the run was not recomputed") };
    let want: Record = serde_json::from_slice(&good).unwrap();
    assert_eq!((back.config, back.outcome), (want.config, want.outcome));
}

#[test]
fn merge_refuses_a_record_whose_configuration_is_another_runs_and_says_it_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (ids, linres) = two_runs(dir.path());
    let runs = dir.path().join("results/two/runs");
    std::fs::create_dir_all(dir.path().join("src/two/runs")).unwrap();
    std::fs::copy(common::record_file(&runs, &ids[0]), dir.path().join(format!("src/two/runs/{}.json", ids[0])))
        .unwrap();
    forge(&dir.path().join("src/two/runs"), &ids[0], &ids[1]);
    std::fs::remove_file(common::record_file(&runs, &ids[1])).unwrap();
    let before = common::record_files(&runs).len();
    // The destination lacks the run: before the check the forged record was copied as its result.
    let o = linres(&["merge", "src", "--into", "results"]);
    let (out, err) = common::texts(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    let row = out.lines().find(|l| l.contains(ids[1].as_str())).unwrap_or_else(|| panic!("no row: {out}"));
    assert!(row.contains("corrupt source record") && row.contains("another run's id"), "{row}");
    assert!(err.contains("1 corrupt record(s)") && !err.contains("between records of the same run"), "{err}");
    assert_eq!(common::record_files(&runs).len(), before, "nothing written");
}
