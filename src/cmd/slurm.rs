//! `linres slurm SPEC --tasks N`: write a job array and its finalize job for a grid, and optionally
//! submit them and wait for them.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use linres::cluster::shard;
use linres::cluster::slurm::{ArrayJob, Resources, array_list, job_ends, submit, wait};
use linres::shell;

use linres::store::state::{RunState, StateCounts};

use super::grid::{GridArgs, Selection};
use super::out::{errln, noteln, outln};

#[derive(Args)]
#[command(about = "Write (and with --submit, submit) a SLURM job array whose task I runs shard I/N of the grid")]
pub struct SlurmArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Array tasks N, from 1 to 4000001 (SLURM's largest MaxArraySize): task I runs `linres run SPEC --shard I/N`.
    #[arg(long, value_name = "N")]
    pub tasks: usize,
    /// CPUs per task, from 1 to 1024; each task runs that many runs at once (`--jobs C`).
    #[arg(long, value_name = "C", default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Time limit of each task (SLURM's format, e.g. 02:00:00).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// Partition to submit to.
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Memory per task (SLURM's format, e.g. 4G).
    #[arg(long, value_name = "M")]
    pub mem: Option<String>,
    /// Any other sbatch option, written as an `#SBATCH` line of both scripts (repeatable), e.g.
    /// `--sbatch-arg=--account=proj`.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Submit the array (only the tasks whose shard has missing runs) and the finalize job.
    #[arg(long)]
    pub submit: bool,
    /// With --submit: return when both jobs have ended; exit 1 if a task failed or a run has no result.
    #[arg(long, requires = "submit")]
    pub wait: bool,
}

pub fn run(args: SlurmArgs) -> anyhow::Result<ExitCode> {
    let resources = Resources {
        tasks: args.tasks,
        cpus_per_task: args.cpus_per_task,
        time: args.time.clone(),
        partition: args.partition.clone(),
        mem: args.mem.clone(),
        extra: args.sbatch_args.clone(),
    };
    resources.validate()?;
    let grid = args.grid.load()?;
    let absolute = |p: &Path| std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display()));
    // Every path and value is checked before anything is written, the results directory included.
    let scripts = ArrayJob {
        name: grid.spec.name.clone(),
        linres: absolute(&std::env::current_exe().context("locating the linres binary")?)?,
        spec: absolute(&args.grid.spec)?,
        results: std::path::absolute(&args.grid.results)
            .with_context(|| format!("resolving {}", args.grid.results.display()))?,
        workdir: std::env::current_dir().context("reading the working directory")?,
        sets: args.grid.set.clone(),
        filters: args.grid.filters.clone(),
        figures: !grid.figures.is_empty(),
        resources,
    }
    .check()?;
    let (array, finalize) = scripts.write(grid.selected.len()).context("writing the sbatch scripts")?;
    outln!("{}", array.display());
    outln!("{}", finalize.display());
    if args.tasks > grid.selected.len() {
        noteln!(
            "note: {} tasks for {} runs: {} task(s) will have nothing to do",
            args.tasks,
            grid.selected.len(),
            args.tasks - grid.selected.len()
        );
    }
    if !args.submit {
        let word = |p: &Path| shell::word(&p.display().to_string());
        noteln!(
            "submit with: sbatch {} (then sbatch --dependency=afterany:<job id> {})",
            word(&array),
            word(&finalize)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let pending = shards_with_missing_runs(&grid, args.tasks);
    if pending.is_empty() {
        outln!("{}: every selected run has a result; nothing submitted", grid.spec.name);
        return Ok(ExitCode::SUCCESS);
    }
    let array_id = submit(&array, &[format!("--array={}", array_list(&pending))])?;
    let finalize_id = submit(&finalize, &[format!("--dependency=afterany:{array_id}")])?;
    outln!(
        "{}: submitted array job {array_id} ({} of {} tasks hold missing runs) and finalize job {finalize_id}",
        grid.spec.name,
        pending.len(),
        args.tasks
    );
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = [array_id, finalize_id];
    let mut last = None;
    wait(&jobs, Duration::from_secs(2), &mut |queued| {
        if last != Some(queued) {
            noteln!("{}: {queued} job(s) or task(s) queued or running", grid.spec.name);
            last = Some(queued);
        }
    })?;
    Ok(ExitCode::from(report_end(&grid, &jobs, &scripts.dir())))
}

/// The indices of the shards (of `tasks`) that hold a selected run without a result, sorted.
fn shards_with_missing_runs(grid: &Selection, tasks: usize) -> Vec<usize> {
    let parts = shard::parts(&grid.selected, tasks);
    let mut pending: Vec<usize> = grid
        .selected
        .iter()
        .zip(parts)
        .filter(|(run, _)| !grid.store.state(&run.run.id()).is_result())
        .map(|(_, p)| p)
        .collect();
    pending.sort_unstable();
    pending.dedup();
    pending
}

/// Prints how the jobs ended and what the grid holds; the exit code: 1 when a task or the
/// finalize job did not complete, or a selected run has no result.
fn report_end(grid: &Selection, jobs: &[String], dir: &Path) -> u8 {
    let ends = job_ends(jobs);
    let bad: Vec<_> = ends.iter().filter(|e| !e.ok()).collect();
    for e in &bad {
        errln!("  job {}: {} (exit {})", e.id, e.state, e.exit);
    }
    let states: Vec<(String, RunState)> =
        grid.selected.iter().map(|run| (run.run.id(), grid.store.state(&run.run.id()))).collect();
    let counts = StateCounts::of(states.iter().map(|(id, s)| (id.as_str(), s)), |_| false);
    let (missing, failed) = (counts.missing + counts.corrupt, counts.failed);
    let done = counts.cached;
    outln!(
        "{}: {done} of {} runs have a result, {failed} failed, {missing} missing",
        grid.spec.name,
        grid.selected.len()
    );
    if bad.is_empty() && missing == 0 && failed == 0 {
        return 0;
    }
    errln!(
        "error: the array did not finish every run (logs in {}); submitting again computes only what is missing",
        dir.join("logs").display()
    );
    1
}
