//! The alert outbox's tables: each sink's cursor over the event log and its health, the
//! messages waiting for or done with delivery, and the scheduled events (SLA, acceptances)
//! that nothing else writes to the log.
//!
//! **Reading the log without skipping.** A sink's cursor is a log position `(xact, id)`.
//! SQLite commits one writer at a time, so ids appear in commit order and `xact` is 0.
//! PostgreSQL hands out ids before commit, so a transaction that commits late can leave an
//! id behind a cursor that already passed it; there, events are read in `(xact, id)` order
//! only below the oldest transaction still running (`pg_snapshot_xmin`), a horizon past
//! which no new event can appear.
//!
//! **Grouping without losing.** Reading events, adding them to their messages and moving the
//! cursor happen in one transaction, so an event is in exactly one message per rule and sink
//! once the cursor has passed it. A message takes events while its window is open and no
//! deliverer holds it; deliverers claim due messages with a lease, so a crashed process's
//! messages are delivered by the next one.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::alerts::digest::Digest;
use crate::alerts::{AlertEvent, AlertKind, FindingFacts, Links, PackageFacts};
use crate::model::{Kind, Severity};
use crate::triage::{TriageRecord, short_id};

use super::queue::from_json;
use super::{Backoff, BeginWrite, ProjectId, Store, StoreError, later, now, with_pool};

/// A sink, as the outbox tables name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SinkKey {
    /// The org whose settings name the sink (lower-cased).
    pub org: String,
    /// The sink's name in them.
    pub sink: String,
}

impl std::fmt::Display for SinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.org, self.sink)
    }
}

/// An event read from the log, with what links need.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// What alerts say of it (links are filled by the outbox).
    pub event: AlertEvent,
    /// The log row's id.
    pub id: i64,
    pub pull_request: Option<i64>,
    /// The commit the finding was last seen at on the default branch.
    pub commit: Option<String>,
}

/// Where one event goes: the message of `rule` and `group_key`, open for `window`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Index into the events handed to the planner.
    pub event: usize,
    pub rule: String,
    pub group_key: String,
    pub window: Duration,
}

/// A message claimed for delivery, with its events.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMessage {
    pub id: i64,
    /// The rule that made it.
    pub rule: String,
    /// Attempts before this one.
    pub attempts: i32,
    /// Worst first; empty for a digest.
    pub events: Vec<AlertEvent>,
    pub digest: Option<Box<Digest>>,
}

impl ClaimedMessage {
    /// The id receivers de-duplicate messages on (webhook-id, CloudEvents id).
    pub fn uid(&self) -> String {
        format!("msg_{}", self.id)
    }
}

/// A sink's state, for `posture sinks list` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkState {
    /// Failed deliveries in a row (0 after a success).
    pub failures: i32,
    pub last_error: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Messages waiting (in a window or for delivery).
    pub queued: i64,
    pub sent: i64,
    /// Messages that ran out of attempts.
    pub dead: i64,
    /// Events after the cursor.
    pub backlog: i64,
}

/// Failures in a row after which a sink is unhealthy: it is then tried one message at a time
/// until it answers.
pub const UNHEALTHY_AFTER: i32 = 3;

impl SinkState {
    pub fn healthy(&self) -> bool {
        self.failures < UNHEALTHY_AFTER
    }
}

/// What happened to a failed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Tried again after the delay.
    After(Duration),
    /// Out of attempts: kept as dead, for `posture sinks retry`.
    Dead,
}

/// The columns the log read joins: the event, its project, its finding on the default branch
/// and its triage record.
#[derive(sqlx::FromRow)]
struct EventJoin {
    id: i64,
    xact: i64,
    at: DateTime<Utc>,
    kind: String,
    actor: Option<String>,
    reason: Option<String>,
    comment: Option<String>,
    until: Option<NaiveDate>,
    pull_request: Option<i64>,
    event_severity: Option<String>,
    previous_severity: Option<String>,
    finding_id: String,
    org: String,
    repository: String,
    forge: String,
    f_kind: Option<String>,
    f_severity: Option<String>,
    rule: Option<String>,
    title: Option<String>,
    tools: Option<String>,
    advisories: Option<String>,
    cwes: Option<String>,
    path: Option<String>,
    line: Option<i64>,
    ecosystem: Option<String>,
    package: Option<String>,
    version: Option<String>,
    fix_version: Option<String>,
    risk_score: Option<i32>,
    first_detected_at: Option<DateTime<Utc>>,
    last_seen_commit: Option<String>,
    introduced_commit: Option<String>,
    introduced_author: Option<String>,
    record: Option<Vec<u8>>,
}

