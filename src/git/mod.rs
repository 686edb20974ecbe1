//! Git access behind one trait: resolving revisions, merge-bases, the change under review,
//! file contents and blame. The pipeline only sees plain model data ([`ChangeSet`],
//! [`FileBlame`]), so a forge-API implementation can stand in for the local repository.

pub mod inventory;
mod local;
#[cfg(test)]
pub(crate) mod testing;

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
    /// No merge-base in a shallow clone: most likely the common history was not fetched
    /// (`actions/checkout` fetches one commit unless told otherwise).
    #[error(
        "no merge-base between '{base}' and '{head}': the clone is shallow, so their common history is probably missing. Fetch it: `fetch-depth: 0` on actions/checkout, or `git fetch --deepen=<commits>` (or `git fetch --unshallow`) before running posture"
    )]
    ShallowNoMergeBase { base: String, head: String },
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

    /// The commits reachable from `head` but not from `merge_base`, newest first in a
    /// topological order (each before its parents): what ranks blamed commits in ancestry.
    /// `Ok(None)` when the repository cannot list them; attribution then falls back to
    /// commit dates (see [`crate::analyze::attribute`]).
    fn change_commits(
        &self,
        merge_base: &str,
        head: &str,
    ) -> Result<Option<Vec<String>>, GitError> {
        let _ = (merge_base, head);
        Ok(None)
    }
}
