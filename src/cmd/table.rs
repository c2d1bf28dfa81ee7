//! `linres table`: a summary table of an experiment's results for a paper.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use linres::grid::SpecError;
use linres::grid::quantity::{OverSeeds, QuantityError, QuantityInput};
use linres::store::atomic;
use linres::table::format::{Format, Style, label_rule};
use linres::table::{CellFormat, TableSpec};

use super::grid::{load_experiment, open_store, parse_filters};
use super::out::outln;
use super::usage;

#[derive(Args)]
#[command(
    about = "A summary table of an experiment's results (booktabs LaTeX, Markdown or CSV), e.g. iterations by depth \
and architecture",
    long_about = "A summary table of an experiment's results for a paper: one quantity per row × column cell, a \
cell being the selected runs that share the row and column fields' values, combined over the seeds with --agg \
(or shown as median [min, max] or mean ± sd with --cell). Fields and values are named by the labels of the \
experiment's figures, with one LaTeX header row per column field. \
Every grid field that varies among the selected runs must be a row or column field or be fixed by --filter (the \
seed is the only replicate), and every selected run must have a result. Example:\n\n  linres table \
experiments/paper_fig1_depth.yaml --rows model.depth --cols model.arch --filter model.width=200 --value \
iters_to_target --format latex"
)]
pub struct TableArgs {
    /// The experiment file.
    pub spec: PathBuf,
    /// Grid field(s) along the rows, comma-separated (a row per value combination).
    #[arg(long, value_name = "FIELD[,FIELD…]", value_delimiter = ',', required = true)]
    pub rows: Vec<String>,
    /// Grid field(s) along the columns, comma-separated.
    #[arg(long, value_name = "FIELD[,FIELD…]", value_delimiter = ',', required = true)]
    pub cols: Vec<String>,
    /// The quantity in each cell: final_rel_excess, iters_to_target, seconds, max_layer_norm, theory.<quantity> (zou_margin,
    /// zou_eta_over_bracket, zou_rho, zou_iters_bound, lin_factor, du_hu_width_required, du_hu_iters_bound,
    /// m_zou, m_du_hu, kappa, eta), critical_width (needs --budget or --budget-iters), margin_one_width,
    /// certified_width.
    #[arg(long, value_name = "QUANTITY")]
    pub value: String,
    /// How a cell combines its seeds (per-run quantities; width measures define their own).
    #[arg(long, value_enum)]
    pub agg: Option<Agg>,
    /// What a cell shows: the quantity combined by --agg (value), `median [min, max]` over the
    /// seeds (median-range; for critical_width the pooled seeds' width [smallest, largest of single
    /// seeds]) or `mean ± sd` (mean-sd, sample standard deviation).
    #[arg(long, value_enum, default_value = "value")]
    pub cell: Cell,
    /// Relative excess of iters_to_target and critical_width, a decade (default: the experiment's
    /// theory.target).
    #[arg(long, value_name = "EPS")]
    pub target: Option<f64>,
    /// critical_width: the iterations a run may take, as a multiple of its theorem's count.
    #[arg(long, value_name = "B")]
    pub budget: Option<f64>,
    /// critical_width: the same absolute iteration budget for every run.
    #[arg(long, value_name = "N")]
    pub budget_iters: Option<u64>,
    /// Only runs whose field matches: KEY=VALUE[,VALUE…] (repeatable; every filter must match).
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: TableFormat,
    /// Significant digits of the numbers (LaTeX and Markdown; CSV keeps every digit).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=17))]
    pub digits: u8,
    /// LaTeX: put the table in a `table` float with this caption (escaped for LaTeX).
    #[arg(long, value_name = "TEXT")]
    pub caption: Option<String>,
    /// LaTeX: the float's \label key (letters, digits and `: . _ -`; needs --caption).
    #[arg(long, value_name = "KEY")]
    pub label: Option<String>,
    /// Write the table to FILE (atomically) instead of stdout; its directory must exist.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Agg {
    Median,
    Min,
    Max,
    Mean,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cell {
    /// the quantity combined over the seeds by --agg
    Value,
    /// median [min, max] over the seeds
    MedianRange,
    /// mean ± sample standard deviation over the seeds
    MeanSd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// booktabs LaTeX (\usepackage{booktabs})
    Latex,
    /// GitHub-flavoured Markdown
    Markdown,
    /// comma-separated values, full precision
    Csv,
}

/// Refuses an `--out` that cannot be a file: a directory, or a path whose directory does not exist.
fn check_out(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        return Err(usage(format!("--out {}: is a directory; give a file name", path.display())));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(usage(format!(
            "--out {}: the directory {} does not exist (create it first)",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// Refuses flags that do not go together: --agg beside a cell that shows its own statistics,
/// --caption or --label outside LaTeX, a --label without a caption or not a LaTeX key.
fn check_style(args: &TableArgs, cell: CellFormat) -> anyhow::Result<()> {
    if args.agg.is_some() && cell != CellFormat::Value {
        return Err(usage(format!(
            "--agg: --cell {} shows its own statistics over the seeds; leave --agg out (or use --cell value)",
            cell.name()
        )));
    }
    for (flag, given) in [("--caption", args.caption.is_some()), ("--label", args.label.is_some())] {
        if given && args.format != TableFormat::Latex {
            return Err(usage(format!("{flag}: only --format latex has a caption and a label")));
        }
    }
    if let Some(label) = &args.label {
        if args.caption.is_none() {
            return Err(usage("--label: a label refers to the caption's table number; give --caption too"));
        }
        if let Some(rule) = label_rule(label) {
            return Err(usage(format!("--label: {rule}")));
        }
    }
    Ok(())
}

pub fn run(args: TableArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.out {
        check_out(path)?;
    }
    let cell = match args.cell {
        Cell::Value => CellFormat::Value,
        Cell::MedianRange => CellFormat::MedianRange,
        Cell::MeanSd => CellFormat::MeanSd,
    };
    check_style(&args, cell)?;
    open_store(&args.results, "")?;
    let exp = load_experiment(&args.spec, &args.results)?;
    let agg = args.agg.map(|a| match a {
        Agg::Median => OverSeeds::Median,
        Agg::Min => OverSeeds::Min,
        Agg::Max => OverSeeds::Max,
        Agg::Mean => OverSeeds::Mean,
    });
    let input = QuantityInput {
        measure: &args.value,
        target: args.target,
        budget: args.budget,
        budget_iters: args.budget_iters,
        over_seeds: agg,
    };
    let quantity = input.read(exp.spec.theory.target).map_err(|QuantityError { field, message }| {
        let flag = match field {
            "measure" => "--value",
            "over_seeds" => "--agg",
            "budget" => "--budget",
            _ => "--target",
        };
        SpecError { file: flag.into(), position: None, field: None, message }
    })?;
    let filters = parse_filters(&args.filters, &exp.runs)?;
    let spec = TableSpec { rows: args.rows, cols: args.cols, quantity, filters, cell };
    let format = match args.format {
        TableFormat::Latex => Format::Latex,
        TableFormat::Markdown => Format::Markdown,
        TableFormat::Csv => Format::Csv,
    };
    let style = Style { digits: args.digits as usize, caption: args.caption, label: args.label };
    let text = spec.build(&exp)?.render(format, &style);
    match &args.out {
        Some(path) => {
            atomic::write(path, text.as_bytes()).with_context(|| format!("--out {}: cannot write", path.display()))?
        }
        None => outln!("{}", text.trim_end()),
    }
    Ok(ExitCode::SUCCESS)
}
