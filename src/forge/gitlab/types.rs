//! The parts of GitLab's REST answers posture reads, in their documented shapes. Everything
//! else in an answer is ignored; fields GitLab may omit or send as `null` are optional.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `GET /projects/:id/merge_requests/:iid` (and the items of the list, which lack
/// `diff_refs`).
#[derive(Debug, Deserialize)]
pub(super) struct MergeRequest {
    pub iid: u64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub target_branch: String,
    /// The head commit.
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub draft: Option<bool>,
    /// The name before GitLab 14.0; still sent next to `draft`.
    #[serde(default)]
    pub work_in_progress: Option<bool>,
    /// `null` while GitLab is still computing the merge request's diff.
    #[serde(default)]
    pub diff_refs: Option<DiffRefs>,
}

#[derive(Debug, Deserialize)]
pub(super) struct DiffRefs {
    /// The merge-base of target and head.
    pub base_sha: Option<String>,
    /// The target branch's tip when the diff was computed.
    pub start_sha: Option<String>,
    pub head_sha: Option<String>,
}

/// One file of `…/diffs` (and of `…/changes`' `changes`).
#[derive(Debug, Deserialize)]
pub(super) struct Diff {
    pub old_path: String,
    pub new_path: String,
    #[serde(default)]
    pub new_file: bool,
    #[serde(default)]
    pub renamed_file: bool,
    #[serde(default)]
    pub deleted_file: bool,
    #[serde(default)]
    pub diff: Option<String>,
    /// Over the diff size limits: `diff` is empty.
    #[serde(default)]
    pub too_large: Option<bool>,
    /// Past the collapse limits: `diff` is empty.
    #[serde(default)]
    pub collapsed: Option<bool>,
}

/// `GET …/merge_requests/:iid/changes`.
#[derive(Debug, Deserialize)]
pub(super) struct Changes {
    #[serde(default)]
    pub changes: Vec<Diff>,
}

/// One entry of `repository/tree`.
#[derive(Debug, Deserialize)]
pub(super) struct TreeEntry {
    pub path: String,
    /// `blob`, `tree` or `commit` (a submodule).
    #[serde(rename = "type")]
    pub kind: String,
}

/// One range of `repository/files/:path/blame`: consecutive lines last touched by `commit`.
#[derive(Debug, Deserialize)]
pub(super) struct BlameRange {
    pub commit: BlameCommit,
    #[serde(default)]
    pub lines: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct BlameCommit {
    pub id: String,
    #[serde(default)]
    pub message: String,
    pub authored_date: DateTime<Utc>,
    /// Absent from older GitLab versions: the author date stands in.
    #[serde(default)]
    pub committed_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub author_name: String,
    #[serde(default)]
    pub author_email: String,
}

/// One item of `GET /projects/:id/merge_requests/:iid/commits`.
#[derive(Debug, Deserialize)]
pub(super) struct MergeRequestCommit {
    pub id: String,
    /// Empty (or `null`) where GitLab serves the list from its database rather than the
    /// repository (gitlab-org/gitlab#496665): the order is then unknown.
    #[serde(default)]
    pub parent_ids: Option<Vec<String>>,
}

/// One item of `GET /projects/:id/pipelines`.
#[derive(Debug, Deserialize)]
pub(super) struct Pipeline {
    pub id: u64,
}

/// One item of `GET /projects/:id/pipelines/:pipeline_id/jobs`.
#[derive(Debug, Deserialize)]
pub(super) struct Job {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub artifacts: Vec<JobArtifact>,
    #[serde(default)]
    pub artifacts_expire_at: Option<DateTime<Utc>>,
}

/// One stored file of a job: the `archive` of `artifacts:paths`, or a report, trace, …
#[derive(Debug, Deserialize)]
pub(super) struct JobArtifact {
    pub file_type: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub filename: Option<String>,
}

/// One item of `…/discussions`; also the answer to creating one.
#[derive(Debug, Deserialize)]
pub(super) struct Discussion {
    pub id: String,
    #[serde(default)]
    pub notes: Vec<Note>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Note {
    pub id: u64,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub resolvable: bool,
    #[serde(default)]
    pub resolved: Option<bool>,
}

/// A note's author.
#[derive(Debug, Deserialize)]
pub(super) struct Author {
    pub username: String,
}

/// A user as `GET /user` and `GET /users` describe them.
#[derive(Debug, Deserialize)]
pub(super) struct User {
    pub id: u64,
    pub username: String,
}

/// `GET /projects/:id/members/all/:user_id`.
#[derive(Debug, Deserialize)]
pub(super) struct Member {
    /// The user's id (a group's member list is matched on it).
    #[serde(default)]
    pub id: u64,
    pub access_level: u64,
    /// The user's state: `active`, `blocked`, …
    #[serde(default)]
    pub state: Option<String>,
    /// `awaiting` while the membership waits for a seat or an approval.
    #[serde(default)]
    pub membership_state: Option<String>,
}
