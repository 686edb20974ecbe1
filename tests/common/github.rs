//! A fake GitHub for the end-to-end tests: wiremock answers computed from one in-memory
//! model that posture's calls read and mutate, and the signed webhooks that drive the app.
//!
//! The repository is the fixtures' (`Codertocat/Hello-World`), with pull request #2 whose
//! head adds `app.py` lines 10–30 and a `go.mod` requirement. What each commit's CI left
//! (one workflow run with one artifact), its `.posture.yml`, and who has which role on the
//! repository are set by the test. Review comments hold everyone's, posture's and people's,
//! as GitHub lists them; a thread is resolved only through the GraphQL mutation; only a
//! comment's author may edit it, as on GitHub.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::forge::{Handler, Harness, trailing_id};
use posture::forge::github::{GitHubClient, GitHubConfig, GitHubCredentials};
use posture::jobs::Forges;
use posture::server::WebhookSecrets;

pub const SECRET: &str = "e2e-webhook-secret";
pub const REPO: &str = "Codertocat/Hello-World";
pub const NUMBER: u64 = 2;
pub const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
/// The App's bot: `GET /app` answers the slug `posture-dev`.
pub const BOT: &str = "posture-dev[bot]";
/// A GitHub Actions job's `GITHUB_TOKEN`: what it writes is by [`ACTIONS_BOT`].
pub const ACTIONS_TOKEN: &str = "ghs_e2eactionsjobtoken";
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// The reports of the head's CI in the fixture scenario: Bandit SARIF and osv-scanner.
pub const BANDIT: (&str, &str) = ("bandit.sarif", "sarif/bandit_1.8.6_flask.sarif");
pub const OSV: (&str, &str) = ("osv-scanner.json", "sca/osv-scanner/ci_results-some.json");

/// The first workflow run's id; the i-th commit given CI gets run `RUN + i`, artifact
/// `ARTIFACT + i`.
const RUN: usize = 30433642;
const ARTIFACT: usize = 11;

/// What the fake GitHub holds.
#[derive(Default)]
pub struct Model {
    /// Every review comment of the pull request, people's and posture's, in creation order.
    pub review_comments: Vec<Value>,
    /// Every comment of the pull request's conversation, in creation order.
    pub issue_comments: Vec<Value>,
    pub check_runs: Vec<Value>,
    /// The bodies of `POST /pulls/2/reviews`, in order.
    pub reviews_posted: Vec<Value>,
    /// Every edit asked for (review and issue comments): the comment's id and the new body.
    pub edits: Vec<(u64, String)>,
    /// The thread ids `resolveReviewThread` was called with, in order.
    pub resolutions: Vec<String>,
    /// The threads resolved.
    pub resolved: HashSet<String>,
    /// `.posture.yml` by commit; none where absent.
    pub configs: HashMap<String, String>,
    /// The commits CI ran for, each leaving one artifact with `(name, fixture)` files.
    pub ci: Vec<(String, Vec<(&'static str, &'static str)>)>,
    /// Roles on the repository (`read`, `triage`, `write`, `maintain`, `admin`) by login;
    /// anyone else is no collaborator.
    pub roles: HashMap<String, &'static str>,
    next_id: u64,
    /// Answers to give once, instead of the model's, by operation ("review", "summary", …).
    faults: HashMap<&'static str, ResponseTemplate>,
    /// The pull request's head commit, when not the fixture's [`HEAD`] (a test that reviews a
    /// local repository of the same content sets its own commit).
    pub head: Option<String>,
    /// The pull request's commits as `GET /pulls/2/commits` lists them, each with its
    /// parents; `None`: one commit, the head, on [`BASE`].
    pub commits: Option<Vec<(String, Vec<String>)>>,
}

impl Model {
    pub fn head(&self) -> &str {
        self.head.as_deref().unwrap_or(HEAD)
    }

    fn next(&mut self) -> u64 {
        self.next_id += 1;
        1000 + self.next_id
    }

