//! Arguments shared by the commands that act on an experiment file.

use std::path::{Path, PathBuf};

use clap::Args;
use linres::experiment::{Experiment, Grid};
use linres::grid::{Filter, GridRun, Spec, select};
use linres::store::Store;

use super::out::noteln;
use super::usage;

/// `--set` as every grid command documents it.
pub const SET_HELP: &str = "Change a field of every run: `key.path=value` (the value is read as YAML), e.g. \
`model.depth=4` or `model.width=[40, 80]`; setting a `kind` or `rule` drops the fields that do not apply to the new \
one (repeatable; the run ids change with the configuration)";

#[derive(Args, Debug)]
pub struct GridArgs {
    /// The experiment file (YAML).
    pub spec: PathBuf,
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE", help = SET_HELP)]
    pub set: Vec<String>,
    /// Only runs whose field matches: KEY=VALUE[,VALUE…], e.g. `model.width=40,200` or `seed=0`
    /// (repeatable; every filter must match).
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Directory holding the results (`<DIR>/<name>/` per experiment).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

/// An experiment file loaded once ([`linres::experiment::Grid`]) and the runs the filters select.
pub struct Selection {
    pub grid: Grid,
    /// The runs that pass the filters.
    pub selected: Vec<GridRun>,
}

impl std::ops::Deref for Selection {
    type Target = Grid;

    fn deref(&self) -> &Grid {
        &self.grid
    }
}

impl GridArgs {
    /// The experiment file read, its grid expanded and its figures and checks checked (a broken
    /// declaration is reported before anything runs), and the runs `--filter` selects.
    pub fn load(&self) -> anyhow::Result<Selection> {
        let filters = self.filters.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?;
        let spec = Spec::load(&self.spec, &self.set)?;
        open_store(&self.results, &spec.name)?;
        let grid = Grid::of(spec, &self.results)?;
        print_notes(&grid);
        let selected = select(grid.runs.clone(), &filters)?;
        Ok(Selection { grid, selected })
    }
}

/// The experiment file at `path` with its results under `results`, its notes printed.
pub fn load_experiment(path: &Path, results: &Path) -> anyhow::Result<Experiment> {
    let exp = Experiment::load(path, results)?;
    print_notes(&exp);
    Ok(exp)
}

/// The grid's notes on its declarations, as `note:` lines on stderr (quiet with `-q`).
fn print_notes(grid: &Grid) {
    for note in &grid.notes {
        noteln!("note: {}: {note}", grid.spec.name);
    }
}

/// The store of experiment `name` under `--results DIR`, refusing a `DIR` (or `DIR/<name>`) that
/// exists but is not a directory.
pub fn open_store(results: &Path, name: &str) -> anyhow::Result<Store> {
    for (path, what) in [(results.to_path_buf(), "--results"), (results.join(name), "the experiment's results")] {
        if path.exists() && !path.is_dir() {
            return Err(usage(format!(
                "{what} {}: is not a directory (results go to <DIR>/<experiment name>/)",
                path.display()
            )));
        }
    }
    Ok(Store::new(results, name))
}
