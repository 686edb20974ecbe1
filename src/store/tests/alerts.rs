//! The alert outbox's tables on both databases: a new sink starts at the log's end, each
//! event is read once into the messages its placements name, windows group until claimed,
//! failures retry then die, and on PostgreSQL an event of a transaction still running is
//! not passed over by a cursor that read a later id.
//!
//! On PostgreSQL the log is read only below the oldest transaction running anywhere in the
//! cluster, and other tests run transactions at the same time: reads are repeated until
//! what was committed has been read ([`read_until`]).

use std::time::Duration;

use chrono::{NaiveDate, Utc};

use super::{Pool, stores};
use crate::model::{DismissReason, FindingId, Triage, TriageSource, TriageState, Verdict};
use crate::store::with_pool;
use crate::store::{
    Applied, Backoff, EventKind, EventSource, Forge, LoggedEvent, Placement, ProjectId, Retry,
    SinkKey, Store, TriageChange,
};
use crate::triage::{Subject, TriageRecord};

fn key(org: &str) -> SinkKey {
    SinkKey {
        org: org.into(),
        sink: "siem".into(),
    }
}

/// Appends a `dismissed` event (by `actor`) to the log.
async fn dismiss(store: &Store, project: ProjectId, finding: &str, actor: &str) {
    let record = TriageRecord {
        finding_id: FindingId(finding.into()),
        subject: Subject {
            rule: "B602".into(),
            title: format!("shell injection in {finding}"),
            path: Some("app.py".into()),
            ..Subject::default()
        },
        triage: Triage {
            state: TriageState::Dismissed,
            verdict: Verdict::Dismiss {
                reason: DismissReason::FalsePositive,
            },
            by: actor.into(),
            at: Utc::now(),
            comment: None,
            source: TriageSource::Command {
                pull_request: 7,
                delivery_id: None,
            },
        },
    };
    let source = EventSource {
        at: Utc::now(),
        actor: Some(actor.into()),
        comment: Some("test fixture".into()),
        pull_request: Some(7),
        delivery_id: Some(format!("d-{finding}")),
    };
    let applied = store
        .apply_triage(project, &TriageChange::Decide(Box::new(record)), &source)
        .await
        .expect("a triage event");
    assert!(matches!(applied, Applied::Recorded(_)), "{applied:?}");
}

/// Every event into `rule`'s message of one group open for `window`, or, without a window,
/// each into its own (as rules place them).
fn all_into(rule: &str, window: Duration) -> impl FnOnce(&mut [LoggedEvent]) -> Vec<Placement> {
    let rule = rule.to_owned();
    move |events| {
        events
            .iter()
            .enumerate()
            .map(|(event, logged)| Placement {
                event,
                rule: rule.clone(),
                group_key: if window.is_zero() {
                    logged.event.id.clone()
                } else {
                    "acme/app".into()
                },
                window,
            })
            .collect()
    }
}

/// Dispatches once into `rule`'s messages (open for `window`); returns the events read.
async fn read_into(store: &Store, key: &SinkKey, rule: &str, window: Duration) -> Vec<LoggedEvent> {
    let mut seen = Vec::new();
    store
        .dispatch_alerts(key, |events| {
            seen = events.to_vec();
            all_into(rule, window)(events)
        })
        .await
        .expect("dispatch");
    seen
}

/// Dispatches until `count` events were read (at most for 20 s); returns them.
async fn read_until(
    store: &Store,
    key: &SinkKey,
    count: usize,
    rule: &str,
    window: Duration,
) -> Vec<LoggedEvent> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while seen.len() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "read {} of {count}",
            seen.len()
        );
        seen.extend(read_into(store, key, rule, window).await);
        tokio::task::yield_now().await;
    }
    seen
}

async fn read(store: &Store, key: &SinkKey) -> Vec<LoggedEvent> {
    read_into(store, key, "r", Duration::ZERO).await
}

