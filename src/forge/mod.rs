//! The forges (GitHub, GitLab) behind one trait: reading a change request, its files, blame
//! and scanner reports, and publishing a review where developers look. The review engine and
//! the job runner only see [`Forge`]; each implementation speaks its forge's REST API.
//!
//! Errors say whether retrying can help ([`ForgeError::retry_after`]): a rate limit or a
//! forge's 5xx makes the job wait and retry, anything else ends it with the reason.

pub(crate) mod ancestry;
pub mod artifacts;
pub mod github;
pub mod gitlab;
pub mod metrics;
pub mod patch;
pub mod plan;
pub mod publish;
pub mod repo;
pub mod throttle;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::model::{ChangeSet, FileBlame, FindingId};
use crate::store;

pub use artifacts::{ArtifactError, ArtifactLimits, ReportGlobs};

/// Everything a forge call can come to besides success.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// Primary or secondary rate limit: wait this long, then retry.
    #[error("{forge} rate limit while {what}: retry after {}s", retry_after.as_secs())]
    RateLimited {
        forge: store::Forge,
        what: String,
        retry_after: Duration,
    },
    /// A 5xx, a timeout or a dropped connection: worth retrying with backoff.
    #[error("{forge} unavailable while {what}: {message}")]
    Unavailable {
        forge: store::Forge,
        what: String,
        message: String,
    },
    #[error("{forge}: {what}: not found")]
    NotFound { forge: store::Forge, what: String },
    /// The forge refused the request (401, 403, 422, …); retrying the same will not help.
    #[error("{forge} refused {what} ({status}): {message}")]
    Rejected {
        forge: store::Forge,
        what: String,
        status: u16,
        message: String,
    },
    /// An answer that does not have the documented shape.
    #[error("{forge}: unexpected answer to {what}: {message}")]
    Protocol {
        forge: store::Forge,
        what: String,
        message: String,
    },
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// posture's side: credentials that cannot be used, a URL that does not parse, …
    #[error("{0}")]
    Config(String),
}

impl ForgeError {
    /// How long to wait before trying again, when trying again can help.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ForgeError::RateLimited { retry_after, .. } => Some(*retry_after),
            ForgeError::Unavailable { .. } => Some(Duration::ZERO),
            _ => None,
        }
    }
}

pub type ForgeResult<T> = Result<T, ForgeError>;

/// A pull request (GitHub) or merge request (GitLab) as the forge describes it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    /// `owner/name` (GitHub) or `group/…/project` (GitLab).
    pub repository: String,
    /// The pull request number or merge request iid.
    pub number: i64,
    pub title: String,
    pub head_sha: String,
    /// The target branch's tip that the forge diffs against (GitLab's `start_sha`).
    pub target_sha: String,
    /// The merge-base of target and head: the baseline commit (GitLab's `base_sha`).
    pub merge_base: String,
    pub target_branch: String,
    pub draft: bool,
    pub open: bool,
}

/// The commits of a change request as its forge lists them: what lets attribution tell a
/// commit of the change from an older one, and rank the change's commits in ancestry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeCommitList {
    /// Every commit of the change, newest first in ancestry (each before its parents), as
    /// `git rev-list --topo-order merge-base..head` would list them.
    Complete(Vec<String>),
    /// Part of the change, or commits whose ancestry is not known: the commits listed,
    /// newest listed first. Attribution must not use them (a commit missing from the list
    /// would pass for one older than the change), so it falls back to commit dates.
    Partial { listed: Vec<String>, gap: ListGap },
}

/// Why a change's commit list is [partial](ChangeCommitList::Partial).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListGap {
    /// The forge lists only so many commits (GitHub: 250), and the list reached that cap.
    Capped,
    /// The list does not hold the head reviewed: the change moved since it was read.
    HeadNotListed,
    /// The parents given do not link every listed commit to the head (GitLab sends empty
    /// `parent_ids` for commits it serves from its database; a head that moved on top of
    /// the one reviewed leaves the newer commits unreachable from it).
    NoAncestry,
}

impl fmt::Display for ListGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListGap::Capped => "the forge lists only the first commits of a change this long",
            ListGap::HeadNotListed => "the list does not hold the head reviewed",
            ListGap::NoAncestry => "the parents listed do not link every commit to the head",
        })
    }
}

/// A scanner report found among a CI run's artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    /// Where it came from, for messages: `artifact-name/path/in/zip` or `job-name/path`.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The reports of one commit, and what was passed over and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reports {
    pub files: Vec<ReportFile>,
    /// Artifacts or files not used (expired, too large, unsafe paths, …), each with the reason.
    pub skipped: Vec<String>,
    /// Whether any CI run (workflow run, pipeline) exists for the commit.
    pub ci_seen: bool,
}

