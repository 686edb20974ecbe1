//! posture's webhook on GitLab: creating it on a project (`POST /projects/:id/hooks`) or a
//! group (`POST /groups/:id/hooks`, GitLab Premium and Ultimate only) with the events
//! posture routes (merge request, pipeline, push, note), SSL verification on, and a secret
//! token; and the random token itself. `posture gitlab hook add` is the command over it.
//!
//! Requests go through the client's road (module `client`), so they are counted, throttled
//! and their errors mapped like every other GitLab call; the token is sent in the JSON body
//! and never appears in `Debug` output or errors.

use std::fmt;

use gitlab::api::common::{NameOrId, path_escaped};
use gitlab::api::endpoint_prelude::*;
use gitlab::api::{self, Pagination};
use serde::Deserialize;
use serde_json::{Value, json};

use super::GitLabClient;
use crate::forge::ForgeError;

/// The path posture receives GitLab's webhooks on.
pub const WEBHOOK_PATH: &str = "/webhooks/gitlab";

/// Where a webhook lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookTarget<'a> {
    /// A project: its numeric id or its full path (`group/sub/project`).
    Project(&'a str),
    /// A group: its numeric id or its full path (`group/sub`).
    Group(&'a str),
}

impl HookTarget<'_> {
    /// The id or path as given, without surrounding slashes or blanks.
    fn id(&self) -> &str {
        match self {
            HookTarget::Project(id) | HookTarget::Group(id) => id.trim().trim_matches('/'),
        }
    }

    /// `projects/group%2Fapp/hooks`, relative to `/api/v4/`.
    fn hooks_path(&self) -> String {
        match self {
            HookTarget::Project(_) => format!("projects/{}/hooks", NameOrId::from(self.id())),
            HookTarget::Group(_) => format!("groups/{}/hooks", path_escaped(self.id())),
        }
    }
}

impl fmt::Display for HookTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookTarget::Project(_) => write!(f, "project {}", self.id()),
            HookTarget::Group(_) => write!(f, "group {}", self.id()),
        }
    }
}

/// The webhook to create. `Debug` hides the token.
#[derive(Clone, Copy)]
pub struct NewHook<'a> {
    /// Where GitLab delivers: posture's public URL followed by [`WEBHOOK_PATH`].
    pub url: &'a str,
    /// Sent back by GitLab in `X-Gitlab-Token`; posture's `POSTURE_GITLAB_WEBHOOK_TOKEN`.
    pub token: &'a str,
}

impl fmt::Debug for NewHook<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewHook")
            .field("url", &self.url)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl NewHook<'_> {
    /// The JSON body of the create request: the events posture routes, SSL verification on.
    pub fn body(&self) -> Value {
        json!({
            "url": self.url,
            "token": self.token,
            "push_events": true,
            "merge_requests_events": true,
            "pipeline_events": true,
            "note_events": true,
            "enable_ssl_verification": true,
        })
    }
}

/// A webhook as GitLab describes it (the fields posture reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Hook {
    pub id: u64,
    pub url: String,
}

/// Why a webhook could not be created. No variant holds the token.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The group hooks API answered 404 or 403: it exists only on GitLab Premium and
    /// Ultimate, and only for the group's Owners.
    #[error(
        "GitLab answered {status} to the webhooks of group {group}: group webhooks need GitLab \
         Premium or Ultimate (on gitlab.com, a paid plan) and a token of an Owner of the group. \
         On GitLab Free add a webhook to each project instead (--project); a 404 also means the \
         group does not exist or the token cannot see it"
    )]
    GroupHooksUnavailable { group: String, status: u16 },
    /// The project's hooks answered 404.
    #[error(
        "GitLab has no project {project} that the token can see (404): give its full path \
         (group/…/project) or numeric id, and a token that is a member of it"
    )]
    ProjectNotFound { project: String },
    /// The project's hooks answered 403.
    #[error(
        "the token may not manage the webhooks of project {project} (403): it needs the \
         Maintainer role in the project and the `api` scope"
    )]
    ProjectForbidden { project: String },
    /// A webhook to the same URL is already there: a second would deliver everything twice.
    #[error(
        "{target} already has a webhook to {url} (id {id}); to change its secret token, delete \
         it (Settings → Webhooks) and run this again"
    )]
    Exists {
        target: String,
        url: String,
        id: u64,
    },
    #[error(transparent)]
    Forge(#[from] ForgeError),
}

/// A new secret token: 32 random bytes, in hex.
pub fn new_secret_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// `GET /projects/:id/hooks` or `GET /groups/:id/hooks`, paged.
struct ListHooks {
    path: String,
}

impl Endpoint for ListHooks {
    fn method(&self) -> Method {
        Method::GET
    }

    fn endpoint(&self) -> Cow<'static, str> {
        self.path.clone().into()
    }
}

