//! `linres list`: every run of a grid, its parameters and cache status, without running anything.

use std::process::ExitCode;

use clap::Args;
use linres::export::tables::param_value;
use linres::spec::GridRun;
use linres::store::{Lookup, RecordStatus, Store};

use super::grid::GridArgs;

#[derive(Args)]
#[command(about = "List the runs of an experiment grid with their status (cached, missing, failed)")]
pub struct ListArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Print every field of every run after defaults (YAML documents) instead of the table.
    #[arg(long)]
    pub resolved: bool,
}

/// The cache status of a run and a note on its result.
pub fn status_of(store: &Store, run: &GridRun) -> (&'static str, String) {
    match store.read(&run.run.id()) {
        Lookup::Missing => ("missing", String::new()),
        Lookup::Unreadable(why) => ("missing", format!("unreadable record: {why}")),
        Lookup::Found(rec) => match rec.status {
            RecordStatus::Done => ("cached", "done".into()),
            RecordStatus::Diverged => {
                ("cached", format!("diverged at {}", rec.outcome.as_ref().and_then(|o| o.diverged_at).unwrap_or(0)))
            }
            RecordStatus::Failed => ("failed", rec.error.clone().unwrap_or_default()),
        },
    }
}

pub fn run(args: ListArgs) -> anyhow::Result<ExitCode> {
    let grid = args.grid.load()?;
    if args.resolved {
        for run in &grid.selected {
            let (status, note) = status_of(&grid.store, run);
            println!("---\n# run {} ({status}{}{note})", run.run.id(), if note.is_empty() { "" } else { ": " });
            print!("{}", serde_norway::to_string(run.run.config())?);
        }
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
        let (status, note) = status_of(&grid.store, run);
        let mut row = vec![run.run.id(), status.to_string()];
        row.extend(columns.iter().map(|c| param_value(run, c)));
        row.push(note);
        rows.push(row);
    }
    print_table(&rows);
    println!("{} of {} runs of {} listed", grid.selected.len(), grid.all.len(), grid.spec.name);
    Ok(ExitCode::SUCCESS)
}

/// Prints rows as left-aligned columns.
pub fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let line: Vec<String> = row.iter().enumerate().map(|(c, s)| format!("{s:<w$}", w = widths[c])).collect();
        println!("{}", line.join("  ").trim_end());
    }
}
