//! Publishing: what was posted before, the review, edits, resolving, the summary, the gate.

use serde_json::json;
use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::forge::{
    Actor, Annotation, AnnotationLevel, CommentId, CommentOutcome, Forge, ForgeError, GateStatus,
    InlineComment, Permission, PostedComment, ReplyTo,
};
use crate::model::FindingId;

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// The login of the personal token's user: posture's identity in these tests.
const ME: &str = "posture-bot";

/// `GET /user`: who the token is, asked once.
async fn mount_me(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "login": ME, "id": 583231, "type": "User", "site_admin": false
        })))
        .expect(1)
        .mount(server)
        .await;
}

/// A review comment by posture.
fn review_comment(id: u64, body: &str, in_reply_to: Option<u64>) -> serde_json::Value {
    review_comment_by(ME, id, body, in_reply_to)
}

/// A pull request review comment by `author`, in the documented shape, trimmed.
fn review_comment_by(
    author: &str,
    id: u64,
    body: &str,
    in_reply_to: Option<u64>,
) -> serde_json::Value {
    let mut comment = json!({
        "url": format!("https://api.github.com/repos/{REPO}/pulls/comments/{id}"),
        "pull_request_review_id": 42,
        "id": id,
        "node_id": "MDI0OlB1bGxSZXF1ZXN0UmV2aWV3Q29tbWVudDEw",
        "diff_hunk": "@@ -16,33 +16,40 @@ public class Connection : IConnection...",
        "path": "app/db.py",
        "commit_id": HEAD,
        "original_commit_id": HEAD,
        "user": {"login": author, "id": 41898282, "type": "User"},
        "body": body,
        "created_at": "2011-04-14T16:00:49Z",
        "updated_at": "2011-04-14T16:00:49Z",
        "line": 50,
        "side": "RIGHT",
        "author_association": "NONE"
    });
    if let Some(parent) = in_reply_to {
        comment["in_reply_to_id"] = json!(parent);
    }
    comment
}

fn issue_comment(id: u64, author: &str, body: &str) -> serde_json::Value {
    json!({
        "id": id,
        "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
        "url": format!("https://api.github.com/repos/{REPO}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{REPO}/pull/1347#issuecomment-{id}"),
        "body": body,
        "user": {"login": author, "id": 1},
        "created_at": "2011-04-14T16:00:49Z",
        "updated_at": "2011-04-14T16:00:49Z",
        "author_association": "COLLABORATOR"
    })
}

