//! `linres status`: what the results directory holds, for one experiment or all of them.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use linres::shell;
use linres::store::state::{RunState, StateCounts};
use linres::store::{Lookup, Store};
use serde_json::json;

use super::grid::{GridArgs, SET_HELP, open_store};
use super::out::outln;

#[derive(Args)]
#[command(
    about = "Summarise the results: per experiment, or in detail for one experiment file",
    after_help = "With SPEC: runs cached (done or diverged), failed, running (claimed by a live process), missing and corrupt (a record file that does \
not read back: never counted as a result), records of runs no longer in the grid, and files left by killed \
processes, each with the command that acts on it."
)]
pub struct StatusArgs {
    /// An experiment file; without it, every experiment under the results directory is summarised.
    pub spec: Option<PathBuf>,
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE", help = SET_HELP, requires = "spec")]
    pub set: Vec<String>,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    match &args.spec {
        Some(spec) => {
            let grid = GridArgs {
                spec: spec.clone(),
                set: args.set.clone(),
                filters: Vec::new(),
                results: args.results.clone(),
            };
            one(&grid, args.json)
        }
        None => all(&args.results, args.json),
    }
}

/// `linres <command> SPEC [--set …] <flag>` as the user would type it again.
pub fn command_hint(grid: &GridArgs, command: &str, flag: &str) -> String {
    let mut words = vec!["linres".to_string(), command.to_string(), shell::word(&grid.spec.display().to_string())];
    for s in &grid.set {
        words.extend(["--set".to_string(), shell::word(s)]);
    }
    if grid.results != Path::new("results") {
        words.extend(["--results".to_string(), shell::word(&grid.results.display().to_string())]);
    }
    if !flag.is_empty() {
        words.push(flag.to_string());
    }
    format!("`{}`", words.join(" "))
}

fn one(args: &GridArgs, json_out: bool) -> anyhow::Result<ExitCode> {
    let grid = args.load()?;
    let ids: Vec<String> = grid.runs.iter().map(|r| r.run.id()).collect();
    let listing = grid.store.listing();
    let states: Vec<(String, RunState)> = ids.iter().cloned().zip(grid.store.states(&listing, &ids)).collect();
    let counts = StateCounts::of(states.iter().map(|(id, s)| (id.as_str(), s)), |id| {
        listing.has_claim(id) && grid.store.is_claimed(id)
    });
    let failed: Vec<(&str, String)> = states
        .iter()
        .filter(|(_, s)| matches!(s, RunState::Failed(_)))
        .map(|(id, s)| (id.as_str(), s.note()))
        .collect();
    let corrupt: Vec<(&str, &str)> = states
        .iter()
        .filter_map(|(id, s)| match s {
            RunState::Corrupt(why) => Some((id.as_str(), why.as_str())),
            _ => None,
        })
        .collect();
    let stale = stale_ids(&grid.store, &grid.runs.iter().map(|r| r.run.id()).collect());
    let leftovers = grid.store.leftovers();
    if json_out {
        let value = json!({
            "name": grid.spec.name,
            "results": grid.store.root(),
            "runs": counts.runs,
            "cached": counts.cached,
            "diverged": counts.diverged,
            "failed": counts.failed,
            "running": counts.running,
            "missing": counts.missing,
            "corrupt": counts.corrupt,
            "stale_records": stale,
            "leftovers": leftovers,
            "failures": failed.iter().map(|(id, e)| json!({"id": id, "error": e})).collect::<Vec<_>>(),
            "corrupt_records": corrupt
                .iter()
                .map(|(id, e)| json!({"id": id, "file": grid.store.record_path(id), "error": e}))
                .collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}: {}  [{}]", grid.spec.name, counts.text(), grid.store.root().display());
    for (id, why) in &failed {
        outln!("  failed {id}: {why}");
    }
    if !failed.is_empty() {
        outln!(
            "  (`linres run` retries failed runs; {} removes their records)",
            command_hint(args, "clean", "--failed")
        );
    }
    for (id, why) in &corrupt {
        outln!("  corrupt {id}: {why}");
    }
    if !corrupt.is_empty() {
        outln!(
            "  (corrupt records are not results: `linres run` recomputes them; {} removes them)",
            command_hint(args, "clean", "--corrupt")
        );
    }
    if !stale.is_empty() {
        outln!(
            "  {} record(s) of runs no longer in this grid (kept; {} removes them)",
            stale.len(),
            command_hint(args, "clean", "--stale")
        );
    }
    if !leftovers.is_empty() {
        outln!(
            "  {} file(s) left by interrupted processes (harmless; {} removes them)",
            leftovers.len(),
            command_hint(args, "clean", "--leftovers")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Ids of the record files whose run is not in `grid` (a run of an earlier version of the file).
pub fn stale_ids(store: &Store, grid: &HashSet<String>) -> Vec<String> {
    store.record_ids().into_iter().filter(|id| !grid.contains(id)).collect()
}

fn all(results: &Path, json_out: bool) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = match fs::read_dir(results) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect();
            names.sort();
            names
        }
        Err(_) => {
            open_store(results, "")?;
            Vec::new()
        }
    };
    let mut summary = Vec::new();
    for name in names {
        let store = Store::new(results, &name);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for id in store.record_ids() {
            let key = match store.read(&id) {
                Lookup::Found(r) => serde_json::to_value(r.status)?.as_str().unwrap_or("?").to_string(),
                _ => "corrupt".to_string(),
            };
            *counts.entry(key).or_default() += 1;
        }
        summary.push((name, counts));
    }
    if json_out {
        let items: Vec<_> = summary.iter().map(|(name, counts)| json!({"name": name, "records": counts})).collect();
        outln!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    if summary.is_empty() {
        outln!("{}: no results yet", results.display());
    }
    for (name, counts) in summary {
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        outln!("{name}: {}", if parts.is_empty() { "no records".to_string() } else { parts.join(", ") });
    }
    Ok(ExitCode::SUCCESS)
}
