//! Publishing a set of files all at once ([`linres::store::atomic::Staging`]): a reader sees the
//! old set or the new set at every instant, never a mixture; a publish killed at any step (SIGKILL
//! or SIGTERM) leaves one whole generation in place, and the next publish removes what it left.
//! Checked on the mechanism itself (a reader racing a writer; dead processes' leftovers) and
//! through `linres plot` and `linres report`, killed at each step of their publish (the
//! `LINRES_TEST_PAUSE_AT` hook stops them there) and at random moments.

use crate::common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{linres, texts, tree};
use linres::store::atomic::Staging;

/// Names in `dir` that belong to a publish in progress or left by a dead one.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".staging."))
        .collect()
}

/// Publishes generation `g`: files `a`, `b` and `sub/c`, each holding `g`.
fn publish_generation(target: &Path, g: usize) {
    let staging = Staging::new(target).unwrap();
    for name in ["a", "b", "sub/c"] {
        let path = staging.dir().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, g.to_string()).unwrap();
    }
    staging.publish(|_| true).unwrap();
}

/// The generation a reader sees through one open handle of the directory (`None` when the
/// directory it opened was retired while it read), after checking that every file of the set is
/// of that one generation and the file the publisher never wrote is there.
fn read_generation(target: &Path) -> Option<String> {
    use rustix::fs::{Mode, OFlags, openat};
    let dir = std::fs::File::open(target).ok()?;
    let read = |name: &str| -> Option<String> {
        let fd = openat(&dir, name, OFlags::RDONLY, Mode::empty()).ok()?;
        Some(std::io::read_to_string(std::fs::File::from(fd)).unwrap())
    };
    let texts: Vec<String> = ["a", "b", "sub/c", "mine.txt"].iter().map(|n| read(n)).collect::<Option<_>>()?;
    assert_eq!(texts[3], "keep", "a file the publisher did not write is always there");
    assert!(texts[0] == texts[1] && texts[1] == texts[2], "one generation in one directory: {texts:?}");
    Some(texts[0].clone())
}

#[test]
fn a_reader_racing_a_publisher_always_sees_one_whole_generation() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("set");
    publish_generation(&target, 0);
    std::fs::write(target.join("mine.txt"), "keep").unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (target, done) = (target.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !done.load(Ordering::Relaxed) {
                if let Some(g) = read_generation(&target) {
                    seen.insert(g);
                }
            }
            seen
        })
    };
    for g in 1..=300 {
        publish_generation(&target, g);
    }
    done.store(true, Ordering::Relaxed);
    let seen = reader.join().unwrap();
    assert!(seen.len() > 10, "the reader saw many generations: {seen:?}");
    assert_eq!(read_generation(&target).as_deref(), Some("300"));
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn publish_keeps_what_keep_says_and_a_dropped_staging_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("site");
    publish_generation(&target, 1);
    std::fs::write(target.join("mine.txt"), "keep").unwrap();
    std::fs::create_dir_all(target.join("empty")).unwrap();
    std::fs::write(target.join("sub/old"), "old").unwrap();
    // A new set without `b`: `b` and `sub/old` are dropped as the publisher's, the rest is kept.
    let staging = Staging::new(&target).unwrap();
    std::fs::write(staging.dir().join("a"), "2").unwrap();
    staging.publish(|rel| rel != Path::new("b") && rel != Path::new("sub/old")).unwrap();
    let files = tree(&target);
    let names: Vec<&str> = files.keys().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(names, ["a", "mine.txt", "sub/c"]);
    assert_eq!(files[Path::new("a")], b"2");
    assert_eq!(files[Path::new("sub/c")], b"1", "kept by the predicate, carried over");
    assert!(target.join("empty").is_dir(), "an empty directory the predicate keeps stays");
    // Dropped without publishing: the target is untouched and nothing is left beside it.
    let staging = Staging::new(&target).unwrap();
    std::fs::write(staging.dir().join("a"), "3").unwrap();
    drop(staging);
    assert_eq!(tree(&target), files);
    assert!(leftovers(dir.path()).is_empty());
    // A target that is not a directory is refused, untouched.
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let staging = Staging::new(&dir.path().join("file")).unwrap();
    assert!(staging.publish(|_| true).is_err());
    assert_eq!(std::fs::read(dir.path().join("file")).unwrap(), b"x");
}

