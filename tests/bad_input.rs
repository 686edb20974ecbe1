//! Bad input gets exit code 2 and a message naming the file and position; a bad report does
//! not lose the others; nothing panics.

mod common;

use common::{Repo, posture, semgrep_sarif};

fn repo_with_feature() -> Repo {
    let mut repo = Repo::new();
    repo.write("app.py", "x = 1\neval(x)\n");
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", "x = 1\neval(x)\neval(y)\n");
    repo.commit("Ben", "more");
    repo
}

fn review(repo: &Repo, reports: &[&str], extra: &[&str]) -> common::Run {
    let mut args = vec![
        "review",
        "--repo",
        repo.path().to_str().unwrap(),
        "--base",
        "main",
        "--head",
        "feature",
    ];
    args.push("--head-report");
    args.extend_from_slice(reports);
    args.extend_from_slice(extra);
    posture(&args)
}

#[test]
fn a_malformed_report_is_named_and_the_others_still_reviewed() {
    let repo = repo_with_feature();
    let good = repo.report("good.sarif", &semgrep_sarif(&[("eval", "app.py", 3)]));
    let bad = repo.path().parent().unwrap().join("truncated.sarif");
    std::fs::write(
        &bad,
        "{\n  \"version\": \"2.1.0\",\n  \"runs\": [ {\"results\": [ \n",
    )
    .unwrap();
    let run = review(
        &repo,
        &[good.to_str().unwrap(), bad.to_str().unwrap()],
        &["--format", "json"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("truncated.sarif"), "{}", run.stderr);
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
    let review = run.json();
    assert_eq!(
        review["summary"]["new"], 1,
        "the good report was still reviewed"
    );
    let refused = review["refused_reports"].to_string();
    assert!(
        refused.contains("truncated.sarif") && refused.contains("SARIF"),
        "{refused}"
    );
}

#[test]
fn unreadable_unknown_and_oversized_reports_are_refused() {
    let repo = repo_with_feature();
    let dir = repo.path().parent().unwrap();
    let unknown = dir.join("notes.json");
    std::fs::write(&unknown, r#"{"hello": "world"}"#).unwrap();
    let huge = dir.join("huge.sarif");
    // Sparse: larger than the limit without writing the bytes.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(posture::ingest::MAX_REPORT_BYTES + 1)
        .unwrap();
    let missing = dir.join("missing.sarif");
    for (path, needle) in [
        (&unknown, "unrecognised"),
        (&huge, "larger"),
        (&missing, "missing.sarif"),
    ] {
        let run = review(&repo, &[path.to_str().unwrap()], &["--format", "json"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.to_lowercase().contains(needle),
            "{needle}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_broken_config_at_head_names_line_and_column() {
    let mut repo = repo_with_feature();
    repo.write(".posture.yml", "version: 1\nfail_on: hihg\n");
    repo.commit("Ben", "config");
    let good = repo.report("good.sarif", &semgrep_sarif(&[("eval", "app.py", 3)]));
    let run = review(&repo, &[good.to_str().unwrap()], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".posture.yml:2:10: fail_on: expected one of `info`, `low`, `medium`, `high`, `critical`, `none`, found an unknown value"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_config_file_given_on_the_command_line_wins() {
    let repo = repo_with_feature();
    let good = repo.report("good.sarif", &semgrep_sarif(&[("eval", "app.py", 3)]));
    let config = repo.path().parent().unwrap().join("strict.yml");
    std::fs::write(&config, "fail_on: low\n").unwrap();
    let run = review(
        &repo,
        &[good.to_str().unwrap()],
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(
        run.code, 1,
        "a new high finding fails at low: {}",
        run.stderr
    );
    std::fs::write(
        &config,
        "ignore:\n  - path: \"*.py\"\n    reason: generated\n",
    )
    .unwrap();
    let run = review(
        &repo,
        &[good.to_str().unwrap()],
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "ignored findings never block: {}", run.stderr);
}

#[test]
fn bad_revisions_and_repositories_are_clear_errors() {
    let repo = repo_with_feature();
    let good = repo.report("good.sarif", &semgrep_sarif(&[("eval", "app.py", 3)]));
    let good = good.to_str().unwrap();
    let run = posture(&[
        "review",
        "--repo",
        repo.path().to_str().unwrap(),
        "--base",
        "nope",
        "--head",
        "feature",
        "--head-report",
        good,
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown revision 'nope'"),
        "{}",
        run.stderr
    );
    let empty = tempfile::TempDir::new().unwrap();
    let run = posture(&[
        "review",
        "--repo",
        empty.path().to_str().unwrap(),
        "--base",
        "a",
        "--head",
        "b",
        "--head-report",
        good,
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
    let run = posture(&[
        "review",
        "--repo",
        repo.path().to_str().unwrap(),
        "--base",
        "main",
        "--head",
        "feature",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--head-report"), "{}", run.stderr);
}

#[test]
fn config_check_validates_a_file() {
    let dir = tempfile::TempDir::new().unwrap();
    let good = dir.path().join("good.yml");
    std::fs::write(
        &good,
        "version: 1\nfail_on: medium\nignore:\n  - rule: CVE-2020-1\n    until: 2020-01-01\n",
    )
    .unwrap();
    let run = posture(&["config", "check", good.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("valid (version 1, fail_on medium, 1 ignore rule(s))"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("expired on 2020-01-01"),
        "{}",
        run.stdout
    );
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "ignore:\n  - path: a\n    paths: b\n").unwrap();
    let run = posture(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("bad.yml:3:5: ignore[0]: unknown field `paths`"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_check_reports_the_component_policy_and_its_errors() {
    let dir = tempfile::TempDir::new().unwrap();
    let good = dir.path().join("policy.yml");
    std::fs::write(
        &good,
        "version: 1\npolicy:\n  licenses:\n    allow: [MIT, Apache-2.0]\n    deny: [AGPL-3.0-only]\n  packages:\n    deny:\n      - package: pkg:npm/event-stream\n        versions: \"=3.3.6\"\n",
    )
    .unwrap();
    let run = posture(&["config", "check", good.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "policy: licences of runtime dependencies: 2 allowed, 0 to review, 1 denied, others review, 0 exception(s); 1 banned package rule(s)"
        ),
        "{}",
        run.stdout
    );
    let cases = [
        (
            "policy:\n  licenses:\n    allow: [MIT, Apache2.0]\n",
            "policy.yml:3:",
            "`Apache2.0` is not a valid SPDX licence: unknown term",
        ),
        (
            "policy:\n  packages:\n    deny:\n      - package: event-stream\n",
            "policy.yml:4:",
            "`event-stream` is not a package URL",
        ),
        (
            "policy:\n  packages:\n    deny:\n      - package: pkg:npm/event-stream\n        versions: \"~3.3\"\n",
            "policy.yml:4:",
            "version range `~3.3`",
        ),
    ];
    for (text, position, message) in cases {
        std::fs::write(&good, text).unwrap();
        let run = posture(&["config", "check", good.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{text:?}: {}", run.stdout);
        assert!(
            run.stderr.contains(position) && run.stderr.contains(message),
            "{text:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_broken_server_config_file_names_the_line_and_never_the_secret() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("posture.env");
    std::fs::write(
        &file,
        "POSTURE_LISTEN=127.0.0.1:0\nPOSTURE_GITHUB_TOKEN ghp_verysecretvalue\n",
    )
    .unwrap();
    let run = posture(&["serve", "--config", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{}:2: expected KEY=VALUE", file.display())),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("verysecret"), "{}", run.stderr);
}

/// A secret scanner whose SARIF gives `snippet` as a bare string (SARIF wants an object):
/// the refusal names the file, the JSON path and the expected type, and the secret appears
/// nowhere, neither in the review nor on standard error.
#[test]
fn a_report_of_the_wrong_shape_never_quotes_its_values() {
    const SECRET: &str = "AKIA2E0A8F3B244C9986";
    let repo = repo_with_feature();
    let good = repo.report("good.sarif", &semgrep_sarif(&[("eval", "app.py", 3)]));
    let leaky = repo.report(
        "secrets.sarif",
        &serde_json::json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "leakscan", "rules": [{"id": "aws-key"}]}},
                "results": [{
                    "ruleId": "aws-key",
                    "message": {"text": "AWS access key"},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": "app.py"},
                        "region": {"startLine": 3, "snippet": SECRET}
                    }}]
                }]
            }]
        }),
    );
    let run = review(
        &repo,
        &[good.to_str().unwrap(), leaky.to_str().unwrap()],
        &["--format", "json"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "secrets.sarif: SARIF: at $.runs[0].results[0].locations[0].physicalLocation.region.snippet: expected an object, found a string"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
    let markdown = review(
        &repo,
        &[good.to_str().unwrap(), leaky.to_str().unwrap()],
        &[],
    );
    assert!(!markdown.stdout.contains(SECRET), "{}", markdown.stdout);
}
