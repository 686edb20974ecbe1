//! The durable job queue: deliveries accepted with their job in one transaction, claims
//! under a lease, completion only by the lease holder, retries with exponential backoff and
//! a dead-letter state.
//!
//! **One job per change at a time.** A job is not claimed while another job of the same
//! change (the same pull or merge request, or the same coalescing key) runs: two deliveries
//! for one head 0.1 s apart would otherwise both post every comment. On SQLite claiming is
//! one `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING …` statement, which takes the
//! database's single write lock before it reads, so claims are serialised. On PostgreSQL the
//! candidate is taken `FOR UPDATE SKIP LOCKED` (claimers on several replicas skip each
//! other's rows), then an advisory lock on its change serialises claimers of one change and
//! the check is made again, seeing what the others committed.
//!
//! **The newest head wins.** Accepting a job supersedes the queued jobs of its change. On
//! PostgreSQL accepts take no lock, and a delivery with one job is accepted in one statement,
//! its own transaction (at 500 deliveries a second, the round trips of a longer transaction
//! were most of an acknowledgement's time), so two accepts for one change at the same moment
//! may not see each other's job. The claim closes that gap: under the change's lock, a candidate with a
//! newer job of its change (in any status) is superseded instead of run, with the change's
//! other older queued jobs.

use std::time::Duration;

use super::{
    Accepted, BeginWrite, DeliveryId, Forge, Job, JobId, JobKind, JobRow, JobStatus, NewDelivery,
    NewJob, Store, StoreError, later, now, with_pool,
};

/// The columns of [`JobRow`], in a `SELECT` or `RETURNING`.
macro_rules! job_row_columns {
    () => {
        "id, kind, status, forge, repository, pull_request, head_sha, delivery_id, attempts, \
         last_error, message, worker, lease_until, run_after, superseded_by, completions, \
         created_at, updated_at"
    };
}

/// Another job of `j`'s change runs under a live lease at `$1`. Each half is a lookup in its
/// own partial index of running jobs (`jobs_running_pull_request`, `jobs_running_coalesce`),
/// which a queue's churn of dead index entries cannot slow down the way a scan of every
/// running row can.
macro_rules! change_busy {
    () => {
        "((j.pull_request IS NOT NULL AND EXISTS (SELECT 1 FROM jobs r \
             WHERE r.status = 'running' AND r.forge = j.forge AND r.repository = j.repository \
             AND r.pull_request = j.pull_request AND r.lease_until > $1 AND r.id <> j.id)) \
          OR (j.coalesce_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobs r \
             WHERE r.status = 'running' AND r.coalesce_key = j.coalesce_key \
             AND r.forge = j.forge AND r.repository = j.repository \
             AND r.lease_until > $1 AND r.id <> j.id)))"
    };
}

/// Claim candidates at `$1`, best first: a job running under an expired lease (its worker
/// died), else the queued job due first. Each half walks its own partial index in order
/// (`jobs_leased`, `jobs_runnable`) and stops at its first free row, so a claim costs the
/// same with ten or ten thousand jobs waiting. (One `ORDER BY` over both kinds of row could
/// use neither index: it sorted the whole backlog on every claim, 20 ms at 11,000 jobs.)
/// `$select` is what each half returns, `$lock` is empty or PostgreSQL's row lock, and
/// `$leased`/`$runnable` name the table with SQLite's index hint or without (SQLite has no
/// statistics to choose the index by, and took the status index, then sorted).
macro_rules! candidates {
    ($select:literal, $lock:literal, $leased:literal, $runnable:literal) => {
        concat!(
            "SELECT * FROM (SELECT ",
            $select,
            " FROM ",
            $leased,
            " WHERE j.status = 'running' AND j.lease_until <= $1 AND NOT ",
            change_busy!(),
            " ORDER BY j.lease_until, j.id LIMIT 1",
            $lock,
            ") expired UNION ALL SELECT * FROM (SELECT ",
            $select,
            " FROM ",
            $runnable,
            " WHERE j.status = 'queued' AND j.run_after <= $1 AND NOT ",
            change_busy!(),
            " ORDER BY j.run_after, j.id LIMIT 1",
            $lock,
            ") due LIMIT 1"
        )
    };
}

