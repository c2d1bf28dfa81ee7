//! Property tests (issue 8): valid experiment files, `.npy` files and CSV files, mutated at random,
//! end in a valid grid (or a loaded matrix) or in a clean error naming the file or the field: never
//! a panic, an abort or a hang, and nothing is written on error.
//!
//! - In process (fast): `Spec::load` → `expand` → `figure_decls` → `check_decls` (what every grid
//!   command does before it runs anything) and `data::files::{load, digest}`, each case in a worker
//!   thread under `catch_unwind` with a time limit ([`CASE_LIMIT`]). A global allocator refuses any
//!   single allocation above [`ALLOCATION_LIMIT`] (printing the case first), so an allocation sized
//!   by a lying input aborts here even where the kernel would overcommit it.
//! - Through the binary (a smaller sample): `linres list` (and `linres run` when the library says
//!   the input is bad) with a timeout per process ([`PROCESS_LIMIT`]): exit 0 for a valid grid, exit
//!   2 with the library's message (file, field) otherwise, and the directory, an earlier
//!   experiment's results included, byte for byte as it was.
//!
//! Valid grids must also be sound: distinct run ids, every run's resolved configuration resolves
//! again to the same id (what `list --resolved` files rely on). Unmutated `.npy` and CSV files must
//! load to exactly the numbers written (an oracle independent of the reader: the values are chosen
//! first, then encoded).
//!
//! Cases are drawn from a fixed seed ([`SEED`]), so every run checks the same inputs: [`DEFAULT_CASES`]
//! per in-process property and an eighth of that through the binary (the file takes about ten
//! seconds). More, or others: `PROPTEST_CASES=5000 PROPTEST_RNG_SEED=7 cargo test --test properties
//! properties::` (5000 cases take about ten minutes on one core). A failing case is shrunk and its
//! seed saved in `tests/properties/properties.proptest-regressions`, which is committed: every later
//! run replays the saved seeds first. Each defect found also has a plain regression test at the end of this file.

use crate::common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{linres_within, texts};
use linres::config::RunConfig;
use linres::grid::Spec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use serde_norway::{Mapping, Value};

/// Cases per in-process property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 96;
/// The seed the cases are drawn from unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 20_200_302;
/// The most one in-process case may take (the largest base grid expands in about 0.1 s).
const CASE_LIMIT: Duration = Duration::from_secs(20);
/// The most one binary invocation may take.
const PROCESS_LIMIT: Duration = Duration::from_secs(30);
/// Largest single allocation the code under test may ask for while checking an input.
const ALLOCATION_LIMIT: usize = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Harness: allocation guard, time limit, case counts.

/// The system allocator, refusing single allocations above [`ALLOCATION_LIMIT`].
struct Guard;

thread_local! {
    /// The case the current thread checks, printed when it asks for an oversized allocation.
    static CASE: RefCell<String> = const { RefCell::new(String::new()) };
}

unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOCATION_LIMIT {
            refuse(layout.size());
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOCATION_LIMIT {
            refuse(layout.size());
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOCATION_LIMIT {
            refuse(new_size);
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Says which case asked for `size` bytes (the process then aborts, or the caller handles it).
fn refuse(size: usize) {
    let _ = CASE.try_with(|c| {
        if let Ok(case) = c.try_borrow() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\nproperties: an allocation of {size} bytes while checking:\n{case}\n");
        }
    });
}

#[global_allocator]
static GUARD: Guard = Guard;

/// Runs `f` in a worker thread under `catch_unwind`: `Ok` with its value, `Err` with the panic
/// message; a case still running after [`CASE_LIMIT`] fails the test as a hang.
fn checked<T: Send + 'static>(case: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (send, receive) = mpsc::channel();
    let described = case.to_string();
    std::thread::spawn(move || {
        CASE.with(|c| *c.borrow_mut() = described);
        let outcome = catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        });
        let _ = send.send(outcome);
    });
    match receive.recv_timeout(CASE_LIMIT) {
        Ok(outcome) => outcome,
        Err(_) => panic!("a hang: the case did not finish within {CASE_LIMIT:?}:\n{case}"),
    }
}

/// `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `cases` cases drawn from a fixed seed (`PROPTEST_RNG_SEED` chooses another), so that every run
/// of the suite, CI's included, checks the same inputs.
fn config(cases: u32) -> Config {
    let from_env = Config::default();
    let rng_seed = match from_env.rng_seed {
        RngSeed::Random => RngSeed::Fixed(SEED),
        chosen => chosen,
    };
    Config {
        cases,
        rng_seed,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..from_env
    }
}

/// Every entry under `dir`, recursively: its path, and for a regular file its bytes (special files
/// are never opened). Equal snapshots before and after a command mean it wrote nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let kind = e.file_type().unwrap();
        let path = e.path();
        if kind.is_dir() {
            out.push((path.clone(), None));
            out.extend(snapshot(&path));
        } else {
            out.push((path.clone(), kind.is_file().then(|| std::fs::read(&path).unwrap())));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Inputs on disk: data files the experiment files name, and the experiment files themselves.

const X_CSV: &str = "a,b,c\n1,2,3\n4,5,6\n7,8,10\n1,0,0\n0,1,1\n2,2,1\n";
const Y_CSV: &str = "1\n2\n3\n4\n5\n6\n";

/// A directory holding valid data files (X.csv, Y.csv, X.npy, Y.npy, A.npy, B.npy) and a FIFO
/// named like a data file (`fifo.csv`), which must be refused without being opened.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("X.csv"), X_CSV).unwrap();
    std::fs::write(p.join("Y.csv"), Y_CSV).unwrap();
    let x: Vec<f64> = vec![1., 2., 3., 4., 5., 6., 7., 8., 10., 1., 0., 0., 0., 1., 1., 2., 2., 1.];
    std::fs::write(p.join("X.npy"), Npy::f8(6, 3, &x).bytes()).unwrap();
    std::fs::write(p.join("Y.npy"), Npy::f8_1d(&[1., 2., 3., 4., 5., 6.]).bytes()).unwrap();
    // A (m×d = 8×3) and B (k×m = 1×8) for `transform: {kind: file}`.
    let a: Vec<f64> = (0..24).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
    std::fs::write(p.join("A.npy"), Npy::f8(8, 3, &a).bytes()).unwrap();
    std::fs::write(p.join("B.npy"), Npy::f8(1, 8, &[1., 0., -1., 2., 0.5, 1., -2., 1.]).bytes()).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(p.join("fifo.csv")).status().unwrap().success());
    dir
}

/// Valid experiment files: the repository's own, and files that use every section and kind.
fn bases() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(experiments).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        out.push((p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()));
    }
    let own = "# every section\nname: own-files\nmaster_seed: 7\nseeds: [0, 3]\n\
        data: {kind: file, x: X.csv, y: Y.npy, standardize: [true, false]}\n\
        model:\n  arch: resnet\n  depth: [2, 3]\n  width: 8\n  init_std: 0\n  transform: {kind: file, a: A.npy, b: B.npy, a_scale: 1, b_scale: 0.5}\n\
        optim: {method: sgd, batch: 3, iters: 20, step: {rule: fixed, eta: 0.001}, stop_below: 1.0e-8}\n\
        engine: auto\nlog: {schedule: linear, points: 5, diagnostics: true}\n\
        theory: {c_zou: 1, c_step: 2, c_width: 1, delta: 0.05, target: 1.0e-4}\n\
        figures:\n  - {name: f, kind: curves, title: t, series: model.depth, x: samples, y: excess, yscale: log, ymin: 1.0e-12, ymax: 10, lines: [zou]}\n\
        \x20 - {name: b, kind: bars, title: t, x: model.depth, y: final_rel_excess}\n";
    out.push(("own.yaml".into(), own.into()));
    let spectrum = "name: spectrum\nseeds: 2\n\
        data: {kind: spectrum, d: 4, k: 2, n: 30, kappa: [1, 10], rank: 3, scale: 5, target: gaussian, noise: 0.01}\n\
        model: {depth: 3, width: 6}\n\
        optim: {method: gd, iters: 50}\n\
        zip:\n  - model.arch: [resnet, linear]\n    optim.step: [{rule: zou, scale: 2}, {rule: du_hu}]\n\
        \x20 - {model.transform: [gaussian, {kind: gaussian, sigma_a2: 0.5, sampling: gram}], engine: [dense, reduced]}\n\
        figures:\n  - {name: w, kind: critical_width, title: t, x: model.depth, series: model.arch, budget: 10, target: 1.0e-6, bounds: [zou, margin], margin_experiment: spectrum}\n";
    out.push(("spectrum.yaml".into(), spectrum.into()));
    let transforms = "name: transforms\ndata: {kind: paper, d: 3, n: 12, noise: 0}\n\
        model: {arch: resnet, depth: 2, width: [6, 7], transform: [identity, modified_identity, {kind: gaussian, sigma_b2: 2}]}\n\
        optim: {method: gd, iters: 10, step: {rule: du_hu}}\nlog: {schedule: all}\n";
    out.push(("transforms.yaml".into(), transforms.into()));
    out
}

