//! Publishing a review on a change request through any [`Forge`]: the [`plan`] made from
//! what is there, carried out — new inline comments, edits, resolutions, the one summary
//! comment, the gate. The server's review job and `posture review --publish` (in CI, without
//! a server) share it, so both leave the same comments with the same markers, and a re-run
//! of either updates rather than repeats.

use tracing::warn;

use super::plan::{self, MAX_BODY_CHARS};
use super::{ChangeRequest, CommentId, CommentOutcome, Forge, ForgeError};
use crate::ingest::IngestError;
use crate::model::{ChangeSet, FindingId, Review};
use crate::report::{self, Format, RenderError};

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
    /// The inline comments posted, with the finding each is about.
    pub posted: Vec<(FindingId, CommentId)>,
    pub updated: usize,
    pub resolved: usize,
    /// New findings that got no inline comment (refused by the forge or over the cap).
    pub not_inline: usize,
    pub gate_passed: bool,
}

/// Publishes `review` on `change`, whose diff is `diff`: inline comments first, then
/// updates and resolutions, the summary, and the gate. At most `max_inline` new inline
/// comments; the rest are listed in the summary.
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
    let mut refused_inline = 0;
    let outcomes = forge.post_comments(change, &plan.create).await?;
    for (comment, outcome) in plan.create.iter().zip(outcomes) {
        match outcome {
            CommentOutcome::Posted(id) => publication.posted.push((comment.finding.clone(), id)),
            CommentOutcome::Rejected(reason) => {
                refused_inline += 1;
                warn!(finding = %comment.finding, "comment refused: {reason}");
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
        not_inline.push(format!(
            "{} more new finding(s) in the diff are listed above without an inline comment (at most {} per run).",
            plan.over_cap.len(),
            max_inline
        ));
    }
    publication.not_inline = refused_inline + plan.over_cap.len();
    let body = summary_body(review, refused, &not_inline)?;
    let existing = published.summary.as_ref().map(|(id, _)| id);
    let unchanged = published
        .summary
        .as_ref()
        .is_some_and(|(_, old)| old.trim() == body.trim());
    if !unchanged {
        forge.upsert_summary(change, existing, &body).await?;
    }
    let mut gate = plan.gate;
    gate.summary = plan::truncate(&format!("{}\n\n{body}", gate.summary), MAX_BODY_CHARS);
    forge.set_gate(&change.repository, &gate).await?;
    publication.updated = plan.update.len();
    publication.resolved = plan.resolve.len();
    publication.gate_passed = gate.passed;
    Ok(publication)
}

/// The summary comment: the markdown review without per-finding markers (those belong to
/// inline comments only), cut to the forge's limit.
pub fn summary_body(
    review: &Review,
    refused: &[IngestError],
    not_inline: &[String],
) -> Result<String, RenderError> {
    let mut body = report::render(Format::Markdown, review, refused)?;
    body = body
        .lines()
        .filter(|line| report::parse_finding_marker(line).is_none())
        .collect::<Vec<_>>()
        .join("\n");
    if !not_inline.is_empty() {
        body.push_str("\n\n#### Not commented inline\n");
        for note in not_inline {
            body.push_str(&format!("- {note}\n"));
        }
    }
    Ok(plan::truncate(&body, MAX_BODY_CHARS))
}