/// What a claim returns.
macro_rules! claimed_columns {
    () => {
        "id, kind, forge, repository, pull_request, head_sha, delivery_id, payload, attempts"
    };
}

/// Claims the oldest runnable job whose change is not busy: `$1` now, `$2` the worker, `$3`
/// the new lease end.
pub(super) const CLAIM_SQLITE: &str = concat!(
    "UPDATE jobs SET status = 'running', worker = $2, lease_until = $3, \
     attempts = attempts + 1, updated_at = $1 WHERE id = (",
    candidates!(
        "j.id",
        "",
        "jobs j INDEXED BY jobs_leased",
        "jobs j INDEXED BY jobs_runnable"
    ),
    ") RETURNING ",
    claimed_columns!()
);

/// PostgreSQL's candidate for a claim (`$1` now), locked; its change's lock key follows.
pub(super) const CANDIDATE_POSTGRES: &str = candidates!(
    "j.id, j.forge, j.repository, j.pull_request, j.coalesce_key",
    " FOR UPDATE SKIP LOCKED",
    "jobs j",
    "jobs j"
);

/// Whether job `$2`'s change is busy at `$1`, after the change's lock was taken, and the
/// newest job of its change accepted after it, whatever its status (queued, running or
/// already done: either way this one is out of date), if any.
const BUSY_POSTGRES: &str = concat!(
    "SELECT ",
    change_busy!(),
    ", (SELECT max(n.id) FROM jobs n WHERE n.coalesce_key = j.coalesce_key AND n.id > j.id) \
     FROM jobs j WHERE j.id = $2"
);

/// Supersedes the queued jobs of coalescing key `$3` older than job `$1` (`$2` now) that no
/// other claimer holds: claimers skip rows locked by others instead of waiting for them
/// (each such claimer waits for the change lock this one holds).
const SUPERSEDE_OLDER_POSTGRES: &str = "UPDATE jobs SET status = 'superseded', \
     superseded_by = $1, updated_at = $2 WHERE id IN (SELECT id FROM jobs \
     WHERE coalesce_key = $3 AND status = 'queued' AND id < $1 FOR UPDATE SKIP LOCKED)";

/// Claims job `$4` (`$1` now, `$2` the worker, `$3` the new lease end).
const CLAIM_ONE: &str = concat!(
    "UPDATE jobs SET status = 'running', worker = $2, lease_until = $3, \
     attempts = attempts + 1, updated_at = $1 WHERE id = $4 RETURNING ",
    claimed_columns!()
);

/// A claim's candidate: id, forge, repository, pull request, coalescing key.
type Candidate = (i64, String, String, Option<i64>, Option<String>);

/// Candidates a PostgreSQL claim looks at before it lets the worker idle.
const CLAIM_TRIES: usize = 8;

const INSERT_DELIVERY: &str = "INSERT INTO deliveries \
     (forge, delivery_id, event, action, repository, payload, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (forge, delivery_id) DO NOTHING RETURNING id";

const INSERT_JOB: &str = "INSERT INTO jobs \
     (kind, status, forge, repository, pull_request, head_sha, delivery_id, coalesce_key, \
      payload, attempts, run_after, completions, created_at, updated_at) \
     VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8, 0, $9, 0, $9, $9) RETURNING id";

/// A delivery and its one job (`$8`…), and the supersession of its change's queued jobs, in
/// one PostgreSQL statement. Returns the delivery's row id (none: a redelivery) and the job's.
const ACCEPT_ONE_POSTGRES: &str = "WITH delivery AS (INSERT INTO deliveries \
     (forge, delivery_id, event, action, repository, payload, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (forge, delivery_id) DO NOTHING RETURNING id), \
     job AS (INSERT INTO jobs (kind, status, forge, repository, pull_request, head_sha, \
      delivery_id, coalesce_key, payload, attempts, run_after, completions, created_at, \
      updated_at) SELECT $8, 'queued', $1, $9, $10, $11, $2, $12, $13, 0, $7, 0, $7, $7 \
      FROM delivery RETURNING id), \
     superseded AS (UPDATE jobs SET status = 'superseded', superseded_by = job.id, \
      updated_at = $7 FROM job WHERE jobs.coalesce_key = $12 AND jobs.status = 'queued' \
      AND jobs.id <> job.id) \
     SELECT (SELECT id FROM delivery), (SELECT id FROM job)";

