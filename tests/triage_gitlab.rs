//! End to end on GitLab: triage from the merge request's conversation, and a gate the change
//! cannot switch off. Note Hooks in the real payload's shape (a reply in posture's
//! discussion carries its `discussion_id`) and Pipeline Hooks go through the real app; the
//! command job asks the wiremock GitLab who the author is in the project, answers in the
//! thread, and reviews again: the finding's note shows the verdict, its discussion is
//! resolved, and the summary and the commit status are recomputed.
//!
//! The scenario is merge request !1 of `tests/common/gitlab.rs`: Bandit and osv-scanner at
//! head find three new findings on added lines, one of them (B602 at `app.py:25`, high)
//! blocks the merge under the default `fail_on: high`.

mod common;

use chrono::{Days, NaiveDate, Utc};
use common::forge::Harness;
use common::gitlab::{
    BANDIT, BASE, FakeGitLab, HEAD, OSV, POSTURE, PROJECT_PATH, User, deliver, deliver_fixture,
    harness, note_hook,
};
use serde_json::{Value, json};
use wiremock::MockServer;

use posture::jobs::{Outcome, expire_acceptances};
use posture::model::FindingId;
use posture::report::parse_finding_marker;
use posture::store::{Forge, Store};
use posture::triage::short_id;

const DEV: User = User {
    id: 7,
    username: "dev",
};
const ALICE: User = User {
    id: 8,
    username: "alice",
};
const BOB: User = User {
    id: 9,
    username: "bob",
};
const REPORTER: User = User {
    id: 10,
    username: "reporter",
};
const OUTSIDER: User = User {
    id: 11,
    username: "outsider",
};
const MALLORY: User = User {
    id: 66,
    username: "mallory",
};

/// GitLab's access levels.
const REPORTER_LEVEL: u64 = 20;
const DEVELOPER_LEVEL: u64 = 30;
const MAINTAINER_LEVEL: u64 = 40;

/// The blocking finding's headline in its comment and in the summary.
const B602: &str =
    "#### 🟠 subprocess call with shell=True identified, security issue. · risk 80/100 · ";
