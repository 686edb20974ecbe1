//! Editing posture's inline comments, marking them fixed (a "fixed in" reply, then the
//! thread resolved), resolving threads silently (a triaged finding), and replies.

use http::Method;
use serde_json::json;

use super::markers::{findings_of, fixed_markers, with_marker};
use super::read::review_threads;
use super::{label, numeric, pull_path};
use crate::forge::github::client::{Call, FORGE, Http, repo_path};
use crate::forge::{ChangeRequest, ForgeError, ForgeResult, PostedComment, ReplyTo};
use crate::report::finding_marker;

pub(crate) async fn update_comment(
    http: &Http<'_>,
    change: &ChangeRequest,
    comment: &PostedComment,
    body: &str,
) -> ForgeResult<()> {
    // The body lists the findings still on the line, each with its marker; one handed in
    // with none keeps the comment's first, so a re-run still finds it.
    let body = match (findings_of(body).is_empty(), comment.findings.first()) {
        (true, Some(first)) => with_marker(body, &finding_marker(first)),
        _ => body.to_owned(),
    };
    let body = json!({ "body": body });
    let what = format!("editing review comment {} on {}", comment.id, label(change));
    http.call(Call::send(
        Method::PATCH,
        format!(
            "{}/pulls/comments/{}",
            repo_path(&change.repository)?,
            numeric(&comment.id)?
        ),
        &body,
        "update_review_comment",
        &what,
    ))
    .await
    .map(drop)
}

pub(crate) const RESOLVE_MUTATION: &str = "mutation($thread: ID!) { \
resolveReviewThread(input: {threadId: $thread}) { thread { id isResolved } } }";

pub(crate) async fn resolve_comment(
    http: &Http<'_>,
    change: &ChangeRequest,
    comment: &PostedComment,
    fixed_in: &str,
) -> ForgeResult<()> {
    if comment.resolved {
        return Ok(());
    }
    let reply = json!({
        "body": format!("Fixed in {fixed_in}. {}", fixed_markers(&comment.findings)),
    });
    let what = format!(
        "replying to review comment {} on {}",
        comment.id,
        label(change)
    );
    http.call(Call::send(
        Method::POST,
        format!(
            "{}/comments/{}/replies",
            pull_path(change)?,
            numeric(&comment.id)?
        ),
        &reply,
        "reply_review_comment",
        &what,
    ))
    .await?;
    if let Some(thread) = &comment.thread {
        resolve_review_thread(http, change, comment, thread).await?;
    }
    Ok(())
}

async fn resolve_review_thread(
    http: &Http<'_>,
    change: &ChangeRequest,
    comment: &PostedComment,
    thread: &str,
) -> ForgeResult<()> {
    let what = format!(
        "resolving the thread of review comment {} on {}",
        comment.id,
        label(change)
    );
    http.graphql(
        RESOLVE_MUTATION,
        json!({ "thread": thread }),
        "graphql_resolve_thread",
        &what,
        true,
    )
    .await
    .map(drop)
}

/// Resolves the thread of posture's comment, saying nothing. A thread not known yet is
/// looked up among the pull request's review threads.
pub(crate) async fn resolve_thread(
    http: &Http<'_>,
    change: &ChangeRequest,
    comment: &PostedComment,
) -> ForgeResult<()> {
    if comment.resolved {
        return Ok(());
    }
    let thread = match &comment.thread {
        Some(thread) => thread.clone(),
        None => match review_threads(http, change).await?.remove(&comment.id.0) {
            Some((_, true)) => return Ok(()),
            Some((thread, false)) => thread,
            None => {
                return Err(ForgeError::NotFound {
                    forge: FORGE,
                    what: format!(
                        "the review thread of comment {} on {}",
                        comment.id,
                        label(change)
                    ),
                });
            }
        },
    };
    resolve_review_thread(http, change, comment, &thread).await
}

/// Posts `body` in a review comment's thread or on the pull request's conversation.
pub(crate) async fn reply(
    http: &Http<'_>,
    change: &ChangeRequest,
    to: &ReplyTo,
    body: &str,
) -> ForgeResult<()> {
    let json = json!({ "body": body });
    match to {
        ReplyTo::ReviewComment(id) => {
            let what = format!("replying to review comment {id} on {}", label(change));
            http.call(Call::send(
                Method::POST,
                format!("{}/comments/{}/replies", pull_path(change)?, numeric(id)?),
                &json,
                "reply_review_comment",
                &what,
            ))
            .await
            .map(drop)
        }
        ReplyTo::Conversation => {
            let what = format!("commenting on {}", label(change));
            http.call(Call::send(
                Method::POST,
                format!(
                    "{}/issues/{}/comments",
                    repo_path(&change.repository)?,
                    change.number
                ),
                &json,
                "create_issue_comment",
                &what,
            ))
            .await
            .map(drop)
        }
        ReplyTo::Discussion(_) => Err(ForgeError::Config(
            "GitHub has no discussions to reply to: a reply goes to a review comment or the conversation"
                .to_owned(),
        )),
    }
}
