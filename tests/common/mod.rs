//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use linres::config::{ResolvedRun, RunConfig};

/// Left-trims every line, so tests can indent flat YAML (nested values in flow style) freely.
pub fn dedent(yaml: &str) -> String {
    yaml.lines().map(str::trim_start).collect::<Vec<_>>().join("\n")
}

/// A resolved run from a flat YAML mapping (relative paths from the current directory).
pub fn run(yaml: &str) -> ResolvedRun {
    serde_norway::from_str::<RunConfig>(&dedent(yaml))
        .expect("test config parses")
        .resolve(Path::new("."))
        .expect("test config is valid")
}

/// The parse or resolution error of a flat YAML mapping, as text.
pub fn resolve_error(yaml: &str) -> String {
    match serde_norway::from_str::<RunConfig>(&dedent(yaml)) {
        Err(e) => e.to_string(),
        Ok(c) => c.resolve(Path::new(".")).expect_err("config should be rejected").to_string(),
    }
}

/// Every theory quantity of `run` with these facts, under the default constants.
pub fn report(run: &ResolvedRun, facts: &linres::theory::TheoryFacts) -> linres::theory::TheoryReport {
    report_with(run, facts, &linres::config::TheoryConstants::default())
}

/// Every theory quantity of `run` with these facts, under `constants`.
pub fn report_with(
    run: &ResolvedRun,
    facts: &linres::theory::TheoryFacts,
    constants: &linres::config::TheoryConstants,
) -> linres::theory::TheoryReport {
    linres::theory::TheoryReport::derive(facts, linres::theory::RunShape::of(run.config()), constants)
}

/// |a − b| ≤ rel·max(|a|, |b|) + abs.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

/// Every record file of a `runs/` directory: in its shard (`runs/<ab>/<id>.json`) or, in the
/// flat layout linres also reads, `runs/<id>.json`; sorted.
pub fn record_files(runs: &Path) -> Vec<std::path::PathBuf> {
    let json = |p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "json");
    let Ok(entries) = std::fs::read_dir(runs) else { return Vec::new() };
    let mut out = Vec::new();
    for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        if path.is_dir() {
            out.extend(std::fs::read_dir(&path).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).filter(json));
        } else if json(&path) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The record file of run `id` in `runs`: where it is (its shard, or the flat layout), else where
/// linres writes it (its shard).
pub fn record_file(runs: &Path, id: &str) -> std::path::PathBuf {
    let flat = runs.join(format!("{id}.json"));
    let shard = runs.join(&id[..2]).join(format!("{id}.json"));
    if !shard.exists() && flat.exists() { flat } else { shard }
}

