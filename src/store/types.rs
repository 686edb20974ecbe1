//! The store's vocabulary: forges, ids, job kinds and statuses, and the rows it reads and
//! writes. Enums are stored as lowercase text; their `as_str` is the database spelling.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{FindingId, Severity};

/// Text in a column that names no variant of the enum it encodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

/// Enums stored as text: `as_str` for writing, `FromStr` and `TryFrom<String>` for reading.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The database (and JSON) spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(value: &str) -> Result<Self, UnknownVariant> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant { what: $what, value: value.to_owned() }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownVariant;

            fn try_from(value: String) -> Result<Self, UnknownVariant> {
                value.parse()
            }
        }
    };
}

text_enum! {
    /// The code forge an event came from.
    Forge, "forge" {
        GitHub => "github",
        GitLab => "gitlab",
    }
}

text_enum! {
    /// What a worker does with a job.
    JobKind, "job kind" {
        /// Review a pull/merge request at its head.
        Review => "review",
        /// Scan the default branch and record its baseline.
        Baseline => "baseline",
        /// Bring a repository's comments and checks in line with the latest review.
        Reconcile => "reconcile",
        /// Run a `/posture …` command from a comment.
        Command => "command",
        /// A pull request became a draft: storing this supersedes its queued review.
        Pause => "pause",
        /// Write an org's weekly digest into its standing issue (the job's repository is
        /// the issue's).
        DigestIssue => "digest_issue",
    }
}

text_enum! {
    /// Where a job is in its life. A retry is `Queued` with `attempts > 0` and a later
    /// `run_after`.
    JobStatus, "job status" {
        Queued => "queued",
        Running => "running",
        Done => "done",
        /// Finished without work: the repository has no posture configuration.
        NotConfigured => "not_configured",
        /// A newer job with the same coalesce key replaced it while it was queued.
        Superseded => "superseded",
        /// Failed `max_attempts` times; kept with its last error (the dead-letter state).
        Dead => "dead",
    }
}

text_enum! {
    /// Whether a finding is still on the default branch.
    HistoryStatus, "finding history status" {
        Open => "open",
        /// The default branch's latest baseline no longer has it.
        Fixed => "fixed",
    }
}

text_enum! {
    /// What happened to a finding: one row of the append-only event log.
    EventKind, "event kind" {
        Detected => "detected",
        Reintroduced => "reintroduced",
        Fixed => "fixed",
        Dismissed => "dismissed",
        Accepted => "accepted",
        /// A dismissal or acceptance now waits for a second person's approval.
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Reopened => "reopened",
        AcceptanceExpired => "acceptance_expired",
        SeverityChanged => "severity_changed",
        PolicyViolation => "policy_violation",
        /// Scheduled: the finding's SLA ends soon (`until` holds the due date).
        SlaDueSoon => "sla_due_soon",
        /// Scheduled: the finding is open past its SLA (`until` holds the due date).
        SlaBreached => "sla_breached",
        /// Scheduled: an acceptance's last day is near (`until` holds it).
        AcceptanceExpiring => "acceptance_expiring",
    }
}

/// The forge's id of a webhook delivery (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct DeliveryId(pub String);

/// A job's row id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct JobId(pub i64);

/// A project's (repository's) row id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct ProjectId(pub i64);

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A webhook delivery as received, after its signature was verified.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub forge: Forge,
    pub delivery_id: DeliveryId,
    pub event: String,
    pub action: Option<String>,
    pub repository: String,
    pub payload: serde_json::Value,
}

/// Work to queue. Its forge is the delivery's (see [`crate::store::Store::accept`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: JobKind,
    pub repository: String,
    pub pull_request: Option<i64>,
    pub head_sha: Option<String>,
    /// Jobs with the same key replace each other while queued (e.g. `github:owner/repo#12`).
    pub coalesce_key: Option<String>,
    pub payload: serde_json::Value,
}

/// What [`crate::store::Store::accept`] did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored for the first time, with the jobs it queued.
    Stored { jobs: Vec<JobId> },
    /// Seen before: nothing new stored.
    Duplicate,
}

/// A job a worker claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub forge: Forge,
    pub repository: String,
    pub pull_request: Option<i64>,
    pub head_sha: Option<String>,
    pub delivery_id: Option<DeliveryId>,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i32,
}

/// A job as `posture jobs list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: JobId,
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    #[sqlx(try_from = "String")]
    pub forge: Forge,
    pub repository: String,
    pub pull_request: Option<i64>,
    pub head_sha: Option<String>,
    pub delivery_id: Option<DeliveryId>,
    pub attempts: i32,
    /// The error of the latest failed attempt.
    pub last_error: Option<String>,
    /// What the finishing worker reported (e.g. why the project is not configured).
    pub message: Option<String>,
    /// The worker holding or last holding the job.
    pub worker: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub run_after: DateTime<Utc>,
    /// The job that replaced this one, when superseded.
    pub superseded_by: Option<JobId>,
    /// How many times the job was finished: 1 once done, never more.
    pub completions: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One finding's life in a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    pub finding_id: FindingId,
    pub status: HistoryStatus,
    pub severity: Severity,
    pub first_seen_commit: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_commit: String,
    pub last_seen_at: DateTime<Utc>,
    pub fixed_commit: Option<String>,
    pub fixed_at: Option<DateTime<Utc>>,
    /// The commit blame names as having introduced it.
    pub introduced_commit: Option<String>,
}

/// Retry delays: `base × 2^(attempts − 1)`, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(30),
            cap: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The delay after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(31);
        self.base
            .checked_mul(1u32 << exponent)
            .map_or(self.cap, |delay| delay.min(self.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(1), Duration::from_secs(30));
        assert_eq!(backoff.delay(2), Duration::from_secs(60));
        assert_eq!(backoff.delay(4), Duration::from_secs(240));
        assert_eq!(backoff.delay(8), Duration::from_secs(3600));
        assert_eq!(backoff.delay(1000), Duration::from_secs(3600));
        assert_eq!(backoff.delay(0), Duration::from_secs(30));
    }

    #[test]
    fn enums_round_trip_their_text() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>(), Ok(*status));
        }
        for kind in JobKind::ALL {
            assert_eq!(JobKind::try_from(kind.as_str().to_owned()), Ok(*kind));
        }
        assert_eq!("gitlab".parse::<Forge>(), Ok(Forge::GitLab));
        let error = "bitbucket".parse::<Forge>().unwrap_err();
        assert_eq!(error.to_string(), "`bitbucket` is not a valid forge");
    }
}
