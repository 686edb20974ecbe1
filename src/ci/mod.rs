//! posture inside a CI job, without a server of its own: `posture review … --publish
//! github|gitlab` publishes the review it just made on the pull or merge request that the
//! CI environment describes, through the same [`crate::forge::publish`] as the server, so
//! the comments carry the same markers and a re-run of the job updates them.
//!
//! What each CI system tells the job is read in its own module ([`github_actions`],
//! [`gitlab_ci`]) into a [`Target`]: a forge with the job's credentials and the change
//! request's number. Errors name the variable that is missing and how to set it, never a
//! token.

pub mod github_actions;
pub mod gitlab_ci;

use std::sync::Arc;

use crate::forge::publish::{self, Publication, PublishError};
use crate::forge::{Forge, ForgeError};
use crate::ingest::IngestError;
use crate::model::Review;

/// Where `--publish` publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PublishTo {
    /// The pull request of a GitHub Actions `pull_request` run.
    Github,
    /// The merge request of a GitLab CI merge request pipeline.
    Gitlab,
}

/// The change request a CI job runs for, and a forge to publish on it with.
pub struct Target {
    pub forge: Arc<dyn Forge>,
    /// `owner/name` (GitHub) or the project's id or path (GitLab).
    pub repository: String,
    pub number: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name} is not usable: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "the review is of {reviewed}, but the head of {change} is {head}: review the change's \
         head commit (with actions/checkout, `ref: ${{{{ github.event.pull_request.head.sha }}}}`; \
         on GitLab, `--head ${{CI_MERGE_REQUEST_SOURCE_BRANCH_SHA:-$CI_COMMIT_SHA}}`)"
    )]
    NotTheHead {
        reviewed: String,
        change: String,
        head: String,
    },
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error("publishing: {0}")]
    Publish(#[from] PublishError),
}

/// The target the environment (`var` looks a variable up) describes for `to`.
pub fn target(to: PublishTo, var: &dyn Fn(&str) -> Option<String>) -> Result<Target, CiError> {
    match to {
        PublishTo::Github => github_actions::target(var),
        PublishTo::Gitlab => gitlab_ci::target(var),
    }
}

/// Publishes `review` on the target's change request, after checking that the review is of
/// the change's head commit: comments on another commit's lines would land on the wrong
/// lines, and the gate on a commit nobody merges.
pub async fn publish(
    target: &Target,
    review: &Review,
    refused: &[IngestError],
    max_inline: usize,
) -> Result<Publication, CiError> {
    let change = target
        .forge
        .change_request(&target.repository, target.number)
        .await?;
    if !review.head.eq_ignore_ascii_case(&change.head_sha) {
        return Err(CiError::NotTheHead {
            reviewed: review.head.clone(),
            change: format!("{}#{}", change.repository, change.number),
            head: change.head_sha,
        });
    }
    let diff = target.forge.changes(&change).await?;
    Ok(publish::publish(
        target.forge.as_ref(),
        &change,
        &diff,
        review,
        refused,
        max_inline,
    )
    .await?)
}

/// `var`, when set to something other than blanks.
fn set(var: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}
