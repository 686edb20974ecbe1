//! One problem, one finding, end to end: a real repository, two tools' reports of each
//! problem (Bandit's and Semgrep's of one unsafe `yaml.load`, gitleaks' and Trivy's of one
//! committed token), and `posture review` listing each problem once, naming every tool and
//! rule.

mod common;

use common::{Repo, fixture, posture_with_env};
use serde_json::{Value, json};

/// The file Bandit scanned for `fixtures/sarif/bandit_1.9.4_yaml_load.sarif`.
const LOAD: &str = "import yaml\n\n\ndef read_config(path):\n    with open(path) as stream:\n        return yaml.load(stream, Loader=yaml.Loader)\n";
/// The file of `fixtures/sca/{gitleaks,trivy}/one_secret.json` (a fake token).
const SETTINGS: &str = "import os\n\nGITHUB_TOKEN = \"ghp_0123456789abcdefghijklmnopqrstuvwxyz\"\n";

const PYYAML: &str = "python.lang.security.deserialization.avoid-pyyaml-load.avoid-pyyaml-load";

/// Base: nothing to find; head adds both files. Returns the repository and the base and head
/// report paths, one of each tool on each side.
fn change() -> (Repo, Vec<String>, Vec<String>) {
    let mut repo = Repo::new();
    repo.write("README.md", "# app\n");
    repo.commit("Ann", "start");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("load.py", LOAD);
    repo.write("settings.py", SETTINGS);
    repo.commit("Bob", "config loading");
    // At base each tool ran and found nothing.
    let empty_sarif = |tool: &str| json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": tool}}, "results": []}]});
    let base = [
        repo.report("bandit.sarif", &empty_sarif("Bandit")),
        repo.report("semgrep.sarif", &empty_sarif("Semgrep OSS")),
        repo.report("gitleaks.json", &json!([])),
        repo.report(
            "trivy.json",
            &json!({"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem", "Results": []}),
        ),
    ];
    let head = [
        fixture("sarif/bandit_1.9.4_yaml_load.sarif"),
        fixture("sarif/semgrep_1.69.0_yaml_load.sarif"),
        fixture("sca/gitleaks/one_secret.json"),
        fixture("sca/trivy/one_secret.json"),
    ];
    let paths =
        |list: &[std::path::PathBuf]| list.iter().map(|p| p.display().to_string()).collect();
    (repo, paths(&base), paths(&head))
}

fn review(
    repo: &Repo,
    base: &[String],
    head: &[String],
    extra: &[&str],
    env: &[(&str, &str)],
) -> common::Run {
    let repo_path = repo.path().display().to_string();
    let mut args = vec![
        "review",
        "--repo",
        &repo_path,
        "--base",
        "main",
        "--head",
        "feature",
        "--format",
        "json",
        "--fail-on",
        "critical",
    ];
    args.extend(extra);
    args.push("--base-report");
    args.extend(base.iter().map(String::as_str));
    args.push("--head-report");
    args.extend(head.iter().map(String::as_str));
    posture_with_env(&args, env)
}

fn findings(out: &Value) -> &Vec<Value> {
    out["findings"].as_array().unwrap()
}

