//! GitLab webhook events: the few payload fields posture needs, and which jobs each event asks
//! for.
//!
//! | event (`X-Gitlab-Event`) | jobs |
//! |---|---|
//! | Merge Request Hook: open, reopen, update with a new push (`oldrev`), marked ready | Review |
//! | Merge Request Hook: marked draft | Pause |
//! | Pipeline Hook: success or failed, for a merge request | Review |
//! | Push Hook to the default branch | Baseline |
//! | Note Hook on a merge request, starting with `/posture` | Command |
//! | anything else, and draft merge requests | ignored |

use serde::Deserialize;
use serde_json::{Value, json};

use super::intake::{JobKind, NewJob};
use super::{PayloadError, Route, WebhookEvent, typed};
use crate::triage::command::has_command;

/// The `X-Gitlab-Event` values posture handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    MergeRequest,
    Pipeline,
    Push,
    Note,
}

impl WebhookEvent for Event {
    const EVENT_HEADER: &'static str = "x-gitlab-event";
    const DELIVERY_HEADER: &'static str = "x-gitlab-event-uuid";

    fn parse(header: &str) -> Option<Self> {
        Some(match header {
            "Merge Request Hook" => Event::MergeRequest,
            "Pipeline Hook" => Event::Pipeline,
            "Push Hook" => Event::Push,
            "Note Hook" => Event::Note,
            _ => return None,
        })
    }

