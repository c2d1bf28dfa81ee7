//! `linres theory`: the theory quantities of every run, computed at initialisation without training.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use linres::grid::FieldPath;
use linres::theory::{RunShape, TheoryReport};
use linres::train::initial_theory;

use super::grid::GridArgs;
use super::list::print_table;
use super::out::outln;
use super::text::num;

#[derive(Args)]
#[command(
    about = "Print the theory quantities of every run (κ, σ_r, L(W0), margins, steps, rates, width bounds) without training"
)]
pub struct TheoryArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Print JSON (one object per run: id, parameters, theory) instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: TheoryArgs) -> anyhow::Result<ExitCode> {
    let grid = args.grid.load()?;
    let mut json = Vec::new();
    let mut rows = vec![
        ["id"]
            .into_iter()
            .map(String::from)
            .chain(grid.axes.iter().cloned())
            .chain(
                [
                    "r",
                    "κ",
                    "σ_r",
                    "L(W0)−L*",
                    "η",
                    "zou margin",
                    "η/bracket",
                    "ρ",
                    "iters(bound)",
                    "m_Zou",
                    "m_DuHu",
                    "DuHu margin",
                ]
                .map(String::from),
            )
            .collect::<Vec<_>>(),
    ];
    for run in &grid.selected {
        let facts = initial_theory(&run.run).with_context(|| format!("run {}", run.run.id()))?;
        let t = TheoryReport::derive(&facts, RunShape::of(run.run.config()), &grid.spec.theory);
        if args.json {
            let params: serde_json::Map<String, serde_json::Value> = run.params.iter().cloned().collect();
            json.push(serde_json::json!({"id": run.run.id(), "params": params, "theory": t}));
            continue;
        }
        let z = t.zou.as_ref();
        let iters = z.and_then(|z| z.iters_to_target).or_else(|| t.du_hu.as_ref().and_then(|h| h.iters_to_target));
        let mut row = vec![run.run.id()];
        row.extend(grid.axes.iter().map(|a| FieldPath::new(a.as_str()).value_of(run).to_string()));
        row.extend([
            t.data.rank.to_string(),
            num(t.data.kappa),
            num(t.data.sigma_r),
            num(t.excess0),
            num(t.eta),
            z.and_then(|z| z.margin).map(num).unwrap_or_else(|| "-".into()),
            z.map(|z| num(t.eta / z.eta_bracket)).unwrap_or_else(|| "-".into()),
            z.map(|z| num(z.rho)).unwrap_or_else(|| "-".into()),
            iters.map(num).unwrap_or_else(|| "-".into()),
            num(t.widths.zou),
            num(t.widths.du_hu),
            t.du_hu.as_ref().map(|h| num(h.margin)).unwrap_or_else(|| "-".into()),
        ]);
        rows.push(row);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_table(&rows);
    }
    Ok(ExitCode::SUCCESS)
}
