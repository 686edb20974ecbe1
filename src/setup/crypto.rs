//! Encryption at rest of the credentials the setup flow stores: AES-256-GCM under the key of
//! `POSTURE_SECRET_KEY` (base64 of 32 random bytes), a fresh random 96-bit nonce per value,
//! stored as nonce || ciphertext (with its tag). The associated data names what a value is
//! (forge, App, field), so a sealed value moved to another column or row does not open.
//!
//! Neither the key nor a plaintext reaches `Debug`, `Display` or an error.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// The variable holding the key.
pub const SECRET_KEY_VAR: &str = "POSTURE_SECRET_KEY";

/// Bytes of the key.
pub const KEY_BYTES: usize = 32;
/// Bytes of the nonce in front of each sealed value.
pub const NONCE_BYTES: usize = 12;
/// Bytes of the authentication tag after each ciphertext.
const TAG_BYTES: usize = 16;

/// `POSTURE_SECRET_KEY` is not a usable key. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{SECRET_KEY_VAR} must be the base64 of {KEY_BYTES} random bytes (make one with `openssl rand -base64 32`), but it {reason}"
)]
pub struct KeyError {
    reason: &'static str,
}

/// A value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "cannot decrypt the stored {what}: {SECRET_KEY_VAR} is not the key it was encrypted with, or it is damaged"
    )]
    Decrypt { what: &'static str },
    #[error("cannot encrypt the {what}: {reason}")]
    Encrypt {
        what: &'static str,
        reason: &'static str,
    },
}

/// The key of `POSTURE_SECRET_KEY`, ready to seal and open values.
#[derive(Clone)]
pub struct SecretKey {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

impl SecretKey {
    /// Parses the variable's value: base64 (standard or URL-safe, padded or not) of exactly
    /// [`KEY_BYTES`] bytes, surrounding whitespace ignored.
    pub fn parse(value: &str) -> Result<SecretKey, KeyError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(KeyError { reason: "is empty" });
        }
        let mut bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(value).ok())
            .ok_or(KeyError {
                reason: "is not base64",
            })?;
        let mut key_bytes = [0u8; KEY_BYTES];
        let fits = bytes.len() == KEY_BYTES;
        if fits {
            key_bytes.copy_from_slice(&bytes);
        }
        bytes.fill(0);
        if !fits {
            return Err(KeyError {
                reason: "does not decode to 32 bytes",
            });
        }
        let key = SecretKey::from_bytes(&key_bytes);
        key_bytes.fill(0);
        Ok(key)
    }

    /// A key of these bytes.
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> SecretKey {
        SecretKey {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
        }
    }

    /// Seals `plaintext` under a fresh random nonce: nonce || ciphertext || tag. `aad` says
    /// what it is and must be given again to open it; `what` names it in errors.
    pub fn seal(
        &self,
        plaintext: &[u8],
        aad: &[u8],
        what: &'static str,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| CryptoError::Encrypt {
            what,
            reason: "the operating system gave no random bytes",
        })?;
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt {
                what,
                reason: "the value is too long",
            })?;
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens what [`SecretKey::seal`] made with the same `aad`. Another key, other associated
    /// data, or any change to the bytes is [`CryptoError::Decrypt`].
    pub fn open(
        &self,
        sealed: &[u8],
        aad: &[u8],
        what: &'static str,
    ) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_BYTES + TAG_BYTES {
            return Err(CryptoError::Decrypt { what });
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt { what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";

    #[test]
    fn seal_then_open_round_trips_with_a_fresh_nonce_each_time() {
        let key = SecretKey::parse(KEY).unwrap();
        let one = key.seal(b"the private key", b"aad", "value").unwrap();
        let two = key.seal(b"the private key", b"aad", "value").unwrap();
        assert_ne!(one, two, "each value gets its own nonce");
        assert_eq!(
            one.len(),
            NONCE_BYTES + b"the private key".len() + TAG_BYTES
        );
        assert!(!one.windows(15).any(|w| w == b"the private key"));
        assert_eq!(key.open(&one, b"aad", "value").unwrap(), b"the private key");
        assert_eq!(key.open(&two, b"aad", "value").unwrap(), b"the private key");
    }

    #[test]
    fn another_key_other_aad_or_tampering_do_not_open() {
        let key = SecretKey::parse(KEY).unwrap();
        let other = SecretKey::from_bytes(&[7u8; KEY_BYTES]);
        let sealed = key.seal(b"secret", b"github:1:pem", "App key").unwrap();
        let refused = CryptoError::Decrypt { what: "App key" };
        assert_eq!(
            other.open(&sealed, b"github:1:pem", "App key"),
            Err(refused.clone())
        );
        assert_eq!(
            key.open(&sealed, b"github:2:pem", "App key"),
            Err(refused.clone())
        );
        let mut tampered = sealed.clone();
        tampered[NONCE_BYTES] ^= 1;
        assert_eq!(
            key.open(&tampered, b"github:1:pem", "App key"),
            Err(refused.clone())
        );
        assert_eq!(
            key.open(&sealed[..20], b"github:1:pem", "App key"),
            Err(refused)
        );
        let message = CryptoError::Decrypt { what: "App key" }.to_string();
        assert!(message.contains(SECRET_KEY_VAR), "{message}");
    }

    #[test]
    fn keys_parse_from_any_base64_of_32_bytes() {
        let bytes = [0xabu8; KEY_BYTES];
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let encoded = format!("  {}\n", engine.encode(bytes));
            let key = SecretKey::parse(&encoded).unwrap();
            let sealed = key.seal(b"x", b"", "x").unwrap();
            assert_eq!(
                SecretKey::from_bytes(&bytes)
                    .open(&sealed, b"", "x")
                    .unwrap(),
                b"x"
            );
        }
    }

    #[test]
    fn bad_keys_name_the_variable_never_the_value() {
        for value in [
            "",
            "   ",
            "not base64 at all!",
            "c2hvcnQ=",
            "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=",
        ] {
            let error = SecretKey::parse(value).unwrap_err().to_string();
            assert!(error.starts_with(SECRET_KEY_VAR), "{error}");
            if !value.trim().is_empty() {
                assert!(!error.contains(value.trim()), "{error}");
            }
        }
        assert!(!format!("{:?}", SecretKey::parse(KEY).unwrap()).contains(KEY));
    }
}
