//! Pausing the workers when jobs keep failing. A forge or network that is down fails every
//! job the same way: trying them all spends each queued job's attempts (a few minutes of
//! outage could leave every review dead) and the machine's CPU, which the webhook
//! acknowledgements need. After enough transient failures in a row across the process's
//! workers, claiming pauses; after each pause one more try is allowed, and each failure
//! doubles the pause up to a ceiling. Any other outcome closes the breaker.

use std::time::{Duration, Instant};

/// When to pause and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Transient failures in a row that pause claiming.
    pub failures: u32,
    /// The first pause.
    pub first_pause: Duration,
    /// The longest pause.
    pub max_pause: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: 5,
            first_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(60),
        }
    }
}

/// Transient failures in a row, and the pause they earned.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    in_a_row: u32,
    pause: Duration,
    until: Option<Instant>,
}

impl Breaker {
    /// Counts a job's outcome; returns the pause it starts, if any.
    pub(super) fn record(&mut self, failed: bool, config: &BreakerConfig) -> Option<Duration> {
        if !failed {
            *self = Breaker::default();
            return None;
        }
        self.in_a_row = self.in_a_row.saturating_add(1);
        if self.in_a_row < config.failures {
            return None;
        }
        self.pause = if self.pause.is_zero() {
            config.first_pause
        } else {
            self.pause.saturating_mul(2).min(config.max_pause)
        };
        self.until = Some(Instant::now() + self.pause);
        Some(self.pause)
    }

    /// How much longer claiming is paused.
    pub(super) fn paused_for(&self) -> Option<Duration> {
        self.until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn config() -> BreakerConfig {
        BreakerConfig {
            failures: 3,
            first_pause: HOUR,
            max_pause: 3 * HOUR,
        }
    }

    #[test]
    fn failures_in_a_row_pause_doubling_up_to_the_ceiling_and_a_success_resets() {
        let mut breaker = Breaker::default();
        assert_eq!(breaker.record(true, &config()), None);
        assert_eq!(breaker.record(true, &config()), None);
        assert!(breaker.paused_for().is_none());
        assert_eq!(breaker.record(true, &config()), Some(HOUR));
        assert!(breaker.paused_for().is_some_and(|left| left > HOUR / 2));
        // The try after a pause fails: twice as long, then no longer than the ceiling.
        assert_eq!(breaker.record(true, &config()), Some(2 * HOUR));
        assert_eq!(breaker.record(true, &config()), Some(3 * HOUR));
        assert_eq!(breaker.record(false, &config()), None);
        assert!(breaker.paused_for().is_none());
        assert_eq!(breaker.record(true, &config()), None);
    }

    #[test]
    fn failures_broken_by_a_success_do_not_pause() {
        let mut breaker = Breaker::default();
        for _ in 0..10 {
            assert_eq!(breaker.record(true, &config()), None);
            assert_eq!(breaker.record(true, &config()), None);
            assert_eq!(breaker.record(false, &config()), None);
        }
        assert!(breaker.paused_for().is_none());
    }
}
