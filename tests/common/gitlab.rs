//! A fake GitLab for the end-to-end tests: wiremock answers computed from one in-memory
//! model that posture's calls read and mutate, and the signed webhooks that drive the app.
//!
//! The project is the Pipeline Hook fixture's (`gitlab-org/gitlab-test`), with merge
//! request !1 whose head adds `app.py` lines 10–30 and a `go.mod` requirement. What each
//! commit's CI left (its pipeline's artifact archive), its `.posture.yml`, and who is a
//! member with which access level are set by the test. Discussions hold every note, the
//! merge request's own notes as `individual_note` discussions, as GitLab lists them; only a
//! note's author may edit it, as on GitLab.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::forge::{Handler, Harness, trailing_id};
use posture::forge::gitlab::GitLabClient;
use posture::jobs::Forges;
use posture::server::WebhookSecrets;

pub const TOKEN: &str = "e2e-gitlab-hook-token";
pub const API_TOKEN: &str = "glpat-e2eapitoken";
/// The Pipeline Hook's (and the Note Hook's) project, merge request and head.
pub const PROJECT: &str = "gitlab-org%2Fgitlab-test";
pub const PROJECT_PATH: &str = "gitlab-org/gitlab-test";
pub const HEAD: &str = "bcbb5ec396a2c0f828686f14fac9b80b780504f2";
pub const BASE: &str = "b5d6e7b1613fca24d250fa8e5bc7bcc3dd6002ef";
/// The Merge Request Hook's project and head (no pipeline has run for it yet).
pub const EARLY_PROJECT: &str = "gitlabhq%2Fgitlab-test";
pub const EARLY_HEAD: &str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

/// A GitLab user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub username: &'static str,
}

/// posture's own user: the token's (`GET /user`).
pub const POSTURE: User = User {
    id: 42,
    username: "project_14_bot",
};

/// The reports of the head's CI in the fixture scenario: Bandit SARIF and osv-scanner.
pub const BANDIT: (&str, &str) = ("reports/bandit.sarif", "sarif/bandit_1.8.6_flask.sarif");
pub const OSV: (&str, &str) = ("osv-scanner.json", "sca/osv-scanner/ci_results-some.json");

/// The files of a job's artifact archive: `(path, content)`.
pub type ReportFiles = Vec<(String, Vec<u8>)>;

#[derive(Default)]
pub struct Model {
    /// Every discussion of the merge request, in creation order.
    pub discussions: Vec<Value>,
    /// Commit statuses as posted (the newest is the one GitLab shows).
    pub statuses: Vec<Value>,
    /// The ids of the notes edited, in order.
    pub edits: Vec<u64>,
    /// The ids of the discussions resolved through the API, in order.
    pub resolutions: Vec<String>,
    /// `.posture.yml` by commit; none where absent.
    pub configs: HashMap<String, String>,
    /// The pipelines by commit, each one job whose archive holds `(path, content)` files.
    pub pipelines: Vec<(String, ReportFiles)>,
    /// Project members: user id → access level.
    pub members: HashMap<u64, u64>,
    next_id: u64,
    /// The merge request's head commit, when not the fixture's [`HEAD`] (a test that
    /// reviews a local repository of the same content sets its own commit).
    pub head: Option<String>,
    /// The merge request's commits as `…/merge_requests/1/commits` lists them, each with its
    /// `parent_ids`; `None`: one commit, the head, on [`BASE`].
    pub commits: Option<Vec<(String, Vec<String>)>>,
}

impl Model {
    pub fn head(&self) -> &str {
        self.head.as_deref().unwrap_or(HEAD)
    }
}

impl Model {
    fn next(&mut self) -> u64 {
        self.next_id += 1;
        2000 + self.next_id
    }