const EVENTS_SQL: &str = "SELECT e.id, e.xact, e.at, e.kind, e.actor, e.reason, e.comment, \
     e.until, e.pull_request, e.finding_id, e.severity AS event_severity, \
     (SELECT q.severity FROM finding_events q WHERE q.project_id = e.project_id \
      AND q.finding_id = e.finding_id AND q.id < e.id AND q.severity IS NOT NULL \
      ORDER BY q.id DESC LIMIT 1) AS previous_severity, \
     p.org, p.repository, p.forge, b.kind AS f_kind, b.severity AS f_severity, b.rule, \
     b.title, b.tools, b.advisories, b.cwes, b.path, b.line, b.ecosystem, b.package, \
     b.version, b.fix_version, b.risk_score, b.first_detected_at, b.last_seen_commit, \
     b.introduced_commit, b.introduced_author, t.record \
     FROM finding_events e JOIN projects p ON p.id = e.project_id \
     LEFT JOIN branch_findings b ON b.project_id = e.project_id AND b.finding_id = e.finding_id \
     LEFT JOIN triage t ON t.project_id = e.project_id AND t.finding_id = e.finding_id \
     WHERE p.org = $1 AND (e.xact > $2 OR (e.xact = $2 AND e.id > $3)) \
     AND (e.xact < $4 OR (e.xact = $4 AND e.id <= $5)) AND e.id > $7 \
     ORDER BY e.xact, e.id LIMIT $6";

/// The log's end for a new cursor, and the horizon below which reading is safe.
const HORIZON_POSTGRES: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, \
     9223372036854775807";
const HORIZON_SQLITE: &str = "SELECT 0, COALESCE(MAX(id), 0) FROM finding_events";

/// Claims due messages; the lock clause (PostgreSQL's `FOR UPDATE SKIP LOCKED`) goes in
/// the `{}`.
macro_rules! claim_alerts_sql {
    () => {
        "UPDATE alert_messages SET leased_by = $1, lease_until = $2 \
         WHERE id IN (SELECT id FROM alert_messages WHERE org = $3 AND sink = $4 \
         AND status = 'queued' AND next_attempt_at <= $5 \
         AND (leased_by IS NULL OR lease_until < $5) ORDER BY id LIMIT $6{}) \
         RETURNING id, rule, attempts, kind"
    };
}

/// How many log rows one dispatch reads at most.
pub const DISPATCH_BATCH: i64 = 500;