    /// A reply by `user` in the thread review comment `thread` opened: only the comment
    /// that opens a thread takes replies, as on GitHub.
    fn reply(
        &mut self,
        user: Value,
        thread: u64,
        text: &str,
    ) -> Result<Value, Box<ResponseTemplate>> {
        let Some(first) = self
            .review_comments
            .iter()
            .find(|c| c["id"] == thread)
            .cloned()
        else {
            return Err(Box::new(not_found()));
        };
        if first.get("in_reply_to_id").is_some() {
            return Err(Box::new(ResponseTemplate::new(422).set_body_json(json!({
                "message": "Validation Failed",
                "errors": [{"resource": "PullRequestReviewComment", "code": "invalid",
                            "field": "in_reply_to_id"}]
            }))));
        }
        let reply = json!({
            "id": self.next(), "body": text, "in_reply_to_id": thread,
            "path": first["path"], "line": first["line"], "side": "RIGHT",
            "commit_id": first["commit_id"], "pull_request_review_id": self.next(), "user": user,
        });
        self.review_comments.push(reply.clone());
        Ok(reply)
    }

    /// The newest check run (the one GitHub shows).
    pub fn check_run(&self) -> &Value {
        self.check_runs.last().expect("a check run")
    }

    /// posture's summary comment.
    pub fn summary(&self) -> &str {
        let summaries: Vec<&str> = self
            .issue_comments
            .iter()
            .filter(|c| is_posture(c))
            .filter_map(|c| c["body"].as_str())
            .filter(|b| b.starts_with("<!-- posture:summary -->"))
            .collect();
        assert_eq!(summaries.len(), 1, "one summary comment: {summaries:#?}");
        summaries[0]
    }

    /// posture's comments opening a thread, in creation order.
    pub fn posture_comments(&self) -> Vec<&Value> {
        self.review_comments
            .iter()
            .filter(|c| is_posture(c) && c.get("in_reply_to_id").is_none())
            .collect()
    }

    /// posture's comment on `path:line`.
    pub fn comment_at(&self, path: &str, line: u64) -> &Value {
        self.posture_comments()
            .into_iter()
            .find(|c| c["path"] == path && c["line"] == line)
            .unwrap_or_else(|| panic!("no posture comment at {path}:{line}"))
    }

    pub fn review_comment(&self, id: u64) -> &Value {
        self.review_comments
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no review comment {id}"))
    }

    /// The replies in the thread that comment `id` opened, in order.
    pub fn replies_to(&self, id: u64) -> Vec<&Value> {
        self.review_comments
            .iter()
            .filter(|c| c["in_reply_to_id"] == id)
            .collect()
    }

    /// posture's comments in the conversation other than its summary, in order.
    pub fn conversation_replies(&self) -> Vec<&str> {
        self.issue_comments
            .iter()
            .filter(|c| is_posture(c))
            .filter_map(|c| c["body"].as_str())
            .filter(|b| !b.starts_with("<!-- posture:summary -->"))
            .collect()
    }
}

/// The GraphQL id of the thread review comment `id` opened.
pub fn thread_of(id: u64) -> String {
    format!("PRRT_{id}")
}

/// The model, shared with the wiremock answers.
#[derive(Clone, Default)]
pub struct FakeGitHub(Arc<Mutex<Model>>);

impl FakeGitHub {
    /// A fake whose head CI left Bandit and osv-scanner reports (the merge-base's none), and
    /// a wiremock serving it.
    pub async fn start() -> (MockServer, FakeGitHub) {
        let server = MockServer::start().await;
        let fake = FakeGitHub::default();
        fake.set_ci(HEAD, &[BANDIT, OSV]);
        mount(&server, &fake).await;
        (server, fake)
    }

