//! Diff-aware correlation on real repositories: each case builds a history with the `git`
//! CLI, writes reports as the scanners would, and checks what `posture review` calls new.

mod common;

use common::{Repo, at, codeql_sarif, osv_report, posture, semgrep_sarif};
use serde_json::Value;

const APP: &str = "import os\n\n\ndef handler(request):\n    return eval(request.body)\n";

fn review(
    repo: &Repo,
    base: &str,
    head: &str,
    base_reports: &[&std::path::Path],
    head_reports: &[&std::path::Path],
) -> Value {
    let mut args = vec![
        "review".to_string(),
        "--repo".into(),
        repo.path().display().to_string(),
        "--base".into(),
        base.into(),
        "--head".into(),
        head.into(),
        "--format".into(),
        "json".into(),
        "--fail-on".into(),
        "critical".into(),
    ];
    if !base_reports.is_empty() {
        args.push("--base-report".into());
        args.extend(base_reports.iter().map(|p| p.display().to_string()));
    }
    args.push("--head-report".into());
    args.extend(head_reports.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = posture(&args);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    run.json()
}

/// Base: one eval finding in app.py at line 5 (committed by Ann), on branch `main`.
fn base_repo() -> Repo {
    let mut repo = Repo::new();
    repo.write("src/app.py", APP);
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

#[test]
fn forty_lines_inserted_above_leave_the_finding_existing() {
    let mut repo = base_repo();
    let padding: String = (1..=40).map(|i| format!("X{i} = {i}\n")).collect();
    repo.write("src/app.py", &format!("{padding}{APP}"));
    repo.commit("Ben", "constants");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let head = repo.report("head.sarif", &semgrep_sarif(&[("eval", "src/app.py", 45)]));
    let review = review(&repo, "main", "feature", &[&base], &[&head]);
    let f = at(&review, "src/app.py", 45);
    assert_eq!(f["status"], "existing");
    assert_eq!(f["in_diff"], false);
    assert_eq!(f["introduced_by"]["author"], "Ann");
    assert_eq!(review["summary"]["new"], 0);
    assert_eq!(review["summary"]["fixed"], 0);
}

#[test]
fn a_renamed_file_keeps_its_findings() {
    let mut repo = base_repo();
    std::fs::create_dir_all(repo.path().join("src/server")).unwrap();
    repo.git(&["mv", "src/app.py", "src/server/handlers.py"]);
    repo.commit("Ben", "move");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let head = repo.report(
        "head.sarif",
        &semgrep_sarif(&[("eval", "src/server/handlers.py", 5)]),
    );
    let review = review(&repo, "main", "feature", &[&base], &[&head]);
    assert_eq!(
        at(&review, "src/server/handlers.py", 5)["status"],
        "existing"
    );
    assert_eq!(review["summary"]["fixed"], 0);
    assert_eq!(review["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn a_reindented_block_keeps_its_findings_and_ids_are_stable() {
    let mut repo = base_repo();
    repo.write(
        "src/app.py",
        "import os\n\n\ndef handler(request):\n    if request:\n        return eval(request.body)\n",
    );
    repo.commit("Ben", "guard");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let head = repo.report("head.sarif", &semgrep_sarif(&[("eval", "src/app.py", 6)]));
    let first = review(&repo, "main", "feature", &[&base], &[&head]);
    let f = at(&first, "src/app.py", 6);
    assert_eq!(f["status"], "existing");
    assert_eq!(f["in_diff"], true, "the re-indented line was modified");
    // The same review again gives the same id (comment markers depend on it).
    let second = review(&repo, "main", "feature", &[&base], &[&head]);
    assert_eq!(at(&second, "src/app.py", 6)["id"], f["id"]);
}

#[test]
fn a_duplicated_line_is_new_only_where_it_was_added() {
    let mut repo = base_repo();
    repo.write(
        "src/app.py",
        &format!("{APP}\n\ndef other(request):\n    return eval(request.body)\n"),
    );
    repo.commit("Ben", "copy");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let head = repo.report(
        "head.sarif",
        &semgrep_sarif(&[("eval", "src/app.py", 5), ("eval", "src/app.py", 9)]),
    );
    let review = review(&repo, "main", "feature", &[&base], &[&head]);
    assert_eq!(at(&review, "src/app.py", 5)["status"], "existing");
    assert_eq!(at(&review, "src/app.py", 9)["status"], "new");
    assert_eq!(
        at(&review, "src/app.py", 9)["introduced_by"]["author"],
        "Ben"
    );
    assert_ne!(
        at(&review, "src/app.py", 5)["id"],
        at(&review, "src/app.py", 9)["id"]
    );
}

#[test]
fn a_changed_flagged_line_is_new_and_the_old_one_fixed() {
    let mut repo = base_repo();
    repo.write("src/app.py", &APP.replace("request.body", "request.json"));
    repo.commit("Ben", "json");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let head = repo.report("head.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let review = review(&repo, "main", "feature", &[&base], &[&head]);
    let statuses: Vec<&str> = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(
        statuses.contains(&"new") && statuses.contains(&"fixed"),
        "{statuses:?}"
    );
}

#[test]
fn absolute_uris_from_the_ci_runner_map_into_the_repository() {
    let mut repo = base_repo();
    repo.write("src/extra.py", "x = 1\nexec(x)\n");
    repo.commit("Ben", "extra");
    let checkout = "/home/runner/work/shop/shop";
    let head = repo.report(
        "codeql.sarif",
        &codeql_sarif(
            checkout,
            &[
                ("py/code-injection", "src/app.py", 5),
                ("py/code-injection", "src/extra.py", 2),
                (
                    "py/code-injection",
                    "file:///usr/lib/python3.11/site-packages/yaml/loader.py",
                    7,
                ),
            ],
        ),
    );
    // No base report for CodeQL: what the diff did not touch counts as existing.
    let review = review(&repo, "main", "feature", &[], &[&head]);
    assert_eq!(at(&review, "src/app.py", 5)["status"], "existing");
    assert_eq!(at(&review, "src/extra.py", 2)["status"], "new");
    assert_eq!(at(&review, "src/extra.py", 2)["severity"], "critical");
    let outside = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["outside_repo"] == true)
        .expect("the site-packages finding is kept");
    assert_eq!(outside["status"], "existing");
    assert_eq!(outside["introduced_by"], Value::Null);
    let warnings = review["warnings"].to_string();
    assert!(
        warnings.contains("/usr/lib/python3.11/site-packages/yaml/loader.py"),
        "{warnings}"
    );
}

#[test]
fn a_dependency_is_in_the_diff_only_when_the_change_sets_its_version() {
    let mut repo = Repo::new();
    repo.write("requirements.txt", "flask==2.0.1\njinja2==2.10\n");
    repo.commit("Ann", "deps");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "requirements.txt",
        "flask==2.0.2\njinja2==2.10\nrequests==2.19.0\n",
    );
    repo.commit("Ben", "bump flask, add requests");
    let manifest = "/builds/group/shop/requirements.txt";
    let jinja = (
        "jinja2",
        "2.10",
        "GHSA-462w-v97r-4m45",
        &["CVE-2019-10906"][..],
        "2.10.1",
    );
    let requests = (
        "requests",
        "2.19.0",
        "PYSEC-2018-28",
        &["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"][..],
        "2.20.0",
    );
    let base = repo.report("base.json", &osv_report(manifest, &[jinja]));
    // The head scan names jinja2's advisory by another alias: still the same vulnerability.
    let jinja_alias = (
        "jinja2",
        "2.10",
        "PYSEC-2019-217",
        &["CVE-2019-10906"][..],
        "2.10.1",
    );
    let head = repo.report("head.json", &osv_report(manifest, &[jinja_alias, requests]));
    let review = review(&repo, "main", "feature", &[&base], &[&head]);
    let jinja = at(&review, "requirements.txt", 2);
    assert_eq!(jinja["status"], "existing");
    assert_eq!(jinja["in_diff"], false);
    let requests = at(&review, "requirements.txt", 3);
    assert_eq!(requests["status"], "new");
    assert_eq!(requests["in_diff"], true);
    assert_eq!(requests["upgrade"]["to"], "2.20.0");
    assert_eq!(requests["upgrade"]["suggested_text"], "requests==2.20.0");
    assert_eq!(review["summary"]["fixed"], 0);
}

#[test]
fn a_base_ahead_of_the_merge_base_still_correlates() {
    let mut repo = base_repo();
    repo.write("src/feature.py", "def f(x):\n    return eval(x)\n");
    repo.commit("Ben", "feature work");
    // main moves on after the branch: 10 lines inserted above the existing finding.
    repo.git(&["checkout", "-q", "main"]);
    let padding: String = (1..=10).map(|i| format!("Y{i} = {i}\n")).collect();
    repo.write("src/app.py", &format!("{padding}{APP}"));
    repo.commit("Cy", "main work");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 15)]));
    let head = repo.report(
        "head.sarif",
        &semgrep_sarif(&[("eval", "src/app.py", 5), ("eval", "src/feature.py", 2)]),
    );
    let review = review(&repo, "main", "feature", &[&base], &[&head]);
    assert_ne!(review["merge_base"], review["base"]);
    assert_eq!(at(&review, "src/app.py", 5)["status"], "existing");
    assert_eq!(at(&review, "src/feature.py", 2)["status"], "new");
    assert_eq!(review["summary"]["fixed"], 0);
}

