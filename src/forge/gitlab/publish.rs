//! Publishing a review on a merge request: one diff discussion per line, listing every
//! finding there (found again by their hidden markers), a "fixed in" reply and resolution when it goes away, one summary note,
//! and the gate as a commit status. Only notes written by posture's own user
//! ([`super::people::identity`]) count: a marker in anyone else's note is ignored.
//!
//! A discussion's `position` names the merge request's `diff_refs` and a line on the head side:
//! `new_line` alone for an added line, `old_line` and `new_line` for an unchanged one, and
//! `old_path` differs from `new_path` for a renamed file. Multi-line comments carry a
//! `line_range` whose ends are GitLab line codes (`sha1(path)_old_new`), computed from the
//! merge request's diff; when the file's diff is not available the comment goes on its last
//! line only.

use std::collections::{BTreeSet, HashMap};

use gitlab::api::common::NameOrId;
use gitlab::api::projects::merge_requests::discussions::MergeRequestDiscussions;
use gitlab::api::projects::merge_requests::notes::{CreateMergeRequestNote, EditMergeRequestNote};
use gitlab::api::projects::repository::commits::{CommitStatusState, CreateCommitStatus};
use gitlab::api::{self, Pagination};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::client::{Api, protocol};
use super::endpoints::{
    AddDiscussionNote, CreateDiffDiscussion, EditDiscussionNote, ResolveDiscussion,
};
use super::people::{identity, is_me};
use super::read::{diffs, has_hunks, iid};
use super::types::{Diff, Discussion, Note};
use crate::forge::patch::parse;
use crate::forge::{
    ChangeRequest, CommentId, CommentOutcome, ForgeError, ForgeResult, GateStatus, InlineComment,
    PostedComment, Published, ReplyTo,
};
use crate::model::{FindingId, Hunk};
use crate::report::{SUMMARY_MARKER, parse_finding_markers};

/// The name of posture's commit status.
pub(super) const STATUS_NAME: &str = "posture";
/// GitLab's limit on a commit status description.
const DESCRIPTION_LIMIT: usize = 255;
const FIXED_MARKER_START: &str = "<!-- posture:fixed:";

/// The hidden marker of the reply that says a finding was fixed.
pub(super) fn fixed_marker(id: &FindingId) -> String {
    format!("{FIXED_MARKER_START}{id} -->")
}

fn note_id(comment: &CommentId, what: &str) -> ForgeResult<u64> {
    comment
        .0
        .parse()
        .map_err(|_| protocol(what, &format!("'{comment}' is not a GitLab note id")))
}

async fn discussions(api: &Api, change: &ChangeRequest) -> ForgeResult<Vec<Discussion>> {
    let iid = iid(&change.repository, change.number)?;
    let what = format!(
        "reading the discussions of merge request {}!{iid}",
        change.repository
    );
    let endpoint = MergeRequestDiscussions::builder()
        .project(change.repository.as_str())
        .merge_request(iid)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    api.call(
        "merge_request_discussions",
        &what,
        false,
        api::paged(endpoint, Pagination::All),
    )
    .await
}

/// Whether posture wrote `note`.
fn mine(note: &Note, me: &str) -> bool {
    !note.system && is_me(note.author.as_ref().map(|a| a.username.as_str()), me)
}

pub(super) async fn published(api: &Api, change: &ChangeRequest) -> ForgeResult<Published> {
    let me = identity(api).await?;
    let mut published = Published::default();
    for discussion in discussions(api, change).await? {
        let Some(first) = discussion.notes.first().filter(|note| mine(note, &me)) else {
            continue;
        };
        if first.body.contains(SUMMARY_MARKER) {
            if published.summary.is_none() {
                published.summary = Some((CommentId(first.id.to_string()), first.body.clone()));
            }
            continue;
        }
        // One note lists every finding on its line, each with its marker (a note by an
        // older version, one).
        let findings = parse_finding_markers(&first.body);
        if findings.is_empty() {
            continue;
        }
        let resolvable: Vec<&Note> = discussion.notes.iter().filter(|n| n.resolvable).collect();
        let fixed_in_reply = |id: &FindingId| {
            let fixed = fixed_marker(id);
            discussion.notes[1..]
                .iter()
                .any(|n| mine(n, &me) && n.body.contains(&fixed))
        };
        let resolved = (!resolvable.is_empty()
            && resolvable.iter().all(|n| n.resolved == Some(true)))
            || findings.iter().all(fixed_in_reply);
        published.comments.push(PostedComment {
            id: CommentId(first.id.to_string()),
            thread: Some(discussion.id.clone()),
            findings,
            body: first.body.clone(),
            resolved,
        });
    }
    Ok(published)
}

