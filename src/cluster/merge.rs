//! Merging results directories copied back from machines that share no file system
//! (`linres merge SRC… --into DST`).
//!
//! Records are content-addressed (a run's id is the hash of its configuration), so merging is a
//! union by id. For each record of each source, in order, against the record chosen so far (the
//! destination's, or an earlier source's):
//!
//! | chosen so far          | source record | action                                        |
//! |------------------------|---------------|-----------------------------------------------|
//! | none                   | any           | copy                                          |
//! | failed                 | a result      | copy (replaces the failure)                   |
//! | any                    | failed        | keep (a failure never replaces anything)      |
//! | a result               | a result      | keep if they agree ([`compare`]), else conflict |
//! | unreadable (either)    |               | conflict                                      |
//!
//! Planning reads everything and writes nothing; a plan with a conflict is refused whole. Copies
//! are the source files' bytes, written atomically (temporary file, then rename).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::compare::{compare, status_name};
use super::layout::{Layout, read_one};
use crate::error::ConfigError;
use crate::store::{Record, Store, atomic};

/// A record that disagrees with the one chosen before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub experiment: String,
    pub id: String,
    /// What differs (or which side cannot be read).
    pub what: String,
    /// The value in the record chosen so far, and where that record is.
    pub kept: String,
    pub kept_from: PathBuf,
    /// The value in the source record, and where it is.
    pub incoming: String,
    pub incoming_from: PathBuf,
}

/// What a merge does for one destination experiment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExperimentPlan {
    /// (run id, source file) of every record to copy.
    pub copies: Vec<(String, PathBuf)>,
    /// Copies that replace a failed record of the destination.
    pub replacing_failed: usize,
    /// Source records equal to the one already chosen.
    pub agreeing: usize,
    /// Failed source records not copied because a record of the run is chosen already.
    pub failures_skipped: usize,
}

/// A merge, planned: nothing is written until [`apply`].
#[derive(Debug, Clone)]
pub struct MergePlan {
    /// Destination store of each experiment, with its plan, by name.
    pub experiments: BTreeMap<String, (Store, ExperimentPlan)>,
    pub conflicts: Vec<Conflict>,
}

/// Where the record chosen so far for a run comes from.
#[derive(Debug, Clone)]
enum Chosen {
    /// The destination's record.
    Destination(PathBuf),
    /// A source's record, to be copied.
    Source(PathBuf),
}

impl Chosen {
    fn path(&self) -> &Path {
        match self {
            Chosen::Destination(p) | Chosen::Source(p) => p,
        }
    }
}

/// What to do with one source record.
enum Decision {
    Keep { skipped_failure: bool, agreeing: bool },
    Take { replacing_failed: bool },
    Conflict(Vec<Conflict>),
}

