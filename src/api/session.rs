//! Sign-in sessions as the browser holds them: the random id in the `posture_session`
//! cookie, what the database keeps of it (a SHA-256, like tokens), the CSRF token bound to
//! it, and the `Set-Cookie` values that give and take it. Pure: no I/O.
//!
//! The CSRF token is derived from the session id (a SHA-256 under a label of its own), so a
//! page can carry it in a hidden field and the server can check it without storing it; it
//! cannot be computed without the cookie, which scripts of other sites never see.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie that carries the session id.
pub const COOKIE_NAME: &str = "posture_session";

/// The header a script sends the CSRF token in; forms send the field [`CSRF_FIELD`].
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// How a person signed in: an API token (the form), or a provider of
/// [`crate::web::signin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// An API token with the `read` scope, exchanged at `POST /login/token`.
    Token,
    GitHub,
    GitLab,
    Oidc,
}

impl Method {
    /// The spelling stored in `sessions.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Token => "token",
            Method::GitHub => "github",
            Method::GitLab => "gitlab",
            Method::Oidc => "oidc",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(text: &str) -> Result<Method, String> {
        match text {
            "token" => Ok(Method::Token),
            "github" => Ok(Method::GitHub),
            "gitlab" => Ok(Method::GitLab),
            "oidc" => Ok(Method::Oidc),
            other => Err(format!("unknown sign-in method `{other}`")),
        }
    }
}

/// A new session id: 256 random bits, in hex.
pub fn new_session_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// What the database keeps of a session id.
pub fn session_hash(id: &str) -> String {
    super::access::token_hash(id)
}

/// The CSRF token of the session `id`.
pub fn csrf_token(id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"posture csrf\n");
    hash.update(id.as_bytes());
    hex::encode(hash.finalize())
}

/// Whether `offered` is the CSRF token of the session `id` (in constant time).
pub fn csrf_matches(id: &str, offered: &str) -> bool {
    let expected = csrf_token(id);
    expected.as_bytes().ct_eq(offered.trim().as_bytes()).into()
}

/// The session id of a request's `Cookie` headers, when it looks like one posture gave
/// (64 hex digits): anything else is not looked up.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    token_cookie(headers, COOKIE_NAME)
}

/// The value of the cookie `name` in a request's `Cookie` headers, when it is one of
/// posture's random tokens (64 hex digits, as session ids and sign-in bindings are).
pub fn token_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that gives the session `id` for `lifetime`: `HttpOnly`,
/// `SameSite=Lax`, `Path=/`, and `Secure` when the browser reaches posture over TLS.
pub fn set_cookie(id: &str, lifetime: Duration, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={id}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{}",
        lifetime.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that makes the browser forget its session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn ids_are_random_hex_and_stored_as_hashes() {
        let (a, b) = (new_session_id().unwrap(), new_session_id().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(session_hash(&a), a);
        assert_ne!(csrf_token(&a), session_hash(&a));
        assert!(csrf_matches(&a, &csrf_token(&a)));
        assert!(!csrf_matches(&a, &csrf_token(&b)));
        assert!(!csrf_matches(&a, ""));
    }

    #[test]
    fn the_cookie_is_found_among_others_and_garbage_is_not_looked_up() {
        let id = "ab".repeat(32);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {COOKIE_NAME}={id}; x=y")).unwrap(),
        );
        assert_eq!(session_cookie(&headers), Some(id.as_str()));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("posture_session=' OR 1=1 --"),
        );
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn cookies_carry_their_flags() {
        let set = set_cookie("abc", Duration::from_secs(8 * 3600), true);
        assert_eq!(
            set,
            "posture_session=abc; Max-Age=28800; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!set_cookie("abc", Duration::from_secs(60), false).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        assert_eq!("oidc".parse::<Method>().unwrap().as_str(), "oidc");
        assert!("ldap".parse::<Method>().is_err());
    }
}
