//! An experiment file loaded once: its grid expanded, its figures and checks read and checked
//! against the grid ([`Grid`]), and, for the commands that read results, what its results hold
//! for every run ([`Experiment`]). Every command starts from one of the two.

use std::ops::Deref;
use std::path::Path;

use crate::grid::check::CheckDecl;
use crate::grid::figure::{BrokenFigure, FigureDecl, FigureDecls};
use crate::grid::{GridRun, Spec, SpecError};
use crate::store::state::{RunState, StateCounts};
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

/// An experiment file with its grid expanded once and its declarations checked against it.
#[derive(Debug, Clone)]
pub struct Grid {
    pub spec: Spec,
    /// Every run of the grid, in grid order.
    pub runs: Vec<GridRun>,
    /// The grid's axes (dotted paths, then `seed`).
    pub axes: Vec<String>,
    pub figures: Vec<FigureDecl>,
    pub checks: Vec<CheckDecl>,
    /// Notes on the declarations for the user (a filter that leaves out runs only because they
    /// lack its field), printed by the commands that load the grid.
    pub notes: Vec<String>,
    /// Where the results of its runs are.
    pub store: Store,
}

impl Grid {
    /// Reads the experiment file at `path` with `overrides` (`--set`), expands its grid and
    /// checks its figures and checks against it (a broken declaration is exit 2 before anything
    /// runs); its results are under `results`.
    pub fn load(path: &Path, overrides: &[String], results: &Path) -> Result<Grid, SpecError> {
        Grid::of(Spec::load(path, overrides)?, results)
    }

    /// The grid of `spec`, its results under `results`.
    pub fn of(spec: Spec, results: &Path) -> Result<Grid, SpecError> {
        Ok(Grid::build(spec, results, false)?.0)
    }

    /// The grid of `spec` without the figures that do not fit it, which are returned with the
    /// reason (for a command asked to run without them, `run --no-figures`).
    pub fn leaving_out_broken_figures(spec: Spec, results: &Path) -> Result<(Grid, Vec<BrokenFigure>), SpecError> {
        Grid::build(spec, results, true)
    }

    /// The grid of `spec`; a figure that does not fit it is the error, or, with `leave_out`,
    /// left out and returned.
    fn build(spec: Spec, results: &Path, leave_out: bool) -> Result<(Grid, Vec<BrokenFigure>), SpecError> {
        let runs = spec.expand()?;
        let axes = spec.axis_names()?;
        let FigureDecls { figures, mut notes, broken } = spec.figure_decls_one_by_one(&runs)?;
        if !leave_out && let Some(first) = broken.first() {
            return Err(first.error.clone());
        }
        let checks = spec.check_decls(&runs)?;
        for check in &checks {
            let of_check = check.filters.iter().filter_map(|f| f.absence_note(&runs));
            notes.extend(of_check.map(|n| format!("check `{}`: {n}", check.name)));
        }
        let store = Store::new(results, &spec.name);
        Ok((Grid { spec, runs, axes, figures, checks, notes, store }, broken))
    }

    /// The command that computes this grid's runs, as a user types it: `linres run SPEC`, with
    /// `--results DIR` when its results are not under the default `results` (a hint after a
    /// wrong `--results` that dropped it would compute into the wrong directory).
    pub fn run_command(&self) -> String {
        let mut words =
            vec!["linres".to_string(), "run".into(), crate::shell::word(&self.spec.path.display().to_string())];
        let results = self.store.root().parent().unwrap_or(Path::new(""));
        if results != Path::new("results") {
            let dir = if results.as_os_str().is_empty() { ".".into() } else { results.display().to_string() };
            words.extend(["--results".to_string(), crate::shell::word(&dir)]);
        }
        words.join(" ")
    }

    /// The row of `run` (one of this grid's runs) when its results hold a result for it.
    pub fn row(&self, run: &GridRun) -> Option<Row> {
        match self.store.read(&run.run.id()) {
            Lookup::Found(record) if record.is_result() => {
                let theory = record.theory(&self.spec.theory)?;
                Some(Row { run: run.clone(), record: *record, theory })
            }
            _ => None,
        }
    }

    /// The grid with what its results hold for every run: each record read once.
    pub fn with_results(self) -> Experiment {
        use rayon::prelude::*;
        let mut states = Vec::with_capacity(self.runs.len());
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        // Records read and validated in parallel, then taken in grid order.
        let listing = self.store.listing();
        let lookups: Vec<Lookup> = self
            .runs
            .par_iter()
            .map(|run| {
                let id = run.run.id();
                if listing.has_record(&id) { self.store.read(&id) } else { Lookup::Missing }
            })
            .collect();
        for (run, lookup) in self.runs.iter().zip(lookups) {
            match lookup {
                Lookup::Found(record) if record.is_result() => {
                    let theory = record.theory(&self.spec.theory).expect("results have an outcome");
                    states.push(RunState::Result { diverged_at: record.outcome.as_ref().and_then(|o| o.diverged_at) });
                    rows.push(Row { run: run.clone(), record: *record, theory });
                }
                lookup => {
                    states.push(RunState::of(lookup));
                    missing.push(run.clone());
                }
            }
        }
        Experiment { grid: self, states, rows, missing }
    }
}

/// A grid and what its results hold.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub grid: Grid,
    /// What the results hold for each run of the grid (`grid.runs[i]` ↔ `states[i]`).
    pub states: Vec<RunState>,
    /// Runs with a result (done or diverged), in grid order.
    pub rows: Vec<Row>,
    /// Runs of the grid without a result (missing, failed or corrupt), in grid order.
    pub missing: Vec<GridRun>,
}

impl Experiment {
    /// Loads the experiment file at `path` and its results under `results`.
    pub fn load(path: &Path, results: &Path) -> Result<Experiment, SpecError> {
        Ok(Grid::load(path, &[], results)?.with_results())
    }

    /// The results of `spec` under `results`.
    pub fn of(spec: Spec, results: &Path) -> Result<Experiment, SpecError> {
        Ok(Grid::of(spec, results)?.with_results())
    }

    /// Every run of the grid in grid order, with its state and, for a result, its row.
    pub fn runs(&self) -> impl Iterator<Item = (&GridRun, &RunState, Option<&Row>)> {
        let mut rows = self.rows.iter();
        self.grid.runs.iter().zip(&self.states).map(move |(run, state)| {
            let row = if state.is_result() { rows.next() } else { None };
            (run, state, row)
        })
    }

    /// How many runs are in each state (none counted as running: an experiment read for its
    /// outputs does not probe claims).
    pub fn counts(&self) -> StateCounts {
        let ids: Vec<String> = self.grid.runs.iter().map(|r| r.run.id()).collect();
        StateCounts::of(ids.iter().map(String::as_str).zip(&self.states), |_| false)
    }
}

/// An experiment is its grid with results: the grid's fields read through it.
impl Deref for Experiment {
    type Target = Grid;

    fn deref(&self) -> &Grid {
        &self.grid
    }
}
