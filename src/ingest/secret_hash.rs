//! The hash that stands in for a secret, so that one secret is recognised across tools,
//! runs and commits without ever being kept.
//!
//! A finding carries, never both:
//! - `fingerprints["secretHash"]`: the hash of the secret itself, where the report gives it
//!   (gitleaks' `Secret`, GitLab's `raw_source_code_extract`, a SARIF secret scanner's
//!   snippet), normalised first (surrounding whitespace and quotes dropped), so gitleaks'
//!   `Secret` and another tool's quoted match of it agree;
//! - `fingerprints["secretLocationHash"]`: where the report hides the secret (Trivy masks it
//!   as `*****`; gitleaks with `--redact` writes `REDACTED`), a hash of the path, the rule
//!   and what the tool shows instead (the masked line), else the lines. It tells that finding
//!   apart across runs but says nothing about the secret, so de-duplication never lets it
//!   keep two reports of one secret apart: Trivy's report of a key gitleaks found merges on
//!   its location.
//!
//! Both are keyed: HMAC-SHA256 under a [`SecretHasher`], so a hash that is stored or
//! published cannot be brute-forced over likely secrets by anyone without the key. The
//! server and the CLI take the key from `POSTURE_SECRET_KEY` (the CLI also from
//! `--secret-key-file`); without one, a fixed public key is used: hashes are stable and
//! still useless to generic precomputed tables, but offer no protection against guessing.
//! The key is never logged and no `Debug` prints it.
//!
//! Parsers compute the unkeyed SHA-256 of what they hash; `key_fingerprints` keys it,
//! once for every format, before a report leaves [`super::parse`].

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::model::Finding;

/// The fingerprint key of a secret's hash.
pub(crate) const SECRET_HASH: &str = "secretHash";
/// The fingerprint key of a hidden secret's location hash.
pub(crate) const SECRET_LOCATION_HASH: &str = "secretLocationHash";

/// The variable the server and the CLI read the key from (the server's encryption key too:
/// the hashing key is derived from it, never the key itself).
pub const SECRET_KEY_VAR: &str = "POSTURE_SECRET_KEY";

/// Separates the derived key from every other use of the key material.
const DERIVATION_LABEL: &[u8] = b"posture secret hash v1";

/// What keys secret hashes: a 32-byte HMAC key derived from the configured key material.
#[derive(Clone)]
pub struct SecretHasher([u8; 32]);

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHasher([redacted])")
    }
}

impl Default for SecretHasher {
    /// The documented default: a fixed public key (see the module's doc).
    fn default() -> SecretHasher {
        SecretHasher::new(b"")
    }
}

impl SecretHasher {
    /// The hasher keyed by `material` (a key file's bytes, `POSTURE_SECRET_KEY`'s value),
    /// trimmed: the key is HMAC-SHA256(material, a posture label), so material used for
    /// something else (the server's encryption key) never keys a published hash itself.
    pub fn new(material: &[u8]) -> SecretHasher {
        let material = material.trim_ascii();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(material)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(DERIVATION_LABEL);
        SecretHasher(mac.finalize().into_bytes().into())
    }

    /// The hasher the environment configures: `POSTURE_SECRET_KEY` when set and not blank,
    /// else the default.
    pub fn from_env() -> SecretHasher {
        match std::env::var_os(SECRET_KEY_VAR) {
            Some(value) if !value.as_encoded_bytes().trim_ascii().is_empty() => {
                SecretHasher::new(value.as_encoded_bytes())
            }
            _ => SecretHasher::default(),
        }
    }

    /// The keyed hash of an unkeyed digest: lowercase hex of HMAC-SHA256(key, digest).
    pub(crate) fn key(&self, digest: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(digest.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A secret as tools differ in giving it: without surrounding whitespace and quotes.
pub(crate) fn normalise(secret: &str) -> &str {
    let mut s = secret.trim();
    while let Some(inner) = ["\"", "'", "`"]
        .iter()
        .find_map(|q| s.strip_prefix(q)?.strip_suffix(q))
    {
        s = inner.trim();
    }
    s
}

/// The unkeyed digest of a secret, normalised; `None` when nothing is left of it.
pub(crate) fn secret_digest(secret: &str) -> Option<String> {
    let secret = normalise(secret);
    (!secret.is_empty()).then(|| hex::encode(Sha256::digest(secret.as_bytes())))
}

/// The unkeyed digest of a hidden secret's location: path, rule and what stands for it.
pub(crate) fn location_digest(path: &str, rule: &str, shown: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [path, rule, shown] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Keys every secret digest of `findings` with `hasher`.
pub(crate) fn key_fingerprints(findings: &mut [Finding], hasher: &SecretHasher) {
    for finding in findings {
        for name in [SECRET_HASH, SECRET_LOCATION_HASH] {
            if let Some(digest) = finding.fingerprints.get_mut(name) {
                *digest = hasher.key(digest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn secrets_are_normalised_before_hashing() {
        assert_eq!(normalise("  \"abc\" "), "abc");
        assert_eq!(normalise("'`abc`'"), "abc");
        assert_eq!(
            normalise("\"abc'"),
            "\"abc'",
            "unbalanced quotes are part of it"
        );
        assert_eq!(secret_digest(" 'abc' "), secret_digest("abc"));
        assert_eq!(
            secret_digest("abc").unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(secret_digest(" \"\" "), None);
    }

    #[test]
    fn hashes_are_keyed_and_the_key_is_never_shown() {
        let mut finding = Finding::new(Kind::Secret, "gitleaks", "r");
        let digest = secret_digest("hunter2").unwrap();
        finding
            .fingerprints
            .insert(SECRET_HASH.into(), digest.clone());
        let keyed = |hasher: &SecretHasher| {
            let mut findings = vec![finding.clone()];
            key_fingerprints(&mut findings, hasher);
            findings[0].fingerprints.get(SECRET_HASH).unwrap().clone()
        };
        let one = keyed(&SecretHasher::new(b"key one"));
        assert_eq!(one.len(), 64);
        assert_ne!(one, digest, "the unkeyed digest never leaves");
        assert_eq!(
            one,
            keyed(&SecretHasher::new(b" key one\n")),
            "trimmed material"
        );
        assert_ne!(one, keyed(&SecretHasher::new(b"key two")));
        assert_ne!(one, keyed(&SecretHasher::default()));
        // HMAC-SHA256 under HMAC-SHA256(material, label), as documented.
        let derived = <Hmac<Sha256> as Mac>::new_from_slice(b"key one")
            .unwrap()
            .chain_update(DERIVATION_LABEL)
            .finalize()
            .into_bytes();
        let expected = <Hmac<Sha256> as Mac>::new_from_slice(&derived)
            .unwrap()
            .chain_update(digest.as_bytes())
            .finalize()
            .into_bytes();
        assert_eq!(one, hex::encode(expected));
        assert_eq!(
            format!("{:?}", SecretHasher::new(b"key one")),
            "SecretHasher([redacted])"
        );
    }

    #[test]
    fn location_digests_separate_their_parts() {
        assert_ne!(
            location_digest("a", "bc", ""),
            location_digest("ab", "c", "")
        );
        assert_eq!(location_digest("a", "b", "c").len(), 64);
    }
}
