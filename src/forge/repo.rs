//! [`SourceRepo`] over a forge's API, so the review engine runs unchanged when posture has
//! no clone: revisions are the change request's commits, the diff is the forge's, files
//! and blame are fetched on demand (and cached for the run), and the change's commits are
//! the forge's list ordered by their parents.
//!
//! The engine is synchronous; a [`ForgeRepo`] must be used from a blocking thread
//! (`tokio::task::spawn_blocking`), where it waits on the runtime for each call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;

use super::{ChangeCommitList, ChangeRequest, Forge, ForgeError};
use crate::git::{GitError, SourceRepo};
use crate::model::{ChangeSet, FileBlame};

/// File contents by (commit, path); `None` when the file does not exist there.
type FileCache = HashMap<(String, String), Option<Vec<u8>>>;

pub struct ForgeRepo {
    forge: Arc<dyn Forge>,
    runtime: Handle,
    change: ChangeRequest,
    changes: ChangeSet,
    files: Mutex<FileCache>,
    /// The first forge error met; the job reports it (a rate limit retries the job).
    failure: Mutex<Option<ForgeError>>,
}

impl ForgeRepo {
    pub fn new(
        forge: Arc<dyn Forge>,
        runtime: Handle,
        change: ChangeRequest,
        changes: ChangeSet,
    ) -> ForgeRepo {
        ForgeRepo {
            forge,
            runtime,
            change,
            changes,
            files: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
        }
    }

    /// Provides a file already fetched, so it is not fetched again.
    pub fn seed(&self, rev: &str, path: &str, bytes: Option<Vec<u8>>) {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((rev.to_owned(), path.to_owned()), bytes);
    }

    /// The forge error that made a read fail, if one did.
    pub fn take_failure(&self) -> Option<ForgeError> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    fn call<T>(
        &self,
        what: impl FnOnce() -> String,
        future: impl std::future::Future<Output = Result<T, ForgeError>>,
    ) -> Result<T, GitError> {
        self.runtime
            .block_on(future)
            .map_err(|error| self.failed(what(), error))
    }

    /// Keeps the first forge error for the job, and says what failed to the engine.
    fn failed(&self, what: String, error: ForgeError) -> GitError {
        let message = format!("{what}: {error}");
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(error);
        GitError::Git(message)
    }

    fn known(&self, rev: &str) -> bool {
        [
            &self.change.head_sha,
            &self.change.merge_base,
            &self.change.target_sha,
        ]
        .iter()
        .any(|sha| sha.as_str() == rev)
    }
}

impl SourceRepo for ForgeRepo {
    fn resolve(&self, rev: &str) -> Result<String, GitError> {
        if self.known(rev) {
            Ok(rev.to_owned())
        } else {
            Err(GitError::UnknownRevision {
                rev: rev.to_owned(),
                message: format!(
                    "not a commit of {}#{}",
                    self.change.repository, self.change.number
                ),
            })
        }
    }

    fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError> {
        let pair = |x: &str, y: &str| a == x && b == y || a == y && b == x;
        if a == b {
            Ok(a.to_owned())
        } else if pair(&self.change.merge_base, &self.change.head_sha)
            || pair(&self.change.target_sha, &self.change.head_sha)
        {
            Ok(self.change.merge_base.clone())
        } else {
            Err(GitError::NoMergeBase {
                base: a.to_owned(),
                head: b.to_owned(),
            })
        }
    }

    fn changes(&self, base: &str, head: &str) -> Result<ChangeSet, GitError> {
        if base == head {
            return Ok(ChangeSet {
                base: base.to_owned(),
                head: head.to_owned(),
                files: Vec::new(),
            });
        }
        if base == self.changes.base && head == self.changes.head {
            return Ok(self.changes.clone());
        }
        Err(GitError::Git(format!(
            "the forge gives only the change request's diff ({}…{}), not {base}…{head}",
            self.changes.base, self.changes.head
        )))
    }

    fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let key = (rev.to_owned(), path.to_owned());
        if let Some(bytes) = self
            .files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(bytes.clone());
        }
        let bytes = self.call(
            || format!("reading {path} at {rev}"),
            self.forge.read_file(&self.change.repository, rev, path),
        )?;
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, bytes.clone());
        Ok(bytes)
    }

    fn list_files(&self, rev: &str) -> Result<Vec<String>, GitError> {
        self.call(
            || format!("listing the files at {rev}"),
            self.forge.list_files(&self.change.repository, rev),
        )
    }

    fn blame(&self, rev: &str, path: &str) -> Result<FileBlame, GitError> {
        self.call(
            || format!("blame of {path} at {rev}"),
            self.forge.blame(&self.change.repository, rev, path),
        )
    }

    /// The change request's commits, ordered by their parents ([`Forge::change_commits`]).
    /// `None`, so attribution orders blamed commits by commit date as it does without a list
    /// (see [`crate::analyze::attribute`]), for any other range, for a partial list (capped,
    /// or without the parents that order it: a commit missing from it would pass for one
    /// older than the change), and when the forge refuses the list. A rate limit or an outage
    /// fails the read instead, so the job waits and runs again.
    fn change_commits(
        &self,
        merge_base: &str,
        head: &str,
    ) -> Result<Option<Vec<String>>, GitError> {
        if merge_base == head {
            return Ok(Some(Vec::new()));
        }
        if merge_base != self.change.merge_base || head != self.change.head_sha {
            return Ok(None);
        }
        let what = || {
            format!(
                "listing the commits of {}#{}",
                self.change.repository, self.change.number
            )
        };
        match self
            .runtime
            .block_on(self.forge.change_commits(&self.change))
        {
            Ok(ChangeCommitList::Complete(commits)) => Ok(Some(commits)),
            Ok(ChangeCommitList::Partial { listed, gap }) => {
                tracing::info!(
                    repository = %self.change.repository,
                    number = self.change.number,
                    listed = listed.len(),
                    "the change's commits are not all known ({gap}): introducing commits are ranked by commit date"
                );
                Ok(None)
            }
            Err(error) if error.retry_after().is_some() => Err(self.failed(what(), error)),
            Err(error) => {
                tracing::warn!(
                    repository = %self.change.repository,
                    number = self.change.number,
                    "{}: {error}; introducing commits are ranked by commit date",
                    what()
                );
                Ok(None)
            }
        }
    }
}