/// The commit status's description while B602 blocks the merge, and once nothing does.
const BLOCKED: &str = "1 new finding blocks the merge";
const UNBLOCKED: &str = "2 new findings, none blocking";

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The fake with its members, the app, and the merge request reviewed once (after its
/// pipeline), with the policy `base_config` on the target branch.
async fn reviewed(base_config: Option<&str>) -> (MockServer, FakeGitLab, Harness) {
    let (server, fake) = FakeGitLab::start().await;
    if let Some(config) = base_config {
        fake.set_config(BASE, config);
    }
    fake.set_member(DEV, DEVELOPER_LEVEL);
    fake.set_member(ALICE, DEVELOPER_LEVEL);
    fake.set_member(BOB, MAINTAINER_LEVEL);
    fake.set_member(REPORTER, REPORTER_LEVEL);
    fake.set_member(MALLORY, DEVELOPER_LEVEL);
    let harness = harness(&server).await;
    pipeline(&harness, "pipeline-1").await;
    {
        let model = fake.model();
        assert_eq!(model.diff_discussions().len(), 3);
        assert_eq!(model.status()["state"], "failed");
        assert_eq!(model.status()["description"], BLOCKED);
    }
    (server, fake, harness)
}

/// A Pipeline Hook for the head, run to its end.
async fn pipeline(harness: &Harness, uuid: &str) {
    assert_eq!(
        deliver_fixture(harness, "Pipeline Hook", uuid, "gitlab/pipeline.json").await,
        202
    );
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
}

/// posture's discussion on `app.py:25` (the blocking B602): its id, the finding's id and
/// its short id.
fn blocking_thread(fake: &FakeGitLab) -> (String, FindingId, String) {
    let model = fake.model();
    let discussion = model.discussion_at("app.py", 25);
    let body = discussion["notes"][0]["body"].as_str().unwrap();
    assert!(body.starts_with(B602), "{body}");
    let id = parse_finding_marker(body).unwrap();
    let short = short_id(&id);
    (discussion["id"].as_str().unwrap().to_owned(), id, short)
}

/// `author` writes `text` (in `thread`, or on the merge request), GitLab sends the Note
/// Hook, and the command job runs; returns posture's answer in the same discussion.
async fn command(
    harness: &Harness,
    fake: &FakeGitLab,
    author: User,
    thread: Option<&str>,
    text: &str,
    uuid: &str,
) -> String {
    let (note, discussion) = fake.add_note(author, thread, text);
    let hook = note_hook(note, &discussion, author, text);
    assert_eq!(deliver(harness, "Note Hook", uuid, hook).await, 202);
    assert_eq!(harness.run_jobs().await, [Outcome::Done]);
    let model = fake.model();
    let notes = model.discussion(&discussion)["notes"].as_array().unwrap();
    let at = notes.iter().position(|n| n["id"] == note).unwrap();
    let answers: Vec<&str> = notes[at + 1..]
        .iter()
        .filter(|n| n["author"]["username"] == POSTURE.username)
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(answers.len(), 1, "one answer in the thread: {answers:#?}");
    answers[0].to_owned()
}

/// The first note's body of discussion `id`.
fn first_body(fake: &FakeGitLab, id: &str) -> String {
    fake.model().discussion(id)["notes"][0]["body"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Whether every resolvable note of discussion `id` is resolved.
fn resolved(fake: &FakeGitLab, id: &str) -> bool {
    let model = fake.model();
    let notes = model.discussion(id)["notes"].as_array().unwrap();
    notes.iter().all(|n| n["resolved"] == true)
}

/// The finding's event log: `(kind, actor, reason)` per event.
async fn events(
    store: &Store,
    finding: &FindingId,
) -> Vec<(String, Option<String>, Option<String>)> {
    let project = store
        .find_project(Forge::GitLab, PROJECT_PATH)
        .await
        .unwrap()
        .unwrap();
    store
        .finding_events(project, finding)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind.as_str().to_owned(), e.actor, e.reason))
        .collect()
}

fn owned(
    kind: &str,
    actor: Option<&str>,
    reason: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (kind.into(), actor.map(Into::into), reason.map(Into::into))
}

#[tokio::test]
async fn a_writers_dismissal_is_recorded_answered_shown_resolved_and_never_posted_again() {
    let (_server, fake, harness) = reviewed(None).await;
    let (thread, id, short) = blocking_thread(&fake);
    let before = first_body(&fake, &thread);
    let others: Vec<Value> = fake
        .model()
        .diff_discussions()
        .into_iter()
        .filter(|d| d["id"] != thread.as_str())
        .cloned()
        .collect();

    let answer = command(
        &harness,
        &fake,
        DEV,
        Some(&thread),
        "Thanks!\n/posture dismiss false_positive -- the command is a constant",
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        format!("@dev\n\n✅ {short} dismissed as false_positive by @dev")
    );

    // The finding's note is edited to show the verdict above what it said, and its
    // discussion resolved.
    let edited = first_body(&fake, &thread);
    assert_eq!(
        edited,
        format!(
            "✅ Dismissed as false_positive by @dev on {}: the command is a constant\n\n{before}",
            today()
        )
    );
    assert!(resolved(&fake, &thread));
    {
        let model = fake.model();
        assert_eq!(model.resolutions, std::slice::from_ref(&thread));
        // The other findings' threads are untouched.
        let now: Vec<&Value> = model
            .diff_discussions()
            .into_iter()
            .filter(|d| d["id"] != thread.as_str())
            .collect();
        assert_eq!(now, others.iter().collect::<Vec<_>>());
        // The gate no longer counts it: nothing else blocks.
        assert_eq!(model.status()["state"], "success");
        assert_eq!(model.status()["description"], UNBLOCKED);
        assert_eq!(model.status()["sha"], HEAD);
        let summary = model.summary();
        assert!(
            summary.contains("## ✅ posture: 2 new findings\n"),
            "{summary}"
        );
        assert!(
            summary.contains(&format!(
                "<details><summary>Triaged (1)</summary>\n\n- 🟠 **subprocess call with shell=True identified, security issue.** · `app.py:25` · {short}: ✅ Dismissed as false_positive by @dev on {}: the command is a constant\n",
                today()
            )),
            "{summary}"
        );
        assert!(!summary.contains(B602), "{summary}");
    }
    assert_eq!(
        events(&harness.store, &id).await,
        [owned("dismissed", Some("dev"), Some("false_positive"))]
    );

    // The next run (a new pipeline) posts nothing for it: no discussion, no reply, no edit,
    // no resolution.
    let (discussions, edits, resolutions) = {
        let model = fake.model();
        (
            model.discussions.clone(),
            model.edits.len(),
            model.resolutions.len(),
        )
    };
    pipeline(&harness, "pipeline-2").await;
    {
        let model = fake.model();
        assert_eq!(model.discussions, discussions);
        assert_eq!(model.edits.len(), edits);
        assert_eq!(model.resolutions.len(), resolutions);
        assert_eq!(model.status()["state"], "success");
        assert_eq!(model.status()["description"], UNBLOCKED);
    }

    // GitLab retrying the same Note Hook (same event UUID) records and answers nothing.
    let note = fake.model().discussion(&thread)["notes"][1]["id"]
        .as_u64()
        .unwrap();
    let hook = note_hook(
        note,
        &thread,
        DEV,
        "Thanks!\n/posture dismiss false_positive -- the command is a constant",
    );
    assert_eq!(deliver(&harness, "Note Hook", "note-1", hook).await, 200);
    assert!(harness.run_jobs().await.is_empty());
    assert_eq!(fake.model().discussions, discussions);
    assert_eq!(events(&harness.store, &id).await.len(), 1);
}

#[tokio::test]
async fn a_read_only_users_command_is_refused_with_the_permission_it_needs() {
    let (_server, fake, harness) = reviewed(None).await;
    let (thread, id, short) = blocking_thread(&fake);
    let before = first_body(&fake, &thread);
    let statuses = fake.model().statuses.len();

    let answer = command(
        &harness,
        &fake,
        REPORTER,
        Some(&thread),
        "/posture dismiss false_positive",
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        format!(
            "@reporter\n\n❌ `/posture dismiss`: needs write permission on {PROJECT_PATH}; @reporter has read"
        )
    );
    // Someone who is no member at all (GitLab answers 404), by short id on the merge request.
    let answer = command(
        &harness,
        &fake,
        OUTSIDER,
        None,
        &format!("/posture accept {short} --until {}", today()),
        "note-2",
    )
    .await;
    assert_eq!(
        answer,
        format!(
            "@outsider\n\n❌ `/posture accept`: needs write permission on {PROJECT_PATH}; @outsider has none"
        )
    );

    // Nothing was decided, nothing published again.
    assert!(events(&harness.store, &id).await.is_empty());
    assert_eq!(first_body(&fake, &thread), before);
    assert!(!resolved(&fake, &thread));
    let model = fake.model();
    assert!(model.edits.is_empty(), "{:?}", model.edits);
    assert!(model.resolutions.is_empty());
    assert_eq!(model.statuses.len(), statuses);
    assert_eq!(model.status()["state"], "failed");
}

#[tokio::test]
async fn maintainers_only_comes_from_the_target_branch_not_from_the_change() {
    let (_server, fake, harness) =
        reviewed(Some("version: 1\ntriage:\n  allow: [maintainers]\n")).await;
    // The change tries to let writers triage again.
    fake.set_config(HEAD, "version: 1\ntriage:\n  allow: [writers]\n");
    let (thread, id, short) = blocking_thread(&fake);

    let answer = command(
        &harness,
        &fake,
        DEV,
        Some(&thread),
        "/posture dismiss false_positive",
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        format!(
            "@dev\n\n❌ `/posture dismiss`: needs maintain permission on {PROJECT_PATH} (the target branch's `.posture.yml` sets `triage.allow: [maintainers]`); @dev has write"
        )
    );
    assert!(events(&harness.store, &id).await.is_empty());

    let answer = command(
        &harness,
        &fake,
        BOB,
        Some(&thread),
        "/posture dismiss false_positive",
        "note-2",
    )
    .await;
    assert_eq!(
        answer,
        format!("@bob\n\n✅ {short} dismissed as false_positive by @bob")
    );
    assert!(resolved(&fake, &thread));
}

#[tokio::test]
async fn a_second_person_must_approve_and_the_requester_cannot() {
    let (_server, fake, harness) =
        reviewed(Some("version: 1\ntriage:\n  require_approval: [accept]\n")).await;
    let (thread, id, short) = blocking_thread(&fake);
    let before = first_body(&fake, &thread);
    let until = today().checked_add_days(Days::new(30)).unwrap();

    // The request waits: the finding still blocks, its thread stays open.
    let answer = command(
        &harness,
        &fake,
        ALICE,
        Some(&thread),
        &format!("/posture accept --until {until} -- the fix ships with the next release"),
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        format!(
            "@alice\n\n⏳ {short}: @alice asks for it to be accepted until {until}; a second person allowed to triage must `/posture approve {short}` (or `/posture reject {short}`)"
        )
    );
    assert_eq!(
        first_body(&fake, &thread),
        format!(
            "⏳ Acceptance until {until} requested by @alice on {}, waiting for a second person's approval: the fix ships with the next release\n\n{before}",
            today()
        )
    );
    assert!(!resolved(&fake, &thread));
    {
        let model = fake.model();
        assert!(model.resolutions.is_empty());
        assert_eq!(model.status()["state"], "failed");
        assert_eq!(model.status()["description"], BLOCKED);
    }

    // The requester cannot approve their own request.
    let answer = command(
        &harness,
        &fake,
        ALICE,
        None,
        &format!("/posture approve {short}"),
        "note-2",
    )
    .await;
    assert_eq!(
        answer,
        format!(
            "@alice\n\n❌ {short}: nobody approves or rejects their own request; another person allowed to triage must"
        )
    );
    assert!(!resolved(&fake, &thread));
    assert_eq!(fake.model().status()["state"], "failed");

    // A second person approves, from the merge request's conversation.
    let answer = command(
        &harness,
        &fake,
        BOB,
        None,
        &format!("/posture approve {short}"),
        "note-3",
    )
    .await;
    assert_eq!(
        answer,
        format!("@bob\n\n✅ {short} accepted until {until} by @alice, approved by @bob")
    );
    assert_eq!(
        first_body(&fake, &thread),
        format!(
            "✅ Accepted until {until} by @alice on {}: the fix ships with the next release\n\n{before}",
            today()
        )
    );
    assert!(resolved(&fake, &thread));
    {
        let model = fake.model();
        assert_eq!(model.resolutions, std::slice::from_ref(&thread));
        assert_eq!(model.status()["state"], "success");
        assert_eq!(model.status()["description"], UNBLOCKED);
    }
    assert_eq!(
        events(&harness.store, &id).await,
        [
            owned("pending", Some("alice"), Some("accepted_risk")),
            owned("approved", Some("bob"), Some("accepted_risk")),
        ]
    );
}

#[tokio::test]
async fn an_expired_acceptance_comes_back() {
    let (_server, fake, harness) = reviewed(None).await;
    let (thread, id, short) = blocking_thread(&fake);
    let before = first_body(&fake, &thread);
    let until = today();

    let answer = command(
        &harness,
        &fake,
        DEV,
        Some(&thread),
        &format!("/posture accept --until {until}"),
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        format!("@dev\n\n✅ {short} accepted until {until} by @dev")
    );
    assert_eq!(
        first_body(&fake, &thread),
        format!(
            "✅ Accepted until {until} by @dev on {}\n\n{before}",
            today()
        )
    );
    assert!(resolved(&fake, &thread));
    assert_eq!(fake.model().status()["state"], "success");

    // The day after its last day, the expiry reopens it.
    let after = until.checked_add_days(Days::new(1)).unwrap();
    assert_eq!(expire_acceptances(&harness.store, after).await.unwrap(), 1);
    assert_eq!(expire_acceptances(&harness.store, after).await.unwrap(), 0);
    assert_eq!(
        events(&harness.store, &id).await,
        [
            owned("accepted", Some("dev"), Some("accepted_risk")),
            owned("acceptance_expired", None, Some("accepted_risk")),
        ]
    );

    // The next review reports it again: its comment as first posted, blocking. (Its
    // discussion, resolved by the acceptance, is not reopened: no forge call does that yet.)
    let discussions = fake.model().diff_discussions().len();
    pipeline(&harness, "pipeline-2").await;
    assert_eq!(first_body(&fake, &thread), before);
    let model = fake.model();
    assert_eq!(model.diff_discussions().len(), discussions);
    assert_eq!(model.status()["state"], "failed");
    assert_eq!(model.status()["description"], BLOCKED);
    let summary = model.summary();
    assert!(
        summary.contains(&format!("### New in this change\n{B602}{short}\n")),
        "{summary}"
    );
    assert!(!summary.contains("Triaged"), "{summary}");
}

#[tokio::test]
async fn notes_by_another_user_carrying_postures_markers_are_never_posture_s() {
    let (server, fake) = FakeGitLab::start().await;
    fake.set_member(DEV, DEVELOPER_LEVEL);
    fake.set_member(MALLORY, DEVELOPER_LEVEL);
    // Before posture ever ran, someone wrote a note with its summary marker.
    let (forged_summary, _) = fake.add_note(
        MALLORY,
        None,
        "<!-- posture:summary -->\n## ✅ posture: no new findings",
    );
    let harness = harness(&server).await;
    pipeline(&harness, "pipeline-1").await;
    let (thread, _id, short) = blocking_thread(&fake);
    let posture_note = first_body(&fake, &thread);

    // Then they copy posture's comment, marker and all, into a discussion of their own on
    // the same line, and claim in posture's thread that it was fixed.
    let copy = fake.add_diff_discussion(MALLORY, "app.py", 25, &posture_note);
    let fixed_claim = format!(
        "Fixed in {HEAD}. <!-- posture:fixed:{} -->",
        parse_finding_marker(&posture_note).unwrap()
    );
    fake.add_note(MALLORY, Some(&thread), &fixed_claim);
    {
        let model = fake.model();
        assert_eq!(
            model.summary().lines().nth(1),
            Some("## ❌ posture: 3 new findings")
        );
    }

    // A command in their thread names no finding of posture's.
    let answer = command(
        &harness,
        &fake,
        DEV,
        Some(&copy),
        "/posture dismiss false_positive",
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        "@dev\n\n❌ `/posture dismiss`: name the finding: reply to posture's comment on it, or give its id (`P-3f9a1c`)"
    );

    // A dismissal in posture's thread edits and resolves posture's note, not theirs.
    let answer = command(
        &harness,
        &fake,
        DEV,
        Some(&thread),
        "/posture dismiss false_positive",
        "note-2",
    )
    .await;
    assert_eq!(
        answer,
        format!("@dev\n\n✅ {short} dismissed as false_positive by @dev")
    );
    assert!(
        first_body(&fake, &thread).starts_with("✅ Dismissed as false_positive by @dev on "),
        "{}",
        first_body(&fake, &thread)
    );
    assert!(resolved(&fake, &thread));
    let model = fake.model();
    assert_eq!(model.resolutions, std::slice::from_ref(&thread));
    assert_eq!(
        model.discussion(&copy)["notes"][0]["body"],
        posture_note.as_str()
    );
    assert!(
        model.discussion(&copy)["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["resolved"] == false)
    );
    let forged = &model.notes()[0];
    assert_eq!(forged["id"], forged_summary);
    assert_eq!(
        forged["body"],
        "<!-- posture:summary -->\n## ✅ posture: no new findings"
    );
    // Every edit posture made was of its own notes.
    let mallorys: Vec<u64> = model
        .discussions
        .iter()
        .flat_map(|d| d["notes"].as_array().unwrap())
        .filter(|n| n["author"]["username"] == MALLORY.username)
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert!(
        model.edits.iter().all(|id| !mallorys.contains(id)),
        "edits {:?} of mallory's {mallorys:?}",
        model.edits
    );
    assert!(!model.edits.is_empty());
    assert_eq!(model.status()["state"], "success");
}

#[tokio::test]
async fn a_change_that_ignores_everything_still_fails_its_gate_and_the_summary_says_so() {
    let (server, fake) = FakeGitLab::start().await;
    // The target branch has no `.posture.yml`; the change adds one that ignores every path.
    fake.set_config(
        HEAD,
        "version: 1\nignore:\n  - path: \"**\"\n    reason: scanners are noisy\n",
    );
    let harness = harness(&server).await;
    pipeline(&harness, "pipeline-1").await;

    let model = fake.model();
    assert_eq!(model.diff_discussions().len(), 3);
    assert_eq!(model.status()["state"], "failed");
    assert_eq!(model.status()["description"], BLOCKED);
    let summary = model.summary();
    assert!(
        summary.contains("## ❌ posture: 3 new findings\n"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "\n### Configuration change\nThis change edits `.posture.yml`. Its settings take effect after merge: this review applied the target branch's config.\n\n- ⚠️ loosens the gate · `ignore`: new ignore rule path `**`"
        ),
        "{summary}"
    );
    assert!(!summary.contains("Ignored by .posture.yml"), "{summary}");
}

/// Bandit's SARIF of the merge-base: the head's report without the findings on the lines
/// the change added (`app.py` 10–30), and the lines after them 21 higher.
fn bandit_at_base() -> Vec<u8> {
    let mut sarif: Value =
        serde_json::from_slice(&std::fs::read(common::fixture(BANDIT.1)).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array_mut().unwrap();
    results.retain(|r| {
        let line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap();
        !(10..=30).contains(&line)
    });
    for result in results.iter_mut() {
        let region = &mut result["locations"][0]["physicalLocation"]["region"];
        for key in ["startLine", "endLine"] {
            let line = region[key].as_u64().unwrap();
            if line > 30 {
                region[key] = json!(line - 21);
            }
        }
    }
    assert_eq!(results.len(), 5);
    serde_json::to_vec(&sarif).unwrap()
}

#[tokio::test]
async fn a_scanner_missing_at_head_leaves_its_findings_not_scanned_and_the_gate_incomplete() {
    let (server, fake) = FakeGitLab::start().await;
    fake.set_member(DEV, DEVELOPER_LEVEL);
    // The merge-base's CI ran Bandit and osv-scanner; the head's only Bandit. The change's
    // `.posture.yml` would let a missing report pass.
    let osv = std::fs::read(common::fixture(OSV.1)).unwrap();
    fake.set_pipeline_files(
        BASE,
        vec![
            (BANDIT.0.to_owned(), bandit_at_base()),
            (OSV.0.to_owned(), osv),
        ],
    );
    fake.set_pipeline(HEAD, &[BANDIT]);
    fake.set_config(HEAD, "version: 1\ngate:\n  on_missing_report: pass\n");
    let harness = harness(&server).await;
    pipeline(&harness, "pipeline-1").await;

    // B602 blocks; osv-scanner's finding of the merge-base is not scanned, not fixed.
    {
        let model = fake.model();
        assert_eq!(model.diff_discussions().len(), 2);
        assert_eq!(model.status()["state"], "failed");
        assert_eq!(model.status()["description"], BLOCKED);
        let summary = model.summary();
        assert!(
            summary.contains("## ❌ posture: 2 new findings\n"),
            "{summary}"
        );
        assert!(
            summary.contains("\n### Not scanned\nNo report from osv-scanner at head: 1 finding of this tool could not be compared with the baseline, so it is neither new nor fixed.\n"),
            "{summary}"
        );
        assert!(
            summary.contains("| **not scanned** | 0 | 0 | 1 | 0 | 0 |"),
            "{summary}"
        );
        assert!(
            summary.contains("- 🟡 **Panic due to improper input validation in github.com/gogo/protobuf** · `Go github.com/gogo/protobuf@1.3.1 in go.mod` · GO-2021-0053 · osv-scanner · "),
            "{summary}"
        );
        assert!(!summary.contains("Fixed by this change"), "{summary}");
        assert!(
            summary.contains("- ⚠️ loosens the gate · `gate.on_missing_report`: "),
            "{summary}"
        );
    }

    // With the blocker dismissed, the gate is incomplete, not passed: the change's own
    // `on_missing_report: pass` does not apply.
    let (thread, _, short) = blocking_thread(&fake);
    let answer = command(
        &harness,
        &fake,
        DEV,
        Some(&thread),
        "/posture dismiss false_positive",
        "note-1",
    )
    .await;
    assert_eq!(
        answer,
        format!("@dev\n\n✅ {short} dismissed as false_positive by @dev")
    );
    let model = fake.model();
    assert_eq!(model.status()["state"], "failed");
    assert_eq!(
        model.status()["description"],
        "Incomplete: no report from osv-scanner on one side"
    );
    let summary = model.summary();
    assert!(
        summary.contains("## ⚠️ posture: 1 new finding\n"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "Merge gate ⚠️ incomplete: no report from osv-scanner at head; the gate fails until every scanner reports on both sides, or set `gate: {on_missing_report: pass}`."
        ),
        "{summary}"
    );
    assert!(summary.contains("\n### Not scanned\n"), "{summary}");
}
