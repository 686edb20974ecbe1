//! A pull request's commits: ordered by their parents from the head whatever order and
//! dates GitHub lists them in, paged, partial at GitHub's cap of 250; and [`ForgeRepo`]
//! answering the engine's `change_commits` with them from a blocking thread.

use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::forge::repo::ForgeRepo;
use crate::forge::{ChangeCommitList, Forge, ForgeError, ListGap};
use crate::git::SourceRepo;
use crate::model::ChangeSet;

fn commits_path() -> String {
    format!("/repos/{REPO}/pulls/1347/commits")
}

/// A commit in the shape of `GET /repos/{owner}/{repo}/pulls/{n}/commits` (GitHub's docs
/// example, trimmed), committed on `day` of January.
fn commit_json(sha: &str, parents: &[&str], day: u32) -> Value {
    let date = format!("2024-01-{day:02}T10:00:00Z");
    json!({
        "url": format!("https://api.github.com/repos/{REPO}/commits/{sha}"),
        "sha": sha,
        "node_id": "MDY6Q29tbWl0NmRjYjA5YjViNTc4NzVmMzM0ZjYxYWViZWQ2OTVlMmU0MTkzZGI1ZQ==",
        "html_url": format!("https://github.com/{REPO}/commit/{sha}"),
        "commit": {
            "author": {"name": "Monalisa Octocat", "email": "support@github.com", "date": date},
            "committer": {"name": "Monalisa Octocat", "email": "support@github.com", "date": date},
            "message": "Fix all the bugs",
            "comment_count": 0
        },
        "author": {"login": "octocat", "id": 1, "type": "User"},
        "parents": parents.iter().map(|p| json!({
            "url": format!("https://api.github.com/repos/{REPO}/commits/{p}"),
            "sha": p
        })).collect::<Vec<_>>()
    })
}

/// The i-th commit of a long series.
fn sha(i: usize) -> String {
    format!("{:040x}", 0x00c0_ffee_0000_usize + i)
}

/// GitHub's two pages of pull request 1347: `[c2, HEAD]` then `[c1]`, listed oldest first by
/// a date the rebase left backwards (HEAD was authored first).
async fn mount_two_pages(server: &MockServer, c1: &str, c2: &str) {
    let next = format!(
        "<{}{}?per_page=100&page=2>; rel=\"next\"",
        server.uri(),
        commits_path()
    );
    Mock::given(method("GET"))
        .and(path(commits_path()))
        .and(query_param("per_page", "100"))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!([
                    commit_json(c2, &[c1], 1),
                    commit_json(HEAD, &[c2], 2),
                ])),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(commits_path()))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([commit_json(
            c1,
            &[MERGE_BASE],
            9
        )])))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn change_commits_page_and_follow_the_parents_from_the_head_not_the_list() {
    let server = MockServer::start().await;
    let (c1, c2) = (sha(1), sha(2));
    mount_two_pages(&server, &c1, &c2).await;
    let list = token_forge(&server)
        .change_commits(&change())
        .await
        .unwrap();
    assert_eq!(
        list,
        ChangeCommitList::Complete(vec![HEAD.to_owned(), c2, c1])
    );
}

#[tokio::test]
async fn two_hundred_and_fifty_commits_may_be_cut_so_the_list_is_partial() {
    let server = MockServer::start().await;
    // A series of 300 commits, each on the one before; GitHub lists the first 250.
    let series: Vec<Value> = (0..250)
        .map(|i| {
            let parent = if i == 0 {
                MERGE_BASE.to_owned()
            } else {
                sha(i - 1)
            };
            commit_json(&sha(i), &[&parent], 1 + (i % 28) as u32)
        })
        .collect();
    let uri = server.uri();
    Mock::given(method("GET"))
        .and(path(commits_path()))
        .respond_with(move |request: &Request| {
            let page: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map_or(1, |(_, v)| v.parse().unwrap());
            let items = series.iter().skip((page - 1) * 100).take(100).cloned();
            let mut answer =
                ResponseTemplate::new(200).set_body_json(Value::Array(items.collect()));
            if page < 3 {
                let next = format!(
                    "<{uri}{}?per_page=100&page={}>; rel=\"next\"",
                    commits_path(),
                    page + 1
                );
                answer = answer.insert_header("link", next.as_str());
            }
            answer
        })
        .expect(6) // three pages, twice
        .mount(&server)
        .await;
    let mut pull = change();
    pull.head_sha = sha(299);
    let list = token_forge(&server).change_commits(&pull).await.unwrap();
    let ChangeCommitList::Partial { listed, gap } = list else {
        panic!("a list at the cap is partial: {list:?}");
    };
    assert_eq!(gap, ListGap::Capped);
    assert_eq!(listed.len(), 250);
    // Even when the head is among them, 250 commits may not be all of the change.
    pull.head_sha = sha(249);
    let list = token_forge(&server).change_commits(&pull).await;
    assert!(
        matches!(
            list,
            Ok(ChangeCommitList::Partial {
                gap: ListGap::Capped,
                ..
            })
        ),
        "{list:?}"
    );
}

/// The engine's view of pull request 1347 over `forge`.
fn forge_repo(forge: GitHubForge) -> ForgeRepo {
    let change = change();
    let diff = ChangeSet {
        base: change.merge_base.clone(),
        head: change.head_sha.clone(),
        files: Vec::new(),
    };
    ForgeRepo::new(
        Arc::new(forge) as Arc<dyn Forge>,
        tokio::runtime::Handle::current(),
        change,
        diff,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forge_repo_lists_the_change_s_commits_for_its_own_range_only() {
    let server = MockServer::start().await;
    let (c1, c2) = (sha(1), sha(2));
    mount_two_pages(&server, &c1, &c2).await;
    let repo = forge_repo(token_forge(&server));
    let (listed, other, empty) = tokio::task::spawn_blocking(move || {
        (
            repo.change_commits(MERGE_BASE, HEAD).unwrap(),
            repo.change_commits(BASE, HEAD).unwrap(),
            repo.change_commits(HEAD, HEAD).unwrap(),
        )
    })
    .await
    .unwrap();
    assert_eq!(listed, Some(vec![HEAD.to_owned(), c2, c1]));
    // Another range is not the pull request's: unknown, as before (no request made).
    assert_eq!(other, None);
    assert_eq!(empty, Some(Vec::new()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forge_repo_falls_back_on_a_refusal_and_fails_on_a_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(commits_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found", "documentation_url": "https://docs.github.com/rest"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(commits_path()))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "30")
                .insert_header("x-ratelimit-remaining", "4000")
                .set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                })),
        )
        .mount(&server)
        .await;
    let repo = forge_repo(token_forge(&server));
    let (refused, limited, failure) = tokio::task::spawn_blocking(move || {
        let refused = repo.change_commits(MERGE_BASE, HEAD);
        let limited = repo.change_commits(MERGE_BASE, HEAD);
        (refused, limited, repo.take_failure())
    })
    .await
    .unwrap();
    // Attribution only loses its ancestry: commit dates rank, as without a list.
    assert_eq!(refused.unwrap(), None);
    // A rate limit fails the review, and the job sees the forge's error to wait on.
    assert!(limited.is_err());
    assert!(
        matches!(failure, Some(ForgeError::RateLimited { .. })),
        "{failure:?}"
    );
}
