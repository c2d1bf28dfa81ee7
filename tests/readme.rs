//! Every YAML and shell example of the README runs as written, so that none can rot.
//!
//! The fenced blocks are taken in document order and run in one scratch directory that holds the
//! repository's `experiments/` and `data/`: a `yaml` block is saved as an experiment file and
//! loaded by `linres list` (expansion and figure validation included); an `sh` block runs in bash
//! (`set -euo pipefail`) with the test binary first on `PATH`, so its `linres` commands write
//! into the scratch directory. A block that is deliberately partial is preceded by
//! `<!-- readme-test: skip (reason) -->`; skips are counted, so they cannot grow silently.

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
}

/// The fenced blocks of a markdown text, with the skip marker that precedes each (if any).
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut marker: Option<String> = None;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
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
            out.push(Block { lang: lang.trim().to_string(), text, line: i + 1, skip: marker.take() });
            continue;
        }
        if !trimmed.is_empty() {
            marker = None;
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
    let (mut yaml, mut shell, mut skipped) = (0, 0, Vec::new());
    for (n, block) in all.iter().enumerate() {
        let at = format!("README.md:{} ({} block)", block.line, block.lang);
        if let Some(reason) = &block.skip {
            skipped.push(format!("{at}: {reason}"));
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
            other => {
                panic!("{at}: a fenced block in README.md must be `yaml` or `sh` (got `{other}`), or be marked skipped")
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
    assert!(yaml >= 2 && shell >= 2, "found {yaml} YAML and {shell} shell blocks: is the parser broken?");
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
}