const SUPERSEDE: &str = "UPDATE jobs SET status = 'superseded', superseded_by = $1, updated_at = $2 \
     WHERE coalesce_key = $3 AND status = 'queued' AND id <> $1";

/// Serialises PostgreSQL's claimers of one change (the key is `claim:` and the change).
const LOCK_COALESCE_KEY: &str = "SELECT pg_advisory_xact_lock(hashtext($1))";

/// A claimed job as read back from the database.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: JobId,
    #[sqlx(try_from = "String")]
    kind: JobKind,
    #[sqlx(try_from = "String")]
    forge: Forge,
    repository: String,
    pull_request: Option<i64>,
    head_sha: Option<String>,
    delivery_id: Option<DeliveryId>,
    payload: Vec<u8>,
    attempts: i32,
}

impl TryFrom<ClaimedRow> for Job {
    type Error = StoreError;

    fn try_from(row: ClaimedRow) -> Result<Job, StoreError> {
        Ok(Job {
            id: row.id,
            kind: row.kind,
            forge: row.forge,
            repository: row.repository,
            pull_request: row.pull_request,
            head_sha: row.head_sha,
            delivery_id: row.delivery_id,
            payload: from_json("job payload", &row.payload)?,
            attempts: row.attempts,
        })
    }
}

/// A JSON document as stored: its serialised bytes.
pub(super) fn to_json<T: serde::Serialize>(
    what: &'static str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Json { what, source })
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Json { what, source })
}

