//! Store tests. Every test runs on both databases: SQLite in a temporary directory, and
//! PostgreSQL (`POSTURE_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`)
//! in a schema of its own, dropped afterwards. PostgreSQL being unreachable fails the tests.

mod alerts;
mod branch;
mod budgets;
mod digests;
mod history;
mod intel;
mod owners;
mod queue;
mod triage;

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use tempfile::TempDir;

use super::{Backoff, JobId, Pool, Store, StoreError, redact, with_pool};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

fn postgres_url() -> String {
    std::env::var("POSTURE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// A migrated, empty store and what keeps it alive.
struct TestDb {
    store: Store,
    /// For assertion messages.
    name: &'static str,
    _dir: Option<TempDir>,
    /// The PostgreSQL schema to drop when done.
    schema: Option<String>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: drop the schema
        // from a thread with a runtime of its own (this also runs when the test panicked).
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for cleanup");
            runtime.block_on(async {
                let mut connection = PgConnection::connect(&postgres_url())
                    .await
                    .expect("PostgreSQL for cleanup");
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1",
                )
                .bind(&schema)
                .execute(&mut connection)
                .await
                .expect("the test's connections ended");
                sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .execute(&mut connection)
                    .await
                    .expect("the test schema dropped");
            });
        });
        if cleanup.join().is_err() && !std::thread::panicking() {
            panic!("cleaning up the test schema failed");
        }
    }
}

/// A fresh store on each database, migrated, with `backoff`.
async fn stores_with(backoff: Backoff) -> Vec<TestDb> {
    vec![sqlite(backoff).await, postgres(backoff).await]
}

/// A fresh store on each database, migrated, with the default backoff.
async fn stores() -> Vec<TestDb> {
    stores_with(Backoff::default()).await
}

async fn sqlite(backoff: Backoff) -> TestDb {
    let dir = TempDir::new().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("posture.db").display());
    let store = Store::connect(&url)
        .await
        .expect("SQLite store")
        .with_backoff(backoff);
    store.migrate().await.expect("SQLite migrations");
    TestDb {
        store,
        name: "sqlite",
        _dir: Some(dir),
        schema: None,
    }
}

async fn postgres(backoff: Backoff) -> TestDb {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = postgres_url();
    let schema = format!(
        "posture_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        Utc::now().timestamp_micros()
    );
    let mut admin = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {}: {error}", redact(&url)));
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut admin)
        .await
        .expect("a test schema");
    admin.close().await.expect("close the admin connection");
    let options = PgConnectOptions::from_str(&url)
        .expect("a PostgreSQL URL")
        .options([("search_path", schema.as_str())])
        // Names the test's connections, so cleanup can end those a failed test left in a
        // transaction (a dropped sqlx transaction rolls back only when its connection is
        // used again) before dropping the schema they lock.
        .application_name(&schema);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .expect("a PostgreSQL pool");
    let store = Store::from_pool(Pool::Postgres(pool)).with_backoff(backoff);
    store.migrate().await.expect("PostgreSQL migrations");
    TestDb {
        store,
        name: "postgres",
        _dir: None,
        schema: Some(schema),
    }
}

/// Counts the rows of `table` (a fixed name from the test).
async fn count(store: &Store, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (count,): (i64,) =
        with_pool!(store, |pool| { sqlx::query_as(&sql).fetch_one(pool).await }).expect("a count");
    count
}

/// Sets a timestamp column of a job, to make it due or expire its lease without waiting.
async fn set_job_time(store: &Store, job: JobId, column: &str, time: DateTime<Utc>) {
    let sql = format!("UPDATE jobs SET {column} = $1 WHERE id = $2");
    with_pool!(store, |pool| {
        sqlx::query(&sql)
            .bind(time)
            .bind(job)
            .execute(pool)
            .await
            .map(drop)
    })
    .expect("a job time set");
}