pub(super) async fn post_comments(
    api: &Api,
    change: &ChangeRequest,
    comments: &[InlineComment],
) -> ForgeResult<Vec<CommentOutcome>> {
    if comments.is_empty() {
        return Ok(Vec::new());
    }
    let iid = iid(&change.repository, change.number)?;
    let files = FileLines::of(&diffs(api, &change.repository, change.number).await?);
    let mut outcomes = Vec::with_capacity(comments.len());
    for comment in comments {
        let what = format!(
            "commenting on {}:{} in merge request {}!{iid}",
            comment.path, comment.line, change.repository
        );
        let endpoint = CreateDiffDiscussion {
            project: NameOrId::from(change.repository.as_str()),
            iid,
            body: json!({
                "body": comment.body,
                "position": position(change, comment, files.get(&comment.path)),
            }),
        };
        match api
            .call::<Discussion, _>("create_discussion", &what, true, endpoint)
            .await
        {
            Ok(discussion) => match discussion.notes.first() {
                Some(note) => outcomes.push(CommentOutcome::Posted(CommentId(note.id.to_string()))),
                None => return Err(protocol(&what, "the new discussion has no note")),
            },
            Err(ForgeError::Rejected {
                status: status @ (400 | 422),
                message,
                ..
            }) => outcomes.push(CommentOutcome::Rejected(format!(
                "GitLab refused the comment's position ({status}): {message}"
            ))),
            Err(error) => return Err(error),
        }
    }
    Ok(outcomes)
}

/// The `position` of a comment on the head side of the merge request's diff.
pub(super) fn position(
    change: &ChangeRequest,
    comment: &InlineComment,
    file: Option<&FileLines>,
) -> Value {
    let mut position = json!({
        "position_type": "text",
        "base_sha": change.merge_base,
        "start_sha": change.target_sha,
        "head_sha": change.head_sha,
        "old_path": comment.old_path,
        "new_path": comment.path,
        "new_line": comment.line,
    });
    let Some(file) = file else {
        return position;
    };
    if let Some(old) = file.old_line(comment.line) {
        position["old_line"] = json!(old);
    }
    if let Some(start) = comment.start_line.filter(|start| *start < comment.line) {
        position["line_range"] = json!({
            "start": file.range_end(&comment.path, start),
            "end": file.range_end(&comment.path, comment.line),
        });
    }
    position
}

/// One file's diff, to place comments: its zero-context hunks and added head lines.
#[derive(Debug, Default)]
pub(super) struct FileLines {
    hunks: Vec<Hunk>,
    added: BTreeSet<u32>,
}

impl FileLines {
    pub(super) fn new(hunks: Vec<Hunk>, added: Vec<u32>) -> FileLines {
        FileLines {
            hunks,
            added: added.into_iter().collect(),
        }
    }

    /// By head path, the files of a merge request's diff that have hunks.
    fn of(diffs: &[Diff]) -> HashMap<String, FileLines> {
        diffs
            .iter()
            .filter(|diff| !diff.deleted_file)
            .filter_map(|diff| {
                let text = diff.diff.as_deref().filter(|text| has_hunks(text))?;
                let (hunks, added) = parse(&diff.new_path, text).ok()?;
                Some((diff.new_path.clone(), FileLines::new(hunks, added)))
            })
            .collect()
    }

    /// The base-side number of head line `line`, or `None` when the change added it.
    pub(super) fn old_line(&self, line: u32) -> Option<u32> {
        if self.added.contains(&line) {
            return None;
        }
        let mut delta = 0i64;
        for hunk in &self.hunks {
            let before = if hunk.new_lines == 0 {
                hunk.new_start < line
            } else {
                hunk.new_start + hunk.new_lines <= line
            };
            if before {
                delta += i64::from(hunk.new_lines) - i64::from(hunk.old_lines);
            }
        }
        u32::try_from(i64::from(line) - delta)
            .ok()
            .filter(|old| *old > 0)
    }

