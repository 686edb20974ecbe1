//! The database layer: webhook deliveries, the durable job queue, projects, findings per
//! commit and their history, and the comments posted. One [`Store`] speaks to SQLite (the
//! embedded default) or PostgreSQL (several replicas), with the same SQL where the two
//! agree; migrations live in `migrations/sqlite` and `migrations/postgres`.
//!
//! Timestamps are taken from the application clock (UTC, truncated to microseconds so both
//! databases store them exactly), which assumes replicas keep their clocks in sync.

mod alerts;
mod budgets;
pub mod credentials;
mod digests;
mod findings;
mod history;
pub mod intel;
mod inventory;
mod queue;
mod retention;
mod sessions;
mod sign_in;
mod tokens;
mod triage;
mod types;

#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use alerts::{
    ClaimedMessage, DISPATCH_BATCH, LoggedEvent, OpenBranchFinding, Placement, Retry, SinkKey,
    SinkState, UNHEALTHY_AFTER,
};
pub use credentials::{NewCredentials, StoredCredentials};
pub use digests::DigestIssueRow;
pub use findings::org_of;
pub use history::{
    BranchFinding, BranchStatus, FindingQuery, JsonList, OutOfOrder, ScanCounts, StatusFilter,
};
pub use inventory::{
    ComponentKey, ComponentQuery, ComponentRow, EndpointRow, Replace, ServerRow, package_purl,
};
pub use retention::Pruned;
pub use sessions::{NewSession, SessionRow};
pub use sign_in::{NewSignInAttempt, SignInAttemptRow};
pub use tokens::{AuditEntry, TokenId, TokenRow};
pub use triage::{Applied, EventRow, EventSource, TriageChange};
pub use types::{
    Accepted, Backoff, DeliveryId, EventKind, Forge, HistoryRow, HistoryStatus, Job, JobId,
    JobKind, JobRow, JobStatus, NewDelivery, NewJob, ProjectId, UnknownVariant,
};

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Neither `sqlite:` nor `postgres:`. The URL is shown without its password.
    #[error("unsupported database URL `{url}`: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl { url: String },
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A JSON document (payload, findings) that does not (de)serialise.
    #[error("{what} is not valid JSON: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// Text in the database that no enum variant spells.
    #[error("corrupt row: {0}")]
    Corrupt(#[from] UnknownVariant),
    /// `finish` takes only the final statuses `Done` and `NotConfigured`.
    #[error("a job cannot be finished as {0}")]
    NotFinal(JobStatus),
    /// The job is no longer running under this worker (its lease expired and another
    /// worker claimed it, or it was released).
    #[error("job {job} is not held by worker {worker}")]
    NotHeld { job: JobId, worker: String },
    #[error(transparent)]
    OutOfOrder(#[from] OutOfOrder),
    /// An inventory scan observed before the rows it would replace.
    #[error(
        "observed_at {observed_at} is before the latest {target} inventory of this repository ({latest}); a later scan is already recorded"
    )]
    StaleInventory {
        target: crate::inventory::Target,
        observed_at: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
}

/// A connection pool of either database.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool: the body is compiled once per
/// database, so one piece of SQL serves both wherever their dialects agree. `$pg` tells
/// the body which one it runs on, for the few statements that differ.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
    ($store:expr, |$pool:ident, $pg:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => {
                let $pg = false;
                $body
            }
            $crate::store::Pool::Postgres($pool) => {
                let $pg = true;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// A transaction that is going to write. On SQLite it takes the write lock when it begins
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first fails at once with
/// "database is locked" when it comes to write after another connection committed in
/// between, because SQLite cannot upgrade its stale snapshot; the busy timeout does not
/// apply to that case, so a scan upload failed whenever the alert dispatcher wrote at the
/// same moment. Waiting for the lock up front makes the busy timeout cover it.
trait BeginWrite {
    type Db: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send
    {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send
    {
        self.begin()
    }
}

/// The database. Cheap to clone: the pool is shared.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    backoff: Backoff,
    /// SQLite's hot writers (webhook intake, job claims) take turns here rather than at the
    /// database lock: a writer that finds SQLite's lock held sleeps in steps of up to 100 ms
    /// before it tries again, while this queue wakes the next writer the moment the lock is
    /// free. That sleep was most of a delivery's acknowledgement time at the 99th percentile.
    writers: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Connects to `sqlite://PATH` (the file is created if missing; WAL journal, busy
    /// timeout) or `postgres://…`. Errors name the URL without its password.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let connect_error = |source| StoreError::Connect {
            url: redact(url),
            source,
        };
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Store::from_pool(Pool::Sqlite(pool)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(connect_error)?;
            let pool = PgPoolOptions::new()
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Store::from_pool(Pool::Postgres(pool)))
        } else {
            Err(StoreError::UnsupportedUrl { url: redact(url) })
        }
    }

    fn from_pool(pool: Pool) -> Store {
        Store {
            pool,
            backoff: Backoff::default(),
            writers: Arc::default(),
        }
    }

    /// The same store with other retry delays (tests use a tiny base).
    pub fn with_backoff(mut self, backoff: Backoff) -> Store {
        self.backoff = backoff;
        self
    }

    /// Applies the migrations not applied yet; running it again changes nothing.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Whether every migration this build knows has been applied (for `/readyz`: a replica
    /// of a newer version must not serve an old schema).
    pub async fn schema_is_current(&self) -> Result<bool, StoreError> {
        let (known, applied): (usize, i64) = match &self.pool {
            Pool::Sqlite(pool) => (
                sqlx::migrate!("./migrations/sqlite").migrations.len(),
                sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await?
                    .0,
            ),
            Pool::Postgres(pool) => (
                sqlx::migrate!("./migrations/postgres").migrations.len(),
                sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await?
                    .0,
            ),
        };
        Ok(applied >= known as i64)
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// A turn to write, on SQLite; nothing to wait for on PostgreSQL (see `writers`).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.writers.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Now, truncated to what both databases store exactly.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `time + duration`, saturating far in the future.
fn later(time: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|duration| time.checked_add_signed(duration))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .trunc_subsecs(6)
}

/// The URL with its password and query (which may carry one) replaced, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Only URLs that cannot have a password refuse one; this one has one.
                let _ = parsed.set_password(Some("***"));
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<database URL>".to_owned(),
    }
}
