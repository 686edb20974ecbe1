-- Triage and the event log. Keep it in step with ../postgres/0003_triage.sql.
--
-- finding_events is append-only: everything that happens to a finding (a triage command,
-- an approval, an expiry, and later detections and fixes) is one row, written in the same
-- transaction as the change it records. `triage` is the current decision per finding,
-- derived from those events in the same transaction; it is what reviews read.
-- finding_history.triage (0001) is superseded by these tables and no longer written.

CREATE TABLE finding_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id),
    finding_id   TEXT NOT NULL,
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('detected', 'reintroduced', 'fixed', 'dismissed',
                     'accepted', 'pending', 'approved', 'rejected', 'reopened',
                     'acceptance_expired', 'severity_changed', 'policy_violation')),
    actor        TEXT,
    reason       TEXT,
    comment      TEXT,
    until        TEXT,
    commit_sha   TEXT,
    pull_request BIGINT,
    delivery_id  TEXT
);

CREATE INDEX finding_events_by_finding ON finding_events (project_id, finding_id, id);
-- A command is executed once: a retried job cannot record the same event twice.
CREATE UNIQUE INDEX finding_events_once ON finding_events (project_id, finding_id, kind, delivery_id)
    WHERE delivery_id IS NOT NULL;

CREATE TABLE triage (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    finding_id TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('dismissed', 'accepted', 'pending')),
    -- The accepted risk's last day (YYYY-MM-DD), for the expiry job.
    until      TEXT,
    -- The decision and what the finding was (JSON: posture's TriageRecord).
    record     BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, finding_id)
);

CREATE INDEX triage_expiring ON triage (until) WHERE state = 'accepted';

-- The tools whose reports made a snapshot (JSON array), so a tool that found nothing still
-- counts as having run; NULL for snapshots recorded before this migration.
ALTER TABLE snapshots ADD COLUMN tools BLOB;
