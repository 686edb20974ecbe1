//! The gate's policy comes from the target branch: a change cannot switch its own gate off
//! by editing `.posture.yml`. Head's file is validated and its effect shown; VEX documents
//! are read at the same revision as the config.

mod common;

use common::{Repo, at, osv_report, posture, semgrep_sarif};
use serde_json::{Value, json};

/// `main` with `fail_on: high`; `feature` adds a high finding on a new line and an ignore
/// rule that would hide everything.
fn repo_loosening_its_own_gate() -> Repo {
    let mut repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    repo.write(".posture.yml", "version: 1\nfail_on: high\n");
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", "x = 1\neval(x)\n");
    repo.write(
        ".posture.yml",
        "version: 1\nfail_on: high\nignore:\n  - path: \"**\"\n",
    );
    repo.commit("Ben", "eval, and ignore everything");
    repo
}

fn run_review(repo: &Repo, base: &[&str], head: &[&str], extra: &[&str]) -> common::Run {
    let mut args = vec![
        "review",
        "--repo",
        repo.path().to_str().unwrap(),
        "--base",
        "main",
        "--head",
        "feature",
    ];
    if !base.is_empty() {
        args.push("--base-report");
        args.extend_from_slice(base);
    }
    args.push("--head-report");
    args.extend_from_slice(head);
    args.extend_from_slice(extra);
    posture(&args)
}

fn semgrep_reports(repo: &Repo) -> (String, String) {
    let base = repo.report("base.sarif", &semgrep_sarif(&[]));
    let head = repo.report("head.sarif", &semgrep_sarif(&[("eval", "app.py", 2)]));
    (
        base.to_str().unwrap().to_string(),
        head.to_str().unwrap().to_string(),
    )
}

