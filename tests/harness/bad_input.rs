//! Bad input is refused with a message naming the field and the rule (and its position in the
//! file), never a panic; a run whose loss becomes non-finite reports `diverged` and the iteration.

use crate::common;

use std::path::Path;

use common::{dedent, run};
use linres::grid::Spec;
use linres::train::{Status, train};
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;

/// Expands a one-file spec and returns the error text.
fn spec_error(yaml: &str) -> String {
    let text = dedent(yaml);
    match Spec::parse(&text, Path::new("exp.yaml"), &[]).and_then(|s| s.expand()) {
        Ok(runs) => panic!("expected an error, got {} runs for:\n{text}", runs.len()),
        Err(e) => e.to_string(),
    }
}

const BASE_DATA: &str = "data: {kind: paper, d: 4, n: 20}";
const BASE_OPTIM: &str = "optim: {method: gd, iters: 10, step: {rule: zou}}";

fn with_model(model: &str) -> String {
    format!("master_seed: 1\n{BASE_DATA}\nmodel: {model}\n{BASE_OPTIM}")
}

fn assert_contains(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "`{p}` missing from: {text}");
    }
}

#[test]
fn each_rule_names_its_field_rule_and_position() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            with_model("{arch: resnet, depth: 2, width: 7, transform: modified_identity}"),
            vec!["exp.yaml:3:", "model.width", "modified_identity needs m ≥ d + k = 8, got m = 7"],
        ),
        (
            with_model("{arch: resnet, depth: 2, width: 3, transform: gaussian}"),
            vec!["model.width", "gaussian transformations need m ≥ max(d, k) = 4, got m = 3"],
        ),
        (
            "master_seed: 1\ndata: {kind: paper, d: 4, k: 3, n: 20}\nmodel: {arch: linear, depth: 2, width: 5}\n\
             optim: {method: gd, iters: 10, step: {rule: du_hu}}"
                .to_string(),
            vec!["exp.yaml:2:", "data", "paper data has k = d", "got k = 3, d = 4"],
        ),
        (with_model("{arch: resnet, depth: 0, width: 8}"), vec!["model.depth", "must be at least 1, got 0"]),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: linear, depth: 2, width: 5}}\noptim: {{method: gd, iters: 10, step: {{rule: fixed, eta: 0}}}}"),
            vec!["exp.yaml:4:", "optim.step.eta", "must be > 0, got 0"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: linear, depth: 2, width: 5}}\noptim: {{method: gd, iters: 10, step: {{rule: fixed, eta: -0.1}}}}"),
            vec!["optim.step.eta", "must be > 0, got -0.1"],
        ),
        (
            format!("master_seed: 1\ndata: {{kind: paper, d: 4, n: 20, noise: .nan}}\nmodel: {{arch: linear, depth: 2, width: 5}}\n{BASE_OPTIM}"),
            vec!["data.noise", "must be a finite number, got NaN"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: resnet, depth: 2, width: 8, transform: {{kind: gaussian, sigma_a2: .inf}}}}\n{BASE_OPTIM}"),
            vec!["model.transform.sigma_a2", "must be a finite number, got inf"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: linear, depth: 2, width: 5}}\n{BASE_OPTIM}"),
            vec!["optim.step.rule", "rule zou uses A and B, so it needs arch resnet"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: resnet, depth: 2, width: 8}}\noptim: {{method: sgd, iters: 10, step: {{rule: zou}}}}"),
            vec!["optim.batch", "method sgd needs a batch size"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: resnet, depth: 2, width: 8}}\noptim: {{method: sgd, batch: 21, iters: 10, step: {{rule: zou}}}}"),
            vec!["optim.batch", "1 ≤ batch ≤ n = 20, got 21"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: resnet, depth: 2, width: 8, init_std: 0.1}}\n{BASE_OPTIM}\nengine: reduced"),
            vec!["engine", "reduced engines need a zero-initialised ResNet"],
        ),
        (
            "master_seed: 1\ndata: {kind: spectrum, d: 4, k: 2, n: 20, kappa: 0.5}\nmodel: {arch: linear, depth: 2, width: 5}\n\
             optim: {method: gd, iters: 10, step: {rule: du_hu}}"
                .to_string(),
            vec!["data.kappa", "condition number must be ≥ 1, got 0.5"],
        ),
        (
            "master_seed: 1\ndata: {kind: spectrum, d: 4, k: 2, n: 20, kappa: 2, rank: 5}\nmodel: {arch: linear, depth: 2, width: 5}\n\
             optim: {method: gd, iters: 10, step: {rule: du_hu}}"
                .to_string(),
            vec!["data.rank", "1 ≤ rank ≤ min(d, n) = 4, got 5"],
        ),
        (
            "master_seed: 1\ndata: {kind: spectrum, d: 4, k: 2, n: 20}\nmodel: {arch: linear, depth: 2, width: 5}\n\
             optim: {method: gd, iters: 10, step: {rule: du_hu}}"
                .to_string(),
            vec!["exp.yaml:2:", "data", "kind spectrum needs `kappa`"],
        ),
        (
            "master_seed: 1\ndata: {kind: paper, d: 4, n: 20, kappa: 3}\nmodel: {arch: linear, depth: 2, width: 5}\n\
             optim: {method: gd, iters: 10, step: {rule: du_hu}}"
                .to_string(),
            vec!["data", "field `kappa` does not apply to kind paper"],
        ),
        (
            "master_seed: 1\ndata: {kind: paper, d: four, n: 20}\nmodel: {arch: linear, depth: 2, width: 5}\n\
             optim: {method: gd, iters: 10, step: {rule: du_hu}}"
                .to_string(),
            vec!["exp.yaml:2:", "data.d", "invalid type: string \"four\", expected"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: resnet, depth: 2, widht: 8}}\n{BASE_OPTIM}"),
            vec!["exp.yaml:3:", "model.widht", "unknown field `widht`"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: resnet, depth: 2, width: 8, transform: gausian}}\n{BASE_OPTIM}"),
            vec!["model.transform", "unknown variant `gausian`"],
        ),
        (
            format!("master_seed: 1\n{BASE_DATA}\nmodel: {{arch: linear, depth: 2, width: 5}}\noptim: {{method: gd, iters: 10, step: {{rule: fixed, eta: 0.1, scale: 2}}}}"),
            vec!["optim.step", "`scale` does not apply to rule fixed"],
        ),
    ];
    for (yaml, parts) in cases {
        assert_contains(&spec_error(&yaml), &parts);
    }
}

