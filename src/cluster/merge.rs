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
//! | corrupt (either)       |               | conflict                                      |
//!
//! A record is corrupt when it does not read back as a record of its run (the store's check: a
//! truncated file, or one whose configuration is another run's). Sources and destination must be
//! of one kind: results directories, or experiments' directories ([`Layout`]). Planning reads
//! everything and writes nothing; a plan with a conflict is refused whole. Copies are the source
//! files' bytes, written atomically (temporary file, then rename) into the destination's shards
//! (either layout is read, the sharded one written).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::compare::{compare, status_name};
use super::layout::{Layout, read_one};
use crate::error::ConfigError;
use crate::store::publish::publishing;
use crate::store::{Record, Store};

/// Why a merge cannot take a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// A record (of a source, or the one chosen before it) is corrupt.
    Corrupt,
    /// Two records of one run differ.
    Differ,
}

/// A record that is corrupt or disagrees with the one chosen before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub kind: ConflictKind,
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
    Destination(Store),
    /// A source's record, to be copied.
    Source(Store),
}

impl Chosen {
    fn store(&self) -> &Store {
        match self {
            Chosen::Destination(s) | Chosen::Source(s) => s,
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
/// experiment each, all of one kind, and a destination of that kind, or empty, or not yet there);
/// source curves must agree with the chosen ones within `rtol`.
pub fn plan(sources: &[PathBuf], into: &Path, rtol: f64) -> Result<MergePlan, ConfigError> {
    if sources.is_empty() {
        return Err(ConfigError::new("SRC", "give at least one source directory"));
    }
    let layouts = sources
        .iter()
        .map(|s| Layout::of(s, &format!("SRC `{}`", s.display()), false))
        .collect::<Result<Vec<_>, _>>()?;
    let single = layouts[0].single;
    if let Some((s, l)) = sources.iter().zip(&layouts).find(|(_, l)| l.single != single) {
        return Err(ConfigError::new(
            "SRC",
            format!(
                "mixes results directories and single experiments' directories: `{}` is {}, `{}` is {}; give \
                 sources of one kind",
                sources[0].display(),
                layouts[0].kind(),
                s.display(),
                l.kind()
            ),
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
    if into.is_dir() {
        // Tables count: a directory of committed results (summary.csv only) has its kind too.
        let dest = Layout::of(into, "--into", true)?;
        if dest.single != single && (dest.single || !dest.experiments.is_empty()) {
            return Err(ConfigError::new(
                "--into",
                format!(
                    "`{}` is {}, but SRC `{}` is {}: merge experiments' directories into an experiment's \
                     directory and results directories into a results directory",
                    into.display(),
                    dest.kind(),
                    sources[0].display(),
                    layouts[0].kind()
                ),
            ));
        }
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
                let chosen = dst.record_ids().into_iter().map(|id| (id, Chosen::Destination(dst.clone()))).collect();
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
                        chosen.insert(id.clone(), Chosen::Source(src.clone()));
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
                    Chosen::Source(s) => Some((id.clone(), s.record_path(&id))),
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
    let conflict = |kind, what: String, kept: String, kept_from: PathBuf, incoming: String| Conflict {
        kind,
        experiment: experiment.to_string(),
        id: id.to_string(),
        what,
        kept,
        kept_from,
        incoming,
        incoming_from: incoming_from.clone(),
    };
    let incoming = match read_one(src, id) {
        Ok(r) => r,
        Err(why) => {
            let kept_from = chosen.map(|c| c.store().record_path(id)).unwrap_or_default();
            let what = "corrupt source record (not a record of this run)".to_string();
            return Decision::Conflict(vec![conflict(ConflictKind::Corrupt, what, String::new(), kept_from, why)]);
        }
    };
    let Some(chosen) = chosen else { return Decision::Take { replacing_failed: false } };
    let kept_from = chosen.store().record_path(id);
    let kept = match read_one(chosen.store(), id) {
        Ok(r) => r,
        Err(why) => {
            let what = "corrupt record already chosen (not a record of this run)".to_string();
            let incoming = status_name(incoming.status).to_string();
            return Decision::Conflict(vec![conflict(ConflictKind::Corrupt, what, why, kept_from, incoming)]);
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
                    .map(|d| conflict(ConflictKind::Differ, d.what, d.a, kept_from.clone(), d.b))
                    .collect(),
            )
        }
    }
}

/// Copies the planned records (a plan without conflicts): each source file's bytes, checked once
/// more to be a record of its run (a source may have changed since the plan), published in
/// groups like the records of a run (`store::publish`).
pub fn apply(plan: &MergePlan) -> io::Result<()> {
    for (dst, exp) in plan.experiments.values() {
        if exp.copies.is_empty() {
            continue;
        }
        dst.create()?;
        let first_error: Mutex<Option<io::Error>> = Mutex::new(None);
        let done = |(), outcome: io::Result<()>| {
            if let Err(e) = outcome {
                first_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
            }
        };
        publishing(dst, true, &done, |publisher| {
            exp.copies.par_iter().try_for_each(|(id, from)| {
                let bytes = fs::read(from)?;
                let record = Record::from_json(&bytes, id).map_err(|why| {
                    io::Error::other(format!("{}: {why} (it changed after the merge was planned)", from.display()))
                })?;
                match publisher {
                    Some(p) => p.submit(id, &bytes, record.summary(), None, ()),
                    None => dst.write_bytes(id, &bytes, record.summary()),
                }
            })
        })?;
        dst.save_index();
        if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
    }
    Ok(())
}
