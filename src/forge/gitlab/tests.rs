//! The GitLab forge against a wiremock GitLab: every method with answers in the documented
//! shapes (trimmed from GitLab's API docs; ids and paths as in `fixtures/gitlab/`), the exact
//! requests it sends, and the faults it must survive. No real network, no sleeping.

use std::io::{Cursor, Write};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use super::publish::{FileLines, clip_bytes, line_code};
use super::*;
use crate::forge::{ArtifactLimits, ChangeCommitList, ListGap, ReportGlobs};
use crate::model::{ChangeStatus, FindingId, Hunk};

const TOKEN: &str = "glpat-Zq8sD3cr3tT0k3nXyZ";
const PROJECT: &str = "gitlab-org/gitlab-test";
const ENCODED: &str = "gitlab-org%2Fgitlab-test";
const BASE: &str = "b5d6e7b1613fca24d250fa8e5bc7bcc3dd6002ef";
const START: &str = "7c9c2ead8a320fb7ba0b4e234bd9529a2614e306";
const HEAD: &str = "4803c71e6b1833ca72b8b26ef2ecd5adc8a38031";

/// A GitLab that knows the token, and the forge pointed at it.
async fn gitlab() -> (MockServer, GitLabForge) {
    let server = MockServer::start().await;
    mount_user(&server, "").await;
    let client = GitLabClient::new(&server.uri(), TOKEN).unwrap();
    (server, client.forge())
}

/// The token's user: posture's identity.
const ME: &str = "project_14_bot_9f1e";

/// `GET /user`, which the crate calls once to check the token, and `identity()` once more
/// when it is needed.
async fn mount_user(server: &MockServer, prefix: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/api/v4/user")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "username": ME, "name": "posture",
            "state": "active", "bot": true
        })))
        .expect(1..=2)
        .mount(server)
        .await;
}

fn api(rest: &str) -> String {
    format!("/api/v4/projects/{ENCODED}{rest}")
}

fn change() -> ChangeRequest {
    ChangeRequest {
        repository: PROJECT.to_owned(),
        number: 1,
        title: "MS-Viewport".to_owned(),
        head_sha: HEAD.to_owned(),
        target_sha: START.to_owned(),
        merge_base: BASE.to_owned(),
        target_branch: "master".to_owned(),
        draft: false,
        open: true,
    }
}

/// Matches the whole query string, in any order.
struct Query(Vec<(String, String)>);

