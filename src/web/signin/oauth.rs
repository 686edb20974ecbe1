//! The OAuth 2 authorization-code flow GitHub and GitLab share (the `oauth2` crate): the
//! authorize URL with `state` and an S256 PKCE challenge, the code exchanged with its
//! verifier (client id and secret in the request body, as both forges accept), the token
//! endpoint's failures sorted into "refused" and "unavailable", and the forge's user
//! endpoint read with the person's token. The token is used for that one request and then
//! dropped; no message holds it, the code or the verifier.

use std::error::Error;

use oauth2::basic::BasicClient;
use oauth2::{
    AccessToken, AuthType, AuthUrl, CsrfToken, EndpointNotSet, EndpointSet, ErrorResponse,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::de::DeserializeOwned;
use url::Url;

use super::config::{OAuthApp, SignInConfigError};
use super::{Authorize, Callback, Provider, SignInError};

/// A client with its authorize and token endpoints set.
pub(super) type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The largest answer read from a user endpoint.
const MAX_USER_BYTES: usize = 1024 * 1024;

/// The client of `app`, whose endpoints are `authorize` and `token`.
pub(super) fn client(
    app: &OAuthApp,
    variable: &'static str,
    authorize: String,
    token: String,
) -> Result<OAuthClient, SignInConfigError> {
    let parse = |url: String| Url::parse(&url).map_err(|_| SignInConfigError::Url(variable, url));
    Ok(BasicClient::new(app.client_id.clone())
        .set_client_secret(app.client_secret.clone())
        .set_auth_uri(AuthUrl::from_url(parse(authorize)?))
        .set_token_uri(TokenUrl::from_url(parse(token)?))
        .set_redirect_uri(oauth2::RedirectUrl::from_url(app.redirect_url.clone()))
        .set_auth_type(AuthType::RequestBody))
}

/// Where to send the browser: `client_id`, `redirect_uri`, `state`, `code_challenge`,
/// `code_challenge_method=S256`, and `scopes` when given.
pub(super) fn authorize_url(client: &OAuthClient, request: Authorize<'_>, scopes: &[&str]) -> Url {
    let state = request.state.to_owned();
    let mut authorize = client
        .authorize_url(move || CsrfToken::new(state))
        .set_pkce_challenge(request.challenge);
    for scope in scopes {
        authorize = authorize.add_scope(Scope::new((*scope).to_owned()));
    }
    authorize.url().0
}

/// The person's access token for the callback's code.
pub(super) async fn exchange(
    client: &OAuthClient,
    http: &reqwest::Client,
    provider: Provider,
    callback: Callback,
) -> Result<AccessToken, SignInError> {
    client
        .exchange_code(callback.code)
        .set_pkce_verifier(callback.verifier)
        .request_async(http)
        .await
        .map(|token| token.access_token().clone())
        .map_err(|error| token_error(provider, error))
}

/// What a failed token request means for the person: the provider said no (401), or it
/// could not be asked or read (502). The body of an answer is never quoted (it may hold a
/// token); only a standard error code is.
pub(super) fn token_error<RE, TE>(
    provider: Provider,
    error: RequestTokenError<RE, TE>,
) -> SignInError
where
    RE: Error + 'static,
    TE: ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => SignInError::Refused {
            provider,
            error: error_code(&serde_json::to_value(&response).unwrap_or_default()),
        },
        // GitHub answers a bad code with 200 and `{"error": "bad_verification_code", …}`.
        RequestTokenError::Parse(_, body) => {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(answer) if answer.get("error").is_some_and(|e| e.is_string()) => {
                    SignInError::Refused {
                        provider,
                        error: error_code(&answer),
                    }
                }
                _ => SignInError::Unavailable {
                    provider,
                    doing: "exchanging the code for a token",
                    detail: "its token endpoint's answer could not be read".to_owned(),
                },
            }
        }
        RequestTokenError::Request(error) => SignInError::Unavailable {
            provider,
            doing: "exchanging the code for a token",
            detail: describe(&error),
        },
        RequestTokenError::Other(text) => SignInError::Unavailable {
            provider,
            doing: "exchanging the code for a token",
            detail: text,
        },
    }
}

