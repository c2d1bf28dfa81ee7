//! The pages of the report: the index, one page per experiment, one per run with a record (or, for
//! an experiment of more runs than `--run-pages` allows, a summary of its runs on its page).

use std::fmt::Write;
use std::path::Path;

use super::html::{flatten, href, key_values, num_cell, page, relative_url, text_cell};
use super::{ExperimentReport, GENERATOR, ReportError, RunPages, STYLE, curve};
use crate::escape::html_text as esc;
use crate::experiment::Row;
use crate::grid::FieldPath;
use crate::grid::check::{CheckOutcome, by_kind};
use crate::grid::quantity::{RunMeasure, TheoryQuantity};
use crate::measure::{Absence, Measured};
use crate::store::Record;
use crate::store::schema::param_columns;
use crate::store::state::RunState;

/// The measures of the runs table: (column, header, measure); the iterations' header names the
/// target.
fn run_columns(target: f64) -> [(&'static str, String, RunMeasure); 8] {
    let theory = |q: TheoryQuantity, head: &str| (q.name(), head.to_string(), RunMeasure::Theory(q));
    [
        ("final_rel_excess", "final rel. excess".into(), RunMeasure::FinalRelExcess),
        (
            "iters_to_target",
            format!("iterations to {}", crate::number::float_text(target)),
            RunMeasure::ItersToTarget { target },
        ),
        theory(TheoryQuantity::ZouMargin, "Zou margin"),
        theory(TheoryQuantity::ZouEtaOverBracket, "η / Zou bracket"),
        theory(TheoryQuantity::ZouRho, "ρ"),
        theory(TheoryQuantity::DuHuWidthRequired, "Du & Hu width"),
        theory(TheoryQuantity::Kappa, "κ"),
        ("seconds", "seconds".into(), RunMeasure::Seconds),
    ]
}

/// Writes the file `rel` (`/`-separated, relative to `dir`, its directory already made) with `text`.
fn write_file(dir: &Path, rel: &str, text: &str) -> Result<(), ReportError> {
    let path = dir.join(rel);
    std::fs::write(&path, text).map_err(|source| ReportError::Io { path, source })
}

/// Makes the directory `rel` of `dir` (and its parents).
fn make_dir(dir: &Path, rel: &str) -> Result<(), ReportError> {
    let path = dir.join(rel);
    std::fs::create_dir_all(&path).map_err(|source| ReportError::Io { path, source })
}

/// Writes every page into `dir`, links computed as if the site were at `site`; an experiment gets
/// its run pages when `run_pages` allows them for its number of runs, else a summary of its runs.
/// Returns the files written, relative to `dir` (`/`-separated), in grid order.
pub fn write_all(
    reports: &[ExperimentReport],
    dir: &Path,
    site: &Path,
    run_pages: RunPages,
) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    let site = lexical_absolute(site)?;
    make_dir(dir, "assets")?;
    for (rel, text) in [("assets/report.css", STYLE.to_string()), ("index.html", index(reports))] {
        write_file(dir, rel, &text)?;
        written.push(rel.to_string());
    }
    for r in reports {
        let name = &r.exp.spec.name;
        let store = lexical_absolute(r.exp.store.root())?;
        make_dir(dir, name)?;
        let runs = if run_pages.writes_pages(r.exp.grid.runs.len()) {
            RunsSection::Listed
        } else {
            RunsSection::Summarised { run_pages, tables: table_links(&site.join(name), &store) }
        };
        let rel = format!("{name}/index.html");
        write_file(dir, &rel, &experiment_page(r, &runs))?;
        written.push(rel);
        if runs == RunsSection::Listed {
            written.extend(write_run_pages(r, dir, &site, &store)?);
        }
    }
    Ok(written)
}

