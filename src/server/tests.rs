//! Router tests: real forge payloads from `fixtures/github` and `fixtures/gitlab`, signed and
//! sent through the router, against an in-memory [`Intake`] that records what it was given.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tower::ServiceExt;

use super::*;

const GITHUB_SECRET: &str = "gh-webhook-secret-7f3a";
const GITHUB_OLD_SECRET: &str = "gh-webhook-secret-old-19c2";
const GITLAB_TOKEN: &str = "gl-webhook-token-5d1e";

/// What the test intake answers to `accept`.
#[derive(Clone, Copy)]
enum Answer {
    Stored,
    Duplicate,
    Fail,
}

#[derive(Debug, thiserror::Error)]
#[error("database is down")]
struct DatabaseDown;

/// An in-memory intake that records every `accept`.
struct RecordingIntake {
    answer: Answer,
    ready: bool,
    depth: Option<i64>,
    /// Every call waits forever, as on a database that stopped answering.
    hang: bool,
    accepted: Mutex<Vec<(Delivery, Vec<NewJob>)>>,
}

impl RecordingIntake {
    fn new(answer: Answer) -> Self {
        RecordingIntake {
            answer,
            ready: true,
            depth: Some(0),
            hang: false,
            accepted: Mutex::new(Vec::new()),
        }
    }

    fn accepted(&self) -> Vec<(Delivery, Vec<NewJob>)> {
        self.accepted.lock().unwrap().clone()
    }
}

impl Intake for RecordingIntake {
    async fn accept(&self, delivery: Delivery, jobs: Vec<NewJob>) -> Result<Accepted, IntakeError> {
        self.accepted.lock().unwrap().push((delivery, jobs));
        if self.hang {
            std::future::pending::<()>().await;
        }
        match self.answer {
            Answer::Stored => Ok(Accepted::Stored),
            Answer::Duplicate => Ok(Accepted::Duplicate),
            Answer::Fail => Err(IntakeError(Box::new(DatabaseDown))),
        }
    }

    async fn ready(&self) -> bool {
        if self.hang {
            std::future::pending::<()>().await;
        }
        self.ready
    }

    async fn queue_depth(&self) -> Option<i64> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        self.depth
    }
}

fn secrets() -> WebhookSecrets {
    WebhookSecrets::from_values(
        Some(&format!("{GITHUB_SECRET},{GITHUB_OLD_SECRET}")),
        Some(GITLAB_TOKEN),
    )
}

fn app_with(intake: RecordingIntake, secrets: WebhookSecrets) -> (Router, Arc<RecordingIntake>) {
    let state = AppState::new(intake, secrets, Metrics::install().unwrap());
    let intake = Arc::clone(&state.intake);
    (router(state.clone()).merge(metrics_router(state)), intake)
}

