//! The component policy and the API inventory in a review, on real git repositories: only
//! what a change introduces is new and can fail the gate — a denied licence on a runtime
//! dependency (not on a dev-only one), a banned version in a lockfile, an endpoint added
//! without authentication — each on the line a reviewer would edit.

mod common;

use common::{Repo, Run, posture};
use serde_json::Value;

const POLICY: &str = "\
policy:
  licenses:
    allow: [MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC]
    review: [MPL-2.0]
    deny: [AGPL-3.0-only, SSPL-1.0]
    unknown: review
    scopes: [runtime]
  packages:
    deny: [{package: \"pkg:npm/event-stream\", versions: \"=3.3.6\", reason: \"compromised release\"}]
";

/// A package.json declaring `dependencies` and `dev` dependencies, as npm writes it.
fn package_json(dependencies: &[(&str, &str, &str)], dev: &[(&str, &str, &str)]) -> String {
    let list = |deps: &[(&str, &str, &str)]| {
        deps.iter()
            .map(|(name, version, _)| format!("    \"{name}\": \"^{version}\""))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    format!(
        "{{\n  \"name\": \"shop\",\n  \"version\": \"1.0.0\",\n  \"license\": \"MIT\",\n  \"dependencies\": {{\n{}\n  }},\n  \"devDependencies\": {{\n{}\n  }}\n}}\n",
        list(dependencies),
        list(dev)
    )
}

/// The package-lock.json (lockfile v3) npm writes for those dependencies, with each
/// package's `license` as npm records it.
fn package_lock(dependencies: &[(&str, &str, &str)], dev: &[(&str, &str, &str)]) -> String {
    let root = |deps: &[(&str, &str, &str)]| {
        deps.iter()
            .map(|(name, version, _)| format!("        \"{name}\": \"^{version}\""))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let mut packages = vec![format!(
        "    \"\": {{\n      \"name\": \"shop\",\n      \"version\": \"1.0.0\",\n      \"license\": \"MIT\",\n      \"dependencies\": {{\n{}\n      }},\n      \"devDependencies\": {{\n{}\n      }}\n    }}",
        root(dependencies),
        root(dev)
    )];
    for (deps, is_dev) in [(dependencies, false), (dev, true)] {
        for (name, version, license) in deps {
            packages.push(format!(
                "    \"node_modules/{name}\": {{\n      \"version\": \"{version}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz\",\n      \"integrity\": \"sha512-AAAA\",\n{}      \"license\": \"{license}\"\n    }}",
                if is_dev { "      \"dev\": true,\n" } else { "" }
            ));
        }
    }
    format!(
        "{{\n  \"name\": \"shop\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n{}\n  }}\n}}\n",
        packages.join(",\n")
    )
}

type Dependencies<'a> = &'a [(&'a str, &'a str, &'a str)];

/// Writes an npm project with `dependencies` and `dev` dependencies.
fn write_project(repo: &Repo, (dependencies, dev): (Dependencies, Dependencies)) {
    repo.write("package.json", &package_json(dependencies, dev));
    repo.write("package-lock.json", &package_lock(dependencies, dev));
}

/// `main` with the policy and an npm project; `feature` with `head` instead.
fn repo(base: (Dependencies, Dependencies), head: (Dependencies, Dependencies)) -> Repo {
    let mut repo = Repo::new();
    repo.write(".posture.yml", POLICY);
    write_project(&repo, base);
    repo.commit("Ann", "the shop");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    write_project(&repo, head);
    repo.commit("Ben", "dependencies");
    repo
}

fn review(repo: &Repo) -> (Run, Value) {
    let run = posture(&[
        "review",
        "--repo",
        repo.path().to_str().unwrap(),
        "--base",
        "main",
        "--head",
        "feature",
        "--format",
        "json",
        "--no-reports",
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let json = run.json();
    (run, json)
}

fn findings<'a>(review: &'a Value, status: &str) -> Vec<&'a Value> {
    review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .collect()
}

/// The 1-based line of `path` at head holding `needle`.
fn line_of(repo: &Repo, path: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(repo.path().join(path)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

const BASE_DEPS: &[(&str, &str, &str)] = &[("express", "4.18.2", "MIT")];

#[test]
fn an_agpl_runtime_dependency_is_one_new_finding_on_its_manifest_line_and_fails_the_gate() {
    let repo = repo(
        (BASE_DEPS, &[]),
        (
            &[
                ("express", "4.18.2", "MIT"),
                ("ghostwriter", "2.1.0", "AGPL-3.0-only"),
            ],
            &[],
        ),
    );
    let (run, review) = review(&repo);
    let new = findings(&review, "new");
    assert_eq!(new.len(), 1, "{review:#}");
    let finding = new[0];
    assert_eq!(finding["kind"], "license");
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["path"], "package.json");
    assert_eq!(
        finding["line"],
        line_of(&repo, "package.json", "\"ghostwriter\"")
    );
    assert_eq!(finding["package"]["name"], "ghostwriter");
    let text = finding.to_string();
    assert!(text.contains("AGPL-3.0-only"), "{text}");
    assert_eq!(review["summary"]["gate"]["passed"], false);
    assert_eq!(run.code, 1, "a denied licence fails the gate");
}

#[test]
fn a_dev_only_agpl_dependency_is_not_judged_and_the_gate_passes() {
    let repo = repo(
        (BASE_DEPS, &[]),
        (BASE_DEPS, &[("ghostwriter", "2.1.0", "AGPL-3.0-only")]),
    );
    let (run, review) = review(&repo);
    assert!(
        !review["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "license"),
        "{review:#}"
    );
    assert_eq!(run.code, 0);
}

#[test]
fn a_banned_version_is_caught_in_the_lockfile_and_an_existing_violation_is_not_new() {
    // Base already carries an MPL-2.0 package (review): existing, not new. Head adds the
    // compromised event-stream 3.3.6, which only the lockfile names (flatmap-stream's parent).
    let base: Dependencies = &[("express", "4.18.2", "MIT"), ("certjs", "1.0.0", "MPL-2.0")];
    let head: Dependencies = &[
        ("express", "4.18.2", "MIT"),
        ("certjs", "1.0.0", "MPL-2.0"),
        ("left-pad", "1.3.0", "MIT"),
    ];
    let mut repo = repo((base, &[]), (head, &[]));
    // event-stream comes in transitively: the lockfile alone has it.
    let lock = std::fs::read_to_string(repo.path().join("package-lock.json")).unwrap();
    let lock = lock.replacen(
        "    \"node_modules/express\": {",
        "    \"node_modules/event-stream\": {\n      \"version\": \"3.3.6\",\n      \"resolved\": \"https://registry.npmjs.org/event-stream/-/event-stream-3.3.6.tgz\",\n      \"integrity\": \"sha512-AAAA\",\n      \"license\": \"MIT\"\n    },\n    \"node_modules/express\": {",
        1,
    );
    repo.write("package-lock.json", &lock);
    repo.commit("Ben", "a transitive dependency");
    let (run, review) = review(&repo);
    let new = findings(&review, "new");
    assert_eq!(new.len(), 1, "{review:#}");
    assert_eq!(new[0]["kind"], "policy");
    assert_eq!(new[0]["path"], "package-lock.json");
    assert_eq!(
        new[0]["line"],
        line_of(&repo, "package-lock.json", "\"node_modules/event-stream\"") + 1,
        "the version line of the entry"
    );
    assert!(
        new[0].to_string().contains("compromised release"),
        "{}",
        new[0]
    );
    let existing = findings(&review, "existing");
    assert!(
        existing.iter().any(|f| f["kind"] == "license"
            && f["package"]["name"] == "certjs"
            && f["severity"] == "low"),
        "the MPL-2.0 package is an existing review finding: {review:#}"
    );
    assert_eq!(run.code, 1);
}

const OPENAPI: &str = "\
openapi: 3.0.3
info:
  title: Shop
  version: 1.0.0
servers:
  - url: https://api.shop.example.net/v1
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
paths:
  /orders:
    get:
      operationId: listOrders
      security:
        - bearer: []
      responses:
        '200':
          description: the orders
";

#[test]
fn an_endpoint_added_without_security_is_one_new_api_finding_on_its_line() {
    let mut repo = Repo::new();
    repo.write("api/openapi.yaml", OPENAPI);
    repo.commit("Ann", "the API");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    // Added above the existing one: its findings keep their identity.
    let head = OPENAPI.replace(
        "paths:\n",
        "paths:\n  /health:\n    get:\n      operationId: health\n      responses:\n        '200':\n          description: ok\n",
    );
    repo.write("api/openapi.yaml", &head);
    repo.commit("Ben", "a health check");
    let (_, review) = review(&repo);
    let new = findings(&review, "new");
    assert_eq!(new.len(), 1, "{review:#}");
    assert_eq!(new[0]["kind"], "api");
    assert_eq!(new[0]["path"], "api/openapi.yaml");
    assert_eq!(
        new[0]["line"],
        line_of(&repo, "api/openapi.yaml", "    get:")
    );
    assert!(new[0].to_string().contains("/health"), "{}", new[0]);
    assert!(findings(&review, "fixed").is_empty(), "{review:#}");
}
