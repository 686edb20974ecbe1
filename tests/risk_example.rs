//! The README's risk example, produced by a real run: `posture review` on the monorepo of
//! `fixtures/risk` with the KEV and EPSS excerpts of `fixtures/intel`. The test checks what
//! the ranking must show, then that the README's table is exactly the one this run renders
//! (when it is not, the failure prints the table to paste).

mod common;

use common::{Repo, fixture, posture};
use serde_json::Value;

const BEGIN: &str = "<!-- risk-example:begin -->";
const END: &str = "<!-- risk-example:end -->";

fn review(extra: &[&str]) -> Value {
    let repo = Repo::built("risk/build-repo.sh");
    let path = |p: &str| fixture(p).display().to_string();
    let mut args: Vec<String> = vec![
        "review".into(),
        "--repo".into(),
        repo.path().display().to_string(),
        "--base".into(),
        "main".into(),
        "--head".into(),
        "feature".into(),
        "--head-report".into(),
        path("risk/reports/osv-scanner.json"),
        path("risk/reports/semgrep.sarif"),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = posture(&args);
    assert_eq!(
        run.code, 1,
        "the new XSS fails the gate; stderr: {}",
        run.stderr
    );
    run.json()
}

fn intel_args() -> Vec<String> {
    vec![
        "--kev".into(),
        fixture("intel/known_exploited_vulnerabilities.json")
            .display()
            .to_string(),
        "--epss".into(),
        fixture("intel/epss_scores-excerpt.csv")
            .display()
            .to_string(),
    ]
}

fn factor(finding: &Value, name: &str) -> Option<i64> {
    finding["risk"]["factors"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)?["points"]
        .as_i64()
}

fn total(finding: &Value) -> i64 {
    finding["risk"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["points"].as_i64().unwrap())
        .sum()
}

/// `lodash@4.17.15 CVE-2020-8203` or the rule's last segment.
fn label(finding: &Value) -> String {
    match finding["package"].as_object() {
        Some(package) => {
            let name = package["name"].as_str().unwrap();
            let name = name.rsplit(':').next().unwrap();
            let cve = finding["advisories"][0]["aliases"]
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .find_map(|id| id.as_str().filter(|i| i.starts_with("CVE-")))
                })
                .unwrap_or_else(|| finding["rule"].as_str().unwrap());
            format!("{name} {} {cve}", package["version"].as_str().unwrap())
        }
        None => {
            let rule = finding["rule"].as_str().unwrap();
            rule.rsplit('.').next().unwrap().to_string()
        }
    }
}

fn table(review: &Value) -> String {
    let findings = review["findings"].as_array().unwrap();
    // Plain CVSS order: the severity factor alone (CVSS × 10, else the scanner's level).
    let base = |f: &Value| factor(f, "severity").unwrap();
    let mut plain: Vec<i64> = findings.iter().map(base).collect();
    plain.sort_by(|a, b| b.cmp(a));
    let mut out = String::from(
        "| rank | score (sum) | finding | where | CVSS or level | plain CVSS rank | why |\n|---:|---:|---|---|---|---:|---|\n",
    );
    for (index, f) in findings.iter().enumerate() {
        let plain_rank = plain.iter().position(|&p| p == base(f)).unwrap() + 1;
        let severity = factor(f, "severity").unwrap();
        let cvss = match f["risk"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "severity")
            .and_then(|x| x["detail"].as_str())
        {
            Some(detail) if detail.starts_with("CVSS") => format!("{:.1}", severity as f64 / 10.0),
            _ => f["severity"].as_str().unwrap().to_string(),
        };
        let why: Vec<String> = f["risk"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["name"] != "severity")
            .map(|x| {
                format!(
                    "{} {:+}",
                    x["name"].as_str().unwrap(),
                    x["points"].as_i64().unwrap()
                )
            })
            .collect();
        let component = f["risk"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|x| {
                let detail = x["detail"].as_str()?;
                let start = detail.find("component `")? + "component `".len();
                let end = start + detail[start..].find('`')?;
                Some(detail[start..end].to_string())
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} ({}) | {}{} | {component} | {cvss} | {plain_rank} | {} |\n",
            index + 1,
            f["risk"]["score"],
            total(f),
            label(f),
            if f["status"] == "new" { " (new)" } else { "" },
            why.join(", ")
        ));
    }
    out
}

