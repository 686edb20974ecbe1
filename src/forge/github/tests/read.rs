//! Reading: pull requests, merge-bases, changed files (and the clone fallback), file
//! contents, trees, blame.

use serde_json::json;
use tempfile::TempDir;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::forge::{Forge, ForgeError};
use crate::git::SourceRepo;
use crate::git::testing::BOB;
use crate::model::{ChangeStatus, Hunk};

#[tokio::test]
async fn change_request_reads_the_pull_and_its_merge_base() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/vnd.github+json"))
        .and(header("x-github-api-version", "2022-11-28"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pull_json(1347, HEAD, BASE)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/compare/{BASE}...{HEAD}")))
        .and(query_param("per_page", "1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(compare_json(MERGE_BASE)))
        .expect(1)
        .mount(&server)
        .await;

    let change = token_forge(&server)
        .change_request(REPO, 1347)
        .await
        .unwrap();
    assert_eq!(change, super::change());
}

#[tokio::test]
async fn a_closed_draft_is_reported_as_such() {
    let server = MockServer::start().await;
    let mut pull = pull_json(9, HEAD, BASE);
    pull["state"] = json!("closed");
    pull["draft"] = json!(true);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/9")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pull))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/compare/{BASE}...{HEAD}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(compare_json(MERGE_BASE)))
        .mount(&server)
        .await;
    let change = token_forge(&server).change_request(REPO, 9).await.unwrap();
    assert!(change.draft);
    assert!(!change.open);
}

#[tokio::test]
async fn open_change_requests_pages_filters_by_head_and_asks_merge_bases_only_for_those() {
    let server = MockServer::start().await;
    let other = "1111111111111111111111111111111111111111";
    let next = format!(
        "<{}/repositories/1296269/pulls?state=open&per_page=100&page=2>; rel=\"next\", <{}/repositories/1296269/pulls?state=open&per_page=100&page=2>; rel=\"last\"",
        server.uri(),
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls")))
        .and(query_param("state", "open"))
        .and(query_param("per_page", "100"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!([pull_json(1, other, BASE), pull_json(2, HEAD, BASE)])),
        )
        .expect(2) // once for the head, once for the reconcile
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/1296269/pulls"))
        .and(query_param("page", "2"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([pull_json(3, other, BASE)])))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/compare/{BASE}...{HEAD}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(compare_json(MERGE_BASE)))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/compare/{BASE}...{other}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(compare_json(MERGE_BASE)))
        .expect(2)
        .mount(&server)
        .await;

    let forge = token_forge(&server);
    let found = forge.open_change_requests(REPO, Some(HEAD)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].number, 2);
    assert_eq!(found[0].merge_base, MERGE_BASE);

    let all = forge.open_change_requests(REPO, None).await.unwrap();
    let numbers: Vec<i64> = all.iter().map(|c| c.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
}

/// Entries in the shape of `GET /repos/{owner}/{repo}/pulls/{n}/files`.
fn file_json(
    filename: &str,
    status: &str,
    additions: u64,
    deletions: u64,
    patch: Option<&str>,
) -> serde_json::Value {
    let mut file = json!({
        "sha": "bbcd538c8e72b8c175046e27cc8f907076331401",
        "filename": filename,
        "status": status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": format!("https://github.com/{REPO}/blob/{HEAD}/{filename}"),
        "raw_url": format!("https://github.com/{REPO}/raw/{HEAD}/{filename}"),
        "contents_url": format!("https://api.github.com/repos/{REPO}/contents/{filename}?ref={HEAD}"),
    });
    if let Some(patch) = patch {
        file["patch"] = json!(patch);
    }
    file
}

#[tokio::test]
async fn changes_pages_the_files_and_maps_statuses_renames_and_patches() {
    let server = MockServer::start().await;
    let mut renamed = file_json(
        "app/db_new.py",
        "renamed",
        1,
        1,
        Some("@@ -10,3 +10,3 @@ def q():\n a\n-b\n+B\n c"),
    );
    renamed["previous_filename"] = json!("app/db.py");
    let mut moved = file_json("docs/guide.md", "renamed", 0, 0, None);
    moved["previous_filename"] = json!("guide.md");
    let page1 = json!([
        file_json(
            "app/new.py",
            "added",
            2,
            0,
            Some("@@ -0,0 +1,2 @@\n+import os\n+print(os.environ)")
        ),
        file_json("app/old.py", "removed", 0, 1, Some("@@ -1 +0,0 @@\n-x = 1")),
        file_json(
            "app/views.py",
            "modified",
            1,
            1,
            Some("@@ -132,7 +132,7 @@ module Test\n a\n b\n c\n-d\n+D\n e\n f\n g")
        ),
    ]);
    let page2 = json!([
        renamed,
        moved,
        file_json("logo.png", "modified", 0, 0, None),
        file_json("run.sh", "changed", 0, 0, None),
        file_json("same.txt", "unchanged", 0, 0, None),
    ]);
    let pull_files = format!("/repos/{REPO}/pulls/1347/files");
    Mock::given(method("GET"))
        .and(path(pull_files.as_str()))
        .and(query_param("per_page", "100"))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{}{pull_files}?per_page=100&page=2>; rel=\"next\"",
                        server.uri()
                    )
                    .as_str(),
                )
                .set_body_json(page1),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(pull_files.as_str()))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page2))
        .expect(1)
        .mount(&server)
        .await;

    let changes = token_forge(&server).changes(&change()).await.unwrap();
    assert_eq!(changes.base, MERGE_BASE);
    assert_eq!(changes.head, HEAD);
    let summary: Vec<(Option<&str>, Option<&str>, ChangeStatus, bool)> = changes
        .files
        .iter()
        .map(|f| {
            (
                f.old_path.as_deref(),
                f.new_path.as_deref(),
                f.status,
                f.binary,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (None, Some("app/new.py"), ChangeStatus::Added, false),
            (Some("app/old.py"), None, ChangeStatus::Deleted, false),
            (
                Some("app/views.py"),
                Some("app/views.py"),
                ChangeStatus::Modified,
                false
            ),
            (
                Some("app/db.py"),
                Some("app/db_new.py"),
                ChangeStatus::Renamed,
                false
            ),
            (
                Some("guide.md"),
                Some("docs/guide.md"),
                ChangeStatus::Renamed,
                false
            ),
            (
                Some("logo.png"),
                Some("logo.png"),
                ChangeStatus::Modified,
                true
            ),
            (Some("run.sh"), Some("run.sh"), ChangeStatus::Modified, true),
        ]
    );
    assert_eq!(changes.files[0].added_lines, [1, 2]);
    assert_eq!(changes.files[2].added_lines, [135]);
    assert_eq!(
        changes.files[2].hunks,
        [Hunk {
            old_start: 135,
            old_lines: 1,
            new_start: 135,
            new_lines: 1
        }]
    );
    assert_eq!(changes.files[3].added_lines, [11]);
}

