//! `linres report`: the static site, read as a reader would. Numbers in the runs table against the
//! records' curves; the same results give the same bytes; strings from input are text; the site
//! is written whole or not at all. With Debian's `chromium` installed, pages are loaded from
//! `file://` in a real headless browser: figures present, the checks with their statuses, sorting
//! by the URL fragment reorders the rows, filtering hides rows, no console errors, a hostile label
//! shown as text. Without chromium the browser tests say that they are skipped.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{dedent, linres, texts, tree};

/// Text that would retitle the page if it ever ran as a script.
const HOSTILE: &str = "<script>document.title='pwned'</script>";

/// Two step sizes (the larger diverges), two depths, two seeds; a figure and two checks, with the
/// hostile text in the description, a label and a claim.
fn spec() -> String {
    dedent(&format!(
        "# Steps that converge and one that diverges {HOSTILE}
         name: steps
         master_seed: 5
         seeds: 2
         data: {{kind: paper, d: 3, n: 20}}
         model: {{arch: resnet, depth: [2, 3], width: 8}}
         optim: {{method: gd, iters: 300, step: [{{rule: fixed, eta: 0.002}}, {{rule: fixed, eta: 0.004}}, {{rule: fixed, eta: 1000}}]}}
         log: {{schedule: all}}
         figures:
           - {{name: curves, kind: curves, title: Curves, facets: model.depth, series: optim.step.eta, labels: {{\"1000\": \"{HOSTILE}\"}}}}
         checks:
           - {{name: small_steps_converge, claim: \"small steps converge {HOSTILE}\", filter: {{optim.step.eta: [0.002, 0.004]}}, measure: final_rel_excess, over_seeds: max, test: {{each: {{at_most: 1.0e-6}}}}}}
           - {{name: all_converge, claim: every step converges, measure: final_rel_excess, over_seeds: max, test: {{each: {{at_most: 1.0e-3}}}}}}"
    ))
}

/// A directory with the experiment run and its report at `site/`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("steps.yaml"), spec()).unwrap();
    // A second experiment that was never run: every run missing, its check incomplete.
    let unrun = common::small_grid("unrun")
        + "checks:\n  - {name: c, claim: converges, measure: final_rel_excess, test: {each: {at_most: 1.0}}}\n";
    std::fs::write(dir.path().join("unrun.yaml"), unrun).unwrap();
    let o = linres(dir.path(), &["run", "-q", "steps.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let o = linres(dir.path(), &["report", "steps.yaml", "unrun.yaml", "--out", "site"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    dir
}

/// run id → final relative excess (∞ for a diverged run), from the records' curves.
fn final_excess_from_records(dir: &Path) -> BTreeMap<String, f64> {
    common::records_in(&dir.join("results/steps/runs"))
        .into_iter()
        .map(|(id, rec)| {
            let curve = rec["curve"].as_array().unwrap();
            let e0 = curve[0]["excess"].as_f64().unwrap();
            let last = curve.last().unwrap()["excess"].as_f64().unwrap();
            let value = if rec["diverged_at"].is_u64() { f64::INFINITY } else { last / e0 };
            (id, value)
        })
        .collect()
}

/// The cells of the runs table in `html`, row by row: column name → (data-v, text).
fn runs_rows(html: &str) -> Vec<BTreeMap<String, String>> {
    table_rows(html, "<table class=\"runs sortable\"")
}

/// The cells of the sortable table that starts with `start` in `html`, row by row: column name →
/// data-v (or text), and `hidden`.
fn table_rows(html: &str, start: &str) -> Vec<BTreeMap<String, String>> {
    let table = &html[html.find(start).expect("the table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let head = &table[..table.find("</thead>").unwrap()];
    let columns: Vec<String> =
        head.split("data-col=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect();
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td")
                .skip(1)
                .map(|cell| match cell.find("data-v=\"") {
                    Some(i) => cell[i + 8..][..cell[i + 8..].find('"').unwrap()].to_string(),
                    None => cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()].to_string(),
                })
                .collect();
            assert_eq!(cells.len(), columns.len(), "a cell per column in {row}");
            let hidden = row[..row.find('>').unwrap()].contains("hidden");
            let mut map: BTreeMap<String, String> = columns.iter().cloned().zip(cells).collect();
            map.insert("hidden".into(), hidden.to_string());
            map
        })
        .collect()
}

fn sort_value(v: &str) -> f64 {
    match v {
        "Infinity" => f64::INFINITY,
        other => other.parse().unwrap(),
    }
}

#[test]
fn the_runs_table_holds_the_records_numbers_and_every_run_has_a_page() {
    let dir = setup();
    let site = dir.path().join("site");
    let html = std::fs::read_to_string(site.join("steps/index.html")).unwrap();
    let want = final_excess_from_records(dir.path());
    let rows = runs_rows(&html);
    assert_eq!(rows.len(), 12, "3 steps × 2 depths × 2 seeds");
    for row in &rows {
        let id = &row["id"];
        let shown = sort_value(&row["final_rel_excess"]);
        let expected = want[id];
        assert!(
            shown == expected || (shown - expected).abs() <= 1e-12 * expected.abs(),
            "{id}: table {shown}, records {expected}"
        );
        let diverged = expected.is_infinite();
        assert_eq!(row["status"], if diverged { "diverged" } else { "done" });
        let page = std::fs::read_to_string(site.join(format!("steps/runs/{id}.html"))).unwrap();
        assert!(page.contains("<svg class=\"run-curve\""), "{id}: the run's curve is drawn");
        assert!(page.contains("linearised rate"), "{id}: beside its linearised rate");
        assert_eq!(page.contains("✗ diverged at t = "), diverged, "{id}: the divergence is marked");
        // The record link resolves from the page's directory to the record itself.
        let href = page.split("<li><a href=\"").nth(1).unwrap();
        let href = &href[..href.find('"').unwrap()];
        let target = site.join("steps/runs").join(href);
        assert_eq!(
            target.canonicalize().unwrap(),
            common::record_file(&dir.path().join("results/steps/runs"), id).canonicalize().unwrap()
        );
    }
    let unrun = std::fs::read_to_string(site.join("unrun/index.html")).unwrap();
    assert!(runs_rows(&unrun).iter().all(|r| r["status"] == "missing"), "runs without a record are missing");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    for (name, status) in [("small_steps_converge", "PASS"), ("all_converge", "FAIL"), ("c", "INCOMPLETE")] {
        let row = index.split("<tr>").find(|r| r.contains(&format!("<td>{name}</td>"))).expect(name);
        assert!(row.contains(&format!(">{status}</td>")), "{name} is {status}: {row}");
    }
}

#[test]
fn the_site_is_deterministic_escapes_input_and_replaces_only_a_report() {
    let dir = setup();
    let o = linres(dir.path(), &["report", "steps.yaml", "unrun.yaml", "--out", "again"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let (a, b) = (tree(&dir.path().join("site")), tree(&dir.path().join("again")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{} differs between two reports of the same results", path.display());
    }
    for (path, bytes) in &a {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(HOSTILE), "{}: input text reached the page unescaped", path.display());
    }
    let page = String::from_utf8_lossy(&a[Path::new("steps/index.html")]).into_owned();
    assert!(page.contains("&lt;script&gt;document.title="), "the hostile text is shown, escaped");
    // Rebuilding over a report replaces it; a directory that is not a report is refused, untouched.
    let o = linres(dir.path(), &["report", "steps.yaml", "--out", "site"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    assert!(!dir.path().join("site/unrun").exists(), "the new report replaced the old one whole");
    std::fs::create_dir(dir.path().join("precious")).unwrap();
    std::fs::write(dir.path().join("precious/data.txt"), "keep").unwrap();
    let o = linres(dir.path(), &["report", "steps.yaml", "--out", "precious"]);
    assert_eq!(o.status.code(), Some(2), "{}", texts(&o).1);
    assert!(texts(&o).1.contains("is not a linres report"), "{}", texts(&o).1);
    assert_eq!(std::fs::read_to_string(dir.path().join("precious/data.txt")).unwrap(), "keep");
    assert_eq!(std::fs::read_dir(dir.path().join("precious")).unwrap().count(), 1);
    // A bad experiment file: exit 2, and no site, no staging directory.
    std::fs::write(dir.path().join("bad.yaml"), "name: bad\nmodel: {depth: -1}\n").unwrap();
    let o = linres(dir.path(), &["report", "steps.yaml", "bad.yaml", "--out", "none"]);
    assert_eq!(o.status.code(), Some(2), "{}", texts(&o).1);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().contains("none")), "nothing written: {left:?}");
}

/// The DOM after scripts ran, and the console messages, of `url`.
fn dump_dom(browser: &str, url: &str) -> (String, Vec<String>) {
    dump_dom_with(browser, url, &[])
}

/// [`dump_dom`] with more chromium flags.
fn dump_dom_with(browser: &str, url: &str, flags: &[&str]) -> (String, Vec<String>) {
    let o = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(flags)
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium failed on {url}: {}", String::from_utf8_lossy(&o.stderr));
    let console =
        String::from_utf8_lossy(&o.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(String::from).collect();
    (String::from_utf8_lossy(&o.stdout).into_owned(), console)
}

#[test]
fn in_a_browser_figures_render_sorting_and_filtering_work_and_nothing_runs_from_input() {
    let Some(browser) = common::outside(common::Tool::Chromium) else { return };
    let dir = setup();
    let site = dir.path().join("site").canonicalize().unwrap();
    let url = |page: &str| format!("file://{}/{page}", site.display());
    for (page, title) in [
        ("index.html", "linres report"),
        ("steps/index.html", "steps · linres report"),
        ("unrun/index.html", "unrun · linres report"),
    ] {
        let (dom, console) = dump_dom(browser, &url(page));
        assert!(console.is_empty(), "{page}: console messages {console:?}");
        assert!(
            dom.contains("data-js=\"ready\"") && !dom.contains("data-js-error="),
            "{page}: the script ran to its end"
        );
        assert!(
            dom.contains(&format!("<title>{title}</title>")),
            "{page}: no input text ran as a script (it would retitle the page)"
        );
    }
    // Sorting by the URL fragment: descending final relative excess, diverged (∞) first.
    let (dom, _) = dump_dom(browser, &url("steps/index.html#sort=-final_rel_excess"));
    assert!(dom.contains("<title>steps · linres report</title>"));
    assert!(
        dom.matches("<figure id=\"figure-curves\"").count() == 1 && dom.contains("<svg width="),
        "the figure is inline"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "the hostile label is text in the legend"
    );
    let rows = runs_rows(&dom);
    let values: Vec<f64> = rows.iter().map(|r| sort_value(&r["final_rel_excess"])).collect();
    let mut want = values.clone();
    want.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(values, want, "rows in descending order of final relative excess");
    let grid_order: Vec<f64> = runs_rows(&std::fs::read_to_string(site.join("steps/index.html")).unwrap())
        .iter()
        .map(|r| sort_value(&r["final_rel_excess"]))
        .collect();
    assert_ne!(values, grid_order, "sorting moved rows");
    // Ascending by depth, then filtered to the diverged runs.
    let (dom, _) = dump_dom(browser, &url("steps/index.html#sort=model.depth&filter=status=diverged"));
    let rows = runs_rows(&dom);
    let depths: Vec<f64> = rows.iter().map(|r| sort_value(&r["model.depth"])).collect();
    assert!(depths.windows(2).all(|w| w[0] <= w[1]), "ascending depth: {depths:?}");
    let shown: Vec<_> = rows.iter().filter(|r| r["hidden"] == "false").collect();
    assert_eq!(shown.len(), 4, "eta = 1000 diverges at both depths and both seeds");
    assert!(shown.iter().all(|r| r["status"] == "diverged"));
    assert!(dom.contains("4 of 12 runs shown"));
    // The index: the checks table with their statuses after scripts ran.
    let (dom, _) = dump_dom(browser, &url("index.html"));
    for (name, status) in
        [("small_steps_converge", "pass\">PASS"), ("all_converge", "fail\">FAIL"), ("c", "incomplete\">INCOMPLETE")]
    {
        let row = dom.split("<tr>").find(|r| r.contains(&format!("<td>{name}</td>"))).expect(name);
        assert!(row.contains(status), "{name}: {row}");
    }
}

/// `text` with its `%XX` escapes decoded, byte for byte.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Every `href` of `html`, its attribute value unescaped.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&"))
        .collect()
}

#[test]
fn every_link_is_a_percent_encoded_relative_url_to_the_right_file_whatever_the_results_path() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("steps.yaml"), spec()).unwrap();
    for results in ["javascript:alert(1)", "res ?a=1#top %41 'q\" κ/sub dir"] {
        let o = linres(dir.path(), &["run", "-q", "steps.yaml", "--results", results]);
        assert!(o.status.success(), "{}", texts(&o).1);
        let site = dir.path().join("site");
        let o = linres(dir.path(), &["report", "steps.yaml", "--results", results, "--out", "site"]);
        assert!(o.status.success(), "{}", texts(&o).1);
        let mut record_links = 0;
        for (page, bytes) in tree(&site) {
            if page.extension().is_none_or(|x| x != "html") {
                continue;
            }
            let html = String::from_utf8(bytes).unwrap();
            for href in hrefs(&html) {
                let segments_ok = href.split('/').all(|s| {
                    !s.is_empty()
                        && s.split('%').enumerate().all(|(i, part)| {
                            let (hex, rest) = if i == 0 { ("", part) } else { part.split_at(2.min(part.len())) };
                            (i == 0 || (hex.len() == 2 && hex.chars().all(|c| c.is_ascii_hexdigit())))
                                && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
                        })
                });
                assert!(segments_ok, "{}: {href:?} is not a relative URL of percent-encoded segments", page.display());
                let target =
                    site.join(page.parent().unwrap()).join(std::ffi::OsStr::from_bytes(&percent_decode(&href)));
                assert!(
                    target.exists(),
                    "{}: {href:?} resolves to {}, which is missing",
                    page.display(),
                    target.display()
                );
                if href.ends_with(".json") {
                    record_links += 1;
                    let id = page.file_stem().unwrap().to_str().unwrap();
                    let record = common::record_file(&dir.path().join(results).join("steps/runs"), id);
                    assert_eq!(target.canonicalize().unwrap(), record.canonicalize().unwrap(), "{href}");
                }
            }
        }
        assert_eq!(record_links, 12, "every run page links its record");
    }
}

/// An experiment named `report` had its results where the report went by default; and a report
/// whose directory holds the results it reads was replaced with them. Either way the results must
/// survive byte for byte.
#[test]
fn a_report_never_replaces_or_overlaps_the_results_it_reads() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("report.yaml"), common::small_grid("report")).unwrap();
    // A report first, then the experiment `report`, then the report again (the default --out).
    let o = linres(d, &["report", "steps.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let o = linres(d, &["run", "-q", "report.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let results = tree(&d.join("results/report"));
    assert!(results.keys().any(|p| p.starts_with("runs")), "{results:?}");
    let o = linres(d, &["report", "steps.yaml", "report.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    assert_eq!(tree(&d.join("results/report")), results, "the experiment's results are untouched");
    assert!(d.join("report/report/index.html").exists(), "the experiment has its page in the report");
    // An --out inside, around or equal to a results directory is refused, naming both.
    for (out, relation) in [("results", "is"), ("results/report", "lies inside"), (".", "contains")] {
        let o = linres(d, &["report", "steps.yaml", "report.yaml", "--out", out]);
        let err = texts(&o).1;
        assert_eq!(o.status.code(), Some(2), "--out {out}: {err}");
        assert!(err.contains(&format!("--out {out}: {relation} the results directory")), "{err}");
    }
    assert_eq!(tree(&d.join("results/report")), results);

    // An earlier report at `site`; results put inside it; a report of them over it is refused.
    let o = linres(d, &["run", "-q", "steps.yaml", "--results", "site/res"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let inside = tree(&d.join("site/res"));
    let o = linres(d, &["report", "steps.yaml", "--results", "site/res", "--out", "site"]);
    let err = texts(&o).1;
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--out site: contains the results directory site/res"), "{err}");
    assert_eq!(tree(&d.join("site/res")), inside, "the results inside the old report survive byte for byte");
    // Through a symbolic link too.
    std::os::unix::fs::symlink(d.join("site"), d.join("alias")).unwrap();
    let o = linres(d, &["report", "steps.yaml", "--results", "alias/res", "--out", "site"]);
    assert_eq!(o.status.code(), Some(2), "{}", texts(&o).1);
    assert_eq!(tree(&d.join("site/res")), inside);
}

#[test]
fn replacing_a_report_removes_only_the_files_that_report_wrote() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("site/notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(d.join("site/unrun/extra")).unwrap();
    std::fs::write(d.join("site/unrun/extra/data.csv"), "1,2\n").unwrap();
    let before = tree(&d.join("site"));
    assert!(before.contains_key(Path::new("unrun/index.html")));
    let o = linres(d, &["report", "steps.yaml", "--out", "site"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let after = tree(&d.join("site"));
    assert_eq!(after[Path::new("notes.txt")], b"mine", "a file the report did not write stays");
    assert_eq!(after[Path::new("unrun/extra/data.csv")], b"1,2\n");
    assert!(!after.contains_key(Path::new("unrun/index.html")), "a page of the old report that the new one lacks goes");
    let manifest = String::from_utf8(after[Path::new(".linres-report")].clone()).unwrap();
    let listed: Vec<&str> = manifest.lines().collect();
    assert!(listed.contains(&"index.html") && listed.contains(&"steps/index.html"), "{manifest}");
    assert!(!listed.contains(&"notes.txt"));
    for file in &listed {
        assert!(after.contains_key(Path::new(file)), "{file} is listed and present");
    }
}

#[test]
fn an_out_that_is_a_file_is_named_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("steps.yaml"), spec()).unwrap();
    std::fs::write(dir.path().join("page.html"), "mine").unwrap();
    let o = linres(dir.path(), &["report", "steps.yaml", "--out", "page.html"]);
    let err = texts(&o).1;
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--out page.html: is a file, not a directory"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("page.html")).unwrap(), b"mine");
}

/// The page of the experiment `steps` with `fragment`, in an 800×500 frame: (the frame's vertical
/// scroll, the top of the runs table's filter box in the frame's window), in CSS pixels.
fn scroll_of(browser: &str, site: &Path, fragment: &str) -> (f64, f64) {
    let frame = format!(
        "<!DOCTYPE html><html><body><iframe id=\"f\" style=\"width:800px;height:500px\" \
         src=\"steps/index.html{fragment}\"></iframe><script>\n\
         var f = document.getElementById('f');\n\
         f.addEventListener('load', function () {{\n\
           var w = f.contentWindow;\n\
           var box = w.document.querySelector('input.filter[data-table=\"runs\"]');\n\
           document.body.setAttribute('data-scroll', String(w.scrollY));\n\
           document.body.setAttribute('data-top', String(box.getBoundingClientRect().top));\n\
         }});\n</script></body></html>\n"
    );
    std::fs::write(site.join("frame.html"), frame).unwrap();
    let url = format!("file://{}/frame.html", site.display());
    let (dom, _) = dump_dom_with(browser, &url, &["--allow-file-access-from-files", "--virtual-time-budget=5000"]);
    let attribute = |name: &str| -> f64 {
        let at = dom.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("{name} in {dom}"));
        let rest = &dom[at + name.len() + 2..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    (attribute("data-scroll"), attribute("data-top"))
}

/// A link shared as `#sort=…&filter=…` sorted and filtered the table far below the figures and
/// left the window at the top of the page (issue 24 item 9).
#[test]
fn in_a_browser_a_sorting_or_filtering_fragment_brings_the_runs_table_into_view() {
    let Some(browser) = common::outside(common::Tool::Chromium) else { return };
    let dir = setup();
    let site = dir.path().join("site").canonicalize().unwrap();
    let (scroll, top) = scroll_of(browser, &site, "");
    assert!(
        scroll == 0.0 && top > 500.0,
        "without a fragment the page opens at its top, the table below: {scroll} {top}"
    );
    for fragment in ["#sort=model.depth&filter=status=diverged", "#sort=-final_rel_excess", "#filter=done"] {
        let (scroll, top) = scroll_of(browser, &site, fragment);
        assert!(scroll > 0.0 && (0.0..100.0).contains(&top), "{fragment}: scrolled {scroll}, filter box at {top}");
    }
}

/// The records' states as `list --json` and the records give them: id → (grid values without the
/// seed, state as the report names it: done, diverged, corrupt, missing).
fn listed_states(dir: &Path, excess: &BTreeMap<String, f64>) -> BTreeMap<String, (String, String)> {
    let o = linres(dir, &["list", "steps.yaml", "--json"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    listed
        .iter()
        .map(|run| {
            let id = run["id"].as_str().unwrap().to_string();
            let mut params = run["params"].as_object().unwrap().clone();
            params.remove("seed");
            let state = match run["status"].as_str().unwrap() {
                "cached" if excess[&id].is_infinite() => "diverged".to_string(),
                "cached" => "done".to_string(),
                other => other.to_string(),
            };
            (id, (serde_json::Value::Object(params).to_string(), state))
        })
        .collect()
}

/// An experiment with more runs than `--run-pages` allows: no run page, no runs table; its page
/// says why it summarises, counts the runs in each state and each grid point's runs as `list
/// --json` and the records do, with the median final relative excess of the records, and links
/// the tables with a row per run. At the limit, and with `all`, run pages as before.
#[test]
fn above_the_run_pages_limit_the_page_summarises_its_runs_with_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("steps.yaml"), spec()).unwrap();
    let o = linres(d, &["run", "-q", "steps.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let excess = final_excess_from_records(d);
    // One record corrupt, one missing: runs in four states.
    let runs_dir = d.join("results/steps/runs");
    let ids: Vec<&String> = excess.keys().collect();
    std::fs::write(common::record_file(&runs_dir, ids[0]), "{ not a record").unwrap();
    std::fs::remove_file(common::record_file(&runs_dir, ids[1])).unwrap();
    let states = listed_states(d, &excess);
    let o = linres(d, &["report", "steps.yaml", "--run-pages", "5", "--out", "site"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let site = d.join("site");
    assert!(!site.join("steps/runs").exists(), "no run page");
    let manifest = std::fs::read_to_string(site.join(".linres-report")).unwrap();
    assert!(!manifest.contains("steps/runs/"), "{manifest}");
    let html = std::fs::read_to_string(site.join("steps/index.html")).unwrap();
    assert!(!html.contains("<table class=\"runs sortable\""), "no table of the runs");
    assert!(
        html.contains("This experiment has 12 runs, more than 5,") && html.contains("its runs are summarised here"),
        "the page says that and why it summarises"
    );
    for state in ["done", "diverged", "corrupt", "missing", "failed"] {
        let want = states.values().filter(|(_, s)| s == state).count();
        let cell = format!("<td class=\"status {state}\">{state}</td><td class=\"num\" data-v=\"{want}\">");
        assert!(html.contains(&cell), "{want} {state}: {cell}");
    }
    // A row per grid point: (runs, done, diverged, no result, median final relative excess).
    let mut points: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, (point, _)) in &states {
        points.entry(point).or_default().push(id);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => v[n / 2],
            _ if v[n / 2 - 1] == v[n / 2] => v[n / 2],
            _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
        }
    };
    let mut want: Vec<(usize, usize, usize, usize, f64)> = points
        .values()
        .map(|ids| {
            let count = |s: &str| ids.iter().filter(|id| states[**id].1 == s).count();
            let mut finals: Vec<f64> = ids
                .iter()
                .filter(|id| ["done", "diverged"].contains(&states[**id].1.as_str()))
                .map(|id| excess[*id])
                .collect();
            let (done, diverged) = (count("done"), count("diverged"));
            (ids.len(), done, diverged, ids.len() - done - diverged, median(&mut finals))
        })
        .collect();
    let number = |v: &str| match v {
        "Infinity" => f64::INFINITY,
        "NaN" => f64::NAN,
        v => v.parse::<f64>().unwrap(),
    };
    let mut shown: Vec<(usize, usize, usize, usize, f64)> = table_rows(&html, "<table class=\"points sortable\"")
        .iter()
        .map(|r| {
            let n = |c: &str| r[c].parse::<usize>().unwrap();
            (n("runs"), n("done"), n("diverged"), n("no_result"), number(&r["final_rel_excess_median"]))
        })
        .collect();
    let key = |a: &(usize, usize, usize, usize, f64)| (a.0, a.1, a.2, a.3, a.4.to_bits());
    for v in [&mut want, &mut shown] {
        v.sort_by_key(key);
    }
    assert_eq!(shown.len(), 6, "3 steps × 2 depths");
    for (s, w) in shown.iter().zip(&want) {
        assert_eq!((s.0, s.1, s.2, s.3), (w.0, w.1, w.2, w.3), "{shown:?} against {want:?}");
        assert!(
            s.4 == w.4 || (s.4 - w.4).abs() <= 1e-12 * w.4.abs() || (s.4.is_nan() && w.4.is_nan()),
            "median {} against {}",
            s.4,
            w.4
        );
    }
    // The tables with a row per run, linked.
    let link = html.split("<a href=\"").find(|l| l.contains(">summary.csv</a>")).expect("summary.csv linked");
    let target = site.join("steps").join(&link[..link.find('"').unwrap()]);
    assert_eq!(target.canonicalize().unwrap(), d.join("results/steps/summary.csv").canonicalize().unwrap());
    // At the limit, and with `all`, every run with a record has its page; `none` summarises.
    for (pages, listed) in [("10", false), ("all", true), ("none", false), ("12", true)] {
        let o = linres(d, &["report", "steps.yaml", "--run-pages", pages, "--out", "site"]);
        assert!(o.status.success(), "{}", texts(&o).1);
        let html = std::fs::read_to_string(site.join("steps/index.html")).unwrap();
        assert_eq!(html.contains("<table class=\"runs sortable\""), listed, "--run-pages {pages}");
        assert_eq!(site.join("steps/runs").exists(), listed, "--run-pages {pages}");
    }
    let o = linres(d, &["report", "steps.yaml", "--run-pages", "lots", "--out", "site"]);
    let err = texts(&o).1;
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--run-pages") && err.contains("expected `all`, `none` or a number of runs"), "{err}");
}

/// Run pages and rows are rendered in parallel: the site's bytes do not depend on the number of
/// threads, listed or summarised.
#[test]
fn the_report_has_the_same_bytes_for_any_number_of_threads() {
    let dir = setup();
    let d = dir.path();
    for pages in ["all", "none"] {
        let sites: Vec<_> = ["1", "3"]
            .iter()
            .map(|threads| {
                let out = format!("site-{pages}-{threads}");
                let o = Command::new(env!("CARGO_BIN_EXE_linres"))
                    .current_dir(d)
                    .env("RAYON_NUM_THREADS", threads)
                    .args(["report", "steps.yaml", "unrun.yaml", "--run-pages", pages, "--out", &out])
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", texts(&o).1);
                tree(&d.join(out))
            })
            .collect();
        assert!(sites[0] == sites[1], "--run-pages {pages}: the bytes differ between 1 and 3 threads");
        assert_eq!(sites[0].keys().any(|p| p.starts_with("steps/runs")), pages == "all");
    }
}

/// A run of a tiny step: ρ ≈ 1e-6, and q = 1 − ρ printed to 4 digits read "q = 1" (issue 24
/// item 9). ρ is printed with its digits, as `summary.csv` has it.
#[test]
fn a_run_page_prints_a_tiny_rho_with_its_digits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = "name: slow\nmaster_seed: 3\nseeds: 1\ndata: {kind: paper, d: 3, n: 20}\n\
                model: {arch: resnet, depth: 2, width: 8}\noptim: {method: gd, iters: 5, step: {rule: fixed, eta: 1.0e-6}}\n";
    std::fs::write(d.join("slow.yaml"), yaml).unwrap();
    for args in [&["run", "-q", "slow.yaml"][..], &["report", "slow.yaml", "--out", "site"]] {
        let o = linres(d, args);
        assert!(o.status.success(), "{}", texts(&o).1);
    }
    let summary = std::fs::read_to_string(d.join("results/slow/summary.csv")).unwrap();
    let mut lines = summary.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| row[head.iter().position(|h| *h == name).unwrap()];
    let rho: f64 = cell("zou_rho").parse().unwrap();
    assert!(rho > 0.0 && rho < 1e-4, "a tiny ρ: {rho}");
    let page = std::fs::read_to_string(d.join(format!("site/slow/runs/{}.html", cell("id")))).unwrap();
    let shown = page.split("Zou et al. bound (1 − ρ)^t, ρ = ").nth(1).expect("ρ in the legend");
    let shown: f64 = shown[..shown.find('<').unwrap()].parse().unwrap();
    assert!((shown - rho).abs() <= 5e-4 * rho, "legend ρ = {shown}, summary.csv {rho}");
    assert!(!page.contains("q = 1<"), "no factor shown as 1");
}

/// The report's provenance called linres's own build commit "commit", as if it were the
/// experiment's (issue 24 item 9): it is labelled as linres's, and the experiment file's
/// repository is named (its HEAD commit), or said to be none.
#[test]
fn the_provenance_tells_linres_build_commit_from_the_experiment_repository() {
    let dir = setup();
    let d = dir.path();
    let site = d.join("site");
    let page = std::fs::read_to_string(site.join("steps/index.html")).unwrap();
    assert!(page.contains("Experiment file: not in a git repository."), "the temporary directory is no repository");
    let runs = page.split("<ul class=\"provenance\">").nth(1).expect("the runs' provenance");
    let runs = &runs[..runs.find("</ul>").unwrap()];
    assert!(runs.lines().skip(1).all(|l| l.is_empty() || l.contains(": linres build commit ")), "{runs}");
    let id = runs_rows(&page).into_iter().find(|r| r["status"] == "done").unwrap()["id"].clone();
    let run = std::fs::read_to_string(site.join(format!("steps/runs/{id}.html"))).unwrap();
    assert!(run.contains("<th>linres build commit (git_commit)</th>"), "the record's commit is linres's");
    assert!(run.contains("<td>not in a git repository</td>"));
    // A repository around the experiment file (made by hand: HEAD on a branch with one commit).
    let commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    std::fs::create_dir_all(d.join(".git/refs/heads")).unwrap();
    std::fs::write(d.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(d.join(".git/refs/heads/main"), format!("{commit}\n")).unwrap();
    let o = linres(d, &["report", "steps.yaml", "--out", "site"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let page = std::fs::read_to_string(site.join("steps/index.html")).unwrap();
    assert!(page.contains(&format!("Experiment file: in a git repository whose HEAD is commit {commit}")), "{page}");
}

/// After a wrong `--results`, the hint to compute the runs dropped `--results`: followed, it
/// computed them where the report does not look (issue 24 item 9).
#[test]
fn the_hint_after_a_wrong_results_directory_names_it() {
    let dir = setup();
    let d = dir.path();
    let o = linres(d, &["report", "steps.yaml", "--results", "elsewhere", "--out", "other"]);
    let err = texts(&o).1;
    assert!(o.status.success(), "{err}");
    assert!(err.contains("`linres run steps.yaml --results elsewhere` computes them"), "{err}");
    assert!(err.contains("elsewhere/steps does not exist: is --results right?"), "{err}");
    let index = std::fs::read_to_string(d.join("other/index.html")).unwrap();
    assert!(index.contains("(`linres run steps.yaml --results elsewhere` computes them)"), "the checks' hint too");
    let o = linres(d, &["report", "unrun.yaml", "--out", "other"]);
    let err = texts(&o).1;
    assert!(err.contains("(`linres run unrun.yaml` computes them)"), "the default --results is not repeated: {err}");
    // `plot` and `table` give the same command.
    let o = linres(d, &["plot", "steps.yaml", "--results", "elsewhere", "--out", "figs"]);
    let err = texts(&o).1;
    assert!(err.contains("(`linres run steps.yaml --results elsewhere` computes them)"), "{err}");
    let table = [
        "table",
        "steps.yaml",
        "--results",
        "elsewhere",
        "--rows",
        "model.depth",
        "--cols",
        "optim.step.eta",
        "--value",
        "final_rel_excess",
    ];
    let err = texts(&linres(d, &table)).1;
    assert!(err.contains("`linres run steps.yaml --results elsewhere` computes them"), "{err}");
}
