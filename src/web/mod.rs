//! The dashboard's web layer: sign-in sessions for browsers and the pages they are served.
//!
//! - `GET /login`, `POST /login/token`, `POST /logout` ([`login`]): an API token with `read`
//!   is exchanged for a server-side session (`sessions` table, only the SHA-256 of its id
//!   stored) held in the `posture_session` cookie.
//! - `GET /login/{github|gitlab|oidc}` and its `/callback` ([`signin`]): a person signs in
//!   through a forge or an OpenID Connect provider; the session records who they are, and
//!   each request reads what [`crate::access`] gives them then.
//! - `GET /orgs/{org}`, `GET /orgs/{org}/repos/{*name}`, `GET /orgs/{org}/findings`
//!   ([`dashboard`]), rendered by [`pages`]: authenticated exactly as the API is (a session
//!   or a bearer token yield the same [`crate::api::access::Caller`]), audited, 404 for what
//!   is out of reach.
//!
//! Every answer carries the headers of [`headers`]: a strict Content-Security-Policy, no
//! sniffing, no framing, no caching. Settings are [`config`]'s.

pub mod config;
pub mod dashboard;
pub mod headers;
pub mod limiter;
pub mod login;
pub mod pages;
pub mod signin;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use self::config::{WebConfig, WebConfigError};
pub use self::signin::{SignIn, SignInConfig, SignInConfigError};

use crate::api::ApiState;

/// What the web routes share.
#[derive(Clone)]
pub struct WebState {
    pub api: ApiState,
    pub config: Arc<WebConfig>,
    pub failures: Arc<limiter::Failures>,
    /// The sign-in providers configured (maybe none).
    pub signin: Arc<SignIn>,
}

/// The sign-in and dashboard routes, to merge into the server's.
pub fn router(api: ApiState, config: WebConfig, signin: SignIn) -> Router {
    let state = WebState {
        api,
        config: Arc::new(config),
        failures: Arc::new(limiter::Failures::default()),
        signin: Arc::new(signin),
    };
    let pages = Router::new()
        .route("/orgs/{org}", get(dashboard::org))
        .route("/orgs/{org}/repos/{*name}", get(dashboard::repository))
        .route("/orgs/{org}/findings", get(dashboard::findings))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            dashboard::require_sign_in,
        ));
    Router::new()
        // The dashboard's front door: a browser opening posture's address is asked to sign in.
        .route(
            "/",
            get(|| async { headers::protect(login::see_other("/login")) }),
        )
        .route("/login", get(login::form))
        .route("/login/token", post(login::token))
        .route("/login/{provider}", get(signin::flow::start))
        .route("/login/{provider}/callback", get(signin::flow::callback))
        .route("/logout", post(login::logout))
        .merge(pages)
        .with_state(state)
}
