//! Sign-in through a GitLab application (OAuth 2, scope `read_user`): the browser goes to
//! `{POSTURE_GITLAB_URL}/oauth/authorize` with `state` and a PKCE challenge; the code is
//! exchanged at `/oauth/token`, and `GET /api/v4/user` with that token says who signed in
//! (username and numeric id; the id is what GitLab's membership endpoints take). What the
//! person reads is asked of GitLab afterwards with posture's own token
//! ([`crate::access`]).

use async_trait::async_trait;
use serde::Deserialize;

use super::config::{GITLAB_URL_VAR, GitLabSettings, SignInConfigError, join};
use super::oauth::{self, OAuthClient};
use super::{Authorize, Callback, Provider, SignInError, SignInProvider};
use crate::access::{ForgeLogin, Person};
use crate::store::Forge;

/// Enough to read who the token's user is, nothing more.
const SCOPE: &str = "read_user";

pub struct GitLab {
    client: OAuthClient,
    /// `{url}/api/v4/user`.
    user_url: String,
}

impl GitLab {
    pub fn new(settings: &GitLabSettings) -> Result<GitLab, SignInConfigError> {
        Ok(GitLab {
            client: oauth::client(
                &settings.app,
                GITLAB_URL_VAR,
                join(&settings.url, "/oauth/authorize"),
                join(&settings.url, "/oauth/token"),
            )?,
            user_url: join(&settings.url, "/api/v4/user"),
        })
    }
}

/// What posture reads of `GET /api/v4/user`.
#[derive(Debug, Deserialize)]
struct User {
    username: String,
    id: i64,
    /// `active`, `blocked`, `deactivated`, …
    #[serde(default)]
    state: Option<String>,
}

#[async_trait]
impl SignInProvider for GitLab {
    fn provider(&self) -> Provider {
        Provider::GitLab
    }

    async fn authorize_url(
        &self,
        _http: &reqwest::Client,
        request: Authorize<'_>,
    ) -> Result<url::Url, SignInError> {
        Ok(oauth::authorize_url(&self.client, request, &[SCOPE]))
    }

    async fn identify(
        &self,
        http: &reqwest::Client,
        callback: Callback,
    ) -> Result<Person, SignInError> {
        let token = oauth::exchange(&self.client, http, Provider::GitLab, callback).await?;
        let request = http
            .get(&self.user_url)
            .header("accept", "application/json");
        let user: User = oauth::get_user(request, Provider::GitLab, &token).await?;
        person(user)
    }
}

fn person(user: User) -> Result<Person, SignInError> {
    if !oauth::usable_login(&user.username) {
        return Err(SignInError::Unavailable {
            provider: Provider::GitLab,
            doing: "looking up who signed in",
            detail: "its user has no usable username".to_owned(),
        });
    }
    if user.state.as_deref().is_some_and(|state| state != "active") {
        return Err(SignInError::Refused {
            provider: Provider::GitLab,
            error: "the account is not active".to_owned(),
        });
    }
    Ok(Person {
        name: format!("{} ({})", user.username, Forge::GitLab),
        forge: Some(ForgeLogin {
            forge: Forge::GitLab,
            login: user.username,
            id: Some(user.id),
        }),
        groups: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gitlab_user_is_a_person_with_login_and_id() {
        let user: User = serde_json::from_value(serde_json::json!({
            "id": 1, "username": "john_smith", "name": "John Smith", "state": "active",
            "locked": false, "web_url": "http://localhost:3000/john_smith",
        }))
        .unwrap();
        let john = person(user).unwrap();
        assert_eq!(john.name, "john_smith (gitlab)");
        assert_eq!(john.forge.as_ref().map(|f| f.id), Some(Some(1)));
        let blocked = person(User {
            username: "mallory".into(),
            id: 2,
            state: Some("blocked".into()),
        });
        assert_eq!(
            blocked.unwrap_err().status(),
            axum::http::StatusCode::UNAUTHORIZED
        );
    }
}
