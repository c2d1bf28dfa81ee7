//! `linres export`: one run's inputs as `.npy` files and `meta.json`, or the grid's tables as
//! Parquet or CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use linres::escape::terminal_text;
use linres::export::inputs::{ExportError, export_inputs};
use linres::export::tables::{TableFormat, export_tables, update_tables};
use linres::grid::Spec;

use super::grid::{GridArgs, SET_HELP};
use super::out::outln;
use super::usage;

/// The formats of `--format`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// summary.parquet and curves.parquet.
    Parquet,
    /// summary.csv and runs.csv.
    Csv,
}

#[derive(Args)]
#[command(
    about = "Write a run's inputs as numpy files (X.npy n×d, Y.npy n×k, A.npy/B.npy or W1..WL.npy) and meta.json, \
or the grid's tables (--format parquet|csv)",
    after_help = "Re-train in numpy: python3 tests/reference/retrain_export.py DIR (see its usage). \
With --format, the tables of the cached records: in the results directory (brought up to date, as `run` \
leaves them) or in --out DIR."
)]
pub struct ExportArgs {
    /// The experiment file.
    pub spec: PathBuf,
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE", help = SET_HELP)]
    pub set: Vec<String>,
    /// The run id (as printed by `linres list`), or a prefix of it that only one run has.
    #[arg(long = "run", value_name = "ID", requires = "npy", required_unless_present = "format")]
    pub run: Option<String>,
    /// Directory to write the files into (created if needed). A file of the export already there
    /// is never replaced (exit 2, nothing written) unless --force.
    #[arg(long, value_name = "DIR", requires = "run")]
    pub npy: Option<PathBuf>,
    /// The grid's tables in this format (instead of a run's inputs).
    #[arg(long, value_enum, conflicts_with_all = ["run", "npy"])]
    pub format: Option<Format>,
    /// With --format: the directory to write the two tables into (created if needed; default: the
    /// experiment's results directory). A table already there is never replaced (exit 2, nothing
    /// written) unless --force.
    #[arg(long, value_name = "DIR", requires = "format")]
    pub out: Option<PathBuf>,
    /// Directory holding the results (`<DIR>/<name>/` per experiment).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Replace files of the export that are already in DIR.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if let Some(format) = args.format {
        return tables(&args, format);
    }
    let (Some(wanted), Some(npy)) = (&args.run, &args.npy) else {
        return Err(usage("export: give --run ID --npy DIR (a run's inputs) or --format (the tables)"));
    };
    let spec = Spec::load(&args.spec, &args.set)?;
    let runs = spec.expand()?;
    let matching: Vec<_> = runs.iter().filter(|r| r.run.id().starts_with(wanted.as_str())).collect();
    let run = match matching.as_slice() {
        [one] => &one.run,
        [] => {
            return Err(usage(format!(
                "--run: no run of {} has an id starting with `{}` (`linres list {}` prints the ids)",
                spec.name,
                wanted,
                args.spec.display()
            )));
        }
        many => {
            let ids: Vec<String> = many.iter().take(4).map(|r| r.run.id()).collect();
            return Err(usage(format!(
                "--run: `{}` is the start of {} run ids ({}{}); give enough of the id to name one run",
                wanted,
                many.len(),
                ids.join(", "),
                if many.len() > ids.len() { ", …" } else { "" }
            )));
        }
    };
    let files = export_inputs(run, npy, args.force).map_err(|e| match e {
        ExportError::Exists(_) => usage(format!("--npy {}: {e}", npy.display())),
        ExportError::Run(e) => anyhow::Error::from(e).context(format!("exporting run {}", run.id())),
    })?;
    outln!("run {}: wrote {} in {}", run.id(), files.join(", "), terminal_text(&npy.display().to_string()));
    Ok(ExitCode::SUCCESS)
}

/// `--format`: the grid's tables of the cached records, in the results directory or in `--out`.
fn tables(args: &ExportArgs, format: Format) -> anyhow::Result<ExitCode> {
    let grid =
        GridArgs { spec: args.spec.clone(), set: args.set.clone(), filters: Vec::new(), results: args.results.clone() };
    let grid = grid.load()?;
    let format = match format {
        Format::Parquet => TableFormat::Parquet,
        Format::Csv => TableFormat::Csv,
    };
    let (dir, counts) = match &args.out {
        None => {
            let _lock = grid.store.lock_exports().ok();
            let counts =
                update_tables(&grid.store, &grid.runs, &grid.axes, &grid.spec.theory).context("writing the tables")?;
            (grid.store.root().to_path_buf(), counts)
        }
        Some(out) => {
            let counts = export_tables(&grid.store, &grid.runs, &grid.axes, &grid.spec.theory, format, out, args.force)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        usage(format!("--out {}: {e} (--force replaces it)", out.display()))
                    }
                    _ => anyhow::Error::from(e).context(format!("writing the tables into {}", out.display())),
                })?;
            (out.clone(), counts)
        }
    };
    let [a, b] = format.files();
    outln!(
        "{}: {} runs ({} points) in {a} and {b} of {}",
        grid.spec.name,
        counts.runs,
        counts.points,
        terminal_text(&dir.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}
