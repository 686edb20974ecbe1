//! Creating posture's GitHub App in two clicks, through GitHub's manifest flow, and using the
//! App it stores.
//!
//! - `GET /setup/github` — served only when `POSTURE_SETUP_TOKEN` is set, and only to whoever
//!   presents it (`?token=…` or `Authorization: Bearer …`); anyone else gets 404. The page's
//!   button posts the manifest ([`github::manifest`]: `deploy/github/app-manifest.json` with
//!   the URLs of `POSTURE_PUBLIC_URL`) to GitHub's new-App page, for the person's account or,
//!   with `?org=NAME`, an organization. No script: the manifest is a hidden form field.
//! - `GET /setup/github/callback?code=…&state=…` — where GitHub sends the person back. Only a
//!   `state` this server issued within the hour, and not used before, is accepted
//!   ([`state`]; anything else gets 404), so the setup token need not travel through GitHub. The code is exchanged for the
//!   App's id, private key and webhook secret (`POST /app-manifests/{code}/conversions`);
//!   the secrets are stored encrypted with `POSTURE_SECRET_KEY` ([`crypto`],
//!   [`crate::store::credentials`]) and the page links to the App's installation.
//!
//! [`Setup::start`] loads the stored App when the environment configures no GitHub
//! credentials (no `POSTURE_GITHUB_APP_ID`/`…_PRIVATE_KEY_FILE`/`…_TOKEN`) or no webhook
//! secret (`POSTURE_GITHUB_WEBHOOK_SECRET`), and the callback hands a new App to the running
//! server at once ([`LiveGitHub`], [`StoredSecret`]); the environment always wins. Secrets
//! (private key, webhook and client secrets, the setup token, the code) are never logged nor
//! shown, in pages or errors.

pub mod crypto;
mod github;
mod live;
mod page;
mod state;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use octocrab::secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::{error, info, warn};

pub use self::crypto::{CryptoError, KeyError, SECRET_KEY_VAR, SecretKey};
pub use self::live::LiveGitHub;

use crate::forge::ForgeError;
use crate::forge::github::{
    DEFAULT_API_URL, ENV_API_URL, GitHubClient, GitHubConfig, GitHubCredentials,
};
use crate::forge::throttle::Throttle;
use crate::jobs::Forges;
use crate::server::secrets::{Secret, StoredSecret, WebhookSecrets};
use crate::store::{Forge, NewCredentials, Store, StoreError, StoredCredentials};

/// The server's public base URL, from which the App's URLs are made.
pub const PUBLIC_URL_VAR: &str = "POSTURE_PUBLIC_URL";
/// The token that opens the setup page; unset, there is no setup page.
pub const SETUP_TOKEN_VAR: &str = "POSTURE_SETUP_TOKEN";
/// The shortest setup token accepted.
pub const MIN_SETUP_TOKEN_LEN: usize = 16;

/// The setup page's path.
pub const SETUP_PATH: &str = "/setup/github";

/// Pages load nothing, run nothing and are framed nowhere. (`form-action` is left open: the
/// form posts to GitHub, which redirects.)
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

/// Why the setup flow cannot start. Names variables, never their values.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "{PUBLIC_URL_VAR} must be the server's public base URL, such as https://posture.example.com (http or https, no query)"
    )]
    PublicUrl,
    #[error(
        "{SETUP_TOKEN_VAR} must be at least {MIN_SETUP_TOKEN_LEN} characters (make one with `openssl rand -hex 16`)"
    )]
    ShortToken,
    #[error("{SETUP_TOKEN_VAR} is set but {missing} is not: {why}")]
    Needs {
        missing: &'static str,
        why: &'static str,
    },
    #[error(
        "the database holds the GitHub App {app_id} created by {SETUP_PATH}, but {SECRET_KEY_VAR} is not set: set it to the key the App was stored with, or configure GitHub in the environment"
    )]
    NoKey { app_id: i64 },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the GitHub App stored by {SETUP_PATH} cannot be used: {0}")]
    Forge(ForgeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("deploy/github/app-manifest.json, built into posture, is not valid JSON")]
    Manifest,
    #[error("cannot build the HTTP client for GitHub")]
    Http,
}

/// The setup token. Never printed.
#[derive(Clone)]
struct SetupToken(Vec<u8>);

