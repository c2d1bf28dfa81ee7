//! `linres plot`: draw the figures an experiment file declares from its cached results.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use linres::escape::terminal_text;
use linres::grid::figure::{PrintSize, length_pt};
use linres::plot::{PrintOverride, plot_experiment};

use super::grid::{load_experiment, open_store};
use super::out::{noteln, outln, warnln};

#[derive(Args)]
#[command(
    about = "Draw the figures declared in an experiment file (figures/<name>/<figure>.svg, .png, .pdf and .csv; all or none)"
)]
pub struct PlotArgs {
    /// The experiment file.
    pub spec: PathBuf,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Directory the figures go to (`<DIR>/<name>/`).
    #[arg(long, value_name = "DIR", default_value = "figures")]
    pub out: PathBuf,
    /// Printed width of every figure, replacing the declared one (345pt, 3.4in, 8.5cm, 85mm).
    #[arg(long, value_name = "LENGTH", value_parser = length_pt)]
    pub width: Option<f64>,
    /// Printed height of every figure, replacing the declared one (default: what the layout needs).
    #[arg(long, value_name = "LENGTH", value_parser = length_pt)]
    pub height: Option<f64>,
    /// Size of the smallest text as printed, replacing the declared one (default 8pt).
    #[arg(long, value_name = "LENGTH", value_parser = length_pt)]
    pub font_size: Option<f64>,
}

pub fn run(args: PlotArgs) -> anyhow::Result<ExitCode> {
    // Each length alone within its range: then so is every figure's size with it.
    PrintSize::default()
        .with(args.width, args.height, args.font_size)
        .map_err(|(field, rule)| super::usage(format!("--{}: {rule}", field.replace('_', "-"))))?;
    open_store(&args.results, "")?;
    let exp = load_experiment(&args.spec, &args.results)?;
    if !exp.missing.is_empty() {
        warnln!(
            "{} of {} runs of {} have no result; the figures show the others (`{}` computes them)",
            exp.missing.len(),
            exp.missing.len() + exp.rows.len(),
            exp.spec.name,
            terminal_text(&exp.run_command())
        );
    }
    let print = PrintOverride { width: args.width, height: args.height, font: args.font_size };
    let files = plot_experiment(&exp, &args.out, &args.results, &print)?;
    for f in &files {
        outln!("{}", terminal_text(&f.display().to_string()));
    }
    if files.is_empty() {
        noteln!("{} declares no figures", terminal_text(&args.spec.display().to_string()));
    }
    Ok(ExitCode::SUCCESS)
}
