//! Property test (issue 20 item 2): random bytes in every path and option that `linres slurm`
//! writes into its scripts (the binary's directory, the experiment file's directory, the working
//! directory, `--results`, `--set`, `--filter`, `--time`, `--partition`, `--mem`, `--sbatch-arg`).
//! Either the command exits 2 naming an input that breaks the documented rule (or a `--set` or
//! `--filter` whose YAML does not parse) and writes nothing, or every input keeps the rule and bash,
//! running both scripts, calls only linres (a stand-in that records its argv) with exactly the
//! expected arguments, and no injected command runs ([`common::SlurmCase`]).
//!
//! The rule, written here independently of the code under test (module `cluster::slurm`): every
//! text is UTF-8 without control characters; in an `#SBATCH` line (the working directory, the
//! results directory, the resources) also without whitespace, `"`, `'`, `\`, `#`, and in the paths
//! there without `%`.
//!
//! Cases are drawn from a fixed seed as in `tests/properties/properties.rs`; `PROPTEST_CASES` and
//! `PROPTEST_RNG_SEED` choose others.

use crate::common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use common::SlurmCase;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

const SEED: u64 = 20_200_302;
const DEFAULT_CASES: u32 = 48;

fn config() -> Config {
    let from_env = Config::default();
    let rng_seed = match from_env.rng_seed {
        RngSeed::Random => RngSeed::Fixed(SEED),
        chosen => chosen,
    };
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        rng_seed,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..from_env
    }
}

/// Pieces of text that keep the rule everywhere: plain ones, shell syntax without whitespace,
/// Unicode letters.
const EVERYWHERE: &[&str] = &[
    "a",
    "Z",
    "7",
    "-",
    "_",
    ".",
    "=",
    ":",
    "é",
    "✓",
    "$(touch${IFS}canary)",
    "`touch${IFS}canary`",
    ";touch${IFS}canary",
    "|",
    "&",
    "<",
    ">",
    "*",
    "?",
    "~",
    "!",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "$",
];
/// Pieces that keep the rule in a word of a command only: whitespace, quotes, `\`, `#`, `%`.
const WORDS_ONLY: &[&str] = &[" ", "\u{a0}", "'", "\"", "\\", "#", "$(touch canary)", "%", "%j"];
/// Pieces that break it anywhere: control characters (C0, DEL, C1). (NUL cannot be in an argument
/// or a file name; the library's own test covers it.)
const NOWHERE: &[&str] = &["\t", "\n", "\r", "\u{1b}[2J", "\u{7f}", "\u{85}"];

/// Bytes that are not UTF-8, for paths.
const NOT_UTF8: &[&[u8]] = &[b"\xff", b"\xc3", b"\xed\xa0\x80"];

/// Random text from `pieces` (each a list of pieces to choose from).
fn text(pieces: Vec<&'static [&'static str]>) -> impl Strategy<Value = String> {
    let piece = prop::sample::select(pieces).prop_flat_map(prop::sample::select);
    prop::collection::vec(piece, 0..5).prop_map(|parts| parts.concat())
}

/// Text for a value of an `#SBATCH` line (`hostile`: from every piece) and for a word.
fn texts(hostile: bool) -> (BoxedStrategy<String>, BoxedStrategy<String>) {
    if hostile {
        let all = || text(vec![EVERYWHERE, EVERYWHERE, WORDS_ONLY, NOWHERE]).boxed();
        (all(), all())
    } else {
        (text(vec![EVERYWHERE]).boxed(), text(vec![EVERYWHERE, WORDS_ONLY]).boxed())
    }
}

/// A directory name: `prefix` and `text`, sometimes (`hostile`) with bytes that are not UTF-8
/// (never `/`).
fn dir_name(prefix: &'static str, text: BoxedStrategy<String>, hostile: bool) -> BoxedStrategy<OsString> {
    let bad: BoxedStrategy<Option<&[u8]>> =
        if hostile { prop::option::weighted(0.2, prop::sample::select(NOT_UTF8)).boxed() } else { Just(None).boxed() };
    (text, bad)
        .prop_map(move |(t, bad)| {
            let mut bytes = format!("{prefix}{t}").replace('/', "").into_bytes();
            bytes.extend(bad.unwrap_or_default());
            OsString::from_vec(bytes)
        })
        .boxed()
}