#[test]
fn exploitation_and_context_reorder_plain_cvss() {
    let intel = intel_args();
    let intel: Vec<&str> = intel.iter().map(String::as_str).collect();
    let review = review(&intel);
    let findings = review["findings"].as_array().unwrap();
    let position = |text: &str| {
        findings
            .iter()
            .position(|f| label(f) == text)
            .unwrap_or_else(|| {
                panic!(
                    "{text} in {:?}",
                    findings.iter().map(label).collect::<Vec<_>>()
                )
            })
    };
    // Log4Shell, known exploited by ransomware, ranks first.
    assert_eq!(position("log4j-core 2.14.1 CVE-2021-44228"), 0);
    let log4shell = &findings[0];
    assert_eq!(factor(log4shell, "known exploited"), Some(25));
    assert_eq!(factor(log4shell, "ransomware"), Some(5));
    // minimist's CVSS 9.8 is a development-only, transitive dependency: below the new XSS
    // (CVSS-less "high") in the internet-facing web component.
    let minimist = position("minimist 1.2.5 CVE-2021-44906");
    let xss = position("direct-response-write");
    assert!(xss < minimist, "{xss} < {minimist}");
    assert_eq!(factor(&findings[minimist], "dev dependency"), Some(-20));
    assert_eq!(factor(&findings[minimist], "internet-facing"), None);
    // PyYAML's two 9.8s sit in a tier-3 internal tool: below lodash's 7.4 on the web.
    assert!(position("lodash 4.17.15 CVE-2020-8203") < position("pyyaml 5.3 CVE-2020-14343"));
    // A rarely exploited ReDoS (EPSS 0.3%) is lowered.
    assert_eq!(
        factor(&findings[position("lodash 4.17.15 CVE-2020-28500")], "EPSS"),
        Some(-10)
    );
    // A low-confidence rule in test code is last.
    let password = position("hardcoded-password");
    assert_eq!(factor(&findings[password], "confidence"), Some(-15));
    assert_eq!(factor(&findings[password], "test code"), Some(-25));

    // Upgrades: five suggestions clear eleven advisories; lodash in two projects is one.
    assert_eq!(review["summary"]["upgrades"]["suggestions"], 5);
    assert_eq!(review["summary"]["upgrades"]["advisories"], 11);
    let upgrades = review["upgrades"].as_array().unwrap();
    let log4j = &upgrades[0];
    assert_eq!(log4j["to"], "2.17.1");
    assert_eq!(log4j["fixes"].as_array().unwrap().len(), 4);
    assert_eq!(
        log4j["locations"][0]["suggested_text"],
        "      <version>2.17.1</version>"
    );
    let lodash = upgrades.iter().find(|u| u["package"] == "lodash").unwrap();
    let locations: Vec<(&str, &str)> = lodash["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["manifest"].as_str().unwrap(),
                l["suggested_text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        locations,
        [
            (
                "services/admin-ui/package.json",
                "    \"lodash\": \"4.17.21\""
            ),
            ("services/web/package.json", "    \"lodash\": \"^4.17.21\"")
        ]
    );
    let qs = upgrades.iter().find(|u| u["package"] == "qs").unwrap();
    assert_eq!(qs["to"], "6.7.3");
    let via = &qs["locations"][0]["via"];
    assert_eq!(via["chain"], serde_json::json!(["express", "qs"]));
    assert_eq!(via["direct_manifest"], "services/web/package.json");
    assert_eq!(via["direct_line"], 6);
    assert!(
        via["advice"]
            .as_str()
            .unwrap()
            .contains("\"overrides\": {\"qs\": \"6.7.3\"}")
    );
    let qs_finding = &findings[position("qs 6.7.0 CVE-2022-24999")];
    assert_eq!(qs_finding["dependency"]["direct"], false);
    assert_eq!(qs_finding["dependency"]["dev"], false);

    let rendered = table(&review);
    let readme = std::fs::read_to_string(fixture("../README.md")).unwrap();
    let start = readme.find(BEGIN).expect("README has the risk example") + BEGIN.len();
    let end = readme.find(END).expect("README closes the risk example");
    assert_eq!(
        readme[start..end].trim(),
        rendered.trim(),
        "the README's risk example is out of date; this run renders:\n{rendered}"
    );
}

#[test]
fn without_exploitation_data_the_factors_say_nothing_about_it() {
    let review = review(&[]);
    for finding in review["findings"].as_array().unwrap() {
        assert_eq!(factor(finding, "known exploited"), None);
        assert_eq!(factor(finding, "EPSS"), None);
    }
}

#[test]
fn intel_loaded_into_the_database_ranks_like_the_files() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("posture.db").display());
    let kev = fixture("intel/known_exploited_vulnerabilities.json");
    let epss = fixture("intel/epss_scores-excerpt.csv");
    let load = posture(&[
        "intel",
        "load",
        "--database",
        &url,
        "--kev",
        &kev.display().to_string(),
        "--epss",
        &epss.display().to_string(),
    ]);
    assert_eq!(load.code, 0, "{}", load.stderr);
    assert!(
        load.stderr.contains("loaded 6 kev records"),
        "{}",
        load.stderr
    );
    assert!(
        load.stderr.contains("loaded 16 epss records"),
        "{}",
        load.stderr
    );
    let status = posture(&["intel", "status", "--database", &url]);
    assert!(status.stdout.contains("kev"), "{}", status.stdout);

    let from_db = review(&["--intel-db", &url]);
    let intel = intel_args();
    let intel: Vec<&str> = intel.iter().map(String::as_str).collect();
    let from_files = review(&intel);
    assert_eq!(from_db["findings"], from_files["findings"]);

    let broken = dir.path().join("kev.json");
    std::fs::write(
        &broken,
        "{\"vulnerabilities\": [\n  {\"cveID\": \"CVE-1\"}\n]}",
    )
    .unwrap();
    let refused = posture(&[
        "intel",
        "load",
        "--database",
        &url,
        "--kev",
        &broken.display().to_string(),
    ]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("kev.json:2:") && refused.stderr.contains("is not a CVE id"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_comment_explains_the_rank_and_lists_the_upgrades() {
    let intel = intel_args();
    let mut args: Vec<&str> = intel.iter().map(String::as_str).collect();
    args.extend(["--format", "markdown"]);
    let repo = Repo::built("risk/build-repo.sh");
    let mut full: Vec<String> = vec![
        "review".into(),
        "--repo".into(),
        repo.path().display().to_string(),
        "--base".into(),
        "main".into(),
        "--head".into(),
        "feature".into(),
        "--head-report".into(),
        fixture("risk/reports/osv-scanner.json")
            .display()
            .to_string(),
        fixture("risk/reports/semgrep.sarif").display().to_string(),
    ];
    full.extend(args.iter().map(|s| s.to_string()));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let run = posture(&full);
    let comment = run.stdout;
    assert!(
        comment.contains("<details><summary>Upgrades: 5 clear 11 advisories</summary>"),
        "{comment}"
    );
    assert!(comment.contains("Why this rank"), "{comment}");
    assert!(
        comment.contains(
            "CVE-2021-44228 is in CISA's Known Exploited Vulnerabilities catalog since 2021-12-10"
        ),
        "{comment}"
    );
    assert!(
        comment.contains("`services/admin-ui/package.json` line 6 (from 4.17.15)"),
        "{comment}"
    );
    assert!(
        comment.contains("+    \"lodash\": \"^4.17.21\""),
        "{comment}"
    );
    assert!(
        comment.contains("Upgrade `express` (services/web/package.json line 6)"),
        "{comment}"
    );
}
