//! Projects, snapshots, finding history and comments, on both databases.

use chrono::Utc;

use super::{count, stores};
use crate::model::{
    Dedup, Finding, FindingId, Gate, Introduced, Kind, Review, ReviewedFinding, Risk, Severity,
    Status, Summary,
};
use crate::store::{Forge, HistoryRow, HistoryStatus, ProjectId, Store};

pub(super) fn reviewed(id: &str, status: Status, introduced: Option<&str>) -> ReviewedFinding {
    let mut finding = Finding::new(Kind::Sast, "semgrep", format!("rule-{id}"));
    finding.severity = Severity::High;
    finding.message = "code\u{0}with a NUL".to_owned();
    ReviewedFinding {
        id: FindingId(id.to_owned()),
        status,
        in_diff: status == Status::New,
        finding,
        line_hash: None,
        introduced_by: introduced.map(|commit| Introduced {
            commit: commit.to_owned(),
            author: "Ada".to_owned(),
            date: Utc::now(),
            summary: "add a query".to_owned(),
        }),
        introduced_unknown: None,
        risk: Risk::default(),
        upgrade: None,
        ignored: None,
        dependency: None,
        triage: None,
        changed: false,
        previous_ids: Vec::new(),
        snippet: None,
        owner: None,
    }
}

pub(super) fn review(head: &str, findings: Vec<ReviewedFinding>) -> Review {
    Review {
        base: "base".to_owned(),
        head: head.to_owned(),
        merge_base: "base".to_owned(),
        summary: Summary {
            new: 0,
            existing: 0,
            fixed: 0,
            ignored: 0,
            suppressed: 0,
            triaged: 0,
            not_scanned: 0,
            missing_tools: Vec::new(),
            dedup: Dedup::default(),
            gate: Gate {
                passed: true,
                outcome: crate::model::GateOutcome::Passed,
                fail_on: None,
                blocking: 0,
            },
        },
        findings,
        warnings: Vec::new(),
        upgrades: Vec::new(),
        config_changes: Vec::new(),
    }
}

async fn history(store: &Store, project: ProjectId, id: &str) -> HistoryRow {
    store
        .finding_history(project)
        .await
        .expect("history")
        .into_iter()
        .find(|row| row.finding_id.0 == id)
        .unwrap_or_else(|| panic!("{id} has history"))
}

#[tokio::test]
async fn projects_and_installations_upsert() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "octo/app", Some("main"))
            .await
            .expect("project");
        let again = store
            .upsert_project(Forge::GitHub, "octo/app", None)
            .await
            .expect("project");
        assert_eq!(project, again, "{}", db.name);
        let gitlab = store
            .upsert_project(Forge::GitLab, "octo/app", None)
            .await
            .expect("project");
        assert_ne!(project, gitlab, "{}", db.name);
        let (branch,): (Option<String>,) = crate::store::with_pool!(store, |pool| {
            sqlx::query_as("SELECT default_branch FROM projects WHERE id = $1")
                .bind(project)
                .fetch_one(pool)
                .await
        })
        .expect("project row");
        assert_eq!(
            branch.as_deref(),
            Some("main"),
            "{}: the known branch is kept",
            db.name
        );

        store
            .upsert_installation(Forge::GitHub, 42, "octo")
            .await
            .expect("installation");
        store
            .upsert_installation(Forge::GitHub, 42, "octo-renamed")
            .await
            .expect("installation");
        assert_eq!(count(store, "installations").await, 1, "{}", db.name);
    }
}

