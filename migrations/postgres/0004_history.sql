-- Org-wide history, API tokens and the audit log. Keep it in step with
-- ../sqlite/0004_history.sql.

-- Every project belongs to an org: the GitHub owner or the GitLab top-level group.
ALTER TABLE projects ADD COLUMN org TEXT;
UPDATE projects SET org = lower(split_part(repository, '/', 1)) WHERE strpos(repository, '/') > 0;
CREATE INDEX projects_by_org ON projects (org, repository);
-- When the latest default-branch scan was observed: a later scan may not predate it.
ALTER TABLE projects ADD COLUMN baseline_at TIMESTAMPTZ;

-- The finding's severity from this event on (detected, reintroduced, severity_changed).
ALTER TABLE finding_events ADD COLUMN severity TEXT
    CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info'));
CREATE INDEX finding_events_by_time ON finding_events (project_id, at);

-- The findings of each project's default branch, one row per finding ever seen there:
-- `present` now, or gone since `fixed_at`. Written with the events, in one transaction.
CREATE TABLE branch_findings (
    project_id            BIGINT NOT NULL REFERENCES projects (id),
    finding_id            TEXT NOT NULL,
    present               BOOLEAN NOT NULL,
    kind                  TEXT NOT NULL,
    severity              TEXT NOT NULL,
    rule                  TEXT NOT NULL,
    title                 TEXT NOT NULL,
    -- JSON arrays of text.
    tools                 TEXT NOT NULL,
    advisories            TEXT NOT NULL,
    path                  TEXT,
    line                  BIGINT,
    ecosystem             TEXT,
    package               TEXT,
    version               TEXT,
    fix_version           TEXT,
    risk_score            INTEGER NOT NULL,
    first_detected_at     TIMESTAMPTZ NOT NULL,
    first_detected_commit TEXT NOT NULL,
    last_seen_at          TIMESTAMPTZ NOT NULL,
    last_seen_commit      TEXT NOT NULL,
    fixed_at              TIMESTAMPTZ,
    fixed_commit          TEXT,
    introduced_commit     TEXT,
    introduced_author     TEXT,
    PRIMARY KEY (project_id, finding_id)
);

-- API tokens: only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    org          TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- Comma-separated: read, upload, admin.
    scopes       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Who did what, when: every use of a token and every export.
CREATE TABLE audit_log (
    id     BIGSERIAL PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL,
    actor  TEXT NOT NULL,
    org    TEXT,
    action TEXT NOT NULL,
    target TEXT,
    status INTEGER
);
CREATE INDEX audit_log_by_org ON audit_log (org, id);
