//! GitHub webhook events: the few payload fields posture needs, and which jobs each event asks
//! for.
//!
//! | event | jobs |
//! |---|---|
//! | `pull_request` opened, synchronize, reopened (not draft), ready_for_review | Review |
//! | `pull_request` converted_to_draft | Pause |
//! | `workflow_run` / `check_suite` completed | Review per listed PR, or one keyed by head sha |
//! | `push` to the default branch | Baseline |
//! | `issue_comment` / `pull_request_review_comment` created on a PR, a line starting with `/posture`, not by a bot | Command |
//! | `installation`, `installation_repositories` | none (the delivery is stored) |
//! | `ping`, anything else | ignored |

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::intake::{JobKind, NewJob};
use super::{PayloadError, Route, WebhookEvent, typed};
use crate::triage::command::has_command;

/// The `X-GitHub-Event` values posture handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    PullRequest,
    WorkflowRun,
    CheckSuite,
    Push,
    IssueComment,
    ReviewComment,
    Installation,
    InstallationRepositories,
    Ping,
}

impl WebhookEvent for Event {
    const EVENT_HEADER: &'static str = "x-github-event";
    const DELIVERY_HEADER: &'static str = "x-github-delivery";

    fn parse(header: &str) -> Option<Self> {
        Some(match header {
            "pull_request" => Event::PullRequest,
            "workflow_run" => Event::WorkflowRun,
            "check_suite" => Event::CheckSuite,
            "push" => Event::Push,
            "issue_comment" => Event::IssueComment,
            "pull_request_review_comment" => Event::ReviewComment,
            "installation" => Event::Installation,
            "installation_repositories" => Event::InstallationRepositories,
            "ping" => Event::Ping,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Event::PullRequest => "pull_request",
            Event::WorkflowRun => "workflow_run",
            Event::CheckSuite => "check_suite",
            Event::Push => "push",
            Event::IssueComment => "issue_comment",
            Event::ReviewComment => "pull_request_review_comment",
            Event::Installation => "installation",
            Event::InstallationRepositories => "installation_repositories",
            Event::Ping => "ping",
        }
    }

    fn route(self, payload: &Value) -> Result<Route, PayloadError> {
        match self {
            Event::PullRequest => pull_request(typed(payload)?),
            Event::WorkflowRun => {
                let event: WorkflowRunEvent = typed(payload)?;
                Ok(run_completed(
                    self,
                    event.common,
                    event.action,
                    event.workflow_run,
                ))
            }
            Event::CheckSuite => {
                let event: CheckSuiteEvent = typed(payload)?;
                Ok(run_completed(
                    self,
                    event.common,
                    event.action,
                    event.check_suite,
                ))
            }
            Event::Push => push(typed(payload)?),
            Event::IssueComment => Ok(issue_comment(typed(payload)?)),
            Event::ReviewComment => Ok(review_comment(typed(payload)?)),
            Event::Installation | Event::InstallationRepositories => {
                let event: InstallationEvent = typed(payload)?;
                tracing::info!(
                    installation_id = event.installation.id,
                    action = event.action.as_deref(),
                    "installation event"
                );
                // Newly reachable repositories: review their open pull requests now rather
                // than at their next push.
                let added = match event.action.as_deref() {
                    Some("created") => event.repositories,
                    Some("added") => event.repositories_added,
                    _ => Vec::new(),
                };
                let trigger = format!("{}.{}", self.name(), event.action.as_deref().unwrap_or(""));
                let jobs = added
                    .into_iter()
                    .map(|repository| NewJob {
                        kind: JobKind::Reconcile,
                        coalesce_key: Some(format!("github:{}:reconcile", repository.full_name)),
                        repository: repository.full_name,
                        pull_request: None,
                        head_sha: None,
                        payload: json!({
                            "trigger": trigger,
                            "installation_id": event.installation.id,
                        }),
                    })
                    .collect();
                Ok(Route::Store {
                    repository: None,
                    action: event.action,
                    jobs,
                })
            }
            Event::Ping => Ok(Route::Ignore("ping")),
        }
    }
}

/// Fields every repository event carries.
#[derive(Debug, Deserialize)]
struct Common {
    repository: Repository,
    #[serde(default)]
    installation: Option<Installation>,
}

impl Common {
    /// The job payload shared by every job of this delivery.
    fn job_payload(&self, trigger: String) -> Value {
        json!({
            "trigger": trigger,
            "installation_id": self.installation.as_ref().map(|installation| installation.id),
        })
    }

