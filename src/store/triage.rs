//! Triage decisions and the append-only event log they are written to.
//!
//! Every change of a finding's triage is one event row and, in the same transaction, the
//! new current decision in `triage` (or its removal). A command's events carry its webhook
//! delivery id, and a unique index makes the same event of the same delivery a no-op, so a
//! retried job never records a decision twice.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{FindingId, Triage, TriageState};
use crate::triage::TriageRecord;

use super::queue::{from_json, to_json};
use super::{BeginWrite, EventKind, ProjectId, Store, StoreError, with_pool};

/// What happens to one finding's triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageChange {
    /// A decision: dismissed, accepted, or (state pending) a request for approval.
    Decide(Box<TriageRecord>),
    /// A second person approves the pending request: its verdict applies.
    Approve { finding: FindingId },
    /// A second person rejects the pending request: it is dropped.
    Reject { finding: FindingId },
    /// A dismissal, acceptance or request is undone.
    Reopen { finding: FindingId },
    /// An acceptance ran past its last day.
    Expire { finding: FindingId },
}

impl TriageChange {
    fn finding(&self) -> &FindingId {
        match self {
            TriageChange::Decide(record) => &record.finding_id,
            TriageChange::Approve { finding }
            | TriageChange::Reject { finding }
            | TriageChange::Reopen { finding }
            | TriageChange::Expire { finding } => finding,
        }
    }
}

/// Who caused a change, when, and where: the event's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    pub at: DateTime<Utc>,
    /// The person (`None` for posture's own scheduled jobs).
    pub actor: Option<String>,
    pub comment: Option<String>,
    pub pull_request: Option<i64>,
    /// The webhook delivery of the command; the same event is recorded once per delivery.
    pub delivery_id: Option<String>,
}

/// One row of the event log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub finding_id: String,
    pub at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    pub actor: Option<String>,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub until: Option<NaiveDate>,
    pub pull_request: Option<i64>,
    pub delivery_id: Option<String>,
}

/// What [`Store::apply_triage`] came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Recorded; the finding's decision is now this (none after a reopen, rejection or expiry).
    Recorded(Option<Box<TriageRecord>>),
    /// This delivery already recorded this event: nothing changed.
    AlreadyRecorded,
    /// The change does not apply to the finding's current state (nothing pending to
    /// approve, nothing to reopen, …): nothing changed.
    NotApplicable,
}

impl Store {
    /// Every current decision of a project, by finding id.
    pub async fn triage_decisions(
        &self,
        project: ProjectId,
    ) -> Result<HashMap<FindingId, TriageRecord>, StoreError> {
        let rows: Vec<(Vec<u8>,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT record FROM triage WHERE project_id = $1 ORDER BY finding_id")
                .bind(project)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|(record,)| {
                let record: TriageRecord = from_json("triage record", &record)?;
                Ok((record.finding_id.clone(), record))
            })
            .collect()
    }

