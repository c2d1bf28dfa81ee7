//! `linres check`: the claims experiment files declare, against their cached results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use linres::check::{check_experiment, markdown};
use linres::escape::{markdown_code, terminal_text};
use linres::grid::check::{CheckOutcome, CheckStatus};
use linres::store::atomic;

use super::grid::load_experiment;
use super::out::outln;
use super::usage;

const BEGIN: &str = "<!-- checks:begin -->";
const END: &str = "<!-- checks:end -->";

#[derive(Args)]
#[command(
    about = "Check the claims experiment files declare (`checks:`) against their results",
    long_about = "Check the claims experiment files declare (`checks:`) against their results: print \
PASS, FAIL, INCOMPLETE (runs without a result) or FINDING (reported, never gating) with the numbers, \
write a markdown table, and exit 1 when a check fails or is incomplete. Without SPEC, every experiment \
file in --experiments is checked and the table goes to <results>/CHECKS.md."
)]
pub struct CheckArgs {
    /// Experiment files to check (default: every `*.yaml` in --experiments).
    pub specs: Vec<PathBuf>,
    /// Directory of the experiment files checked when no SPEC is given.
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    pub experiments: PathBuf,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Where to write the table (default: <results>/CHECKS.md when every experiment is checked, none
    /// when SPECs are given).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also replace the table between `<!-- checks:begin -->` and `<!-- checks:end -->` in FILE.
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    // A README whose markers are malformed is refused before anything is written.
    let readme = match &args.readme {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let span = marked_span(&text).map_err(|rule| usage(format!("--readme {}: {rule}", path.display())))?;
            Some((path, text, span))
        }
        None => None,
    };
    let specs = if args.specs.is_empty() { experiment_files(&args.experiments)? } else { args.specs.clone() };
    // Every file is loaded and its checks validated before any is reported.
    let experiments =
        specs.iter().map(|path| load_experiment(path, &args.results)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut outcomes: Vec<CheckOutcome> = Vec::new();
    for exp in &experiments {
        outcomes.extend(check_experiment(exp));
    }
    for o in &outcomes {
        outln!(
            "{} {}/{}: {}\n     measured: {}\n     threshold: {}",
            o.status.label(),
            o.experiment,
            o.name,
            terminal_text(&o.claim),
            terminal_text(&o.measured),
            terminal_text(&o.threshold)
        );
    }
    let table = markdown(&outcomes);
    let out = args.out.clone().or_else(|| args.specs.is_empty().then(|| args.results.join("CHECKS.md")));
    if let Some(out) = &out {
        let text = format!(
            "# Checks\n\nWritten by `linres check` from the results in {}.\n\n{table}",
            markdown_code(&args.results.display().to_string())
        );
        std::fs::create_dir_all(out.parent().unwrap_or(Path::new("."))).ok();
        atomic::write(out, text.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some((path, old, (a, b))) = readme {
        let new = format!("{}{BEGIN}\n{table}{}", &old[..a], &old[b..]);
        atomic::write(path, new.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    }
    let count = |s: CheckStatus| outcomes.iter().filter(|o| o.status == s).count();
    let table_note = out.map(|o| format!("; table in {}", o.display())).unwrap_or_default();
    outln!(
        "\n{} checks: {} passed, {} failed, {} incomplete, {} findings{table_note}",
        outcomes.len(),
        count(CheckStatus::Pass),
        count(CheckStatus::Fail),
        count(CheckStatus::Incomplete),
        count(CheckStatus::Finding)
    );
    let gating_ok = outcomes.iter().all(|o| o.status.gates_ok());
    Ok(if gating_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Every `*.yaml` file in `dir`, sorted.
pub fn experiment_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| usage(format!("--experiments {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(usage(format!("--experiments {}: no experiment files (*.yaml) there", dir.display())));
    }
    Ok(files)
}

/// Where the table goes in a README: the byte offsets of the `checks:begin` marker and of the
/// `checks:end` marker. Each marker must occur exactly once, begin before end.
fn marked_span(text: &str) -> Result<(usize, usize), String> {
    let find = |marker: &str| -> Result<usize, String> {
        let mut at = text.match_indices(marker).map(|(i, _)| i);
        match (at.next(), at.next()) {
            (Some(i), None) => Ok(i),
            (None, _) => Err(format!("has no `{marker}` line; the table goes between `{BEGIN}` and `{END}`")),
            (Some(_), Some(_)) => Err(format!("has `{marker}` more than once; it must occur exactly once")),
        }
    };
    let (a, b) = (find(BEGIN)?, find(END)?);
    if b < a {
        return Err(format!("has `{END}` before `{BEGIN}`; the table goes between them, begin first"));
    }
    Ok((a, b))
}
