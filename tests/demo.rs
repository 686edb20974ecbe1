//! `posture review` end to end on the README's demo repository and reports: statuses,
//! attribution, upgrades, ignores, the three output formats and the exit codes.

mod common;

use common::{Repo, at, fixture, posture};
use serde_json::Value;

fn demo_args(repo: &Repo, extra: &[&str]) -> Vec<String> {
    let reports = |side: &str, names: &[&str]| -> Vec<String> {
        names
            .iter()
            .map(|n| {
                fixture(&format!("demo/reports/{side}/{n}"))
                    .display()
                    .to_string()
            })
            .collect()
    };
    let mut args: Vec<String> = vec![
        "review".into(),
        "--repo".into(),
        repo.path().display().to_string(),
        "--base".into(),
        "main".into(),
        "--head".into(),
        "feature".into(),
        "--base-report".into(),
    ];
    args.extend(reports(
        "base",
        &["semgrep.sarif", "gitleaks.sarif", "osv-scanner.json"],
    ));
    args.push("--head-report".into());
    args.extend(reports(
        "head",
        &["semgrep.sarif", "gitleaks.sarif", "osv-scanner.json"],
    ));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn review_demo(extra: &[&str]) -> (common::Run, Repo) {
    let repo = Repo::demo();
    let args = demo_args(&repo, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (posture(&args), repo)
}

#[test]
fn statuses_survive_shifts_renames_reindents_and_duplicates() {
    let (run, _repo) = review_demo(&["--format", "json"]);
    assert_eq!(
        run.code, 1,
        "gate fails on new high findings; stderr: {}",
        run.stderr
    );
    let review = run.json();
    assert_eq!(review["schema"], "posture.review/v1");

    let status = |path: &str, line: u64| at(&review, path, line)["status"].clone();
    // 40 lines inserted above: still existing, and the line it moved to is not "in the diff".
    assert_eq!(status("app/db.py", 45), "existing");
    assert_eq!(at(&review, "app/db.py", 45)["in_diff"], false);
    // The new query below it is new and in the diff.
    assert_eq!(status("app/db.py", 50), "new");
    assert_eq!(at(&review, "app/db.py", 50)["in_diff"], true);
    // Renamed file (app/util.py → app/shell.py, one line added above).
    assert_eq!(status("app/shell.py", 6), "existing");
    // Re-indented block.
    assert_eq!(status("app/render.py", 4), "existing");
    // Duplicated identical line: the original stays, only the copy is new.
    assert_eq!(status("app/cache.py", 5), "existing");
    assert_eq!(status("app/cache.py", 9), "new");
    // A secret in a new file, from a tool with no base report: new because the diff added it.
    assert_eq!(status("app/settings.py", 3), "new");
    assert_eq!(at(&review, "app/settings.py", 3)["severity"], "high");
    // yaml.load → yaml.safe_load.
    assert_eq!(status("app/loader.py", 5), "fixed");

    let summary = &review["summary"];
    assert_eq!(summary["new"], 4);
    assert_eq!(summary["existing"], 6);
    assert_eq!(summary["fixed"], 1);
    assert_eq!(summary["ignored"], 1);
    assert_eq!(summary["gate"]["passed"], false);
    assert_eq!(summary["gate"]["blocking"], 3);

    // Each finding appears once: ids are unique.
    let findings = review["findings"].as_array().unwrap();
    let mut ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), findings.len());
    // Ordered by risk, highest first.
    let scores: Vec<u64> = findings
        .iter()
        .map(|f| f["risk"]["score"].as_u64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn blame_names_the_introducing_commit() {
    let (run, _repo) = review_demo(&["--format", "json"]);
    let review = run.json();
    let author = |path: &str, line: u64| at(&review, path, line)["introduced_by"]["author"].clone();
    assert_eq!(author("app/db.py", 45), "Alice Example");
    assert_eq!(author("app/db.py", 50), "Carol Example");
    assert_eq!(author("app/cache.py", 5), "Bob Example");
    assert_eq!(author("requirements.txt", 2), "Alice Example");
    assert_eq!(author("requirements.txt", 4), "Carol Example");
    assert_eq!(
        at(&review, "app/cache.py", 5)["introduced_by"]["date"],
        "2024-04-10T09:30:00Z"
    );
    // Fixed findings are gone at head: nothing to blame.
    assert_eq!(
        at(&review, "app/loader.py", 5)["introduced_by"],
        Value::Null
    );
}

#[test]
fn dependency_findings_carry_the_exact_upgrade() {
    let (run, _repo) = review_demo(&["--format", "json"]);
    let review = run.json();
    let lxml = at(&review, "requirements.txt", 4);
    assert_eq!(lxml["status"], "new");
    assert_eq!(lxml["in_diff"], true, "this change added lxml");
    assert_eq!(lxml["package"]["name"], "lxml");
    let upgrade = &lxml["upgrade"];
    assert_eq!(upgrade["from"], "4.6.2");
    assert_eq!(upgrade["to"], "4.6.5");
    assert_eq!(upgrade["manifest"], "requirements.txt");
    assert_eq!(upgrade["line"], 4);
    assert_eq!(upgrade["suggested_text"], "lxml==4.6.5");
    assert_eq!(upgrade["breaking"], false);

    // jinja2 was reported under two ids (GHSA and PYSEC, aliases of one CVE): one finding,
    // existing, not in the diff, one upgrade clearing both.
    let jinja = at(&review, "requirements.txt", 2);
    assert_eq!(jinja["status"], "existing");
    assert_eq!(jinja["in_diff"], false);
    assert_eq!(jinja["upgrade"]["to"], "2.10.1");
    let fixes: Vec<&str> = jinja["upgrade"]["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        fixes.contains(&"GHSA-462w-v97r-4m45") && fixes.contains(&"PYSEC-2019-217"),
        "{fixes:?}"
    );
}

#[test]
fn ignore_rules_from_the_config_at_head_apply() {
    let (run, _repo) = review_demo(&["--format", "json"]);
    let review = run.json();
    let ignored = at(&review, "tests/test_db.py", 1);
    assert_eq!(ignored["ignored"], "test fixtures use fake credentials");
}

#[test]
fn markdown_comment_explains_and_marks_every_finding() {
    let (run, _repo) = review_demo(&[]);
    assert_eq!(run.code, 1);
    let md = &run.stdout;
    assert!(md.starts_with("<!-- posture:summary -->"), "{md}");
    assert!(
        md.contains("Merge gate **failed**: 3 new findings at or above **high**."),
        "{md}"
    );
    assert!(md.contains("| **new** | 0 | 3 | 1 | 0 | 0 |"), "{md}");
    assert!(md.contains("-lxml==4.6.2\n+lxml==4.6.5"), "{md}");
    assert!(md.contains("Introduced by"), "{md}");
    assert!(md.contains("Why this rank"), "{md}");
    // Every shown finding carries its hidden marker exactly once.
    assert_eq!(md.matches("<!-- posture:finding:").count(), 10, "{md}");
    // The summary line on stderr.
    assert!(
        run.stderr
            .contains("4 new, 6 existing, 1 fixed, 0 not scanned; gate failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn max_bytes_keeps_the_markdown_within_it_highest_risk_first() {
    let (whole, _repo) = review_demo(&[]);
    let (run, _repo) = review_demo(&["--max-bytes", "4000"]);
    assert_eq!(run.code, 1, "the gate does not depend on the output's size");
    let md = &run.stdout;
    assert!(md.len() <= 4000, "{} bytes", md.len());
    assert!(md.len() < whole.stdout.len());
    assert!(
        md.contains("| **new** | 0 | 3 | 1 | 0 | 0 |"),
        "the header stays: {md}"
    );
    // The riskiest finding is kept; the note counts the rest.
    assert!(
        md.contains("<!-- posture:finding:03d72ef70ac45aa1 -->"),
        "{md}"
    );
    let kept = md.matches("<!-- posture:finding:").count();
    let all = whole.stdout.matches("<!-- posture:finding:").count();
    assert!(kept < all, "{md}");
    assert!(md.contains(" more findings left out"), "{md}");
    // JSON is for tools: never cut.
    let (json, _repo) = review_demo(&["--format", "json", "--max-bytes", "100"]);
    assert!(json.stdout.len() > 100);
    assert_eq!(json.json()["schema"], "posture.review/v1");
}

#[test]
fn sarif_output_holds_the_new_findings_with_line_hashes() {
    let (run, repo) = review_demo(&["--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let db = results
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/db.py")
        .unwrap();
    assert_eq!(
        db["locations"][0]["physicalLocation"]["region"]["startLine"],
        50
    );
    let content = repo.git(&["show", "feature:app/db.py"]);
    let expected = posture::analyze::linehash::line_hash(&content, 50).unwrap();
    assert_eq!(
        db["partialFingerprints"]["primaryLocationLineHash"],
        expected.as_str()
    );
    // Our own SARIF is valid input to posture.
    let report = posture::ingest::parse(
        "out.sarif",
        run.stdout.as_bytes(),
        &posture::ingest::SecretHasher::default(),
    )
    .unwrap();
    assert_eq!(report.findings.len(), 4);
}

/// The published SARIF 2.1.0 schema's complaints about `sarif`.
fn sarif_schema_errors(sarif: &Value) -> Vec<String> {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture("schemas/sarif-schema-2.1.0.json")).unwrap(),
        )
        .unwrap();
        jsonschema::validator_for(&schema).unwrap()
    });
    validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// GitHub code scanning's upload rules for a result: a physical location, the line hash and
/// the index of a rule that exists.
fn upload_rule_problems(sarif: &Value) -> Vec<String> {
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let mut problems = Vec::new();
    for rule in rules {
        if rule["name"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("rule {} has no name", rule["id"]));
        }
        for field in ["shortDescription", "fullDescription"] {
            if rule[field]["text"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("rule {} has no {field}", rule["id"]));
            }
        }
        if rule["help"]["text"].as_str().is_none() || rule["help"]["markdown"].as_str().is_none() {
            problems.push(format!("rule {} has no help", rule["id"]));
        }
        if rule["properties"]["security-severity"].as_str().is_none() {
            problems.push(format!("rule {} has no security-severity", rule["id"]));
        }
    }
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        if rules.get(index).map(|r| &r["id"]) != Some(&result["ruleId"]) {
            problems.push(format!(
                "result {} points at the wrong rule",
                result["ruleId"]
            ));
        }
        if result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_none()
        {
            problems.push(format!(
                "result {} has no physical location",
                result["ruleId"]
            ));
        }
    }
    problems
}