impl Store {
    /// Creates the sink's row, its cursor at the log's end (a new sink is not sent the past),
    /// unless it exists.
    pub async fn ensure_alert_sink(&self, key: &SinkKey) -> Result<(), StoreError> {
        let now = now();
        // One statement: a transaction that reads the log's end before writing would be
        // refused by SQLite when another writer commits in between.
        with_pool!(self, |pool, pg| {
            sqlx::query(if pg {
                "INSERT INTO alert_sinks (org, sink, cursor_xact, cursor_event, last_event, \
                 created_at) VALUES ($1, $2, \
                 pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, \
                 9223372036854775807, (SELECT COALESCE(MAX(id), 0) FROM finding_events), $3) \
                 ON CONFLICT (org, sink) DO NOTHING"
            } else {
                "INSERT INTO alert_sinks (org, sink, cursor_xact, cursor_event, last_event, \
                 created_at) SELECT $1, $2, 0, COALESCE(MAX(id), 0), COALESCE(MAX(id), 0), $3 \
                 FROM finding_events WHERE true ON CONFLICT (org, sink) DO NOTHING"
            })
            .bind(&key.org)
            .bind(&key.sink)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// Reads the org's events after the sink's cursor (at most [`DISPATCH_BATCH`]), lets
    /// `plan` place them into messages, writes those and moves the cursor, all in one
    /// transaction. Returns how many events were read (the caller reads again while it
    /// reads a whole batch).
    pub async fn dispatch_alerts<F>(&self, key: &SinkKey, plan: F) -> Result<usize, StoreError>
    where
        F: FnOnce(&mut [LoggedEvent]) -> Vec<Placement>,
    {
        let now = now();
        with_pool!(self, |pool, pg| {
            let mut tx = pool.begin_write().await?;
            // Take the sink's row first: dispatchers of one sink queue behind each other
            // (and SQLite's write lock is taken before anything is read).
            let cursor: Option<(i64, i64, i64, i64)> = sqlx::query_as(if pg {
                "SELECT cursor_xact, cursor_event, last_event, floor_event FROM alert_sinks \
                 WHERE org = $1 AND sink = $2 FOR UPDATE"
            } else {
                "UPDATE alert_sinks SET cursor_xact = cursor_xact WHERE org = $1 AND sink = $2 \
                 RETURNING cursor_xact, cursor_event, last_event, floor_event"
            })
            .bind(&key.org)
            .bind(&key.sink)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((mut cursor_xact, mut cursor_event, last_event, mut floor_event)) = cursor
            else {
                return Ok(0);
            };
            let (horizon_xact, horizon_event): (i64, i64) =
                sqlx::query_as(if pg { HORIZON_POSTGRES } else { HORIZON_SQLITE })
                    .fetch_one(&mut *tx)
                    .await?;
            if horizon_xact < cursor_xact {
                // Transaction ids never go back on one cluster: the database was restored
                // into another. The cursor's position means nothing there; what is new is
                // what has a higher id than anything read.
                tracing::warn!(
                    sink = %key,
                    last_event,
                    "the database's transaction ids went back (restored into another \
                     cluster?): reading on after the last event read"
                );
                (cursor_xact, cursor_event, floor_event) = (-1, 0, last_event);
            }
            let rows: Vec<EventJoin> = sqlx::query_as(EVENTS_SQL)
                .bind(&key.org)
                .bind(cursor_xact)
                .bind(cursor_event)
                .bind(horizon_xact)
                .bind(horizon_event)
                .bind(DISPATCH_BATCH)
                .bind(floor_event)
                .fetch_all(&mut *tx)
                .await?;
            let read = rows.len();
            let last_event = rows.iter().map(|row| row.id).fold(last_event, i64::max);
            // A short read saw everything up to the horizon: the cursor moves there, past
            // other orgs' events too, so they are not scanned again.
            let next = match rows.last() {
                Some(last) if read as i64 == DISPATCH_BATCH => (last.xact, last.id),
                _ => (horizon_xact, horizon_event),
            };
            // A row that does not read (a record written by another version, say) is
            // skipped rather than holding the sink back for good.
            let mut events: Vec<LoggedEvent> = rows
                .into_iter()
                .filter_map(|row| {
                    let id = row.id;
                    LoggedEvent::try_from(row)
                        .map_err(|error| {
                            tracing::warn!(sink = %key, event = id, "event skipped: {error}");
                        })
                        .ok()
                })
                .collect();
            let advisories: std::collections::BTreeSet<&str> = events
                .iter()
                .flat_map(|logged| logged.event.finding.advisories.iter().map(String::as_str))
                .collect();
            if !advisories.is_empty() {
                let mut query =
                    sqlx::QueryBuilder::new("SELECT cve_id FROM intel_kev WHERE cve_id IN (");
                let mut list = query.separated(", ");
                for advisory in advisories {
                    list.push_bind(advisory.to_owned());
                }
                query.push(")");
                let kev: Vec<(String,)> = query.build_query_as().fetch_all(&mut *tx).await?;
                let kev: std::collections::HashSet<String> =
                    kev.into_iter().map(|(cve,)| cve).collect();
                for logged in &mut events {
                    let finding = &mut logged.event.finding;
                    finding.kev = finding.advisories.iter().any(|id| kev.contains(id));
                }
            }
            let mut open: HashMap<(String, String), i64> = HashMap::new();
            for placement in plan(&mut events) {
                let Some(logged) = events.get(placement.event) else {
                    continue;
                };
                let group = (placement.rule.clone(), placement.group_key.clone());
                let message = match open.get(&group) {
                    Some(id) => *id,
                    None => {
                        // Without a window an event is a message of its own: nothing to join.
                        let existing: Option<(i64,)> = if placement.window.is_zero() {
                            None
                        } else {
                            sqlx::query_as(&format!(
                                "SELECT id FROM alert_messages WHERE org = $1 AND sink = $2 \
                             AND rule = $3 AND group_key = $4 AND status = 'queued' \
                             AND attempts = 0 AND leased_by IS NULL AND due_at > $5 \
                             ORDER BY id DESC LIMIT 1{}",
                                if pg { " FOR UPDATE" } else { "" }
                            ))
                            .bind(&key.org)
                            .bind(&key.sink)
                            .bind(&placement.rule)
                            .bind(&placement.group_key)
                            .bind(now)
                            .fetch_optional(&mut *tx)
                            .await?
                        };
                        let id = match existing {
                            Some((id,)) => id,
                            None => {
                                let due = later(now, placement.window);
                                let (id,): (i64,) = sqlx::query_as(
                                    "INSERT INTO alert_messages (org, sink, rule, group_key, \
                                     status, created_at, due_at, next_attempt_at) \
                                     VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6) RETURNING id",
                                )
                                .bind(&key.org)
                                .bind(&key.sink)
                                .bind(&placement.rule)
                                .bind(&placement.group_key)
                                .bind(now)
                                .bind(due)
                                .fetch_one(&mut *tx)
                                .await?;
                                id
                            }
                        };
                        open.insert(group, id);
                        id
                    }
                };
                let body =
                    serde_json::to_string(&logged.event).map_err(|source| StoreError::Json {
                        what: "alert event",
                        source,
                    })?;
                sqlx::query(
                    "INSERT INTO alert_items (message_id, event_id, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (message_id, event_id) DO NOTHING",
                )
                .bind(message)
                .bind(logged.id)
                .bind(body)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE alert_sinks SET cursor_xact = $1, cursor_event = $2, last_event = $5, \
                 floor_event = $6 WHERE org = $3 AND sink = $4",
            )
            .bind(next.0)
            .bind(next.1)
            .bind(&key.org)
            .bind(&key.sink)
            .bind(last_event)
            .bind(floor_event)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(read)
        })
    }

    /// Claims up to `limit` of the sink's due messages for `lease`, oldest first, with their
    /// events worst first.
    pub async fn claim_alert_messages(
        &self,
        key: &SinkKey,
        worker: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let now = now();
        let claimed: Vec<(i64, String, i32, String)> = with_pool!(self, |pool, pg| {
            sqlx::query_as(&format!(
                claim_alerts_sql!(),
                if pg { " FOR UPDATE SKIP LOCKED" } else { "" }
            ))
            .bind(worker)
            .bind(later(now, lease))
            .bind(&key.org)
            .bind(&key.sink)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        let mut messages = Vec::with_capacity(claimed.len());
        for (id, rule, attempts, kind) in claimed {
            let bodies: Vec<(String,)> = with_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT body FROM alert_items WHERE message_id = $1 ORDER BY event_id",
                )
                .bind(id)
                .fetch_all(pool)
                .await
            })?;
            let (mut events, mut digest) = (Vec::new(), None);
            for (body,) in bodies {
                if kind == "digest" {
                    digest = Some(Box::new(from_json_text(&body, "alert digest")?));
                } else {
                    events.push(from_json_text::<AlertEvent>(&body, "alert event")?);
                }
            }
            events.sort_by(AlertEvent::worst_first);
            messages.push(ClaimedMessage {
                id,
                rule,
                attempts,
                events,
                digest,
            });
        }
        messages.sort_by_key(|message| message.id);
        Ok(messages)
    }

    /// The message reached its sink; false when `worker` no longer held it.
    pub async fn alert_message_sent(&self, id: i64, worker: &str) -> Result<bool, StoreError> {
        let now = now();
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE alert_messages SET status = 'sent', sent_at = $1, leased_by = NULL, \
                 lease_until = NULL, attempts = attempts + 1, last_error = NULL \
                 WHERE id = $2 AND leased_by = $3 AND status = 'queued'",
            )
            .bind(now)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// The attempt failed: retried after the backoff, or dead after `max_attempts`; `None`
    /// when `worker` no longer held the message (its lease ran out and another took it).
    pub async fn alert_message_failed(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        max_attempts: i32,
        backoff: Backoff,
    ) -> Result<Option<Retry>, StoreError> {
        let now = now();
        let held: Option<(i32,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT attempts FROM alert_messages WHERE id = $1 AND leased_by = $2 \
                 AND status = 'queued'",
            )
            .bind(id)
            .bind(worker)
            .fetch_optional(pool)
            .await
        })?;
        let Some((before,)) = held else {
            return Ok(None);
        };
        let attempts = before + 1;
        let retry = if attempts >= max_attempts {
            Retry::Dead
        } else {
            Retry::After(backoff.delay(attempts))
        };
        let (status, next) = match retry {
            Retry::Dead => ("dead", now),
            Retry::After(delay) => ("queued", later(now, delay)),
        };
        // The attempt count read above guards against another claim in between.
        let updated = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE alert_messages SET status = $1, attempts = $2, next_attempt_at = $3, \
                 last_error = $4, leased_by = NULL, lease_until = NULL \
                 WHERE id = $5 AND leased_by = $6 AND status = 'queued' AND attempts = $7",
            )
            .bind(status)
            .bind(attempts)
            .bind(next)
            .bind(error)
            .bind(id)
            .bind(worker)
            .bind(before)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok((updated == 1).then_some(retry))
    }

    /// Gives claimed messages back untried (a chat sink waiting for its send slot, shutdown).
    pub async fn release_alert_message(&self, id: i64, worker: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE alert_messages SET leased_by = NULL, lease_until = NULL \
                 WHERE id = $1 AND leased_by = $2",
            )
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(())
    }

    /// Records a delivery's outcome on the sink: a success clears its failures.
    pub async fn record_sink_outcome(
        &self,
        key: &SinkKey,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            match error {
                None => sqlx::query(
                    "UPDATE alert_sinks SET failures = 0, last_error = NULL, last_success_at = $1 \
                     WHERE org = $2 AND sink = $3",
                )
                .bind(now)
                .bind(&key.org)
                .bind(&key.sink)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
                Some(error) => sqlx::query(
                    "UPDATE alert_sinks SET failures = failures + 1, last_error = $1, \
                     last_failure_at = $2 WHERE org = $3 AND sink = $4",
                )
                .bind(error)
                .bind(now)
                .bind(&key.org)
                .bind(&key.sink)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
            }
        })?;
        Ok(())
    }

    /// Failed deliveries in a row (0 for a sink never tried): decides whether it is down.
    pub async fn sink_failures(&self, key: &SinkKey) -> Result<i32, StoreError> {
        let failures: Option<(i32,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT failures FROM alert_sinks WHERE org = $1 AND sink = $2")
                .bind(&key.org)
                .bind(&key.sink)
                .fetch_optional(pool)
                .await
        })?;
        Ok(failures.map_or(0, |(failures,)| failures))
    }

    /// Takes the sink's next send slot (`every` apart, across replicas): `None` when taken,
    /// else the time the current slot frees.
    pub async fn take_send_slot(
        &self,
        key: &SinkKey,
        every: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = now();
        let taken = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE alert_sinks SET next_send_at = $1 WHERE org = $2 AND sink = $3 \
                 AND (next_send_at IS NULL OR next_send_at <= $4)",
            )
            .bind(later(now, every))
            .bind(&key.org)
            .bind(&key.sink)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        if taken == 1 {
            return Ok(None);
        }
        let next: Option<(Option<DateTime<Utc>>,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT next_send_at FROM alert_sinks WHERE org = $1 AND sink = $2")
                .bind(&key.org)
                .bind(&key.sink)
                .fetch_optional(pool)
                .await
        })?;
        Ok(Some(next.and_then(|(at,)| at).unwrap_or(now)))
    }

    /// Closes the sink's open windows now (shutdown: a group is sent rather than left
    /// waiting for a process that may not come back soon). Returns how many.
    pub async fn close_alert_windows(&self, key: &SinkKey) -> Result<u64, StoreError> {
        let now = now();
        let closed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE alert_messages SET due_at = $1, next_attempt_at = $1 \
                 WHERE org = $2 AND sink = $3 AND status = 'queued' AND attempts = 0 \
                 AND due_at > $1",
            )
            .bind(now)
            .bind(&key.org)
            .bind(&key.sink)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(closed)
    }

    /// Whether `rule`'s digest of `week` is queued (or sent) for the sink.
    pub async fn digest_queued(
        &self,
        key: &SinkKey,
        rule: &str,
        week: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<(i64,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id FROM alert_messages WHERE org = $1 AND sink = $2 AND rule = $3 \
                 AND group_key = $4 AND kind = 'digest'",
            )
            .bind(&key.org)
            .bind(&key.sink)
            .bind(rule)
            .bind(format!("digest:{week}"))
            .fetch_optional(pool)
            .await
        })?;
        Ok(found.is_some())
    }

    /// Queues `rule`'s digest for the sink, due now, once per week: false when it already
    /// was (by this process or another).
    pub async fn queue_digest(
        &self,
        key: &SinkKey,
        rule: &str,
        digest: &Digest,
    ) -> Result<bool, StoreError> {
        let now = now();
        let body = serde_json::to_string(digest).map_err(|source| StoreError::Json {
            what: "alert digest",
            source,
        })?;
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let id: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO alert_messages (org, sink, rule, group_key, kind, status, \
                 created_at, due_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, 'digest', 'queued', $5, $5, $5) \
                 ON CONFLICT (org, sink, rule, group_key) WHERE kind = 'digest' DO NOTHING \
                 RETURNING id",
            )
            .bind(&key.org)
            .bind(&key.sink)
            .bind(rule)
            .bind(format!("digest:{}", digest.week))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id,)) = id else {
                return Ok(false);
            };
            sqlx::query("INSERT INTO alert_items (message_id, event_id, body) VALUES ($1, 0, $2)")
                .bind(id)
                .bind(&body)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Queues the sink's dead messages again; returns how many.
    pub async fn retry_dead_alerts(&self, key: &SinkKey) -> Result<u64, StoreError> {
        let now = now();
        let retried = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE alert_messages SET status = 'queued', attempts = 0, next_attempt_at = $1 \
                 WHERE org = $2 AND sink = $3 AND status = 'dead'",
            )
            .bind(now)
            .bind(&key.org)
            .bind(&key.sink)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(retried)
    }

    /// The sink's health and counts; `None` before it ever ran.
    pub async fn sink_state(&self, key: &SinkKey) -> Result<Option<SinkState>, StoreError> {
        type Row = (
            i32,
            Option<String>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            i64,
            i64,
        );
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT failures, last_error, last_success_at, last_failure_at, cursor_xact, \
                 cursor_event FROM alert_sinks WHERE org = $1 AND sink = $2",
            )
            .bind(&key.org)
            .bind(&key.sink)
            .fetch_optional(pool)
            .await
        })?;
        let Some((failures, last_error, last_success_at, last_failure_at, xact, event)) = row
        else {
            return Ok(None);
        };
        let counts: Vec<(String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT status, COUNT(*) FROM alert_messages WHERE org = $1 AND sink = $2 \
                 GROUP BY status",
            )
            .bind(&key.org)
            .bind(&key.sink)
            .fetch_all(pool)
            .await
        })?;
        let (backlog,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM finding_events e JOIN projects p ON p.id = e.project_id \
                 WHERE p.org = $1 AND (e.xact > $2 OR (e.xact = $2 AND e.id > $3))",
            )
            .bind(&key.org)
            .bind(xact)
            .bind(event)
            .fetch_one(pool)
            .await
        })?;
        let count = |status: &str| {
            counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n)
        };
        Ok(Some(SinkState {
            failures,
            last_error,
            last_success_at,
            last_failure_at,
            queued: count("queued"),
            sent: count("sent"),
            dead: count("dead"),
            backlog,
        }))
    }

    /// Default-branch findings of `org` that are open (present, not dismissed or accepted),
    /// for the SLA events: project, finding id, severity, advisories, first detection.
    pub async fn open_branch_findings(
        &self,
        org: &str,
    ) -> Result<Vec<OpenBranchFinding>, StoreError> {
        let rows: Vec<(i64, String, String, String, DateTime<Utc>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT b.project_id, b.finding_id, b.severity, b.advisories, b.first_detected_at \
                 FROM branch_findings b JOIN projects p ON p.id = b.project_id \
                 LEFT JOIN triage t ON t.project_id = b.project_id AND t.finding_id = b.finding_id \
                 WHERE p.org = $1 AND b.present = $2 \
                 AND (t.state IS NULL OR t.state NOT IN ('dismissed', 'accepted'))",
            )
            .bind(org)
            .bind(true)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(
                |(project, finding_id, severity, advisories, first_detected_at)| {
                    Ok(OpenBranchFinding {
                        project: ProjectId(project),
                        finding_id,
                        severity: severity.parse().map_err(|_| {
                            StoreError::Corrupt(super::UnknownVariant {
                                what: "severity",
                                value: severity.clone(),
                            })
                        })?,
                        advisories: from_json_text(&advisories, "advisories")?,
                        first_detected_at,
                    })
                },
            )
            .collect()
    }

    /// Acceptances of `org` whose last day falls in `[from, to]`: project, finding, last day.
    pub async fn acceptances_ending(
        &self,
        org: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(ProjectId, String, NaiveDate)>, StoreError> {
        let rows: Vec<(i64, String, NaiveDate)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT t.project_id, t.finding_id, t.until FROM triage t \
                 JOIN projects p ON p.id = t.project_id \
                 WHERE p.org = $1 AND t.state = 'accepted' AND t.until >= $2 AND t.until <= $3",
            )
            .bind(org)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(project, finding, until)| (ProjectId(project), finding, until))
            .collect())
    }

    /// The scheduled events already in `org`'s log: project, finding, kind and date.
    pub async fn scheduled_events_of(
        &self,
        org: &str,
    ) -> Result<
        std::collections::HashSet<(ProjectId, String, super::EventKind, NaiveDate)>,
        StoreError,
    > {
        let rows: Vec<(i64, String, String, Option<NaiveDate>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT e.project_id, e.finding_id, e.kind, e.until FROM finding_events e \
                 JOIN projects p ON p.id = e.project_id WHERE p.org = $1 \
                 AND e.kind IN ('sla_due_soon', 'sla_breached', 'acceptance_expiring')",
            )
            .bind(org)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .filter_map(|(project, finding, kind, until)| {
                let until = until?;
                Some(
                    parse("event kind", &kind)
                        .map(|kind| (ProjectId(project), finding, kind, until)),
                )
            })
            .collect()
    }

    /// Appends a scheduled event (`sla_due_soon`, `sla_breached`, `acceptance_expiring`)
    /// once per finding, kind and date: true when this call wrote it.
    pub async fn record_scheduled_event(
        &self,
        project: ProjectId,
        finding: &str,
        kind: super::EventKind,
        date: NaiveDate,
    ) -> Result<bool, StoreError> {
        let now = now();
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO finding_events (project_id, finding_id, at, kind, until, delivery_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (project_id, finding_id, kind, delivery_id) \
                 WHERE delivery_id IS NOT NULL DO NOTHING",
            )
            .bind(project)
            .bind(finding)
            .bind(now)
            .bind(kind.as_str())
            .bind(date)
            .bind(format!("{}:{date}", kind.as_str()))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Drops sent messages older than `cutoff` (retention); returns how many.
    pub(super) async fn prune_alert_messages(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // A sent digest is what says this week's was sent: kept for more than a week.
            let digest_cutoff = cutoff.min(now() - chrono::Duration::days(8));
            const SENT_BEFORE: &str = "status = 'sent' AND sent_at < $1 \
                 AND (kind <> 'digest' OR sent_at < $2)";
            sqlx::query(&format!(
                "DELETE FROM alert_items WHERE message_id IN \
                 (SELECT id FROM alert_messages WHERE {SENT_BEFORE})"
            ))
            .bind(cutoff)
            .bind(digest_cutoff)
            .execute(&mut *tx)
            .await?;
            let deleted = sqlx::query(&format!("DELETE FROM alert_messages WHERE {SENT_BEFORE}"))
                .bind(cutoff)
                .bind(digest_cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted)
        })
    }
}

