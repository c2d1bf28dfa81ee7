//! SLURM job arrays for a grid: two plain sbatch scripts, their submission and the wait for them.
//!
//! `array.sbatch` is a job array of N tasks; task I runs `linres run SPEC --shard I/N`, so the
//! tasks split the grid by the cost-balanced partition of [`super::shard`] and a resubmission
//! computes only what is missing. `finalize.sbatch` (submitted with `--dependency=afterany:` on the
//! array) writes the tables of the whole grid, prints its status and draws its figures. Both are
//! written under `<results>/<name>/slurm/` with absolute paths, so they can be read, edited and
//! submitted by hand (`sbatch array.sbatch`).
//!
//! Every word of a command is quoted by [`shell::word`]. A path or value that cannot be written
//! safely is refused before anything is written ([`ArrayJob::check`]): a control character anywhere
//! (a line break would start a command of its own), and in an `#SBATCH` line (the working directory,
//! the results directory, the resources) whitespace, quotes, `\`, `#` and, in file names, `%`, which
//! sbatch splits or interprets.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::ConfigError;
use crate::runner::MAX_JOBS;
use crate::shell;

/// Most array tasks: SLURM numbers them 0 … MaxArraySize − 1, and MaxArraySize is at most 4 000 001.
pub const MAX_TASKS: usize = 4_000_001;

/// What the scripts run and how SLURM should place it, as the command line gives it; [`ArrayJob::check`]
/// turns it into [`Scripts`].
#[derive(Debug, Clone)]
pub struct ArrayJob {
    /// The experiment's name (job names, log names).
    pub name: String,
    /// Absolute paths of the linres binary, the experiment file and the results directory.
    pub linres: PathBuf,
    pub spec: PathBuf,
    pub results: PathBuf,
    /// Working directory of the jobs (relative figure paths are taken from it).
    pub workdir: PathBuf,
    /// `--set` arguments (they change the grid), passed on to every command.
    pub sets: Vec<String>,
    /// `--filter` arguments, passed on to every task.
    pub filters: Vec<String>,
    /// Whether the experiment declares figures (the finalize job then plots them).
    pub figures: bool,
    pub resources: Resources,
}

/// The sbatch options of `linres slurm`.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Array tasks N.
    pub tasks: usize,
    /// CPUs per task (each task runs `--jobs C`).
    pub cpus_per_task: usize,
    pub time: Option<String>,
    pub partition: Option<String>,
    pub mem: Option<String>,
    /// Further sbatch options, one `#SBATCH` line each.
    pub extra: Vec<String>,
}

/// Where a text is written in the scripts, which decides what it may hold ([`writable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A value in an `#SBATCH` line (or a comment line). sbatch splits the line at whitespace,
    /// groups quoted text, escapes with `\` and ends the line at an unescaped `#`.
    Directive,
    /// A file name in an `#SBATCH` line: as [`Place::Directive`], and SLURM expands `%` patterns in it.
    DirectivePath,
    /// A word of a command, quoted by [`shell::word`]: any text on one line.
    Word,
}

/// Checks that `text`, the value of `what` (a flag or a path, named in the error), can be written at
/// `place`: no control character anywhere (a line break would end the line and start a command; sbatch
/// refuses CR and NUL), and in an `#SBATCH` line nothing sbatch splits or interprets.
fn writable(what: &str, text: &str, place: Place) -> Result<(), ConfigError> {
    let refuse = |why: String| Err(ConfigError::new(what, format!("`{}` {why}", text.escape_debug())));
    let line = if place == Place::Word { "a line of the sbatch scripts" } else { "an #SBATCH line" };
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return refuse(format!("holds the control character {:?}, which cannot be written into {line}", c));
    }
    if place == Place::Word {
        return Ok(());
    }
    if text.chars().any(char::is_whitespace) {
        return refuse(format!("holds whitespace, at which sbatch splits {line}"));
    }
    if let Some(c) = text.chars().find(|c| "\"'\\#".contains(*c)) {
        return refuse(format!("holds `{c}`, which sbatch reads as quoting, escaping or a comment in {line}"));
    }
    if place == Place::DirectivePath && text.contains('%') {
        return refuse(format!("holds `%`, which SLURM expands in the file names of {line} (%j, %A …)"));
    }
    Ok(())
}