/// A forge's id of a comment (GitHub review comment or issue comment id, GitLab note id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommentId(pub String);

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A finding comment posture posted earlier on a change request, found by its markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedComment {
    pub id: CommentId,
    /// The thread it opened: GitLab's discussion id, GitHub's review thread node id (when
    /// known).
    pub thread: Option<String>,
    /// The findings it is about, from its markers, never empty: one comment per line and
    /// side lists every finding there (a comment by an older version names one).
    pub findings: Vec<FindingId>,
    pub body: String,
    /// Resolved, or already answered "fixed in …".
    pub resolved: bool,
}

/// A person's permission on a repository, least first. GitLab's access levels map: 10 guest
/// (and 15 planner) and 20 reporter → `Read`, 30 developer → `Write`, 40 maintainer →
/// `Maintain`, 50 owner (and above) → `Admin`; below 10 (no access, minimal access) → `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::None => "none",
            Permission::Read => "read",
            Permission::Triage => "triage",
            Permission::Write => "write",
            Permission::Maintain => "maintain",
            Permission::Admin => "admin",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Someone who wrote a comment, as the webhook names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
    /// GitLab's numeric user id (Note Hook `user.id`); GitHub needs only the login.
    pub id: Option<i64>,
}

/// Where a reply goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyTo {
    /// GitHub: the review thread whose top-level review comment has this id
    /// (`POST /repos/{owner}/{repo}/pulls/{n}/comments/{id}/replies`). GitLab: the discussion
    /// holding the note with this id.
    ReviewComment(CommentId),
    /// GitLab: the discussion with this id
    /// (`POST /projects/:id/merge_requests/:iid/discussions/:discussion_id/notes`). GitHub
    /// has no such thing: an error there.
    Discussion(String),
    /// The change request's conversation: a GitHub issue comment
    /// (`POST /repos/{o}/{r}/issues/{n}/comments`), a GitLab merge request note
    /// (`POST /projects/:id/merge_requests/:iid/notes`).
    Conversation,
}

/// What posture has already published on a change request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// The summary comment and its body.
    pub summary: Option<(CommentId, String)>,
    pub comments: Vec<PostedComment>,
}

/// A review comment on lines this change added, on the head side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineComment {
    /// The findings it lists, highest risk first; its body carries each one's marker.
    pub findings: Vec<FindingId>,
    /// The path at head.
    pub path: String,
    /// The path at the merge-base (differs for renamed files; GitLab's `old_path`).
    pub old_path: String,
    /// The last line commented on (1-based, head side).
    pub line: u32,
    /// The first line of a multi-line comment.
    pub start_line: Option<u32>,
    pub body: String,
}

/// What became of one inline comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentOutcome {
    Posted(CommentId),
    /// The forge refused to place it (e.g. GitHub's 422 "line must be part of the diff"):
    /// it goes into the summary instead.
    Rejected(String),
}

/// The merge gate as a check run (GitHub) or commit status (GitLab).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateStatus {
    pub head_sha: String,
    pub passed: bool,
    /// One line: "2 new findings block the merge".
    pub title: String,
    /// Markdown, already cut to the forge's limit.
    pub summary: String,
    pub annotations: Vec<Annotation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationLevel {
    Failure,
    Warning,
    Notice,
}

/// A finding shown on the check run's "Files changed" view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub level: AnnotationLevel,
    pub title: String,
    pub message: String,
}

/// One forge, authenticated for one repository's installation or token.
///
/// Every method is one logical operation; implementations page, retry nothing themselves
/// (the job does), and report rate limits as [`ForgeError::RateLimited`].
#[async_trait]
pub trait Forge: Send + Sync {
    fn kind(&self) -> store::Forge;

    /// The change request as it is now.
    async fn change_request(&self, repository: &str, number: i64) -> ForgeResult<ChangeRequest>;

    /// The open change requests whose head is `head_sha`, or all open ones with `None`
    /// (for the periodic reconcile).
    async fn open_change_requests(
        &self,
        repository: &str,
        head_sha: Option<&str>,
    ) -> ForgeResult<Vec<ChangeRequest>>;

    /// The change from the merge-base to head, with renames and zero-context hunks.
    async fn changes(&self, change: &ChangeRequest) -> ForgeResult<ChangeSet>;

    /// The change request's commits, those reachable from `change.head_sha` but not from
    /// `change.merge_base`, ordered by walking their parents from the head (never by dates).
    /// [`ChangeCommitList::Partial`] when the forge's list is capped or its parents do not
    /// order it.
    async fn change_commits(&self, change: &ChangeRequest) -> ForgeResult<ChangeCommitList>;

    /// A file's bytes at a commit; `None` when there is no such file.
    async fn read_file(
        &self,
        repository: &str,
        sha: &str,
        path: &str,
    ) -> ForgeResult<Option<Vec<u8>>>;

