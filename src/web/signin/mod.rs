//! Signing in through GitHub (a GitHub App's user authorisation), GitLab (an OAuth
//! application) or any OpenID Connect provider: the authorization-code flow with a `state`
//! and PKCE (S256), and a nonce for OIDC.
//!
//! - `GET /login/{provider}?next=` ([`flow::start`]) records the attempt server-side
//!   (`sign_in_attempts`: hashes of the state and of the browser's binding cookie, the PKCE
//!   verifier, the nonce, `next`), gives the browser the short-lived binding cookie
//!   `posture_signin` ([`binding`]) and sends it (303) to the provider.
//! - `GET /login/{provider}/callback?code&state` ([`flow::callback`]) takes the attempt (one
//!   use, ten minutes, the same browser), exchanges the code with the verifier, asks the
//!   provider who signed in ([`github`], [`gitlab`], [`oidc`]) and [`crate::access::Access`]
//!   what they may read: nothing is a 403 page and no session; otherwise a session like the
//!   token form's, of method `github`, `gitlab` or `oidc`, with the [`Person`] it stands for.
//!
//! The provider's tokens are used for that one question and then dropped: nothing of them
//! is stored or logged, nor are codes, verifiers or client secrets. Settings are
//! [`config`]'s; what can go wrong is [`SignInError`], each with its status.

pub mod binding;
pub mod config;
pub mod flow;
pub mod github;
pub mod gitlab;
mod oauth;
pub mod oidc;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use oauth2::{AuthorizationCode, PkceCodeChallenge, PkceCodeVerifier};

pub use self::config::{SignInConfig, SignInConfigError};

use crate::access::Person;

/// How long a sign-in may take, from `GET /login/{provider}` to its callback.
pub const ATTEMPT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Bound on one request to a provider (discovery, token, user).
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(20);

/// Where people sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    GitHub,
    GitLab,
    Oidc,
}

impl Provider {
    /// The spelling of the routes (`/login/github`), of `sign_in_attempts.provider` and of
    /// `sessions.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Oidc => "oidc",
        }
    }

    /// The provider a route names.
    pub fn parse(text: &str) -> Option<Provider> {
        match text {
            "github" => Some(Provider::GitHub),
            "gitlab" => Some(Provider::GitLab),
            "oidc" => Some(Provider::Oidc),
            _ => None,
        }
    }

    /// The session method a sign-in through it records.
    pub fn method(self) -> crate::api::session::Method {
        use crate::api::session::Method;
        match self {
            Provider::GitHub => Method::GitHub,
            Provider::GitLab => Method::GitLab,
            Provider::Oidc => Method::Oidc,
        }
    }
}

impl fmt::Display for Provider {
    /// How people are told about it: `GitHub`, `GitLab`, `the OpenID Connect provider`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::GitHub => "GitHub",
            Provider::GitLab => "GitLab",
            Provider::Oidc => "the OpenID Connect provider",
        })
    }
}

/// Why a sign-in did not happen. The messages are shown to the person and logged: they
/// never hold a code, token, verifier or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The callback's state is unknown, used, expired, of another provider, or was started in
    /// another browser.
    #[error(
        "this sign-in link is not valid (unknown, already used, expired, or started in another browser); sign in again"
    )]
    Attempt,
    /// The callback lacks its `state` or `code`.
    #[error("the provider's answer lacks its `{0}` parameter; sign in again")]
    Missing(&'static str),
    /// The provider answered the browser with an error (`error=access_denied`).
    #[error("{provider} did not sign you in ({error})")]
    Denied { provider: Provider, error: String },
    /// The token endpoint refused the code (`invalid_grant`: wrong, used or expired code,
    /// or a PKCE verifier that does not match).
    #[error("{provider} refused the sign-in ({error}); sign in again")]
    Refused { provider: Provider, error: String },
    /// The ID token does not prove who signed in (signature, issuer, audience, expiry, nonce).
    #[error("{provider}'s ID token was refused: {reason}")]
    IdToken { provider: Provider, reason: String },
    /// The provider could not be reached, failed, or answered something unreadable.
    #[error("{provider} is unavailable ({doing}): {detail}")]
    Unavailable {
        provider: Provider,
        doing: &'static str,
        detail: String,
    },
    /// Too many failed sign-ins from this address.
    #[error("too many failed sign-ins from this address; try again in {0} minutes")]
    TooMany(u64),
    /// posture itself failed (its database, randomness). The detail is logged (`Debug`),
    /// never shown on the page of an anonymous visitor.
    #[error("posture could not complete the sign-in; try again, or ask an admin to read its log")]
    Internal(String),
    /// More sign-ins are under way than posture keeps (a flood of started sign-ins).
    #[error("too many sign-ins are under way; try again in a few minutes")]
    Busy,
}

