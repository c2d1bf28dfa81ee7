//! Text from input written into an output format so that it reads back as the same text and as
//! nothing else: one function per format. Every string that an experiment file, a results
//! directory or a record supplies (names, labels, claims, grid values, paths, cells) goes through
//! the function of the format it is written in; numbers linres formats itself do not need to.
//!
//! | format | function | what it guards against |
//! |---|---|---|
//! | CSV for spreadsheets | [`csv_text`] | a text cell read as a formula (`=`, `+`, `-`, `@`, TAB, CR) |
//! | Markdown (GFM tables) | [`markdown_text`], [`markdown_code`] | links, HTML, emphasis, code, a forged cell or row |
//! | LaTeX | [`latex_text`] | commands, groups, comments, math, optional arguments, ligatures, invalid characters |
//! | HTML | [`html_text`] | tags and attributes |
//! | XML (SVG figures) | [`xml_chars`] | characters XML cannot hold (an SVG no reader opens) |
//! | URL path | [`url_segment`] | a scheme (`javascript:`), a query, a fragment, a wrong file |
//! | terminal | [`terminal_text`], [`terminal_output`] | escape sequences, a forged line, reordered text |

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt::Write;

/// A text cell of a CSV file meant for spreadsheets: prefixed with `'` when it begins with a
/// character that makes a spreadsheet read the cell as a formula (`=`, `+`, `-`, `@`, TAB or CR,
/// as OWASP lists them) and is not a number; spreadsheets show the `'` prefix as text and hide it.
/// A cell that Rust reads as a finite number (`-0.5`, `+3`, `-1e-6`) is never touched. Quoting is
/// the CSV writer's job.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    let live = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if live && !text.parse::<f64>().is_ok_and(f64::is_finite) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Characters that Markdown (CommonMark with the GFM extensions and pulldown-cmark's: tables,
/// strikethrough, math, footnotes, wiki links, super- and subscripts) gives a meaning inside a
/// line; each is written backslash-escaped, which CommonMark reads as the character itself.
const MARKDOWN_LIVE: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '|', '~', '$', '&', '^'];

/// `text` as the content of a Markdown table cell (or any inline text) that a CommonMark/GFM
/// reader shows as exactly `text`: the characters of [`MARKDOWN_LIVE`] backslash-escaped (an
/// underscore inside a word is inert and left as it is), control characters (CR and LF included,
/// which would end the row) and whitespace at either end (which a table trims) written as numeric
/// character references, NUL as U+FFFD (CommonMark reads every NUL so). No link, image, HTML,
/// emphasis, code span or extra cell can come out of it.
pub fn markdown_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let first_kept = chars.iter().position(|c| !c.is_whitespace()).unwrap_or(chars.len());
    let last_kept = chars.iter().rposition(|c| !c.is_whitespace()).map_or(0, |i| i + 1);
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let inert_underscore = c == '_'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        match c {
            '\0' => out.push('\u{FFFD}'),
            c if c.is_control() || (c.is_whitespace() && (i < first_kept || i >= last_kept)) => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if MARKDOWN_LIVE.contains(&c) && !inert_underscore => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` as an inline code span when it holds only ASCII letters, digits and `-_./` (names, which
/// the experiment file's rules restrict to these), otherwise as [`markdown_text`].
pub fn markdown_code(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        format!("`{text}`")
    } else {
        markdown_text(text)
    }
}

/// `text` for LaTeX's text mode that pdflatex typesets as exactly `text` wherever it stands (in a
/// cell, after `\\` or `\midrule`, in a `%` comment line): the ten specials as commands
/// (`\ & % $ # _ { } ~ ^`), `[`, `]` and `*` braced (`{[}`: after `\\` or a booktabs rule a bare `[`
/// would open an optional argument and `*` would be eaten), the characters the default fonts or
/// ligatures show as something else as text commands (`< > | " ' `` ` ``) or split by `{}` (`--`,
/// `,,`), line breaks and tabs as spaces (a blank line would end the table) and other control
/// characters, which TeX refuses, as a visible `\xHH`. Non-ASCII characters are passed through
/// (pdflatex with `\usepackage[utf8]{inputenc}` and T1 fonts typesets the Latin ones), except the
/// Greek letters and mathematical signs of [`math_symbol`], which pdflatex's text fonts lack: they
/// are written as math (`κ` → `\ensuremath{\kappa}`), valid in text and in math mode.
pub fn latex_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '[' | ']' | '*' => {
                out.push('{');
                out.push(c);
                out.push('}');
            }
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '"' => out.push_str("\\textquotedbl{}"),
            '\'' => out.push_str("\\textquotesingle{}"),
            '`' => out.push_str("\\textasciigrave{}"),
            '-' | ',' if chars.peek() == Some(&c) => {
                out.push(c);
                out.push_str("{}");
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\textbackslash{{}}x{:02X}", c as u32);
            }
            c => match math_symbol(c) {
                Some(command) => {
                    let _ = write!(out, "\\ensuremath{{{command}}}");
                }
                None => out.push(c),
            },
        }
    }
    out
}