    pub fn model(&self) -> MutexGuard<'_, Model> {
        self.0.lock().unwrap()
    }

    pub fn fail_once(&self, operation: &'static str, answer: ResponseTemplate) {
        self.model().faults.insert(operation, answer);
    }

    fn fault(&self, operation: &'static str) -> Option<ResponseTemplate> {
        self.model().faults.remove(operation)
    }

    pub fn set_config(&self, sha: &str, text: &str) {
        self.model().configs.insert(sha.to_owned(), text.to_owned());
    }

    /// CI ran for `sha` and left these report files (replacing any earlier run).
    pub fn set_ci(&self, sha: &str, files: &[(&'static str, &'static str)]) {
        let mut model = self.model();
        match model.ci.iter_mut().find(|(s, _)| s == sha) {
            Some((_, old)) => *old = files.to_vec(),
            None => model.ci.push((sha.to_owned(), files.to_vec())),
        }
    }

    pub fn set_role(&self, login: &str, role: &'static str) {
        self.model().roles.insert(login.to_owned(), role);
    }

    /// `login` opens a review thread on `path:line` of the head. Returns the comment as
    /// GitHub lists it.
    pub fn add_review_comment(&self, login: &str, (path, line): (&str, u64), text: &str) -> Value {
        let mut model = self.model();
        let comment = json!({
            "id": model.next(), "body": text, "path": path, "line": line, "side": "RIGHT",
            "commit_id": HEAD, "pull_request_review_id": model.next(), "user": person(login),
        });
        model.review_comments.push(comment.clone());
        comment
    }

    /// `login` replies in the thread review comment `thread` opened. Returns the reply as
    /// GitHub lists it.
    pub fn add_reply(&self, login: &str, thread: u64, text: &str) -> Value {
        self.model()
            .reply(person(login), thread, text)
            .unwrap_or_else(|_| panic!("review comment {thread} opens no thread"))
    }

    /// `login` comments on the pull request's conversation. Returns it as GitHub lists it.
    pub fn add_issue_comment(&self, login: &str, text: &str) -> Value {
        let mut model = self.model();
        let comment = json!({"id": model.next(), "body": text, "user": person(login)});
        model.issue_comments.push(comment.clone());
        comment
    }
}

fn person(login: &str) -> Value {
    let id = login
        .bytes()
        .fold(7u64, |id, b| (id * 31 + u64::from(b)) % 100_000_000);
    json!({"login": login, "id": id, "type": "User", "site_admin": false})
}

/// Whether a comment is posture's: written with the App's or a GitHub Actions job's token.
fn is_posture(comment: &Value) -> bool {
    comment["user"]["login"] == BOT || comment["user"]["login"] == ACTIONS_BOT
}

/// Whom GitHub credits with what `request` writes: the owner of its token.
fn caller(request: &wiremock::Request) -> Value {
    let token = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if token.ends_with(ACTIONS_TOKEN) {
        json!({"login": ACTIONS_BOT, "id": 41898282, "type": "Bot", "site_admin": false})
    } else {
        json!({"login": BOT, "id": 134521, "type": "Bot", "site_admin": false})
    }
}

fn body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "message": "Not Found", "documentation_url": "https://docs.github.com/rest"
    }))
}

/// app.py: 100 lines at head, of which this pull request added 10–30.
pub fn app_py(at_head: bool) -> String {
    (1..=100)
        .filter(|n| at_head || !(10..=30).contains(n))
        .map(|n| format!("line_{n} = {n}\n"))
        .collect()
}

/// go.mod: the head declares the vulnerable gogo/protobuf on a line it added.
pub fn go_mod(at_head: bool) -> String {
    let mut text = "module example.com/hello\n\ngo 1.20\n".to_owned();
    if at_head {
        text.push_str("\nrequire github.com/gogo/protobuf v1.3.1\n");
    }
    text
}

fn app_py_patch() -> String {
    let mut patch = "@@ -9,0 +10,21 @@\n".to_owned();
    for n in 10..=30 {
        patch.push_str(&format!("+line_{n} = {n}\n"));
    }
    patch
}

fn artifact_zip(files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, file) in files {
        writer.start_file(*name, options).unwrap();
        writer
            .write_all(&std::fs::read(super::fixture(file)).unwrap())
            .unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The query parameter `name` of a request.
fn query(request: &wiremock::Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The number in the path segment after `after` (`…/runs/<id>/…`).
fn number_after(request: &wiremock::Request, after: &str) -> usize {
    let mut segments = request.url.path().split('/');
    segments.by_ref().find(|s| *s == after);
    segments.next().unwrap().parse().unwrap()
}

/// Edits comment `id` of `comments` as posture; GitHub lets only a comment's author edit it.
fn edit(
    comments: &mut [Value],
    edits: &mut Vec<(u64, String)>,
    request: &wiremock::Request,
) -> ResponseTemplate {
    let id = trailing_id(request);
    let text = body(request)["body"].clone();
    edits.push((id, text.as_str().unwrap_or_default().to_owned()));
    let Some(comment) = comments.iter_mut().find(|c| c["id"] == id) else {
        return not_found();
    };
    if comment["user"] != caller(request) {
        return ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest"
        }));
    }
    comment["body"] = text;
    ResponseTemplate::new(200).set_body_json(comment.clone())
}

