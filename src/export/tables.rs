//! `runs.csv` (one row per run and logged iteration) and `summary.csv` (one row per run) of a grid.
//!
//! Both start with the run id and the grid's parameter columns: the descriptive fields of every
//! run (data.kind, model.arch, model.depth, model.width, model.transform, optim.method,
//! optim.batch, optim.iters), then every other axis of the grid as written, then `seed`.

use std::io;

use crate::config::TheoryConstants;
use crate::grid::quantity::TheoryQuantity;
use crate::grid::{FieldPath, GridRun};
use crate::measure::Measured;
use crate::measure::run::{final_excess, final_rel_excess, iters_to_target, rel_excess};
use crate::number::float_text;
use crate::store::schema::{SummaryColumn, param_columns};
use crate::store::{Lookup, Record, Store, atomic};
use crate::theory::TheoryReport;

/// Rows written to each table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCounts {
    pub runs: usize,
    pub points: usize,
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| Measured::Value(v).csv()).unwrap_or_default()
}

fn opt_int(v: Option<usize>) -> String {
    v.map(|t| t.to_string()).unwrap_or_default()
}

/// Rewrites `runs.csv` and `summary.csv` of `store` from the records of `runs` (runs without a
/// record are left out of both tables), with the theory quantities under `constants`; a file that
/// already holds its table is not rewritten. Both hold only what a configuration determines (no
/// timings), so regenerated tables are byte-identical.
pub fn write_tables(
    store: &Store,
    runs: &[GridRun],
    axes: &[String],
    constants: &TheoryConstants,
) -> io::Result<TableCounts> {
    let tables = render_tables(store, runs, axes, constants)?;
    tables.write(store)?;
    Ok(tables.counts)
}

/// Both tables of a grid, rendered in memory.
#[derive(Debug, Clone)]
pub struct Tables {
    pub counts: TableCounts,
    /// The bytes of each file of [`TABLE_FILES`].
    bytes: [Vec<u8>; 2],
}

impl Tables {
    /// Whether every table file already holds exactly these bytes (nothing to write).
    pub fn on_disk(&self, store: &Store) -> bool {
        TABLE_FILES
            .iter()
            .zip(&self.bytes)
            .all(|(name, bytes)| std::fs::read(store.root().join(name)).is_ok_and(|old| old == *bytes))
    }

    /// Writes each table whose file does not already hold it (atomically).
    pub fn write(&self, store: &Store) -> io::Result<()> {
        for (name, bytes) in TABLE_FILES.iter().zip(&self.bytes) {
            let path = store.root().join(name);
            if std::fs::read(&path).is_ok_and(|old| old == *bytes) {
                continue;
            }
            atomic::write(&path, bytes)?;
        }
        Ok(())
    }
}

/// Renders `runs.csv` and `summary.csv` of `store` from the records of `runs`.
pub fn render_tables(
    store: &Store,
    runs: &[GridRun],
    axes: &[String],
    constants: &TheoryConstants,
) -> io::Result<Tables> {
    let columns = param_columns(axes);
    let records: Vec<(&GridRun, Record, Option<TheoryReport>)> = runs
        .iter()
        .filter_map(|r| match store.read(&r.run.id()) {
            Lookup::Found(rec) => {
                let theory = rec.theory(constants);
                Some((r, *rec, theory))
            }
            _ => None,
        })
        .collect();
    let diagnostics = records
        .iter()
        .any(|(_, rec, _)| rec.outcome.as_ref().is_some_and(|o| o.curve.iter().any(|p| p.grad_norm2.is_some())));

    let mut curve = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = std::iter::once("id".to_string()).chain(columns.iter().cloned()).collect();
    header.extend(["status", "engine", "iter", "loss", "excess", "rel_excess", "bound"].map(String::from));
    if diagnostics {
        header.extend(["max_layer_norm", "grad_norm2", "pl_ratio"].map(String::from));
    }
    curve.write_record(&header)?;
    let mut points = 0;
    for (run, rec, theory) in &records {
        let (Some(o), Some(theory)) = (&rec.outcome, theory) else { continue };
        let e0 = o.theory.excess0;
        for p in &o.curve {
            let mut row = vec![rec.id.clone()];
            row.extend(columns.iter().map(|c| FieldPath::new(c.as_str()).value_of(run).csv().to_string()));
            row.push(status_text(rec));
            row.push(o.engine.name().to_string());
            row.push(p.iter.to_string());
            row.push(float_text(p.loss));
            row.push(float_text(p.excess));
            row.push(float_text(rel_excess(p.excess, e0)));
            row.push(opt(theory.bound_at(p.iter)));
            if diagnostics {
                row.extend([opt(p.max_layer_norm), opt(p.grad_norm2), opt(p.pl_ratio)]);
            }
            curve.write_record(&row)?;
            points += 1;
        }
    }

    let mut summary = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = std::iter::once("id".to_string()).chain(columns.iter().cloned()).collect();
    header.extend(SummaryColumn::ALL.map(|c| c.name().to_string()));
    summary.write_record(&header)?;
    for (run, rec, theory) in &records {
        let mut row = vec![rec.id.clone()];
        row.extend(columns.iter().map(|c| FieldPath::new(c.as_str()).value_of(run).csv().to_string()));
        row.extend(summary_fields(rec, theory.as_ref()));
        summary.write_record(&row)?;
    }

    let to_bytes = |w: csv::Writer<Vec<u8>>| w.into_inner().map_err(|e| io::Error::other(e.to_string()));
    Ok(Tables { counts: TableCounts { runs: records.len(), points }, bytes: [to_bytes(curve)?, to_bytes(summary)?] })
}

