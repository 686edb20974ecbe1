//! Workers: claim jobs from the store, run them, record the outcome.
//!
//! Each worker holds a lease on the job it runs and extends it while the job runs, so a job
//! whose worker crashed is claimed again once its lease runs out. A failed attempt is
//! retried with exponential backoff until the store declares it dead. On shutdown a worker
//! lets its job finish within a grace period, then releases it for another process.
//!
//! What a job does is [`runner`]'s business; this module only schedules.

mod breaker;
mod budget;
mod command;
mod digest;
#[cfg(test)]
mod forge_tests;
mod forges;
mod review;
mod runner;
mod schedule;

pub use breaker::BreakerConfig;
pub use budget::{MemoryBudget, OverBudget};
pub use digest::{DigestIssueJob, queue_digest_issues};
pub use forges::{ForgeProvider, Forges, NoForge};
pub use runner::{ForgeRunner, ReviewSettings};
pub use schedule::{expire_acceptances, queue_reconciles, run_reconciles, run_retention};

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};

use crate::store::{Job, JobStatus, Store};
use breaker::Breaker;

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
    /// When transient failures in a row pause claiming (a forge or the network is down).
    pub breaker: BreakerConfig,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 2,
            lease: Duration::from_secs(300),
            idle_poll: Duration::from_secs(5),
            max_attempts: 6,
            shutdown_grace: Duration::from_secs(20),
            breaker: BreakerConfig::default(),
        }
    }
}

/// What running a job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Nothing could be done for a reason the operator must fix (no forge credentials, …).
    NotConfigured(String),
    /// Nothing to do, for a reason worth recording (a draft, no CI run yet, …).
    Skipped(String),
    /// A failure worth retrying (a forge's 5xx, a timeout): retried with backoff until the
    /// job is dead.
    Failed(String),
    /// A failure that trying again cannot mend (401, 403 that is not a rate limit, 404, 422,
    /// a configuration error): the job is dead at once, with the reason.
    Refused(String),
    /// A rate limit: run again after the wait, without counting an attempt.
    Postponed {
        after: Duration,
        reason: String,
    },
}

/// Does the work a job stands for.
pub trait Runner: Send + Sync + 'static {
    fn run(&self, job: &Job) -> impl Future<Output = Outcome> + Send;
}

