//! The periodic work: retention ([`run_retention`]), and every `interval` each known project gets a reconcile job (GitHub
//! never redelivers a webhook on its own, so it reviews open change requests whose head was
//! never reviewed), and acceptances past their last day are reopened. Every replica runs
//! this loop; the delivery id names the interval (the day, for expiries), so however many
//! replicas tick, one job per project and interval, and one event per expiry, is stored.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::store::{
    Accepted, Applied, DeliveryId, EventSource, JobKind, NewDelivery, NewJob, Store, StoreError,
    TriageChange,
};

/// Queues one reconcile job per project for the interval that `now` falls in; returns how
/// many were queued (0 when another replica already did).
pub async fn queue_reconciles(store: &Store, interval: Duration) -> Result<usize, StoreError> {
    let bucket = Utc::now().timestamp() / interval.as_secs().max(1) as i64;
    let mut queued = 0;
    for (_, forge, repository) in store.projects().await? {
        let delivery = NewDelivery {
            forge,
            delivery_id: DeliveryId(format!("reconcile:{repository}:{bucket}")),
            event: "reconcile".into(),
            action: None,
            repository: repository.clone(),
            payload: json!({ "trigger": "schedule" }),
        };
        let job = NewJob {
            kind: JobKind::Reconcile,
            coalesce_key: Some(format!("{forge}:{repository}:reconcile")),
            repository,
            pull_request: None,
            head_sha: None,
            payload: json!({ "trigger": "schedule" }),
        };
        if let Accepted::Stored { .. } = store.accept(delivery, vec![job]).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Reopens every acceptance whose last day is before `today` (an `acceptance_expired`
/// event each); returns how many this call reopened. The next review reports them again.
pub async fn expire_acceptances(
    store: &Store,
    today: chrono::NaiveDate,
) -> Result<usize, StoreError> {
    let mut reopened = 0;
    for (project, finding) in store.expired_acceptances(today).await? {
        let source = EventSource {
            at: Utc::now(),
            actor: None,
            comment: None,
            pull_request: None,
            delivery_id: Some(format!("expiry:{today}")),
        };
        let change = TriageChange::Expire { finding };
        if let Applied::Recorded(_) = store.apply_triage(project, &change, &source).await? {
            reopened += 1;
        }
    }
    Ok(reopened)
}

/// Ticks every `interval` until `shutdown` turns true.
pub async fn run_reconciles(store: Store, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = ticker.tick() => {}
        }
        match queue_reconciles(&store, interval).await {
            Ok(queued) => info!(queued, "reconcile scheduled"),
            Err(error) => warn!("cannot schedule the reconcile: {error}"),
        }
        match expire_acceptances(&store, Utc::now().date_naive()).await {
            Ok(0) => {}
            Ok(reopened) => info!(reopened, "expired acceptances reopened"),
            Err(error) => warn!("cannot expire acceptances: {error}"),
        }
    }
}

/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Prunes what is older than `retain` (delivery payloads, finished jobs) at start and then
/// every hour, until `shutdown` turns true. Every replica may run it: pruning twice removes
/// nothing more.
pub async fn run_retention(store: Store, retain: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(PRUNE_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = ticker.tick() => {}
        }
        let cutoff =
            Utc::now() - chrono::Duration::from_std(retain).unwrap_or(chrono::Duration::MAX);
        match store.prune(cutoff).await {
            Ok(pruned) => info!(
                payloads = pruned.payloads,
                jobs = pruned.jobs,
                alerts = pruned.alerts,
                sessions = pruned.sessions,
                sign_in_attempts = pruned.sign_in_attempts,
                "pruned"
            ),
            Err(error) => warn!("cannot prune old deliveries and jobs: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Forge, JobStatus};

    #[tokio::test]
    async fn one_reconcile_per_project_and_interval_however_often_it_ticks() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
            .upsert_project(Forge::GitHub, "octo/app", Some("main"))
            .await
            .unwrap();
        store
            .upsert_project(Forge::GitLab, "group/api", None)
            .await
            .unwrap();
        let hour = Duration::from_secs(3600);
        assert_eq!(queue_reconciles(&store, hour).await.unwrap(), 2);
        // A second replica (or tick) in the same interval queues nothing more.
        assert_eq!(queue_reconciles(&store, hour).await.unwrap(), 0);
        let jobs = store.list_jobs(Some(JobStatus::Queued), 10).await.unwrap();
        let mut queued: Vec<(JobKind, Forge, String)> = jobs
            .into_iter()
            .map(|job| (job.kind, job.forge, job.repository))
            .collect();
        queued.sort_by(|a, b| a.2.cmp(&b.2));
        assert_eq!(
            queued,
            [
                (JobKind::Reconcile, Forge::GitLab, "group/api".to_owned()),
                (JobKind::Reconcile, Forge::GitHub, "octo/app".to_owned()),
            ]
        );
    }
}
