//! `posture serve` as a process: signed webhooks in, durable jobs out, and nothing lost or
//! run twice when the process is killed with SIGKILL and started again.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hmac::{Hmac, Mac};
use posture::store::{Accepted, DeliveryId, Forge, JobKind, JobStatus, NewDelivery, NewJob, Store};
use sha2::Sha256;

const SECRET: &str = "it's a secret to everybody";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database: &str, workers: &str) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("posture"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                database,
                "--lease-seconds",
                "1",
                "--workers",
                workers,
            ])
            .env("POSTURE_GITHUB_WEBHOOK_SECRET", SECRET)
            .env_remove("POSTURE_GITHUB_TOKEN")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(address) = line.strip_prefix("posture: listening on ") {
                break address.to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base: format!("http://{address}"),
        }
    }

    fn kill(mut self) {
        // SIGKILL: no graceful shutdown, no chance to release anything.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The real pull_request payload with its number changed, so each delivery is its own PR.
fn pull_request(number: i64) -> Vec<u8> {
    let mut payload: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::fixture("github/pull_request_opened.json")).unwrap(),
    )
    .unwrap();
    payload["number"] = number.into();
    payload["pull_request"]["number"] = number.into();
    serde_json::to_vec(&payload).unwrap()
}

async fn deliver(
    client: &reqwest::Client,
    server: &Server,
    delivery: &str,
    body: Vec<u8>,
) -> reqwest::StatusCode {
    client
        .post(format!("{}/webhooks/github", server.base))
        .header("X-GitHub-Event", "pull_request")
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", sign(&body))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_with_sigkill_it_resumes_and_completes_every_job_exactly_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("posture.db").display());
    let store = Store::connect(&database).await.unwrap();
    store.migrate().await.unwrap();
    // A job in flight in a worker that died: claimed, lease running, never finished.
    let orphan = NewDelivery {
        forge: Forge::GitHub,
        delivery_id: DeliveryId("orphan".into()),
        event: "pull_request".into(),
        action: Some("opened".into()),
        repository: "Codertocat/Hello-World".into(),
        payload: serde_json::json!({}),
    };
    let job = NewJob {
        kind: JobKind::Review,
        repository: "Codertocat/Hello-World".into(),
        pull_request: Some(1000),
        head_sha: Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821".into()),
        coalesce_key: Some("github:Codertocat/Hello-World#1000".into()),
        payload: serde_json::json!({}),
    };
    assert!(matches!(
        store.accept(orphan, vec![job]).await.unwrap(),
        Accepted::Stored { .. }
    ));
    let claimed = store
        .claim("crashed-worker", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(claimed.is_some());

    let client = reqwest::Client::new();
    // The first process only receives: every job it acknowledges is still queued when it
    // is killed, beside the orphan in flight.
    let first = Server::start(&database, "0");
    for n in 1..=40 {
        assert_eq!(
            deliver(&client, &first, &format!("d-{n}"), pull_request(n)).await,
            202
        );
    }
    first.kill();
    let queued = store
        .list_jobs(Some(JobStatus::Queued), 1_000)
        .await
        .unwrap();
    assert_eq!(queued.len(), 40);
    let running = store
        .list_jobs(Some(JobStatus::Running), 1_000)
        .await
        .unwrap();
    assert_eq!(running.len(), 1);

    let second = Server::start(&database, "2");
    // A redelivery of an acknowledged event is acknowledged, not run again.
    assert_eq!(deliver(&client, &second, "d-7", pull_request(7)).await, 200);
    for n in 41..=60 {
        assert_eq!(
            deliver(&client, &second, &format!("d-{n}"), pull_request(n)).await,
            202
        );
    }
    let mut rows = Vec::new();
    for _ in 0..1_000 {
        rows = store.list_jobs(None, 1_000).await.unwrap();
        if rows.len() == 61 && rows.iter().all(|r| r.completions == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    second.kill();
    assert_eq!(rows.len(), 61, "one job per delivery, and the orphan");
    for row in &rows {
        assert_eq!(row.completions, 1, "job {} completed once: {row:?}", row.id);
        assert_eq!(row.status, JobStatus::NotConfigured, "{row:?}");
    }
    let orphan = rows.iter().find(|r| r.pull_request == Some(1000)).unwrap();
    assert_ne!(
        orphan.worker.as_deref(),
        Some("crashed-worker"),
        "another worker took it over"
    );
    assert_eq!(orphan.attempts, 2);
}

/// Starts `posture serve` with `extra` arguments and environment, returning the process and
/// the stderr lines printed up to "listening on".
fn start_with(database: &str, args: &[&str], env: &[(&str, &str)]) -> (Child, Vec<String>) {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("posture"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
        .args(["--workers", "0"])
        .args(args)
        .env("POSTURE_GITHUB_WEBHOOK_SECRET", SECRET)
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        let done = line.starts_with("posture: listening on ");
        seen.push(line);
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_move_off_the_public_port_and_unknown_variables_are_named() {
    let dir = tempfile::TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("posture.db").display());
    let (mut child, lines) = start_with(
        &database,
        &["--metrics-listen", "127.0.0.1:0"],
        &[("POSTURE_LISTN", "0.0.0.0:1"), ("POSTURE_GITHUB_TOKEN", "")],
    );
    let warning = lines
        .iter()
        .find(|line| line.contains("POSTURE_LISTN"))
        .expect("a warning for the typo");
    assert!(
        warning.contains("did you mean POSTURE_LISTEN?") && !warning.contains("0.0.0.0:1"),
        "{warning}"
    );
    let address = |prefix: &str| {
        lines
            .iter()
            .find_map(|line| line.strip_prefix(prefix))
            .map(|a| format!("http://{a}"))
            .unwrap()
    };
    let public = address("posture: listening on ");
    let metrics = address("posture: metrics on ");
    let client = reqwest::Client::new();
    let status = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    };
    assert_eq!(status(format!("{metrics}/metrics")).await, 200);
    assert_eq!(status(format!("{public}/metrics")).await, 404);
    assert_eq!(status(format!("{public}/healthz")).await, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Answers nothing for an hour, after telling the test a request arrived.
struct Hang(std::sync::Mutex<std::sync::mpsc::Sender<()>>);

impl wiremock::Respond for Hang {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        let _ = self.0.lock().unwrap().send(());
        wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(3600))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_within_the_grace_period_whatever_a_job_waits_on() {
    let dir = tempfile::TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("posture.db").display());
    let github = wiremock::MockServer::start().await;
    let (arrived, arrival) = std::sync::mpsc::channel();
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Hang(std::sync::Mutex::new(arrived)))
        .mount(&github)
        .await;
    let mut command = common::posture_command();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .args(["--workers", "1", "--shutdown-grace", "1s"])
        .env("POSTURE_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("POSTURE_GITHUB_TOKEN", "ghp_not_a_real_token")
        .env("POSTURE_GITHUB_API_URL", github.uri());
    let server = common::server::Server::spawn(command);
    let client = reqwest::Client::new();
    let status = client
        .post(format!("{}/webhooks/github", server.base))
        .header("X-GitHub-Event", "pull_request")
        .header("X-GitHub-Delivery", "hang-1")
        .header("X-Hub-Signature-256", sign(&pull_request(5)))
        .header("Content-Type", "application/json")
        .body(pull_request(5))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 202);
    // The job is running: its first request to GitHub is waiting on the fake.
    tokio::task::spawn_blocking(move || arrival.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the job called GitHub");

    // SIGTERM: the job has a second to finish, then is released; the process exits cleanly.
    let log = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(log.contains("posture: stopped"), "{log}");
    let store = Store::connect(&database).await.unwrap();
    let jobs = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].status,
        JobStatus::Queued,
        "released for another process: {jobs:?}"
    );
}
