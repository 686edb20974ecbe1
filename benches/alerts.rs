//! Alert outbox throughput, on SQLite and PostgreSQL: how fast the log is read into messages
//! (one message per event, and one group for all), how fast messages are claimed and marked
//! sent, and how fast events are rendered as OCSF. Network time is the sinks' and is left out.
//!
//! ```text
//! cargo bench --bench alerts                         # 20,000 events per database
//! POSTURE_BENCH_EVENTS=100000 cargo bench --bench alerts
//! ```
//!
//! PostgreSQL: `POSTURE_BENCH_DATABASE_URL`, else `POSTURE_TEST_DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`, in a schema of its own dropped at the end. Run
//! as a test (`cargo test --benches`), 500 events.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use posture::alerts::{AlertEvent, Format};
use posture::store::{Forge, LoggedEvent, Placement, SinkKey, Store};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let events: usize = std::env::var("POSTURE_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if benchmarking { 20_000 } else { 500 });
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        render(events);
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
        outbox("SQLite", &sqlite, events).await;
        let base = std::env::var("POSTURE_BENCH_DATABASE_URL")
            .or_else(|_| std::env::var("POSTURE_TEST_DATABASE_URL"))
            .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
        let schema = format!("posture_bench_alerts_{}", std::process::id());
        let mut admin = PgConnection::connect(&base).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut admin)
            .await
            .expect("a schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        outbox("PostgreSQL", &url, events).await;
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&mut admin)
            .await
            .expect("the schema dropped");
    });
}

/// OCSF rendering of `n` events.
fn render(n: usize) {
    let event = AlertEvent::sample("bench", Utc::now());
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes += Format::Ocsf.render(&event).to_string().len();
    }
    report("OCSF rendering", n, started.elapsed(), "events");
    println!("  ({} bytes an event)", bytes / n.max(1));
}

async fn outbox(name: &str, url: &str, n: usize) {
    let store = Store::connect(url).await.expect("a store");
    store.migrate().await.expect("migrations");
    let project = store
        .upsert_project(Forge::GitHub, "bench/app", Some("main"))
        .await
        .expect("a project");
    for (sink, window) in [
        ("each", Duration::ZERO),
        ("grouped", Duration::from_secs(3600)),
    ] {
        let key = SinkKey {
            org: "bench".into(),
            sink: sink.into(),
        };
        store.ensure_alert_sink(&key).await.expect("a sink");
        seed(url, project.0, n).await;
        let started = Instant::now();
        let mut read = 0;
        loop {
            let batch = store
                .dispatch_alerts(&key, |events: &mut [LoggedEvent]| {
                    events
                        .iter()
                        .enumerate()
                        .map(|(event, logged)| Placement {
                            event,
                            rule: "bench".into(),
                            group_key: if window.is_zero() {
                                logged.event.id.clone()
                            } else {
                                "bench/app".into()
                            },
                            window,
                        })
                        .collect()
                })
                .await
                .expect("dispatch");
            read += batch;
            if read >= n && batch == 0 {
                break;
            }
        }
        report(
            &format!("{name}: log read into messages ({sink})"),
            read,
            started.elapsed(),
            "events",
        );
        if window.is_zero() {
            let started = Instant::now();
            let mut sent = 0;
            loop {
                let claimed = store
                    .claim_alert_messages(&key, "bench", 100, Duration::from_secs(60))
                    .await
                    .expect("claim");
                if claimed.is_empty() {
                    break;
                }
                for message in &claimed {
                    store
                        .alert_message_sent(message.id, "bench")
                        .await
                        .expect("sent");
                }
                sent += claimed.len();
            }
            report(
                &format!("{name}: messages claimed and marked sent"),
                sent,
                started.elapsed(),
                "messages",
            );
        }
    }
    store.close().await;
}

/// `n` `detected` events of distinct findings, in one statement per 1,000.
async fn seed(url: &str, project: i64, n: usize) {
    let now = Utc::now();
    let stamp = now.timestamp_micros();
    let sqlite = url.starts_with("sqlite:");
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "({project}, 'f{stamp}-{i}', '{}', 'detected', 'high')",
                    if sqlite {
                        now.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
                    } else {
                        now.to_rfc3339()
                    }
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO finding_events (project_id, finding_id, at, kind, severity) VALUES {}",
            values.join(", ")
        );
        if sqlite {
            let mut connection = sqlx::SqliteConnection::connect(url).await.expect("SQLite");
            sqlx::query(&sql)
                .execute(&mut connection)
                .await
                .expect("seed");
        } else {
            let options = sqlx::postgres::PgConnectOptions::from_str(url).expect("a URL");
            let mut connection = PgConnection::connect_with(&options)
                .await
                .expect("PostgreSQL");
            sqlx::query(&sql)
                .execute(&mut connection)
                .await
                .expect("seed");
        }
    }
}

fn report(what: &str, n: usize, took: Duration, unit: &str) {
    let rate = n as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "{what}: {n} {unit} in {:.3} s, {rate:.0} {unit}/s",
        took.as_secs_f64()
    );
}
