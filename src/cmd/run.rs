//! `linres run`: execute a grid through the cache, in parallel, and rewrite its tables.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use linres::cluster::shard::{self, Shard};
use linres::config::ResolvedRun;
use linres::engine::estimate::{Basis, Rate, Remaining, rate_for, seconds_of};
use linres::engine::plan::estimated_cost;
use linres::export::tables::{TableCounts, update_tables as update};
use linres::grid::GridRun;
use linres::halt::Halt;
use linres::runner::{MAX_JOBS, RunEvent, RunOptions, RunSummary, is_cached, run_grid};
use linres::store::state::{Listing, StateCounts};

use super::grid::{GridArgs, Selection};
use super::out::{errln, noteln, outln};
use super::status::command_hint;
use super::usage;

#[derive(Args)]
#[command(about = "Run an experiment grid: every missing run, in parallel, cached by content hash")]
pub struct RunArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Cores to use, from 1 to 1024 (default: all; never more than the runs to compute when that
    /// exceeds the machine's cores). Runs start longest first, one per core; a run splits its work
    /// over the cores the others leave free, and its record does not depend on how many it got.
    #[arg(long, short = 'j', value_name = "N", value_parser = thread_count)]
    pub jobs: Option<usize>,
    /// Recompute the selected runs even when their results are cached.
    #[arg(long)]
    pub force: bool,
    /// Run only part I (0-based) of N of the selected runs, balanced by estimated cost. The
    /// partition depends only on the grid, so N processes anywhere with I = 0…N−1 (and the same
    /// filters) cover every run once. Shards do not write the tables (`--tables-only` does).
    #[arg(long, value_name = "I/N", conflicts_with = "tables_only")]
    pub shard: Option<Shard>,
    /// Compute nothing: say which selected runs `run` would compute (missing, failed, corrupt;
    /// every one with --force) and which it would take from the cache, with the work the engines'
    /// cost model estimates for them.
    #[arg(long, conflicts_with = "tables_only")]
    pub dry_run: bool,
    /// Run without the declared figures that do not fit this grid (a figure that would pool an
    /// axis `--set` adds, such as `--set 'data.kappa=[4, 16]'`): each is named, with why, and left
    /// out; `plot` and `report` still refuse such a figure.
    #[arg(long)]
    pub no_figures: bool,
    /// Compute nothing: only rewrite runs.csv and summary.csv from the cached records.
    #[arg(long, conflicts_with = "force")]
    pub tables_only: bool,
}

/// Parses a thread count of `--jobs`: a whole number from 1 to [`MAX_JOBS`].
pub fn thread_count(text: &str) -> Result<usize, String> {
    let rule = || format!("a thread count is a whole number from 1 to {MAX_JOBS}");
    let n: usize = text.trim().parse().map_err(|_| rule())?;
    if (1..=MAX_JOBS).contains(&n) { Ok(n) } else { Err(format!("{}, got {n}", rule())) }
}

/// Progress display: a bar on a terminal, periodic lines otherwise, nothing with `--quiet`; each
/// with the time left ([`Remaining`]).
struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    name: String,
    total: usize,
    counts: Mutex<RunSummary>,
    /// The time left (none when nothing is shown or nothing is to compute).
    eta: Option<Mutex<Eta>>,
    last_line: Mutex<Instant>,
    start: Instant,
}

/// The time left of the runs a `run` computes, counted from the start as the runs without a
/// record file (every run with `--force`): one directory listing, no look at each record, so a
/// run whose record turns out failed or corrupt is added when it finishes.
struct Eta {
    remaining: Remaining,
    /// The files of the results at the start (`None` with `--force`: every run is counted).
    listed: Option<Listing>,
}

