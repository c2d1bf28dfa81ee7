//! `runs.csv` (one row per run and logged iteration) and `summary.csv` (one row per run) of a grid.
//!
//! Both start with the run id and the grid's parameter columns: the descriptive fields of every
//! run (data.kind, model.arch, model.depth, model.width, model.transform, optim.method,
//! optim.batch, optim.iters), then every other axis of the grid as written, then `seed`.

use std::io;

use serde_json::Value as Json;

use super::float_text;
use crate::config::TheoryConstants;
use crate::spec::GridRun;
use crate::store::{Lookup, Record, Store, atomic};
use crate::theory::TheoryReport;

const DESCRIPTIVE: [&str; 8] = [
    "data.kind",
    "model.arch",
    "model.depth",
    "model.width",
    "model.transform",
    "optim.method",
    "optim.batch",
    "optim.iters",
];

/// Rows written to each table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCounts {
    pub runs: usize,
    pub points: usize,
}

/// The parameter columns of a grid with these axes.
pub fn param_columns(axes: &[String]) -> Vec<String> {
    let mut cols: Vec<String> = DESCRIPTIVE.iter().map(|s| s.to_string()).collect();
    cols.extend(axes.iter().filter(|a| !DESCRIPTIVE.contains(&a.as_str())).cloned());
    cols
}

/// The text of parameter `column` for `run`: the grid value as written when the column is an axis,
/// otherwise the resolved configuration's value (a transformation by its kind).
pub fn param_value(run: &GridRun, column: &str) -> String {
    if let Some((_, v)) = run.params.iter().find(|(k, _)| k == column) {
        return json_text(v);
    }
    let config = run.run.canonical_json();
    match column.split('.').try_fold(&config, |v, part| v.get(part)) {
        Some(Json::Object(map)) if map.contains_key("kind") => json_text(&map["kind"]),
        Some(v) => json_text(v),
        None => String::new(),
    }
}

fn json_text(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Number(n) => n.as_f64().filter(|_| n.is_f64()).map(float_text).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(float_text).unwrap_or_default()
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
            row.extend(columns.iter().map(|c| param_value(run, c)));
            row.push(status_text(rec));
            row.push(o.engine.name().to_string());
            row.push(p.iter.to_string());
            row.push(float_text(p.loss));
            row.push(float_text(p.excess));
            row.push(float_text(if e0 > 0.0 { p.excess / e0 } else { 0.0 }));
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
    header.extend(SUMMARY_COLUMNS.map(String::from));
    summary.write_record(&header)?;
    for (run, rec, theory) in &records {
        let mut row = vec![rec.id.clone()];
        row.extend(columns.iter().map(|c| param_value(run, c)));
        row.extend(summary_fields(rec, theory.as_ref()));
        summary.write_record(&row)?;
    }

    let to_bytes = |w: csv::Writer<Vec<u8>>| w.into_inner().map_err(|e| io::Error::other(e.to_string()));
    Ok(Tables { counts: TableCounts { runs: records.len(), points }, bytes: [to_bytes(curve)?, to_bytes(summary)?] })
}

fn status_text(rec: &Record) -> String {
    serde_json::to_value(rec.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

const SUMMARY_COLUMNS: [&str; 30] = [
    "status",
    "engine",
    "reduced_dim",
    "eta",
    "loss0",
    "excess0",
    "final_iter",
    "final_excess",
    "final_rel_excess",
    "iters_to_target",
    "target",
    "diverged_at",
    "stopped_at",
    "rank",
    "sigma_max",
    "sigma_r",
    "kappa",
    "stable_rank",
    "l_star",
    "zou_margin",
    "zou_eta_bracket",
    "zou_rho",
    "zou_iters_to_target",
    "zou_covered",
    "du_hu_width_required",
    "du_hu_margin",
    "du_hu_factor",
    "m_zou",
    "m_du_hu",
    "error",
];

fn summary_fields(rec: &Record, theory: Option<&TheoryReport>) -> Vec<String> {
    let mut row = vec![status_text(rec)];
    let (Some(o), Some(t)) = (&rec.outcome, theory) else {
        // A failed run: status and the error; nothing was measured.
        row.extend(std::iter::repeat_n(String::new(), SUMMARY_COLUMNS.len() - 2));
        row.push(rec.error.clone().unwrap_or_default());
        return row;
    };
    let last = o.curve.last();
    let z = t.zou.as_ref();
    let h = t.du_hu.as_ref();
    row.extend([
        o.engine.name().to_string(),
        opt_int(o.reduced_dim),
        float_text(t.eta),
        float_text(t.loss0),
        float_text(t.excess0),
        opt_int(last.map(|p| p.iter)),
        opt(last.map(|p| p.excess)),
        opt(last.map(|p| if t.excess0 > 0.0 { p.excess / t.excess0 } else { 0.0 })),
        opt_int(o.iters_to(t.target)),
        float_text(t.target),
        opt_int(o.diverged_at),
        opt_int(o.stopped_at),
        t.data.rank.to_string(),
        float_text(t.data.sigma_max),
        float_text(t.data.sigma_r),
        float_text(t.data.kappa),
        float_text(t.data.stable_rank),
        float_text(t.data.l_star),
        opt(z.and_then(|z| z.margin)),
        opt(z.map(|z| z.eta_bracket)),
        opt(z.map(|z| z.rho)),
        opt(z.and_then(|z| z.iters_to_target)),
        z.map(|z| z.covered.to_string()).unwrap_or_default(),
        opt(h.map(|h| h.width_required)),
        opt(h.map(|h| h.margin)),
        opt(h.map(|h| h.factor)),
        float_text(t.widths.zou),
        float_text(t.widths.du_hu),
        String::new(),
    ]);
    row
}

/// The table files this module writes, relative to the experiment's results directory.
pub const TABLE_FILES: [&str; 2] = ["runs.csv", "summary.csv"];
