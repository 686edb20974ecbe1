//! The runner of jobs: picks the job's forge client and runs the review, baseline or
//! reconcile it stands for. Forge errors decide the outcome: a rate limit postpones the
//! job, a 5xx fails the attempt (retried with backoff), a refusal ends it with the reason.

use std::sync::Arc;
use std::time::Duration;

use super::forges::{ForgeProvider, NoForge};
use super::{Outcome, Runner};
use super::{command, review};
use crate::forge::{ArtifactLimits, ForgeError};
use crate::store::{Job, JobKind, Store};

/// How reviews are published.
#[derive(Debug, Clone)]
pub struct ReviewSettings {
    /// New inline comments per run at most; the rest are listed in the summary.
    pub max_inline_comments: usize,
    pub artifact_limits: ArtifactLimits,
}

impl Default for ReviewSettings {
    fn default() -> ReviewSettings {
        ReviewSettings {
            max_inline_comments: 25,
            artifact_limits: ArtifactLimits::default(),
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
            JobKind::Review | JobKind::Baseline | JobKind::Reconcile | JobKind::Command => {}
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
        let result = match job.kind {
            JobKind::Review => review::review(&context, job).await,
            JobKind::Baseline => review::baseline(&context, job).await,
            JobKind::Command => command::command(&context, job).await,
            _ => review::reconcile(&context, job).await,
        };
        result.unwrap_or_else(|error| match error {
            review::JobError::Forge(error) => outcome_of(error),
            other => Outcome::Failed(other.to_string()),
        })
    }
}

fn outcome_of(error: ForgeError) -> Outcome {
    match &error {
        ForgeError::RateLimited { retry_after, .. } => Outcome::Postponed {
            // A moment past the reset, so the first request after it is not refused again.
            after: *retry_after + Duration::from_secs(1),
            reason: error.to_string(),
        },
        _ => Outcome::Failed(error.to_string()),
    }
}
