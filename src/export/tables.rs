//! The tables of a grid's results, written after each `run` (and by `merge`, `export`):
//!
//! - `runs.csv`: one row per run and logged iteration;
//! - `summary.csv`: one row per run ([`crate::store::schema`]);
//! - `summary.parquet` and `curves.parquet`: the same rows typed, for pandas, polars or DuckDB
//!   ([`super::parquet`]);
//! - `.tables`: their fingerprint ([`Fingerprint`]), which lets a `run` that changed nothing
//!   leave them alone without reading a record.
//!
//! Both CSV tables start with the run id and the grid's parameter columns: the descriptive fields
//! of every run (data.kind, model.arch, model.depth, model.width, model.transform, optim.method,
//! optim.batch, optim.iters), then every other axis of the grid as written, then `seed`. Runs
//! without a readable record are left out of every table. The tables hold only what a
//! configuration determines (no timings), so regenerated tables are byte-identical, whatever the
//! number of threads that rendered them.
//!
//! Records are read and their rows rendered in parallel, a window of runs at a time, and written
//! in grid order to temporaries that replace the tables when complete: memory stays bounded by the
//! window whatever the size of the grid.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::parquet::{CurveColumns, ParquetTables, SummaryRow};
use crate::config::TheoryConstants;
use crate::grid::quantity::TheoryQuantity;
use crate::grid::{FieldPath, FieldValue, GridRun};
use crate::measure::Measured;
use crate::measure::run::{final_excess, final_rel_excess, iters_to_target, rel_excess};
use crate::number::float_text;
use crate::store::schema::{SummaryColumn, param_columns};
use crate::store::{Lookup, Record, RecordStatus, Stamp, Store, atomic};

use crate::theory::TheoryReport;

/// The table files, relative to the experiment's results directory.
pub const TABLE_FILES: [&str; 4] = ["runs.csv", "summary.csv", "summary.parquet", "curves.parquet"];

/// The fingerprint of the tables, beside them.
pub const FINGERPRINT_FILE: &str = ".tables";

/// Version of the tables' layout: part of the fingerprint, so that tables written by another
/// version are written again.
const TABLES_VERSION: &str = "linres-tables-2";

/// Runs rendered at once (in parallel) before their rows are written.
const WINDOW: usize = 4096;

/// Rows written to each table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCounts {
    pub runs: usize,
    pub points: usize,
}

/// One cell of a table: the value of a [`SummaryColumn`] for a run, which `summary.csv` writes as
/// text ([`Cell::csv`]) and `summary.parquet` as a typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The run has no value here (an empty CSV cell, a null).
    Absent,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl Cell {
    /// The CSV text: the measures layer's notation for numbers (`inf` for +∞), an empty cell for
    /// an absent value.
    pub fn csv(&self) -> String {
        match self {
            Cell::Absent => String::new(),
            Cell::Int(v) => v.to_string(),
            Cell::Float(v) => Measured::Value(*v).csv(),
            Cell::Bool(b) => b.to_string(),
            Cell::Text(t) => t.clone(),
        }
    }

    /// A measured value: a number, or absent. Censored values are not per-run measures.
    fn measured(m: Measured) -> Cell {
        match m {
            Measured::Value(v) => Cell::Float(v),
            Measured::Absent(_) => Cell::Absent,
            censored => Cell::Text(censored.csv()),
        }
    }

    fn float(v: Option<f64>) -> Cell {
        v.map_or(Cell::Absent, Cell::Float)
    }

    fn int(v: Option<usize>) -> Cell {
        v.map_or(Cell::Absent, |t| Cell::Int(t as i64))
    }
}

/// `done`, `diverged` or `failed`.
fn status_text(status: RecordStatus) -> &'static str {
    crate::cluster::compare::status_name(status)
}