#[test]
fn the_base_config_decides_and_the_loosening_is_shown() {
    let repo = repo_loosening_its_own_gate();
    let (base, head) = semgrep_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(run.code, 1, "base's policy blocks: {}", run.stderr);
    let review = run.json();
    let gate = &review["summary"]["gate"];
    assert_eq!(gate["passed"], false);
    assert_eq!(gate["outcome"], "failed");
    assert_eq!(gate["fail_on"], "high");
    assert_eq!(gate["blocking"], 1);
    let finding = at(&review, "app.py", 2);
    assert_eq!(finding["status"], "new");
    assert_eq!(
        finding["ignored"],
        Value::Null,
        "head's ignore rule is not applied"
    );
    assert_eq!(finding["triage"], Value::Null);
    let short_id = finding["short_id"].as_str().unwrap();
    let id = finding["id"].as_str().unwrap();
    assert_eq!(short_id, format!("P-{}", &id[..6]));
    assert_eq!(
        review["config_changes"],
        json!([{"setting": "ignore", "description": "new ignore rule path `**`", "loosens": true}])
    );
    assert_eq!(review["summary"]["triaged"], 0);
    assert_eq!(review["summary"]["not_scanned"], 0);
    assert_eq!(review["summary"]["missing_tools"], json!([]));

    let run = run_review(&repo, &[&base], &[&head], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let md = &run.stdout;
    assert!(md.contains("\n### Configuration change\n"), "{md}");
    assert!(
        md.contains("- ⚠️ loosens the gate · `ignore`: new ignore rule path `**`"),
        "{md}"
    );
    assert!(md.contains("take effect after merge"), "{md}");
    assert!(md.contains("applied the target branch's config"), "{md}");
    assert!(
        md.contains(&format!(" · {short_id}\n<!-- posture:finding:{id} -->")),
        "the entry's heading names its short id: {md}"
    );
    assert!(
        md.contains("Merge gate **failed**: 1 new finding at or above **high**."),
        "{md}"
    );
}

#[test]
fn config_from_head_applies_the_change_s_own_config() {
    let repo = repo_loosening_its_own_gate();
    let (base, head) = semgrep_reports(&repo);
    let run = run_review(
        &repo,
        &[&base],
        &[&head],
        &["--format", "json", "--config-from", "head"],
    );
    assert_eq!(run.code, 0, "head's ignore applies: {}", run.stderr);
    let review = run.json();
    assert_eq!(review["summary"]["gate"]["passed"], true);
    assert_eq!(review["summary"]["gate"]["outcome"], "passed");
    assert_eq!(review["config_changes"], json!([]));
    assert!(at(&review, "app.py", 2)["ignored"].is_string());
    // An explicit `base` is the default.
    let run = review_explicit_base(&repo, &base, &head);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // A bad value is refused by the command line.
    let run = run_review(&repo, &[&base], &[&head], &["--config-from", "merge"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("base") && run.stderr.contains("head"),
        "{}",
        run.stderr
    );
}

fn review_explicit_base(repo: &Repo, base: &str, head: &str) -> common::Run {
    run_review(repo, &[base], &[head], &["--config-from", "base"])
}

#[test]
fn a_config_file_overrides_both_and_reports_no_change() {
    let repo = repo_loosening_its_own_gate();
    let (base, head) = semgrep_reports(&repo);
    let file = repo.path().parent().unwrap().join(format!(
        "{}-critical.yml",
        repo.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&file, "fail_on: critical\n").unwrap();
    let run = run_review(
        &repo,
        &[&base],
        &[&head],
        &["--format", "json", "--config", file.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["config_changes"], json!([]));
}

#[test]
fn a_broken_config_at_head_is_still_an_error() {
    let mut repo = repo_loosening_its_own_gate();
    repo.write(
        ".posture.yml",
        "version: 1\nfail_on: high\nignore:\n  - pth: x\n",
    );
    repo.commit("Ben", "typo");
    let (base, head) = semgrep_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(".posture.yml:4:5: ") && run.stderr.contains("unknown field `pth`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_change_that_tightens_the_config_is_listed_without_warning() {
    let mut repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    repo.write(".posture.yml", "fail_on: critical\n");
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", "x = 1\neval(x)\n");
    repo.write(".posture.yml", "fail_on: medium\n");
    repo.commit("Ben", "stricter");
    let (base, head) = semgrep_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(run.code, 0, "base's critical applies: {}", run.stderr);
    let changes = &run.json()["config_changes"];
    assert_eq!(changes[0]["setting"], "fail_on");
    assert_eq!(changes[0]["loosens"], false);
    let run = run_review(&repo, &[&base], &[&head], &[]);
    assert!(
        run.stdout.contains("### Configuration change"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("loosens the gate"), "{}", run.stdout);
}

const MANIFEST: &str = "/builds/group/shop/requirements.txt";

fn vex(cve: &str, product: &str) -> String {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "Security Team",
        "timestamp": "2026-11-01T09:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": cve},
            "products": [{"@id": product}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "we never send requests with redirects"
        }]
    })
    .to_string()
}

/// `main` declares flask (and, optionally, holds `vex`); `feature` adds requests 2.19.0,
/// which has a high advisory, CVE-2018-18074.
fn repo_adding_a_vulnerable_dependency(vex_at_base: Option<&str>) -> Repo {
    let mut repo = Repo::new();
    repo.write("requirements.txt", "flask==2.0.1\n");
    if let Some(vex) = vex_at_base {
        repo.write(".posture/vex.json", vex);
    }
    repo.commit("Ann", "deps");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("requirements.txt", "flask==2.0.1\nrequests==2.19.0\n");
    repo.commit("Ben", "add requests");
    repo
}

fn osv_reports(repo: &Repo) -> (String, String) {
    let requests = (
        "requests",
        "2.19.0",
        "PYSEC-2018-28",
        &["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"][..],
        "2.20.0",
    );
    let base = repo.report("base-osv.json", &osv_report(MANIFEST, &[]));
    let head = repo.report("head-osv.json", &osv_report(MANIFEST, &[requests]));
    (
        base.to_str().unwrap().to_string(),
        head.to_str().unwrap().to_string(),
    )
}

#[test]
fn without_vex_the_new_dependency_finding_blocks() {
    let repo = repo_adding_a_vulnerable_dependency(None);
    let (base, head) = osv_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let review = run.json();
    let requests = at(&review, "requirements.txt", 2);
    assert_eq!(requests["status"], "new");
    assert_eq!(requests["triage"], Value::Null);
}

#[test]
fn a_vex_document_at_base_dismisses_the_matching_finding() {
    let document = vex("CVE-2018-18074", "pkg:pypi/requests");
    let repo = repo_adding_a_vulnerable_dependency(Some(&document));
    let (base, head) = osv_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(
        run.code, 0,
        "the dismissed finding does not block: {}",
        run.stderr
    );
    let review = run.json();
    let requests = at(&review, "requirements.txt", 2);
    let triage = &requests["triage"];
    assert_eq!(triage["state"], "dismissed", "{requests:#}");
    assert_eq!(triage["reason"], "not_affected");
    assert_eq!(triage["by"], "Security Team");
    assert_eq!(triage["until"], Value::Null);
    assert!(
        triage["comment"]
            .as_str()
            .unwrap()
            .contains("vulnerable_code_not_in_execute_path"),
        "{triage:#}"
    );
    assert_eq!(review["summary"]["gate"]["blocking"], 0);
    assert_eq!(review["summary"]["triaged"], 1);
    assert_eq!(review["summary"]["new"], 0);

    let run = review_md(&repo, &base, &head);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = &run.stdout;
    assert!(md.contains("<summary>Triaged (1)</summary>"), "{md}");
    assert!(
        md.contains("✅ Dismissed as not_affected by VEX document `.posture/vex.json` (Security Team) on 2026-11-01"),
        "{md}"
    );
    assert!(!md.contains("### New in this change"), "{md}");
}

fn review_md(repo: &Repo, base: &str, head: &str) -> common::Run {
    run_review(repo, &[base], &[head], &[])
}

#[test]
fn a_vex_document_the_change_adds_is_not_applied_to_it() {
    let mut repo = repo_adding_a_vulnerable_dependency(None);
    repo.write(
        ".posture/vex.json",
        &vex("CVE-2018-18074", "pkg:pypi/requests"),
    );
    repo.commit("Ben", "declare ourselves not affected");
    let (base, head) = osv_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        at(&run.json(), "requirements.txt", 2)["triage"],
        Value::Null
    );
    // Trying it locally, with head's config and VEX.
    let run = run_review(
        &repo,
        &[&base],
        &[&head],
        &["--format", "json", "--config-from", "head"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        at(&run.json(), "requirements.txt", 2)["triage"]["state"],
        "dismissed"
    );
}

#[test]
fn a_broken_vex_document_is_a_warning_not_an_error() {
    let repo = repo_adding_a_vulnerable_dependency(Some("{\"@context\": "));
    let (base, head) = osv_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(run.code, 1, "reviewed without it: {}", run.stderr);
    let review = run.json();
    let warnings = review["warnings"].to_string();
    assert!(
        warnings.contains("VEX document not applied: .posture/vex.json: "),
        "{warnings}"
    );
}

#[test]
fn a_broken_config_at_base_is_a_warning_so_its_repair_can_be_reviewed() {
    let mut repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    repo.write(".posture.yml", "fail_on: hihg\n");
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", "x = 1\neval(x)\n");
    repo.write(".posture.yml", "fail_on: critical\n");
    repo.commit("Ben", "repair the config");
    let (base, head) = semgrep_reports(&repo);
    let run = run_review(&repo, &[&base], &[&head], &["--format", "json"]);
    assert_eq!(run.code, 1, "the defaults (high) apply: {}", run.stderr);
    let review = run.json();
    let warnings = review["warnings"].to_string();
    assert!(
        warnings.contains(".posture.yml at base") && warnings.contains(".posture.yml:1:10: "),
        "{warnings}"
    );
    assert_eq!(review["config_changes"][0]["setting"], "fail_on");
    assert_eq!(review["config_changes"][0]["loosens"], true);
}
