//! The `state` parameter of the manifest flow: GitHub hands it back on the callback, and the
//! callback accepts only a state this server issued to someone holding the setup token, less
//! than [`STATE_LIFETIME`] ago. It is stateless (every replica can check it): `v1.EXPIRES.
//! NONCE.MAC`, where MAC is HMAC-SHA256, keyed by the setup token, over the rest. (The
//! callback also refuses a state it has seen before: [`UsedStates`], per process.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a state is good for: as long as GitHub's code is.
pub const STATE_LIFETIME: Duration = Duration::from_secs(3600);

const VERSION: &str = "v1";
/// Separates the MAC's input from other uses of the same key.
const CONTEXT: &[u8] = b"posture setup github state\0";
const NONCE_BYTES: usize = 16;
/// The longest state accepted (`v1.` + 20 digits + `.` + 32 + `.` + 64).
const MAX_STATE_LEN: usize = 128;

/// A new state, good until `now + STATE_LIFETIME` (seconds since the epoch). `None` when the
/// operating system gives no random bytes.
pub fn issue(key: &[u8], now: u64) -> Option<String> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).ok()?;
    let body = format!(
        "{VERSION}.{}.{}",
        now.saturating_add(STATE_LIFETIME.as_secs()),
        hex::encode(nonce)
    );
    let mac = mac(key, &body)?.finalize().into_bytes();
    Some(format!("{body}.{}", hex::encode(mac)))
}

/// When `state` expires, if it was issued with `key` and has not expired at `now`.
pub fn verify(key: &[u8], state: &str, now: u64) -> Option<u64> {
    if state.len() > MAX_STATE_LEN {
        return None;
    }
    let (body, tag) = state.rsplit_once('.')?;
    let mut parts = body.split('.');
    let (Some(VERSION), Some(expires), Some(nonce), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let expires = expires.parse::<u64>().ok()?;
    if nonce.len() != NONCE_BYTES * 2 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut expected = [0u8; 32];
    hex::decode_to_slice(tag, &mut expected).ok()?;
    let authentic = mac(key, body).is_some_and(|mac| mac.verify_slice(&expected).is_ok());
    (authentic && now <= expires).then_some(expires)
}

/// The states a callback has used, until they expire: each is good for one try.
#[derive(Debug, Default)]
pub struct UsedStates(Mutex<HashMap<String, u64>>);

impl UsedStates {
    /// Records `state` (good until `expires`) as used; `false` when it already was.
    pub fn first_use(&self, state: &str, expires: u64, now: u64) -> bool {
        let mut used = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        used.retain(|_, until| *until >= now);
        used.insert(state.to_owned(), expires).is_none()
    }

    /// Makes `state` usable again (its use failed before GitHub answered).
    pub fn forget(&self, state: &str) {
        let mut used = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        used.remove(state);
    }
}

fn mac(key: &[u8], body: &str) -> Option<Hmac<Sha256>> {
    // HMAC takes keys of any length: this does not fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(CONTEXT);
    mac.update(body.as_bytes());
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"the setup token, long enough";
    const NOW: u64 = 1_750_000_000;

    #[test]
    fn an_issued_state_verifies_until_it_expires() {
        let state = issue(KEY, NOW).unwrap();
        let expires = NOW + STATE_LIFETIME.as_secs();
        assert_eq!(verify(KEY, &state, NOW), Some(expires));
        assert_eq!(verify(KEY, &state, expires), Some(expires));
        assert_eq!(verify(KEY, &state, expires + 1), None);
        assert_ne!(
            state,
            issue(KEY, NOW).unwrap(),
            "each state has its own nonce"
        );
    }

    #[test]
    fn a_state_is_used_once_and_forgotten_when_it_expires() {
        let used = UsedStates::default();
        assert!(used.first_use("a", NOW + 10, NOW));
        assert!(!used.first_use("a", NOW + 10, NOW + 5));
        assert!(used.first_use("b", NOW + 20, NOW + 5));
        // Expired entries go (and an expired state never verifies anyway).
        assert!(used.first_use("a", NOW + 10, NOW + 11));
        assert_eq!(used.0.lock().unwrap().len(), 2);
        used.forget("b");
        assert!(used.first_use("b", NOW + 20, NOW + 12));
    }

    #[test]
    fn forged_or_altered_states_do_not_verify() {
        let state = issue(KEY, NOW).unwrap();
        assert!(verify(b"another setup token entirely", &state, NOW).is_none());
        // A later expiry with the old MAC.
        let (_, rest) = state.split_once('.').unwrap();
        let (_, rest) = rest.split_once('.').unwrap();
        let extended = format!("v1.{}.{rest}", NOW + 10 * STATE_LIFETIME.as_secs());
        assert!(verify(KEY, &extended, NOW).is_none());
        let mut flipped = state.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert!(verify(KEY, &String::from_utf8(flipped).unwrap(), NOW).is_none());
        for junk in [
            "",
            "v1",
            "v1.1.2.3",
            "v2.99999999999.00112233445566778899aabbccddeeff.00",
            &format!("{state}.extra"),
            &"a".repeat(4096),
        ] {
            assert!(verify(KEY, junk, NOW).is_none(), "{junk}");
        }
    }
}
