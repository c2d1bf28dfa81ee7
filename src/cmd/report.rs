//! `linres report`: the static HTML report of experiments' results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use linres::check::check_experiment;
use linres::escape::terminal_text;
use linres::plot::figure_svgs;
use linres::report::source::FileSource;
use linres::report::{ExperimentReport, RUN_PAGES_LIMIT, ReportError, RunPages, write_site};

use super::check::experiment_files;
use super::grid::{load_experiment, open_store};
use super::out::{noteln, outln, warnln};
use super::usage;

#[derive(Args)]
#[command(
    about = "Write the HTML report: every experiment with its figures, checks and runs, each run beside its theory",
    long_about = "Write the HTML report of the experiments' cached results: a static site that opens from the file \
system (no network, no server). index.html lists the experiments and every check; each experiment has a page with \
its description, figures (SVG, inline), checks, a table of its runs that sorts (click a header, or #sort=COLUMN / \
#sort=-COLUMN in the URL) and filters (the box, or #filter=TEXT), and its YAML; each run has a page with its curve \
against its own theory lines, its theory report, seeds, configuration, provenance and files. An experiment of more \
runs than --run-pages allows (default 10000) gets no run pages and no runs table: its page summarises its runs (counts \
by state, a row per grid point) and links summary.csv and summary.parquet. Nothing is computed: `linres run` first. The site is written whole or not at all and replaces an earlier report in one step, removing \
only the files that report wrote; --out must not be, contain or lie inside a results directory (exit 2)."
)]
pub struct ReportArgs {
    /// Experiment files to report (default: every `*.yaml` in --experiments).
    pub specs: Vec<PathBuf>,
    /// Directory of the experiment files reported when no SPEC is given.
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    pub experiments: PathBuf,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Directory the site goes to: not a results directory, nor inside or around one.
    #[arg(long, value_name = "DIR", default_value = "report")]
    pub out: PathBuf,
    /// A page per run, and a table of the runs, for the experiments of at most N runs (`all`:
    /// every experiment; `none`: no experiment); the others' pages summarise their runs.
    #[arg(long, value_name = "all|none|N", default_value_t = RunPages::AtMost(RUN_PAGES_LIMIT))]
    pub run_pages: RunPages,
}

/// The experiment file at `path` with its results under `results`, its figures drawn and its
/// checks evaluated: everything its pages show.
fn gather(path: &Path, results: &Path) -> anyhow::Result<ExperimentReport> {
    let yaml = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let exp = load_experiment(path, results)?;
    let figures = figure_svgs(&exp, results)
        .into_iter()
        .map(|(fig, svg)| (fig.name.clone(), fig.title.clone(), svg.map_err(|e| e.to_string())))
        .collect();
    let checks = check_experiment(&exp);
    let source = FileSource::of(path);
    Ok(ExperimentReport { exp, yaml, figures, checks, source })
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    open_store(&args.results, "")?;
    let specs = if args.specs.is_empty() { experiment_files(&args.experiments)? } else { args.specs.clone() };
    let mut reports = Vec::new();
    for path in &specs {
        let report = gather(path, &args.results)?;
        let missing = report.exp.missing.len();
        if missing > 0 {
            let exp = &report.exp;
            // With no results directory for the experiment at all, --results is the likely mistake.
            let absent = if exp.store.root().exists() {
                String::new()
            } else {
                let root = exp.store.root().display().to_string();
                format!(" ({} does not exist: is --results right?)", terminal_text(&root))
            };
            warnln!(
                "{}: {missing} of {} runs have no result{absent}; the report shows them as missing or failed \
                 (`{}` computes them)",
                exp.spec.name,
                exp.grid.runs.len(),
                terminal_text(&exp.run_command())
            );
        }
        for (name, _, svg) in &report.figures {
            if let Err(why) = svg {
                warnln!("{}: figure {name} could not be drawn: {}", report.exp.spec.name, terminal_text(why));
            }
        }
        reports.push(report);
    }
    let out = &args.out;
    let pages = write_site(&reports, out, &args.results, args.run_pages).map_err(|e| match e {
        ReportError::Io { .. } | ReportError::Spec(_) => anyhow::Error::from(e),
        refused => usage(refused.to_string()),
    })?;
    noteln!("{pages} pages for {} experiment(s)", reports.len());
    outln!("{}", terminal_text(&out.join("index.html").display().to_string()));
    Ok(ExitCode::SUCCESS)
}
