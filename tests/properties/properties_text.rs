//! Property tests of the text outputs (issue 20): random text (arbitrary Unicode with control
//! characters, and fragments that are live in CSV, Markdown, LaTeX, HTML or URLs) put where an
//! experiment file and the command line take free text: the experiment's name, its description,
//! a figure's title and series label, check claims, the names of its data files and the results
//! directory. Each case, through the binary, either is refused at load (exit 2, naming a field
//! that holds random text), or every output is written with the text intact and inert:
//!
//! - `table --format csv` and the figure's CSV read back by the csv crate: each text cell is the
//!   text, with `'` before it exactly when a spreadsheet would run it as a formula;
//! - `table --format markdown` and `CHECKS.md` parsed by pulldown-cmark: as many rows and cells as
//!   the table has, each text cell equal to the text, no link, HTML, emphasis or code in them;
//! - `table --format latex` read by a strict reader of the escapes `latex_text` may write: each
//!   row has its cells, each text cell decodes to the text as pdflatex shows it (line breaks as
//!   spaces, other control characters as `\xHH`), nothing else is live;
//! - the report's pages: only the elements and attributes the report writes (no event handler,
//!   no extra script), every `href` a relative URL of percent-encoded segments that resolves to an
//!   existing file, and every claim shown as text.
//!
//! Cases are drawn from a fixed seed, as in `tests/properties/properties.rs`: [`DEFAULT_CASES`] unless
//! `PROPTEST_CASES` says otherwise (`PROPTEST_RNG_SEED` draws others).

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{linres_within, texts};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Cases unless `PROPTEST_CASES` says otherwise (each takes about a second: seven commands).
const DEFAULT_CASES: u32 = 12;
/// The seed the cases are drawn from unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 20_201_220;
/// The most one command may take.
const PROCESS_LIMIT: Duration = Duration::from_secs(60);

fn config() -> Config {
    let from_env = Config::default();
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    let rng_seed = match from_env.rng_seed {
        RngSeed::Random => RngSeed::Fixed(SEED),
        chosen => chosen,
    };
    Config {
        cases,
        rng_seed,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..from_env
    }
}

/// Pieces that mean something in one output format or another.
const FRAGMENTS: &[&str] = &[
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "|",
    "\\",
    "`",
    "*",
    "_",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "&",
    "\"",
    "'",
    "$",
    "#",
    "%",
    "{",
    "}",
    "~",
    "^",
    ",,",
    "--",
    "!",
    "?",
    ":",
    ";",
    "&amp;",
    "&#10;",
    "<script>",
    "</td>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "javascript:",
    "\\\\",
    "\\midrule",
    "[5pt]",
    "\\textbf{",
    "%0A",
    "\u{1b}[31m",
    "\u{7}",
    "\u{202e}",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "κ",
    "é",
    "日本",
    "🦀",
    " ",
    "  ",
];

/// Random text: arbitrary characters, or a run of live fragments and characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..12).prop_map(|cs| cs.into_iter().collect()),
        prop::collection::vec(
            prop_oneof![prop::sample::select(FRAGMENTS).prop_map(String::from), any::<char>().prop_map(String::from)],
            1..6
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Random text that a file system takes as one file name.
fn file_name() -> impl Strategy<Value = String> {
    text().prop_map(|t| {
        let name: String = t.chars().map(|c| if c == '/' || c == '\0' { '_' } else { c }).collect();
        if name.is_empty() || name == "." || name == ".." { format!("f{name}") } else { name }
    })
}

/// Random text that names a data file (which must end in `.csv`).
fn data_name() -> impl Strategy<Value = String> {
    file_name().prop_map(|n| format!("{n}.csv"))
}

/// An experiment name: usually one the rules allow, sometimes any text.
fn experiment_name() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z][a-z0-9_.-]{0,8}", 1 => text()]
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    description: String,
    title: String,
    label: String,
    claims: [String; 2],
    data: [String; 2],
    results: String,
}

