//! Sign-in sessions of the dashboard: who signed in, how, what they read, until when. Only
//! the SHA-256 of a session's id is stored, as for tokens; whether a session is still good
//! (not expired, not revoked, its token not revoked) is [`SessionRow::live_at`]'s to say.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, TokenId, now, with_pool};

/// A session as stored: never its id.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    /// How the audit log names who signed in: `token 3 (ci-read)`, later a person.
    pub actor: String,
    /// How they signed in: `token`, `github`, `gitlab` or `oidc`.
    pub method: String,
    /// The orgs the session reads, comma-separated, lower-case: a token's org, or the orgs
    /// [`crate::access::Access::orgs`] gave a person at sign-in. For a person it is an upper
    /// bound: each request asks again what they read of the org it is about.
    pub orgs: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub token_id: Option<TokenId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether the token the session was made from has been revoked since.
    pub token_revoked: bool,
    /// The person who signed in through a forge or OIDC (JSON of [`crate::access::Person`]).
    pub person: Option<String>,
}

impl SessionRow {
    /// Whether the session may still be used at `now`.
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && !self.token_revoked && now < self.expires_at
    }
}

/// What a new session records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    pub session_hash: &'a str,
    pub actor: &'a str,
    pub method: &'a str,
    pub orgs: &'a str,
    pub scopes: &'a str,
    pub token_id: Option<TokenId>,
    pub expires_at: DateTime<Utc>,
    /// JSON of [`crate::access::Person`], for a sign-in through a forge or OIDC.
    pub person: Option<&'a str>,
}

const SESSION_COLUMNS: &str = "s.id, s.actor, s.method, s.orgs, s.scopes, s.token_id, \
     s.created_at, s.expires_at, s.revoked_at, (t.revoked_at IS NOT NULL) AS token_revoked, \
     s.person";

impl Store {
    /// Records a new session, created now.
    pub async fn create_session(&self, new: &NewSession<'_>) -> Result<i64, StoreError> {
        let now = now();
        let (id,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO sessions \
                 (session_hash, actor, method, orgs, scopes, token_id, created_at, expires_at, \
                 person) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(new.session_hash)
            .bind(new.actor)
            .bind(new.method)
            .bind(new.orgs)
            .bind(new.scopes)
            .bind(new.token_id)
            .bind(now)
            .bind(new.expires_at)
            .bind(new.person)
            .fetch_one(pool)
            .await
        })?;
        Ok(id)
    }

    /// The session with this hash, live or not (the caller asks [`SessionRow::live_at`]).
    pub async fn session(&self, session_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s \
                 LEFT JOIN api_tokens t ON t.id = s.token_id WHERE s.session_hash = $1"
            ))
            .bind(session_hash)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Ends the session with this hash now; false when there was none still open.
    pub async fn revoke_session(&self, session_hash: &str) -> Result<bool, StoreError> {
        let now = now();
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1 \
                 WHERE session_hash = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(session_hash)
            .execute(pool)
            .await
            .map(|result| result.rows_affected())
        })?;
        Ok(done == 1)
    }
}
