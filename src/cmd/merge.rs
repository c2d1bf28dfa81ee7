//! `linres merge SRC… --into DST`: merge results directories copied back from other machines,
//! refusing records that disagree, then rewrite the tables of the experiments that changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use linres::cluster::compare::DEFAULT_RTOL;
use linres::cluster::merge::{ConflictKind, MergePlan, apply, plan};
use linres::error::ConfigError;
use linres::export::tables::update_tables;
use linres::grid::Spec;
use linres::store::Store;

use super::diff::parse_rtol;
use super::list::print_table;
use super::out::outln;

#[derive(Args)]
#[command(about = "Merge results directories (copy missing records, verify shared ones agree) and rewrite the tables")]
pub struct MergeArgs {
    /// Results directories (or single experiments' directories) to merge from.
    #[arg(required = true, value_name = "SRC")]
    pub sources: Vec<PathBuf>,
    /// The results directory to merge into (created if needed).
    #[arg(long, value_name = "DST")]
    pub into: PathBuf,
    /// Records of one run on both sides must agree to this relative tolerance (as `linres diff`).
    #[arg(long, value_name = "RTOL", default_value_t = DEFAULT_RTOL, value_parser = parse_rtol)]
    pub rtol: f64,
    /// Where the experiment files are (their tables are rewritten after the merge).
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    pub experiments: PathBuf,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let plan = plan(&args.sources, &args.into, args.rtol)?;
    if !plan.conflicts.is_empty() {
        print_conflicts(&plan);
        let corrupt = plan.conflicts.iter().filter(|c| c.kind == ConflictKind::Corrupt).count();
        let differ = plan.conflicts.len() - corrupt;
        let mut found = Vec::new();
        if corrupt > 0 {
            found.push(format!(
                "{corrupt} corrupt record(s) (a file that does not read back as a record of its run: the table says why; \
                 `linres clean --corrupt` removes them)"
            ));
        }
        if differ > 0 {
            found.push(format!(
                "{differ} difference(s) between records of the same run (rtol {:e}; records present on both sides must agree)",
                args.rtol
            ));
        }
        return Err(ConfigError::new("SRC, --into", format!("{}, so nothing was written", found.join(" and "))).into());
    }
    apply(&plan).with_context(|| format!("copying records into {}", args.into.display()))?;
    for (name, (store, exp)) in &plan.experiments {
        outln!(
            "{}: copied {} record(s) ({} replacing failed ones), {} already present and equal, {} failed record(s) not copied",
            store.root().display(),
            exp.copies.len(),
            exp.replacing_failed,
            exp.agreeing,
            exp.failures_skipped
        );
        if !exp.copies.is_empty() {
            rewrite_tables(name, store, &args.experiments)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_conflicts(plan: &MergePlan) {
    let mut rows = vec![
        ["experiment", "run", "conflict", "kept", "incoming", "kept from", "incoming from"].map(String::from).to_vec(),
    ];
    rows.extend(plan.conflicts.iter().map(|c| {
        vec![
            c.experiment.clone(),
            c.id.clone(),
            c.what.clone(),
            c.kept.clone(),
            c.incoming.clone(),
            c.kept_from.display().to_string(),
            c.incoming_from.display().to_string(),
        ]
    }));
    print_table(&rows);
}

/// Rewrites the tables of the experiment stored in `store` from the experiment file of that name
/// in `dir`; says so when there is none.
fn rewrite_tables(name: &str, store: &Store, dir: &Path) -> anyhow::Result<()> {
    let experiment = store.root().file_name().and_then(|n| n.to_str()).unwrap_or(name);
    let Some(spec) = find_spec(dir, experiment) else {
        outln!(
            "  tables not rewritten: no experiment file named {experiment} in {} (`linres run SPEC --results DIR --tables-only` writes them)",
            dir.display()
        );
        return Ok(());
    };
    let results = store.root().parent().map(Path::to_path_buf).unwrap_or_default();
    let grid = super::grid::GridArgs { spec: spec.path.clone(), set: Vec::new(), filters: Vec::new(), results };
    let grid = grid.load()?;
    let _lock = grid.store.lock_exports().context("locking the exports")?;
    let counts = update_tables(&grid.store, &grid.runs, &grid.axes, &grid.spec.theory).context("writing the tables")?;
    outln!("  tables rewritten from {}: {} runs, {} points", spec.path.display(), counts.runs, counts.points);
    Ok(())
}

/// The experiment file in `dir` whose experiment is called `name` (files that do not parse are skipped).
fn find_spec(dir: &Path, name: &str) -> Option<Spec> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files.into_iter().filter_map(|p| Spec::load(&p, &[]).ok()).find(|s| s.name == name)
}
