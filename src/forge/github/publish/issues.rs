//! Issues posture keeps (the weekly digest): `POST /repos/{owner}/{repo}/issues` to open
//! one, `PATCH /repos/{owner}/{repo}/issues/{number}` to edit its title and body in place.
//! Both count against the content-creation budget. A deleted issue answers 410 Gone (404
//! where posture may not read it), a transferred one 301; either way it is gone from here,
//! [`ForgeError::NotFound`].

use http::Method;
use serde::Deserialize;
use serde_json::json;

use crate::forge::github::client::{Call, FORGE, Http, repo_path};
use crate::forge::{ForgeError, ForgeResult};

/// The part of GitHub's issue object posture reads.
#[derive(Debug, Deserialize)]
struct Issue {
    number: i64,
}

pub(crate) async fn create_issue(
    http: &Http<'_>,
    repository: &str,
    title: &str,
    body: &str,
) -> ForgeResult<i64> {
    let what = format!("opening an issue in {repository}");
    let payload = json!({ "title": title, "body": body });
    let answer = http
        .call(Call::send(
            Method::POST,
            format!("{}/issues", repo_path(repository)?),
            &payload,
            "create_issue",
            &what,
        ))
        .await?;
    let issue: Issue = answer.json(&what)?;
    Ok(issue.number)
}

pub(crate) async fn edit_issue(
    http: &Http<'_>,
    repository: &str,
    number: i64,
    title: &str,
    body: &str,
) -> ForgeResult<()> {
    let what = format!("editing issue {repository}#{number}");
    if number <= 0 {
        return Err(ForgeError::Config(format!(
            "{number} is not a GitHub issue number"
        )));
    }
    let payload = json!({ "title": title, "body": body });
    let edited = http
        .call(Call::send(
            Method::PATCH,
            format!("{}/issues/{number}", repo_path(repository)?),
            &payload,
            "update_issue",
            &what,
        ))
        .await;
    match edited {
        Ok(_) => Ok(()),
        // 410: deleted. 301/307/308: transferred, or its repository renamed; GitHub
        // does not follow a PATCH there for us, and the digest belongs where the settings
        // say: open a new one there.
        Err(ForgeError::Rejected {
            status: 301 | 307 | 308 | 410,
            ..
        }) => Err(ForgeError::NotFound { forge: FORGE, what }),
        Err(error) => Err(error),
    }
}
