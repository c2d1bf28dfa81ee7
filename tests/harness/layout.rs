//! The record layout at scale: records sharded by id prefix (`runs/<ab>/<id>.json`) with the earlier
//! flat layout (`runs/<id>.json`) still read by every command; the index of validated records,
//! which never vouches for a file changed behind linres's back; and the fingerprint of the tables,
//! which lets a `run` that changed nothing leave them alone and nothing else.

use std::path::Path;
use std::time::Duration;

use crate::common::{self, small_grid, texts};

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = common::linres(dir, args);
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{args:?}: {err}");
    format!("{out}{err}")
}

fn computed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e.yaml"), small_grid("e")).unwrap();
    ok(dir.path(), &["run", "e.yaml", "-q"]);
    dir
}

/// Moves every record of `runs` to the flat layout and drops the shards (index files included).
fn flatten(runs: &Path) {
    for file in common::record_files(runs) {
        std::fs::rename(&file, runs.join(file.file_name().unwrap())).unwrap();
    }
    for entry in std::fs::read_dir(runs).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        }
    }
}

#[test]
fn records_go_to_shards_and_the_flat_layout_is_read_by_every_command() {
    let dir = computed();
    let d = dir.path();
    let runs = d.join("results/e/runs");
    let files = common::record_files(&runs);
    assert_eq!(files.len(), 4);
    for f in &files {
        let id = f.file_stem().unwrap().to_str().unwrap();
        assert_eq!(f.parent().unwrap(), runs.join(&id[..2]), "{}: in the shard of its id", f.display());
    }
    let records = common::records_in(&runs);
    flatten(&runs);
    assert!(common::record_files(&runs).iter().all(|f| f.parent().unwrap() == runs), "flattened");
    assert!(ok(d, &["status", "e.yaml"]).contains("e: 4 runs: 4 cached"));
    let run = ok(d, &["run", "e.yaml"]);
    assert!(run.contains("0 computed") || run.contains("4 cached"), "{run}");
    assert!(common::record_files(&runs).iter().all(|f| f.parent().unwrap() == runs), "nothing recomputed or moved");
    // merge and diff take either layout; merge writes shards.
    ok(d, &["merge", "results", "--into", "merged"]);
    let merged = d.join("merged/e/runs");
    assert!(common::record_files(&merged).iter().all(|f| f.parent().unwrap() != merged));
    common::assert_same_records(&common::records_in(&merged), &records);
    ok(d, &["diff", "results/e", "merged/e"]);
    // A run recomputed with --force goes to its shard; its flat record goes.
    ok(d, &["run", "e.yaml", "-q", "--force"]);
    let after = common::record_files(&runs);
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(after.iter().all(|f| f.parent().unwrap() != runs), "{after:?}");
    common::assert_same_records(&common::records_in(&runs), &records);
    // clean removes records of both layouts.
    flatten(&runs);
    ok(d, &["clean", "e.yaml"]);
    assert!(common::record_files(&runs).is_empty());
}

#[test]
fn a_record_edited_behind_linres_back_is_corrupt_even_with_its_size_and_time_restored() {
    let dir = computed();
    let d = dir.path();
    // `run` saved what it validated: the index vouches for every record.
    assert!(ok(d, &["status", "e.yaml"]).contains("4 cached"));
    let runs = d.join("results/e/runs");
    let file = common::record_files(&runs).remove(0);
    let before = std::fs::metadata(&file).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    // Same length, another status: not a record any more.
    let edited = text.replacen("\"status\": \"done\"", "\"status\": \"dune\"", 1);
    assert_ne!(edited, text);
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&file, &edited).unwrap();
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(before.modified().unwrap()).unwrap();
    let after = std::fs::metadata(&file).unwrap();
    assert_eq!((after.len(), after.modified().unwrap()), (before.len(), before.modified().unwrap()));
    let status = ok(d, &["status", "e.yaml"]);
    assert!(status.contains("3 cached (0 diverged), 0 failed, 0 running, 0 missing, 1 corrupt"), "{status}");
}

#[test]
fn a_run_that_changed_nothing_leaves_the_tables_alone_and_any_change_rewrites_them() {
    let dir = computed();
    let d = dir.path();
    let results = d.join("results/e");
    let tables = ["runs.csv", "summary.csv", "summary.parquet", "curves.parquet"];
    let stamp = |name: &str| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(results.join(name)).unwrap();
        (m.ino(), m.mtime_nsec(), m.mtime())
    };
    let first: Vec<_> = tables.iter().map(|t| stamp(t)).collect();
    let bytes: Vec<Vec<u8>> = tables.iter().map(|t| std::fs::read(results.join(t)).unwrap()).collect();
    ok(d, &["run", "e.yaml", "-q"]);
    assert_eq!(tables.iter().map(|t| stamp(t)).collect::<Vec<_>>(), first, "nothing rewritten");
    // A table edited by hand is written again.
    std::fs::write(results.join("summary.csv"), b"mine").unwrap();
    ok(d, &["run", "e.yaml", "-q"]);
    assert_eq!(std::fs::read(results.join("summary.csv")).unwrap(), bytes[1]);
    // A record removed and recomputed: every table written again, the same bytes.
    let before: Vec<_> = tables.iter().map(|t| stamp(t)).collect();
    let runs = d.join("results/e/runs");
    std::fs::remove_file(common::record_files(&runs).remove(0)).unwrap();
    ok(d, &["run", "e.yaml", "-q"]);
    for (i, t) in tables.iter().enumerate() {
        assert_ne!(stamp(t), before[i], "{t} rewritten");
        assert_eq!(std::fs::read(results.join(t)).unwrap(), bytes[i], "{t}: same bytes");
    }
}