/// The `error` code of an OAuth error answer, when it is one (letters, digits, `_`, `.`,
/// `-`): anything else is not repeated to the person.
pub(super) fn error_code(answer: &serde_json::Value) -> String {
    answer
        .get("error")
        .and_then(|error| error.as_str())
        .filter(|code| {
            !code.is_empty()
                && code.len() <= 64
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        })
        .unwrap_or("an unrecognised error")
        .to_owned()
}

/// An error and its causes, on one line.
pub(super) fn describe(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// `GET url` with the person's `token`: the JSON a forge's user endpoint answers.
pub(super) async fn get_user<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    provider: Provider,
    token: &AccessToken,
) -> Result<T, SignInError> {
    const DOING: &str = "looking up who signed in";
    let unavailable = |detail: String| SignInError::Unavailable {
        provider,
        doing: DOING,
        detail,
    };
    let mut response = request
        .bearer_auth(token.secret())
        .send()
        .await
        .map_err(|error| unavailable(describe(&error.without_url())))?;
    let status = response.status();
    if !status.is_success() {
        return Err(unavailable(format!("its user endpoint answered {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| unavailable(describe(&error.without_url())))?
    {
        if body.len() + chunk.len() > MAX_USER_BYTES {
            return Err(unavailable(
                "its user endpoint answered too much".to_owned(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|error| unavailable(format!("its user endpoint's answer is not a user: {error}")))
}

/// Whether a forge's login can be used as one: not empty, no space or control character,
/// not absurdly long.
pub(super) fn usable_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 255
        && !login
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::basic::{BasicErrorResponse, BasicErrorResponseType};
    use oauth2::{HttpClientError, StandardErrorResponse};

    type Failure = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

    fn parse_error(body: &str) -> Failure {
        let error = serde_path_to_error::deserialize::<_, u8>(
            &mut serde_json::Deserializer::from_str("\"x\""),
        )
        .unwrap_err();
        RequestTokenError::Parse(error, body.as_bytes().to_vec())
    }

    #[test]
    fn a_refusal_is_told_apart_from_an_outage_and_no_body_is_quoted() {
        let refused = token_error(
            Provider::GitLab,
            Failure::ServerResponse(StandardErrorResponse::new(
                BasicErrorResponseType::InvalidGrant,
                Some("the code_verifier does not match".into()),
                None,
            )),
        );
        assert_eq!(
            refused,
            SignInError::Refused {
                provider: Provider::GitLab,
                error: "invalid_grant".into()
            }
        );
        let github = token_error(
            Provider::GitHub,
            parse_error(
                r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#,
            ),
        );
        assert!(
            matches!(github, SignInError::Refused { ref error, .. } if error == "bad_verification_code"),
            "{github:?}"
        );
        let garbage = token_error(
            Provider::GitHub,
            parse_error(r#"{"access_token":"gho_secret","token_type":42}"#),
        );
        assert_eq!(garbage.status(), axum::http::StatusCode::BAD_GATEWAY);
        assert!(!garbage.to_string().contains("gho_secret"), "{garbage}");
        let odd = token_error(Provider::GitHub, parse_error(r#"{"error":"<script>"}"#));
        assert!(
            matches!(odd, SignInError::Refused { ref error, .. } if error == "an unrecognised error")
        );
        let empty = token_error(
            Provider::GitHub,
            Failure::Other("server returned empty error response".into()),
        );
        assert_eq!(empty.status(), axum::http::StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn logins_are_checked() {
        assert!(usable_login("octocat") && usable_login("group.user-1"));
        for bad in ["", "a b", "a\nb", "a,b", &"x".repeat(256)] {
            assert!(!usable_login(bad), "{bad:?}");
        }
    }
}
