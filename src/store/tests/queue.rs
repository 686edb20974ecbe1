//! The queue: acceptance and de-duplication, coalescing, claims and leases, retries and the
//! dead-letter state, on both databases.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use super::{count, set_job_time, stores, stores_with};
use crate::store::{
    Accepted, Backoff, DeliveryId, Forge, JobId, JobKind, JobStatus, NewDelivery, NewJob, Store,
    StoreError,
};

const LEASE: Duration = Duration::from_secs(300);

fn delivery(forge: Forge, id: &str) -> NewDelivery {
    NewDelivery {
        forge,
        delivery_id: DeliveryId(id.to_owned()),
        event: "pull_request".to_owned(),
        action: Some("synchronize".to_owned()),
        repository: "octo/app".to_owned(),
        // A NUL survives: payloads are stored verbatim.
        payload: json!({"delivery": id, "title": "a\u{0}b"}),
    }
}

fn review(pull_request: i64, head: &str) -> NewJob {
    NewJob {
        kind: JobKind::Review,
        repository: "octo/app".to_owned(),
        pull_request: Some(pull_request),
        head_sha: Some(head.to_owned()),
        coalesce_key: Some(format!("github:octo/app#{pull_request}")),
        payload: json!({"head": head}),
    }
}

/// Accepts a new delivery with `job` and returns the job's id.
async fn enqueue(store: &Store, delivery_id: &str, job: NewJob) -> JobId {
    match store
        .accept(delivery(Forge::GitHub, delivery_id), vec![job])
        .await
        .expect("accepted")
    {
        Accepted::Stored { jobs } if jobs.len() == 1 => jobs[0],
        other => panic!("expected a stored job, got {other:?}"),
    }
}

async fn status(store: &Store, job: JobId) -> JobStatus {
    store
        .job(job)
        .await
        .expect("job")
        .expect("job exists")
        .status
}

#[tokio::test]
async fn a_redelivery_is_stored_once() {
    for db in stores().await {
        let store = &db.store;
        let first = store
            .accept(delivery(Forge::GitHub, "d-1"), vec![review(1, "aaa")])
            .await
            .expect("accepted");
        assert!(
            matches!(&first, Accepted::Stored { jobs } if jobs.len() == 1),
            "{}",
            db.name
        );
        let again = store
            .accept(delivery(Forge::GitHub, "d-1"), vec![review(1, "bbb")])
            .await
            .expect("accepted");
        assert_eq!(again, Accepted::Duplicate, "{}", db.name);
        assert_eq!(count(store, "deliveries").await, 1, "{}", db.name);
        assert_eq!(count(store, "jobs").await, 1, "{}", db.name);

        // The same id from the other forge is another delivery; one without a job too.
        let gitlab = store
            .accept(delivery(Forge::GitLab, "d-1"), vec![])
            .await
            .expect("accepted");
        assert_eq!(gitlab, Accepted::Stored { jobs: vec![] }, "{}", db.name);
        assert_eq!(count(store, "deliveries").await, 2, "{}", db.name);
        assert_eq!(store.queue_depth().await.expect("depth"), 1, "{}", db.name);
    }
}

