//! The credentials of the forge App posture created for itself through the setup flow
//! (`/setup/github`): one row per forge in `forge_credentials`. The secrets arrive here
//! already sealed by [`crate::setup::crypto`] and leave sealed: the store never holds them in
//! clear, and `Debug` shows only their lengths.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{Forge, Store, StoreError, now, with_pool};

/// What the setup flow stores for a forge's App. The secrets are sealed (nonce ||
/// ciphertext).
#[derive(Clone, PartialEq, Eq)]
pub struct NewCredentials {
    pub forge: Forge,
    pub app_id: i64,
    pub slug: String,
    /// The App's page, `https://github.com/apps/SLUG`.
    pub html_url: String,
    pub private_key: Vec<u8>,
    pub webhook_secret: Vec<u8>,
}

/// A row of `forge_credentials`, secrets still sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    pub forge: Forge,
    pub app_id: i64,
    pub slug: String,
    pub html_url: String,
    pub private_key: Vec<u8>,
    pub webhook_secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for NewCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCredentials")
            .field("forge", &self.forge)
            .field("app_id", &self.app_id)
            .field("slug", &self.slug)
            .field("html_url", &self.html_url)
            .field("private_key", &Sealed(self.private_key.len()))
            .field("webhook_secret", &Sealed(self.webhook_secret.len()))
            .finish()
    }
}

impl fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredentials")
            .field("forge", &self.forge)
            .field("app_id", &self.app_id)
            .field("slug", &self.slug)
            .field("html_url", &self.html_url)
            .field("private_key", &Sealed(self.private_key.len()))
            .field("webhook_secret", &Sealed(self.webhook_secret.len()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A sealed value in `Debug`: its length only.
struct Sealed(usize);

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[sealed, {} bytes]", self.0)
    }
}

/// `app_id, slug, html_url, private_key, webhook_secret, created_at`.
type Row = (i64, String, String, Vec<u8>, Vec<u8>, DateTime<Utc>);

impl Store {
    /// Stores the App of `credentials.forge`, replacing the one stored before.
    pub async fn save_credentials(
        &self,
        credentials: &NewCredentials,
    ) -> Result<StoredCredentials, StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO forge_credentials \
                 (forge, app_id, slug, html_url, private_key, webhook_secret, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (forge) DO UPDATE SET app_id = excluded.app_id, \
                 slug = excluded.slug, html_url = excluded.html_url, \
                 private_key = excluded.private_key, \
                 webhook_secret = excluded.webhook_secret, created_at = excluded.created_at",
            )
            .bind(credentials.forge.as_str())
            .bind(credentials.app_id)
            .bind(&credentials.slug)
            .bind(&credentials.html_url)
            .bind(&credentials.private_key)
            .bind(&credentials.webhook_secret)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(StoredCredentials {
            forge: credentials.forge,
            app_id: credentials.app_id,
            slug: credentials.slug.clone(),
            html_url: credentials.html_url.clone(),
            private_key: credentials.private_key.clone(),
            webhook_secret: credentials.webhook_secret.clone(),
            created_at: now,
        })
    }

    /// The App stored for `forge`, if the setup flow stored one.
    pub async fn credentials(&self, forge: Forge) -> Result<Option<StoredCredentials>, StoreError> {
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT app_id, slug, html_url, private_key, webhook_secret, created_at \
                 FROM forge_credentials WHERE forge = $1",
            )
            .bind(forge.as_str())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(
            |(app_id, slug, html_url, private_key, webhook_secret, created_at)| StoredCredentials {
                forge,
                app_id,
                slug,
                html_url,
                private_key,
                webhook_secret,
                created_at,
            },
        ))
    }
}
