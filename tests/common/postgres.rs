//! A fresh PostgreSQL schema per test, at `POSTURE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`): created, addressed by a URL whose connections
//! use it, and dropped afterwards. PostgreSQL being unreachable fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server the tests use.
pub fn url() -> String {
    std::env::var("POSTURE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// Creates a schema named after `prefix`, the process and a counter; returns it and a URL
/// whose connections have it as their `search_path`.
pub async fn create_schema(prefix: &str) -> (String, String) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = url();
    let schema = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    let mut admin = PgConnection::connect(&base)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {base}: {error}"));
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    // The application name lets cleanup end connections left in a transaction.
    let url =
        format!("{base}{separator}options=-c%20search_path%3D{schema}&application_name={schema}");
    (schema, url)
}

/// Drops `schema`. Called from `Drop`, which runs inside the test's runtime and cannot block
/// on it: the drop runs on a thread with a runtime of its own (also when the test panicked).
pub fn drop_schema(schema: String) {
    let cleanup = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut connection = PgConnection::connect(&url())
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
