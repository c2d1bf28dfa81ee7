//! `linres export`: one run's inputs as `.npy` files and `meta.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use linres::escape::terminal_text;
use linres::export::inputs::{ExportError, export_inputs};
use linres::grid::Spec;

use super::grid::SET_HELP;
use super::out::outln;
use super::usage;

#[derive(Args)]
#[command(
    about = "Write a run's inputs as numpy files (X.npy n×d, Y.npy n×k, A.npy/B.npy or W1..WL.npy) and meta.json",
    after_help = "Re-train in numpy: python3 tests/reference/retrain_export.py DIR (see its usage)."
)]
pub struct ExportArgs {
    /// The experiment file.
    pub spec: PathBuf,
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE", help = SET_HELP)]
    pub set: Vec<String>,
    /// The run id (as printed by `linres list`), or a prefix of it that only one run has.
    #[arg(long = "run", value_name = "ID")]
    pub run: String,
    /// Directory to write the files into (created if needed). A file of the export already there
    /// is never replaced (exit 2, nothing written) unless --force.
    #[arg(long, value_name = "DIR")]
    pub npy: PathBuf,
    /// Replace files of the export that are already in DIR.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let spec = Spec::load(&args.spec, &args.set)?;
    let runs = spec.expand()?;
    let matching: Vec<_> = runs.iter().filter(|r| r.run.id().starts_with(&args.run)).collect();
    let run = match matching.as_slice() {
        [one] => &one.run,
        [] => {
            return Err(usage(format!(
                "--run: no run of {} has an id starting with `{}` (`linres list {}` prints the ids)",
                spec.name,
                args.run,
                args.spec.display()
            )));
        }
        many => {
            let ids: Vec<String> = many.iter().take(4).map(|r| r.run.id()).collect();
            return Err(usage(format!(
                "--run: `{}` is the start of {} run ids ({}{}); give enough of the id to name one run",
                args.run,
                many.len(),
                ids.join(", "),
                if many.len() > ids.len() { ", …" } else { "" }
            )));
        }
    };
    let files = export_inputs(run, &args.npy, args.force).map_err(|e| match e {
        ExportError::Exists(_) => usage(format!("--npy {}: {e}", args.npy.display())),
        ExportError::Run(e) => anyhow::Error::from(e).context(format!("exporting run {}", run.id())),
    })?;
    outln!("run {}: wrote {} in {}", run.id(), files.join(", "), terminal_text(&args.npy.display().to_string()));
    Ok(ExitCode::SUCCESS)
}
