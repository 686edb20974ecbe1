//! GitLab behind the [`Forge`] trait, through the `gitlab` crate's `AsyncGitlab` client and
//! its endpoint builders, and a few endpoints of our own (module `endpoints`) where the crate
//! has none or builds one GitLab does not read.
//!
//! A repository is the project's full path (`group/sub/project`), sent percent-encoded as the
//! project id; a change request is a merge request by its iid. What maps to what:
//!
//! | trait | GitLab |
//! |---|---|
//! | change request | `GET /projects/:id/merge_requests/:iid`, its `diff_refs` (`base_sha` is the merge-base, `start_sha` the target tip) |
//! | changes | `GET …/merge_requests/:iid/diffs` (older instances: `…/changes`) |
//! | files, tree, blame | `repository/files/:path/raw`, `repository/tree`, `repository/files/:path/blame` |
//! | reports | the `artifacts:paths` archives of the jobs of the newest pipeline for the commit |
//! | inline comments | one diff discussion per finding, with a `position` on the head side |
//! | summary | one merge request note |
//! | identity, permission | `GET /user`; `GET /projects/:id/members/all/:user_id` (`GET /users?username=` without an id) |
//! | reply, resolve | a note in the discussion (or on the merge request); `PUT …/discussions/:id?resolved=true` |
//! | gate | a commit status named `posture` |
//! | digest issue | `POST /projects/:id/issues`, `PUT /projects/:id/issues/:iid` |
//!
//! Credentials: `POSTURE_GITLAB_TOKEN` (a project or group access token with the `api` scope)
//! and `POSTURE_GITLAB_URL` (default `https://gitlab.com`; a self-managed instance may live
//! under a path, `https://example.com/gitlab`). The token is sent only to that origin and
//! never appears in `Debug` output, logs or errors.

mod client;
mod endpoints;
pub mod hooks;
mod issues;
mod people;
mod publish;
mod read;
mod types;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::throttle::Throttle;
use super::{
    Actor, ArtifactLimits, ChangeCommitList, ChangeRequest, CommentId, CommentOutcome, Forge,
    ForgeError, ForgeResult, GateStatus, InlineComment, Permission, PostedComment, Published,
    ReplyTo, ReportGlobs, Reports,
};
use crate::model::{ChangeSet, FileBlame};
use crate::store;

use client::Api;

/// The environment variable naming the instance.
pub const URL_VAR: &str = "POSTURE_GITLAB_URL";
/// The environment variable holding the project or group access token.
pub const TOKEN_VAR: &str = "POSTURE_GITLAB_TOKEN";
/// The instance used when [`URL_VAR`] is not set.
pub const DEFAULT_URL: &str = "https://gitlab.com";

/// A connection to one GitLab instance with one token. Cheap to clone; clones share the
/// connection and the write budget, so a process should make one and hand out clones (or
/// [`GitLabForge`]s made from it).
#[derive(Clone)]
pub struct GitLabClient {
    api: Arc<Api>,
}

impl fmt::Debug for GitLabClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLabClient")
            .field("url", &self.api.base_url())
            .finish_non_exhaustive()
    }
}

impl GitLabClient {
    /// The client the environment configures: `None` when `POSTURE_GITLAB_TOKEN` is unset or
    /// empty (GitLab jobs then end as `not_configured`), an error when the URL is unusable.
    pub fn from_env() -> Result<Option<GitLabClient>, ForgeError> {
        GitLabClient::from_vars(|name| std::env::var(name).ok())
    }

    /// [`GitLabClient::from_env`] over any source of variables.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<GitLabClient>, ForgeError> {
        GitLabClient::from_vars_with_throttle(var, Arc::new(default_throttle()))
    }

    /// [`GitLabClient::from_vars`] with a write budget shared with other clients.
    pub fn from_vars_with_throttle(
        var: impl Fn(&str) -> Option<String>,
        throttle: Arc<Throttle>,
    ) -> Result<Option<GitLabClient>, ForgeError> {
        let Some(token) = var(TOKEN_VAR).filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let url = var(URL_VAR)
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        GitLabClient::with_throttle(&url, token.trim(), throttle).map(Some)
    }

    /// A client for the instance at `url` (`https://gitlab.example.com`, `http://127.0.0.1:8080`,
    /// `https://example.com/gitlab`). Nothing is sent until the first call, which also checks
    /// the token (`GET /user`).
    pub fn new(url: &str, token: &str) -> Result<GitLabClient, ForgeError> {
        GitLabClient::with_throttle(url, token, Arc::new(default_throttle()))
    }

    /// Like [`GitLabClient::new`], with a write budget shared with other clients.
    pub fn with_throttle(
        url: &str,
        token: &str,
        throttle: Arc<Throttle>,
    ) -> Result<GitLabClient, ForgeError> {
        Ok(GitLabClient {
            api: Arc::new(Api::new(url, token, throttle)?),
        })
    }

    /// The instance's base URL, as configured (no credentials in it).
    pub fn base_url(&self) -> &str {
        self.api.base_url()
    }

    /// The [`Forge`] over this client.
    pub fn forge(&self) -> GitLabForge {
        GitLabForge {
            api: Arc::clone(&self.api),
        }
    }
}