/// Plans the merge of `sources` into `into` (results directories, or directories of one
/// experiment each, all of one kind); source curves must agree with the chosen ones within `rtol`.
pub fn plan(sources: &[PathBuf], into: &Path, rtol: f64) -> Result<MergePlan, ConfigError> {
    if sources.is_empty() {
        return Err(ConfigError::new("SRC", "give at least one source directory"));
    }
    let layouts = sources
        .iter()
        .map(|s| Layout::of(s, &format!("SRC `{}`", s.display()), false))
        .collect::<Result<Vec<_>, _>>()?;
    let single = layouts[0].single;
    if layouts.iter().any(|l| l.single != single) {
        return Err(ConfigError::new(
            "SRC",
            "mixes results directories and single experiments' directories: give sources of one kind",
        ));
    }
    let dest_canonical = fs::canonicalize(into).ok();
    for s in sources {
        if dest_canonical.is_some() && fs::canonicalize(s).ok() == dest_canonical {
            return Err(ConfigError::new("--into", format!("`{}` is also a source", into.display())));
        }
    }
    if into.exists() && !into.is_dir() {
        return Err(ConfigError::new("--into", format!("`{}` is not a directory", into.display())));
    }
    // The destination store of each experiment: DST itself for single experiments.
    let dest_store = |name: &str| -> Store {
        if single {
            let absolute = fs::canonicalize(into).unwrap_or_else(|_| into.to_path_buf());
            let parent = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
            let own = absolute.file_name().and_then(|n| n.to_str()).unwrap_or(name).to_string();
            Store::new(&parent, &own)
        } else {
            Store::new(into, name)
        }
    };
    let mut experiments: BTreeMap<String, (Store, ExperimentPlan, HashMap<String, Chosen>)> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for layout in &layouts {
        for (name, src) in &layout.experiments {
            let key = if single { dest_store(name).root().display().to_string() } else { name.clone() };
            let (_, exp, chosen) = experiments.entry(key.clone()).or_insert_with(|| {
                let dst = dest_store(name);
                let chosen = dst
                    .record_ids()
                    .into_iter()
                    .map(|id| (id.clone(), Chosen::Destination(dst.record_path(&id))))
                    .collect();
                (dst, ExperimentPlan::default(), chosen)
            });
            let decisions: Vec<(String, Decision)> = src
                .record_ids()
                .into_par_iter()
                .map(|id| {
                    let decision = decide(&key, &id, src, chosen.get(&id), rtol);
                    (id, decision)
                })
                .collect();
            for (id, decision) in decisions {
                match decision {
                    Decision::Keep { skipped_failure, agreeing } => {
                        exp.failures_skipped += usize::from(skipped_failure);
                        exp.agreeing += usize::from(agreeing);
                    }
                    Decision::Take { replacing_failed } => {
                        let was_copy = matches!(chosen.get(&id), Some(Chosen::Source(_)));
                        exp.replacing_failed += usize::from(replacing_failed && !was_copy);
                        chosen.insert(id.clone(), Chosen::Source(src.record_path(&id)));
                    }
                    Decision::Conflict(c) => conflicts.extend(c),
                }
            }
        }
    }
    let experiments = experiments
        .into_iter()
        .map(|(key, (dst, mut exp, chosen))| {
            exp.copies = chosen
                .into_iter()
                .filter_map(|(id, c)| match c {
                    Chosen::Source(p) => Some((id, p)),
                    Chosen::Destination(_) => None,
                })
                .collect();
            exp.copies.sort();
            (key, (dst, exp))
        })
        .collect();
    conflicts.sort_by(|a: &Conflict, b: &Conflict| (&a.experiment, &a.id).cmp(&(&b.experiment, &b.id)));
    Ok(MergePlan { experiments, conflicts })
}

/// The decision for the source record `id` of `src` given the record chosen so far.
fn decide(experiment: &str, id: &str, src: &Store, chosen: Option<&Chosen>, rtol: f64) -> Decision {
    let incoming_from = src.record_path(id);
    let conflict = |what: String, kept: String, kept_from: &Path, incoming: String| {
        Decision::Conflict(vec![Conflict {
            experiment: experiment.to_string(),
            id: id.to_string(),
            what,
            kept,
            kept_from: kept_from.to_path_buf(),
            incoming,
            incoming_from: incoming_from.clone(),
        }])
    };
    let incoming = match read_one(src, id) {
        Ok(r) => r,
        Err(why) => {
            let kept_from = chosen.map(|c| c.path().to_path_buf()).unwrap_or_default();
            return conflict("unreadable source record".into(), String::new(), &kept_from, why);
        }
    };
    let Some(chosen) = chosen else { return Decision::Take { replacing_failed: false } };
    let kept = match read_path(chosen.path(), id) {
        Ok(r) => r,
        Err(why) => {
            return conflict("unreadable record".into(), why, chosen.path(), status_name(incoming.status).into());
        }
    };
    match (kept.is_result(), incoming.is_result()) {
        (false, true) => Decision::Take { replacing_failed: true },
        (_, false) => Decision::Keep { skipped_failure: true, agreeing: !kept.is_result() },
        (true, true) => {
            let differences = compare(&kept, &incoming, rtol);
            if differences.is_empty() {
                return Decision::Keep { skipped_failure: false, agreeing: true };
            }
            Decision::Conflict(
                differences
                    .into_iter()
                    .map(|d| Conflict {
                        experiment: experiment.to_string(),
                        id: id.to_string(),
                        what: d.what,
                        kept: d.a,
                        kept_from: chosen.path().to_path_buf(),
                        incoming: d.b,
                        incoming_from: incoming_from.clone(),
                    })
                    .collect(),
            )
        }
    }
}

/// The record of `id` stored at `path`.
fn read_path(path: &Path, id: &str) -> Result<Record, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Record::from_json(&bytes, id).map_err(|why| format!("{}: {why}", path.display()))
}

/// Copies the planned records (a plan without conflicts): each source file's bytes, atomically.
pub fn apply(plan: &MergePlan) -> io::Result<()> {
    for (dst, exp) in plan.experiments.values() {
        if exp.copies.is_empty() {
            continue;
        }
        dst.create()?;
        exp.copies.par_iter().try_for_each(|(id, from)| {
            let bytes = fs::read(from)?;
            atomic::write(&dst.record_path(id), &bytes)
        })?;
    }
    Ok(())
}
