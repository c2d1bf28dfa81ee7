//! Hostile text in every text output, read by the real consumer: `linres table` as CSV (read back by
//! the csv crate; formulas prefixed for spreadsheets), Markdown (parsed by pulldown-cmark: as many
//! rows and cells as the table has, each cell's text equal to the input, no link, HTML, emphasis or
//! code) and LaTeX (compiled by pdflatex within a time limit, its PDF read back by pdftotext);
//! `results/CHECKS.md` and `check --readme` the same way; and `linres diff` printing names and
//! record fields with control characters to a terminal.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{linres, texts};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// File names that are live in one output format or another (and no control characters: those
/// are in [`CONTROL_NAMES`]).
const HOSTILE_NAMES: &[&str] = &[
    "=HYPERLINK(\"https:evil\",\"x\").csv",
    "+1+1.csv",
    "-2+3.csv",
    "@SUM(A1).csv",
    "[5pt]a.csv",
    "[click](javascript:alert(1)).csv",
    "*[x] bold.csv",
    "a | FAIL | b.csv",
    "<script>alert(1)<script>.csv",
    "<img src=x onerror=alert(1)>.csv",
    "*em* _u_ __s__ `code` ~~s~~ $x$ ^s^ ~t~.csv",
    "\\textbf{x} & % $ # _ { } ~ ^ \\\\.csv",
    "a--b ''q'' ``q`` \"d\" <<g>> !` ?` ,,l.csv",
    "&amp; &lt; &#10; [^1] [[w]].csv",
    "\\\\[1pt]b.csv",
    "%comment.csv",
    "é ü ñ.csv",
    "κ=4 η≤1e-5 ρ×2 σ±1 ω ∞.csv",
];

/// File names with control characters (which a later rule may refuse at load).
const CONTROL_NAMES: &[&str] = &["a\n| FAIL | x |.csv", "b\r\nc.csv", "esc\u{1b}[31mred\u{7}.csv", "tab\tx.csv"];

/// An experiment whose grid runs over data files named `names` (each its own data: a run's id
/// depends on the data, not on the file's name) and two depths.
fn hostile_grid(dir: &Path, names: &[&str], checks: &str) -> std::path::PathBuf {
    for (i, name) in names.iter().enumerate() {
        std::fs::write(dir.join(name), format!("1,2,3\n4,5,6\n7,8,10\n1,0,0\n0,1,{}\n", i + 1)).unwrap();
    }
    std::fs::write(dir.join("Y.csv"), "1\n2\n3\n4\n5\n").unwrap();
    let xs = serde_json::to_string(names).unwrap();
    let yaml = format!(
        "name: hostile\nmaster_seed: 1\nseeds: 1\ndata: {{kind: file, x: {xs}, y: Y.csv}}\n\
         model: {{arch: resnet, depth: [2, 3], width: 6}}\noptim: {{method: gd, iters: 3, step: {{rule: zou}}}}\n{checks}"
    );
    let path = dir.join("hostile.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Runs the grid; `Err(stderr)` when it is refused at load with exit 2.
fn run_grid(dir: &Path) -> Result<(), String> {
    let o = linres(dir, &["run", "-q", "hostile.yaml"]);
    let (_, err) = texts(&o);
    match o.status.code() {
        Some(0) => Ok(()),
        Some(2) => Err(err),
        _ => panic!("run: {err}"),
    }
}

fn table(dir: &Path, format: &str, out: &str) -> String {
    let o = linres(
        dir,
        &[
            "table",
            "hostile.yaml",
            "--rows",
            "data.x",
            "--cols",
            "model.depth",
            "--value",
            "final_rel_excess",
            "--format",
            format,
            "--out",
            out,
        ],
    );
    assert!(o.status.success(), "{}", texts(&o).1);
    std::fs::read_to_string(dir.join(out)).unwrap()
}

/// The rows of the Markdown tables in `text`, each a list of cell texts, after asserting that the
/// parser found nothing but tables, rows, cells and plain text (no link, image, HTML, emphasis,
/// code, math, footnote or line break) inside the cells, but for code spans in the columns `code`.
fn markdown_rows(text: &str, code: &[usize]) -> Vec<Vec<String>> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM
        | Options::ENABLE_SUPERSCRIPT
        | Options::ENABLE_SUBSCRIPT
        | Options::ENABLE_WIKILINKS;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut in_table = false;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(Tag::Table(_)) => in_table = true,
            Event::End(TagEnd::Table) => in_table = false,
            Event::Start(Tag::TableHead | Tag::TableRow) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => rows.last_mut().unwrap().push(String::new()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow | TagEnd::TableCell) => {}
            Event::Text(t) if in_table => rows.last_mut().unwrap().last_mut().unwrap().push_str(&t),
            Event::Code(t) if in_table && code.contains(&(rows.last().unwrap().len() - 1)) => {
                rows.last_mut().unwrap().last_mut().unwrap().push_str(&t)
            }
            other if in_table => panic!("markup inside the table: {other:?}\n{text}"),
            _ => {}
        }
    }
    rows
}

