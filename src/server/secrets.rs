//! Webhook secrets and the checks that use them: GitHub's `X-Hub-Signature-256` (HMAC-SHA256
//! over the raw body, any of several secrets so they can be rotated) and GitLab's
//! `X-Gitlab-Token` (compared in constant time).
//!
//! Secrets come from the environment, or else (GitHub) from the App that `/setup/github`
//! created ([`StoredSecret`]), and no `Debug`/`Display` here prints one.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Comma-separated GitHub webhook secrets; every one is accepted (rotation).
pub const GITHUB_SECRET_VAR: &str = "POSTURE_GITHUB_WEBHOOK_SECRET";
/// The GitLab webhook token.
pub const GITLAB_TOKEN_VAR: &str = "POSTURE_GITLAB_WEBHOOK_TOKEN";

/// Secret bytes that never print.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An environment variable holding a secret could not be read (the value is not reported).
#[derive(Debug, thiserror::Error)]
#[error("environment variable {var} is not valid UTF-8")]
pub struct SecretsError {
    pub var: &'static str,
}

/// The GitHub webhook secret of the App stored by the setup flow, which can be set while the
/// server runs. Clones share it.
#[derive(Clone, Default)]
pub struct StoredSecret(Arc<RwLock<Option<Secret>>>);

impl StoredSecret {
    pub fn set(&self, secret: Secret) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(secret);
    }

    pub fn get(&self) -> Option<Secret> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Some(_) => f.write_str("StoredSecret([redacted])"),
            None => f.write_str("StoredSecret(unset)"),
        }
    }
}

/// The secrets the webhook endpoints verify against. A forge without one rejects every delivery.
#[derive(Debug, Clone, Default)]
pub struct WebhookSecrets {
    pub github: Vec<Secret>,
    pub gitlab: Option<Secret>,
    /// Used for GitHub when `github` (the environment's) is empty.
    pub github_stored: StoredSecret,
}

impl WebhookSecrets {
    pub fn new(github: Vec<Secret>, gitlab: Option<Secret>) -> Self {
        WebhookSecrets {
            github,
            gitlab,
            github_stored: StoredSecret::default(),
        }
    }

    /// The GitHub secrets to verify against: the environment's, or else the stored App's.
    pub fn github_secrets(&self) -> Cow<'_, [Secret]> {
        if self.github.is_empty() {
            Cow::Owned(self.github_stored.get().into_iter().collect())
        } else {
            Cow::Borrowed(&self.github)
        }
    }

    /// Reads [`GITHUB_SECRET_VAR`] and [`GITLAB_TOKEN_VAR`]; unset or blank means not configured.
    pub fn from_env() -> Result<Self, SecretsError> {
        Ok(Self::from_values(
            read_var(GITHUB_SECRET_VAR)?.as_deref(),
            read_var(GITLAB_TOKEN_VAR)?.as_deref(),
        ))
    }

    /// Builds from the variables' values: GitHub's is split on commas, each part trimmed, blank
    /// parts dropped (so a secret cannot contain a comma); GitLab's is trimmed.
    pub fn from_values(github: Option<&str>, gitlab: Option<&str>) -> Self {
        let github = github
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Secret::new)
            .collect();
        let gitlab = gitlab
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(Secret::new);
        WebhookSecrets::new(github, gitlab)
    }
}

fn read_var(var: &'static str) -> Result<Option<String>, SecretsError> {
    match std::env::var(var) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(SecretsError { var }),
    }
}

/// Why a delivery was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no secret is configured for this forge ({0} is unset)")]
    NotConfigured(&'static str),
    #[error("the signature header is missing")]
    MissingHeader,
    #[error("the signature header is not `sha256=<64 hex digits>`")]
    BadHeader,
    #[error("the signature does not match")]
    Mismatch,
}

/// The signature in GitHub's `X-Hub-Signature-256` header value, checked before the body is
/// read: a delivery without one (or with no secret to check it) is refused unread.
pub fn github_signature(secrets: &[Secret], header: Option<&[u8]>) -> Result<[u8; 32], AuthError> {
    if secrets.is_empty() {
        return Err(AuthError::NotConfigured(GITHUB_SECRET_VAR));
    }
    let header = header.ok_or(AuthError::MissingHeader)?;
    let hex_digest = header
        .strip_prefix(b"sha256=")
        .ok_or(AuthError::BadHeader)?;
    let mut signature = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut signature).map_err(|_| AuthError::BadHeader)?;
    Ok(signature)
}