    pub fn discussion(&self, id: &str) -> &Value {
        self.discussions
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("no discussion {id}"))
    }

    fn discussion_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.discussions.iter_mut().find(|d| d["id"] == id)
    }

    /// The diff discussions (posture's: one per commented finding).
    pub fn diff_discussions(&self) -> Vec<&Value> {
        self.discussions
            .iter()
            .filter(|d| d["notes"][0]["type"] == "DiffNote")
            .collect()
    }

    /// The merge request's own notes (not in a thread), in order.
    pub fn notes(&self) -> Vec<&Value> {
        self.discussions
            .iter()
            .filter(|d| d["individual_note"] == true)
            .map(|d| &d["notes"][0])
            .collect()
    }

    /// posture's summary note.
    pub fn summary(&self) -> &str {
        let summaries: Vec<&str> = self
            .notes()
            .into_iter()
            .filter(|n| n["author"]["username"] == POSTURE.username)
            .filter_map(|n| n["body"].as_str())
            .filter(|b| b.starts_with("<!-- posture:summary -->"))
            .collect();
        assert_eq!(summaries.len(), 1, "one summary note: {summaries:#?}");
        summaries[0]
    }

    /// The newest commit status.
    pub fn status(&self) -> &Value {
        self.statuses.last().expect("a commit status")
    }

    /// The diff discussion whose first note is posture's comment on `path:line`.
    pub fn discussion_at(&self, path: &str, line: u64) -> &Value {
        self.diff_discussions()
            .into_iter()
            .find(|d| {
                let first = &d["notes"][0];
                first["author"]["username"] == POSTURE.username
                    && first["position"]["new_path"] == path
                    && first["position"]["new_line"] == line
            })
            .unwrap_or_else(|| panic!("no posture discussion at {path}:{line}"))
    }

    fn note_mut(&mut self, id: u64) -> Option<&mut Value> {
        self.discussions
            .iter_mut()
            .flat_map(|d| d["notes"].as_array_mut().unwrap().iter_mut())
            .find(|n| n["id"] == id)
    }
}

/// The model, shared with the wiremock answers.
#[derive(Clone, Default)]
pub struct FakeGitLab(Arc<Mutex<Model>>);

impl FakeGitLab {
    /// A fake whose head CI left Bandit and osv-scanner reports, and a wiremock serving it.
    pub async fn start() -> (MockServer, FakeGitLab) {
        let server = MockServer::start().await;
        let fake = FakeGitLab::default();
        fake.set_pipeline(HEAD, &[BANDIT, OSV]);
        mount(&server, &fake).await;
        (server, fake)
    }

    pub fn model(&self) -> MutexGuard<'_, Model> {
        self.0.lock().unwrap()
    }

    pub fn set_config(&self, sha: &str, text: &str) {
        self.model().configs.insert(sha.to_owned(), text.to_owned());
    }

    /// The newest pipeline of `sha` leaves these `(path, fixture)` report files.
    pub fn set_pipeline(&self, sha: &str, files: &[(&str, &str)]) {
        let files = files
            .iter()
            .map(|(name, file)| {
                let bytes = std::fs::read(super::fixture(file)).unwrap();
                (name.to_string(), bytes)
            })
            .collect();
        self.set_pipeline_files(sha, files);
    }

    /// The newest pipeline of `sha` leaves these `(path, content)` files (replacing what an
    /// earlier call gave it).
    pub fn set_pipeline_files(&self, sha: &str, files: ReportFiles) {
        let mut model = self.model();
        match model.pipelines.iter_mut().find(|(s, _)| s == sha) {
            Some((_, old)) => *old = files,
            None => model.pipelines.push((sha.to_owned(), files)),
        }
    }

    pub fn set_member(&self, user: User, access_level: u64) {
        self.model().members.insert(user.id, access_level);
    }

    /// `author` writes a note: a reply in `discussion`, or a new note on the merge request.
    /// Returns the note's id and its discussion's, as the Note Hook names them.
    pub fn add_note(&self, author: User, discussion: Option<&str>, body: &str) -> (u64, String) {
        let mut model = self.model();
        let id = model.next();
        match discussion {
            Some(discussion) => {
                let discussion = model.discussion_mut(discussion).unwrap();
                append(discussion, id, author, body);
                (id, discussion["id"].as_str().unwrap().to_owned())
            }
            None => {
                let discussion = individual(id, author, body);
                let discussion_id = discussion["id"].as_str().unwrap().to_owned();
                model.discussions.push(discussion);
                (id, discussion_id)
            }
        }
    }

    /// `author` opens a diff discussion on `path:line` of the head, as a person would.
    pub fn add_diff_discussion(&self, author: User, path: &str, line: u64, body: &str) -> String {
        let mut model = self.model();
        let id = model.next();
        let mut first = note(id, author, body, json!("DiffNote"));
        first["position"] = position(path, line);
        let discussion =
            json!({"id": discussion_id(id), "individual_note": false, "notes": [first]});
        model.discussions.push(discussion);
        discussion_id(id)
    }
}

