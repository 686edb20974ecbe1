//! Alerts end to end: a real `posture serve` process with alert sinks in its settings file,
//! scans uploaded over the API, and real HTTP receivers on loopback (a signed webhook, a
//! Slack-shaped and a Splunk-shaped endpoint) plus a file sink read back. On SQLite and on
//! PostgreSQL (`POSTURE_TEST_DATABASE_URL`).
//!
//! What is shown: every sink gets its events in its format (OCSF validated against the
//! published schema), webhooks are signed per Standard Webhooks and carry CloudEvents fields,
//! a burst of 100 findings is one Slack message, a receiver failing three times gets the
//! message on the fourth try with the same id, a sink out of attempts is dead and unhealthy
//! until `posture sinks retry`, a SIGKILL between commit and delivery loses nothing, and no
//! secret reaches a log or a listing.

mod common;
#[path = "common/ocsf.rs"]
#[allow(dead_code)]
mod ocsf;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tempfile::TempDir;
use tokio::sync::Notify;

use common::server::Server;
use common::{Run, posture_with_env as posture};

/// The webhook signing secret, in the Standard Webhooks spelling.
const HOOK_SECRET: &str = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci1wb3N0dXJl";
const SPLUNK_TOKEN: &str = "11111111-2222-3333-4444-splunk-token";
/// Slack's webhook URL is a secret: its path is.
const SLACK_PATH: &str = "/services/T0POSTURE/B0ALERTS/slacksecretpath";
const COMMIT: &str = "3333333333333333333333333333333333333333";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

// ---------------------------------------------------------------------------------------
// Receivers

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: String,
    /// What it answered.
    status: u16,
}

#[derive(Default)]
struct ReceiverState {
    requests: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; 200 once empty (or `always` when set). 0 never answers.
    answers: Mutex<VecDeque<u16>>,
    always: Mutex<Option<u16>>,
    arrived: Notify,
}

/// An HTTP server on loopback that records every request.
#[derive(Clone)]
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start() -> Receiver {
        async fn record(
            State(state): State<Arc<ReceiverState>>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            body: String,
        ) -> (StatusCode, String) {
            let status = match *state.always.lock().unwrap() {
                Some(status) => status,
                None => state.answers.lock().unwrap().pop_front().unwrap_or(200),
            };
            state.requests.lock().unwrap().push(Received {
                path: uri.path().to_owned(),
                headers,
                body,
                status,
            });
            state.arrived.notify_waiters();
            if status == 0 {
                // Holds the request open: the sender is mid-delivery for good.
                std::future::pending::<()>().await;
            }
            let answer = if status == 200 {
                r#"{"text":"Success","code":0}"#
            } else {
                "receiver says no"
            };
            (StatusCode::from_u16(status).unwrap(), answer.to_owned())
        }
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new()
            .fallback(axum::routing::post(record))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, state }
    }

    fn requests(&self) -> Vec<Received> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests answered 200.
    fn delivered(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    fn answer(&self, statuses: &[u16]) {
        self.state.answers.lock().unwrap().extend(statuses);
    }

    fn always(&self, status: Option<u16>) {
        *self.state.always.lock().unwrap() = status;
    }

    /// Waits (woken by each request, at most 30 s) until `done` holds for the requests.
    async fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let arrived = self.state.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if done(&self.requests()) {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "timed out waiting for {what}; got {} request(s): {:#?}",
                    self.requests().len(),
                    self.requests()
                        .iter()
                        .map(|r| (&r.path, r.status))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server

/// A database, a settings file naming the receivers, and the environment holding secrets.
struct Setup {
    database: String,
    dir: TempDir,
    settings: PathBuf,
    alerts_file: PathBuf,
    schema: Option<String>,
    webhook: Receiver,
    slack: Receiver,
    splunk: Receiver,
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            common::postgres::drop_schema(schema);
        }
    }
}