impl SetupToken {
    /// Compares in constant time (over digests, so the length does not leak either).
    fn matches(&self, presented: &[u8]) -> bool {
        let expected = Sha256::digest(&self.0);
        let presented = Sha256::digest(presented);
        bool::from(expected.as_slice().ct_eq(presented.as_slice()))
    }
}

impl fmt::Debug for SetupToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What the setup flow is configured with.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    setup_token: Option<SetupToken>,
    /// No trailing slash.
    public_url: Option<String>,
    secret_key: Option<SecretKey>,
    /// No trailing slash.
    github_api_url: String,
}

impl SetupConfig {
    /// Reads [`SETUP_TOKEN_VAR`], [`PUBLIC_URL_VAR`], [`SECRET_KEY_VAR`] and
    /// `POSTURE_GITHUB_API_URL`.
    pub fn from_env() -> Result<SetupConfig, SetupError> {
        SetupConfig::from_vars(|name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// The configuration these variables describe (`var` looks one up; blank counts as
    /// unset). A setup token needs the public URL and the key; a key or public URL that is
    /// set must be valid whether or not setup is on.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<SetupConfig, SetupError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let secret_key = var(SECRET_KEY_VAR)
            .map(|value| SecretKey::parse(&value))
            .transpose()?;
        let public_url = var(PUBLIC_URL_VAR)
            .map(|value| public_url(&value))
            .transpose()?;
        let setup_token = match var(SETUP_TOKEN_VAR) {
            Some(token) if token.trim().chars().count() < MIN_SETUP_TOKEN_LEN => {
                return Err(SetupError::ShortToken);
            }
            Some(token) => Some(SetupToken(token.trim().as_bytes().to_vec())),
            None => None,
        };
        if setup_token.is_some() {
            if public_url.is_none() {
                return Err(SetupError::Needs {
                    missing: PUBLIC_URL_VAR,
                    why: "the App's webhook and redirect URLs are made from it",
                });
            }
            if secret_key.is_none() {
                return Err(SetupError::Needs {
                    missing: SECRET_KEY_VAR,
                    why: "the App's private key and webhook secret are stored encrypted with it (base64 of 32 random bytes: `openssl rand -base64 32`)",
                });
            }
        }
        let github_api_url = var(ENV_API_URL)
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        Ok(SetupConfig {
            setup_token,
            public_url,
            secret_key,
            github_api_url,
        })
    }

    /// Whether `/setup/github` is served.
    pub fn enabled(&self) -> bool {
        self.setup_token.is_some()
    }
}

/// `value` as a base URL without trailing slash: http(s), a host, no query or fragment.
fn public_url(value: &str) -> Result<String, SetupError> {
    let trimmed = value.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|_| SetupError::PublicUrl)?;
    let usable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if usable {
        Ok(trimmed.to_owned())
    } else {
        Err(SetupError::PublicUrl)
    }
}

/// The setup routes and the GitHub credentials they hand to the running server. Cheap to
/// clone.
#[derive(Clone)]
pub struct Setup {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: SetupConfig,
    http: reqwest::Client,
    /// The client the workers use when the environment configures none.
    github: LiveGitHub,
    /// The webhook secret the server checks when the environment configures none.
    webhook: StoredSecret,
    /// Whether the environment configures a GitHub client / a webhook secret (they win).
    env_github: bool,
    env_webhook: bool,
    /// The callback's states already used, by this process.
    used_states: state::UsedStates,
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("enabled", &self.inner.config.enabled())
            .field("public_url", &self.inner.config.public_url)
            .field("github", &self.inner.github.get())
            .finish_non_exhaustive()
    }
}

impl Setup {
    /// [`Setup::start`] with [`SetupConfig::from_env`].
    pub async fn from_env(
        store: &Store,
        secrets: &WebhookSecrets,
        forges: &mut Forges,
    ) -> Result<Setup, SetupError> {
        Setup::start(store, SetupConfig::from_env()?, secrets, forges).await
    }