#[tokio::test]
async fn migrations_apply_twice() {
    for db in stores().await {
        db.store.migrate().await.expect("second migration run");
        db.store.ping().await.expect("ping");
        assert_eq!(
            count(&db.store, "_sqlx_migrations").await as usize,
            sqlx::migrate!("./migrations/sqlite").migrations.len(),
            "{}",
            db.name
        );
        assert!(db.store.schema_is_current().await.unwrap(), "{}", db.name);
        assert_eq!(
            db.store.queue_depth().await.expect("depth"),
            0,
            "{}",
            db.name
        );
    }
}

#[tokio::test]
async fn sessions_are_found_by_hash_and_end_when_revoked_expired_or_their_token_is() {
    for db in stores().await {
        let store = &db.store;
        let token = store
            .create_token("acme", "t", "read", "token-hash")
            .await
            .unwrap();
        let now = Utc::now();
        let new = |hash: &'static str, expires_at| super::NewSession {
            session_hash: hash,
            actor: "token 1 (t)",
            method: "token",
            orgs: "acme",
            scopes: "read",
            token_id: Some(token.id),
            expires_at,
            person: None,
        };
        store
            .create_session(&new("live", now + chrono::Duration::hours(8)))
            .await
            .unwrap();
        store
            .create_session(&new("old", now - chrono::Duration::seconds(1)))
            .await
            .unwrap();
        let live = store.session("live").await.unwrap().expect("stored");
        assert_eq!(
            (live.orgs.as_str(), live.method.as_str()),
            ("acme", "token")
        );
        assert!(live.live_at(now), "{}", db.name);
        assert!(!live.live_at(live.expires_at), "{}", db.name);
        let old = store.session("old").await.unwrap().expect("stored");
        assert!(!old.live_at(now), "{}", db.name);
        assert_eq!(store.session("other").await.unwrap(), None);

        assert!(store.revoke_session("old").await.unwrap());
        assert!(!store.revoke_session("old").await.unwrap(), "once");
        assert!(store.revoke_token(token.id).await.unwrap());
        let live = store.session("live").await.unwrap().expect("stored");
        assert!(live.token_revoked && !live.live_at(now), "{}", db.name);

        // Retention deletes the sessions that ended before its cutoff, and only those.
        let pruned = store.prune(now - chrono::Duration::hours(1)).await.unwrap();
        assert_eq!(
            pruned.sessions, 0,
            "{}: both ended within the hour",
            db.name
        );
        let pruned = store.prune(now + chrono::Duration::hours(9)).await.unwrap();
        assert_eq!(pruned.sessions, 2, "{}", db.name);
        assert_eq!(store.session("old").await.unwrap(), None, "{}", db.name);
    }
}

