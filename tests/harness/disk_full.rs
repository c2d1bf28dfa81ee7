//! A results directory on a full disk: the runner stops taking runs at the first record it cannot
//! write, says so, keeps every record it did write intact, and exits 1. Uses a 200 KiB tmpfs, which
//! needs root; elsewhere the test says that it is skipped.

use crate::common;

use std::path::Path;
use std::process::Command;

/// Forty fast runs whose records (200 logged points each) fill a 200 KiB disk after a few.
const GRID: &str = "name: full
seeds: 40
data:  {kind: spectrum, d: 5, k: 5, n: 50, kappa: 4}
model: {arch: resnet, depth: 4, width: 20, transform: gaussian}
optim: {method: gd, iters: 400, step: {rule: zou, scale: 1.0}}
log:   {schedule: linear, points: 200}
";

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_tiny_tmpfs(at: &Path) -> Option<Mount> {
    std::fs::create_dir_all(at).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=200k", "tmpfs"])
        .arg(at)
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| Mount(at.to_path_buf()))
}

#[test]
fn a_full_disk_stops_the_grid_at_the_first_failed_write() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let Some(_mount) = mount_tiny_tmpfs(&results) else {
        eprintln!("skipped: mounting a tmpfs needs root (mount -t tmpfs failed)");
        return;
    };
    std::fs::write(dir.path().join("full.yaml"), GRID).unwrap();
    let o = common::linres(dir.path(), &["run", "full.yaml", "--jobs", "2"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains("No space left") && stderr.contains("not started"),
        "{stderr}"
    );
    // Few runs were trained: the grid stopped instead of training runs it could not save.
    let not_started: usize = stderr
        .split(" not started")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of runs not started: {stderr}"));
    let runs = results.join("full/runs");
    // Records lie in shards: runs/<first two hex digits of the id>/<id>.json.
    let written: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .filter_map(|e| e.ok())
        .flat_map(|shard| std::fs::read_dir(shard.path()).into_iter().flatten().filter_map(|e| e.ok()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(written.len() < 20, "{} records on a 200 KiB disk", written.len());
    assert!(not_started >= 40 - written.len() - 4, "{not_started} not started, {} written: {stderr}", written.len());
    // Every record that is there reads back complete.
    let store = linres::store::Store::new(&results, "full");
    for p in &written {
        let id = p.file_stem().unwrap().to_string_lossy();
        assert!(matches!(store.read(&id), linres::store::Lookup::Found(_)), "{} is not a complete record", p.display());
    }
}