impl SignInError {
    /// The status of the page that says so.
    pub fn status(&self) -> StatusCode {
        match self {
            SignInError::Attempt | SignInError::Missing(_) => StatusCode::BAD_REQUEST,
            SignInError::Denied { .. }
            | SignInError::Refused { .. }
            | SignInError::IdToken { .. } => StatusCode::UNAUTHORIZED,
            SignInError::Unavailable { .. } => StatusCode::BAD_GATEWAY,
            SignInError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            SignInError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            SignInError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Whether it counts against the address's rate limit (shared with the token form):
    /// what a client causes by guessing or replaying (a bad state, a code refused as
    /// invalid), not someone pressing Cancel, a provider's trouble or posture's own
    /// misconfiguration, which must not lock an office's address out.
    pub fn counts_as_failure(&self) -> bool {
        match self {
            SignInError::Attempt | SignInError::Missing(_) => true,
            SignInError::Refused { error, .. } => {
                error.contains("invalid_grant") || error.contains("bad_verification_code")
            }
            _ => false,
        }
    }
}

/// What the authorize URL of one attempt carries.
pub struct Authorize<'a> {
    pub state: &'a str,
    pub challenge: PkceCodeChallenge,
    /// OIDC only.
    pub nonce: Option<&'a str>,
}

/// What the callback hands the provider to find out who signed in.
pub struct Callback {
    pub code: AuthorizationCode,
    pub verifier: PkceCodeVerifier,
    /// OIDC only.
    pub nonce: Option<String>,
}

/// One way to sign in.
#[async_trait]
pub trait SignInProvider: Send + Sync {
    fn provider(&self) -> Provider;

    /// Where to send the browser.
    async fn authorize_url(
        &self,
        http: &reqwest::Client,
        request: Authorize<'_>,
    ) -> Result<url::Url, SignInError>;

    /// Who signed in: the code exchanged, the person looked up.
    async fn identify(
        &self,
        http: &reqwest::Client,
        callback: Callback,
    ) -> Result<Person, SignInError>;
}

/// The configured providers and the HTTP client they share.
pub struct SignIn {
    providers: Vec<Arc<dyn SignInProvider>>,
    http: reqwest::Client,
}

impl SignIn {
    /// The providers `config` configures.
    pub fn new(config: &SignInConfig) -> Result<SignIn, SignInConfigError> {
        let mut providers: Vec<Arc<dyn SignInProvider>> = Vec::new();
        if let Some(settings) = &config.github {
            providers.push(Arc::new(github::GitHub::new(settings)?));
        }
        if let Some(settings) = &config.gitlab {
            providers.push(Arc::new(gitlab::GitLab::new(settings)?));
        }
        if let Some(settings) = &config.oidc {
            providers.push(Arc::new(oidc::Oidc::new(settings.clone())));
        }
        // Redirects are not followed: a provider's endpoint that redirects elsewhere would
        // otherwise be a way to make posture send the code (or the token) there.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .user_agent(concat!("posture/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| SignInConfigError::HttpClient)?;
        Ok(SignIn { providers, http })
    }

    /// The providers offered, in order.
    pub fn offered(&self) -> Vec<Provider> {
        self.providers.iter().map(|p| p.provider()).collect()
    }

    /// The provider a route names, when configured.
    pub fn provider(&self, name: &str) -> Option<&Arc<dyn SignInProvider>> {
        let wanted = Provider::parse(name)?;
        self.providers.iter().find(|p| p.provider() == wanted)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_spelled_as_routes_and_methods() {
        for provider in [Provider::GitHub, Provider::GitLab, Provider::Oidc] {
            assert_eq!(Provider::parse(provider.as_str()), Some(provider));
            assert_eq!(provider.method().as_str(), provider.as_str());
        }
        assert_eq!(Provider::parse("GitHub"), None);
        assert_eq!(Provider::parse("token"), None);
    }

    #[test]
    fn errors_have_their_status_and_only_client_mistakes_count() {
        let unavailable = SignInError::Unavailable {
            provider: Provider::GitHub,
            doing: "exchanging the code",
            detail: "answered 500".into(),
        };
        assert_eq!(unavailable.status(), StatusCode::BAD_GATEWAY);
        assert!(!unavailable.counts_as_failure());
        assert_eq!(SignInError::Attempt.status(), StatusCode::BAD_REQUEST);
        assert!(SignInError::Attempt.counts_as_failure());
        let refused = SignInError::Refused {
            provider: Provider::GitLab,
            error: "invalid_grant".into(),
        };
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(
            refused
                .to_string()
                .contains("GitLab refused the sign-in (invalid_grant)")
        );
        assert!(!SignInError::Internal("x".into()).counts_as_failure());
    }

    #[test]
    fn nothing_configured_offers_nothing() {
        let none = SignIn::new(&SignInConfig::default()).unwrap();
        assert!(none.offered().is_empty());
        assert!(none.provider("github").is_none());
    }
}
