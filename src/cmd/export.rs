//! `linres export`: one run's inputs as `.npy` files and `meta.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use linres::export::inputs::export_inputs;
use linres::spec::Spec;

#[derive(Args)]
#[command(
    about = "Write a run's inputs as numpy files (X.npy n×d, Y.npy n×k, A.npy/B.npy or W1..WL.npy) and meta.json",
    after_help = "Re-train in numpy: see tests/reference/retrain_export.py."
)]
pub struct ExportArgs {
    /// The experiment file.
    pub spec: PathBuf,
    /// The run id (as printed by `linres list`), or a unique prefix of it.
    #[arg(long = "run", value_name = "ID")]
    pub run: String,
    /// Directory to write the files into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub npy: PathBuf,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let spec = Spec::load(&args.spec, &[])?;
    let runs = spec.expand()?;
    let matching: Vec<_> = runs.iter().filter(|r| r.run.id().starts_with(&args.run)).collect();
    let run = match matching.as_slice() {
        [one] => &one.run,
        [] => bail!("no run of {} has an id starting with `{}` (see `linres list`)", spec.name, args.run),
        many => bail!("`{}` matches {} runs; give more of the id", args.run, many.len()),
    };
    let files = export_inputs(run, &args.npy).with_context(|| format!("exporting run {}", run.id()))?;
    println!("run {}: wrote {} in {}", run.id(), files.join(", "), args.npy.display());
    Ok(ExitCode::SUCCESS)
}
