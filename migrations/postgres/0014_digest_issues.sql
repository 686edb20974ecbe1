-- The weekly digest as a standing issue per org: the job that writes it (`digest_issue`),
-- and the issue it keeps editing (one row per org: where it lives, its number or iid, the
-- week it shows). Keep it in step with ../sqlite/0014_digest_issues.sql.

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
-- NOT VALID: the new check allows more than the old, so the rows need no scan under the
-- table's exclusive lock.
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('review', 'baseline', 'reconcile', 'command', 'pause', 'digest_issue'))
    NOT VALID;

-- One standing digest issue per org (org names lower-case, as in the settings file).
CREATE TABLE digest_issues (
    org        TEXT PRIMARY KEY,
    forge      TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    repository TEXT NOT NULL,
    -- GitHub's issue number, GitLab's iid.
    number     BIGINT NOT NULL,
    -- The ISO week the issue shows (`2026-W49`).
    week       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