    /// GitLab's old-side counter at an added line: the base line that follows the hunk's
    /// removed lines (what its diff parser puts in the line code).
    fn old_counter(&self, line: u32) -> u32 {
        self.hunks
            .iter()
            .find(|h| h.new_lines > 0 && h.new_start <= line && line < h.new_start + h.new_lines)
            .map_or(line, |h| {
                if h.old_lines == 0 {
                    h.old_start + 1
                } else {
                    h.old_start + h.old_lines
                }
            })
    }

    /// One end of a `line_range`.
    pub(super) fn range_end(&self, path: &str, line: u32) -> Value {
        match self.old_line(line) {
            None => json!({
                "line_code": line_code(path, self.old_counter(line), line),
                "type": "new",
                "new_line": line,
            }),
            Some(old) => json!({
                "line_code": line_code(path, old, line),
                "type": "old",
                "old_line": old,
                "new_line": line,
            }),
        }
    }
}

/// GitLab's line code: `sha1(path)_old_new`.
pub(super) fn line_code(path: &str, old: u32, new: u32) -> String {
    format!("{}_{old}_{new}", hex::encode(Sha1::digest(path.as_bytes())))
}

pub(super) async fn update_comment(
    api: &Api,
    change: &ChangeRequest,
    comment: &PostedComment,
    body: &str,
) -> ForgeResult<()> {
    let iid = iid(&change.repository, change.number)?;
    let what = format!(
        "updating comment {} in merge request {}!{iid}",
        comment.id, change.repository
    );
    let note = note_id(&comment.id, &what)?;
    match &comment.thread {
        Some(discussion) => {
            let endpoint = EditDiscussionNote {
                project: NameOrId::from(change.repository.as_str()),
                iid,
                discussion,
                note,
                body,
            };
            api.call("edit_discussion_note", &what, true, api::ignore(endpoint))
                .await
        }
        None => edit_note(api, &change.repository, iid, note, body, &what).await,
    }
}

async fn edit_note(
    api: &Api,
    repository: &str,
    iid: u64,
    note: u64,
    body: &str,
    what: &str,
) -> ForgeResult<()> {
    let endpoint = EditMergeRequestNote::builder()
        .project(repository)
        .merge_request(iid)
        .note(note)
        .body(body)
        .build()
        .map_err(|e| protocol(what, &e.to_string()))?;
    api.call("edit_note", what, true, api::ignore(endpoint))
        .await
}

pub(super) async fn resolve_comment(
    api: &Api,
    change: &ChangeRequest,
    comment: &PostedComment,
    fixed_in: &str,
) -> ForgeResult<()> {
    let iid = iid(&change.repository, change.number)?;
    let what = format!(
        "resolving comment {} in merge request {}!{iid}",
        comment.id, change.repository
    );
    let discussion = discussion_of(api, change, comment, &what).await?;
    let markers: Vec<String> = comment.findings.iter().map(fixed_marker).collect();
    let reply = format!("Fixed in {fixed_in}. {}", markers.join(" "));
    let endpoint = AddDiscussionNote {
        project: NameOrId::from(change.repository.as_str()),
        iid,
        discussion: &discussion,
        body: &reply,
    };
    api.call("add_discussion_note", &what, true, api::ignore(endpoint))
        .await?;
    let endpoint = ResolveDiscussion {
        project: NameOrId::from(change.repository.as_str()),
        iid,
        discussion: &discussion,
    };
    api.call("resolve_discussion", &what, true, api::ignore(endpoint))
        .await
}

/// The discussion of posture's comment: its thread, or the one holding its note.
async fn discussion_of(
    api: &Api,
    change: &ChangeRequest,
    comment: &PostedComment,
    what: &str,
) -> ForgeResult<String> {
    match &comment.thread {
        Some(discussion) => Ok(discussion.clone()),
        None => discussion_holding(api, change, &comment.id, what).await,
    }
}

/// The id of the discussion that holds note `note`.
async fn discussion_holding(
    api: &Api,
    change: &ChangeRequest,
    note: &CommentId,
    what: &str,
) -> ForgeResult<String> {
    let note = note_id(note, what)?;
    discussions(api, change)
        .await?
        .into_iter()
        .find(|d| d.notes.iter().any(|n| n.id == note))
        .map(|d| d.id)
        .ok_or_else(|| ForgeError::NotFound {
            forge: super::client::FORGE,
            what: what.to_owned(),
        })
}

