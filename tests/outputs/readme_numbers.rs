//! Numbers the README quotes from a figure are the numbers in that figure's CSV.
//!
//! A paragraph that quotes a figure is preceded by a marker naming the figure's CSV and, one per
//! line, the row (columns that pick exactly one row), the column and the text the paragraph shows:
//!
//! ```text
//! <!-- numbers: figures/width_vs_kappa/critical_width_vs_kappa.csv
//!   series_value=resnet x=32 critical_width: 12
//! -->
//! ```
//!
//! The test fails when the CSV's cell is not the text shown (a number to within half a unit of its
//! last digit, censored widths `≤ 10` / `> 1000` as the CSV's `<=10` / `>1000`) or when the
//! paragraph after the marker does not contain the text.

use std::path::Path;

struct Quote {
    file: String,
    filters: Vec<(String, String)>,
    column: String,
    shown: String,
    /// 1-based line of the marker.
    line: usize,
    /// The paragraph after the marker (up to the next blank line).
    paragraph: String,
}

/// Every quote of the README's number markers.
fn quotes(markdown: &str) -> Vec<Quote> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(file) = lines[i].trim().strip_prefix("<!-- numbers:") else {
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut entries = Vec::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != "-->" {
            entries.push(lines[i].trim());
            i += 1;
        }
        // The paragraph starts after this marker and any marker right below it.
        let mut j = i + 1;
        while j < lines.len() && lines[j].trim().starts_with("<!-- numbers:") {
            j += lines[j..].iter().position(|l| l.trim() == "-->").map_or(lines.len(), |k| k + 1);
        }
        let paragraph: Vec<&str> =
            lines[j.min(lines.len())..].iter().take_while(|l| !l.trim().is_empty()).copied().collect();
        let paragraph = paragraph.join(" ");
        for entry in entries {
            let (pick, shown) = entry.split_once(": ").unwrap_or_else(|| panic!("README:{start}: `{entry}`"));
            let mut words: Vec<&str> = pick.split_whitespace().collect();
            let column = words.pop().unwrap_or_else(|| panic!("README:{start}: no column in `{entry}`"));
            let filters = words
                .iter()
                .map(|w| w.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
                .collect::<Option<Vec<_>>>()
                .unwrap_or_else(|| panic!("README:{start}: `{pick}` is not col=value … column"));
            out.push(Quote {
                file: file.trim().to_string(),
                filters,
                column: column.to_string(),
                shown: shown.trim().to_string(),
                line: start,
                paragraph: paragraph.clone(),
            });
        }
        i += 1;
    }
    out
}

/// Whether a CSV cell is the text a reader is shown.
fn cell_shows(cell: &str, shown: &str) -> bool {
    let (cell_bound, cell_num) = split_censoring(cell, &["<=", ">"]);
    let (shown_bound, shown_num) = split_censoring(shown, &["≤", ">"]);
    let same_bound = matches!((cell_bound, shown_bound), ("", "") | ("<=", "≤") | (">", ">"));
    let shown_digits: String = shown_num.chars().filter(|c| !c.is_whitespace() && *c != ',').collect();
    let (Ok(cell), Ok(value)) = (cell_num.parse::<f64>(), shown_digits.parse::<f64>()) else {
        return false;
    };
    let (mantissa, exponent) =
        shown_digits.split_once('e').map_or((shown_digits.as_str(), 0), |(m, e)| (m, e.parse().unwrap_or(0)));
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    same_bound && (cell - value).abs() <= 0.5 * 10f64.powi(exponent - decimals) * (1.0 + 1e-12)
}

fn split_censoring<'a>(text: &'a str, bounds: &[&'static str]) -> (&'static str, &'a str) {
    let text = text.trim();
    bounds.iter().find_map(|b| text.strip_prefix(b).map(|rest| (*b, rest.trim()))).unwrap_or(("", text))
}

#[test]
fn every_number_the_readme_quotes_from_a_figure_is_in_its_csv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let quotes = quotes(&readme);
    assert!(quotes.len() >= 4, "the README's figure quotes are found ({})", quotes.len());
    for q in &quotes {
        let at = format!("README:{} ({} {:?} {})", q.line, q.file, q.filters, q.column);
        assert!(q.paragraph.contains(&q.shown), "{at}: the paragraph does not say `{}`", q.shown);
        let mut reader = csv::Reader::from_path(root.join(&q.file)).unwrap_or_else(|e| panic!("{at}: {e}"));
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let col =
            |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{at}: no column {name}"));
        let picked: Vec<csv::StringRecord> =
            reader.records().map(Result::unwrap).filter(|r| q.filters.iter().all(|(k, v)| &r[col(k)] == v)).collect();
        assert_eq!(picked.len(), 1, "{at}: the filters pick one row");
        let cell = &picked[0][col(&q.column)];
        assert!(cell_shows(cell, &q.shown), "{at}: the figure says {cell}, the README {}", q.shown);
    }
}

#[test]
fn a_quote_matches_only_its_cell_to_the_digits_shown() {
    for (cell, shown, ok) in [
        ("12", "12", true),
        ("<=10", "≤ 10", true),
        ("<=10", "10", false),
        ("10", "≤ 10", false),
        (">1000", "> 1000", true),
        ("6808.418744238669", "6 808", true),
        ("6808.418744238669", "6 809", false),
        ("0.8534", "0.85", true),
        ("0.8564", "0.85", false),
        ("2.8e-5", "2.8e-5", true),
    ] {
        assert_eq!(cell_shows(cell, shown), ok, "{cell} shown as {shown}");
    }
    let md = "<!-- numbers: f.csv\n  x=1 y: 3\n  x=2 y: ≤ 10\n-->\n<!-- numbers: g.csv\n  x=1 y: 4\n-->\nIt is 3 and ≤ 10.\n\nNext.";
    let q = quotes(md);
    assert_eq!(q.len(), 3);
    assert_eq!((q[2].file.as_str(), q[2].paragraph.as_str()), ("g.csv", "It is 3 and ≤ 10."));
    assert_eq!(
        (q[1].filters.clone(), q[1].column.as_str(), q[1].shown.as_str()),
        (vec![("x".into(), "2".into())], "y", "≤ 10")
    );
    assert_eq!(q[0].paragraph, "It is 3 and ≤ 10.");
}
