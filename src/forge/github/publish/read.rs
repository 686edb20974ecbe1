//! What posture posted on a pull request before: its inline comments (each with every
//! finding its markers name, its review thread, and whether it is resolved or answered
//! "fixed") and its summary comment.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::markers::{FIXED_PREFIX, findings_of, markers};
use super::{MAX_COMMENTS, ReviewComment, label, pull_path};
use crate::forge::github::client::{Http, protocol, repo_path, split_repository};
use crate::forge::github::people::identity;
use crate::forge::{ChangeRequest, CommentId, ForgeResult, PostedComment, Published};
use crate::model::FindingId;
use crate::report::SUMMARY_MARKER;

pub(crate) async fn published(http: &Http<'_>, change: &ChangeRequest) -> ForgeResult<Published> {
    let me = identity(http.shared).await?;
    let what = format!("reading the review comments of {}", label(change));
    let comments: Vec<ReviewComment> = http
        .paged(
            format!("{}/comments?per_page=100", pull_path(change)?),
            "list_review_comments",
            &what,
            Some,
            MAX_COMMENTS,
        )
        .await?;
    // posture's replies that say "fixed": (the comment replied to, the finding).
    let fixed: HashSet<(u64, FindingId)> = comments
        .iter()
        .filter(|c| c.by(&me))
        .filter_map(|c| Some((c.in_reply_to_id?, c)))
        .flat_map(|(parent, c)| {
            markers(&c.body, FIXED_PREFIX)
                .into_iter()
                .map(move |id| (parent, id))
        })
        .collect();
    // Only a thread's first comment is posture's: a reply quoting it carries the markers too.
    // It counts as resolved once a "fixed" reply names every finding it lists.
    let mut posted: Vec<PostedComment> = comments
        .iter()
        .filter(|c| c.in_reply_to_id.is_none() && c.by(&me))
        .filter_map(|c| {
            let findings = findings_of(&c.body);
            findings.first()?;
            Some(PostedComment {
                id: CommentId(c.id.to_string()),
                thread: None,
                resolved: findings
                    .iter()
                    .all(|id| fixed.contains(&(c.id, id.clone()))),
                findings,
                body: c.body.clone(),
            })
        })
        .collect();
    if !posted.is_empty() {
        let threads = review_threads(http, change).await?;
        for comment in &mut posted {
            if let Some((thread, resolved)) = threads.get(&comment.id.0) {
                comment.thread = Some(thread.clone());
                comment.resolved |= *resolved;
            }
        }
    }
    Ok(Published {
        summary: find_summary(http, change, &me).await?,
        comments: posted,
    })
}

async fn find_summary(
    http: &Http<'_>,
    change: &ChangeRequest,
    me: &str,
) -> ForgeResult<Option<(CommentId, String)>> {
    let what = format!("reading the comments of {}", label(change));
    let path = format!(
        "{}/issues/{}/comments?per_page=100",
        repo_path(&change.repository)?,
        change.number
    );
    let comments: Vec<ReviewComment> = http
        .paged(path, "list_issue_comments", &what, Some, MAX_COMMENTS)
        .await?;
    Ok(comments
        .into_iter()
        .find(|c| c.by(me) && c.body.contains(SUMMARY_MARKER))
        .map(|c| (CommentId(c.id.to_string()), c.body)))
}

pub(crate) const THREADS_QUERY: &str = "query($owner: String!, $name: String!, $number: Int!, $cursor: String) { \
repository(owner: $owner, name: $name) { pullRequest(number: $number) { \
reviewThreads(first: 100, after: $cursor) { pageInfo { hasNextPage endCursor } \
nodes { id isResolved comments(first: 1) { nodes { databaseId } } } } } } }";

/// The review threads of a pull request: first comment id → (thread node id, resolved).
pub(super) async fn review_threads(
    http: &Http<'_>,
    change: &ChangeRequest,
) -> ForgeResult<HashMap<String, (String, bool)>> {
    let (owner, name) = split_repository(&change.repository)?;
    let what = format!("reading the review threads of {}", label(change));
    let mut threads = HashMap::new();
    let mut cursor = Value::Null;
    for _ in 0..(MAX_COMMENTS / 100) {
        let data = http
            .graphql(
                THREADS_QUERY,
                json!({ "owner": owner, "name": name, "number": change.number, "cursor": cursor }),
                "graphql_review_threads",
                &what,
                false,
            )
            .await?;
        let page = data
            .pointer("/repository/pullRequest/reviewThreads")
            .ok_or_else(|| protocol(&what, "no reviewThreads in the answer".to_owned()))?;
        for node in page
            .get("nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = node.get("id").and_then(Value::as_str);
            let resolved = node
                .get("isResolved")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let first = node
                .pointer("/comments/nodes/0/databaseId")
                .and_then(Value::as_u64);
            if let (Some(id), Some(first)) = (id, first) {
                threads.insert(first.to_string(), (id.to_owned(), resolved));
            }
        }
        let next = page
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match page.pointer("/pageInfo/endCursor") {
            Some(end) if next && !end.is_null() => cursor = end.clone(),
            _ => break,
        }
    }
    Ok(threads)
}