fn app(answer: Answer) -> (Router, Arc<RecordingIntake>) {
    app_with(RecordingIntake::new(answer), secrets())
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn github_request(
    event: &str,
    delivery: &str,
    body: Vec<u8>,
    signature: Option<&str>,
) -> Request<Body> {
    let mut request = Request::post("/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery);
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.body(Body::from(body)).unwrap()
}

fn signed_github(event: &str, delivery: &str, body: Vec<u8>) -> Request<Body> {
    let signature = sign(GITHUB_SECRET, &body);
    github_request(event, delivery, body, Some(&signature))
}

fn gitlab_request(event: &str, uuid: &str, body: Vec<u8>, token: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/webhooks/gitlab")
        .header("content-type", "application/json")
        .header("x-gitlab-event", event)
        .header("x-gitlab-event-uuid", uuid);
    if let Some(token) = token {
        request = request.header("x-gitlab-token", token);
    }
    request.body(Body::from(body)).unwrap()
}

fn signed_gitlab(event: &str, uuid: &str, body: Vec<u8>) -> Request<Body> {
    gitlab_request(event, uuid, body, Some(GITLAB_TOKEN))
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn send_json(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let (status, body) = send(app, request).await;
    (status, serde_json::from_str(&body).unwrap())
}

/// Sends one signed GitHub delivery and returns the jobs it stored.
async fn github_jobs(event: &str, body: Vec<u8>) -> Vec<NewJob> {
    let (app, intake) = app(Answer::Stored);
    let (status, reply) = send_json(&app, signed_github(event, "d-1", body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let mut accepted = intake.accepted();
    assert_eq!(accepted.len(), 1);
    let (_, jobs) = accepted.remove(0);
    assert_eq!(reply, json!({"status": "accepted", "jobs": jobs.len()}));
    jobs
}

/// Sends one delivery that must be acknowledged as ignored, with nothing stored.
async fn assert_ignored(request: Request<Body>, reason: &str) {
    let (app, intake) = app(Answer::Stored);
    let (status, reply) = send_json(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply, json!({"status": "ignored", "reason": reason}));
    assert!(intake.accepted().is_empty());
}

fn with_changes(mut value: Value, changes: &[(&str, Value)]) -> Vec<u8> {
    for (pointer, new) in changes {
        *value.pointer_mut(pointer).unwrap() = new.clone();
    }
    serde_json::to_vec(&value).unwrap()
}

// ---- GitHub ----

#[tokio::test]
async fn signed_pull_request_opened_stores_the_delivery_and_a_review() {
    let (app, intake) = app(Answer::Stored);
    let body = fixture("github/pull_request_opened.json");
    let (status, reply) =
        send_json(&app, signed_github("pull_request", "72d3162e-cc78", body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(reply, json!({"status": "accepted", "jobs": 1}));
    let accepted = intake.accepted();
    assert_eq!(accepted.len(), 1);
    let (delivery, jobs) = &accepted[0];
    assert_eq!(delivery.forge, Forge::GitHub);
    assert_eq!(delivery.delivery_id, "72d3162e-cc78");
    assert_eq!(delivery.event, "pull_request");
    assert_eq!(delivery.action.as_deref(), Some("opened"));
    assert_eq!(
        delivery.repository.as_deref(),
        Some("Codertocat/Hello-World")
    );
    assert_eq!(
        delivery.payload,
        fixture_json("github/pull_request_opened.json")
    );
    assert_eq!(
        jobs,
        &vec![NewJob {
            kind: JobKind::Review,
            repository: "Codertocat/Hello-World".to_owned(),
            pull_request: Some(2),
            head_sha: Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821".to_owned()),
            coalesce_key: Some("github:Codertocat/Hello-World#2".to_owned()),
            payload: json!({"trigger": "pull_request.opened", "installation_id": 1}),
        }]
    );
}

#[tokio::test]
async fn synchronize_reviews_under_the_same_coalesce_key() {
    let jobs = github_jobs(
        "pull_request",
        fixture("github/pull_request_synchronize.json"),
    )
    .await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::Review);
    assert_eq!(
        jobs[0].coalesce_key.as_deref(),
        Some("github:Codertocat/Hello-World#2")
    );
    assert_eq!(jobs[0].payload["trigger"], "pull_request.synchronize");
}

#[tokio::test]
async fn converted_to_draft_pauses_and_draft_pull_requests_are_not_reviewed() {
    let opened = fixture_json("github/pull_request_opened.json");
    let to_draft = with_changes(
        opened.clone(),
        &[
            ("/action", json!("converted_to_draft")),
            ("/pull_request/draft", json!(true)),
        ],
    );
    let jobs = github_jobs("pull_request", to_draft).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::Pause);
    assert_eq!(
        jobs[0].coalesce_key.as_deref(),
        Some("github:Codertocat/Hello-World#2")
    );

    let ready = with_changes(opened.clone(), &[("/action", json!("ready_for_review"))]);
    assert_eq!(
        github_jobs("pull_request", ready).await[0].kind,
        JobKind::Review
    );

    let draft_opened = with_changes(opened.clone(), &[("/pull_request/draft", json!(true))]);
    assert_ignored(
        signed_github("pull_request", "d-2", draft_opened),
        "draft pull request",
    )
    .await;

    let closed = with_changes(opened, &[("/action", json!("closed"))]);
    assert_ignored(
        signed_github("pull_request", "d-3", closed),
        "pull_request action not handled",
    )
    .await;
}

#[tokio::test]
async fn wrong_or_missing_signature_is_401_and_nothing_reaches_the_intake() {
    let (app, intake) = app(Answer::Stored);
    let body = fixture("github/pull_request_opened.json");
    let wrong = sign("not-the-secret", &body);
    for signature in [Some(wrong.as_str()), None, Some("sha256=nothex")] {
        let request = github_request("pull_request", "d-1", body.clone(), signature);
        let (status, reply) = send_json(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply, json!({"status": "unauthorized"}));
    }
    // A signature of another body does not transfer.
    let other = sign(GITHUB_SECRET, b"{}");
    let request = github_request("pull_request", "d-1", body, Some(&other));
    assert_eq!(send(&app, request).await.0, StatusCode::UNAUTHORIZED);
    assert!(intake.accepted().is_empty());
}

#[tokio::test]
async fn a_rotated_secret_still_verifies() {
    let (app, intake) = app(Answer::Stored);
    let body = fixture("github/pull_request_opened.json");
    let signature = sign(GITHUB_OLD_SECRET, &body);
    let request = github_request("pull_request", "d-1", body, Some(&signature));
    assert_eq!(send(&app, request).await.0, StatusCode::ACCEPTED);
    assert_eq!(intake.accepted().len(), 1);
}

#[tokio::test]
async fn unconfigured_forges_reject_everything() {
    let (app, intake) = app_with(
        RecordingIntake::new(Answer::Stored),
        WebhookSecrets::default(),
    );
    let body = fixture("github/pull_request_opened.json");
    let (status, _) = send(&app, signed_github("pull_request", "d-1", body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body = fixture("gitlab/merge_request.json");
    let (status, _) = send(&app, signed_gitlab("Merge Request Hook", "u-1", body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(intake.accepted().is_empty());
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let (app, intake) = app(Answer::Stored);
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    let (status, _) = send(&app, signed_github("pull_request", "d-1", body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(intake.accepted().is_empty());
}

#[tokio::test]
async fn malformed_json_with_a_valid_signature_is_400_with_the_reason() {
    let (app, intake) = app(Answer::Stored);
    let (status, reply) = send_json(
        &app,
        signed_github("pull_request", "d-1", b"{\"action\": ".to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reply["status"], "malformed");
    let error = reply["error"].as_str().unwrap();
    assert!(
        error.starts_with("invalid JSON: EOF while parsing"),
        "{error}"
    );

    // Valid JSON of the wrong shape names the offending field.
    let body = json!({"action": "opened", "number": "two", "pull_request": {}, "repository": {}});
    let (status, reply) = send_json(
        &app,
        signed_github("pull_request", "d-2", serde_json::to_vec(&body).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = reply["error"].as_str().unwrap();
    assert!(
        error.contains("number") && error.contains("invalid type"),
        "{error}"
    );
    assert!(intake.accepted().is_empty());
}

#[tokio::test]
async fn missing_event_or_delivery_header_is_400() {
    let (app, intake) = app(Answer::Stored);
    let body = fixture("github/pull_request_opened.json");
    let signature = sign(GITHUB_SECRET, &body);
    let request = Request::post("/webhooks/github")
        .header("x-github-event", "pull_request")
        .header("x-hub-signature-256", &signature)
        .body(Body::from(body))
        .unwrap();
    let (status, reply) = send_json(&app, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("x-github-delivery")
    );
    assert!(intake.accepted().is_empty());
}

#[tokio::test]
async fn form_encoded_deliveries_are_400_with_advice() {
    let (app, _) = app(Answer::Stored);
    let body = b"payload=%7B%7D".to_vec();
    let signature = sign(GITHUB_SECRET, &body);
    let request = Request::post("/webhooks/github")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "d-1")
        .header("x-hub-signature-256", &signature)
        .body(Body::from(body))
        .unwrap();
    let (status, reply) = send_json(&app, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

#[tokio::test]
async fn unknown_events_and_pings_are_acknowledged_and_dropped() {
    assert_ignored(
        signed_github(
            "check_run",
            "d-1",
            fixture("github/check_run_completed.json"),
        ),
        "event not handled",
    )
    .await;
    assert_ignored(
        signed_github("ping", "d-2", fixture("github/ping_with-app_id.json")),
        "ping",
    )
    .await;
}

#[tokio::test]
async fn a_redelivery_is_200_duplicate() {
    let (app, intake) = app(Answer::Duplicate);
    let body = fixture("github/pull_request_opened.json");
    let (status, reply) = send_json(&app, signed_github("pull_request", "d-1", body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply, json!({"status": "duplicate"}));
    assert_eq!(intake.accepted().len(), 1);
}

#[tokio::test]
async fn a_storage_failure_is_503_so_the_forge_redelivers() {
    let (app, _) = app(Answer::Fail);
    let body = fixture("github/pull_request_opened.json");
    let (status, body) = send(&app, signed_github("pull_request", "d-1", body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.contains("database"), "{body}");
}

#[tokio::test]
async fn push_to_the_default_branch_records_a_baseline() {
    let jobs = github_jobs("push", fixture("github/push_with-new-branch.json")).await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Baseline,
            repository: "Codertocat/Hello-World".to_owned(),
            pull_request: None,
            head_sha: Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246".to_owned()),
            coalesce_key: Some("github:Codertocat/Hello-World:baseline".to_owned()),
            payload: json!({"trigger": "push", "installation_id": 1}),
        }]
    );
}

#[tokio::test]
async fn pushes_elsewhere_are_ignored() {
    let feature = with_changes(
        fixture_json("github/push_with-new-branch.json"),
        &[("/ref", json!("refs/heads/feature"))],
    );
    assert_ignored(
        signed_github("push", "d-1", feature),
        "push to another ref than the default branch",
    )
    .await;
    // The fixture deletes a tag.
    assert_ignored(
        signed_github("push", "d-2", fixture("github/push.json")),
        "ref deleted",
    )
    .await;
}

#[tokio::test]
async fn a_completed_workflow_run_reviews_each_pull_request() {
    let jobs = github_jobs(
        "workflow_run",
        fixture("github/workflow_run_completed.with-pull-requests.json"),
    )
    .await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Review,
            repository: "octo-org/octo-repo".to_owned(),
            pull_request: Some(2),
            head_sha: Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821".to_owned()),
            coalesce_key: Some("github:octo-org/octo-repo#2".to_owned()),
            payload: json!({"trigger": "workflow_run.completed", "installation_id": null}),
        }]
    );
}

#[tokio::test]
async fn a_run_without_pull_requests_reviews_its_head_commit() {
    let body = with_changes(
        fixture_json("github/workflow_run_completed.with-pull-requests.json"),
        &[
            ("/workflow_run/pull_requests", json!([])),
            (
                "/workflow_run/head_branch",
                json!("contributor-fork-branch"),
            ),
        ],
    );
    let jobs = github_jobs("workflow_run", body).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].pull_request, None);
    assert_eq!(
        jobs[0].head_sha.as_deref(),
        Some("3484a3fb816e0859fd6e1cea078d76385ff50625")
    );
    assert_eq!(
        jobs[0].coalesce_key.as_deref(),
        Some("github:octo-org/octo-repo@3484a3fb816e0859fd6e1cea078d76385ff50625")
    );
}

#[tokio::test]
async fn a_run_on_the_default_branch_records_the_baseline() {
    // The fixture's run is on `master`, the repository's default branch.
    let body = with_changes(
        fixture_json("github/workflow_run_completed.with-pull-requests.json"),
        &[("/workflow_run/pull_requests", json!([]))],
    );
    let jobs = github_jobs("workflow_run", body).await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Baseline,
            repository: "octo-org/octo-repo".into(),
            pull_request: None,
            head_sha: Some("3484a3fb816e0859fd6e1cea078d76385ff50625".into()),
            coalesce_key: Some("github:octo-org/octo-repo:baseline".into()),
            payload: json!({"trigger": "workflow_run.completed", "installation_id": null}),
        }]
    );
}

#[tokio::test]
async fn a_completed_check_suite_reviews_its_pull_request() {
    let jobs = github_jobs("check_suite", fixture("github/check_suite_completed.json")).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].pull_request, Some(2));
    assert_eq!(jobs[0].payload["trigger"], "check_suite.completed");
    let requested = with_changes(
        fixture_json("github/check_suite_completed.json"),
        &[("/action", json!("requested"))],
    );
    assert_ignored(
        signed_github("check_suite", "d-2", requested),
        "run not completed",
    )
    .await;
}

/// An `issue_comment` payload with the fields of GitHub's (octokit/webhooks
/// `issue_comment/created.payload.json`), on a pull request.
/// The real `issue_comment` payload (on issue #1), with `body`, on a pull request or not.
fn issue_comment(body: &str, on_pull_request: bool) -> Vec<u8> {
    let mut payload = fixture_json("github/issue_comment_created.json");
    payload["comment"]["body"] = json!(body);
    if on_pull_request {
        payload["issue"]["pull_request"] =
            json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"});
    }
    serde_json::to_vec(&payload).unwrap()
}

#[tokio::test]
async fn posture_commands_in_pull_request_comments_become_command_jobs() {
    let body = "Thanks, checked it.\n/posture dismiss false_positive P-3f9a1c -- test data\n";
    let jobs = github_jobs("issue_comment", issue_comment(body, true)).await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Command,
            repository: "Codertocat/Hello-World".to_owned(),
            pull_request: Some(1),
            head_sha: None,
            coalesce_key: None,
            payload: json!({
                "trigger": "issue_comment.created",
                "installation_id": null,
                "command": body,
                "author": "Codertocat",
                "comment_id": 492700400,
                "in_reply_to": null,
                "reply_to": null,
            }),
        }]
    );
    assert_ignored(
        signed_github("issue_comment", "d-2", issue_comment("looks good", true)),
        "comment is not a /posture command",
    )
    .await;
    assert_ignored(
        signed_github(
            "issue_comment",
            "d-3",
            issue_comment("/posture help", false),
        ),
        "comment on an issue, not a pull request",
    )
    .await;
    let mut edited = fixture_json("github/issue_comment_edited.json");
    edited["comment"]["body"] = json!("/posture rerun");
    edited["issue"]["pull_request"] = json!({"url": "u"});
    assert_ignored(
        signed_github("issue_comment", "d-4", serde_json::to_vec(&edited).unwrap()),
        "comment not created",
    )
    .await;
    let mut by_bot = fixture_json("github/issue_comment_created.json");
    by_bot["comment"]["body"] = json!("/posture rerun");
    by_bot["comment"]["user"]["type"] = json!("Bot");
    by_bot["issue"]["pull_request"] = json!({"url": "u"});
    assert_ignored(
        signed_github("issue_comment", "d-5", serde_json::to_vec(&by_bot).unwrap()),
        "comment by a bot",
    )
    .await;
}

#[tokio::test]
async fn commands_in_review_comment_replies_name_their_thread() {
    let mut payload = fixture_json("github/pull_request_review_comment_created.json");
    payload["comment"]["body"] = json!("/posture explain");
    payload["comment"]["in_reply_to_id"] = json!(111);
    let jobs = github_jobs(
        "pull_request_review_comment",
        serde_json::to_vec(&payload).unwrap(),
    )
    .await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::Command);
    assert_eq!(jobs[0].pull_request, Some(2));
    assert_eq!(
        jobs[0].payload["trigger"],
        "pull_request_review_comment.created"
    );
    assert_eq!(jobs[0].payload["in_reply_to"], 111);
    assert_eq!(
        jobs[0].payload["reply_to"],
        json!({"review_comment": "111"})
    );
    assert_eq!(jobs[0].payload["installation_id"], 1);
}

