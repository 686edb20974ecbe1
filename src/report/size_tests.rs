//! Body sizes with 30,000 findings: every body fits its forge's limit, keeps the header and
//! the notes, lists the highest-risk findings and counts exactly the ones it left out.

use std::time::Instant;

use super::markdown::tests::{finding, review};
use super::{Format, Limit, Options, summary, write};
use crate::ingest::IngestError;
use crate::model::{GateOutcome, Review, Status};

const FINDINGS: usize = 30_000;

/// 30,000 findings (a third new, a third existing, a sixth fixed, a sixth ignored), each with
/// a numbered title, risk falling with the number as the pipeline orders them.
fn large() -> Review {
    let findings = (0..FINDINGS)
        .map(|n| {
            let status = match n % 6 {
                0 | 1 => Status::New,
                2 | 3 => Status::Existing,
                _ => Status::Fixed,
            };
            let mut f = finding(&format!("{:016x}", n), status);
            f.finding.title = format!("Use of eval #{n}:");
            f.finding.message = "eval() of user input runs arbitrary code".into();
            f.risk.score = u8::try_from(100 - n * 100 / FINDINGS).unwrap();
            if n % 6 == 5 {
                f.ignored = Some("tests use fake data".into());
            }
            f
        })
        .collect();
    review(findings, GateOutcome::Failed)
}

/// The numbers of the findings a body lists.
fn listed(body: &str) -> Vec<usize> {
    body.match_indices("Use of eval #")
        .filter_map(|(at, _)| {
            let rest = &body[at + "Use of eval #".len()..];
            rest[..rest.find(':')?].parse().ok()
        })
        .collect()
}

/// The `N` of "… N more findings left out".
fn left_out(body: &str) -> usize {
    let at = body.find("… ").expect("a left-out note") + "… ".len();
    let digits: String = body[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    assert!(
        body[at..].contains(" more findings left out"),
        "{}",
        &body[at..at + 80]
    );
    digits.parse().unwrap()
}

fn check(body: &str, limit: Limit, what: &str) {
    assert!(
        limit.fits(body),
        "{what}: {} over {limit:?}",
        limit.size(body)
    );
    assert!(body.contains("## ❌ posture: "), "{what}: the header stays");
    assert!(
        body.contains("Report refused, the review ran without it"),
        "{what}: the notes stay"
    );
    let shown = listed(body);
    assert!(!shown.is_empty(), "{what}: some findings fit");
    // The highest-risk findings are the ones kept: numbers 0.. with none skipped.
    let mut sorted = shown.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..shown.len()).collect::<Vec<_>>(), "{what}");
    assert_eq!(
        left_out(body) + shown.len(),
        FINDINGS,
        "{what}: every finding is listed or counted"
    );
    // Room is used: a body cut to a tenth of its limit would be a poor fit.
    assert!(
        limit.size(body) > limit.max() * 9 / 10,
        "{what}: {} of {}",
        limit.size(body),
        limit.max()
    );
}

#[test]
fn thirty_thousand_findings_fit_every_forge_s_limit() {
    let review = large();
    let refused = [IngestError {
        file: "reports/trivy.json".into(),
        format: None,
        position: None,
        message: "not a report posture knows".into(),
    }];
    let started = Instant::now();
    let github = summary(&review, &refused, &[], Limit::GITHUB_COMMENT).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "rendering the summary of {FINDINGS} findings within GitHub's limit took {elapsed:?}"
    );
    check(&github, Limit::GITHUB_COMMENT, "GitHub comment");
    assert!(
        !github.contains("<!-- posture:finding:"),
        "a summary carries no finding markers"
    );
    let started = Instant::now();
    let gitlab = summary(&review, &refused, &[], Limit::GITLAB_NOTE).unwrap();
    eprintln!(
        "within GitLab's limit: {:?}, {} findings listed",
        started.elapsed(),
        listed(&gitlab).len()
    );
    check(&gitlab, Limit::GITLAB_NOTE, "GitLab note");
    assert!(listed(&gitlab).len() > listed(&github).len() * 10);
    let check_run = summary(&review, &refused, &[], Limit::GITHUB_CHECK_SUMMARY).unwrap();
    check(&check_run, Limit::GITHUB_CHECK_SUMMARY, "check-run summary");

    let mut cli = Vec::new();
    write(
        Format::Markdown,
        &review,
        &refused,
        &bytes(65_536),
        &mut cli,
    )
    .unwrap();
    let cli = String::from_utf8(cli).unwrap();
    check(&cli, Limit::Bytes(65_536), "CLI markdown");
    assert!(
        cli.contains("<!-- posture:finding:"),
        "the CLI keeps markers"
    );
    let mut small = Vec::new();
    write(
        Format::Markdown,
        &review,
        &refused,
        &bytes(8_000),
        &mut small,
    )
    .unwrap();
    assert!(small.len() <= 8_000, "{}", small.len());
}

#[test]
fn a_review_that_fits_is_rendered_whole_with_no_left_out_note() {
    let review = review(
        (0..3)
            .map(|n| finding(&format!("{n:016x}"), Status::New))
            .collect(),
        GateOutcome::Failed,
    );
    let body = summary(&review, &[], &[], Limit::GITHUB_COMMENT).unwrap();
    assert!(!body.contains("left out"), "{body}");
    assert_eq!(body.matches("#### ").count(), 3, "{body}");
}

/// The CLI's options with markdown held to `max` bytes.
fn bytes(max: usize) -> Options {
    Options {
        markdown_limit: Limit::Bytes(max),
        ..Options::default()
    }
}
