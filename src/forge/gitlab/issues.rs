//! Issues posture keeps (the weekly digest), through the `gitlab` crate's endpoints:
//! `POST /projects/:id/issues` to open one, `PUT /projects/:id/issues/:issue_iid` to edit
//! its title and description in place. Both go through the write budget. An issue is named
//! by its iid, the number people see (`#12`), never its global id.

use gitlab::api;
use gitlab::api::projects::issues::{CreateIssue, EditIssue};
use serde::Deserialize;

use super::client::{Api, FORGE, protocol};
use crate::forge::{ForgeError, ForgeResult};

/// The part of GitLab's issue object posture reads.
#[derive(Debug, Deserialize)]
struct Issue {
    iid: i64,
}

/// `GET /projects/:id` → `visibility` is `public`.
pub(super) async fn is_public(api: &Api, repository: &str) -> ForgeResult<bool> {
    #[derive(Deserialize)]
    struct Project {
        visibility: Option<String>,
    }
    let what = format!("reading whether {repository} is public");
    let endpoint = gitlab::api::projects::Project::builder()
        .project(repository)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let project: Project = api.call("project", &what, false, endpoint).await?;
    Ok(project.visibility.as_deref() == Some("public"))
}

pub(super) async fn create_issue(
    api: &Api,
    repository: &str,
    title: &str,
    body: &str,
) -> ForgeResult<i64> {
    let what = format!("opening an issue in {repository}");
    let endpoint = CreateIssue::builder()
        .project(repository)
        .title(title)
        .description(body)
        .confidential(true)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let issue: Issue = api.call("create_issue", &what, true, endpoint).await?;
    Ok(issue.iid)
}

pub(super) async fn edit_issue(
    api: &Api,
    repository: &str,
    number: i64,
    title: &str,
    body: &str,
) -> ForgeResult<()> {
    let what = format!("editing issue {repository}#{number}");
    let iid = u64::try_from(number).map_err(|_| ForgeError::NotFound {
        forge: FORGE,
        what: what.clone(),
    })?;
    let endpoint = EditIssue::builder()
        .project(repository)
        .issue(iid)
        .title(title)
        .description(body)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    api.call("edit_issue", &what, true, api::ignore(endpoint))
        .await
}
