-- posture's schema on SQLite. Keep it in step with ../postgres/0001_initial.sql: same
-- tables, columns and constraints; only the types differ. Timestamps are written by the
-- application as RFC 3339 text in UTC (one encoder for every value, so they order correctly
-- as text); JSON documents are stored as serialised bytes, verbatim.

CREATE TABLE installations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    forge           TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    installation_id BIGINT NOT NULL,
    account         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (forge, installation_id)
);

CREATE TABLE projects (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    forge          TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    repository     TEXT NOT NULL,
    default_branch TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (forge, repository)
);

-- Every webhook delivery accepted; the unique key makes a redelivery a no-op.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    forge       TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    delivery_id TEXT NOT NULL,
    event       TEXT NOT NULL,
    action      TEXT,
    repository  TEXT NOT NULL,
    payload     BLOB NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (forge, delivery_id)
);

-- The durable queue.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('review', 'baseline', 'reconcile', 'command', 'pause')),
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'not_configured', 'superseded', 'dead')),
    forge         TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    repository    TEXT NOT NULL,
    pull_request  BIGINT,
    head_sha      TEXT,
    delivery_id   TEXT,
    coalesce_key  TEXT,
    payload       BLOB NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    message       TEXT,
    worker        TEXT,
    lease_until   TEXT,
    run_after     TEXT NOT NULL,
    superseded_by BIGINT REFERENCES jobs (id),
    completions   INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE INDEX jobs_runnable ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_coalesce ON jobs (coalesce_key) WHERE status = 'queued';
CREATE INDEX jobs_status ON jobs (status, id);

-- The findings present at one commit; the default branch's are the baseline.
CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT NOT NULL REFERENCES projects (id),
    commit_sha  TEXT NOT NULL,
    is_baseline INTEGER NOT NULL,
    findings    BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (project_id, commit_sha)
);

-- One row per finding id and project: when it appeared, when it was last seen, when the
-- default branch stopped having it.
CREATE TABLE finding_history (
    project_id        BIGINT NOT NULL REFERENCES projects (id),
    finding_id        TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'fixed')),
    severity          TEXT NOT NULL,
    first_seen_commit TEXT NOT NULL,
    first_seen_at     TEXT NOT NULL,
    last_seen_commit  TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    fixed_commit      TEXT,
    fixed_at          TEXT,
    introduced_commit TEXT,
    triage            TEXT CHECK (triage IN ('false_positive', 'accepted_risk', 'wont_fix')),
    PRIMARY KEY (project_id, finding_id)
);

-- The review comments posted, so that a re-run updates its own comment.
CREATE TABLE comments (
    project_id       BIGINT NOT NULL REFERENCES projects (id),
    pull_request     BIGINT NOT NULL,
    finding_id       TEXT NOT NULL,
    forge_comment_id TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (project_id, pull_request, finding_id)
);