/// A source repository with a change on a branch, served bare over file://, and the
/// change as libgit2 computes it locally.
fn repository_with_a_change(dir: &TempDir) -> (String, String, String, crate::model::ChangeSet) {
    let repo = TestRepo::new();
    repo.write(
        "app/db.py",
        (1..=40).map(|i| format!("line {i}\n")).collect::<String>(),
    );
    repo.write("README.md", "# hello\n");
    repo.write("logo.bin", [0u8, 159, 146, 150, 0, 1]);
    let base = repo.commit("base", ALICE);
    repo.git(&["checkout", "--quiet", "-b", "topic"], BOB);
    repo.git(&["mv", "app/db.py", "app/store.py"], BOB);
    let mut text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    text.push_str("query = 'SELECT * FROM t WHERE id=' + user_id\n");
    repo.write("app/store.py", text);
    repo.write("app/new.py", "import os\nprint(os.environ)\n");
    repo.git(&["rm", "--quiet", "README.md"], BOB);
    let head = repo.commit("topic", BOB);
    // The head is reachable by sha only, as a fork's pull request head is.
    repo.git(&["checkout", "--quiet", "main"], ALICE);
    repo.git(&["branch", "-D", "topic"], ALICE);
    repo.git(&["update-ref", "refs/pull/1347/head", &head], ALICE);
    let expected = repo.open().changes(&base, &head).unwrap();
    let url = serve_bare(&repo, dir.path());
    (url, base, head, expected)
}

