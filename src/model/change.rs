//! The change under review as git sees it: changed files, hunks and blame.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a file changed between the merge-base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
    Copied,
}

impl ChangeStatus {
    /// Every status, in declaration order (the fuzz target and its replays pick one by byte).
    pub const ALL: [ChangeStatus; 5] = [
        ChangeStatus::Added,
        ChangeStatus::Deleted,
        ChangeStatus::Modified,
        ChangeStatus::Renamed,
        ChangeStatus::Copied,
    ];
}

/// One hunk of a unified diff with zero context lines. `old_lines == 0` is a pure insertion
/// after `old_start`; `new_lines == 0` a pure deletion after `new_start` (git's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
}

/// One changed file. Paths are repository-relative with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// The path at the merge-base; `None` when the file was added.
    pub old_path: Option<String>,
    /// The path at head; `None` when the file was deleted.
    pub new_path: Option<String>,
    pub status: ChangeStatus,
    /// Hunks in order, computed with zero lines of context.
    pub hunks: Vec<Hunk>,
    /// Head line numbers (1-based) that this change added or modified, ascending.
    pub added_lines: Vec<u32>,
    pub binary: bool,
}

/// The difference between the merge-base of base and head, and head.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// The merge-base commit id.
    pub base: String,
    /// The head commit id.
    pub head: String,
    pub files: Vec<FileChange>,
}

/// A commit as blame names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub sha: String,
    pub author: String,
    pub email: String,
    /// When the author wrote it: what a review shows. Never an order: a rebase keeps author
    /// dates, so along a rebased series they can run backwards.
    pub date: DateTime<Utc>,
    /// When it was committed. Rebase, amend and cherry-pick set it anew, so it follows
    /// ancestry far better than `date` (clock skew aside): the order of last resort for
    /// commits outside the change (see [`crate::analyze::attribute`]).
    pub committed: DateTime<Utc>,
    pub summary: String,
    /// Blame stopped at this commit because its parents were not fetched (a shallow clone):
    /// the lines blamed on it may be older than it, so it names no one.
    #[serde(default)]
    pub shallow_boundary: bool,
}

/// Blame of one file at one revision: the commit that last touched each line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileBlame {
    /// The distinct commits that appear in the blame.
    pub commits: Vec<CommitInfo>,
    /// For each line (index 0 = line 1), an index into `commits`.
    pub lines: Vec<usize>,
}

/// The commits of the change under review, those reachable from head but not from the
/// merge-base, by their position in ancestry: a commit always ranks before its ancestors
/// (rank 0 is head). Author dates cannot give this order (a rebased series keeps them), and
/// commit dates can tie (a rebase rewrites a whole series within one second).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeCommits {
    rank: HashMap<String, usize>,
}

impl ChangeCommits {
    /// From the commits in a topological order, newest first (as `git rev-list
    /// --topo-order merge-base..head` lists them).
    pub fn new(newest_first: impl IntoIterator<Item = String>) -> Self {
        let mut rank = HashMap::new();
        for (position, sha) in newest_first.into_iter().enumerate() {
            rank.entry(sha).or_insert(position);
        }
        Self { rank }
    }

    /// The commit's position in ancestry (0 = head); `None` when the change does not hold it.
    pub fn rank(&self, sha: &str) -> Option<usize> {
        self.rank.get(sha).copied()
    }
}

impl FileBlame {
    /// The commit that last touched `line` (1-based).
    pub fn commit_at(&self, line: u32) -> Option<&CommitInfo> {
        let index = *self.lines.get((line as usize).checked_sub(1)?)?;
        self.commits.get(index)
    }
}
