//! What a directory given to `diff` or `merge` holds: a results directory (one `<name>/runs/` per
//! experiment, what `--results` names) or the directory of one experiment (`runs/` directly below).
//! `diff` also takes experiments that hold only their tables (`<name>/summary.csv`, what committed
//! results keep).

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::ConfigError;
use crate::store::{Lookup, Record, Store};

/// The experiments found in a directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Whether the directory is one experiment's (rather than a results directory).
    pub single: bool,
    /// (experiment name, its store), sorted by name.
    pub experiments: Vec<(String, Store)>,
}

impl Layout {
    /// Reads the layout of `dir`, given as argument `arg` (named in errors): experiments are the
    /// directories holding records (`runs/`), and with `tables` also those holding only `summary.csv`.
    /// A directory that is both (an experiment's `runs/` beside other experiments) is refused: which
    /// records belong to what cannot be told.
    pub fn of(dir: &Path, arg: &str, tables: bool) -> Result<Layout, ConfigError> {
        if !dir.is_dir() {
            return Err(ConfigError::new(
                arg,
                format!("`{}` is not a directory (give a results directory or one experiment's)", dir.display()),
            ));
        }
        let is_experiment = |d: &Path| d.join("runs").is_dir() || (tables && d.join(SUMMARY).is_file());
        let entries =
            fs::read_dir(dir).map_err(|e| ConfigError::new(arg, format!("cannot read `{}`: {e}", dir.display())))?;
        let mut below: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| is_experiment(&e.path()))
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .collect();
        below.sort();
        if is_experiment(dir) {
            if let Some(other) = below.first() {
                return Err(ConfigError::new(
                    arg,
                    format!(
                        "`{}` is both one experiment's directory (it holds runs/) and a results directory (it holds \
                         the experiment {other}/): which records belong to which experiment cannot be told; move \
                         its runs/ into a directory of its own",
                        dir.display()
                    ),
                ));
            }
            let absolute = fs::canonicalize(dir)
                .map_err(|e| ConfigError::new(arg, format!("cannot resolve `{}`: {e}", dir.display())))?;
            let name = absolute.file_name().and_then(|n| n.to_str()).unwrap_or("experiment").to_string();
            let parent = absolute.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
            return Ok(Layout { single: true, experiments: vec![(name.clone(), Store::new(&parent, &name))] });
        }
        let experiments = below.into_iter().map(|name| (name.clone(), Store::new(dir, &name))).collect();
        Ok(Layout { single: false, experiments })
    }

    /// What kind of directory this is, in words.
    pub fn kind(&self) -> &'static str {
        if self.single {
            "one experiment's directory (runs/ directly below)"
        } else {
            "a results directory (a directory per experiment)"
        }
    }

    /// The store of experiment `name`, if present.
    pub fn store(&self, name: &str) -> Option<&Store> {
        self.experiments.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }
}

/// The table of one row per run, beside `runs/`.
pub const SUMMARY: &str = "summary.csv";

/// The record of `id` in `store`, or why it cannot be read (a record listed a moment ago that has
/// gone counts as unreadable).
pub fn read_one(store: &Store, id: &str) -> Result<Record, String> {
    match store.read(id) {
        Lookup::Found(r) => Ok(*r),
        Lookup::Unreadable(why) => Err(why),
        Lookup::Missing => Err("the record vanished while being read".to_string()),
    }
}

/// Every record file of a store, read in parallel: (id, record or why it cannot be read), by id.
pub fn read_all(store: &Store) -> Vec<(String, Result<Record, String>)> {
    store.record_ids().into_par_iter().map(|id| (id.clone(), read_one(store, &id))).collect()
}