fn status_text(rec: &Record) -> String {
    serde_json::to_value(rec.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// The cells of [`SummaryColumn::ALL`] for one record: a failed run has its status and error and
/// nothing measured.
fn summary_fields(rec: &Record, theory: Option<&TheoryReport>) -> Vec<String> {
    let (Some(o), Some(t)) = (&rec.outcome, theory) else {
        return SummaryColumn::ALL
            .iter()
            .map(|c| match c {
                SummaryColumn::Status => status_text(rec),
                SummaryColumn::Error => rec.error.clone().unwrap_or_default(),
                _ => String::new(),
            })
            .collect();
    };
    let z = t.zou.as_ref();
    let h = t.du_hu.as_ref();
    let number = |v: f64| Measured::Value(v).csv();
    let theory = |q: TheoryQuantity| q.of(t).csv();
    SummaryColumn::ALL
        .iter()
        .map(|c| match c {
            SummaryColumn::Status => status_text(rec),
            SummaryColumn::Engine => o.engine.name().to_string(),
            SummaryColumn::ReducedDim => opt_int(o.reduced_dim),
            SummaryColumn::Eta => number(t.eta),
            SummaryColumn::Loss0 => number(t.loss0),
            SummaryColumn::Excess0 => number(t.excess0),
            SummaryColumn::FinalIter => opt_int(o.curve.last().map(|p| p.iter)),
            SummaryColumn::FinalExcess => number(final_excess(o)),
            SummaryColumn::FinalRelExcess => number(final_rel_excess(o)),
            SummaryColumn::ItersToTarget => number(iters_to_target(o, t.target)),
            SummaryColumn::Target => number(t.target),
            SummaryColumn::DivergedAt => opt_int(o.diverged_at),
            SummaryColumn::StoppedAt => opt_int(o.stopped_at),
            SummaryColumn::Rank => t.data.rank.to_string(),
            SummaryColumn::SigmaMax => number(t.data.sigma_max),
            SummaryColumn::SigmaR => number(t.data.sigma_r),
            SummaryColumn::Kappa => theory(TheoryQuantity::Kappa),
            SummaryColumn::StableRank => number(t.data.stable_rank),
            SummaryColumn::LStar => number(t.data.l_star),
            SummaryColumn::ZouMargin => theory(TheoryQuantity::ZouMargin),
            SummaryColumn::ZouEtaBracket => opt(z.map(|z| z.eta_bracket)),
            SummaryColumn::ZouRho => theory(TheoryQuantity::ZouRho),
            SummaryColumn::ZouItersToTarget => theory(TheoryQuantity::ZouItersBound),
            SummaryColumn::ZouCovered => z.map(|z| z.covered.to_string()).unwrap_or_default(),
            SummaryColumn::DuHuWidthRequired => theory(TheoryQuantity::DuHuWidthRequired),
            SummaryColumn::DuHuMargin => opt(h.map(|h| h.margin)),
            SummaryColumn::DuHuFactor => opt(h.map(|h| h.factor)),
            SummaryColumn::MZou => theory(TheoryQuantity::MZou),
            SummaryColumn::MDuHu => theory(TheoryQuantity::MDuHu),
            SummaryColumn::Error => String::new(),
        })
        .collect()
}

/// The table files this module writes, relative to the experiment's results directory.
pub const TABLE_FILES: [&str; 2] = ["runs.csv", "summary.csv"];
