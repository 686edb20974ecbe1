//! Signing in and out: `GET /login` (a plain page, no script: a link per sign-in provider,
//! [`super::signin`], and the token form), `POST /login/token` (an API token with `read`, as
//! a form or JSON `{token}`, exchanged for a session), and `POST /logout` (the session, of
//! whichever method, ended server-side, its cookie cleared).
//!
//! The sign-in post is checked against cross-site use by `SameSite=Lax` and by its `Origin`
//! (else `Referer`) being posture's own; failures are rate-limited per client address
//! ([`super::limiter`]). Signing out needs the session's CSRF token. A `next` path is
//! followed only when it is relative to this site ([`safe_next`]): no open redirect.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tracing::{error, warn};

use super::WebState;
use super::headers::{html, protect};
use super::pages;
use super::signin::Provider;
use crate::api::ApiError;
use crate::api::access::{Caller, Scope, token_hash};
use crate::api::session::{self, Method};
use crate::store::NewSession;

/// The largest sign-in or sign-out body read.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The longest `next` path followed.
const MAX_NEXT_LEN: usize = 2048;

/// `next` when it is a path of this site: it starts with one `/` (not `//` nor `/\`, which
/// browsers read as another host), and holds no backslash or control character.
pub fn safe_next(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    let usable = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && next.len() <= MAX_NEXT_LEN
        && !next.chars().any(|c| c == '\\' || c.is_control());
    usable.then_some(next)
}

/// The connection's peer, when the listener recorded it.
pub fn peer(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// `GET /login[?next=/orgs/acme]`: a button per sign-in provider, and the token form.
pub async fn form(
    State(state): State<WebState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let next = query.get("next").and_then(|next| safe_next(next));
    html(
        StatusCode::OK,
        pages::login_page(&state.signin.offered(), next, None),
    )
}

/// What `POST /login/token` reads, from a form or JSON.
#[derive(Debug, Default, Deserialize)]
struct Credentials {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: Option<String>,
}

/// How the answer is written: the form gets pages and redirects, JSON gets JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Form,
    Json,
}

impl Client {
    fn of(headers: &HeaderMap) -> Client {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().starts_with("application/json"));
        if json { Client::Json } else { Client::Form }
    }

    fn refuse(self, providers: &[Provider], error: ApiError, next: Option<&str>) -> Response {
        match self {
            Client::Json => protect(error.into_response()),
            Client::Form => html(
                error.status,
                pages::login_page(providers, next, Some(&error.message)),
            ),
        }
    }
}

fn too_many(wait: std::time::Duration) -> ApiError {
    ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "too_many_requests",
        message: format!(
            "too many failed sign-ins from this address; try again in {} minutes",
            wait.as_secs().div_ceil(60)
        ),
    }
}

/// `POST /login/token`: a valid API token with `read` becomes a session. A form is answered
/// 303 to `next` or to the token's org; JSON with 200 and the session's org, expiry and
/// CSRF token. 401 says why otherwise; 429 after too many failures from one address.
pub async fn token(State(state): State<WebState>, request: Request) -> Response {
    let peer = peer(&request);
    let headers = request.headers().clone();
    let client = Client::of(&headers);
    let providers = state.signin.offered();
    let address = state.config.client_address(&headers, peer);
    if let Err(wait) = state.failures.check(address, Instant::now()) {
        let mut response = client.refuse(&providers, too_many(wait), None);
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if !state.config.same_origin(&headers, peer) {
        warn!("refused a sign-in posted from another site");
        return client.refuse(
            &providers,
            ApiError::forbidden("sign in from posture's own sign-in page"),
            None,
        );
    }
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await else {
        return client.refuse(
            &providers,
            ApiError::bad_request("the sign-in could not be read"),
            None,
        );
    };
    let credentials = match client {
        Client::Json => match serde_json::from_slice::<Credentials>(&body) {
            Ok(credentials) => credentials,
            Err(error) => {
                return client.refuse(
                    &providers,
                    ApiError::bad_request(format!(
                        "expected JSON {{\"token\": \"pst_…\"}}: {error}"
                    )),
                    None,
                );
            }
        },
        Client::Form => {
            let mut fields: HashMap<String, String> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            Credentials {
                token: fields.remove("token").unwrap_or_default(),
                next: fields.remove("next"),
            }
        }
    };
    let next = credentials.next.as_deref().and_then(safe_next);
    let token = credentials.token.trim();
    let refused = |message: &str| {
        state.failures.record(address, Instant::now());
        client.refuse(&providers, ApiError::unauthorized(message), next)
    };
    if token.is_empty() {
        return refused("give an API token with the `read` scope");
    }
    let row = match state.api.store.use_token(&token_hash(token)).await {
        Ok(Some(row)) => row,
        Ok(None) => {
            warn!("refused a sign-in with an unknown or revoked token");
            return refused("unknown or revoked token");
        }
        Err(error) => return client.refuse(&providers, ApiError::from(error), next),
    };
    let caller = Caller::from_token(&row);
    if caller.require(Scope::Read).is_err() {
        return refused("this token lacks the `read` scope, which signing in needs");
    }
    state.failures.clear(address);
    let id = match session::new_session_id() {
        Ok(id) => id,
        Err(error) => return client.refuse(&providers, ApiError::internal(&error), next),
    };
    let org = row.org.to_lowercase();
    let lifetime = state.config.session_lifetime;
    let expires_at = chrono::Utc::now()
        + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(8));
    let new = NewSession {
        session_hash: &session::session_hash(&id),
        actor: &caller.actor,
        method: Method::Token.as_str(),
        orgs: &org,
        scopes: Scope::Read.as_str(),
        token_id: Some(row.id),
        expires_at,
        person: None,
    };
    if let Err(error) = state.api.store.create_session(&new).await {
        return client.refuse(&providers, ApiError::from(error), next);
    }
    let secure = state.config.behind_tls(&headers, peer);
    let cookie = session::set_cookie(&id, lifetime, secure);
    let mut response = match client {
        Client::Json => axum::Json(json!({
            "org": org,
            "actor": caller.actor,
            "method": Method::Token.as_str(),
            "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "csrf_token": session::csrf_token(&id),
        }))
        .into_response(),
        Client::Form => {
            let home = format!("/orgs/{org}");
            see_other(next.unwrap_or(&home))
        }
    };
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    audit(
        &state,
        &caller.actor,
        Some(&org),
        "POST /login/token",
        response.status(),
    )
    .await;
    protect(response)
}