/// Every record in a `runs/` directory, keyed by id and sorted, without the fields that
/// legitimately differ between executions (`seconds`, `provenance`).
pub fn records_in(runs: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, serde_json::Value)> = record_files(runs)
        .into_iter()
        .map(|p| {
            let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seconds");
            o.remove("provenance");
            (p.file_stem().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Asserts equal record sets (curves bit for bit), naming the first differing field instead of
/// printing both sets.
pub fn assert_same_records(got: &[(String, serde_json::Value)], want: &[(String, serde_json::Value)]) {
    assert_eq!(
        got.iter().map(|r| &r.0).collect::<Vec<_>>(),
        want.iter().map(|r| &r.0).collect::<Vec<_>>(),
        "record ids differ"
    );
    for ((id, a), (_, b)) in got.iter().zip(want) {
        if a != b {
            let (fa, fb) = (flatten(a, String::new()), flatten(b, String::new()));
            let diff = fa.iter().zip(&fb).find(|(x, y)| x != y);
            panic!("record {id} differs: {diff:?} ({} vs {} fields)", fa.len(), fb.len());
        }
    }
}

fn flatten(v: &serde_json::Value, path: String) -> Vec<(String, serde_json::Value)> {
    match v {
        serde_json::Value::Object(m) => m.iter().flat_map(|(k, x)| flatten(x, format!("{path}.{k}"))).collect(),
        serde_json::Value::Array(a) => {
            a.iter().enumerate().flat_map(|(i, x)| flatten(x, format!("{path}[{i}]"))).collect()
        }
        other => vec![(path, other.clone())],
    }
}

/// Runs the `linres` binary in `dir` as a user would.
pub fn linres(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the binary in `dir` as [`linres`] does, killing it if it has not finished after `limit`
/// (a hang fails the test). Both pipes are drained while it runs, so a long output cannot block it.
pub fn linres_within(dir: &Path, args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_linres"));
    command.current_dir(dir).args(args);
    let (o, hung) = finish_within(command, limit).expect("the binary starts");
    assert!(
        !hung,
        "`linres {}` did not finish within {limit:?} (a hang): {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Runs `command` (stdin empty, stdout and stderr drained while it runs) and returns its output
/// and whether it ran longer than `limit` (it is then killed); an error when it cannot start.
pub fn finish_within(
    mut command: std::process::Command,
    limit: std::time::Duration,
) -> std::io::Result<(std::process::Output, bool)> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes).unwrap_or_default()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let start = std::time::Instant::now();
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            break status;
        }
        if start.elapsed() > limit {
            hung = true;
            let _ = child.kill();
            break child.wait().expect("waiting for a killed child");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let output =
        std::process::Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() };
    Ok((output, hung))
}

/// stdout and stderr of a finished command, as text.
pub fn texts(o: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// stdout followed by stderr of a finished command, as one text.
pub fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every file under `root` with its bytes, by path relative to `root`.
pub fn tree(root: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A small grid (two widths, two seeds; milliseconds per run) named `name`.
pub fn small_grid(name: &str) -> String {
    format!(
        "name: {name}\nmaster_seed: 1\nseeds: 2\ndata: {{kind: paper, d: 3, n: 9}}\n\
         model: {{arch: resnet, depth: 2, width: [6, 8]}}\noptim: {{method: gd, iters: 3, step: {{rule: zou}}}}\n"
    )
}

/// A program outside linres that some tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// A SLURM cluster: `sbatch` on this machine, a controller that answers, a node that takes jobs.
    Slurm,
    /// Headless chromium (the report's pages, with their scripts).
    Chromium,
    /// pdflatex (LaTeX tables compiled).
    Pdflatex,
    /// pdftotext (the text of PDFs).
    Pdftotext,
    /// `script` (a terminal for the progress bar).
    Script,
    /// python3 (the NumPy reference's usage).
    Python3,
    /// prlimit (a process under an address-space limit).
    Prlimit,
    /// A Python with pandas, pyarrow and matplotlib from PyPI (the Parquet tables as a notebook
    /// reads them): `$LINRES_PYTHON` (the virtual environment `.ci/run` makes), else `python3`.
    Pandas,
}

/// The environment variable naming the Python of [`Tool::Pandas`].
pub const PYTHON: &str = "LINRES_PYTHON";

/// The environment variable that makes tests fail instead of skipping when a tool is absent:
/// tool names separated by commas (`slurm,chromium`), or `all`. `.ci/run` sets it.
pub const REQUIRE: &str = "LINRES_REQUIRE";

/// How long a probe may take before the tool counts as absent (a controller that does not answer).
const PROBE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Tool {
    pub const ALL: [Tool; 8] = [
        Tool::Slurm,
        Tool::Chromium,
        Tool::Pdflatex,
        Tool::Pdftotext,
        Tool::Script,
        Tool::Python3,
        Tool::Prlimit,
        Tool::Pandas,
    ];

    /// The name `LINRES_REQUIRE` uses.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Slurm => "slurm",
            Tool::Chromium => "chromium",
            Tool::Pdflatex => "pdflatex",
            Tool::Pdftotext => "pdftotext",
            Tool::Script => "script",
            Tool::Python3 => "python3",
            Tool::Prlimit => "prlimit",
            Tool::Pandas => "pandas",
        }
    }

    /// How to get it.
    fn how(self) -> &'static str {
        match self {
            Tool::Slurm => "scripts/slurm-local.sh start brings up a local cluster",
            Tool::Chromium => "apt-get install chromium",
            Tool::Pdflatex => "apt-get install texlive-latex-recommended",
            Tool::Pdftotext => "apt-get install poppler-utils",
            Tool::Script => "apt-get install bsdutils",
            Tool::Python3 => "apt-get install python3",
            Tool::Prlimit => "apt-get install util-linux",
            Tool::Pandas => {
                "python3 -m venv VENV && VENV/bin/pip install pandas pyarrow matplotlib, then LINRES_PYTHON=VENV/bin/python"
            }
        }
    }

    /// The program to run, or why the tool is not usable here.
    fn probe(self) -> Result<&'static str, String> {
        // `pdftotext --version` exits 1; `-v` exits 0 for both poppler and TeX Live.
        let runs = |program: &'static str, arg: &str| {
            let o = output_within(program, &[arg], PROBE_LIMIT)?;
            if o.status.success() { Ok(program) } else { Err(format!("`{program} {arg}` exits with {}", o.status)) }
        };
        match self {
            Tool::Slurm => {
                runs("sbatch", "--version")?;
                // A controller that answers (`scontrol ping` says so at once; `sinfo` would retry
                // for seconds), and a node in a state that takes jobs.
                let o = output_within("scontrol", &["ping"], PROBE_LIMIT)?;
                let ping = String::from_utf8_lossy(&o.stdout);
                if !o.status.success() || !ping.contains(" is UP") {
                    let first = ping.lines().next().unwrap_or_default().trim().to_string();
                    return Err(format!("no SLURM controller answers (`scontrol ping`: {first})"));
                }
                let o = output_within("sinfo", &["-h", "-o", "%t"], PROBE_LIMIT)?;
                if !o.status.success() {
                    let err = String::from_utf8_lossy(&o.stderr);
                    return Err(format!("no SLURM controller answers (`sinfo`: {})", err.trim()));
                }
                let states =
                    String::from_utf8_lossy(&o.stdout).split_whitespace().map(String::from).collect::<Vec<_>>();
                if !states.iter().any(|s| ["idle", "mix", "alloc", "comp"].contains(&s.as_str())) {
                    return Err(format!("the controller answers but no node takes jobs (node states {states:?})"));
                }
                // A node the controller believes idle may have lost its slurmd: run a job step.
                let o = output_within("srun", &["--immediate=5", "--time=1", "true"], 2 * PROBE_LIMIT)?;
                if !o.status.success() {
                    let err = String::from_utf8_lossy(&o.stderr);
                    return Err(format!(
                        "no node runs a job (`srun true`: {})",
                        err.lines().next().unwrap_or_default()
                    ));
                }
                Ok("sbatch")
            }
            Tool::Chromium => {
                runs("chromium", "--version").or_else(|e| runs("chromium-browser", "--version").map_err(|_| e))
            }
            Tool::Pdflatex => runs("pdflatex", "-v"),
            Tool::Pdftotext => runs("pdftotext", "-v"),
            Tool::Script => runs("script", "--version"),
            Tool::Python3 => runs("python3", "--version"),
            Tool::Prlimit => runs("prlimit", "--version"),
            Tool::Pandas => {
                let python: &'static str =
                    Box::leak(std::env::var(PYTHON).unwrap_or("python3".into()).into_boxed_str());
                let o = output_within(python, &["-c", "import pandas, pyarrow, matplotlib"], 6 * PROBE_LIMIT)?;
                if o.status.success() {
                    Ok(python)
                } else {
                    let err = String::from_utf8_lossy(&o.stderr);
                    Err(format!(
                        "`{python}` cannot import pandas, pyarrow and matplotlib ({})",
                        err.lines().last().unwrap_or_default()
                    ))
                }
            }
        }
    }

    /// Whether `LINRES_REQUIRE` asks for this tool (an unknown name in it fails the test).
    fn required(self) -> bool {
        let Ok(list) = std::env::var(REQUIRE) else { return false };
        let names: Vec<&str> = list.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
        for n in &names {
            assert!(
                *n == "all" || Tool::ALL.iter().any(|t| t.name() == *n),
                "{REQUIRE}={list}: unknown tool `{n}` (known: all, {})",
                Tool::ALL.map(Tool::name).join(", ")
            );
        }
        names.iter().any(|n| *n == "all" || *n == self.name())
    }
}