fn query(pairs: &[(&str, &str)]) -> Query {
    Query(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

impl Match for Query {
    fn matches(&self, request: &Request) -> bool {
        let mut got: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let mut want = self.0.clone();
        got.sort();
        want.sort();
        got == want
    }
}

/// Matches a form-encoded body, field by field.
struct Form(Vec<(String, String)>);

fn form(pairs: &[(&str, &str)]) -> Form {
    Form(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

impl Match for Form {
    fn matches(&self, request: &Request) -> bool {
        let got: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        got == self.0
    }
}

/// Matches a request without the named header.
struct Without(&'static str);

impl Match for Without {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}

fn merge_request_json(iid: u64, sha: &str, diff_refs: Value) -> Value {
    json!({
        "id": 98 + iid, "iid": iid, "project_id": 14,
        "title": "MS-Viewport", "description": "", "state": "opened",
        "created_at": "2013-12-03T17:23:34Z", "updated_at": "2013-12-03T17:23:34Z",
        "target_branch": "master", "source_branch": "ms-viewport",
        "source_project_id": 14, "target_project_id": 14,
        "draft": iid == 2, "work_in_progress": iid == 2,
        "merge_status": "can_be_merged", "detailed_merge_status": "mergeable",
        "sha": sha, "merge_commit_sha": null, "squash_commit_sha": null,
        "reference": format!("!{iid}"),
        "web_url": format!("http://example.com/gitlab-org/gitlab-test/-/merge_requests/{iid}"),
        "diff_refs": diff_refs,
        "user": {"can_merge": false}
    })
}

fn diff_refs() -> Value {
    json!({"base_sha": BASE, "head_sha": HEAD, "start_sha": START})
}

#[test]
fn the_client_needs_a_token_takes_the_url_and_never_shows_the_token() {
    let none = GitLabClient::from_vars(|_| None).unwrap();
    assert!(none.is_none());
    let blank = GitLabClient::from_vars(|name| (name == TOKEN_VAR).then(|| " ".to_owned()));
    assert!(blank.unwrap().is_none());

    let client = GitLabClient::from_vars(|name| (name == TOKEN_VAR).then(|| TOKEN.to_owned()))
        .unwrap()
        .unwrap();
    assert_eq!(client.base_url(), "https://gitlab.com");
    let debug = format!("{client:?} {:?}", client.forge());
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("https://gitlab.com"), "{debug}");

    let vars = |url: &'static str| {
        move |name: &str| match name {
            TOKEN_VAR => Some(TOKEN.to_owned()),
            URL_VAR => Some(url.to_owned()),
            _ => None,
        }
    };
    let client = GitLabClient::from_vars(vars("https://git.example.com:8443/gitlab/"))
        .unwrap()
        .unwrap();
    assert_eq!(client.base_url(), "https://git.example.com:8443/gitlab");

    for bad in [
        "ftp://git.example.com",
        "not a url",
        "https://git.example.com/?x=1",
    ] {
        let error = GitLabClient::from_vars(vars(bad)).unwrap_err();
        assert!(matches!(error, ForgeError::Config(_)), "{bad}: {error}");
    }
    let error = GitLabClient::from_vars(vars("https://bot:hunter2@git.example.com")).unwrap_err();
    assert!(
        error.to_string().contains("must not carry credentials"),
        "{error}"
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn change_request_reads_diff_refs_draft_and_state() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1")))
        .and(query(&[]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(merge_request_json(
            1,
            HEAD,
            diff_refs(),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let got = forge.change_request(PROJECT, 1).await.unwrap();
    assert_eq!(got, change());
    assert_eq!(forge.kind(), crate::store::Forge::GitLab);
}

#[tokio::test]
async fn a_merge_request_whose_diff_is_not_ready_is_unavailable_so_the_job_retries() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/3")))
        .respond_with(ResponseTemplate::new(200).set_body_json(merge_request_json(
            3,
            HEAD,
            Value::Null,
        )))
        .mount(&server)
        .await;
    let error = forge.change_request(PROJECT, 3).await.unwrap_err();
    assert!(matches!(error, ForgeError::Unavailable { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert!(error.to_string().contains("diff_refs is null"), "{error}");
}

#[tokio::test]
async fn open_change_requests_filter_by_head_and_read_each_match() {
    let (server, forge) = gitlab().await;
    let other = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
    let mut listed = vec![
        merge_request_json(1, HEAD, Value::Null),
        merge_request_json(2, HEAD, Value::Null),
        merge_request_json(5, other, Value::Null),
    ];
    for mr in &mut listed {
        mr.as_object_mut().unwrap().remove("diff_refs");
    }
    Mock::given(method("GET"))
        .and(path(api("/merge_requests")))
        .and(query(&[
            ("state", "opened"),
            ("per_page", "100"),
            ("page", "1"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(listed)))
        .expect(2)
        .mount(&server)
        .await;
    for iid in [1, 2] {
        Mock::given(method("GET"))
            .and(path(api(&format!("/merge_requests/{iid}"))))
            .respond_with(ResponseTemplate::new(200).set_body_json(merge_request_json(
                iid,
                HEAD,
                diff_refs(),
            )))
            .expect(2)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/5")))
        .respond_with(ResponseTemplate::new(200).set_body_json(merge_request_json(
            5,
            other,
            diff_refs(),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let got = forge
        .open_change_requests(PROJECT, Some(HEAD))
        .await
        .unwrap();
    let numbers: Vec<(i64, bool)> = got.iter().map(|c| (c.number, c.draft)).collect();
    assert_eq!(numbers, [(1, false), (2, true)]);
    let all = forge.open_change_requests(PROJECT, None).await.unwrap();
    assert_eq!(all.len(), 3);
}

fn diffs_json() -> Value {
    json!([
        {
            "old_path": "app/db.py", "new_path": "app/db.py", "a_mode": "100644", "b_mode": "100644",
            "diff": "@@ -7,5 +7,6 @@ def connect():\n \n def find_user(conn, user):\n     cur = conn.cursor()\n-    cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % user)\n+    query = \"SELECT * FROM users WHERE name = '\" + user + \"'\"\n+    cur.execute(query)\n     return cur.fetchall()\n",
            "new_file": false, "renamed_file": false, "deleted_file": false,
            "generated_file": false, "collapsed": false, "too_large": false
        },
        {
            "old_path": "app/models.py", "new_path": "app/models/user.py", "a_mode": "100644", "b_mode": "100644",
            "diff": "@@ -1,3 +1,3 @@\n class User:\n-    password = ''\n+    password = 'hunter2'\n     name = ''\n",
            "new_file": false, "renamed_file": true, "deleted_file": false
        },
        {
            "old_path": "app/settings.py", "new_path": "app/settings.py", "a_mode": "0", "b_mode": "100644",
            "diff": "@@ -0,0 +1,2 @@\n+API_KEY = 'AKIAIOSFODNN7EXAMPLE'\n+DEBUG = True\n",
            "new_file": true, "renamed_file": false, "deleted_file": false
        },
        {
            "old_path": "app/legacy.py", "new_path": "app/legacy.py", "a_mode": "100644", "b_mode": "0",
            "diff": "@@ -1,2 +0,0 @@\n-import pickle\n-pickle.loads(data)\n",
            "new_file": false, "renamed_file": false, "deleted_file": true
        },
        {
            "old_path": "README.md", "new_path": "docs/README.md", "a_mode": "100644", "b_mode": "100644",
            "diff": "", "new_file": false, "renamed_file": true, "deleted_file": false
        },
        {
            "old_path": "static/app.min.js", "new_path": "static/app.min.js", "a_mode": "100644", "b_mode": "100644",
            "diff": "", "new_file": false, "renamed_file": false, "deleted_file": false,
            "too_large": true, "collapsed": false
        },
        {
            "old_path": "static/logo.png", "new_path": "static/logo.png", "a_mode": "100644", "b_mode": "100644",
            "diff": "Binary files a/static/logo.png and b/static/logo.png differ\n",
            "new_file": false, "renamed_file": false, "deleted_file": false
        }
    ])
}

async fn mount_diffs(server: &MockServer, times: u64) {
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/diffs")))
        .and(query(&[("per_page", "100"), ("page", "1")]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(diffs_json()))
        .expect(times)
        .mount(server)
        .await;
}

/// Old path, new path, status, binary, added lines.
type FileSummary<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    ChangeStatus,
    bool,
    Vec<u32>,
);

#[tokio::test]
async fn changes_map_every_kind_of_file_change() {
    let (server, forge) = gitlab().await;
    mount_diffs(&server, 1).await;
    let set = forge.changes(&change()).await.unwrap();
    assert_eq!((set.base.as_str(), set.head.as_str()), (BASE, HEAD));
    let summary: Vec<FileSummary> = set
        .files
        .iter()
        .map(|f| {
            (
                f.old_path.as_deref(),
                f.new_path.as_deref(),
                f.status,
                f.binary,
                f.added_lines.clone(),
            )
        })
        .collect();
    use ChangeStatus::*;
    assert_eq!(
        summary,
        [
            (
                Some("app/db.py"),
                Some("app/db.py"),
                Modified,
                false,
                vec![10, 11]
            ),
            (
                Some("app/models.py"),
                Some("app/models/user.py"),
                Renamed,
                false,
                vec![2]
            ),
            (None, Some("app/settings.py"), Added, false, vec![1, 2]),
            (Some("app/legacy.py"), None, Deleted, false, vec![]),
            (
                Some("README.md"),
                Some("docs/README.md"),
                Renamed,
                false,
                vec![]
            ),
            (
                Some("static/app.min.js"),
                Some("static/app.min.js"),
                Modified,
                true,
                vec![]
            ),
            (
                Some("static/logo.png"),
                Some("static/logo.png"),
                Modified,
                true,
                vec![]
            ),
        ]
    );
    assert_eq!(
        set.files[0].hunks,
        [Hunk {
            old_start: 10,
            old_lines: 1,
            new_start: 10,
            new_lines: 2
        }]
    );
}

#[tokio::test]
async fn changes_fall_back_to_the_changes_endpoint_on_older_instances() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/diffs")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "404 Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    let mut legacy = merge_request_json(1, HEAD, diff_refs());
    legacy["changes"] = json!([diffs_json()[2]]);
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/changes")))
        .respond_with(ResponseTemplate::new(200).set_body_json(legacy))
        .expect(1)
        .mount(&server)
        .await;
    let set = forge.changes(&change()).await.unwrap();
    assert_eq!(set.files.len(), 1);
    assert_eq!(set.files[0].new_path.as_deref(), Some("app/settings.py"));
    assert_eq!(set.files[0].added_lines, [1, 2]);
}

#[tokio::test]
async fn read_file_returns_the_bytes_or_none_for_a_missing_file() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/repository/files/app%2Fdb.py/raw")))
        .and(query(&[("ref", HEAD)]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"import sqlite3\n".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/repository/files/requirements.txt/raw")))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 File Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let bytes = forge.read_file(PROJECT, HEAD, "app/db.py").await.unwrap();
    assert_eq!(bytes.as_deref(), Some(&b"import sqlite3\n"[..]));
    let missing = forge
        .read_file(PROJECT, HEAD, "requirements.txt")
        .await
        .unwrap();
    assert_eq!(missing, None);
}

#[tokio::test]
async fn list_files_follows_keyset_pages_and_keeps_blobs_sorted() {
    let (server, forge) = gitlab().await;
    let entry = |path: &str, kind: &str| {
        json!({
            "id": "a1e8f8d745cc87e3a9248358d9352bb7f9a0aeba",
            "name": path.rsplit('/').next().unwrap(),
            "type": kind, "path": path, "mode": if kind == "tree" { "040000" } else { "100644" }
        })
    };
    let mut first: Vec<Value> = (0..98)
        .map(|n| entry(&format!("src/m{n:03}.py"), "blob"))
        .collect();
    first.insert(0, entry("src", "tree"));
    first.push(entry("vendor/lib", "commit"));
    let next = format!(
        "{}{}?page_token=src%2Fm097.py&pagination=keyset&per_page=100&recursive=true&ref={HEAD}",
        server.uri(),
        api("/repository/tree")
    );
    Mock::given(method("GET"))
        .and(path(api("/repository/tree")))
        .and(query(&[
            ("recursive", "true"),
            ("ref", HEAD),
            ("per_page", "100"),
            ("pagination", "keyset"),
        ]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", format!("<{next}>; rel=\"next\"").as_str())
                .set_body_json(json!(first)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/repository/tree")))
        .and(query(&[
            ("page_token", "src/m097.py"),
            ("pagination", "keyset"),
            ("per_page", "100"),
            ("recursive", "true"),
            ("ref", HEAD),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            entry("README.md", "blob"),
            entry("app/db.py", "blob"),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let files = forge.list_files(PROJECT, HEAD).await.unwrap();
    assert_eq!(files.len(), 100);
    assert_eq!(&files[..3], ["README.md", "app/db.py", "src/m000.py"]);
    assert_eq!(files.last().map(String::as_str), Some("src/m097.py"));
}

#[tokio::test]
async fn blame_maps_ranges_to_commits_and_lines() {
    let (server, forge) = gitlab().await;
    let commit = |id: &str, message: &str, date: &str, name: &str| {
        json!({
            "id": id, "message": message, "parent_ids": ["cc6e14f9328fa6d7b5a0d3c30dc2002a3f2a3822"],
            "authored_date": date, "author_name": name,
            "author_email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
            "committed_date": date, "committer_name": name, "committer_email": "ci@example.com"
        })
    };
    let alice = commit(
        "d42409d56517157c48bf3bd97d3f75974dde19fb",
        "Add feature\n\nalso fix bug\n",
        "2015-12-18T08:12:22.000Z",
        "Alice Example",
    );
    let carol = commit(
        "aa0c6ab4ab9d3e7a8b2f2e1f3c4d5e6f7a8b9c0d",
        "Build queries from user input",
        "2024-05-20T16:15:00.000+02:00",
        "Carol Example",
    );
    Mock::given(method("GET"))
        .and(path(api("/repository/files/app%2Fdb.py/blame")))
        .and(query(&[("ref", HEAD)]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"commit": alice, "lines": ["import sqlite3", "", ""]},
            {"commit": carol, "lines": ["    query = \"SELECT …\" + user"]},
            {"commit": alice, "lines": ["    return cur.fetchall()"]}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let blame = forge.blame(PROJECT, HEAD, "app/db.py").await.unwrap();
    assert_eq!(blame.lines, [0, 0, 0, 1, 0]);
    assert_eq!(blame.commits.len(), 2);
    let first = &blame.commits[0];
    assert_eq!(first.sha, "d42409d56517157c48bf3bd97d3f75974dde19fb");
    assert_eq!(first.summary, "Add feature");
    assert_eq!(first.author, "Alice Example");
    assert_eq!(first.email, "alice.example@example.com");
    assert_eq!(first.date.to_rfc3339(), "2015-12-18T08:12:22+00:00");
    let carol = blame.commit_at(4).unwrap();
    assert_eq!(carol.author, "Carol Example");
    assert_eq!(carol.date.to_rfc3339(), "2024-05-20T14:15:00+00:00");
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn job_json(id: u64, name: &str, artifacts: Value, expire_at: Option<&str>) -> Value {
    json!({
        "id": id, "status": "success", "stage": "test", "name": name, "ref": "ms-viewport",
        "tag": false, "coverage": null, "allow_failure": false,
        "created_at": "2024-05-20T14:15:00.000Z", "started_at": "2024-05-20T14:15:10.000Z",
        "finished_at": "2024-05-20T14:16:10.000Z", "duration": 60.0,
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "commit": {"id": HEAD, "short_id": "4803c71e", "title": "Build queries"},
        "pipeline": {"id": 47, "project_id": 14, "ref": "ms-viewport", "sha": HEAD, "status": "success"},
        "web_url": format!("http://example.com/gitlab-org/gitlab-test/-/jobs/{id}"),
        "artifacts": artifacts,
        "artifacts_expire_at": expire_at,
        "tag_list": ["docker"]
    })
}

fn archive(size: u64) -> Value {
    json!({"file_type": "archive", "size": size, "filename": "artifacts.zip", "file_format": "zip"})
}

fn trace() -> Value {
    json!({"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": null})
}

#[tokio::test]
async fn reports_take_the_archives_of_the_newest_pipeline_and_say_what_they_skip() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/pipelines")))
        .and(query(&[
            ("sha", HEAD),
            ("order_by", "id"),
            ("sort", "desc"),
            ("per_page", "1"),
            ("page", "1"),
        ]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "id": 47, "iid": 12, "project_id": 14, "status": "success", "source": "merge_request_event",
            "ref": "refs/merge-requests/1/head", "sha": HEAD,
            "web_url": "http://example.com/gitlab-org/gitlab-test/-/pipelines/47",
            "created_at": "2024-05-20T14:15:00.000Z", "updated_at": "2024-05-20T14:17:00.000Z"
        }])))
        .expect(1)
        .mount(&server)
        .await;
    let scans = zip_of(&[
        ("reports/semgrep.sarif", b"{\"runs\": []}"),
        ("../../etc/cron.d/evil.sarif", b"{}"),
        ("README.md", b"# not a report"),
    ]);
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let bomb = zip_of(&[("gl-sast-report.json", &zeros)]);
    let jobs = json!([
        job_json(
            11,
            "expired",
            json!([archive(400), trace()]),
            Some("2016-01-23T17:54:27.895Z")
        ),
        job_json(
            7,
            "semgrep",
            json!([archive(scans.len() as u64), trace()]),
            Some("2999-01-01T00:00:00.000Z")
        ),
        job_json(
            8,
            "secret_detection",
            json!([
                trace(),
                {"file_type": "secret_detection", "size": 2000, "filename": "gl-secret-detection-report.json", "file_format": "raw"}
            ]),
            None
        ),
        job_json(9, "huge", json!([archive(10_000_000_000)]), None),
        job_json(10, "bomb", json!([archive(bomb.len() as u64)]), None),
        job_json(12, "lint", json!([trace()]), None),
    ]);
    Mock::given(method("GET"))
        .and(path(api("/pipelines/47/jobs")))
        .and(query(&[
            ("include_retried", "false"),
            ("per_page", "100"),
            ("page", "1"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(jobs))
        .expect(1)
        .mount(&server)
        .await;
    for (job, body) in [(7, scans.clone()), (10, bomb.clone())] {
        Mock::given(method("GET"))
            .and(path(api(&format!("/jobs/{job}/artifacts"))))
            .and(header("PRIVATE-TOKEN", TOKEN))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/zip")
                    .set_body_bytes(body),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(api("/jobs/11/artifacts")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/jobs/9/artifacts")))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;

    let limits = ArtifactLimits {
        max_archive_bytes: 1024 * 1024 * 1024,
        max_file_bytes: 1024 * 1024,
        ..ArtifactLimits::default()
    };
    let reports = forge
        .reports(PROJECT, HEAD, &ReportGlobs::default(), &limits)
        .await
        .unwrap();
    assert!(reports.ci_seen);
    let names: Vec<&str> = reports.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["semgrep/reports/semgrep.sarif"]);
    assert_eq!(reports.files[0].bytes, b"{\"runs\": []}");
    let skipped = reports.skipped.join("\n");
    for expected in [
        "semgrep/../../etc/cron.d/evil.sarif: refused, the path escapes the artifact",
        "job 'secret_detection' (#8): its secret_detection report (gl-secret-detection-report.json) is kept apart",
        "list it in artifacts:paths too",
        "job 'huge' (#9): artifacts archive is 10000000000 bytes, over the limit of 1073741824",
        "bomb/gl-sast-report.json: skipped, it inflates past 1048576 bytes",
        "job 'expired' (#11): artifacts archive expired at 2016-01-23T17:54:27.895+00:00",
    ] {
        assert!(
            skipped.contains(expected),
            "missing {expected:?} in\n{skipped}"
        );
    }
    assert_eq!(reports.skipped.len(), 5, "{skipped}");
}

#[tokio::test]
async fn reports_without_a_pipeline_say_ci_was_not_seen() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/pipelines")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let reports = forge
        .reports(
            PROJECT,
            HEAD,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(reports, Reports::default());
}

/// Pipeline 47 of HEAD, succeeded, with one job per `(id, name)`, each with an archive.
async fn pipeline_47_with_archives(server: &MockServer, jobs: &[(u64, &str)]) {
    Mock::given(method("GET"))
        .and(path(api("/pipelines")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": 47, "status": "success"}])),
        )
        .mount(server)
        .await;
    let archive = json!([{"file_type": "archive", "filename": "artifacts.zip"}]);
    let jobs: Vec<Value> = jobs
        .iter()
        .map(|&(id, name)| job_json(id, name, archive.clone(), None))
        .collect();
    Mock::given(method("GET"))
        .and(path(api("/pipelines/47/jobs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(jobs))
        .mount(server)
        .await;
}

#[tokio::test]
async fn artifact_downloads_keep_the_token_off_redirects_and_stop_at_the_limit() {
    let (server, forge) = gitlab().await;
    let storage = MockServer::start().await;
    pipeline_47_with_archives(&server, &[(7, "semgrep"), (8, "trivy")]).await;
    let signed = "/gitlab-artifacts/2f/ab/artifacts.zip?X-Amz-Signature=5e2f";
    Mock::given(method("GET"))
        .and(path(api("/jobs/7/artifacts")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}{signed}", storage.uri()).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gitlab-artifacts/2f/ab/artifacts.zip"))
        .and(Without("private-token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_bytes(zip_of(&[("trivy-results.sarif", b"{}")])),
        )
        .expect(1)
        .mount(&storage)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/jobs/8/artifacts")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'P'; 4096]))
        .expect(1)
        .mount(&server)
        .await;
    let limits = ArtifactLimits {
        max_archive_bytes: 1024,
        ..ArtifactLimits::default()
    };
    let reports = forge
        .reports(PROJECT, HEAD, &ReportGlobs::default(), &limits)
        .await
        .unwrap();
    let names: Vec<&str> = reports.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["semgrep/trivy-results.sarif"]);
    assert_eq!(
        reports.skipped,
        ["job 'trivy' (#8): artifacts archive is at least 4096 bytes, over the limit of 1024"]
    );
    for request in storage.received_requests().await.unwrap() {
        assert!(!format!("{:?}", request.headers).contains(TOKEN));
    }
}

#[tokio::test]
async fn a_failed_download_from_object_storage_does_not_carry_its_presigned_url() {
    let (server, forge) = gitlab().await;
    pipeline_47_with_archives(&server, &[(7, "semgrep")]).await;
    // Object storage that refuses connections: port 1 on loopback has no listener.
    let presigned = "http://127.0.0.1:1/bucket/artifacts.zip?X-Amz-Signature=5e2fdeadbeef";
    Mock::given(method("GET"))
        .and(path(api("/jobs/7/artifacts")))
        .respond_with(ResponseTemplate::new(302).insert_header("location", presigned))
        .mount(&server)
        .await;
    let error = forge
        .reports(
            PROJECT,
            HEAD,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .await
        .expect_err("the download fails");
    let message = error.to_string();
    assert!(matches!(error, ForgeError::Unavailable { .. }), "{message}");
    assert!(
        !message.contains("X-Amz-Signature") && !message.contains("5e2fdeadbeef"),
        "{message}"
    );
}

fn note(id: u64, body: &str, kind: Value, resolvable: bool, resolved: bool) -> Value {
    note_by(ME, id, body, kind, resolvable, resolved)
}

fn note_by(
    author: &str,
    id: u64,
    body: &str,
    kind: Value,
    resolvable: bool,
    resolved: bool,
) -> Value {
    json!({
        "id": id, "type": kind, "body": body, "attachment": null,
        "author": {"id": 42, "name": author, "username": author, "state": "active"},
        "created_at": "2024-05-20T14:20:00.000Z", "updated_at": "2024-05-20T14:20:00.000Z",
        "system": false, "noteable_id": 99, "noteable_type": "MergeRequest", "project_id": 14,
        "noteable_iid": 1, "resolvable": resolvable, "resolved": resolved,
        "resolved_by": null, "resolved_at": null
    })
}

const SQLI: &str = "4e4a72ae384102ba";
const SECRET: &str = "9b1c0e55aa73d210";
const PICKLE: &str = "77d2e0c1f4a85b36";

fn finding_body(id: &str) -> String {
    format!("**High** SQL injection in `find_user`\n\n<!-- posture:finding:{id} -->")
}

#[tokio::test]
async fn published_finds_finding_threads_and_the_summary_by_their_markers() {
    let (server, forge) = gitlab().await;
    let summary = "## posture: 2 new findings\n\n<!-- posture:summary -->";
    let discussions = json!([
        {"id": "3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "individual_note": true,
         "notes": [note_by("Mallory", 1127, "<!-- posture:summary --> nothing to see", Value::Null, false, false)]},
        {"id": "87805b7c09016a7058e91bdbe7b29d1f284a39e6", "individual_note": true,
         "notes": [note(1128, summary, Value::Null, false, false)]},
        {"id": "6a9c1750b37d513a43987b574953fceb50b03ce7", "individual_note": false,
         "notes": [
            note(1126, &finding_body(SQLI), json!("DiffNote"), true, false),
            note_by("alice", 1129, "We'll fix this in the next sprint.", json!("DiffNote"), true, false),
            note_by("mallory", 1136, &format!("Fixed. <!-- posture:fixed:{SQLI} -->"), json!("DiffNote"), true, false)
         ]},
        {"id": "3f5b1a8e2c7d9f0a1b2c3d4e5f6a7b8c9d0e1f2a", "individual_note": false,
         "notes": [note(1130, &finding_body(SECRET), json!("DiffNote"), true, true)]},
        {"id": "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b", "individual_note": false,
         "notes": [
            note(1131, &finding_body(PICKLE), json!("DiffNote"), true, false),
            note(1140, &format!("Fixed in {HEAD}. <!-- posture:fixed:{PICKLE} -->"), json!("DiffNote"), true, false)
         ]},
        {"id": "1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c", "individual_note": true,
         "notes": [note_by("alice", 1132, "LGTM once the SQL injection is fixed", Value::Null, false, false)]},
        // Markers in someone else's notes: a summary, a finding, a "fixed" reply in
        // posture's thread. None of them is posture's.
        {"id": "4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e", "individual_note": true,
         "notes": [note_by("mallory", 1134, "all clear <!-- posture:summary -->", Value::Null, false, false)]},
        {"id": "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f", "individual_note": false,
         "notes": [note_by("mallory", 1135, &finding_body("0123456789abcdef"), json!("DiffNote"), true, false)]},
        {"id": "2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d", "individual_note": true,
         "notes": [{"id": 1133, "type": null, "body": "added 1 commit", "system": true,
                    "noteable_type": "MergeRequest", "resolvable": false}]}
    ]);
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/discussions")))
        .and(query(&[("per_page", "100"), ("page", "1")]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(discussions))
        .expect(1)
        .mount(&server)
        .await;
    let published = forge.published(&change()).await.unwrap();
    assert_eq!(
        published.summary,
        Some((CommentId("1128".to_owned()), summary.to_owned()))
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
            (
                "1126",
                Some("6a9c1750b37d513a43987b574953fceb50b03ce7"),
                SQLI,
                false
            ),
            (
                "1130",
                Some("3f5b1a8e2c7d9f0a1b2c3d4e5f6a7b8c9d0e1f2a"),
                SECRET,
                true
            ),
            (
                "1131",
                Some("0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b"),
                PICKLE,
                true
            ),
        ]
    );
    assert_eq!(published.comments[0].body, finding_body(SQLI));
}

fn comment(
    path: &str,
    old_path: &str,
    start_line: Option<u32>,
    line: u32,
    finding: &str,
) -> InlineComment {
    InlineComment {
        findings: vec![FindingId(finding.to_owned())],
        path: path.to_owned(),
        old_path: old_path.to_owned(),
        line,
        start_line,
        body: finding_body(finding),
    }
}

fn created_discussion(id: &str, note_id: u64, body: &str) -> Value {
    json!({"id": id, "individual_note": false,
           "notes": [note(note_id, body, json!("DiffNote"), true, false)]})
}

#[tokio::test]
async fn post_comments_send_the_full_position_and_survive_one_refused_comment() {
    let (server, forge) = gitlab().await;
    mount_diffs(&server, 1).await;
    let db = "087aa28b2d1c1f7947d6f5924b2cca19c6ae5c6c";
    let refs =
        json!({"position_type": "text", "base_sha": BASE, "start_sha": START, "head_sha": HEAD});
    let with = |extra: Value| {
        let mut position = refs.clone();
        for (key, value) in extra.as_object().unwrap() {
            position[key] = value.clone();
        }
        position
    };
    let comments = [
        // An added line: new_line alone.
        comment("app/db.py", "app/db.py", None, 11, SQLI),
        // A renamed file: old_path differs; GitLab refuses this one.
        comment("app/models/user.py", "app/models.py", None, 2, SECRET),
        // Two added lines: a line_range of line codes.
        comment("app/db.py", "app/db.py", Some(10), 11, PICKLE),
        // Unchanged lines after the change: old and new line numbers differ.
        comment("app/db.py", "app/db.py", Some(9), 12, "5d41402abc4b2a76"),
    ];
    let expected = [
        with(json!({"old_path": "app/db.py", "new_path": "app/db.py", "new_line": 11})),
        with(json!({"old_path": "app/models.py", "new_path": "app/models/user.py", "new_line": 2})),
        with(json!({
            "old_path": "app/db.py", "new_path": "app/db.py", "new_line": 11,
            "line_range": {
                "start": {"line_code": format!("{db}_11_10"), "type": "new", "new_line": 10},
                "end": {"line_code": format!("{db}_11_11"), "type": "new", "new_line": 11}
            }
        })),
        with(json!({
            "old_path": "app/db.py", "new_path": "app/db.py", "new_line": 12, "old_line": 11,
            "line_range": {
                "start": {"line_code": format!("{db}_9_9"), "type": "old", "old_line": 9, "new_line": 9},
                "end": {"line_code": format!("{db}_11_12"), "type": "old", "old_line": 11, "new_line": 12}
            }
        })),
    ];
    for (n, (comment, position)) in comments.iter().zip(&expected).enumerate() {
        let body = json!({"body": comment.body, "position": position});
        let response = if n == 1 {
            ResponseTemplate::new(400).set_body_json(json!({
                "message": "400 Bad request - Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}"
            }))
        } else {
            ResponseTemplate::new(201).set_body_json(created_discussion(
                &format!("{n}a9c1750b37d513a43987b574953fceb50b03ce7"),
                2000 + n as u64,
                &comment.body,
            ))
        };
        Mock::given(method("POST"))
            .and(path(api("/merge_requests/1/discussions")))
            .and(header("PRIVATE-TOKEN", TOKEN))
            .and(header("content-type", "application/json"))
            .and(body_json(body))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let outcomes = forge.post_comments(&change(), &comments).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(
        outcomes[0],
        CommentOutcome::Posted(CommentId("2000".to_owned()))
    );
    match &outcomes[1] {
        CommentOutcome::Rejected(reason) => {
            assert!(reason.contains("(400)"), "{reason}");
            assert!(reason.contains("must be a valid line code"), "{reason}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        outcomes[2],
        CommentOutcome::Posted(CommentId("2002".to_owned()))
    );
    assert_eq!(
        outcomes[3],
        CommentOutcome::Posted(CommentId("2003".to_owned()))
    );
}

#[test]
fn line_codes_and_old_lines_follow_gitlabs_diff_parser() {
    // "a" kept, "b" replaced by "B1 B2", "c" kept, "d" deleted, "e" kept, "f" inserted.
    let patch = "@@ -1,5 +1,6 @@\n a\n-b\n+B1\n+B2\n c\n-d\n e\n+f\n";
    let (hunks, added) = crate::forge::patch::parse("x", patch).unwrap();
    let file = FileLines::new(hunks, added);
    let old: Vec<Option<u32>> = (1..=6).map(|line| file.old_line(line)).collect();
    // Head: a=1 B1=2 B2=3 c=4 e=5 f=6; base: a=1 b=2 c=3 d=4 e=5.
    assert_eq!(old, [Some(1), None, None, Some(3), Some(5), None]);
    // Line 5 of README, unchanged: `sha1("README")_old_new`.
    assert_eq!(
        line_code("README", 5, 5),
        "69e27356ef629022720d868ab0c0e3394775b6c1_5_5"
    );
    // An added line's code carries GitLab's old-side counter: the base line after the hunk.
    assert_eq!(
        file.range_end("x", 3)["line_code"],
        json!(line_code("x", 3, 3))
    );
    assert_eq!(
        file.range_end("x", 6)["line_code"],
        json!(line_code("x", 6, 6))
    );
}

fn posted(id: u64, thread: Option<&str>, finding: &str) -> PostedComment {
    PostedComment {
        id: CommentId(id.to_string()),
        thread: thread.map(str::to_owned),
        findings: vec![FindingId(finding.to_owned())],
        body: finding_body(finding),
        resolved: false,
    }
}

#[tokio::test]
async fn update_comment_edits_the_discussion_note_or_the_bare_note() {
    let (server, forge) = gitlab().await;
    let thread = "6a9c1750b37d513a43987b574953fceb50b03ce7";
    Mock::given(method("PUT"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}/notes/1126"
        ))))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(body_json(json!({"body": "updated"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(note(
            1126,
            "updated",
            json!("DiffNote"),
            true,
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api("/merge_requests/1/notes/1127")))
        .and(form(&[("body", "updated too")]))
        .respond_with(ResponseTemplate::new(200).set_body_json(note(
            1127,
            "updated too",
            json!("DiffNote"),
            true,
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;
    forge
        .update_comment(&change(), &posted(1126, Some(thread), SQLI), "updated")
        .await
        .unwrap();
    forge
        .update_comment(&change(), &posted(1127, None, SQLI), "updated too")
        .await
        .unwrap();
}

#[tokio::test]
async fn resolve_comment_replies_fixed_then_resolves_the_thread() {
    let (server, forge) = gitlab().await;
    let thread = "6a9c1750b37d513a43987b574953fceb50b03ce7";
    let reply = format!("Fixed in {HEAD}. <!-- posture:fixed:{SQLI} -->");
    Mock::given(method("POST"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}/notes"
        ))))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(body_json(json!({"body": reply})))
        .respond_with(ResponseTemplate::new(201).set_body_json(note(
            1141,
            &reply,
            json!("DiffNote"),
            true,
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}"
        ))))
        .and(query(&[("resolved", "true")]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": thread, "individual_note": false,
            "notes": [note(1126, &finding_body(SQLI), json!("DiffNote"), true, true)]
        })))
        .expect(1)
        .mount(&server)
        .await;
    forge
        .resolve_comment(&change(), &posted(1126, Some(thread), SQLI), HEAD)
        .await
        .unwrap();
    let order: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(order, ["GET", "POST", "PUT"]);
}

#[tokio::test]
async fn upsert_summary_creates_then_edits_in_place_and_recreates_a_deleted_one() {
    let (server, forge) = gitlab().await;
    Mock::given(method("POST"))
        .and(path(api("/merge_requests/1/notes")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(form(&[("body", "summary v1 <!-- posture:summary -->")]))
        .respond_with(ResponseTemplate::new(201).set_body_json(note(
            302,
            "summary v1 <!-- posture:summary -->",
            Value::Null,
            false,
            false,
        )))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api("/merge_requests/1/notes/302")))
        .and(form(&[("body", "summary v2 <!-- posture:summary -->")]))
        .respond_with(ResponseTemplate::new(200).set_body_json(note(
            302,
            "summary v2 <!-- posture:summary -->",
            Value::Null,
            false,
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api("/merge_requests/1/notes/300")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not found"})))
        .expect(1)
        .mount(&server)
        .await;
    let created = forge
        .upsert_summary(&change(), None, "summary v1 <!-- posture:summary -->")
        .await
        .unwrap();
    assert_eq!(created, CommentId("302".to_owned()));
    let edited = forge
        .upsert_summary(
            &change(),
            Some(&created),
            "summary v2 <!-- posture:summary -->",
        )
        .await
        .unwrap();
    assert_eq!(edited, created);
    let recreated = forge
        .upsert_summary(
            &change(),
            Some(&CommentId("300".to_owned())),
            "summary v1 <!-- posture:summary -->",
        )
        .await
        .unwrap();
    assert_eq!(recreated, CommentId("302".to_owned()));
}

#[tokio::test]
async fn set_gate_posts_a_commit_status_named_posture() {
    let (server, forge) = gitlab().await;
    let title = format!("2 new findings block the merge{}", " — ".repeat(100));
    let clipped = clip_bytes(&title, 255);
    assert!(clipped.len() <= 255 && clipped.ends_with('…'), "{clipped}");
    Mock::given(method("POST"))
        .and(path(api(&format!("/statuses/{HEAD}"))))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(form(&[
            ("state", "failed"),
            ("name", "posture"),
            ("description", clipped.as_str()),
        ]))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 93, "sha": HEAD, "ref": "ms-viewport", "status": "failed", "name": "posture",
            "target_url": null, "description": clipped, "created_at": "2024-05-20T14:20:00.000Z",
            "started_at": null, "finished_at": "2024-05-20T14:20:00.000Z", "allow_failure": false,
            "coverage": null, "pipeline_id": 48,
            "author": {"id": 42, "username": "project_14_bot_9f1e"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api(&format!("/statuses/{HEAD}"))))
        .and(form(&[("state", "success"), ("name", "posture"), ("description", "No new findings")]))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "message": "Cannot transition status via :success from :success (Reason(s): Status cannot transition via \"success\")"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let gate = |passed: bool, title: &str| GateStatus {
        head_sha: HEAD.to_owned(),
        passed,
        title: title.to_owned(),
        summary: "…".to_owned(),
        annotations: Vec::new(),
    };
    forge.set_gate(PROJECT, &gate(false, &title)).await.unwrap();
    // Already in that state: not an error.
    forge
        .set_gate(PROJECT, &gate(true, "No new findings"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_429_becomes_rate_limited_with_the_wait_gitlab_asked_for() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "17")
                .insert_header("ratelimit-name", "throttle_authenticated_api")
                .set_body_string("Retry later\n"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/repository/files/app%2Fdb.py/raw")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_string("Retry later\n"),
        )
        .mount(&server)
        .await;
    let reset = chrono::Utc::now().timestamp() + 300;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/discussions")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"message": "Too many requests"})),
        )
        .mount(&server)
        .await;

    let error = forge.change_request(PROJECT, 1).await.unwrap_err();
    assert!(matches!(error, ForgeError::RateLimited { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(17)));
    let error = forge
        .read_file(PROJECT, HEAD, "app/db.py")
        .await
        .unwrap_err();
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(30)),
        "{error}"
    );
    let error = forge.published(&change()).await.unwrap_err();
    let wait = error.retry_after().unwrap();
    assert!(
        (Duration::from_secs(290)..=Duration::from_secs(300)).contains(&wait),
        "{error}"
    );
}

#[tokio::test]
async fn a_502_is_unavailable_and_retried() {
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1")))
        .respond_with(ResponseTemplate::new(502).set_body_string(
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        ))
        .mount(&server)
        .await;
    let error = forge.change_request(PROJECT, 1).await.unwrap_err();
    assert!(matches!(error, ForgeError::Unavailable { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert!(error.to_string().contains("502"), "{error}");
}

#[tokio::test]
async fn a_bad_token_is_rejected_with_gitlabs_message_and_never_echoed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let forge = GitLabClient::new(&server.uri(), TOKEN).unwrap().forge();
    let error = forge.change_request(PROJECT, 1).await.unwrap_err();
    match &error {
        ForgeError::Rejected {
            status, message, ..
        } => {
            assert_eq!(*status, 401);
            assert_eq!(message, "401 Unauthorized");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(error.retry_after(), None);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    // A failed connection is not kept: the next call asks again.
    forge.list_files(PROJECT, HEAD).await.unwrap_err();
}

#[tokio::test]
async fn an_unreachable_gitlab_is_unavailable() {
    // Port 1 (tcpmux) is closed: the connection is refused at once. (A dropped MockServer's
    // port is not free: wiremock pools its servers for other tests.)
    let forge = GitLabClient::new("http://127.0.0.1:1", TOKEN)
        .unwrap()
        .forge();
    let error = forge.change_request(PROJECT, 1).await.unwrap_err();
    assert!(matches!(error, ForgeError::Unavailable { .. }), "{error}");
    assert!(!format!("{error:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_self_managed_instance_under_a_path_prefix() {
    let server = MockServer::start().await;
    mount_user(&server, "/gitlab").await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/gitlab/api/v4/projects/{ENCODED}/merge_requests/1"
        )))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(merge_request_json(
            1,
            HEAD,
            diff_refs(),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = GitLabClient::new(&format!("{}/gitlab/", server.uri()), TOKEN).unwrap();
    assert_eq!(client.base_url(), format!("{}/gitlab", server.uri()));
    let got = client.forge().change_request(PROJECT, 1).await.unwrap();
    assert_eq!(got.head_sha, HEAD);
}

#[test]
fn every_request_is_counted_with_its_status_and_every_rate_limit_with_its_wait() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The recorder is this thread's, and the runtime runs every task on this thread.
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let (server, forge) = gitlab().await;
            Mock::given(method("GET"))
                .and(path(api("/merge_requests/1")))
                .respond_with(ResponseTemplate::new(200).set_body_json(merge_request_json(
                    1,
                    HEAD,
                    diff_refs(),
                )))
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path(api("/repository/files/app%2Fdb.py/raw")))
                .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "5"))
                .mount(&server)
                .await;
            forge.change_request(PROJECT, 1).await.unwrap();
            forge.change_request(PROJECT, 1).await.unwrap();
            forge
                .read_file(PROJECT, HEAD, "app/db.py")
                .await
                .unwrap_err();
        })
    });
    let text = handle.render();
    for line in [
        "posture_forge_api_calls_total{forge=\"gitlab\",operation=\"connect\",status=\"200\"} 1",
        "posture_forge_api_calls_total{forge=\"gitlab\",operation=\"merge_request\",status=\"200\"} 2",
        "posture_forge_api_calls_total{forge=\"gitlab\",operation=\"file_raw\",status=\"429\"} 1",
        "posture_forge_rate_limited_total{forge=\"gitlab\"} 1",
        "posture_forge_rate_limit_wait_seconds_sum{forge=\"gitlab\"} 5",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn identity_is_the_tokens_username_asked_once() {
    let (server, forge) = gitlab().await;
    assert_eq!(forge.identity().await.unwrap(), ME);
    // Another forge of the same client shares the answer.
    let other = GitLabForge {
        api: Arc::clone(&forge.api),
    };
    assert_eq!(other.identity().await.unwrap(), ME);
    let users = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v4/user")
        .count();
    // The crate's connection check, then `identity()` once.
    assert_eq!(users, 2);
}

fn actor(login: &str, id: Option<i64>) -> crate::forge::Actor {
    crate::forge::Actor {
        login: login.to_owned(),
        id,
    }
}

/// `GET /projects/:id/members/all/:user_id` answering `access_level` (and a state).
async fn mount_member(server: &MockServer, user: u64, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(api(&format!("/members/all/{user}"))))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

fn member(id: u64, username: &str, access_level: u64, state: &str, membership: &str) -> Value {
    json!({
        "id": id, "username": username, "name": username, "state": state,
        "avatar_url": null, "web_url": format!("http://192.168.1.8:3000/{username}"),
        "expires_at": null, "access_level": access_level,
        "created_at": "2012-10-22T14:13:35Z", "membership_state": membership
    })
}

#[tokio::test]
async fn permission_maps_the_members_access_level_and_a_non_member_has_none() {
    use crate::forge::Permission;
    let (server, forge) = gitlab().await;
    let levels = [
        (1, 5, Permission::None),
        (2, 10, Permission::Read),
        (3, 15, Permission::Read),
        (4, 20, Permission::Read),
        (5, 30, Permission::Write),
        (6, 40, Permission::Maintain),
        (7, 50, Permission::Admin),
    ];
    for (user, level, _) in levels {
        let answer = member(user, &format!("user{user}"), level, "active", "active");
        mount_member(
            &server,
            user,
            ResponseTemplate::new(200).set_body_json(answer),
        )
        .await;
    }
    // A blocked user, and a membership still awaiting a seat: none.
    mount_member(
        &server,
        8,
        ResponseTemplate::new(200).set_body_json(member(8, "gone", 40, "blocked", "active")),
    )
    .await;
    mount_member(
        &server,
        9,
        ResponseTemplate::new(200).set_body_json(member(9, "waiting", 30, "active", "awaiting")),
    )
    .await;
    mount_member(
        &server,
        10,
        ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not found"})),
    )
    .await;
    for (user, _, want) in levels {
        let got = forge
            .permission(PROJECT, &actor(&format!("user{user}"), Some(user as i64)))
            .await
            .unwrap();
        assert_eq!(got, want, "access level of user {user}");
    }
    for (user, login) in [(8, "gone"), (9, "waiting"), (10, "stranger")] {
        let got = forge
            .permission(PROJECT, &actor(login, Some(user)))
            .await
            .unwrap();
        assert_eq!(got, Permission::None, "{login}");
    }
    let error = forge
        .permission(PROJECT, &actor("odd", Some(-1)))
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Config(_)), "{error}");
}

#[tokio::test]
async fn permission_without_an_id_looks_the_user_up_by_username() {
    use crate::forge::Permission;
    let (server, forge) = gitlab().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query(&[("username", "Jack_Smith")]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 51, "username": "jack_smith", "name": "Jack Smith", "state": "active",
             "locked": false, "avatar_url": null, "web_url": "http://localhost:3000/jack_smith"}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query(&[("username", "nobody")]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    mount_member(
        &server,
        51,
        ResponseTemplate::new(200).set_body_json(member(51, "jack_smith", 30, "active", "active")),
    )
    .await;
    assert_eq!(
        forge
            .permission(PROJECT, &actor("Jack_Smith", None))
            .await
            .unwrap(),
        Permission::Write
    );
    assert_eq!(
        forge
            .permission(PROJECT, &actor("nobody", None))
            .await
            .unwrap(),
        Permission::None
    );
    // Neither a name nor an id: nobody to ask about.
    assert_eq!(
        forge.permission(PROJECT, &actor("", None)).await.unwrap(),
        Permission::None
    );
}

#[tokio::test]
async fn a_reply_goes_to_the_discussion_the_notes_discussion_or_the_merge_request() {
    use crate::forge::ReplyTo;
    let (server, forge) = gitlab().await;
    let thread = "6a9c1750b37d513a43987b574953fceb50b03ce7";
    Mock::given(method("POST"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}/notes"
        ))))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(body_json(json!({"body": "Dismissed."})))
        .respond_with(ResponseTemplate::new(201).set_body_json(note(
            1150,
            "Dismissed.",
            json!("DiffNote"),
            true,
            false,
        )))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/discussions")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": thread, "individual_note": false,
             "notes": [note(1126, &finding_body(SQLI), json!("DiffNote"), true, false)]}
        ])))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("/merge_requests/1/notes")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(form(&[("body", "Only developers can do that.")]))
        .respond_with(ResponseTemplate::new(201).set_body_json(note(
            1151,
            "Only developers can do that.",
            Value::Null,
            false,
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;

    forge
        .reply(
            &change(),
            &ReplyTo::Discussion(thread.to_owned()),
            "Dismissed.",
        )
        .await
        .unwrap();
    forge
        .reply(
            &change(),
            &ReplyTo::ReviewComment(CommentId("1126".to_owned())),
            "Dismissed.",
        )
        .await
        .unwrap();
    forge
        .reply(
            &change(),
            &ReplyTo::Conversation,
            "Only developers can do that.",
        )
        .await
        .unwrap();
    // A note in no discussion.
    let error = forge
        .reply(
            &change(),
            &ReplyTo::ReviewComment(CommentId("999".to_owned())),
            "Dismissed.",
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::NotFound { .. }), "{error}");
}

#[tokio::test]
async fn resolve_thread_resolves_the_discussion_without_a_note() {
    let (server, forge) = gitlab().await;
    let thread = "6a9c1750b37d513a43987b574953fceb50b03ce7";
    Mock::given(method("PUT"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}"
        ))))
        .and(query(&[("resolved", "true")]))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": thread, "individual_note": false,
            "notes": [note(1126, &finding_body(SQLI), json!("DiffNote"), true, true)]
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/discussions")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": thread, "individual_note": false,
             "notes": [note(1126, &finding_body(SQLI), json!("DiffNote"), true, false)]}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    forge
        .resolve_thread(&change(), &posted(1126, Some(thread), SQLI))
        .await
        .unwrap();
    // The discussion found from the note.
    forge
        .resolve_thread(&change(), &posted(1126, None, SQLI))
        .await
        .unwrap();
    // Resolved already: nothing sent.
    let mut done = posted(1126, Some(thread), SQLI);
    done.resolved = true;
    forge.resolve_thread(&change(), &done).await.unwrap();
    let order: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(order, ["GET", "PUT", "GET", "PUT"]);
    assert!(
        !server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .any(|r| r.method.as_str() == "POST")
    );
}

/// A commit of `GET /projects/:id/merge_requests/:iid/commits` (GitLab's docs example,
/// trimmed), committed on `day` of January; `parent_ids` as given, `null` included.
fn mr_commit_json(id: &str, parent_ids: Value, day: u32) -> Value {
    let date = format!("2024-01-{day:02}T10:00:00.000+00:00");
    json!({
        "id": id, "short_id": &id[..8], "created_at": date, "parent_ids": parent_ids,
        "title": "Replace sanitize with escape once", "message": "Replace sanitize with escape once",
        "author_name": "Example User", "author_email": "user@example.com", "authored_date": date,
        "committer_name": "Example User", "committer_email": "user@example.com",
        "committed_date": date, "trailers": {},
        "web_url": format!("https://gitlab.example.com/{PROJECT}/-/commit/{id}")
    })
}

/// The i-th commit of a long series.
fn series_sha(i: usize) -> String {
    format!("{:040x}", 0xfeed_0000_usize + i)
}

/// Answers `…/merge_requests/1/commits` with `commits`, 100 a page by the `page` query, as
/// GitLab's offset pagination does.
async fn mount_mr_commits(server: &MockServer, commits: Vec<Value>, pages: u64) {
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/commits")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(move |request: &Request| {
            let page: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map_or(1, |(_, v)| v.parse().unwrap());
            assert!(
                request
                    .url
                    .query_pairs()
                    .any(|(k, v)| k == "per_page" && v == "100")
            );
            let items: Vec<Value> = commits
                .iter()
                .skip((page - 1) * 100)
                .take(100)
                .cloned()
                .collect();
            ResponseTemplate::new(200).set_body_json(Value::Array(items))
        })
        .expect(pages)
        .mount(server)
        .await;
}

#[tokio::test]
async fn change_commits_page_and_follow_parent_ids_from_the_head_not_the_list() {
    let (server, forge) = gitlab().await;
    // 102 commits, each on the one before; listed newest first by a date that neighbours
    // swapped (a rebase keeps author dates), over two pages.
    let mut listed: Vec<Value> = (0..102)
        .map(|i| {
            let parent = if i == 0 {
                BASE.to_owned()
            } else {
                series_sha(i - 1)
            };
            mr_commit_json(&series_sha(i), json!([parent]), 1 + (i % 28) as u32)
        })
        .rev()
        .collect();
    for pair in listed.chunks_mut(2) {
        pair.swap(0, 1);
    }
    mount_mr_commits(&server, listed, 2).await;
    let mut mr = change();
    mr.head_sha = series_sha(101);
    let list = forge.change_commits(&mr).await.unwrap();
    let want: Vec<String> = (0..102).rev().map(series_sha).collect();
    assert_eq!(list, ChangeCommitList::Complete(want));
}

#[tokio::test]
async fn commits_gitlab_lists_without_parent_ids_are_partial() {
    let (server, forge) = gitlab().await;
    // gitlab-org/gitlab#496665: served from the database, `parent_ids` is empty.
    let c1 = series_sha(1);
    mount_mr_commits(
        &server,
        vec![
            mr_commit_json(HEAD, json!([]), 2),
            mr_commit_json(&c1, Value::Null, 1),
        ],
        1,
    )
    .await;
    let list = forge.change_commits(&change()).await.unwrap();
    assert_eq!(
        list,
        ChangeCommitList::Partial {
            listed: vec![HEAD.to_owned(), c1],
            gap: ListGap::NoAncestry
        }
    );
}

#[tokio::test]
async fn ten_thousand_commits_may_be_cut_so_the_list_is_partial() {
    let (server, forge) = gitlab().await;
    let listed: Vec<Value> = (0..10_050)
        .rev()
        .map(|i| {
            let parent = if i == 0 {
                BASE.to_owned()
            } else {
                series_sha(i - 1)
            };
            mr_commit_json(&series_sha(i), json!([parent]), 1)
        })
        .collect();
    // Posture stops at 10,000: a hundred pages, not the last one.
    mount_mr_commits(&server, listed, 100).await;
    let mut mr = change();
    mr.head_sha = series_sha(10_049);
    let list = forge.change_commits(&mr).await.unwrap();
    let ChangeCommitList::Partial { listed, gap } = list else {
        panic!("a list at the cap is partial: {list:?}");
    };
    assert_eq!(gap, ListGap::Capped);
    assert_eq!(listed.len(), 10_000);
}

#[tokio::test]
async fn a_note_listing_several_findings_maps_every_marker_and_is_resolved_for_all() {
    let (server, forge) = gitlab().await;
    let shared = format!(
        "**posture: 2 findings on this line**\n\n{}\n\n---\n\n{}",
        finding_body(SQLI),
        finding_body(SECRET)
    );
    let thread = "6a9c1750b37d513a43987b574953fceb50b03ce7";
    let discussions = json!([
        // A "fixed" reply naming one of its two findings leaves it open.
        {"id": thread, "individual_note": false,
         "notes": [
            note(1126, &shared, json!("DiffNote"), true, false),
            note(1140, &format!("Fixed in {HEAD}. <!-- posture:fixed:{SQLI} -->"), json!("DiffNote"), true, false)
         ]},
        // One naming both resolves it.
        {"id": "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b", "individual_note": false,
         "notes": [
            note(1131, &format!("{}\n{}", finding_body("aaaa1111"), finding_body("bbbb2222")), json!("DiffNote"), true, false),
            note(1141, "Fixed in abc. <!-- posture:fixed:aaaa1111 --> <!-- posture:fixed:bbbb2222 -->", json!("DiffNote"), true, false)
         ]},
        // A note of an older version: one finding.
        {"id": "3f5b1a8e2c7d9f0a1b2c3d4e5f6a7b8c9d0e1f2a", "individual_note": false,
         "notes": [note(1130, &finding_body(PICKLE), json!("DiffNote"), true, false)]}
    ]);
    Mock::given(method("GET"))
        .and(path(api("/merge_requests/1/discussions")))
        .respond_with(ResponseTemplate::new(200).set_body_json(discussions))
        .expect(1)
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
            ("1126", vec![SQLI, SECRET], false),
            ("1131", vec!["aaaa1111", "bbbb2222"], true),
            ("1130", vec![PICKLE], false),
        ]
    );

    // Resolving: one "fixed" note naming both findings, then the discussion resolved.
    let reply =
        format!("Fixed in {HEAD}. <!-- posture:fixed:{SQLI} --> <!-- posture:fixed:{SECRET} -->");
    Mock::given(method("POST"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}/notes"
        ))))
        .and(body_json(json!({"body": reply})))
        .respond_with(ResponseTemplate::new(201).set_body_json(note(
            1142,
            &reply,
            json!("DiffNote"),
            true,
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api(&format!(
            "/merge_requests/1/discussions/{thread}"
        ))))
        .and(query(&[("resolved", "true")]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": thread, "individual_note": false,
            "notes": [note(1126, &shared, json!("DiffNote"), true, true)]
        })))
        .expect(1)
        .mount(&server)
        .await;
    forge
        .resolve_comment(&change(), &published.comments[0], HEAD)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_group_member_is_one_with_at_least_guest_access_inherited_included() {
    let (server, forge) = gitlab().await;
    // `acme/appsec`, URL-encoded as the group's id; the list holds the one user asked about.
    let answers = [
        (
            21,
            ResponseTemplate::new(200)
                .set_body_json(json!([member(21, "alice", 50, "active", "active")])),
        ),
        (
            22,
            ResponseTemplate::new(200)
                .set_body_json(json!([member(22, "mallory", 5, "active", "active")])),
        ),
        (23, ResponseTemplate::new(200).set_body_json(json!([]))),
        (
            24,
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Group Not Found"})),
        ),
    ];
    for (user, answer) in answers {
        Mock::given(method("GET"))
            .and(path("/api/v4/groups/acme%2Fappsec/members/all"))
            .and(query_param("user_ids[]", user.to_string()))
            .and(header("PRIVATE-TOKEN", TOKEN))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let member_of = |login: &'static str, id: i64| {
        let forge = &forge;
        async move {
            forge
                .team_member("acme", "acme/appsec", &actor(login, Some(id)))
                .await
        }
    };
    assert!(member_of("alice", 21).await.unwrap());
    assert!(!member_of("mallory", 22).await.unwrap());
    assert!(!member_of("stranger", 23).await.unwrap());
    // A group posture cannot see is an error, not "no member".
    assert!(member_of("lost", 24).await.is_err());
}

#[tokio::test]
async fn a_project_is_read_from_reporter_up() {
    let (server, forge) = gitlab().await;
    for (user, level) in [(31, 10), (32, 15), (33, 20), (34, 40)] {
        let answer = member(user, &format!("user{user}"), level, "active", "active");
        mount_member(
            &server,
            user,
            ResponseTemplate::new(200).set_body_json(answer),
        )
        .await;
    }
    mount_member(
        &server,
        35,
        ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not found"})),
    )
    .await;
    let mut reads = Vec::new();
    for user in 31..=35 {
        let who = actor(&format!("user{user}"), Some(user));
        reads.push(forge.reads(PROJECT, &who).await.unwrap());
    }
    assert_eq!(reads, [false, false, true, true, false]);
}