/// GraphQL: the review threads (from the review comments), resolving one, and blame.
fn graphql(fake: &FakeGitHub, request: &wiremock::Request) -> ResponseTemplate {
    let call = body(request);
    let query = call["query"].as_str().unwrap_or_default();
    let mut model = fake.model();
    if query.contains("resolveReviewThread") {
        let thread = call["variables"]["thread"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        model.resolutions.push(thread.clone());
        let known = model.review_comments.iter().any(|c| {
            c.get("in_reply_to_id").is_none() && thread_of(c["id"].as_u64().unwrap()) == thread
        });
        if !known {
            return ResponseTemplate::new(200).set_body_json(json!({
                "data": {"resolveReviewThread": null},
                "errors": [{"type": "NOT_FOUND", "path": ["resolveReviewThread"],
                            "message": format!("Could not resolve to a node with the global id of '{thread}'")}]
            }));
        }
        model.resolved.insert(thread.clone());
        return ResponseTemplate::new(200).set_body_json(json!({"data": {"resolveReviewThread": {
            "thread": {"id": thread, "isResolved": true}
        }}}));
    }
    if query.contains("reviewThreads") {
        let nodes: Vec<Value> = model
            .review_comments
            .iter()
            .filter(|c| c.get("in_reply_to_id").is_none())
            .map(|c| {
                let thread = thread_of(c["id"].as_u64().unwrap());
                json!({"id": thread, "isResolved": model.resolved.contains(&thread),
                       "comments": {"nodes": [{"databaseId": c["id"]}]}})
            })
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
}

/// `GET /repos/{owner}/{repo}/collaborators/{username}/permission`, from the roles.
fn permission(fake: &FakeGitHub, request: &wiremock::Request) -> ResponseTemplate {
    let login = request
        .url
        .path()
        .split('/')
        .nth_back(1)
        .unwrap()
        .to_owned();
    let Some(role) = fake.model().roles.get(&login).copied() else {
        return not_found();
    };
    // The base permission of each role (`maintain` is `write`, `triage` is `read`).
    let base = match role {
        "admin" => "admin",
        "maintain" | "write" => "write",
        _ => "read",
    };
    ResponseTemplate::new(200).set_body_json(json!({
        "permission": base, "role_name": role, "user": person(&login)
    }))
}

async fn mount(server: &MockServer, fake: &FakeGitHub) {
    let uri = server.uri();
    let event: Value = serde_json::from_slice(
        &std::fs::read(super::fixture("github/pull_request_opened.json")).unwrap(),
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
    get("/app".to_owned())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 4242, "slug": "posture-dev", "name": "posture (dev)",
            "owner": {"login": "Codertocat", "type": "User"}
        })))
        .mount(server)
        .await;
    get(format!("{base}/pulls/{NUMBER}"))
        .respond_with(Handler(
            fake.clone(),
            move |fake: &FakeGitHub, _: &wiremock::Request| {
                let mut pull = pull.clone();
                pull["head"]["sha"] = json!(fake.model().head());
                ResponseTemplate::new(200).set_body_json(pull)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/compare/{BASE}\.\.\.[0-9a-f]+$"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "ahead", "ahead_by": 1, "behind_by": 0,
            "merge_base_commit": {"sha": BASE}, "files": []
        })))
        .mount(server)
        .await;
    // The pull request's commits, one page.
    get(format!("{base}/pulls/{NUMBER}/commits"))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitHub, _: &wiremock::Request| {
            let model = fake.model();
            let commits = model
                .commits
                .clone()
                .unwrap_or_else(|| vec![(model.head().to_owned(), vec![BASE.to_owned()])]);
            let listed: Vec<Value> = commits
                .iter()
                .map(|(sha, parents)| {
                    json!({"sha": sha, "commit": {"message": format!("commit {sha}")},
                           "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(listed)
        }))
        .mount(server)
        .await;
    // The diff: app.py and go.mod, and `.posture.yml` when the head changes it.
    get(format!("{base}/pulls/{NUMBER}/files"))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitHub, _: &wiremock::Request| {
            let mut files = vec![
                json!({"sha": "a1", "filename": "app.py", "status": "modified", "additions": 21,
                       "deletions": 0, "changes": 21, "patch": app_py_patch()}),
                json!({"sha": "a2", "filename": "go.mod", "status": "modified", "additions": 1,
                       "deletions": 0, "changes": 1,
                       "patch": "@@ -4,0 +5 @@\n+require github.com/gogo/protobuf v1.3.1\n"}),
            ];
            let model = fake.model();
            let (before, after) = (model.configs.get(BASE), model.configs.get(model.head()));
            if let Some(after) = after.filter(|after| Some(*after) != before) {
                let lines: Vec<String> = after.lines().map(|l| format!("+{l}\n")).collect();
                let patch = match before {
                    None => format!("@@ -0,0 +1,{} @@\n{}", lines.len(), lines.concat()),
                    Some(before) => {
                        let removed: Vec<String> =
                            before.lines().map(|l| format!("-{l}\n")).collect();
                        format!(
                            "@@ -1,{} +1,{} @@\n{}{}",
                            removed.len(),
                            lines.len(),
                            removed.concat(),
                            lines.concat()
                        )
                    }
                };
                files.push(json!({"sha": "a3", "filename": ".posture.yml",
                                  "status": if before.is_some() { "modified" } else { "added" },
                                  "additions": lines.len(), "deletions": before.map_or(0, |b| b.lines().count()),
                                  "changes": lines.len(), "patch": patch}));
            }
            ResponseTemplate::new(200).set_body_json(files)
        }))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^{base}/git/trees/[0-9a-f]+$")))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitHub, request: &wiremock::Request| {
            let sha = request.url.path().rsplit('/').next().unwrap().to_owned();
            let mut files = vec!["app.py", "go.mod"];
            if fake.model().configs.contains_key(&sha) {
                files.insert(0, ".posture.yml");
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "sha": sha, "truncated": false,
                "tree": files.iter().map(|f| json!({"path": f, "mode": "100644", "type": "blob", "sha": "0"})).collect::<Vec<_>>()
            }))
        }))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^{base}/contents/[^/]+$")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let file = request
                    .url
                    .path()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let at = query(request, "ref").unwrap_or_default();
                let at_head = at == fake.model().head();
                let text = match file.as_str() {
                    "app.py" => app_py(at_head),
                    "go.mod" => go_mod(at_head),
                    ".posture.yml" => match fake.model().configs.get(&at) {
                        Some(text) => text.clone(),
                        None => return not_found(),
                    },
                    _ => return not_found(),
                };
                ResponseTemplate::new(200).set_body_string(text)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(Handler(fake.clone(), graphql))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/collaborators/[^/]+/permission$"
        )))
        .respond_with(Handler(fake.clone(), permission))
        .mount(server)
        .await;

    // CI: the i-th commit given ran workflow run `RUN + i`, with artifact `ARTIFACT + i`.
    get(format!("{base}/actions/runs"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let sha = query(request, "head_sha").unwrap_or_default();
                let runs: Vec<Value> = fake
                    .model()
                    .ci
                    .iter()
                    .enumerate()
                    .filter(|(_, (s, _))| *s == sha)
                    .map(|(i, _)| {
                        json!({"id": RUN + i, "name": "security-scans", "head_sha": sha,
                                     "status": "completed", "conclusion": "success"})
                    })
                    .collect();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"total_count": runs.len(), "workflow_runs": runs}))
            },
        ))
        .mount(server)
        .await;
    let at = format!("{uri}{base}");
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^{base}/actions/runs/\d+/artifacts$")))
        .respond_with(Handler(fake.clone(), move |fake: &FakeGitHub, request: &wiremock::Request| {
            let i = number_after(request, "runs").checked_sub(RUN);
            let model = fake.model();
            let Some((_, files)) = i.and_then(|i| model.ci.get(i)) else {
                return not_found();
            };
            let id = ARTIFACT + i.unwrap();
            ResponseTemplate::new(200).set_body_json(json!({"total_count": 1, "artifacts": [
                {"id": id, "name": "security-reports", "size_in_bytes": artifact_zip(files).len(),
                 "expired": false, "archive_download_url": format!("{at}/actions/artifacts/{id}/zip")}
            ]}))
        }))
        .mount(server)
        .await;
    let at = uri.clone();
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^{base}/actions/artifacts/\d+/zip$")))
        .respond_with(move |request: &wiremock::Request| {
            let id = number_after(request, "artifacts");
            ResponseTemplate::new(302).insert_header("location", format!("{at}/blobs/{id}.zip"))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/blobs/\d+\.zip$"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let name = request.url.path().rsplit('/').next().unwrap();
                let id: usize = name.trim_end_matches(".zip").parse().unwrap();
                let model = fake.model();
                match id.checked_sub(ARTIFACT).and_then(|i| model.ci.get(i)) {
                    Some((_, files)) => {
                        ResponseTemplate::new(200).set_body_bytes(artifact_zip(files))
                    }
                    None => not_found(),
                }
            },
        ))
        .mount(server)
        .await;

    // What posture publishes, kept in the model.
    get(format!("{base}/pulls/{NUMBER}/comments"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, _: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_json(&fake.model().review_comments)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/pulls/{NUMBER}/reviews")))
        .respond_with(Handler(fake.clone(), |fake: &FakeGitHub, request: &wiremock::Request| {
            if let Some(fault) = fake.fault("review") {
                return fault;
            }
            let review = body(request);
            let mut model = fake.model();
            let review_id = model.next();
            for comment in review["comments"].as_array().unwrap() {
                let mut stored = comment.clone();
                stored["id"] = json!(model.next());
                stored["pull_request_review_id"] = json!(review_id);
                stored["commit_id"] = review["commit_id"].clone();
                stored["user"] = caller(request);
                model.review_comments.push(stored);
            }
            model.reviews_posted.push(review.clone());
            ResponseTemplate::new(200).set_body_json(json!({"id": review_id, "state": "COMMENTED", "commit_id": review["commit_id"]}))
        }))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/pulls/{NUMBER}/reviews/\d+/comments$"
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let id = number_after(request, "reviews");
                let model = fake.model();
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
        .and(path(format!("{base}/pulls/{NUMBER}/comments")))
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
                let mut model = fake.model();
                comment["id"] = json!(model.next());
                comment["user"] = caller(request);
                model.review_comments.push(comment.clone());
                ResponseTemplate::new(201).set_body_json(comment)
            },
        ))
        .mount(server)
        .await;
    // A reply in a thread.
    Mock::given(method("POST"))
        .and(path_regex(format!(
            r"^{base}/pulls/{NUMBER}/comments/\d+/replies$"
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let thread = number_after(request, "comments") as u64;
                let text = body(request)["body"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                match fake.model().reply(caller(request), thread, &text) {
                    Ok(reply) => ResponseTemplate::new(201).set_body_json(reply),
                    Err(refusal) => *refusal,
                }
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(format!(r"^{base}/pulls/comments/\d+$")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                let mut model = fake.model();
                let model = &mut *model;
                edit(&mut model.review_comments, &mut model.edits, request)
            },
        ))
        .mount(server)
        .await;
    get(format!("{base}/issues/{NUMBER}/comments"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, _: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_json(&fake.model().issue_comments)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/issues/{NUMBER}/comments")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, request: &wiremock::Request| {
                if let Some(fault) = fake.fault("summary") {
                    return fault;
                }
                let mut comment = body(request);
                let mut model = fake.model();
                comment["id"] = json!(model.next());
                comment["user"] = caller(request);
                model.issue_comments.push(comment.clone());
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
                let mut model = fake.model();
                let model = &mut *model;
                edit(&mut model.issue_comments, &mut model.edits, request)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/commits/[0-9a-f]+/check-runs$"
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitHub, _: &wiremock::Request| {
                let runs = fake.model().check_runs.clone();
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
                let mut model = fake.model();
                run["id"] = json!(model.next());
                model.check_runs.push(run.clone());
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
                let mut model = fake.model();
                let Some(run) = model.check_runs.iter_mut().find(|r| r["id"] == json!(id)) else {
                    return not_found();
                };
                for (key, value) in update.as_object().unwrap() {
                    run[key] = value.clone();
                }
                ResponseTemplate::new(200).set_body_json(run.clone())
            },
        ))
        .mount(server)
        .await;
}

/// The real app and a worker's runner, with the App of the fixtures' installation (id 1)
/// and a throwaway key, against the wiremock GitHub.
pub async fn harness(server: &MockServer) -> Harness {
    let key = std::fs::read_to_string(super::fixture("github/test-app-key.pem")).unwrap();
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

/// A webhook request signed with the shared secret, as GitHub sends it.
pub fn signed(event: &str, delivery: &str, body: Vec<u8>) -> Request<Body> {
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

pub async fn deliver(harness: &Harness, event: &str, delivery: &str, body: Vec<u8>) -> StatusCode {
    harness.send(signed(event, delivery, body)).await
}

/// Sends a fixture payload as it is.
pub async fn deliver_fixture(
    harness: &Harness,
    event: &str,
    delivery: &str,
    fixture: &str,
) -> StatusCode {
    let body = std::fs::read(super::fixture(fixture)).unwrap();
    deliver(harness, event, delivery, body).await
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(super::fixture(name)).unwrap()).unwrap()
}

/// The commenter of a hook: the fixture's user object with the comment's login and type.
fn commenter(hook: &Value, comment: &Value) -> Value {
    let mut user = hook["comment"]["user"].clone();
    user["login"] = comment["user"]["login"].clone();
    user["id"] = comment["user"]["id"].clone();
    user["type"] = comment["user"]["type"].clone();
    user
}

/// The real `pull_request_review_comment` payload
/// (`github/pull_request_review_comment_created.json`) announcing `comment`, a review
/// comment as the model holds it.
pub fn review_comment_hook(comment: &Value) -> Vec<u8> {
    let mut hook = fixture_json("github/pull_request_review_comment_created.json");
    assert_eq!(hook["repository"]["full_name"], REPO);
    assert_eq!(hook["pull_request"]["number"], NUMBER);
    let user = commenter(&hook, comment);
    let c = &mut hook["comment"];
    for key in [
        "id",
        "body",
        "path",
        "line",
        "commit_id",
        "pull_request_review_id",
    ] {
        c[key] = comment[key].clone();
    }
    c["original_line"] = comment["line"].clone();
    if let Some(thread) = comment.get("in_reply_to_id") {
        c["in_reply_to_id"] = thread.clone();
    }
    c["user"] = user.clone();
    hook["sender"] = user;
    serde_json::to_vec(&hook).unwrap()
}

/// The real `issue_comment` payload (`github/issue_comment_created.json`) announcing
/// `comment` on pull request #2, as an App installation receives it.
pub fn issue_comment_hook(comment: &Value) -> Vec<u8> {
    let mut hook = fixture_json("github/issue_comment_created.json");
    assert_eq!(hook["repository"]["full_name"], REPO);
    let pulls = format!("https://api.github.com/repos/{REPO}/pulls/{NUMBER}");
    hook["issue"]["number"] = json!(NUMBER);
    hook["issue"]["pull_request"] = json!({
        "url": pulls,
        "html_url": format!("https://github.com/{REPO}/pull/{NUMBER}"),
        "diff_url": format!("https://github.com/{REPO}/pull/{NUMBER}.diff"),
        "patch_url": format!("https://github.com/{REPO}/pull/{NUMBER}.patch"),
    });
    hook["installation"] = json!({"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    let user = commenter(&hook, comment);
    let c = &mut hook["comment"];
    c["id"] = comment["id"].clone();
    c["body"] = comment["body"].clone();
    c["user"] = user.clone();
    hook["sender"] = user;
    serde_json::to_vec(&hook).unwrap()
}
