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
use super::usage;

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
    /// The experiment file of a merged experiment kept outside `--experiments` (repeatable): its
    /// tables are rewritten from it. A record holds its run's configuration but not the grid's
    /// axes or theory constants, so the tables need the file.
    #[arg(long = "spec", value_name = "FILE")]
    pub specs: Vec<PathBuf>,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let specs = load_specs(&args.specs)?;
    let plan = plan(&args.sources, &args.into, args.rtol)?;
    let merged: Vec<&str> = plan.experiments.iter().map(|(name, (store, _))| experiment_name(name, store)).collect();
    if let Some(spec) = specs.iter().find(|s| !merged.contains(&s.name.as_str())) {
        return Err(usage(format!(
            "--spec {}: experiment `{}` is not among the merged experiments ({}), so nothing was written",
            spec.path.display(),
            spec.name,
            merged.join(", ")
        )));
    }
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
            rewrite_tables(experiment_name(name, store), store, &specs, &args.experiments)?;
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

/// The name of the experiment stored in `store` (the directory's own name for a single
/// experiment's directory, whose plan is keyed by its path).
fn experiment_name<'a>(key: &'a str, store: &'a Store) -> &'a str {
    store.root().file_name().and_then(|n| n.to_str()).unwrap_or(key)
}

/// The experiment files of `--spec`, each loaded; two of one experiment are refused.
fn load_specs(paths: &[PathBuf]) -> anyhow::Result<Vec<Spec>> {
    let mut specs: Vec<Spec> = Vec::new();
    for path in paths {
        let spec = Spec::load(path, &[]).with_context(|| format!("--spec {}", path.display()))?;
        if let Some(other) = specs.iter().find(|s| s.name == spec.name) {
            return Err(usage(format!(
                "--spec {}: experiment `{}` is given twice (also by --spec {})",
                path.display(),
                spec.name,
                other.path.display()
            )));
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// Rewrites the tables of `experiment`, stored in `store`, from its experiment file: the
/// `--spec` of that name, else the file of that name in `dir`; says so when there is none.
fn rewrite_tables(experiment: &str, store: &Store, specs: &[Spec], dir: &Path) -> anyhow::Result<()> {
    let Some(spec) = specs.iter().find(|s| s.name == experiment).cloned().or_else(|| find_spec(dir, experiment)) else {
        outln!(
            "  tables not rewritten: no experiment file named {experiment} in {} and no --spec FILE of it (give the \
             file with --spec, or `linres run SPEC --results DIR --tables-only` writes them)",
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
