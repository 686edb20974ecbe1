//! The triage table and the event log, on both databases: decisions, approvals,
//! idempotence per delivery, expiry.

use chrono::{NaiveDate, Utc};

use super::stores;
use crate::model::{DismissReason, FindingId, Triage, TriageSource, TriageState, Verdict};
use crate::store::{Applied, EventKind, EventSource, Forge, TriageChange};
use crate::triage::{Subject, TriageRecord};

fn record(id: &str, state: TriageState, verdict: Verdict, by: &str) -> TriageRecord {
    TriageRecord {
        finding_id: FindingId(id.to_owned()),
        subject: Subject {
            rule: "CVE-2021-44228".into(),
            advisories: vec!["GHSA-jfh8-c2jp-5v3q".into()],
            purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()),
            ..Subject::default()
        },
        triage: Triage {
            state,
            verdict,
            by: by.into(),
            at: Utc::now(),
            comment: Some("not reachable".into()),
            source: TriageSource::Command {
                pull_request: 7,
                delivery_id: Some("d-1".into()),
            },
        },
    }
}

fn source(actor: &str, delivery: &str) -> EventSource {
    EventSource {
        at: Utc::now(),
        actor: Some(actor.into()),
        comment: None,
        pull_request: Some(7),
        delivery_id: Some(delivery.into()),
    }
}

#[tokio::test]
async fn a_decision_is_recorded_once_per_delivery_with_its_event() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "octo/app", Some("main"))
            .await
            .expect("project");
        let dismiss = Verdict::Dismiss {
            reason: DismissReason::FalsePositive,
        };
        let decided = record("f1", TriageState::Dismissed, dismiss, "alice");
        let change = TriageChange::Decide(Box::new(decided.clone()));
        let first = store
            .apply_triage(project, &change, &source("alice", "d-1"))
            .await
            .expect("apply");
        assert_eq!(
            first,
            Applied::Recorded(Some(Box::new(decided.clone()))),
            "{}",
            db.name
        );
        let again = store
            .apply_triage(project, &change, &source("alice", "d-1"))
            .await
            .expect("apply again");
        assert_eq!(again, Applied::AlreadyRecorded, "{}", db.name);

        let decisions = store.triage_decisions(project).await.expect("decisions");
        assert_eq!(decisions.len(), 1, "{}", db.name);
        assert_eq!(decisions[&FindingId("f1".into())], decided, "{}", db.name);
        let events = store
            .finding_events(project, &FindingId("f1".into()))
            .await
            .expect("events");
        assert_eq!(events.len(), 1, "{}", db.name);
        assert_eq!(events[0].kind, EventKind::Dismissed);
        assert_eq!(events[0].reason.as_deref(), Some("false_positive"));
        assert_eq!(events[0].actor.as_deref(), Some("alice"));
        assert_eq!(events[0].pull_request, Some(7));
        assert_eq!(events[0].delivery_id.as_deref(), Some("d-1"));

        let reopened = store
            .apply_triage(
                project,
                &TriageChange::Reopen {
                    finding: FindingId("f1".into()),
                },
                &source("bob", "d-2"),
            )
            .await
            .expect("reopen");
        assert_eq!(reopened, Applied::Recorded(None), "{}", db.name);
        assert!(store.triage_decisions(project).await.unwrap().is_empty());
        let kinds: Vec<EventKind> = store
            .finding_events(project, &FindingId("f1".into()))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, vec![EventKind::Dismissed, EventKind::Reopened]);
        // Nothing left to reopen.
        let nothing = store
            .apply_triage(
                project,
                &TriageChange::Reopen {
                    finding: FindingId("f1".into()),
                },
                &source("bob", "d-3"),
            )
            .await
            .unwrap();
        assert_eq!(nothing, Applied::NotApplicable, "{}", db.name);
    }
}

#[tokio::test]
async fn a_pending_request_applies_its_verdict_when_approved() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitLab, "group/api", None)
            .await
            .unwrap();
        let until: NaiveDate = "2027-01-31".parse().unwrap();
        let accept = Verdict::Accept { until };
        let pending = record("f2", TriageState::Pending, accept, "alice");
        let f2 = FindingId("f2".into());
        store
            .apply_triage(
                project,
                &TriageChange::Decide(Box::new(pending)),
                &source("alice", "d-1"),
            )
            .await
            .unwrap();
        // Nothing pending on another finding.
        assert_eq!(
            store
                .apply_triage(
                    project,
                    &TriageChange::Approve {
                        finding: FindingId("other".into())
                    },
                    &source("bob", "d-2"),
                )
                .await
                .unwrap(),
            Applied::NotApplicable
        );
        let approved = store
            .apply_triage(
                project,
                &TriageChange::Approve {
                    finding: f2.clone(),
                },
                &source("bob", "d-3"),
            )
            .await
            .unwrap();
        let Applied::Recorded(Some(now)) = approved else {
            panic!("{}: {approved:?}", db.name);
        };
        assert_eq!(now.triage.state, TriageState::Accepted);
        assert_eq!(now.triage.by, "alice");
        // Approving again: nothing is pending any more.
        assert_eq!(
            store
                .apply_triage(
                    project,
                    &TriageChange::Approve {
                        finding: f2.clone()
                    },
                    &source("carol", "d-4")
                )
                .await
                .unwrap(),
            Applied::NotApplicable
        );
        let events = store.finding_events(project, &f2).await.unwrap();
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![EventKind::Pending, EventKind::Approved],
            "{}",
            db.name
        );
        assert_eq!(events[1].actor.as_deref(), Some("bob"));
        assert_eq!(events[1].until, Some(until));
    }
}

#[tokio::test]
async fn acceptances_past_their_last_day_expire_once() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "octo/app", None)
            .await
            .unwrap();
        for (id, until) in [("old", "2026-01-31"), ("current", "2026-03-01")] {
            let accept = Verdict::Accept {
                until: until.parse().unwrap(),
            };
            store
                .apply_triage(
                    project,
                    &TriageChange::Decide(Box::new(record(
                        id,
                        TriageState::Accepted,
                        accept,
                        "alice",
                    ))),
                    &source("alice", &format!("d-{id}")),
                )
                .await
                .unwrap();
        }
        let today: NaiveDate = "2026-02-01".parse().unwrap();
        assert_eq!(
            store.expired_acceptances(today).await.unwrap(),
            vec![(project, FindingId("old".into()))],
            "{}",
            db.name
        );
        assert_eq!(
            crate::jobs::expire_acceptances(store, today).await.unwrap(),
            1
        );
        assert_eq!(
            crate::jobs::expire_acceptances(store, today).await.unwrap(),
            0
        );
        let left: Vec<FindingId> = store
            .triage_decisions(project)
            .await
            .unwrap()
            .into_keys()
            .collect();
        assert_eq!(left, vec![FindingId("current".into())], "{}", db.name);
        let events = store
            .finding_events(project, &FindingId("old".into()))
            .await
            .unwrap();
        assert_eq!(
            events.last().map(|e| e.kind),
            Some(EventKind::AcceptanceExpired)
        );
        assert_eq!(events.last().and_then(|e| e.actor.clone()), None);
    }
}
