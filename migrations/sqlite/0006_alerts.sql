-- Alerts: scheduled kinds in the event log, CWE numbers on the default branches' findings,
-- and the outbox (a cursor per sink, grouped messages, sink health). Keep it in step with
-- ../postgres/0006_alerts.sql.

-- SQLite cannot alter a CHECK constraint: the log is copied into a table that allows the
-- scheduled kinds (sla_due_soon, sla_breached, acceptance_expiring), ids kept.
CREATE TABLE finding_events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id),
    finding_id   TEXT NOT NULL,
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('detected', 'reintroduced', 'fixed', 'dismissed',
                     'accepted', 'pending', 'approved', 'rejected', 'reopened',
                     'acceptance_expired', 'severity_changed', 'policy_violation',
                     'sla_due_soon', 'sla_breached', 'acceptance_expiring')),
    actor        TEXT,
    reason       TEXT,
    comment      TEXT,
    until        TEXT,
    commit_sha   TEXT,
    pull_request BIGINT,
    delivery_id  TEXT,
    severity     TEXT CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    -- The writing transaction's id on PostgreSQL, where ids are not handed out in commit
    -- order; SQLite commits one writer at a time, so its ids are, and this stays 0.
    xact         BIGINT NOT NULL DEFAULT 0
);
INSERT INTO finding_events_new (id, project_id, finding_id, at, kind, actor, reason, comment,
        until, commit_sha, pull_request, delivery_id, severity)
    SELECT id, project_id, finding_id, at, kind, actor, reason, comment, until, commit_sha,
        pull_request, delivery_id, severity
    FROM finding_events;
DROP TABLE finding_events;
ALTER TABLE finding_events_new RENAME TO finding_events;
CREATE INDEX finding_events_by_finding ON finding_events (project_id, finding_id, id);
CREATE UNIQUE INDEX finding_events_once ON finding_events (project_id, finding_id, kind, delivery_id)
    WHERE delivery_id IS NOT NULL;
CREATE INDEX finding_events_by_time ON finding_events (project_id, at);
CREATE INDEX finding_events_by_xact ON finding_events (xact, id);

-- JSON array of CWE numbers.
ALTER TABLE branch_findings ADD COLUMN cwes TEXT NOT NULL DEFAULT '[]';

-- One row per configured sink: its outbox cursor (the last event read) and its health.
CREATE TABLE alert_sinks (
    org                  TEXT NOT NULL,
    sink                 TEXT NOT NULL,
    cursor_xact          BIGINT NOT NULL,
    cursor_event         BIGINT NOT NULL,
    -- The highest event id read, and the id at or below which nothing is read (set when the
    -- transaction ids went back: a restore into another cluster).
    last_event           BIGINT NOT NULL DEFAULT 0,
    floor_event          BIGINT NOT NULL DEFAULT 0,
    failures             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    last_success_at      TEXT,
    last_failure_at      TEXT,
    -- Chat sinks send at most one message a second, across replicas.
    next_send_at         TEXT,
    created_at           TEXT NOT NULL,
    PRIMARY KEY (org, sink)
);

-- A message to one sink: one event, or a rule's group of events collected until due_at.
CREATE TABLE alert_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org             TEXT NOT NULL,
    sink            TEXT NOT NULL,
    rule            TEXT NOT NULL,
    group_key       TEXT NOT NULL,
    -- `events` (alert_items hold AlertEvents) or `digest` (one item: the week's digest).
    kind            TEXT NOT NULL DEFAULT 'events' CHECK (kind IN ('events', 'digest')),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'dead')),
    created_at      TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    leased_by       TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX alert_messages_due ON alert_messages (org, sink, status, next_attempt_at);
CREATE INDEX alert_messages_open ON alert_messages (org, sink, rule, group_key, status);
-- One digest per org, sink, rule and week, however many replicas tick.
CREATE UNIQUE INDEX alert_messages_digest_once ON alert_messages (org, sink, rule, group_key)
    WHERE kind = 'digest';

-- The events of a message, as they were when read from the log (posture's JSON).
CREATE TABLE alert_items (
    message_id BIGINT NOT NULL REFERENCES alert_messages (id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (message_id, event_id)
);