    /// GitLab's `object_kind` for the event.
    fn name(self) -> &'static str {
        match self {
            Event::MergeRequest => "merge_request",
            Event::Pipeline => "pipeline",
            Event::Push => "push",
            Event::Note => "note",
        }
    }

    fn route(self, payload: &Value) -> Result<Route, PayloadError> {
        match self {
            Event::MergeRequest => Ok(merge_request(typed(payload)?)),
            Event::Pipeline => Ok(pipeline(typed(payload)?)),
            Event::Push => push(typed(payload)?),
            Event::Note => Ok(note(typed(payload)?)),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Project {
    path_with_namespace: String,
    #[serde(default)]
    default_branch: Option<String>,
}

impl Project {
    fn merge_request_key(&self, iid: i64) -> String {
        format!("gitlab:{}!{iid}", self.path_with_namespace)
    }
}

#[derive(Debug, Deserialize)]
struct Commit {
    id: String,
}

#[derive(Debug, Deserialize)]
struct MergeRequestHook {
    project: Project,
    object_attributes: MergeRequestAttributes,
    #[serde(default)]
    changes: Changes,
}

#[derive(Debug, Deserialize)]
struct MergeRequestAttributes {
    iid: i64,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    draft: Option<bool>,
    /// The older name of `draft`.
    #[serde(default)]
    work_in_progress: Option<bool>,
    /// Set on `update` when the update pushed new commits.
    #[serde(default)]
    oldrev: Option<String>,
    #[serde(default)]
    last_commit: Option<Commit>,
}

#[derive(Debug, Default, Deserialize)]
struct Changes {
    #[serde(default)]
    draft: Option<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(default)]
    current: Option<bool>,
}

fn merge_request(hook: MergeRequestHook) -> Route {
    let attributes = &hook.object_attributes;
    let action = attributes.action.as_deref().unwrap_or_default();
    let draft = attributes
        .draft
        .or(attributes.work_in_progress)
        .unwrap_or(false);
    let draft_change = hook
        .changes
        .draft
        .as_ref()
        .and_then(|change| change.current);
    let kind = if action == "update" && draft_change == Some(true) {
        JobKind::Pause
    } else if draft {
        return Route::Ignore("draft merge request");
    } else if matches!(action, "open" | "reopen")
        || (action == "update" && (attributes.oldrev.is_some() || draft_change == Some(false)))
    {
        JobKind::Review
    } else {
        return Route::Ignore("merge request action not handled");
    };
    let job = NewJob {
        kind,
        repository: hook.project.path_with_namespace.clone(),
        pull_request: Some(attributes.iid),
        head_sha: attributes
            .last_commit
            .as_ref()
            .map(|commit| commit.id.clone()),
        coalesce_key: Some(hook.project.merge_request_key(attributes.iid)),
        payload: json!({ "trigger": format!("merge_request.{action}") }),
    };
    Route::Store {
        action: attributes.action.clone(),
        repository: Some(hook.project.path_with_namespace),
        jobs: vec![job],
    }
}

#[derive(Debug, Deserialize)]
struct PipelineHook {
    project: Project,
    object_attributes: PipelineAttributes,
    #[serde(default)]
    merge_request: Option<MergeRequestRef>,
}

#[derive(Debug, Deserialize)]
struct PipelineAttributes {
    status: String,
    sha: String,
    #[serde(rename = "ref", default)]
    git_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MergeRequestRef {
    iid: i64,
}

/// A finished merge request pipeline: its reports may now be read.
fn pipeline(hook: PipelineHook) -> Route {
    let status = hook.object_attributes.status;
    if !matches!(status.as_str(), "success" | "failed") {
        return Route::Ignore("pipeline not finished");
    }
    let Some(merge_request) = hook.merge_request else {
        // The default branch's CI finished: its reports become the baseline.
        let on_default = hook.object_attributes.git_ref.is_some()
            && hook.object_attributes.git_ref == hook.project.default_branch;
        if !on_default {
            return Route::Ignore("pipeline not for a merge request or the default branch");
        }
        let repository = hook.project.path_with_namespace;
        return Route::Store {
            jobs: vec![NewJob {
                kind: JobKind::Baseline,
                coalesce_key: Some(format!("gitlab:{repository}:baseline")),
                repository: repository.clone(),
                pull_request: None,
                head_sha: Some(hook.object_attributes.sha),
                payload: json!({ "trigger": format!("pipeline.{status}") }),
            }],
            repository: Some(repository),
            action: Some(status),
        };
    };
    let job = NewJob {
        kind: JobKind::Review,
        repository: hook.project.path_with_namespace.clone(),
        pull_request: Some(merge_request.iid),
        head_sha: Some(hook.object_attributes.sha),
        coalesce_key: Some(hook.project.merge_request_key(merge_request.iid)),
        payload: json!({ "trigger": format!("pipeline.{status}") }),
    };
    Route::Store {
        repository: Some(hook.project.path_with_namespace),
        action: Some(status),
        jobs: vec![job],
    }
}

#[derive(Debug, Deserialize)]
struct PushHook {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    project: Project,
}

fn push(hook: PushHook) -> Result<Route, PayloadError> {
    let default_branch = hook
        .project
        .default_branch
        .as_deref()
        .ok_or(PayloadError::Missing {
            field: "project.default_branch",
        })?;
    if hook.after.bytes().all(|byte| byte == b'0') {
        return Ok(Route::Ignore("ref deleted"));
    }
    if hook.git_ref.strip_prefix("refs/heads/") != Some(default_branch) {
        return Ok(Route::Ignore("push to another ref than the default branch"));
    }
    let repository = hook.project.path_with_namespace;
    let job = NewJob {
        kind: JobKind::Baseline,
        coalesce_key: Some(format!("gitlab:{repository}:baseline")),
        repository: repository.clone(),
        pull_request: None,
        head_sha: Some(hook.after),
        payload: json!({ "trigger": "push" }),
    };
    Ok(Route::Store {
        repository: Some(repository),
        action: None,
        jobs: vec![job],
    })
}

#[derive(Debug, Deserialize)]
struct NoteHook {
    project: Project,
    user: User,
    object_attributes: NoteAttributes,
    #[serde(default)]
    merge_request: Option<MergeRequestRef>,
}

#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    id: Option<i64>,
    username: String,
}

#[derive(Debug, Deserialize)]
struct NoteAttributes {
    id: i64,
    note: String,
    noteable_type: String,
    /// The thread the note is in (a reply to posture's comment is in posture's thread).
    #[serde(default)]
    discussion_id: Option<String>,
    /// `create` or `update`; an edited note is not run again.
    #[serde(default)]
    action: Option<String>,
}

/// GitLab names the users behind project and group access tokens `project_<id>_bot_<…>` and
/// `group_<id>_bot_<…>`; the Note Hook carries no other sign of a bot.
fn is_bot(username: &str) -> bool {
    let mut parts = username.splitn(3, '_');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("project" | "group"), Some(id), Some(rest))
            if id.chars().all(|c| c.is_ascii_digit()) && rest.starts_with("bot")
    )
}

fn note(hook: NoteHook) -> Route {
    let attributes = hook.object_attributes;
    let merge_request = match hook.merge_request {
        Some(merge_request) if attributes.noteable_type == "MergeRequest" => merge_request,
        _ => return Route::Ignore("note not on a merge request"),
    };
    if attributes.action.as_deref().is_some_and(|a| a != "create") {
        return Route::Ignore("note not created");
    }
    if !has_command(&attributes.note) {
        return Route::Ignore("note is not a /posture command");
    }
    if is_bot(&hook.user.username) {
        return Route::Ignore("note by a bot");
    }
    let job = NewJob {
        kind: JobKind::Command,
        repository: hook.project.path_with_namespace.clone(),
        pull_request: Some(merge_request.iid),
        head_sha: None,
        coalesce_key: None,
        payload: json!({
            "trigger": "note",
            "command": attributes.note,
            "author": hook.user.username,
            "author_id": hook.user.id,
            "comment_id": attributes.id,
            "reply_to": attributes.discussion_id.map(|d| json!({"discussion": d})),
        }),
    };
    Route::Store {
        repository: Some(hook.project.path_with_namespace),
        action: None,
        jobs: vec![job],
    }
}
