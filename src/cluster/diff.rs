//! Every difference between two results directories, or between the results of two experiments:
//! how a reader checks a reproduction made on another machine (`linres diff A B`).
//!
//! Results directories are paired by experiment name, records by run id; each pair of records is
//! compared by [`compare`](super::compare). Where either side of an experiment holds only its
//! tables (committed results keep `summary.csv`, not `runs/`), the two `summary.csv` are compared
//! row by row instead ([`summary`](super::summary)). A record, row or experiment present on one side
//! only is a difference. The OpenBLAS kernels each side was computed with are counted (from
//! records), because other kernels change the last digits of a result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;

use super::compare::{compare, kernels, status_name};
use super::layout::{Layout, SUMMARY, read_all, read_one};
use super::summary::{Summary, compare_tables};
use crate::error::ConfigError;
use crate::store::{Record, Store};

/// One difference: in which experiment and run, what, and the two sides.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRow {
    pub experiment: String,
    /// The run id (`-` for a whole experiment).
    pub id: String,
    pub what: String,
    pub a: String,
    pub b: String,
}

/// The outcome of a comparison.
#[derive(Debug, Clone, Default)]
pub struct DiffReport {
    pub rows: Vec<DiffRow>,
    /// Runs with a record on both sides.
    pub compared: usize,
    /// Records per OpenBLAS kernels ([`kernels`]), on side A and side B.
    pub kernels: [BTreeMap<String, usize>; 2],
}

impl DiffReport {
    /// Whether the two sides were computed with different sets of OpenBLAS kernels (unknown, so
    /// not different, when a side holds no records).
    pub fn kernels_differ(&self) -> bool {
        let names = |m: &BTreeMap<String, usize>| m.keys().cloned().collect::<BTreeSet<_>>();
        let [a, b] = &self.kernels;
        !a.is_empty() && !b.is_empty() && names(a) != names(b)
    }
}

/// Compares `a` and `b` (both results directories, or both one experiment's directory); curve values
/// within relative tolerance `rtol`.
pub fn diff(a: &Path, b: &Path, rtol: f64) -> Result<DiffReport, ConfigError> {
    let la = Layout::of(a, "A", true)?;
    let lb = Layout::of(b, "B", true)?;
    if la.single != lb.single {
        let kind = |l: &Layout| if l.single { "one experiment's directory" } else { "a results directory" };
        return Err(ConfigError::new(
            "A, B",
            format!("A is {} but B is {}: give two of the same kind", kind(&la), kind(&lb)),
        ));
    }
    let mut report = DiffReport::default();
    let pairs: Vec<(String, Option<&Store>, Option<&Store>)> = if la.single {
        let (na, sa) = &la.experiments[0];
        let (nb, sb) = &lb.experiments[0];
        let name = if na == nb { na.clone() } else { format!("{na} | {nb}") };
        vec![(name, Some(sa), Some(sb))]
    } else {
        let names: BTreeSet<&String> = la.experiments.iter().chain(&lb.experiments).map(|(n, _)| n).collect();
        names.into_iter().map(|n| (n.clone(), la.store(n), lb.store(n))).collect()
    };
    for (name, sa, sb) in pairs {
        let (Some(sa), Some(sb)) = (sa, sb) else {
            let side = |s: Option<&Store>| if s.is_some() { "present" } else { "absent" };
            report.rows.push(DiffRow {
                experiment: name,
                id: "-".into(),
                what: "experiment".into(),
                a: side(sa).into(),
                b: side(sb).into(),
            });
            continue;
        };
        if !sa.runs_dir().is_dir() || !sb.runs_dir().is_dir() {
            tables(&name, sa, sb, rtol, &mut report);
            continue;
        }
        let records_a = read_all(sa);
        let ids_b: BTreeSet<String> = sb.record_ids().into_iter().collect();
        let ids_a: BTreeSet<&String> = records_a.iter().map(|(id, _)| id).collect();
        for (id, rec) in &records_a {
            if let Ok(r) = rec {
                *report.kernels[0].entry(kernels(r)).or_default() += 1;
            }
            if !ids_b.contains(id) {
                report.rows.push(row(&name, id, "record", side_text(rec), "absent".into()));
            }
        }
        let both: Vec<&(String, Result<Record, String>)> =
            records_a.iter().filter(|(id, _)| ids_b.contains(id)).collect();
        report.compared += both.len();
        let compared: Vec<(Option<String>, Vec<DiffRow>)> = both
            .par_iter()
            .map(|(id, rec_a)| {
                let rec_b = read_one(sb, id);
                let rows = match (rec_a, &rec_b) {
                    (Ok(x), Ok(y)) => compare(x, y, rtol)
                        .into_iter()
                        .map(|d| DiffRow { experiment: name.clone(), id: id.clone(), what: d.what, a: d.a, b: d.b })
                        .collect(),
                    _ => vec![row(&name, id, "record", side_text(rec_a), side_text(&rec_b))],
                };
                (rec_b.as_ref().ok().map(kernels), rows)
            })
            .collect();
        for (k, rows) in compared {
            if let Some(k) = k {
                *report.kernels[1].entry(k).or_default() += 1;
            }
            report.rows.extend(rows);
        }
        for id in ids_b.iter().filter(|id| !ids_a.contains(id)) {
            let rec_b = read_one(sb, id);
            if let Ok(r) = &rec_b {
                *report.kernels[1].entry(kernels(r)).or_default() += 1;
            }
            report.rows.push(row(&name, id, "record", "absent".into(), side_text(&rec_b)));
        }
    }
    report.rows.sort_by(|x, y| (&x.experiment, &x.id).cmp(&(&y.experiment, &y.id)));
    Ok(report)
}

/// Compares the `summary.csv` of two stores (a side that cannot be read is one difference).
fn tables(name: &str, a: &Store, b: &Store, rtol: f64, report: &mut DiffReport) {
    let read = |s: &Store| {
        let path = s.root().join(SUMMARY);
        if path.exists() {
            Summary::read(&path).map_err(|why| format!("unreadable ({why})"))
        } else {
            Err("absent".into())
        }
    };
    match (read(a), read(b)) {
        (Ok(x), Ok(y)) => {
            let (both, differences) = compare_tables(&x, &y, rtol);
            report.compared += both;
            report.rows.extend(differences.into_iter().map(|d| row(name, &d.id, &d.what, d.a, d.b)));
        }
        (x, y) => {
            let side = |r: Result<Summary, String>| r.map_or_else(|why| why, |t| format!("{} rows", t.rows.len()));
            report.rows.push(row(name, "-", SUMMARY, side(x), side(y)));
        }
    }
}

fn row(experiment: &str, id: &str, what: &str, a: String, b: String) -> DiffRow {
    DiffRow { experiment: experiment.into(), id: id.into(), what: what.into(), a, b }
}

/// A record's status, or why it cannot be read.
fn side_text(rec: &Result<Record, String>) -> String {
    match rec {
        Ok(r) => status_name(r.status).to_string(),
        Err(why) => format!("unreadable ({why})"),
    }
}