/// The cell of every column of [`SummaryColumn::ALL`] for one record: a failed run has its status
/// and error and nothing measured.
pub fn summary_cells(rec: &Record, theory: Option<&TheoryReport>) -> Vec<Cell> {
    let status = Cell::Text(status_text(rec.status).to_string());
    let (Some(o), Some(t)) = (&rec.outcome, theory) else {
        return SummaryColumn::ALL
            .iter()
            .map(|c| match c {
                SummaryColumn::Status => status.clone(),
                SummaryColumn::Error => Cell::Text(rec.error.clone().unwrap_or_default()),
                _ => Cell::Absent,
            })
            .collect();
    };
    let z = t.zou.as_ref();
    let h = t.du_hu.as_ref();
    let theory = |q: TheoryQuantity| Cell::measured(q.of(t));
    SummaryColumn::ALL
        .iter()
        .map(|c| match c {
            SummaryColumn::Status => status.clone(),
            SummaryColumn::Engine => Cell::Text(o.engine.name().to_string()),
            SummaryColumn::ReducedDim => Cell::int(o.reduced_dim),
            SummaryColumn::Eta => Cell::Float(t.eta),
            SummaryColumn::Loss0 => Cell::Float(t.loss0),
            SummaryColumn::Excess0 => Cell::Float(t.excess0),
            SummaryColumn::FinalIter => Cell::int(o.curve.last().map(|p| p.iter)),
            SummaryColumn::FinalExcess => Cell::Float(final_excess(o)),
            SummaryColumn::FinalRelExcess => Cell::Float(final_rel_excess(o)),
            SummaryColumn::ItersToTarget => Cell::Float(iters_to_target(o, t.target)),
            SummaryColumn::Target => Cell::Float(t.target),
            SummaryColumn::DivergedAt => Cell::int(o.diverged_at),
            SummaryColumn::StoppedAt => Cell::int(o.stopped_at),
            SummaryColumn::Rank => Cell::Int(t.data.rank as i64),
            SummaryColumn::SigmaMax => Cell::Float(t.data.sigma_max),
            SummaryColumn::SigmaR => Cell::Float(t.data.sigma_r),
            SummaryColumn::Kappa => theory(TheoryQuantity::Kappa),
            SummaryColumn::StableRank => Cell::Float(t.data.stable_rank),
            SummaryColumn::LStar => Cell::Float(t.data.l_star),
            SummaryColumn::ZouMargin => theory(TheoryQuantity::ZouMargin),
            SummaryColumn::ZouEtaBracket => Cell::float(z.map(|z| z.eta_bracket)),
            SummaryColumn::ZouRho => theory(TheoryQuantity::ZouRho),
            SummaryColumn::ZouItersToTarget => theory(TheoryQuantity::ZouItersBound),
            SummaryColumn::ZouCovered => z.map_or(Cell::Absent, |z| Cell::Bool(z.covered)),
            SummaryColumn::DuHuWidthRequired => theory(TheoryQuantity::DuHuWidthRequired),
            SummaryColumn::DuHuMargin => Cell::float(h.map(|h| h.margin)),
            SummaryColumn::DuHuFactor => Cell::float(h.map(|h| h.factor)),
            SummaryColumn::MZou => theory(TheoryQuantity::MZou),
            SummaryColumn::MDuHu => theory(TheoryQuantity::MDuHu),
            SummaryColumn::Error => Cell::Absent,
            SummaryColumn::ZouEtaOverBracket => theory(TheoryQuantity::ZouEtaOverBracket),
            SummaryColumn::LinFactor => theory(TheoryQuantity::LinFactor),
            SummaryColumn::DuHuItersBound => theory(TheoryQuantity::DuHuItersBound),
        })
        .collect()
}

/// What goes into the tables for one run with a record.
struct RunRows {
    /// Its rows of `runs.csv` and its row of `summary.csv`, as CSV text.
    curve_csv: Vec<u8>,
    summary_csv: Vec<u8>,
    points: usize,
    summary: SummaryRow,
    curve: Option<CurveColumns>,
}

/// One CSV record (a line), quoted where needed exactly as a writer of the whole file would.
fn csv_line<I, S>(out: &mut Vec<u8>, fields: I) -> io::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(out);
    w.write_record(fields)?;
    w.flush()?;
    Ok(())
}

/// How the rows of a grid are laid out: its parameter columns and whether `runs.csv` has the
/// diagnostics columns.
struct Layout {
    columns: Vec<String>,
    diagnostics: bool,
}