impl Store {
    /// In one transaction: stores the delivery (unique on forge and delivery id: a
    /// redelivery returns [`Accepted::Duplicate`] and stores nothing), then its jobs (a CI run
    /// may concern several pull requests), which take the delivery's forge. A job with a
    /// coalesce key supersedes every still-queued job with the same key; running ones are
    /// left alone (see the module's doc for concurrent accepts). Answer the forge only after
    /// this returns.
    pub async fn accept(
        &self,
        delivery: NewDelivery,
        jobs: Vec<NewJob>,
    ) -> Result<Accepted, StoreError> {
        let payload = to_json("delivery payload", &delivery.payload)?;
        let jobs = jobs
            .into_iter()
            .map(|job| to_json("job payload", &job.payload).map(|payload| (job, payload)))
            .collect::<Result<Vec<_>, _>>()?;
        let now = now();
        let _turn = self.write_turn().await;
        with_pool!(self, |pool, pg| {
            if let (true, [(job, job_payload)]) = (pg, jobs.as_slice()) {
                let (inserted, job): (Option<i64>, Option<JobId>) =
                    sqlx::query_as(ACCEPT_ONE_POSTGRES)
                        .bind(delivery.forge.as_str())
                        .bind(&delivery.delivery_id)
                        .bind(&delivery.event)
                        .bind(&delivery.action)
                        .bind(&delivery.repository)
                        .bind(&payload)
                        .bind(now)
                        .bind(job.kind.as_str())
                        .bind(&job.repository)
                        .bind(job.pull_request)
                        .bind(&job.head_sha)
                        .bind(&job.coalesce_key)
                        .bind(job_payload)
                        .fetch_one(pool)
                        .await?;
                return Ok(match (inserted, job) {
                    (Some(_), Some(id)) => Accepted::Stored { jobs: vec![id] },
                    _ => Accepted::Duplicate,
                });
            }
            let mut tx = pool.begin_write().await?;
            let inserted: Option<(i64,)> = sqlx::query_as(INSERT_DELIVERY)
                .bind(delivery.forge.as_str())
                .bind(&delivery.delivery_id)
                .bind(&delivery.event)
                .bind(&delivery.action)
                .bind(&delivery.repository)
                .bind(&payload)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if inserted.is_none() {
                tx.rollback().await?;
                return Ok(Accepted::Duplicate);
            }
            let mut ids = Vec::with_capacity(jobs.len());
            for (job, job_payload) in &jobs {
                let (id,): (JobId,) = sqlx::query_as(INSERT_JOB)
                    .bind(job.kind.as_str())
                    .bind(delivery.forge.as_str())
                    .bind(&job.repository)
                    .bind(job.pull_request)
                    .bind(&job.head_sha)
                    .bind(&delivery.delivery_id)
                    .bind(&job.coalesce_key)
                    .bind(job_payload)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                if let Some(key) = &job.coalesce_key {
                    sqlx::query(SUPERSEDE)
                        .bind(id)
                        .bind(now)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
                ids.push(id);
            }
            tx.commit().await?;
            Ok(Accepted::Stored { jobs: ids })
        })
    }

    /// Claims the next runnable job: one running under an expired lease (its worker died),
    /// longest expired first, else the queued one whose `run_after` passed longest ago. It
    /// becomes running under `worker` until `now + lease`, and its attempt count goes up by
    /// one, so a job that keeps killing its worker shows it: check `attempts` against the
    /// maximum and [`Store::fail`] it. Worker names must be unique per process.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, StoreError> {
        let now = now();
        let lease_until = later(now, lease);
        let _turn = self.write_turn().await;
        let row: Option<ClaimedRow> = with_pool!(self, |pool, pg| {
            if !pg {
                sqlx::query_as(CLAIM_SQLITE)
                    .bind(now)
                    .bind(worker)
                    .bind(lease_until)
                    .fetch_optional(pool)
                    .await?
            } else {
                let mut claimed = None;
                for _ in 0..CLAIM_TRIES {
                    let mut tx = pool.begin_write().await?;
                    let candidate: Option<Candidate> = sqlx::query_as(CANDIDATE_POSTGRES)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((id, forge, repository, pull_request, coalesce_key)) = candidate
                    else {
                        break;
                    };
                    let change = match (pull_request, &coalesce_key) {
                        (Some(number), _) => Some(format!("{forge}:{repository}#{number}")),
                        (None, key) => key.clone(),
                    };
                    if let Some(change) = change {
                        sqlx::query(LOCK_COALESCE_KEY)
                            .bind(format!("claim:{change}"))
                            .execute(&mut *tx)
                            .await?;
                        let (busy, newer): (bool, Option<i64>) = sqlx::query_as(BUSY_POSTGRES)
                            .bind(now)
                            .bind(id)
                            .fetch_one(&mut *tx)
                            .await?;
                        if busy {
                            // Another replica claimed a job of this change meanwhile.
                            tx.rollback().await?;
                            continue;
                        }
                        if let (Some(newer), Some(key)) = (newer, &coalesce_key) {
                            // Accepted at the same moment as a newer head: that one runs.
                            sqlx::query(SUPERSEDE_OLDER_POSTGRES)
                                .bind(newer)
                                .bind(now)
                                .bind(key)
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                            continue;
                        }
                    }
                    claimed = sqlx::query_as(CLAIM_ONE)
                        .bind(now)
                        .bind(worker)
                        .bind(lease_until)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    break;
                }
                claimed
            }
        });
        row.map(Job::try_from).transpose()
    }

