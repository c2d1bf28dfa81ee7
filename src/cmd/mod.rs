//! Command-line interface: argument parsing and one module per command.

mod check;
mod clean;
mod completions;
mod diff;
mod export;
mod grid;
mod list;
mod merge;
pub mod out;
mod plot;
mod report;
mod run;
mod slurm;
mod status;
mod table;
mod text;
mod theory;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use linres::grid::SpecError;
use thiserror::Error;

/// Exit code for unusable input (a bad experiment file, flag or data file).
pub const EXIT_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "linres",
    version,
    about = "Train deep linear ResNets and the Du & Hu linear network; measure them against the convergence theorems.",
    long_about = None,
    after_help = "Exit status: 0 success, 1 a run or check failed, 2 bad input (the message names the flag, field \
or path and the rule; nothing is written). A closed stdout (`linres list … | head`) ends the output quietly."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing on stderr but errors: no progress, notes or warnings (results still go to stdout).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    Train(train::TrainArgs),
    Run(run::RunArgs),
    List(list::ListArgs),
    Status(status::StatusArgs),
    Clean(clean::CleanArgs),
    Export(export::ExportArgs),
    Theory(theory::TheoryArgs),
    Plot(plot::PlotArgs),
    Check(check::CheckArgs),
    Table(table::TableArgs),
    Report(report::ReportArgs),
    Merge(merge::MergeArgs),
    Diff(diff::DiffArgs),
    Slurm(slurm::SlurmArgs),
    Completions(completions::CompletionsArgs),
}

/// A request the command cannot carry out as given (an unknown run id, a results path that is a
/// file, malformed markers): exit code 2, nothing written. The message names the flag, field or
/// path and the rule.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand for a [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    out::set_quiet(cli.quiet);
    // A forced OpenBLAS core type that this CPU cannot run, or that OpenBLAS does not know.
    linres::blas::check_this_core_type()?;
    let code = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Run(args) => run::run(args),
        Command::List(args) => list::run(args),
        Command::Status(args) => status::run(args),
        Command::Clean(args) => clean::run(args),
        Command::Export(args) => export::run(args),
        Command::Theory(args) => theory::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Check(args) => check::run(args),
        Command::Table(args) => table::run(args),
        Command::Report(args) => report::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Slurm(args) => slurm::run(args),
        Command::Completions(args) => completions::run(args),
    }?;
    if let Some(why) = out::stdout_error() {
        anyhow::bail!("cannot write to stdout: {why}");
    }
    Ok(code)
}

/// The process exit code for an error: 2 for bad input, 1 otherwise.
pub fn exit_code_of(e: &anyhow::Error) -> u8 {
    let input = e.chain().any(|c| {
        c.downcast_ref::<SpecError>().is_some()
            || c.downcast_ref::<UsageError>().is_some()
            || c.downcast_ref::<linres::error::ConfigError>().is_some()
            || c.downcast_ref::<linres::error::DataError>().is_some()
            || matches!(c.downcast_ref::<linres::plot::PlotError>(), Some(linres::plot::PlotError::Spec(_)))
            || matches!(c.downcast_ref::<linres::table::TableError>(), Some(linres::table::TableError::Spec(_)))
            || matches!(
                c.downcast_ref::<linres::report::ReportError>(),
                Some(linres::report::ReportError::Spec(_) | linres::report::ReportError::NotAReport(_))
            )
            || matches!(
                c.downcast_ref::<linres::error::RunError>(),
                Some(linres::error::RunError::Config(_) | linres::error::RunError::Data(_))
            )
    });
    if input { EXIT_INPUT } else { 1 }
}