#[tokio::test]
async fn installing_the_app_queues_a_reconcile_of_each_repository() {
    let (app, intake) = app(Answer::Stored);
    let body = fixture("github/installation_created.json");
    let (status, reply) = send_json(&app, signed_github("installation", "d-1", body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(reply, json!({"status": "accepted", "jobs": 1}));
    let accepted = intake.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].0.event, "installation");
    assert_eq!(accepted[0].0.action.as_deref(), Some("created"));
    assert_eq!(accepted[0].0.repository, None);
    assert_eq!(
        accepted[0].1,
        vec![NewJob {
            kind: JobKind::Reconcile,
            repository: "Codertocat/Hello-World".into(),
            pull_request: None,
            head_sha: None,
            coalesce_key: Some("github:Codertocat/Hello-World:reconcile".into()),
            payload: json!({"trigger": "installation.created", "installation_id": 957387}),
        }]
    );
}

// ---- GitLab ----

#[tokio::test]
async fn gitlab_merge_request_open_stores_a_review() {
    let (app, intake) = app(Answer::Stored);
    let body = fixture("gitlab/merge_request.json");
    let (status, reply) = send_json(&app, signed_gitlab("Merge Request Hook", "u-1", body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(reply, json!({"status": "accepted", "jobs": 1}));
    let accepted = intake.accepted();
    let (delivery, jobs) = &accepted[0];
    assert_eq!(delivery.forge, Forge::GitLab);
    assert_eq!(delivery.delivery_id, "u-1");
    assert_eq!(delivery.event, "merge_request");
    assert_eq!(delivery.action.as_deref(), Some("open"));
    assert_eq!(delivery.repository.as_deref(), Some("gitlabhq/gitlab-test"));
    assert_eq!(
        jobs,
        &vec![NewJob {
            kind: JobKind::Review,
            repository: "gitlabhq/gitlab-test".to_owned(),
            pull_request: Some(1),
            head_sha: Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7".to_owned()),
            coalesce_key: Some("gitlab:gitlabhq/gitlab-test!1".to_owned()),
            payload: json!({"trigger": "merge_request.open"}),
        }]
    );
}

async fn gitlab_jobs(event: &str, body: Vec<u8>) -> Vec<NewJob> {
    let (app, intake) = app(Answer::Stored);
    let (status, reply) = send_json(&app, signed_gitlab(event, "u-1", body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    intake.accepted().remove(0).1
}

#[tokio::test]
async fn gitlab_merge_request_updates_review_only_new_pushes() {
    let mr = fixture_json("gitlab/merge_request.json");
    let update = with_changes(
        mr.clone(),
        &[("/object_attributes/action", json!("update"))],
    );
    assert_ignored(
        signed_gitlab("Merge Request Hook", "u-1", update),
        "merge request action not handled",
    )
    .await;

    let mut pushed = mr.clone();
    pushed["object_attributes"]["action"] = json!("update");
    pushed["object_attributes"]["oldrev"] = json!("95790bf891e76fee5e1747ab589903a6a1f80f22");
    let jobs = gitlab_jobs("Merge Request Hook", serde_json::to_vec(&pushed).unwrap()).await;
    assert_eq!(jobs[0].kind, JobKind::Review);
    assert_eq!(jobs[0].payload, json!({"trigger": "merge_request.update"}));
}

#[tokio::test]
async fn gitlab_draft_merge_requests_pause_and_are_not_reviewed() {
    let mr = fixture_json("gitlab/merge_request.json");
    let draft = with_changes(
        mr.clone(),
        &[("/object_attributes/work_in_progress", json!(true))],
    );
    assert_ignored(
        signed_gitlab("Merge Request Hook", "u-1", draft),
        "draft merge request",
    )
    .await;

    let mut to_draft = mr.clone();
    to_draft["object_attributes"]["action"] = json!("update");
    to_draft["object_attributes"]["draft"] = json!(true);
    to_draft["changes"]["draft"] = json!({"previous": false, "current": true});
    let jobs = gitlab_jobs("Merge Request Hook", serde_json::to_vec(&to_draft).unwrap()).await;
    assert_eq!(jobs[0].kind, JobKind::Pause);
    assert_eq!(
        jobs[0].coalesce_key.as_deref(),
        Some("gitlab:gitlabhq/gitlab-test!1")
    );

    let mut ready = mr;
    ready["object_attributes"]["action"] = json!("update");
    ready["object_attributes"]["draft"] = json!(false);
    ready["changes"]["draft"] = json!({"previous": true, "current": false});
    let jobs = gitlab_jobs("Merge Request Hook", serde_json::to_vec(&ready).unwrap()).await;
    assert_eq!(jobs[0].kind, JobKind::Review);
}

#[tokio::test]
async fn gitlab_finished_merge_request_pipeline_reviews_the_merge_request() {
    let jobs = gitlab_jobs("Pipeline Hook", fixture("gitlab/pipeline.json")).await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Review,
            repository: "gitlab-org/gitlab-test".to_owned(),
            pull_request: Some(1),
            head_sha: Some("bcbb5ec396a2c0f828686f14fac9b80b780504f2".to_owned()),
            coalesce_key: Some("gitlab:gitlab-org/gitlab-test!1".to_owned()),
            payload: json!({"trigger": "pipeline.success"}),
        }]
    );
    let pipeline = fixture_json("gitlab/pipeline.json");
    let running = with_changes(
        pipeline.clone(),
        &[("/object_attributes/status", json!("running"))],
    );
    assert_ignored(
        signed_gitlab("Pipeline Hook", "u-2", running),
        "pipeline not finished",
    )
    .await;
    let branch = with_changes(
        pipeline.clone(),
        &[
            ("/merge_request", Value::Null),
            ("/object_attributes/ref", json!("feature")),
        ],
    );
    assert_ignored(
        signed_gitlab("Pipeline Hook", "u-3", branch),
        "pipeline not for a merge request or the default branch",
    )
    .await;
    // A pipeline of the default branch records the baseline.
    let default = with_changes(
        pipeline,
        &[
            ("/merge_request", Value::Null),
            ("/object_attributes/ref", json!("master")),
            ("/project/default_branch", json!("master")),
        ],
    );
    let jobs = gitlab_jobs("Pipeline Hook", default).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::Baseline);
    assert_eq!(
        jobs[0].head_sha.as_deref(),
        Some("bcbb5ec396a2c0f828686f14fac9b80b780504f2")
    );
}