#[tokio::test]
async fn changes_fall_back_to_a_blobless_clone_when_github_withholds_a_patch() {
    let dir = TempDir::new().unwrap();
    let (url, base, head, expected) = repository_with_a_change(&dir);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347/files")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            file_json(
                "app/new.py",
                "added",
                2,
                0,
                Some("@@ -0,0 +1,2 @@\n+import os\n+print(os.environ)")
            ),
            // Too large to show: counted lines, no patch.
            file_json("app/store.py", "renamed", 1, 0, None),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    mount_repository(&server, &url).await;

    let mut change = change();
    change.merge_base = base;
    change.head_sha = head;
    let changes = token_forge(&server).changes(&change).await.unwrap();
    assert_eq!(changes, expected);
    let store = changes
        .files
        .iter()
        .find(|f| f.new_path.as_deref() == Some("app/store.py"))
        .unwrap();
    assert_eq!(store.status, ChangeStatus::Renamed);
    assert_eq!(store.added_lines, [41]);
}

#[tokio::test]
async fn changes_fall_back_to_a_blobless_clone_when_github_refuses_the_diff() {
    let dir = TempDir::new().unwrap();
    let (url, base, head, expected) = repository_with_a_change(&dir);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347/files")))
        .respond_with(ResponseTemplate::new(406).set_body_json(json!({
            "message": "Sorry, the diff exceeded the maximum number of files (300). Consider using 'List pull requests files' API or locally cloning the repository instead.",
            "errors": [{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files"
        })))
        .mount(&server)
        .await;
    mount_repository(&server, &url).await;
    let mut change = change();
    change.merge_base = base;
    change.head_sha = head;
    assert_eq!(
        token_forge(&server).changes(&change).await.unwrap(),
        expected
    );
}

#[tokio::test]
async fn read_file_asks_for_the_raw_bytes_with_an_encoded_path_and_maps_404_to_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/contents/docs/my%20notes%20%231/caf%C3%A9.txt"
        )))
        .and(query_param("ref", HEAD))
        .and(header("accept", "application/vnd.github.raw"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_bytes(b"bytes \x00\xff as they are".to_vec()),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/contents/.posture.yml")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/repos/contents#get-repository-content"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let forge = token_forge(&server);
    let bytes = forge
        .read_file(REPO, HEAD, "docs/my notes #1/café.txt")
        .await
        .unwrap();
    assert_eq!(bytes.as_deref(), Some(&b"bytes \x00\xff as they are"[..]));
    assert_eq!(
        forge.read_file(REPO, HEAD, ".posture.yml").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn list_files_keeps_the_blobs_of_the_recursive_tree_sorted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/git/trees/{HEAD}")))
        .and(query_param("recursive", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": HEAD,
            "url": format!("https://api.github.com/repos/{REPO}/trees/{HEAD}"),
            "tree": [
                {"path": "src", "mode": "040000", "type": "tree", "sha": "a1"},
                {"path": "src/main.rs", "mode": "100644", "type": "blob", "size": 30, "sha": "a2"},
                {"path": "README.md", "mode": "100644", "type": "blob", "size": 12, "sha": "a3"},
                {"path": "vendor/lib", "mode": "160000", "type": "commit", "sha": "a4"},
                {"path": "link", "mode": "120000", "type": "blob", "size": 7, "sha": "a5"}
            ],
            "truncated": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    let files = token_forge(&server).list_files(REPO, HEAD).await.unwrap();
    assert_eq!(files, ["README.md", "link", "src/main.rs"]);
}

#[tokio::test]
async fn a_truncated_tree_is_listed_from_a_blobless_clone() {
    let dir = TempDir::new().unwrap();
    let (url, _base, head, _) = repository_with_a_change(&dir);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/git/trees/{head}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": head,
            "tree": [{"path": "app", "mode": "040000", "type": "tree", "sha": "a1"}],
            "truncated": true
        })))
        .mount(&server)
        .await;
    mount_repository(&server, &url).await;
    let files = token_forge(&server).list_files(REPO, &head).await.unwrap();
    assert_eq!(files, ["app/new.py", "app/store.py", "logo.bin"]);
}

