//! GitHub's secondary rate limits allow about 80 content-creating requests a minute per
//! installation; GitLab has similar per-user limits. [`Throttle`] keeps posture under such a
//! budget: a sliding window of the latest requests per budget (an installation, a token),
//! so bursts up to the budget go out at once and only the request past it waits.
//!
//! Replicas share one budget through the database ([`Throttle::shared`]); a process without
//! one, or whose database is away, counts its own requests.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::warn;

use crate::store::Store;

/// A budget of `limit` requests per `window` for each budget key.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Where the budget is kept across replicas.
    store: Option<Store>,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration) -> Throttle {
        Throttle {
            limit: limit.max(1),
            window,
            sent: Mutex::new(HashMap::new()),
            store: None,
        }
    }

    /// GitHub's documented budget for content-creating requests.
    pub fn github_content() -> Throttle {
        Throttle::new(80, Duration::from_secs(60))
    }

    /// The same budget, counted in `store` for every process using it.
    pub fn shared(self, store: Store) -> Throttle {
        Throttle {
            store: Some(store),
            ..self
        }
    }

    /// Waits until one more request of `budget` fits, and counts it.
    pub async fn acquire(&self, budget: &str) {
        if let Some(store) = &self.store {
            let limit = u32::try_from(self.limit).unwrap_or(u32::MAX);
            loop {
                match store
                    .take_send(budget, limit, self.window, chrono::Utc::now())
                    .await
                {
                    Ok(None) => return,
                    Ok(Some(wait)) => tokio::time::sleep(wait).await,
                    Err(error) => {
                        warn!(
                            "the shared request budget is unavailable, counting locally: {error}"
                        );
                        break;
                    }
                }
            }
        }
        self.acquire_locally(budget).await;
    }

    async fn acquire_locally(&self, budget: &str) {
        // The send's time is booked under the lock and waited for outside it.
        let at = {
            let mut all = self.sent.lock().await;
            let sent = all.entry(budget.to_owned()).or_default();
            let now = Instant::now();
            while sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                sent.pop_front();
            }
            let at = match sent.len() >= self.limit {
                true => sent.pop_front().map_or(now, |oldest| oldest + self.window),
                false => now,
            };
            sent.push_back(at);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_up_to_the_budget_then_waits_for_the_window() {
        let throttle = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            throttle.acquire("a").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Another budget is not held up by the first.
        throttle.acquire("b").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        throttle.acquire("a").await;
        // The clock is paused: time only moves when every task waits, so this is exact.
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }
}
