//! Sign-in through a GitHub App's user authorisation (the web application flow): the browser
//! goes to `{POSTURE_GITHUB_WEB_URL}/login/oauth/authorize` with the App's client id, `state`
//! and a PKCE challenge; the code comes back and is exchanged at `/login/oauth/access_token`
//! for a user access token, with which `GET {POSTURE_GITHUB_API_URL}/user` says who signed
//! in (login and id). A GitHub App's user token has no scopes (it may do what both the App
//! and the person may), so none are asked for; what the person reads is asked of GitHub
//! afterwards with posture's own credentials ([`crate::access`]), not with this token.

use async_trait::async_trait;
use serde::Deserialize;

use super::config::{GITHUB_WEB_URL_VAR, GitHubSettings, SignInConfigError, join};
use super::oauth::{self, OAuthClient};
use super::{Authorize, Callback, Provider, SignInError, SignInProvider};
use crate::access::{ForgeLogin, Person};
use crate::store::Forge;

/// The REST API version posture speaks.
const API_VERSION: &str = "2022-11-28";

pub struct GitHub {
    client: OAuthClient,
    /// `{api}/user`.
    user_url: String,
}

impl GitHub {
    pub fn new(settings: &GitHubSettings) -> Result<GitHub, SignInConfigError> {
        Ok(GitHub {
            client: oauth::client(
                &settings.app,
                GITHUB_WEB_URL_VAR,
                join(&settings.web_url, "/login/oauth/authorize"),
                join(&settings.web_url, "/login/oauth/access_token"),
            )?,
            user_url: join(&settings.api_url, "/user"),
        })
    }
}

/// What posture reads of `GET /user`.
#[derive(Debug, Deserialize)]
struct User {
    login: String,
    id: i64,
}

#[async_trait]
impl SignInProvider for GitHub {
    fn provider(&self) -> Provider {
        Provider::GitHub
    }

    async fn authorize_url(
        &self,
        _http: &reqwest::Client,
        request: Authorize<'_>,
    ) -> Result<url::Url, SignInError> {
        Ok(oauth::authorize_url(&self.client, request, &[]))
    }

    async fn identify(
        &self,
        http: &reqwest::Client,
        callback: Callback,
    ) -> Result<Person, SignInError> {
        let token = oauth::exchange(&self.client, http, Provider::GitHub, callback).await?;
        let request = http
            .get(&self.user_url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION);
        let user: User = oauth::get_user(request, Provider::GitHub, &token).await?;
        person(user)
    }
}

fn person(user: User) -> Result<Person, SignInError> {
    if !oauth::usable_login(&user.login) {
        return Err(SignInError::Unavailable {
            provider: Provider::GitHub,
            doing: "looking up who signed in",
            detail: "its user has no usable login".to_owned(),
        });
    }
    Ok(Person {
        name: format!("{} ({})", user.login, Forge::GitHub),
        forge: Some(ForgeLogin {
            forge: Forge::GitHub,
            login: user.login,
            id: Some(user.id),
        }),
        groups: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_github_user_is_a_person_with_a_forge_login() {
        let user: User = serde_json::from_value(serde_json::json!({
            "login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
            "type": "User", "site_admin": false, "name": "The Octocat",
        }))
        .unwrap();
        let person = person(user).unwrap();
        assert_eq!(person.name, "octocat (github)");
        assert_eq!(
            person.forge,
            Some(ForgeLogin {
                forge: Forge::GitHub,
                login: "octocat".into(),
                id: Some(583231)
            })
        );
        let nobody = person_of("");
        assert_eq!(
            nobody.unwrap_err().status(),
            axum::http::StatusCode::BAD_GATEWAY
        );
    }

    fn person_of(login: &str) -> Result<Person, SignInError> {
        person(User {
            login: login.to_owned(),
            id: 1,
        })
    }
}