/// The LaTeX math command of a Greek letter or a mathematical sign that labels use (`κ`, `η`, `ρ`,
/// `≤`, `×`, `±`, `∞`, `−`, …); `None` for any other character.
fn math_symbol(c: char) -> Option<&'static str> {
    const GREEK: &str = "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ";
    const NAMES: [&str; 34] = [
        "\\alpha",
        "\\beta",
        "\\gamma",
        "\\delta",
        "\\varepsilon",
        "\\zeta",
        "\\eta",
        "\\theta",
        "\\iota",
        "\\kappa",
        "\\lambda",
        "\\mu",
        "\\nu",
        "\\xi",
        "\\pi",
        "\\rho",
        "\\sigma",
        "\\tau",
        "\\upsilon",
        "\\varphi",
        "\\chi",
        "\\psi",
        "\\omega",
        "\\Gamma",
        "\\Delta",
        "\\Theta",
        "\\Lambda",
        "\\Xi",
        "\\Pi",
        "\\Sigma",
        "\\Upsilon",
        "\\Phi",
        "\\Psi",
        "\\Omega",
    ];
    if let Some(i) = GREEK.chars().position(|g| g == c) {
        return Some(NAMES[i]);
    }
    Some(match c {
        '≤' => "\\le",
        '≥' => "\\ge",
        '×' => "\\times",
        '·' => "\\cdot",
        '±' => "\\pm",
        '∞' => "\\infty",
        '−' => "-",
        '≈' => "\\approx",
        '→' => "\\to",
        '‖' => "\\|",
        _ => return None,
    })
}

