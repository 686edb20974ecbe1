-- Alerts: scheduled kinds in the event log, CWE numbers on the default branches' findings,
-- and the outbox (a cursor per sink, grouped messages, sink health). Keep it in step with
-- ../sqlite/0006_alerts.sql.

ALTER TABLE finding_events DROP CONSTRAINT finding_events_kind_check;
ALTER TABLE finding_events ADD CONSTRAINT finding_events_kind_check
    CHECK (kind IN ('detected', 'reintroduced', 'fixed', 'dismissed', 'accepted', 'pending',
        'approved', 'rejected', 'reopened', 'acceptance_expired', 'severity_changed',
        'policy_violation', 'sla_due_soon', 'sla_breached', 'acceptance_expiring'));
-- The writing transaction's id. Ids are handed out before commit, so a reader following
-- ids could pass over an event whose transaction commits late; the outbox instead reads in
-- (xact, id) order only below the oldest transaction still running, where nothing can
-- appear any more. Needs PostgreSQL 13 or later.
ALTER TABLE finding_events ADD COLUMN xact BIGINT NOT NULL
    DEFAULT (pg_current_xact_id()::text::bigint);
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
    last_success_at      TIMESTAMPTZ,
    last_failure_at      TIMESTAMPTZ,
    -- Chat sinks send at most one message a second, across replicas.
    next_send_at         TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org, sink)
);

-- A message to one sink: one event, or a rule's group of events collected until due_at.
CREATE TABLE alert_messages (
    id              BIGSERIAL PRIMARY KEY,
    org             TEXT NOT NULL,
    sink            TEXT NOT NULL,
    rule            TEXT NOT NULL,
    group_key       TEXT NOT NULL,
    -- `events` (alert_items hold AlertEvents) or `digest` (one item: the week's digest).
    kind            TEXT NOT NULL DEFAULT 'events' CHECK (kind IN ('events', 'digest')),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'dead')),
    created_at      TIMESTAMPTZ NOT NULL,
    due_at          TIMESTAMPTZ NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    leased_by       TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    sent_at         TIMESTAMPTZ
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