/// The program of `tool` when it is usable here. When it is not, the test is skipped: one line
/// `skipped: <test>: <why> (<how to get it>)` goes to the terminal (past the test harness's
/// capture), and the caller returns. When `LINRES_REQUIRE` names the tool, its absence fails the
/// test instead. Each tool is probed once per test binary.
pub fn outside(tool: Tool) -> Option<&'static str> {
    use std::io::Write;
    use std::sync::OnceLock;
    static PROBES: [OnceLock<Result<&'static str, String>>; Tool::ALL.len()] =
        [const { OnceLock::new() }; Tool::ALL.len()];
    let slot = Tool::ALL.iter().position(|t| *t == tool).expect("every tool is listed");
    // Read first, so that a misspelt name fails wherever the tools are.
    let required = tool.required();
    let why = match PROBES[slot].get_or_init(|| tool.probe()) {
        Ok(program) => return Some(program),
        Err(why) => why,
    };
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    if required {
        panic!("{test}: {REQUIRE} requires {} but {why} ({})", tool.name(), tool.how());
    }
    // One write, so that the line is not cut by the test harness's own output.
    let _ = std::io::stderr().write_all(format!("skipped: {test}: {why} ({})\n", tool.how()).as_bytes());
    None
}

/// The output of `program args`, or why it did not finish: it cannot start, or it ran longer than
/// `limit` (then it is killed).
pub fn output_within(program: &str, args: &[&str], limit: std::time::Duration) -> Result<std::process::Output, String> {
    let mut command = std::process::Command::new(program);
    command.args(args);
    match finish_within(command, limit) {
        Ok((_, true)) => Err(format!("`{program} {}` did not finish within {limit:?}", args.join(" "))),
        Ok((o, false)) => Ok(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("`{program}` is not installed")),
        Err(e) => Err(format!("cannot run `{program}`: {e}")),
    }
}