#[test]
fn the_next_publish_removes_what_dead_processes_left_and_puts_back_a_set_aside_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("set");
    // A dead process's staging directory (its lock file free) and one without a lock file.
    std::fs::create_dir_all(dir.path().join(".set.staging.1-0-5/sub")).unwrap();
    std::fs::write(dir.path().join(".set.staging.1-0-5/sub/x"), "x").unwrap();
    std::fs::write(dir.path().join(".set.staging.1-0-5.lock"), "").unwrap();
    std::fs::create_dir_all(dir.path().join(".set.staging.2-0-6")).unwrap();
    // A dead process that had set the old target aside (where the file system cannot exchange).
    std::fs::create_dir_all(dir.path().join(".set.staging.3-0-7.old")).unwrap();
    std::fs::write(dir.path().join(".set.staging.3-0-7.old/a"), "old").unwrap();
    // A live process's staging directory: its lock is held.
    std::fs::create_dir_all(dir.path().join(".set.staging.4-0-8")).unwrap();
    let held = std::fs::File::create(dir.path().join(".set.staging.4-0-8.lock")).unwrap();
    held.lock().unwrap();
    // Another target's directory whose name starts alike is not touched.
    std::fs::create_dir_all(dir.path().join(".set.staging.x")).unwrap();

    let staging = Staging::new(&target).unwrap();
    assert_eq!(std::fs::read(target.join("a")).unwrap(), b"old", "the set-aside target is back");
    let mut left = leftovers(dir.path());
    left.sort();
    let own = staging.dir().file_name().unwrap().to_string_lossy().into_owned();
    let mut want = vec![".set.staging.4-0-8".to_string(), ".set.staging.4-0-8.lock".into(), ".set.staging.x".into()];
    want.push(own.clone());
    want.push(format!("{own}.lock"));
    want.sort();
    assert_eq!(left, want);
    drop(staging);
    drop(held);
}

/// Starts `linres args` in `dir` paused at publishing step `step`, and waits until it says so.
fn paused_at(dir: &Path, args: &[&str], step: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_linres"))
        .current_dir(dir)
        .args(args)
        .env("LINRES_TEST_PAUSE_AT", step)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let start = Instant::now();
    loop {
        match lines.next() {
            Some(Ok(line)) if line == format!("paused at {step}") => break,
            Some(Ok(_)) => {}
            _ => panic!("`linres {}` ended before pausing at {step}", args.join(" ")),
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no pause at {step}");
    }
    child
}

/// Ends `child` with SIGKILL or SIGTERM (if it has not ended already); whether it was killed.
fn kill(mut child: Child, term: bool) -> bool {
    if term {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).output().unwrap();
    } else {
        let _ = child.kill();
    }
    !child.wait().unwrap().success()
}

const PLOT_SPEC: &str = "name: p\nmaster_seed: 1\nseeds: 2\ndata: {kind: paper, d: 3, n: 20}\n\
model: {arch: resnet, depth: 2, width: [6, 8]}\noptim: {method: gd, iters: 20, step: {rule: zou}}\n\
figures:\n  - {name: curves, kind: curves, title: Curves, series: model.width, labels: {\"6\": GEN}}\n";

/// `p.yaml` whose figure labels a series `label`.
fn plot_spec(dir: &Path, label: &str) {
    std::fs::write(dir.join("p.yaml"), PLOT_SPEC.replace("GEN", label)).unwrap();
}

/// Draws generation `label` into `out/p/` (a reference) and returns its files.
fn plot_reference(dir: &Path, label: &str, out: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    plot_spec(dir, label);
    let o = linres(dir, &["plot", "p.yaml", "--out", out]);
    assert!(o.status.success(), "{}", texts(&o).1);
    tree(&dir.join(out).join("p"))
}

/// Whether `files` are generation `reference` (the PDF, whose bytes vary between drawings, only by
/// being there and differing from the other generation's).
fn same_figures(files: &BTreeMap<PathBuf, Vec<u8>>, reference: &BTreeMap<PathBuf, Vec<u8>>, other_pdf: &[u8]) -> bool {
    files.keys().eq(reference.keys())
        && files.iter().all(|(path, bytes)| match path.extension().and_then(|x| x.to_str()) {
            Some("pdf") => bytes != other_pdf,
            _ => *bytes == reference[path],
        })
}