fn discussion_id(note: u64) -> String {
    format!("{note:040x}")
}

fn note(id: u64, author: User, text: &str, kind: Value) -> Value {
    json!({
        "id": id, "type": kind, "body": text, "attachment": null,
        "author": {"id": author.id, "name": author.username, "username": author.username, "state": "active"},
        "created_at": "2026-11-20T10:00:00.000Z", "updated_at": "2026-11-20T10:00:00.000Z",
        "system": false, "noteable_id": 99, "noteable_type": "MergeRequest", "project_id": 14,
        "noteable_iid": 1, "resolvable": !kind.is_null(), "resolved": false
    })
}

/// Adds a reply to `discussion`; a reply to a note on the merge request turns it into a
/// thread, as on GitLab.
fn append(discussion: &mut Value, id: u64, author: User, text: &str) -> Value {
    if discussion["individual_note"] == true {
        discussion["individual_note"] = json!(false);
        let first = &mut discussion["notes"][0];
        first["type"] = json!("DiscussionNote");
        first["resolvable"] = json!(true);
        first["resolved"] = json!(false);
    }
    let first = &discussion["notes"][0];
    let mut reply = note(id, author, text, first["type"].clone());
    reply["resolved"] = first["resolved"].clone();
    discussion["notes"]
        .as_array_mut()
        .unwrap()
        .push(reply.clone());
    reply
}

/// A note on the merge request itself, as GitLab lists it among the discussions.
fn individual(id: u64, author: User, text: &str) -> Value {
    let mut note = note(id, author, text, Value::Null);
    note["resolved"] = Value::Null;
    json!({"id": discussion_id(id), "individual_note": true, "notes": [note]})
}

/// A head-side position on a line the change added.
pub fn position(path: &str, line: u64) -> Value {
    json!({"position_type": "text", "base_sha": BASE, "start_sha": BASE, "head_sha": HEAD,
           "old_path": path, "new_path": path, "new_line": line})
}

fn body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|_| {
        // Form-encoded bodies (the crate's own endpoints).
        let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(pairs)
    })
}

pub fn app_py(at_head: bool) -> String {
    (1..=100)
        .filter(|n| at_head || !(10..=30).contains(n))
        .map(|n| format!("line_{n} = {n}\n"))
        .collect()
}