/// The rows of `run` (`None` without a readable record).
fn render_run(
    store: &Store,
    run: &GridRun,
    layout: &Layout,
    constants: &TheoryConstants,
) -> io::Result<Option<RunRows>> {
    let Lookup::Found(rec) = store.read(&run.run.id()) else { return Ok(None) };
    let theory = rec.theory(constants);
    let params: Vec<FieldValue> = layout.columns.iter().map(|c| FieldPath::new(c.as_str()).value_of(run)).collect();
    let param_text: Vec<&str> = params.iter().map(FieldValue::csv).collect();
    let cells = summary_cells(&rec, theory.as_ref());
    let mut summary_csv = Vec::new();
    let csv_cells = SummaryColumn::ALL.iter().zip(&cells).filter(|(c, _)| SummaryColumn::CSV.contains(c));
    let summary_fields: Vec<String> = std::iter::once(rec.id.clone())
        .chain(param_text.iter().map(|s| s.to_string()))
        .chain(csv_cells.map(|(_, cell)| cell.csv()))
        .collect();
    csv_line(&mut summary_csv, &summary_fields)?;
    let mut curve_csv = Vec::new();
    let mut points = 0;
    let mut curve = None;
    if let (Some(o), Some(theory)) = (&rec.outcome, &theory) {
        let e0 = o.theory.excess0;
        let status = status_text(rec.status);
        let mut columns = CurveColumns::default();
        let opt = |v: Option<f64>| v.map(|v| Measured::Value(v).csv()).unwrap_or_default();
        for p in &o.curve {
            let bound = theory.bound_at(p.iter);
            let mut row: Vec<String> = Vec::with_capacity(param_text.len() + 12);
            row.push(rec.id.clone());
            row.extend(param_text.iter().map(|s| s.to_string()));
            row.extend([
                status.to_string(),
                o.engine.name().to_string(),
                p.iter.to_string(),
                float_text(p.loss),
                float_text(p.excess),
                float_text(rel_excess(p.excess, e0)),
                opt(bound),
            ]);
            if layout.diagnostics {
                row.extend([opt(p.max_layer_norm), opt(p.grad_norm2), opt(p.pl_ratio)]);
            }
            csv_line(&mut curve_csv, &row)?;
            columns.push(p, rel_excess(p.excess, e0), bound);
            points += 1;
        }
        curve = Some(columns);
    }
    let summary = SummaryRow { id: rec.id.clone(), params, cells };
    Ok(Some(RunRows { curve_csv, summary_csv, points, summary, curve }))
}

/// Where a table's bytes go: a temporary that replaces the table when every table is complete,
/// or (in a directory that cannot be written) a comparison with the table as it is.
enum Sink {
    Temporary {
        tmp: Temporary,
        target: PathBuf,
        file: BufWriter<File>,
    },
    Compare {
        equal: bool,
        file: Option<io::BufReader<File>>,
    },
    /// A table not asked for.
    Discard,
}

/// A temporary file, removed when dropped unless it was renamed into place.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl Sink {
    fn temporary(target: PathBuf) -> io::Result<Sink> {
        let tmp = Temporary(atomic::temporary_for(&target));
        let file = BufWriter::with_capacity(1 << 20, File::create(&tmp.0)?);
        Ok(Sink::Temporary { tmp, target, file })
    }

    fn compare(target: &Path) -> Sink {
        let file = File::open(target).ok().map(io::BufReader::new);
        Sink::Compare { equal: file.is_some(), file }
    }

    /// Whether a comparing sink has seen only bytes of its table so far.
    fn is_equal(&self) -> bool {
        matches!(self, Sink::Compare { equal: true, file: Some(_) })
    }

    /// Whether a comparing sink saw exactly the bytes of its table (and the table ends there).
    fn matches(self) -> bool {
        match self {
            Sink::Compare { equal: true, file: Some(mut file) } => file.read(&mut [0u8; 1]).is_ok_and(|n| n == 0),
            _ => false,
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Temporary { file, .. } => file.write(buf),
            Sink::Compare { equal, file } => {
                if *equal && let Some(f) = file {
                    let mut old = vec![0u8; buf.len()];
                    *equal = f.read_exact(&mut old).is_ok() && old == buf;
                }
                Ok(buf.len())
            }
            Sink::Discard => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Temporary { file, .. } => file.flush(),
            Sink::Compare { .. } | Sink::Discard => Ok(()),
        }
    }
}

/// The sinks of the four tables, in the order of [`TABLE_FILES`].
struct Sinks<W: Write + Send> {
    runs_csv: W,
    summary_csv: W,
    parquet: ParquetTables<W>,
}