// ---------------------------------------------------------------------------------------------
// Mutations of experiment files.

/// Values put in place of others: wrong types, extremes, special floats, valid words of the
/// configuration (moved to the wrong place), file names (a FIFO, a device, a directory). Integers
/// beyond u64 (2^64) are not YAML values serde_norway can hold: [`NUMBERS`] writes them into the text.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "3",
    "0.5",
    "-0.0",
    "1e308",
    "-1e308",
    "1.0e-320",
    "5e-324",
    "1e400",
    "18446744073709551615",
    "9223372036854775808",
    "4294967296",
    "1000000000",
    "1000001",
    ".inf",
    "-.inf",
    ".nan",
    "''",
    "abc",
    "ünïcødé ✓ 𝔁",
    "'1e3'",
    "null",
    "~",
    "true",
    "false",
    "[]",
    "{}",
    "[1, 2]",
    "[[1, 2], [3]]",
    "{a: 1}",
    "[{}, []]",
    "resnet",
    "linear",
    "identity",
    "modified_identity",
    "gaussian",
    "paper",
    "spectrum",
    "file",
    "digits",
    "gd",
    "sgd",
    "zou",
    "du_hu",
    "fixed",
    "auto",
    "dense",
    "gram",
    "reduced",
    "reduced_gram",
    "all",
    "geometric",
    "explicit",
    "curves",
    "critical_width",
    "bars",
    "rel_excess",
    "iter",
    "log",
    "{kind: file, x: X.csv, y: Y.csv}",
    "{kind: file, x: X.npy, y: fifo.csv}",
    "{rule: fixed, eta: 1e300}",
    "{kind: gaussian, sampling: gram}",
    "{kind: spectrum, d: 2, k: 2, n: 3, kappa: 1e300}",
    "X.npy",
    "Y.csv",
    "A.npy",
    "fifo.csv",
    "/dev/zero",
    "/proc/self/status",
    ".",
    "../X.csv",
    "model.width",
    "seed",
    "[model.width, model.depth]",
    "final_rel_excess",
    "iters_to_target",
    "theory.zou_margin",
    "certified_width",
    "zou_bound",
    "engines_agree",
    "max",
    "min",
    "median",
    "{each: {at_most: 1}}",
    "{slope: {x: model.depth, at_least: -1}}",
    "{versus: {field: model.arch, numerator: linear, denominator: resnet}}",
];

/// Keys put in place of others or added.
const KEYS: &[&str] = &[
    "name",
    "master_seed",
    "seeds",
    "data",
    "model",
    "optim",
    "engine",
    "log",
    "theory",
    "zip",
    "figures",
    "kind",
    "d",
    "k",
    "n",
    "noise",
    "rank",
    "kappa",
    "scale",
    "target",
    "x",
    "y",
    "standardize",
    "arch",
    "depth",
    "width",
    "transform",
    "init_std",
    "sigma_a2",
    "sigma_b2",
    "sampling",
    "a",
    "b",
    "a_scale",
    "method",
    "batch",
    "iters",
    "step",
    "rule",
    "eta",
    "stop_below",
    "schedule",
    "points",
    "diagnostics",
    "c_zou",
    "delta",
    "series",
    "facets",
    "filter",
    "labels",
    "bounds",
    "budget",
    "ymin",
    "xmax",
    "lines",
    "model.width",
    "model.depth",
    "optim.iters",
    "data",
    "",
    "wídth",
    "1",
    "~",
    "checks",
    "claim",
    "measure",
    "test",
    "over_seeds",
    "each",
    "slope",
    "ratio",
    "spread",
    "versus",
    "at_least",
    "at_most",
    "below",
    "numerator",
];

#[test]
fn every_replacement_value_is_yaml() {
    for v in VALUES {
        assert!(serde_norway::from_str::<Value>(v).is_ok(), "{v}");
    }
}

fn value(i: usize) -> Value {
    serde_norway::from_str(VALUES[i % VALUES.len()]).expect("VALUES are YAML")
}

fn key(i: usize) -> Value {
    Value::String(KEYS[i % KEYS.len()].into())
}

/// A change of the parsed document.
#[derive(Debug, Clone)]
enum TreeOp {
    DeleteKey(Index, Index),
    RenameKey(Index, Index, usize),
    InsertKey(Index, usize, usize),
    Replace(Index, usize),
    /// Another node of the document in place of this one.
    Copy(Index, Index),
    /// `[v]`, `[v, v]`, `[[v]]` or `{v: v}`.
    Wrap(Index, u8),
    /// `[v, other]`: a new grid axis.
    Listify(Index, usize),
    /// Two scalar fields of the run sections moved into a zip group, with `la` and `lb` values.
    Zip(Index, Index, u8, u8),
}

/// A change of the text.
#[derive(Debug, Clone)]
enum TextOp {
    Truncate(Index),
    Indent(Index, i8),
    TabIndent(Index),
    DuplicateLine(Index),
    DeleteLine(Index),
    /// An anchor on one line's value, an alias to it as another line's value.
    Anchor(Index, Index),
    /// Nested anchors that expand exponentially ("billion laughs"), `depth` levels of 9.
    Laughs(Index, u8),
    Tag(Index, u8),
    MultiDocument(u8),
    Insert(Index, u8),
    Number(Index, usize),
    Bom,
    Crlf,
}