/// The linres binary under another path, `dir/linres` (a hard link, or a copy across file
/// systems), so that the scripts `linres slurm` writes name it; for running those scripts it is
/// swapped for a fake that records how it was called ([`LinkedLinres::run_script`]).
pub struct LinkedLinres {
    pub path: std::path::PathBuf,
}

impl LinkedLinres {
    /// Links the binary into `dir` (which must exist).
    pub fn new(dir: &Path) -> LinkedLinres {
        let path = dir.join("linres");
        Self::link(&path);
        LinkedLinres { path }
    }

    fn link(path: &Path) {
        let real = Path::new(env!("CARGO_BIN_EXE_linres"));
        if std::fs::hard_link(real, path).is_err() {
            std::fs::copy(real, path).expect("copying the binary");
        }
    }

    /// Runs `linres args` through this path, in `cwd`.
    pub fn run(&self, cwd: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
        std::process::Command::new(&self.path).current_dir(cwd).args(args).output().expect("the binary runs")
    }

    /// Runs `script` with bash in `cwd` (`SLURM_ARRAY_TASK_ID=0`, no SLURM variable else, `PATH`
    /// the system's) while a fake stands in for the binary: returns the argv (`$0` first) of every
    /// call of the fake, in order, and bash's output. The binary is back in place afterwards.
    pub fn run_script(&self, script: &Path, cwd: &Path) -> (Vec<Vec<std::ffi::OsString>>, std::process::Output) {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        let calls = tempfile::tempdir().unwrap();
        std::fs::remove_file(&self.path).unwrap();
        std::fs::write(
            &self.path,
            "#!/bin/bash\nshopt -s nullglob\ncalls=(\"$FAKE_CALLS\"/*)\nprintf '%s\\0' \"$0\" \"$@\" > \"$FAKE_CALLS/${#calls[@]}\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut bash = std::process::Command::new("bash");
        bash.arg(script)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("SLURM_ARRAY_TASK_ID", "0")
            .env("FAKE_CALLS", calls.path());
        let (output, hung) = finish_within(bash, std::time::Duration::from_secs(20)).expect("bash runs");
        std::fs::remove_file(&self.path).unwrap();
        Self::link(&self.path);
        assert!(!hung, "{} did not finish", script.display());
        let mut argvs = Vec::new();
        for i in 0.. {
            let Ok(bytes) = std::fs::read(calls.path().join(i.to_string())) else { break };
            let words = bytes.strip_suffix(b"\0").unwrap_or(&bytes);
            argvs.push(words.split(|b| *b == 0).map(|w| std::ffi::OsStr::from_bytes(w).to_owned()).collect());
        }
        (argvs, output)
    }
}

/// A file no injected command may create: the hostile payloads of the slurm tests `touch` it.
pub const CANARY: &str = "canary";

/// Whether a file named [`CANARY`] exists anywhere below `dir`.
pub fn canary_below(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name() == CANARY || (e.file_type().is_ok_and(|t| t.is_dir()) && canary_below(&e.path())))
}

/// `linres slurm SPEC --tasks 2 ARGS…` run through a binary in `<root>/<bin>/linres`, with the
/// experiment file at `<root>/<spec>/t.yaml` (a small grid without figures) and the working
/// directory `<root>/<work>`, in a fresh `<root>`.
#[derive(Debug, Clone)]
pub struct SlurmCase {
    pub bin: std::ffi::OsString,
    pub spec: std::ffi::OsString,
    pub work: std::ffi::OsString,
    pub args: Vec<std::ffi::OsString>,
}

