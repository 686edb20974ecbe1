//! The two routes every provider shares: `GET /login/{provider}` starts a sign-in, and
//! `GET /login/{provider}/callback` finishes it.
//!
//! Start: a random `state` (256 bits) and PKCE verifier (and, for OIDC, nonce) are made, the
//! attempt is stored under the state's SHA-256 with the SHA-256 of the browser's binding
//! cookie ([`super::binding`]), and the browser is sent (303) to the provider.
//!
//! Callback, in this order: the address's failures ([`crate::web::limiter`]); the attempt,
//! taken (deleted) by its state, which must be of this provider, unexpired and bound to this
//! browser; the provider's `error`; the code exchanged and the person identified; what
//! [`crate::access::Access`] gives them now. A person who reads nothing gets a 403 page that
//! says who they are and how an admin finds out why, and no session; anyone else a session
//! (as the token form makes it: `HttpOnly; SameSite=Lax`, `Secure` behind TLS) and a 303 to
//! `next` or their first org. Every failure is a page with its status ([`SignInError`]),
//! logged without any secret; a client's mistakes count against its address.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use oauth2::{AuthorizationCode, PkceCodeChallenge, PkceCodeVerifier};
use subtle::ConstantTimeEq;
use tracing::{error, info, warn};

use super::{Authorize, Callback, Provider, SignInError, binding};
use crate::access::Person;
use crate::api::access::Scope;
use crate::api::session;
use crate::store::{NewSession, NewSignInAttempt};
use crate::web::WebState;
use crate::web::headers::{html, protect};
use crate::web::login::{audit, peer, safe_next, see_other};
use crate::web::pages;

/// `GET /login/{provider}[?next=/orgs/acme]`: 303 to the provider's authorize URL.
pub async fn start(
    State(state): State<WebState>,
    Path(provider): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let Some(signer) = state.signin.provider(&provider).cloned() else {
        return not_offered();
    };
    let provider = signer.provider();
    let headers = request.headers();
    let peer = peer(&request);
    let secure = state.config.behind_tls(headers, peer);
    let next = query.get("next").and_then(|next| safe_next(next));
    let random = || session::new_session_id().map_err(|e| SignInError::Internal(e.to_string()));
    let started = async {
        let state_value = random()?;
        let binding = match binding::binding_cookie(headers, secure) {
            Some(binding) => binding.to_owned(),
            None => random()?,
        };
        let nonce = match provider {
            Provider::Oidc => Some(random()?),
            Provider::GitHub | Provider::GitLab => None,
        };
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let location = signer
            .authorize_url(
                state.signin.http(),
                Authorize {
                    state: &state_value,
                    challenge,
                    nonce: nonce.as_deref(),
                },
            )
            .await?;
        let expires_at = chrono::Utc::now()
            + chrono::Duration::from_std(super::ATTEMPT_LIFETIME)
                .unwrap_or(chrono::Duration::minutes(10));
        let created = state
            .api
            .store
            .create_sign_in_attempt(&NewSignInAttempt {
                state_hash: &session::session_hash(&state_value),
                binding_hash: &session::session_hash(&binding),
                provider: provider.as_str(),
                pkce_verifier: verifier.secret(),
                nonce: nonce.as_deref(),
                next,
                expires_at,
            })
            .await
            .map_err(|e| SignInError::Internal(e.to_string()))?;
        if created.is_none() {
            return Err(SignInError::Busy);
        }
        Ok::<_, SignInError>((location, binding))
    };
    match started.await {
        Ok((location, binding)) => {
            let mut response = see_other(location.as_str());
            set_cookie(&mut response, &binding::set_cookie(&binding, secure));
            protect(response)
        }
        Err(error) => {
            warn!(
                provider = provider.as_str(),
                "a sign-in could not start: {error:?}"
            );
            failure_page(&error)
        }
    }
}

