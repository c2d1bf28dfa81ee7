//! Arguments shared by the commands that act on an experiment file.

use std::path::PathBuf;

use clap::Args;
use linres::spec::{Filter, GridRun, Spec, select};
use linres::store::Store;

#[derive(Args, Debug)]
pub struct GridArgs {
    /// The experiment file (YAML).
    pub spec: PathBuf,
    /// Only runs whose field matches: KEY=VALUE[,VALUE…], e.g. `model.width=40,200` or `seed=0`
    /// (repeatable; every filter must match).
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Directory holding the results (`<DIR>/<name>/` per experiment).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

/// An experiment file loaded and expanded.
pub struct Grid {
    pub spec: Spec,
    /// Every run of the grid.
    pub all: Vec<GridRun>,
    /// The runs that pass the filters.
    pub selected: Vec<GridRun>,
    pub store: Store,
    /// The grid's axes (for table columns).
    pub axes: Vec<String>,
}

impl GridArgs {
    pub fn load(&self) -> anyhow::Result<Grid> {
        let spec = Spec::load(&self.spec, &[])?;
        // A broken figure declaration is reported before anything runs.
        spec.figure_specs()?;
        let filters = self.filters.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?;
        let all = spec.expand()?;
        let selected = select(all.clone(), &filters)?;
        let store = Store::new(&self.results, &spec.name);
        let axes = spec.axis_names()?;
        Ok(Grid { spec, all, selected, store, axes })
    }
}
