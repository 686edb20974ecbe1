//! A small time-bounded cache of the forge's answers about people (repository access, team
//! membership), so a page view does not cost a forge call per repository. Each entry has
//! its own lifetime: the resolver keeps an answer for minutes and an error for seconds
//! ([`ERROR_TTL`]), so a forge that is down is not asked again by every page view (each
//! waiting for its timeout), yet is believed again soon after it recovers.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is believed when `POSTURE_ACCESS_CACHE_SECONDS` is unset.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// How long a forge error stands (at most the answers' lifetime): access stays refused
/// meanwhile.
pub const ERROR_TTL: Duration = Duration::from_secs(30);

/// The most answers kept; past it, expired ones are dropped, then everything.
const MAX_ENTRIES: usize = 100_000;

/// Values by key, each kept until its own expiry.
#[derive(Debug)]
pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Default for Cache<K, V> {
    fn default() -> Cache<K, V> {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    /// The value for `key`, unless it expired by `now`.
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(expires, _)| now < *expires)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `key` from `now` for `lifetime`.
    pub fn put(&self, key: K, value: V, now: Instant, lifetime: Duration) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (expires, _)| now < *expires);
        }
        if entries.len() >= MAX_ENTRIES {
            // Still full of live entries: the half closest to expiry goes (a rare, bounded
            // sort), so the cache never empties at once.
            let mut expiries: Vec<Instant> = entries.values().map(|(at, _)| *at).collect();
            let (_, middle, _) = expiries.select_nth_unstable(MAX_ENTRIES / 2);
            let middle = *middle;
            entries.retain(|_, (expires, _)| *expires > middle);
        }
        entries.insert(key, (now + lifetime, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_after_their_lifetime() {
        let cache = Cache::default();
        let start = Instant::now();
        cache.put("octocat", 1, start, Duration::from_secs(60));
        cache.put("hubot", 2, start, Duration::from_secs(5));
        assert_eq!(
            cache.get(&"octocat", start + Duration::from_secs(59)),
            Some(1)
        );
        assert_eq!(cache.get(&"octocat", start + Duration::from_secs(60)), None);
        assert_eq!(cache.get(&"hubot", start + Duration::from_secs(4)), Some(2));
        assert_eq!(cache.get(&"hubot", start + Duration::from_secs(5)), None);
        assert_eq!(cache.get(&"nobody", start), None);
    }
}
