//! The index of validated records: for every record file linres has read and validated, the
//! identity of that file on disk ([`Stamp`]: device, inode, size, modification and change times)
//! and what it holds ([`Summary`]: done, diverged at an iteration, or failed). A lookup whose file
//! still has that identity is answered from the index without reading the record; any change to
//! the file (an edit, even one that restores its size and modification time, a copy over it, a
//! `touch`) changes its change time, so the record is read and validated again, and a record
//! edited behind linres's back is still found corrupt.
//!
//! Each directory of records has its own index file, `.index` beside the records, loaded on the
//! first lookup in that directory. The commands that write results (`run`, `merge`) write back
//! what it learnt ([`Index::save`]: merged with what another process wrote meanwhile, replaced
//! atomically); the commands that only read leave the directory as it is. It is a cache: never
//! flushed to disk, checked by a digest when read, and ignored when it is missing, truncated or of
//! another version, so losing it costs only the time to validate the records again.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use super::RecordStatus;

/// Name of the index file in a directory of records.
pub const INDEX_FILE: &str = ".index";

/// First bytes of an index file (the version of its layout).
const MAGIC: &[u8] = b"linres-record-index-1\n";

/// Bytes per entry: id (16), stamp (8), status (1), diverged_at (8).
const ENTRY_BYTES: usize = 16 + 8 + 1 + 8;

/// The identity of a file's current content on disk: a digest of its device, inode, size and
/// modification and change times (the change time moves on every write, rename or attribute
/// change, and no user can set it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp(u64);

impl Stamp {
    /// The stamp as a number (to write it down).
    pub fn bits(self) -> u64 {
        self.0
    }

    /// The stamp of a file's metadata.
    pub fn of(meta: &Metadata) -> Stamp {
        let fields = [
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.ctime() as u64,
            meta.ctime_nsec() as u64,
        ];
        let mut h = blake3::Hasher::new();
        for f in fields {
            h.update(&f.to_le_bytes());
        }
        let bytes: [u8; 8] = h.finalize().as_bytes()[..8].try_into().expect("8 bytes");
        Stamp(u64::from_le_bytes(bytes))
    }
}

/// What a validated record holds, as far as the cache needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub status: RecordStatus,
    /// The iteration at which a diverged run's loss stopped being finite.
    pub diverged_at: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    stamp: Stamp,
    summary: Summary,
}

/// The index of one directory of records.
#[derive(Debug, Default)]
struct DirIndex {
    entries: HashMap<[u8; 16], Entry>,
    /// Entries added since it was read.
    added: HashMap<[u8; 16], Entry>,
}

/// The indices of a store's record directories, loaded as they are used.
#[derive(Debug, Default)]
pub struct Index {
    /// Read-locked by lookups (which run in parallel), write-locked to load or add entries.
    dirs: RwLock<HashMap<PathBuf, DirIndex>>,
}

/// An id as an index key (ids that are not 16 bytes are not indexed).
fn key(id: &str) -> Option<[u8; 16]> {
    id.as_bytes().try_into().ok()
}

impl Index {
    /// What the record `id` in `dir` holds, if the index knows it and the file still has `stamp`.
    pub fn get(&self, dir: &Path, id: &str, stamp: Stamp) -> Option<Summary> {
        let key = key(id)?;
        let found = |dirs: &HashMap<PathBuf, DirIndex>| {
            dirs.get(dir).map(|index| index.entries.get(&key).filter(|e| e.stamp == stamp).map(|e| e.summary))
        };
        if let Some(summary) = found(&self.dirs.read().unwrap_or_else(|e| e.into_inner())) {
            return summary;
        }
        let mut dirs = self.dirs.write().unwrap_or_else(|e| e.into_inner());
        dirs.entry(dir.to_path_buf()).or_insert_with(|| DirIndex { entries: read(dir), ..Default::default() });
        found(&dirs).flatten()
    }

    /// Records that the file of record `id` in `dir` with `stamp` was validated and holds `summary`.
    pub fn insert(&self, dir: &Path, id: &str, stamp: Stamp, summary: Summary) {
        let Some(key) = key(id) else { return };
        let entry = Entry { stamp, summary };
        let mut dirs = self.dirs.write().unwrap_or_else(|e| e.into_inner());
        let index =
            dirs.entry(dir.to_path_buf()).or_insert_with(|| DirIndex { entries: read(dir), ..Default::default() });
        if index.entries.insert(key, entry) != Some(entry) {
            index.added.insert(key, entry);
        }
    }

    /// Writes the entries added since each index was read into its file, merged with what the
    /// file holds now (another process may have added entries). Best effort: a directory that
    /// cannot be written keeps its old index.
    pub fn save(&self) {
        let mut dirs = self.dirs.write().unwrap_or_else(|e| e.into_inner());
        for (dir, index) in dirs.iter_mut().filter(|(_, i)| !i.added.is_empty()) {
            if !dir.is_dir() {
                continue;
            }
            let mut entries = read(dir);
            entries.extend(index.added.drain());
            let _ = super::atomic::write_unsynced(&dir.join(INDEX_FILE), &encode(&entries));
        }
    }
}

/// The entries of the index file in `dir` (none when it is missing or does not check out).
fn read(dir: &Path) -> HashMap<[u8; 16], Entry> {
    fs::read(dir.join(INDEX_FILE)).ok().and_then(|bytes| decode(&bytes)).unwrap_or_default()
}

