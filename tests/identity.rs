//! Identity under real refactoring, on real repositories: a comment deleted inside a flagged
//! range, code rewritten by formatters and modernisers, a genuinely different line, and
//! comments and triage recorded under the ids identity v1 gave.

mod common;

use std::collections::HashMap;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use common::{Repo, at, posture, semgrep_sarif};
use posture::analyze::identity::code_key;
use posture::forge::{CommentId, PostedComment, Published};
use posture::git::{LocalRepo, SourceRepo};
use posture::model::{
    DismissReason, Finding, FindingId, Kind, Status, Triage, TriageSource, TriageState, Verdict,
};
use posture::review::{ConfigFrom, Request};
use posture::triage::TriageBook;
use serde_json::Value;

/// A Semgrep log whose results span `start..=end`.
fn ranges(results: &[(&str, &str, u32, u32)]) -> Value {
    let lines: Vec<(&str, &str, u32)> = results.iter().map(|r| (r.0, r.1, r.2)).collect();
    let mut log = semgrep_sarif(&lines);
    for (result, (_, _, _, end)) in log["runs"][0]["results"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(results)
    {
        result["locations"][0]["physicalLocation"]["region"]["endLine"] = (*end).into();
    }
    log
}

fn review(repo: &Repo, base: &str, head: &str, base_report: &Path, head_report: &Path) -> Value {
    let run = posture(&[
        "review",
        "--repo",
        &repo.path().display().to_string(),
        "--base",
        base,
        "--head",
        head,
        "--format",
        "json",
        "--fail-on",
        "critical",
        "--base-report",
        &base_report.display().to_string(),
        "--head-report",
        &head_report.display().to_string(),
    ]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    run.json()
}

/// The id identity v1 gave a Semgrep finding of `rule` in `path` whose flagged lines are
/// `text`: every character but whitespace, comment lines included, first occurrence.
fn v1_id(rule: &str, path: &str, text: &str) -> String {
    let content: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let finding = Finding::new(Kind::Sast, "semgrep", rule);
    code_key(&finding, Some(path), Some(&content)).id(0).0
}

const HANDLER: &str = "import os


def handler(request):
    try:
        return eval(request.body)
    except Exception:
        # TODO: log the failure
        pass
";

#[test]
fn deleting_a_comment_inside_a_flagged_range_keeps_the_finding_and_its_id() {
    let mut repo = Repo::new();
    repo.write("src/app.py", HANDLER);
    repo.commit("Ann", "handler");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "src/app.py",
        &HANDLER.replace("        # TODO: log the failure\n", ""),
    );
    repo.commit("Ben", "drop the todo");
    let base = repo.report(
        "base.sarif",
        &ranges(&[("except-pass", "src/app.py", 7, 9)]),
    );
    let head = repo.report(
        "head.sarif",
        &ranges(&[("except-pass", "src/app.py", 7, 8)]),
    );

    // What the finding is called on main before the change, and after it.
    let before = review(&repo, "main", "main", &base, &base);
    let before = at(&before, "src/app.py", 7);
    let change = review(&repo, "main", "feature", &base, &head);
    let f = at(&change, "src/app.py", 7);
    assert_eq!(f["status"], "existing", "{change:#}");
    assert_eq!(f["changed"], false);
    assert_eq!(f["id"], before["id"]);
    assert_eq!(change["summary"]["new"], 0);
    assert_eq!(change["summary"]["fixed"], 0);
    let merged = review(&repo, "feature", "feature", &head, &head);
    assert_eq!(at(&merged, "src/app.py", 7)["id"], before["id"]);

    // The id v1 gave the commented range is kept as a previous id; the comment-free range
    // has no other name, its id is v1's.
    let v1_commented = v1_id(
        "except-pass",
        "src/app.py",
        "except Exception:\n# TODO: log the failure\npass",
    );
    assert_ne!(before["id"], v1_commented.as_str());
    assert_eq!(before["previous_ids"], serde_json::json!([v1_commented]));
    assert_eq!(
        at(&merged, "src/app.py", 7)["id"],
        v1_id("except-pass", "src/app.py", "except Exception:\npass").as_str()
    );
    assert_eq!(
        at(&merged, "src/app.py", 7)["previous_ids"],
        serde_json::json!([])
    );
}

#[test]
fn adding_comments_inside_a_flagged_range_in_other_languages_keeps_the_finding() {
    let cases = [
        (
            "web/app.js",
            "try {\n  run(input);\n} catch (e) {\n}\n",
            "try {\n  run(input);\n} catch (e) {\n  // ignored on purpose\n  /* see #12 */\n}\n",
            (3, 4),
            (3, 6),
        ),
        (
            "cmd/main.go",
            "if err != nil {\n\treturn nil\n}\n",
            "if err != nil {\n\t// TODO: wrap\n\n\treturn nil\n}\n",
            (1, 3),
            (1, 5),
        ),
        (
            "lib/task.rb",
            "begin\n  run\nrescue StandardError\nend\n",
            "begin\n  run\nrescue StandardError\n  # swallow\nend\n",
            (3, 4),
            (3, 5),
        ),
        (
            "src/Main.java",
            "try {\n  run();\n} catch (Exception e) {\n}\n",
            "try {\n  run();\n} catch (Exception e) {\n  /*\n   * nothing to do\n   */\n}\n",
            (3, 4),
            (3, 7),
        ),
    ];
    for (path, before, after, base_lines, head_lines) in cases {
        let mut repo = Repo::new();
        repo.write(path, before);
        repo.commit("Ann", "code");
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo.write(path, after);
        repo.commit("Ben", "comment");
        let base = repo.report(
            "base.sarif",
            &ranges(&[("empty-catch", path, base_lines.0, base_lines.1)]),
        );
        let head = repo.report(
            "head.sarif",
            &ranges(&[("empty-catch", path, head_lines.0, head_lines.1)]),
        );
        let before = review(&repo, "main", "main", &base, &base);
        let change = review(&repo, "main", "feature", &base, &head);
        let f = at(&change, path, u64::from(head_lines.0));
        assert_eq!(f["status"], "existing", "{path}: {change:#}");
        assert_eq!(
            f["id"],
            at(&before, path, u64::from(base_lines.0))["id"],
            "{path}"
        );
        assert_eq!(change["summary"]["new"], 0, "{path}");
    }
}

const MODEL: &str = "import subprocess


class Handler(Base):
    def __init__(self, request):
        super(Handler, self).__init__(request)
        self.code = eval('1 + ' + request.body)
        self.query = \"SELECT * FROM users WHERE id = %s\" % request.user_id
        self.other = \"SELECT * FROM t WHERE name = %s\" % request.name
        subprocess.call(request.cmd, shell=True, cwd=request.root)
";

const MODERNISED: &str = "import subprocess


class Handler(Base):
    def __init__(self, request):
        super().__init__(request)
        self.code = eval(\"1 + \" + request.body)
        self.query = \"SELECT * FROM users WHERE id = {}\".format(request.user_id)
        self.other = f\"SELECT * FROM t WHERE name = {request.name}\"
        subprocess.call(
            request.cmd,
            shell=True,
            cwd=request.root,
        )
";

#[test]
fn each_rewrite_class_is_one_existing_changed_finding() {
    let mut repo = Repo::new();
    repo.write("src/model.py", MODEL);
    repo.commit("Ann", "model");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("src/model.py", MODERNISED);
    repo.commit("Ben", "pyupgrade and black");
    let base = repo.report(
        "base.sarif",
        &ranges(&[
            ("super-call", "src/model.py", 6, 6),
            ("eval", "src/model.py", 7, 7),
            ("sqli", "src/model.py", 8, 8),
            ("sqli", "src/model.py", 9, 9),
            ("shell-true", "src/model.py", 10, 10),
        ]),
    );
    let head = repo.report(
        "head.sarif",
        &ranges(&[
            ("super-call", "src/model.py", 6, 6),
            ("eval", "src/model.py", 7, 7),
            ("sqli", "src/model.py", 8, 8),
            ("sqli", "src/model.py", 9, 9),
            ("shell-true", "src/model.py", 10, 14),
        ]),
    );
    let before = review(&repo, "main", "main", &base, &base);
    let change = review(&repo, "main", "feature", &base, &head);
    assert_eq!(change["summary"]["new"], 0, "{change:#}");
    assert_eq!(change["summary"]["fixed"], 0);
    assert_eq!(change["summary"]["existing"], 5);
    for line in 6..=10 {
        let f = at(&change, "src/model.py", line);
        assert_eq!(f["status"], "existing", "line {line}");
        assert_eq!(f["changed"], true, "line {line}");
        assert_eq!(f["in_diff"], true, "line {line}");
        // The base finding's id: each SQL injection kept its own, not its neighbour's.
        let old = at(&before, "src/model.py", line);
        assert_eq!(f["id"], old["id"], "line {line}");
        assert_eq!(f["rule"], old["rule"], "line {line}");
        // The rewritten text's own id is kept as an alias (what it is called once merged).
        let aliases = f["previous_ids"].as_array().unwrap();
        assert_eq!(aliases.len(), 1, "line {line}: {aliases:?}");
        assert_ne!(aliases[0], f["id"]);
    }
    let merged = review(&repo, "feature", "feature", &head, &head);
    for line in 6..=10 {
        assert_eq!(
            at(&merged, "src/model.py", line)["id"],
            at(&change, "src/model.py", line)["previous_ids"][0],
            "line {line}"
        );
    }

    // Code scanning is not told of five new alerts either: SARIF lists new findings only.
    let sarif = posture(&[
        "review",
        "--repo",
        &repo.path().display().to_string(),
        "--base",
        "main",
        "--head",
        "feature",
        "--format",
        "sarif",
        "--fail-on",
        "critical",
        "--base-report",
        &base.display().to_string(),
        "--head-report",
        &head.display().to_string(),
    ]);
    assert_eq!(sarif.json()["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn a_genuinely_different_line_of_the_same_rule_stays_fixed_and_new() {
    let mut repo = Repo::new();
    let code = "def handler(request):\n    return eval(request.body)\n";
    repo.write("src/app.py", code);
    repo.commit("Ann", "handler");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "src/app.py",
        &code.replace("request.body", "request.form[\"code\"]"),
    );
    repo.commit("Ben", "read the form");
    let base = repo.report("base.sarif", &ranges(&[("eval", "src/app.py", 2, 2)]));
    let head = repo.report("head.sarif", &ranges(&[("eval", "src/app.py", 2, 2)]));
    let change = review(&repo, "main", "feature", &base, &head);
    let statuses: Vec<(&str, bool)> = change["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["status"].as_str().unwrap(),
                f["changed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), 2, "{change:#}");
    assert!(statuses.contains(&("new", false)), "{statuses:?}");
    assert!(statuses.contains(&("fixed", false)), "{statuses:?}");
}

/// A change adding a handler whose flagged range holds a comment: reviewed by posture before
/// comment lines stopped counting, it was commented on and dismissed under the v1 id.
#[test]
fn a_dismissal_and_a_comment_recorded_under_the_v1_id_are_still_recognised() {
    let mut repo = Repo::new();
    repo.write("src/app.py", "import os\n");
    repo.commit("Ann", "start");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("src/app.py", HANDLER);
    repo.commit("Ben", "handler");
    let base = repo.report("base.sarif", &ranges(&[]));
    let head = repo.report(
        "head.sarif",
        &ranges(&[("except-pass", "src/app.py", 7, 9)]),
    );
    let v1 = FindingId(v1_id(
        "except-pass",
        "src/app.py",
        "except Exception:\n# TODO: log the failure\npass",
    ));
    let dismissed = Triage {
        state: TriageState::Dismissed,
        verdict: Verdict::Dismiss {
            reason: DismissReason::FalsePositive,
        },
        by: "carol".into(),
        at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
        comment: Some("logged by the caller".into()),
        source: TriageSource::Command {
            pull_request: 7,
            delivery_id: None,
        },
    };
    let request = |triage: TriageBook| Request {
        repo: repo.path().to_path_buf(),
        base: "main".into(),
        head: "feature".into(),
        base_reports: vec![base.clone()],
        head_reports: vec![head.clone()],
        config: None,
        config_from: ConfigFrom::Base,
        fail_on: None,
        today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        triage,
        secrets: Default::default(),
        deployed: Default::default(),
        read_inventory: false,
    };

    let untriaged = posture::review::run(&request(TriageBook::default()))
        .unwrap()
        .review;
    let finding = &untriaged.findings[0];
    assert_eq!(finding.status, Status::New);
    assert_ne!(finding.id, v1, "the id no longer counts the comment line");
    assert_eq!(finding.previous_ids, std::slice::from_ref(&v1));
    assert_eq!(untriaged.summary.gate.blocking, 0, "high is below critical");
    assert_eq!(untriaged.summary.new, 1);

    let book = TriageBook {
        decisions: HashMap::from([(v1.clone(), dismissed.clone())]),
        vex: Vec::new(),
    };
    let review = posture::review::run(&request(book)).unwrap().review;
    let finding = &review.findings[0];
    assert_eq!(finding.triage.as_deref(), Some(&dismissed));
    assert!(finding.is_triaged_away());
    assert_eq!(review.summary.triaged, 1);
    assert_eq!(review.summary.new, 0);

    // The comment posted under the v1 id is updated (to the verdict and the new marker) and
    // its thread settled: nothing is posted twice, nothing resolved as fixed.
    let local = LocalRepo::open(repo.path()).unwrap();
    let base_sha = local.resolve("main").unwrap();
    let head_sha = local.resolve("feature").unwrap();
    let changes = local.changes(&base_sha, &head_sha).unwrap();
    let posted = PostedComment {
        id: CommentId("c-1".into()),
        thread: None,
        findings: vec![v1.clone()],
        body: format!("an older text <!-- posture:finding:{v1} -->"),
        resolved: false,
    };
    let published = Published {
        summary: None,
        comments: vec![posted.clone()],
    };
    let plan = posture::forge::plan::plan(&review, &changes, &published, 25).unwrap();
    assert!(plan.create.is_empty(), "{:?}", plan.create);
    assert!(plan.resolve.is_empty(), "{:?}", plan.resolve);
    assert_eq!(plan.settle, std::slice::from_ref(&posted));
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].0, posted);
    assert!(
        plan.update[0]
            .1
            .contains(&format!("<!-- posture:finding:{} -->", finding.id)),
        "{}",
        plan.update[0].1
    );

    // Undismissed, the finding is commented on where the v1 comment is, not a second time.
    let plan = posture::forge::plan::plan(&untriaged, &changes, &published, 25).unwrap();
    assert!(plan.create.is_empty(), "{:?}", plan.create);
    assert_eq!(plan.update.len(), 1);
    assert!(plan.resolve.is_empty());
}
