//! The boundary between the HTTP receiver and durable storage: what a verified delivery asks of
//! posture ([`Delivery`], [`NewJob`]) and the [`Intake`] trait the store implements.
//!
//! The receiver acknowledges a webhook only after [`Intake::accept`] returns, so whatever the
//! implementation commits before returning is what "acknowledged" means.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Notify;

use serde_json::Value;

use crate::store::{DeliveryId, NewDelivery, Store};
pub use crate::store::{Forge, JobKind, NewJob};

/// A verified webhook delivery, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub forge: Forge,
    /// `X-GitHub-Delivery` or `X-Gitlab-Event-UUID`: the de-duplication key within a forge.
    pub delivery_id: String,
    /// The event's canonical name: GitHub's `X-GitHub-Event` (`pull_request`, `push`, …) or
    /// GitLab's `object_kind` (`merge_request`, `pipeline`, `push`, `note`).
    pub event: String,
    /// The payload's action (`opened`, `synchronize`, GitLab's `open`/`update`, …), if any.
    pub action: Option<String>,
    /// `owner/name` (GitHub) or the project's `path_with_namespace` (GitLab). `None` for
    /// events about an installation rather than a repository.
    pub repository: Option<String>,
    /// The whole payload as sent.
    pub payload: Value,
}

/// The result of a successful [`Intake::accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The delivery and its jobs are committed.
    Stored,
    /// This forge's delivery id was already stored: nothing new was committed.
    Duplicate,
}

/// Storage failed; the receiver answers 503 so the forge redelivers.
#[derive(Debug, thiserror::Error)]
#[error("the delivery could not be stored")]
pub struct IntakeError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

/// Durable storage of deliveries and their jobs.
pub trait Intake: Send + Sync + 'static {
    /// Stores the delivery and its jobs (possibly none) atomically, de-duplicating by
    /// `(forge, delivery_id)`; returns only after both are committed.
    fn accept(
        &self,
        delivery: Delivery,
        jobs: Vec<NewJob>,
    ) -> impl Future<Output = Result<Accepted, IntakeError>> + Send;

    /// Whether storage is reachable and its schema migrated (`/readyz`).
    fn ready(&self) -> impl Future<Output = bool> + Send;

    /// Jobs waiting to run, for the `posture_queue_depth` gauge; `None` when unknown.
    fn queue_depth(&self) -> impl Future<Output = Option<i64>> + Send;
}

/// The intake of a running server: the store, and a bell that wakes idle workers as soon as a
/// delivery with jobs is committed.
#[derive(Clone)]
pub struct StoreIntake {
    pub store: Store,
    pub wake: Arc<Notify>,
}

impl Intake for StoreIntake {
    async fn accept(&self, delivery: Delivery, jobs: Vec<NewJob>) -> Result<Accepted, IntakeError> {
        let installation = installation_of(&delivery);
        let delivery = NewDelivery {
            forge: delivery.forge,
            delivery_id: DeliveryId(delivery.delivery_id),
            event: delivery.event,
            action: delivery.action,
            repository: delivery.repository.unwrap_or_default(),
            payload: delivery.payload,
        };
        match self.store.accept(delivery, jobs).await {
            Ok(crate::store::Accepted::Stored { jobs }) => {
                if let Some((forge, id, account)) = installation {
                    // The delivery is stored either way; the installation row is a cache of it.
                    if let Err(error) = self.store.upsert_installation(forge, id, &account).await {
                        tracing::warn!(
                            installation_id = id,
                            "cannot record the installation: {error}"
                        );
                    }
                }
                if !jobs.is_empty() {
                    self.wake.notify_waiters();
                }
                Ok(Accepted::Stored)
            }
            Ok(crate::store::Accepted::Duplicate) => Ok(Accepted::Duplicate),
            Err(error) => Err(IntakeError(Box::new(error))),
        }
    }

    async fn ready(&self) -> bool {
        matches!(self.store.schema_is_current().await, Ok(true))
    }

    async fn queue_depth(&self) -> Option<i64> {
        self.store.queue_depth().await.ok()
    }
}

/// The GitHub App installation an `installation*` event is about: id and account login.
fn installation_of(delivery: &Delivery) -> Option<(Forge, i64, String)> {
    if !matches!(
        delivery.event.as_str(),
        "installation" | "installation_repositories"
    ) {
        return None;
    }
    let installation = delivery.payload.get("installation")?;
    let id = installation.get("id")?.as_i64()?;
    let account = installation
        .pointer("/account/login")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((delivery.forge, id, account))
}