fn tree_op() -> impl Strategy<Value = TreeOp> {
    let i = any::<Index>;
    let v = || 0..VALUES.len();
    let k = || 0..KEYS.len();
    prop_oneof![
        1 => (i(), i()).prop_map(|(a, b)| TreeOp::DeleteKey(a, b)),
        1 => (i(), i(), k()).prop_map(|(a, b, c)| TreeOp::RenameKey(a, b, c)),
        1 => (i(), k(), v()).prop_map(|(a, b, c)| TreeOp::InsertKey(a, b, c)),
        3 => (i(), v()).prop_map(|(a, b)| TreeOp::Replace(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| TreeOp::Copy(a, b)),
        1 => (i(), 0u8..4).prop_map(|(a, b)| TreeOp::Wrap(a, b)),
        1 => (i(), v()).prop_map(|(a, b)| TreeOp::Listify(a, b)),
        1 => (i(), i(), 1u8..4, 1u8..4).prop_map(|(a, b, c, d)| TreeOp::Zip(a, b, c, d)),
    ]
}

fn text_op() -> impl Strategy<Value = TextOp> {
    let i = any::<Index>;
    prop_oneof![
        1 => i().prop_map(TextOp::Truncate),
        1 => (i(), -3i8..=3).prop_map(|(a, b)| TextOp::Indent(a, b)),
        1 => i().prop_map(TextOp::TabIndent),
        1 => i().prop_map(TextOp::DuplicateLine),
        1 => i().prop_map(TextOp::DeleteLine),
        1 => (i(), i()).prop_map(|(a, b)| TextOp::Anchor(a, b)),
        1 => (i(), 1u8..9).prop_map(|(a, b)| TextOp::Laughs(a, b)),
        1 => (i(), 0u8..8).prop_map(|(a, b)| TextOp::Tag(a, b)),
        1 => (0u8..4).prop_map(TextOp::MultiDocument),
        1 => (i(), any::<u8>()).prop_map(|(a, b)| TextOp::Insert(a, b)),
        1 => (i(), 0..NUMBERS.len()).prop_map(|(a, b)| TextOp::Number(a, b)),
        1 => Just(TextOp::Bom),
        1 => Just(TextOp::Crlf),
    ]
}

/// Number spellings put in place of a number of the text.
const NUMBERS: &[&str] = &[
    "1e308",
    "1e309",
    "18446744073709551616",
    "99999999999999999999999999",
    "0x1F",
    "0o17",
    "1_000",
    ".5",
    "+3",
    "-0",
    "1e-400",
    "0.0",
    "99999999999999999999999",
    "1.",
    "1e",
    "NaN",
    "-.INF",
    "0b101",
    "٣",
];

/// Nodes of `v` in pre-order for which `want` holds.
fn count(v: &Value, want: &dyn Fn(&Value) -> bool) -> usize {
    let here = usize::from(want(v));
    here + match v {
        Value::Mapping(m) => m.values().map(|x| count(x, want)).sum(),
        Value::Sequence(s) => s.iter().map(|x| count(x, want)).sum(),
        Value::Tagged(t) => count(&t.value, want),
        _ => 0,
    }
}

/// The `n`-th node (pre-order) of `v` for which `want` holds.
fn nth<'a>(v: &'a mut Value, want: &dyn Fn(&Value) -> bool, n: &mut usize) -> Option<&'a mut Value> {
    if want(v) {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
    }
    match v {
        Value::Mapping(m) => m.values_mut().find_map(|x| nth(x, want, n)),
        Value::Sequence(s) => s.iter_mut().find_map(|x| nth(x, want, n)),
        Value::Tagged(t) => nth(&mut t.value, want, n),
        _ => None,
    }
}

fn pick<'a>(doc: &'a mut Value, want: &dyn Fn(&Value) -> bool, i: &Index) -> Option<&'a mut Value> {
    let total = count(doc, want);
    if total == 0 {
        return None;
    }
    nth(doc, want, &mut i.index(total))
}

fn is_map(v: &Value) -> bool {
    matches!(v, Value::Mapping(m) if !m.is_empty())
}

fn any_node(_: &Value) -> bool {
    true
}

/// Dotted paths of the scalar fields of the run sections (zip candidates).
fn scalar_fields(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Mapping(m) => {
                for (k, x) in m {
                    if let Some(k) = k.as_str() {
                        walk(x, if path.is_empty() { k.into() } else { format!("{path}.{k}") }, out);
                    }
                }
            }
            Value::Sequence(_) | Value::Tagged(_) => {}
            _ => out.push(path),
        }
    }
    let mut out = Vec::new();
    if let Value::Mapping(m) = doc {
        for section in linres::grid::RUN_KEYS {
            if let Some(v) = m.get(section) {
                walk(v, section.into(), &mut out);
            }
        }
    }
    out
}

fn take_path(doc: &mut Value, path: &str) -> Option<Value> {
    let (parents, last) = path.rsplit_once('.').map_or(("", path), |(a, b)| (a, b));
    let mut cur = doc;
    for p in parents.split('.').filter(|p| !p.is_empty()) {
        cur = cur.as_mapping_mut()?.get_mut(p)?;
    }
    cur.as_mapping_mut()?.shift_remove(last)
}

fn apply_tree(doc: &mut Value, op: &TreeOp) {
    match op {
        TreeOp::DeleteKey(m, e) => {
            if let Some(Value::Mapping(map)) = pick(doc, &is_map, m) {
                let k = map.keys().nth(e.index(map.len())).cloned().unwrap();
                map.shift_remove(&k);
            }
        }
        TreeOp::RenameKey(m, e, to) => {
            if let Some(Value::Mapping(map)) = pick(doc, &is_map, m) {
                let entries: Vec<(Value, Value)> = std::mem::take(map).into_iter().collect();
                let at = e.index(entries.len());
                for (j, (k, v)) in entries.into_iter().enumerate() {
                    map.insert(if j == at { key(*to) } else { k }, v);
                }
            }
        }
        TreeOp::InsertKey(m, k, v) => {
            if let Some(Value::Mapping(map)) = pick(doc, &is_map, m) {
                map.insert(key(*k), value(*v));
            }
        }
        TreeOp::Replace(n, v) => {
            if let Some(node) = pick(doc, &any_node, n) {
                *node = value(*v);
            }
        }
        TreeOp::Copy(from, to) => {
            let source = pick(doc, &any_node, from).map(|v| v.clone());
            if let (Some(source), Some(node)) = (source, pick(doc, &any_node, to)) {
                *node = source;
            }
        }
        TreeOp::Wrap(n, how) => {
            if let Some(node) = pick(doc, &any_node, n) {
                let v = node.clone();
                *node = match how {
                    0 => Value::Sequence(vec![v]),
                    1 => Value::Sequence(vec![v.clone(), v]),
                    2 => Value::Sequence(vec![Value::Sequence(vec![v])]),
                    // A mapping as a key cannot be written back as YAML: such keys are strings.
                    _ if matches!(v, Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_)) => {
                        Value::Mapping(Mapping::from_iter([(Value::String("k".into()), v)]))
                    }
                    _ => Value::Mapping(Mapping::from_iter([(v.clone(), v)])),
                };
            }
        }
        TreeOp::Listify(n, v) => {
            let scalar = |x: &Value| !matches!(x, Value::Mapping(_) | Value::Sequence(_));
            if let Some(node) = pick(doc, &scalar, n) {
                *node = Value::Sequence(vec![node.clone(), value(*v)]);
            }
        }
        TreeOp::Zip(a, b, la, lb) => {
            let fields = scalar_fields(doc);
            if fields.is_empty() {
                return;
            }
            let (fa, fb) = (fields[a.index(fields.len())].clone(), fields[b.index(fields.len())].clone());
            let mut group = Mapping::new();
            for (f, len) in [(fa, *la), (fb, *lb)] {
                if let Some(v) = take_path(doc, &f) {
                    group.insert(Value::String(f), Value::Sequence(vec![v; len as usize]));
                }
            }
            if let Value::Mapping(top) = doc {
                let zip = top.entry(Value::String("zip".into())).or_insert(Value::Sequence(Vec::new()));
                if let Value::Sequence(groups) = zip {
                    groups.push(Value::Mapping(group));
                }
            }
        }
    }
}

/// The `(start, end)` byte range of the value on line `line` (after `key: ` or `- `), if any.
fn line_value(text: &str, line: usize) -> Option<(usize, usize)> {
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let l = text[start..].split('\n').next()?;
    let at = l.find(": ").map(|p| p + 2).or_else(|| l.find("- ").map(|p| p + 2))?;
    let end = l.find(" #").filter(|&e| e > at).unwrap_or(l.len());
    (at < end).then_some((start + at, start + end))
}

fn line_count(text: &str) -> usize {
    text.split_inclusive('\n').count().max(1)
}