    /// Extends the lease of a job `worker` holds; false when it no longer does.
    pub async fn extend_lease(
        &self,
        job: JobId,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = now();
        let lease_until = later(now, lease);
        let result = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET lease_until = $1, updated_at = $2 \
                 WHERE id = $3 AND worker = $4 AND status = 'running'",
            )
            .bind(lease_until)
            .bind(now)
            .bind(job)
            .bind(worker)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(result == 1)
    }

    /// Marks a job `Done` or `NotConfigured` (with an optional message), only if `worker`
    /// still holds it: a job whose lease expired and that another worker claimed is not
    /// completed twice. Returns whether it applied.
    pub async fn finish(
        &self,
        job: JobId,
        worker: &str,
        status: JobStatus,
        message: Option<&str>,
    ) -> Result<bool, StoreError> {
        if !matches!(status, JobStatus::Done | JobStatus::NotConfigured) {
            return Err(StoreError::NotFinal(status));
        }
        let now = now();
        let result = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET status = $1, message = $2, lease_until = NULL, \
                 completions = completions + 1, updated_at = $3 \
                 WHERE id = $4 AND worker = $5 AND status = 'running'",
            )
            .bind(status.as_str())
            .bind(message)
            .bind(now)
            .bind(job)
            .bind(worker)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(result == 1)
    }

    /// Records a failed attempt of a job `worker` holds: queued again after the backoff
    /// for its attempt count, or `Dead` once `attempts` reached `max_attempts`; either way
    /// `error` becomes its `last_error`. Returns the new status.
    pub async fn fail(
        &self,
        job: JobId,
        worker: &str,
        error: &str,
        max_attempts: i32,
    ) -> Result<JobStatus, StoreError> {
        let not_held = || StoreError::NotHeld {
            job,
            worker: worker.to_owned(),
        };
        let attempts: Option<(i32,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT attempts FROM jobs WHERE id = $1 AND worker = $2 AND status = 'running'",
            )
            .bind(job)
            .bind(worker)
            .fetch_optional(pool)
            .await
        })?;
        let (attempts,) = attempts.ok_or_else(not_held)?;
        let now = now();
        let (status, run_after) = if attempts >= max_attempts {
            (JobStatus::Dead, now)
        } else {
            (JobStatus::Queued, later(now, self.backoff.delay(attempts)))
        };
        // The attempt count read above guards against a claim in between.
        let result = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET status = $1, run_after = $2, last_error = $3, \
                 lease_until = NULL, updated_at = $4 \
                 WHERE id = $5 AND worker = $6 AND status = 'running' AND attempts = $7",
            )
            .bind(status.as_str())
            .bind(run_after)
            .bind(error)
            .bind(now)
            .bind(job)
            .bind(worker)
            .bind(attempts)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        if result == 1 {
            Ok(status)
        } else {
            Err(not_held())
        }
    }

    /// Gives a running job `worker` holds back to the queue without counting the attempt:
    /// runnable at once on graceful shutdown, or after `after` when a forge's rate limit asks
    /// to wait (`reason` becomes its `last_error`). Does nothing if `worker` does not hold it.
    pub async fn release(
        &self,
        job: JobId,
        worker: &str,
        after: Duration,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, \
                 lease_until = NULL, run_after = $1, updated_at = $2, \
                 last_error = COALESCE($3, last_error) \
                 WHERE id = $4 AND worker = $5 AND status = 'running'",
            )
            .bind(later(now, after))
            .bind(now)
            .bind(reason)
            .bind(job)
            .bind(worker)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// Jobs, newest first, optionally only those in `status`.
    pub async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        limit: i64,
    ) -> Result<Vec<JobRow>, StoreError> {
        let rows = with_pool!(self, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                job_row_columns!(),
                " FROM jobs WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2"
            ))
            .bind(status.map(JobStatus::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Whether a job newer than `than` that may publish on the same change request (a
    /// review or a command) is running: the older one then publishes nothing, so two runs
    /// never post the same comments side by side.
    pub async fn newer_job_running(
        &self,
        forge: Forge,
        repository: &str,
        pull_request: i64,
        than: JobId,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id FROM jobs WHERE status = 'running' AND kind IN ('review', 'command') \
                 AND forge = $1 AND repository = $2 AND pull_request = $3 AND id > $4 LIMIT 1",
            )
            .bind(forge.as_str())
            .bind(repository)
            .bind(pull_request)
            .bind(than)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.is_some())
    }

    /// How many jobs are queued or running.
    pub async fn queue_depth(&self) -> Result<i64, StoreError> {
        let (depth,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')")
                .fetch_one(pool)
                .await
        })?;
        Ok(depth)
    }

    /// One job, with its counters (`completions` must never exceed 1).
    pub async fn job(&self, id: JobId) -> Result<Option<JobRow>, StoreError> {
        let row = with_pool!(self, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                job_row_columns!(),
                " FROM jobs WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }
}
