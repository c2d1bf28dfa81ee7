//! An experiment file together with the cached results of its runs: the input of the plotting
//! stage and of the paper checks.

use std::path::Path;

use crate::spec::{GridRun, Spec, SpecError};
use crate::store::{Lookup, Record, Store};
use crate::theory::TheoryReport;
use crate::train::RunOutcome;

/// One run of the grid with its result record and its theory under the experiment's constants.
#[derive(Debug, Clone)]
pub struct Row {
    pub run: GridRun,
    pub record: Record,
    pub theory: TheoryReport,
}

impl Row {
    /// The run's outcome (every row is a result).
    pub fn outcome(&self) -> &RunOutcome {
        self.record.outcome.as_ref().expect("rows hold results")
    }
}

/// A grid and the results found for it.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub spec: Spec,
    /// Runs with a result (done or diverged), in grid order.
    pub rows: Vec<Row>,
    /// Runs of the grid without a result (missing or failed), in grid order.
    pub missing: Vec<GridRun>,
    /// The grid's axes.
    pub axes: Vec<String>,
}

impl Experiment {
    /// Loads the experiment file at `path` and its results under `results`.
    pub fn load(path: &Path, results: &Path) -> Result<Experiment, SpecError> {
        Experiment::of(Spec::load(path, &[])?, results)
    }

    /// The results of `spec` under `results`.
    pub fn of(spec: Spec, results: &Path) -> Result<Experiment, SpecError> {
        let store = Store::new(results, &spec.name);
        let axes = spec.axis_names()?;
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        let all = spec.expand()?;
        // Every command that reads an experiment validates its declared figures and checks (exit 2
        // up front).
        spec.figure_specs(&all)?;
        spec.check_decls(&all)?;
        for run in all {
            match store.read(&run.run.id()) {
                Lookup::Found(record) if record.is_result() => {
                    let theory = record.theory(&spec.theory).expect("results have an outcome");
                    rows.push(Row { run, record: *record, theory })
                }
                _ => missing.push(run),
            }
        }
        Ok(Experiment { spec, rows, missing, axes })
    }
}
