//! End to end on GitHub: a signed `pull_request` webhook (the real payload) goes through the
//! real axum app into the queue; the worker's job reads the pull request, its files, its
//! config, and the workflow run's artifact (a zip of real Bandit SARIF and osv-scanner
//! output) from a wiremock GitHub, and publishes the review. The fake keeps what was posted,
//! so a second delivery sees it and must post nothing new.

mod common;

use common::forge::{Handler, Harness, trailing_id};

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use posture::forge::github::{GitHubClient, GitHubConfig, GitHubCredentials};
use posture::jobs::{Forges, Runner};
use posture::server::WebhookSecrets;

const SECRET: &str = "e2e-webhook-secret";
const REPO: &str = "Codertocat/Hello-World";
const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
/// The App's bot: `GET /app` answers the slug `posture-dev`.
const BOT: &str = "posture-dev[bot]";

/// What the fake GitHub holds: review comments, issue comments, check runs.
#[derive(Default)]
struct Model {
    review_comments: Vec<Value>,
    issue_comments: Vec<Value>,
    check_runs: Vec<Value>,
    reviews_posted: Vec<Value>,
    next_id: u64,
    /// Answers to give once, instead of the model's, by operation ("review", "summary", …).
    faults: std::collections::HashMap<&'static str, ResponseTemplate>,
}

#[derive(Clone, Default)]
struct FakeGitHub(Arc<Mutex<Model>>);

impl FakeGitHub {
    fn fail_once(&self, operation: &'static str, answer: ResponseTemplate) {
        self.0.lock().unwrap().faults.insert(operation, answer);
    }

    fn fault(&self, operation: &'static str) -> Option<ResponseTemplate> {
        self.0.lock().unwrap().faults.remove(operation)
    }

    fn id(&self) -> u64 {
        let mut model = self.0.lock().unwrap();
        model.next_id += 1;
        1000 + model.next_id
    }
}

fn body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// app.py at head: 100 lines, of which this pull request added 10–30; go.mod declares the
/// vulnerable gogo/protobuf on a line it added.
fn app_py() -> String {
    (1..=100).map(|n| format!("line_{n} = {n}\n")).collect()
}

fn go_mod() -> String {
    "module example.com/hello\n\ngo 1.20\n\nrequire github.com/gogo/protobuf v1.3.1\n".to_owned()
}

fn patch(lines: std::ops::RangeInclusive<u32>, total_before: u32) -> String {
    let count = lines.clone().count();
    let mut patch = format!(
        "@@ -{},0 +{},{count} @@\n",
        lines.start() - 1,
        lines.start()
    );
    for n in lines {
        patch.push_str(&format!("+line_{n} = {n}\n"));
    }
    let _ = total_before;
    patch
}

fn artifact_zip() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, file) in [
        ("bandit.sarif", "sarif/bandit_1.8.6_flask.sarif"),
        ("osv-scanner.json", "sca/osv-scanner/ci_results-some.json"),
    ] {
        writer.start_file(name, options).unwrap();
        writer
            .write_all(&std::fs::read(common::fixture(file)).unwrap())
            .unwrap();
    }
    writer.finish().unwrap().into_inner()
}

