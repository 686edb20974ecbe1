//! The standing digest issue of each org, and the queue's `digest_issue` jobs, on both
//! databases; and the SQLite migration that rebuilds the queue keeps every job as it was.

use std::time::Duration;

use serde_json::json;

use super::{count, stores};
use crate::store::{Accepted, DeliveryId, Forge, JobKind, JobStatus, NewDelivery, NewJob, Store};

#[tokio::test]
async fn an_org_keeps_one_digest_issue_and_the_latest_replaces_it() {
    for db in stores().await {
        let store = &db.store;
        assert_eq!(
            store.digest_issue("acme").await.unwrap(),
            None,
            "{}",
            db.name
        );
        store
            .save_digest_issue("acme", Forge::GitHub, "acme/security", 12, "2026-W48")
            .await
            .unwrap();
        store
            .save_digest_issue("acme", Forge::GitHub, "acme/security", 12, "2026-W49")
            .await
            .unwrap();
        store
            .save_digest_issue("beta", Forge::GitLab, "beta/sec/ops", 3, "2026-W49")
            .await
            .unwrap();
        let acme = store.digest_issue("acme").await.unwrap().unwrap();
        assert_eq!(
            (
                acme.forge,
                acme.repository.as_str(),
                acme.number,
                acme.week.as_str()
            ),
            (Forge::GitHub, "acme/security", 12, "2026-W49"),
            "{}",
            db.name
        );
        // Moved to another forge and repository: one row still.
        store
            .save_digest_issue("acme", Forge::GitLab, "acme/sec", 1, "2026-W50")
            .await
            .unwrap();
        let acme = store.digest_issue("acme").await.unwrap().unwrap();
        assert_eq!((acme.forge, acme.number), (Forge::GitLab, 1), "{}", db.name);
        assert_eq!(count(store, "digest_issues").await, 2, "{}", db.name);
    }
}

#[tokio::test]
async fn the_queue_takes_digest_issue_jobs() {
    for db in stores().await {
        let store = &db.store;
        let delivery = NewDelivery {
            forge: Forge::GitLab,
            delivery_id: DeliveryId("digest-issue:acme:2026-W49:acme/sec".into()),
            event: "digest_issue".into(),
            action: None,
            repository: "acme/sec".into(),
            payload: json!({}),
        };
        let job = NewJob {
            kind: JobKind::DigestIssue,
            repository: "acme/sec".into(),
            pull_request: None,
            head_sha: None,
            coalesce_key: Some("digest_issue:acme".into()),
            payload: json!({"org": "acme"}),
        };
        let accepted = store.accept(delivery, vec![job]).await.unwrap();
        assert!(matches!(accepted, Accepted::Stored { .. }), "{}", db.name);
        let claimed = store
            .claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (claimed.kind, claimed.forge, claimed.payload["org"].as_str()),
            (JobKind::DigestIssue, Forge::GitLab, Some("acme")),
            "{}",
            db.name
        );
        store
            .finish(claimed.id, "w", JobStatus::Done, None)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn rebuilding_the_sqlite_queue_keeps_every_job() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let store = Store::connect(&url).await.unwrap();
    let super::Pool::Sqlite(pool) = &store.pool else {
        unreachable!("a SQLite store");
    };
    // The schema as it was before 0014, with a job superseded by another.
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 14)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(pool).await.unwrap();
    let job = |key: &str| NewJob {
        kind: JobKind::Reconcile,
        repository: "octo/app".into(),
        pull_request: None,
        head_sha: None,
        coalesce_key: Some(key.into()),
        payload: json!({"n": key}),
    };
    let delivery = |id: &str| NewDelivery {
        forge: Forge::GitHub,
        delivery_id: DeliveryId(id.into()),
        event: "reconcile".into(),
        action: None,
        repository: "octo/app".into(),
        payload: json!({}),
    };
    store.accept(delivery("d1"), vec![job("k")]).await.unwrap();
    store.accept(delivery("d2"), vec![job("k")]).await.unwrap();
    // A third job, pruned since: its id was issued and must never be issued again.
    store
        .accept(delivery("d3"), vec![job("gone")])
        .await
        .unwrap();
    let (pruned,): (i64,) =
        sqlx::query_as("DELETE FROM jobs WHERE coalesce_key = 'gone' RETURNING id")
            .fetch_one(pool)
            .await
            .unwrap();
    let rows_before = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(rows_before.len(), 2);
    assert_eq!(
        rows_before
            .iter()
            .filter(|r| r.superseded_by.is_some())
            .count(),
        1
    );

    store.migrate().await.unwrap();
    assert!(store.schema_is_current().await.unwrap());
    let rows_after = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(rows_after, rows_before);
    store
        .accept(delivery("d4"), vec![job("new")])
        .await
        .unwrap();
    let (newest,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM jobs")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(
        newest > pruned,
        "job id {newest} issued again after {pruned}"
    );
    // The indexes came back, and the self-reference still holds.
    let (indexes,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' \
         AND name LIKE 'jobs_%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(indexes, 7);
    let (violations,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pragma_foreign_key_check")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(violations, 0);
    let (schema,): (String,) = sqlx::query_as("SELECT sql FROM sqlite_master WHERE name = 'jobs'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(schema.contains("REFERENCES jobs (id)"), "{schema}");
    assert!(!schema.contains("before_0014"), "{schema}");
}