/// Writes the page of every run of `r` with a record (a result or a failure), in parallel, each
/// page a function of its run alone; returns their paths relative to `dir`, in grid order.
fn write_run_pages(r: &ExperimentReport, dir: &Path, site: &Path, store: &Path) -> Result<Vec<String>, ReportError> {
    use rayon::prelude::*;
    let name = &r.exp.spec.name;
    let runs_dir = site.join(name).join("runs");
    let records = crate::store::Store::at(store);
    let runs: Vec<_> = r.exp.runs().collect();
    if runs.iter().any(|(_, state, _)| matches!(state, RunState::Result { .. } | RunState::Failed(_))) {
        make_dir(dir, &format!("{name}/runs"))?;
    }
    let tables = [
        ("runs.csv (every logged point of the grid)", relative_url(&runs_dir, &store.join("runs.csv"))),
        ("summary.csv (one line per run)", relative_url(&runs_dir, &store.join("summary.csv"))),
    ];
    let pages: Vec<Option<String>> = runs
        .par_iter()
        .map(|&(run, state, row)| -> Result<Option<String>, ReportError> {
            let record = match (state, row) {
                (_, Some(row)) => &row.record,
                (RunState::Failed(record), None) => &**record,
                _ => return Ok(None),
            };
            let id = run.run.id();
            let record_url = relative_url(&runs_dir, &records.record_path(&id));
            let mut files = vec![("record (JSON)", record_url)];
            files.extend(tables.iter().cloned());
            let rel = format!("{name}/runs/{id}.html");
            write_file(dir, &rel, &run_page(r, run, record, row, &files))?;
            Ok(Some(rel))
        })
        .collect::<Result<_, ReportError>>()?;
    Ok(pages.into_iter().flatten().collect())
}

/// The tables of a results directory `store` that hold a row per run (or per logged point):
/// (file, what it holds, its URL from the experiment's page directory `page_dir`), those present.
fn table_links(page_dir: &Path, store: &Path) -> Vec<(&'static str, &'static str, String)> {
    [
        ("summary.csv", "one line per run: its grid values, state and measures"),
        ("summary.parquet", "the same rows with typed columns, for pandas, polars or DuckDB"),
        ("runs.csv", "every logged point of every run"),
        ("curves.parquet", "every logged point, typed"),
    ]
    .into_iter()
    .filter(|(file, _)| store.join(file).is_file())
    .map(|(file, what)| (file, what, relative_url(page_dir, &store.join(file))))
    .collect()
}

/// `path` made absolute, with `.` and `..` applied by name (as a browser resolves a relative URL).
fn lexical_absolute(path: &Path) -> Result<std::path::PathBuf, ReportError> {
    let absolute = std::path::absolute(path).map_err(|source| ReportError::Io { path: path.into(), source })?;
    let mut out = std::path::PathBuf::new();
    for c in absolute.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    Ok(out)
}