/// Renders every table of `runs` into the sinks `open` gives for each file; the counts.
fn render<W: Write + Send>(
    store: &Store,
    runs: &[GridRun],
    axes: &[String],
    constants: &TheoryConstants,
    diagnostics: bool,
    open: impl Fn(&str) -> io::Result<W>,
) -> io::Result<(TableCounts, [W; 4])> {
    let layout = Layout { columns: param_columns(axes), diagnostics };
    let mut header: Vec<String> = std::iter::once("id".to_string()).chain(layout.columns.iter().cloned()).collect();
    let mut summary_header = header.clone();
    summary_header.extend(SummaryColumn::CSV.map(|c| c.name().to_string()));
    header.extend(["status", "engine", "iter", "loss", "excess", "rel_excess", "bound"].map(String::from));
    if diagnostics {
        header.extend(["max_layer_norm", "grad_norm2", "pl_ratio"].map(String::from));
    }
    let types = super::parquet::param_types(runs, &layout.columns);
    let mut sinks = Sinks {
        runs_csv: open(TABLE_FILES[0])?,
        summary_csv: open(TABLE_FILES[1])?,
        parquet: ParquetTables::new(
            &layout.columns,
            &types,
            diagnostics,
            open(TABLE_FILES[2])?,
            open(TABLE_FILES[3])?,
        )?,
    };
    let mut line = Vec::new();
    csv_line(&mut line, &header)?;
    sinks.runs_csv.write_all(&line)?;
    line.clear();
    csv_line(&mut line, &summary_header)?;
    sinks.summary_csv.write_all(&line)?;
    let mut counts = TableCounts { runs: 0, points: 0 };
    for window in runs.chunks(WINDOW) {
        let rendered: Vec<Option<RunRows>> =
            window.par_iter().map(|run| render_run(store, run, &layout, constants)).collect::<io::Result<_>>()?;
        let rendered: Vec<RunRows> = rendered.into_iter().flatten().collect();
        for rows in &rendered {
            sinks.runs_csv.write_all(&rows.curve_csv)?;
            sinks.summary_csv.write_all(&rows.summary_csv)?;
            counts.runs += 1;
            counts.points += rows.points;
        }
        sinks.parquet.write(rendered.into_iter().map(|r| (r.summary, r.curve)))?;
    }
    let (summary_parquet, curves_parquet) = sinks.parquet.finish()?;
    Ok((counts, [sinks.runs_csv, sinks.summary_csv, summary_parquet, curves_parquet]))
}

/// What the tables of a grid were rendered from: every run's id and the identity of its record
/// file as it was ([`Stamp`]), the grid's axes, the theory constants and the tables' version.
/// Tables whose fingerprint file holds the same fingerprint, and that are themselves unchanged
/// since they were written, already hold what rendering would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of the tables of `runs` in `store` now (one `stat` per run).
    fn of(store: &Store, runs: &[GridRun], axes: &[String], constants: &TheoryConstants) -> (Fingerprint, bool) {
        let stamps: Vec<Option<Stamp>> = runs.par_iter().map(|r| store.stamp(&r.run.id())).collect();
        let mut h = blake3::Hasher::new();
        h.update(TABLES_VERSION.as_bytes());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        for axis in axes {
            h.update(axis.as_bytes()).update(b"\0");
        }
        h.update(serde_json::to_string(constants).unwrap_or_default().as_bytes());
        for (run, stamp) in runs.iter().zip(&stamps) {
            h.update(run.run.run_id().as_str().as_bytes());
            h.update(&stamp.map_or([0xff; 9], |s| {
                let mut b = [0u8; 9];
                b[1..].copy_from_slice(&s.bits().to_le_bytes());
                b
            }));
        }
        // The diagnostics columns: when a run with a record logs them.
        let diagnostics = runs.iter().zip(&stamps).any(|(r, s)| s.is_some() && r.run.point_config().log.diagnostics);
        (Fingerprint(*h.finalize().as_bytes()), diagnostics)
    }
}

/// The content of the fingerprint file: the fingerprint, the counts, and the stamp of each table.
fn fingerprint_text(fp: Fingerprint, counts: TableCounts, stamps: &[Stamp]) -> String {
    let mut text = format!(
        "{TABLES_VERSION}\nfingerprint {}\nruns {}\npoints {}\n",
        crate::canonical::hex(&fp.0),
        counts.runs,
        counts.points
    );
    for (name, stamp) in TABLE_FILES.iter().zip(stamps) {
        text.push_str(&format!("{name} {:016x}\n", stamp.bits()));
    }
    text
}

/// The counts the fingerprint file of `store` records for `fp`, if the tables are unchanged since.
fn up_to_date(store: &Store, fp: Fingerprint) -> Option<TableCounts> {
    let text = fs::read_to_string(store.root().join(FINGERPRINT_FILE)).ok()?;
    let stamps: Vec<Stamp> = TABLE_FILES
        .iter()
        .map(|n| fs::metadata(store.root().join(n)).ok().map(|m| Stamp::of(&m)))
        .collect::<Option<_>>()?;
    let runs = text.lines().find_map(|l| l.strip_prefix("runs "))?.parse().ok()?;
    let points = text.lines().find_map(|l| l.strip_prefix("points "))?.parse().ok()?;
    let counts = TableCounts { runs, points };
    (text == fingerprint_text(fp, counts, &stamps)).then_some(counts)
}