#[tokio::test]
async fn a_new_sink_starts_at_the_end_and_reads_each_event_once() {
    for db in stores().await {
        let store = &db.store;
        let acme = store
            .upsert_project(Forge::GitHub, "acme/app", Some("main"))
            .await
            .unwrap();
        let other = store
            .upsert_project(Forge::GitHub, "other/app", Some("main"))
            .await
            .unwrap();
        dismiss(store, acme, "before", "alice").await;
        store.ensure_alert_sink(&key("acme")).await.unwrap();
        store.ensure_alert_sink(&key("acme")).await.unwrap();
        dismiss(store, acme, "after", "bob").await;
        dismiss(store, other, "elsewhere", "carol").await;

        let mut events = Vec::new();
        while !events
            .iter()
            .any(|e: &LoggedEvent| e.event.finding.id == "after")
        {
            events.extend(read_until(store, &key("acme"), 1, "r", Duration::ZERO).await);
        }
        if db.name == "postgres" {
            // An event committed just before the sink was made is read too when another
            // transaction was running then (at least once, never less).
            events.retain(|e| e.event.finding.id != "before");
        }
        assert_eq!(events.len(), 1, "{}: only acme's, only after", db.name);
        let event = &events[0].event;
        assert_eq!(
            event.kind,
            crate::alerts::AlertKind::Dismissed,
            "{}",
            db.name
        );
        assert_eq!(event.actor.as_deref(), Some("bob"));
        assert_eq!(event.reason.as_deref(), Some("false_positive"));
        assert_eq!(
            event.finding.title, "shell injection in after",
            "from the record"
        );
        assert_eq!(event.finding.path.as_deref(), Some("app.py"));
        assert_eq!(events[0].pull_request, Some(7));
        assert_eq!(event.id, format!("evt-{}", events[0].id));
        assert!(read(store, &key("acme")).await.is_empty(), "{}", db.name);

        let claimed = store
            .claim_alert_messages(&key("acme"), "w1", 10, Duration::from_secs(60))
            .await
            .unwrap();
        let claimed: Vec<_> = claimed
            .into_iter()
            .filter(|m| m.events.iter().all(|e| e.finding.id == "after"))
            .collect();
        assert_eq!(claimed.len(), 1, "{}", db.name);
        assert_eq!(claimed[0].events, vec![event.clone()], "stored as read");
        assert!(
            store
                .claim_alert_messages(&key("acme"), "w2", 10, Duration::from_secs(60))
                .await
                .unwrap()
                .is_empty(),
            "{}: held by w1",
            db.name
        );
        assert!(store.alert_message_sent(claimed[0].id, "w1").await.unwrap());
        let state = store.sink_state(&key("acme")).await.unwrap().unwrap();
        assert_eq!((state.sent, state.backlog), (1, 0), "{}", db.name);
    }
}

#[tokio::test]
async fn a_window_groups_events_until_it_closes_or_is_claimed() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "acme/app", Some("main"))
            .await
            .unwrap();
        let sink = key("acme");
        store.ensure_alert_sink(&sink).await.unwrap();
        let hour = Duration::from_secs(3600);
        dismiss(store, project, "a", "alice").await;
        read_until(store, &sink, 1, "grouped", hour).await;
        dismiss(store, project, "b", "alice").await;
        read_until(store, &sink, 1, "grouped", hour).await;
        let lease = Duration::from_secs(60);
        assert!(
            store
                .claim_alert_messages(&sink, "w", 10, lease)
                .await
                .unwrap()
                .is_empty(),
            "{}: the window is open",
            db.name
        );
        assert_eq!(
            store.close_alert_windows(&sink).await.unwrap(),
            1,
            "{}",
            db.name
        );
        let claimed = store
            .claim_alert_messages(&sink, "w", 10, lease)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "{}", db.name);
        assert_eq!(
            claimed[0].events.len(),
            2,
            "{}: one message for both",
            db.name
        );
        // Claimed, the message takes nothing more: a later event opens a new one.
        dismiss(store, project, "c", "alice").await;
        read_until(store, &sink, 1, "grouped", hour).await;
        let state = store.sink_state(&sink).await.unwrap().unwrap();
        assert_eq!(state.queued, 2, "{}", db.name);
    }
}