impl Eta {
    /// Says what the cost model estimates for the runs to compute and starts counting; `None`
    /// when there is nothing to compute.
    fn start(grid: &Selection, force: bool, cores: usize) -> Option<Eta> {
        let listed = (!force).then(|| grid.store.listing());
        let todo: Vec<&GridRun> =
            grid.selected.iter().filter(|r| listed.as_ref().is_none_or(|l| !l.has_record(&r.run.id()))).collect();
        let work = work_of(&todo);
        let rate = rate_for(work.runs.iter())?;
        let which = if force { "to compute (--force)" } else { "without a record" };
        noteln!("{}: {} run(s) {which}: {}", grid.spec.name, todo.len(), time_text(&work, rate, cores));
        let machine = rate.per_second * cores.max(1) as f64;
        Some(Eta { remaining: Remaining::new(work.total, machine, work.may_stop_early), listed })
    }

    /// Counts `event` of `run`, `seconds` after the start.
    fn event(&mut self, run: &GridRun, event: RunEvent, seconds: f64) {
        let counted = || self.listed.as_ref().is_none_or(|l| !l.has_record(&run.run.id()));
        match event {
            RunEvent::Computed(_) => {
                let work = estimated_cost(&run.run.point_run());
                if !counted() {
                    self.remaining.add(work);
                }
                self.remaining.finish(work, seconds);
            }
            RunEvent::Busy if counted() => self.remaining.skip(estimated_cost(&run.run.point_run())),
            // Runs with a record at the start were not counted; after a halt nothing is estimated.
            RunEvent::Busy | RunEvent::Cached | RunEvent::Interrupted | RunEvent::NotStarted => {}
        }
    }
}

