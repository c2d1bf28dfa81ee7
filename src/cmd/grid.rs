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
        let spec = Spec::load(&self.spec, &self.set)?;
        open_store(&self.results, &spec.name)?;
        self.selection(Grid::of(spec, &self.results)?)
    }

    /// As [`GridArgs::load`], for a command that offers `--no-figures`: a figure that does not
    /// fit the grid (one that would pool an axis `--set` adds) is refused with a pointer to that
    /// flag, or, with `no_figures`, left out of this command and named in a note with the reason.
    pub fn load_offering_no_figures(&self, no_figures: bool) -> anyhow::Result<Selection> {
        let spec = Spec::load(&self.spec, &self.set)?;
        open_store(&self.results, &spec.name)?;
        let (grid, broken) = Grid::leaving_out_broken_figures(spec, &self.results)?;
        if let Some(first) = broken.first().filter(|_| !no_figures) {
            let mut error = first.error.clone();
            error.message.push_str(
                "; or run without the figures that do not fit this grid: --no-figures leaves them out and names them",
            );
            return Err(error.into());
        }
        for b in &broken {
            noteln!(
                "note: {}: --no-figures: figure `{}` left out (it is not checked or drawn for this grid): {}",
                grid.spec.name,
                b.name,
                b.error
            );
        }
        self.selection(grid)
    }

    /// `grid` with its notes printed and the runs `--filter` selects.
    fn selection(&self, grid: Grid) -> anyhow::Result<Selection> {
        print_notes(&grid);
        let filters = parse_filters(&self.filters, &grid.runs)?;
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

/// The `--filter KEY=VALUE` options, each with a note when it leaves out runs of `runs` only
/// because they lack its field.
pub fn parse_filters(texts: &[String], runs: &[GridRun]) -> anyhow::Result<Vec<Filter>> {
    let filters = texts.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?;
    for note in filters.iter().filter_map(|f| f.absence_note(runs)) {
        noteln!("note: --filter: {note}");
    }
    Ok(filters)
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