fn status_byte(s: RecordStatus) -> u8 {
    match s {
        RecordStatus::Done => 0,
        RecordStatus::Diverged => 1,
        RecordStatus::Failed => 2,
    }
}

/// The file's bytes: [`MAGIC`], the entries sorted by id, then the blake3 digest of all before.
fn encode(entries: &HashMap<[u8; 16], Entry>) -> Vec<u8> {
    let mut sorted: Vec<(&[u8; 16], &Entry)> = entries.iter().collect();
    sorted.sort_unstable_by_key(|(k, _)| **k);
    let mut out = Vec::with_capacity(MAGIC.len() + sorted.len() * ENTRY_BYTES + 32);
    out.extend_from_slice(MAGIC);
    for (k, e) in sorted {
        out.extend_from_slice(k);
        out.extend_from_slice(&e.stamp.0.to_le_bytes());
        out.push(status_byte(e.summary.status));
        out.extend_from_slice(&e.summary.diverged_at.map_or(u64::MAX, |t| t as u64).to_le_bytes());
    }
    let digest = blake3::hash(&out);
    out.extend_from_slice(digest.as_bytes());
    out
}

/// The entries of an index file's bytes, `None` unless the magic, the length and the digest check out.
fn decode(bytes: &[u8]) -> Option<HashMap<[u8; 16], Entry>> {
    let body = bytes.strip_prefix(MAGIC)?;
    let (entries, digest) = body.split_at_checked(body.len().checked_sub(32)?)?;
    if entries.len() % ENTRY_BYTES != 0 || blake3::hash(&bytes[..bytes.len() - 32]).as_bytes() != digest {
        return None;
    }
    let u64_at = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    entries
        .chunks_exact(ENTRY_BYTES)
        .map(|c| {
            let status = match c[24] {
                0 => RecordStatus::Done,
                1 => RecordStatus::Diverged,
                2 => RecordStatus::Failed,
                _ => return None,
            };
            let diverged = u64_at(&c[25..33]);
            let diverged_at = (diverged != u64::MAX).then(|| usize::try_from(diverged).ok()).flatten();
            let key: [u8; 16] = c[..16].try_into().expect("16 bytes");
            Some((key, Entry { stamp: Stamp(u64_at(&c[16..24])), summary: Summary { status, diverged_at } }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(stamp: u64, status: RecordStatus, diverged_at: Option<usize>) -> Entry {
        Entry { stamp: Stamp(stamp), summary: Summary { status, diverged_at } }
    }

    #[test]
    fn an_index_reads_back_and_a_damaged_one_is_ignored() {
        let mut entries = HashMap::new();
        entries.insert(*b"0123456789abcdef", entry(7, RecordStatus::Done, None));
        entries.insert(*b"fedcba9876543210", entry(u64::MAX, RecordStatus::Diverged, Some(41)));
        entries.insert(*b"00000000000000ff", entry(0, RecordStatus::Failed, None));
        let bytes = encode(&entries);
        assert_eq!(decode(&bytes), Some(entries.clone()));
        // Any changed byte, a truncation or another version is refused whole.
        for i in [0, MAGIC.len(), MAGIC.len() + 20, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert_eq!(decode(&bad), None, "byte {i}");
        }
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode(b""), None);
        assert_eq!(decode(&encode(&HashMap::new())), Some(HashMap::new()));
    }

    #[test]
    fn a_lookup_needs_the_same_stamp_and_saved_entries_are_merged() {
        let dir = tempfile::tempdir().unwrap();
        let summary = Summary { status: RecordStatus::Diverged, diverged_at: Some(3) };
        let index = Index::default();
        index.insert(dir.path(), "0123456789abcdef", Stamp(5), summary);
        assert_eq!(index.get(dir.path(), "0123456789abcdef", Stamp(5)), Some(summary));
        assert_eq!(index.get(dir.path(), "0123456789abcdef", Stamp(6)), None, "another stamp");
        assert_eq!(index.get(dir.path(), "0123456789abcdee", Stamp(5)), None, "another id");
        assert!(!dir.path().join(INDEX_FILE).exists(), "nothing written before a save");
        index.save();
        // Merged with what another process saved meanwhile.
        let other = Index::default();
        other.insert(dir.path(), "1111111111111111", Stamp(9), summary);
        let again = Index::default();
        assert_eq!(again.get(dir.path(), "0123456789abcdef", Stamp(5)), Some(summary));
        other.save();
        let merged = Index::default();
        assert_eq!(merged.get(dir.path(), "1111111111111111", Stamp(9)), Some(summary));
        assert_eq!(merged.get(dir.path(), "0123456789abcdef", Stamp(5)), Some(summary));
    }

    #[test]
    fn a_rewritten_file_has_another_stamp_even_with_its_size_and_times_restored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        fs::write(&path, b"{\"a\": 1}").unwrap();
        let before = fs::metadata(&path).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&path, b"{\"a\": 2}").unwrap();
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(before.modified().unwrap()).unwrap();
        let after = fs::metadata(&path).unwrap();
        assert_eq!((after.len(), after.modified().unwrap()), (before.len(), before.modified().unwrap()));
        assert_ne!(Stamp::of(&before), Stamp::of(&after), "the change time moved");
    }
}
