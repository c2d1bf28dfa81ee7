//! The record of one run, as stored in `runs/<id>.json`.

use serde::{Deserialize, Serialize};

use crate::config::{RunConfig, TheoryConstants};
use crate::provenance::Provenance;
use crate::theory::{RunShape, TheoryReport};
use crate::train::{RunOutcome, Status};

/// Version of the record layout.
pub const FORMAT: u32 = 2;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Trained to the last iteration (or to `optim.stop_below`).
    Done,
    /// The loss became non-finite (a result, cached like any other).
    Diverged,
    /// An error or panic stopped the run (retried by the next `run`).
    Failed,
}

/// A stored run: the resolved config, what training produced (`done`, `diverged`) or the error
/// (`failed`), timing and provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub format: u32,
    pub id: String,
    pub status: RecordStatus,
    /// The resolved configuration (every default filled in).
    pub config: RunConfig,
    /// Seeds, engine, theory and curve (absent for failed runs).
    #[serde(flatten)]
    pub outcome: Option<RunOutcome>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Wall-clock seconds of the run (set-up and training).
    #[serde(with = "crate::json_float")]
    pub seconds: f64,
    pub provenance: Provenance,
}

impl Record {
    /// The record of a finished run.
    pub fn finished(
        id: String,
        config: RunConfig,
        outcome: RunOutcome,
        seconds: f64,
        provenance: Provenance,
    ) -> Record {
        let status = match outcome.status() {
            Status::Done => RecordStatus::Done,
            Status::Diverged => RecordStatus::Diverged,
        };
        Record { format: FORMAT, id, status, config, outcome: Some(outcome), error: None, seconds, provenance }
    }

    /// The record of a run that could not finish.
    pub fn failed(id: String, config: RunConfig, error: String, seconds: f64, provenance: Provenance) -> Record {
        Record {
            format: FORMAT,
            id,
            status: RecordStatus::Failed,
            config,
            outcome: None,
            error: Some(error),
            seconds,
            provenance,
        }
    }

    /// Parses and validates the record of run `id`. A result whose outcome does not parse reports
    /// why (serde's `flatten` into an `Option` would otherwise hide it).
    pub fn from_json(bytes: &[u8], id: &str) -> Result<Record, String> {
        let record: Record = serde_json::from_slice(bytes).map_err(|e| format!("not a record: {e}"))?;
        if record.outcome.is_none() && record.status != RecordStatus::Failed {
            let why = serde_json::from_slice::<RunOutcome>(bytes).err().map(|e| e.to_string()).unwrap_or_default();
            return Err(format!("a {:?} record without a readable outcome: {why}", record.status));
        }
        record.validate(id)?;
        Ok(record)
    }

    /// Checks that this is a complete record of run `id`: its `id` field is `id`, and so is the id
    /// its configuration hashes to (a record copied under another run's id, its `id` field edited,
    /// is not a result of that run).
    pub fn validate(&self, id: &str) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("record format {} (this linres reads {FORMAT})", self.format));
        }
        if self.id != id {
            return Err(format!("holds run {} instead of {id}", self.id));
        }
        let own = self.config.resolved_id();
        if own != id {
            return Err(format!(
                "its configuration is that of run {own}, not of {id} (a record copied or edited under another run's id)"
            ));
        }
        match (&self.outcome, self.status) {
            (None, RecordStatus::Failed) if self.error.is_some() => Ok(()),
            (Some(o), RecordStatus::Done) if o.status() == Status::Done && !o.curve.is_empty() => Ok(()),
            (Some(o), RecordStatus::Diverged) if o.status() == Status::Diverged => Ok(()),
            _ => Err(format!("status {:?} does not match its contents", self.status)),
        }
    }

    /// Every theory quantity of the run under `constants` (results only).
    pub fn theory(&self, constants: &TheoryConstants) -> Option<TheoryReport> {
        let o = self.outcome.as_ref()?;
        Some(TheoryReport::derive(&o.theory, RunShape::of(&self.config), constants))
    }

    /// What the record holds, as the index of validated records keeps it.
    pub fn summary(&self) -> super::Summary {
        super::Summary { status: self.status, diverged_at: self.outcome.as_ref().and_then(|o| o.diverged_at) }
    }

    /// Whether this record is a result that `run` keeps (done or diverged).
    pub fn is_result(&self) -> bool {
        self.status != RecordStatus::Failed
    }
}
