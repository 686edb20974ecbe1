//! End to end on GitLab: a Merge Request Hook and a Pipeline Hook (the real payloads) go
//! through the real axum app into the queue; the job reads the merge request, its diffs, its
//! files and the pipeline's job artifact (a zip of real Bandit SARIF and osv-scanner output)
//! from a wiremock GitLab, and publishes discussions, a summary note and a commit status. The
//! fake keeps what was posted, so a second delivery must post nothing new.

mod common;

use common::forge::{Handler, Harness, trailing_id};

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use posture::forge::gitlab::GitLabClient;
use posture::jobs::{Forges, Outcome};
use posture::server::WebhookSecrets;

const TOKEN: &str = "e2e-gitlab-hook-token";
const API_TOKEN: &str = "glpat-e2eapitoken";
/// The Pipeline Hook's project, merge request and head.
const PROJECT: &str = "gitlab-org%2Fgitlab-test";
const HEAD: &str = "bcbb5ec396a2c0f828686f14fac9b80b780504f2";
const BASE: &str = "b5d6e7b1613fca24d250fa8e5bc7bcc3dd6002ef";
/// The Merge Request Hook's project and head (no pipeline has run for it yet).
const EARLY_PROJECT: &str = "gitlabhq%2Fgitlab-test";
const EARLY_HEAD: &str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

#[derive(Default)]
struct Model {
    discussions: Vec<Value>,
    notes: Vec<Value>,
    statuses: Vec<Value>,
    next_id: u64,
}

#[derive(Clone, Default)]
struct FakeGitLab(Arc<Mutex<Model>>);

fn body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|_| {
        // Form-encoded bodies (the crate's own endpoints).
        let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(pairs)
    })
}

fn note(id: u64, text: &Value, kind: Value) -> Value {
    json!({
        "id": id, "type": kind, "body": text, "attachment": null,
        "author": {"id": 42, "name": "posture", "username": "project_14_bot", "state": "active"},
        "created_at": "2026-11-20T10:00:00.000Z", "updated_at": "2026-11-20T10:00:00.000Z",
        "system": false, "noteable_id": 99, "noteable_type": "MergeRequest", "project_id": 14,
        "noteable_iid": 1, "resolvable": !kind.is_null(), "resolved": false
    })
}

fn app_py(at_head: bool) -> String {
    (1..=100)
        .filter(|n| at_head || !(10..=30).contains(n))
        .map(|n| format!("line_{n} = {n}\n"))
        .collect()
}

