//! Workers: claim jobs from the store, run them, record the outcome.
//!
//! Each worker holds a lease on the job it runs and extends it while the job runs, so a job
//! whose worker crashed is claimed again once its lease runs out. A failed attempt is
//! retried with exponential backoff until the store declares it dead. On shutdown a worker
//! lets its job finish within a grace period, then releases it for another process.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};

use crate::store::{Forge, Job, JobKind, JobStatus, Store};

/// How workers behave.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub workers: usize,
    /// How long a claimed job is held before another worker may take it over.
    pub lease: Duration,
    /// How long an idle worker waits before looking for work again (it is also woken when
    /// a delivery is stored).
    pub idle_poll: Duration,
    /// Attempts before a job is dead.
    pub max_attempts: i32,
    /// How long a job may keep running after shutdown was asked.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 2,
            lease: Duration::from_secs(300),
            idle_poll: Duration::from_secs(5),
            max_attempts: 6,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// What running a job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Nothing could be done for a reason the operator must fix (no forge credentials, …).
    NotConfigured(String),
    /// A transient failure (a forge's 5xx or rate limit): retried later.
    Failed(String),
}

/// Does the work a job stands for.
pub trait Runner: Send + Sync + 'static {
    fn run(&self, job: &Job) -> impl Future<Output = Outcome> + Send;
}

/// The runner of this release: it knows which forges have credentials, and ends the jobs
/// that need a forge client in a visible `not_configured` state with the reason.
#[derive(Debug, Clone, Default)]
pub struct ForgeRunner {
    pub github: bool,
    pub gitlab: bool,
}

impl ForgeRunner {
    /// Which forges have credentials in the environment.
    pub fn from_env() -> ForgeRunner {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        ForgeRunner {
            github: set("POSTURE_GITHUB_TOKEN") || set("POSTURE_GITHUB_APP_ID"),
            gitlab: set("POSTURE_GITLAB_TOKEN"),
        }
    }
}

impl Runner for ForgeRunner {
    async fn run(&self, job: &Job) -> Outcome {
        if job.kind == JobKind::Pause {
            // Storing the pause superseded the queued review; nothing is left to do.
            return Outcome::Done;
        }
        let (configured, how) = match job.forge {
            Forge::GitHub => (
                self.github,
                "set POSTURE_GITHUB_TOKEN, or POSTURE_GITHUB_APP_ID with POSTURE_GITHUB_PRIVATE_KEY_FILE",
            ),
            Forge::GitLab => (
                self.gitlab,
                "set POSTURE_GITLAB_TOKEN (and POSTURE_GITLAB_URL)",
            ),
        };
        if configured {
            Outcome::NotConfigured(format!(
                "{} credentials are set, but this build has no {} client yet: the {} job was recorded and not run",
                job.forge, job.forge, job.kind
            ))
        } else {
            Outcome::NotConfigured(format!("{} is not configured: {how}", job.forge))
        }
    }
}

/// Runs `config.workers` workers until `shutdown` turns true; returns when all have stopped.
pub async fn run_workers<R: Runner>(
    store: Store,
    runner: Arc<R>,
    config: WorkerConfig,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) {
    let process = std::process::id();
    let mut workers = JoinSet::new();
    for n in 0..config.workers.max(1) {
        let worker = Worker {
            id: format!("{}-{process}-{n}", hostname()),
            store: store.clone(),
            runner: runner.clone(),
            config: config.clone(),
            wake: wake.clone(),
            shutdown: shutdown.clone(),
        };
        workers.spawn(worker.run());
    }
    while workers.join_next().await.is_some() {}
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "posture".into())
}

struct Worker<R> {
    id: String,
    store: Store,
    runner: Arc<R>,
    config: WorkerConfig,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
}

impl<R: Runner> Worker<R> {
    async fn run(mut self) {
        while !*self.shutdown.borrow() {
            match self.store.claim(&self.id, self.config.lease).await {
                Ok(Some(job)) => self.process(job).await,
                Ok(None) => self.idle().await,
                Err(error) => {
                    warn!(worker = %self.id, "cannot claim a job: {error}");
                    self.idle().await;
                }
            }
        }
    }

    async fn idle(&mut self) {
        tokio::select! {
            _ = self.shutdown.changed() => {}
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(self.config.idle_poll) => {}
        }
    }

    async fn process(&mut self, job: Job) {
        let span = info_span!(
            "job",
            id = %job.id,
            kind = %job.kind,
            repository = %job.repository,
            delivery = job.delivery_id.as_ref().map(|d| d.0.as_str()).unwrap_or(""),
        );
        async {
            let started = Instant::now();
            let outcome = self.run_holding_lease(&job).await;
            let label = match &outcome {
                Some(Outcome::Done) => "done",
                Some(Outcome::NotConfigured(_)) => "not_configured",
                Some(Outcome::Failed(_)) => "failed",
                None => "released",
            };
            let recorded = match outcome {
                Some(Outcome::Done) => self
                    .store
                    .finish(job.id, &self.id, JobStatus::Done, None)
                    .await
                    .map(|_| ()),
                Some(Outcome::NotConfigured(why)) => {
                    info!("not configured: {why}");
                    self.store
                        .finish(job.id, &self.id, JobStatus::NotConfigured, Some(&why))
                        .await
                        .map(|_| ())
                }
                Some(Outcome::Failed(error)) => {
                    warn!(attempt = job.attempts, "failed: {error}");
                    self.store
                        .fail(job.id, &self.id, &error, self.config.max_attempts)
                        .await
                        .map(|_| ())
                }
                None => self.store.release(job.id, &self.id).await,
            };
            if let Err(error) = recorded {
                warn!("cannot record the outcome: {error}");
            }
            metrics::counter!("posture_jobs_total", "kind" => job.kind.as_str(), "outcome" => label)
                .increment(1);
            metrics::histogram!("posture_job_duration_seconds", "kind" => job.kind.as_str())
                .record(started.elapsed().as_secs_f64());
        }
        .instrument(span)
        .await
    }

    /// Runs the job, extending its lease while it runs; `None` when shutdown came and the
    /// job did not finish within the grace period.
    async fn run_holding_lease(&mut self, job: &Job) -> Option<Outcome> {
        let run = self.runner.run(job);
        tokio::pin!(run);
        let heartbeat = (self.config.lease / 3).max(Duration::from_millis(10));
        loop {
            tokio::select! {
                outcome = &mut run => return Some(outcome),
                _ = tokio::time::sleep(heartbeat) => {
                    if let Err(error) = self.store.extend_lease(job.id, &self.id, self.config.lease).await {
                        warn!("cannot extend the lease: {error}");
                    }
                }
                _ = self.shutdown.changed() => {
                    return tokio::time::timeout(self.config.shutdown_grace, &mut run).await.ok();
                }
            }
        }
    }
}
