//! Retention: webhook payloads, finished jobs and sent alert messages are kept for a while
//! (to debug and to replay), then pruned; so are dashboard sessions that ended (expired or
//! signed out) before the cutoff: they can never be used again, and the audit log keeps
//! what they did. Sign-ins under way that expired are deleted whatever the cutoff (they
//! last minutes). History, events, snapshots, triage and dead alert
//! messages are kept.
//!
//! A delivery's row stays after its payload is cleared: its id is what makes a redelivery
//! of the same webhook a no-op, however late it comes.

use chrono::{DateTime, Utc};

use super::{BeginWrite, Store, StoreError, with_pool};

/// What one prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Deliveries whose payload was cleared.
    pub payloads: u64,
    /// Finished jobs deleted.
    pub jobs: u64,
    /// Alert messages sent before the cutoff, deleted.
    pub alerts: u64,
    /// Sessions that ended before the cutoff, deleted.
    pub sessions: u64,
    /// Sign-ins under way that expired, deleted.
    pub sign_in_attempts: u64,
}

/// Jobs whose work is over: `done`, `not_configured` and `superseded`. Dead jobs stay until
/// someone looks at them.
const FINISHED: &str = "status IN ('done', 'not_configured', 'superseded')";

impl Store {
    /// Clears the payloads of deliveries received before `cutoff` and deletes the jobs that
    /// finished before it, in one transaction.
    pub async fn prune(&self, cutoff: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let empty: &[u8] = b"";
        let pruned = with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let payloads = sqlx::query(
                "UPDATE deliveries SET payload = $1 WHERE received_at < $2 AND payload <> $1",
            )
            .bind(empty)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // A superseded job points at the job that replaced it: unlink before deleting.
            sqlx::query(&format!(
                "UPDATE jobs SET superseded_by = NULL WHERE superseded_by IN \
                 (SELECT id FROM jobs WHERE {FINISHED} AND updated_at < $1)"
            ))
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
            let jobs = sqlx::query(&format!(
                "DELETE FROM jobs WHERE {FINISHED} AND updated_at < $1"
            ))
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let sessions =
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            Ok::<_, StoreError>((payloads, jobs, sessions))
        })?;
        let alerts = self.prune_alert_messages(cutoff).await?;
        let sign_in_attempts = self.prune_sign_in_attempts(super::now()).await?;
        Ok(Pruned {
            payloads: pruned.0,
            jobs: pruned.1,
            alerts,
            sessions: pruned.2,
            sign_in_attempts,
        })
    }
}