fn artifact_zip() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, file) in [
        ("reports/bandit.sarif", "sarif/bandit_1.8.6_flask.sarif"),
        ("osv-scanner.json", "sca/osv-scanner/ci_results-some.json"),
    ] {
        writer.start_file(name, options).unwrap();
        writer
            .write_all(&std::fs::read(common::fixture(file)).unwrap())
            .unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn merge_request(head: &str) -> Value {
    json!({
        "id": 99, "iid": 1, "project_id": 14, "title": "MS-Viewport", "state": "opened",
        "target_branch": "master", "source_branch": "ms-viewport", "draft": false,
        "work_in_progress": false, "sha": head,
        "diff_refs": {"base_sha": BASE, "head_sha": head, "start_sha": BASE},
        "web_url": "http://example.com/gitlab-org/gitlab-test/-/merge_requests/1"
    })
}

async fn mount(server: &MockServer, fake: &FakeGitLab) {
    let api = |project: &str, rest: &str| format!("/api/v4/projects/{project}{rest}");
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 42, "username": "project_14_bot", "bot": true})),
        )
        .mount(server)
        .await;
    for (project, head) in [(PROJECT, HEAD), (EARLY_PROJECT, EARLY_HEAD)] {
        Mock::given(method("GET"))
            .and(path(api(project, "/merge_requests/1")))
            .respond_with(ResponseTemplate::new(200).set_body_json(merge_request(head)))
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path(api(project, "/repository/files/.posture.yml/raw")))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(json!({"message": "404 File Not Found"})),
            )
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path(api(project, "/pipelines")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .with_priority(10)
            .mount(server)
            .await;
    }
    let project = |rest: &str| api(PROJECT, rest);
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1/diffs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"old_path": "app.py", "new_path": "app.py", "a_mode": "100644", "b_mode": "100644",
             "diff": format!("@@ -9,0 +10,21 @@\n{}", (10..=30).map(|n| format!("+line_{n} = {n}\n")).collect::<String>()),
             "new_file": false, "renamed_file": false, "deleted_file": false},
            {"old_path": "go.mod", "new_path": "go.mod", "a_mode": "100644", "b_mode": "100644",
             "diff": "@@ -4,0 +5 @@\n+require github.com/gogo/protobuf v1.3.1\n",
             "new_file": false, "renamed_file": false, "deleted_file": false}
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^/api/v4/projects/{PROJECT}/repository/files/(app\.py|go\.mod)/raw$"
        )))
        .respond_with(|request: &wiremock::Request| {
            let at_head = request.url.query().unwrap_or_default().contains(HEAD);
            let text = if request.url.path().contains("app.py") {
                app_py(at_head)
            } else if at_head {
                "module example.com/hello\n\ngo 1.20\n\nrequire github.com/gogo/protobuf v1.3.1\n"
                    .to_owned()
            } else {
                "module example.com/hello\n\ngo 1.20\n".to_owned()
            };
            ResponseTemplate::new(200).set_body_string(text)
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(project("/repository/tree")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "a1", "name": "app.py", "type": "blob", "path": "app.py", "mode": "100644"},
            {"id": "a2", "name": "go.mod", "type": "blob", "path": "go.mod", "mode": "100644"}
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^/api/v4/projects/{PROJECT}/repository/files/[^/]+/blame$")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"commit": {"id": HEAD, "message": "Add the report endpoint\n", "authored_date": "2026-11-20T10:00:00.000Z",
                        "author_name": "Administrator", "author_email": "admin@example.com",
                        "committed_date": "2026-11-20T10:00:00.000Z", "committer_name": "Administrator",
                        "committer_email": "admin@example.com", "parent_ids": [BASE]},
             "lines": (1..=100).map(|n| format!("line_{n} = {n}")).collect::<Vec<_>>()}
        ])))
        .mount(server)
        .await;
    // CI: pipeline 31 ran for head with one job keeping its reports as an archive.
    Mock::given(method("GET"))
        .and(path(project("/pipelines")))
        .and(query_param("sha", HEAD))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 31, "iid": 3, "project_id": 14, "status": "success", "source": "merge_request_event", "sha": HEAD,
             "ref": "refs/merge-requests/1/head", "created_at": "2026-11-20T10:00:00.000Z", "updated_at": "2026-11-20T10:05:00.000Z"}
        ])))
        .with_priority(1)
        .mount(server)
        .await;
    let zip = artifact_zip();
    Mock::given(method("GET"))
        .and(path(project("/pipelines/31/jobs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 7, "status": "success", "stage": "test", "name": "security-scans", "ref": "ms-viewport",
             "commit": {"id": HEAD}, "pipeline": {"id": 31, "project_id": 14, "sha": HEAD, "status": "success"},
             "artifacts": [{"file_type": "archive", "size": zip.len(), "filename": "artifacts.zip", "file_format": "zip"},
                           {"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": null}],
             "artifacts_expire_at": "2999-01-01T00:00:00.000Z"}
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(project("/jobs/7/artifacts")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/zip")
                .set_body_bytes(zip),
        )
        .mount(server)
        .await;

    // What posture publishes, kept in the model.
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1/discussions")))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitLab, _: &wiremock::Request| {
            let model = fake.0.lock().unwrap();
            let mut all = model.discussions.clone();
            for n in &model.notes {
                all.push(json!({"id": format!("individual-{}", n["id"]), "individual_note": true, "notes": [n]}));
            }
            ResponseTemplate::new(200).set_body_json(all)
        }))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(project("/merge_requests/1/discussions")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let posted = body(request);
                let mut model = fake.0.lock().unwrap();
                model.next_id += 1;
                let id = 2000 + model.next_id;
                let mut first = note(id, &posted["body"], json!("DiffNote"));
                first["position"] = posted["position"].clone();
                let discussion =
                    json!({"id": format!("{id:040}"), "individual_note": false, "notes": [first]});
                model.discussions.push(discussion.clone());
                ResponseTemplate::new(201).set_body_json(discussion)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1/notes")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, _: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_json(&fake.0.lock().unwrap().notes)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(project("/merge_requests/1/notes")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let posted = body(request);
                let mut model = fake.0.lock().unwrap();
                model.next_id += 1;
                let created = note(3000 + model.next_id, &posted["body"], Value::Null);
                model.notes.push(created.clone());
                ResponseTemplate::new(201).set_body_json(created)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(format!(
            r"^/api/v4/projects/{PROJECT}/merge_requests/1/notes/\d+$"
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let id = trailing_id(request);
                let text = body(request)["body"].clone();
                let mut model = fake.0.lock().unwrap();
                let note = model
                    .notes
                    .iter_mut()
                    .find(|n| n["id"] == json!(id))
                    .unwrap();
                note["body"] = text;
                ResponseTemplate::new(200).set_body_json(note.clone())
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!(
            r"^/api/v4/projects/{PROJECT}/statuses/[0-9a-f]+$"
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let mut status = body(request);
                status["sha"] = json!(request.url.path().rsplit('/').next().unwrap());
                fake.0.lock().unwrap().statuses.push(status.clone());
                ResponseTemplate::new(201).set_body_json(status)
            },
        ))
        .mount(server)
        .await;
}

