//! The runner of jobs: picks the job's forge client and runs the review, baseline,
//! reconcile, command or digest issue it stands for. Forge errors decide the outcome: a
//! rate limit postpones the job, a 5xx, timeout or dropped connection fails the attempt
//! (retried with backoff), and a refusal (401, 403, 404, 422, an unexpected answer, a
//! configuration error) ends it at once with the reason, shown on the change's gate when
//! the forge lets posture write it.

use std::sync::Arc;
use std::time::Duration;

use super::budget::MemoryBudget;
use super::forges::{ForgeProvider, NoForge};
use super::{Outcome, Runner};
use super::{command, digest, review};
use crate::forge::{ArtifactLimits, ForgeError, GateStatus};
use crate::store::{Job, JobKind, Store};

/// How reviews are published.
#[derive(Debug, Clone)]
pub struct ReviewSettings {
    /// New inline comments per run at most; the rest are listed in the summary.
    pub max_inline_comments: usize,
    pub artifact_limits: ArtifactLimits,
    /// How long one job may run; past it the job ends, refused, with the reason.
    pub time_budget: Duration,
    /// What reading reports may hold at once, across this process's jobs.
    pub memory: MemoryBudget,
    /// Keys the hashes that stand in for secrets in CI reports (`POSTURE_SECRET_KEY`).
    pub secrets: crate::ingest::SecretHasher,
}

impl Default for ReviewSettings {
    fn default() -> ReviewSettings {
        ReviewSettings {
            max_inline_comments: 25,
            artifact_limits: ArtifactLimits::default(),
            time_budget: Duration::from_secs(600),
            memory: MemoryBudget::default(),
            secrets: crate::ingest::SecretHasher::default(),
        }
    }
}

/// Runs jobs against the forges `forges` provides, recording in `store`.
pub struct ForgeRunner {
    pub store: Store,
    pub forges: Arc<dyn ForgeProvider>,
    pub settings: ReviewSettings,
}

impl Runner for ForgeRunner {
    async fn run(&self, job: &Job) -> Outcome {
        match job.kind {
            // Storing the pause superseded the queued review; nothing is left to do.
            JobKind::Pause => return Outcome::Done,
            JobKind::Review
            | JobKind::Baseline
            | JobKind::Reconcile
            | JobKind::Command
            | JobKind::DigestIssue => {}
        }
        let forge = match self.forges.forge_for(job).await {
            Ok(forge) => forge,
            Err(NoForge::NotConfigured(why)) => return Outcome::NotConfigured(why),
            Err(NoForge::Forge(error)) => return outcome_of(error),
        };
        let context = review::Context {
            store: &self.store,
            forge,
            settings: &self.settings,
        };
        let work = async {
            match job.kind {
                JobKind::Review => review::review(&context, job).await,
                JobKind::Baseline => review::baseline(&context, job).await,
                JobKind::Command => command::command(&context, job).await,
                JobKind::DigestIssue => digest::digest_issue(&context, job).await,
                _ => review::reconcile(&context, job).await,
            }
        };
        let budget = self.settings.time_budget;
        let outcome = match tokio::time::timeout(budget, work).await {
            Ok(result) => result.unwrap_or_else(|error| match error {
                review::JobError::Forge(error) => outcome_of(error),
                // The same reports will not fit the next time either.
                error @ review::JobError::OverBudget(_) => Outcome::Refused(error.to_string()),
                other => Outcome::Failed(other.to_string()),
            }),
            // Retried with backoff like any failure (the time may have gone to waiting on the
            // forge or on other reviews), then dead with this reason.
            Err(_) => Outcome::Failed(format!(
                "the job ran past its time budget of {} s (POSTURE_REVIEW_TIMEOUT)",
                budget.as_secs_f64()
            )),
        };
        if let (Outcome::Refused(reason), JobKind::Review, Some(head)) =
            (&outcome, job.kind, &job.head_sha)
        {
            // Best effort: the same refusal may forbid writing the gate too.
            let gate = GateStatus {
                head_sha: head.clone(),
                passed: false,
                title: "posture could not review this change".into(),
                summary: format!("posture stopped without a review: {reason}"),
                annotations: Vec::new(),
            };
            let _ = context.forge.set_gate(&job.repository, &gate).await;
        }
        outcome
    }
}

fn outcome_of(error: ForgeError) -> Outcome {
    match &error {
        ForgeError::RateLimited { retry_after, .. } => Outcome::Postponed {
            // A moment past the reset, so the first request after it is not refused again.
            after: *retry_after + Duration::from_secs(1),
            reason: error.to_string(),
        },
        ForgeError::Unavailable { .. } => Outcome::Failed(error.to_string()),
        ForgeError::NotFound { .. }
        | ForgeError::Rejected { .. }
        | ForgeError::Protocol { .. }
        | ForgeError::Artifact(_)
        | ForgeError::Config(_) => Outcome::Refused(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Forge;

    #[test]
    fn only_what_can_pass_later_is_retried() {
        let what = || "reading the pull request".to_owned();
        let retried = ForgeError::Unavailable {
            forge: Forge::GitHub,
            what: what(),
            message: "502".into(),
        };
        assert!(matches!(outcome_of(retried), Outcome::Failed(_)));
        let limited = ForgeError::RateLimited {
            forge: Forge::GitHub,
            what: what(),
            retry_after: Duration::from_secs(30),
        };
        assert!(
            matches!(outcome_of(limited), Outcome::Postponed { after, .. } if after == Duration::from_secs(31))
        );
        for refused in [
            ForgeError::Rejected {
                forge: Forge::GitLab,
                what: what(),
                status: 401,
                message: "401 Unauthorized".into(),
            },
            ForgeError::Rejected {
                forge: Forge::GitHub,
                what: what(),
                status: 422,
                message: "Validation Failed".into(),
            },
            ForgeError::NotFound {
                forge: Forge::GitHub,
                what: what(),
            },
            ForgeError::Config("the private key does not parse".into()),
        ] {
            assert!(matches!(outcome_of(refused), Outcome::Refused(_)));
        }
    }
}