#[tokio::test]
async fn history_follows_the_default_branch() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "octo/app", Some("main"))
            .await
            .expect("project");

        let first = review(
            "c1",
            vec![
                reviewed("f1", Status::Existing, Some("intro1")),
                reviewed("f2", Status::Existing, None),
            ],
        );
        store
            .record_review(project, "c1", true, &first, &Default::default())
            .await
            .expect("c1");
        let second = review(
            "c2",
            vec![
                reviewed("f1", Status::Existing, None),
                reviewed("f2", Status::Fixed, None),
                reviewed("f3", Status::New, Some("c2")),
            ],
        );
        store
            .record_review(project, "c2", true, &second, &Default::default())
            .await
            .expect("c2");

        let f1 = history(store, project, "f1").await;
        assert_eq!(f1.status, HistoryStatus::Open, "{}", db.name);
        assert_eq!(f1.first_seen_commit, "c1", "{}", db.name);
        assert_eq!(f1.last_seen_commit, "c2", "{}", db.name);
        assert!(f1.first_seen_at <= f1.last_seen_at);
        assert_eq!(
            f1.introduced_commit.as_deref(),
            Some("intro1"),
            "{}",
            db.name
        );
        assert_eq!(f1.severity, Severity::High);
        assert_eq!(f1.fixed_at, None);

        let f2 = history(store, project, "f2").await;
        assert_eq!(f2.status, HistoryStatus::Fixed, "{}", db.name);
        assert_eq!(f2.last_seen_commit, "c1", "{}", db.name);
        assert_eq!(f2.fixed_commit.as_deref(), Some("c2"), "{}", db.name);
        assert!(f2.fixed_at.is_some(), "{}", db.name);

        let f3 = history(store, project, "f3").await;
        assert_eq!(f3.first_seen_commit, "c2", "{}", db.name);

        // A pull request without f1 does not fix it; one with f2 does not reopen it.
        let pull = review("p1", vec![reviewed("f2", Status::New, None)]);
        store
            .record_review(project, "p1", false, &pull, &Default::default())
            .await
            .expect("p1");
        assert_eq!(
            history(store, project, "f1").await.status,
            HistoryStatus::Open
        );
        let f2 = history(store, project, "f2").await;
        assert_eq!(
            (f2.status, f2.last_seen_commit.as_str()),
            (HistoryStatus::Fixed, "p1")
        );

        // The default branch having f2 again reopens it, and f1, f3 are fixed there.
        let back = review("c3", vec![reviewed("f2", Status::Existing, None)]);
        store
            .record_review(project, "c3", true, &back, &Default::default())
            .await
            .expect("c3");
        let f2 = history(store, project, "f2").await;
        assert_eq!(f2.status, HistoryStatus::Open, "{}", db.name);
        assert_eq!((f2.fixed_at, f2.fixed_commit), (None, None), "{}", db.name);
        assert_eq!(f2.first_seen_commit, "c1", "{}", db.name);
        let f1 = history(store, project, "f1").await;
        assert_eq!(
            (f1.status, f1.fixed_commit.as_deref()),
            (HistoryStatus::Fixed, Some("c3"))
        );
        let rows = store.finding_history(project).await.expect("history");
        assert_eq!(rows.len(), 3, "{}", db.name);
    }
}

#[tokio::test]
async fn snapshots_hold_the_findings_present() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitLab, "group/app", None)
            .await
            .expect("project");
        let findings = vec![
            reviewed("f1", Status::New, Some("c9")),
            reviewed("f2", Status::Fixed, None),
        ];
        store
            .record_review(
                project,
                "c1",
                false,
                &review("c1", findings.clone()),
                &Default::default(),
            )
            .await
            .expect("c1");
        let snapshot = store.snapshot(project, "c1").await.expect("snapshot");
        assert_eq!(snapshot, Some(vec![findings[0].clone()]), "{}", db.name);
        assert_eq!(store.snapshot(project, "c2").await.expect("snapshot"), None);

        // Reviewing the same commit again replaces its findings.
        store
            .record_review(
                project,
                "c1",
                true,
                &review("c1", Vec::new()),
                &Default::default(),
            )
            .await
            .expect("c1 again");
        let snapshot = store.snapshot(project, "c1").await.expect("snapshot");
        assert_eq!(snapshot, Some(Vec::new()), "{}", db.name);
        assert_eq!(count(store, "snapshots").await, 1, "{}", db.name);
    }
}

#[tokio::test]
async fn comments_round_trip() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "octo/app", None)
            .await
            .expect("project");
        let f1 = FindingId("f1".to_owned());
        let f2 = FindingId("f2".to_owned());
        store
            .record_comment(project, 5, &f2, "200")
            .await
            .expect("comment");
        store
            .record_comment(project, 5, &f1, "100")
            .await
            .expect("comment");
        store
            .record_comment(project, 5, &f1, "101")
            .await
            .expect("comment");
        store
            .record_comment(project, 6, &f1, "300")
            .await
            .expect("comment");
        let comments = store.comments(project, 5).await.expect("comments");
        assert_eq!(
            comments,
            vec![(f1.clone(), "101".to_owned()), (f2, "200".to_owned())],
            "{}",
            db.name
        );
        assert_eq!(
            store.comments(project, 7).await.expect("comments"),
            Vec::new()
        );
    }
}