/// The real app and a worker's runner against the wiremock GitLab.
async fn harness(server: &MockServer) -> Harness {
    let gitlab = GitLabClient::new(&server.uri(), API_TOKEN).unwrap();
    let forges = Forges {
        github: None,
        gitlab: Some(Arc::new(gitlab)),
    };
    Harness::new(WebhookSecrets::from_values(None, Some(TOKEN)), forges).await
}

async fn deliver(harness: &Harness, event: &str, uuid: &str, fixture: &str) -> StatusCode {
    let body = std::fs::read(common::fixture(fixture)).unwrap();
    let request = Request::post("/webhooks/gitlab")
        .header("content-type", "application/json")
        .header("x-gitlab-event", event)
        .header("x-gitlab-event-uuid", uuid)
        .header("x-gitlab-token", TOKEN)
        .body(Body::from(body))
        .unwrap();
    harness.send(request).await
}

#[tokio::test]
async fn merge_request_and_pipeline_hooks_end_as_discussions_a_summary_note_and_a_status() {
    let server = MockServer::start().await;
    let fake = FakeGitLab::default();
    mount(&server, &fake).await;
    let harness = harness(&server).await;

    // The merge request opens before any pipeline ran: nothing to review yet, nothing posted.
    assert_eq!(
        deliver(
            &harness,
            "Merge Request Hook",
            "uuid-1",
            "gitlab/merge_request.json"
        )
        .await,
        StatusCode::ACCEPTED
    );
    let outcomes = harness.run_jobs().await;
    assert!(
        matches!(&outcomes[..], [Outcome::Skipped(why)] if why.contains("no CI run")),
        "{outcomes:?}"
    );
    assert!(fake.0.lock().unwrap().discussions.is_empty());

    // The pipeline finishes: the review is published.
    assert_eq!(
        deliver(&harness, "Pipeline Hook", "uuid-2", "gitlab/pipeline.json").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
    {
        let model = fake.0.lock().unwrap();
        let positions: Vec<Value> = model
            .discussions
            .iter()
            .map(|d| d["notes"][0]["position"].clone())
            .collect();
        let expected = |path: &str, line: u32| {
            json!({"position_type": "text", "base_sha": BASE, "start_sha": BASE, "head_sha": HEAD,
                   "old_path": path, "new_path": path, "new_line": line})
        };
        assert_eq!(
            positions,
            [
                expected("app.py", 25),
                expected("go.mod", 5),
                expected("app.py", 14)
            ]
        );
        let first = model.discussions[0]["notes"][0]["body"].as_str().unwrap();
        assert!(first.contains("<!-- posture:finding:"), "{first}");
        assert!(first.contains("B602 · found by Bandit"), "{first}");
        let upgrade = model.discussions[1]["notes"][0]["body"].as_str().unwrap();
        assert!(
            upgrade.contains("```suggestion\nrequire github.com/gogo/protobuf v1.3.2\n```"),
            "{upgrade}"
        );
        assert_eq!(model.notes.len(), 1);
        let summary = model.notes[0]["body"].as_str().unwrap();
        assert!(summary.starts_with("<!-- posture:summary -->"), "{summary}");
        assert_eq!(model.statuses.len(), 1);
        assert_eq!(model.statuses[0]["state"], "failed");
        assert_eq!(model.statuses[0]["name"], "posture");
        assert_eq!(model.statuses[0]["sha"], HEAD);
    }

    // The pipeline hook again, as a new delivery: nothing new is posted.
    assert_eq!(
        deliver(&harness, "Pipeline Hook", "uuid-3", "gitlab/pipeline.json").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
    let model = fake.0.lock().unwrap();
    assert_eq!(model.discussions.len(), 3);
    assert_eq!(model.notes.len(), 1);
}
