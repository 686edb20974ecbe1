//! The comments people read, as snapshots of the demo's review (`fixtures/demo`): each
//! inline comment posture would post on the demo's pull request, and the summary comment.
//! The `.snap` files under `tests/snapshots/` are the product: review a change to them by
//! eye (`cargo insta review`), never accept one blindly.

mod common;

use common::{Repo, fixture};
use posture::forge::{Published, plan};
use posture::git::{LocalRepo, SourceRepo};
use posture::model::{ChangeSet, Review};
use posture::report::{self, Limit};
use posture::review::{self, ConfigFrom, Request};

/// The demo reviewed as `fixtures/demo/run.sh` does, with its diff.
fn demo() -> (Review, ChangeSet, Repo) {
    let repo = Repo::demo();
    let reports = |side: &str| {
        ["semgrep.sarif", "gitleaks.sarif", "osv-scanner.json"]
            .iter()
            .map(|name| fixture(&format!("demo/reports/{side}/{name}")))
            .collect()
    };
    let request = Request {
        repo: repo.path().to_path_buf(),
        base: "main".into(),
        head: "feature".into(),
        base_reports: reports("base"),
        head_reports: reports("head"),
        config: None,
        config_from: ConfigFrom::Base,
        fail_on: None,
        today: "2026-12-05".parse().unwrap(),
        triage: Default::default(),
        secrets: Default::default(),
        deployed: Default::default(),
        read_inventory: false,
    };
    let review = review::run(&request).unwrap().review;
    let changes = LocalRepo::open(repo.path())
        .unwrap()
        .changes(&review.merge_base, &review.head)
        .unwrap();
    (review, changes, repo)
}

#[test]
fn the_demo_s_inline_comments() {
    let (review, changes, _repo) = demo();
    let plan = plan::plan(&review, &changes, &Published::default(), 25).unwrap();
    assert_eq!(plan.create.len(), 4, "the four new findings in the diff");
    let shown: Vec<String> = plan
        .create
        .iter()
        .map(|c| {
            let at = match c.start_line {
                Some(start) => format!("{}:{start}-{}", c.path, c.line),
                None => format!("{}:{}", c.path, c.line),
            };
            format!("===== comment on {at} =====\n{}", c.body)
        })
        .collect();
    insta::assert_snapshot!(shown.join("\n\n"));
}

#[test]
fn the_demo_s_summary_comment() {
    let (review, _changes, _repo) = demo();
    let body = report::summary(&review, &[], &[], Limit::GITHUB_COMMENT).unwrap();
    insta::assert_snapshot!(body);
}