#[tokio::test]
async fn failures_back_off_then_die_and_can_be_queued_again() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitLab, "acme/app", Some("main"))
            .await
            .unwrap();
        let sink = key("acme");
        store.ensure_alert_sink(&sink).await.unwrap();
        dismiss(store, project, "a", "alice").await;
        read_until(store, &sink, 1, "r", Duration::ZERO).await;
        let lease = Duration::from_secs(60);
        let backoff = Backoff {
            base: Duration::ZERO,
            cap: Duration::ZERO,
        };
        let mut retries = Vec::new();
        for _ in 0..3 {
            let claimed = store
                .claim_alert_messages(&sink, "w", 1, lease)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1, "{}", db.name);
            retries.push(
                store
                    .alert_message_failed(claimed[0].id, "w", "HTTP 500", 3, backoff)
                    .await
                    .unwrap(),
            );
            store
                .record_sink_outcome(&sink, Some("HTTP 500"))
                .await
                .unwrap();
        }
        assert_eq!(
            retries,
            [
                Some(Retry::After(Duration::ZERO)),
                Some(Retry::After(Duration::ZERO)),
                Some(Retry::Dead)
            ],
            "{}",
            db.name
        );
        let state = store.sink_state(&sink).await.unwrap().unwrap();
        assert_eq!((state.dead, state.failures), (1, 3), "{}", db.name);
        assert!(!state.healthy());
        assert!(
            store
                .claim_alert_messages(&sink, "w", 1, lease)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.retry_dead_alerts(&sink).await.unwrap(), 1);
        let claimed = store
            .claim_alert_messages(&sink, "w", 1, lease)
            .await
            .unwrap();
        assert_eq!(claimed[0].attempts, 0, "{}", db.name);
        store.record_sink_outcome(&sink, None).await.unwrap();
        assert!(store.sink_state(&sink).await.unwrap().unwrap().healthy());

        // The send slot: one taker per interval, across callers.
        assert_eq!(store.take_send_slot(&sink, lease).await.unwrap(), None);
        assert!(store.take_send_slot(&sink, lease).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn scheduled_events_are_written_once_per_date() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "acme/app", Some("main"))
            .await
            .unwrap();
        let due = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let record = |day| store.record_scheduled_event(project, "f", EventKind::SlaBreached, day);
        assert!(record(due).await.unwrap(), "{}", db.name);
        assert!(!record(due).await.unwrap(), "{}: once", db.name);
        assert!(
            record(due.succ_opt().unwrap()).await.unwrap(),
            "another due date"
        );
        let events = store
            .finding_events(project, &FindingId("f".into()))
            .await
            .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].until, Some(due));
        let recorded = store.scheduled_events_of("acme").await.unwrap();
        assert!(recorded.contains(&(project, "f".to_owned(), EventKind::SlaBreached, due)));
        assert_eq!(recorded.len(), 2, "{}", db.name);
        assert!(store.scheduled_events_of("other").await.unwrap().is_empty());
    }
}

/// PostgreSQL hands out ids before commit: an event whose transaction commits after a later
/// id was read must still be read, not passed over.
#[tokio::test]
async fn an_event_committed_late_is_not_passed_over() {
    let db = super::postgres(Backoff::default()).await;
    let store = &db.store;
    let Pool::Postgres(pool) = &store.pool else {
        unreachable!("a PostgreSQL store")
    };
    let project = store
        .upsert_project(Forge::GitHub, "acme/app", Some("main"))
        .await
        .unwrap();
    let sink = key("acme");
    store.ensure_alert_sink(&sink).await.unwrap();
    // A transaction takes an id and stays open …
    let mut slow = pool.begin().await.unwrap();
    let (slow_id,): (i64,) = sqlx::query_as(
        "INSERT INTO finding_events (project_id, finding_id, at, kind) \
         VALUES ($1, 'slow', $2, 'detected') RETURNING id",
    )
    .bind(project)
    .bind(Utc::now())
    .fetch_one(&mut *slow)
    .await
    .unwrap();
    // … while a later one commits.
    dismiss(store, project, "quick", "alice").await;
    assert!(
        read(store, &sink).await.is_empty(),
        "nothing past a transaction still running"
    );
    slow.commit().await.unwrap();
    let events = read_until(store, &sink, 2, "r", Duration::ZERO).await;
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], slow_id, "in commit horizon order");
    assert!(read(store, &sink).await.is_empty());
}