impl Pageable for ListHooks {}

/// `POST /projects/:id/hooks` or `POST /groups/:id/hooks` with a JSON body.
struct CreateHook {
    path: String,
    body: Value,
}

impl Endpoint for CreateHook {
    fn method(&self) -> Method {
        Method::POST
    }

    fn endpoint(&self) -> Cow<'static, str> {
        self.path.clone().into()
    }

    fn body(&self) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        JsonParams::into_body(&self.body)
    }
}

impl GitLabClient {
    /// The webhooks of a project or group.
    pub async fn hooks(&self, target: HookTarget<'_>) -> Result<Vec<Hook>, HookError> {
        let what = format!("listing the webhooks of {target}");
        let endpoint = ListHooks {
            path: target.hooks_path(),
        };
        self.api
            .call(
                "list_hooks",
                &what,
                false,
                api::paged(endpoint, Pagination::All),
            )
            .await
            .map_err(|error| explain(target, error))
    }

    /// Creates posture's webhook on a project or group, unless one to the same URL is
    /// already there ([`HookError::Exists`]).
    pub async fn add_hook(
        &self,
        target: HookTarget<'_>,
        hook: NewHook<'_>,
    ) -> Result<Hook, HookError> {
        if let Some(existing) =
            self.hooks(target).await?.into_iter().find(|existing| {
                existing.url.trim_end_matches('/') == hook.url.trim_end_matches('/')
            })
        {
            return Err(HookError::Exists {
                target: target.to_string(),
                url: existing.url,
                id: existing.id,
            });
        }
        let what = format!("adding a webhook to {target}");
        let endpoint = CreateHook {
            path: target.hooks_path(),
            body: hook.body(),
        };
        self.api
            .call("create_hook", &what, true, endpoint)
            .await
            .map_err(|error| explain(target, error))
    }
}

/// GitLab's 404 and 403, said in terms of what to do.
fn explain(target: HookTarget<'_>, error: ForgeError) -> HookError {
    let status = match &error {
        ForgeError::NotFound { .. } => 404,
        ForgeError::Rejected { status, .. } => *status,
        _ => return HookError::Forge(error),
    };
    let id = target.id().to_owned();
    match (target, status) {
        (HookTarget::Group(_), 404 | 403) => HookError::GroupHooksUnavailable { group: id, status },
        (HookTarget::Project(_), 404) => HookError::ProjectNotFound { project: id },
        (HookTarget::Project(_), 403) => HookError::ProjectForbidden { project: id },
        _ => HookError::Forge(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_and_ids_pass_through() {
        assert_eq!(
            HookTarget::Project("group/sub/app").hooks_path(),
            "projects/group%2Fsub%2Fapp/hooks"
        );
        assert_eq!(
            HookTarget::Project(" 42 ").hooks_path(),
            "projects/42/hooks"
        );
        assert_eq!(
            HookTarget::Group("/acme/platform/").hooks_path(),
            "groups/acme%2Fplatform/hooks"
        );
        assert_eq!(HookTarget::Group("acme").to_string(), "group acme");
    }

    #[test]
    fn the_body_names_the_routed_events_and_debug_hides_the_token() {
        let hook = NewHook {
            url: "https://posture.example.com/webhooks/gitlab",
            token: "s3cr3t-token-value",
        };
        assert_eq!(
            hook.body(),
            json!({
                "url": "https://posture.example.com/webhooks/gitlab",
                "token": "s3cr3t-token-value",
                "push_events": true,
                "merge_requests_events": true,
                "pipeline_events": true,
                "note_events": true,
                "enable_ssl_verification": true,
            })
        );
        assert!(!format!("{hook:?}").contains("s3cr3t"));
    }

    #[test]
    fn secret_tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (new_secret_token().unwrap(), new_secret_token().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn group_404_and_403_mean_premium_and_project_ones_say_what_to_fix() {
        let not_found = || ForgeError::NotFound {
            forge: crate::store::Forge::GitLab,
            what: "x".into(),
        };
        let forbidden = || ForgeError::Rejected {
            forge: crate::store::Forge::GitLab,
            what: "x".into(),
            status: 403,
            message: "403 Forbidden".into(),
        };
        let message = explain(HookTarget::Group("acme"), not_found()).to_string();
        assert!(message.contains("Premium"), "{message}");
        assert!(matches!(
            explain(HookTarget::Group("acme"), forbidden()),
            HookError::GroupHooksUnavailable { status: 403, .. }
        ));
        assert!(matches!(
            explain(HookTarget::Project("a/b"), not_found()),
            HookError::ProjectNotFound { .. }
        ));
        assert!(matches!(
            explain(HookTarget::Project("a/b"), forbidden()),
            HookError::ProjectForbidden { .. }
        ));
    }
}