impl Setup {
    /// `rules` is the YAML list of `orgs.acme.alerts`.
    async fn new(backend: Backend, rules: &str) -> Setup {
        let dir = TempDir::new().unwrap();
        let (database, schema) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("posture.db").display()),
                None,
            ),
            Backend::Postgres => {
                let (schema, url) = common::postgres::create_schema("posture_alerts").await;
                (url, Some(schema))
            }
        };
        let run = posture(&["migrate", "--database", &database], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (webhook, slack, splunk) = (
            Receiver::start().await,
            Receiver::start().await,
            Receiver::start().await,
        );
        let alerts_file = dir.path().join("siem").join("alerts.jsonl");
        let settings = dir.path().join("settings.yml");
        let setup = Setup {
            database,
            dir,
            settings,
            alerts_file,
            schema,
            webhook,
            slack,
            splunk,
        };
        setup.write_rules(rules);
        setup
    }

    /// Writes the settings file with `rules` as `orgs.acme.alerts`.
    fn write_rules(&self, rules: &str) {
        let (webhook, splunk, alerts_file) = (&self.webhook, &self.splunk, &self.alerts_file);
        std::fs::write(
            &self.settings,
            format!(
                "orgs:\n  acme:\n    sinks:\n      \
                 - {{name: secops-hook, type: webhook, url: \"{}/posture\", secret_env: POSTURE_HOOK_SECRET, format: ocsf}}\n      \
                 - {{name: slack-secops, type: slack, url_env: POSTURE_SLACK_WEBHOOK}}\n      \
                 - {{name: splunk, type: splunk_hec, url: \"{}/services/collector/event\", token_env: POSTURE_SPLUNK_TOKEN, format: ecs}}\n      \
                 - {{name: siem, type: file, path: \"{}\", format: ocsf}}\n    \
                 alerts:\n{rules}",
                webhook.url,
                splunk.url,
                alerts_file.display()
            ),
        )
        .unwrap();
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("POSTURE_SETTINGS_FILE", self.settings.display().to_string()),
            ("POSTURE_HOOK_SECRET", HOOK_SECRET.to_owned()),
            ("POSTURE_SPLUNK_TOKEN", SPLUNK_TOKEN.to_owned()),
            (
                "POSTURE_SLACK_WEBHOOK",
                format!("{}{SLACK_PATH}", self.slack.url),
            ),
        ]
    }

    fn posture(&self, args: &[&str]) -> Run {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        posture(args, &env)
    }

    fn token(&self) -> String {
        let run = self.posture(&[
            "token",
            "create",
            "--org",
            "acme",
            "--scopes",
            "upload,read",
            "--database",
            &self.database,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.trim().to_owned()
    }

    fn serve(&self, extra_env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_posture"));
        for (key, _) in std::env::vars() {
            if key.starts_with("POSTURE_") {
                command.env_remove(key);
            }
        }
        command
            .args([
                "serve",
                "--database",
                &self.database,
                "--workers",
                "0",
                "--listen",
                "127.0.0.1:0",
            ])
            .envs(self.env())
            .env("POSTURE_ALERT_RETRY", "100ms")
            // As talkative as an operator may make it: still no secret may show.
            .env("POSTURE_LOG", "debug")
            .envs(extra_env.iter().copied());
        Server::spawn(command)
    }

    fn sinks_list(&self) -> String {
        let run = self.posture(&["sinks", "list", "--database", &self.database]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    }

    fn file_events(&self) -> Vec<Value> {
        match std::fs::read_to_string(&self.alerts_file) {
            Ok(text) => text
                .lines()
                .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Every secret the settings name, with the Slack URL's secret path.
    fn secrets(&self) -> [&'static str; 4] {
        [HOOK_SECRET, SPLUNK_TOKEN, SLACK_PATH, "slacksecretpath"]
    }
}

/// What the tests ask of a running server.
trait ServerExt {
    async fn upload(&self, token: &str, repository: &str, report: &Path) -> Value;
    async fn upload_observed(
        &self,
        token: &str,
        repository: &str,
        report: &Path,
        observed_at: Option<&str>,
    ) -> Value;
    async fn metrics(&self) -> String;
}

impl ServerExt for Server {
    async fn upload(&self, token: &str, repository: &str, report: &Path) -> Value {
        self.upload_observed(token, repository, report, None).await
    }

    /// Uploads a scan observed at `observed_at` (RFC 3339; now when `None`).
    async fn upload_observed(
        &self,
        token: &str,
        repository: &str,
        report: &Path,
        observed_at: Option<&str>,
    ) -> Value {
        let bytes = std::fs::read(report).unwrap();
        let mut form = reqwest::multipart::Form::new()
            .text("repository", repository.to_owned())
            .text("commit", COMMIT)
            .text("branch", "main")
            .text("default_branch", "true");
        if let Some(at) = observed_at {
            form = form.text("observed_at", at.to_owned());
        }
        let form = form.part(
            "report",
            reqwest::multipart::Part::bytes(bytes).file_name("bandit.sarif"),
        );
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/scans", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Checks `done` again (yielding in between) until it holds, for at most 20 s: for state
/// the server writes just after a receiver saw its request.
async fn eventually<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::task::yield_now().await;
    }
}

// ---------------------------------------------------------------------------------------
// Reports

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Bandit 1.8.6 on a Flask app, its results replaced by `n` copies of its shell-injection
/// result (high severity), each in a file of its own: `n` findings of one repository.
fn burst(dir: &Path, n: usize) -> PathBuf {
    let mut sarif = read_json(&common::fixture("sarif/bandit_1.8.6_flask.sarif"));
    let results = sarif["runs"][0]["results"].as_array_mut().unwrap();
    let template = results
        .iter()
        .find(|r| r["ruleId"] == "B602")
        .expect("a B602 result")
        .clone();
    *results = (0..n)
        .map(|i| {
            let mut copy = template.clone();
            copy["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
                json!(format!("jobs/task_{i:03}.py"));
            copy
        })
        .collect();
    let path = dir.join(format!("burst-{n}.sarif"));
    std::fs::write(&path, serde_json::to_vec(&sarif).unwrap()).unwrap();
    path
}

/// Checks the Standard Webhooks signature of a delivery.
fn verify_signature(request: &Received) {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let key = BASE64
        .decode(HOOK_SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{}", request.body).as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    assert_eq!(header("webhook-signature"), expected);
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..120).contains(&age), "a fresh timestamp: {age} s old");
}

fn no_secrets(setup: &Setup, what: &str, text: &str) {
    for secret in setup.secrets() {
        assert!(
            !text.contains(secret),
            "{what} shows a secret ({secret}):\n{text}"
        );
    }
}

const ALL_RULES: &str = "      - {name: every-finding, on: [finding.detected, finding.fixed], to: [secops-hook, splunk, siem]}\n      \
     - {name: burst, on: [finding.detected], when: {severity_at_least: high}, to: [slack-secops], group: {by: repository, window: 2s}}\n";

// ---------------------------------------------------------------------------------------
// The tests

async fn every_sink_gets_its_events(backend: Backend) {
    let setup = Setup::new(backend, ALL_RULES).await;
    let server = setup.serve(&[]);
    let token = setup.token();
    let accepted = server
        .upload(&token, "acme/app", &burst(setup.dir.path(), 100))
        .await;
    assert_eq!(accepted["new"], 100, "{accepted}");

    // The webhook: one signed CloudEvent per event (the rule has no group), OCSF inside.
    setup
        .webhook
        .wait_until("100 webhooks", |r| r.len() >= 100)
        .await;
    // Slack: the burst is one message, sent when the 2 s window closes.
    setup
        .slack
        .wait_until("the Slack message", |r| !r.is_empty())
        .await;
    // Splunk: batches, until all 100 events are in.
    let splunk_events = |requests: &[Received]| {
        requests
            .iter()
            .map(|r| r.body.lines().count())
            .sum::<usize>()
    };
    setup
        .splunk
        .wait_until("100 Splunk events", |r| splunk_events(r) >= 100)
        .await;
    let log = server.terminate();

    let schema = ocsf::Schema::load();
    let hooks = setup.webhook.requests();
    assert_eq!(hooks.len(), 100, "one message per event, none twice");
    let mut ids = std::collections::HashSet::new();
    let mut event_ids = std::collections::HashSet::new();
    for hook in &hooks {
        assert_eq!(hook.path, "/posture");
        assert_eq!(hook.headers["content-type"], "application/cloudevents+json");
        verify_signature(hook);
        let envelope: Value = serde_json::from_str(&hook.body).unwrap();
        assert_eq!(envelope["specversion"], "1.0");
        assert_eq!(envelope["type"], "dev.posture.finding.detected");
        assert_eq!(envelope["source"], "urn:posture:org:acme");
        assert_eq!(envelope["subject"], "acme/app");
        assert_eq!(envelope["id"], hook.headers["webhook-id"].to_str().unwrap());
        assert!(ids.insert(envelope["id"].as_str().unwrap().to_owned()));
        assert_eq!(envelope["data"]["count"], 1);
        let event = &envelope["data"]["events"][0];
        let errors = schema.validate(event);
        assert!(errors.is_empty(), "OCSF errors: {errors:#?}\n{event:#}");
        assert_eq!(event["class_uid"], 2007);
        assert_eq!(event["activity_id"], 1);
        assert_eq!(event["severity_id"], 4, "Bandit B602 is high");
        assert!(event_ids.insert(event["metadata"]["uid"].as_str().unwrap().to_owned()));
    }

    let slack = setup.slack.requests();
    assert_eq!(slack.len(), 1, "one message for the burst: {slack:#?}");
    assert_eq!(slack[0].path, SLACK_PATH);
    let message: Value = serde_json::from_str(&slack[0].body).unwrap();
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 50);
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .contains("100 events in acme/app"),
        "{message:#}"
    );
    let context = blocks[49]["elements"][0]["text"].as_str().unwrap();
    assert!(context.starts_with("…and 52 more"), "{context}");

    let mut splunk_ids = std::collections::HashSet::new();
    for request in setup.splunk.requests() {
        assert_eq!(request.path, "/services/collector/event");
        assert_eq!(
            request.headers["authorization"],
            format!("Splunk {SPLUNK_TOKEN}").as_str()
        );
        for line in request.body.lines() {
            let entry: Value = serde_json::from_str(line).unwrap();
            assert_eq!(entry["sourcetype"], "posture:ecs");
            assert!(entry["time"].as_f64().unwrap() > 1.7e9);
            let ecs = &entry["event"];
            assert_eq!(ecs["event"]["action"], "finding.detected");
            assert_eq!(ecs["event"]["kind"], "alert");
            assert_eq!(ecs["rule"]["id"], "B602");
            assert!(splunk_ids.insert(ecs["event"]["id"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(splunk_ids, event_ids, "the same events, with the same ids");

    let lines = setup.file_events();
    assert_eq!(lines.len(), 100);
    let file_ids: std::collections::HashSet<String> = lines
        .iter()
        .map(|event| {
            let errors = schema.validate(event);
            assert!(errors.is_empty(), "OCSF errors: {errors:#?}");
            event["metadata"]["uid"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(file_ids, event_ids);

    let listing = setup.sinks_list();
    for sink in [
        "acme/secops-hook",
        "acme/slack-secops",
        "acme/splunk",
        "acme/siem",
    ] {
        let line = listing
            .lines()
            .find(|line| line.starts_with(sink))
            .unwrap_or_else(|| panic!("{sink} in:\n{listing}"));
        assert!(line.contains("healthy"), "{line}");
    }
    no_secrets(&setup, "the log", &log);
    no_secrets(&setup, "posture sinks list", &listing);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sink_gets_its_events_on_sqlite() {
    every_sink_gets_its_events(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sink_gets_its_events_on_postgres() {
    every_sink_gets_its_events(Backend::Postgres).await;
}

async fn failures_are_retried_then_dead_then_retried_by_hand(backend: Backend) {
    let setup = Setup::new(
        backend,
        "      - {name: hook, on: [finding.detected], to: [secops-hook]}\n      \
         - {name: chat, on: [finding.detected], to: [slack-secops], group: {by: org, window: 1s}}\n",
    )
    .await;
    // The webhook fails three times, then answers; Slack never answers.
    setup.webhook.answer(&[500, 500, 500]);
    setup.slack.always(Some(503));
    let server = setup.serve(&[("POSTURE_ALERT_MAX_ATTEMPTS", "4")]);
    let token = setup.token();
    server
        .upload(&token, "acme/app", &burst(setup.dir.path(), 1))
        .await;
    setup
        .webhook
        .wait_until("a delivery", |r| r.iter().any(|r| r.status == 200))
        .await;
    setup
        .slack
        .wait_until("four attempts", |r| r.len() >= 4)
        .await;
    let hooks = setup.webhook.requests();
    assert_eq!(
        hooks.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );
    let ids: std::collections::HashSet<&str> = hooks
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "every retry carries the message's id");
    for hook in &hooks {
        verify_signature(hook);
    }

    // Slack is out of attempts: dead, and the sink unhealthy, in the listing and /metrics.
    let dead_listed = |listing: &str| {
        listing
            .lines()
            .find(|line| line.starts_with("acme/slack-secops"))
            .map(|line| {
                line.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
    };
    // The fourth failure is recorded just after the receiver answered it.
    eventually("the dead message listed", || async {
        dead_listed(&setup.sinks_list()).is_some_and(|cols| cols[5] == "0" && cols[7] == "1")
    })
    .await;
    let listing = setup.sinks_list();
    let slack = dead_listed(&listing).unwrap();
    assert_eq!(
        slack[..9].join(" "),
        "acme/slack-secops slack posture down ×4 0 0 1 0",
        "{listing}"
    );
    assert!(
        listing.contains("HTTP 503 Service Unavailable: receiver says no"),
        "{listing}"
    );
    let hook_line = listing
        .lines()
        .find(|l| l.starts_with("acme/secops-hook"))
        .unwrap();
    assert!(hook_line.contains(" healthy "), "{hook_line}");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(
            r#"posture_sink_deliveries_total{sink="acme/slack-secops",outcome="dead"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"posture_sink_deliveries_total{sink="acme/slack-secops",outcome="failed"} 3"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"posture_sink_healthy{sink="acme/slack-secops"} 0"#));
    assert!(
        metrics.contains(
            r#"posture_sink_deliveries_total{sink="acme/secops-hook",outcome="delivered"} 1"#
        ),
        "{metrics}"
    );

    // Slack answers again; `posture sinks retry` queues the dead message, and it arrives.
    setup.slack.always(None);
    let run = setup.posture(&[
        "sinks",
        "retry",
        "slack-secops",
        "--database",
        &setup.database,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 dead message(s) of acme/slack-secops queued again")
    );
    setup
        .slack
        .wait_until("the retried message", |r| r.iter().any(|r| r.status == 200))
        .await;
    eventually("the sink healthy again", || async {
        server
            .metrics()
            .await
            .contains(r#"posture_sink_healthy{sink="acme/slack-secops"} 1"#)
    })
    .await;
    let log = server.terminate();
    assert_eq!(setup.slack.delivered().len(), 1);
    let listing = setup.sinks_list();
    assert!(
        dead_listed(&listing).unwrap()[..8].join(" ")
            == "acme/slack-secops slack posture healthy 0 1 0 0",
        "{listing}"
    );
    assert!(log.contains("alert delivery failed"), "{log}");
    no_secrets(&setup, "the log", &log);
    no_secrets(&setup, "posture sinks list", &listing);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_retried_then_dead_then_retried_by_hand_on_sqlite() {
    failures_are_retried_then_dead_then_retried_by_hand(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_retried_then_dead_then_retried_by_hand_on_postgres() {
    failures_are_retried_then_dead_then_retried_by_hand(Backend::Postgres).await;
}

async fn a_killed_server_delivers_after_restart(backend: Backend) {
    let setup = Setup::new(
        backend,
        "      - {name: hook, on: [finding.detected], to: [secops-hook]}\n      \
         - {name: grouped, on: [finding.detected], to: [siem], group: {by: repository, window: 1h}}\n",
    )
    .await;
    // The receiver takes the first request and never answers: the server is killed while
    // it holds the three messages it claimed.
    setup.webhook.always(Some(0));
    let lease = [("POSTURE_JOB_LEASE_SECONDS", "2")];
    let server = setup.serve(&lease);
    let token = setup.token();
    server
        .upload(&token, "acme/app", &burst(setup.dir.path(), 3))
        .await;
    setup
        .webhook
        .wait_until("the first delivery under way", |r| !r.is_empty())
        .await;
    let log = server.kill();
    // The hour-long window was open when the process died: nothing was written.
    assert!(setup.file_events().is_empty());

    setup.webhook.always(None);
    let first_ids: std::collections::HashSet<String> = setup
        .webhook
        .requests()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    // The next process takes the messages over once the dead one's lease ran out.
    let server = setup.serve(&lease);
    setup
        .webhook
        .wait_until("three deliveries", |r| {
            r.iter().filter(|r| r.status == 200).count() >= 3
        })
        .await;
    // A graceful stop sends the open group at once.
    let log2 = server.terminate();
    let delivered: std::collections::HashSet<String> = setup
        .webhook
        .delivered()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(delivered.len(), 3);
    assert!(
        first_ids.is_subset(&delivered),
        "the message under way at the kill is delivered with its id"
    );
    assert_eq!(setup.webhook.delivered().len(), 3, "each once");
    let lines = setup.file_events();
    assert_eq!(lines.len(), 3, "the group, written at shutdown");
    assert!(log2.contains("alert windows closed at shutdown"), "{log2}");
    no_secrets(&setup, "the log", &format!("{log}{log2}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_delivers_after_restart_on_sqlite() {
    a_killed_server_delivers_after_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_delivers_after_restart_on_postgres() {
    a_killed_server_delivers_after_restart(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sinks_test_sends_a_sample_and_names_missing_secrets() {
    let setup = Setup::new(Backend::Sqlite, ALL_RULES).await;
    let run = setup.posture(&["sinks", "test", "secops-hook"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("delivered to acme/secops-hook"),
        "{}",
        run.stderr
    );
    let hooks = setup.webhook.requests();
    assert_eq!(hooks.len(), 1);
    verify_signature(&hooks[0]);
    let envelope: Value = serde_json::from_str(&hooks[0].body).unwrap();
    let event = &envelope["data"]["events"][0];
    assert!(ocsf::Schema::load().validate(event).is_empty());
    assert_eq!(
        event["finding_info"]["title"],
        "posture test event: this sink is wired up"
    );

    setup.splunk.always(Some(403));
    let run = setup.posture(&["sinks", "test", "splunk"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("refused the sample event: HTTP 403"),
        "{}",
        run.stderr
    );
    no_secrets(&setup, "sinks test", &run.stderr);

    // Without the Slack variable the server refuses to start, naming it and nothing else.
    let run = posture(
        &[
            "serve",
            "--database",
            &setup.database,
            "--listen",
            "127.0.0.1:0",
        ],
        &[
            (
                "POSTURE_SETTINGS_FILE",
                &setup.settings.display().to_string(),
            ),
            ("POSTURE_HOOK_SECRET", HOOK_SECRET),
            ("POSTURE_SPLUNK_TOKEN", SPLUNK_TOKEN),
        ],
    );
    assert_eq!(run.code, 2, "a configuration error: {}", run.stderr);
    assert!(
        run.stderr
            .contains("sink acme/slack-secops: POSTURE_SLACK_WEBHOOK is not set"),
        "{}",
        run.stderr
    );
    no_secrets(&setup, "the refusal", &run.stderr);
    let listing = posture(
        &["sinks", "list", "--database", &setup.database],
        &[(
            "POSTURE_SETTINGS_FILE",
            &setup.settings.display().to_string(),
        )],
    );
    assert!(
        listing.stdout.contains("missing POSTURE_HOOK_SECRET"),
        "{}",
        listing.stdout
    );
}

async fn scheduled_events_and_the_digest_reach_their_sinks(backend: Backend) {
    let sla_rule = "      - {name: sla, on: [finding.sla_breached], to: [siem]}\n";
    let setup = Setup::new(backend, sla_rule).await;
    // A high finding first seen 40 days ago: its 30 days are over.
    let server = setup.serve(&[]);
    let token = setup.token();
    let observed = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let accepted = server
        .upload_observed(
            &token,
            "acme/app",
            &burst(setup.dir.path(), 1),
            Some(&observed),
        )
        .await;
    assert_eq!(accepted["new"], 1);
    server.terminate();
    assert!(
        setup.file_events().is_empty(),
        "no breach seen before the next tick"
    );

    // The next start ticks at once: the breach is written and sent, and the week's digest
    // (a rule added meanwhile) queued for the webhook and Slack.
    setup.write_rules(&format!(
        "{sla_rule}      - {{name: weekly, on: [org.digest], to: [secops-hook, slack-secops]}}\n"
    ));
    let server = setup.serve(&[]);
    setup
        .webhook
        .wait_until("the digest", |r| !r.is_empty())
        .await;
    setup
        .slack
        .wait_until("the digest", |r| !r.is_empty())
        .await;
    server.terminate();
    // Once per finding and due date, once per week: a restart sends nothing again.
    let server = setup.serve(&[]);
    let log = server.terminate();

    let lines = setup.file_events();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let breach = &lines[0];
    let errors = ocsf::Schema::load().validate(breach);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(breach["metadata"]["event_code"], "finding.sla_breached");
    assert_eq!(breach["activity_id"], 2, "an update of the finding");
    assert_eq!(breach["status_id"], 1, "still new: nobody triaged it");

    let hooks = setup.webhook.requests();
    assert_eq!(hooks.len(), 1);
    verify_signature(&hooks[0]);
    let digest: Value = serde_json::from_str(&hooks[0].body).unwrap();
    assert_eq!(digest["type"], "dev.posture.org.digest");
    assert_eq!(digest["subject"], "acme");
    let data = &digest["data"];
    assert_eq!(data["schema"], "posture.digest/1");
    let week = data["week"].as_str().unwrap().to_owned();
    assert!(week.contains("-W"), "{week}");
    assert_eq!(data["summary"]["open"]["high"], 1, "{data:#}");
    assert_eq!(data["summary"]["sla"]["breached_open"], 1, "{data:#}");
    assert_eq!(data["summary"]["repositories"][0]["repository"], "acme/app");

    let slack = setup.slack.requests();
    assert_eq!(slack.len(), 1);
    let message: Value = serde_json::from_str(&slack[0].body).unwrap();
    assert_eq!(
        message["text"],
        format!("posture weekly digest: acme, {week}").as_str()
    );
    let sections: Vec<&str> = message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    assert!(
        sections
            .iter()
            .any(|s| s.starts_with("*SLA:* 1 open past due")),
        "{sections:#?}"
    );
    no_secrets(&setup, "the log", &log);
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_events_and_the_digest_reach_their_sinks_on_sqlite() {
    scheduled_events_and_the_digest_reach_their_sinks(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_events_and_the_digest_reach_their_sinks_on_postgres() {
    scheduled_events_and_the_digest_reach_their_sinks(Backend::Postgres).await;
}
