//! What the results hold for each run of a grid, and the counts every command reports: one
//! definition for `list`, `status`, `slurm`, the report and the loaded experiment.

use super::{Lookup, Record, RecordStatus, Store};

/// What the results hold for a run.
#[derive(Debug, Clone)]
pub enum RunState {
    /// A result: done, or diverged at an iteration (cached like any other result). The record
    /// itself is the loaded experiment's (its rows), not kept twice.
    Result {
        diverged_at: Option<usize>,
    },
    /// The record of a run that failed (retried by the next `run`).
    Failed(Box<Record>),
    /// A file that is not a readable record of the run (truncated, edited, another run's): never
    /// a result; the next `run` recomputes it, `clean --corrupt` removes it.
    Corrupt(String),
    Missing,
}

impl RunState {
    /// The state a lookup of the run's record found.
    pub fn of(lookup: Lookup) -> RunState {
        match lookup {
            Lookup::Missing => RunState::Missing,
            Lookup::Unreadable(why) => RunState::Corrupt(why),
            Lookup::Found(record) if record.status == RecordStatus::Failed => RunState::Failed(record),
            Lookup::Found(record) => {
                RunState::Result { diverged_at: record.outcome.as_ref().and_then(|o| o.diverged_at) }
            }
        }
    }

    /// `cached`, `failed`, `corrupt` or `missing`.
    pub fn name(&self) -> &'static str {
        match self {
            RunState::Result { .. } => "cached",
            RunState::Failed(_) => "failed",
            RunState::Corrupt(_) => "corrupt",
            RunState::Missing => "missing",
        }
    }

    /// The status a table shows: `done`, `diverged`, `failed`, `corrupt` or `missing`.
    pub fn status(&self) -> &'static str {
        match self {
            RunState::Result { diverged_at: Some(_) } => "diverged",
            RunState::Result { diverged_at: None } => "done",
            other => other.name(),
        }
    }

    /// A note on the state: `done`, `diverged at N`, the error, or why the record is corrupt.
    pub fn note(&self) -> String {
        match self {
            RunState::Result { diverged_at: Some(t) } => format!("diverged at {t}"),
            RunState::Result { diverged_at: None } => "done".into(),
            RunState::Failed(r) => r.error.clone().unwrap_or_default(),
            RunState::Corrupt(why) => format!("unreadable record {why}"),
            RunState::Missing => String::new(),
        }
    }

    pub fn is_result(&self) -> bool {
        matches!(self, RunState::Result { .. })
    }
}

/// How many runs of a grid are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub runs: usize,
    /// Results (done or diverged).
    pub cached: usize,
    /// Results that diverged.
    pub diverged: usize,
    pub failed: usize,
    pub corrupt: usize,
    /// Without a record, and claimed by a live process (being computed).
    pub running: usize,
    /// Without a record and not being computed.
    pub missing: usize,
}

impl StateCounts {
    /// The counts of `states` (ids beside them), with a run without a record counted as running
    /// when `claimed(id)` says a live process holds its claim.
    pub fn of<'a>(
        states: impl IntoIterator<Item = (&'a str, &'a RunState)>,
        claimed: impl Fn(&str) -> bool,
    ) -> StateCounts {
        let mut c = StateCounts::default();
        for (id, state) in states {
            c.runs += 1;
            match state {
                RunState::Result { diverged_at } => {
                    c.cached += 1;
                    c.diverged += usize::from(diverged_at.is_some());
                }
                RunState::Failed(_) => c.failed += 1,
                RunState::Corrupt(_) => c.corrupt += 1,
                RunState::Missing if claimed(id) => c.running += 1,
                RunState::Missing => c.missing += 1,
            }
        }
        c
    }

    /// "36 runs: 30 cached (2 diverged), 1 failed, 0 running, 5 missing, 0 corrupt".
    pub fn text(&self) -> String {
        format!(
            "{} runs: {} cached ({} diverged), {} failed, {} running, {} missing, {} corrupt",
            self.runs, self.cached, self.diverged, self.failed, self.running, self.missing, self.corrupt
        )
    }
}

/// The record and claim files in `runs/` and its shards at one moment ([`Store::listing`]): a
/// command that looks at many runs at once makes no system call for a run that has no file.
#[derive(Debug, Default)]
pub struct Listing {
    /// Ids with a record file (`<id>.json`), in their shard or in the flat layout.
    records: std::collections::HashSet<Box<str>>,
    /// Ids with a claim file (`.<id>.lock`).
    claims: std::collections::HashSet<Box<str>>,
}

impl Listing {
    /// Files of these names, sorted into records and claims (other names are not runs' files).
    fn of(names: impl IntoIterator<Item = String>) -> Listing {
        let mut listing = Listing::default();
        for name in names {
            if let Some(id) = name.strip_suffix(".json") {
                listing.records.insert(id.into());
            } else if let Some(id) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".lock")) {
                listing.claims.insert(id.into());
            }
        }
        listing
    }

    /// Whether a record file of `id` was there (in its shard or in the flat layout).
    pub fn has_record(&self, id: &str) -> bool {
        self.records.contains(id)
    }

    /// Whether a claim file of `id` was there (held or not: [`Store::is_claimed`] tells).
    pub fn has_claim(&self, id: &str) -> bool {
        self.claims.contains(id)
    }
}

impl Store {
    /// The names of the files in `runs/` and its shard directories now (one `readdir` per
    /// directory).
    pub fn listing(&self) -> Listing {
        use rayon::prelude::*;
        let runs = self.runs_dir();
        let Ok(entries) = std::fs::read_dir(&runs) else { return Listing::default() };
        let mut names = Vec::new();
        let mut shards = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let Ok(name) = entry.file_name().into_string() else { continue };
            if super::is_shard_name(&name) && entry.file_type().is_ok_and(|t| t.is_dir()) {
                shards.push(entry.path());
            } else {
                names.push(name);
            }
        }
        let in_shards: Vec<Vec<String>> = shards
            .par_iter()
            .map(|dir| {
                std::fs::read_dir(dir)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .collect();
        Listing::of(names.into_iter().chain(in_shards.into_iter().flatten()))
    }

    /// What the results hold for each of `ids`, looked up in parallel; a run without a file in
    /// `listing` is missing without a system call.
    pub fn states(&self, listing: &Listing, ids: &[String]) -> Vec<RunState> {
        use rayon::prelude::*;
        ids.par_iter().map(|id| if listing.has_record(id) { self.state(id) } else { RunState::Missing }).collect()
    }

    /// What the results hold for run `id` (a record the index vouches for is not read again).
    pub fn state(&self, id: &str) -> RunState {
        match self.probe(id) {
            super::Probe::Missing => RunState::Missing,
            super::Probe::Result { diverged_at } => RunState::Result { diverged_at },
            super::Probe::Unreadable(why) => RunState::Corrupt(why),
            super::Probe::Failed => RunState::of(self.read(id)),
        }
    }
}