#[test]
fn a_second_tool_joining_does_not_make_an_old_problem_new() {
    let mut repo = base_repo();
    repo.write("README.md", "docs\n");
    repo.commit("Ben", "docs");
    let base = repo.report("base.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    let head_semgrep = repo.report("head.sarif", &semgrep_sarif(&[("eval", "src/app.py", 5)]));
    // CodeQL now also runs (without a baseline of its own) and flags the same line, more
    // severely and with the same CWE (95 ~ 94 differ: give it Semgrep's).
    let codeql = codeql_sarif(
        "/home/runner/work/shop/shop",
        &[("py/code-injection", "src/app.py", 5)],
    )
    .to_string()
    .replace("external/cwe/cwe-094", "external/cwe/cwe-095");
    let head_codeql = repo.path().parent().unwrap().join("codeql.sarif");
    std::fs::write(&head_codeql, codeql).unwrap();
    let review = review(
        &repo,
        "main",
        "feature",
        &[&base],
        &[&head_semgrep, &head_codeql],
    );
    let f = at(&review, "src/app.py", 5);
    assert_eq!(f["status"], "existing");
    assert_eq!(f["tools"].as_array().unwrap().len(), 2);
    assert_eq!(f["severity"], "critical");
    assert_eq!(review["summary"]["new"], 0);
    assert_eq!(review["summary"]["dedup"]["results"], 2);
    assert_eq!(review["summary"]["dedup"]["findings"], 1);
}