/// Runs `config.workers` workers until `shutdown` turns true; returns when all have stopped.
/// With no workers the process only receives (workers run in other processes).
pub async fn run_workers<R: Runner>(
    store: Store,
    runner: Arc<R>,
    config: WorkerConfig,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) {
    let process = std::process::id();
    let mut workers = JoinSet::new();
    let breaker = Arc::new(Mutex::new(Breaker::default()));
    for n in 0..config.workers {
        let worker = Worker {
            id: format!("{}-{process}-{n}", hostname()),
            store: store.clone(),
            runner: runner.clone(),
            config: config.clone(),
            wake: wake.clone(),
            shutdown: shutdown.clone(),
            breaker: breaker.clone(),
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
    /// Shared by the process's workers.
    breaker: Arc<Mutex<Breaker>>,
}

impl<R: Runner> Worker<R> {
    async fn run(mut self) {
        while !*self.shutdown.borrow() {
            let paused = self.breaker().paused_for();
            if let Some(pause) = paused {
                tokio::select! {
                    _ = self.shutdown.changed() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
                continue;
            }
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

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(PoisonError::into_inner)
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
            let outcome = if job.attempts > self.config.max_attempts {
                // Its earlier attempts all ended without an outcome: the process running it
                // died (a crash, an out-of-memory kill) and the lease expired. Dead, not
                // tried forever.
                Some(Outcome::Failed(format!(
                    "attempts spent: the worker stopped during each of the last {} attempts",
                    job.attempts - 1
                )))
            } else {
                self.run_holding_lease(&job).await
            };
            let label = match &outcome {
                Some(Outcome::Done) => "done",
                Some(Outcome::NotConfigured(_)) => "not_configured",
                Some(Outcome::Skipped(_)) => "skipped",
                Some(Outcome::Failed(_)) => "failed",
                Some(Outcome::Refused(_)) => "refused",
                Some(Outcome::Postponed { .. }) => "postponed",
                None => "released",
            };
            if outcome.is_some() {
                let failed = matches!(outcome, Some(Outcome::Failed(_)));
                if let Some(pause) = self.breaker().record(failed, &self.config.breaker) {
                    warn!(
                        pause_seconds = pause.as_secs_f64(),
                        "{} or more jobs failed in a row: claims paused (is a forge or the network down?)",
                        self.config.breaker.failures
                    );
                    metrics::counter!("posture_worker_pauses_total").increment(1);
                }
            }
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
                Some(Outcome::Refused(error)) => {
                    warn!("refused, not retried: {error}");
                    // Dead now: no attempt left to spend on what cannot succeed.
                    self.store
                        .fail(job.id, &self.id, &error, job.attempts)
                        .await
                        .map(|_| ())
                }
                Some(Outcome::Skipped(why)) => {
                    info!("skipped: {why}");
                    self.store
                        .finish(job.id, &self.id, JobStatus::Done, Some(&why))
                        .await
                        .map(|_| ())
                }
                Some(Outcome::Postponed { after, reason }) => {
                    info!(after_seconds = after.as_secs(), "postponed: {reason}");
                    self.store
                        .release(job.id, &self.id, after, Some(&reason))
                        .await
                }
                None => {
                    self.store
                        .release(job.id, &self.id, Duration::ZERO, None)
                        .await
                }
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

    /// Runs the job in a task of its own (a panic fails the job, not the worker), extending
    /// its lease while it runs; `None` when shutdown came and the job did not finish within
    /// the grace period (the task is then stopped).
    async fn run_holding_lease(&mut self, job: &Job) -> Option<Outcome> {
        let runner = self.runner.clone();
        let owned = job.clone();
        let mut run = tokio::spawn(async move { runner.run(&owned).await });
        let heartbeat = (self.config.lease / 3).max(Duration::from_millis(10));
        let joined = loop {
            tokio::select! {
                joined = &mut run => break joined,
                _ = tokio::time::sleep(heartbeat) => {
                    if let Err(error) = self.store.extend_lease(job.id, &self.id, self.config.lease).await {
                        warn!("cannot extend the lease: {error}");
                    }
                }
                _ = self.shutdown.changed() => {
                    match tokio::time::timeout(self.config.shutdown_grace, &mut run).await {
                        Ok(joined) => break joined,
                        Err(_) => {
                            run.abort();
                            return None;
                        }
                    }
                }
            }
        };
        Some(match joined {
            Ok(outcome) => outcome,
            Err(error) if error.is_panic() => {
                let panic = error.into_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                Outcome::Failed(format!("the job panicked: {message}"))
            }
            Err(error) => Outcome::Failed(format!("the job's task stopped: {error}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::{Accepted, DeliveryId, Forge, JobId, JobKind, NewDelivery, NewJob};

    async fn store(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    async fn enqueue(store: &Store, forge: Forge, n: i64, kind: JobKind) -> JobId {
        let delivery = NewDelivery {
            forge,
            delivery_id: DeliveryId(format!("d-{n}")),
            event: "pull_request".into(),
            action: Some("opened".into()),
            repository: "octo/app".into(),
            payload: serde_json::json!({}),
        };
        let job = NewJob {
            kind,
            repository: "octo/app".into(),
            pull_request: Some(n),
            head_sha: Some(format!("{n:040}")),
            coalesce_key: Some(format!("{forge}:octo/app#{n}")),
            payload: serde_json::json!({}),
        };
        match store.accept(delivery, vec![job]).await.unwrap() {
            Accepted::Stored { jobs } => jobs[0],
            Accepted::Duplicate => panic!("duplicate"),
        }
    }

    /// Fails every job's first attempt, then succeeds; records what it ran.
    #[derive(Default)]
    struct Flaky {
        runs: Mutex<Vec<(JobId, i32)>>,
    }

    impl Runner for Flaky {
        async fn run(&self, job: &Job) -> Outcome {
            self.runs.lock().unwrap().push((job.id, job.attempts));
            if job.attempts == 1 {
                Outcome::Failed("forge answered 502".into())
            } else {
                Outcome::Done
            }
        }
    }

    fn config() -> WorkerConfig {
        WorkerConfig {
            workers: 2,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(20),
            max_attempts: 3,
            shutdown_grace: Duration::from_secs(1),
            breaker: BreakerConfig::default(),
        }
    }

    /// Runs workers with [`config`] until `done` holds for the store, then stops them.
    async fn run_until(
        store: &Store,
        runner: Arc<impl Runner>,
        done: impl Fn(&[crate::store::JobRow]) -> bool,
    ) {
        run_with_until(store, runner, config(), done).await;
    }

    /// Runs workers with `config` until `done` holds for the store, then stops them.
    async fn run_with_until(
        store: &Store,
        runner: Arc<impl Runner>,
        config: WorkerConfig,
        done: impl Fn(&[crate::store::JobRow]) -> bool,
    ) {
        let (stop, stopped) = watch::channel(false);
        let workers = tokio::spawn(run_workers(
            store.clone(),
            runner,
            config,
            Arc::new(Notify::new()),
            stopped,
        ));
        for _ in 0..500 {
            let rows = store.list_jobs(None, 100).await.unwrap();
            if done(&rows) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.send_replace(true);
        workers.await.unwrap();
    }

    /// Panics on every job of pull request 1, succeeds on the others.
    struct Panicky;

    impl Runner for Panicky {
        async fn run(&self, job: &Job) -> Outcome {
            if job.pull_request == Some(1) {
                panic!("index out of bounds in job {}", job.id);
            }
            Outcome::Done
        }
    }

    #[tokio::test]
    async fn a_panicking_job_fails_with_its_message_and_the_worker_goes_on() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = store(&dir).await.with_backoff(crate::store::Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
        });
        let panics = enqueue(&store, Forge::GitHub, 1, JobKind::Review).await;
        let fine = enqueue(&store, Forge::GitHub, 2, JobKind::Review).await;
        let settled = |rows: &[crate::store::JobRow]| {
            rows.iter()
                .all(|r| matches!(r.status, JobStatus::Done | JobStatus::Dead))
        };
        run_until(&store, Arc::new(Panicky), settled).await;
        let dead = store.job(panics).await.unwrap().unwrap();
        assert_eq!((dead.status, dead.attempts), (JobStatus::Dead, 3));
        assert_eq!(
            dead.last_error.as_deref(),
            Some(format!("the job panicked: index out of bounds in job {panics}").as_str())
        );
        assert_eq!(
            store.job(fine).await.unwrap().unwrap().status,
            JobStatus::Done
        );
    }

    /// Refuses every job, as a forge answering 403.
    struct Refusing;

    impl Runner for Refusing {
        async fn run(&self, _: &Job) -> Outcome {
            Outcome::Refused("GitHub refused reading the pull request (403): forbidden".into())
        }
    }

    #[tokio::test]
    async fn a_refused_job_is_dead_at_once_with_its_reason() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = store(&dir).await;
        let id = enqueue(&store, Forge::GitHub, 1, JobKind::Review).await;
        let settled = |rows: &[crate::store::JobRow]| rows[0].status == JobStatus::Dead;
        run_until(&store, Arc::new(Refusing), settled).await;
        let row = store.job(id).await.unwrap().unwrap();
        assert_eq!(
            (row.status, row.attempts),
            (JobStatus::Dead, 1),
            "not retried"
        );
        assert!(row.last_error.unwrap().contains("(403)"));
    }

    #[tokio::test]
    async fn a_job_that_keeps_killing_its_worker_is_dead_once_its_attempts_are_spent() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = store(&dir).await;
        let id = enqueue(&store, Forge::GitHub, 1, JobKind::Review).await;
        // Three claims whose leases ran out, as when the process dies during each.
        for _ in 0..3 {
            let job = store.claim("gone", Duration::ZERO).await.unwrap().unwrap();
            assert_eq!(job.id, id);
        }
        let runner = Arc::new(Flaky::default());
        let settled = |rows: &[crate::store::JobRow]| rows[0].status == JobStatus::Dead;
        run_until(&store, runner.clone(), settled).await;
        let row = store.job(id).await.unwrap().unwrap();
        assert_eq!((row.status, row.attempts), (JobStatus::Dead, 4));
        assert!(
            row.last_error.unwrap().starts_with("attempts spent"),
            "recorded why"
        );
        assert!(
            runner.runs.lock().unwrap().is_empty(),
            "not run a fourth time"
        );
    }

    #[tokio::test]
    async fn jobs_needing_an_unconfigured_forge_end_visibly_not_configured() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = store(&dir).await;
        let review = enqueue(&store, Forge::GitHub, 1, JobKind::Review).await;
        let pause = enqueue(&store, Forge::GitLab, 2, JobKind::Pause).await;
        let baseline = enqueue(&store, Forge::GitLab, 3, JobKind::Baseline).await;
        let runner = Arc::new(ForgeRunner {
            store: store.clone(),
            forges: Arc::new(Forges::default()),
            settings: ReviewSettings::default(),
        });
        let finished = |rows: &[crate::store::JobRow]| rows.iter().all(|r| r.completions == 1);
        run_until(&store, runner, finished).await;
        let review = store.job(review).await.unwrap().unwrap();
        assert_eq!(review.status, JobStatus::NotConfigured);
        assert!(review.message.unwrap().contains("POSTURE_GITHUB_TOKEN"));
        let pause = store.job(pause).await.unwrap().unwrap();
        assert_eq!(pause.status, JobStatus::Done);
        let baseline = store.job(baseline).await.unwrap().unwrap();
        assert_eq!(baseline.status, JobStatus::NotConfigured);
        assert!(baseline.message.unwrap().contains("POSTURE_GITLAB_TOKEN"));
    }

    #[tokio::test]
    async fn a_failed_attempt_is_retried_after_its_backoff_and_completes_once() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = store(&dir).await.with_backoff(crate::store::Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
        });
        let ids = [
            enqueue(&store, Forge::GitHub, 1, JobKind::Review).await,
            enqueue(&store, Forge::GitHub, 2, JobKind::Review).await,
        ];
        let runner = Arc::new(Flaky::default());
        let finished =
            |rows: &[crate::store::JobRow]| rows.iter().all(|r| r.status == JobStatus::Done);
        run_until(&store, runner.clone(), finished).await;
        for id in ids {
            let row = store.job(id).await.unwrap().unwrap();
            assert_eq!(
                (row.status, row.completions, row.attempts),
                (JobStatus::Done, 1, 2)
            );
            assert_eq!(row.last_error.as_deref(), Some("forge answered 502"));
        }
        let mut runs = runner.runs.lock().unwrap().clone();
        runs.sort();
        assert_eq!(
            runs,
            vec![(ids[0], 1), (ids[0], 2), (ids[1], 1), (ids[1], 2)]
        );
    }

    /// Fails every job, as a forge that is down; records how many it ran.
    #[derive(Default)]
    struct Down {
        runs: Mutex<u32>,
    }

    impl Runner for Down {
        async fn run(&self, _: &Job) -> Outcome {
            *self.runs.lock().unwrap() += 1;
            Outcome::Failed("github unavailable: connection refused".into())
        }
    }

    #[tokio::test]
    async fn failures_in_a_row_pause_the_workers_before_every_job_spends_an_attempt() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = store(&dir).await;
        for n in 1..=20 {
            enqueue(&store, Forge::GitHub, n, JobKind::Review).await;
        }
        let runner = Arc::new(Down::default());
        let config = WorkerConfig {
            breaker: BreakerConfig {
                failures: 3,
                first_pause: Duration::from_secs(3600),
                max_pause: Duration::from_secs(3600),
            },
            ..config()
        };
        // Until three failures are recorded: by then the breaker has tripped.
        let failed_thrice = |rows: &[crate::store::JobRow]| {
            rows.iter()
                .filter(|r| r.attempts > 0 && r.status == JobStatus::Queued)
                .count()
                >= 3
        };
        run_with_until(&store, runner.clone(), config, failed_thrice).await;
        // The third failure paused both workers; the other may have had one job in hand.
        let runs = *runner.runs.lock().unwrap();
        assert!((3..=4).contains(&runs), "{runs} jobs ran");
        let untouched = store
            .list_jobs(None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.attempts == 0 && r.status == JobStatus::Queued)
            .count();
        assert!(untouched >= 16, "{untouched} jobs kept all their attempts");
    }
}
