//! `linres clean`: remove an experiment's results, or only some of them.

use std::collections::HashSet;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use linres::export::tables::{FINGERPRINT_FILE, TABLE_FILES};
use linres::grid::Spec;
use linres::store::{Lookup, RecordStatus, Store};

use super::grid::{SET_HELP, open_store};
use super::out::outln;
use super::status::stale_ids;

#[derive(Args)]
#[command(
    about = "Delete an experiment's records, tables and leftover files, or only the selected kinds",
    after_help = "Without a selection flag, every record of the experiment (whatever its grid), its tables \
(runs.csv, summary.csv, summary.parquet, curves.parquet), its caches and the leftovers go. Selection flags combine (--failed --corrupt removes both kinds). Nothing is \
deleted while a `linres run` works on the same results (clean then exits 1 and says what it kept)."
)]
pub struct CleanArgs {
    /// The experiment file; its `name` selects `<results>/<name>/`.
    pub spec: PathBuf,
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE", help = SET_HELP)]
    pub set: Vec<String>,
    /// Only the records of failed runs.
    #[arg(long)]
    pub failed: bool,
    /// Only record files that do not read back as records (truncated, edited, not a regular file).
    #[arg(long)]
    pub corrupt: bool,
    /// Only the records of runs that are no longer in the grid (the file as it is now, with --set).
    #[arg(long)]
    pub stale: bool,
    /// Only the files left by interrupted processes (temporaries, claims no process holds).
    #[arg(long)]
    pub leftovers: bool,
    /// List what would be deleted, delete nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

/// Why a file is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Record,
    Failed,
    Corrupt,
    Stale,
    Table,
    Cache,
    Leftover,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Record => "record",
            Reason::Failed => "failed record",
            Reason::Corrupt => "corrupt record",
            Reason::Stale => "record of a run no longer in the grid",
            Reason::Table => "table",
            Reason::Cache => "cache (what linres knows of the records and tables, rebuilt as needed)",
            Reason::Leftover => "left by an interrupted process",
        }
    }

    fn counted(self) -> &'static str {
        match self {
            Reason::Record => "record(s)",
            Reason::Failed => "failed record(s)",
            Reason::Corrupt => "corrupt record(s)",
            Reason::Stale => "stale record(s)",
            Reason::Table => "table(s)",
            Reason::Cache => "cache file(s)",
            Reason::Leftover => "leftover file(s)",
        }
    }
}

pub fn run(args: CleanArgs) -> anyhow::Result<ExitCode> {
    let spec = Spec::load(&args.spec, &args.set)?;
    let store = open_store(&args.results, &spec.name)?;
    if !store.root().is_dir() {
        outln!("{}: nothing to clean in {}", spec.name, store.root().display());
        return Ok(ExitCode::SUCCESS);
    }
    // The lock comes before the listing, so that no `run` can write between the two.
    let lock = store.lock_for_clean().with_context(|| format!("locking {}", store.root().display()))?;
    let doomed = select(&args, &spec, &store)?;
    if args.dry_run {
        for (path, reason) in &doomed {
            outln!("would remove {} ({})", path.display(), reason.name());
        }
        outln!("{}: would remove {}; nothing deleted (--dry-run)", spec.name, tally(&doomed));
        if lock.is_none() {
            outln!("(a `linres run` is working on {} now: clean would delete nothing)", store.root().display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if lock.is_none() {
        bail!(
            "{} is in use by a running `linres run`: nothing deleted (kept {}); clean again once it has finished",
            store.root().display(),
            tally(&doomed)
        );
    }
    let mut removed = Vec::new();
    for (path, reason) in doomed {
        match fs::remove_file(&path) {
            Ok(()) => removed.push((path, reason)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
    // Shard directories left empty go too.
    if let Ok(entries) = fs::read_dir(store.runs_dir()) {
        for entry in entries.filter_map(Result::ok) {
            let _ = fs::remove_dir(entry.path()); // only an empty directory is removed
        }
    }
    outln!("{}: removed {} from {}", spec.name, tally(&removed), store.root().display());
    Ok(ExitCode::SUCCESS)
}

/// The files the flags select, each with the reason it goes.
fn select(args: &CleanArgs, spec: &Spec, store: &Store) -> anyhow::Result<Vec<(PathBuf, Reason)>> {
    let everything = !(args.failed || args.corrupt || args.stale || args.leftovers);
    let stale: HashSet<String> = if args.stale {
        let grid: HashSet<String> = spec.expand()?.iter().map(|r| r.run.id()).collect();
        stale_ids(store, &grid).into_iter().collect()
    } else {
        HashSet::new()
    };
    let mut doomed = Vec::new();
    // Every file of an id goes with it (a record of the flat layout its shard's record shadows too).
    let files = store.record_files();
    for (id, paths) in files.chunk_by(|a, b| a.0 == b.0).map(|c| (&c[0].0, c.iter().map(|(_, p)| p))) {
        let reason = if everything {
            Some(Reason::Record)
        } else if stale.contains(id) {
            Some(Reason::Stale)
        } else {
            match store.read(id) {
                Lookup::Unreadable(_) if args.corrupt => Some(Reason::Corrupt),
                Lookup::Found(r) if args.failed && r.status == RecordStatus::Failed => Some(Reason::Failed),
                _ => None,
            }
        };
        if let Some(reason) = reason {
            doomed.extend(paths.map(|p| (p.clone(), reason)));
        }
    }
    if everything {
        let tables = TABLE_FILES.iter().map(|t| store.root().join(t)).filter(|p| p.exists());
        doomed.extend(tables.map(|p| (p, Reason::Table)));
        let fingerprint = Some(store.root().join(FINGERPRINT_FILE)).filter(|p| p.exists());
        doomed.extend(store.index_files().into_iter().chain(fingerprint).map(|p| (p, Reason::Cache)));
    }
    if everything || args.leftovers {
        doomed.extend(store.leftovers().into_iter().map(|p| (p, Reason::Leftover)));
    }
    Ok(doomed)
}

/// "3 record(s), 2 table(s)": the number of files of each reason.
fn tally(files: &[(PathBuf, Reason)]) -> String {
    let reasons = [
        Reason::Record,
        Reason::Failed,
        Reason::Corrupt,
        Reason::Stale,
        Reason::Table,
        Reason::Cache,
        Reason::Leftover,
    ];
    let parts: Vec<String> = reasons
        .iter()
        .filter_map(|&r| {
            let n = files.iter().filter(|(_, x)| *x == r).count();
            (n > 0).then(|| format!("{n} {}", r.counted()))
        })
        .collect();
    if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
}