    /// Prepares the setup routes, and gives the server the stored App where the environment
    /// configures nothing: `forges.github`, when `None`, becomes a [`LiveGitHub`] (the stored
    /// App's client, or empty until the callback stores one), and `secrets.github_stored`
    /// gets the stored webhook secret when `secrets.github` is empty. An App stored without
    /// the key that opens it is an error naming the variable.
    pub async fn start(
        store: &Store,
        config: SetupConfig,
        secrets: &WebhookSecrets,
        forges: &mut Forges,
    ) -> Result<Setup, SetupError> {
        let env_github = forges.github.is_some();
        let env_webhook = !secrets.github.is_empty();
        let github = LiveGitHub::default();
        let webhook = secrets.github_stored.clone();
        if !(env_github && env_webhook)
            && let Some(row) = store.credentials(Forge::GitHub).await?
        {
            let key = config
                .secret_key
                .as_ref()
                .ok_or(SetupError::NoKey { app_id: row.app_id })?;
            let (pem, secret) = open_credentials(key, &row)?;
            if !env_github {
                let app_id = u64::try_from(row.app_id).map_err(|_| {
                    SetupError::Forge(ForgeError::Config(format!(
                        "{} is not a GitHub App id",
                        row.app_id
                    )))
                })?;
                github.set(
                    app_client(store, &config.github_api_url, app_id, pem)
                        .map_err(SetupError::Forge)?,
                );
            }
            if !env_webhook {
                webhook.set(secret);
            }
            info!(
                app_id = row.app_id,
                slug = %row.slug,
                client = !env_github,
                webhook_secret = !env_webhook,
                "using the GitHub App stored by {SETUP_PATH}"
            );
        }
        if !env_github {
            forges.github = Some(Arc::new(github.clone()));
        }
        if let Some(public_url) = config.public_url.as_deref().filter(|_| config.enabled()) {
            github::manifest(public_url).map_err(|_| SetupError::Manifest)?;
            info!(
                "the GitHub App setup page is served at {public_url}{SETUP_PATH} to holders of {SETUP_TOKEN_VAR}"
            );
        }
        let http = reqwest::Client::builder()
            .timeout(github::CONVERSION_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("posture/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| SetupError::Http)?;
        Ok(Setup {
            inner: Arc::new(Inner {
                store: store.clone(),
                config,
                http,
                github,
                webhook,
                env_github,
                env_webhook,
                used_states: state::UsedStates::default(),
            }),
        })
    }

    /// `GET /setup/github` and `GET /setup/github/callback`, to merge into the server's.
    pub fn router(&self) -> Router {
        Router::new()
            .route(SETUP_PATH, get(setup_page).fallback(not_found))
            .route(github::CALLBACK_PATH, get(callback).fallback(not_found))
            .with_state(self.clone())
    }

    /// The GitHub client of the stored App, when the server uses one (not the environment's).
    pub fn github(&self) -> Option<GitHubClient> {
        self.inner.github.get()
    }

    /// Exchanges the code, stores the App, hands it to the server; the page to show.
    async fn complete(&self, code: &str) -> Result<Response, Failure> {
        let inner = &self.inner;
        let key = inner.config.secret_key.as_ref().ok_or_else(|| {
            Failure::internal(format!(
                "{SECRET_KEY_VAR} is not set: the App cannot be stored"
            ))
        })?;
        let conversion = github::convert(&inner.http, &inner.config.github_api_url, code)
            .await
            .map_err(|error| {
                warn!(%error, "exchanging the GitHub App manifest code failed");
                // GitHub never answered: the code is still good, and reloading the page
                // tries again.
                let retry = matches!(error, github::ConversionError::Transport { .. });
                let message = if retry {
                    format!("{error}. Reload this page to try again.")
                } else {
                    error.to_string()
                };
                Failure {
                    retry,
                    ..Failure::new(
                        StatusCode::BAD_GATEWAY,
                        "GitHub did not hand over the App",
                        message,
                    )
                }
            })?;
        let name = conversion.name.as_str();
        let orphan = |what: &str| {
            format!(
                "GitHub created the App {name} (id {}), but {what}. Delete it in its settings on GitHub ({}) and start again.",
                conversion.id, conversion.html_url
            )
        };
        let Some(webhook_secret) = conversion.webhook_secret() else {
            return Err(Failure::new(
                StatusCode::BAD_GATEWAY,
                "GitHub made no webhook secret",
                orphan("it has no webhook secret, without which posture cannot trust its webhooks"),
            ));
        };
        let app_id = i64::try_from(conversion.id).map_err(|_| {
            Failure::new(
                StatusCode::BAD_GATEWAY,
                "GitHub's answer is not usable",
                format!("{} is not an App id posture can store", conversion.id),
            )
        })?;
        let client = app_client(
            &inner.store,
            &inner.config.github_api_url,
            conversion.id,
            conversion.pem().clone(),
        )
        .map_err(|error| {
            Failure::new(
                StatusCode::BAD_GATEWAY,
                "GitHub's private key is not usable",
                orphan(&format!("its private key cannot be used: {error}")),
            )
        })?;
        let sealed = |value: &SecretString, field: &str, what: &'static str| {
            key.seal(
                value.expose_secret().as_bytes(),
                aad(Forge::GitHub, app_id, field).as_bytes(),
                what,
            )
        };
        let private_key = sealed(conversion.pem(), PRIVATE_KEY_FIELD, PRIVATE_KEY_WHAT);
        let secret = sealed(webhook_secret, WEBHOOK_SECRET_FIELD, WEBHOOK_SECRET_WHAT);
        let (private_key, sealed_secret) = match (private_key, secret) {
            (Ok(private_key), Ok(secret)) => (private_key, secret),
            (Err(error), _) | (_, Err(error)) => {
                error!(%error, "encrypting the GitHub App's credentials failed");
                return Err(Failure::internal(orphan(&error.to_string())));
            }
        };
        let credentials = NewCredentials {
            forge: Forge::GitHub,
            app_id,
            slug: conversion.slug.clone(),
            html_url: conversion.html_url.clone(),
            private_key,
            webhook_secret: sealed_secret,
        };
        if let Err(error) = inner.store.save_credentials(&credentials).await {
            error!(%error, "storing the GitHub App's credentials failed");
            return Err(Failure::internal(orphan(
                "posture could not store its credentials (see posture's log)",
            )));
        }
        if !inner.env_github {
            inner.github.set(client);
        }
        if !inner.env_webhook {
            inner
                .webhook
                .set(Secret::new(webhook_secret.expose_secret().as_bytes()));
        }
        let owner = conversion.owner.as_ref().map(|owner| owner.login.as_str());
        info!(
            app_id,
            slug = %conversion.slug,
            owner = owner.unwrap_or("?"),
            "created a GitHub App from the manifest and stored its credentials"
        );
        let status = match (inner.env_github, inner.env_webhook) {
            (false, false) => {
                "posture uses this App now, no restart needed. (Other replicas of posture pick it up when they restart.)"
            }
            (true, true) => {
                "The environment configures GitHub credentials and a webhook secret, which take precedence: unset POSTURE_GITHUB_APP_ID, POSTURE_GITHUB_PRIVATE_KEY_FILE, POSTURE_GITHUB_TOKEN and POSTURE_GITHUB_WEBHOOK_SECRET, then restart posture to use this App."
            }
            (true, false) => {
                "posture checks this App's webhooks now, but the environment's GitHub credentials take precedence for the API: unset POSTURE_GITHUB_APP_ID, POSTURE_GITHUB_PRIVATE_KEY_FILE and POSTURE_GITHUB_TOKEN, then restart posture to use this App."
            }
            (false, true) => {
                "posture uses this App for the API now, but the environment's POSTURE_GITHUB_WEBHOOK_SECRET takes precedence for webhooks: unset it and restart posture."
            }
        };
        let install_url = installation_url(&conversion.html_url);
        let body = page::created(&page::CreatedPage {
            name,
            app_id: conversion.id,
            slug: &conversion.slug,
            install_url: install_url.as_deref(),
            status,
        });
        Ok(html(StatusCode::OK, body))
    }

    /// What the setup page says is configured now.
    fn current(&self) -> Option<String> {
        let inner = &self.inner;
        if inner.env_github {
            Some("The environment configures GitHub credentials, which take precedence over an App created here until they are unset and posture restarts.".to_owned())
        } else {
            inner
                .github
                .get()
                .and_then(|client| client.app_id())
                .map(|id| {
                    format!("posture uses the GitHub App {id}, created here before: creating another replaces it.")
                })
        }
    }
}

/// The column names in the associated data of the sealed values.
const PRIVATE_KEY_FIELD: &str = "private_key";
const WEBHOOK_SECRET_FIELD: &str = "webhook_secret";
const PRIVATE_KEY_WHAT: &str = "GitHub App private key";
const WEBHOOK_SECRET_WHAT: &str = "GitHub App webhook secret";

/// What a sealed value is: forge, App and column. Opening it anywhere else fails.
fn aad(forge: Forge, app_id: i64, field: &str) -> String {
    format!("posture/{forge}/{app_id}/{field}")
}

/// Opens a stored App's private key and webhook secret.
pub fn open_credentials(
    key: &SecretKey,
    row: &StoredCredentials,
) -> Result<(SecretString, Secret), CryptoError> {
    let pem = key.open(
        &row.private_key,
        aad(row.forge, row.app_id, PRIVATE_KEY_FIELD).as_bytes(),
        PRIVATE_KEY_WHAT,
    )?;
    let pem = String::from_utf8(pem).map_err(|_| CryptoError::Decrypt {
        what: PRIVATE_KEY_WHAT,
    })?;
    let secret = key.open(
        &row.webhook_secret,
        aad(row.forge, row.app_id, WEBHOOK_SECRET_FIELD).as_bytes(),
        WEBHOOK_SECRET_WHAT,
    )?;
    Ok((SecretString::from(pem), Secret::new(secret)))
}

/// A client authenticating as the App (checks the key can sign), its content budget shared
/// with the other replicas through `store`.
fn app_client(
    store: &Store,
    api_url: &str,
    app_id: u64,
    pem: SecretString,
) -> Result<GitHubClient, ForgeError> {
    let mut config = GitHubConfig::new(
        api_url,
        GitHubCredentials::App {
            app_id,
            private_key_pem: pem,
        },
    );
    config.throttle = Some(Arc::new(Throttle::github_content().shared(store.clone())));
    GitHubClient::new(config)
}

/// `{html_url}/installations/new`, when `html_url` is an http(s) URL.
fn installation_url(html_url: &str) -> Option<String> {
    let html_url = html_url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(html_url).ok()?;
    (matches!(parsed.scheme(), "http" | "https") && parsed.query().is_none())
        .then(|| format!("{html_url}/installations/new"))
}

/// A failure page.
struct Failure {
    status: StatusCode,
    title: &'static str,
    message: String,
    /// Whether the same callback may be tried again (its state is not used up).
    retry: bool,
}

impl Failure {
    fn new(status: StatusCode, title: &'static str, message: String) -> Failure {
        Failure {
            status,
            title,
            message,
            retry: false,
        }
    }

