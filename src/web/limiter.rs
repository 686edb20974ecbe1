//! A little rate limit on failed sign-ins, per client address: after [`MAX_FAILURES`]
//! failures within [`WINDOW`], an address is refused until the window that began with its
//! first failure ends. Enough to make guessing tokens (256 random bits) pointless noise and
//! to keep a misbehaving script from filling the audit log; not a defence against a botnet.
//! Pure but for its mutex: the time is passed in.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures an address may have in a window.
pub const MAX_FAILURES: u32 = 10;
/// The window failures are counted over.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most; beyond it, the windows already over are forgotten, then
/// (an address flood) all of them.
const MAX_ADDRESSES: usize = 10_000;

/// Failed sign-ins by client address.
#[derive(Debug, Default)]
pub struct Failures {
    by_address: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Failures {
    /// `Err(wait)` when `address` has failed too often lately; an unknown address (no peer
    /// known) shares one bucket.
    pub fn check(&self, address: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&address) {
            Some((start, count)) if *count >= MAX_FAILURES => {
                let over = *start + WINDOW;
                if now < over { Err(over - now) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure of `address`.
    pub fn record(&self, address: Option<IpAddr>, now: Instant) {
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let mut map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ADDRESSES {
            map.retain(|_, (start, _)| now < *start + WINDOW);
            if map.len() >= MAX_ADDRESSES {
                map.clear();
            }
        }
        let entry = map.entry(address).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets `address`'s failures (it signed in).
    pub fn clear(&self, address: Option<IpAddr>) {
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        self.by_address
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let failures = Failures::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(failures.check(Some(a), start).is_ok());
            failures.record(Some(a), start);
        }
        let wait = failures
            .check(Some(a), start + Duration::from_secs(60))
            .unwrap_err();
        assert_eq!(wait, WINDOW - Duration::from_secs(60));
        assert!(
            failures.check(Some(b), start).is_ok(),
            "another address is not held up"
        );
        assert!(failures.check(Some(a), start + WINDOW).is_ok());
        failures.record(Some(a), start + WINDOW);
        assert!(
            failures.check(Some(a), start + WINDOW).is_ok(),
            "a new window counts anew"
        );
        failures.clear(Some(a));
        assert!(failures.check(Some(a), start).is_ok());
    }
}