    /// Applies `change` to a finding's triage and appends its event, in one transaction.
    pub async fn apply_triage(
        &self,
        project: ProjectId,
        change: &TriageChange,
        source: &EventSource,
    ) -> Result<Applied, StoreError> {
        let finding = change.finding().clone();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let current: Option<(Vec<u8>,)> = sqlx::query_as(
                "SELECT record FROM triage WHERE project_id = $1 AND finding_id = $2",
            )
            .bind(project)
            .bind(&finding.0)
            .fetch_optional(&mut *tx)
            .await?;
            let current: Option<TriageRecord> = current
                .map(|(bytes,)| from_json("triage record", &bytes))
                .transpose()?;
            // Early returns roll back explicitly: a dropped transaction's rollback waits for
            // the connection's next use, and its locks with it.
            let Some((kind, next, event)) = transition(change, current.as_ref()) else {
                tx.rollback().await?;
                return Ok(Applied::NotApplicable);
            };
            let inserted = sqlx::query(
                "INSERT INTO finding_events \
                 (project_id, finding_id, at, kind, actor, reason, comment, until, pull_request, delivery_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (project_id, finding_id, kind, delivery_id) WHERE delivery_id IS NOT NULL \
                 DO NOTHING",
            )
            .bind(project)
            .bind(&finding.0)
            .bind(source.at)
            .bind(kind.as_str())
            .bind(source.actor.as_deref())
            .bind(event.map(|t| t.reason()))
            .bind(source.comment.as_deref())
            .bind(event.and_then(Triage::until))
            .bind(source.pull_request)
            .bind(source.delivery_id.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                return Ok(Applied::AlreadyRecorded);
            }
            match &next {
                Some(record) => {
                    let until = (record.triage.state == TriageState::Accepted)
                        .then(|| record.triage.until())
                        .flatten();
                    sqlx::query(
                        "INSERT INTO triage (project_id, finding_id, state, until, record, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (project_id, finding_id) DO UPDATE SET \
                           state = excluded.state, until = excluded.until, \
                           record = excluded.record, updated_at = excluded.updated_at",
                    )
                    .bind(project)
                    .bind(&finding.0)
                    .bind(record.triage.state.as_str())
                    .bind(until)
                    .bind(to_json("triage record", record)?)
                    .bind(source.at)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM triage WHERE project_id = $1 AND finding_id = $2")
                        .bind(project)
                        .bind(&finding.0)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(Applied::Recorded(next.map(Box::new)))
        })
    }

    /// The acceptances whose last day is before `today`, by project: what the expiry job
    /// reopens.
    pub async fn expired_acceptances(
        &self,
        today: NaiveDate,
    ) -> Result<Vec<(ProjectId, FindingId)>, StoreError> {
        let rows: Vec<(ProjectId, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT project_id, finding_id FROM triage \
                 WHERE state = 'accepted' AND until < $1 ORDER BY project_id, finding_id",
            )
            .bind(today)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(project, finding)| (project, FindingId(finding)))
            .collect())
    }

    /// A finding's events, oldest first.
    pub async fn finding_events(
        &self,
        project: ProjectId,
        finding: &FindingId,
    ) -> Result<Vec<EventRow>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, finding_id, at, kind, actor, reason, comment, until, pull_request, delivery_id \
                 FROM finding_events WHERE project_id = $1 AND finding_id = $2 ORDER BY id",
            )
            .bind(project)
            .bind(&finding.0)
            .fetch_all(pool)
            .await
        })?)
    }
}

/// The event a change records, the decision after it, and the decision whose reason and
/// expiry the event carries; `None` when the change does not apply to `current`.
fn transition<'a>(
    change: &'a TriageChange,
    current: Option<&'a TriageRecord>,
) -> Option<(EventKind, Option<TriageRecord>, Option<&'a Triage>)> {
    let pending = current.filter(|r| r.triage.state == TriageState::Pending);
    match change {
        TriageChange::Decide(record) => {
            let kind = match record.triage.state {
                TriageState::Dismissed => EventKind::Dismissed,
                TriageState::Accepted => EventKind::Accepted,
                TriageState::Pending => EventKind::Pending,
            };
            Some((kind, Some((**record).clone()), Some(&record.triage)))
        }
        TriageChange::Approve { .. } => {
            let pending = pending?;
            let mut approved = pending.clone();
            approved.triage.state = pending.triage.verdict.state();
            Some((EventKind::Approved, Some(approved), Some(&pending.triage)))
        }
        TriageChange::Reject { .. } => {
            let pending = pending?;
            Some((EventKind::Rejected, None, Some(&pending.triage)))
        }
        TriageChange::Reopen { .. } => {
            let current = current?;
            Some((EventKind::Reopened, None, Some(&current.triage)))
        }
        TriageChange::Expire { .. } => {
            let accepted = current.filter(|r| r.triage.state == TriageState::Accepted)?;
            Some((EventKind::AcceptanceExpired, None, Some(&accepted.triage)))
        }
    }
}