#[tokio::test]
async fn an_event_that_does_not_read_is_skipped_not_blocking() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "acme/app", Some("main"))
            .await
            .unwrap();
        let sink = key("acme");
        store.ensure_alert_sink(&sink).await.unwrap();
        // A default-branch row of a kind this version does not know (a newer one wrote it).
        with_pool!(store, |pool| {
            sqlx::query(
                "INSERT INTO branch_findings (project_id, finding_id, present, kind, severity, \
                 rule, title, tools, advisories, risk_score, first_detected_at, \
                 first_detected_commit, last_seen_at, last_seen_commit) \
                 VALUES ($1, 'odd', $2, 'quantum', 'high', 'r', 't', '[]', '[]', 1, $3, 'c', $3, 'c')",
            )
            .bind(project)
            .bind(true)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(drop)
        })
        .unwrap();
        dismiss(store, project, "odd", "alice").await;
        dismiss(store, project, "fine", "bob").await;
        let events = read_until(store, &sink, 1, "r", Duration::ZERO).await;
        let ids: Vec<&str> = events.iter().map(|e| e.event.finding.id.as_str()).collect();
        assert_eq!(ids, ["fine"], "{}", db.name);
        assert!(
            read(store, &sink).await.is_empty(),
            "{}: the cursor moved past it",
            db.name
        );
    }
}

#[tokio::test]
async fn a_sent_digest_outlives_a_short_retention() {
    for db in stores().await {
        let store = &db.store;
        let sink = key("acme");
        store.ensure_alert_sink(&sink).await.unwrap();
        let summary = crate::history::summarize(
            "acme",
            &[],
            &crate::history::Window {
                from: Utc::now() - chrono::Duration::days(7),
                to: Utc::now(),
                as_of: Utc::now(),
            },
            &crate::history::Filters::default(),
            &crate::history::SlaPolicy::default(),
        );
        let digest = crate::alerts::digest::Digest::new(summary, "2026-W49".into(), None);
        assert!(store.queue_digest(&sink, "weekly", &digest).await.unwrap());
        assert!(
            !store.queue_digest(&sink, "weekly", &digest).await.unwrap(),
            "once a week"
        );
        let claimed = store
            .claim_alert_messages(&sink, "w", 10, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].digest.as_deref(), Some(&digest));
        assert!(store.alert_message_sent(claimed[0].id, "w").await.unwrap());
        // Retention of one day (its cutoff now): the digest stays, so the week's is not sent
        // again.
        store
            .prune(Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert!(
            store
                .digest_queued(&sink, "weekly", "2026-W49")
                .await
                .unwrap(),
            "{}",
            db.name
        );
    }
}

/// A dump restored into another PostgreSQL cluster: its transaction ids may be far below
/// those the cursor holds. What is new is still read, and nothing old again.
#[tokio::test]
async fn a_restore_into_another_cluster_neither_loses_nor_repeats() {
    let db = super::postgres(Backoff::default()).await;
    let store = &db.store;
    let project = store
        .upsert_project(Forge::GitHub, "acme/app", Some("main"))
        .await
        .unwrap();
    let sink = key("acme");
    store.ensure_alert_sink(&sink).await.unwrap();
    dismiss(store, project, "old", "alice").await;
    read_until(store, &sink, 1, "r", Duration::ZERO).await;
    // As if the old cluster had run for a long time: its ids are far ahead of this one's.
    with_pool!(store, |pool| {
        sqlx::query("UPDATE alert_sinks SET cursor_xact = cursor_xact + 1000000000000")
            .execute(pool)
            .await
            .map(drop)
    })
    .unwrap();
    with_pool!(store, |pool| {
        sqlx::query("UPDATE finding_events SET xact = xact + 1000000000000")
            .execute(pool)
            .await
            .map(drop)
    })
    .unwrap();
    dismiss(store, project, "new", "bob").await;
    let events = read_until(store, &sink, 1, "r", Duration::ZERO).await;
    let ids: Vec<&str> = events.iter().map(|e| e.event.finding.id.as_str()).collect();
    assert_eq!(ids, ["new"]);
    assert!(read(store, &sink).await.is_empty());
}
