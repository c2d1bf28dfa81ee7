//! `linres diff A B`: every difference between two results directories (or two experiments'
//! results), within a relative tolerance; exit 1 on any.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use linres::cluster::compare::DEFAULT_RTOL;
use linres::cluster::diff::diff;
use linres::escape::terminal_text;

use super::list::print_table;
use super::out::outln;

#[derive(Args)]
#[command(
    about = "Compare two results directories (or two experiments' results): runs, statuses, curves within a tolerance, iterations to target; summary.csv row by row where a side holds only its tables"
)]
pub struct DiffArgs {
    /// A results directory (`results/`) or one experiment's (`results/<name>/`), with records
    /// (`runs/`) or only its tables (`summary.csv`, as committed).
    pub a: PathBuf,
    /// The other one, of the same kind.
    pub b: PathBuf,
    /// Relative tolerance of the loss and excess at every logged point, and of the numbers of
    /// summary.csv (below 1e-6 of a curve's largest value, differences are rounding and measured
    /// against that floor).
    #[arg(long, value_name = "RTOL", default_value_t = DEFAULT_RTOL, value_parser = parse_rtol)]
    pub rtol: f64,
}

/// A tolerance: a finite number ≥ 0.
pub fn parse_rtol(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}`: a relative tolerance is a finite number ≥ 0, e.g. 1e-9")),
    }
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let report = diff(&args.a, &args.b, args.rtol)?;
    // Every text below comes from the two sides (paths, directory and file names, record fields,
    // table cells): each is one value on one line.
    let (a, b) = (args.a.display().to_string(), args.b.display().to_string());
    let (a, b) = (terminal_text(&a), terminal_text(&b));
    if report.kernels_differ() {
        let list = |m: &std::collections::BTreeMap<String, usize>| {
            m.iter().map(|(k, n)| format!("{}: {n}", terminal_text(k))).collect::<Vec<_>>().join(", ")
        };
        outln!("note: the two sides were computed with different OpenBLAS kernels, which change the last digits");
        outln!("  A ({a}): {}", list(&report.kernels[0]));
        outln!("  B ({b}): {}", list(&report.kernels[1]));
    }
    if report.rows.is_empty() {
        outln!("{a} and {b} agree: {} runs compared (rtol {:e})", report.compared, args.rtol);
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![["experiment", "run", "difference", "A", "B"].map(String::from).to_vec()];
    rows.extend(
        report
            .rows
            .iter()
            .map(|r| [&r.experiment, &r.id, &r.what, &r.a, &r.b].map(|cell| terminal_text(cell).into_owned()).to_vec()),
    );
    print_table(&rows);
    let runs: std::collections::BTreeSet<(&str, &str)> =
        report.rows.iter().map(|r| (r.experiment.as_str(), r.id.as_str())).collect();
    outln!(
        "{} difference(s) in {} run(s) or experiment(s); {} runs on both sides (rtol {:e})",
        report.rows.len(),
        runs.len(),
        report.compared,
        args.rtol
    );
    Ok(ExitCode::from(1))
}
