//! Every YAML and shell example of the README runs as written, so that none can rot.
//!
//! The fenced blocks are taken in document order and run in one scratch directory that holds the
//! repository's `experiments/` and `data/`: a `yaml` block is saved as an experiment file and
//! loaded by `linres list` (expansion and figure validation included); an `sh` block runs in bash
//! (`set -euo pipefail`) with the test binary first on `PATH`, so its `linres` commands write
//! into the scratch directory; a `python` block runs in the Python of `common::Tool::Pandas`
//! (skipped with one line where there is none). A block that is deliberately partial is preceded by
//! `<!-- readme-test: skip (reason) -->`; skips are counted, so they cannot grow silently. A block
//! that shows what an earlier block wrote is preceded by `<!-- readme-test: output FILE -->`: its
//! lines must appear in FILE in order, a line `...` standing for any number of lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Blocks the README marks as skipped (the `make` commands of the quick start, which are the
/// suite itself and the whole figure pipeline; the field reference of `figures`). Raise it only
/// for a block that cannot run by nature.
const EXPECTED_SKIPS: usize = 2;

/// Longest a block may take.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Block {
    /// The fence's language (`yaml`, `sh`).
    lang: String,
    text: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// The reason given by a skip marker.
    skip: Option<String>,
    /// The file an output marker says this block shows.
    output: Option<String>,
}

/// Whether the lines of `shown` appear in `actual` in order, each `...` line standing for any
/// number of lines (the other lines are contiguous runs).
fn shows(shown: &str, actual: &str) -> bool {
    let actual: Vec<&str> = actual.lines().collect();
    let shown: Vec<&str> = shown.lines().collect();
    let mut at = 0;
    for run in shown.split(|l| l.trim() == "...").filter(|r| !r.is_empty()) {
        match (at..=actual.len().saturating_sub(run.len())).find(|&i| actual.get(i..i + run.len()) == Some(run)) {
            Some(i) => at = i + run.len(),
            None => return false,
        }
    }
    true
}

/// The fenced blocks of a markdown text, with the skip marker that precedes each (if any).
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut marker: Option<String> = None;
    let mut output: Option<String> = None;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- readme-test: output") {
            let file = rest.trim_end_matches("-->").trim();
            assert!(!file.is_empty(), "README.md:{}: an output marker needs a file name", i + 1);
            output = Some(file.to_string());
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("<!-- readme-test: skip") {
            let reason = rest.trim_end_matches("-->").trim().trim_start_matches('(').trim_end_matches(')').trim();
            assert!(!reason.is_empty(), "README.md:{}: a skip marker needs a reason in parentheses", i + 1);
            marker = Some(reason.to_string());
            continue;
        }
        if let Some(lang) = trimmed.strip_prefix("```") {
            let mut text = String::new();
            for (_, l) in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                text.push_str(l);
                text.push('\n');
            }
            let (skip, output) = (marker.take(), output.take());
            out.push(Block { lang: lang.trim().to_string(), text, line: i + 1, skip, output });
            continue;
        }
        if !trimmed.is_empty() {
            marker = None;
            output = None;
        }
    }
    out
}

