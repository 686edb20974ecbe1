//! Sign-ins under way through GitHub, GitLab or OIDC ([`crate::web::signin`]): what the
//! callback needs to finish one (the PKCE verifier, the OIDC nonce, where to land) and what
//! proves it is the same sign-in in the same browser (the hashes of the `state` parameter
//! and of the browser's binding cookie). An attempt is used at most once: taking it deletes
//! it, in one statement, so two callbacks racing with one `state` cannot both have it.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, now, with_pool};

/// A sign-in under way, as stored: never the state or the binding itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInAttemptRow {
    pub id: i64,
    /// The SHA-256 (hex) of the browser's binding cookie.
    pub binding_hash: String,
    /// `github`, `gitlab` or `oidc`.
    pub provider: String,
    /// The PKCE code verifier the token request sends (a secret until then; never logged).
    pub pkce_verifier: String,
    /// The nonce the OIDC ID token must carry.
    pub nonce: Option<String>,
    /// The path of this site to land on.
    pub next: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a new attempt records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignInAttempt<'a> {
    pub state_hash: &'a str,
    pub binding_hash: &'a str,
    pub provider: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: Option<&'a str>,
    pub next: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

const ATTEMPT_COLUMNS: &str =
    "id, binding_hash, provider, pkce_verifier, nonce, next, created_at, expires_at";

/// The live attempts one browser (binding) keeps: a few tabs' worth.
pub const ATTEMPTS_PER_BROWSER: i64 = 5;

/// The live attempts kept in all; past it, sign-ins wait (503) until some expire.
pub const MAX_ATTEMPTS: i64 = 10_000;

impl Store {
    /// Records a new attempt, created now, and forgets those that expired: anyone may start
    /// a sign-in, so the table is kept to the attempts of the last minutes.
    ///
    /// Bounded: a browser keeps its [`ATTEMPTS_PER_BROWSER`] newest attempts (older ones of
    /// the same binding are dropped), and past [`MAX_ATTEMPTS`] live attempts in all none is
    /// recorded (`None`): a flood of started sign-ins cannot grow the table.
    pub async fn create_sign_in_attempt(
        &self,
        new: &NewSignInAttempt<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let now = now();
        self.prune_sign_in_attempts(now).await?;
        let (live,): (i64,) = with_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM sign_in_attempts WHERE binding_hash = $1 AND id NOT IN \
                 (SELECT id FROM sign_in_attempts WHERE binding_hash = $1 \
                 ORDER BY id DESC LIMIT $2)",
            )
            .bind(new.binding_hash)
            .bind(ATTEMPTS_PER_BROWSER - 1)
            .execute(pool)
            .await?;
            sqlx::query_as("SELECT COUNT(*) FROM sign_in_attempts")
                .fetch_one(pool)
                .await
        })?;
        if live >= MAX_ATTEMPTS {
            return Ok(None);
        }
        let (id,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO sign_in_attempts \
                 (state_hash, binding_hash, provider, pkce_verifier, nonce, next, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(new.state_hash)
            .bind(new.binding_hash)
            .bind(new.provider)
            .bind(new.pkce_verifier)
            .bind(new.nonce)
            .bind(new.next)
            .bind(now)
            .bind(new.expires_at)
            .fetch_one(pool)
            .await
        })?;
        Ok(Some(id))
    }

    /// Takes the attempt whose state has this hash: returns it and deletes it, expired or
    /// not (the caller checks [`SignInAttemptRow::expires_at`] and the binding). `None`
    /// when there is none: unknown, or already taken.
    pub async fn take_sign_in_attempt(
        &self,
        state_hash: &str,
    ) -> Result<Option<SignInAttemptRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "DELETE FROM sign_in_attempts WHERE state_hash = $1 RETURNING {ATTEMPT_COLUMNS}"
            ))
            .bind(state_hash)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Deletes the attempts that expired before `now`; how many.
    pub async fn prune_sign_in_attempts(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query("DELETE FROM sign_in_attempts WHERE expires_at < $1")
                .bind(now)
                .execute(pool)
                .await
                .map(|result| result.rows_affected())
        })?)
    }
}
