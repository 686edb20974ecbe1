-- The credentials of the forge App posture created for itself (`GET /setup/github`): one row
-- per forge. The private key and the webhook secret are sealed with POSTURE_SECRET_KEY
-- (AES-256-GCM, a random nonce per value, stored as nonce || ciphertext). Keep it in step
-- with ../sqlite/0005_credentials.sql.
CREATE TABLE forge_credentials (
    forge          TEXT PRIMARY KEY CHECK (forge IN ('github', 'gitlab')),
    app_id         BIGINT NOT NULL,
    slug           TEXT NOT NULL,
    -- The App's page (`https://github.com/apps/SLUG`); installations are made from there.
    html_url       TEXT NOT NULL,
    private_key    BYTEA NOT NULL,
    webhook_secret BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
