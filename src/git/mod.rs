//! Git access behind one trait: resolving revisions, merge-bases, the change under review,
//! file contents and blame. The pipeline only sees plain model data ([`ChangeSet`],
//! [`FileBlame`]), so a forge-API implementation can stand in for the local repository.

mod local;
#[cfg(test)]
mod testing;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;

use crate::model::{ChangeSet, FileBlame};

pub use local::LocalRepo;

/// Everything that can go wrong reading a repository. Messages name the revision or path.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository: {message}")]
    NotARepository { path: PathBuf, message: String },
    #[error("unknown revision '{rev}': {message}")]
    UnknownRevision { rev: String, message: String },
    #[error("no merge-base between '{base}' and '{head}'")]
    NoMergeBase { base: String, head: String },
    #[error("'{path}' does not exist at revision '{rev}'")]
    PathNotFound { rev: String, path: String },
    #[error("path is not valid UTF-8: '{path}'")]
    NonUtf8Path { path: String },
    #[error("commit {sha}: author time {seconds} is out of range")]
    InvalidCommitTime { sha: String, seconds: i64 },
    /// A libgit2 failure; the message says what was being done and what libgit2 reported.
    #[error("git: {0}")]
    Git(String),
}

/// Read access to a repository's history, whether local or behind a forge API.
pub trait SourceRepo {
    /// Resolves a revision (sha, branch, tag, `HEAD~2`, …) to a full commit id.
    fn resolve(&self, rev: &str) -> Result<String, GitError>;

    /// The best common ancestor of two revisions, as a full commit id.
    fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError>;

    /// The change from `base` to `head` with rename detection (50% similarity), hunks
    /// computed with zero context lines and `added_lines` the head line numbers of added or
    /// modified lines. Binary files are flagged `binary` and carry no hunks.
    fn changes(&self, base: &str, head: &str) -> Result<ChangeSet, GitError>;

    /// A file's bytes at a revision; `Ok(None)` when no file exists at `path` there.
    fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError>;

    /// Every file path (repository-relative, `/`-separated) at a revision, sorted.
    fn list_files(&self, rev: &str) -> Result<Vec<String>, GitError>;

    /// Blame of a whole file at a revision: the commit that last touched each line.
    fn blame(&self, rev: &str, path: &str) -> Result<FileBlame, GitError>;
}

/// Caches blame per (revision, path) so a file is blamed once however many findings it holds.
/// Failures are not cached.
pub struct BlameCache<'a> {
    repo: &'a dyn SourceRepo,
    blames: HashMap<(String, String), FileBlame>,
}

impl<'a> BlameCache<'a> {
    pub fn new(repo: &'a dyn SourceRepo) -> Self {
        Self {
            repo,
            blames: HashMap::new(),
        }
    }

    /// The blame of `path` at `rev`, computed on first request.
    pub fn blame(&mut self, rev: &str, path: &str) -> Result<&FileBlame, GitError> {
        match self.blames.entry((rev.to_owned(), path.to_owned())) {
            Entry::Occupied(cached) => Ok(cached.into_mut()),
            Entry::Vacant(slot) => {
                let blame = self.repo.blame(rev, path)?;
                Ok(slot.insert(blame))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::testing::{ALICE, TestRepo};
    use super::*;

    /// Counts blame calls made through it to the wrapped repository.
    struct CountingRepo {
        inner: LocalRepo,
        blames: Cell<usize>,
    }

    impl SourceRepo for CountingRepo {
        fn resolve(&self, rev: &str) -> Result<String, GitError> {
            self.inner.resolve(rev)
        }
        fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError> {
            self.inner.merge_base(a, b)
        }
        fn changes(&self, base: &str, head: &str) -> Result<ChangeSet, GitError> {
            self.inner.changes(base, head)
        }
        fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
            self.inner.read_file(rev, path)
        }
        fn list_files(&self, rev: &str) -> Result<Vec<String>, GitError> {
            self.inner.list_files(rev)
        }
        fn blame(&self, rev: &str, path: &str) -> Result<FileBlame, GitError> {
            self.blames.set(self.blames.get() + 1);
            self.inner.blame(rev, path)
        }
    }

    #[test]
    fn blame_cache_blames_each_file_once_per_revision() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\ntwo\n");
        repo.write("b.txt", "three\n");
        let first = repo.commit("first", ALICE);
        repo.write("a.txt", "one\ntwo\nfour\n");
        let second = repo.commit("second", ALICE);
        let counting = CountingRepo {
            inner: repo.open(),
            blames: Cell::new(0),
        };
        let mut cache = BlameCache::new(&counting);

        for _ in 0..3 {
            let blame = cache.blame(&second, "a.txt").unwrap();
            assert_eq!(blame.lines.len(), 3);
        }
        assert_eq!(counting.blames.get(), 1);

        assert_eq!(cache.blame(&second, "b.txt").unwrap().lines.len(), 1);
        assert_eq!(cache.blame(&first, "a.txt").unwrap().lines.len(), 2);
        assert_eq!(cache.blame(&second, "a.txt").unwrap().lines.len(), 3);
        assert_eq!(counting.blames.get(), 3);
    }

    #[test]
    fn blame_cache_passes_errors_through() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        let head = repo.commit("first", ALICE);
        let local = repo.open();
        let mut cache = BlameCache::new(&local);

        let error = cache.blame(&head, "missing.txt").unwrap_err();

        assert!(matches!(error, GitError::PathNotFound { .. }), "{error}");
        assert!(error.to_string().contains("missing.txt"));
    }
}
