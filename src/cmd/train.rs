//! `linres train`: one run from a small YAML file and/or `--set` flags; prints the curve and the
//! theory summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use std::time::Instant;

use linres::engine::plan;
use linres::grid::{Spec, SpecError};
use linres::provenance::Provenance;
use linres::store::Record;
use linres::theory::{RunShape, TheoryReport};
use linres::train::{Status, train};

use super::out::{out, outln};
use super::text;

/// The configuration `train` starts from; a file and `--set` flags change it.
pub const DEFAULT_RUN: &str = "\
name: train
master_seed: 0
data: {kind: paper, d: 10, n: 1000}
model: {arch: resnet, depth: 10, width: 40, transform: gaussian}
optim: {method: gd, iters: 1000, step: {rule: zou, scale: 1.0}}
";

#[derive(Args)]
#[command(
    about = "Train one run and print its curve and theory summary",
    after_help = "Without CONFIG the run is the paper's set-up:\n\n  data: {kind: paper, d: 10, n: 1000}\n  \
model: {arch: resnet, depth: 10, width: 40, transform: gaussian}\n  \
optim: {method: gd, iters: 1000, step: {rule: zou, scale: 1.0}}\n\n\
Examples:\n  linres train --set model.width=200 --set model.transform=modified_identity\n  \
linres train --set model.arch=linear --set optim.step.rule=du_hu --set optim.iters=5000\n  \
linres train --set data.kind=file --set data.x=X.csv --set data.y=Y.csv   (your data: n×d, n×k)\n  \
linres list experiments/rates.yaml --resolved --filter seed=0 --filter model.width=1000 > run.yaml\n  \
linres train run.yaml --set optim.method=sgd --set optim.batch=100 --json"
)]
pub struct TrainArgs {
    /// An experiment file (data, model, optim and optionally engine, log, theory, master_seed,
    /// seeds) that describes exactly one run.
    config: Option<PathBuf>,
    /// Change a field: `key.path=value` (the value is read as YAML), e.g. `model.width=200`;
    /// setting a `kind` or `rule` (`data.kind=file`) drops the fields that do not apply to the new one.
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print the result as a JSON record (the format of `results/<name>/runs/<id>.json`).
    #[arg(long)]
    json: bool,
    /// Cores to use, from 1 to 1024 (default and at most: all). The result does not depend on it.
    #[arg(long, short = 'j', value_name = "N", value_parser = super::run::thread_count)]
    jobs: Option<usize>,
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let spec = match &args.config {
        Some(path) => Spec::load(path, &args.set)?,
        None => Spec::parse(DEFAULT_RUN, Path::new("<defaults>"), &args.set)?,
    };
    let runs = spec.expand()?;
    if runs.len() != 1 {
        return Err(SpecError {
            file: spec.path.display().to_string(),
            position: None,
            field: None,
            message: format!(
                "`train` runs one configuration, but this one expands to {} runs; use `linres run`",
                runs.len()
            ),
        }
        .into());
    }
    let run = &runs[0].run;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores).min(cores);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().context("starting the threads")?;
    let start = Instant::now();
    let outcome = pool.install(|| train(run)).with_context(|| format!("run {}", run.id()))?;
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let record = Record::finished(run.id(), run.config().clone(), outcome.clone(), seconds, Provenance::now(jobs));
        outln!("{}", serde_json::to_string_pretty(&record)?);
    } else {
        out!("{}", text::run_header(run, plan(run)));
        let theory = TheoryReport::derive(&outcome.theory, RunShape::of(run.config()), &spec.theory);
        out!("{}", text::curve_table(&outcome, &theory));
        out!("{}", text::theory_summary(&theory));
        out!("{}", text::outcome_line(&outcome, spec.theory.target));
    }
    if outcome.status() == Status::Diverged {
        bail!("the run diverged at iteration {}", outcome.diverged_at.unwrap_or(0));
    }
    Ok(ExitCode::SUCCESS)
}
