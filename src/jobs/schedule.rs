//! The periodic reconcile: GitHub never redelivers a webhook on its own, so every
//! `interval` each known project gets a reconcile job that reviews open change requests
//! whose head was never reviewed. Every replica runs this loop; the delivery id names the
//! interval, so however many replicas tick, one job per project and interval is stored.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::store::{Accepted, DeliveryId, JobKind, NewDelivery, NewJob, Store, StoreError};

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
    }
}
