//! End to end on GitLab: a Merge Request Hook and a Pipeline Hook (the real payloads) go
//! through the real axum app into the queue; the job reads the merge request, its diffs, its
//! files and the pipeline's job artifact (a zip of real Bandit SARIF and osv-scanner output)
//! from a wiremock GitLab, and publishes discussions, a summary note and a commit status. The
//! fake keeps what was posted, so a second delivery must post nothing new.

mod common;

use common::gitlab::{FakeGitLab, HEAD, deliver_fixture, harness, position};

use axum::http::StatusCode;
use serde_json::Value;

use posture::jobs::Outcome;

#[tokio::test]
async fn merge_request_and_pipeline_hooks_end_as_discussions_a_summary_note_and_a_status() {
    let (server, fake) = FakeGitLab::start().await;
    let harness = harness(&server).await;

    // The merge request opens before any pipeline ran: nothing to review yet, nothing posted.
    assert_eq!(
        deliver_fixture(
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
    assert!(fake.model().discussions.is_empty());

    // The pipeline finishes: the review is published.
    assert_eq!(
        deliver_fixture(&harness, "Pipeline Hook", "uuid-2", "gitlab/pipeline.json").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
    {
        let model = fake.model();
        let discussions = model.diff_discussions();
        let positions: Vec<Value> = discussions
            .iter()
            .map(|d| d["notes"][0]["position"].clone())
            .collect();
        assert_eq!(
            positions,
            [
                position("app.py", 25),
                position("go.mod", 5),
                position("app.py", 14)
            ]
        );
        let first = discussions[0]["notes"][0]["body"].as_str().unwrap();
        assert!(first.contains("<!-- posture:finding:"), "{first}");
        assert!(
            first.contains("[`B602`](https://bandit.readthedocs.io/")
                && first.contains("· found by Bandit"),
            "{first}"
        );
        let upgrade = discussions[1]["notes"][0]["body"].as_str().unwrap();
        assert!(
            upgrade.contains("```suggestion\nrequire github.com/gogo/protobuf v1.3.2\n```"),
            "{upgrade}"
        );
        assert_eq!(model.notes().len(), 1);
        let summary = model.notes()[0]["body"].as_str().unwrap();
        assert!(summary.starts_with("<!-- posture:summary -->"), "{summary}");
        assert_eq!(model.statuses.len(), 1);
        assert_eq!(model.statuses[0]["state"], "failed");
        assert_eq!(model.statuses[0]["name"], "posture");
        assert_eq!(model.statuses[0]["sha"], HEAD);
    }

    // The pipeline hook again, as a new delivery: nothing new is posted.
    assert_eq!(
        deliver_fixture(&harness, "Pipeline Hook", "uuid-3", "gitlab/pipeline.json").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
    let model = fake.model();
    assert_eq!(model.diff_discussions().len(), 3);
    assert_eq!(model.notes().len(), 1);
    assert!(model.edits.is_empty(), "{:?}", model.edits);
}