fn write_npy(dir: &Path, name: &str, m: &Array2<f64>) -> String {
    let path = dir.join(name);
    m.write_npy(std::fs::File::create(&path).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn data_and_matrix_files_are_checked_when_the_config_is_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let x = write_npy(dir.path(), "x.npy", &Array2::from_elem((20, 3), 1.0));
    let y = write_npy(dir.path(), "y.npy", &Array2::from_elem((19, 2), 1.0));
    let y_ok = write_npy(dir.path(), "y2.npy", &Array2::from_elem((20, 2), 1.0));
    let ints = dir.path().join("i.npy");
    ndarray::array![[1i32, 2], [3, 4]].write_npy(std::fs::File::create(&ints).unwrap()).unwrap();
    let model = "model: {arch: linear, depth: 2, width: 5}\noptim: {method: gd, iters: 5, step: {rule: du_hu}}";
    let e = spec_error(&format!("master_seed: 1\ndata: {{kind: file, x: {x}, y: {y}}}\n{model}"));
    assert_contains(&e, &["data.y", "X has 20 rows (samples) but Y has 19"]);
    let e = spec_error(&format!("master_seed: 1\ndata: {{kind: file, x: {}, y: {y}}}\n{model}", ints.display()));
    assert_contains(&e, &["data.x", "expected dtype float64 or float32, found <i4"]);
    let e = spec_error(&format!(
        "master_seed: 1\ndata: {{kind: file, x: {}/missing.npy, y: {y}}}\n{model}",
        dir.path().display()
    ));
    assert_contains(&e, &["data.x", "missing.npy: cannot read the file"]);
    // A and B of the wrong shape.
    let a = write_npy(dir.path(), "a.npy", &Array2::from_elem((6, 2), 1.0));
    let b = write_npy(dir.path(), "b.npy", &Array2::from_elem((2, 6), 1.0));
    let e = spec_error(&format!(
        "master_seed: 1\ndata: {{kind: file, x: {x}, y: {y_ok}}}\nmodel: {{arch: resnet, depth: 2, width: 6, transform: {{kind: file, a: {a}, b: {b}}}}}\n\
         optim: {{method: gd, iters: 5, step: {{rule: zou}}}}"
    ));
    assert_contains(&e, &["model.transform.a", "A must be m×d = 6×3, the file holds 6×2"]);
}

#[test]
fn a_run_whose_loss_overflows_reports_diverged_with_the_iteration() {
    let r = run("master_seed: 1
         data: {kind: paper, d: 4, n: 50}
         model: {arch: resnet, depth: 3, width: 10, transform: gaussian}
         optim: {method: gd, iters: 500, step: {rule: fixed, eta: 1.0}}
         log: {schedule: all}");
    let out = train(&r).unwrap();
    assert_eq!(out.status(), Status::Diverged);
    let t = out.diverged_at.unwrap();
    assert!(t > 0 && t < 500, "diverged at {t}");
    // Every point recorded before it is finite and the curve stops there.
    assert!(out.curve.iter().all(|p| p.loss.is_finite() && p.iter < t));
    assert_eq!(out.curve.last().unwrap().iter, t - 1);
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_allocated() {
    let e = spec_error(
        "master_seed: 1\nseeds: 18446744073709551615\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: linear, depth: 2, width: 4}\noptim: {method: gd, iters: 2, step: {rule: du_hu}}",
    );
    assert_contains(&e, &["seeds", "a seed count must be an integer from 1 to 1000000"]);
    let e = spec_error(
        "master_seed: 1\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: linear, depth: 2, width: 100000000000}\noptim: {method: gd, iters: 2, step: {rule: du_hu}}",
    );
    assert_contains(&e, &["model.width", "the run needs at least", "of memory", "this machine has"]);
    let e = spec_error(
        "master_seed: 1\ndata: {kind: paper, d: 3, n: 100000000000000}\nmodel: {arch: linear, depth: 2, width: 4}\noptim: {method: gd, iters: 2, step: {rule: du_hu}}",
    );
    assert_contains(&e, &["data.n", "the run needs at least"]);
    // A wide zero-initialised ResNet is fine: the reduced engine never forms its m×m weights ...
    let ok = dedent(
        "master_seed: 1\ndata: {kind: paper, d: 3, n: 9}\nmodel: {arch: resnet, depth: 2, width: 1000000}\noptim: {method: gd, iters: 2, step: {rule: zou}}",
    );
    assert_eq!(Spec::parse(&ok, Path::new("exp.yaml"), &[]).unwrap().expand().unwrap().len(), 1);
    // ... unless the dense engine is asked for.
    let e = spec_error(&format!("{}\nengine: dense", ok));
    assert_contains(&e, &["model.width", "the run needs at least"]);
    let e = spec_error(
        "master_seed: 1\nseeds: 1000\ndata: {kind: paper, d: 3, n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\nmodel: {arch: linear, depth: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], width: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\noptim: {method: gd, iters: 2, step: {rule: du_hu}}",
    );
    assert_contains(&e, &["the grid has more than 1000000 runs"]);
    let e = spec_error(&with_model("{arch: resnet, depth: 2, width: 8, transform: {kind: gaussian, b_scale: 0}}"));
    assert_contains(&e, &["model.transform.b_scale", "must be nonzero"]);
}

#[test]
fn more_log_points_than_iterations_log_every_iteration_once() {
    let r = run("master_seed: 1
         data: {kind: paper, d: 3, n: 20}
         model: {arch: resnet, depth: 2, width: 8}
         optim: {method: gd, iters: 5, step: {rule: zou}}
         log: {points: 100000000000}");
    let out = train(&r).unwrap();
    assert_eq!(out.curve.iter().map(|p| p.iter).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn degenerate_problems_fail_with_a_reason_and_leave_a_readable_record() {
    let dir = tempfile::tempdir().unwrap();
    let x = write_npy(dir.path(), "x.npy", &Array2::zeros((10, 3)));
    let y = write_npy(dir.path(), "y.npy", &Array2::from_elem((10, 2), 1.0));
    let text = dedent(&format!(
        "name: z
         master_seed: 1
         data: {{kind: file, x: {x}, y: {y}}}
         model: {{arch: linear, depth: 2, width: 4}}
         optim: {{method: gd, iters: 3, step: {{rule: du_hu}}}}"
    ));
    let spec = Spec::parse(&text, &dir.path().join("z.yaml"), &[]).unwrap();
    let runs = spec.expand().unwrap();
    let err = train(&runs[0].run).unwrap_err().to_string();
    assert!(err.contains("X has rank 0"), "{err}");
    let store = linres::store::Store::new(&dir.path().join("results"), "z");
    let s = linres::runner::run_grid(&store, &runs, &linres::runner::RunOptions::new(1), &|_, _| {}).unwrap();
    assert_eq!(s.failed, 1);
    let linres::store::Lookup::Found(rec) = store.read(&runs[0].run.id()) else {
        panic!("the failure is recorded readably")
    };
    assert!(rec.error.unwrap().contains("X has rank 0"));
    // Inputs so large that the first loss would overflow are refused when the grid is expanded.
    let big = write_npy(dir.path(), "big.npy", &Array2::from_elem((10, 3), 1e200));
    let text = text.replace(&x, &big);
    let err = Spec::parse(&text, &dir.path().join("z.yaml"), &[]).unwrap().expand().unwrap_err().to_string();
    assert_contains(&err, &["data.x", "big.npy", "magnitude 1e200", "outside [1e-100, 1e100]"]);
}

#[test]
fn a_byte_order_mark_is_accepted_and_yaml_tags_are_refused_where_they_stand() {
    let body = "name: bom\ndata: {kind: paper, d: 4, n: 20}\nmodel: {arch: resnet, depth: 2, width: 8}\n\
                optim: {method: gd, iters: 10, step: {rule: zou}}\n";
    let with_bom = format!("\u{feff}{body}");
    let plain = Spec::parse(body, Path::new("exp.yaml"), &[]).unwrap().expand().unwrap();
    let bom = Spec::parse(&with_bom, Path::new("exp.yaml"), &[]).unwrap().expand().unwrap();
    assert_eq!(plain[0].run.id(), bom[0].run.id(), "a BOM changes nothing");
    let e = spec_error(&body.replace("depth: 2", "depth: !custom 2"));
    assert_contains(&e, &["exp.yaml:3:", "model.depth", "YAML tags such as `!custom` are not supported"]);
    let e = spec_error(&body.replace("data: {", "data: !paper {"));
    assert_contains(&e, &["exp.yaml:2:", "data", "`!paper`"]);
    let e = Spec::parse(body, Path::new("exp.yaml"), &["model.width=!big 9".into()]).unwrap_err().to_string();
    assert_contains(&e, &["--set", "model.width", "`!big`"]);
}

/// Runs `linres args` in a fresh directory holding `g.yaml` (a small grid); returns the exit code
/// and stderr after asserting that nothing but the file is there.
fn refused_by_binary(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.yaml"), common::small_grid("g")).unwrap();
    let o = common::linres(dir.path(), args);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("g.yaml")], "nothing is written: {args:?}");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// A `--filter` on a field no run has says so, with the nearest field that exists.
#[test]
fn a_command_line_filter_on_an_unknown_field_names_the_nearest_field() {
    for cmd in ["list", "run"] {
        let (code, err) = refused_by_binary(&[cmd, "g.yaml", "--filter", "model.widht=6"]);
        assert_eq!(code, Some(2), "{cmd}: {err}");
        assert_contains(
            &err,
            &["--filter", "model.widht", "unknown field `model.widht`", "did you mean `model.width`?"],
        );
    }
    let (code, err) = refused_by_binary(&["list", "g.yaml", "--filter", "model.bogus=7"]);
    assert_eq!(code, Some(2), "{err}");
    assert_contains(&err, &["unknown field `model.bogus`", "model.arch", "model.width"]);
}

/// Numbers in messages use one formatting function: exponent notation for tiny and huge values,
/// never hundreds of digits.
#[test]
fn tiny_and_huge_numbers_in_messages_are_written_in_exponent_notation() {
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "table",
                "g.yaml",
                "--rows",
                "model.width",
                "--cols",
                "seed",
                "--value",
                "iters_to_target",
                "--target",
                "1e-300",
            ],
            "got 1e-300",
        ),
        (&["list", "g.yaml", "--set", "theory.target=1.0e-300"], "got 1e-300"),
        (&["list", "g.yaml", "--set", "theory.delta=1.0e300"], "got 1e300"),
        (&["list", "g.yaml", "--set", "optim.step={rule: fixed, eta: -1.0e-300}"], "got -1e-300"),
        (&["list", "g.yaml", "--set", "data={kind: spectrum, d: 3, k: 3, n: 9, kappa: 1.0e-300}"], "got 1e-300"),
    ];
    for (args, expected) in cases {
        let (code, err) = refused_by_binary(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "`{expected}` missing for {args:?}: {err}");
        assert!(!err.contains("00000"), "no long run of digits for {args:?}: {err}");
    }
}