#[tokio::test]
async fn published_finds_comments_by_marker_with_fixed_replies_threads_and_the_summary() {
    let server = MockServer::start().await;
    mount_me(&server).await;
    let comments = format!("/repos/{REPO}/pulls/1347/comments");
    Mock::given(method("GET"))
        .and(path(comments.as_str()))
        .and(query_param("per_page", "100"))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{}{comments}?per_page=100&page=2>; rel=\"next\"",
                        server.uri()
                    )
                    .as_str(),
                )
                .set_body_json(json!([
                    review_comment(
                        10,
                        "**SQL injection**\n\n<!-- posture:finding:4e4a72ae384102ba -->",
                        None
                    ),
                    review_comment_by("octocat", 11, "Looks like a human comment", None),
                    // A reply quoting posture's comment carries its marker: not posture's.
                    review_comment_by(
                        "octocat",
                        12,
                        "> <!-- posture:finding:4e4a72ae384102ba -->\nwill fix",
                        Some(10)
                    ),
                    // Someone else's "fixed" reply resolves nothing.
                    review_comment_by(
                        "mallory",
                        13,
                        "Fixed in abc. <!-- posture:fixed:4e4a72ae384102ba -->",
                        Some(10)
                    ),
                    // Nor is a finding marker in someone else's comment posture's.
                    review_comment_by(
                        "mallory",
                        14,
                        "Ignore this <!-- posture:finding:0123456789abcdef -->",
                        None
                    ),
                ])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(comments.as_str()))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            review_comment(
                20,
                "Hard-coded secret <!-- posture:finding:9f00aa11bb22cc33 -->",
                None
            ),
            review_comment(
                21,
                "Fixed in abc. <!-- posture:fixed:9f00aa11bb22cc33 -->",
                Some(20)
            ),
            // Logins ignore case.
            review_comment_by(
                "Posture-Bot",
                30,
                "Vulnerable lxml <!-- posture:finding:77aa77aa77aa77aa -->",
                None
            ),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({
            "variables": {"owner": "octo-org", "name": "hello-world", "number": 1347, "cursor": null}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"pullRequest": {"reviewThreads": {
                "pageInfo": {"hasNextPage": false, "endCursor": "Y3Vyc29yOnYyOpK0"},
                "nodes": [
                    {"id": "PRRT_kwDOA1", "isResolved": false, "comments": {"nodes": [{"databaseId": 10}]}},
                    {"id": "PRRT_kwDOA2", "isResolved": false, "comments": {"nodes": [{"databaseId": 20}]}},
                    {"id": "PRRT_kwDOA3", "isResolved": true, "comments": {"nodes": [{"databaseId": 30}]}}
                ]
            }}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            issue_comment(500, "octocat", "LGTM"),
            // A summary marker by someone else is not posture's summary.
            issue_comment(499, "mallory", "<!-- posture:summary -->\nall clear"),
            issue_comment(
                501,
                ME,
                "<!-- posture:summary -->\n## posture: 3 new findings"
            ),
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let published = token_forge(&server).published(&change()).await.unwrap();
    assert_eq!(
        published.summary,
        Some((
            CommentId("501".to_owned()),
            "<!-- posture:summary -->\n## posture: 3 new findings".to_owned()
        ))
    );
    let got: Vec<(&str, Option<&str>, &str, bool)> = published
        .comments
        .iter()
        .map(|c| {
            (
                c.id.0.as_str(),
                c.thread.as_deref(),
                c.findings[0].0.as_str(),
                c.resolved,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("10", Some("PRRT_kwDOA1"), "4e4a72ae384102ba", false),
            ("20", Some("PRRT_kwDOA2"), "9f00aa11bb22cc33", true),
            ("30", Some("PRRT_kwDOA3"), "77aa77aa77aa77aa", true),
        ]
    );
}

#[tokio::test]
async fn nothing_published_asks_no_graphql() {
    let server = MockServer::start().await;
    mount_me(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let published = token_forge(&server).published(&change()).await.unwrap();
    assert_eq!(published, crate::forge::Published::default());
    assert_eq!(seen(&server).await.len(), 3);
}

fn inline(finding: &str, path: &str, line: u32, start: Option<u32>, body: &str) -> InlineComment {
    InlineComment {
        findings: vec![FindingId(finding.to_owned())],
        path: path.to_owned(),
        old_path: path.to_owned(),
        line,
        start_line: start,
        body: body.to_owned(),
    }
}

fn two_comments() -> Vec<InlineComment> {
    vec![
        inline(
            "aaaa1111",
            "app/db.py",
            50,
            None,
            "SQL injection\n\n<!-- posture:finding:aaaa1111 -->",
        ),
        // No marker: posture adds it.
        inline("bbbb2222", "app/keys.py", 12, Some(10), "Hard-coded secret"),
    ]
}

#[tokio::test]
async fn post_comments_creates_one_review_on_head_and_maps_ids_by_marker() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/pulls/1347/reviews")))
        .and(header("authorization", bearer().as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "commit_id": HEAD,
            "event": "COMMENT",
            "body": "posture: 2 new findings on lines this pull request changed; the summary comment has the whole review.",
            "comments": [
                {"path": "app/db.py", "line": 50, "side": "RIGHT",
                 "body": "SQL injection\n\n<!-- posture:finding:aaaa1111 -->"},
                {"path": "app/keys.py", "line": 12, "side": "RIGHT", "start_line": 10, "start_side": "RIGHT",
                 "body": "Hard-coded secret\n\n<!-- posture:finding:bbbb2222 -->"}
            ]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 80,
            "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=",
            "user": {"login": "posture[bot]", "id": 41898282},
            "body": "posture: 2 new findings",
            "state": "COMMENTED",
            "commit_id": HEAD,
            "author_association": "NONE"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/pulls/1347/reviews/80/comments"
        )))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            // GitHub lists them in its own order.
            review_comment(
                902,
                "Hard-coded secret\n\n<!-- posture:finding:bbbb2222 -->",
                None
            ),
            review_comment(
                901,
                "SQL injection\n\n<!-- posture:finding:aaaa1111 -->",
                None
            ),
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let outcomes = token_forge(&server)
        .post_comments(&change(), &two_comments())
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            CommentOutcome::Posted(CommentId("901".to_owned())),
            CommentOutcome::Posted(CommentId("902".to_owned())),
        ]
    );
}

