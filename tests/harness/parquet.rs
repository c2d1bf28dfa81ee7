//! `summary.parquet` and `curves.parquet`: read back with the Parquet crate's own reader, their
//! columns are typed (numbers numeric, names dictionaries, a field a run lacks null) and every value
//! equals the cell of `summary.csv` / `runs.csv` it stands for; `linres export --format` writes the
//! same bytes elsewhere and never replaces a file without `--force`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::common::{linres, text};

/// Widths (integers), transforms and methods (names), step scales (floats), and a batch size that
/// only the SGD runs have.
const GRID: &str = "name: pq\nmaster_seed: 1\nseeds: 2\ndata: {kind: paper, d: 3, n: 9}\n\
model: {arch: resnet, depth: 2, width: [6, 8], transform: [gaussian, modified_identity]}\n\
optim: {method: [gd, sgd], batch: 3, iters: 5, step: {rule: zou, scale: [0.5, 1]}}\n";

fn computed(jobs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pq.yaml"), GRID).unwrap();
    let o = linres(dir.path(), &["run", "-q", "pq.yaml", "--jobs", jobs]);
    assert!(o.status.success(), "{}", text(&o));
    dir
}

/// Every row of a Parquet file, as one batch.
fn read_parquet(path: &Path) -> RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let mut batches: Vec<RecordBatch> = builder.with_batch_size(1 << 20).build().unwrap().map(Result::unwrap).collect();
    assert_eq!(batches.len(), 1, "{}", path.display());
    batches.remove(0)
}

/// The header and rows of a CSV file.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|row| row.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

/// Whether the Parquet value at `row` of `column` is what the CSV cell `cell` says: an empty cell
/// is null, `inf` is +∞, numbers equal exactly once parsed, names equal as text.
fn same_value(column: &dyn Array, row: usize, cell: &str) -> bool {
    if column.is_null(row) {
        return cell.is_empty();
    }
    match column.data_type() {
        DataType::Int64 => {
            cell.parse::<i64>().ok() == Some(column.as_primitive::<arrow_array::types::Int64Type>().value(row))
        }
        DataType::Float64 => {
            let v = column.as_primitive::<arrow_array::types::Float64Type>().value(row);
            let want = if cell == "inf" { Some(f64::INFINITY) } else { cell.parse::<f64>().ok() };
            want == Some(v)
        }
        DataType::Boolean => cell.parse::<bool>().ok() == Some(column.as_boolean().value(row)),
        DataType::Utf8 => column.as_string::<i32>().value(row) == cell,
        DataType::Dictionary(..) => {
            let dict = column.as_dictionary::<Int32Type>();
            let key = dict.keys().value(row) as usize;
            dict.values().as_string::<i32>().value(key) == cell
        }
        other => panic!("a column of type {other:?}"),
    }
}

/// Every column of the CSV table is in the Parquet table under its name, row for row, with the
/// same values.
fn assert_same_table(parquet: &RecordBatch, csv: &(Vec<String>, Vec<Vec<String>>), file: &str) {
    let (header, rows) = csv;
    assert_eq!(parquet.num_rows(), rows.len(), "{file}: rows");
    for (j, name) in header.iter().enumerate() {
        let column = parquet.column_by_name(name).unwrap_or_else(|| panic!("{file}: no column {name}"));
        for (i, row) in rows.iter().enumerate() {
            assert!(same_value(column.as_ref(), i, &row[j]), "{file}: row {i}, column {name}: csv `{}`", row[j]);
        }
    }
}

fn type_of(batch: &RecordBatch, name: &str) -> DataType {
    batch.schema().field_with_name(name).unwrap_or_else(|_| panic!("no column {name}")).data_type().clone()
}

fn names() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

#[test]
fn summary_parquet_has_typed_columns_holding_the_values_of_summary_csv() {
    let dir = computed("2");
    let results = dir.path().join("results/pq");
    let summary = read_parquet(&results.join("summary.parquet"));
    let csv = read_csv(&results.join("summary.csv"));
    assert_eq!(csv.1.len(), 32, "every run of the grid has a row");
    assert_same_table(&summary, &csv, "summary.parquet");
    // Grid fields typed by their values: integers, floats, names; a field a run lacks is null.
    for (column, want) in [
        ("model.width", DataType::Int64),
        ("seed", DataType::Int64),
        ("optim.batch", DataType::Int64),
        ("optim.step.scale", DataType::Float64),
        ("model.transform", names()),
        ("optim.method", names()),
        ("status", names()),
        ("final_iter", DataType::Int64),
        ("final_rel_excess", DataType::Float64),
        ("kappa", DataType::Float64),
        ("zou_covered", DataType::Boolean),
    ] {
        assert_eq!(type_of(&summary, column), want, "{column}");
    }
    let batch = summary.column_by_name("optim.batch").unwrap();
    let method = summary.column_by_name("optim.method").unwrap();
    for i in 0..summary.num_rows() {
        let sgd = same_value(method.as_ref(), i, "sgd");
        assert_eq!(batch.is_null(i), !sgd, "row {i}: a GD run has no batch, an SGD run has 3");
        assert!(!sgd || same_value(batch.as_ref(), i, "3"));
    }
    // Beyond summary.csv: the theory quantities it predates, numbers for every run with a result.
    let extra: Vec<String> =
        summary.schema().fields().iter().map(|f| f.name().clone()).filter(|n| !csv.0.contains(n)).collect();
    assert_eq!(extra, ["zou_eta_over_bracket", "lin_factor", "du_hu_iters_bound"]);
    for name in &extra {
        assert_eq!(type_of(&summary, name), DataType::Float64, "{name}");
    }
    assert_eq!(summary.column_by_name("zou_eta_over_bracket").unwrap().null_count(), 0);
}