/// `path` as text that can be written at `place` ([`writable`]); a path that is not UTF-8 cannot.
fn writable_path(what: &str, path: &Path, place: Place) -> Result<String, ConfigError> {
    let text = path.to_str().ok_or_else(|| {
        ConfigError::new(what, format!("`{}` is not valid UTF-8 (the sbatch scripts are text)", path.display()))
    })?;
    writable(what, text, place)?;
    Ok(text.to_string())
}

impl Resources {
    /// Checks the values linres relies on (counts within bounds, values that can be written into an
    /// `#SBATCH` line); the meaning of the others (time formats, partitions, memory sizes) is SLURM's
    /// to judge.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_TASKS).contains(&self.tasks) {
            return Err(ConfigError::new(
                "--tasks",
                format!(
                    "{}: the number of array tasks is from 1 to {MAX_TASKS} (SLURM numbers tasks below its \
                     MaxArraySize, which is at most {MAX_TASKS})",
                    self.tasks
                ),
            ));
        }
        if !(1..=MAX_JOBS).contains(&self.cpus_per_task) {
            return Err(ConfigError::new(
                "--cpus-per-task",
                format!("{}: from 1 to {MAX_JOBS} (each task runs `linres run --jobs C`)", self.cpus_per_task),
            ));
        }
        for (flag, v) in [("--time", &self.time), ("--partition", &self.partition), ("--mem", &self.mem)] {
            if let Some(v) = v {
                directive_value(flag, v)?;
            }
        }
        for v in &self.extra {
            directive_value("--sbatch-arg", v)?;
            if !v.starts_with('-') {
                return Err(ConfigError::new("--sbatch-arg", format!("`{v}`: an sbatch option starts with `-`")));
            }
        }
        Ok(())
    }

    /// The `#SBATCH` lines of these resources (without the array and job name).
    fn directives(&self, cpus: usize) -> String {
        let mut out = format!("#SBATCH --cpus-per-task={cpus}\n");
        for (key, v) in [("time", &self.time), ("partition", &self.partition), ("mem", &self.mem)] {
            if let Some(v) = v {
                let _ = writeln!(out, "#SBATCH --{key}={v}");
            }
        }
        for v in &self.extra {
            let _ = writeln!(out, "#SBATCH {v}");
        }
        out
    }
}

/// A non-empty value of an `#SBATCH` line.
fn directive_value(flag: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        return Err(ConfigError::new(flag, "must not be empty"));
    }
    writable(flag, v, Place::Directive)
}

impl ArrayJob {
    /// Checks that every path and value can be written into the scripts: the resources, the
    /// experiment's name, the working directory and the results directory go into `#SBATCH` lines
    /// (and comments), the binary, the experiment file and the `--set` and `--filter` values are
    /// words of commands. The error names the flag or path and what it holds.
    pub fn check(&self) -> Result<Scripts, ConfigError> {
        self.resources.validate()?;
        writable("name", &self.name, Place::Directive)?;
        let words = |flag: &str, values: &[String]| -> Result<Vec<String>, ConfigError> {
            values.iter().map(|v| writable(flag, v, Place::Word).map(|()| v.clone())).collect()
        };
        Ok(Scripts {
            name: self.name.clone(),
            linres: writable_path("the linres binary", &self.linres, Place::Word)?,
            spec: writable_path("SPEC", &self.spec, Place::Word)?,
            // The working directory first: a relative results directory lies below it.
            workdir: writable_path("the working directory", &self.workdir, Place::DirectivePath)?,
            results: writable_path("--results", &self.results, Place::DirectivePath)?,
            sets: words("--set", &self.sets)?,
            filters: words("--filter", &self.filters)?,
            figures: self.figures,
            resources: self.resources.clone(),
        })
    }
}

