//! GitHub's secondary rate limits allow about 80 content-creating requests a minute; GitLab
//! has similar per-user limits. [`Throttle`] keeps posture under such a budget: a sliding
//! window of the latest requests, so bursts up to the budget go out at once and only the
//! request past it waits.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// A budget of `limit` requests per `window`, shared by every job of the process.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration) -> Throttle {
        Throttle {
            limit: limit.max(1),
            window,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// GitHub's documented budget for content-creating requests.
    pub fn github_content() -> Throttle {
        Throttle::new(80, Duration::from_secs(60))
    }

    /// Waits until one more request fits in the budget, and counts it.
    pub async fn acquire(&self) {
        let mut sent = self.sent.lock().await;
        let now = Instant::now();
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            sent.pop_front();
        }
        if sent.len() >= self.limit
            && let Some(oldest) = sent.pop_front()
        {
            tokio::time::sleep_until(oldest + self.window).await;
        }
        sent.push_back(Instant::now());
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
            throttle.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        throttle.acquire().await;
        // The clock is paused: time only moves when every task waits, so this is exact.
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }
}