/// `GET /login/{provider}/callback?code=…&state=…` (or `?error=…&state=…`).
pub async fn callback(
    State(state): State<WebState>,
    Path(provider): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let Some(signer) = state.signin.provider(&provider).cloned() else {
        return not_offered();
    };
    let provider = signer.provider();
    let headers = request.headers().clone();
    let peer = peer(&request);
    let address = state.config.client_address(&headers, peer);
    let secure = state.config.behind_tls(&headers, peer);
    if let Err(wait) = state.failures.check(address, Instant::now()) {
        let mut response = failure_page(&SignInError::TooMany(wait.as_secs().div_ceil(60)));
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let finished = async {
        let attempt = take_attempt(&state, provider, &query, &headers, secure).await?;
        if let Some(error) = query.get("error") {
            return Err(SignInError::Denied {
                provider,
                error: super::oauth::error_code(&serde_json::json!({ "error": error })),
            });
        }
        let code = query
            .get("code")
            .filter(|code| !code.is_empty())
            .ok_or(SignInError::Missing("code"))?;
        let person = signer
            .identify(
                state.signin.http(),
                Callback {
                    code: AuthorizationCode::new(code.clone()),
                    verifier: PkceCodeVerifier::new(attempt.pkce_verifier),
                    nonce: attempt.nonce,
                },
            )
            .await?;
        Ok::<_, SignInError>((person, attempt.next))
    };
    let (person, next) = match finished.await {
        Ok(done) => done,
        Err(error) => {
            warn!(
                provider = provider.as_str(),
                "a sign-in was refused: {error:?}"
            );
            if error.counts_as_failure() {
                state.failures.record(address, Instant::now());
            }
            return failure_page(&error);
        }
    };
    let orgs = match state.api.access.orgs(&person).await {
        Ok(orgs) => orgs,
        Err(error) => {
            error!("cannot work out what {} reads: {error}", person.name);
            return failure_page(&SignInError::Internal(error.to_string()));
        }
    };
    let action = format!("GET /login/{}/callback", provider.as_str());
    let Some(home) = orgs.first().map(|access| access.org.clone()) else {
        info!(provider = provider.as_str(), person = %person.name, "signed in, but reads no org");
        audit(&state, &person.name, None, &action, StatusCode::FORBIDDEN).await;
        return html(
            StatusCode::FORBIDDEN,
            pages::error_page("Nothing to read here", &nothing_to_read(&person)),
        );
    };
    state.failures.clear(address);
    let joined: Vec<&str> = orgs.iter().map(|access| access.org.as_str()).collect();
    let mut response = match create_session(&state, provider, &person, &joined.join(","), &headers)
        .await
    {
        Ok(id) => {
            let landing = format!("/orgs/{home}");
            let mut response = see_other(next.as_deref().and_then(safe_next).unwrap_or(&landing));
            set_cookie(
                &mut response,
                &session::set_cookie(&id, state.config.session_lifetime, secure),
            );
            response
        }
        Err(error) => return failure_page(&error),
    };
    set_cookie(&mut response, &binding::clear_cookie(secure));
    info!(provider = provider.as_str(), person = %person.name, orgs = joined.len(), "signed in");
    audit(
        &state,
        &person.name,
        Some(&home),
        &action,
        StatusCode::SEE_OTHER,
    )
    .await;
    protect(response)
}

/// The attempt the callback's `state` names, taken (so never used twice), when it is of
/// `provider`, unexpired and started by this browser.
async fn take_attempt(
    state: &WebState,
    provider: Provider,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    secure: bool,
) -> Result<crate::store::SignInAttemptRow, SignInError> {
    let state_value = query
        .get("state")
        .filter(|value| !value.is_empty())
        .ok_or(SignInError::Missing("state"))?;
    let attempt = state
        .api
        .store
        .take_sign_in_attempt(&session::session_hash(state_value))
        .await
        .map_err(|e| SignInError::Internal(e.to_string()))?
        .ok_or(SignInError::Attempt)?;
    let bound = binding::binding_cookie(headers, secure).is_some_and(|binding| {
        let hash = session::session_hash(binding);
        bool::from(hash.as_bytes().ct_eq(attempt.binding_hash.as_bytes()))
    });
    if !bound {
        warn!(
            provider = provider.as_str(),
            "a sign-in callback came without the binding cookie of the browser that started it"
        );
        return Err(SignInError::Attempt);
    }
    if attempt.provider != provider.as_str() || attempt.expires_at <= chrono::Utc::now() {
        return Err(SignInError::Attempt);
    }
    Ok(attempt)
}

/// A new session of `person` reading `orgs`: its id, for the cookie. A session the browser
/// already held is ended (a sign-in never keeps an old session id alive).
async fn create_session(
    state: &WebState,
    provider: Provider,
    person: &Person,
    orgs: &str,
    headers: &HeaderMap,
) -> Result<String, SignInError> {
    let internal = |e: &dyn std::fmt::Display| SignInError::Internal(e.to_string());
    if let Some(old) = session::session_cookie(headers) {
        state
            .api
            .store
            .revoke_session(&session::session_hash(old))
            .await
            .map_err(|e| internal(&e))?;
    }
    let id = session::new_session_id().map_err(|e| internal(&e))?;
    let person_json = serde_json::to_string(person).map_err(|e| internal(&e))?;
    let expires_at = chrono::Utc::now()
        + chrono::Duration::from_std(state.config.session_lifetime)
            .unwrap_or(chrono::Duration::hours(8));
    state
        .api
        .store
        .create_session(&NewSession {
            session_hash: &session::session_hash(&id),
            actor: &person.name,
            method: provider.method().as_str(),
            orgs,
            scopes: Scope::Read.as_str(),
            token_id: None,
            expires_at,
            person: Some(&person_json),
        })
        .await
        .map_err(|e| internal(&e))?;
    Ok(id)
}

/// What the 403 page says: who they are, and the command that explains why.
fn nothing_to_read(person: &Person) -> String {
    // Names come from the provider: only plain ones go into a command an admin is asked to
    // run; anything else is left for them to fill in.
    let plain = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '/' | '-'))
    };
    let arg = |name: &str, placeholder: &str| {
        if plain(name) {
            name.to_owned()
        } else {
            placeholder.to_owned()
        }
    };
    let mut command = String::from("posture auth check");
    if let Some(login) = &person.forge {
        command.push_str(&format!(" --user {}", arg(&login.login, "LOGIN")));
        if login.forge != crate::store::Forge::GitHub {
            command.push_str(&format!(" --forge {}", login.forge));
        }
    }
    for group in person.groups.iter().take(5) {
        command.push_str(&format!(" --group {}", arg(group, "GROUP")));
    }
    if person.forge.is_none() && person.groups.is_empty() {
        command.push_str(" --group GROUP");
    }
    format!(
        "You signed in as {}, but you can read no org here. An admin can see why with `{command}`.",
        person.name
    )
}