fn blame_answer() -> serde_json::Value {
    let commit = |oid: &str, headline: &str, date: &str| {
        json!({
            "oid": oid,
            "messageHeadline": headline,
            "committedDate": "2024-05-21T08:00:00Z",
            "author": {"name": "Carol Example", "email": "carol@example.com", "date": date}
        })
    };
    let a = commit(MERGE_BASE, "Initial import", "2024-05-20T16:15:00+02:00");
    let b = commit(HEAD, "Add the query", "2024-05-22T10:00:00Z");
    json!({
        "data": {"repository": {"object": {"blame": {"ranges": [
            {"startingLine": 1, "endingLine": 2, "age": 10, "commit": a},
            {"startingLine": 3, "endingLine": 3, "age": 1, "commit": b},
            {"startingLine": 4, "endingLine": 5, "age": 10, "commit": a}
        ]}}}}
    })
}

#[tokio::test]
async fn blame_asks_graphql_and_gives_one_commit_per_line() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "query": crate::forge::github::blame::BLAME_QUERY,
            "variables": {"owner": "octo-org", "name": "hello-world", "oid": HEAD, "path": "app/db.py"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(blame_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let blame = token_forge(&server)
        .blame(REPO, HEAD, "app/db.py")
        .await
        .unwrap();
    assert_eq!(blame.commits.len(), 2);
    assert_eq!(blame.lines, [0, 0, 1, 0, 0]);
    let first = &blame.commits[0];
    assert_eq!(first.sha, MERGE_BASE);
    assert_eq!(first.author, "Carol Example");
    assert_eq!(first.email, "carol@example.com");
    assert_eq!(first.summary, "Initial import");
    assert_eq!(first.date.to_rfc3339(), "2024-05-20T14:15:00+00:00");
    assert_eq!(blame.commit_at(3).unwrap().summary, "Add the query");
}

#[tokio::test]
async fn blame_on_github_enterprise_posts_to_api_graphql() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/graphql"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(blame_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let forge = token_client_at(&format!("{}/api/v3", server.uri()))
        .for_installation(None)
        .unwrap();
    let blame = forge.blame(REPO, HEAD, "app/db.py").await.unwrap();
    assert_eq!(blame.lines.len(), 5);
}

#[tokio::test]
async fn blame_of_an_unknown_commit_or_path_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(wiremock::matchers::body_partial_json(
            json!({"variables": {"path": "gone.py"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"object": null}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(wiremock::matchers::body_partial_json(
            json!({"variables": {"path": "nope.py"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": null},
            "errors": [{
                "type": "NOT_FOUND",
                "path": ["repository"],
                "locations": [{"line": 1, "column": 80}],
                "message": "Could not resolve to a Repository with the name 'octo-org/hello-world'."
            }]
        })))
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    for path in ["gone.py", "nope.py"] {
        let error = forge.blame(REPO, HEAD, path).await.unwrap_err();
        assert!(matches!(error, ForgeError::NotFound { .. }), "{error}");
    }
}
