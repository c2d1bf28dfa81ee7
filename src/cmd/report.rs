//! `linres report`: the static HTML report of experiments' results.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use linres::escape::terminal_text;
use linres::report::{ExperimentReport, ReportError, write_site};

use super::check::experiment_files;
use super::grid::open_store;
use super::out::{noteln, outln, warnln};
use super::usage;

#[derive(Args)]
#[command(
    about = "Write the HTML report: every experiment with its figures, checks and runs, each run beside its theory",
    long_about = "Write the HTML report of the experiments' cached results: a static site that opens from the file \
system (no network, no server). index.html lists the experiments and every check; each experiment has a page with \
its description, figures (SVG, inline), checks, a table of its runs that sorts (click a header, or #sort=COLUMN / \
#sort=-COLUMN in the URL) and filters (the box, or #filter=TEXT), and its YAML; each run has a page with its curve \
against its own theory lines, its theory report, seeds, configuration, provenance and files. Nothing is computed: \
`linres run` first. The site is written whole or not at all and replaces an earlier report in one step, removing \
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
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    open_store(&args.results, "")?;
    let specs = if args.specs.is_empty() { experiment_files(&args.experiments)? } else { args.specs.clone() };
    let mut reports = Vec::new();
    for path in &specs {
        let report = ExperimentReport::gather(path, &args.results)?;
        let missing = report.exp.missing.len();
        if missing > 0 {
            warnln!(
                "{}: {missing} of {} runs have no result; the report shows them as missing or failed",
                report.exp.spec.name,
                report.runs.len()
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
    let pages = write_site(&reports, out, &args.results).map_err(|e| match e {
        ReportError::Io { .. } | ReportError::Spec(_) => anyhow::Error::from(e),
        refused => usage(refused.to_string()),
    })?;
    noteln!("{pages} pages for {} experiment(s)", reports.len());
    outln!("{}", terminal_text(&out.join("index.html").display().to_string()));
    Ok(ExitCode::SUCCESS)
}
