//! Publishing a review on a change request through any [`Forge`]: the [`plan`] made from
//! what is there, carried out — new inline comments, edits, resolutions, the one summary
//! comment, the gate. The server's review job and `posture review --publish` (in CI, without
//! a server) share it, so both leave the same comments with the same markers, and a re-run
//! of either updates rather than repeats.

use tracing::warn;

use super::plan;
use super::{ChangeRequest, CommentId, CommentOutcome, Forge, ForgeError};
use crate::ingest::IngestError;
use crate::model::{ChangeSet, FindingId, Review};
use crate::report::{self, Limit, RenderError};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error("rendering: {0}")]
    Render(#[from] RenderError),
}

/// What a publication did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The inline comments posted, with the findings each lists.
    pub posted: Vec<(Vec<FindingId>, CommentId)>,
    pub updated: usize,
    pub resolved: usize,
    /// New findings that got no inline comment (refused by the forge or over the cap).
    pub not_inline: usize,
    pub gate_passed: bool,
}

/// Publishes `review` on `change`, whose diff is `diff`: inline comments first (one per
/// line, listing each finding there), then updates and resolutions, the summary, and the
/// gate. At most `max_inline` new inline comments; the rest are listed in the summary.
pub async fn publish(
    forge: &dyn Forge,
    change: &ChangeRequest,
    diff: &ChangeSet,
    review: &Review,
    refused: &[IngestError],
    max_inline: usize,
) -> Result<Publication, PublishError> {
    let published = forge.published(change).await?;
    let plan = plan::plan(review, diff, &published, max_inline)?;
    let mut publication = Publication::default();
    let mut not_inline = Vec::new();
    let outcomes = forge.post_comments(change, &plan.create).await?;
    for (comment, outcome) in plan.create.iter().zip(outcomes) {
        match outcome {
            CommentOutcome::Posted(id) => publication.posted.push((comment.findings.clone(), id)),
            CommentOutcome::Rejected(reason) => {
                publication.not_inline += comment.findings.len();
                warn!(findings = comment.findings.len(), path = %comment.path, line = comment.line, "comment refused: {reason}");
                not_inline.push(format!(
                    "`{}:{}`: the forge refused an inline comment ({reason}); the finding is listed above.",
                    comment.path, comment.line
                ));
            }
        }
    }
    for (comment, body) in &plan.update {
        forge.update_comment(change, comment, body).await?;
    }
    for comment in &plan.resolve {
        forge
            .resolve_comment(change, comment, &change.head_sha)
            .await?;
    }
    for comment in &plan.settle {
        forge.resolve_thread(change, comment).await?;
    }
    if !plan.over_cap.is_empty() {
        publication.not_inline += plan.over_cap.len();
        not_inline.push(format!(
            "{} more new finding(s) in the diff are listed above without an inline comment (at most {} per run).",
            plan.over_cap.len(),
            max_inline
        ));
    }
    let limit = plan::comment_limit(forge.kind());
    let body = report::summary(review, refused, &not_inline, limit)?;
    let existing = published.summary.as_ref().map(|(id, _)| id);
    let unchanged = published
        .summary
        .as_ref()
        .is_some_and(|(_, old)| old.trim() == body.trim());
    if !unchanged {
        forge.upsert_summary(change, existing, &body).await?;
    }
    let mut gate = plan.gate;
    // The check run's summary: its own header, then the summary comment, rendered again
    // with fewer findings when the two together would not fit.
    let check = Limit::GITHUB_CHECK_SUMMARY;
    let rest = check.less(check.size(&gate.summary) + 2);
    let body = if rest.fits(&body) {
        body
    } else {
        report::summary(review, refused, &not_inline, rest)?
    };
    gate.summary = format!("{}\n\n{body}", gate.summary);
    forge.set_gate(&change.repository, &gate).await?;
    publication.updated = plan.update.len();
    publication.resolved = plan.resolve.len();
    publication.gate_passed = gate.passed;
    Ok(publication)
}
