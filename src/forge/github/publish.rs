//! Publishing a review on a pull request, idempotently: finding what posture posted before
//! by its hidden markers, posting new findings as one review, editing, resolving, the one
//! summary comment, and the merge gate (a check run with annotations for a GitHub App, a
//! commit status for a personal token, which cannot create check runs).
//!
//! Markers (see [`crate::report::finding_marker`]): a finding's comment carries
//! `<!-- posture:finding:ID -->`, the reply that marks it fixed `<!-- posture:fixed:ID -->`,
//! the summary `<!-- posture:summary -->`. A body handed in without its marker gets it
//! appended, so a re-run always finds its own comments. Markers count only in comments
//! written by posture's own login ([`super::people::identity`]): anyone can type one.

use std::collections::{HashMap, HashSet};

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{
    ACTIONS_APP_ID, Call, FORGE, Http, Mode, protocol, repo_path, split_repository,
};
use super::people::{identity, is_me};
use crate::forge::{
    AnnotationLevel, ChangeRequest, CommentId, CommentOutcome, ForgeError, ForgeResult, GateStatus,
    InlineComment, PostedComment, Published, ReplyTo,
};
use crate::model::FindingId;
use crate::report::{SUMMARY_MARKER, finding_marker};

/// The check run's and commit status's name.
pub(crate) const CHECK_NAME: &str = "posture";
/// GitHub's limits on a check run's output.
pub(crate) const MAX_SUMMARY_CHARS: usize = 65_535;
pub(crate) const ANNOTATIONS_PER_REQUEST: usize = 50;
const MAX_ANNOTATION_TITLE_CHARS: usize = 255;
const MAX_ANNOTATION_MESSAGE_BYTES: usize = 64 * 1024;
/// A commit status's description.
pub(crate) const MAX_STATUS_DESCRIPTION_CHARS: usize = 140;
/// The most comments posture reads on one pull request.
const MAX_COMMENTS: usize = 30_000;

const FIXED_PREFIX: &str = "<!-- posture:fixed:";
const MARKER_SUFFIX: &str = " -->";

/// The marker of a reply that says a finding is fixed.
pub(crate) fn fixed_marker(id: &FindingId) -> String {
    format!("{FIXED_PREFIX}{id}{MARKER_SUFFIX}")
}

/// The finding ids of every `prefix…ID -->` marker in `body`, in order.
pub(crate) fn markers(body: &str, prefix: &str) -> Vec<FindingId> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(prefix) {
        rest = &rest[start + prefix.len()..];
        let Some(end) = rest.find(MARKER_SUFFIX) else {
            break;
        };
        let id = &rest[..end];
        if !id.is_empty() && id.len() <= 128 && !id.chars().any(char::is_whitespace) {
            out.push(FindingId(id.to_owned()));
        }
        rest = &rest[end..];
    }
    out
}

/// The finding a comment body is about, from its marker.
pub(crate) fn finding_of(body: &str) -> Option<FindingId> {
    crate::report::parse_finding_marker(body)
}

/// `body` with `marker` at its end when it does not carry it already.
fn with_marker(body: &str, marker: &str) -> String {
    if body.contains(marker) {
        body.to_owned()
    } else {
        format!("{}\n\n{marker}", body.trim_end())
    }
}

#[derive(Debug, Deserialize)]
struct ReviewComment {
    id: u64,
    #[serde(default)]
    body: String,
    in_reply_to_id: Option<u64>,
    /// `null` for a deleted account.
    #[serde(default)]
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    login: String,
}

impl ReviewComment {
    /// Whether posture wrote it (review and issue comments have the same `user`).
    fn by(&self, me: &str) -> bool {
        is_me(self.user.as_ref().map(|u| u.login.as_str()), me)
    }
}

#[derive(Debug, Deserialize)]
struct Created {
    id: u64,
}

fn pull_path(change: &ChangeRequest) -> ForgeResult<String> {
    Ok(format!(
        "{}/pulls/{}",
        repo_path(&change.repository)?,
        change.number
    ))
}

