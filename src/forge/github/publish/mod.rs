//! Publishing a review on a pull request, idempotently, one job per module: [`markers`]
//! (what posture's hidden markers say), [`read`] (what posture posted before), [`review`]
//! (new inline comments, as one review), [`threads`] (editing, resolving, replying),
//! [`summary`] (the one summary comment), [`gate`] (a check run with annotations for a
//! GitHub App, a commit status for a personal token, which cannot create check runs), and
//! [`issues`] (the issues posture keeps, such as the weekly digest).
//!
//! Markers (see [`crate::report::finding_marker`]): a comment carries
//! `<!-- posture:finding:ID -->` for each finding it lists (one comment per line lists every
//! finding there), the reply that marks it fixed `<!-- posture:fixed:ID -->` for each, the
//! summary `<!-- posture:summary -->`. Markers count only in comments written by posture's
//! own login ([`super::people::identity`]): anyone can type one.

mod gate;
mod issues;
mod markers;
mod read;
mod review;
mod summary;
mod threads;

use serde::Deserialize;

use super::client::repo_path;
use super::people::is_me;
use crate::forge::{ChangeRequest, CommentId, ForgeError, ForgeResult};

pub(crate) use gate::set_gate;
pub(crate) use issues::{create_issue, edit_issue};
pub(crate) use read::published;
pub(crate) use review::post_comments;
pub(crate) use summary::upsert_summary;
pub(crate) use threads::{reply, resolve_comment, resolve_thread, update_comment};
#[cfg(test)]
pub(crate) use {
    gate::cut_chars,
    markers::{findings_of, fixed_marker, markers},
    read::THREADS_QUERY,
    threads::RESOLVE_MUTATION,
};

/// The most comments posture reads on one pull request.
pub(super) const MAX_COMMENTS: usize = 30_000;

#[derive(Debug, Deserialize)]
pub(super) struct ReviewComment {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) body: String,
    pub(super) in_reply_to_id: Option<u64>,
    /// `null` for a deleted account.
    #[serde(default)]
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
pub(super) struct User {
    login: String,
}

impl ReviewComment {
    /// Whether posture wrote it (review and issue comments have the same `user`).
    pub(super) fn by(&self, me: &str) -> bool {
        is_me(self.user.as_ref().map(|u| u.login.as_str()), me)
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Created {
    pub(super) id: u64,
}

pub(super) fn pull_path(change: &ChangeRequest) -> ForgeResult<String> {
    Ok(format!(
        "{}/pulls/{}",
        repo_path(&change.repository)?,
        change.number
    ))
}

pub(super) fn label(change: &ChangeRequest) -> String {
    format!("{}#{}", change.repository, change.number)
}

/// A comment id as GitHub's number (refusing anything that could bend the path).
pub(super) fn numeric(id: &CommentId) -> ForgeResult<u64> {
    id.0.parse()
        .map_err(|_| ForgeError::Config(format!("'{id}' is not a GitHub comment id")))
}