/// `POST /logout`: ends the session (its CSRF token in the form field `csrf` or the
/// `X-CSRF-Token` header), clears the cookie, 303 to `/login`.
pub async fn logout(State(state): State<WebState>, request: Request) -> Response {
    let peer = peer(&request);
    let headers = request.headers().clone();
    let secure = state.config.behind_tls(&headers, peer);
    if let Some(id) = session::session_cookie(&headers).map(str::to_owned) {
        let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
            .await
            .unwrap_or_default();
        let offered = url::form_urlencoded::parse(&body)
            .find(|(name, _)| name == session::CSRF_FIELD)
            .map(|(_, value)| value.into_owned())
            .or_else(|| {
                headers
                    .get(session::CSRF_HEADER)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            });
        if !offered.is_some_and(|offered| session::csrf_matches(&id, &offered)) {
            warn!("refused a sign-out without the session's CSRF token");
            return html(
                StatusCode::FORBIDDEN,
                pages::error_page(
                    "Forbidden",
                    "this sign-out did not come from posture's page (no valid CSRF token); reload the page and sign out again",
                ),
            );
        }
        let hash = session::session_hash(&id);
        match state.api.store.session(&hash).await {
            Ok(Some(row)) => {
                if let Err(error) = state.api.store.revoke_session(&hash).await {
                    return html(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        pages::error_page("Error", &ApiError::from(error).message),
                    );
                }
                let org = row.orgs.split(',').next().map(str::to_owned);
                audit(
                    &state,
                    &row.actor,
                    org.as_deref(),
                    "POST /logout",
                    StatusCode::SEE_OTHER,
                )
                .await;
            }
            Ok(None) => {}
            Err(error) => {
                return html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    pages::error_page("Error", &ApiError::from(error).message),
                );
            }
        }
    }
    let mut response = see_other("/login");
    if let Ok(cookie) = HeaderValue::from_str(&session::clear_cookie(secure)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    protect(response)
}

/// 303 See Other to `location`: a path of this site, or a provider's URL posture built.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Records a sign-in (or its refusal) in the audit log; a failure to write is logged.
pub(crate) async fn audit(
    state: &WebState,
    actor: &str,
    org: Option<&str>,
    action: &str,
    status: StatusCode,
) {
    if let Err(error) = state
        .api
        .store
        .audit(actor, org, action, None, Some(status.as_u16()))
        .await
    {
        error!("cannot write the audit log: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_within_this_site() {
        for good in ["/orgs/acme", "/orgs/acme/findings?format=csv", "/"] {
            assert_eq!(safe_next(good), Some(good));
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "evil.example",
            "javascript:alert(1)",
            "/orgs\\..\\x",
            "/orgs/acme\r\nSet-Cookie: x=y",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_NEXT_LEN))), None);
    }
}