#[test]
fn each_problem_two_tools_report_is_one_finding_naming_every_tool_and_rule() {
    let (repo, base, head) = change();
    let run = review(&repo, &base, &head, &[], &[]);
    assert_eq!(
        run.code, 1,
        "a new critical secret fails the gate: {}",
        run.stderr
    );
    let out = run.json();
    assert_eq!(
        out["summary"]["dedup"],
        json!({"results": 4, "findings": 2}),
        "{out:#}"
    );
    let all = findings(&out);
    assert_eq!(all.len(), 2, "{out:#}");

    let yaml = all.iter().find(|f| f["path"] == "load.py").unwrap();
    assert_eq!(yaml["status"], "new");
    assert_eq!(yaml["line"], 6);
    assert_eq!(yaml["tools"], json!(["Bandit", "Semgrep OSS"]));
    assert_eq!(
        yaml["rules"],
        json!([{"tool": "Bandit", "rule": "B506"}, {"tool": "Semgrep OSS", "rule": PYYAML}])
    );
    // Bandit says CWE-20; the weakness is CWE-502, named first.
    assert_eq!(yaml["cwes"], json!([502, 20]));

    let token = all.iter().find(|f| f["path"] == "settings.py").unwrap();
    assert_eq!(token["kind"], "secret");
    assert_eq!(token["line"], 3);
    assert_eq!(
        token["severity"], "critical",
        "Trivy's severity, the higher"
    );
    assert_eq!(token["tools"], json!(["Trivy", "gitleaks"]));
    assert_eq!(
        token["rules"],
        json!([{"tool": "Trivy", "rule": "github-pat"}, {"tool": "gitleaks", "rule": "github-pat"}])
    );
    assert!(
        !run.stdout.contains("ghp_0123456789"),
        "the token never reaches the review"
    );
}

#[test]
fn the_secret_key_comes_from_a_file_or_the_environment_and_is_never_shown() {
    let (repo, base, head) = change();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "correct horse battery staple\n").unwrap();
    let key_path = key_file.display().to_string();
    let with_file = review(&repo, &base, &head, &["--secret-key-file", &key_path], &[]);
    let with_env = review(
        &repo,
        &base,
        &head,
        &[],
        &[("POSTURE_SECRET_KEY", "correct horse battery staple")],
    );
    for run in [&with_file, &with_env] {
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(findings(&run.json()).len(), 2, "merged under any key");
        assert!(!run.stderr.contains("correct horse"), "{}", run.stderr);
    }
    let missing = dir.path().join("no-such-key").display().to_string();
    let refused = review(&repo, &base, &head, &["--secret-key-file", &missing], &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("no-such-key"), "{}", refused.stderr);
}

#[test]
fn one_secret_hashes_alike_from_every_report_that_gives_it_and_only_under_one_key() {
    use posture::ingest::{SecretHasher, parse};
    let gitleaks = std::fs::read(fixture("sca/gitleaks/one_secret.json")).unwrap();
    // A SARIF secret scanner whose snippet quotes the secret, as a line of code would.
    let sarif = json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "gitleaks", "rules": [{"id": "github-pat"}]}},
        "results": [{"ruleId": "github-pat", "message": {"text": "github-pat has detected secret"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "settings.py"},
                "region": {"startLine": 3, "snippet":
                    {"text": " \"ghp_0123456789abcdefghijklmnopqrstuvwxyz\" "}}}}]}]}]})
    .to_string();
    let hash = |name: &str, bytes: &[u8], hasher: &SecretHasher| {
        let report = parse(name, bytes, hasher).unwrap();
        assert_eq!(report.findings.len(), 1, "{name}");
        report.findings[0]
            .fingerprints
            .get("secretHash")
            .cloned()
            .unwrap()
    };
    let key = SecretHasher::new(b"server key");
    let from_json = hash("gitleaks.json", &gitleaks, &key);
    assert_eq!(from_json, hash("gitleaks.sarif", sarif.as_bytes(), &key));
    assert_ne!(
        from_json,
        hash(
            "gitleaks.json",
            &gitleaks,
            &SecretHasher::new(b"another key")
        ),
        "without the key, a stored hash cannot be recomputed"
    );
    // Trivy masks the secret: its finding carries where, not what.
    let trivy = std::fs::read(fixture("sca/trivy/one_secret.json")).unwrap();
    let report = parse("trivy.json", &trivy, &key).unwrap();
    let fingerprints = &report.findings[0].fingerprints;
    assert!(fingerprints.get("secretHash").is_none());
    assert_eq!(
        fingerprints.get("secretLocationHash").map(String::len),
        Some(64)
    );
}