    fn pull_request_key(&self, number: i64) -> String {
        format!("github:{}#{number}", self.repository.full_name)
    }
}

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Installation {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct Commit {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct PullRequestEvent {
    action: String,
    number: i64,
    pull_request: PullRequest,
    #[serde(flatten)]
    common: Common,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    #[serde(default)]
    draft: bool,
    head: Commit,
}

fn pull_request(event: PullRequestEvent) -> Result<Route, PayloadError> {
    let kind = match event.action.as_str() {
        "opened" | "synchronize" | "reopened" if event.pull_request.draft => {
            return Ok(Route::Ignore("draft pull request"));
        }
        "opened" | "synchronize" | "reopened" | "ready_for_review" => JobKind::Review,
        "converted_to_draft" => JobKind::Pause,
        _ => return Ok(Route::Ignore("pull_request action not handled")),
    };
    let job = NewJob {
        kind,
        repository: event.common.repository.full_name.clone(),
        pull_request: Some(event.number),
        head_sha: Some(event.pull_request.head.sha),
        coalesce_key: Some(event.common.pull_request_key(event.number)),
        payload: event
            .common
            .job_payload(format!("pull_request.{}", event.action)),
    };
    Ok(Route::Store {
        repository: Some(event.common.repository.full_name),
        action: Some(event.action),
        jobs: vec![job],
    })
}

/// A finished workflow run or check suite: its head commit and the pull requests it ran for.
#[derive(Debug, Deserialize)]
struct Run {
    head_sha: String,
    #[serde(default)]
    head_branch: Option<String>,
    #[serde(default)]
    pull_requests: Vec<RunPullRequest>,
}

#[derive(Debug, Deserialize)]
struct RunPullRequest {
    number: i64,
    head: Commit,
}

#[derive(Debug, Deserialize)]
struct WorkflowRunEvent {
    action: String,
    workflow_run: Run,
    #[serde(flatten)]
    common: Common,
}

#[derive(Debug, Deserialize)]
struct CheckSuiteEvent {
    action: String,
    check_suite: Run,
    #[serde(flatten)]
    common: Common,
}

/// CI finished: its reports may now be read, so review each pull request it ran for. With no
/// pull request listed, a run on the default branch records the baseline; any other (e.g.
/// from a fork) is one review keyed by the head commit, and the worker finds its pull
/// requests.
fn run_completed(event: Event, common: Common, action: String, run: Run) -> Route {
    if action != "completed" {
        return Route::Ignore("run not completed");
    }
    let trigger = format!("{}.{action}", event.name());
    let repository = &common.repository.full_name;
    let on_default =
        run.head_branch.is_some() && run.head_branch == common.repository.default_branch;
    let jobs = if run.pull_requests.is_empty() && on_default {
        // The default branch's CI finished: its reports become the baseline.
        vec![NewJob {
            kind: JobKind::Baseline,
            repository: repository.clone(),
            pull_request: None,
            coalesce_key: Some(format!("github:{repository}:baseline")),
            head_sha: Some(run.head_sha),
            payload: common.job_payload(trigger),
        }]
    } else if run.pull_requests.is_empty() {
        vec![NewJob {
            kind: JobKind::Review,
            repository: repository.clone(),
            pull_request: None,
            coalesce_key: Some(format!("github:{repository}@{}", run.head_sha)),
            head_sha: Some(run.head_sha),
            payload: common.job_payload(trigger),
        }]
    } else {
        run.pull_requests
            .into_iter()
            .map(|pr| NewJob {
                kind: JobKind::Review,
                repository: repository.clone(),
                pull_request: Some(pr.number),
                head_sha: Some(pr.head.sha),
                coalesce_key: Some(common.pull_request_key(pr.number)),
                payload: common.job_payload(trigger.clone()),
            })
            .collect()
    };
    Route::Store {
        repository: Some(common.repository.full_name),
        action: Some(action),
        jobs,
    }
}

#[derive(Debug, Deserialize)]
struct PushEvent {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    #[serde(flatten)]
    common: Common,
}

fn push(event: PushEvent) -> Result<Route, PayloadError> {
    let default_branch =
        event
            .common
            .repository
            .default_branch
            .as_deref()
            .ok_or(PayloadError::Missing {
                field: "repository.default_branch",
            })?;
    if event.deleted {
        return Ok(Route::Ignore("ref deleted"));
    }
    if event.git_ref.strip_prefix("refs/heads/") != Some(default_branch) {
        return Ok(Route::Ignore("push to another ref than the default branch"));
    }
    let repository = event.common.repository.full_name.clone();
    let job = NewJob {
        kind: JobKind::Baseline,
        coalesce_key: Some(format!("github:{repository}:baseline")),
        repository: repository.clone(),
        pull_request: None,
        head_sha: Some(event.after),
        payload: event.common.job_payload("push".to_owned()),
    };
    Ok(Route::Store {
        repository: Some(repository),
        action: None,
        jobs: vec![job],
    })
}

#[derive(Debug, Deserialize)]
struct IssueCommentEvent {
    action: String,
    issue: Issue,
    comment: Comment,
    #[serde(flatten)]
    common: Common,
}

#[derive(Debug, Deserialize)]
struct Issue {
    number: i64,
    /// Present only when the issue is a pull request.
    #[serde(default)]
    pull_request: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: i64,
    #[serde(default)]
    body: Option<String>,
    user: User,
    /// On a review comment: the thread's first comment, when this is a reply.
    #[serde(default)]
    in_reply_to_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct User {
    login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

fn issue_comment(event: IssueCommentEvent) -> Route {
    if event.issue.pull_request.is_none() {
        return Route::Ignore("comment on an issue, not a pull request");
    }
    let (common, action, number) = (event.common, event.action, event.issue.number);
    command_job(
        Event::IssueComment,
        common,
        action,
        number,
        event.comment,
        None,
    )
}

#[derive(Debug, Deserialize)]
struct ReviewCommentEvent {
    action: String,
    comment: Comment,
    pull_request: PullNumber,
    #[serde(flatten)]
    common: Common,
}

#[derive(Debug, Deserialize)]
struct PullNumber {
    number: i64,
}

fn review_comment(event: ReviewCommentEvent) -> Route {
    // A reply goes to the thread's first comment; a new review comment opens its own thread.
    let thread = event.comment.in_reply_to_id.unwrap_or(event.comment.id);
    command_job(
        Event::ReviewComment,
        event.common,
        event.action,
        event.pull_request.number,
        event.comment,
        Some(json!({"review_comment": thread.to_string()})),
    )
}

/// A command job for a new comment that holds a `/posture` line; bots are not heard, and
/// an edited comment is not run again.
fn command_job(
    kind: Event,
    common: Common,
    action: String,
    number: i64,
    comment: Comment,
    reply_to: Option<Value>,
) -> Route {
    if action != "created" {
        return Route::Ignore("comment not created");
    }
    if comment.user.kind.as_deref() == Some("Bot") {
        return Route::Ignore("comment by a bot");
    }
    let Some(body) = comment.body.filter(|body| has_command(body)) else {
        return Route::Ignore("comment is not a /posture command");
    };
    let mut payload = common.job_payload(format!("{}.{action}", kind.name()));
    payload["command"] = json!(body);
    payload["author"] = json!(comment.user.login);
    payload["comment_id"] = json!(comment.id);
    payload["in_reply_to"] = json!(comment.in_reply_to_id);
    payload["reply_to"] = reply_to.unwrap_or(Value::Null);
    let repository = common.repository.full_name;
    Route::Store {
        jobs: vec![NewJob {
            kind: JobKind::Command,
            repository: repository.clone(),
            pull_request: Some(number),
            head_sha: None,
            coalesce_key: None,
            payload,
        }],
        repository: Some(repository),
        action: Some(action),
    }
}

#[derive(Debug, Deserialize)]
struct InstallationEvent {
    #[serde(default)]
    action: Option<String>,
    installation: Installation,
    #[serde(default)]
    repositories: Vec<Repository>,
    #[serde(default)]
    repositories_added: Vec<Repository>,
}