/// GitLab's per-user limits are generous for reads; writes (notes, discussions, statuses) go
/// through this process-wide budget, the same as GitHub's content-creation limit.
pub fn default_throttle() -> Throttle {
    Throttle::new(80, Duration::from_secs(60))
}

/// GitLab as a [`Forge`]. Made by [`GitLabClient::forge`].
#[derive(Clone)]
pub struct GitLabForge {
    api: Arc<Api>,
}

impl fmt::Debug for GitLabForge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLabForge")
            .field("url", &self.api.base_url())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Forge for GitLabForge {
    fn kind(&self) -> store::Forge {
        store::Forge::GitLab
    }

    async fn change_request(&self, repository: &str, number: i64) -> ForgeResult<ChangeRequest> {
        read::change_request(&self.api, repository, number).await
    }

    async fn open_change_requests(
        &self,
        repository: &str,
        head_sha: Option<&str>,
    ) -> ForgeResult<Vec<ChangeRequest>> {
        read::open_change_requests(&self.api, repository, head_sha).await
    }

    async fn changes(&self, change: &ChangeRequest) -> ForgeResult<ChangeSet> {
        read::changes(&self.api, change).await
    }

    async fn change_commits(&self, change: &ChangeRequest) -> ForgeResult<ChangeCommitList> {
        read::change_commits(&self.api, change).await
    }

    async fn read_file(
        &self,
        repository: &str,
        sha: &str,
        path: &str,
    ) -> ForgeResult<Option<Vec<u8>>> {
        read::read_file(&self.api, repository, sha, path).await
    }

    async fn list_files(&self, repository: &str, sha: &str) -> ForgeResult<Vec<String>> {
        read::list_files(&self.api, repository, sha).await
    }

    async fn blame(&self, repository: &str, sha: &str, path: &str) -> ForgeResult<FileBlame> {
        read::blame(&self.api, repository, sha, path).await
    }

    async fn reports(
        &self,
        repository: &str,
        sha: &str,
        globs: &ReportGlobs,
        limits: &ArtifactLimits,
    ) -> ForgeResult<Reports> {
        read::reports(&self.api, repository, sha, globs, limits).await
    }

    async fn identity(&self) -> ForgeResult<String> {
        people::identity(&self.api).await
    }

    async fn permission(&self, repository: &str, actor: &Actor) -> ForgeResult<Permission> {
        people::permission(&self.api, repository, actor).await
    }

    async fn reads(&self, repository: &str, actor: &Actor) -> ForgeResult<bool> {
        people::reporter(&self.api, repository, actor).await
    }

    async fn team_member(&self, _org: &str, team: &str, actor: &Actor) -> ForgeResult<bool> {
        people::group_member(&self.api, team, actor).await
    }

    async fn reply(&self, change: &ChangeRequest, to: &ReplyTo, body: &str) -> ForgeResult<()> {
        publish::reply(&self.api, change, to, body).await
    }

    async fn resolve_thread(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
    ) -> ForgeResult<()> {
        publish::resolve_thread(&self.api, change, comment).await
    }

    async fn published(&self, change: &ChangeRequest) -> ForgeResult<Published> {
        publish::published(&self.api, change).await
    }

    async fn post_comments(
        &self,
        change: &ChangeRequest,
        comments: &[InlineComment],
    ) -> ForgeResult<Vec<CommentOutcome>> {
        publish::post_comments(&self.api, change, comments).await
    }

    async fn update_comment(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
        body: &str,
    ) -> ForgeResult<()> {
        publish::update_comment(&self.api, change, comment, body).await
    }

    async fn resolve_comment(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
        fixed_in: &str,
    ) -> ForgeResult<()> {
        publish::resolve_comment(&self.api, change, comment, fixed_in).await
    }

    async fn upsert_summary(
        &self,
        change: &ChangeRequest,
        existing: Option<&CommentId>,
        body: &str,
    ) -> ForgeResult<CommentId> {
        publish::upsert_summary(&self.api, change, existing, body).await
    }

    async fn set_gate(&self, repository: &str, gate: &GateStatus) -> ForgeResult<()> {
        publish::set_gate(&self.api, repository, gate).await
    }

    async fn is_public(&self, repository: &str) -> ForgeResult<bool> {
        issues::is_public(&self.api, repository).await
    }

    async fn create_issue(&self, repository: &str, title: &str, body: &str) -> ForgeResult<i64> {
        issues::create_issue(&self.api, repository, title, body).await
    }

    async fn edit_issue(
        &self,
        repository: &str,
        number: i64,
        title: &str,
        body: &str,
    ) -> ForgeResult<()> {
        issues::edit_issue(&self.api, repository, number, title, body).await
    }
}