fn case() -> impl Strategy<Value = Case> {
    (experiment_name(), text(), text(), text(), [text(), text()], [data_name(), data_name()], file_name())
        .prop_filter("two distinct data files", |c| c.5[0] != c.5[1])
        .prop_map(|(name, description, title, label, claims, data, results)| Case {
            name,
            description,
            title,
            label,
            claims,
            data,
            results,
        })
}

/// `text` as a YAML double-quoted scalar: everything but printable ASCII as an escape.
fn yaml(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            ' '..='~' => s.push(c),
            c if (c as u32) <= 0xFFFF => s.push_str(&format!("\\u{:04X}", c as u32)),
            c => s.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    s.push('"');
    s
}

impl Case {
    /// The data file paths as the experiment file gives them (and the table shows them).
    fn xs(&self) -> [String; 2] {
        self.data.clone().map(|n| format!("d/{n}"))
    }

    /// Writes the data files and the experiment file into `dir`.
    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("d")).unwrap();
        for (i, x) in self.xs().iter().enumerate() {
            std::fs::write(dir.join(x), format!("1,2,3\n4,5,6\n7,8,10\n1,0,0\n0,1,{}\n", i + 1)).unwrap();
        }
        std::fs::write(dir.join("Y.csv"), "1\n2\n3\n4\n5\n").unwrap();
        // A comment holds only what YAML allows raw on one line.
        let raw = |c: char| {
            !c.is_control() && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
        };
        let comment: String = self.description.chars().map(|c| if raw(c) { c } else { '?' }).collect();
        let xs = self.xs();
        let mut yaml_text = format!(
            "# {comment}\nname: {}\nmaster_seed: 1\nseeds: 1\ndata: {{kind: file, x: [{}, {}], y: Y.csv}}\n\
             model: {{arch: resnet, depth: 2, width: 6}}\noptim: {{method: gd, iters: 4, step: {{rule: zou}}}}\n\
             figures:\n  - {{name: f, kind: curves, title: {}, series: data.x, labels: {{{}: {}}}}}\nchecks:\n",
            yaml(&self.name),
            yaml(&xs[0]),
            yaml(&xs[1]),
            yaml(&self.title),
            yaml(&xs[0]),
            yaml(&self.label)
        );
        for (i, claim) in self.claims.iter().enumerate() {
            yaml_text.push_str(&format!(
                "  - {{name: c{i}, claim: {}, measure: final_rel_excess, test: {{each: {{at_most: 1.0e+300}}}}}}\n",
                yaml(claim)
            ));
        }
        std::fs::write(dir.join("exp.yaml"), yaml_text).unwrap();
    }
}

/// Runs `linres args` in `dir` (killed after [`PROCESS_LIMIT`]): exit code, stderr.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = linres_within(dir, args, PROCESS_LIMIT);
    let (_, err) = texts(&o);
    assert!(!err.contains("panicked"), "`linres {args:?}` panicked: {err}");
    (o.status.code(), err)
}

/// What a spreadsheet-safe CSV cell holding `text` holds (an oracle for `csv_text`).
fn spreadsheet_cell(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = text.parse::<f64>().is_ok_and(f64::is_finite);
    if formula && !number { format!("'{text}") } else { text.to_string() }
}

/// The CSV records of `text`.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The rows of the Markdown tables of `text` (cells as text), refusing any markup inside them but
/// code spans in the columns `code` and emphasis around the whole of a cell of column 0 (a status).
fn markdown_rows(text: &str, code: &[usize]) -> Result<Vec<Vec<String>>, String> {
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
        let column = rows.last().map_or(0, |r| r.len().saturating_sub(1));
        match event {
            Event::Start(Tag::Table(_)) => in_table = true,
            Event::End(TagEnd::Table) => in_table = false,
            Event::Start(Tag::TableHead | Tag::TableRow) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => rows.last_mut().unwrap().push(String::new()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow | TagEnd::TableCell) => {}
            Event::Start(Tag::Strong) | Event::End(TagEnd::Strong) if in_table && column == 0 => {}
            Event::Text(t) if in_table => rows.last_mut().unwrap().last_mut().unwrap().push_str(&t),
            Event::Code(t) if in_table && code.contains(&column) => {
                rows.last_mut().unwrap().last_mut().unwrap().push_str(&t)
            }
            other if in_table => return Err(format!("markup inside a table: {other:?}")),
            _ => {}
        }
    }
    Ok(rows)
}

