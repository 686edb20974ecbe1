//! The standing digest issue of each org: where it lives (forge, repository), its number
//! (GitHub) or iid (GitLab), and the week it shows. The weekly job edits that issue in
//! place; it creates one only when there is none yet, the stored one is gone, or the
//! settings now name another repository.

use chrono::{DateTime, Utc};

use super::{Forge, Store, StoreError, now, with_pool};

/// An org's digest issue, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestIssueRow {
    /// Lower-case, as in the settings file.
    pub org: String,
    #[sqlx(try_from = "String")]
    pub forge: Forge,
    pub repository: String,
    /// GitHub's issue number, GitLab's iid.
    pub number: i64,
    /// The ISO week it shows (`2026-W49`).
    pub week: String,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// The org's digest issue, if posture has written one.
    pub async fn digest_issue(&self, org: &str) -> Result<Option<DigestIssueRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT org, forge, repository, number, week, updated_at \
                 FROM digest_issues WHERE org = $1",
            )
            .bind(org)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Remembers the org's digest issue (replacing the one it had) and the week it shows.
    pub async fn save_digest_issue(
        &self,
        org: &str,
        forge: Forge,
        repository: &str,
        number: i64,
        week: &str,
    ) -> Result<(), StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO digest_issues (org, forge, repository, number, week, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (org) DO UPDATE SET forge = excluded.forge, \
                   repository = excluded.repository, number = excluded.number, \
                   week = excluded.week, updated_at = excluded.updated_at",
            )
            .bind(org)
            .bind(forge.as_str())
            .bind(repository)
            .bind(number)
            .bind(week)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }
}
