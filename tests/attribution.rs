//! Who introduced a finding, on real repositories: rebased series whose author dates run
//! backwards, findings on lines older than the change, and shallow clones (what
//! `actions/checkout` gives by default).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Repo, at, posture};
use serde_json::{Value, json};

/// Ten lines of Python, each its own statement.
fn app() -> String {
    (1..=10).map(|n| format!("v{n} = {n}\n")).collect()
}

/// `app()` with line `n` replaced by an eval call.
fn with_eval(text: &str, n: usize) -> String {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if i + 1 == n {
                format!("v{n} = eval(request.args[{n}])\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

fn read(repo: &Repo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).unwrap()
}

/// A SARIF log with one high finding per `(path, start, end)`; `tool_ran` with no results is
/// a baseline that saw nothing.
fn sarif(results: &[(&str, u32, u32)]) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|(path, start, end)| {
            json!({
                "ruleId": "eval",
                "level": "error",
                "message": {"text": "eval of request data"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": path},
                    "region": {"startLine": start, "endLine": end}
                }}]
            })
        })
        .collect();
    json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "scanner", "rules": [{"id": "eval"}]}},
        "results": results
    }]})
}

fn review(repo: &Path, base: &str, head: &str, base_report: &Path, head_report: &Path) -> Value {
    let run = posture(&[
        "review",
        "--repo",
        repo.to_str().unwrap(),
        "--base",
        base,
        "--head",
        head,
        "--base-report",
        base_report.to_str().unwrap(),
        "--head-report",
        head_report.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

fn commits_of_the_change(repo: &Repo, range: &str) -> Vec<String> {
    repo.git(&["rev-list", range])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_rebased_series_names_the_newest_commit_in_ancestry_not_the_latest_author_date() {
    let mut repo = Repo::new();
    repo.write("app.py", &app());
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "draft"]);
    repo.write("app.py", &with_eval(&read(&repo, "app.py"), 3));
    let written_first = repo.commit("Ben", "eval on line 3");
    repo.write("app.py", &with_eval(&read(&repo, "app.py"), 6));
    let written_second = repo.commit("Cid", "eval on line 6");
    // Rebased with the two swapped: the series ends with the commit written first, so its
    // author date is the older one. Both picks share one commit date, as a rebase's do.
    repo.git(&["checkout", "-q", "-b", "feature", "main"]);
    repo.git(&["cherry-pick", &written_second]);
    repo.git(&["cherry-pick", &written_first]);
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    // Newest first: Ben's (head) was authored before Cid's, and both committed at once.
    let log = repo.git(&["log", "--format=%an %at %ct", "main..feature"]);
    let series: Vec<Vec<&str>> = log.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!((series[0][0], series[1][0]), ("Ben", "Cid"), "{log}");
    assert!(series[0][1] < series[1][1], "{log}");
    assert_eq!(series[0][2], series[1][2], "{log}");
    let base = repo.report("base.sarif", &sarif(&[]));
    let finding = repo.report("head.sarif", &sarif(&[("app.py", 3, 6)]));

    let review = review(repo.path(), "main", "feature", &base, &finding);

    let f = at(&review, "app.py", 3);
    assert_eq!(f["status"], "new");
    assert_eq!(f["introduced_by"]["commit"], head.as_str(), "{f:#}");
    assert_eq!(f["introduced_by"]["author"], "Ben");
    assert_eq!(f["introduced_unknown"], Value::Null);
}

#[test]
fn a_new_finding_names_a_commit_of_the_change_or_none() {
    let mut repo = Repo::new();
    repo.write("app.py", &app());
    repo.commit("Ann", "app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", &with_eval(&read(&repo, "app.py"), 3));
    repo.commit("Ben", "eval on line 3");
    // main moves on after the change was written, next to its line...
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "app.py",
        &read(&repo, "app.py").replace("v5 = 5", "v5 = 55"),
    );
    repo.commit("Dee", "retune v5");
    // ...and the change is rebased onto it: its author date is now older than main's tip.
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["rebase", "-q", "main"]);
    let change = commits_of_the_change(&repo, "main..feature");
    assert_eq!(change.len(), 1);
    let base = repo.report("base.sarif", &sarif(&[]));
    // Lines 3-5: Ben's line and Dee's, newer by date but outside the change. Line 9: last
    // touched by Ann, flagged only now (a new rule).
    let head = repo.report("head.sarif", &sarif(&[("app.py", 3, 5), ("app.py", 9, 9)]));

    let review = review(repo.path(), "main", "feature", &base, &head);

    let spanning = at(&review, "app.py", 3);
    assert_eq!(spanning["status"], "new");
    assert_eq!(spanning["introduced_by"]["commit"], change[0].as_str());
    assert_eq!(spanning["introduced_by"]["author"], "Ben");
    let old_lines = at(&review, "app.py", 9);
    assert_eq!(old_lines["status"], "new");
    assert_eq!(old_lines["introduced_by"], Value::Null, "{old_lines:#}");
    assert_eq!(old_lines["introduced_unknown"], "before_change");
}