#[tokio::test]
async fn gitlab_push_to_the_default_branch_records_a_baseline() {
    let jobs = gitlab_jobs("Push Hook", fixture("gitlab/push.json")).await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Baseline,
            repository: "mike/diaspora".to_owned(),
            pull_request: None,
            head_sha: Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7".to_owned()),
            coalesce_key: Some("gitlab:mike/diaspora:baseline".to_owned()),
            payload: json!({"trigger": "push"}),
        }]
    );
    let feature = with_changes(
        fixture_json("gitlab/push.json"),
        &[("/ref", json!("refs/heads/feature"))],
    );
    assert_ignored(
        signed_gitlab("Push Hook", "u-2", feature),
        "push to another ref than the default branch",
    )
    .await;
}

#[tokio::test]
async fn gitlab_notes_with_commands_become_command_jobs() {
    let note = fixture_json("gitlab/note_merge_request.json");
    assert_ignored(
        signed_gitlab("Note Hook", "u-1", serde_json::to_vec(&note).unwrap()),
        "note is not a /posture command",
    )
    .await;
    // GitLab's Note Hook names the note's thread; the fixture predates the field.
    let mut in_thread = note.clone();
    in_thread["object_attributes"]["discussion_id"] =
        json!("6a9c1750b37d513a43987b574953fceb50b03ce7");
    let command = with_changes(
        in_thread,
        &[("/object_attributes/note", json!("/posture rerun"))],
    );
    let jobs = gitlab_jobs("Note Hook", command).await;
    assert_eq!(
        jobs,
        vec![NewJob {
            kind: JobKind::Command,
            repository: "gitlab-org/gitlab-test".to_owned(),
            pull_request: Some(1),
            head_sha: None,
            coalesce_key: None,
            payload: json!({
                "trigger": "note",
                "command": "/posture rerun",
                "author": "root",
                "author_id": 1,
                "comment_id": 1244,
                "reply_to": {"discussion": "6a9c1750b37d513a43987b574953fceb50b03ce7"},
            }),
        }]
    );
    let edited = with_changes(
        note,
        &[
            ("/object_attributes/note", json!("/posture rerun")),
            ("/object_attributes/action", json!("update")),
        ],
    );
    assert_ignored(
        signed_gitlab("Note Hook", "u-2", edited),
        "note not created",
    )
    .await;
    let by_bot = with_changes(
        fixture_json("gitlab/note_merge_request.json"),
        &[
            ("/object_attributes/note", json!("/posture rerun")),
            ("/user/username", json!("project_278964_bot_9c2f3e")),
        ],
    );
    assert_ignored(signed_gitlab("Note Hook", "u-3", by_bot), "note by a bot").await;
}