/// Whether the outside programs `tools` run here. Where one does not, prints one `skipped:` line
/// and returns false, unless `LINRES_REQUIRE` (comma-separated; `all` for every program) names
/// `pdflatex`, which makes the test fail instead. (A local probe until the shared one of
/// `tests/common` lands.)
fn have(tools: &[&str], what: &str) -> bool {
    // `pdftotext --version` exits 1; `-v` exits 0 for both tools.
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !Command::new(t).arg("-v").output().is_ok_and(|o| o.status.success()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let required = std::env::var("LINRES_REQUIRE").unwrap_or_default();
    if required.split(',').map(str::trim).any(|r| r == "all" || r == "pdflatex") {
        panic!("{what} needs {} and LINRES_REQUIRE={required} requires it", missing.join(", "));
    }
    eprintln!("skipped: {what} needs {} (texlive-latex-recommended, poppler-utils)", missing.join(", "));
    false
}

/// Runs `program` in `dir`, killed after `limit` (a hang fails the test).
fn within(dir: &Path, program: &str, args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let o = child.wait_with_output().unwrap();
            panic!("{program} {args:?} did not finish within {limit:?}: {}", String::from_utf8_lossy(&o.stdout));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs of whitespace as one space, trimmed.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What pdflatex shows for a text `latex_text` escaped: line breaks and tabs as spaces, other
/// control characters as `\xHH`, whitespace runs as one space.
fn typeset(text: &str) -> String {
    let shown: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_string(),
            c if c.is_control() => format!("\\x{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect();
    squeeze(&shown)
}

/// Compiles `table.tex` in `dir` into a PDF with pdflatex (at most a minute) and returns its text.
fn pdf_text(dir: &Path) -> String {
    let doc = "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n\
               \\usepackage{booktabs}\n\\usepackage[paperwidth=60cm,paperheight=40cm,margin=1cm]{geometry}\n\
               \\begin{document}\n\\input{table.tex}\n\\end{document}\n";
    std::fs::write(dir.join("doc.tex"), doc).unwrap();
    let o =
        within(dir, "pdflatex", &["-interaction=nonstopmode", "-halt-on-error", "doc.tex"], Duration::from_secs(60));
    assert!(o.status.success(), "pdflatex: {}", String::from_utf8_lossy(&o.stdout));
    let o = within(dir, "pdftotext", &["-layout", "doc.pdf", "-"], Duration::from_secs(60));
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

/// Asserts that the PDF's text shows the table's header line and, on the lines after it, one row
/// per name starting with the name as written.
fn assert_rows_typeset(text: &str, names: &[&str]) {
    let lines: Vec<String> = text.lines().map(squeeze).filter(|l| !l.is_empty()).collect();
    let mut at = lines
        .iter()
        .position(|l| l.starts_with("data.x model.depth = 2 model.depth = 3"))
        .unwrap_or_else(|| panic!("no header: {text}"));
    for name in names {
        let want = typeset(name);
        at += 1;
        let line = lines.get(at).unwrap_or_else(|| panic!("no row for {name:?}: {text}"));
        assert!(line.starts_with(&format!("{want} ")), "row of {name:?}: pdflatex shows {line:?}, want {want:?} first");
    }
}

#[test]
fn hostile_labels_are_text_in_csv_markdown_and_latex_tables() {
    let dir = tempfile::tempdir().unwrap();
    hostile_grid(dir.path(), HOSTILE_NAMES, "");
    run_grid(dir.path()).expect("the grid runs");

    // CSV: read back by the csv crate, one row per name, formulas prefixed, numbers untouched.
    let csv = table(dir.path(), "csv", "table.csv");
    let rows: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), HOSTILE_NAMES.len() + 1, "{csv}");
    for (row, name) in rows[1..].iter().zip(HOSTILE_NAMES) {
        assert_eq!(row.len(), 3, "{row:?}");
        let formula = name.starts_with(['=', '+', '-', '@']);
        let want = if formula { format!("'{name}") } else { name.to_string() };
        assert_eq!(&row[0], want, "a text cell a spreadsheet would run is prefixed with ', and only such a cell");
        for number in [&row[1], &row[2]] {
            assert!(number.parse::<f64>().is_ok(), "numbers are untouched: {number:?}");
        }
    }

    // Markdown: as many rows and cells as the table has, every label as its own text.
    let md = table(dir.path(), "markdown", "table.md");
    let rows = markdown_rows(&md, &[]);
    assert_eq!(rows.len(), HOSTILE_NAMES.len() + 1, "{md}");
    assert_eq!(rows[0], ["data.x", "model.depth = 2", "model.depth = 3"]);
    for (row, name) in rows[1..].iter().zip(HOSTILE_NAMES) {
        assert_eq!(row.len(), 3, "{row:?}");
        assert_eq!(row[0], *name, "the cell reads as the label:\n{md}");
    }

    // LaTeX: compiles within a minute and shows every label as written.
    let tex = table(dir.path(), "latex", "table.tex");
    assert!(tex.lines().filter(|l| l.starts_with('%')).count() == 1, "one comment line: {tex}");
    if have(&["pdflatex", "pdftotext"], "compiling the LaTeX table") {
        assert_rows_typeset(&pdf_text(dir.path()), HOSTILE_NAMES);
    }
}

#[test]
fn control_characters_in_labels_are_refused_or_escaped_in_every_table() {
    let dir = tempfile::tempdir().unwrap();
    hostile_grid(dir.path(), CONTROL_NAMES, "");
    if let Err(err) = run_grid(dir.path()) {
        assert!(err.contains("data.x"), "a refusal names the field: {err}");
        return;
    }
    let csv = table(dir.path(), "csv", "table.csv");
    let rows: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let firsts: Vec<&str> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(firsts, CONTROL_NAMES, "the csv crate reads every label back");
    let md = table(dir.path(), "markdown", "table.md");
    let rows = markdown_rows(&md, &[]);
    assert_eq!(rows.len(), CONTROL_NAMES.len() + 1, "no row forged:\n{md}");
    for (row, name) in rows[1..].iter().zip(CONTROL_NAMES) {
        assert_eq!(row.len(), 3, "no cell forged: {row:?}");
        assert_eq!(row[0], *name);
    }
    table(dir.path(), "latex", "table.tex");
    if have(&["pdflatex", "pdftotext"], "compiling the LaTeX table") {
        assert_rows_typeset(&pdf_text(dir.path()), CONTROL_NAMES);
    }
}

/// Claims that are live in Markdown (no control characters).
const HOSTILE_CLAIMS: &[&str] = &[
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)> <b>bold</b>",
    "*em* _u_ `code` ~~s~~ $x$",
    "a | FAIL | b | c | d | e",
    "\\| escaped pipe \\",
    "&amp; &#124; entity",
];

fn checks_section(claims: &[&str]) -> String {
    let mut s = String::from("checks:\n");
    for (i, claim) in claims.iter().enumerate() {
        let claim = serde_json::to_string(claim).unwrap();
        s.push_str(&format!(
            "  - {{name: c{i}, claim: {claim}, measure: final_rel_excess, test: {{each: {{at_most: 1.0e+300}}}}}}\n"
        ));
    }
    s
}

/// `check --out` and `--readme` on `claims`: each table read back, one row per check, five cells,
/// the claim as written. `Err(stderr)` when the file is refused at load (exit 2).
fn check_tables(claims: &[&str]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    hostile_grid(dir.path(), &["x.csv"], &checks_section(claims));
    run_grid(dir.path())?;
    let readme = "# Notes\n\n<!-- checks:begin -->\nold\n<!-- checks:end -->\n\nafter\n";
    std::fs::write(dir.path().join("README.md"), readme).unwrap();
    let o = linres(dir.path(), &["check", "hostile.yaml", "--out", "CHECKS.md", "--readme", "README.md"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    for file in ["CHECKS.md", "README.md"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let rows = markdown_rows(&text, &[1]);
        assert_eq!(rows.len(), claims.len() + 1, "{file}: one row per check:\n{text}");
        for (i, (row, claim)) in rows[1..].iter().zip(claims).enumerate() {
            assert_eq!(row.len(), 5, "{file}: five cells: {row:?}");
            assert_eq!(row[0], "PASS");
            assert_eq!(row[1], format!("hostile/c{i}"));
            assert_eq!(row[2], *claim, "{file}: the claim reads as written:\n{text}");
        }
    }
    let readme_after = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    assert!(readme_after.ends_with("<!-- checks:end -->\n\nafter\n"), "{readme_after}");
    Ok(())
}

#[test]
fn hostile_claims_are_text_in_checks_md_and_the_readme_table() {
    check_tables(HOSTILE_CLAIMS).expect("the claims load");
}

#[test]
fn a_claim_with_a_line_break_cannot_forge_a_row() {
    let claims = ["holds\n| FAIL | `forged/row` | forged | 1 | 2 |", "cr\r\nlf and \u{1b}[31m"];
    if let Err(err) = check_tables(&claims) {
        assert!(err.contains("claim"), "a refusal names the field: {err}");
    }
}

/// Two results directories whose differences carry terminal controls: an experiment directory
/// named with ESC, CR, LF and BEL on one side, and a record whose provenance (its OpenBLAS
/// configuration) carries them on the other.
#[test]
fn diff_prints_names_and_record_fields_without_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.yaml"), common::small_grid("tiny")).unwrap();
    let o = linres(dir.path(), &["run", "-q", "tiny.yaml", "--results", "a"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let o = linres(dir.path(), &["run", "-q", "tiny.yaml", "--results", "b"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let hostile = "x\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nFORGED LINE";
    std::fs::create_dir_all(dir.path().join("b").join(hostile).join("runs")).unwrap();
    let runs = dir.path().join("b/tiny/runs");
    let record = common::record_files(&runs).into_iter().next().unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    value["provenance"]["openblas_config"] = "OpenBLAS 0.3.0 Evil\u{1b}[31m\u{7}\r\nFORGED KERNEL".into();
    std::fs::write(&record, serde_json::to_vec_pretty(&value).unwrap()).unwrap();

    let o = linres(dir.path(), &["diff", "a", "b"]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("different OpenBLAS kernels"), "the record field is printed: {out}");
    for (stream, text) in [("stdout", &out), ("stderr", &err)] {
        for c in ['\u{1b}', '\u{7}', '\r'] {
            assert!(!text.contains(c), "{stream} holds {c:?}: {text:?}");
        }
        for line in text.lines() {
            assert!(!line.starts_with("FORGED"), "{stream}: a line forged by data: {text}");
        }
    }
    assert!(out.contains("x\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\r\\nFORGED LINE"), "the name, shown escaped: {out}");
    assert!(out.contains("Evil\\u{1b}[31m\\u{7}"), "the field, shown escaped: {out}");
}
