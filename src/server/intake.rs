//! The boundary between the HTTP receiver and durable storage: what a verified delivery asks of
//! posture ([`Delivery`], [`JobRequest`]) and the [`Intake`] trait the store implements.
//!
//! The receiver acknowledges a webhook only after [`Intake::accept`] returns, so whatever the
//! implementation commits before returning is what "acknowledged" means.

use std::fmt;
use std::future::Future;

use serde_json::Value;

/// The forge a delivery came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forge {
    GitHub,
    GitLab,
}

impl Forge {
    /// The lowercase name used in metrics labels, coalesce keys and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
        }
    }
}

impl fmt::Display for Forge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified webhook delivery, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub forge: Forge,
    /// `X-GitHub-Delivery` or `X-Gitlab-Event-UUID`: the de-duplication key within a forge.
    pub delivery_id: String,
    /// The event's canonical name: GitHub's `X-GitHub-Event` (`pull_request`, `push`, …) or
    /// GitLab's `object_kind` (`merge_request`, `pipeline`, `push`, `note`).
    pub event: String,
    /// The payload's action (`opened`, `synchronize`, GitLab's `open`/`update`, …), if any.
    pub action: Option<String>,
    /// `owner/name` (GitHub) or the project's `path_with_namespace` (GitLab). `None` for
    /// events about an installation rather than a repository.
    pub repository: Option<String>,
    /// The whole payload as sent.
    pub payload: Value,
}

/// What a job asks the worker to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Review a pull/merge request at a head commit.
    Review,
    /// The pull/merge request became a draft: the job carries the same coalesce key as the
    /// request's reviews, so storing it supersedes a queued review; running it reviews nothing.
    Pause,
    /// Record the findings of a commit on the default branch as the baseline.
    Baseline,
    /// Run a `/posture …` command from a pull/merge request comment.
    Command,
}

impl JobKind {
    /// The lowercase name used in storage and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Review => "review",
            JobKind::Pause => "pause",
            JobKind::Baseline => "baseline",
            JobKind::Command => "command",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit of work derived from a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRequest {
    pub kind: JobKind,
    /// Same spelling as [`Delivery::repository`].
    pub repository: String,
    /// The pull request number (GitHub) or merge request iid (GitLab).
    pub pull_request: Option<i64>,
    pub head_sha: Option<String>,
    /// Jobs sharing a key coalesce: storing a newer one supersedes queued older ones. Reviews
    /// and pauses of one request share `github:{repo}#{number}` / `gitlab:{project}!{iid}`;
    /// baselines share `{forge}:{repo}:baseline`; commands have none (each one runs).
    pub coalesce_key: Option<String>,
    /// What the worker needs beyond the fields above: always `trigger` (`event.action`); for
    /// GitHub `installation_id` when present; for commands `command`, `author`, `comment_id`.
    pub payload: Value,
}

/// The result of a successful [`Intake::accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The delivery and its jobs are committed.
    Stored,
    /// This forge's delivery id was already stored: nothing new was committed.
    Duplicate,
}

/// Storage failed; the receiver answers 503 so the forge redelivers.
#[derive(Debug, thiserror::Error)]
#[error("the delivery could not be stored")]
pub struct IntakeError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

/// Durable storage of deliveries and their jobs.
pub trait Intake: Send + Sync + 'static {
    /// Stores the delivery and its jobs (possibly none) atomically, de-duplicating by
    /// `(forge, delivery_id)`; returns only after both are committed.
    fn accept(
        &self,
        delivery: Delivery,
        jobs: Vec<JobRequest>,
    ) -> impl Future<Output = Result<Accepted, IntakeError>> + Send;

    /// Whether storage is reachable (`/readyz`).
    fn ready(&self) -> impl Future<Output = bool> + Send;

    /// Jobs waiting to run, for the `posture_queue_depth` gauge; `None` when unknown.
    fn queue_depth(&self) -> impl Future<Output = Option<i64>> + Send;
}