#[tokio::test]
async fn gitlab_bad_or_missing_token_is_401_and_nothing_is_stored() {
    let (app, intake) = app(Answer::Stored);
    for token in [Some("gl-webhook-token-5d1"), Some(GITHUB_SECRET), None] {
        let request = gitlab_request(
            "Merge Request Hook",
            "u-1",
            fixture("gitlab/merge_request.json"),
            token,
        );
        let (status, reply) = send_json(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply, json!({"status": "unauthorized"}));
    }
    assert!(intake.accepted().is_empty());
}

#[tokio::test]
async fn gitlab_unknown_events_are_ignored() {
    assert_ignored(
        signed_gitlab("Tag Push Hook", "u-1", fixture("gitlab/tag_push.json")),
        "event not handled",
    )
    .await;
}

// ---- probes, metrics, secrecy ----

#[tokio::test]
async fn healthz_and_readyz() {
    let (app, _) = app(Answer::Stored);
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(
        send(&app, get("/healthz")).await,
        (StatusCode::OK, "ok".to_owned())
    );
    assert_eq!(
        send(&app, get("/readyz")).await,
        (StatusCode::OK, "ready".to_owned())
    );

    let mut down = RecordingIntake::new(Answer::Stored);
    down.ready = false;
    let (app, _) = app_with(down, secrets());
    assert_eq!(
        send(&app, get("/readyz")).await,
        (StatusCode::SERVICE_UNAVAILABLE, "not ready".to_owned())
    );
}