fn failure_page(error: &SignInError) -> Response {
    let title = match error.status() {
        StatusCode::BAD_REQUEST => "Sign-in link not valid",
        StatusCode::UNAUTHORIZED => "Not signed in",
        StatusCode::BAD_GATEWAY => "Sign-in provider unavailable",
        StatusCode::TOO_MANY_REQUESTS => "Too many sign-ins",
        _ => "Sign-in failed",
    };
    html(error.status(), pages::error_page(title, &error.to_string()))
}

fn not_offered() -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::error_page(
            "Not found",
            "this way of signing in is not configured here; sign in with an API token",
        ),
    )
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(cookie) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ForgeLogin;
    use crate::store::Forge;

    #[test]
    fn the_nothing_page_names_the_person_and_the_command() {
        let octocat = Person {
            name: "octocat (github)".into(),
            forge: Some(ForgeLogin {
                forge: Forge::GitHub,
                login: "octocat".into(),
                id: Some(1),
            }),
            groups: Vec::new(),
        };
        let text = nothing_to_read(&octocat);
        assert!(text.contains("signed in as octocat (github)"), "{text}");
        assert!(
            text.contains("`posture auth check --user octocat`"),
            "{text}"
        );
        let jane = Person {
            name: "jane (oidc)".into(),
            forge: Some(ForgeLogin {
                forge: Forge::GitLab,
                login: "jane".into(),
                id: None,
            }),
            groups: vec!["engineering".into()],
        };
        assert!(
            nothing_to_read(&jane)
                .contains("`posture auth check --user jane --forge gitlab --group engineering`")
        );
    }
}