/// The text a LaTeX cell typesets, read strictly: only the escapes `latex_text` writes are
/// accepted, and any other live character is an error.
fn latex_cell(cell: &str) -> Result<String, String> {
    const COMMANDS: [(&str, &str); 9] = [
        ("textbackslash", "\\"),
        ("textasciitilde", "~"),
        ("textasciicircum", "^"),
        ("textless", "<"),
        ("textgreater", ">"),
        ("textbar", "|"),
        ("textquotedbl", "\""),
        ("textquotesingle", "'"),
        ("textasciigrave", "`"),
    ];
    if cell.contains("--") || cell.contains(",,") {
        return Err("a ligature".into());
    }
    let mut out = String::new();
    let mut rest = cell;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' => {
                let name: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
                if name.is_empty() {
                    let next = rest.chars().next().ok_or("a lone \\ at the end")?;
                    if !"&%$#_{}".contains(next) {
                        return Err(format!("\\{next} is not an escape"));
                    }
                    out.push(next);
                    rest = &rest[next.len_utf8()..];
                } else {
                    let (_, shown) =
                        COMMANDS.iter().find(|(n, _)| *n == name).ok_or(format!("\\{name} is not an escape"))?;
                    rest = rest[name.len()..].strip_prefix("{}").ok_or(format!("\\{name} without {{}}"))?;
                    out.push_str(shown);
                }
            }
            '{' => {
                if let Some(r) = rest.strip_prefix('}') {
                    rest = r; // `{}` after a ligature character
                } else {
                    let inner = rest.chars().next().filter(|c| "[]*".contains(*c)).ok_or("a live {")?;
                    rest = rest[1..].strip_prefix('}').ok_or("an open group")?;
                    out.push(inner);
                }
            }
            '}' | '$' | '&' | '#' | '^' | '_' | '~' | '%' | '[' | ']' | '*' | '<' | '>' | '|' | '"' | '\'' | '`' => {
                return Err(format!("a live {c:?}"));
            }
            c if c.is_control() => return Err(format!("a control character {c:?}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// What pdflatex shows of `text` once escaped: line breaks and tabs as spaces, control characters
/// as `\xHH`.
fn typeset(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_string(),
            c if c.is_control() => format!("\\x{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// The body rows of a LaTeX table: (first cell, number of cells), each line ending in `\\`.
fn latex_rows(tex: &str) -> Result<Vec<(String, usize)>, String> {
    let body = tex.split("\\midrule\n").nth(1).ok_or("no \\midrule")?;
    let body = body.split("\\bottomrule").next().unwrap();
    body.lines()
        .map(|line| {
            let line = line.strip_suffix(" \\\\").ok_or(format!("a row without its end: {line:?}"))?;
            let cells: Vec<&str> = line.split(" & ").collect();
            Ok((latex_cell(cells[0])?, cells.len()))
        })
        .collect()
}

/// Elements the report writes (its own and plotters' SVG).
const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "link",
    "script",
    "body",
    "header",
    "nav",
    "a",
    "h1",
    "h2",
    "p",
    "main",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "figure",
    "figcaption",
    "svg",
    "rect",
    "line",
    "polyline",
    "polygon",
    "circle",
    "text",
    "code",
    "pre",
    "ul",
    "li",
    "footer",
    "label",
    "input",
    "noscript",
    "div",
];

/// `text` with the five entities `html_text` writes decoded.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Checks one page of the report at `site/page`: its elements and attributes, its links.
fn check_page(site: &Path, page: &Path, html: &str) -> Result<(), String> {
    let mut rest = html;
    let mut scripts = 0;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if let Some(r) = rest.strip_prefix("!DOCTYPE html>") {
            rest = r;
            continue;
        }
        let closing = rest.starts_with('/');
        let tag_text = &rest[..rest.find('>').ok_or("an unclosed tag")?];
        let name: String = tag_text.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if !ELEMENTS.contains(&name.as_str()) {
            return Err(format!("an element <{tag_text}> the report does not write"));
        }
        if !closing {
            // Attributes: name="value" pairs, values without a raw quote.
            let mut attrs = tag_text[name.len()..].trim().trim_end_matches('/');
            while !attrs.is_empty() {
                let (attr, after) = attrs.split_once("=\"").ok_or(format!("a bare attribute in <{tag_text}>"))?;
                let (value, after) = after.split_once('"').ok_or("an unterminated value")?;
                let attr = attr.trim();
                if attr.starts_with("on") || !attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':') {
                    return Err(format!("attribute {attr:?} in <{tag_text}>"));
                }
                if attr == "href" {
                    check_href(site, page, &unescape(value))?;
                }
                attrs = after.trim_start();
            }
        }
        if name == "script" && !closing {
            scripts += 1;
            rest = &rest[rest.find("</script>").ok_or("an unclosed script")?..];
        }
    }
    let want = if page.components().count() == 3 { 0 } else { 2 };
    if scripts != want {
        return Err(format!("{scripts} scripts, the report writes {want}"));
    }
    Ok(())
}

/// A link: a relative URL of percent-encoded segments naming an existing file.
fn check_href(site: &Path, page: &Path, href: &str) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = Vec::new();
    for segment in href.split('/') {
        let mut chars = segment.bytes();
        if segment.is_empty() {
            return Err(format!("an empty segment in {href:?}"));
        }
        while let Some(b) = chars.next() {
            match b {
                b'%' => {
                    let hex: Vec<u8> = chars.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).map_err(|_| format!("{href:?}"))?;
                    bytes.push(u8::from_str_radix(hex, 16).map_err(|_| format!("a bad escape in {href:?}"))?);
                }
                b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => bytes.push(b),
                _ => return Err(format!("{href:?} has a character that is not percent-encoded")),
            }
        }
        bytes.push(b'/');
    }
    bytes.pop();
    let target = site.join(page.parent().unwrap()).join(std::ffi::OsStr::from_bytes(&bytes));
    if !target.exists() {
        return Err(format!("{href:?} resolves to {}, which does not exist", target.display()));
    }
    Ok(())
}

