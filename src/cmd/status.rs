//! `linres status`: what the results directory holds, for one experiment or all of them.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use linres::store::{Lookup, Store};

use super::grid::GridArgs;
use super::list::status_of;

#[derive(Args)]
#[command(about = "Summarise the results: per experiment, or in detail for one experiment file")]
pub struct StatusArgs {
    /// An experiment file; without it, every experiment under the results directory is summarised.
    pub spec: Option<PathBuf>,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    match &args.spec {
        Some(spec) => one(GridArgs { spec: spec.clone(), filters: Vec::new(), results: args.results.clone() }),
        None => all(&args.results),
    }
}

fn one(args: GridArgs) -> anyhow::Result<ExitCode> {
    let grid = args.load()?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut diverged = 0;
    for run in &grid.all {
        let (status, note) = status_of(&grid.store, run);
        *counts.entry(status).or_default() += 1;
        if status == "failed" {
            failed.push((run.run.id(), note));
        } else if note.starts_with("diverged") {
            diverged += 1;
        }
    }
    println!(
        "{}: {} runs: {} cached ({} diverged), {} failed, {} missing  [{}]",
        grid.spec.name,
        grid.all.len(),
        counts.get("cached").copied().unwrap_or(0),
        diverged,
        counts.get("failed").copied().unwrap_or(0),
        counts.get("missing").copied().unwrap_or(0),
        grid.store.root().display()
    );
    for (id, why) in failed {
        println!("  failed {id}: {why}");
    }
    let ids: Vec<String> = grid.all.iter().map(|r| r.run.id()).collect();
    let orphans = grid.store.record_ids().into_iter().filter(|id| !ids.contains(id)).count();
    if orphans > 0 {
        println!("  {orphans} record(s) of runs no longer in this grid (kept; `linres clean` removes them)");
    }
    let stale = grid.store.leftovers().len();
    if stale > 0 {
        println!("  {stale} file(s) left by interrupted processes (harmless; `linres clean` removes them)");
    }
    Ok(ExitCode::SUCCESS)
}

fn all(results: &std::path::Path) -> anyhow::Result<ExitCode> {
    let Ok(entries) = fs::read_dir(results) else {
        println!("{}: no results yet", results.display());
        return Ok(ExitCode::SUCCESS);
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    for name in names {
        let store = Store::new(results, &name);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for id in store.record_ids() {
            let key = match store.read(&id) {
                Lookup::Found(r) => serde_json::to_value(r.status)?.as_str().unwrap_or("?").to_string(),
                _ => "unreadable".to_string(),
            };
            *counts.entry(key).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("{name}: {}", if parts.is_empty() { "no records".to_string() } else { parts.join(", ") });
    }
    Ok(ExitCode::SUCCESS)
}
