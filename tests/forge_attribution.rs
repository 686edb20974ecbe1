//! Who introduced a finding when posture reviews through a forge's API, with no clone: the
//! change's commits come from the forge's list ordered by their parents, so a `new`
//! finding's introducing commit is a commit of the change, or none at all, never an older
//! commit whose date happens to be later.
//!
//! The wiremock forges serve the fixtures' change as two commits, `FIRST` then the head,
//! listed head first; blame gives app.py's line 14 (Bandit's B608) to `FIRST`, line 25
//! (B602) to `OLD`, a commit before the change whose commit date is the latest of all, and
//! every other line to the head.

mod common;

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use posture::jobs::Outcome;

const FIRST: &str = "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1";
const OLD: &str = "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d";

/// What a comment says introduced its finding, for commit `sha`.
fn names(sha: &str) -> String {
    format!("Introduced by {}", &sha[..10])
}

const PREDATES: &str = "Introduced by unknown: the flagged lines predate this change";

/// The blamed commit of each app.py line.
fn blamed(line: u64, head: &'static str) -> &'static str {
    match line {
        14 => FIRST,
        25 => OLD,
        _ => head,
    }
}

/// Consecutive lines 1..=`lines` with the same blamed commit: `(first, last, sha)`.
fn ranges(lines: u64, head: &'static str) -> Vec<(u64, u64, &'static str)> {
    let mut out: Vec<(u64, u64, &'static str)> = Vec::new();
    for line in 1..=lines {
        let sha = blamed(line, head);
        match out.last_mut() {
            Some((_, last, s)) if *s == sha => *last = line,
            _ => out.push((line, line, sha)),
        }
    }
    out
}

/// `OLD` was committed last (clock skew, or a rebase of the target branch): by commit date
/// alone it would be the newest.
fn committed(sha: &str) -> &'static str {
    match sha {
        OLD => "2026-12-01T10:00:00Z",
        FIRST => "2026-11-10T10:00:00Z",
        _ => "2026-11-20T10:00:00Z",
    }
}

#[tokio::test]
async fn on_github_a_new_finding_names_a_commit_of_the_pull_request_or_none() {
    use common::github::{BASE, FakeGitHub, HEAD, REPO, deliver_fixture, harness};

    let (server, fake) = FakeGitHub::start().await;
    // GitHub lists a pull request's commits oldest first by date: here head first.
    fake.model().commits = Some(vec![
        (HEAD.to_owned(), vec![FIRST.to_owned()]),
        (FIRST.to_owned(), vec![BASE.to_owned()]),
    ]);
    let graphql: Vec<Value> = ranges(200, HEAD)
        .into_iter()
        .map(|(first, last, sha)| {
            json!({"startingLine": first, "endingLine": last, "age": 1, "commit": {
                "oid": sha, "messageHeadline": format!("commit {}", &sha[..4]),
                "committedDate": committed(sha),
                "author": {"name": "Codertocat", "email": "octocat@github.com", "date": "2026-11-01T10:00:00Z"}}})
        })
        .collect();
    mount_first(
        &server,
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .and(body_string_contains("blame(path:")),
        ResponseTemplate::new(200).set_body_json(json!({"data": {"repository": {"object": {
            "blame": {"ranges": graphql}
        }}}})),
    )
    .await;
    let harness = harness(&server).await;

    deliver_fixture(
        &harness,
        "pull_request",
        "delivery-1",
        "github/pull_request_opened.json",
    )
    .await;
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);

    let (b608, b602, go_mod) = {
        let model = fake.model();
        let comments = model.reviews_posted[0]["comments"].as_array().unwrap();
        let body = |file: &str, line: u64| {
            comments
                .iter()
                .find(|c| c["path"] == file && c["line"] == line)
                .and_then(|c| c["body"].as_str())
                .unwrap_or_else(|| panic!("no comment on {file}:{line}: {comments:#?}"))
                .to_owned()
        };
        (body("app.py", 14), body("app.py", 25), body("go.mod", 5))
    };
    assert_attributed(&b608, &b602, &go_mod, HEAD);
    let listed = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == format!("/repos/{REPO}/pulls/2/commits"))
        .count();
    assert_eq!(listed, 1, "the commits are listed once per review");
}

#[tokio::test]
async fn on_gitlab_a_new_finding_names_a_commit_of_the_merge_request_or_none() {
    use common::gitlab::{BASE, FakeGitLab, HEAD, PROJECT, deliver_fixture, harness};

    let (server, fake) = FakeGitLab::start().await;
    fake.model().commits = Some(vec![
        (HEAD.to_owned(), vec![FIRST.to_owned()]),
        (FIRST.to_owned(), vec![BASE.to_owned()]),
    ]);
    let blame: Vec<Value> = ranges(100, HEAD)
        .into_iter()
        .map(|(first, last, sha)| {
            json!({"commit": {"id": sha, "message": format!("commit {}\n", &sha[..4]),
                              "authored_date": "2026-11-01T10:00:00.000Z",
                              "author_name": "Administrator", "author_email": "admin@example.com",
                              "committed_date": committed(sha)},
                   "lines": (first..=last).map(|n| format!("line_{n} = {n}")).collect::<Vec<_>>()})
        })
        .collect();
    mount_first(
        &server,
        Mock::given(method("GET")).and(path_regex(format!(
            r"^/api/v4/projects/{PROJECT}/repository/files/app\.py/blame$"
        ))),
        ResponseTemplate::new(200).set_body_json(blame),
    )
    .await;
    let harness = harness(&server).await;

    deliver_fixture(&harness, "Pipeline Hook", "uuid-1", "gitlab/pipeline.json").await;
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);

    let model = fake.model();
    let body = |file: &str, line: u64| {
        model.discussion_at(file, line)["notes"][0]["body"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_attributed(
        &body("app.py", 14),
        &body("app.py", 25),
        &body("go.mod", 5),
        HEAD,
    );
}

/// Mounts `mock` ahead of the fake's own answers to the same requests.
async fn mount_first(server: &MockServer, mock: wiremock::MockBuilder, answer: ResponseTemplate) {
    mock.respond_with(answer)
        .with_priority(1)
        .mount(server)
        .await;
}

/// B608 (app.py:14) was introduced by `FIRST`, a commit of the change that is not its head;
/// B602 (app.py:25) sits on a line last touched before the change, so no commit is named,
/// though `OLD`'s commit date is the latest; the go.mod finding is the head's.
fn assert_attributed(b608: &str, b602: &str, go_mod: &str, head: &str) {
    assert!(b608.contains("B608"), "{b608}");
    assert!(b608.contains(&names(FIRST)), "{b608}");
    assert!(b602.contains("B602"), "{b602}");
    assert!(b602.contains(PREDATES), "{b602}");
    assert!(!b602.contains(&OLD[..10]), "{b602}");
    assert!(go_mod.contains(&names(head)), "{go_mod}");
}