/// The database stopped answering (every call hangs): probes, metrics and deliveries still
/// answer once [`STORAGE_WAIT`] has passed (time is paused: it passes at once).
#[tokio::test(start_paused = true)]
async fn a_database_that_does_not_answer_does_not_hold_the_edge() {
    let mut hung = RecordingIntake::new(Answer::Stored);
    hung.hang = true;
    let (app, intake) = app_with(hung, secrets());
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(
        send(&app, get("/readyz")).await,
        (StatusCode::SERVICE_UNAVAILABLE, "not ready".to_owned())
    );
    let (status, metrics) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.contains("posture_deliveries_total"), "{metrics}");
    let body = fixture("github/pull_request_opened.json");
    let (status, _) = send(&app, signed_github("pull_request", "d-hang", body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(intake.accepted().len(), 1, "it was tried");
    // Three waits of STORAGE_WAIT at most, on the paused clock.
    assert!(
        started.elapsed() <= STORAGE_WAIT * 3,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn metrics_count_deliveries_and_report_queue_depth() {
    let mut intake = RecordingIntake::new(Answer::Stored);
    intake.depth = Some(42);
    let (app, _) = app_with(intake, secrets());
    // An outcome no other test produces for this event, so the series is this test's own.
    let body = fixture("gitlab/push.json");
    let (status, _) = send(&app, gitlab_request("Push Hook", "u-1", body, Some("nope"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, text) = send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.lines().any(|line| line
            == "posture_deliveries_total{forge=\"gitlab\",event=\"push\",outcome=\"unauthorized\"} 1"),
        "{text}"
    );
    assert!(
        text.lines().any(|line| line == "posture_queue_depth 42"),
        "{text}"
    );
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go, while a test captures them.
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes into the current thread's capture, if any.
struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(captured) = capture.borrow_mut().as_mut() {
                captured.write_all(buf)?;
            }
            Ok(buf.len())
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures what this thread logs from now on. The subscriber is global, installed once:
/// a thread-local default subscriber races with other test threads over `tracing`'s
/// per-callsite interest cache, and then loses lines now and then.
fn capture_logs() -> Captured {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| ThreadCapture)
            .try_init();
    });
    let captured = Captured::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(captured.clone()));
    captured
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_appear_in_responses_or_logs() {
    // The test runtime is single-threaded: everything the app logs runs on this thread.
    let captured = capture_logs();

    let (app, _) = app(Answer::Stored);
    let mut bodies = Vec::new();
    let body = fixture("github/pull_request_opened.json");
    let requests = [
        signed_github("pull_request", "secret-test-1", body.clone()),
        github_request(
            "pull_request",
            "secret-test-2",
            body.clone(),
            Some(&sign("wrong", &body)),
        ),
        signed_github("pull_request", "secret-test-3", b"{not json".to_vec()),
        signed_gitlab(
            "Merge Request Hook",
            "secret-test-4",
            fixture("gitlab/merge_request.json"),
        ),
        gitlab_request(
            "Merge Request Hook",
            "secret-test-5",
            b"{}".to_vec(),
            Some("wrong"),
        ),
    ];
    for request in requests {
        bodies.push(send(&app, request).await.1);
    }
    let (unconfigured, _) = app_with(
        RecordingIntake::new(Answer::Stored),
        WebhookSecrets::default(),
    );
    let request = signed_github("pull_request", "secret-test-6", body);
    bodies.push(send(&unconfigured, request).await.1);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works: every delivery was logged with its id, and the repository.
    for id in (1..=6).map(|n| format!("secret-test-{n}")) {
        assert!(logs.contains(&id), "{id} not logged:\n{logs}");
    }
    assert!(
        logs.contains("no webhook secret is configured (POSTURE_GITHUB_WEBHOOK_SECRET is unset)"),
        "{logs}"
    );
    assert!(
        logs.contains("repository=\"Codertocat/Hello-World\""),
        "{logs}"
    );
    let debug = format!("{:?}", secrets());
    for secret in [GITHUB_SECRET, GITHUB_OLD_SECRET, GITLAB_TOKEN] {
        assert!(!logs.contains(secret), "secret in logs:\n{logs}");
        assert!(!debug.contains(secret), "secret in Debug: {debug}");
        for body in &bodies {
            assert!(!body.contains(secret), "secret in a response: {body}");
        }
    }
}
