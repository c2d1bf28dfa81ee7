//! Where an experiment file comes from: the git repository that holds it and the commit its HEAD
//! names, read from the repository's files (`.git/HEAD`, the ref it points to, `packed-refs`; a
//! worktree's `.git` file and `commondir`) without running git. This is the experiment's
//! repository, not linres's: the records' `git_commit` is the commit linres was built from.

use std::path::{Path, PathBuf};

/// The repository of an experiment file, when the report is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// Inside a git repository whose HEAD names `commit` (`None`: no commit yet).
    Repository { commit: Option<String> },
    /// No directory from the file's up to the root holds a `.git`.
    NotInRepository,
    /// A `.git` was found but could not be read: why.
    Unreadable(String),
}

impl FileSource {
    /// The repository holding the file at `path` (its symbolic links resolved).
    pub fn of(path: &Path) -> FileSource {
        let Ok(file) = path.canonicalize() else {
            return FileSource::Unreadable("the file's path does not resolve".into());
        };
        let Some(dot_git) = file.ancestors().skip(1).map(|d| d.join(".git")).find(|g| g.exists()) else {
            return FileSource::NotInRepository;
        };
        match head_commit(&dot_git) {
            Ok(commit) => FileSource::Repository { commit },
            Err(why) => FileSource::Unreadable(why),
        }
    }

    /// The sentence a reader sees: "in a git repository at commit …", "not in a git repository".
    pub fn text(&self) -> String {
        match self {
            FileSource::Repository { commit: Some(c) } => format!(
                "in a git repository whose HEAD is commit {c} (uncommitted changes to the file are not looked at)"
            ),
            FileSource::Repository { commit: None } => "in a git repository without a commit yet".into(),
            FileSource::NotInRepository => "not in a git repository".into(),
            FileSource::Unreadable(why) => format!("unknown: its git repository could not be read ({why})"),
        }
    }
}

/// The commit HEAD names in the repository of `dot_git` (a `.git` directory, or a worktree's
/// `.git` file `gitdir: …`); `None` on a branch without commits.
fn head_commit(dot_git: &Path) -> Result<Option<String>, String> {
    // Messages name the repository's files relatively: the report holds no absolute path.
    let read = |p: &Path, name: &str| std::fs::read_to_string(p).map_err(|e| format!("{name}: {e}"));
    let git_dir = if dot_git.is_file() {
        let text = read(dot_git, ".git")?;
        let target = text.trim().strip_prefix("gitdir:").ok_or_else(|| "the file .git names no gitdir".to_string())?;
        dot_git.parent().unwrap_or(Path::new("/")).join(target.trim())
    } else {
        dot_git.to_path_buf()
    };
    // A worktree keeps its HEAD; its branches are in the common directory.
    let common: PathBuf = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim()),
        Err(_) => git_dir.clone(),
    };
    let head = read(&git_dir.join("HEAD"), "HEAD")?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:").map(str::trim) else {
        return commit_id(head).map(Some).ok_or_else(|| format!("HEAD holds {head:?}"));
    };
    if reference.split('/').any(|part| part.is_empty() || part == "..") {
        return Err(format!("HEAD names the reference {reference:?}"));
    }
    for dir in [&git_dir, &common] {
        if let Ok(text) = std::fs::read_to_string(dir.join(reference)) {
            return commit_id(text.trim()).map(Some).ok_or_else(|| format!("{reference} holds {:?}", text.trim()));
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).unwrap_or_default();
    let found = packed.lines().filter_map(|l| l.split_once(' ')).find(|(_, name)| *name == reference);
    Ok(found.and_then(|(id, _)| commit_id(id)))
}

/// `text` when it is a commit id (40 or 64 hexadecimal digits).
fn commit_id(text: &str) -> Option<String> {
    ((text.len() == 40 || text.len() == 64) && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef01234567";
    const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

    fn file_in(dir: &Path) -> PathBuf {
        let sub = dir.join("exp");
        std::fs::create_dir_all(&sub).unwrap();
        let file = sub.join("e.yaml");
        std::fs::write(&file, "name: e\n").unwrap();
        file
    }

    #[test]
    fn a_file_outside_any_repository_says_so() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(FileSource::of(&file_in(dir.path())), FileSource::NotInRepository);
    }

    #[test]
    fn head_is_read_through_a_branch_a_packed_ref_a_detached_head_and_a_worktree() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        let file = file_in(dir.path());
        let commit = |c: &str| FileSource::Repository { commit: Some(c.to_string()) };
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(FileSource::of(&file), FileSource::Repository { commit: None }, "no commit yet");
        std::fs::write(git.join("packed-refs"), format!("# pack-refs with: peeled\n{B} refs/heads/main\n")).unwrap();
        assert_eq!(FileSource::of(&file), commit(B), "a packed branch");
        std::fs::write(git.join("refs/heads/main"), format!("{A}\n")).unwrap();
        assert_eq!(FileSource::of(&file), commit(A), "a loose branch wins over the packed one");
        std::fs::write(git.join("HEAD"), format!("{B}\n")).unwrap();
        assert_eq!(FileSource::of(&file), commit(B), "a detached HEAD");
        // A worktree: `.git` is a file naming its directory, whose branches are the common ones.
        let tree = tempfile::tempdir().unwrap();
        let wt = git.join("worktrees/w");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(wt.join("commondir"), "../..\n").unwrap();
        std::fs::write(tree.path().join(".git"), format!("gitdir: {}\n", wt.display())).unwrap();
        assert_eq!(FileSource::of(&file_in(tree.path())), commit(A));
        std::fs::write(git.join("HEAD"), "ref: ../../etc/passwd\n").unwrap();
        assert!(matches!(FileSource::of(&file), FileSource::Unreadable(_)), "a reference outside refs is not read");
    }
}