fn apply_text(text: &mut Vec<u8>, op: &TextOp) {
    let s = String::from_utf8_lossy(text).into_owned();
    let lines: Vec<&str> = s.split_inclusive('\n').collect();
    let nl = line_count(&s);
    let rebuild = |lines: Vec<String>| lines.concat().into_bytes();
    match op {
        TextOp::Truncate(i) => {
            let at = i.index(text.len() + 1);
            text.truncate(at);
        }
        TextOp::Indent(i, delta) => {
            let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some(l) = ls.get_mut(i.index(nl)) {
                if *delta > 0 {
                    l.insert_str(0, &" ".repeat(*delta as usize));
                } else {
                    let cut = l.len() - l.trim_start_matches(' ').len();
                    l.drain(..cut.min(delta.unsigned_abs() as usize));
                }
            }
            *text = rebuild(ls);
        }
        TextOp::TabIndent(i) => {
            let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some(l) = ls.get_mut(i.index(nl)) {
                l.insert(0, '\t');
            }
            *text = rebuild(ls);
        }
        TextOp::DuplicateLine(i) | TextOp::DeleteLine(i) => {
            let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if !ls.is_empty() {
                let at = i.index(ls.len());
                if matches!(op, TextOp::DuplicateLine(_)) {
                    let l = ls[at].clone();
                    ls.insert(at, if l.ends_with('\n') { l } else { format!("{l}\n") });
                } else {
                    ls.remove(at);
                }
            }
            *text = rebuild(ls);
        }
        TextOp::Anchor(a, b) => {
            let (a, b) = (a.index(nl), b.index(nl));
            if let (Some(ra), Some(rb)) = (line_value(&s, a), line_value(&s, b)) {
                let mut t = s.clone();
                // Later position first, so the earlier range stays valid.
                if ra.0 < rb.0 {
                    t.replace_range(rb.0..rb.1, "*anc");
                    t.insert_str(ra.0, "&anc ");
                } else if ra.0 > rb.0 {
                    t.insert_str(ra.0, "&anc ");
                    t.replace_range(rb.0..rb.1, "*anc");
                }
                *text = t.into_bytes();
            }
        }
        TextOp::Laughs(i, depth) => {
            if let Some((from, to)) = line_value(&s, i.index(nl)) {
                let mut chain = String::from("[&l0 [x, x, x, x, x, x, x, x, x]");
                for d in 1..*depth {
                    let refs = vec![format!("*l{}", d - 1); 9].join(", ");
                    chain.push_str(&format!(", &l{d} [{refs}]"));
                }
                chain.push(']');
                let mut t = s.clone();
                t.replace_range(from..to, &chain);
                *text = t.into_bytes();
            }
        }
        TextOp::Tag(i, which) => {
            const TAGS: [&str; 8] =
                ["!custom ", "!!str ", "!!int ", "!!float ", "!!binary ", "!!set ", "!<tag:x> ", "! "];
            if let Some((from, _)) = line_value(&s, i.index(nl)) {
                let mut t = s.clone();
                t.insert_str(from, TAGS[*which as usize % TAGS.len()]);
                *text = t.into_bytes();
            }
        }
        TextOp::MultiDocument(how) => {
            *text = match how {
                0 => format!("---\n{s}").into_bytes(),
                1 => format!("{s}\n---\n{s}").into_bytes(),
                2 => format!("{s}\n...\n").into_bytes(),
                _ => format!("%YAML 1.1\n---\n{s}").into_bytes(),
            };
        }
        TextOp::Insert(i, byte) => {
            const SPECIAL: [&[u8]; 8] = [b"\0", b"\xff", b"\t", b"\r", b"\"", b"'", "é".as_bytes(), b"{"];
            let at = i.index(text.len() + 1);
            let bytes: &[u8] = if *byte < 8 { SPECIAL[*byte as usize] } else { std::slice::from_ref(byte) };
            text.splice(at..at, bytes.iter().copied());
        }
        TextOp::Number(i, with) => {
            let spans: Vec<(usize, usize)> = number_spans(&s);
            if !spans.is_empty() {
                let (from, to) = spans[i.index(spans.len())];
                let mut t = s.clone();
                t.replace_range(from..to, NUMBERS[*with]);
                *text = t.into_bytes();
            }
        }
        TextOp::Bom => text.splice(0..0, "\u{feff}".bytes()).for_each(drop),
        TextOp::Crlf => *text = s.replace('\n', "\r\n").into_bytes(),
    }
}

/// Byte ranges of the numbers (digit runs with `.`, `e`, `-`) in a text.
fn number_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'_') {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b".e-+".contains(&b[i])) {
                i += 1;
            }
            out.push((start, i));
        }
        i += 1;
    }
    out
}

/// A mutated experiment file.
#[derive(Debug, Clone)]
struct SpecCase {
    base: usize,
    tree: Vec<TreeOp>,
    text: Vec<TextOp>,
    /// `--set` overrides: (index into [`SET_PATHS`], index into [`VALUES`] or [`SET_RAW`]).
    set: Vec<(usize, usize)>,
}

/// Field paths `--set` is given, some of them malformed.
const SET_PATHS: &[&str] = &[
    "model.width",
    "model.depth",
    "data.kind",
    "data",
    "optim.step.rule",
    "optim.step",
    "optim.step.eta",
    "model.transform.kind",
    "model.transform",
    "model.transform.sampling",
    "seeds",
    "master_seed",
    "name",
    "theory.target",
    "theory",
    "zip",
    "figures",
    "engine",
    "log.points",
    "model",
    "",
    "model..width",
    "data.kind.x",
    ".model",
    "model.width.",
    "unknown.key",
    "zip[0]",
    "model.arch",
];

/// `--set` values that are not YAML values, or not plain ones.
const SET_RAW: &[&str] = &["[1,", "{a", "!tag x", "*alias", "&a 1", "a: b: c", "- 1", "---", "1\n---\n2", "'", "=", ""];

impl SpecCase {
    fn overrides(&self) -> Vec<String> {
        self.set
            .iter()
            .map(|&(p, v)| {
                let value = if v < VALUES.len() { VALUES[v] } else { SET_RAW[(v - VALUES.len()) % SET_RAW.len()] };
                format!("{}={value}", SET_PATHS[p % SET_PATHS.len()])
            })
            .collect()
    }
}

fn spec_case() -> impl Strategy<Value = SpecCase> {
    let set = prop::collection::vec((0..SET_PATHS.len(), 0..VALUES.len() + SET_RAW.len()), 0..3);
    let set = prop_oneof![3 => Just(Vec::new()), 1 => set];
    (0..64usize, prop::collection::vec(tree_op(), 0..4), prop::collection::vec(text_op(), 0..3), set)
        .prop_filter("at least one mutation", |(_, t, x, s)| !t.is_empty() || !x.is_empty() || !s.is_empty())
        .prop_map(|(base, tree, text, set)| SpecCase { base, tree, text, set })
}

impl SpecCase {
    /// The file name and bytes of the mutated experiment file.
    fn render(&self, bases: &[(String, String)]) -> (String, Vec<u8>) {
        let (name, text) = &bases[self.base % bases.len()];
        let text = if self.tree.is_empty() {
            text.clone()
        } else {
            let mut doc: Value = serde_norway::from_str(text).expect("bases parse");
            for op in &self.tree {
                apply_tree(&mut doc, op);
            }
            serde_norway::to_string(&doc).expect("a document serialises")
        };
        let mut bytes = text.into_bytes();
        for op in &self.text {
            apply_text(&mut bytes, op);
        }
        (name.clone(), bytes)
    }
}

/// What the library makes of an experiment file: the number of runs, or the error text.
type Verdict = Result<usize, String>;

/// Loads and expands `path` as every grid command does, checking what a valid grid promises.
fn expand_checked(path: &Path, overrides: &[String]) -> Verdict {
    let spec = Spec::load(path, overrides).map_err(|e| e.to_string())?;
    let runs = spec.expand().map_err(|e| e.to_string())?;
    spec.figure_decls(&runs).map_err(|e| e.to_string())?;
    spec.check_decls(&runs).map_err(|e| e.to_string())?;
    spec.axis_names().map_err(|e| e.to_string())?;
    assert!(!runs.is_empty(), "a valid grid has runs");
    let ids: std::collections::HashSet<String> = runs.iter().map(|r| r.run.id()).collect();
    assert_eq!(ids.len(), runs.len(), "run ids are distinct");
    for r in runs.iter().take(4) {
        // The resolved form is itself a valid run with the same id (`list --resolved` files).
        let json = serde_json::to_value(r.run.config()).expect("a resolved run serialises");
        let again: RunConfig = serde_json::from_value(json).expect("a resolved run reads back");
        let again = again.resolve(spec.base()).expect("a resolved run resolves again");
        assert_eq!(again.id(), r.run.id(), "a resolved run keeps its id");
        assert!(r.params.iter().any(|(k, _)| k == "seed"), "every run names its seed");
    }
    Ok(runs.len())
}