#[test]
fn sarif_output_is_valid_sarif_with_help_for_every_rule() {
    let (run, _repo) = review_demo(&["--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let errors = sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(upload_rule_problems(&sarif), Vec::<String>::new());
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "the new findings only");
    assert!(results.iter().all(
        |r| r["partialFingerprints"]["primaryLocationLineHash"].is_string()
            && r.get("baselineState").is_none()
    ));
    // GitHub's upload rules: a full description and help for each rule.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(!rules.is_empty());
    for rule in rules {
        assert!(
            rule["fullDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{rule:#}"
        );
        let help = rule["help"]["markdown"].as_str().unwrap();
        assert!(help.contains("Reported by"), "{help}");
    }
    assert_eq!(
        sarif["runs"][0]["properties"]["posture/head"]
            .as_str()
            .map(str::len),
        Some(40)
    );
}

#[test]
fn sarif_scope_all_tracks_every_finding_with_its_baseline_state() {
    let (json_run, _repo) = review_demo(&["--format", "json"]);
    let review = json_run.json();
    let count = |status: &str| {
        review["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == status && f["ignored"].is_null())
            .count()
    };
    let (run, _repo) = review_demo(&["--format", "sarif", "--sarif-scope", "all"]);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let errors = sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(upload_rule_problems(&sarif), Vec::<String>::new());
    let states = |state: &str| {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["baselineState"] == state)
            .count()
    };
    assert_eq!(states("new"), count("new"));
    assert_eq!(states("unchanged"), count("existing"));
    assert_eq!(states("absent"), count("fixed"));
    assert!(states("unchanged") > 0 && states("absent") > 0);
    // The fixed yaml.load is reported where it was, so code scanning closes its alert.
    let absent = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["baselineState"] == "absent")
        .unwrap();
    assert_eq!(
        absent["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "app/loader.py"
    );
}

/// Every scanner report among the fixtures, reviewed alone at HEAD of the demo, gives SARIF
/// that the published schema and GitHub's upload rules accept.
#[test]
fn sarif_output_is_valid_for_every_fixture_report() {
    let repo = Repo::demo();
    let mut reports: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["sarif", "sca"] {
        let mut pending = vec![fixture(dir)];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "sarif" || e == "json")
                {
                    reports.push(path);
                }
            }
        }
    }
    reports.sort();
    assert!(reports.len() > 40, "{} reports", reports.len());
    let mut results = 0;
    for report in &reports {
        let name = report.display().to_string();
        let review = |extra: &[&str]| {
            let repo = repo.path().display().to_string();
            let mut args = vec![
                "review",
                "--repo",
                &repo,
                "--base",
                "main",
                "--head",
                "feature",
                "--head-report",
                &name,
            ];
            args.extend(extra);
            let run = posture(&args);
            assert!(run.code == 0 || run.code == 1, "{name}: {}", run.stderr);
            run
        };
        let json = review(&["--format", "json"]).json();
        for scope in ["new", "all"] {
            let run = review(&["--format", "sarif", "--sarif-scope", scope]);
            let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
            let errors = sarif_schema_errors(&sarif);
            assert!(errors.is_empty(), "{name} ({scope}): {errors:#?}");
            let problems = upload_rule_problems(&sarif);
            assert!(problems.is_empty(), "{name} ({scope}): {problems:#?}");
            // Every finding of the scope is a result or counted in a notification.
            let listed = sarif["runs"][0]["results"].as_array().unwrap().len();
            let left_out: usize = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .map_or(0, |notes| {
                    notes
                        .iter()
                        .map(|n| {
                            let text = n["message"]["text"].as_str().unwrap();
                            text.split(' ').next().unwrap().parse::<usize>().unwrap()
                        })
                        .sum()
                });
            let in_scope = json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["ignored"].is_null())
                .filter(|f| match scope {
                    "new" => f["status"] == "new",
                    _ => f["status"] != "not_scanned",
                })
                .count();
            assert_eq!(listed + left_out, in_scope, "{name} ({scope})");
            if scope == "all" {
                results += listed;
            }
        }
    }
    assert!(results > 30, "only {results} results across the fixtures");
}