/// An open default-branch finding, as the SLA events need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBranchFinding {
    pub project: ProjectId,
    pub finding_id: String,
    pub severity: Severity,
    pub advisories: Vec<String>,
    pub first_detected_at: DateTime<Utc>,
}

fn from_json_text<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Json { what, source })
}

fn parse<T: std::str::FromStr>(what: &'static str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| {
        StoreError::Corrupt(super::UnknownVariant {
            what,
            value: text.to_owned(),
        })
    })
}

impl TryFrom<EventJoin> for LoggedEvent {
    type Error = StoreError;

    /// The finding as the default branch knows it, else as its triage record (a finding
    /// triaged in a pull request and never on the default branch) describes it.
    fn try_from(row: EventJoin) -> Result<LoggedEvent, StoreError> {
        let record: Option<TriageRecord> = row
            .record
            .as_deref()
            .map(|bytes| from_json("triage record", bytes))
            .transpose()?;
        let subject = record.as_ref().map(|record| &record.subject);
        let kind: Kind = match &row.f_kind {
            Some(kind) => parse("finding kind", kind)?,
            None if subject.is_some_and(|s| s.purl.is_some()) => Kind::Sca,
            None => Kind::Sast,
        };
        let severity: Severity = match row.f_severity.as_deref().or(row.event_severity.as_deref()) {
            Some(severity) => parse("severity", severity)?,
            None => Severity::Info,
        };
        let advisories: Vec<String> = match &row.advisories {
            Some(text) => from_json_text(text, "advisories")?,
            None => subject.map(|s| s.advisories.clone()).unwrap_or_default(),
        };
        let package = match (row.ecosystem, row.package) {
            (Some(ecosystem), Some(name)) => Some(PackageFacts {
                purl: crate::model::Package {
                    ecosystem: crate::model::Ecosystem::parse(&ecosystem),
                    name: name.clone(),
                    version: row.version.clone(),
                    manifest: None,
                }
                .purl(),
                ecosystem,
                name,
                version: row.version,
                fixed_in: row.fix_version,
            }),
            _ => None,
        };
        let kind_name: AlertKind = parse("event kind", &row.kind)?;
        let finding = FindingFacts {
            short_id: short_id(&crate::model::FindingId(row.finding_id.clone())),
            title: row
                .title
                .or_else(|| subject.map(|s| s.title.clone()))
                .unwrap_or_else(|| row.finding_id.clone()),
            id: row.finding_id,
            kind,
            severity,
            risk_score: row.risk_score.map(|score| score.clamp(0, 100) as u8),
            rule: row
                .rule
                .or_else(|| subject.map(|s| s.rule.clone()))
                .unwrap_or_default(),
            cwes: row
                .cwes
                .as_deref()
                .map(|text| from_json_text(text, "cwes"))
                .transpose()?
                .unwrap_or_default(),
            tools: row
                .tools
                .as_deref()
                .map(|text| from_json_text(text, "tools"))
                .transpose()?
                .unwrap_or_default(),
            kev: false,
            advisories,
            package,
            path: row.path.or_else(|| subject.and_then(|s| s.path.clone())),
            line: row.line.and_then(|line| u32::try_from(line).ok()),
            introduced_commit: row.introduced_commit,
            introduced_author: row.introduced_author,
            first_detected_at: row.first_detected_at,
        };
        Ok(LoggedEvent {
            id: row.id,
            pull_request: row.pull_request,
            commit: row.last_seen_commit,
            event: AlertEvent {
                id: format!("evt-{}", row.id),
                kind: kind_name,
                at: row.at,
                org: row.org,
                repository: row.repository,
                forge: row.forge,
                finding,
                actor: row.actor,
                reason: row.reason,
                comment: row.comment,
                until: row.until,
                previous_severity: row
                    .previous_severity
                    .filter(|_| kind_name == AlertKind::SeverityChanged)
                    .map(|s| parse("severity", &s))
                    .transpose()?,
                links: Links::default(),
            },
        })
    }
}

impl Store {
    /// The CVE ids of CISA's KEV catalog, as last loaded.
    pub async fn kev_ids(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT cve_id FROM intel_kev")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(cve,)| cve).collect())
    }
}
