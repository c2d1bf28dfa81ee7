//! `linres list`: every run of a grid, its parameters and cache status, without running anything.

use std::process::ExitCode;

use clap::Args;
use linres::grid::FieldPath;
use linres::grid::GridRun;
use linres::grid::quantity::RunMeasure;
use linres::store::state::RunState;
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
    /// Print JSON: an array of {id, status, params, result, measures} (params: the run's grid
    /// values; measures: every per-run measure of a run with a result, null where it has none).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ListArgs) -> anyhow::Result<ExitCode> {
    let grid = args.grid.load()?;
    if args.resolved {
        for run in &grid.selected {
            let state = grid.store.state(&run.run.id());
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
    let ids: Vec<String> = grid.selected.iter().map(|r| r.run.id()).collect();
    let states = grid.store.states(&grid.store.listing(), &ids);
    if args.json {
        // Written a block of runs at a time (the bytes of one pretty-printed array), so that the
        // output of a grid of 10⁶ runs is never held whole.
        if grid.selected.is_empty() {
            outln!("[]");
            return Ok(ExitCode::SUCCESS);
        }
        let listed = RunMeasure::listed(grid.spec.theory.target);
        out!("[\n");
        let runs: Vec<(&GridRun, &RunState)> = grid.selected.iter().zip(&states).collect();
        let last = runs.len() - 1;
        for (block, chunk) in runs.chunks(4096).enumerate() {
            let mut text = String::new();
            for (i, (run, state)) in chunk.iter().enumerate() {
                let params: serde_json::Map<String, serde_json::Value> = run.params.iter().cloned().collect();
                let row = if state.is_result() { grid.row(run) } else { None };
                let measures: serde_json::Map<String, serde_json::Value> =
                    listed.iter().map(|m| (m.name(), m.of_run(row.as_ref()).json())).collect();
                let item = json!({"id": run.run.id(), "status": state.name(), "params": params,
                                  "result": state.note(), "measures": measures});
                for line in serde_json::to_string_pretty(&item)?.lines() {
                    text.push_str("  ");
                    text.push_str(line);
                    text.push('\n');
                }
                text.pop();
                text.push_str(if block * 4096 + i == last { "\n" } else { ",\n" });
            }
            out!("{text}");
        }
        outln!("]");
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
    for (run, state) in grid.selected.iter().zip(&states) {
        let mut row = vec![run.run.id(), state.name().to_string()];
        row.extend(columns.iter().map(|c| FieldPath::new(c.as_str()).value_of(run).to_string()));
        row.push(state.note());
        rows.push(row);
    }
    print_table(&rows);
    outln!("{} of {} runs of {} listed", grid.selected.len(), grid.runs.len(), grid.spec.name);
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
