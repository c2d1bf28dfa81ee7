//! The pages of the report: the index, one page per experiment, one per run with a record.

use std::fmt::Write;
use std::path::Path;

use super::html::{flatten, href, key_values, num_cell, page, relative_url, text_cell};
use super::{ExperimentReport, GENERATOR, ReportError, STYLE, curve};
use crate::escape::html_text as esc;
use crate::experiment::Row;
use crate::grid::FieldPath;
use crate::grid::check::{CheckOutcome, by_kind};
use crate::grid::quantity::{RunMeasure, TheoryQuantity};
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

/// Writes every page into `dir`, links computed as if the site were at `site`; returns the files
/// written, relative to `dir` (`/`-separated), in the order written.
pub fn write_all(reports: &[ExperimentReport], dir: &Path, site: &Path) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    let mut write = |rel: String, text: &str| -> Result<(), ReportError> {
        let path = dir.join(&rel);
        let io = |source| ReportError::Io { path: path.clone(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, text).map_err(io)?;
        written.push(rel);
        Ok(())
    };
    let site = lexical_absolute(site)?;
    write("assets/report.css".into(), STYLE)?;
    write("index.html".into(), &index(reports))?;
    for r in reports {
        let name = &r.exp.spec.name;
        write(format!("{name}/index.html"), &experiment_page(r))?;
        let store = lexical_absolute(r.exp.store.root())?;
        let runs_dir = site.join(name).join("runs");
        let records = crate::store::Store::at(&store);
        for (run, state, row) in r.exp.runs() {
            let id = run.run.id();
            let record = match (state, row) {
                (_, Some(row)) => &row.record,
                (RunState::Failed(record), None) => &**record,
                _ => continue,
            };
            let record_url = relative_url(&runs_dir, &records.record_path(&id));
            let tables_url = |file: &str| relative_url(&runs_dir, &store.join(file));
            let files = [
                ("record (JSON)", record_url),
                ("runs.csv (every logged point of the grid)", tables_url("runs.csv")),
                ("summary.csv (one line per run)", tables_url("summary.csv")),
            ];
            write(format!("{name}/runs/{id}.html"), &run_page(r, run, record, row, &files))?;
        }
    }
    Ok(written)
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

/// Distinct (commit, dirty, BLAS, CPU) of the records, with how many runs each.
fn provenance_summary(r: &ExperimentReport) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for row in &r.exp.rows {
        let p = &row.record.provenance;
        let dirty = match p.git_dirty {
            Some(true) => " (dirty)",
            Some(false) => "",
            None => " (dirty: unknown)",
        };
        let key = format!("commit {}{dirty} · {} · {}", p.git_commit, p.openblas_config, p.cpu);
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 += 1,
            None => seen.push((key, 1)),
        }
    }
    if seen.is_empty() {
        return String::new();
    }
    let mut s = String::from("<ul class=\"provenance\">\n");
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

fn experiment_page(r: &ExperimentReport) -> String {
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
    b.push_str(&runs_table(r));
    let _ = write!(b, "<h2 id=\"spec\">Experiment file</h2>\n<pre class=\"yaml\">{}</pre>\n", esc(&r.yaml));
    b.push_str(&footer());
    page(&format!("{name} · linres report"), "../", &b, true)
}

fn runs_table(r: &ExperimentReport) -> String {
    let columns = run_columns(r.exp.spec.theory.target);
    // The grid fields that vary (and the seed): the others are in the YAML below.
    let runs = &r.exp.grid.runs;
    let params: Vec<FieldPath> = param_columns(&r.exp.axes)
        .into_iter()
        .map(FieldPath::new)
        .filter(|p| {
            let first = runs.first().map(|run| p.value_of(run));
            p.as_str() == "seed" || runs.iter().any(|run| Some(p.value_of(run)) != first)
        })
        .collect();
    let mut s = String::from(
        "<p class=\"filter\"><label>Filter: <input type=\"search\" class=\"filter\" data-table=\"runs\" \
         placeholder=\"text, or field=value (e.g. status=diverged model.depth=10)\"></label> \
         <span class=\"shown\" data-table=\"runs\"></span></p>\n\
         <p class=\"note\">Grid fields that do not vary are left out of the table; the experiment file below has them.</p>\n\
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
    for (run, state, row) in r.exp.runs() {
        let id = run.run.id();
        let status = state.status();
        let linked = matches!(state, RunState::Result { .. } | RunState::Failed(_));
        if linked {
            let _ = write!(
                s,
                "<tr><td data-v=\"{id}\"><a href=\"{}\">{id}</a></td>",
                href(&["runs", &format!("{id}.html")])
            );
        } else {
            let _ = write!(s, "<tr><td data-v=\"{id}\">{id}</td>");
        }
        for p in &params {
            let v = p.value_of(run);
            if v.number().is_some() {
                let _ = write!(s, "<td class=\"num\" data-v=\"{0}\">{0}</td>", esc(v.text()));
            } else {
                s.push_str(&text_cell(v.text()));
            }
        }
        let _ = write!(s, "<td class=\"status {status}\">{status}</td>");
        s.push_str(&text_cell(row.map_or("", |row| row.outcome().engine.name())));
        for (_, _, measure) in &columns {
            s.push_str(&num_cell(measure.of_run(row)));
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
    b.push_str(&json_section("Provenance", "provenance", &record.provenance));
    b.push_str("<h2>Files</h2>\n<ul class=\"files\">\n");
    for (what, url) in files {
        let _ = writeln!(b, "<li><a href=\"{}\">{}</a></li>", esc(url), esc(what));
    }
    b.push_str("</ul>\n");
    b.push_str(&footer());
    page(&format!("run {id} · {name} · linres report"), "../../", &b, false)
}

/// A section `heading` listing every leaf of `value`'s JSON form as a key–value table.
fn json_section(heading: &str, class: &str, value: &impl serde::Serialize) -> String {
    let mut pairs = Vec::new();
    flatten("", &serde_json::to_value(value).unwrap_or_default(), &mut pairs);
    format!("<h2>{}</h2>\n{}", esc(heading), key_values(class, &pairs))
}