/// `text` with the five characters that HTML gives meaning (`& < > " '`) written as entities, so
/// that any string from input reads as text in element content and in quoted attributes.
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// XML text (an SVG figure) with the characters XML 1.0 cannot carry at all, not even as
/// character references (the C0 control characters other than TAB, LF and CR; U+FFFE, U+FFFF),
/// written visibly as their Rust escape (`\u{b}`). The markup characters (`& < > " '`) are the
/// XML writer's to escape; they are left as they are.
pub fn xml_chars(text: &str) -> Cow<'_, str> {
    let forbidden =
        |c: char| ((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if !text.chars().any(forbidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars().map(|c| if forbidden(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect(),
    )
}

/// One path segment (a file or directory name) of a relative URL: every byte outside RFC 3986's
/// unreserved characters (`A–Z a–z 0–9 - . _ ~`) percent-encoded, so the segment names exactly
/// that file and cannot start a scheme (`javascript:`), a query (`?`), a fragment (`#`) or another
/// segment (`/`). A name that is not UTF-8 is encoded byte for byte.
pub fn url_segment(segment: &OsStr) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(segment).to_vec();
    #[cfg(not(unix))]
    let bytes = segment.to_string_lossy().into_owned().into_bytes();
    let mut out = String::with_capacity(bytes.len());
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Characters a terminal does not show as themselves: control characters (C0 with TAB, CR and LF,
/// DEL, C1, whose ESC and CSI start escape sequences) and the bidirectional formatting characters
/// (which reorder what follows them on the line).
fn terminal_live(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` for a terminal: every character that a terminal would act on instead of showing
/// ([`terminal_live`]) written as its Rust escape (`\n`, `\r`, `\t`, `\u{1b}`, `\u{202e}`), so
/// that text from data can neither move the cursor, recolour, retitle or ring the terminal, nor
/// start a line of its own.
pub fn terminal_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(terminal_live) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if terminal_live(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Output that a command lays out itself (lines, columns) for a terminal: [`terminal_text`] of
/// every piece between its line breaks and tabs, which stay. Data printed in it should have gone
/// through [`terminal_text`] already where a line break of its own would forge a line.
pub fn terminal_output(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| terminal_live(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for piece in text.split_inclusive(['\n', '\t']) {
        let (body, end) = match piece.strip_suffix(['\n', '\t']) {
            Some(body) => (body, &piece[body.len()..]),
            None => (piece, ""),
        };
        out.push_str(&terminal_text(body));
        out.push_str(end);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_prefixes_formulas_but_not_numbers() {
        for (text, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-inf", "'-inf"),
            ("-0.5", "-0.5"),
            ("+3", "+3"),
            ("-1e-6", "-1e-6"),
            ("resnet", "resnet"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_text(text), want, "{text:?}");
        }
    }

    #[test]
    fn markdown_escapes_what_is_live_and_keeps_words() {
        assert_eq!(markdown_text("final_rel_excess"), "final_rel_excess");
        assert_eq!(markdown_text("_a_ *b* `c`"), "\\_a\\_ \\*b\\* \\`c\\`");
        assert_eq!(markdown_text("[x](javascript:alert(1))"), "\\[x\\](javascript:alert(1))");
        assert_eq!(markdown_text("a|b <i>\n| FAIL |"), "a\\|b \\<i>&#10;\\| FAIL \\|");
        assert_eq!(markdown_text(" a "), "&#32;a&#32;");
        assert_eq!(markdown_text("&amp;"), "\\&amp;");
        assert_eq!(markdown_code("paper_fig1/zou-bound.x"), "`paper_fig1/zou-bound.x`");
        assert_eq!(markdown_code("a`b"), "a\\`b");
    }

    #[test]
    fn latex_specials_become_commands() {
        assert_eq!(
            latex_text(r"a_b & 50% $x$ #1 {y} ~ ^ \"),
            r"a\_b \& 50\% \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
        );
        assert_eq!(latex_text("[5pt]a*"), "{[}5pt{]}a{*}");
        assert_eq!(latex_text("a--b,,c"), "a-{}-b,{},c");
        assert_eq!(latex_text("x\ny\u{1b}"), "x y\\textbackslash{}x1B");
        assert_eq!(latex_text("κ = 2, é"), "\\ensuremath{\\kappa} = 2, é", "Greek as math, Latin letters as they are");
    }

    #[test]
    fn html_escapes_every_markup_character() {
        assert_eq!(
            html_text(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(html_text("κ = 2 · L"), "κ = 2 · L");
    }

    #[test]
    fn xml_keeps_what_xml_carries() {
        assert_eq!(xml_chars("a\tb\nc\rd κ <"), "a\tb\nc\rd κ <");
        assert_eq!(xml_chars("a\u{b}b\u{0}\u{7f}\u{85}\u{ffff}"), "a\\u{b}b\\u{0}\u{7f}\u{85}\\u{ffff}");
    }

    #[test]
    fn url_segments_are_percent_encoded() {
        assert_eq!(url_segment(OsStr::new("javascript:alert(1)")), "javascript%3Aalert%281%29");
        assert_eq!(url_segment(OsStr::new("a b?#%/κ")), "a%20b%3F%23%25%2F%CE%BA");
        assert_eq!(url_segment(OsStr::new("run-1_a.json")), "run-1_a.json");
    }

    #[test]
    fn terminal_text_shows_control_characters() {
        assert_eq!(terminal_text("plain · κ"), "plain · κ");
        assert_eq!(terminal_text("a\u{1b}[31mb\nc\r\u{7}\u{202e}"), "a\\u{1b}[31mb\\nc\\r\\u{7}\\u{202e}");
        assert_eq!(terminal_output("a\u{1b}]0;t\u{7}\tb\r\nc\n"), "a\\u{1b}]0;t\\u{7}\tb\\r\nc\n");
    }
}
