//! `fail_on: none` (and `--fail-on none`): the review reports, the gate never fails. Used to
//! roll posture out without blocking anyone; `none` must not be read as the `info` severity
//! some scanners call `none`, which would block everything.

mod common;

use common::{Repo, posture};
use serde_json::{Value, json};

/// `main` with a config file holding `config` (none when empty), and `feature` adding a line
/// a scanner rates critical.
fn repo_with_a_critical_new_finding(config: &str) -> Repo {
    let mut repo = Repo::new();
    repo.write("app.py", "import os\n");
    if !config.is_empty() {
        repo.write(".posture.yml", config);
    }
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", "import os\nos.system(request.args['cmd'])\n");
    repo.commit("Ben", "run a command");
    repo
}

/// A SARIF log with a critical (CVSS 9.8) finding at `app.py:2`, or none.
fn report(with_finding: bool) -> Value {
    let results = if with_finding {
        json!([{
            "ruleId": "command-injection",
            "message": {"text": "user input reaches os.system"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "app.py"}, "region": {"startLine": 2}
            }}]
        }])
    } else {
        json!([])
    };
    json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "scanner", "rules": [{
            "id": "command-injection", "properties": {"security-severity": "9.8"}
        }]}},
        "results": results
    }]})
}

/// `posture review` of `feature` against `main`, with `extra` arguments.
fn review(repo: &Repo, extra: &[&str]) -> common::Run {
    let base = repo.report("base.sarif", &report(false));
    let head = repo.report("head.sarif", &report(true));
    let mut args = vec![
        "review",
        "--repo",
        repo.path().to_str().unwrap(),
        "--base",
        "main",
        "--head",
        "feature",
        "--base-report",
        base.to_str().unwrap(),
        "--head-report",
        head.to_str().unwrap(),
    ];
    args.extend(extra);
    posture(&args)
}

fn assert_passes_with_a_critical_new_finding(run: &common::Run) {
    assert_eq!(run.code, 0, "{}", run.stderr);
    let review = run.json();
    assert_eq!(review["summary"]["new"], 1);
    assert_eq!(review["findings"][0]["severity"], "critical");
    assert_eq!(
        review["summary"]["gate"],
        json!({"passed": true, "outcome": "passed", "fail_on": "none", "blocking": 0})
    );
    assert!(
        run.stderr
            .contains("gate passed (0 blocking at or above none)"),
        "{}",
        run.stderr
    );
}

#[test]
fn fail_on_none_on_the_command_line_passes_a_critical_new_finding() {
    let repo = repo_with_a_critical_new_finding("");

    // The same change fails the default gate...
    let blocked = review(&repo, &["--format", "json"]);
    assert_eq!(blocked.code, 1, "{}", blocked.stderr);
    assert_eq!(blocked.json()["summary"]["gate"]["blocking"], 1);

    // ...and passes with the gate off.
    assert_passes_with_a_critical_new_finding(&review(
        &repo,
        &["--format", "json", "--fail-on", "none"],
    ));
}

#[test]
fn fail_on_none_in_the_config_passes_a_critical_new_finding() {
    let repo = repo_with_a_critical_new_finding("version: 1\nfail_on: none\n");

    assert_passes_with_a_critical_new_finding(&review(&repo, &["--format", "json"]));

    // The command line still overrides the file.
    let run = review(&repo, &["--format", "json", "--fail-on", "critical"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn config_check_accepts_fail_on_none() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("posture.yml");
    std::fs::write(&file, "version: 1\nfail_on: none\n").unwrap();

    let run = posture(&["config", "check", file.to_str().unwrap()]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("valid (version 1, fail_on none, 0 ignore rule(s))"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_markdown_review_says_the_gate_blocks_nothing() {
    let repo = repo_with_a_critical_new_finding("");
    let run = review(&repo, &["--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Merge gate **passed**: it blocks nothing (`fail_on: none`)."),
        "{}",
        run.stdout
    );
}