/// An [`ArrayJob`] whose every path and value can be written into the scripts.
#[derive(Debug, Clone)]
pub struct Scripts {
    name: String,
    linres: String,
    spec: String,
    results: String,
    workdir: String,
    sets: Vec<String>,
    filters: Vec<String>,
    figures: bool,
    resources: Resources,
}

impl Scripts {
    /// The directory of the scripts and of the jobs' logs.
    pub fn dir(&self) -> PathBuf {
        Path::new(&self.results).join(&self.name).join("slurm")
    }

    /// [`Scripts::dir`] as text (it is checked, as the results directory is).
    fn dir_text(&self) -> String {
        format!("{}/{}/slurm", self.results.trim_end_matches('/'), self.name)
    }

    /// `linres <command> SPEC [--set K=V]… --results DIR`, each word quoted.
    fn command(&self, command: &str) -> String {
        let mut words = vec![self.linres.as_str(), command, &self.spec];
        for s in &self.sets {
            words.extend(["--set", s]);
        }
        words.extend(["--results", &self.results]);
        words.into_iter().map(shell::word).collect::<Vec<_>>().join(" ")
    }

    /// The text of `array.sbatch`.
    pub fn array(&self, runs: usize) -> String {
        let r = &self.resources;
        let n = r.tasks;
        let mut filters = String::new();
        for f in &self.filters {
            let _ = write!(filters, " --filter {}", shell::word(f));
        }
        format!(
            "#!/bin/bash
# linres: experiment `{name}`, {runs} runs in {n} shards balanced by estimated cost.
# Task I computes the runs of shard I/{n} that have no result yet, so resubmitting this script
# computes only what is missing; a task whose shard is complete exits at once. The jobs inherit the
# environment of `sbatch` (OPENBLAS_CORETYPE, for one, decides the kernels and the last digits).
# Written by `linres slurm`; edit freely, submit with `sbatch {array}`.
#SBATCH --job-name=linres-{name}
#SBATCH --array=0-{last}
{directives}#SBATCH --chdir={workdir}
#SBATCH --output={dir}/logs/array-%A_%a.out
exec {run} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --jobs \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"{filters}
",
            name = self.name,
            array = shell::word(&format!("{}/array.sbatch", self.dir_text())),
            last = n - 1,
            directives = r.directives(r.cpus_per_task),
            workdir = self.workdir,
            dir = self.dir_text(),
            run = self.command("run"),
            cpus = r.cpus_per_task,
        )
    }

    /// The text of `finalize.sbatch`.
    pub fn finalize(&self) -> String {
        let r = &self.resources;
        let plot = if !self.figures {
            "# (the experiment declares no figures)\n".to_string()
        } else if !self.sets.is_empty() {
            "# (no figures: `linres plot` draws the experiment file's own grid, not one changed by --set)\n".to_string()
        } else {
            format!("{} --out figures\n", self.command("plot"))
        };
        format!(
            "#!/bin/bash
# linres: after the array of `{name}` has ended (however it ended), write the tables of the whole
# grid, print what is done, running, missing and failed, and draw the figures.
# Submitted by `linres slurm --submit` with --dependency=afterany:<array job id>.
#SBATCH --job-name=linres-{name}-finalize
{directives}#SBATCH --chdir={workdir}
#SBATCH --output={dir}/logs/finalize-%j.out
set -euo pipefail
{tables} --tables-only
{status}
{plot}",
            name = self.name,
            directives = Resources { partition: r.partition.clone(), extra: r.extra.clone(), ..Resources::default() }
                .directives(1),
            workdir = self.workdir,
            dir = self.dir_text(),
            tables = self.command("run"),
            status = self.command("status"),
        )
    }

