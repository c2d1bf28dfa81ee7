//! The HTML report: one static site of experiments' results, readable from the file system with
//! no network and no server. `index.html` lists the experiments and every check; each experiment
//! has a page (description, figures inline as SVG, checks, a sortable and filterable table of its
//! runs, its YAML) and each run with a record a page of its own (its curve against its theory
//! lines, its theory report, seeds, configuration, provenance and files).
//!
//! An experiment of more runs than [`RunPages`] allows (by default [`RUN_PAGES_LIMIT`]) gets no run
//! pages and no table of its runs: its page summarises them (counts by state, a row per grid
//! point when there are not too many) and links the tables that hold a row per run
//! (`summary.csv`, `summary.parquet`), so that the report's time and memory do not grow with
//! per-run HTML. Run pages are rendered and written in parallel, each by a pure function of its
//! run: the bytes do not depend on the number of threads.
//!
//! Every string from input is escaped; the same results give the same bytes (no clock, no
//! absolute paths, grid order throughout); the site is written into a staging directory and
//! replaces the previous one in one step ([`Staging::publish`]). The site never overlaps the
//! results it reads, and replacing a report removes only the files that report wrote (listed in
//! its [`MANIFEST`]).

pub mod curve;
pub mod html;
mod pages;
pub mod source;

use std::path::{Path, PathBuf};

use crate::experiment::Experiment;
use crate::grid::SpecError;
use crate::grid::check::CheckOutcome;
use crate::store::atomic::Staging;

/// The table script: sorting (click a header, or `#sort=COLUMN` / `#sort=-COLUMN` in the URL) and
/// filtering (the box above the table, or `#filter=TEXT`).
pub const SCRIPT: &str = include_str!("assets/report.js");
/// The stylesheet, written to `assets/report.css`.
pub const STYLE: &str = include_str!("assets/report.css");
/// Marks a directory as a report, so that `--out` never replaces anything else.
pub const GENERATOR: &str = "<meta name=\"generator\" content=\"linres report\">";
/// The file of a report's directory that lists every file the report wrote, one path (relative to
/// the directory, `/`-separated) per line: the files the next report may remove.
pub const MANIFEST: &str = ".linres-report";

/// The most runs an experiment may have for the report to write a page per run and a table row
/// per run (`--run-pages`'s default): above it, the experiment's page summarises its runs. At
/// ~10 KB per run page, 10⁴ runs make 100 MB of HTML, written in seconds; 10⁶ would make 10 GB.
pub const RUN_PAGES_LIMIT: usize = 10_000;

/// Which experiments get a page per run and a table of their runs (`--run-pages all|none|N`);
/// the others are summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPages {
    /// Every experiment, whatever its number of runs.
    All,
    /// No experiment: every experiment's runs are summarised.
    None,
    /// The experiments of at most this many runs.
    AtMost(usize),
}

impl Default for RunPages {
    fn default() -> RunPages {
        RunPages::AtMost(RUN_PAGES_LIMIT)
    }
}

impl RunPages {
    /// Whether an experiment of `runs` runs gets its run pages and runs table.
    pub fn writes_pages(self, runs: usize) -> bool {
        match self {
            RunPages::All => true,
            RunPages::None => false,
            RunPages::AtMost(limit) => runs <= limit,
        }
    }
}

impl std::str::FromStr for RunPages {
    type Err = String;

    fn from_str(text: &str) -> Result<RunPages, String> {
        match text {
            "all" => Ok(RunPages::All),
            "none" => Ok(RunPages::None),
            n => n.parse().map(RunPages::AtMost).map_err(|_| {
                format!(
                    "expected `all`, `none` or a number of runs N (a page per run for the experiments of at most N \
                     runs; default {RUN_PAGES_LIMIT}), got `{}`",
                    crate::escape::terminal_text(n)
                )
            }),
        }
    }
}