#[test]
fn plot_killed_at_any_step_of_its_publish_leaves_one_generation_and_the_next_plot_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    plot_spec(d, "GEN_A");
    let o = linres(d, &["run", "-q", "p.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let b = plot_reference(d, "GEN_B", "ref_b");
    for (i, step) in ["staged", "carried", "exchanged"].iter().enumerate() {
        for term in [false, true] {
            let mut a = plot_reference(d, "GEN_A", "figures");
            a.remove(Path::new("notes.txt"));
            std::fs::write(d.join("figures/p/notes.txt"), "mine").unwrap();
            let a_pdf = a[Path::new("curves.pdf")].clone();
            plot_spec(d, "GEN_B");
            assert!(kill(paused_at(d, &["plot", "p.yaml"], step), term));
            let mut files = tree(&d.join("figures/p"));
            assert_eq!(files.remove(Path::new("notes.txt")).as_deref(), Some(&b"mine"[..]), "{step}: kept");
            if i < 2 {
                assert!(files == a, "killed at {step} (SIGTERM: {term}): the old figures, whole");
            } else {
                assert!(same_figures(&files, &b, &a_pdf), "killed at {step} (SIGTERM: {term}): the new figures, whole");
            }
            assert!(!leftovers(&d.join("figures")).is_empty(), "{step}: the dead process left its staging");
            let o = linres(d, &["plot", "p.yaml"]);
            assert!(o.status.success(), "{}", texts(&o).1);
            assert!(leftovers(&d.join("figures")).is_empty(), "{:?}", leftovers(&d.join("figures")));
            let mut files = tree(&d.join("figures/p"));
            files.remove(Path::new("notes.txt")).expect("kept");
            assert!(same_figures(&files, &b, &a_pdf));
        }
    }
}

#[test]
fn plot_killed_at_random_moments_leaves_one_generation_and_nothing_behind_after_the_next_plot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    plot_spec(d, "GEN_A");
    let o = linres(d, &["run", "-q", "p.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let refs = [plot_reference(d, "GEN_A", "ref_a"), plot_reference(d, "GEN_B", "ref_b")];
    // How long a plot takes, to spread the kills over it: the fastest of three (a plot that
    // happened to run slow would spread the kills past the end of most plots).
    let took = (0..3)
        .map(|_| {
            let start = Instant::now();
            plot_reference(d, "GEN_A", "figures");
            start.elapsed()
        })
        .min()
        .unwrap();
    let mut killed = 0;
    for i in 0..16u32 {
        plot_spec(d, if i % 2 == 0 { "GEN_B" } else { "GEN_A" });
        let child = Command::new(env!("CARGO_BIN_EXE_linres"))
            .current_dir(d)
            .args(["plot", "p.yaml"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // From the start to 3/4 of a plot, in sixteen steps.
        std::thread::sleep(took.mul_f64(f64::from(i) / 20.0));
        killed += usize::from(kill(child, i % 3 == 0));
        let files = tree(&d.join("figures/p"));
        let generation = |r: &BTreeMap<PathBuf, Vec<u8>>| {
            files.iter().all(|(p, b)| p.extension().is_some_and(|x| x == "pdf") || *b == r[p])
        };
        assert!(files.keys().eq(refs[0].keys()), "after kill {i}: {:?}", files.keys().collect::<Vec<_>>());
        assert!(generation(&refs[0]) || generation(&refs[1]), "after kill {i}: a mixture of two generations");
    }
    assert!(killed >= 8, "most plots were killed before they ended: {killed} of 16");
    let o = linres(d, &["plot", "p.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let left: Vec<String> = leftovers(&d.join("figures")).into_iter().chain(leftovers(&d.join("figures/p"))).collect();
    assert!(left.is_empty(), "staging directories of killed plots are removed by the next plot: {left:?}");
}

const REPORT_SPEC: &str = "# GEN experiment\nname: steps\nmaster_seed: 5\nseeds: 2\ndata: {kind: paper, d: 3, n: 20}\n\
model: {arch: resnet, depth: [2, 3], width: 8}\noptim: {method: gd, iters: 30, step: {rule: zou}}\n";

#[test]
fn report_killed_at_any_step_of_its_publish_leaves_one_whole_site_and_the_next_report_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = |label: &str| std::fs::write(d.join("steps.yaml"), REPORT_SPEC.replace("GEN", label)).unwrap();
    spec("Old");
    let o = linres(d, &["run", "-q", "steps.yaml"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let report = |out: &str| {
        let o = linres(d, &["report", "steps.yaml", "--out", out]);
        assert!(o.status.success(), "{}", texts(&o).1);
        tree(&d.join(out))
    };
    spec("New");
    let new = report("ref_new");
    for (i, step) in ["staged", "carried", "exchanged"].iter().enumerate() {
        for term in [false, true] {
            spec("Old");
            let mut old = report("site");
            old.remove(Path::new("notes.txt"));
            std::fs::write(d.join("site/notes.txt"), "mine").unwrap();
            spec("New");
            assert!(kill(paused_at(d, &["report", "steps.yaml", "--out", "site"], step), term));
            let mut files = tree(&d.join("site"));
            assert_eq!(files.remove(Path::new("notes.txt")).as_deref(), Some(&b"mine"[..]), "{step}: kept");
            let want = if i < 2 { &old } else { &new };
            assert!(files == *want, "killed at {step} (SIGTERM: {term}): not one whole site");
            assert!(!leftovers(d).is_empty(), "{step}: the dead process left its staging");
            report("site");
            assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
        }
    }
}