/// The library's verdict on `bytes` written as `dir/name`, checked: no panic, no hang, an error
/// that names the file, nothing written.
fn library_verdict(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    overrides: &[String],
    case: &str,
) -> Result<Verdict, TestCaseError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let before = snapshot(dir);
    let p = path.clone();
    let set = overrides.to_vec();
    let verdict = checked(case, move || expand_checked(&p, &set))
        .map_err(|panic| TestCaseError::fail(format!("panicked: {panic}\n{case}")))?;
    prop_assert!(snapshot(dir) == before, "the library wrote files\n{}", case);
    if let Err(e) = &verdict {
        let file = path.display().to_string();
        let rest = e.strip_prefix(&file).or_else(|| e.strip_prefix("--set"));
        prop_assert!(rest.is_some(), "the error names neither the file nor --set: {}\n{}", e, case);
        let rest = rest.unwrap_or_default();
        prop_assert!(!rest.starts_with(": :"), "an empty field name: {}\n{}", e, case);
        prop_assert!(rest.trim_start_matches([':', ' ']).len() > 3, "an empty message: {}\n{}", e, case);
    }
    Ok(verdict)
}

fn describe(name: &str, bytes: &[u8], ops: &dyn std::fmt::Debug) -> String {
    format!("--- {name} ({ops:?}) ---\n{}\n---", String::from_utf8_lossy(bytes))
}

/// The binary agrees with the library: exit 0 for a valid grid, exit 2 naming the file otherwise,
/// within the time limit, with no results directory after an error.
fn binary_agrees(
    dir: &Path,
    name: &str,
    overrides: &[String],
    verdict: &Verdict,
    case: &str,
) -> Result<(), TestCaseError> {
    let args = |command: &'static str| {
        let mut args = vec![command, name, "-q"];
        for o in overrides {
            args.extend(["--set", o.as_str()]);
        }
        args
    };
    // Results of an earlier experiment, which no command may touch.
    std::fs::create_dir_all(dir.join("results/earlier")).unwrap();
    std::fs::write(dir.join("results/earlier/kept.txt"), "kept").unwrap();
    let before = snapshot(dir);
    let o = linres_within(dir, &args("list"), PROCESS_LIMIT);
    let (_, err) = texts(&o);
    prop_assert!(!err.contains("panicked"), "{}\n{}", err, case);
    prop_assert!(snapshot(dir) == before, "`list` wrote files\n{}", case);
    match verdict {
        Ok(_) => prop_assert_eq!(o.status.code(), Some(0), "`list` of a valid grid: {}\n{}", err, case),
        Err(e) => {
            prop_assert_eq!(o.status.code(), Some(2), "`list` of a bad grid: {}\n{}", err, case);
            // The library was given absolute paths, the binary paths relative to `dir`.
            let relative = e.replace(&format!("{}/", dir.display()), "");
            prop_assert!(err.contains(&relative), "`list` says\n{}\nthe library\n{}\n{}", err, relative, case);
            let o = linres_within(dir, &args("run"), PROCESS_LIMIT);
            let (_, err) = texts(&o);
            prop_assert_eq!(o.status.code(), Some(2), "`run` of a bad grid: {}\n{}", err, case);
            prop_assert!(err.contains(&relative), "`run` says\n{}\nthe library\n{}\n{}", err, relative, case);
            prop_assert!(snapshot(dir) == before, "`run` of a bad grid wrote files\n{}", case);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(cases(DEFAULT_CASES)))]

    #[test]
    fn mutated_experiment_files_expand_or_fail_cleanly(case in spec_case()) {
        let dir = data_dir();
        let (name, bytes) = case.render(&bases());
        let text = describe(&name, &bytes, &(&case, case.overrides()));
        let _ = library_verdict(dir.path(), &name, &bytes, &case.overrides(), &text)?;
    }
}

