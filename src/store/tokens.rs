//! API tokens (only their SHA-256 is stored) and the audit log of who used them for what.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Store, StoreError, now, with_pool};

/// A token's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TokenId(pub i64);

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: TokenId,
    pub org: String,
    pub name: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `token:ID (NAME)`, or the person.
    pub actor: String,
    pub org: Option<String>,
    /// `GET /api/v1/orgs/acme/summary`, `export findings csv`, …
    pub action: String,
    pub target: Option<String>,
    /// The HTTP status answered, when there was one.
    pub status: Option<i32>,
}

const TOKEN_COLUMNS: &str = "id, org, name, scopes, created_at, last_used_at, revoked_at";

impl Store {
    /// Stores a new token by its hash.
    pub async fn create_token(
        &self,
        org: &str,
        name: &str,
        scopes: &str,
        token_hash: &str,
    ) -> Result<TokenRow, StoreError> {
        let now = now();
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "INSERT INTO api_tokens (org, name, scopes, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
            ))
            .bind(org)
            .bind(name)
            .bind(scopes)
            .bind(token_hash)
            .bind(now)
            .fetch_one(pool)
            .await
        })?)
    }

    /// The live (not revoked) token with this hash, its last use set to now.
    pub async fn use_token(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        let now = now();
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "UPDATE api_tokens SET last_used_at = $1 \
                 WHERE token_hash = $2 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
            ))
            .bind(now)
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Every token (of `org`, when given), revoked ones included, oldest first.
    pub async fn tokens(&self, org: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ($1 IS NULL OR org = $1) ORDER BY id"
            ))
            .bind(org)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Revokes a token; `false` when there is no live token with that id.
    pub async fn revoke_token(&self, id: TokenId) -> Result<bool, StoreError> {
        let now = now();
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|result| result.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Appends to the audit log, stamped now.
    pub async fn audit(
        &self,
        actor: &str,
        org: Option<&str>,
        action: &str,
        target: Option<&str>,
        status: Option<u16>,
    ) -> Result<(), StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, org, action, target, status) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(now)
            .bind(actor)
            .bind(org)
            .bind(action)
            .bind(target)
            .bind(status.map(i32::from))
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// The newest `limit` audit entries (of `org`, when given), newest first.
    pub async fn audit_log(
        &self,
        org: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT at, actor, org, action, target, status FROM audit_log \
                 WHERE ($1 IS NULL OR org = $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(org)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?)
    }
}
