//! Records read back whatever they hold: infinities and NaN survive the writer and the reader of
//! records, tables and `--json` output (issue 8 item 5); theory constants are not part of a run
//! (issue 9 item 12): they leave the ids alone and change only what is derived when results are read.

mod common;

use std::path::Path;
use std::process::Command;

use linres::config::TheoryConstants;
use linres::provenance::Provenance;
use linres::spec::Spec;
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
    let linres =
        |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_linres")).current_dir(dir.path()).args(args).output().unwrap();
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