#[tokio::test]
async fn a_sign_in_attempt_is_taken_once_and_expired_ones_are_pruned() {
    for db in stores().await {
        let store = &db.store;
        let now = Utc::now();
        let new = |state: &'static str, expires_at| super::NewSignInAttempt {
            state_hash: state,
            binding_hash: "binding-hash",
            provider: "oidc",
            pkce_verifier: "verifier",
            nonce: Some("nonce"),
            next: Some("/orgs/acme"),
            expires_at,
        };
        store
            .create_sign_in_attempt(&new("old", now - chrono::Duration::seconds(1)))
            .await
            .unwrap();
        store
            .create_sign_in_attempt(&new("other-old", now - chrono::Duration::seconds(1)))
            .await
            .unwrap();
        // Starting a sign-in forgets those that expired.
        store
            .create_sign_in_attempt(&new("live", now + chrono::Duration::minutes(10)))
            .await
            .unwrap();
        assert_eq!(
            store.take_sign_in_attempt("old").await.unwrap(),
            None,
            "{}",
            db.name
        );
        let taken = store
            .take_sign_in_attempt("live")
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(
            (
                taken.provider.as_str(),
                taken.binding_hash.as_str(),
                taken.pkce_verifier.as_str(),
                taken.nonce.as_deref(),
                taken.next.as_deref()
            ),
            (
                "oidc",
                "binding-hash",
                "verifier",
                Some("nonce"),
                Some("/orgs/acme")
            ),
            "{}",
            db.name
        );
        assert_eq!(
            store.take_sign_in_attempt("live").await.unwrap(),
            None,
            "{}: once",
            db.name
        );
        // The state is unique: a second attempt with it is refused, not shadowed.
        store
            .create_sign_in_attempt(&new("dup", now + chrono::Duration::minutes(10)))
            .await
            .unwrap();
        assert!(
            store
                .create_sign_in_attempt(&new("dup", now + chrono::Duration::minutes(10)))
                .await
                .is_err()
        );
        // Retention deletes expired attempts whatever its cutoff.
        store
            .create_sign_in_attempt(&new("soon", now + chrono::Duration::milliseconds(1)))
            .await
            .unwrap();
        let pruned = store
            .prune_sign_in_attempts(now + chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(pruned, 1, "{}", db.name);
        let pruned = store.prune(now - chrono::Duration::days(30)).await.unwrap();
        assert_eq!(pruned.sign_in_attempts, 0, "{}: dup is still live", db.name);
        assert!(store.take_sign_in_attempt("dup").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn connection_errors_hide_the_password() {
    let error = Store::connect("postgres://no_such_role:hunter2@127.0.0.1:5432/test")
        .await
        .expect_err("no such role");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Connect { .. }), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("no_such_role:***@127.0.0.1:5432"),
        "{message}"
    );

    let error = Store::connect("mysql://root:hunter2@localhost/db")
        .await
        .expect_err("unsupported");
    assert_eq!(
        error.to_string(),
        "unsupported database URL `mysql://root:***@localhost/db`: expected sqlite://PATH or postgres://…"
    );
}

#[test]
fn redaction_covers_passwords_in_the_query() {
    let redacted = redact("postgres://u:pw1@db:5432/posture?password=pw2&sslmode=require");
    assert_eq!(redacted, "postgres://u:***@db:5432/posture?***");
    assert_eq!(redact("postgres://db/posture"), "postgres://db/posture");
    assert_eq!(redact("not a url"), "<database URL>");
}

#[tokio::test]
async fn sqlite_creates_a_missing_file() {
    let dir = TempDir::new().expect("a temporary directory");
    let path = dir.path().join("new.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("SQLite store");
    store.migrate().await.expect("migrations");
    assert!(path.exists());
    store.close().await;
}

#[tokio::test]
async fn a_schema_behind_this_build_is_not_current() {
    for db in stores().await {
        with_pool!(db.store, |pool| {
            sqlx::query(
                "DELETE FROM _sqlx_migrations WHERE version = \
                 (SELECT MAX(version) FROM _sqlx_migrations)",
            )
            .execute(pool)
            .await
            .map(drop)
        })
        .unwrap();
        assert!(!db.store.schema_is_current().await.unwrap(), "{}", db.name);
    }
}

#[tokio::test]
async fn a_browser_keeps_its_newest_sign_in_attempts_only() {
    for db in stores().await {
        let store = &db.store;
        let later = Utc::now() + chrono::Duration::minutes(10);
        let states: Vec<String> = (0..7).map(|i| format!("state-{i}")).collect();
        for state in &states {
            let created = store
                .create_sign_in_attempt(&super::NewSignInAttempt {
                    state_hash: state,
                    binding_hash: "one-browser",
                    provider: "github",
                    pkce_verifier: "verifier",
                    nonce: None,
                    next: None,
                    expires_at: later,
                })
                .await
                .unwrap();
            assert!(created.is_some(), "{}", db.name);
        }
        let kept = super::sign_in::ATTEMPTS_PER_BROWSER as usize;
        for (i, state) in states.iter().enumerate() {
            let taken = store.take_sign_in_attempt(state).await.unwrap();
            assert_eq!(
                taken.is_some(),
                i >= states.len() - kept,
                "{} {state}",
                db.name
            );
        }
    }
}
