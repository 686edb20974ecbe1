//! The one summary comment per pull request, edited in place (posted again when someone
//! deleted it).

use http::Method;
use serde_json::json;

use super::markers::with_marker;
use super::{Created, label, numeric};
use crate::forge::github::client::{Call, Http, repo_path};
use crate::forge::{ChangeRequest, CommentId, ForgeError, ForgeResult};
use crate::report::SUMMARY_MARKER;

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
