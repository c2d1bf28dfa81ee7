//! `linres clean`: remove an experiment's results (or only its failed records).

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use linres::export::tables::TABLE_FILES;
use linres::spec::Spec;
use linres::store::{Lookup, RecordStatus, Store};

#[derive(Args)]
#[command(about = "Delete an experiment's records, tables and temporary files (or only failed records)")]
pub struct CleanArgs {
    /// The experiment file; its `name` selects `results/<name>/`.
    pub spec: PathBuf,
    /// Only delete the records of failed runs.
    #[arg(long)]
    pub failed: bool,
    /// Directory holding the results.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

pub fn run(args: CleanArgs) -> anyhow::Result<ExitCode> {
    let spec = Spec::load(&args.spec, &[])?;
    let store = Store::new(&args.results, &spec.name);
    let mut removed = 0;
    for id in store.record_ids() {
        let failed = matches!(store.read(&id), Lookup::Found(r) if r.status == RecordStatus::Failed);
        if !args.failed || failed {
            store.remove(&id)?;
            removed += 1;
        }
    }
    if !args.failed {
        for tmp in store.leftovers() {
            fs::remove_file(tmp)?;
        }
        for table in TABLE_FILES {
            let _ = fs::remove_file(store.root().join(table));
        }
    }
    println!(
        "{}: removed {removed} {}record(s) from {}",
        spec.name,
        if args.failed { "failed " } else { "" },
        store.root().display()
    );
    Ok(ExitCode::SUCCESS)
}