impl SlurmCase {
    pub fn new(bin: &str, spec: &str, work: &str, args: &[&str]) -> SlurmCase {
        SlurmCase { bin: bin.into(), spec: spec.into(), work: work.into(), args: args.iter().map(Into::into).collect() }
    }

    /// The values given to `flag`, as text (the arguments of an accepted case are text).
    fn values(&self, flag: &str) -> Vec<String> {
        let text = |v: &std::ffi::OsString| {
            v.to_str().map(String::from).unwrap_or_else(|| panic!("accepted {v:?}, which is not UTF-8"))
        };
        self.args.windows(2).filter(|w| w[0] == flag).map(|w| text(&w[1])).collect()
    }

    /// Runs the case: `Err(output)` when `linres slurm` exits 2 (then it must have written
    /// nothing); else bash runs both scripts (as task 0, [`LinkedLinres::run_script`]) and they
    /// must call linres, and nothing else, exactly as the scripts' documentation says: array.sbatch
    /// `linres run SPEC [--set S]… --results DIR --shard 0/2 --jobs 1 [--filter F]…`, finalize.sbatch
    /// `… --tables-only` and `linres status SPEC [--set S]… --results DIR`, with absolute paths.
    pub fn run(&self) -> Result<(), String> {
        let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let [bin, spec_dir, work] = [&self.bin, &self.spec, &self.work].map(|d| root.path().join(d));
        for d in [&bin, &spec_dir, &work] {
            std::fs::create_dir_all(d).unwrap();
        }
        let linres = LinkedLinres::new(&bin);
        let spec = spec_dir.join("t.yaml");
        std::fs::write(&spec, small_grid("tiny")).unwrap();
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["slurm".as_ref(), spec.as_os_str(), "--tasks".as_ref(), "2".as_ref()];
        args.extend(self.args.iter().map(|a| a.as_os_str()));
        let o = linres.run(&work, &args);
        let results_arg = self.args.windows(2).find(|w| w[0] == "--results").map_or("results".as_ref(), |w| &*w[1]);
        let results = std::path::absolute(work.join(results_arg)).unwrap();
        let (out, err) = texts(&o);
        if o.status.code() == Some(2) {
            assert!(!results.exists(), "a refused command wrote {}", results.display());
            return Err(format!("{out}{err}"));
        }
        assert!(o.status.success(), "{out}{err}");
        let word = |p: &Path| p.to_str().unwrap_or_else(|| panic!("accepted {p:?}, which is not UTF-8")).to_string();
        let head = |command: &str| {
            let mut argv = vec![word(&linres.path), command.to_string(), word(&spec.canonicalize().unwrap())];
            for s in self.values("--set") {
                argv.extend(["--set".to_string(), s]);
            }
            argv.extend(["--results".to_string(), word(&results)]);
            argv
        };
        let mut array = head("run");
        array.extend(["--shard", "0/2", "--jobs", "1"].map(String::from));
        for f in self.values("--filter") {
            array.extend(["--filter".to_string(), f]);
        }
        let mut tables = head("run");
        tables.push("--tables-only".to_string());
        let want = vec![array, tables, head("status")];
        let mut calls = Vec::new();
        for script in ["array.sbatch", "finalize.sbatch"] {
            let (argvs, out) = linres.run_script(&results.join("tiny/slurm").join(script), &work);
            let (o, e) = texts(&out);
            assert!(out.status.success() && e.is_empty(), "{script}: {o}{e}");
            calls
                .extend(argvs.into_iter().map(|a| a.into_iter().map(|w| w.into_string().unwrap()).collect::<Vec<_>>()));
        }
        assert_eq!(calls, want, "the scripts call linres with other arguments");
        assert!(!canary_below(root.path()), "an injected command ran");
        Ok(())
    }
}

/// The experiment `spec` with every run computed into `results` (2 threads), loaded as every
/// output reads it.
pub fn computed_experiment(spec: linres::grid::Spec, results: &Path) -> linres::experiment::Experiment {
    let runs = spec.expand().unwrap();
    let store = linres::store::Store::new(results, &spec.name);
    linres::runner::run_grid(&store, &runs, &linres::runner::RunOptions::new(2), &|_, _| {}).unwrap();
    let exp = linres::experiment::Experiment::of(spec, results).unwrap();
    assert!(exp.missing.is_empty());
    exp
}

/// The outcome of check `name` of `exp`.
pub fn verdict(exp: &linres::experiment::Experiment, name: &str) -> linres::grid::check::CheckOutcome {
    linres::check::check_experiment(exp)
        .into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no check {name}"))
}
