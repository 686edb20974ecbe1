//! Triage from the pull-request conversation and a gate the change cannot switch off, end to
//! end on GitHub: signed `pull_request`, `pull_request_review_comment` and `issue_comment`
//! webhooks (the real payloads) go through the real axum app; the worker's jobs talk to a
//! wiremock GitHub whose model keeps every comment, edit, thread resolution and check run,
//! and who has which role on the repository.

mod common;

use common::forge::Harness;
use common::github::{
    BANDIT, BASE, BOT, FakeGitHub, HEAD, OSV, REPO, deliver, deliver_fixture, harness,
    issue_comment_hook, review_comment_hook, thread_of,
};

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::Value;

use posture::jobs::Outcome;
use posture::model::FindingId;
use posture::store::{self, ProjectId};

/// The fixture's pull request #2 is opened (its head's CI has run) and reviewed.
async fn opened(harness: &Harness) {
    assert_eq!(
        deliver_fixture(
            harness,
            "pull_request",
            "opened-1",
            "github/pull_request_opened.json"
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
}

/// The pull request is reviewed again (a push to it: the `synchronize` payload).
async fn synchronized(harness: &Harness, delivery: &str) {
    assert_eq!(
        deliver_fixture(
            harness,
            "pull_request",
            delivery,
            "github/pull_request_synchronize.json"
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
}

/// `login` replies `text` in the thread review comment `thread` opened; the webhook is
/// delivered and its job run. Returns the reply's id.
async fn say_in_thread(
    fake: &FakeGitHub,
    harness: &Harness,
    login: &str,
    thread: u64,
    text: &str,
) -> u64 {
    let comment = fake.add_reply(login, thread, text);
    let delivery = format!("review-comment-{}", comment["id"]);
    let hook = review_comment_hook(&comment);
    assert_eq!(
        deliver(harness, "pull_request_review_comment", &delivery, hook).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
    comment["id"].as_u64().unwrap()
}

/// `login` writes `text` in the pull request's conversation; the webhook is delivered and
/// its job run.
async fn say(fake: &FakeGitHub, harness: &Harness, login: &str, text: &str) {
    let comment = fake.add_issue_comment(login, text);
    let delivery = format!("issue-comment-{}", comment["id"]);
    assert_eq!(
        deliver(
            harness,
            "issue_comment",
            &delivery,
            issue_comment_hook(&comment)
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
}

/// The finding of a posture comment, and the short id it shows.
fn finding_of(comment: &Value) -> (FindingId, String) {
    let id = posture::report::parse_finding_marker(comment["body"].as_str().unwrap())
        .expect("a finding marker");
    let short = posture::triage::short_id(&id);
    (id, short)
}

fn id_of(comment: &Value) -> u64 {
    comment["id"].as_u64().unwrap()
}

/// posture's `nth` reply (from 0) in the thread `thread` opened, asserting it is its last.
fn reply_in(fake: &FakeGitHub, thread: u64, nth: usize) -> String {
    let model = fake.model();
    let replies: Vec<&Value> = model
        .replies_to(thread)
        .into_iter()
        .filter(|r| r["user"]["login"] == BOT)
        .collect();
    assert_eq!(replies.len(), nth + 1, "{replies:#?}");
    replies[nth]["body"].as_str().unwrap().to_owned()
}

async fn project(harness: &Harness) -> ProjectId {
    harness
        .store
        .find_project(store::Forge::GitHub, REPO)
        .await
        .unwrap()
        .expect("the project")
}

/// The kinds of a finding's events, oldest first.
async fn events(harness: &Harness, finding: &FindingId) -> Vec<String> {
    harness
        .store
        .finding_events(project(harness).await, finding)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind.as_str().to_owned())
        .collect()
}

const B602: (&str, u64) = ("app.py", 25);

#[tokio::test]
async fn a_writers_dismissal_is_applied_answered_shown_resolved_and_not_posted_again() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    fake.set_role("alice", "write");
    opened(&harness).await;
    let (comment, finding, short) = {
        let model = fake.model();
        assert_eq!(model.check_run()["conclusion"], "failure");
        assert_eq!(
            model.check_run()["output"]["title"],
            "1 new finding blocks the merge"
        );
        let comment = model.comment_at(B602.0, B602.1);
        let (finding, short) = finding_of(comment);
        (id_of(comment), finding, short)
    };

    // alice answers posture's comment on B602 in its thread.
    say_in_thread(
        &fake,
        &harness,
        "alice",
        comment,
        "Thanks!\n/posture dismiss false_positive -- test data",
    )
    .await;

    let today = Utc::now().date_naive();
    assert_eq!(
        reply_in(&fake, comment, 0),
        format!("@alice\n\n✅ {short} dismissed as false_positive by @alice")
    );
    {
        let model = fake.model();
        // The comment now opens with the verdict, and keeps its marker.
        let edited: Vec<&(u64, String)> = model
            .edits
            .iter()
            .filter(|(id, _)| *id == comment)
            .collect();
        assert_eq!(edited.len(), 1, "{:#?}", model.edits);
        let body = model.review_comment(comment)["body"].as_str().unwrap();
        assert_eq!(body, edited[0].1);
        assert!(
            body.starts_with(&format!(
                "✅ Dismissed as false_positive by @alice on {today}: test data\n\n#### "
            )),
            "{body}"
        );
        assert!(
            body.contains(&format!("<!-- posture:finding:{} -->", finding.0)),
            "{body}"
        );
        // Its thread is resolved, and no other.
        assert_eq!(model.resolutions, [thread_of(comment)]);
        // The gate no longer counts it; the summary lists it as triaged.
        assert_eq!(model.check_run()["conclusion"], "success");
        assert_eq!(
            model.check_run()["output"]["title"],
            "2 new findings, none blocking"
        );
        let summary = model.summary();
        assert!(summary.contains("Triaged (1)"), "{summary}");
        assert!(
            summary.contains(&format!(
                "{short}: ✅ Dismissed as false_positive by @alice on {today}: test data"
            )),
            "{summary}"
        );
        assert_eq!(model.reviews_posted.len(), 1);
    }
    // Recorded once, with who, why and the comment.
    let recorded = harness
        .store
        .finding_events(project(&harness).await, &finding)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].kind.as_str(), "dismissed");
    assert_eq!(recorded[0].actor.as_deref(), Some("alice"));
    assert_eq!(recorded[0].reason.as_deref(), Some("false_positive"));
    assert_eq!(recorded[0].comment.as_deref(), Some("test data"));
    assert_eq!(recorded[0].pull_request, Some(2));

    // GitHub announces posture's own reply too: a bot's comment is not heard.
    let own = fake.model().replies_to(comment)[1].clone();
    assert_eq!(own["user"]["login"], BOT);
    assert_eq!(
        deliver(
            &harness,
            "pull_request_review_comment",
            "own-reply",
            review_comment_hook(&own)
        )
        .await,
        StatusCode::OK
    );
    assert!(harness.run_jobs().await.is_empty());

    // The next run posts nothing for it: no comment, no edit, no resolution.
    let (edits, comments) = {
        let model = fake.model();
        (model.edits.len(), model.review_comments.len())
    };
    synchronized(&harness, "synchronize-1").await;
    let model = fake.model();
    assert_eq!(model.reviews_posted.len(), 1, "no new review");
    assert_eq!(model.review_comments.len(), comments, "no new comment");
    assert_eq!(model.edits.len(), edits, "{:#?}", &model.edits[edits..]);
    assert_eq!(model.resolutions, [thread_of(comment)]);
    assert_eq!(model.check_run()["conclusion"], "success");
}

#[tokio::test]
async fn a_read_only_users_command_is_refused_with_the_permission_it_needs() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    fake.set_role("bob", "read");
    fake.set_role("tim", "triage");
    opened(&harness).await;
    let (comment, short) = {
        let model = fake.model();
        let comment = model.comment_at(B602.0, B602.1);
        (id_of(comment), finding_of(comment).1)
    };
    let (edits, check_runs) = {
        let model = fake.model();
        (model.edits.len(), model.check_runs.clone())
    };

    // In the conversation, by id; in the thread, without one; by someone GitHub does not
    // know as a collaborator.
    say(
        &fake,
        &harness,
        "bob",
        &format!("/posture dismiss wont_fix {short}"),
    )
    .await;
    say_in_thread(
        &fake,
        &harness,
        "tim",
        comment,
        "/posture accept --until 2099-01-01",
    )
    .await;
    say(
        &fake,
        &harness,
        "mallory",
        &format!("/posture dismiss false_positive {short}"),
    )
    .await;

    assert_eq!(
        fake.model().conversation_replies(),
        [
            format!(
                "@bob\n\n❌ `/posture dismiss`: needs write permission on {REPO}; @bob has read"
            ),
            format!(
                "@mallory\n\n❌ `/posture dismiss`: needs write permission on {REPO}; @mallory has none"
            ),
        ]
    );
    assert_eq!(
        reply_in(&fake, comment, 0),
        format!("@tim\n\n❌ `/posture accept`: needs write permission on {REPO}; @tim has triage")
    );
    // Nothing recorded, nothing edited or resolved, the gate as it was.
    let decisions = harness
        .store
        .triage_decisions(project(&harness).await)
        .await
        .unwrap();
    assert!(decisions.is_empty(), "{decisions:?}");
    let model = fake.model();
    assert_eq!(model.edits.len(), edits);
    assert!(model.resolutions.is_empty());
    assert_eq!(model.check_runs, check_runs);
    assert_eq!(model.check_run()["conclusion"], "failure");
}

#[tokio::test]
async fn a_second_person_must_approve_when_configured_and_the_requester_cannot() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    // The policy is the target branch's.
    fake.set_config(BASE, "triage:\n  require_approval: [dismiss]\n");
    fake.set_role("alice", "write");
    fake.set_role("bob", "read");
    fake.set_role("carol", "maintain");
    opened(&harness).await;
    let (comment, finding, short) = {
        let model = fake.model();
        let comment = model.comment_at(B602.0, B602.1);
        let (finding, short) = finding_of(comment);
        (id_of(comment), finding, short)
    };
    let today = Utc::now().date_naive();

    say_in_thread(
        &fake,
        &harness,
        "alice",
        comment,
        "/posture dismiss used_in_tests",
    )
    .await;
    assert_eq!(
        reply_in(&fake, comment, 0),
        format!(
            "@alice\n\n⏳ {short}: @alice asks for it to be dismissed as used_in_tests; a second person allowed to triage must `/posture approve {short}` (or `/posture reject {short}`)"
        )
    );
    {
        let model = fake.model();
        let body = model.review_comment(comment)["body"].as_str().unwrap();
        assert!(
            body.starts_with(&format!(
                "⏳ Dismissal as used_in_tests requested by @alice on {today}, waiting for a second person's approval\n\n#### "
            )),
            "{body}"
        );
        assert!(model.resolutions.is_empty(), "a request resolves nothing");
        assert_eq!(
            model.check_run()["conclusion"],
            "failure",
            "pending still blocks"
        );
        assert_eq!(
            model.check_run()["output"]["title"],
            "1 new finding blocks the merge"
        );
    }

    // The requester cannot approve, nor can a reader.
    say_in_thread(
        &fake,
        &harness,
        "alice",
        comment,
        &format!("/posture approve {short}"),
    )
    .await;
    assert_eq!(
        reply_in(&fake, comment, 1),
        format!(
            "@alice\n\n❌ {short}: nobody approves or rejects their own request; another person allowed to triage must"
        )
    );
    say(&fake, &harness, "bob", &format!("/posture approve {short}")).await;
    assert_eq!(
        fake.model().conversation_replies(),
        [format!(
            "@bob\n\n❌ `/posture approve`: needs write permission on {REPO}; @bob has read"
        )]
    );
    assert_eq!(events(&harness, &finding).await, ["pending"]);
    assert_eq!(fake.model().check_run()["conclusion"], "failure");

    // A second person who may write approves: the dismissal applies.
    say_in_thread(&fake, &harness, "carol", comment, "/posture approve").await;
    assert_eq!(
        reply_in(&fake, comment, 2),
        format!("@carol\n\n✅ {short} dismissed as used_in_tests by @alice, approved by @carol")
    );
    assert_eq!(events(&harness, &finding).await, ["pending", "approved"]);
    let model = fake.model();
    let body = model.review_comment(comment)["body"].as_str().unwrap();
    assert!(
        body.starts_with(&format!(
            "✅ Dismissed as used_in_tests by @alice on {today}\n\n#### "
        )),
        "{body}"
    );
    assert_eq!(model.resolutions, [thread_of(comment)]);
    assert_eq!(model.check_run()["conclusion"], "success");
}

#[tokio::test]
async fn an_expired_acceptance_comes_back_commented_and_blocking() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    fake.set_role("alice", "admin");
    opened(&harness).await;
    let (comment, finding, short) = {
        let model = fake.model();
        let comment = model.comment_at(B602.0, B602.1);
        let (finding, short) = finding_of(comment);
        (id_of(comment), finding, short)
    };
    let original = fake.model().review_comment(comment)["body"].clone();
    let until = Utc::now().date_naive() + Duration::days(7);

    say(
        &fake,
        &harness,
        "alice",
        &format!("/posture accept --until {until} {short} -- fixed upstream next week"),
    )
    .await;
    assert_eq!(
        fake.model().conversation_replies(),
        [format!(
            "@alice\n\n✅ {short} accepted until {until} by @alice"
        )]
    );
    {
        let model = fake.model();
        let body = model.review_comment(comment)["body"].as_str().unwrap();
        assert!(
            body.starts_with(&format!("✅ Accepted until {until} by @alice on ")),
            "{body}"
        );
        assert_eq!(model.resolutions, [thread_of(comment)]);
        assert_eq!(model.check_run()["conclusion"], "success");
    }

    // Still accepted on its last day; the day after, it comes back.
    assert_eq!(
        posture::jobs::expire_acceptances(&harness.store, until)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        posture::jobs::expire_acceptances(&harness.store, until + Duration::days(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        events(&harness, &finding).await,
        ["accepted", "acceptance_expired"]
    );
    let reviews = fake.model().reviews_posted.len();
    synchronized(&harness, "synchronize-1").await;

    let model = fake.model();
    // Its comment is the finding's again, as first posted, and it blocks the merge.
    assert_eq!(model.review_comment(comment)["body"], original);
    assert_eq!(model.reviews_posted.len(), reviews, "the comment is reused");
    assert_eq!(model.check_run()["conclusion"], "failure");
    assert_eq!(
        model.check_run()["output"]["title"],
        "1 new finding blocks the merge"
    );
    let summary = model.summary();
    assert!(!summary.contains("Triaged ("), "{summary}");
}

#[tokio::test]
async fn comments_by_someone_else_carrying_posture_markers_are_never_posture_s() {
    // What posture writes for this pull request, learnt from a first GitHub.
    let (copied, summary) = {
        let (server, fake) = FakeGitHub::start().await;
        let harness = harness(&server).await;
        opened(&harness).await;
        let model = fake.model();
        let comment = model.comment_at(B602.0, B602.1);
        (comment.clone(), model.summary().to_owned())
    };
    let (finding, short) = finding_of(&copied);

    // mallory, who may not write, posts the same bodies first: the markers, the summary's.
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    fake.set_role("alice", "write");
    let squatted = fake.add_review_comment("mallory", B602, copied["body"].as_str().unwrap());
    let fake_summary = fake.add_issue_comment("mallory", &summary);
    let theirs = [id_of(&squatted), id_of(&fake_summary)];

    opened(&harness).await;
    {
        let model = fake.model();
        // posture posts its own comment for every finding, B602 included, and its own
        // summary; it edits none of mallory's.
        assert_eq!(model.reviews_posted.len(), 1);
        assert_eq!(
            model.reviews_posted[0]["comments"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let own = model.comment_at(B602.0, B602.1);
        assert_ne!(id_of(own), theirs[0]);
        assert_eq!(finding_of(own).0, finding);
        let summary = model
            .issue_comments
            .iter()
            .find(|c| c["user"]["login"] == BOT)
            .expect("posture's summary");
        assert_eq!(summary["body"], model.summary());
        assert_ne!(id_of(summary), theirs[1]);
        assert!(model.edits.is_empty(), "{:#?}", model.edits);
    }
    let own = id_of(fake.model().comment_at(B602.0, B602.1));

    // A command in mallory's thread names no finding of posture's.
    say_in_thread(
        &fake,
        &harness,
        "alice",
        theirs[0],
        "/posture dismiss false_positive",
    )
    .await;
    assert_eq!(
        reply_in(&fake, theirs[0], 0),
        "@alice\n\n❌ `/posture dismiss`: name the finding: reply to posture's comment on it, or give its id (`P-3f9a1c`)"
    );
    assert!(
        harness
            .store
            .triage_decisions(project(&harness).await)
            .await
            .unwrap()
            .is_empty()
    );

    // In posture's own thread it applies: only posture's comment, thread and summary change.
    say_in_thread(
        &fake,
        &harness,
        "alice",
        own,
        "/posture dismiss false_positive",
    )
    .await;
    assert_eq!(
        reply_in(&fake, own, 0),
        format!("@alice\n\n✅ {short} dismissed as false_positive by @alice")
    );
    synchronized(&harness, "synchronize-1").await;
    let model = fake.model();
    let edited: Vec<u64> = model.edits.iter().map(|(id, _)| *id).collect();
    assert!(edited.contains(&own), "{edited:?}");
    assert!(
        !edited.iter().any(|id| theirs.contains(id)),
        "{edited:?} touches mallory's {theirs:?}"
    );
    assert_eq!(model.review_comment(theirs[0])["body"], copied["body"]);
    assert_eq!(model.resolutions, [thread_of(own)]);
    assert!(!model.resolved.contains(&thread_of(theirs[0])));
    assert!(model.summary().contains("Triaged (1)"));
    let fake_summary_now = model
        .issue_comments
        .iter()
        .find(|c| c["id"] == theirs[1])
        .unwrap();
    assert_eq!(fake_summary_now["body"], summary.as_str());
}

#[tokio::test]
async fn a_pull_request_that_ignores_everything_still_fails_its_gate_and_shows_the_change() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    // The target branch has no `.posture.yml`; the pull request adds one that ignores all.
    fake.set_config(HEAD, "ignore: [{path: \"**\"}]\n");
    opened(&harness).await;
    {
        let model = fake.model();
        assert_eq!(model.check_run()["conclusion"], "failure");
        assert_eq!(
            model.check_run()["output"]["title"],
            "1 new finding blocks the merge"
        );
        // Every new finding in the diff is still commented on; none is ignored.
        assert_eq!(model.posture_comments().len(), 3);
        let summary = model.summary();
        assert!(
            summary.contains(
                "Merge gate **failed**: 1 new finding at or above **high**.\n\n| | critical | high | medium | low | info |\n|---|---:|---:|---:|---:|---:|\n| **new** | 0 | 1 | 2 | 0 | 0 |"
            ),
            "{summary}"
        );
        assert!(
            summary.contains(
                "### Configuration change\nThis change edits `.posture.yml`. Its settings take effect after merge: this review applied the target branch's config.\n\n- ⚠️ loosens the gate · `ignore`: new ignore rule path `**`\n"
            ),
            "{summary}"
        );
        assert!(!summary.contains("Ignored by .posture.yml"), "{summary}");
        // The check run's text says it too.
        let text = model.check_run()["output"]["summary"].as_str().unwrap();
        assert!(
            text.contains("- ⚠️ loosens the gate · `ignore`: new ignore rule path `**`"),
            "{text}"
        );
    }

    // The same rule on the target branch is policy: then it ignores everything.
    fake.set_config(BASE, "ignore: [{path: \"**\"}]\n");
    synchronized(&harness, "synchronize-1").await;
    let model = fake.model();
    assert_eq!(model.check_run()["conclusion"], "success");
    assert_eq!(model.check_run()["output"]["title"], "No new findings");
    let summary = model.summary();
    assert!(!summary.contains("### Configuration change"), "{summary}");
    assert!(summary.contains("Ignored by .posture.yml"), "{summary}");
}

#[tokio::test]
async fn a_scanner_missing_at_head_leaves_its_findings_not_scanned_and_the_gate_incomplete() {
    let (server, fake) = FakeGitHub::start().await;
    let harness = harness(&server).await;
    // The merge-base's CI ran Bandit and osv-scanner; the head's only osv-scanner, and the
    // pull request would let a missing report pass.
    fake.set_ci(BASE, &[BANDIT, OSV]);
    fake.set_ci(HEAD, &[OSV]);
    fake.set_config(HEAD, "gate:\n  on_missing_report: pass\n");
    opened(&harness).await;
    {
        let model = fake.model();
        let run = model.check_run();
        assert_eq!(run["conclusion"], "failure", "{run:#}");
        assert_eq!(
            run["output"]["title"],
            "Incomplete: no report from Bandit on one side"
        );
        let summary = model.summary();
        // Bandit's seven findings at the merge-base are not_scanned: neither fixed nor new.
        for expected in [
            "## ⚠️ posture: no new findings\n\nMerge gate ⚠️ incomplete: no report from Bandit at head",
            "| **new** | 0 | 0 | 0 | 0 | 0 |",
            "| **fixed** | 0 | 0 | 0 | 0 | 0 |",
            "| **not scanned** | 0 | 3 | 2 | 2 | 0 |",
            "### Not scanned\nNo report from Bandit at head: 7 findings of this tool could not be compared with the baseline, so they are neither new nor fixed.",
            "<summary>Findings not scanned (7)</summary>",
            "`app.py:25` · B602 · Bandit",
            "- ⚠️ loosens the gate · `gate.on_missing_report`: fail → pass: a scanner that did not report would no longer hold the gate",
        ] {
            assert!(summary.contains(expected), "{expected:?} not in {summary}");
        }
        assert!(!summary.contains("Fixed by this change"), "{summary}");
        assert!(model.posture_comments().is_empty());
    }

    // Once the target branch says so, a missing report passes.
    fake.set_config(BASE, "gate:\n  on_missing_report: pass\n");
    synchronized(&harness, "synchronize-1").await;
    let model = fake.model();
    assert_eq!(model.check_run()["conclusion"], "success");
    assert_eq!(model.check_run()["output"]["title"], "No new findings");
    assert!(model.summary().contains("### Not scanned"));
}