/// Brings every table of `store` up to date with the records of `runs` (theory quantities under
/// `constants`): nothing is read or written when the fingerprint shows they already are;
/// otherwise every table is rendered and replaced atomically (each file whole), the fingerprint
/// last. In a results directory that cannot be written, tables that already hold what rendering
/// gives are fine (nothing to write); others are the error.
pub fn update_tables(
    store: &Store,
    runs: &[GridRun],
    axes: &[String],
    constants: &TheoryConstants,
) -> io::Result<TableCounts> {
    let (fp, diagnostics) = Fingerprint::of(store, runs, axes, constants);
    if let Some(counts) = up_to_date(store, fp) {
        return Ok(counts);
    }
    fs::create_dir_all(store.root()).or_else(|e| if store.root().is_dir() { Ok(()) } else { Err(e) })?;
    let written = render(store, runs, axes, constants, diagnostics, |name| Sink::temporary(store.root().join(name)));
    let (counts, sinks) = match written {
        Ok(done) => done,
        Err(e) if crate::halt::is_store_wide(&e) => {
            // A directory that cannot be written: fine if the tables hold it all already.
            let compared =
                render(store, runs, axes, constants, diagnostics, |name| Ok(Sink::compare(&store.root().join(name))));
            return match compared {
                Ok((counts, sinks)) if sinks.iter().all(Sink::is_equal) => {
                    sinks.into_iter().all(Sink::matches).then_some(counts).ok_or(e)
                }
                _ => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let stamps = commit(sinks)?;
    atomic::write(&store.root().join(FINGERPRINT_FILE), fingerprint_text(fp, counts, &stamps).as_bytes())?;
    store.save_index();
    Ok(counts)
}

/// Flushes the tables written to temporaries and renames each over its target (each file
/// replaced whole); the stamps of the files published.
fn commit(sinks: impl IntoIterator<Item = Sink>) -> io::Result<Vec<Stamp>> {
    let mut pending = Vec::new();
    for sink in sinks {
        if let Sink::Temporary { tmp, target, file } = sink {
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            pending.push((tmp, target));
        }
    }
    // Renamed only once every table is complete: a failure before leaves every table as it was.
    let mut stamps = Vec::new();
    for (tmp, target) in &pending {
        fs::rename(&tmp.0, target)?;
        stamps.push(Stamp::of(&fs::metadata(target)?));
    }
    Ok(stamps)
}

/// The formats of the tables [`export_tables`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// `runs.csv` and `summary.csv`.
    Csv,
    /// `summary.parquet` and `curves.parquet`.
    Parquet,
}

impl TableFormat {
    /// The files of the format.
    pub fn files(self) -> [&'static str; 2] {
        match self {
            TableFormat::Csv => [TABLE_FILES[0], TABLE_FILES[1]],
            TableFormat::Parquet => [TABLE_FILES[2], TABLE_FILES[3]],
        }
    }
}

/// Writes the two tables of `format` of the records of `runs` into `dir` (created if needed), the
/// same bytes as the results directory's tables, each file atomically. A file of the export
/// already in `dir` is an error of kind [`io::ErrorKind::AlreadyExists`] naming it, and nothing
/// is written, unless `force`.
pub fn export_tables(
    store: &Store,
    runs: &[GridRun],
    axes: &[String],
    constants: &TheoryConstants,
    format: TableFormat,
    dir: &Path,
    force: bool,
) -> io::Result<TableCounts> {
    let files = format.files();
    if !force && let Some(there) = files.iter().map(|f| dir.join(f)).find(|p| p.symlink_metadata().is_ok()) {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} is already there", there.display())));
    }
    fs::create_dir_all(dir)?;
    let (_, diagnostics) = Fingerprint::of(store, runs, axes, constants);
    let (counts, sinks) = render(store, runs, axes, constants, diagnostics, |name| {
        if files.contains(&name) { Sink::temporary(dir.join(name)) } else { Ok(Sink::Discard) }
    })?;
    commit(sinks)?;
    Ok(counts)
}

/// Renders every table of `runs` and replaces them, whatever the fingerprint says.
pub fn write_tables(
    store: &Store,
    runs: &[GridRun],
    axes: &[String],
    constants: &TheoryConstants,
) -> io::Result<TableCounts> {
    let _ = fs::remove_file(store.root().join(FINGERPRINT_FILE));
    update_tables(store, runs, axes, constants)
}
