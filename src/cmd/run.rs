//! `linres run`: execute a grid through the cache, in parallel, and rewrite its tables.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use linres::cluster::shard::{self, Shard};
use linres::export::tables::{TableCounts, write_tables};
use linres::halt::Halt;
use linres::runner::{RunEvent, RunOptions, RunSummary, run_grid};
use linres::spec::GridRun;

use super::grid::GridArgs;

#[derive(Args)]
#[command(about = "Run an experiment grid: every missing run, in parallel, cached by content hash")]
pub struct RunArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Runs executed at once (default: all cores). With more than one, OpenBLAS uses one thread per run.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Recompute the selected runs even when their results are cached.
    #[arg(long)]
    pub force: bool,
    /// OpenBLAS threads per run when --jobs is 1 (default 1, so records do not depend on the
    /// thread count: more BLAS threads can change the last digits of a result).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub blas_threads: usize,
    /// Run only part I (0-based) of N of the selected runs, balanced by estimated cost. The
    /// partition depends only on the grid, so N processes anywhere with I = 0…N−1 (and the same
    /// filters) cover every run once. Shards do not write the tables (`--tables-only` does).
    #[arg(long, value_name = "I/N", conflicts_with = "tables_only")]
    pub shard: Option<Shard>,
    /// Compute nothing: only rewrite runs.csv and summary.csv from the cached records.
    #[arg(long, conflicts_with = "force")]
    pub tables_only: bool,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Progress display: a bar on a terminal, periodic lines otherwise, nothing with `--quiet`.
struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    name: String,
    total: usize,
    counts: Mutex<RunSummary>,
    last_line: Mutex<Instant>,
    start: Instant,
}

impl Progress {
    fn new(name: &str, total: usize, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} {bar:30.cyan/blue} {pos}/{len} {msg}  [{elapsed_precise}, ETA {eta}]",
                )
                .expect("a valid template"),
            );
            bar.set_prefix(name.to_string());
            bar
        });
        Progress {
            bar,
            plain: !quiet && !terminal,
            name: name.to_string(),
            total,
            counts: Mutex::new(RunSummary::default()),
            last_line: Mutex::new(Instant::now()),
            start: Instant::now(),
        }
    }

    fn event(&self, event: RunEvent) {
        let (seen, msg) = {
            let mut counts = self.counts.lock().expect("progress lock");
            counts.add(event);
            let c = *counts;
            (c.done + c.diverged + c.failed + c.cached + c.busy, counts_text(&c))
        };
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
            bar.inc(1);
        } else if self.plain {
            let mut last = self.last_line.lock().expect("progress lock");
            if last.elapsed() >= Duration::from_secs(10) || seen == self.total {
                *last = Instant::now();
                eprintln!(
                    "{}: {seen}/{} runs ({msg}), {:.1} s",
                    self.name,
                    self.total,
                    self.start.elapsed().as_secs_f64()
                );
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut grid = args.grid.load()?;
    if args.tables_only {
        report_tables(&grid, grid_tables(&grid)?, args.quiet);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(part) = args.shard {
        let selected = grid.selected.len();
        grid.selected = shard::select(std::mem::take(&mut grid.selected), part);
        if !args.quiet {
            eprintln!("{}: shard {part}: {} of {selected} runs", grid.spec.name, grid.selected.len());
        }
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    if jobs > 1 && args.blas_threads > 1 && !args.quiet {
        eprintln!(
            "warning: --blas-threads {} applies with --jobs 1 only; {jobs} parallel runs use one BLAS thread each",
            args.blas_threads
        );
    }
    let progress = Progress::new(&grid.spec.name, grid.selected.len(), args.quiet);
    let start = Instant::now();
    let halt = Halt::on_signals().context("installing the SIGINT/SIGTERM handlers")?;
    let summary = run_grid(
        &grid.store,
        &grid.selected,
        &RunOptions { jobs, force: args.force, blas_threads: args.blas_threads, halt: halt.clone() },
        &|_: &GridRun, e| progress.event(e),
    );
    progress.finish();
    // A shard sees only its part of the grid: the tables are left to `--tables-only`.
    let tables = args.shard.is_none().then(|| grid_tables(&grid));
    if let Some(reason) = halt.reason() {
        eprintln!(
            "{}: {reason}: stopped with {} run(s) interrupted and {} not started (they stay missing; \
             the next `linres run` computes them)",
            grid.spec.name, summary.interrupted, summary.not_started
        );
        if let Some(Err(e)) = &tables {
            eprintln!("error: {e:#}");
        }
        return Ok(ExitCode::from(reason.exit_code()));
    }
    if !args.quiet {
        eprintln!("{}", summary_line(&grid.spec.name, &summary, start.elapsed().as_secs_f64(), jobs));
    }
    match tables {
        Some(counts) => report_tables(&grid, counts?, args.quiet),
        None if !args.quiet => {
            eprintln!("{}: a shard leaves the tables to `linres run SPEC --tables-only`", grid.spec.name)
        }
        None => {}
    }
    if summary.failed > 0 {
        eprintln!("error: {} run(s) failed; `linres status {}` shows why", summary.failed, args.grid.spec.display());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Rewrites runs.csv and summary.csv of the whole grid from its cached records.
fn grid_tables(grid: &super::grid::Grid) -> anyhow::Result<TableCounts> {
    grid.store
        .lock_exports()
        .and_then(|_lock| write_tables(&grid.store, &grid.all, &grid.axes))
        .context("writing runs.csv and summary.csv")
}

fn report_tables(grid: &super::grid::Grid, counts: TableCounts, quiet: bool) {
    if !quiet {
        eprintln!(
            "{}: {} runs in {}/runs.csv ({} points) and summary.csv",
            grid.spec.name,
            counts.runs,
            grid.store.root().display(),
            counts.points
        );
    }
}

/// "done 3 · diverged 0 · cached 5 · failed 0" (and runs another process computes).
fn counts_text(c: &RunSummary) -> String {
    let mut text = format!("done {} · diverged {} · cached {} · failed {}", c.done, c.diverged, c.cached, c.failed);
    if c.busy > 0 {
        text.push_str(&format!(" · elsewhere {}", c.busy));
    }
    text
}

fn summary_line(name: &str, s: &RunSummary, seconds: f64, jobs: usize) -> String {
    let mut line = format!(
        "{name}: {} runs: {} computed ({} done, {} diverged, {} failed), {} cached",
        s.total,
        s.done + s.diverged + s.failed,
        s.done,
        s.diverged,
        s.failed,
        s.cached
    );
    if s.busy > 0 {
        line.push_str(&format!(", {} being computed by another process", s.busy));
    }
    line.push_str(&format!(" in {seconds:.1} s with {jobs} job(s)"));
    line
}
