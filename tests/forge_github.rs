//! End to end on GitHub: a signed `pull_request` webhook (the real payload) goes through the
//! real axum app into the queue; the worker's job reads the pull request, its files, its
//! config, and the workflow run's artifact (a zip of real Bandit SARIF and osv-scanner
//! output) from a wiremock GitHub, and publishes the review. The fake keeps what was posted,
//! so a second delivery sees it and must post nothing new.

mod common;

use common::github::{FakeGitHub, HEAD, REPO, deliver_fixture, harness};

use axum::http::StatusCode;
use serde_json::json;
use wiremock::ResponseTemplate;

use posture::jobs::Runner;

#[tokio::test]
async fn a_pull_request_webhook_ends_as_one_review_a_summary_and_a_check_run() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    let first_check_run_id;

    assert_eq!(
        deliver_fixture(
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
        let model = fake.model();
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
        // The heading is Bandit's message, not its rule's slug; the rule links to its help,
        // the CWE to MITRE, and the flagged line is quoted from the head file.
        assert!(
            text(0).starts_with(
                "#### 🟠 subprocess call with shell=True identified, security issue. · risk "
            ),
            "{}",
            text(0)
        );
        assert!(
            text(0).contains("· [`B602`](https://bandit.readthedocs.io/en/1.8.6/plugins/b602_subprocess_popen_with_shell_equals_true.html) · [CWE-78](https://cwe.mitre.org/data/definitions/78.html) · found by Bandit"),
            "{}",
            text(0)
        );
        assert!(
            text(0).contains("```python\nline_25 = 25\n```"),
            "{}",
            text(0)
        );
        assert!(text(2).contains("[`B608`]("), "{}", text(2));
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
        deliver_fixture(
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
        let model = fake.model();
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
        deliver_fixture(
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
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    deliver_fixture(
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
    assert!(fake.model().reviews_posted.is_empty());

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
    assert_eq!(fake.model().reviews_posted.len(), 1);
    assert!(fake.model().issue_comments.is_empty());

    // The retry finishes the job: the summary once, the review not again.
    assert_eq!(harness.runner.run(&job).await, posture::jobs::Outcome::Done);
    let model = fake.model();
    assert_eq!(model.reviews_posted.len(), 1);
    assert_eq!(model.review_comments.len(), 3);
    assert_eq!(model.issue_comments.len(), 1);
    assert_eq!(model.check_runs.len(), 1);
}

#[tokio::test]
async fn a_comment_the_forge_refuses_is_listed_in_the_summary_and_the_rest_are_posted() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    deliver_fixture(
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
    let model = fake.model();
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
