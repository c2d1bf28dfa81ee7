//! `linres list`: every run of a grid, its parameters and cache status, without running anything.

use std::process::ExitCode;

use clap::Args;
use linres::export::tables::param_value;
use linres::spec::GridRun;
use linres::store::{Lookup, RecordStatus, Store};
use serde_json::json;
use serde_norway::{Mapping, Value};

use super::grid::GridArgs;
use super::out::{out, outln};

#[derive(Args)]
#[command(
    about = "List the runs of an experiment grid with their status (cached, missing, failed, corrupt)",
    after_help = "`--resolved --filter …` selecting one run prints a one-run file: save it, edit it and give it to \
`linres train`; unchanged, it trains the same run (same id)."
)]
pub struct ListArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Print every field of every run after defaults, one YAML document per run, instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub resolved: bool,
    /// Print JSON: an array of {id, status, params, result} (params: the run's grid values).
    #[arg(long)]
    pub json: bool,
}

/// What the cache holds for a run of the grid.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// A result (done, or diverged at an iteration).
    Cached {
        diverged_at: Option<usize>,
    },
    Missing,
    /// A failed run, with its error (it is retried by the next `run`).
    Failed(String),
    /// A record file that cannot be read back (truncated, edited, not a regular file): never a
    /// result; the next `run` recomputes it, `clean --corrupt` removes it.
    Corrupt(String),
}

impl RunState {
    /// The cache state of `run`.
    pub fn of(store: &Store, run: &GridRun) -> RunState {
        match store.read(&run.run.id()) {
            Lookup::Missing => RunState::Missing,
            Lookup::Unreadable(why) => RunState::Corrupt(why),
            Lookup::Found(rec) => match rec.status {
                RecordStatus::Done => RunState::Cached { diverged_at: None },
                RecordStatus::Diverged => RunState::Cached {
                    diverged_at: Some(rec.outcome.as_ref().and_then(|o| o.diverged_at).unwrap_or(0)),
                },
                RecordStatus::Failed => RunState::Failed(rec.error.clone().unwrap_or_default()),
            },
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            RunState::Cached { .. } => "cached",
            RunState::Missing => "missing",
            RunState::Failed(_) => "failed",
            RunState::Corrupt(_) => "corrupt",
        }
    }

    /// A note on the result: `done`, `diverged at N`, the error, or why the record is corrupt.
    pub fn note(&self) -> String {
        match self {
            RunState::Cached { diverged_at: None } => "done".into(),
            RunState::Cached { diverged_at: Some(t) } => format!("diverged at {t}"),
            RunState::Missing => String::new(),
            RunState::Failed(why) => why.clone(),
            RunState::Corrupt(why) => format!("unreadable record {why}"),
        }
    }
}

pub fn run(args: ListArgs) -> anyhow::Result<ExitCode> {
    let grid = args.grid.load()?;
    if args.resolved {
        for run in &grid.selected {
            let state = RunState::of(&grid.store, run);
            let note = state.note();
            out!(
                "---\n# run {} ({}{}{note})\n{}",
                run.run.id(),
                state.name(),
                if note.is_empty() { "" } else { ": " },
                one_run_file(run)?
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let items: Vec<serde_json::Value> = grid
            .selected
            .iter()
            .map(|run| {
                let state = RunState::of(&grid.store, run);
                let params: serde_json::Map<String, serde_json::Value> = run.params.iter().cloned().collect();
                json!({"id": run.run.id(), "status": state.name(), "params": params, "result": state.note()})
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    let columns: Vec<&String> = grid.axes.iter().collect();
    let mut rows: Vec<Vec<String>> = vec![
        ["id", "status"]
            .iter()
            .map(|s| s.to_string())
            .chain(columns.iter().map(|c| c.to_string()))
            .chain(["result".to_string()])
            .collect(),
    ];
    for run in &grid.selected {
        let state = RunState::of(&grid.store, run);
        let mut row = vec![run.run.id(), state.name().to_string()];
        row.extend(columns.iter().map(|c| param_value(run, c)));
        row.push(state.note());
        rows.push(row);
    }
    print_table(&rows);
    outln!("{} of {} runs of {} listed", grid.selected.len(), grid.all.len(), grid.spec.name);
    Ok(ExitCode::SUCCESS)
}

/// The resolved configuration of `run` as an experiment file of exactly this run: the seed index
/// becomes `seeds: [i]`, every other field as resolved.
fn one_run_file(run: &GridRun) -> anyhow::Result<String> {
    let Value::Mapping(config) = serde_norway::to_value(run.run.config())? else {
        anyhow::bail!("a resolved configuration serialises to a mapping");
    };
    let mut file = Mapping::new();
    for (key, value) in config {
        if key.as_str() == Some("seed") {
            file.insert("seeds".into(), Value::Sequence(vec![value]));
        } else {
            file.insert(key, value);
        }
    }
    Ok(serde_norway::to_string(&file)?)
}

/// Prints rows as left-aligned columns.
pub fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let line: Vec<String> = row.iter().enumerate().map(|(c, s)| format!("{s:<w$}", w = widths[c])).collect();
        outln!("{}", line.join("  ").trim_end());
    }
}