async fn mount(server: &MockServer, fake: &FakeGitHub) {
    let uri = server.uri();
    let event: Value = serde_json::from_slice(
        &std::fs::read(common::fixture("github/pull_request_opened.json")).unwrap(),
    )
    .unwrap();
    let pull = event["pull_request"].clone();
    let base = format!("/repos/{REPO}");
    let get = |p: String| Mock::given(method("GET")).and(path(p));

    Mock::given(method("POST"))
        .and(path("/app/installations/1/access_tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": "ghs_e2einstallationtoken",
            "expires_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
            "permissions": {"pull_requests": "write", "checks": "write", "actions": "read", "contents": "read"}
        })))
        .mount(server)
        .await;
    // The App itself, asked with its JWT: whose comments are posture's.
    Mock::given(method("GET"))
        .and(path("/app"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 4242, "slug": "posture-dev", "name": "posture (dev)",
            "owner": {"login": "Codertocat", "type": "User"}
        })))
        .mount(server)
        .await;
    get(format!("{base}/pulls/2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&pull))
        .mount(server)
        .await;
    get(format!("{base}/compare/{BASE}...{HEAD}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "ahead", "ahead_by": 1, "behind_by": 0,
            "merge_base_commit": {"sha": BASE}, "files": []
        })))
        .mount(server)
        .await;
    get(format!("{base}/pulls/2/files"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"sha": "a1", "filename": "app.py", "status": "modified", "additions": 21, "deletions": 0,
             "changes": 21, "patch": patch(10..=30, 79)},
            {"sha": "a2", "filename": "go.mod", "status": "modified", "additions": 1, "deletions": 0,
             "changes": 1, "patch": "@@ -4,0 +5 @@\n+require github.com/gogo/protobuf v1.3.1\n"}
        ])))
        .mount(server)
        .await;
    for (sha, files) in [
        (HEAD, vec!["app.py", "go.mod"]),
        (BASE, vec!["app.py", "go.mod"]),
    ] {
        get(format!("{base}/git/trees/{sha}"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "sha": sha, "truncated": false,
                "tree": files.iter().map(|f| json!({"path": f, "mode": "100644", "type": "blob", "sha": "0"})).collect::<Vec<_>>()
            })))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^{base}/contents/(app\.py|go\.mod)$")))
        .respond_with(move |request: &wiremock::Request| {
            let file = request
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let at_head = request.url.query().unwrap_or_default().contains(HEAD);
            let text = match (file.as_str(), at_head) {
                ("app.py", true) => app_py(),
                ("app.py", false) => (1..=100)
                    .filter(|n| !(10..=30).contains(n))
                    .map(|n| format!("line_{n} = {n}\n"))
                    .collect(),
                (_, true) => go_mod(),
                _ => "module example.com/hello\n\ngo 1.20\n".to_owned(),
            };
            ResponseTemplate::new(200).set_body_string(text)
        })
        .mount(server)
        .await;
    get(format!("{base}/contents/.posture.yml"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(server)
        .await;
    // GraphQL: review threads from the model, blame for everything else.
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitHub, request: &wiremock::Request| {
            let query = body(request)["query"].as_str().unwrap_or_default().to_owned();
            if query.contains("reviewThreads") {
                let model = fake.0.lock().unwrap();
                let nodes: Vec<Value> = model
                    .review_comments
                    .iter()
                    .filter(|c| c.get("in_reply_to_id").is_none())
                    .map(|c| json!({"id": format!("PRRT_{}", c["id"]), "isResolved": false,
                                    "comments": {"nodes": [{"databaseId": c["id"]}]}}))
                    .collect();
                return ResponseTemplate::new(200).set_body_json(json!({"data": {"repository": {"pullRequest": {
                    "reviewThreads": {"pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": nodes}
                }}}}));
            }
            ResponseTemplate::new(200).set_body_json(json!({"data": {"repository": {"object": {"blame": {"ranges": [
                {"startingLine": 1, "endingLine": 200, "age": 1, "commit": {
                    "oid": HEAD, "messageHeadline": "Add the report endpoint", "committedDate": "2026-11-20T10:00:00Z",
                    "author": {"name": "Codertocat", "email": "octocat@github.com", "date": "2026-11-20T10:00:00Z"}}}
            ]}}}}}))
        }))
        .mount(server)
        .await;
    // CI: one completed run for head with one artifact; nothing for the merge-base.
    get(format!("{base}/actions/runs"))
        .and(query_param("head_sha", HEAD))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total_count": 1, "workflow_runs": [
            {"id": 30433642, "name": "security-scans", "head_sha": HEAD, "status": "completed", "conclusion": "success"}
        ]})))
        .mount(server)
        .await;
    get(format!("{base}/actions/runs"))
        .and(query_param("head_sha", BASE))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"total_count": 0, "workflow_runs": []})),
        )
        .mount(server)
        .await;
    let zip = artifact_zip();
    get(format!("{base}/actions/runs/30433642/artifacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"total_count": 1, "artifacts": [
                {"id": 11, "name": "security-reports", "size_in_bytes": zip.len(), "expired": false,
                 "archive_download_url": format!("{uri}{base}/actions/artifacts/11/zip")}
            ]}),
        ))
        .mount(server)
        .await;
    get(format!("{base}/actions/artifacts/11/zip"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{uri}/blobs/11.zip")),
        )
        .mount(server)
        .await;
    get("/blobs/11.zip".to_owned())
        .respond_with(ResponseTemplate::new(200).set_body_bytes(zip))
        .mount(server)
        .await;

    // What posture publishes, kept in the model.
    let f = fake.clone();
    get(format!("{base}/pulls/2/comments"))
        .respond_with(Handler(f, |fake: &FakeGitHub, _: &wiremock::Request| {
            ResponseTemplate::new(200).set_body_json(&fake.0.lock().unwrap().review_comments)
        }))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/pulls/2/reviews")))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitHub, request: &wiremock::Request| {
            if let Some(fault) = fake.fault("review") {
                return fault;
            }
            let review = body(request);
            let review_id = fake.id();
            let mut comments = Vec::new();
            for comment in review["comments"].as_array().unwrap() {
                let mut stored = comment.clone();
                stored["id"] = json!(fake.id());
                stored["pull_request_review_id"] = json!(review_id);
                stored["commit_id"] = review["commit_id"].clone();
                stored["user"] = json!({"login": BOT, "type": "Bot"});
                comments.push(stored);
            }
            let mut model = fake.0.lock().unwrap();
            model.reviews_posted.push(review.clone());
            model.review_comments.extend(comments);
            ResponseTemplate::new(200).set_body_json(json!({"id": review_id, "state": "COMMENTED", "commit_id": review["commit_id"]}))
        }))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/pulls/2/reviews/\d+/comments$"
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let id: u64 = request
                    .url
                    .path()
                    .split('/')
                    .nth_back(1)
                    .unwrap()
                    .parse()
                    .unwrap();
                let model = fake.0.lock().unwrap();
                let of_review: Vec<&Value> = model
                    .review_comments
                    .iter()
                    .filter(|c| c["pull_request_review_id"] == json!(id))
                    .collect();
                ResponseTemplate::new(200).set_body_json(of_review)
            },
        ))
        .mount(server)
        .await;
    // A single review comment (the fallback when a review is refused); line 14 is refused.
    Mock::given(method("POST"))
        .and(path(format!("{base}/pulls/2/comments")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let mut comment = body(request);
                if comment["line"] == json!(14) {
                    return ResponseTemplate::new(422).set_body_json(json!({
                        "message": "Validation Failed",
                        "errors": [{"resource": "PullRequestReviewComment", "code": "custom",
                                    "field": "pull_request_review_thread.line",
                                    "message": "could not be resolved"}]
                    }));
                }
                comment["id"] = json!(fake.id());
                comment["user"] = json!({"login": BOT, "type": "Bot"});
                fake.0.lock().unwrap().review_comments.push(comment.clone());
                ResponseTemplate::new(201).set_body_json(comment)
            },
        ))
        .mount(server)
        .await;
    get(format!("{base}/issues/2/comments"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, _: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_json(&fake.0.lock().unwrap().issue_comments)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/issues/2/comments")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                if let Some(fault) = fake.fault("summary") {
                    return fault;
                }
                let mut comment = body(request);
                comment["id"] = json!(fake.id());
                comment["user"] = json!({"login": BOT, "type": "Bot"});
                fake.0.lock().unwrap().issue_comments.push(comment.clone());
                ResponseTemplate::new(201).set_body_json(comment)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(format!(r"^{base}/issues/comments/\d+$")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let id = trailing_id(request);
                let text = body(request)["body"].clone();
                let mut model = fake.0.lock().unwrap();
                let comment = model
                    .issue_comments
                    .iter_mut()
                    .find(|c| c["id"] == json!(id))
                    .unwrap();
                comment["body"] = text;
                ResponseTemplate::new(200).set_body_json(comment.clone())
            },
        ))
        .mount(server)
        .await;
    get(format!("{base}/commits/{HEAD}/check-runs"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, _: &wiremock::Request| {
                let runs = fake.0.lock().unwrap().check_runs.clone();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"total_count": runs.len(), "check_runs": runs}))
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/check-runs")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let mut run = body(request);
                run["id"] = json!(fake.id());
                fake.0.lock().unwrap().check_runs.push(run.clone());
                ResponseTemplate::new(201).set_body_json(run)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(format!(r"^{base}/check-runs/\d+$")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let id = trailing_id(request);
                let update = body(request);
                let mut model = fake.0.lock().unwrap();
                let run = model
                    .check_runs
                    .iter_mut()
                    .find(|r| r["id"] == json!(id))
                    .unwrap();
                for (key, value) in update.as_object().unwrap() {
                    run[key] = value.clone();
                }
                ResponseTemplate::new(200).set_body_json(run.clone())
            },
        ))
        .mount(server)
        .await;
}