fn artifact_zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in files {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
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

/// The query parameter `name` of a request.
fn query(request: &wiremock::Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The path segment after `after` (`…/discussions/<id>/…`).
fn segment_after(request: &wiremock::Request, after: &str) -> String {
    let mut segments = request.url.path().split('/');
    segments.by_ref().find(|s| *s == after);
    segments.next().unwrap().to_owned()
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not found"}))
}

fn forbidden() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"}))
}

/// Edits note `id` as posture; GitLab lets only a note's author edit it.
fn edit(model: &mut Model, id: u64, text: Value) -> ResponseTemplate {
    model.edits.push(id);
    let Some(note) = model.note_mut(id) else {
        return not_found();
    };
    if note["author"]["username"] != POSTURE.username {
        return forbidden();
    }
    note["body"] = text;
    ResponseTemplate::new(200).set_body_json(note.clone())
}

async fn mount(server: &MockServer, fake: &FakeGitLab) {
    let api = |project: &str, rest: &str| format!("/api/v4/projects/{project}{rest}");
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": POSTURE.id, "username": POSTURE.username, "bot": true}),
            ),
        )
        .mount(server)
        .await;

    // The Merge Request Hook's project: a merge request whose CI has not run.
    Mock::given(method("GET"))
        .and(path(api(EARLY_PROJECT, "/merge_requests/1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(merge_request(EARLY_HEAD)))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(api(EARLY_PROJECT, "/pipelines")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(server)
        .await;

    let project = |rest: &str| api(PROJECT, rest);
    let under = |pattern: &str| format!(r"^/api/v4/projects/{PROJECT}{pattern}$");
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, _: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_json(merge_request(fake.model().head()))
            },
        ))
        .mount(server)
        .await;
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
    // The merge request's commits, one page.
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1/commits")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, _: &wiremock::Request| {
                let model = fake.model();
                let commits = model
                    .commits
                    .clone()
                    .unwrap_or_else(|| vec![(model.head().to_owned(), vec![BASE.to_owned()])]);
                let listed: Vec<Value> = commits
                    .iter()
                    .map(|(id, parents)| {
                        json!({"id": id, "short_id": &id[..8], "title": format!("commit {id}"),
                               "parent_ids": parents})
                    })
                    .collect();
                ResponseTemplate::new(200).set_body_json(listed)
            },
        ))
        .mount(server)
        .await;
    // Files at a commit: the two the change edits, and `.posture.yml` where the test put one.
    Mock::given(method("GET"))
        .and(path_regex(under(r"/repository/files/[^/]+/raw")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let file = segment_after(request, "files");
                let file = percent_encoding::percent_decode_str(&file).decode_utf8_lossy();
                let at = query(request, "ref").unwrap_or_default();
                let at_head = at == fake.model().head();
                let text = match file.as_ref() {
                    "app.py" => app_py(at_head),
                    "go.mod" if at_head => {
                        "module example.com/hello\n\ngo 1.20\n\nrequire github.com/gogo/protobuf v1.3.1\n"
                            .to_owned()
                    }
                    "go.mod" => "module example.com/hello\n\ngo 1.20\n".to_owned(),
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
    Mock::given(method("GET"))
        .and(path(project("/repository/tree")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "a1", "name": "app.py", "type": "blob", "path": "app.py", "mode": "100644"},
            {"id": "a2", "name": "go.mod", "type": "blob", "path": "go.mod", "mode": "100644"}
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(under(r"/repository/files/[^/]+/blame")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"commit": {"id": HEAD, "message": "Add the report endpoint\n", "authored_date": "2026-11-20T10:00:00.000Z",
                        "author_name": "Administrator", "author_email": "admin@example.com",
                        "committed_date": "2026-11-20T10:00:00.000Z", "committer_name": "Administrator",
                        "committer_email": "admin@example.com", "parent_ids": [BASE]},
             "lines": (1..=100).map(|n| format!("line_{n} = {n}")).collect::<Vec<_>>()}
        ])))
        .mount(server)
        .await;

    // CI: pipeline 31 + i ran for the i-th commit given, with job 7 + i keeping its reports
    // as an archive.
    Mock::given(method("GET"))
        .and(path(project("/pipelines")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let sha = query(request, "sha").unwrap_or_default();
                let model = fake.model();
                let pipelines: Vec<Value> = model
                    .pipelines
                    .iter()
                    .enumerate()
                    .filter(|(_, (s, _))| *s == sha)
                    .map(|(i, _)| {
                        json!({"id": 31 + i, "iid": 3 + i, "project_id": 14, "status": "success",
                               "source": "merge_request_event", "sha": sha,
                               "ref": "refs/merge-requests/1/head", "created_at": "2026-11-20T10:00:00.000Z",
                               "updated_at": "2026-11-20T10:05:00.000Z"})
                    })
                    .collect();
                ResponseTemplate::new(200).set_body_json(pipelines)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(under(r"/pipelines/\d+/jobs")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let pipeline: usize = segment_after(request, "pipelines").parse().unwrap();
                let model = fake.model();
                let Some((sha, files)) = pipeline
                    .checked_sub(31)
                    .and_then(|i| model.pipelines.get(i))
                else {
                    return not_found();
                };
                let size = artifact_zip(files).len();
                ResponseTemplate::new(200).set_body_json(json!([
                    {"id": pipeline - 31 + 7, "status": "success", "stage": "test", "name": "security-scans",
                     "ref": "ms-viewport", "commit": {"id": sha},
                     "pipeline": {"id": pipeline, "project_id": 14, "sha": sha, "status": "success"},
                     "artifacts": [{"file_type": "archive", "size": size, "filename": "artifacts.zip", "file_format": "zip"},
                                   {"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": null}],
                     "artifacts_expire_at": "2999-01-01T00:00:00.000Z"}
                ]))
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(under(r"/jobs/\d+/artifacts")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let job: usize = segment_after(request, "jobs").parse().unwrap();
                let model = fake.model();
                match job.checked_sub(7).and_then(|i| model.pipelines.get(i)) {
                    Some((_, files)) => ResponseTemplate::new(200)
                        .insert_header("content-type", "application/zip")
                        .set_body_bytes(artifact_zip(files)),
                    None => not_found(),
                }
            },
        ))
        .mount(server)
        .await;

    // Who may do what: `GET /projects/:id/members/all/:user_id`.
    Mock::given(method("GET"))
        .and(path_regex(under(r"/members/all/\d+")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let user = trailing_id(request);
                match fake.model().members.get(&user) {
                    Some(level) => ResponseTemplate::new(200).set_body_json(json!({
                        "id": user, "username": format!("user{user}"), "name": format!("User {user}"),
                        "state": "active", "avatar_url": null, "web_url": format!("http://example.com/user{user}"),
                        "expires_at": null, "access_level": level, "created_at": "2026-01-01T00:00:00.000Z",
                        "membership_state": "active"
                    })),
                    None => not_found(),
                }
            },
        ))
        .mount(server)
        .await;

    // What posture publishes, kept in the model.
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1/discussions")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, _: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_json(&fake.model().discussions)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(project("/merge_requests/1/discussions")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let posted = body(request);
                let mut model = fake.model();
                let id = model.next();
                let mut first = note(
                    id,
                    POSTURE,
                    posted["body"].as_str().unwrap(),
                    json!("DiffNote"),
                );
                first["position"] = posted["position"].clone();
                let discussion =
                    json!({"id": discussion_id(id), "individual_note": false, "notes": [first]});
                model.discussions.push(discussion.clone());
                ResponseTemplate::new(201).set_body_json(discussion)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(under(
            r"/merge_requests/1/discussions/[0-9a-f]+/notes",
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let discussion = segment_after(request, "discussions");
                let posted = body(request);
                let mut model = fake.model();
                let id = model.next();
                let Some(discussion) = model.discussion_mut(&discussion) else {
                    return not_found();
                };
                let reply = append(discussion, id, POSTURE, posted["body"].as_str().unwrap());
                ResponseTemplate::new(201).set_body_json(reply)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(under(
            r"/merge_requests/1/discussions/[0-9a-f]+/notes/\d+",
        )))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let discussion = segment_after(request, "discussions");
                let id = trailing_id(request);
                let mut model = fake.model();
                let in_discussion = model
                    .discussion_mut(&discussion)
                    .is_some_and(|d| d["notes"].as_array().unwrap().iter().any(|n| n["id"] == id));
                if !in_discussion {
                    model.edits.push(id);
                    return not_found();
                }
                edit(&mut model, id, body(request)["body"].clone())
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(under(
            r"/merge_requests/1/discussions/[0-9a-f]+",
        )))
        .and(query_param("resolved", "true"))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let id = segment_after(request, "discussions");
                let mut model = fake.model();
                model.resolutions.push(id.clone());
                let Some(discussion) = model.discussion_mut(&id) else {
                    return not_found();
                };
                for note in discussion["notes"].as_array_mut().unwrap() {
                    if note["resolvable"] == true {
                        note["resolved"] = json!(true);
                        note["resolved_by"] =
                            json!({"id": POSTURE.id, "username": POSTURE.username});
                    }
                }
                ResponseTemplate::new(200).set_body_json(discussion.clone())
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(project("/merge_requests/1/notes")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, _: &wiremock::Request| {
                let model = fake.model();
                let notes: Vec<&Value> = model
                    .discussions
                    .iter()
                    .flat_map(|d| d["notes"].as_array().unwrap())
                    .collect();
                ResponseTemplate::new(200).set_body_json(notes)
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
                let mut model = fake.model();
                let id = model.next();
                let discussion = individual(id, POSTURE, posted["body"].as_str().unwrap());
                let created = discussion["notes"][0].clone();
                model.discussions.push(discussion);
                ResponseTemplate::new(201).set_body_json(created)
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(under(r"/merge_requests/1/notes/\d+")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                edit(
                    &mut fake.model(),
                    trailing_id(request),
                    body(request)["body"].clone(),
                )
            },
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(under(r"/statuses/[0-9a-f]+")))
        .respond_with(Handler(
            fake.clone(),
            |fake: &FakeGitLab, request: &wiremock::Request| {
                let mut status = body(request);
                status["sha"] = json!(request.url.path().rsplit('/').next().unwrap());
                fake.model().statuses.push(status.clone());
                ResponseTemplate::new(201).set_body_json(status)
            },
        ))
        .mount(server)
        .await;
}

