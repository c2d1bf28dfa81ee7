//! The HTML report: one static site of experiments' results, readable from the file system with
//! no network and no server. `index.html` lists the experiments and every check; each experiment
//! has a page (description, figures inline as SVG, checks, a sortable and filterable table of its
//! runs, its YAML) and each run with a record a page of its own (its curve against its theory
//! lines, its theory report, seeds, configuration, provenance and files).
//!
//! Every string from input is escaped; the same results give the same bytes (no clock, no
//! absolute paths, grid order throughout); the site is written into a staging directory and moved
//! into place only when complete.

pub mod curve;
pub mod html;
mod pages;

use std::path::{Path, PathBuf};

use crate::check::{CheckOutcome, check_experiment};
use crate::experiment::Experiment;
use crate::plot::figure_svgs;
use crate::spec::{GridRun, SpecError};
use crate::store::{Lookup, Record, Store};

/// The table script: sorting (click a header, or `#sort=COLUMN` / `#sort=-COLUMN` in the URL) and
/// filtering (the box above the table, or `#filter=TEXT`).
pub const SCRIPT: &str = include_str!("assets/report.js");
/// The stylesheet, written to `assets/report.css`.
pub const STYLE: &str = include_str!("assets/report.css");
/// Marks a directory as a report, so that `--out` never replaces anything else.
pub const GENERATOR: &str = "<meta name=\"generator\" content=\"linres report\">";

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "--out {0}: the directory exists and is not a linres report (no index.html written by `linres report`); refusing to replace it"
    )]
    NotAReport(PathBuf),
}

/// What a run of the grid has in the results.
pub enum RunState {
    /// Done or diverged: index into [`Experiment::rows`].
    Result(usize),
    /// A record of a run that failed.
    Failed(Box<Record>),
    /// A file that is not a readable record of the run.
    Corrupt(String),
    Missing,
}

/// One experiment, everything its pages show.
pub struct ExperimentReport {
    pub exp: Experiment,
    /// The experiment file's text.
    pub yaml: String,
    /// Every declared figure: (name, title, its SVG or why it could not be drawn).
    pub figures: Vec<(String, String, Result<String, String>)>,
    pub checks: Vec<CheckOutcome>,
    /// Every run of the grid, in grid order, with what the results hold for it.
    pub runs: Vec<(GridRun, RunState)>,
    /// The experiment's results directory (for links to records and tables).
    pub store: PathBuf,
}

impl ExperimentReport {
    /// Loads the experiment file at `path` with its results under `results`, draws its figures
    /// and evaluates its checks.
    pub fn gather(path: &Path, results: &Path) -> Result<ExperimentReport, ReportError> {
        let yaml = std::fs::read_to_string(path).map_err(|source| ReportError::Io { path: path.into(), source })?;
        let exp = Experiment::load(path, results)?;
        let figures = figure_svgs(&exp, results)?
            .into_iter()
            .map(|(fig, svg)| (fig.name, fig.title, svg.map_err(|e| e.to_string())))
            .collect();
        let checks = check_experiment(&exp)?;
        let store = Store::new(results, &exp.spec.name);
        let mut by_id: std::collections::BTreeMap<String, usize> =
            exp.rows.iter().enumerate().map(|(i, r)| (r.run.run.id(), i)).collect();
        let runs = exp
            .spec
            .expand()?
            .into_iter()
            .map(|run| {
                let id = run.run.id();
                let state = match by_id.remove(&id) {
                    Some(i) => RunState::Result(i),
                    None => match store.read(&id) {
                        Lookup::Found(record) => RunState::Failed(record),
                        Lookup::Unreadable(why) => RunState::Corrupt(why),
                        Lookup::Missing => RunState::Missing,
                    },
                };
                (run, state)
            })
            .collect();
        Ok(ExperimentReport { exp, yaml, figures, checks, runs, store: store.root().to_path_buf() })
    }

    /// The experiment file's leading comment, as the experiment's description.
    pub fn description(&self) -> String {
        let lines: Vec<&str> = self
            .yaml
            .lines()
            .take_while(|l| l.trim_start().starts_with('#'))
            .map(|l| l.trim_start().trim_start_matches('#').trim())
            .collect();
        lines.join(" ")
    }
}

/// Writes the site of `reports` into `out` (all of it or nothing): pages are written into a
/// staging directory beside `out`, which then replaces `out`. An existing `out` is replaced only
/// if it is a report. Returns the number of pages.
pub fn write_site(reports: &[ExperimentReport], out: &Path) -> Result<usize, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    if out.exists() {
        let index = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
        if !index.contains(GENERATOR) {
            return Err(ReportError::NotAReport(out.to_path_buf()));
        }
    }
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = parent.join(format!(".{name}.staging.{}", std::process::id()));
    let written = pages::write_all(reports, &staging, out);
    let pages = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let old = parent.join(format!(".{name}.old.{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old).map_err(io(out))?;
    }
    std::fs::rename(&staging, out).map_err(io(out))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(pages)
}
