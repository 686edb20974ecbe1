-- Sign-ins under way through GitHub, GitLab or OIDC: one row from `GET /login/{provider}`
-- until its callback uses it (the row is deleted then) or it expires (10 minutes; pruned).
-- Keyed by the SHA-256 of the `state` parameter, never the state itself; bound to the
-- browser that started it by the SHA-256 of its `posture_signin` cookie. `pkce_verifier`
-- is the PKCE code verifier the token request needs, `nonce` the ID token's (OIDC only),
-- `next` the path of this site to land on. Keep it in step with
-- ../sqlite/0013_sign_in_attempts.sql.
CREATE TABLE sign_in_attempts (
    id            BIGSERIAL PRIMARY KEY,
    state_hash    TEXT NOT NULL UNIQUE,
    binding_hash  TEXT NOT NULL,
    provider      TEXT NOT NULL CHECK (provider IN ('github', 'gitlab', 'oidc')),
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT,
    next          TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_attempts_by_expiry ON sign_in_attempts (expires_at);