#[test]
fn curves_parquet_holds_every_logged_point_of_runs_csv() {
    let dir = computed("2");
    let results = dir.path().join("results/pq");
    let curves = read_parquet(&results.join("curves.parquet"));
    let (header, rows) = read_csv(&results.join("runs.csv"));
    // The curve columns of runs.csv; the grid fields are the summary's (join on id).
    let keep = ["id", "iter", "loss", "excess", "rel_excess", "bound"];
    let at: Vec<usize> = keep.iter().map(|k| header.iter().position(|h| h == k).unwrap()).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| at.iter().map(|&j| r[j].clone()).collect()).collect();
    assert_eq!(rows.len(), 32 * 6, "six logged points per run");
    assert_same_table(&curves, &(keep.map(String::from).to_vec(), rows), "curves.parquet");
    assert_eq!(type_of(&curves, "id"), names());
    assert_eq!(type_of(&curves, "iter"), DataType::Int64);
    assert_eq!(type_of(&curves, "rel_excess"), DataType::Float64);
}

#[test]
fn the_parquet_tables_are_the_same_bytes_for_any_number_of_threads() {
    let (one, two) = (computed("1"), computed("2"));
    for file in ["summary.parquet", "curves.parquet"] {
        let read = |d: &tempfile::TempDir| std::fs::read(d.path().join("results/pq").join(file)).unwrap();
        assert!(read(&one) == read(&two), "{file}");
    }
}

#[test]
fn export_writes_the_tables_elsewhere_and_replaces_a_file_only_with_force() {
    let dir = computed("2");
    let d = dir.path();
    let results = d.join("results/pq");
    let files = |dir: &Path, names: &[&str]| -> BTreeMap<String, Vec<u8>> {
        names.iter().map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap())).collect()
    };
    for (format, names) in [("parquet", ["summary.parquet", "curves.parquet"]), ("csv", ["runs.csv", "summary.csv"])] {
        let out = d.join(format!("out-{format}"));
        let o = linres(d, &["export", "pq.yaml", "--format", format, "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("pq: 32 runs (192 points)"), "{}", text(&o));
        assert_eq!(files(&out, &names), files(&results, &names), "{format}: the results' tables, byte for byte");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2, "{format}: only its two tables");
        // A table already there stays unless --force.
        std::fs::write(out.join(names[1]), b"mine").unwrap();
        let o = linres(d, &["export", "pq.yaml", "--format", format, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(names[0]) && text(&o).contains("--force"), "{}", text(&o));
        assert_eq!(std::fs::read(out.join(names[1])).unwrap(), b"mine", "nothing replaced");
        let o = linres(d, &["export", "pq.yaml", "--format", format, "--out", out.to_str().unwrap(), "--force"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(files(&out, &names), files(&results, &names));
    }
    // Without --out: the results directory's tables, as `run` leaves them.
    let before = files(&results, &["summary.parquet", "curves.parquet"]);
    std::fs::remove_file(results.join("curves.parquet")).unwrap();
    let o = linres(d, &["export", "pq.yaml", "--format", "parquet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(files(&results, &["summary.parquet", "curves.parquet"]), before);
    // A run's inputs and the tables are different exports.
    let o = linres(d, &["export", "pq.yaml", "--format", "parquet", "--run", "ab", "--npy", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = linres(d, &["export", "pq.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// What a notebook does: `pandas.read_parquet` of `summary.parquet`, compared with `summary.csv`
/// read as text. Grid fields come out numeric or categorical (never strings of numbers), and every
/// value equals its CSV cell (an empty cell is a missing value, `inf` is +∞).
const PANDAS_CHECK: &str = r#"
import sys
import pandas as pd
from pandas.api import types

d = sys.argv[1]
s = pd.read_parquet(f"{d}/summary.parquet")
c = pd.read_csv(f"{d}/summary.csv", dtype=str, keep_default_na=False)
assert len(s) == len(c) == 32, (len(s), len(c))
assert list(s.columns[: len(c.columns)]) == list(c.columns), (list(s.columns), list(c.columns))
numeric = ["model.width", "model.depth", "seed", "optim.batch", "optim.step.scale", "final_rel_excess", "kappa"]
for col in numeric:
    assert types.is_numeric_dtype(s[col]), (col, s[col].dtype)
for col in ["model.transform", "optim.method", "status", "engine"]:
    assert isinstance(s[col].dtype, pd.CategoricalDtype), (col, s[col].dtype)
checked = 0
for col in c.columns:
    for got, text in zip(s[col], c[col]):
        if text == "":
            assert pd.isna(got), (col, got)
        elif types.is_bool_dtype(s[col]):
            assert str(bool(got)).lower() == text, (col, got, text)
        elif types.is_numeric_dtype(s[col]):
            assert float(got) == float(text), (col, got, text)
        else:
            assert str(got) == text, (col, got, text)
        checked += 1
curves = pd.read_parquet(f"{d}/curves.parquet")
runs = pd.read_csv(f"{d}/runs.csv")
assert len(curves) == len(runs) == 192
assert (curves["iter"].to_numpy() == runs["iter"].to_numpy()).all()
assert (curves["rel_excess"].to_numpy() == runs["rel_excess"].to_numpy()).all()
print(f"pandas: {checked} cells equal")
"#;

#[test]
fn pandas_reads_summary_parquet_with_the_values_of_summary_csv() {
    let Some(python) = crate::common::outside(crate::common::Tool::Pandas) else { return };
    let dir = computed("2");
    let results = dir.path().join("results/pq");
    let o = std::process::Command::new(python).args(["-c", PANDAS_CHECK]).arg(&results).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("pandas: 1312 cells equal"), "{}", text(&o));
}
