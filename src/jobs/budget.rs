//! The process's memory budget for reading reports. Parsed findings cost several times the
//! bytes of the report they came from, so two large reviews at once could take more memory
//! than the machine has. Each review reserves its estimate before it parses and gives it
//! back when done: large reviews wait for each other instead of running out of memory
//! together, and a set of reports larger than the whole budget is refused with the reason.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Memory a review takes per byte of its reports, at most: a whole `posture review` of two
/// 42 MB SARIF logs peaks at 4 bytes per report byte (benches/review_large.py), and
/// osv-scanner's JSON, the most expensive per byte, took 18 before findings were streamed.
pub const BYTES_PER_REPORT_BYTE: u64 = 16;

const MIB: u64 = 1024 * 1024;

/// What reading reports may hold at once in this process.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    mebibytes: Arc<Semaphore>,
    total: u32,
}

/// The reports need more than the whole budget.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "reading {report_mib} MiB of reports needs about {needed_mib} MiB, over this process's \
     budget of {budget_mib} MiB (POSTURE_MEMORY_BUDGET)"
)]
pub struct OverBudget {
    pub report_mib: u64,
    pub needed_mib: u64,
    pub budget_mib: u64,
}

impl MemoryBudget {
    /// A budget of `bytes` (at least 1 MiB).
    pub fn new(bytes: u64) -> MemoryBudget {
        let total = u32::try_from(bytes / MIB)
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS as u32);
        MemoryBudget {
            mebibytes: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until reading `report_bytes` of reports fits, and holds that much until the
    /// returned reservation is dropped.
    pub async fn reserve(&self, report_bytes: u64) -> Result<Reservation, OverBudget> {
        let needed = report_bytes
            .saturating_mul(BYTES_PER_REPORT_BYTE)
            .div_ceil(MIB)
            .max(1);
        if needed > u64::from(self.total) {
            return Err(OverBudget {
                report_mib: report_bytes.div_ceil(MIB),
                needed_mib: needed,
                budget_mib: u64::from(self.total),
            });
        }
        let permit = Arc::clone(&self.mebibytes)
            .acquire_many_owned(needed as u32)
            .await
            .expect("the budget's semaphore is never closed");
        Ok(Reservation { _held: permit })
    }
}

impl Default for MemoryBudget {
    /// 4 GiB: a 256 MiB report (the largest one read) fits.
    fn default() -> MemoryBudget {
        MemoryBudget::new(4 * 1024 * MIB)
    }
}

/// Memory held for one review's reports.
#[derive(Debug)]
pub struct Reservation {
    _held: OwnedSemaphorePermit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn large_reviews_take_turns_and_one_over_the_whole_budget_is_refused() {
        let budget = MemoryBudget::new(100 * MIB);
        let first = budget.reserve(5 * MIB).await.unwrap(); // 80 MiB
        let second = budget.reserve(2 * MIB);
        tokio::pin!(second);
        // 32 more MiB do not fit beside the first 80: the second waits…
        assert!(futures_poll(&mut second).is_none());
        drop(first);
        // …until the first is done.
        assert!(futures_poll(&mut second).is_some());
        let refused = budget.reserve(7 * MIB).await.unwrap_err();
        assert_eq!(refused.needed_mib, 112);
        assert!(refused.to_string().contains("POSTURE_MEMORY_BUDGET"));
    }

    /// Polls a future once.
    fn futures_poll<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(future).poll(&mut context) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        }
    }
}
