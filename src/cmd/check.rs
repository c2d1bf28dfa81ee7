//! `linres check`: the paper's claims against the cached results.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use linres::check::{markdown, run_all};
use linres::store::atomic;

use super::out::outln;
use super::usage;

const BEGIN: &str = "<!-- checks:begin -->";
const END: &str = "<!-- checks:end -->";

#[derive(Args)]
#[command(about = "Check the paper's claims against the results; print PASS/FAIL with the numbers and write CHECKS.md")]
pub struct CheckArgs {
    /// Directory of the experiment files.
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    pub experiments: PathBuf,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Where to write the table (default: <results>/CHECKS.md).
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
    let outcomes = run_all(&args.experiments, &args.results);
    for o in &outcomes {
        outln!(
            "{} {}: {}\n     measured: {}\n     threshold: {}",
            o.status.label(),
            o.name,
            o.claim,
            o.measured,
            o.threshold
        );
    }
    let table = markdown(&outcomes);
    let out = args.out.clone().unwrap_or_else(|| args.results.join("CHECKS.md"));
    let text = format!(
        "# Paper checks\n\nWritten by `linres check` from the results in `{}`.\n\n{table}",
        args.results.display()
    );
    std::fs::create_dir_all(out.parent().unwrap_or(std::path::Path::new("."))).ok();
    atomic::write(&out, text.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
    if let Some((path, old, (a, b))) = readme {
        let new = format!("{}{BEGIN}\n{table}{}", &old[..a], &old[b..]);
        atomic::write(path, new.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    }
    let failed = outcomes.iter().filter(|o| !o.status.gates_ok()).count();
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    outln!("\n{passed} of {} checks passed; table in {}", outcomes.len(), out.display());
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
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