/// Checks GitHub's `X-Hub-Signature-256` header value against every secret.
pub fn verify_github(
    secrets: &[Secret],
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), AuthError> {
    let signature = github_signature(secrets, header)?;
    let matches = secrets.iter().any(|secret| {
        // HMAC accepts keys of any length, so this never fails.
        Hmac::<Sha256>::new_from_slice(secret.expose()).is_ok_and(|mut mac| {
            mac.update(body);
            mac.verify_slice(&signature).is_ok()
        })
    });
    if matches {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

/// Checks GitLab's `X-Gitlab-Token` header value against the token, in constant time.
pub fn verify_gitlab(secret: Option<&Secret>, header: Option<&[u8]>) -> Result<(), AuthError> {
    let secret = secret.ok_or(AuthError::NotConfigured(GITLAB_TOKEN_VAR))?;
    let header = header.ok_or(AuthError::MissingHeader)?;
    if bool::from(header.ct_eq(secret.expose())) {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From `fixtures/github/SIGNATURE_VECTOR.txt` (GitHub's documentation).
    const DOC_SECRET: &str = "It's a Secret to Everybody";
    const DOC_PAYLOAD: &[u8] = b"Hello, World!";
    const DOC_HEADER: &[u8] =
        b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_documented_vector_verifies() {
        let secrets = [Secret::new(DOC_SECRET)];
        assert_eq!(
            verify_github(&secrets, Some(DOC_HEADER), DOC_PAYLOAD),
            Ok(())
        );
    }

    #[test]
    fn github_vector_fails_with_another_body_or_secret() {
        let secrets = [Secret::new(DOC_SECRET)];
        assert_eq!(
            verify_github(&secrets, Some(DOC_HEADER), b"Hello, World?"),
            Err(AuthError::Mismatch)
        );
        let wrong = [Secret::new("It's a Secret to Nobody")];
        assert_eq!(
            verify_github(&wrong, Some(DOC_HEADER), DOC_PAYLOAD),
            Err(AuthError::Mismatch)
        );
    }

    #[test]
    fn github_any_rotated_secret_verifies() {
        let secrets =
            WebhookSecrets::from_values(Some(" new-secret , It's a Secret to Everybody,"), None);
        assert_eq!(secrets.github.len(), 2);
        assert_eq!(
            verify_github(&secrets.github, Some(DOC_HEADER), DOC_PAYLOAD),
            Ok(())
        );
    }

    #[test]
    fn github_malformed_or_missing_headers_are_rejected() {
        let secrets = [Secret::new(DOC_SECRET)];
        assert_eq!(
            verify_github(&secrets, None, DOC_PAYLOAD),
            Err(AuthError::MissingHeader)
        );
        for header in [
            &b"sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"[..],
            b"sha256=757107ea",
            b"sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert_eq!(
                verify_github(&secrets, Some(header), DOC_PAYLOAD),
                Err(AuthError::BadHeader)
            );
        }
        assert_eq!(
            verify_github(&[], Some(DOC_HEADER), DOC_PAYLOAD),
            Err(AuthError::NotConfigured(GITHUB_SECRET_VAR))
        );
    }

    #[test]
    fn gitlab_token_compares_exactly() {
        let token = Secret::new("glpat-token");
        assert_eq!(verify_gitlab(Some(&token), Some(b"glpat-token")), Ok(()));
        assert_eq!(
            verify_gitlab(Some(&token), Some(b"glpat-toke")),
            Err(AuthError::Mismatch)
        );
        assert_eq!(
            verify_gitlab(Some(&token), None),
            Err(AuthError::MissingHeader)
        );
        assert_eq!(
            verify_gitlab(None, Some(b"glpat-token")),
            Err(AuthError::NotConfigured(GITLAB_TOKEN_VAR))
        );
    }

    #[test]
    fn the_stored_github_secret_serves_only_when_the_environment_has_none() {
        let secrets = WebhookSecrets::default();
        assert!(secrets.github_secrets().is_empty());
        secrets.github_stored.set(Secret::new(DOC_SECRET));
        assert_eq!(
            verify_github(&secrets.github_secrets(), Some(DOC_HEADER), DOC_PAYLOAD),
            Ok(())
        );
        assert!(!format!("{secrets:?}").contains(DOC_SECRET));
        let env = WebhookSecrets::from_values(Some("the environment's"), None);
        env.github_stored.set(Secret::new(DOC_SECRET));
        assert_eq!(
            verify_github(&env.github_secrets(), Some(DOC_HEADER), DOC_PAYLOAD),
            Err(AuthError::Mismatch)
        );
    }

    #[test]
    fn blank_values_configure_nothing() {
        let secrets = WebhookSecrets::from_values(Some(" , "), Some("  "));
        assert!(secrets.github.is_empty());
        assert!(secrets.gitlab.is_none());
    }

    #[test]
    fn debug_and_display_redact() {
        let secrets = WebhookSecrets::from_values(Some("hunter2,swordfish"), Some("glpat-xyz"));
        let debug = format!("{secrets:?}");
        for secret in ["hunter2", "swordfish", "glpat-xyz"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("[redacted]"), "{debug}");
        assert_eq!(Secret::new("hunter2").to_string(), "[redacted]");
    }
}