/// A text with no control character (the rule for a word of a command).
fn word_ok(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

/// The rule for a value of an `#SBATCH` line; `path`: a file name there.
fn directive_ok(text: &str, path: bool) -> bool {
    word_ok(text) && !text.chars().any(|c| c.is_whitespace() || "\"'\\#".contains(c)) && !(path && text.contains('%'))
}

#[derive(Debug, Clone)]
struct Inputs {
    bin: OsString,
    spec: OsString,
    work: OsString,
    results: OsString,
    set: String,
    filter: String,
    time: String,
    partition: String,
    mem: String,
    sbatch_arg: String,
}

/// Inputs drawn from every piece (about half of the cases), or from pieces that keep the rule
/// in their place, so that both outcomes are tested.
fn inputs() -> impl Strategy<Value = Inputs> {
    any::<bool>().prop_flat_map(|hostile| {
        let (line, word) = texts(hostile);
        (
            (
                dir_name("b", word.clone(), hostile),
                dir_name("s", word.clone(), hostile),
                dir_name("w", line.clone(), hostile),
                dir_name("r", line.clone(), hostile),
            ),
            (word.clone(), word, line.clone(), line.clone(), line.clone(), line),
        )
            .prop_map(|((bin, spec, work, results), (set, filter, time, partition, mem, arg))| Inputs {
                bin,
                spec,
                work,
                results,
                // A YAML comment after a valid value; an alternative in YAML single quotes (no `,`,
                // which separates alternatives) beside one that selects runs.
                set: format!("data.noise=0.25 # {set}"),
                filter: format!("seed=0,'{}'", filter.replace(',', "").replace('\'', "''")),
                time: format!("1:00{time}"),
                partition: format!("p{partition}"),
                mem: format!("4G{mem}"),
                sbatch_arg: format!("--comment={arg}"),
            })
    })
}

impl Inputs {
    fn case(&self) -> SlurmCase {
        let mut args: Vec<OsString> = vec!["--results".into(), self.results.clone()];
        for (flag, v) in [
            ("--set", &self.set),
            ("--filter", &self.filter),
            ("--time", &self.time),
            ("--partition", &self.partition),
            ("--mem", &self.mem),
            ("--sbatch-arg", &self.sbatch_arg),
        ] {
            args.extend([flag.into(), v.into()]);
        }
        SlurmCase { bin: self.bin.clone(), spec: self.spec.clone(), work: self.work.clone(), args }
    }

    /// The names (as errors give them) of the inputs that break the rule, and of those a YAML
    /// parser reads (which may refuse them whatever they hold).
    fn refusable(&self) -> Vec<&'static str> {
        let path_text = |p: &OsString| p.to_str().map(String::from);
        let mut out = Vec::new();
        if !path_text(&self.bin).is_some_and(|t| word_ok(&t)) {
            out.push("the linres binary");
        }
        if !path_text(&self.spec).is_some_and(|t| word_ok(&t)) {
            out.push("SPEC");
        }
        let work_ok = path_text(&self.work).is_some_and(|t| directive_ok(&t, true));
        if !work_ok {
            out.push("the working directory");
        }
        if !work_ok || !path_text(&self.results).is_some_and(|t| directive_ok(&t, true)) {
            out.push("--results");
        }
        out.extend(["--set", "--filter"]);
        for (flag, v) in [
            ("--time", &self.time),
            ("--partition", &self.partition),
            ("--mem", &self.mem),
            ("--sbatch-arg", &self.sbatch_arg),
        ] {
            if !directive_ok(v, false) {
                out.push(flag);
            }
        }
        out
    }

    /// Whether every input keeps the rule (then the command must accept them, unless the YAML of
    /// `--set` or `--filter` does not parse).
    fn all_ok(&self) -> bool {
        self.refusable().len() == 2 && word_ok(&self.set) && word_ok(&self.filter)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_in_slurm_inputs_are_refused_by_name_or_run_only_linres(inputs in inputs()) {
        match inputs.case().run() {
            Ok(()) => prop_assert!(inputs.all_ok(), "accepted although an input breaks the rule: {inputs:?}"),
            Err(out) => {
                let named = out.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or_default();
                let refusable = inputs.refusable();
                prop_assert!(
                    refusable.iter().any(|name| named.starts_with(&format!("{name}:"))),
                    "refused, but not naming an input that breaks the rule ({refusable:?}): {out}\n{inputs:?}"
                );
                // The script check's own messages show the text escaped (the loader's YAML errors are
                // another module's).
                if named.contains("#SBATCH line") || named.contains("sbatch scripts") {
                    prop_assert!(!named.chars().any(char::is_control), "raw control characters: {named:?}");
                }
            }
        }
    }
}

/// The property holds on the inputs above for a reason: draws include both outcomes.
#[test]
fn the_random_inputs_include_accepted_and_refused_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(config());
    let drawn: Vec<Inputs> = (0..200).map(|_| inputs().new_tree(&mut runner).unwrap().current()).collect();
    let ok = drawn.iter().filter(|i| i.all_ok()).count();
    assert!((40..=160).contains(&ok), "{ok} of 200 draws keep the rule");
}