#[tokio::test]
async fn a_newer_head_supersedes_only_queued_jobs() {
    for db in stores().await {
        let store = &db.store;
        let running = enqueue(store, "d-1", review(7, "aaa")).await;
        let claimed = store
            .claim("w1", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(claimed.id, running, "{}", db.name);
        let older = enqueue(store, "d-2", review(7, "bbb")).await;
        let other_pr = enqueue(store, "d-3", review(8, "ccc")).await;
        let newest = enqueue(store, "d-4", review(7, "ddd")).await;

        assert_eq!(
            status(store, running).await,
            JobStatus::Running,
            "{}",
            db.name
        );
        let superseded = store.job(older).await.expect("job").expect("exists");
        assert_eq!(superseded.status, JobStatus::Superseded, "{}", db.name);
        assert_eq!(superseded.superseded_by, Some(newest), "{}", db.name);
        assert_eq!(
            status(store, other_pr).await,
            JobStatus::Queued,
            "{}",
            db.name
        );
        assert_eq!(
            status(store, newest).await,
            JobStatus::Queued,
            "{}",
            db.name
        );
        assert_eq!(store.queue_depth().await.expect("depth"), 3, "{}", db.name);

        // A superseded job is never claimed, and the newest waits while its change runs.
        let mut claimed = Vec::new();
        while let Some(job) = store.claim("w2", LEASE).await.expect("claim") {
            claimed.push(job.id);
        }
        assert_eq!(claimed, vec![other_pr], "{}", db.name);
        assert!(
            store
                .finish(running, "w1", JobStatus::Done, None)
                .await
                .unwrap()
        );
        let next = store
            .claim("w2", LEASE)
            .await
            .expect("claim")
            .map(|job| job.id);
        assert_eq!(next, Some(newest), "{}", db.name);
    }
}

#[tokio::test]
async fn claims_take_the_oldest_due_job() {
    for db in stores().await {
        let store = &db.store;
        let first = enqueue(store, "d-1", review(1, "aaa")).await;
        let later = enqueue(store, "d-2", review(2, "bbb")).await;
        let third = enqueue(store, "d-3", review(3, "ccc")).await;
        let an_hour = chrono::Duration::hours(1);
        set_job_time(store, later, "run_after", Utc::now() + an_hour).await;

        let job = store
            .claim("w", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(job.id, first, "{}", db.name);
        assert_eq!(job.kind, JobKind::Review);
        assert_eq!(job.forge, Forge::GitHub);
        assert_eq!(job.repository, "octo/app");
        assert_eq!(job.pull_request, Some(1));
        assert_eq!(job.head_sha.as_deref(), Some("aaa"));
        assert_eq!(job.delivery_id, Some(DeliveryId("d-1".to_owned())));
        assert_eq!(job.payload, json!({"head": "aaa"}));
        assert_eq!(job.attempts, 1, "{}", db.name);
        let row = store.job(first).await.expect("job").expect("exists");
        assert_eq!(row.worker.as_deref(), Some("w"));
        assert!(row.lease_until.is_some_and(|until| until > Utc::now()));

        let job = store
            .claim("w", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(job.id, third, "{}", db.name);
        assert_eq!(
            store.claim("w", LEASE).await.expect("claim"),
            None,
            "{}",
            db.name
        );

        set_job_time(store, later, "run_after", Utc::now() - an_hour).await;
        let job = store
            .claim("w", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(job.id, later, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_job() {
    const JOBS: usize = 60;
    const WORKERS: usize = 6;
    for db in stores().await {
        let mut expected = BTreeSet::new();
        for n in 0..JOBS {
            let mut job = review(n as i64, "aaa");
            job.coalesce_key = None;
            expected.insert(enqueue(&db.store, &format!("d-{n}"), job).await);
        }
        let mut tasks = Vec::new();
        for worker in 0..WORKERS {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                let name = format!("worker-{worker}");
                let mut claimed = Vec::new();
                while let Some(job) = store.claim(&name, LEASE).await.expect("claim") {
                    let finished = store
                        .finish(job.id, &name, JobStatus::Done, None)
                        .await
                        .expect("finish");
                    assert!(finished, "{name} holds job {}", job.id);
                    claimed.push(job.id);
                }
                claimed
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            claimed.extend(task.await.expect("a claimer"));
        }
        assert_eq!(claimed.len(), JOBS, "{}: every job claimed once", db.name);
        let distinct: BTreeSet<JobId> = claimed.into_iter().collect();
        assert_eq!(distinct, expected, "{}", db.name);
        for id in expected {
            let row = db.store.job(id).await.expect("job").expect("exists");
            assert_eq!(
                (row.status, row.completions, row.attempts),
                (JobStatus::Done, 1, 1)
            );
        }
        assert_eq!(
            db.store.queue_depth().await.expect("depth"),
            0,
            "{}",
            db.name
        );
    }
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again() {
    for db in stores().await {
        let store = &db.store;
        let id = enqueue(store, "d-1", review(1, "aaa")).await;
        let job = store
            .claim("old", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(job.id, id);
        assert_eq!(
            store.claim("new", LEASE).await.expect("claim"),
            None,
            "{}",
            db.name
        );
        assert!(store.extend_lease(id, "old", LEASE).await.expect("extend"));

        // The old worker stops renewing (it crashed); its lease runs out.
        set_job_time(
            store,
            id,
            "lease_until",
            Utc::now() - chrono::Duration::seconds(1),
        )
        .await;
        let job = store
            .claim("new", LEASE)
            .await
            .expect("claim")
            .expect("the job again");
        assert_eq!((job.id, job.attempts), (id, 2), "{}", db.name);

        assert!(
            !store.extend_lease(id, "old", LEASE).await.expect("extend"),
            "{}",
            db.name
        );
        let old = store
            .finish(id, "old", JobStatus::Done, None)
            .await
            .expect("finish");
        assert!(!old, "{}: the old worker no longer holds it", db.name);
        let new = store
            .finish(id, "new", JobStatus::NotConfigured, Some("no .posture.yml"))
            .await
            .expect("finish");
        assert!(new, "{}", db.name);
        let again = store
            .finish(id, "new", JobStatus::Done, None)
            .await
            .expect("finish");
        assert!(!again, "{}: finished once only", db.name);

        let row = store.job(id).await.expect("job").expect("exists");
        assert_eq!(row.status, JobStatus::NotConfigured, "{}", db.name);
        assert_eq!(row.message.as_deref(), Some("no .posture.yml"));
        assert_eq!(row.completions, 1, "{}", db.name);
        assert_eq!(row.lease_until, None);
    }
}

#[tokio::test]
async fn failures_back_off_then_go_dead() {
    for db in stores().await {
        let store = &db.store;
        let id = enqueue(store, "d-1", review(1, "aaa")).await;
        for (attempt, delay) in [(1, 30), (2, 60)] {
            let job = store.claim("w", LEASE).await.expect("claim").expect("due");
            assert_eq!(job.attempts, attempt, "{}", db.name);
            let status = store
                .fail(id, "w", &format!("forge said 502 ({attempt})"), 3)
                .await
                .expect("fail");
            assert_eq!(status, JobStatus::Queued, "{}", db.name);
            let row = store.job(id).await.expect("job").expect("exists");
            assert_eq!(
                row.run_after - row.updated_at,
                chrono::Duration::seconds(delay),
                "{}: backoff after attempt {attempt}",
                db.name
            );
            assert_eq!(row.last_error, Some(format!("forge said 502 ({attempt})")));
            assert_eq!(
                store.claim("w", LEASE).await.expect("claim"),
                None,
                "{}",
                db.name
            );
            set_job_time(store, id, "run_after", row.updated_at).await;
        }
        store.claim("w", LEASE).await.expect("claim").expect("due");
        let status = store
            .fail(id, "w", "forge said 404", 3)
            .await
            .expect("fail");
        assert_eq!(status, JobStatus::Dead, "{}", db.name);
        assert_eq!(
            store.claim("w", LEASE).await.expect("claim"),
            None,
            "{}",
            db.name
        );
        assert_eq!(store.queue_depth().await.expect("depth"), 0);

        let dead = store
            .list_jobs(Some(JobStatus::Dead), 10)
            .await
            .expect("list");
        assert_eq!(dead.len(), 1, "{}", db.name);
        assert_eq!(dead[0].id, id);
        assert_eq!(dead[0].attempts, 3);
        assert_eq!(dead[0].last_error.as_deref(), Some("forge said 404"));
        let queued = store
            .list_jobs(Some(JobStatus::Queued), 10)
            .await
            .expect("list");
        assert!(queued.is_empty(), "{}", db.name);
        assert_eq!(store.list_jobs(None, 10).await.expect("list").len(), 1);
    }
}

#[tokio::test]
async fn only_the_holder_fails_and_finishes() {
    for db in stores().await {
        let store = &db.store;
        let id = enqueue(store, "d-1", review(1, "aaa")).await;
        let error = store
            .fail(id, "w", "boom", 3)
            .await
            .expect_err("not claimed");
        assert!(
            matches!(error, StoreError::NotHeld { .. }),
            "{}: {error}",
            db.name
        );
        store
            .claim("w", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        let error = store.fail(id, "x", "boom", 3).await.expect_err("not x's");
        assert_eq!(
            error.to_string(),
            format!("job {id} is not held by worker x")
        );
        let error = store
            .finish(id, "w", JobStatus::Queued, None)
            .await
            .expect_err("not final");
        assert!(
            matches!(error, StoreError::NotFinal(JobStatus::Queued)),
            "{error}"
        );
        assert_eq!(status(store, id).await, JobStatus::Running, "{}", db.name);
    }
}

#[tokio::test]
async fn a_released_job_does_not_count_the_attempt() {
    let tiny = Backoff {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(1),
    };
    for db in stores_with(tiny).await {
        let store = &db.store;
        let id = enqueue(store, "d-1", review(1, "aaa")).await;
        store
            .claim("w", LEASE)
            .await
            .expect("claim")
            .expect("a job");
        store
            .release(id, "other", Duration::ZERO, None)
            .await
            .expect("release");
        assert_eq!(status(store, id).await, JobStatus::Running, "{}", db.name);
        store
            .release(id, "w", Duration::ZERO, None)
            .await
            .expect("release");
        let row = store.job(id).await.expect("job").expect("exists");
        assert_eq!(
            (row.status, row.attempts),
            (JobStatus::Queued, 0),
            "{}",
            db.name
        );
        assert_eq!(row.lease_until, None);

        let job = store
            .claim("w2", LEASE)
            .await
            .expect("claim")
            .expect("runnable at once");
        assert_eq!((job.id, job.attempts), (id, 1), "{}", db.name);
        assert_eq!(
            store.fail(id, "w2", "boom", 5).await.expect("fail"),
            JobStatus::Queued
        );
        let row = store.job(id).await.expect("job").expect("exists");
        assert_eq!(
            row.run_after - row.updated_at,
            chrono::Duration::milliseconds(1)
        );
    }
}

#[tokio::test]
async fn pruning_clears_old_payloads_and_finished_jobs_and_redeliveries_stay_duplicates() {
    for db in stores().await {
        let store = &db.store;
        // d-1 finished long ago; d-2 was superseded by d-3, both old; d-4 is recent.
        let done = enqueue(store, "d-1", review(1, "aaa")).await;
        let claimed = store.claim("w1", LEASE).await.unwrap().unwrap();
        assert_eq!(claimed.id, done, "{}", db.name);
        store
            .finish(done, "w1", JobStatus::Done, None)
            .await
            .unwrap();
        let superseded = enqueue(store, "d-2", review(2, "bbb")).await;
        let newer = enqueue(store, "d-3", review(2, "ccc")).await;
        let recent = enqueue(store, "d-4", review(3, "ddd")).await;
        let long_ago = Utc::now() - chrono::Duration::days(40);
        for job in [done, superseded] {
            set_job_time(store, job, "updated_at", long_ago).await;
        }
        crate::store::with_pool!(store, |pool| {
            sqlx::query("UPDATE deliveries SET received_at = $1 WHERE delivery_id <> 'd-4'")
                .bind(long_ago)
                .execute(pool)
                .await
                .map(drop)
        })
        .unwrap();

        let cutoff = Utc::now() - chrono::Duration::days(30);
        let pruned = store.prune(cutoff).await.unwrap();
        assert_eq!(pruned.payloads, 3, "{}", db.name);
        assert_eq!(pruned.jobs, 2, "{}: done and superseded", db.name);
        // The queued jobs are untouched, whatever their age.
        assert_eq!(status(store, newer).await, JobStatus::Queued, "{}", db.name);
        assert_eq!(
            status(store, recent).await,
            JobStatus::Queued,
            "{}",
            db.name
        );
        assert!(store.job(done).await.unwrap().is_none(), "{}", db.name);
        // A late redelivery of a pruned webhook is still recognised.
        let again = store
            .accept(delivery(Forge::GitHub, "d-1"), vec![review(1, "aaa")])
            .await
            .unwrap();
        assert_eq!(again, Accepted::Duplicate, "{}", db.name);
        assert_eq!(
            store.prune(cutoff).await.unwrap().payloads,
            0,
            "{}",
            db.name
        );
    }
}

#[tokio::test]
async fn a_change_runs_one_job_at_a_time() {
    for db in stores().await {
        let store = &db.store;
        let review_7 = enqueue(store, "d-1", review(7, "aaa")).await;
        // A triage command on the same pull request (commands are never coalesced).
        let mut command = review(7, "aaa");
        command.kind = JobKind::Command;
        command.coalesce_key = None;
        let command_7 = enqueue(store, "d-2", command).await;
        let review_8 = enqueue(store, "d-3", review(8, "ccc")).await;
        let claim = |worker: &'static str| async move {
            store
                .claim(worker, LEASE)
                .await
                .expect("claim")
                .map(|job| job.id)
        };
        assert_eq!(claim("w1").await, Some(review_7), "{}", db.name);
        assert_eq!(claim("w2").await, Some(review_8), "{}: #7 is busy", db.name);
        assert_eq!(claim("w3").await, None, "{}", db.name);
        assert!(
            store
                .finish(review_7, "w1", JobStatus::Done, None)
                .await
                .unwrap()
        );
        assert_eq!(claim("w3").await, Some(command_7), "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_run_two_jobs_of_one_change() {
    const CHANGES: i64 = 3;
    const JOBS_PER_CHANGE: usize = 8;
    const WORKERS: usize = 4;
    for db in stores().await {
        for n in 0..JOBS_PER_CHANGE {
            for pr in 0..CHANGES {
                // Commands are not coalesced: every one of them must run, one at a time.
                let mut job = review(pr, "aaa");
                job.kind = JobKind::Command;
                job.coalesce_key = None;
                enqueue(&db.store, &format!("d-{pr}-{n}"), job).await;
            }
        }
        let running = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
        let mut tasks = Vec::new();
        for worker in 0..WORKERS {
            let store = db.store.clone();
            let running = running.clone();
            tasks.push(tokio::spawn(async move {
                let name = format!("worker-{worker}");
                let mut done = 0;
                let mut idle = 0;
                while done + idle < 400 {
                    let Some(job) = store.claim(&name, LEASE).await.expect("claim") else {
                        if store.queue_depth().await.expect("depth") == 0 {
                            break;
                        }
                        idle += 1;
                        tokio::task::yield_now().await;
                        continue;
                    };
                    let pr = job.pull_request.expect("a pull request");
                    assert!(
                        running.lock().unwrap().insert(pr),
                        "two jobs of #{pr} ran at once"
                    );
                    // The job's work: a few round trips to the database, about as long as a
                    // claim, so another claimer comes by while it runs.
                    for _ in 0..3 {
                        store.queue_depth().await.expect("depth");
                    }
                    running.lock().unwrap().remove(&pr);
                    assert!(
                        store
                            .finish(job.id, &name, JobStatus::Done, None)
                            .await
                            .unwrap()
                    );
                    done += 1;
                }
                done
            }));
        }
        let mut done = 0;
        for task in tasks {
            done += task.await.expect("a claimer");
        }
        assert_eq!(
            done,
            CHANGES as usize * JOBS_PER_CHANGE,
            "{}: every job ran",
            db.name
        );
    }
}

/// Deliveries for one pull request accepted at the same moment: only the newest head's job
/// runs, the others end superseded (on PostgreSQL one accept does not wait for another, so
/// the claim supersedes what the accepts could not see).
#[tokio::test]
async fn simultaneous_heads_of_one_change_run_only_the_newest() {
    for db in stores().await {
        let accepts: Vec<_> = (0..16)
            .map(|n| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    enqueue(&store, &format!("d{n}"), review(7, &format!("h{n}"))).await
                })
            })
            .collect();
        let mut ids = Vec::new();
        for accept in accepts {
            ids.push(accept.await.expect("accepted"));
        }
        let newest = *ids.iter().max().expect("jobs");
        let mut claimed = Vec::new();
        while let Some(job) = db.store.claim("w", LEASE).await.expect("claim") {
            claimed.push(job.id);
            db.store
                .finish(job.id, "w", JobStatus::Done, None)
                .await
                .expect("finished");
        }
        assert_eq!(claimed, vec![newest], "{}", db.name);
        for id in ids.into_iter().filter(|id| *id != newest) {
            assert_eq!(
                status(&db.store, id).await,
                JobStatus::Superseded,
                "{}",
                db.name
            );
        }
    }
}

/// A claim walks the queued jobs' partial index in order instead of sorting the backlog: with
/// thousands of jobs waiting, it reads no more rows than it needs. (The plan is
/// checked, not a timing: one `ORDER BY` over queued and lease-expired rows sorted every
/// runnable job on each claim, 20 ms at 11,000 jobs on PostgreSQL.)
#[tokio::test]
async fn a_claim_does_not_sort_the_backlog() {
    for db in stores().await {
        let plan: Vec<String> = crate::store::with_pool!(db.store, |pool, pg| {
            if pg {
                for statement in [
                    "INSERT INTO jobs (kind, status, forge, repository, pull_request, \
                     coalesce_key, payload, attempts, run_after, completions, created_at, \
                     updated_at) SELECT 'review', 'queued', 'github', 'octo/app', n, \
                     'github:octo/app#' || n, '\\x7b7d', 0, now(), 0, now(), now() \
                     FROM generate_series(1, 5000) AS n",
                    "ANALYZE jobs",
                ] {
                    sqlx::query(statement).execute(pool).await.expect("seeded");
                }
            }
            let explain = if pg {
                format!("EXPLAIN {}", crate::store::queue::CANDIDATE_POSTGRES)
            } else {
                format!("EXPLAIN QUERY PLAN {}", crate::store::queue::CLAIM_SQLITE)
            };
            let rows: Vec<(String,)> = if pg {
                sqlx::query_as(&explain)
                    .bind(Utc::now())
                    .fetch_all(pool)
                    .await
                    .expect("a plan")
            } else {
                let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&explain)
                    .bind(Utc::now())
                    .bind("w")
                    .bind(Utc::now())
                    .fetch_all(pool)
                    .await
                    .expect("a plan");
                rows.into_iter().map(|row| (row.3,)).collect()
            };
            rows.into_iter().map(|(line,)| line).collect()
        });
        let plan = plan.join("\n");
        // The queued half, after the half that takes expired leases: those are running
        // jobs, as few as the workers, so sorting them costs nothing.
        let due = plan
            .split_once("on due")
            .or_else(|| plan.split_once("CO-ROUTINE due"))
            .map(|(_, due)| due)
            .unwrap_or_else(|| panic!("{}: no queued half in\n{plan}", db.name));
        assert!(due.contains("jobs_runnable"), "{}:\n{plan}", db.name);
        let sorts = due
            .lines()
            .filter(|line| {
                let line = line.trim_start_matches([' ', '-', '>', '|', '`']);
                line.starts_with("Sort ") || line.contains("TEMP B-TREE FOR ORDER BY")
            })
            .count();
        assert_eq!(sorts, 0, "{}: a claim sorts:\n{plan}", db.name);
    }
}