fn signed(event: &str, delivery: &str, body: Vec<u8>) -> Request<Body> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    Request::post("/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature)
        .body(Body::from(body))
        .unwrap()
}

/// The real app and a worker's runner, with the App of the fixture's installation (id 1)
/// and a throwaway key, against the wiremock GitHub.
async fn harness(server: &MockServer) -> Harness {
    let key = std::fs::read_to_string(common::fixture("github/test-app-key.pem")).unwrap();
    let github = GitHubClient::new(GitHubConfig::new(
        server.uri(),
        GitHubCredentials::App {
            app_id: 4242,
            private_key_pem: key.into(),
        },
    ))
    .unwrap();
    let forges = Forges {
        github: Some(Arc::new(github)),
        gitlab: None,
    };
    Harness::new(WebhookSecrets::from_values(Some(SECRET), None), forges).await
}

/// A wiremock GitHub with the fake mounted, and the harness pointed at it.
async fn started() -> (MockServer, FakeGitHub, Harness) {
    let server = MockServer::start().await;
    let fake = FakeGitHub::default();
    mount(&server, &fake).await;
    let harness = harness(&server).await;
    (server, fake, harness)
}

async fn deliver(harness: &Harness, event: &str, delivery: &str, fixture: &str) -> StatusCode {
    let body = std::fs::read(common::fixture(fixture)).unwrap();
    harness.send(signed(event, delivery, body)).await
}