/// Resolves the discussion of posture's comment, saying nothing.
pub(super) async fn resolve_thread(
    api: &Api,
    change: &ChangeRequest,
    comment: &PostedComment,
) -> ForgeResult<()> {
    if comment.resolved {
        return Ok(());
    }
    let iid = iid(&change.repository, change.number)?;
    let what = format!(
        "resolving the thread of comment {} in merge request {}!{iid}",
        comment.id, change.repository
    );
    let discussion = discussion_of(api, change, comment, &what).await?;
    let endpoint = ResolveDiscussion {
        project: NameOrId::from(change.repository.as_str()),
        iid,
        discussion: &discussion,
    };
    api.call("resolve_discussion", &what, true, api::ignore(endpoint))
        .await
}

/// Posts `body` in a discussion (named, or the one holding a note) or as a merge request
/// note.
pub(super) async fn reply(
    api: &Api,
    change: &ChangeRequest,
    to: &ReplyTo,
    body: &str,
) -> ForgeResult<()> {
    let iid = iid(&change.repository, change.number)?;
    let discussion = match to {
        ReplyTo::Conversation => {
            let what = format!("commenting on merge request {}!{iid}", change.repository);
            let endpoint = CreateMergeRequestNote::builder()
                .project(change.repository.as_str())
                .merge_request(iid)
                .body(body)
                .build()
                .map_err(|e| protocol(&what, &e.to_string()))?;
            return api
                .call("create_note", &what, true, api::ignore(endpoint))
                .await;
        }
        ReplyTo::Discussion(discussion) => discussion.clone(),
        ReplyTo::ReviewComment(note) => {
            let what = format!(
                "finding the discussion of comment {note} in merge request {}!{iid}",
                change.repository
            );
            discussion_holding(api, change, note, &what).await?
        }
    };
    let what = format!(
        "replying in discussion {discussion} of merge request {}!{iid}",
        change.repository
    );
    let endpoint = AddDiscussionNote {
        project: NameOrId::from(change.repository.as_str()),
        iid,
        discussion: &discussion,
        body,
    };
    api.call("add_discussion_note", &what, true, api::ignore(endpoint))
        .await
}

pub(super) async fn upsert_summary(
    api: &Api,
    change: &ChangeRequest,
    existing: Option<&CommentId>,
    body: &str,
) -> ForgeResult<CommentId> {
    let iid = iid(&change.repository, change.number)?;
    let what = format!(
        "writing the summary of merge request {}!{iid}",
        change.repository
    );
    if let Some(existing) = existing {
        let note = note_id(existing, &what)?;
        match edit_note(api, &change.repository, iid, note, body, &what).await {
            Ok(()) => return Ok(existing.clone()),
            // Deleted by someone: write it anew.
            Err(ForgeError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    let endpoint = CreateMergeRequestNote::builder()
        .project(change.repository.as_str())
        .merge_request(iid)
        .body(body)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let note: Note = api.call("create_note", &what, true, endpoint).await?;
    Ok(CommentId(note.id.to_string()))
}

pub(super) async fn set_gate(api: &Api, repository: &str, gate: &GateStatus) -> ForgeResult<()> {
    let what = format!(
        "setting the {STATUS_NAME} status of {} in {repository}",
        gate.head_sha
    );
    let (state, spelled) = if gate.passed {
        (CommitStatusState::Success, "success")
    } else {
        (CommitStatusState::Failed, "failed")
    };
    let endpoint = CreateCommitStatus::builder()
        .project(repository)
        .commit(gate.head_sha.as_str())
        .state(state)
        .name(STATUS_NAME)
        .description(clip_bytes(&gate.title, DESCRIPTION_LIMIT))
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    match api
        .call("commit_status", &what, true, api::ignore(endpoint))
        .await
    {
        // Already in that state: GitLab refuses the same transition twice.
        Err(ForgeError::Rejected {
            status: 400,
            message,
            ..
        }) if message.contains("Cannot transition status")
            && message.contains(&format!("from :{spelled}")) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// `text` cut to at most `limit` bytes on a character boundary, with an ellipsis when cut.
pub(super) fn clip_bytes(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let ellipsis = "…";
    let mut end = limit - ellipsis.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ellipsis}", &text[..end])
}