/// Every file under `root`, by path relative to it.
fn files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// How a refusal names a field of the experiment file that holds random text.
const TEXT_FIELDS: &[&str] = &["name:", "claim", "title", "labels", "data.x"];

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    case.write(d);
    let results = format!("res/{}", case.results);
    let (code, err) = run(d, &["run", "-q", "exp.yaml", "--results", &results]);
    if code == Some(2) {
        prop_assert!(TEXT_FIELDS.iter().any(|f| err.contains(f)), "a refusal names the field: {}\n{:?}", err, case);
        return Ok(());
    }
    prop_assert_eq!(code, Some(0), "run: {}\n{:?}", err, case);
    let xs = case.xs();

    let table = |format: &str| -> Result<String, TestCaseError> {
        let out = format!("table.{format}");
        let (code, err) = run(
            d,
            &[
                "table",
                "exp.yaml",
                "--results",
                &results,
                "--rows",
                "data.x",
                "--cols",
                "model.depth",
                "--value",
                "final_rel_excess",
                "--format",
                format,
                "--out",
                &out,
            ],
        );
        prop_assert_eq!(code, Some(0), "table --format {}: {}\n{:?}", format, err, case);
        Ok(std::fs::read_to_string(d.join(out)).unwrap())
    };
    let rows = csv_rows(&table("csv")?);
    prop_assert_eq!(rows.len(), 3, "{:?}", case);
    for (row, x) in rows[1..].iter().zip(&xs) {
        prop_assert_eq!(row.len(), 2);
        prop_assert_eq!(&row[0], &spreadsheet_cell(x), "csv cell of {:?}", x);
    }
    let md = table("markdown")?;
    let rows = markdown_rows(&md, &[]).map_err(|e| TestCaseError::fail(format!("{e}\n{md}\n{case:?}")))?;
    prop_assert_eq!(rows.len(), 3, "{}\n{:?}", md, case);
    for (row, x) in rows[1..].iter().zip(&xs) {
        prop_assert_eq!(row.len(), 2, "{}", md);
        prop_assert_eq!(&row[0], x, "markdown cell:\n{}", md);
    }
    let tex = table("latex")?;
    let rows = latex_rows(&tex).map_err(|e| TestCaseError::fail(format!("{e}\n{tex}\n{case:?}")))?;
    prop_assert_eq!(rows.len(), 2, "{}", tex);
    for ((cell, n), x) in rows.iter().zip(&xs) {
        prop_assert_eq!(*n, 2, "{}", tex);
        prop_assert_eq!(cell, &typeset(x), "latex cell:\n{}", tex);
    }

    let (code, err) = run(d, &["check", "exp.yaml", "--results", &results, "--out", "CHECKS.md"]);
    prop_assert_eq!(code, Some(0), "check: {}\n{:?}", err, case);
    let md = std::fs::read_to_string(d.join("CHECKS.md")).unwrap();
    let rows = markdown_rows(&md, &[1]).map_err(|e| TestCaseError::fail(format!("{e}\n{md}\n{case:?}")))?;
    prop_assert_eq!(rows.len(), 3, "{}", md);
    for (row, claim) in rows[1..].iter().zip(&case.claims) {
        prop_assert_eq!(row.len(), 5, "{}", md);
        prop_assert_eq!(&row[2], &claim.replace('\0', "\u{FFFD}"), "claim cell:\n{}", md);
    }

    let (code, err) = run(d, &["plot", "exp.yaml", "--results", &results, "--out", "figures"]);
    prop_assert_eq!(code, Some(0), "plot: {}\n{:?}", err, case);
    let figure = std::fs::read_to_string(d.join("figures").join(&case.name).join("f.csv")).unwrap();
    let rows = csv_rows(&figure);
    prop_assert!(rows[1..].iter().all(|r| r.len() == 7), "{:?}", rows);
    let labelled: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[2] == spreadsheet_cell(&xs[0])).collect();
    prop_assert!(!labelled.is_empty(), "the series value of {:?} in\n{}", xs[0], figure);
    prop_assert!(labelled.iter().all(|r| r[3] == spreadsheet_cell(&case.label)), "its label in\n{}", figure);

    let (code, err) = run(d, &["report", "exp.yaml", "--results", &results, "--out", "site"]);
    prop_assert_eq!(code, Some(0), "report: {}\n{:?}", err, case);
    let site = d.join("site");
    for page in files(&site).into_iter().filter(|p| p.extension().is_some_and(|x| x == "html")) {
        let html = std::fs::read_to_string(site.join(&page)).unwrap();
        check_page(&site, &page, &html)
            .map_err(|e| TestCaseError::fail(format!("{}: {e}\n{case:?}", page.display())))?;
    }
    let index = unescape(&std::fs::read_to_string(site.join("index.html")).unwrap());
    for claim in &case.claims {
        prop_assert!(index.contains(claim.as_str()), "the claim {:?} is shown as text", claim);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_text_is_refused_at_load_or_written_inert_in_every_output(case in case()) {
        check_case(&case)?;
    }
}