impl Progress {
    /// The display of the selected runs of `grid`, with the time left of those to compute on
    /// `cores` cores.
    fn new(grid: &Selection, force: bool, cores: usize) -> Progress {
        let name = &grid.spec.name;
        let total = grid.selected.len();
        let quiet = super::out::quiet();
        let terminal = std::io::stderr().is_terminal();
        let eta = if quiet { None } else { Eta::start(grid, force, cores).map(Mutex::new) };
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(total as u64);
            // The counter is part of the message, so that it always agrees with the counts.
            bar.set_style(
                ProgressStyle::with_template("{prefix} {bar:30.cyan/blue} {msg}  [{elapsed_precise}]")
                    .expect("a valid template"),
            );
            bar.set_prefix(name.to_string());
            bar.set_message(format!("0/{total}"));
            bar
        });
        Progress {
            bar,
            plain: !quiet && !terminal,
            name: name.to_string(),
            total,
            counts: Mutex::new(RunSummary::default()),
            eta,
            last_line: Mutex::new(Instant::now()),
            start: Instant::now(),
        }
    }

    fn event(&self, run: &GridRun, event: RunEvent) {
        // Counts, counter, estimate and display change together, under one lock.
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.add(event);
        let seen = counts.done + counts.diverged + counts.failed + counts.cached + counts.busy;
        let mut msg = format!("{seen}/{} runs ({})", self.total, counts_text(&counts));
        if let Some(eta) = &self.eta {
            let mut eta = eta.lock().unwrap_or_else(|p| p.into_inner());
            eta.event(run, event, self.start.elapsed().as_secs_f64());
            if seen < self.total {
                msg.push_str(&format!(" · {}", left_text(eta.remaining.estimate())));
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_position(seen as u64);
            bar.set_message(msg);
        } else if self.plain {
            let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() >= Duration::from_secs(10) || seen == self.total {
                *last = Instant::now();
                noteln!("{}: {msg}, {:.1} s", self.name, self.start.elapsed().as_secs_f64());
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The runs to compute, read once for their estimated work.
struct Work {
    runs: Vec<ResolvedRun>,
    /// Their estimated work ([`estimated_cost`]), in multiply-adds.
    total: f64,
    /// Whether some of them may stop before their last iteration (`optim.stop_below`).
    may_stop_early: bool,
}

fn work_of(todo: &[&GridRun]) -> Work {
    let runs: Vec<ResolvedRun> = todo.iter().map(|r| r.run.point_run()).collect();
    // A fold from +0 (an empty f64 sum is −0, printed "-0").
    let total = runs.iter().map(estimated_cost).fold(0.0, |a, b| a + b);
    let may_stop_early = runs.iter().any(|r| r.config().optim.stop_below.is_some());
    Work { runs, total, may_stop_early }
}

/// "estimated work 3.2e9 multiply-adds: about 1.5 s on 2 cores (…what it assumes…)".
fn time_text(work: &Work, rate: Rate, cores: usize) -> String {
    let seconds = seconds_of(work.total, rate, cores);
    format!(
        "estimated work {} multiply-adds: {} {} on {cores} core(s) (an estimate: the cost model at {} multiply-adds/s \
         per core, the rate of a {}×{} by {}×{} dgemm timed on this machine, the shape of the heaviest run's step; \
         per-run set-up and writing are not counted{})",
        linres::number::rounded_text(work.total, 3),
        if work.may_stop_early { "at most about" } else { "about" },
        seconds_text(seconds),
        linres::number::rounded_text(rate.per_second, 2),
        rate.w,
        rate.w,
        rate.w,
        rate.c,
        if work.may_stop_early {
            "; every iteration counted: optim.stop_below can only shorten it; a `run` follows the pace of its \
             finished runs"
        } else {
            ""
        }
    )
}

/// The time left as the progress shows it: "≤ 12 s left (cost model)", "≈ 2.5 s left".
fn left_text(e: linres::engine::estimate::Estimate) -> String {
    let t = seconds_text(e.seconds);
    match e.basis {
        Basis::CostModel { upper_bound: true } => format!("≤ {t} left (cost model)"),
        Basis::CostModel { upper_bound: false } => format!("≈ {t} left (cost model)"),
        Basis::Measured => format!("≈ {t} left"),
    }
}

/// Seconds for reading: "0.04 s", "12 s", "3 min 20 s", "2 h 05 min".
fn seconds_text(s: f64) -> String {
    if !s.is_finite() {
        return "an unknown time".into();
    }
    if s < 60.0 {
        return format!("{} s", linres::number::rounded_text(s, 2));
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        format!("{} h {:02} min", whole / 3600, whole % 3600 / 60)
    }
}

/// `run --dry-run`: the states of the selected runs, how many a `run` would compute and take from
/// the cache, the estimated work of those it would compute (the engines' cost model in
/// multiply-adds, [`estimated_cost`]: every iteration counted, so `optim.stop_below` can only
/// shorten it) and that work as time on `cores` cores at a rate measured here ([`time_text`]).
fn dry_run(grid: &Selection, force: bool, cores: usize) {
    let ids: Vec<String> = grid.selected.iter().map(|r| r.run.id()).collect();
    let listing = grid.store.listing();
    let states = grid.store.states(&listing, &ids);
    let claimed = |id: &str| listing.has_claim(id) && grid.store.is_claimed(id);
    let counts = StateCounts::of(ids.iter().map(String::as_str).zip(&states), claimed);
    let computed: Vec<&GridRun> = grid
        .selected
        .iter()
        .zip(ids.iter().zip(&states))
        .filter(|(_, (id, state))| force || (!state.is_result() && !claimed(id)))
        .map(|(run, _)| run)
        .collect();
    let work = work_of(&computed);
    outln!("{}: {}", grid.spec.name, counts.text());
    outln!(
        "{}: a run would compute {} ({}), take {} from the cache and leave {} to the processes running them; \
         estimated work {} multiply-adds (every iteration counted: optim.stop_below can only shorten it)",
        grid.spec.name,
        computed.len(),
        if force {
            "--force: every selected run".to_string()
        } else {
            format!("{} missing, {} failed, {} corrupt", counts.missing, counts.failed, counts.corrupt)
        },
        if force { 0 } else { counts.cached },
        if force { 0 } else { counts.running },
        linres::number::rounded_text(work.total, 3)
    );
    match rate_for(work.runs.iter()) {
        Some(rate) => outln!("{}: time: {}", grid.spec.name, time_text(&work, rate, cores)),
        None => outln!("{}: time: nothing to compute", grid.spec.name),
    }
}

/// How many selected runs have no cached result (all of them with `force`).
fn to_compute(grid: &Selection, force: bool) -> usize {
    if force {
        grid.selected.len()
    } else {
        grid.selected.iter().filter(|r| !is_cached(&grid.store, &r.run.id())).count()
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut grid = args.grid.load_offering_no_figures(args.no_figures)?;
    if args.tables_only {
        report_tables(&grid, update_tables(&grid)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(part) = args.shard {
        let selected = grid.selected.len();
        grid.selected = shard::select(std::mem::take(&mut grid.selected), part);
        noteln!("{}: shard {part}: {} of {selected} runs", grid.spec.name, grid.selected.len());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.dry_run {
        dry_run(&grid, args.force, args.jobs.unwrap_or(cores).min(cores));
        return Ok(ExitCode::SUCCESS);
    }
    // Held until the end: `clean` deletes nothing of an experiment a live `run` works on. A
    // results directory that cannot be written is fine when there is nothing to write.
    let _active = match grid.store.hold_active() {
        Ok(lock) => Some(lock),
        Err(_) if to_compute(&grid, args.force) == 0 => None,
        Err(e) => {
            return Err(usage(format!(
                "--results {}: cannot write the results of {} there: {e}",
                args.grid.results.display(),
                grid.spec.name
            )));
        }
    };
    // More threads than the machine's cores help only as runs of their own.
    let jobs = args.jobs.unwrap_or(cores).min(grid.selected.len().max(cores));
    let progress = Progress::new(&grid, args.force, jobs.min(cores));
    let start = Instant::now();
    let halt = Halt::on_signals().context("installing the SIGINT/SIGTERM handlers")?;
    let summary = run_grid(
        &grid.store,
        &grid.selected,
        &RunOptions { jobs, force: args.force, halt: halt.clone() },
        &|run: &GridRun, e| progress.event(run, e),
    );
    progress.finish();
    let summary = summary?;
    if summary.threads > 0 && summary.threads < jobs {
        noteln!(
            "note: {}: the system would not start {jobs} threads (a process or address-space limit); ran on {}",
            grid.spec.name,
            summary.threads
        );
    }
    // A shard sees only its part of the grid: the tables are left to `--tables-only`.
    let tables = args.shard.is_none().then(|| update_tables(&grid));
    if let Some(reason) = halt.reason() {
        errln!(
            "{}: {reason}: stopped with {} run(s) interrupted and {} not started (they stay missing; \
             the next `linres run` computes them)",
            grid.spec.name,
            summary.interrupted,
            summary.not_started
        );
        if let Some(Err(e)) = &tables {
            errln!("error: {e:#}");
        }
        return Ok(ExitCode::from(reason.exit_code()));
    }
    noteln!(
        "{}",
        summary_line(
            &grid.spec.name,
            &summary,
            start.elapsed().as_secs_f64(),
            if summary.threads > 0 { summary.threads } else { jobs }
        )
    );
    match tables {
        Some(counts) => report_tables(&grid, counts?),
        None => noteln!("{}: a shard leaves the tables to `linres run SPEC --tables-only`", grid.spec.name),
    }
    if summary.failed > 0 {
        errln!("error: {} run(s) failed; {} shows why", summary.failed, command_hint(&args.grid, "status", ""));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Brings the tables up to date (runs.csv, summary.csv, summary.parquet, curves.parquet): nothing
/// is read or written when their fingerprint shows they hold the grid's records already (a
/// read-only results directory is fine then).
fn update_tables(grid: &Selection) -> anyhow::Result<TableCounts> {
    // Locked only where it can be: a read-only directory whose tables are up to date needs no lock.
    let _lock = grid.store.lock_exports().ok();
    update(&grid.store, &grid.runs, &grid.axes, &grid.spec.theory).context("writing the tables")
}

fn report_tables(grid: &Selection, counts: TableCounts) {
    noteln!(
        "{}: {} runs in {}/runs.csv ({} points), summary.csv and Parquet (summary.parquet, curves.parquet)",
        grid.spec.name,
        counts.runs,
        grid.store.root().display(),
        counts.points
    );
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