/// Runs a command, killing it after [`BLOCK_TIMEOUT`].
fn run_bounded(mut command: Command, what: &str) -> Output {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > BLOCK_TIMEOUT {
            child.kill().unwrap();
            panic!("{what} did not finish within {BLOCK_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A scratch directory with the repository's experiments and data, and a `bin/linres`.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["experiments", "data"] {
        std::os::unix::fs::symlink(repo.join(sub), dir.path().join(sub)).unwrap();
    }
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_linres"), bin.join("linres")).unwrap();
    (dir, bin)
}

#[test]
fn every_yaml_and_shell_example_of_the_readme_runs() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let all = blocks(&readme);
    let (dir, bin) = scratch();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let (mut yaml, mut shell, mut outputs, mut skipped) = (0, 0, 0, Vec::new());
    for (n, block) in all.iter().enumerate() {
        let at = format!("README.md:{} ({} block)", block.line, block.lang);
        if let Some(reason) = &block.skip {
            skipped.push(format!("{at}: {reason}"));
            continue;
        }
        if let Some(file) = &block.output {
            let actual = std::fs::read_to_string(dir.path().join(file))
                .unwrap_or_else(|e| panic!("{at} shows {file}, which no earlier block wrote: {e}"));
            assert!(
                shows(&block.text, &actual),
                "{at} does not show {file} as written:\n{}\n--- {file}\n{actual}",
                block.text
            );
            outputs += 1;
            continue;
        }
        let output = match block.lang.as_str() {
            "yaml" => {
                let file = format!("readme_block_{n}.yaml");
                std::fs::write(dir.path().join(&file), &block.text).unwrap();
                let mut c = Command::new(bin.join("linres"));
                c.current_dir(dir.path()).args(["list", &file]);
                yaml += 1;
                run_bounded(c, &at)
            }
            "sh" => {
                let mut c = Command::new("bash");
                c.current_dir(dir.path()).env("PATH", &path).args(["-euo", "pipefail", "-c", &block.text]);
                shell += 1;
                run_bounded(c, &at)
            }
            "python" => {
                let Some(python) = crate::common::outside(crate::common::Tool::Pandas) else { continue };
                let mut c = Command::new(python);
                c.current_dir(dir.path()).env("MPLBACKEND", "Agg").args(["-c", &block.text]);
                run_bounded(c, &at)
            }
            other => {
                panic!(
                    "{at}: a fenced block in README.md must be `yaml`, `sh` or `python` (got `{other}`), or be marked as skipped or as output"
                )
            }
        };
        assert!(
            output.status.success(),
            "{at} fails:\n{}\n--- stdout\n{}\n--- stderr\n{}",
            block.text,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(
        yaml >= 2 && shell >= 2 && outputs >= 1,
        "found {yaml} YAML, {shell} shell and {outputs} output blocks: is the parser broken?"
    );
    assert_eq!(skipped.len(), EXPECTED_SKIPS, "skipped blocks changed:\n{}", skipped.join("\n"));
}

#[test]
fn the_block_parser_finds_fences_and_markers() {
    let md = "text\n<!-- readme-test: skip (a reason) -->\n\n```sh\nmake x\n```\n\
              ```yaml\na: 1\n```\n<!-- readme-test: skip (r) -->\nprose\n```sh\nls\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 3);
    assert_eq!((b[0].lang.as_str(), b[0].skip.as_deref(), b[0].text.as_str()), ("sh", Some("a reason"), "make x\n"));
    assert_eq!((b[1].lang.as_str(), b[1].skip.as_deref(), b[1].line), ("yaml", None, 7));
    assert_eq!(b[2].skip, None, "a marker applies only to the block right after it");
    let b = blocks("<!-- readme-test: output t.tex -->\n```latex\na\n```\n");
    assert_eq!((b[0].output.as_deref(), b[0].skip.as_deref()), (Some("t.tex"), None));
}

#[test]
fn an_output_block_matches_only_what_the_file_holds_in_order() {
    let file = "head\n1\n2\n3\ntail\n";
    assert!(shows("head\n1\n...\ntail\n", file));
    assert!(shows("head\n1\n2\n3\ntail\n", file));
    assert!(!shows("head\n2\n...\ntail\n", file), "lines between elisions are contiguous");
    assert!(!shows("tail\n...\nhead\n", file), "order matters");
    assert!(!shows("head\n9\n", file));
}

/// The anchor GitHub gives a markdown heading: lower case, spaces as `-`, punctuation but `-` and
/// `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every `](#anchor)` link of the README (the quick start's table of contents) leads to a heading
/// of the README, headings inside code blocks not counted.
#[test]
fn every_link_to_a_readme_section_finds_its_heading() {
    assert_eq!(
        anchor("What the paper claims, and what linres measures"),
        "what-the-paper-claims-and-what-linres-measures"
    );
    assert_eq!(anchor("`linres train`"), "linres-train");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut headings = std::collections::HashSet::new();
    let mut in_code = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            headings.insert(anchor(line.trim_start_matches('#').trim()));
        }
    }
    let links: Vec<&str> =
        readme.match_indices("](#").map(|(i, _)| readme[i + 3..].split(')').next().unwrap_or_default()).collect();
    assert!(links.len() >= 5, "the quick start's contents link the main sections: {links:?}");
    for link in links {
        assert!(headings.contains(link), "README link #{link} leads to no heading");
    }
}