fn counts_text(r: &ExperimentReport) -> String {
    let c = r.exp.counts();
    let mut parts = vec![format!("{} runs", c.runs), format!("{} with a result", c.cached)];
    for (n, what) in [(c.diverged, "diverged"), (c.failed, "failed"), (c.corrupt, "corrupt"), (c.missing, "missing")] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

fn status_class(o: &CheckOutcome) -> String {
    o.status.label().to_lowercase()
}

/// The checks grouped by kind (claims, properties, findings), a heading and a table for each.
fn checks_by_kind(checks: &[&CheckOutcome], experiment: bool) -> String {
    by_kind(checks.iter().copied())
        .into_iter()
        .map(|(kind, group)| format!("<h3>{}</h3>\n{}", esc(kind.heading()), checks_table(&group, experiment)))
        .collect()
}

/// The checks as a table; with `experiment`, a first column naming (and linking) the experiment.
fn checks_table(checks: &[&CheckOutcome], experiment: bool) -> String {
    let mut s = String::from("<table class=\"checks\">\n<thead><tr>");
    if experiment {
        s.push_str("<th>experiment</th>");
    }
    s.push_str(
        "<th>check</th><th>status</th><th>claim</th><th>measured</th><th>threshold</th></tr></thead>\n<tbody>\n",
    );
    for o in checks {
        s.push_str("<tr>");
        if experiment {
            let _ = write!(
                s,
                "<td><a href=\"{}\">{}</a></td>",
                href(&[o.experiment.as_str(), "index.html"]),
                esc(&o.experiment)
            );
        }
        let _ = writeln!(
            s,
            "<td>{}</td><td class=\"status {}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&o.name),
            status_class(o),
            o.status.label(),
            esc(&o.claim),
            esc(&o.measured),
            esc(&o.threshold)
        );
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

fn index(reports: &[ExperimentReport]) -> String {
    let mut b = format!("{GENERATOR}\n<header><h1>linres report</h1>\n");
    b.push_str(
        "<p>Deep linear ResNets (Zou, Long &amp; Gu, ICLR 2020) and the deep linear network of Du &amp; Hu \
         (ICML 2019): every experiment, its figures, its checks and its runs, each run beside its theory.</p>\n\
         </header>\n<main>\n<h2>Experiments</h2>\n",
    );
    b.push_str(
        "<table class=\"experiments sortable\" id=\"experiments\">\n<thead><tr><th data-col=\"name\">experiment</th>\
         <th data-col=\"runs\">runs</th><th data-col=\"figures\">figures</th><th data-col=\"checks\">checks</th>\
         <th data-col=\"description\">description</th></tr></thead>\n<tbody>\n",
    );
    for r in reports {
        let name = esc(&r.exp.spec.name);
        let checks: Vec<String> = ["PASS", "FAIL", "INCOMPLETE", "FINDING"]
            .iter()
            .filter_map(|label| {
                let n = r.checks.iter().filter(|o| o.status.label() == *label).count();
                (n > 0).then(|| format!("<span class=\"status {}\">{n} {label}</span>", label.to_lowercase()))
            })
            .collect();
        let _ = writeln!(
            b,
            "<tr><td data-v=\"{name}\"><a href=\"{}\">{name}</a></td><td data-v=\"{}\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            href(&[r.exp.spec.name.as_str(), "index.html"]),
            r.exp.grid.runs.len(),
            esc(&counts_text(r)),
            r.figures.len(),
            r.figures.len(),
            checks.join(" "),
            esc(&r.description())
        );
    }
    b.push_str("</tbody>\n</table>\n<h2>Checks</h2>\n");
    let all: Vec<&CheckOutcome> = reports.iter().flat_map(|r| &r.checks).collect();
    if all.is_empty() {
        b.push_str("<p>No experiment declares checks.</p>\n");
    } else {
        b.push_str(&checks_by_kind(&all, true));
    }
    b.push_str(&footer());
    page("linres report", "", &b, true)
}

fn footer() -> String {
    format!(
        "</main>\n<footer>Written by <code>linres report</code> (linres {}). Sorting and filtering the tables \
         needs scripts; everything else reads without them.</footer>\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn breadcrumb(root: &str, experiment: Option<&str>) -> String {
    let mut s = format!("<nav><a href=\"{root}index.html\">report</a>");
    if let Some(name) = experiment {
        let _ = write!(s, " › <a href=\"{root}{}\">{}</a>", href(&[name, "index.html"]), esc(name));
    }
    s.push_str("</nav>\n");
    s
}

/// Where the experiment file is (its git repository's commit, not linres's), then the distinct
/// (linres build commit, dirty, BLAS, CPU) of the records, with how many runs each.
fn provenance_summary(r: &ExperimentReport) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for row in &r.exp.rows {
        let p = &row.record.provenance;
        let dirty = match p.git_dirty {
            Some(true) => " (dirty)",
            Some(false) => "",
            None => " (dirty: unknown)",
        };
        let key = format!("linres build commit {}{dirty} · {} · {}", p.git_commit, p.openblas_config, p.cpu);
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 += 1,
            None => seen.push((key, 1)),
        }
    }
    let mut s = format!("<p class=\"provenance source\">Experiment file: {}.</p>\n", esc(&r.source.text()));
    if seen.is_empty() {
        return s;
    }
    s.push_str("<ul class=\"provenance\">\n");
    for (key, n) in &seen {
        let _ = writeln!(s, "<li>{n} run{}: {}</li>", if *n == 1 { "" } else { "s" }, esc(key));
    }
    s.push_str("</ul>\n");
    if seen.len() > 1 {
        s.push_str(
            "<p class=\"note\">The runs come from different builds or kernels: their last digits may differ.</p>\n",
        );
    }
    s
}

/// What an experiment's page shows of its runs.
#[derive(Debug, PartialEq)]
enum RunsSection {
    /// A table of its runs, each linked to its page.
    Listed,
    /// A summary (more runs than `run_pages` allows), with the links to the tables that have a
    /// row per run.
    Summarised { run_pages: RunPages, tables: Vec<(&'static str, &'static str, String)> },
}

fn experiment_page(r: &ExperimentReport, runs: &RunsSection) -> String {
    let name = &r.exp.spec.name;
    let mut b = format!("<header>{}<h1>{}</h1>\n", breadcrumb("../", None), esc(name));
    let description = r.description();
    if !description.is_empty() {
        let _ = writeln!(b, "<p class=\"description\">{}</p>", esc(&description));
    }
    let _ = writeln!(b, "<p>{}.</p>\n</header>\n<main>", esc(&counts_text(r)));
    b.push_str(&provenance_summary(r));
    b.push_str("<h2 id=\"figures\">Figures</h2>\n");
    if r.figures.is_empty() {
        b.push_str("<p>This experiment declares no figures.</p>\n");
    }
    for (fig, title, svg) in &r.figures {
        let _ = writeln!(b, "<figure id=\"figure-{}\" aria-label=\"{}\">", esc(fig), esc(title));
        match svg {
            Ok(svg) => b.push_str(svg.trim_start_matches(|c| c != '<')),
            Err(why) => {
                let _ = write!(b, "<p class=\"error\">This figure could not be drawn: {}</p>", esc(why));
            }
        }
        let _ = writeln!(
            b,
            "\n<figcaption>figure <code>{}</code> (<code>linres plot</code> writes it as SVG, PNG, PDF and CSV)</figcaption>\n</figure>",
            esc(fig)
        );
    }
    b.push_str("<h2 id=\"checks\">Checks</h2>\n");
    if r.checks.is_empty() {
        b.push_str("<p>This experiment declares no checks.</p>\n");
    } else {
        b.push_str(&checks_by_kind(&r.checks.iter().collect::<Vec<_>>(), false));
    }
    b.push_str("<h2 id=\"runs\">Runs</h2>\n");
    match runs {
        RunsSection::Listed => b.push_str(&runs_table(r)),
        RunsSection::Summarised { run_pages, tables } => b.push_str(&runs_summary(r, *run_pages, tables)),
    }
    let _ = write!(b, "<h2 id=\"spec\">Experiment file</h2>\n<pre class=\"yaml\">{}</pre>\n", esc(&r.yaml));
    b.push_str(&footer());
    page(&format!("{name} · linres report"), "../", &b, true)
}

/// The grid fields that vary between the runs of `r` (the others are in the YAML), with the seed
/// when `seed`, in the order of the tables' parameter columns.
fn varying_fields(r: &ExperimentReport, seed: bool) -> Vec<FieldPath> {
    let runs = &r.exp.grid.runs;
    param_columns(&r.exp.axes)
        .into_iter()
        .map(FieldPath::new)
        .filter(|p| {
            if p.as_str() == "seed" {
                return seed;
            }
            let first = runs.first().map(|run| p.value_of(run));
            runs.iter().any(|run| Some(p.value_of(run)) != first)
        })
        .collect()
}

/// The cell of grid field `p` of `run`: a number cell sorts by its value.
fn field_cell(p: &FieldPath, run: &crate::grid::GridRun) -> String {
    let v = p.value_of(run);
    if v.number().is_some() {
        format!("<td class=\"num\" data-v=\"{0}\">{0}</td>", esc(v.text()))
    } else {
        text_cell(v.text())
    }
}

/// A filter box for the sortable table `table`, with the count of rows it shows.
fn filter_box(table: &str, example: &str) -> String {
    format!(
        "<p class=\"filter\"><label>Filter: <input type=\"search\" class=\"filter\" data-table=\"{table}\" \
         placeholder=\"text, or field=value (e.g. {example})\"></label> \
         <span class=\"shown\" data-table=\"{table}\"></span></p>\n"
    )
}

fn runs_table(r: &ExperimentReport) -> String {
    use rayon::prelude::*;
    let columns = run_columns(r.exp.spec.theory.target);
    let params = varying_fields(r, true);
    let mut s = filter_box("runs", "status=diverged model.depth=10");
    s.push_str(
        "<p class=\"note\">Grid fields that do not vary are left out of the table; the experiment file below has them.</p>\n\
         <noscript><p class=\"note\">Sorting and filtering need scripts; the table below is in grid order.</p></noscript>\n\
         <div class=\"scroll\"><table class=\"runs sortable\" id=\"runs\">\n<thead><tr><th data-col=\"id\">run</th>",
    );
    for p in &params {
        let _ = write!(s, "<th data-col=\"{0}\">{0}</th>", esc(p.as_str()));
    }
    s.push_str("<th data-col=\"status\">status</th><th data-col=\"engine\">engine</th>");
    for (col, head, _) in &columns {
        let _ = write!(s, "<th data-col=\"{col}\">{}</th>", esc(head));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    // Rows rendered in parallel, joined in grid order.
    let runs: Vec<_> = r.exp.runs().collect();
    let rows: Vec<String> = runs
        .par_iter()
        .map(|&(run, state, row)| {
            let id = run.run.id();
            let status = state.status();
            let mut s = if matches!(state, RunState::Result { .. } | RunState::Failed(_)) {
                format!("<tr><td data-v=\"{id}\"><a href=\"{}\">{id}</a></td>", href(&["runs", &format!("{id}.html")]))
            } else {
                format!("<tr><td data-v=\"{id}\">{id}</td>")
            };
            for p in &params {
                s.push_str(&field_cell(p, run));
            }
            let _ = write!(s, "<td class=\"status {status}\">{status}</td>");
            s.push_str(&text_cell(row.map_or("", |row| row.outcome().engine.name())));
            for (_, _, measure) in &columns {
                s.push_str(&num_cell(measure.of_run(row)));
            }
            s.push_str("</tr>\n");
            s
        })
        .collect();
    s.extend(rows);
    s.push_str("</tbody>\n</table></div>\n");
    s
}

/// The most grid points the summary of a large experiment lists, one row each.
const POINT_ROWS_LIMIT: usize = super::RUN_PAGES_LIMIT;

/// The runs of `r` summarised (an experiment of more runs than `run_pages` allows): why, the
/// count of runs in each state, the tables with a row per run, and a row per grid point (the runs
/// that differ only in their seed) with its counts and the spread of its final relative excess.
fn runs_summary(r: &ExperimentReport, run_pages: RunPages, tables: &[(&str, &str, String)]) -> String {
    let total = r.exp.grid.runs.len();
    let why = match run_pages {
        RunPages::AtMost(limit) => format!(
            "more than {limit}, the most for which the report writes a page and a table row per run \
             (<code>--run-pages {limit}</code>)"
        ),
        _ => "and the report was asked for no run pages (<code>--run-pages none</code>)".into(),
    };
    let mut s = format!(
        "<p class=\"note summarised\">This experiment has {total} runs, {why}: its runs are summarised here \
         (their count in each state, a row per grid point) rather than listed one by one, so that the report's \
         size and time do not grow with the runs. The tables below hold a row per run; \
         <code>linres report --run-pages all</code> writes a page per run.</p>\n"
    );
    let c = r.exp.counts();
    s.push_str(
        "<table class=\"states\" id=\"states\">\n<thead><tr><th>state</th><th>runs</th></tr></thead>\n<tbody>\n",
    );
    for (state, n) in [
        ("done", c.cached - c.diverged),
        ("diverged", c.diverged),
        ("failed", c.failed),
        ("corrupt", c.corrupt),
        ("missing", c.missing),
    ] {
        let _ =
            writeln!(s, "<tr><td class=\"status {state}\">{state}</td><td class=\"num\" data-v=\"{n}\">{n}</td></tr>");
    }
    let _ = writeln!(s, "<tr><td>all</td><td class=\"num\" data-v=\"{total}\">{total}</td></tr>\n</tbody>\n</table>");
    if tables.is_empty() {
        s.push_str(
            "<p class=\"note\">The results directory holds no table yet (<code>linres run</code> writes \
             summary.csv and summary.parquet).</p>\n",
        );
    } else {
        s.push_str("<ul class=\"files\">\n");
        for (file, what, url) in tables {
            let _ = writeln!(s, "<li><a href=\"{}\">{}</a>: {}</li>", esc(url), esc(file), esc(what));
        }
        s.push_str("</ul>\n");
    }
    s.push_str(&points_table(r));
    s
}

/// The runs of each grid point of `r` (the runs whose grid values differ only in the seed), the
/// points in the order of their first run in the grid, the runs in grid order.
fn grid_points(r: &ExperimentReport) -> Vec<Vec<(&crate::grid::GridRun, &RunState, Option<&Row>)>> {
    use rayon::prelude::*;
    let runs: Vec<_> = r.exp.runs().collect();
    let keys: Vec<String> = runs
        .par_iter()
        .map(|(run, _, _)| {
            let values: Vec<&serde_json::Value> =
                run.params.iter().filter(|(k, _)| k != "seed").map(|(_, v)| v).collect();
            serde_json::to_string(&values).unwrap_or_default()
        })
        .collect();
    let mut index = std::collections::HashMap::new();
    let mut points: Vec<Vec<_>> = Vec::new();
    for (key, run) in keys.into_iter().zip(runs) {
        let i = *index.entry(key).or_insert_with(|| {
            points.push(Vec::new());
            points.len() - 1
        });
        points[i].push(run);
    }
    points
}

/// A sortable table with a row per grid point: its grid values, its runs in each state and the
/// median, minimum and maximum final relative excess of its results; left out above
/// [`POINT_ROWS_LIMIT`] points.
fn points_table(r: &ExperimentReport) -> String {
    let points = grid_points(r);
    let mut s = String::from("<h3 id=\"grid-points\">Grid points</h3>\n");
    if points.len() > POINT_ROWS_LIMIT {
        let _ = writeln!(
            s,
            "<p class=\"note\">{} grid points: more than the {POINT_ROWS_LIMIT} rows this table may have; \
             summary.csv has every run.</p>",
            points.len()
        );
        return s;
    }
    let fields = varying_fields(r, false);
    s.push_str(&filter_box("points", "model.depth=10"));
    s.push_str(
        "<div class=\"scroll\"><table class=\"points sortable\" id=\"points\" data-rows=\"grid points\">\n<thead><tr>",
    );
    for p in &fields {
        let _ = write!(s, "<th data-col=\"{0}\">{0}</th>", esc(p.as_str()));
    }
    for (col, head) in [
        ("runs", "runs"),
        ("done", "done"),
        ("diverged", "diverged"),
        ("no_result", "no result"),
        ("final_rel_excess_median", "final rel. excess: median"),
        ("final_rel_excess_min", "min"),
        ("final_rel_excess_max", "max"),
    ] {
        let _ = write!(s, "<th data-col=\"{col}\">{head}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    let count = |n: usize| format!("<td class=\"num\" data-v=\"{n}\">{n}</td>");
    for point in &points {
        s.push_str("<tr>");
        for p in &fields {
            s.push_str(&field_cell(p, point[0].0));
        }
        let diverged =
            point.iter().filter(|(_, state, _)| matches!(state, RunState::Result { diverged_at: Some(_) })).count();
        let results: Vec<f64> = point
            .iter()
            .filter_map(|(_, _, row)| row.map(|row| RunMeasure::FinalRelExcess.of_run(Some(row)).number()))
            .collect();
        s.push_str(&count(point.len()));
        s.push_str(&count(results.len() - diverged));
        s.push_str(&count(diverged));
        s.push_str(&count(point.len() - results.len()));
        let spread = crate::measure::pool::Spread::of(&results);
        for v in [spread.map(|s| s.median), spread.map(|s| s.min), spread.map(|s| s.max)] {
            s.push_str(&num_cell(v.map_or(Measured::Absent(Absence::NoResult), Measured::Value)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

fn run_page(
    r: &ExperimentReport,
    run: &crate::grid::GridRun,
    record: &Record,
    row: Option<&Row>,
    files: &[(&str, String)],
) -> String {
    let name = &r.exp.spec.name;
    let id = run.run.id();
    let mut b = format!("<header>{}<h1>run {id}</h1>\n", breadcrumb("../../", Some(name)));
    let grid: Vec<String> =
        run.params.iter().map(|(k, _)| format!("{k} = {}", FieldPath::new(k.as_str()).value_of(run))).collect();
    let _ = writeln!(b, "<p class=\"grid\">{}</p>\n</header>\n<main>", esc(&grid.join(" · ")));
    match row {
        Some(row) => {
            let o = row.outcome();
            let t = &row.theory;
            let status = match o.diverged_at {
                Some(at) => format!("diverged at iteration {at} (the loss stopped being finite)"),
                None => format!("done: {} iterations", o.curve.last().map_or(0, |p| p.iter)),
            };
            let reduced = o.reduced_dim.map(|d| format!(", reduced dimension {d}")).unwrap_or_default();
            let _ = writeln!(
                b,
                "<p>{} · engine {}{reduced} · {} s</p>",
                esc(&status),
                o.engine.name(),
                crate::number::compact_text(row.record.seconds)
            );
            b.push_str("<h2>Curve and theory</h2>\n");
            b.push_str(&curve::svg(o, t));
            if let Some(z) = &t.zou {
                let _ = writeln!(
                    b,
                    "<p class=\"note\">{}</p>",
                    esc(if z.covered {
                        "Zou et al.'s GD theorem covers this run (margin ≥ 1 and η within the bracket): the measured \
                     curve must stay under its bound."
                    } else {
                        "Zou et al.'s GD theorem does not cover this run (margin below 1, η above the bracket, or SGD): \
                     its line is a reference, not a bound."
                    })
                );
            }
            b.push_str(&json_section("Theory report", "theory", t));
            b.push_str(&json_section("Seeds", "seeds", &o.seeds));
        }
        None => {
            let _ = writeln!(
                b,
                "<p class=\"error\">failed: {}</p>\n<p class=\"note\">The next <code>linres run</code> retries it.</p>",
                esc(record.error.as_deref().unwrap_or("(no message)"))
            );
        }
    }
    b.push_str(&json_section("Configuration", "config", &record.config));
    b.push_str(&provenance_section(r, record));
    b.push_str("<h2>Files</h2>\n<ul class=\"files\">\n");
    for (what, url) in files {
        let _ = writeln!(b, "<li><a href=\"{}\">{}</a></li>", esc(url), esc(what));
    }
    b.push_str("</ul>\n");
    b.push_str(&footer());
    page(&format!("run {id} · {name} · linres report"), "../../", &b, false)
}

/// The run's provenance: the record's (its `git_commit` labelled as linres's build commit, which
/// it is), then the experiment file's repository when the report was written.
fn provenance_section(r: &ExperimentReport, record: &Record) -> String {
    let mut pairs = Vec::new();
    flatten("", &serde_json::to_value(&record.provenance).unwrap_or_default(), &mut pairs);
    for (key, _) in &mut pairs {
        match key.as_str() {
            "git_commit" => *key = "linres build commit (git_commit)".into(),
            "git_dirty" => *key = "linres build dirty (git_dirty)".into(),
            _ => {}
        }
    }
    pairs.push(("experiment file (when the report was written)".into(), r.source.text()));
    format!("<h2>Provenance</h2>\n{}", key_values("provenance", &pairs))
}

/// A section `heading` listing every leaf of `value`'s JSON form as a key–value table.
fn json_section(heading: &str, class: &str, value: &impl serde::Serialize) -> String {
    let mut pairs = Vec::new();
    flatten("", &serde_json::to_value(value).unwrap_or_default(), &mut pairs);
    format!("<h2>{}</h2>\n{}", esc(heading), key_values(class, &pairs))
}