    /// Writes both scripts (and the log directory); returns their paths.
    pub fn write(&self, runs: usize) -> io::Result<(PathBuf, PathBuf)> {
        let dir = self.dir();
        std::fs::create_dir_all(dir.join("logs"))?;
        let array = dir.join("array.sbatch");
        let finalize = dir.join("finalize.sbatch");
        crate::store::atomic::write(&array, self.array(runs).as_bytes())?;
        crate::store::atomic::write(&finalize, self.finalize().as_bytes())?;
        Ok((array, finalize))
    }
}

/// A SLURM command that could not be run or failed.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// (The OS error is part of the message, not a source: printed with its chain, it would be said twice.)
    #[error("cannot run `{command}` (is this a SLURM submission host?): {error}")]
    Spawn { command: String, error: io::Error },
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
}

/// Runs a SLURM command and returns its standard output.
fn slurm(program: &str, args: &[String]) -> Result<String, SlurmError> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|error| SlurmError::Spawn { command: command.clone(), error })?;
    if !out.status.success() {
        return Err(SlurmError::Failed { command, stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Submits `script` with `sbatch --parsable` and the extra options; returns the job id.
pub fn submit(script: &Path, options: &[String]) -> Result<String, SlurmError> {
    let mut args = vec!["--parsable".to_string()];
    args.extend(options.iter().cloned());
    args.push(script.display().to_string());
    let out = slurm("sbatch", &args)?;
    // `--parsable` prints "<id>" or "<id>;<cluster>".
    let id = out.trim().split(';').next().unwrap_or_default().to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(SlurmError::Failed {
            command: format!("sbatch {}", args.join(" ")),
            stderr: format!("unexpected output {out:?}"),
        });
    }
    Ok(id)
}

/// `0-3,7`: the array index list of `indices` (sorted, distinct), ranges joined.
pub fn array_list(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(",")
}

/// How one job (or array task) ended, as the scheduler reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEnd {
    /// The job id, `<array id>_<task>` for array tasks.
    pub id: String,
    /// COMPLETED, FAILED, CANCELLED, TIMEOUT, …
    pub state: String,
    /// `exit:signal`.
    pub exit: String,
}

impl JobEnd {
    pub fn ok(&self) -> bool {
        self.state == "COMPLETED" && self.exit == "0:0"
    }
}

/// Waits until none of `jobs` is pending or running any more, polling `squeue` every `poll`, and
/// calling `progress` with the number of jobs and array tasks still queued or running.
pub fn wait(jobs: &[String], poll: Duration, progress: &mut dyn FnMut(usize)) -> Result<(), SlurmError> {
    let list = jobs.join(",");
    let mut failures = 0;
    loop {
        match slurm("squeue", &["-h".into(), "-j".into(), list.clone(), "-o".into(), "%i".into()]) {
            Ok(out) => {
                failures = 0;
                let queued = out.lines().filter(|l| !l.trim().is_empty()).count();
                if queued == 0 {
                    return Ok(());
                }
                progress(queued);
            }
            // Jobs the controller has already forgotten are over.
            Err(SlurmError::Failed { stderr, .. }) if stderr.contains("Invalid job id") => return Ok(()),
            Err(e) => {
                failures += 1;
                if failures >= 5 {
                    return Err(e);
                }
            }
        }
        std::thread::sleep(poll);
    }
}

/// How each of `jobs` (and each task of an array) ended: from `sacct` where accounting is
/// enabled, else from `scontrol` while the controller remembers the jobs; empty when neither knows.
pub fn job_ends(jobs: &[String]) -> Vec<JobEnd> {
    let list = jobs.join(",");
    let sacct = ["-n", "-X", "-P", "-j", &list, "-o", "JobID,State,ExitCode"].map(String::from);
    if let Ok(out) = slurm("sacct", &sacct) {
        let ends: Vec<JobEnd> = out
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                (f.len() == 3).then(|| JobEnd {
                    id: f[0].to_string(),
                    state: f[1].split_whitespace().next().unwrap_or_default().to_string(),
                    exit: f[2].to_string(),
                })
            })
            .collect();
        if !ends.is_empty() {
            return ends;
        }
    }
    let mut ends = Vec::new();
    for job in jobs {
        let Ok(out) = slurm("scontrol", &["-o".into(), "show".into(), "job".into(), job.clone()]) else { continue };
        ends.extend(out.lines().filter_map(parse_scontrol_line));
    }
    ends
}