fn label(change: &ChangeRequest) -> String {
    format!("{}#{}", change.repository, change.number)
}

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
    // Only a thread's first comment is posture's: a reply quoting it carries the marker too.
    let mut posted: Vec<PostedComment> = comments
        .iter()
        .filter(|c| c.in_reply_to_id.is_none() && c.by(&me))
        .filter_map(|c| {
            let finding = finding_of(&c.body)?;
            Some(PostedComment {
                id: CommentId(c.id.to_string()),
                thread: None,
                resolved: fixed.contains(&(c.id, finding.clone())),
                finding,
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
async fn review_threads(
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
        .map(|c| with_marker(&c.body, &finding_marker(&c.finding)))
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
    let mut by_finding: HashMap<FindingId, Vec<u64>> = HashMap::new();
    for comment in posted.iter().rev() {
        if let Some(finding) = finding_of(&comment.body) {
            by_finding.entry(finding).or_default().push(comment.id);
        }
    }
    comments
        .iter()
        .map(|c| {
            by_finding
                .get_mut(&c.finding)
                .and_then(Vec::pop)
                .map(|id| CommentOutcome::Posted(CommentId(id.to_string())))
                .ok_or_else(|| {
                    protocol(
                        &what,
                        format!("the comment for finding {} is not among them", c.finding),
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

pub(crate) async fn update_comment(
    http: &Http<'_>,
    change: &ChangeRequest,
    comment: &PostedComment,
    body: &str,
) -> ForgeResult<()> {
    let body = json!({ "body": with_marker(body, &finding_marker(&comment.finding)) });
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
        "body": format!("Fixed in {fixed_in}. {}", fixed_marker(&comment.finding)),
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

pub(crate) async fn upsert_summary(
    http: &Http<'_>,
    change: &ChangeRequest,
    existing: Option<&CommentId>,
    body: &str,
) -> ForgeResult<CommentId> {
    let body = json!({ "body": with_marker(body, SUMMARY_MARKER) });
    let repo = repo_path(&change.repository)?;
    if let Some(id) = existing {
        let what = format!("editing the summary comment {id} on {}", label(change));
        let edited = http
            .call(Call::send(
                Method::PATCH,
                format!("{repo}/issues/comments/{}", numeric(id)?),
                &body,
                "update_issue_comment",
                &what,
            ))
            .await;
        match edited {
            Ok(_) => return Ok(id.clone()),
            // Deleted by someone: post it again.
            Err(ForgeError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    let what = format!("posting the summary comment on {}", label(change));
    let answer = http
        .call(Call::send(
            Method::POST,
            format!("{repo}/issues/{}/comments", change.number),
            &body,
            "create_issue_comment",
            &what,
        ))
        .await?;
    let created: Created = answer.json(&what)?;
    Ok(CommentId(created.id.to_string()))
}

/// A comment id as GitHub's number (refusing anything that could bend the path).
fn numeric(id: &CommentId) -> ForgeResult<u64> {
    id.0.parse()
        .map_err(|_| ForgeError::Config(format!("'{id}' is not a GitHub comment id")))
}

/// `text` cut to `max` characters on a character boundary, ending with `note` when cut.
pub(crate) fn cut_chars(text: &str, max: usize, note: &str) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(note.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(note);
    out
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn annotation_json(annotation: &crate::forge::Annotation) -> Value {
    let level = match annotation.level {
        AnnotationLevel::Failure => "failure",
        AnnotationLevel::Warning => "warning",
        AnnotationLevel::Notice => "notice",
    };
    let start = annotation.start_line.max(1);
    json!({
        "path": annotation.path,
        "start_line": start,
        "end_line": annotation.end_line.max(start),
        "annotation_level": level,
        "title": cut_chars(&annotation.title, MAX_ANNOTATION_TITLE_CHARS, "…"),
        "message": cut_bytes(&annotation.message, MAX_ANNOTATION_MESSAGE_BYTES),
    })
}

pub(crate) async fn set_gate(
    http: &Http<'_>,
    repository: &str,
    gate: &GateStatus,
) -> ForgeResult<()> {
    let app_id = match http.shared.mode {
        // A personal token cannot create check runs (403 "Resource not accessible by
        // personal access token").
        Mode::Token(_) => return commit_status(http, repository, gate).await,
        Mode::Actions(_) => ACTIONS_APP_ID,
        Mode::App { app_id } => app_id,
    };
    match check_run(http, repository, gate, app_id).await {
        Err(ForgeError::Rejected {
            status: 403,
            message,
            ..
        }) => {
            tracing::warn!(
                repository = %repository,
                reason = %message,
                "posture may not create check runs here; publishing a commit status instead"
            );
            commit_status(http, repository, gate).await
        }
        other => other,
    }
}

async fn commit_status(http: &Http<'_>, repository: &str, gate: &GateStatus) -> ForgeResult<()> {
    let body = json!({
        "state": if gate.passed { "success" } else { "failure" },
        "context": CHECK_NAME,
        "description": cut_chars(&gate.title, MAX_STATUS_DESCRIPTION_CHARS, "…"),
    });
    let what = format!(
        "setting the commit status of {} in {repository}",
        gate.head_sha
    );
    http.call(Call::send(
        Method::POST,
        format!(
            "{}/statuses/{}",
            repo_path(repository)?,
            super::client::encode(&gate.head_sha)
        ),
        &body,
        "create_commit_status",
        &what,
    ))
    .await
    .map(drop)
}

/// Creates or updates posture's check run on the head commit. A run of posture's App is
/// updated in place unless it carries annotations: GitHub appends annotations on update, so a
/// run that has some is superseded by a new one (GitHub shows, and branch protection uses,
/// the newest run of a name) rather than collecting stale ones.
async fn check_run(
    http: &Http<'_>,
    repository: &str,
    gate: &GateStatus,
    app_id: u64,
) -> ForgeResult<()> {
    #[derive(Deserialize)]
    struct CheckRuns {
        check_runs: Vec<CheckRun>,
    }
    #[derive(Deserialize)]
    struct CheckRun {
        id: u64,
        #[serde(default)]
        app: Option<App>,
        #[serde(default)]
        output: Option<Output>,
    }
    #[derive(Deserialize)]
    struct App {
        id: u64,
    }
    #[derive(Deserialize)]
    struct Output {
        #[serde(default)]
        annotations_count: u64,
    }
    let repo = repo_path(repository)?;
    let sha = super::client::encode(&gate.head_sha);
    let what = format!(
        "finding posture's check run on {} in {repository}",
        gate.head_sha
    );
    let existing: CheckRuns = http
        .get_json(
            &format!(
                "{repo}/commits/{sha}/check-runs?check_name={CHECK_NAME}&app_id={app_id}&filter=latest&per_page=100"
            ),
            "list_check_runs",
            &what,
        )
        .await?;
    let reusable = existing
        .check_runs
        .iter()
        .find(|run| run.app.as_ref().is_none_or(|app| app.id == app_id))
        .filter(|run| run.output.as_ref().is_none_or(|o| o.annotations_count == 0))
        .map(|run| run.id);

    let summary = cut_chars(
        &gate.summary,
        MAX_SUMMARY_CHARS,
        "\n\n… (cut here: GitHub allows 65,535 characters)",
    );
    let mut batches = gate.annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let first: Vec<Value> = batches
        .next()
        .unwrap_or_default()
        .iter()
        .map(annotation_json)
        .collect();
    let mut body = json!({
        "name": CHECK_NAME,
        "status": "completed",
        "conclusion": if gate.passed { "success" } else { "failure" },
        "completed_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "output": { "title": gate.title, "summary": summary, "annotations": first },
    });
    let id = match reusable {
        Some(id) => {
            let what = format!("updating check run {id} in {repository}");
            http.call(Call::send(
                Method::PATCH,
                format!("{repo}/check-runs/{id}"),
                &body,
                "update_check_run",
                &what,
            ))
            .await?;
            id
        }
        None => {
            body["head_sha"] = json!(gate.head_sha);
            let what = format!(
                "creating the check run on {} in {repository}",
                gate.head_sha
            );
            let answer = http
                .call(Call::send(
                    Method::POST,
                    format!("{repo}/check-runs"),
                    &body,
                    "create_check_run",
                    &what,
                ))
                .await?;
            answer.json::<Created>(&what)?.id
        }
    };
    for batch in batches {
        let body = json!({
            "output": {
                "title": gate.title,
                "summary": summary,
                "annotations": batch.iter().map(annotation_json).collect::<Vec<_>>(),
            }
        });
        let what = format!("adding annotations to check run {id} in {repository}");
        http.call(Call::send(
            Method::PATCH,
            format!("{repo}/check-runs/{id}"),
            &body,
            "update_check_run",
            &what,
        ))
        .await?;
    }
    Ok(())
}
