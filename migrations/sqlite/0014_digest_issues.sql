-- The weekly digest as a standing issue per org: the job that writes it (`digest_issue`),
-- and the issue it keeps editing (one row per org: where it lives, its number or iid, the
-- week it shows). Keep it in step with ../postgres/0014_digest_issues.sql.

-- SQLite cannot alter a CHECK constraint: the queue is copied into a table that allows the
-- new kind, ids kept. The old table is renamed first, so its self-reference
-- (`superseded_by`) follows it and dropping it orphans nothing in the new one.
ALTER TABLE jobs RENAME TO jobs_before_0014;
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('review', 'baseline', 'reconcile', 'command',
                      'pause', 'digest_issue')),
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
INSERT INTO jobs (id, kind, status, forge, repository, pull_request, head_sha, delivery_id,
        coalesce_key, payload, attempts, last_error, message, worker, lease_until, run_after,
        superseded_by, completions, created_at, updated_at)
    SELECT id, kind, status, forge, repository, pull_request, head_sha, delivery_id,
        coalesce_key, payload, attempts, last_error, message, worker, lease_until, run_after,
        superseded_by, completions, created_at, updated_at
    FROM jobs_before_0014;
-- The ids issued so far stay issued: AUTOINCREMENT's high-water mark moved with the rename,
-- and would go with the old table (job ids of pruned jobs would be handed out again).
DELETE FROM sqlite_sequence WHERE name = 'jobs';
UPDATE sqlite_sequence SET name = 'jobs' WHERE name = 'jobs_before_0014';
DROP TABLE jobs_before_0014;
CREATE INDEX jobs_runnable ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_coalesce ON jobs (coalesce_key) WHERE status = 'queued';
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_running_pull_request ON jobs (forge, repository, pull_request)
    WHERE status = 'running';
CREATE INDEX jobs_running_coalesce ON jobs (coalesce_key) WHERE status = 'running';
CREATE INDEX jobs_change_order ON jobs (coalesce_key, id);

-- One standing digest issue per org (org names lower-case, as in the settings file).
CREATE TABLE digest_issues (
    org        TEXT PRIMARY KEY,
    forge      TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    repository TEXT NOT NULL,
    -- GitHub's issue number, GitLab's iid.
    number     BIGINT NOT NULL,
    -- The ISO week the issue shows (`2026-W49`).
    week       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
