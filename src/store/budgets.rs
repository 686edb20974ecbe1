//! Send budgets shared by every process on one database: a sliding window of the latest
//! sends per budget (a forge installation), so replicas together stay under a forge's
//! limit. A take locks the budget's row before it reads the window, so two replicas racing
//! for the last send cannot both win, on PostgreSQL's row locks as on SQLite's single writer.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{BeginWrite, Store, StoreError, with_pool};

impl Store {
    /// Takes one send from `budget`'s `limit` per `window`: `None` when taken, else how long
    /// until the oldest send of the window leaves it.
    pub async fn take_send(
        &self,
        budget: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, StoreError> {
        let now = now.timestamp_micros();
        let window_micros = i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
        let since = now.saturating_sub(window_micros);
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO send_budgets (budget, version) VALUES ($1, 0) \
                 ON CONFLICT (budget) DO NOTHING",
            )
            .bind(budget)
            .execute(pool)
            .await?;
            let mut tx = pool.begin_write().await?;
            // Writing first takes the budget's row lock (SQLite's write lock): takers of one
            // budget queue here, so none reads a window another is about to fill.
            sqlx::query("UPDATE send_budgets SET version = version + 1 WHERE budget = $1")
                .bind(budget)
                .execute(&mut *tx)
                .await?;
            let sends: Vec<(i64,)> = sqlx::query_as(
                "SELECT sent_at FROM budget_sends WHERE budget = $1 AND sent_at > $2 \
                 ORDER BY sent_at LIMIT $3",
            )
            .bind(budget)
            .bind(since)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&mut *tx)
            .await?;
            if sends.len() >= limit.max(1) as usize {
                tx.rollback().await?;
                let frees = sends[0].0.saturating_add(window_micros);
                let wait = u64::try_from(frees.saturating_sub(now)).unwrap_or(0);
                return Ok(Some(Duration::from_micros(wait.max(1))));
            }
            sqlx::query("INSERT INTO budget_sends (budget, sent_at) VALUES ($1, $2)")
                .bind(budget)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM budget_sends WHERE budget = $1 AND sent_at <= $2")
                .bind(budget)
                .bind(since)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(None)
        })
    }
}