#[tokio::test]
async fn a_pull_request_webhook_ends_as_one_review_a_summary_and_a_check_run() {
    let (server, fake, harness) = started().await;
    let first_check_run_id;

    assert_eq!(
        deliver(
            &harness,
            "pull_request",
            "delivery-1",
            "github/pull_request_opened.json"
        )
        .await,
        StatusCode::ACCEPTED
    );
    let outcomes = harness.run_jobs().await;
    assert_eq!(outcomes, [posture::jobs::Outcome::Done]);

    {
        let model = fake.0.lock().unwrap();
        // One Create Review call, on head, event COMMENT, with the new findings on added lines.
        assert_eq!(model.reviews_posted.len(), 1);
        let review = &model.reviews_posted[0];
        assert_eq!(review["commit_id"], HEAD);
        assert_eq!(review["event"], "COMMENT");
        let comments = review["comments"].as_array().unwrap();
        let placed: Vec<(String, u64, String)> = comments
            .iter()
            .map(|c| {
                (
                    c["path"].as_str().unwrap().to_owned(),
                    c["line"].as_u64().unwrap(),
                    c["side"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // Bandit's B602 (line 25, high) and B608 (line 14, medium) are on lines this change
        // added; osv-scanner's gogo/protobuf (CVSS 7.5, network) is declared on go.mod's
        // added line 5. Highest risk first; the other five Bandit results are outside the diff.
        assert_eq!(
            placed,
            [
                ("app.py".to_owned(), 25, "RIGHT".to_owned()),
                ("go.mod".to_owned(), 5, "RIGHT".to_owned()),
                ("app.py".to_owned(), 14, "RIGHT".to_owned()),
            ]
        );
        assert!(comments.iter().all(|c| c.get("start_line").is_none()));
        let text = |i: usize| comments[i]["body"].as_str().unwrap();
        assert!(text(0).contains("B602 · found by Bandit"), "{}", text(0));
        assert!(text(2).contains("B608 · found by Bandit"), "{}", text(2));
        // The upgrade is a one-click suggestion of exactly the commented line.
        assert!(
            text(1).contains(
                "upgrade `github.com/gogo/protobuf` from 1.3.1 to **1.3.2**, which clears GO-2021-0053"
            ),
            "{}",
            text(1)
        );
        assert!(
            text(1).contains("```suggestion\nrequire github.com/gogo/protobuf v1.3.2\n```"),
            "{}",
            text(1)
        );
        // Every SARIF result outside lines 10–30 is in the summary only.
        assert_eq!(model.issue_comments.len(), 1);
        let summary = model.issue_comments[0]["body"].as_str().unwrap();
        assert!(summary.starts_with("<!-- posture:summary -->"), "{summary}");
        assert!(summary.contains("baseline unknown"), "{summary}");
        // The gate as a check run on head.
        assert_eq!(model.check_runs.len(), 1);
        let run = &model.check_runs[0];
        first_check_run_id = run["id"].as_u64().unwrap();
        assert_eq!(run["name"], "posture");
        assert_eq!(run["head_sha"], HEAD);
        assert_eq!(run["status"], "completed");
        assert_eq!(
            run["conclusion"], "failure",
            "a new high finding blocks the merge"
        );
        assert_eq!(run["output"]["title"], "1 new finding blocks the merge");
        let annotations = run["output"]["annotations"].as_array().unwrap();
        assert_eq!(annotations.len(), 3, "{annotations:?}");
        assert_eq!(annotations[0]["path"], "app.py");
        assert_eq!(annotations[0]["annotation_level"], "failure");
    }

    // The same event delivered again (a new delivery id, as a re-sent webhook has): the
    // job runs, and posts nothing new.
    assert_eq!(
        deliver(
            &harness,
            "pull_request",
            "delivery-2",
            "github/pull_request_opened.json"
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [posture::jobs::Outcome::Done]);
    {
        let model = fake.0.lock().unwrap();
        assert_eq!(model.reviews_posted.len(), 1, "no second review");
        assert_eq!(
            model.issue_comments.len(),
            1,
            "the summary is edited, not posted again"
        );
        assert_eq!(
            model.check_runs.len(),
            1,
            "the check run is updated, not duplicated"
        );
        // A redelivery of the same delivery id is acknowledged and not run at all.
    }
    assert_eq!(
        deliver(
            &harness,
            "pull_request",
            "delivery-2",
            "github/pull_request_opened.json"
        )
        .await,
        StatusCode::OK
    );
    assert!(harness.run_jobs().await.is_empty());

    // What the two runs cost in content-creating requests (GitHub's secondary limit counts
    // these): the first mints a token, posts one review, one summary and one check run; the
    // second only refreshes the check run.
    let writes: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() != "GET" && r.url.path() != "/graphql")
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /app/installations/1/access_tokens".to_owned(),
            format!("POST /repos/{REPO}/pulls/2/reviews"),
            format!("POST /repos/{REPO}/issues/2/comments"),
            format!("POST /repos/{REPO}/check-runs"),
            format!("PATCH /repos/{REPO}/check-runs/{}", first_check_run_id),
        ]
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_lose_nothing_and_double_nothing() {
    let (_server, fake, harness) = started().await;
    deliver(
        &harness,
        "pull_request",
        "delivery-1",
        "github/pull_request_opened.json",
    )
    .await;

    // A secondary rate limit on the review: the job waits as GitHub asks, posting nothing.
    fake.fail_once(
        "review",
        ResponseTemplate::new(403)
            .insert_header("retry-after", "30")
            .set_body_json(json!({"message": "You have exceeded a secondary rate limit."})),
    );
    let job = harness
        .store
        .claim("e2e", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let outcome = harness.runner.run(&job).await;
    let posture::jobs::Outcome::Postponed { after, reason } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(after, std::time::Duration::from_secs(31));
    assert!(reason.contains("rate limit"), "{reason}");
    assert!(fake.0.lock().unwrap().reviews_posted.is_empty());

    // Then a 502 on the summary, after the review went out: the attempt fails.
    fake.fail_once(
        "summary",
        ResponseTemplate::new(502).set_body_string("Bad Gateway"),
    );
    let outcome = harness.runner.run(&job).await;
    assert!(
        matches!(&outcome, posture::jobs::Outcome::Failed(e) if e.contains("unavailable")),
        "{outcome:?}"
    );
    assert_eq!(fake.0.lock().unwrap().reviews_posted.len(), 1);
    assert!(fake.0.lock().unwrap().issue_comments.is_empty());

    // The retry finishes the job: the summary once, the review not again.
    assert_eq!(harness.runner.run(&job).await, posture::jobs::Outcome::Done);
    let model = fake.0.lock().unwrap();
    assert_eq!(model.reviews_posted.len(), 1);
    assert_eq!(model.review_comments.len(), 3);
    assert_eq!(model.issue_comments.len(), 1);
    assert_eq!(model.check_runs.len(), 1);
}

#[tokio::test]
async fn a_comment_the_forge_refuses_is_listed_in_the_summary_and_the_rest_are_posted() {
    let (_server, fake, harness) = started().await;
    deliver(
        &harness,
        "pull_request",
        "delivery-1",
        "github/pull_request_opened.json",
    )
    .await;
    // The review is refused as a whole (one line cannot be resolved): posture falls back to
    // one comment at a time, and the one GitHub refuses again is named in the summary.
    fake.fail_once(
        "review",
        ResponseTemplate::new(422).set_body_json(json!({
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"]
        })),
    );
    assert_eq!(harness.run_jobs().await, [posture::jobs::Outcome::Done]);
    let model = fake.0.lock().unwrap();
    let lines: Vec<u64> = model
        .review_comments
        .iter()
        .map(|c| c["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [25, 5]);
    let summary = model.issue_comments[0]["body"].as_str().unwrap();
    assert!(
        summary.contains("`app.py:14`: the forge refused an inline comment"),
        "{summary}"
    );
}
