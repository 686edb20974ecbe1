-- Sign-in sessions of the dashboard: one row per session, keyed by the SHA-256 of its
-- random id (the cookie `posture_session`), never the id itself. Who signed in (`actor`),
-- how (`token` now; `github`, `gitlab`, `oidc` later), the orgs it reads (comma-separated,
-- lower-case) and with which scopes, and when it ends. Keep it in step with
-- ../sqlite/0011_sessions.sql.
CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    session_hash TEXT NOT NULL UNIQUE,
    actor        TEXT NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('token', 'github', 'gitlab', 'oidc')),
    orgs         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    -- The API token exchanged for the session (method `token`): revoking it ends the session.
    token_id     BIGINT REFERENCES api_tokens (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