#[test]
fn fail_on_decides_the_exit_code() {
    let (run, _repo) = review_demo(&["--fail-on", "critical", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["summary"]["gate"]["passed"], true);
    let (run, _repo) = review_demo(&["--fail-on", "medium", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["summary"]["gate"]["blocking"], 4);
}

#[test]
fn output_file_receives_the_review() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = dir.path().join("review.json");
    let (run, _repo) = review_demo(&["--format", "json", "--output", out.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(written["summary"]["new"], 4);
}

#[test]
fn several_tools_reporting_one_problem_make_one_finding() {
    let repo = Repo::demo();
    let reports = tempfile::TempDir::new().unwrap();
    // pip-audit names jinja2's vulnerability by its PYSEC id; osv-scanner by its GHSA.
    let pip_audit = reports.path().join("pip-audit.json");
    std::fs::write(
        &pip_audit,
        r#"{"dependencies":[
            {"name":"jinja2","version":"2.10","vulns":[{"id":"PYSEC-2019-217","fix_versions":["2.10.1"],"aliases":["CVE-2019-10906","GHSA-462w-v97r-4m45"],"description":"In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape."}]},
            {"name":"flask","version":"2.0.1","vulns":[]}],"fixes":[]}"#,
    )
    .unwrap();
    // CodeQL flags the SQL injection Semgrep also flags, under its own rule, same CWE.
    let codeql = reports.path().join("codeql.sarif");
    let sarif = common::codeql_sarif(
        "/home/runner/work/demo/demo",
        &[("py/code-injection", "app/db.py", 50)],
    )
    .to_string()
    .replace("external/cwe/cwe-094", "external/cwe/cwe-089");
    std::fs::write(&codeql, sarif).unwrap();
    let mut args = demo_args(&repo, &["--format", "json"]);
    args.extend([
        "--head-report".to_string(),
        pip_audit.display().to_string(),
        codeql.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = posture(&args);
    let review = run.json();

    let jinja = at(&review, "requirements.txt", 2);
    let tools: Vec<&str> = jinja["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tools, ["osv-scanner", "pip-audit"]);
    assert_eq!(jinja["status"], "existing");

    let sqli = at(&review, "app/db.py", 50);
    let tools: Vec<&str> = sqli["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        ["CodeQL", "Semgrep OSS"],
        "the more severe report (CodeQL, 9.3) leads"
    );
    assert_eq!(sqli["severity"], "critical");
    assert_eq!(sqli["status"], "new");

    // 7 Semgrep + 1 gitleaks + 3 osv-scanner + 1 pip-audit + 1 CodeQL results → 11 findings.
    assert_eq!(review["summary"]["dedup"]["results"], 13);
    assert_eq!(review["summary"]["dedup"]["findings"], 11);
    assert_eq!(review["summary"]["new"], 4);
}
