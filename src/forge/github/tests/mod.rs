//! The GitHub forge against a wiremock GitHub: every method with answers in the documented
//! shape (trimmed from GitHub's REST and GraphQL docs), asserting the exact requests made —
//! paths, queries, headers, JSON bodies — and what they are mapped to; then the faults (rate
//! limits, 5xx, 422s, hostile artifacts, redirects) and App authentication with a throwaway
//! RSA key. No real network, no sleeping.

mod auth;
mod commits;
mod faults;
mod publish;
mod read;
mod reports;
mod units;

use std::path::{Path, PathBuf};
use std::process::Command;

use octocrab::secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{GitHubClient, GitHubConfig, GitHubCredentials, GitHubForge};
use crate::forge::ChangeRequest;
use crate::git::testing::{ALICE, TestRepo};

pub(super) const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
pub(super) const REPO: &str = "octo-org/hello-world";
pub(super) const HEAD: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
pub(super) const BASE: &str = "8a1f3f5b0b5e2b8cb5e4d9f9a7a3c2d1e0f9a8b7";
pub(super) const MERGE_BASE: &str = "c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c";
pub(super) const APP_ID: u64 = 1_234_567;

pub(super) fn token_client(server: &MockServer) -> GitHubClient {
    token_client_at(&server.uri())
}

pub(super) fn token_client_at(api_url: &str) -> GitHubClient {
    GitHubClient::new(GitHubConfig::new(
        api_url,
        GitHubCredentials::Token(SecretString::from(TOKEN)),
    ))
    .unwrap()
}

pub(super) fn token_forge(server: &MockServer) -> GitHubForge {
    token_client(server).for_installation(None).unwrap()
}

pub(super) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/github")
        .join(name)
}

pub(super) fn private_key_pem() -> String {
    std::fs::read_to_string(fixture("test-app-key.pem")).unwrap()
}

pub(super) fn app_client_at(api_url: &str) -> GitHubClient {
    GitHubClient::new(GitHubConfig::new(
        api_url,
        GitHubCredentials::App {
            app_id: APP_ID,
            private_key_pem: SecretString::from(private_key_pem()),
        },
    ))
    .unwrap()
}

/// Pull request 1347 of `octo-org/hello-world`, as [`super::GitHubForge::change_request`]
/// returns it.
pub(super) fn change() -> ChangeRequest {
    ChangeRequest {
        repository: REPO.to_owned(),
        number: 1347,
        title: "Amazing new feature".to_owned(),
        head_sha: HEAD.to_owned(),
        target_sha: BASE.to_owned(),
        merge_base: MERGE_BASE.to_owned(),
        target_branch: "main".to_owned(),
        draft: false,
        open: true,
    }
}

/// A pull request in the shape of `GET /repos/{owner}/{repo}/pulls/{n}` (GitHub's docs
/// example, trimmed).
pub(super) fn pull_json(number: i64, head_sha: &str, base_sha: &str) -> Value {
    let repo = json!({
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": "hello-world",
        "full_name": REPO,
        "private": false,
        "clone_url": "https://github.com/octo-org/hello-world.git",
        "default_branch": "main"
    });
    json!({
        "url": format!("https://api.github.com/repos/{REPO}/pulls/{number}"),
        "id": 1,
        "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
        "html_url": format!("https://github.com/{REPO}/pull/{number}"),
        "number": number,
        "state": "open",
        "locked": false,
        "title": "Amazing new feature",
        "user": {"login": "octocat", "id": 1, "type": "User"},
        "body": "Please pull these awesome changes in!",
        "created_at": "2011-01-26T19:01:12Z",
        "updated_at": "2011-01-26T19:01:12Z",
        "merged_at": null,
        "draft": false,
        "head": {
            "label": "octocat:new-topic",
            "ref": "new-topic",
            "sha": head_sha,
            "user": {"login": "octocat", "id": 1},
            "repo": repo
        },
        "base": {
            "label": "octo-org:main",
            "ref": "main",
            "sha": base_sha,
            "user": {"login": "octo-org", "id": 2},
            "repo": repo
        },
        "author_association": "OWNER",
        "mergeable": true,
        "merged": false,
        "comments": 10,
        "commits": 3,
        "additions": 100,
        "deletions": 3,
        "changed_files": 5
    })
}

/// `GET /compare/{base}...{head}` trimmed to what matters, in its documented shape.
pub(super) fn compare_json(merge_base: &str) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/{REPO}/compare/main...topic"),
        "status": "ahead",
        "ahead_by": 1,
        "behind_by": 2,
        "total_commits": 1,
        "base_commit": {"sha": BASE},
        "merge_base_commit": {
            "sha": merge_base,
            "commit": {"message": "Fix all the bugs", "author": {"name": "Monalisa Octocat"}}
        },
        "commits": [],
        "files": []
    })
}

/// Mounts the answer to `GET /repos/{REPO}` with a `clone_url` (for the clone fallback).
pub(super) async fn mount_repository(server: &MockServer, clone_url: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 1296269,
            "name": "hello-world",
            "full_name": REPO,
            "clone_url": clone_url,
            "default_branch": "main"
        })))
        .expect(1)
        .mount(server)
        .await;
}

/// A bare copy of `repo` that serves blobless fetches of any commit, as GitHub does.
pub(super) fn serve_bare(repo: &TestRepo, into: &Path) -> String {
    let bare = into.join("hello-world.git");
    repo.git(
        &["clone", "--quiet", "--mirror", ".", bare.to_str().unwrap()],
        ALICE,
    );
    for (key, value) in [
        ("uploadpack.allowFilter", "true"),
        ("uploadpack.allowAnySHA1InWant", "true"),
    ] {
        let status = Command::new("git")
            .arg("--git-dir")
            .arg(&bare)
            .args(["config", key, value])
            .status()
            .unwrap();
        assert!(status.success());
    }
    format!("file://{}", bare.display())
}

/// The requests the server saw, in order, as (method, path?query).
pub(super) async fn seen(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let query = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{} {}{query}", r.method, r.url.path())
        })
        .collect()
}
