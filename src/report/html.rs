//! HTML text for the report: the page frame, links, tables and key–value lists (text escaped by
//! [`crate::escape::html_text`]).

use std::fmt::Write;

use crate::escape::{html_text as esc, url_segment};
use crate::measure::Measured;
use crate::number::{compact_text, float_text};

/// A whole page: `title`, `body` (already HTML), the stylesheet at `root` (the relative path from
/// the page to the site's top, "" or "../…"), and, with `script`, the sorting and filtering script
/// (inline, after an error hook that records any script error on `<html data-js-error>`).
pub fn page(title: &str, root: &str, body: &str, script: bool) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    let _ = writeln!(s, "<link rel=\"stylesheet\" href=\"{root}assets/report.css\">");
    if script {
        s.push_str(
            "<script>window.addEventListener('error', function (e) { \
             document.documentElement.setAttribute('data-js-error', String(e.message)); });</script>\n",
        );
    }
    s.push_str("</head>\n<body>\n");
    s.push_str(body);
    if script {
        let _ = write!(s, "<script>\n{}</script>\n", super::SCRIPT);
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// A number cell: the compact text shown, the full-precision value in `data-v` for sorting
/// (`Infinity`, `-Infinity`, `NaN` for the non-finite).
pub fn num_cell(v: Measured) -> String {
    let key = match v.number() {
        n if n.is_nan() => "NaN".to_string(),
        n if n == f64::INFINITY => "Infinity".into(),
        n if n == f64::NEG_INFINITY => "-Infinity".into(),
        n => float_text(n),
    };
    format!("<td class=\"num\" data-v=\"{key}\">{}</td>", esc(&v.text_with(compact_text)))
}

/// A text cell.
pub fn text_cell(text: &str) -> String {
    format!("<td>{}</td>", esc(text))
}

/// A two-column table of `(key, value)` pairs, both escaped.
pub fn key_values(class: &str, pairs: &[(String, String)]) -> String {
    let mut s = format!("<table class=\"kv {class}\">\n");
    for (k, v) in pairs {
        let _ = writeln!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    s.push_str("</table>\n");
    s
}

/// A JSON value as `(dotted path, text)` pairs, leaves only, in the value's own order
/// (`null` as "—": the harness writes absent quantities and, in some summaries, non-finite ones so).
pub fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    let join = |key: &str| if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        serde_json::Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            let texts: Vec<String> = items.iter().map(leaf_text).collect();
            out.push((prefix.to_string(), format!("[{}]", texts.join(", "))));
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        leaf => out.push((prefix.to_string(), leaf_text(leaf))),
    }
}

fn leaf_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.as_f64().filter(|_| n.is_f64()).map_or_else(|| n.to_string(), compact_text),
        other => other.to_string(),
    }
}

/// A relative URL of path segments (file and directory names, `..`), each percent-encoded by
/// [`url_segment`]: it names exactly that path, below or beside the page, and nothing else.
pub fn href<S: AsRef<std::ffi::OsStr>>(segments: &[S]) -> String {
    segments.iter().map(|s| url_segment(s.as_ref())).collect::<Vec<_>>().join("/")
}

/// The relative URL from directory `from` to file `to`, both absolute, by their components (`../`
/// up to the common ancestor, then down), each percent-encoded ([`href`]).
pub fn relative_url(from: &std::path::Path, to: &std::path::Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let up = std::iter::repeat_n(std::ffi::OsStr::new(".."), a.len() - common);
    let segments: Vec<&std::ffi::OsStr> = up.chain(b[common..].iter().map(|c| c.as_os_str())).collect();
    href(&segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Absence;

    #[test]
    fn number_cells_sort_by_their_full_value() {
        assert_eq!(num_cell(Measured::Value(1.234567e-7)), "<td class=\"num\" data-v=\"1.234567e-7\">1.235e-7</td>");
        assert_eq!(num_cell(Measured::Value(f64::INFINITY)), "<td class=\"num\" data-v=\"Infinity\">∞</td>");
        assert_eq!(num_cell(Measured::Absent(Absence::NoResult)), "<td class=\"num\" data-v=\"NaN\">n/a</td>");
    }

    #[test]
    fn relative_urls_climb_to_the_common_ancestor() {
        use std::path::Path;
        assert_eq!(
            relative_url(Path::new("/r/report/e/runs"), Path::new("/r/e/runs/a.json")),
            "../../../e/runs/a.json"
        );
        assert_eq!(relative_url(Path::new("/a"), Path::new("/a/b c#.json")), "b%20c%23.json");
        assert_eq!(
            relative_url(Path::new("/r/site/e/runs"), Path::new("/r/javascript:x/e/runs/a.json")),
            "../../../javascript%3Ax/e/runs/a.json"
        );
        // A target below the page: the first segment can never be read as a scheme.
        assert_eq!(
            relative_url(Path::new("/s/e/runs"), Path::new("/s/e/runs/javascript:alert(1)/x.json")),
            "javascript%3Aalert%281%29/x.json"
        );
    }

    #[test]
    fn json_flattens_to_dotted_leaves() {
        let v = serde_json::json!({"a": {"b": 1.5, "c": null}, "s": [1, 2], "t": "x"});
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        let want = [("a.b", "1.5"), ("a.c", "—"), ("s", "[1, 2]"), ("t", "x")];
        assert_eq!(out, want.map(|(k, v)| (k.to_string(), v.to_string())));
    }
}