proptest! {
    #![proptest_config(config(cases(DEFAULT_CASES).div_ceil(8)))]

    #[test]
    fn the_binary_agrees_on_mutated_experiment_files(case in spec_case()) {
        let dir = data_dir();
        let (name, bytes) = case.render(&bases());
        let text = describe(&name, &bytes, &(&case, case.overrides()));
        let verdict = library_verdict(dir.path(), &name, &bytes, &case.overrides(), &text)?;
        binary_agrees(dir.path(), &name, &case.overrides(), &verdict, &text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// `.npy` files.

/// An `.npy` file in parts, so that each part can be broken separately.
#[derive(Debug, Clone)]
struct Npy {
    major: u8,
    minor: u8,
    /// Header entries (key and value as written), in order.
    entries: Vec<(String, String)>,
    /// The header length field; `None` for the length of the header written.
    header_len: Option<u32>,
    newline: bool,
    payload: Vec<u8>,
}

impl Npy {
    fn new(descr: &str, fortran: bool, shape: &str, payload: Vec<u8>) -> Npy {
        Npy {
            major: 1,
            minor: 0,
            entries: vec![
                ("'descr'".into(), format!("'{descr}'")),
                ("'fortran_order'".into(), if fortran { "True" } else { "False" }.into()),
                ("'shape'".into(), shape.into()),
            ],
            header_len: None,
            newline: true,
            payload,
        }
    }

    fn f8(rows: usize, cols: usize, row_major: &[f64]) -> Npy {
        Npy::new("<f8", false, &format!("({rows}, {cols})"), row_major.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn f8_1d(values: &[f64]) -> Npy {
        Npy::new("<f8", false, &format!("({},)", values.len()), values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn bytes(&self) -> Vec<u8> {
        let mut dict: String =
            format!("{{{}}}", self.entries.iter().map(|(k, v)| format!("{k}: {v}, ")).collect::<String>());
        let prefix = if self.major == 1 { 10 } else { 12 };
        let used = prefix + dict.len() + usize::from(self.newline);
        dict.push_str(&" ".repeat((64 - used % 64) % 64));
        if self.newline {
            dict.push('\n');
        }
        let mut out = b"\x93NUMPY".to_vec();
        out.extend([self.major, self.minor]);
        let len = self.header_len.unwrap_or(dict.len() as u32);
        if self.major == 1 {
            out.extend((len as u16).to_le_bytes());
        } else {
            out.extend(len.to_le_bytes());
        }
        out.extend(dict.as_bytes());
        out.extend(&self.payload);
        out
    }
}

/// A valid matrix and its `.npy` encoding (float64 or float32, either byte order, C or Fortran
/// order, header version 1, 2 or 3, or a 1-D array for one column).
#[derive(Debug, Clone)]
struct NpyMatrix {
    rows: usize,
    cols: usize,
    /// Row-major values, exactly representable in the dtype.
    values: Vec<f64>,
    f32: bool,
    big_endian: bool,
    fortran: bool,
    one_d: bool,
    version: u8,
}

fn entry() -> impl Strategy<Value = f64> {
    prop_oneof![-1000.0..1000.0f64, Just(0.0), (-50i32..50).prop_map(f64::from), 1e-90..1e90f64]
}

fn npy_matrix() -> impl Strategy<Value = NpyMatrix> {
    (1usize..6, 1usize..5)
        .prop_flat_map(|(r, c)| {
            (
                Just(r),
                Just(c),
                prop::collection::vec(entry(), r * c),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                1u8..4,
            )
        })
        .prop_map(|(rows, cols, values, f32, big_endian, fortran, one_d, version)| {
            // float32 entries: the nearest float32 of each value, within float32's range.
            let values =
                if f32 { values.iter().map(|&v| v.clamp(-1e30, 1e30) as f32 as f64).collect() } else { values };
            let cols = if one_d { 1 } else { cols };
            let values = values[..rows * cols].to_vec();
            NpyMatrix { rows, cols, values, f32, big_endian, fortran: fortran && !one_d, one_d, version }
        })
}

impl NpyMatrix {
    fn npy(&self) -> Npy {
        let order: Vec<f64> = if self.fortran {
            (0..self.cols)
                .flat_map(|j| (0..self.rows).map(move |i| (i, j)))
                .map(|(i, j)| self.values[i * self.cols + j])
                .collect()
        } else {
            self.values.clone()
        };
        let payload: Vec<u8> = order
            .iter()
            .flat_map(|&v| match (self.f32, self.big_endian) {
                (false, false) => v.to_le_bytes().to_vec(),
                (false, true) => v.to_be_bytes().to_vec(),
                (true, false) => (v as f32).to_le_bytes().to_vec(),
                (true, true) => (v as f32).to_be_bytes().to_vec(),
            })
            .collect();
        let descr = format!("{}{}", if self.big_endian { '>' } else { '<' }, if self.f32 { "f4" } else { "f8" });
        let shape = if self.one_d { format!("({},)", self.rows) } else { format!("({}, {})", self.rows, self.cols) };
        let mut npy = Npy::new(&descr, self.fortran, &shape, payload);
        npy.major = self.version;
        npy
    }
}

/// A change of an `.npy` file.
#[derive(Debug, Clone)]
enum NpyOp {
    Descr(usize),
    Fortran(usize),
    Shape(usize),
    DropEntry(Index),
    /// A second entry with an existing key and another value (a parser may take either).
    DuplicateEntry(Index, usize),
    KeyStyle(Index, u8),
    Extra(usize),
    Version(u8, u8),
    HeaderLen(u32),
    NoNewline,
    Magic(u8, u8),
    Truncate(Index),
    Append(Vec<u8>),
    Payload(Index, usize),
}

const DESCRS: &[&str] = &[
    "'<f8'",
    "'<f4'",
    "'>f8'",
    "'|f8'",
    "'=f4'",
    "'<f2'",
    "'<f16'",
    "'<i8'",
    "'<u1'",
    "'|b1'",
    "'<c16'",
    "'O'",
    "'<U3'",
    "''",
    "'f8'",
    "'<V8'",
    "'<M8[s]'",
    "'<f8 '",
    "<f8",
    "[('a', '<f8')]",
    "'\\u00e9'",
    "None",
];
const FORTRANS: &[&str] = &["True", "False", "1", "0", "'x'", "None", "", "TRUE", "(True,)"];
const EXTRAS: &[&str] = &[
    "'extra': 1",
    "'shape': (100000, 100000)",
    "'descr': '<i8'",
    "'fortran_order': True",
    "'shape': ()",
    "'shape': (0, 3)",
    "1: 2",
    "'': ''",
];
/// Payload values written over an entry.
const PAYLOADS: &[f64] =
    &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, 5e-324, 1e-200, 0.0, -0.0, 1e101, 1e-101];

/// Shapes as written, from the true `rows` and `cols`.
fn shapes(rows: usize, cols: usize) -> Vec<String> {
    vec![
        format!("({rows}, {cols})"),
        format!("({cols}, {rows})"),
        format!("({},)", rows * cols),
        format!("({rows},)"),
        "()".into(),
        format!("(0, {cols})"),
        format!("({rows}, 0)"),
        "(100000, 100000)".into(),
        "(4294967296, 4294967296)".into(),
        "(9223372036854775807,)".into(),
        "(2305843009213693952, 8)".into(),
        "(-1, 2)".into(),
        format!("(1, {rows}, {cols})"),
        format!("({rows}, {cols}, 1)"),
        format!("({rows}L, {cols}L)"),
        "(1e3, 2)".into(),
        format!("[{rows}, {cols}]"),
        format!("{rows}"),
        "(18446744073709551616, 1)".into(),
        format!("({rows}, {cols}"),
        format!("({rows} {cols})"),
        "(,)".into(),
        format!("{}{rows}{}", "(".repeat(5000), ")".repeat(5000)),
    ]
}

fn npy_op() -> impl Strategy<Value = NpyOp> {
    let i = any::<Index>;
    prop_oneof![
        1 => (0..DESCRS.len()).prop_map(NpyOp::Descr),
        1 => (0..FORTRANS.len()).prop_map(NpyOp::Fortran),
        3 => (0usize..23).prop_map(NpyOp::Shape),
        1 => i().prop_map(NpyOp::DropEntry),
        1 => (i(), 0usize..23).prop_map(|(a, b)| NpyOp::DuplicateEntry(a, b)),
        1 => (i(), 0u8..4).prop_map(|(a, b)| NpyOp::KeyStyle(a, b)),
        1 => (0..EXTRAS.len()).prop_map(NpyOp::Extra),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| NpyOp::Version(a, b)),
        1 => prop_oneof![any::<u32>(), 0u32..200].prop_map(NpyOp::HeaderLen),
        1 => Just(NpyOp::NoNewline),
        1 => (0u8..8, any::<u8>()).prop_map(|(a, b)| NpyOp::Magic(a, b)),
        2 => i().prop_map(NpyOp::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..17).prop_map(NpyOp::Append),
        2 => (i(), 0..PAYLOADS.len()).prop_map(|(a, b)| NpyOp::Payload(a, b)),
    ]
}

/// Applies header operations to the parts, then byte operations to the file.
fn mutate_npy(m: &NpyMatrix, ops: &[NpyOp]) -> Vec<u8> {
    let mut npy = m.npy();
    let shape_list = shapes(m.rows, m.cols);
    let item = if m.f32 { 4 } else { 8 };
    for op in ops {
        match op {
            NpyOp::Descr(d) => npy.entries[0].1 = DESCRS[*d].into(),
            NpyOp::Fortran(f) => {
                if let Some(e) = npy.entries.iter_mut().find(|e| e.0.contains("fortran")) {
                    e.1 = FORTRANS[*f].into();
                }
            }
            NpyOp::Shape(s) => {
                if let Some(e) = npy.entries.iter_mut().find(|e| e.0.contains("shape")) {
                    e.1 = shape_list[s % shape_list.len()].clone();
                }
            }
            NpyOp::DropEntry(i) if !npy.entries.is_empty() => {
                npy.entries.remove(i.index(npy.entries.len()));
            }
            NpyOp::DuplicateEntry(i, s) if !npy.entries.is_empty() => {
                let k = npy.entries[i.index(npy.entries.len())].0.clone();
                let v = if k.contains("shape") {
                    shape_list[s % shape_list.len()].clone()
                } else if k.contains("descr") {
                    DESCRS[s % DESCRS.len()].into()
                } else {
                    FORTRANS[s % FORTRANS.len()].into()
                };
                npy.entries.push((k, v));
            }
            NpyOp::KeyStyle(i, style) if !npy.entries.is_empty() => {
                let at = i.index(npy.entries.len());
                let e = &mut npy.entries[at];
                let bare = e.0.trim_matches('\'').to_string();
                e.0 = match style {
                    0 => format!("\"{bare}\""),
                    1 => format!("'{bare}' "),
                    2 => bare,
                    _ => format!("'{}'", bare.to_uppercase()),
                };
            }
            NpyOp::Extra(x) => {
                let (k, v) = EXTRAS[*x].split_once(": ").unwrap();
                npy.entries.push((k.into(), v.into()));
            }
            NpyOp::Version(a, b) => (npy.major, npy.minor) = (*a, *b),
            NpyOp::HeaderLen(l) => npy.header_len = Some(*l),
            NpyOp::NoNewline => npy.newline = false,
            NpyOp::Payload(i, v) => {
                let slots = npy.payload.len() / item;
                if slots > 0 {
                    let at = i.index(slots) * item;
                    let bytes: Vec<u8> = if m.f32 {
                        let x = PAYLOADS[*v] as f32;
                        if m.big_endian { x.to_be_bytes().to_vec() } else { x.to_le_bytes().to_vec() }
                    } else if m.big_endian {
                        PAYLOADS[*v].to_be_bytes().to_vec()
                    } else {
                        PAYLOADS[*v].to_le_bytes().to_vec()
                    };
                    npy.payload[at..at + item].copy_from_slice(&bytes);
                }
            }
            _ => {}
        }
    }
    let mut bytes = npy.bytes();
    for op in ops {
        match op {
            NpyOp::Magic(at, b) => {
                if let Some(byte) = bytes.get_mut(*at as usize % 6) {
                    *byte = *b;
                }
            }
            NpyOp::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
            NpyOp::Append(extra) => bytes.extend(extra),
            _ => {}
        }
    }
    bytes
}

/// Loads a matrix file through the library: no panic, no hang, an error naming the file; a matrix
/// that loads is non-empty and finite, and its digest has its shape.
fn load_checked(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    case: &str,
) -> Result<Result<Vec<Vec<f64>>, String>, TestCaseError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let p = path.clone();
    let loaded = checked(case, move || {
        let m = linres::matrix_file::load(&p).map_err(|e| e.to_string())?;
        let d = linres::matrix_file::digest(&p).expect("a file that loads has a digest");
        assert_eq!((d.rows, d.cols), m.dim(), "the digest has the loaded shape");
        Ok::<_, String>(m.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
    })
    .map_err(|panic| TestCaseError::fail(format!("panicked: {panic}\n{case}")))?;
    match &loaded {
        Ok(m) => {
            prop_assert!(!m.is_empty() && !m[0].is_empty(), "an empty matrix loaded\n{}", case);
            prop_assert!(m.iter().flatten().all(|v| v.is_finite()), "a non-finite entry loaded\n{}", case);
        }
        Err(e) => prop_assert!(
            e.starts_with(&path.display().to_string()),
            "the error does not name the file: {}\n{}",
            e,
            case
        ),
    }
    Ok(loaded)
}

fn rows_of(values: &[f64], cols: usize) -> Vec<Vec<f64>> {
    values.chunks(cols).map(<[f64]>::to_vec).collect()
}

/// A spec that trains on `x` (with targets of `rows` rows), for the binary.
fn file_spec(dir: &Path, x: &str, rows: usize) -> String {
    std::fs::write(dir.join("T.csv"), "1\n".repeat(rows)).unwrap();
    std::fs::write(
        dir.join("exp.yaml"),
        format!(
            "name: exp\ndata: {{kind: file, x: {x}, y: T.csv}}\nmodel: {{arch: linear, depth: 2, width: 4}}\n\
             optim: {{method: gd, iters: 5, step: {{rule: du_hu}}}}\n"
        ),
    )
    .unwrap();
    "exp.yaml".into()
}

proptest! {
    #![proptest_config(config(cases(DEFAULT_CASES)))]

    #[test]
    fn valid_npy_files_load_exactly(m in npy_matrix()) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = m.npy().bytes();
        let case = format!("{m:?}");
        let loaded = load_checked(dir.path(), "m.npy", &bytes, &case)?;
        prop_assert_eq!(loaded, Ok(rows_of(&m.values, m.cols)), "{}", case);
    }

    #[test]
    fn mutated_npy_files_load_or_fail_cleanly(m in npy_matrix(), ops in prop::collection::vec(npy_op(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = mutate_npy(&m, &ops);
        let case = format!("{m:?}\n{ops:?}\n{:?}", String::from_utf8_lossy(&bytes));
        let _ = load_checked(dir.path(), "m.npy", &bytes, &case)?;
    }
}

proptest! {
    #![proptest_config(config(cases(DEFAULT_CASES).div_ceil(8)))]

    #[test]
    fn the_binary_agrees_on_mutated_npy_files(m in npy_matrix(), ops in prop::collection::vec(npy_op(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = mutate_npy(&m, &ops);
        let case = format!("{m:?}\n{ops:?}\n{:?}", String::from_utf8_lossy(&bytes));
        let _ = load_checked(dir.path(), "X.npy", &bytes, &case)?;
        let spec = file_spec(dir.path(), "X.npy", m.rows);
        let verdict = library_verdict(dir.path(), &spec, &std::fs::read(dir.path().join(&spec)).unwrap(), &[], &case)?;
        binary_agrees(dir.path(), &spec, &[], &verdict, &case)?;
    }
}

// ---------------------------------------------------------------------------------------------
// CSV files.

/// One number as written in a CSV cell (every spelling denotes exactly `value`).
#[derive(Debug, Clone)]
struct Cell {
    value: f64,
    style: u8,
}

impl Cell {
    fn text(&self) -> String {
        match self.style % 6 {
            0 => format!("{}", self.value),
            1 => format!("{:e}", self.value),
            2 => format!(" {} ", self.value),
            3 => format!("\"{}\"", self.value),
            4 if self.value >= 0.0 => format!("+{}", self.value),
            _ => format!("{:E}", self.value),
        }
    }
}

/// A clean CSV: a rectangle of numbers, perhaps a header of names, a BOM, CRLF or CR line ends,
/// blank lines, and a final line end or not.
#[derive(Debug, Clone)]
struct Csv {
    header: Option<Vec<String>>,
    rows: Vec<Vec<Cell>>,
    bom: bool,
    line_end: &'static str,
    blank_after: Option<Index>,
    final_end: bool,
}

const NAMES: &[&str] = &["x", "feature 1", "\"quoted, name\"", "ü", "a1", "1a", "-", "e", "nan_count"];

fn csv() -> impl Strategy<Value = Csv> {
    (1usize..6, 1usize..5)
        .prop_flat_map(|(r, c)| {
            (
                prop::option::of(prop::collection::vec(prop::sample::select(NAMES), c)),
                prop::collection::vec(prop::collection::vec((entry(), any::<u8>()), c), r),
                any::<bool>(),
                prop::sample::select(&["\n", "\r\n", "\r"][..]),
                prop::option::of(any::<Index>()),
                any::<bool>(),
            )
        })
        .prop_map(|(header, rows, bom, line_end, blank_after, final_end)| Csv {
            header: header.map(|h| h.into_iter().map(str::to_string).collect()),
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(|(value, style)| Cell { value, style }).collect())
                .collect(),
            bom,
            line_end,
            blank_after,
            final_end,
        })
}

impl Csv {
    fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.header.iter().map(|h| h.join(",")).collect();
        lines.extend(self.rows.iter().map(|r| r.iter().map(Cell::text).collect::<Vec<_>>().join(",")));
        if let Some(i) = &self.blank_after {
            lines.insert(i.index(lines.len()) + 1, String::new());
        }
        lines
    }

    fn render(lines: &[String], bom: bool, line_end: &str, final_end: bool) -> Vec<u8> {
        let mut text = if bom { "\u{feff}".to_string() } else { String::new() };
        text.push_str(&lines.join(line_end));
        if final_end {
            text.push_str(line_end);
        }
        text.into_bytes()
    }

    fn bytes(&self) -> Vec<u8> {
        Csv::render(&self.lines(), self.bom, self.line_end, self.final_end)
    }

    fn matrix(&self) -> Vec<Vec<f64>> {
        self.rows.iter().map(|r| r.iter().map(|c| c.value).collect()).collect()
    }
}

/// Cells put in place of a number.
const CELLS: &[&str] = &[
    "",
    "abc",
    "1,5",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "infinity",
    "1e400",
    "1e-400",
    "1e308",
    "1e-320",
    "1e101",
    "1e-101",
    "0x10",
    "1_000",
    "１",
    "\"",
    "\"\"",
    "--1",
    "1e",
    ".",
    "-",
    "+",
    " ",
    "\u{feff}1",
    "1;2",
    "1\t2",
    "\"1\"\"2\"",
    "'1'",
    "1 2",
    "١",
];

/// A change of a CSV file.
#[derive(Debug, Clone)]
enum CsvOp {
    Separator(u8),
    UnclosedQuote(Index),
    DropCell(Index),
    AddCell(Index),
    Cell(Index, usize),
    /// A header line of numbers (it is then a data row).
    NumericHeader,
    DuplicateLine(Index),
    DeleteLine(Index),
    Truncate(Index),
    Insert(Index, u8),
    OnlyHeader,
    Empty(u8),
}

fn csv_op() -> impl Strategy<Value = CsvOp> {
    let i = any::<Index>;
    prop_oneof![
        1 => (0u8..5).prop_map(CsvOp::Separator),
        1 => i().prop_map(CsvOp::UnclosedQuote),
        1 => i().prop_map(CsvOp::DropCell),
        1 => i().prop_map(CsvOp::AddCell),
        3 => (i(), 0..CELLS.len()).prop_map(|(a, b)| CsvOp::Cell(a, b)),
        1 => Just(CsvOp::NumericHeader),
        1 => i().prop_map(CsvOp::DuplicateLine),
        1 => i().prop_map(CsvOp::DeleteLine),
        2 => i().prop_map(CsvOp::Truncate),
        1 => (i(), any::<u8>()).prop_map(|(a, b)| CsvOp::Insert(a, b)),
        1 => Just(CsvOp::OnlyHeader),
        1 => (0u8..4).prop_map(CsvOp::Empty),
    ]
}

fn mutate_csv(c: &Csv, ops: &[CsvOp]) -> Vec<u8> {
    let mut c = c.clone();
    let mut sep = ",";
    let mut lines_ops = Vec::new();
    for op in ops {
        let cols = c.rows[0].len();
        match op {
            CsvOp::Separator(s) => sep = [";", "\t", " ", "|", " ; "][*s as usize],
            CsvOp::DropCell(i) => {
                let r = i.index(c.rows.len());
                if c.rows[r].len() > 1 {
                    c.rows[r].pop();
                }
            }
            CsvOp::AddCell(i) => {
                let r = i.index(c.rows.len());
                c.rows[r].push(Cell { value: 1.0, style: 0 });
            }
            CsvOp::NumericHeader => c.header = Some((0..cols).map(|j| j.to_string()).collect()),
            CsvOp::OnlyHeader => {
                c.header.get_or_insert_with(|| vec!["x".into(); cols]);
                c.rows.truncate(1);
                lines_ops.push(CsvOp::OnlyHeader);
            }
            other => lines_ops.push(other.clone()),
        }
    }
    let header_lines = usize::from(c.header.is_some());
    let mut lines: Vec<String> = c.header.iter().map(|h| h.join(sep)).collect();
    let mut grid: Vec<Vec<String>> = c.rows.iter().map(|r| r.iter().map(Cell::text).collect()).collect();
    for op in &lines_ops {
        let (i, with) = match op {
            CsvOp::Cell(i, w) => (i, Some(*w)),
            CsvOp::UnclosedQuote(i) => (i, None),
            _ => continue,
        };
        {
            let total: usize = grid.iter().map(Vec::len).sum();
            let mut at = i.index(total);
            for row in grid.iter_mut() {
                if at < row.len() {
                    row[at] = match with {
                        Some(w) => CELLS[w].to_string(),
                        None => format!("\"{}", row[at].trim_matches('"')),
                    };
                    break;
                }
                at -= row.len();
            }
        }
    }
    lines.extend(grid.iter().map(|r| r.join(sep)));
    for op in &lines_ops {
        match op {
            CsvOp::DuplicateLine(i) => {
                let at = i.index(lines.len());
                lines.insert(at, lines[at].clone());
            }
            CsvOp::DeleteLine(i) if lines.len() > 1 => {
                lines.remove(i.index(lines.len()));
            }
            CsvOp::OnlyHeader => lines.truncate(header_lines),
            _ => {}
        }
    }
    let mut bytes = Csv::render(&lines, c.bom, c.line_end, c.final_end);
    for op in &lines_ops {
        match op {
            CsvOp::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
            CsvOp::Insert(i, b) => {
                let at = i.index(bytes.len() + 1);
                bytes.insert(at, *b);
            }
            CsvOp::Empty(how) => {
                bytes = match how {
                    0 => Vec::new(),
                    1 => "\u{feff}".into(),
                    2 => b"\n\n\r\n".to_vec(),
                    _ => b" , ,\n".to_vec(),
                }
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(config(cases(DEFAULT_CASES)))]

    #[test]
    fn clean_csv_files_load_exactly(c in csv()) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = c.bytes();
        let case = format!("{c:?}\n{:?}", String::from_utf8_lossy(&bytes));
        let loaded = load_checked(dir.path(), "m.csv", &bytes, &case)?;
        prop_assert_eq!(loaded, Ok(c.matrix()), "{}", case);
    }

    #[test]
    fn mutated_csv_files_load_or_fail_cleanly(c in csv(), ops in prop::collection::vec(csv_op(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = mutate_csv(&c, &ops);
        let case = format!("{c:?}\n{ops:?}\n{:?}", String::from_utf8_lossy(&bytes));
        let _ = load_checked(dir.path(), "m.csv", &bytes, &case)?;
    }
}

proptest! {
    #![proptest_config(config(cases(DEFAULT_CASES).div_ceil(8)))]

    #[test]
    fn the_binary_agrees_on_mutated_csv_files(c in csv(), ops in prop::collection::vec(csv_op(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = mutate_csv(&c, &ops);
        let case = format!("{c:?}\n{ops:?}\n{:?}", String::from_utf8_lossy(&bytes));
        let _ = load_checked(dir.path(), "X.csv", &bytes, &case)?;
        let spec = file_spec(dir.path(), "X.csv", c.rows.len());
        let verdict = library_verdict(dir.path(), &spec, &std::fs::read(dir.path().join(&spec)).unwrap(), &[], &case)?;
        binary_agrees(dir.path(), &spec, &[], &verdict, &case)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the properties (the `.npy` header ones are unit tests of `data::files`).

/// `--set =0` was reported as "--set: : empty component in the field path" (an empty field name,
/// no word of what was given), `--set =[1,` as "--set: : `[1,` is not a YAML value…".
#[test]
fn a_set_path_with_an_empty_component_is_quoted_without_an_empty_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.yaml");
    std::fs::write(&path, common::small_grid("g")).unwrap();
    for set in ["=0", "model..width=3", ".model=1", "model.width.=2"] {
        let e = Spec::load(&path, &[set.to_string()]).unwrap_err().to_string();
        assert!(!e.contains(": :"), "{e}");
        assert!(e.starts_with("--set: ") && e.contains(&format!("`{set}`")) && e.contains("empty component"), "{e}");
    }
    let e = Spec::load(&path, &["=[1,".to_string()]).unwrap_err().to_string();
    assert!(e.starts_with("--set: `[1,` is not a YAML value"), "{e}");
}

/// Sizes from input whose products exceed `usize` (depth 2^64 − 1) panicked in the engine cost model
/// ("attempt to multiply with overflow"; wrapped silently in release builds) while the grid was
/// expanded; a linear network of depth 10⁹ built its list of 10⁹ layer shapes (16 GB) only to
/// estimate its memory; d + k overflowed in the width rule of `modified_identity`. Each is now a
/// clean error naming the field, found without allocating.
#[test]
fn extreme_sizes_are_refused_without_overflow_or_allocation() {
    let max = u64::MAX;
    let cases = [
        (format!("{{arch: resnet, depth: {max}, width: 40}}"), "zou", "{kind: paper, d: 10, n: 100}", "model.depth"),
        ("{arch: linear, depth: 1000000000, width: 40}".into(), "du_hu", "{kind: paper, d: 10, n: 100}", "model.depth"),
        (format!("{{arch: linear, depth: {max}, width: {max}}}"), "du_hu", "{kind: paper, d: 10, n: 100}", "model."),
        (
            "{arch: resnet, depth: 2, width: 40, transform: modified_identity}".into(),
            "zou",
            "{kind: paper, d: 9223372036854775808, n: 1}",
            "modified_identity needs m ≥ d + k = 18446744073709551616",
        ),
    ];
    for (model, rule, data, named) in cases {
        let text = format!(
            "name: big\ndata: {data}\nmodel: {model}\noptim: {{method: gd, iters: 10, step: {{rule: {rule}}}}}\n"
        );
        let yaml = text.clone();
        let e = checked(&text, move || {
            Spec::parse(&yaml, Path::new("big.yaml"), &[]).and_then(|s| s.expand()).map(|r| r.len())
        })
        .expect("no panic")
        .expect_err("refused");
        assert!(e.to_string().contains(named), "{e}");
    }
}
