//! New inline comments, posted as one review (event COMMENT) on the head commit; when GitHub
//! refuses the review (a line outside the diff fails it whole), one by one, so only the
//! comments it cannot place are left for the summary.

use std::collections::HashMap;

use http::Method;
use serde_json::{Value, json};

use super::markers::{findings_of, with_markers};
use super::{Created, MAX_COMMENTS, ReviewComment, label, pull_path};
use crate::forge::github::client::{Call, Http, protocol};
use crate::forge::{
    ChangeRequest, CommentId, CommentOutcome, ForgeError, ForgeResult, InlineComment,
};
use crate::model::FindingId;

/// The review's own body: the findings are in its comments, the details in the summary.
fn review_body(count: usize) -> String {
    let findings = if count == 1 { "finding" } else { "findings" };
    format!(
        "posture: {count} new {findings} on lines this pull request changed; the summary comment has the whole review."
    )
}

/// One comment of `POST /pulls/{n}/reviews` (and, with `commit_id`, of `POST /pulls/{n}/comments`).
fn comment_json(comment: &InlineComment, body: &str) -> Value {
    let mut json = json!({
        "path": comment.path,
        "line": comment.line,
        "side": "RIGHT",
        "body": body,
    });
    if let Some(start) = comment.start_line.filter(|start| *start < comment.line) {
        json["start_line"] = json!(start);
        json["start_side"] = json!("RIGHT");
    }
    json
}

pub(crate) async fn post_comments(
    http: &Http<'_>,
    change: &ChangeRequest,
    comments: &[InlineComment],
) -> ForgeResult<Vec<CommentOutcome>> {
    if comments.is_empty() {
        return Ok(Vec::new());
    }
    let bodies: Vec<String> = comments
        .iter()
        .map(|c| with_markers(&c.body, &c.findings))
        .collect();
    let review = json!({
        "commit_id": change.head_sha,
        "event": "COMMENT",
        "body": review_body(comments.len()),
        "comments": comments
            .iter()
            .zip(&bodies)
            .map(|(c, body)| comment_json(c, body))
            .collect::<Vec<_>>(),
    });
    let what = format!(
        "posting a review with {} comments on {}",
        comments.len(),
        label(change)
    );
    let created = http
        .call(Call::send(
            Method::POST,
            format!("{}/reviews", pull_path(change)?),
            &review,
            "create_review",
            &what,
        ))
        .await;
    match created {
        Ok(answer) => {
            let review: Created = answer.json(&what)?;
            review_comment_ids(http, change, review.id, comments).await
        }
        // A line outside the diff fails the whole review: post one by one instead, so
        // only the comments GitHub cannot place are left for the summary.
        Err(ForgeError::Rejected {
            status: 422,
            message,
            ..
        }) => {
            tracing::info!(
                pull = %label(change),
                reason = %message,
                "GitHub refused the review; posting its comments one by one"
            );
            post_one_by_one(http, change, comments, &bodies).await
        }
        Err(error) => Err(error),
    }
}

/// Which comment of review `review_id` is which finding, by marker.
async fn review_comment_ids(
    http: &Http<'_>,
    change: &ChangeRequest,
    review_id: u64,
    comments: &[InlineComment],
) -> ForgeResult<Vec<CommentOutcome>> {
    let what = format!(
        "reading the comments of review {review_id} on {}",
        label(change)
    );
    let posted: Vec<ReviewComment> = http
        .paged(
            format!(
                "{}/reviews/{review_id}/comments?per_page=100",
                pull_path(change)?
            ),
            "list_review_comments",
            &what,
            Some,
            MAX_COMMENTS,
        )
        .await?;
    // A comment is known by its first marker: the first finding it lists.
    let mut by_finding: HashMap<FindingId, Vec<u64>> = HashMap::new();
    for comment in posted.iter().rev() {
        if let Some(finding) = findings_of(&comment.body).into_iter().next() {
            by_finding.entry(finding).or_default().push(comment.id);
        }
    }
    comments
        .iter()
        .map(|c| {
            c.findings
                .first()
                .and_then(|first| by_finding.get_mut(first))
                .and_then(Vec::pop)
                .map(|id| CommentOutcome::Posted(CommentId(id.to_string())))
                .ok_or_else(|| {
                    protocol(
                        &what,
                        format!("the comment on {}:{} is not among them", c.path, c.line),
                    )
                })
        })
        .collect()
}

async fn post_one_by_one(
    http: &Http<'_>,
    change: &ChangeRequest,
    comments: &[InlineComment],
    bodies: &[String],
) -> ForgeResult<Vec<CommentOutcome>> {
    let mut outcomes = Vec::with_capacity(comments.len());
    for (comment, body) in comments.iter().zip(bodies) {
        let mut json = comment_json(comment, body);
        json["commit_id"] = json!(change.head_sha);
        let what = format!(
            "commenting on {}:{} of {}",
            comment.path,
            comment.line,
            label(change)
        );
        let answer = http
            .call(Call::send(
                Method::POST,
                format!("{}/comments", pull_path(change)?),
                &json,
                "create_review_comment",
                &what,
            ))
            .await;
        outcomes.push(match answer {
            Ok(answer) => {
                let created: Created = answer.json(&what)?;
                CommentOutcome::Posted(CommentId(created.id.to_string()))
            }
            Err(ForgeError::Rejected {
                status: 422,
                message,
                ..
            }) => CommentOutcome::Rejected(message),
            Err(error) => return Err(error),
        });
    }
    Ok(outcomes)
}