#[tokio::test]
async fn a_refused_review_is_posted_comment_by_comment_and_only_the_misplaced_one_is_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/pulls/1347/reviews")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Unprocessable Entity",
            "errors": ["Line could not be resolved"],
            "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
            "status": "422"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let single = format!("/repos/{REPO}/pulls/1347/comments");
    Mock::given(method("POST"))
        .and(path(single.as_str()))
        .and(body_json(json!({
            "commit_id": HEAD, "path": "app/db.py", "line": 50, "side": "RIGHT",
            "body": "SQL injection\n\n<!-- posture:finding:aaaa1111 -->"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(review_comment(
            903,
            "SQL injection\n\n<!-- posture:finding:aaaa1111 -->",
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(single.as_str()))
        .and(body_partial_json(json!({"path": "app/keys.py", "start_line": 10, "start_side": "RIGHT"})))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation Failed",
            "errors": [{
                "resource": "PullRequestReviewComment",
                "code": "custom",
                "field": "pull_request_review_thread.line",
                "message": "pull_request_review_thread.line must be part of the diff"
            }],
            "documentation_url": "https://docs.github.com/rest/pulls/comments#create-a-review-comment-for-a-pull-request"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let outcomes = token_forge(&server)
        .post_comments(&change(), &two_comments())
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            CommentOutcome::Posted(CommentId("903".to_owned())),
            CommentOutcome::Rejected(
                "Validation Failed: pull_request_review_thread.line must be part of the diff"
                    .to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn no_comments_means_no_request() {
    let server = MockServer::start().await;
    let outcomes = token_forge(&server)
        .post_comments(&change(), &[])
        .await
        .unwrap();
    assert!(outcomes.is_empty());
    assert!(seen(&server).await.is_empty());
}

fn posted(id: &str, finding: &str, thread: Option<&str>) -> PostedComment {
    PostedComment {
        id: CommentId(id.to_owned()),
        thread: thread.map(str::to_owned),
        findings: vec![FindingId(finding.to_owned())],
        body: "old".to_owned(),
        resolved: false,
    }
}

#[tokio::test]
async fn update_comment_patches_the_review_comment_keeping_its_marker() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/pulls/comments/901")))
        .and(header("authorization", bearer().as_str()))
        .and(body_json(
            json!({"body": "SQL injection (now critical)\n\n<!-- posture:finding:aaaa1111 -->"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(review_comment(901, "…", None)))
        .expect(1)
        .mount(&server)
        .await;
    token_forge(&server)
        .update_comment(
            &change(),
            &posted("901", "aaaa1111", None),
            "SQL injection (now critical)",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn resolve_comment_replies_fixed_and_resolves_the_thread() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/repos/{REPO}/pulls/1347/comments/901/replies"
        )))
        .and(body_json(
            json!({"body": format!("Fixed in {HEAD}. <!-- posture:fixed:aaaa1111 -->")}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(review_comment(
            950,
            "Fixed",
            Some(901),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_json(json!({
            "query": crate::forge::github::publish::RESOLVE_MUTATION,
            "variables": {"thread": "PRRT_kwDOA1"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"resolveReviewThread": {"thread": {"id": "PRRT_kwDOA1", "isResolved": true}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    forge
        .resolve_comment(
            &change(),
            &posted("901", "aaaa1111", Some("PRRT_kwDOA1")),
            HEAD,
        )
        .await
        .unwrap();
    // Already resolved: nothing to do.
    let mut done = posted("901", "aaaa1111", Some("PRRT_kwDOA1"));
    done.resolved = true;
    forge.resolve_comment(&change(), &done, HEAD).await.unwrap();
    assert_eq!(seen(&server).await.len(), 2);
}

#[tokio::test]
async fn upsert_summary_creates_edits_and_recreates_a_deleted_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .and(body_json(
            json!({"body": "## posture\n\n<!-- posture:summary -->"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(issue_comment(777, ME, "…")))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/issues/comments/777")))
        .and(body_json(
            json!({"body": "<!-- posture:summary -->\n## posture v2"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(issue_comment(777, ME, "…")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/issues/comments/666")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .expect(1)
        .mount(&server)
        .await;

    let forge = token_forge(&server);
    let created = forge
        .upsert_summary(&change(), None, "## posture")
        .await
        .unwrap();
    assert_eq!(created, CommentId("777".to_owned()));
    let edited = forge
        .upsert_summary(
            &change(),
            Some(&created),
            "<!-- posture:summary -->\n## posture v2",
        )
        .await
        .unwrap();
    assert_eq!(edited, created);
    let again = forge
        .upsert_summary(&change(), Some(&CommentId("666".to_owned())), "## posture")
        .await
        .unwrap();
    assert_eq!(again, CommentId("777".to_owned()));
}

fn gate(passed: bool, annotations: usize) -> GateStatus {
    GateStatus {
        head_sha: HEAD.to_owned(),
        passed,
        title: "2 new findings block the merge".to_owned(),
        summary: "## posture\n2 new findings".to_owned(),
        annotations: (0..annotations)
            .map(|i| Annotation {
                path: format!("app/f{i}.py"),
                start_line: 3,
                end_line: 4,
                level: match i % 3 {
                    0 => AnnotationLevel::Failure,
                    1 => AnnotationLevel::Warning,
                    _ => AnnotationLevel::Notice,
                },
                title: format!("finding {i}"),
                message: "why it matters".to_owned(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn with_a_token_the_gate_is_a_commit_status() {
    let server = MockServer::start().await;
    let mut gate = gate(false, 3);
    gate.title = "é".repeat(200);
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/statuses/{HEAD}")))
        .and(header("authorization", bearer().as_str()))
        .and(body_json(json!({
            "state": "failure",
            "context": "posture",
            "description": format!("{}…", "é".repeat(139)),
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 1, "state": "failure", "context": "posture", "description": "…"
        })))
        .expect(1)
        .mount(&server)
        .await;
    token_forge(&server).set_gate(REPO, &gate).await.unwrap();
    assert_eq!(seen(&server).await.len(), 1);
}

/// An App forge on `server`, with its installation token answered.
async fn app_forge(server: &MockServer) -> super::super::GitHubForge {
    Mock::given(method("POST"))
        .and(path("/app/installations/99/access_tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
            "expires_at": "2099-07-11T22:14:10Z",
            "permissions": {"checks": "write", "pull_requests": "write"},
            "repository_selection": "selected"
        })))
        .mount(server)
        .await;
    app_client_at(&server.uri())
        .for_installation(Some(99))
        .unwrap()
}

#[tokio::test]
async fn with_an_app_the_gate_is_a_check_run_with_annotations_in_batches_of_fifty() {
    let server = MockServer::start().await;
    let forge = app_forge(&server).await;
    let mut gate = gate(false, 120);
    gate.summary = "ü".repeat(70_000);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/commits/{HEAD}/check-runs")))
        .and(query_param("check_name", "posture"))
        .and(query_param("app_id", APP_ID.to_string().as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total_count": 0, "check_runs": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/check-runs")))
        .and(header("authorization", "Bearer ghs_16C7e42F292c6912E7710c838347Ae178B4a"))
        .and(body_partial_json(json!({
            "name": "posture",
            "head_sha": HEAD,
            "status": "completed",
            "conclusion": "failure",
            "output": {"title": "2 new findings block the merge"}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 4, "head_sha": HEAD, "name": "posture", "status": "completed", "conclusion": "failure"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/check-runs/4")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 4})))
        .expect(2)
        .mount(&server)
        .await;

    forge.set_gate(REPO, &gate).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<serde_json::Value> = requests
        .iter()
        .filter(|r| r.url.path().contains("/check-runs") && r.method.as_str() != "GET")
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(bodies.len(), 3);
    let counts: Vec<usize> = bodies
        .iter()
        .map(|b| b["output"]["annotations"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [50, 50, 20]);
    let first = &bodies[0]["output"]["annotations"][0];
    assert_eq!(
        first,
        &json!({
            "path": "app/f0.py", "start_line": 3, "end_line": 4,
            "annotation_level": "failure", "title": "finding 0", "message": "why it matters"
        })
    );
    assert_eq!(
        bodies[0]["output"]["annotations"][1]["annotation_level"],
        "warning"
    );
    assert_eq!(
        bodies[0]["output"]["annotations"][2]["annotation_level"],
        "notice"
    );
    let summary = bodies[0]["output"]["summary"].as_str().unwrap();
    // GitHub counts the summary's limit in bytes, whatever its documentation says.
    assert!(summary.len() <= 65_535, "{} bytes", summary.len());
    assert!(summary.len() > 65_000, "cut no shorter than needed");
    assert!(summary.ends_with(crate::report::budget::CUT_NOTE));
    for later in &bodies[1..] {
        assert_eq!(later["output"]["title"], "2 new findings block the merge");
        assert_eq!(later["output"]["summary"], summary);
    }
}

#[tokio::test]
async fn with_an_app_a_clean_earlier_check_run_is_updated_in_place() {
    let server = MockServer::start().await;
    let forge = app_forge(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/commits/{HEAD}/check-runs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 1,
            "check_runs": [{
                "id": 5, "head_sha": HEAD, "name": "posture", "status": "completed", "conclusion": "failure",
                "output": {"title": "1 new finding", "summary": "…", "annotations_count": 0},
                "app": {"id": APP_ID, "slug": "posture"}
            }]
        })))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/check-runs/5")))
        .and(body_partial_json(json!({
            "name": "posture", "status": "completed", "conclusion": "success",
            "output": {"title": "2 new findings block the merge", "summary": "## posture\n2 new findings", "annotations": []}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 5})))
        .expect(1)
        .mount(&server)
        .await;
    forge.set_gate(REPO, &gate(true, 0)).await.unwrap();
    assert!(
        !seen(&server)
            .await
            .iter()
            .any(|r| r.starts_with("POST /repos"))
    );
}

#[tokio::test]
async fn an_app_without_the_checks_permission_falls_back_to_a_commit_status() {
    let server = MockServer::start().await;
    let forge = app_forge(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/commits/{HEAD}/check-runs")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference",
            "status": "403"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/statuses/{HEAD}")))
        .and(body_partial_json(
            json!({"state": "success", "context": "posture"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 2})))
        .expect(1)
        .mount(&server)
        .await;
    forge.set_gate(REPO, &gate(true, 1)).await.unwrap();
}

#[tokio::test]
async fn with_an_app_only_its_bots_comments_count() {
    let server = MockServer::start().await;
    let forge = app_forge(&server).await;
    Mock::given(method("GET"))
        .and(path("/app"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": APP_ID, "slug": "posture-dev", "name": "posture"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let marker = "<!-- posture:finding:4e4a72ae384102ba -->";
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            review_comment_by("mallory", 7, &format!("Fake finding {marker}"), None),
            review_comment_by(
                "posture-dev[bot]",
                8,
                &format!("SQL injection {marker}"),
                None
            ),
        ])))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"pullRequest": {"reviewThreads": {
                "pageInfo": {"hasNextPage": false, "endCursor": null},
                "nodes": [
                    {"id": "PRRT_7", "isResolved": false, "comments": {"nodes": [{"databaseId": 7}]}},
                    {"id": "PRRT_8", "isResolved": false, "comments": {"nodes": [{"databaseId": 8}]}}
                ]
            }}}}
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            issue_comment(600, "mallory", "<!-- posture:summary -->\nnothing to see"),
            issue_comment(
                601,
                "posture-dev[bot]",
                "<!-- posture:summary -->\n## posture"
            ),
        ])))
        .expect(2)
        .mount(&server)
        .await;

    // Twice: the App's name is asked once.
    for _ in 0..2 {
        let published = forge.published(&change()).await.unwrap();
        assert_eq!(
            published.summary,
            Some((
                CommentId("601".to_owned()),
                "<!-- posture:summary -->\n## posture".to_owned()
            ))
        );
        let ids: Vec<(&str, Option<&str>)> = published
            .comments
            .iter()
            .map(|c| (c.id.0.as_str(), c.thread.as_deref()))
            .collect();
        assert_eq!(ids, [("8", Some("PRRT_8"))]);
    }
}

#[tokio::test]
async fn a_marker_by_someone_else_alone_publishes_nothing() {
    let server = MockServer::start().await;
    mount_me(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            review_comment_by("mallory", 7, "<!-- posture:finding:4e4a72ae384102ba -->", None),
            // A deleted account's comment has no user.
            {"id": 9, "body": "<!-- posture:finding:9f00aa11bb22cc33 -->", "user": null},
        ])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([issue_comment(
                600,
                "mallory",
                "<!-- posture:summary -->"
            )])),
        )
        .mount(&server)
        .await;
    let published = token_forge(&server).published(&change()).await.unwrap();
    assert_eq!(published, crate::forge::Published::default());
    // Nothing of posture's: no review threads asked for.
    assert!(!seen(&server).await.iter().any(|r| r.contains("graphql")));
}

fn actor(login: &str) -> Actor {
    Actor {
        login: login.to_owned(),
        id: None,
    }
}

#[tokio::test]
async fn permission_is_the_role_name_else_the_base_permission_and_404_is_none() {
    let server = MockServer::start().await;
    let answers = [
        (
            "hubot",
            json!({"permission": "admin", "role_name": "admin"}),
        ),
        (
            "mona",
            json!({"permission": "write", "role_name": "maintain"}),
        ),
        ("dev", json!({"permission": "write", "role_name": "write"})),
        (
            "triager",
            json!({"permission": "read", "role_name": "triage"}),
        ),
        ("reader", json!({"permission": "read", "role_name": "read"})),
        // A custom repository role: its base permission.
        (
            "auditor",
            json!({"permission": "write", "role_name": "security-auditor"}),
        ),
        // Older GitHub Enterprise Server: no role_name.
        ("old", json!({"permission": "write"})),
        ("outsider", json!({"permission": "none", "role_name": ""})),
    ];
    for (login, answer) in &answers {
        let mut answer = answer.clone();
        answer["user"] = json!({"login": login, "id": 1, "type": "User"});
        Mock::given(method("GET"))
            .and(path(format!(
                "/repos/{REPO}/collaborators/{login}/permission"
            )))
            .and(header("authorization", bearer().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/collaborators/ghost/permission"
        )))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/collaborators/blocked/permission"
        )))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by personal access token"
        })))
        .mount(&server)
        .await;

    let forge = token_forge(&server);
    let mut got = Vec::new();
    for login in [
        "hubot", "mona", "dev", "triager", "reader", "auditor", "old", "outsider", "ghost",
    ] {
        got.push(forge.permission(REPO, &actor(login)).await.unwrap());
    }
    assert_eq!(
        got,
        [
            Permission::Admin,
            Permission::Maintain,
            Permission::Write,
            Permission::Triage,
            Permission::Read,
            Permission::Write,
            Permission::Write,
            Permission::None,
            Permission::None,
        ]
    );
    let error = forge.permission(REPO, &actor("blocked")).await.unwrap_err();
    assert!(
        matches!(error, ForgeError::Rejected { status: 403, .. }),
        "{error}"
    );
    // No login, no question.
    assert_eq!(
        forge.permission(REPO, &actor(" ")).await.unwrap(),
        Permission::None
    );
    assert_eq!(seen(&server).await.len(), 10);
    assert!(Permission::Write > Permission::Triage && Permission::Maintain > Permission::Write);
    assert_eq!(Permission::Maintain.as_str(), "maintain");
}

#[tokio::test]
async fn a_reply_goes_to_the_review_thread_or_the_conversation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/repos/{REPO}/pulls/1347/comments/901/replies"
        )))
        .and(header("authorization", bearer().as_str()))
        .and(body_json(json!({"body": "Dismissed as a false positive."})))
        .respond_with(ResponseTemplate::new(201).set_body_json(review_comment(
            960,
            "Dismissed as a false positive.",
            Some(901),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .and(header("authorization", bearer().as_str()))
        .and(body_json(
            json!({"body": "Only people who may write can do that."}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(issue_comment(
            778,
            ME,
            "Only people who may write can do that.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    forge
        .reply(
            &change(),
            &ReplyTo::ReviewComment(CommentId("901".to_owned())),
            "Dismissed as a false positive.",
        )
        .await
        .unwrap();
    forge
        .reply(
            &change(),
            &ReplyTo::Conversation,
            "Only people who may write can do that.",
        )
        .await
        .unwrap();
    // GitHub has no discussions, and a comment id is a number.
    let error = forge
        .reply(&change(), &ReplyTo::Discussion("abc".to_owned()), "hi")
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Config(_)), "{error}");
    let error = forge
        .reply(
            &change(),
            &ReplyTo::ReviewComment(CommentId("../1".to_owned())),
            "hi",
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Config(_)), "{error}");
    assert_eq!(seen(&server).await.len(), 2);
}

#[tokio::test]
async fn resolve_thread_resolves_without_a_reply_and_finds_an_unknown_thread() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_json(json!({
            "query": crate::forge::github::publish::RESOLVE_MUTATION,
            "variables": {"thread": "PRRT_kwDOA1"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"resolveReviewThread": {"thread": {"id": "PRRT_kwDOA1", "isResolved": true}}}
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({
            "query": crate::forge::github::publish::THREADS_QUERY,
            "variables": {"owner": "octo-org", "name": "hello-world", "number": 1347}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"pullRequest": {"reviewThreads": {
                "pageInfo": {"hasNextPage": false, "endCursor": null},
                "nodes": [
                    {"id": "PRRT_kwDOA1", "isResolved": false, "comments": {"nodes": [{"databaseId": 901}]}},
                    {"id": "PRRT_kwDOA2", "isResolved": true, "comments": {"nodes": [{"databaseId": 902}]}}
                ]
            }}}}
        })))
        .expect(3)
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    // Thread known: one mutation.
    forge
        .resolve_thread(&change(), &posted("901", "aaaa1111", Some("PRRT_kwDOA1")))
        .await
        .unwrap();
    // Already resolved: nothing asked.
    let mut done = posted("901", "aaaa1111", Some("PRRT_kwDOA1"));
    done.resolved = true;
    forge.resolve_thread(&change(), &done).await.unwrap();
    // Thread unknown: looked up, then resolved; resolved already on GitHub: left alone.
    forge
        .resolve_thread(&change(), &posted("901", "aaaa1111", None))
        .await
        .unwrap();
    forge
        .resolve_thread(&change(), &posted("902", "bbbb2222", None))
        .await
        .unwrap();
    // A comment without a thread (deleted): not found.
    let error = forge
        .resolve_thread(&change(), &posted("903", "cccc3333", None))
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::NotFound { .. }), "{error}");
    // No reply was posted.
    assert!(seen(&server).await.iter().all(|r| r == "POST /graphql"));
}

/// A comment listing two findings on one line, as posture writes it.
fn shared_body(a: &str, b: &str) -> String {
    format!(
        "**posture: 2 findings on this line**\n\n#### one\n<!-- posture:finding:{a} -->\n\n---\n\n#### two\n<!-- posture:finding:{b} -->"
    )
}

#[tokio::test]
async fn one_comment_per_line_is_posted_read_back_with_every_marker_and_resolved_for_all() {
    let server = MockServer::start().await;
    mount_me(&server).await;
    let body = shared_body("aaaa1111", "bbbb2222");
    // Posting: one review comment for both findings, its id found by its first marker.
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/pulls/1347/reviews")))
        .and(body_partial_json(json!({
            "comments": [{"path": "app/db.py", "line": 50, "side": "RIGHT", "body": body}]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 81})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/pulls/1347/reviews/81/comments"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([review_comment(910, &body, None)])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut shared = inline("aaaa1111", "app/db.py", 50, None, &body);
    shared.findings.push(FindingId("bbbb2222".into()));
    let forge = token_forge(&server);
    let outcomes = forge.post_comments(&change(), &[shared]).await.unwrap();
    assert_eq!(outcomes, [CommentOutcome::Posted(CommentId("910".into()))]);

    // Reading back: every marker maps to that one comment. A "fixed" reply naming one of
    // its findings does not resolve it; a comment of an older version names one finding.
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            review_comment(910, &body, None),
            review_comment(
                911,
                "Fixed in abc. <!-- posture:fixed:aaaa1111 -->",
                Some(910)
            ),
            review_comment(920, &shared_body("cccc3333", "dddd4444"), None),
            review_comment(
                921,
                "Fixed in abc. <!-- posture:fixed:cccc3333 --> <!-- posture:fixed:dddd4444 -->",
                Some(920)
            ),
            review_comment(930, "old <!-- posture:finding:eeee5555 -->", None),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({"variables": {"number": 1347}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"pullRequest": {"reviewThreads": {
                "pageInfo": {"hasNextPage": false, "endCursor": null},
                "nodes": [
                    {"id": "PRRT_910", "isResolved": false, "comments": {"nodes": [{"databaseId": 910}]}}
                ]
            }}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/1347/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let published = forge.published(&change()).await.unwrap();
    let got: Vec<(&str, Vec<&str>, bool)> = published
        .comments
        .iter()
        .map(|c| {
            (
                c.id.0.as_str(),
                c.findings.iter().map(|f| f.0.as_str()).collect(),
                c.resolved,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("910", vec!["aaaa1111", "bbbb2222"], false),
            ("920", vec!["cccc3333", "dddd4444"], true),
            ("930", vec!["eeee5555"], false),
        ]
    );
    assert_eq!(published.comments[0].thread.as_deref(), Some("PRRT_910"));

    // Resolving says "fixed" once, for every finding the comment lists.
    Mock::given(method("POST"))
        .and(path(format!(
            "/repos/{REPO}/pulls/1347/comments/910/replies"
        )))
        .and(body_json(json!({"body": format!(
            "Fixed in {HEAD}. <!-- posture:fixed:aaaa1111 --> <!-- posture:fixed:bbbb2222 -->"
        )})))
        .respond_with(ResponseTemplate::new(201).set_body_json(review_comment(
            960,
            "Fixed",
            Some(910),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(
            json!({"variables": {"thread": "PRRT_910"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"resolveReviewThread": {"thread": {"id": "PRRT_910", "isResolved": true}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    forge
        .resolve_comment(&change(), &published.comments[0], HEAD)
        .await
        .unwrap();

    // Editing after one was fixed: the new text is sent as it is (its one marker), never
    // with the fixed finding's marker put back.
    let edited = "#### one\n<!-- posture:finding:aaaa1111 -->";
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/pulls/comments/910")))
        .and(body_json(json!({"body": edited})))
        .respond_with(ResponseTemplate::new(200).set_body_json(review_comment(910, edited, None)))
        .expect(1)
        .mount(&server)
        .await;
    forge
        .update_comment(&change(), &published.comments[0], edited)
        .await
        .unwrap();
}