/// The real app and a worker's runner against the wiremock GitLab.
pub async fn harness(server: &MockServer) -> Harness {
    let gitlab = GitLabClient::new(&server.uri(), API_TOKEN).unwrap();
    let forges = Forges {
        github: None,
        gitlab: Some(Arc::new(gitlab)),
    };
    Harness::new(WebhookSecrets::from_values(None, Some(TOKEN)), forges).await
}

/// Sends `body` as a GitLab webhook with the shared token.
pub async fn deliver(harness: &Harness, event: &str, uuid: &str, body: Vec<u8>) -> StatusCode {
    let request = Request::post("/webhooks/gitlab")
        .header("content-type", "application/json")
        .header("x-gitlab-event", event)
        .header("x-gitlab-event-uuid", uuid)
        .header("x-gitlab-token", TOKEN)
        .body(Body::from(body))
        .unwrap();
    harness.send(request).await
}

/// Sends a fixture payload as it is.
pub async fn deliver_fixture(
    harness: &Harness,
    event: &str,
    uuid: &str,
    fixture: &str,
) -> StatusCode {
    let body = std::fs::read(super::fixture(fixture)).unwrap();
    deliver(harness, event, uuid, body).await
}

/// The real Note Hook payload (`gitlab/note_merge_request.json`) for note `note` by
/// `author` on merge request !1, in `discussion`.
pub fn note_hook(note: u64, discussion: &str, author: User, text: &str) -> Vec<u8> {
    let mut hook: Value = serde_json::from_slice(
        &std::fs::read(super::fixture("gitlab/note_merge_request.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(hook["project"]["path_with_namespace"], PROJECT_PATH);
    assert_eq!(hook["merge_request"]["iid"], 1);
    hook["user"]["id"] = json!(author.id);
    hook["user"]["username"] = json!(author.username);
    hook["user"]["name"] = json!(author.username);
    let attributes = &mut hook["object_attributes"];
    attributes["id"] = json!(note);
    attributes["note"] = json!(text);
    attributes["author_id"] = json!(author.id);
    attributes["discussion_id"] = json!(discussion);
    attributes["url"] = json!(format!(
        "http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_{note}"
    ));
    serde_json::to_vec(&hook).unwrap()
}
