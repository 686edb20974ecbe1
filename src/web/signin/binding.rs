//! The cookie that binds a sign-in to the browser that started it: `posture_signin`, a
//! random value whose SHA-256 the attempt records. A callback URL (state and code) that
//! reaches another browser — sent by an attacker to sign a victim in as the attacker, or
//! leaked — is refused there, because that browser does not hold the cookie.
//!
//! The cookie is `HttpOnly`, `SameSite=Lax` (so it comes along on the provider's top-level
//! redirect back), `Path=/` (posture may be served under a path prefix), and lives as long
//! as an attempt. Behind TLS it is `__Host-posture_signin; Secure`: the `__Host-` prefix
//! makes browsers refuse it from a sibling subdomain, so nobody can plant their own binding
//! in a victim's browser (and only that name is read then).
//! A browser that already holds one keeps it, so two sign-ins started in two tabs both work.
//! Pure: no I/O.

use axum::http::HeaderMap;

use super::ATTEMPT_LIFETIME;

/// The binding cookie over plain HTTP.
pub const COOKIE_NAME: &str = "posture_signin";

/// The binding cookie behind TLS.
pub const SECURE_COOKIE_NAME: &str = "__Host-posture_signin";

fn name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The binding a request's `Cookie` headers carry under the name of this mode (`secure`:
/// behind TLS), when it looks like one posture gave (64 hex digits).
pub fn binding_cookie(headers: &HeaderMap, secure: bool) -> Option<&str> {
    crate::api::session::token_cookie(headers, name(secure))
}

/// The `Set-Cookie` value that gives the binding `value` for an attempt's lifetime.
pub fn set_cookie(value: &str, secure: bool) -> String {
    format!(
        "{}={value}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{}",
        name(secure),
        ATTEMPT_LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that makes the browser forget its binding (signed in).
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{}",
        name(secure),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    #[test]
    fn the_binding_is_read_among_other_cookies_and_carries_its_flags() {
        let value = "0f".repeat(32);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("posture_session=x; {COOKIE_NAME}={value}")).unwrap(),
        );
        assert_eq!(binding_cookie(&headers, false), Some(value.as_str()));
        // Behind TLS only the `__Host-` cookie counts: a plain one could be a planted one.
        assert_eq!(binding_cookie(&headers, true), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("posture_signin=short"),
        );
        assert_eq!(binding_cookie(&headers, false), None);
        assert_eq!(
            set_cookie(&value, true),
            format!(
                "__Host-posture_signin={value}; Max-Age=600; Path=/; HttpOnly; SameSite=Lax; Secure"
            )
        );
        assert!(!set_cookie(&value, false).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }
}