    /// Every file path at a commit, sorted.
    async fn list_files(&self, repository: &str, sha: &str) -> ForgeResult<Vec<String>>;

    async fn blame(&self, repository: &str, sha: &str, path: &str) -> ForgeResult<FileBlame>;

    /// The scanner reports CI produced for `sha`: the files of its artifacts that `globs`
    /// select, extracted within `limits`.
    async fn reports(
        &self,
        repository: &str,
        sha: &str,
        globs: &ReportGlobs,
        limits: &ArtifactLimits,
    ) -> ForgeResult<Reports>;

    /// posture's own login on this forge: a GitHub App's `<slug>[bot]` (`GET /app`, as the
    /// App), a personal token's `GET /user` login, GitLab's `GET /user` username. Asked once
    /// per client, then cached.
    async fn identity(&self) -> ForgeResult<String>;

    /// `actor`'s permission on `repository`; [`Permission::None`] for someone the forge does
    /// not know there (GitHub: collaborator permission, `role_name` first; GitLab: the
    /// project member's access level, inherited included).
    async fn permission(&self, repository: &str, actor: &Actor) -> ForgeResult<Permission>;

    /// Whether `actor` may read `repository`'s findings: someone the forge gives access to
    /// it, not merely anyone who can see a public repository. GitHub: a collaborator
    /// (`GET /repos/{o}/{r}/collaborators/{username}`: 204, including access through teams
    /// and the org's base permission; 404 otherwise, public repositories included, where
    /// the permission endpoint says `read` for everybody). GitLab: an active member,
    /// inherited included, of at least Reporter (20): Guests and Planners cannot read a
    /// private project's code.
    async fn reads(&self, repository: &str, actor: &Actor) -> ForgeResult<bool>;

    /// Whether `actor` is an active member of `team`: on GitHub a team slug of the org `org`
    /// (`GET /orgs/{org}/teams/{slug}/memberships/{username}`, child teams included), on
    /// GitLab a group path (`GET /groups/:id/members/all?user_ids[]=…`, inherited
    /// members included). Not a member is `false`; a GitLab group posture cannot see is an
    /// error.
    async fn team_member(&self, org: &str, team: &str, actor: &Actor) -> ForgeResult<bool>;

    /// Posts `body` as a reply (see [`ReplyTo`]). Content creation: throttled.
    async fn reply(&self, change: &ChangeRequest, to: &ReplyTo, body: &str) -> ForgeResult<()>;

    /// Resolves the thread of posture's comment without saying "fixed" (a dismissed or
    /// accepted finding). Nothing to do when it is resolved already.
    async fn resolve_thread(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
    ) -> ForgeResult<()>;

    /// What posture published on the change request before: comments written by
    /// [`Forge::identity`] that carry posture's hidden markers. A marker in anyone else's
    /// comment is ignored.
    async fn published(&self, change: &ChangeRequest) -> ForgeResult<Published>;

    /// Posts new inline comments (GitHub: one review, event COMMENT, on head).
    async fn post_comments(
        &self,
        change: &ChangeRequest,
        comments: &[InlineComment],
    ) -> ForgeResult<Vec<CommentOutcome>>;

    async fn update_comment(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
        body: &str,
    ) -> ForgeResult<()>;

    /// Marks a finding's comment fixed: resolves its thread, or replies "fixed in <sha>".
    async fn resolve_comment(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
        fixed_in: &str,
    ) -> ForgeResult<()>;

    /// Creates the summary comment, or edits `existing` in place.
    async fn upsert_summary(
        &self,
        change: &ChangeRequest,
        existing: Option<&CommentId>,
        body: &str,
    ) -> ForgeResult<CommentId>;

    /// Publishes the gate for the head commit (check run / commit status), replacing
    /// posture's earlier one for the same commit.
    async fn set_gate(&self, repository: &str, gate: &GateStatus) -> ForgeResult<()>;

    /// Whether anyone may read `repository` (GitHub `visibility: public`; GitLab
    /// `visibility: public`). Internal and private repositories are not public.
    async fn is_public(&self, repository: &str) -> ForgeResult<bool>;

    /// Opens an issue in `repository` with `title` and the Markdown `body`; returns its
    /// number (GitHub) or iid (GitLab; confidential, so only members of Reporter up read
    /// it). Content creation: throttled.
    async fn create_issue(&self, repository: &str, title: &str, body: &str) -> ForgeResult<i64>;

    /// Replaces the title and body of issue `number` (GitLab: iid) of `repository`, leaving
    /// its state, labels and comments as they are. [`ForgeError::NotFound`] when the issue
    /// is gone (deleted, or moved away). Content creation: throttled.
    async fn edit_issue(
        &self,
        repository: &str,
        number: i64,
        title: &str,
        body: &str,
    ) -> ForgeResult<()>;
}
