//! `linres check`: the paper's claims against the cached results.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use linres::check::{markdown, run_all};
use linres::store::atomic;

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
    let outcomes = run_all(&args.experiments, &args.results);
    for o in &outcomes {
        println!(
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
    if let Some(readme) = &args.readme {
        let old = std::fs::read_to_string(readme).with_context(|| format!("reading {}", readme.display()))?;
        let (Some(a), Some(b)) = (old.find(BEGIN), old.find(END)) else {
            bail!("{} has no `{BEGIN}` … `{END}` block", readme.display());
        };
        let new = format!("{}{BEGIN}\n{table}{}", &old[..a], &old[b..]);
        atomic::write(readme, new.as_bytes()).with_context(|| format!("writing {}", readme.display()))?;
    }
    let failed = outcomes.iter().filter(|o| !o.status.gates_ok()).count();
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    println!("\n{passed} of {} checks passed; table in {}", outcomes.len(), out.display());
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
