//! The merge gate on the head commit: a check run with annotations for a GitHub App or a
//! GitHub Actions job's token (a commit status when it may not create check runs), a commit
//! status for a personal token, which cannot create check runs.

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Created;
use crate::forge::github::client::{self, ACTIONS_APP_ID, Call, Http, Mode, repo_path};
use crate::forge::{AnnotationLevel, ForgeError, ForgeResult, GateStatus};
use crate::report::{Limit, budget::CUT_NOTE};

/// The check run's and commit status's name.
pub(crate) const CHECK_NAME: &str = "posture";
/// GitHub's limits on a check run's output.
pub(crate) const ANNOTATIONS_PER_REQUEST: usize = 50;
const MAX_ANNOTATION_TITLE_CHARS: usize = 255;
const MAX_ANNOTATION_MESSAGE_BYTES: usize = 64 * 1024;
/// A commit status's description.
pub(crate) const MAX_STATUS_DESCRIPTION_CHARS: usize = 140;

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
            client::encode(&gate.head_sha)
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
    let sha = client::encode(&gate.head_sha);
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

    // Rendered to fit already; cut all the same rather than have GitHub refuse the run.
    let summary = Limit::GITHUB_CHECK_SUMMARY.cut(&gate.summary, CUT_NOTE);
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
            update_check_run(http, &repo, id, &body, &what).await?;
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
        update_check_run(http, &repo, id, &body, &what).await?;
    }
    Ok(())
}

/// `PATCH /repos/{owner}/{repo}/check-runs/{id}`; `repo` is the repository's API path.
async fn update_check_run(
    http: &Http<'_>,
    repo: &str,
    id: u64,
    body: &Value,
    what: &str,
) -> ForgeResult<()> {
    http.call(Call::send(
        Method::PATCH,
        format!("{repo}/check-runs/{id}"),
        body,
        "update_check_run",
        what,
    ))
    .await
    .map(drop)
}