/// A repository served as a remote: `main` with `app.py` written in its first commit and
/// other work after it, and `feature` forked from it with an eval on line 6.
fn origin() -> Repo {
    let mut repo = Repo::new();
    repo.write("app.py", &app());
    repo.commit("Ann", "app");
    repo.write("README.md", "docs\n");
    repo.commit("Ann", "docs");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", &with_eval(&read(&repo, "app.py"), 6));
    repo.commit("Ben", "eval on line 6");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "more docs\n");
    repo.commit("Ann", "more docs");
    repo
}

/// `git clone ARGS file://ORIGIN` into a new directory.
fn clone(origin: &Repo, args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("file://{}", origin.path().display());
    let output = Command::new("git")
        .arg("clone")
        .arg("-q")
        .args(args)
        .arg(&url)
        .arg(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

#[test]
fn a_shallow_clone_without_a_merge_base_says_how_to_fetch_it() {
    let origin = origin();
    let shallow = clone(&origin, &["--depth", "1", "--no-single-branch"]);
    let report = origin.report("head.sarif", &sarif(&[("app.py", 6, 6)]));

    let run = posture(&[
        "review",
        "--repo",
        shallow.path().to_str().unwrap(),
        "--base",
        "origin/main",
        "--head",
        "origin/feature",
        "--head-report",
        report.to_str().unwrap(),
    ]);

    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no merge-base"), "{}", run.stderr);
    assert!(run.stderr.contains("shallow"), "{}", run.stderr);
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
    assert!(run.stderr.contains("git fetch --deepen"), "{}", run.stderr);
}

#[test]
fn blame_that_reaches_the_shallow_boundary_names_no_commit() {
    let origin = origin();
    // feature's tip and its parent: app.py's lines, written two commits earlier, are blamed
    // on the parent, the boundary.
    let shallow = clone(&origin, &["--depth", "2", "--branch", "feature"]);
    let path = shallow.path().to_str().unwrap();
    let base = origin.report("base.sarif", &sarif(&[("app.py", 2, 2)]));
    let head = origin.report("head.sarif", &sarif(&[("app.py", 2, 2), ("app.py", 6, 6)]));
    let change = origin.git(&["rev-parse", "feature"]).trim().to_owned();

    let review = review(Path::new(path), "HEAD~1", "HEAD", &base, &head);

    let old = at(&review, "app.py", 2);
    assert_eq!(old["status"], "existing");
    assert_eq!(old["introduced_by"], Value::Null, "{old:#}");
    assert_eq!(old["introduced_unknown"], "shallow_clone");
    let new = at(&review, "app.py", 6);
    assert_eq!(new["status"], "new");
    assert_eq!(new["introduced_by"]["commit"], change.as_str());
    assert_eq!(new["introduced_unknown"], Value::Null);

    let run = posture(&[
        "review",
        "--repo",
        path,
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--base-report",
        base.to_str().unwrap(),
        "--head-report",
        head.to_str().unwrap(),
        "--fail-on",
        "none",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Introduced by unknown: shallow clone"),
        "{}",
        run.stdout
    );
}