/// A job's end from one line of `scontrol -o show job`.
fn parse_scontrol_line(line: &str) -> Option<JobEnd> {
    let field = |key: &str| {
        line.split_whitespace().find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('='))).map(String::from)
    };
    let job = field("JobId")?;
    let id = match (field("ArrayJobId"), field("ArrayTaskId")) {
        (Some(a), Some(t)) => format!("{a}_{t}"),
        _ => job,
    };
    Some(JobEnd { id, state: field("JobState")?, exit: field("ExitCode")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> ArrayJob {
        ArrayJob {
            name: "grid".into(),
            linres: "/opt/bin/linres".into(),
            spec: "/home/u/exp's/grid.yaml".into(),
            results: "/scratch/results".into(),
            workdir: "/home/u".into(),
            sets: Vec::new(),
            filters: vec!["model.width=40,200".into()],
            figures: true,
            resources: Resources {
                tasks: 8,
                cpus_per_task: 4,
                time: Some("02:00:00".into()),
                partition: None,
                mem: Some("4G".into()),
                extra: vec!["--qos=long".into()],
            },
        }
    }

    #[test]
    fn the_array_script_runs_shard_i_of_n_with_the_requested_resources() {
        let s = job().check().unwrap().array(100);
        assert!(s.starts_with("#!/bin/bash\n"));
        for line in [
            "#SBATCH --array=0-7",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --time=02:00:00",
            "#SBATCH --mem=4G",
            "#SBATCH --qos=long",
            "#SBATCH --chdir=/home/u",
            "#SBATCH --output=/scratch/results/grid/slurm/logs/array-%A_%a.out",
            "exec /opt/bin/linres run '/home/u/exp'\\''s/grid.yaml' --results /scratch/results \
             --shard \"$SLURM_ARRAY_TASK_ID/8\" --jobs \"${SLURM_CPUS_PER_TASK:-4}\" --filter model.width=40,200",
        ] {
            assert!(s.lines().any(|l| l == line), "missing {line:?} in\n{s}");
        }
        assert!(!s.contains("--partition"));
        // Every #SBATCH line comes before the first command (sbatch stops reading at it).
        let first_command = s.lines().position(|l| !l.starts_with('#')).unwrap();
        assert!(s.lines().skip(first_command).all(|l| !l.starts_with("#SBATCH")));
    }

    #[test]
    fn the_finalize_script_writes_tables_prints_status_and_plots() {
        let s = job().check().unwrap().finalize();
        for line in [
            "#SBATCH --cpus-per-task=1",
            "#SBATCH --qos=long",
            "/opt/bin/linres run '/home/u/exp'\\''s/grid.yaml' --results /scratch/results --tables-only",
            "/opt/bin/linres status '/home/u/exp'\\''s/grid.yaml' --results /scratch/results",
            "/opt/bin/linres plot '/home/u/exp'\\''s/grid.yaml' --results /scratch/results --out figures",
        ] {
            assert!(s.lines().any(|l| l == line), "missing {line:?} in\n{s}");
        }
        assert!(!s.contains("--time") && !s.contains("--mem"), "the finalize job needs no big allocation:\n{s}");
    }

    #[test]
    fn bad_resources_name_the_flag() {
        let ok = job().resources;
        for (edit, flag) in [
            (Resources { tasks: 0, ..ok.clone() }, "--tasks"),
            (Resources { cpus_per_task: 0, ..ok.clone() }, "--cpus-per-task"),
            (Resources { time: Some("1:00\n#SBATCH --x".into()), ..ok.clone() }, "--time"),
            (Resources { extra: vec!["qos=long".into()], ..ok.clone() }, "--sbatch-arg"),
            (Resources { mem: Some(String::new()), ..ok.clone() }, "--mem"),
            (Resources { tasks: MAX_TASKS + 1, ..ok.clone() }, "--tasks"),
            (Resources { cpus_per_task: MAX_JOBS + 1, ..ok.clone() }, "--cpus-per-task"),
            (Resources { partition: Some("a b".into()), ..ok.clone() }, "--partition"),
            (Resources { extra: vec!["--comment=#x".into()], ..ok.clone() }, "--sbatch-arg"),
        ] {
            let e = edit.validate().expect_err(flag);
            assert_eq!(e.field, flag);
        }
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn every_path_and_value_is_checked_for_its_place_in_the_scripts() {
        assert!(job().check().is_ok());
        for (edit, named) in [
            (ArrayJob { name: "a\nb".into(), ..job() }, "name"),
            (ArrayJob { linres: "/opt/li\0nres".into(), ..job() }, "the linres binary"),
            (ArrayJob { spec: "/home/u/a\rb.yaml".into(), ..job() }, "SPEC"),
            (ArrayJob { results: "/scratch/res ults".into(), ..job() }, "--results"),
            (ArrayJob { results: "/scratch/%u".into(), ..job() }, "--results"),
            (ArrayJob { workdir: "/home/u\u{85}".into(), ..job() }, "the working directory"),
            (ArrayJob { sets: vec!["seeds=3\0".into()], ..job() }, "--set"),
            (ArrayJob { filters: vec!["seed=0\u{1b}".into()], ..job() }, "--filter"),
        ] {
            let e = edit.check().expect_err(named);
            assert_eq!(e.field, named);
            assert!(!e.rule.chars().any(char::is_control), "the value is shown escaped: {e}");
        }
        // Words of commands may hold what #SBATCH lines may not: they are quoted.
        let words = ArrayJob { spec: "/home/u/a b#%'\"$x.yaml".into(), sets: vec!["a=b c".into()], ..job() };
        let s = words.check().unwrap().array(1);
        assert!(s.contains(r#"'/home/u/a b#%'\''"$x.yaml' --set 'a=b c'"#), "{s}");
        // A path that is not UTF-8 cannot be written into a text script.
        use std::os::unix::ffi::OsStrExt;
        let bytes = ArrayJob { results: std::ffi::OsStr::from_bytes(b"/scratch/\xff").into(), ..job() };
        assert!(bytes.check().unwrap_err().rule.contains("not valid UTF-8"));
    }

    #[test]
    fn array_lists_join_ranges() {
        assert_eq!(array_list(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_list(&[0, 2, 3, 4, 7]), "0,2-4,7");
        assert_eq!(array_list(&[5]), "5");
        assert_eq!(array_list(&[]), "");
    }

    #[test]
    fn scontrol_lines_give_each_tasks_end() {
        let line =
            "JobId=12 ArrayJobId=10 ArrayTaskId=2 JobName=linres-grid JobState=CANCELLED Reason=None ExitCode=0:15";
        assert_eq!(
            parse_scontrol_line(line),
            Some(JobEnd { id: "10_2".into(), state: "CANCELLED".into(), exit: "0:15".into() })
        );
        let line = "JobId=13 JobName=linres-grid-finalize JobState=COMPLETED ExitCode=0:0";
        let end = parse_scontrol_line(line).unwrap();
        assert_eq!(end.id, "13");
        assert!(end.ok());
    }
}