impl std::fmt::Display for RunPages {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            RunPages::All => f.write_str("all"),
            RunPages::None => f.write_str("none"),
            RunPages::AtMost(n) => write!(f, "{n}"),
        }
    }
}

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
    #[error("--out {0}: is a file, not a directory; the report is a directory of pages: give a directory")]
    OutIsFile(PathBuf),
    #[error(
        "--out {out}: {relation} the results directory {results} that the report reads; a report's directory must \
         neither be, hold nor lie inside a results directory: choose another --out"
    )]
    Overlap { out: PathBuf, results: PathBuf, relation: &'static str },
}

/// One experiment, everything its pages show: its results, its file's text, its figures drawn as
/// SVG and its checks evaluated (by the commands that draw and check; the report computes
/// nothing).
pub struct ExperimentReport {
    pub exp: Experiment,
    /// The experiment file's text.
    pub yaml: String,
    /// Every declared figure: (name, title, its SVG or why it could not be drawn).
    pub figures: Vec<(String, String, Result<String, String>)>,
    pub checks: Vec<CheckOutcome>,
    /// The git repository of the experiment file (not linres's own).
    pub source: source::FileSource,
}

impl ExperimentReport {
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

/// `path` made absolute with its symbolic links resolved as far as it exists (the part that does
/// not exist yet appended as written).
fn resolved(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut existing = absolute.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return Ok(rest.iter().rev().fold(real, |p, name| p.join(name)));
        }
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => return Ok(absolute),
        }
        existing.pop();
    }
}

/// Refuses an `out` that is, contains or lies inside one of the `results` directories (compared
/// with their symbolic links resolved).
fn refuse_overlap(out: &Path, results: &[&Path]) -> Result<(), ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let site = resolved(out).map_err(io(out))?;
    for dir in results {
        let real = resolved(dir).map_err(io(dir))?;
        let relation = if site == real {
            "is"
        } else if site.starts_with(&real) {
            "lies inside"
        } else if real.starts_with(&site) {
            "contains"
        } else {
            continue;
        };
        return Err(ReportError::Overlap { out: out.to_path_buf(), results: dir.to_path_buf(), relation });
    }
    Ok(())
}

/// The files an earlier report at `out` wrote, from its manifest; `None` for a report written
/// before reports had one (then only the files the new report replaces are removed).
fn earlier_files(out: &Path) -> Option<std::collections::BTreeSet<PathBuf>> {
    let text = std::fs::read_to_string(out.join(MANIFEST)).ok()?;
    Some(text.lines().map(PathBuf::from).collect())
}

/// Writes the site of `reports`, whose results are under `results`, into `out`, all of it or
/// nothing, in one step for a reader ([`Staging::publish`]). Refused when `out` overlaps `results`
/// or an experiment's results directory, when it is a file, or when it is a directory that is not
/// a report. An earlier report is replaced: the files it wrote (its [`MANIFEST`]) are removed, any
/// other file in the directory is kept. `run_pages` says which experiments get a page per run.
/// Returns the number of pages.
pub fn write_site(
    reports: &[ExperimentReport],
    out: &Path,
    results: &Path,
    run_pages: RunPages,
) -> Result<usize, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let stores: Vec<&Path> = std::iter::once(results).chain(reports.iter().map(|r| r.exp.store.root())).collect();
    refuse_overlap(out, &stores)?;
    let earlier = match std::fs::metadata(out) {
        Ok(m) if !m.is_dir() => return Err(ReportError::OutIsFile(out.to_path_buf())),
        Ok(_) => {
            let index = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
            if !index.contains(GENERATOR) {
                return Err(ReportError::NotAReport(out.to_path_buf()));
            }
            earlier_files(out)
        }
        Err(_) => None,
    };
    let staging = Staging::new(out).map_err(io(out))?;
    let written = pages::write_all(reports, staging.dir(), out, run_pages)?;
    let manifest: String = written.iter().map(|p| format!("{p}\n")).collect();
    let path = staging.dir().join(MANIFEST);
    std::fs::write(&path, manifest).map_err(io(&path))?;
    let pages = written.iter().filter(|p| p.ends_with(".html")).count();
    staging
        .publish(|rel| earlier.as_ref().is_none_or(|files| !files.contains(rel) && rel != Path::new(MANIFEST)))
        .map_err(io(out))?;
    Ok(pages)
}