    fn internal(message: String) -> Failure {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The App could not be set up",
            message,
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        html(self.status, page::failed(self.title, &self.message))
    }
}

/// What anyone without the setup token gets, on every path and method: the server's 404.
async fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

async fn setup_page(
    State(setup): State<Setup>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let config = &setup.inner.config;
    let (Some(token), Some(public_url)) = (&config.setup_token, &config.public_url) else {
        return not_found().await;
    };
    let params = params(query.as_deref());
    let presented = params
        .get("token")
        .map(|token| token.trim().as_bytes())
        .or_else(|| bearer(&headers));
    if !presented.is_some_and(|presented| token.matches(presented)) {
        return not_found().await;
    }
    let org = match params.get("org").map(|org| org.trim()) {
        None | Some("") => None,
        Some(org) if github::valid_login(org) => Some(org),
        Some(_) => {
            return Failure::new(
                StatusCode::BAD_REQUEST,
                "Not an organization",
                "org must be a GitHub organization's login: letters, digits and hyphens."
                    .to_owned(),
            )
            .into_response();
        }
    };
    let Ok(manifest) = github::manifest(public_url) else {
        return Failure::internal("the built-in App manifest is not valid JSON".to_owned())
            .into_response();
    };
    let Some(state) = state::issue(&token.0, unix_now()) else {
        return Failure::internal("the operating system gave no random bytes".to_owned())
            .into_response();
    };
    let action = github::new_app_url(&github::web_url(&config.github_api_url), org, &state);
    let body = page::setup(&page::SetupPage {
        action: &action,
        manifest: &manifest.to_string(),
        org,
        webhook_url: &format!("{public_url}{}", github::WEBHOOK_PATH),
        redirect_url: &format!("{public_url}{}", github::CALLBACK_PATH),
        current: setup.current(),
    });
    html(StatusCode::OK, body)
}

async fn callback(State(setup): State<Setup>, RawQuery(query): RawQuery) -> Response {
    let Some(token) = &setup.inner.config.setup_token else {
        return not_found().await;
    };
    let params = params(query.as_deref());
    let now = unix_now();
    let Some((state, expires)) = params
        .get("state")
        .and_then(|state| Some((state, state::verify(&token.0, state, now)?)))
    else {
        warn!("refused a GitHub App setup callback: its state is missing, forged or expired");
        return not_found().await;
    };
    let Some(code) = params.get("code").filter(|code| github::valid_code(code)) else {
        return Failure::new(
            StatusCode::BAD_REQUEST,
            "No code from GitHub",
            "GitHub's redirect carries no usable code: open the setup link again.".to_owned(),
        )
        .into_response();
    };
    if !setup.inner.used_states.first_use(state, expires, now) {
        warn!("refused a GitHub App setup callback: its state was used before");
        return not_found().await;
    }
    match setup.complete(code).await {
        Ok(response) => response,
        Err(failure) => {
            if failure.retry {
                setup.inner.used_states.forget(state);
            }
            failure.into_response()
        }
    }
}

/// The query's parameters; of a repeated one, the first.
fn params(query: Option<&str>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        params
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    params
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().as_bytes())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// An HTML page that is not cached, framed, or referred from.
fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<SetupConfig, SetupError> {
        SetupConfig::from_vars(|name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    const KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";
    const TOKEN: &str = "a-setup-token-of-some-length";

    #[test]
    fn nothing_set_is_setup_off() {
        let config = config(&[]).unwrap();
        assert!(!config.enabled());
        assert_eq!(config.github_api_url, DEFAULT_API_URL);
    }

    #[test]
    fn a_setup_token_needs_the_public_url_and_the_key() {
        let error = config(&[(SETUP_TOKEN_VAR, TOKEN), (SECRET_KEY_VAR, KEY)])
            .unwrap_err()
            .to_string();
        assert!(error.contains(PUBLIC_URL_VAR), "{error}");
        let error = config(&[
            (SETUP_TOKEN_VAR, TOKEN),
            (PUBLIC_URL_VAR, "https://posture.example.com"),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains(SECRET_KEY_VAR), "{error}");
        assert!(!error.contains(TOKEN), "{error}");
        let error = config(&[(SETUP_TOKEN_VAR, "short")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(SETUP_TOKEN_VAR) && !error.contains("short"),
            "{error}"
        );
        let config = config(&[
            (SETUP_TOKEN_VAR, TOKEN),
            (PUBLIC_URL_VAR, "https://posture.example.com/"),
            (SECRET_KEY_VAR, KEY),
            (ENV_API_URL, "https://ghe.example.com/api/v3/"),
        ])
        .unwrap();
        assert!(config.enabled());
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://posture.example.com")
        );
        assert_eq!(config.github_api_url, "https://ghe.example.com/api/v3");
        assert!(!format!("{config:?}").contains(TOKEN));
    }

    #[test]
    fn bad_values_are_errors_naming_the_variable() {
        let error = config(&[(SECRET_KEY_VAR, "hunter2hunter2")])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(SECRET_KEY_VAR), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        for url in [
            "posture.example.com",
            "ftp://x",
            "https://h/?q=1",
            "https://u:p@h",
        ] {
            let error = config(&[(PUBLIC_URL_VAR, url)]).unwrap_err().to_string();
            assert!(error.starts_with(PUBLIC_URL_VAR), "{error}");
        }
    }

    #[test]
    fn tokens_compare_exactly() {
        let token = SetupToken(TOKEN.as_bytes().to_vec());
        assert!(token.matches(TOKEN.as_bytes()));
        assert!(!token.matches(b"a-setup-token-of-some-lengtH"));
        assert!(!token.matches(b""));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer(&headers), Some(&b"abc"[..]));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn installation_links_need_an_http_url() {
        assert_eq!(
            installation_url("https://github.com/apps/posture-acme/").as_deref(),
            Some("https://github.com/apps/posture-acme/installations/new")
        );
        assert_eq!(installation_url("javascript:alert(1)"), None);
        assert_eq!(installation_url("not a url"), None);
    }
}
